"""Hot loop: the E-step of a mixture, responsibilities γ_ik in log space (2.43).

A mixture with weights α_k and component densities p(x | k) gives each data
point x_i the responsibilities (the posterior of its component indicator)

    γ_ik = α_k p(x_i | k) / Σ_j α_j p(x_i | j)                          (2.43)

The EMVAE (thesis §2.5, :class:`minivae.models.EMVAE`) recomputes them for
every training point and every component, once per batch or per epoch. The
densities of a 34-dimensional point are e^(−hundreds), so everything is done
in log space: with a_ik = ln α_k + ln p(x_i | k) and the row maximum
m_i = max_k a_ik,

    ln Σ_j e^(a_ij) = m_i + ln Σ_j e^(a_ij − m_i)                (log-sum-exp)
    ln γ_ik = (a_ik − m_i) − ln Σ_j e^(a_ij − m_i).

Every exponent a_ij − m_i is ≤ 0 and one is 0, so the sum lies in [1, K]:
no overflow, no underflow of the whole sum, whatever the scale of the
log-likelihoods (±1e4 is fine). The sum is taken as 1 + r_i, with r_i the
sum over the other components, and its log as log1p(r_i): for a dominant
component ln γ = −log1p(r_i) keeps full relative precision (−e^(−40) for a
runner-up 40 nats behind), where ln(1 + r_i) would round to 0. Both terms of
ln γ_ik are ≤ 0 and ≥ 0 respectively, so their difference has no
cancellation (computing it as a_ik − ln Σ_j e^(a_ij) would lose ~12 digits
at |a| = 1e4).

This module holds the computation three ways, to be read side by side:

1. :func:`e_step_reference` -- vectorised NumPy on the (n, K) array (the
   tests hold it against :func:`scipy.special.logsumexp`).
2. :func:`_e_step_loops` -- plain loops over rows, written so that numba can
   compile them. Calling it directly is what ``NUMBA_DISABLE_JIT=1`` would
   run; the tests do that.
3. ``_e_step_numba = compile_kernel(_e_step_loops, parallel=True)`` -- the
   compiled binding that :func:`e_step` calls (``_e_step_numba_serial`` for
   small n). Fused passes over fixed blocks of rows: no (n, K) temporaries
   besides the output. Rows are independent, so ``prange`` runs over the
   blocks with no reduction at all, and the result is bit-identical whatever
   the number of threads. The exponentials are the vectorisable
   :func:`minivae._exp.exp_nonpositive` (within 1 ulp of ``np.exp``); of the
   fast-math flags only "contract" (fused multiply-add): −inf must stay −inf.

Conventions (all three agree, and the tests pin them down)

* A component with α_k = 0 (ln α_k = −inf, a dead or pruned component) gets
  γ_ik = 0 exactly, ln γ_ik = −inf, in every row.
* An entry ln p(x_i | k) = −inf (x_i impossible under component k) gives
  γ_ik = 0 exactly in that row.
* A row where every a_ik = −inf (x_i impossible under every live component)
  carries no evidence about its component: its responsibilities fall back
  to the prior, γ_ik = α_k / Σ_j α_j, and its log normaliser is
  ln p(x_i) = −inf. This is the limit of (2.43) when all ln p(x_i | k) tend to
  −∞ together, and it keeps every row of γ summing to 1 with no NaN.
* α need not be normalised: γ does not depend on Σ_k α_k, and the log
  normaliser is ln Σ_k α_k p(x_i | k) for the α given.

Example
-------
>>> import numpy as np
>>> from minivae.estep import e_step
>>> log_prob = np.array([[-1.0, -3.0], [-1e4, -2e4]])   # ln p(x_i | k)
>>> log_gamma, log_norm = e_step(log_prob, np.log([0.5, 0.5]))
>>> np.exp(log_gamma).round(3)
array([[0.881, 0.119],
       [1.   , 0.   ]])
"""


import numpy as np
from numba import prange
from scipy.special import logsumexp

from ._exp import exp_nonpositive_numba
from ._jit import compile_kernel

__all__ = ["e_step", "e_step_reference"]

_BACKENDS = ("numba", "numpy")


# --------------------------------------------------------------------------
# NumPy reference (read beside (2.43))
# --------------------------------------------------------------------------

def e_step_reference(log_prob, log_alpha=None):
    """The E-step (2.43), vectorised NumPy with scipy's log-sum-exp.

    Same parameters, results and conventions as :func:`e_step` (which calls
    this for ``backend="numpy"``); this is the readable version that the
    compiled loops are tested against and the baseline of
    ``benchmarks/bench_emvae.py``.
    """
    log_prob, log_alpha = _check_inputs(log_prob, log_alpha)
    return _e_step_numpy(log_prob, log_alpha)


