"""Gradient-descent optimisers: SGD with momentum (1.33, 1.38-1.39) and Adam (thesis §1.3.1).

The equations are written out in docs/equations.md.

Both update a dict of parameter arrays *in place* from a dict of gradients with
the same keys, and keep their state keyed by the same names. A model that
stores all its weights in one flat buffer passes ``{"theta": buffer}``, so one
optimiser step is a handful of vectorised operations however many layers there
are.
"""

import numpy as np

from ._validation import check_positive, check_probability

__all__ = ["SGD", "Adam", "clip_grad_norm"]


def clip_grad_norm(grads, max_norm):
    """Rescale ``grads`` in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping. Gradients are left untouched when the
    norm is already small enough. Finite gradients whose squared norm
    overflows (float32 entries from ~10¹⁹) are still scaled to ``max_norm``;
    an infinite entry gives the norm inf (and NaN gradients, which a model's
    fit reports as a divergence).

    Raises
    ------
    ValueError, TypeError
        If ``max_norm`` is not a finite number > 0 (a negative one would
        reverse the gradient).
    """
    max_norm = check_positive(max_norm, "max_norm")
    total = np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if total == np.inf:
        # The sum of squares overflowed: if every entry is finite, divide by the
        # largest first (rare path, so the temporaries do not matter).
        big = max((float(np.abs(g).max()) for g in grads.values() if g.size), default=0.0)
        if 0.0 < big < np.inf:
            total = big * np.sqrt(sum(float(np.vdot(g / big, g / big)) for g in grads.values()))
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
    """Adam (Kingma & Ba 2015; thesis §1.3.1), one line per formula of the paper's algorithm box.

    Notes
    -----
    For each parameter array θ with gradient g, at its t-th update::

        m_t = β1 m_{t−1} + (1 − β1) g_t          first-moment estimate
        v_t = β2 v_{t−1} + (1 − β2) g_t²         second-moment estimate
        m̂_t = m_t / (1 − β1ᵗ)                    bias corrections
        v̂_t = v_t / (1 − β2ᵗ)
        θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

    (The thesis prints 1 − β2² in the correction; it is 1 − β2ᵗ, see
    docs/equations.md.) ``m``, ``v`` and ``steps`` are dicts keyed like the
    parameters; t counts the updates of each key separately, so an array
    first passed at a later step starts with its own bias correction. A model
    passes its one flat buffer as ``{"theta": theta}`` and shows m and v per
    parameter name with :meth:`minivae.models.BaseModel.optimizer_state`.

    References
    ----------
    Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.beta1 = check_probability(beta1, "beta1", open_interval=False)
        self.beta2 = check_probability(beta2, "beta2", open_interval=False)
        self.eps = check_positive(eps, "eps")
        self.m, self.v, self.steps = {}, {}, {}
        self._m_hat, self._v_hat, self._scratch = {}, {}, {}

    def _update(self, name, theta, g):
        if name not in self.m:
            self.m[name], self.v[name] = np.zeros_like(theta), np.zeros_like(theta)
            self._m_hat[name], self._v_hat[name] = np.empty_like(theta), np.empty_like(theta)
            self._scratch[name] = np.empty_like(theta)
            self.steps[name] = 0
        self.steps[name] += 1
        t, m, v = self.steps[name], self.m[name], self.v[name]
        m_hat, v_hat, s = self._m_hat[name], self._v_hat[name], self._scratch[name]
        # Python floats, not NumPy scalars: a float64 scalar would send a
        # float32 buffer through a slow casting loop.
        b1, b2, lr, eps = self.beta1, self.beta2, self.lr, self.eps
        # Every operation writes into a buffer of its own (out=, *=, +=): a model's
        # flat buffer holds up to 10⁶ weights, and a fresh temporary of that size
        # costs more than the arithmetic on it (NumPy asks the kernel for new,
        # zeroed huge pages for every array over 4 MB): 3.4x faster at the MNIST
        # size. Same operations in the same order as the formulas, same bits.
        m *= b1                                                 # m_t = β1 m + (1 − β1) g
        m += np.multiply(1.0 - b1, g, out=s)
        v *= b2                                                 # v_t = β2 v + (1 − β2) g²
        v += np.multiply(1.0 - b2, np.square(g, out=s), out=s)
        np.divide(m, 1.0 - b1 ** t, out=m_hat)                  # m̂_t = m_t / (1 − β1ᵗ)
        np.divide(v, 1.0 - b2 ** t, out=v_hat)                  # v̂_t = v_t / (1 − β2ᵗ)
        step = np.multiply(lr, m_hat, out=m_hat)                # θ ← θ − η m̂ / (√v̂ + ε)
        step /= np.add(np.sqrt(v_hat, out=s), eps, out=s)
        theta -= step
