"""Adam's update (Kingma & Ba 2015; thesis §1.3.1) in one pass over the flat parameter buffer.

:class:`minivae.optim.Adam` is five formulas per parameter array::

    m_t = β1 m_{t−1} + (1 − β1) g_t
    v_t = β2 v_{t−1} + (1 − β2) g_t²
    m̂_t = m_t / (1 − β1ᵗ),   v̂_t = v_t / (1 − β2ᵗ)
    θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

Written as whole-array NumPy operations (:func:`adam_update_reference`) they
take 14 passes over buffers as large as the model; at the MNIST size (6.5·10⁵
weights) that was a third of a training step (benchmarks/bench_vae.py). The
plain loop below runs the same five lines element by element, in one pass,
with the same operations in the same order and every constant in the
buffer's dtype, so it gives the reference's result bit for bit (tested).
Elements are independent: no reduction, so no thread-count dependence.
"""

import math

import numpy as np

from ._jit import compile_kernel

__all__ = ["adam_update", "adam_update_reference"]


def _constants(dtype, t, beta1, beta2, lr, eps):
    """The scalars of step t in the buffer's dtype, computed as NumPy computes them."""
    f = np.dtype(dtype).type
    return (f(beta1), f(1.0 - beta1), f(beta2), f(1.0 - beta2),
            f(1.0 - beta1 ** t), f(1.0 - beta2 ** t), f(lr), f(eps))


def adam_update_reference(theta, g, m, v, t, beta1, beta2, lr, eps):
    """Adam's t-th update of ``theta`` in place (m and v too), as whole-array NumPy formulas."""
    m[...] = beta1 * m + (1.0 - beta1) * g                          # m_t = β1 m + (1 − β1) g
    v[...] = beta2 * v + (1.0 - beta2) * (g * g)                    # v_t = β2 v + (1 − β2) g²
    m_hat = m / (1.0 - beta1 ** t)                                  # m̂_t = m_t / (1 − β1ᵗ)
    v_hat = v / (1.0 - beta2 ** t)                                  # v̂_t = v_t / (1 − β2ᵗ)
    theta -= lr * m_hat / (np.sqrt(v_hat) + eps)                    # θ ← θ − η m̂ / (√v̂ + ε)


def _adam_loops(theta, g, m, v, b1, one_minus_b1, b2, one_minus_b2, c1, c2, lr, eps):
    for i in range(theta.shape[0]):
        m[i] = b1 * m[i] + one_minus_b1 * g[i]                      # m_t = β1 m + (1 − β1) g
        v[i] = b2 * v[i] + one_minus_b2 * (g[i] * g[i])             # v_t = β2 v + (1 − β2) g²
        m_hat = m[i] / c1                                           # m̂_t = m_t / (1 − β1ᵗ)
        v_hat = v[i] / c2                                           # v̂_t = v_t / (1 − β2ᵗ)
        theta[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)           # θ ← θ − η m̂ / (√v̂ + ε)


# error_model="numpy": no ZeroDivisionError branch per element, which would block SIMD.
_adam_compiled = compile_kernel(_adam_loops, error_model="numpy")


def adam_update(theta, g, m, v, t, beta1, beta2, lr, eps):
    """Adam's t-th update of the 1-D buffer ``theta`` in place (m and v too), in one compiled pass.

    Parameters
    ----------
    theta, g, m, v : ndarray, shape (n,), one float dtype, contiguous
        Parameters, gradient, first and second moment estimates.
    t : int
        The update's number, from 1 (bias corrections 1 − β1ᵗ, 1 − β2ᵗ).
    beta1, beta2, lr, eps : float

    Notes
    -----
    Other layouts (a non-contiguous view, an N-d array) fall back to
    :func:`adam_update_reference`, which gives the same bits.
    """
    if not (theta.ndim == 1 and theta.flags.c_contiguous and
            theta.dtype == g.dtype == m.dtype == v.dtype and theta.dtype.kind == "f"
            and g.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
        adam_update_reference(theta, g, m, v, t, beta1, beta2, lr, eps)
        return
    _adam_compiled(theta, g, m, v, *_constants(theta.dtype, t, beta1, beta2, lr, eps))
