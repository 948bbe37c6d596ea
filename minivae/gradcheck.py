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

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ._validation import check_positive

__all__ = ["check_gradients", "GradCheckResult", "numerical_gradient"]


@dataclass
class GradCheckResult:
    """Outcome of :func:`check_gradients`.

    Attributes
    ----------
    max_rel_error : float
        max |a − n| / max(1, |a| + |n|) over all entries (a analytic, n numeric);
        ``inf`` if any analytic gradient, loss or central difference was NaN or
        infinite, so that such a check can never pass.
    name, index : str, tuple
        Where the worst entry is (the first non-finite one, if any).
    analytic, numeric : float
        The two values at the worst entry.
    n_checked : int
        How many entries were perturbed (always >= 1).
    """

    max_rel_error: float
    name: str
    index: tuple
    analytic: float
    numeric: float
    n_checked: int

    def __str__(self):
        what = ("non-finite value" if not np.isfinite(self.max_rel_error)
                else f"max relative error {self.max_rel_error:.3e}")
        return (
            f"{what} at {self.name}{list(self.index)}: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g} "
            f"({self.n_checked} entries checked)"
        )

    def assert_ok(self, tol=1e-6):
        """Raise AssertionError naming the worst entry if the error is not below ``tol``.

        A non-finite entry always fails. ``tol`` must be finite and > 0.
        """
        tol = check_positive(tol, "tol")
        if not self.max_rel_error < tol:
            raise AssertionError(f"gradient check failed (tol {tol:g}): {self}")
        return self


def _loss_value(out, who):
    """The scalar loss from what ``func()`` returned (a tuple or a bare number)."""
    loss = out[0] if isinstance(out, (tuple, list)) else out
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise TypeError(f"{who} must return a scalar loss, got {type(loss).__name__} "
                        f"{np.shape(loss) if hasattr(loss, 'shape') else ''}".rstrip()) from None


def numerical_gradient(loss, array, eps=1e-6):
    """Central-difference gradient of ``loss()`` with respect to ``array`` (in place).

    Parameters
    ----------
    loss : callable
        ``loss()`` returns the scalar loss at the current contents of ``array``.
    array : ndarray
        Perturbed one entry at a time and restored afterwards, also when
        ``loss`` raises.
    eps : float
        The step h, finite and > 0.

    Returns
    -------
    ndarray, shape of ``array``
        [L(θ + h e_i) − L(θ − h e_i)] / (2h); NaN or ±inf where a loss or the
        difference is not finite (:func:`check_gradients` reports such entries).

    Raises
    ------
    ValueError
        If ``eps`` is not finite and > 0, or ``array`` is not contiguous or writeable.
    """
    eps = check_positive(eps, "eps")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy array, got {type(array).__name__}")
    if not array.flags.writeable:
        raise ValueError("array must be writeable so that it can be perturbed in place")
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("array must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        try:
            flat[i] = old + eps
            f_plus = _loss_value(loss(), "loss()")
            flat[i] = old - eps
            f_minus = _loss_value(loss(), "loss()")
        finally:
            flat[i] = old
        # inf − inf is NaN: that is the answer wanted (a failing entry), not a warning.
        with np.errstate(invalid="ignore", over="ignore"):
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
        Finite-difference step h, finite and > 0.
    names : str or iterable of str, optional
        Check only these keys (default: all of ``arrays``).

    Returns
    -------
    GradCheckResult
        The worst entry; call ``.assert_ok(tol)`` in a test. A NaN or infinite
        analytic gradient, perturbed loss or difference makes ``max_rel_error``
        infinite and names that entry, so ``assert_ok`` fails.

    Raises
    ------
    ValueError
        If the selection is empty or holds no entries, names a key missing
        from ``arrays`` or from the gradients, a gradient has the wrong shape,
        ``eps`` is not finite and > 0, or the unperturbed loss is not finite.
    TypeError
        If an array is not float64, or ``func`` does not return a scalar loss
        and a dict of gradients.
    """
    eps = check_positive(eps, "eps")
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of name to array, got {type(arrays).__name__}")
    names = [names] if isinstance(names, str) else list(arrays) if names is None else list(names)
    names = list(dict.fromkeys(names))   # each entry once, in the given order
    if not names:
        raise ValueError("nothing to check: the selection of arrays is empty")
    for name in names:
        if name not in arrays:
            raise ValueError(f"{name!r} is not one of the arrays {list(arrays)}")
        if not isinstance(arrays[name], np.ndarray) or arrays[name].dtype != np.float64:
            dt = getattr(arrays[name], "dtype", type(arrays[name]).__name__)
            raise TypeError(f"gradient checks need float64 arrays; {name} is {dt}")
    if sum(arrays[name].size for name in names) == 0:
        raise ValueError(f"nothing to check: the selected arrays {names} have no entries")
    out = func()
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], Mapping)):
        raise TypeError("func() must return a tuple (loss, grads) with grads a dict")
    loss0, grads = _loss_value(out, "func()"), out[1]
    if not np.isfinite(loss0):
        raise ValueError(f"the loss at the unperturbed arrays is {loss0}: nothing can be checked")
    analytic = {}
    for name in names:
        if name not in grads:
            raise ValueError(f"func() returned no gradient for {name!r}; it returned {list(grads)}")
        analytic[name] = np.array(grads[name], dtype=np.float64, copy=True)
        if analytic[name].shape != arrays[name].shape:
            raise ValueError(f"gradient of {name} has shape {analytic[name].shape}, "
                             f"expected {arrays[name].shape}")
    worst = None
    n_checked = 0
    for name in names:
        a = analytic[name]
        n = numerical_gradient(lambda: _loss_value(func(), "func()"), arrays[name], eps)
        n_checked += n.size
        if not n.size:
            continue
        finite = np.isfinite(a) & np.isfinite(n)
        with np.errstate(invalid="ignore", over="ignore"):
            rel = np.abs(a - n) / np.maximum(1.0, np.abs(a) + np.abs(n))
        rel[~finite] = np.inf     # NaN compares false with everything: make it the worst
        idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
        if worst is None or rel[idx] > worst.max_rel_error:
            worst = GradCheckResult(float(rel[idx]), name, tuple(int(i) for i in idx),
                                    float(a[idx]), float(n[idx]), 0)
    worst.n_checked = n_checked
    return worst