def _e_step_numpy(log_prob, log_alpha):
    n = log_prob.shape[0]
    a = log_alpha[None, :] + log_prob                       # a_ik = ln α_k + ln p(x_i | k)
    k_max = a.argmax(axis=1)
    m = a[np.arange(n), k_max][:, None]                     # row maximum m_i
    empty = np.isneginf(m[:, 0])                            # rows with every a_ik = −inf
    # Shift by the row maximum (0 for an empty row, so that −inf − m is −inf, not NaN).
    shifted = a - np.where(empty[:, None], 0.0, m)
    # ln Σ_j e^(a_ij − m_i) = log1p(r_i), r_i the sum without the maximum's e^0 = 1.
    rest = shifted.copy()
    rest[np.arange(n), k_max] = -np.inf
    log_s = np.log1p(np.exp(rest).sum(axis=1, keepdims=True))   # ∈ [0, ln K]; 0 in empty rows
    log_gamma = shifted - log_s
    log_norm = (m + log_s)[:, 0]                            # −inf in empty rows
    # No evidence in an empty row: γ_i = α / Σ_j α_j.
    log_gamma[empty] = log_alpha - logsumexp(log_alpha)
    return log_gamma, log_norm


# --------------------------------------------------------------------------
# Loops (compiled below by numba; callable as plain Python)
# --------------------------------------------------------------------------

def _e_step_loops(log_prob, log_alpha):
    """The E-step (2.43) as fused passes over blocks of rows.

    Parameters
    ----------
    log_prob : ndarray of shape (n, K), C-contiguous float64
        ln p(x_i | k); finite or −inf.
    log_alpha : ndarray of shape (K,)
        ln α_k; finite or −inf, at least one finite.

    Returns
    -------
    log_gamma : ndarray of shape (n, K)
    log_norm : ndarray of shape (n,)

    Notes
    -----
    First ln Σ_k α_k, by log-sum-exp, for the rows that are −inf under every
    component. Then, for each row, the maximum m_i of
    a_ik = ln α_k + ln p(x_i | k) (first index k_i where it is reached), the
    sum r_i = Σ_{k ≠ k_i} e^(a_ik − m_i) ∈ [0, K − 1], and with
    ln s_i = log1p(r_i): ln γ_ik = (a_ik − m_i) − ln s_i and
    ln p(x_i) = m_i + ln s_i. A row with m_i = −inf gets the prior (see the
    module docstring).

    The rows are taken in blocks of ``_BLOCK`` so that all the exponentials of
    a block are one elementwise loop, which the compiler vectorises
    (:func:`minivae._exp.exp_nonpositive`); the maximum's own term, e^0 = 1,
    is kept out of r_i by giving it the exponent −inf (e^(−inf) = 0 exactly).
    Rows share nothing and the blocks are fixed, so the ``prange`` over
    blocks needs no reduction, and every bit of a row's result is independent
    of the thread count and of the other rows.
    """
    n, K = log_prob.shape
    m_alpha = -np.inf
    for k in range(K):
        if log_alpha[k] > m_alpha:
            m_alpha = log_alpha[k]
    s_alpha = 0.0
    for k in range(K):
        s_alpha += np.exp(log_alpha[k] - m_alpha)
    log_alpha_sum = m_alpha + np.log(s_alpha)
    log_gamma = np.empty((n, K))
    log_norm = np.empty(n)
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        lo = b * _BLOCK
        rows = min(n, lo + _BLOCK) - lo
        a = log_gamma[lo:lo + rows]     # holds a_ik until it is overwritten by ln γ_ik
        m = log_norm[lo:lo + rows]      # holds m_i until it is overwritten by ln p(x_i)
        e = np.empty((rows, K))         # exponents a_ik − m_i, then their exponentials
        for i in range(rows):
            m_i = -np.inf
            k_max = 0
            for k in range(K):
                a[i, k] = log_alpha[k] + log_prob[lo + i, k]
                if a[i, k] > m_i:
                    m_i = a[i, k]
                    k_max = k
            m[i] = m_i
            shift = m_i if m_i > -np.inf else 0.0   # an all −inf row: −inf − 0, not NaN
            for k in range(K):
                e[i, k] = a[i, k] - shift
            e[i, k_max] = -np.inf                   # its e^0 = 1 is the "1 +" of log1p
        e_flat = e.reshape(rows * K)
        for j in range(rows * K):
            e_flat[j] = exp_nonpositive_numba(e_flat[j])
        for i in range(rows):
            if m[i] == -np.inf:
                for k in range(K):
                    a[i, k] = log_alpha[k] - log_alpha_sum
                continue
            r = 0.0
            for k in range(K):
                r += e[i, k]
            log_s = np.log1p(r)
            for k in range(K):
                a[i, k] = (a[i, k] - m[i]) - log_s
            m[i] = m[i] + log_s
    return log_gamma, log_norm


# Rows per block of the loops: a block's exponentials (at most _BLOCK · K
# floats) stay in the L1/L2 cache, and a fixed size keeps the partition of the
# rows, and with it every bit, independent of the thread count.
_BLOCK = 512

