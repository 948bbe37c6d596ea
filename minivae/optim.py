"""Gradient-descent optimisers: SGD with momentum (1.33, 1.38-1.39) and Adam (thesis §1.3.1).

The equations are written out in docs/equations.md.

Both update a dict of parameter arrays *in place* from a dict of gradients with
the same keys, and keep their state keyed by the same names. A model that
stores all its weights in one flat buffer passes ``{"theta": buffer}``, so one
optimiser step is a handful of vectorised operations however many layers there
are.
"""

import math

import numpy as np

from ._validation import check_positive, check_probability

__all__ = ["SGD", "Adam", "clip_grad_norm"]


def clip_grad_norm(grads, max_norm):
    """Rescale ``grads`` in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping. Gradients are left untouched when the
    norm is already small enough.
    """
    total = np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for g in grads.values():
            g *= scale
    return total


class _Optimizer:
    def __init__(self, lr, clip_norm):
        self.lr = check_positive(lr, "lr")
        self.clip_norm = None if clip_norm is None else check_positive(clip_norm, "clip_norm")
        self.t = 0

    def step(self, params, grads):
        """Update every array in ``params`` in place from ``grads`` (same keys)."""
        if params.keys() != grads.keys():
            raise ValueError(
                f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}"
            )
        if self.clip_norm is not None:
            clip_grad_norm(grads, self.clip_norm)
        self.t += 1
        for name, theta in params.items():
            self._update(name, theta, grads[name])


class SGD(_Optimizer):
    """Stochastic gradient descent, optionally with (heavy-ball) momentum.

    Notes
    -----
    Without momentum this is (1.33) applied to a minibatch gradient (1.38-1.39):
    w <- w - lr * grad. With momentum mu the velocity v <- mu v - lr grad is
    added to w.
    """

    def __init__(self, lr=0.01, momentum=0.0, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")
        self.velocity = {}

    def _update(self, name, theta, g):
        if self.momentum == 0.0:
            theta -= self.lr * g
            return
        v = self.velocity.get(name)
        if v is None:
            v = self.velocity[name] = np.zeros_like(theta)
        v *= self.momentum
        v -= self.lr * g
        theta += v


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015; thesis §1.3.1), with bias correction, as in docs/equations.md.

    Notes
    -----
    m_t = b1 m_{t-1} + (1 - b1) g_t;  v_t = b2 v_{t-1} + (1 - b2) g_t^2;
    m^_t = m_t / (1 - b1^t);  v^_t = v_t / (1 - b2^t);
    theta_t = theta_{t-1} - lr m^_t / (sqrt(v^_t) + eps).
    (The thesis prints 1 - b2^2 in the correction; it is 1 - b2^t.)
    t counts the updates of each key separately, so an array first passed at a
    later step starts with its own correct bias correction.

    References
    ----------
    Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.beta1 = check_probability(beta1, "beta1", open_interval=False)
        self.beta2 = check_probability(beta2, "beta2", open_interval=False)
        self.eps = check_positive(eps, "eps")
        self.m, self.v, self._work, self.steps = {}, {}, {}, {}

    def _update(self, name, theta, g):
        if name not in self.m:
            self.m[name] = np.zeros_like(theta)
            self.v[name] = np.zeros_like(theta)
            self._work[name] = np.empty_like(theta)
            self.steps[name] = 0
        self.steps[name] += 1
        t = self.steps[name]
        m, v, work = self.m[name], self.v[name], self._work[name]
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += (1.0 - b1) * g
        np.multiply(g, g, out=work)
        v *= b2
        work *= 1.0 - b2
        v += work
        # Fold both bias corrections into one step size and a rescaled eps:
        # lr m^/(sqrt(v^) + eps) = [lr sqrt(1-b2^t)/(1-b1^t)] m / (sqrt(v) + eps sqrt(1-b2^t)).
        # Python floats, not NumPy scalars: a float64 scalar would send a
        # float32 buffer through a slow casting loop.
        c2 = math.sqrt(1.0 - b2 ** t)
        step = self.lr * c2 / (1.0 - b1 ** t)
        np.sqrt(v, out=work)
        work += self.eps * c2
        np.divide(m, work, out=work)
        work *= step
        theta -= work
