"""A finite-difference gradient checker that users can call on their own code.

Backpropagation ((1.36-1.37) in docs/equations.md) is easy to get subtly
wrong; the independent check is the central difference

    dL/dθ_i ≈ [L(θ + h e_i) − L(θ − h e_i)] / (2h),

whose error is O(h²). Every entry of every array is perturbed in turn, in
place, and restored afterwards.

Example
-------
>>> import numpy as np
>>> from minivae.gradcheck import check_gradients
>>> w = np.array([1.0, -2.0])
>>> def f():
...     return float(np.sum(w ** 3)), {"w": 3 * w ** 2}
>>> check_gradients(f, {"w": w}).max_rel_error < 1e-8
True
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["check_gradients", "GradCheckResult", "numerical_gradient"]


@dataclass
class GradCheckResult:
    """Outcome of :func:`check_gradients`.

    Attributes
    ----------
    max_rel_error : float
        max |a − n| / max(1, |a| + |n|) over all entries (a analytic, n numeric).
    name, index : str, tuple
        Where the worst entry is.
    analytic, numeric : float
        The two values at the worst entry.
    n_checked : int
        How many entries were perturbed.
    """

    max_rel_error: float
    name: str
    index: tuple
    analytic: float
    numeric: float
    n_checked: int

    def __str__(self):
        return (
            f"max relative error {self.max_rel_error:.3e} at {self.name}{list(self.index)}: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g} "
            f"({self.n_checked} entries checked)"
        )

    def assert_ok(self, tol=1e-6):
        """Raise AssertionError naming the worst entry if the error exceeds ``tol``."""
        if not self.max_rel_error < tol:
            raise AssertionError(f"gradient check failed (tol {tol:g}): {self}")
        return self


def numerical_gradient(loss, array, eps=1e-6):
    """Central-difference gradient of ``loss()`` with respect to ``array`` (in place)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("array must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = loss()
        flat[i] = old - eps
        f_minus = loss()
        flat[i] = old
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def check_gradients(func, arrays, eps=1e-6, names=None):
    """Compare analytic gradients with central differences, entry by entry.

    Parameters
    ----------
    func : callable
        ``func()`` returns ``(loss, grads)``: the scalar loss at the current
        contents of ``arrays`` and a dict of its analytic gradients with the
        same keys (and shapes). Any randomness inside must be held fixed.
    arrays : dict of str to ndarray
        The float64 arrays to perturb, in place: parameters and inputs alike.
    eps : float
        Finite-difference step h.
    names : iterable of str, optional
        Check only these keys (default: all of ``arrays``).

    Returns
    -------
    GradCheckResult
        The worst entry; call ``.assert_ok(tol)`` in a test.
    """
    names = list(arrays) if names is None else list(names)
    for name in names:
        if arrays[name].dtype != np.float64:
            raise TypeError(f"gradient checks need float64 arrays; {name} is {arrays[name].dtype}")
    _, grads = func()
    analytic = {name: np.array(grads[name], dtype=np.float64, copy=True) for name in names}
    worst = GradCheckResult(0.0, names[0] if names else "", (), 0.0, 0.0, 0)
    n_checked = 0
    for name in names:
        a = analytic[name]
        if a.shape != arrays[name].shape:
            raise ValueError(f"gradient of {name} has shape {a.shape}, expected {arrays[name].shape}")
        n = numerical_gradient(lambda: float(func()[0]), arrays[name], eps)
        n_checked += n.size
        rel = np.abs(a - n) / np.maximum(1.0, np.abs(a) + np.abs(n))
        if rel.size and rel.max() >= worst.max_rel_error:
            idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
            worst = GradCheckResult(float(rel[idx]), name, tuple(int(i) for i in idx),
                                    float(a[idx]), float(n[idx]), 0)
    worst.n_checked = n_checked
    return worst