# Only "contract" of the fast-math flags (a·b + c may become one fused
# multiply-add, which the inlined exp is written for): no assumption about
# NaN or inf, since −inf must stay −inf.
_FLAGS = dict(error_model="numpy", fastmath={"contract"})
_e_step_numba = compile_kernel(_e_step_loops, parallel=True, **_FLAGS)
# The same loops on one thread, for a minibatch or an epoch-level E-step:
# waking and joining the worker threads costs tens of microseconds on an idle
# machine and can cost milliseconds on a busy one, where a parallel region
# waits for every worker to be scheduled; a serial row costs nanoseconds.
# compile_kernel gives it a cache entry of its own (see minivae._jit).
_e_step_numba_serial = compile_kernel(_e_step_loops, **_FLAGS)

# Below this many entries n·K, e_step() runs the serial binding.
_SERIAL_MAX_ENTRIES = 250_000


# --------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------

def e_step(log_prob, log_alpha=None, backend="numba"):
    """Responsibilities of a mixture's components, in log space (2.43).

    Parameters
    ----------
    log_prob : array_like of shape (n_samples, n_components)
        ln p(x_i | k), the log-likelihood (or any log score) of data point i
        under component k. Finite values or −inf (impossible under that
        component); any scale, ±1e4 included.
    log_alpha : array_like of shape (n_components,), optional
        ln α_k, the log mixture weights; −inf marks a component with α_k = 0.
        At least one entry must be finite. Need not be normalised (γ does not
        depend on Σ_k α_k). Default: uniform weights, ln(1/K).
    backend : {"numba", "numpy"}
        ``"numba"`` (default) the compiled loops, parallel over rows;
        ``"numpy"`` the reference :func:`e_step_reference`.

    Returns
    -------
    log_gamma : ndarray of shape (n_samples, n_components)
        ln γ_ik; each row of exp(log_gamma) sums to 1 (to rounding).
    log_norm : ndarray of shape (n_samples,)
        ln Σ_k α_k p(x_i | k), the per-row log normaliser: the mixture's
        log-likelihood of x_i when ``log_prob`` holds exact log-likelihoods
        and α sums to 1.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If ``log_prob`` is not a non-empty 2-D array, ``log_alpha`` is not
        1-D with one entry per column, either holds NaN or +inf, every
        ln α_k is −inf, or ``backend`` is unknown.

    Notes
    -----
    γ_ik = α_k p(x_i | k) / Σ_j α_j p(x_i | j) (2.43), computed as
    ln γ_ik = (a_ik − m_i) − ln Σ_j e^(a_ij − m_i) with a_ik = ln α_k + ln p(x_i | k)
    and m_i = max_j a_ij (log-sum-exp; see the module docstring, also for the
    conventions: α_k = 0 gives γ_ik = 0 exactly; a row that is −inf under
    every live component gets γ_i = α / Σ α and log_norm −inf). The numba
    result is bit-identical whatever the number of threads, and each row's
    result depends only on that row. See docs/equations.md, (2.43).

    References
    ----------
    Dempster, Laird & Rubin (1977), Maximum likelihood from incomplete data
    via the EM algorithm, JRSS B 39.
    Bishop (2006), Pattern Recognition and Machine Learning, §9.2.2, (9.23).
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be 'numba' or 'numpy', got {backend!r}")
    log_prob, log_alpha = _check_inputs(log_prob, log_alpha)
    if backend == "numpy":
        return _e_step_numpy(log_prob, log_alpha)
    loops = _e_step_numba_serial if log_prob.size <= _SERIAL_MAX_ENTRIES else _e_step_numba
    return loops(log_prob, log_alpha)


def _check_log_array(values, name, ndim):
    """A C-contiguous float64 array of ``ndim`` dims holding finite values or −inf."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    # One reduction instead of two elementwise masks: the maximum is NaN if
    # any entry is NaN and +inf if any is +inf (−inf entries are allowed).
    if not arr.max() < np.inf:
        n_nan = int(np.isnan(arr).sum())
        n_posinf = int(np.isposinf(arr).sum())
        raise ValueError(
            f"{name} must hold finite values or -inf, got {n_nan} NaN and {n_posinf} +inf value(s)"
        )
    return arr


def _check_inputs(log_prob, log_alpha):
    log_prob = _check_log_array(log_prob, "log_prob", 2)
    K = log_prob.shape[1]
    if log_alpha is None:
        return log_prob, np.full(K, -np.log(K))
    log_alpha = _check_log_array(log_alpha, "log_alpha", 1)
    if log_alpha.shape[0] != K:
        raise ValueError(
            f"log_alpha must have one entry per column of log_prob ({K}), got {log_alpha.shape[0]}"
        )
    if np.isneginf(log_alpha).all():
        raise ValueError("log_alpha must have at least one finite entry (some α_k > 0), got all -inf")
    return log_prob, log_alpha
