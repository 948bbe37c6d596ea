"""Gradient-descent optimisers: SGD with momentum (1.33, 1.38-1.39) and Adam (thesis §1.3.1).

The equations are written out in docs/equations.md.

Both update a dict of parameter arrays *in place* from a dict of gradients with
the same keys, and keep their state keyed by the same names. A model that
stores all its weights in one flat buffer passes ``{"theta": buffer}``, so one
optimiser step is a handful of vectorised operations (SGD) or one compiled loop
(Adam, :func:`_adam_loop`) however many layers there are.
"""

from collections.abc import Mapping

import numpy as np

from ._jit import compile_kernel
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
        """Update every array in ``params`` in place from ``grads`` (same keys).

        Raises
        ------
        TypeError
            If ``params`` or ``grads`` is not a dict, or a parameter is not a
            NumPy array (a list or a NumPy scalar cannot be updated in place).
        ValueError
            If the keys differ, or a parameter array is read-only.
        """
        for arg, value in (("params", params), ("grads", grads)):
            if not isinstance(value, Mapping):
                raise TypeError(f"{arg} must be a dict of arrays keyed by name, got {type(value).__name__}")
        if params.keys() != grads.keys():
            raise ValueError(
                f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}"
            )
        for name, theta in params.items():
            if not isinstance(theta, np.ndarray):
                raise TypeError(f"parameter {name!r} must be a NumPy array (updated in place), "
                                f"got {type(theta).__name__}")
            if not theta.flags.writeable:
                raise ValueError(f"parameter {name!r} is a read-only array; the optimiser updates it in place")
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


def _adam_loop(theta, g, m, v, b1, one_minus_b1, b2, one_minus_b2, c1, c2, lr, eps):
    """One Adam update of flat arrays, in place, element by element: the algorithm box as a loop.

    Parameters
    ----------
    theta, g, m, v : ndarray of shape (P,), all of one float dtype, C-contiguous
        Parameters (updated), gradient, first and second moments (updated).
    b1, one_minus_b1, b2, one_minus_b2, c1, c2, lr, eps : float, of that dtype
        β1, 1 − β1, β2, 1 − β2, the bias corrections c1 = 1 − β1ᵗ and
        c2 = 1 − β2ᵗ, η and ε. They are computed in Python and rounded to the
        arrays' dtype by the caller, as NumPy does with a Python float in
        ``m * b1``, so that a float32 update stays in float32 arithmetic.

    Notes
    -----
    The operations of the formulas, in their order, with no fused
    multiply-add: every entry gets the same bits as the formulas evaluated
    with NumPy arrays (tests). Compiled by numba below; as plain Python it is
    the same update, one entry at a time (slow, but readable and testable).
    """
    for i in range(theta.shape[0]):
        m[i] = b1 * m[i] + one_minus_b1 * g[i]             # m_t = β1 m_{t−1} + (1 − β1) g_t
        v[i] = b2 * v[i] + one_minus_b2 * (g[i] * g[i])    # v_t = β2 v_{t−1} + (1 − β2) g_t²
        m_hat = m[i] / c1                                  # m̂_t = m_t / (1 − β1ᵗ)
        v_hat = v[i] / c2                                  # v̂_t = v_t / (1 − β2ᵗ)
        theta[i] -= lr * m_hat / (np.sqrt(v_hat) + eps)    # θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)


# One pass over memory instead of one per operation. A model's flat buffer holds
# up to 10⁶ weights, several MB per array, which do not stay in the CPU's caches
# between NumPy calls: written as fourteen whole-array NumPy operations, the
# update streamed ~35 arrays' worth of memory and took 4.0 ms at the MNIST size
# (30-40 % of a training step); this loop reads four arrays and writes three,
# 0.7 ms. error_model="numpy" lets the divisions vectorise (no zero check: c1,
# c2 > 0 and √v̂ + ε >= ε > 0); no fast-math flag, so no operation is changed.
_adam_numba = compile_kernel(_adam_loop, error_model="numpy")


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
    docs/equations.md.) The update is the loop :func:`_adam_loop`, these five
    lines per entry, compiled by numba: the same bits as the formulas written
    with NumPy arrays, in one pass over memory. ``m``, ``v`` and ``steps`` are
    dicts keyed like the parameters; t counts the updates of each key
    separately, so an array first passed at a later step starts with its own
    bias correction. A model passes its one flat buffer as ``{"theta": theta}``
    and shows m and v per parameter name with
    :meth:`minivae.models.BaseModel.optimizer_state`.

    Raises
    ------
    TypeError
        From :meth:`step`, if a parameter array is not float32 or float64, or
        a gradient does not hold real numbers (it is cast to the parameter's
        dtype).
    ValueError
        From :meth:`step`, if a gradient's shape differs from its parameter's,
        or a parameter under a name already stepped has changed shape or dtype
        (its m and v no longer fit: use a new Adam).

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

    def _update(self, name, theta, g):
        # The compiled loop indexes m, v and g by theta's size without bounds
        # checks, so every array it is given is checked here first.
        if theta.dtype not in (np.float32, np.float64):
            raise TypeError(f"Adam updates float32 or float64 arrays in native byte order; {name!r} has "
                            f"dtype {theta.dtype}{' (big-endian)' if theta.dtype.byteorder == '>' else ''}")
        g = np.asarray(g)
        if g.dtype.kind not in "biuf":
            raise TypeError(f"the gradient of {name!r} must hold real numbers, got dtype {g.dtype}")
        if g.shape != theta.shape:
            raise ValueError(f"the gradient of {name!r} has shape {g.shape}, the parameter {theta.shape}")
        if name not in self.m:
            self.m[name] = np.zeros(theta.shape, dtype=theta.dtype)
            self.v[name] = np.zeros(theta.shape, dtype=theta.dtype)
            self.steps[name] = 0
        for moment in (self.m[name], self.v[name]):
            if (moment.shape != theta.shape or moment.dtype != theta.dtype
                    or not (moment.flags.c_contiguous and moment.flags.writeable)):
                raise ValueError(
                    f"Adam's state for {name!r} has shape {moment.shape} and dtype {moment.dtype}, "
                    f"the parameter {theta.shape} and {theta.dtype}: a new array under a name "
                    f"already stepped needs a new Adam (or a C-contiguous state of its shape and dtype)"
                )
        self.steps[name] += 1
        t = self.steps[name]
        # The loop runs on flat views; an array that is not contiguous (a
        # user's slice) is updated in a contiguous copy and written back.
        flat = theta.reshape(-1) if theta.flags.c_contiguous else np.ascontiguousarray(theta).reshape(-1)
        g = np.ascontiguousarray(g, dtype=theta.dtype).reshape(-1)
        if np.may_share_memory(g, flat):
            # A gradient overlapping the parameter (a shifted view of one buffer)
            # would be overwritten by the loop before it is read.
            g = g.copy()
        # The scalars take the arrays' precision, as NumPy gives a Python float
        # in ``float32_array * b1``; float64 arrays take Python floats as they are.
        scalar = float if theta.dtype == np.float64 else np.float32
        b1, b2 = self.beta1, self.beta2
        _adam_numba(flat, g, self.m[name].reshape(-1), self.v[name].reshape(-1),
                    scalar(b1), scalar(1.0 - b1), scalar(b2), scalar(1.0 - b2),
                    scalar(1.0 - b1 ** t), scalar(1.0 - b2 ** t), scalar(self.lr), scalar(self.eps))
        if not theta.flags.c_contiguous:
            theta[...] = flat.reshape(theta.shape)
