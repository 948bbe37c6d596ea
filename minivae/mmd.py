"""Hot loop: the maximum mean discrepancy (2.38) and its gradient.

The Wasserstein autoencoder (thesis §2.3, (2.37)-(2.39) in docs/equations.md)
penalises λ·MMD²(Q_Z, P_Z) between encoder samples and prior samples on every
minibatch, so the MMD² and its gradient with respect to the encoder samples are
computed O(n²) times per batch. This module holds them three ways, to be read
side by side:

1. :func:`mmd_reference` -- vectorised NumPy written beside (2.38): pairwise
   differences by broadcasting, an (n, m, d) array, one line per term.
2. :func:`_mmd_loops` -- the same sums as plain Python loops, written so that
   numba can compile them. Calling it directly is what ``NUMBA_DISABLE_JIT=1``
   would run; the tests do that.
3. ``_mmd_numba = compile_kernel(_mmd_loops, parallel=True, ...)`` -- the
   compiled binding (``_mmd_numba_serial`` for small problems). Distance,
   kernel and sum are fused row by row; no n×m matrix is ever allocated, so
   the memory is O((n + m)·d).

Three entry points call the binding:

* :func:`mmd` -- validated: any array-like, checked shapes and values, the
  gradient on request. Use it everywhere except inside a training step.
* :func:`mmd_and_grad` -- the unchecked fast path for training steps, whose
  encoder samples are checked once per fit, not once per minibatch; named
  modes ``wrt="X"`` (what a WAE step needs), ``"both"`` or ``None``.
* :func:`mmd_per_point_and_grad` -- one MMD² per data point for a batch of
  rows (the thesis's per-point WAE penalty), rows in parallel; its NumPy
  version is :func:`mmd_per_point_reference`.

The Gaussian kernel's exp is computed in the loops by
:func:`minivae._exp.exp_nonpositive` (range reduction and a polynomial, within 1 ulp of
``np.exp``) rather than by the C library, so that the compiler vectorises the
loop; the Gaussian kernel then costs about what the IMQ kernel costs.

A kernel is specified by a :class:`Kernel`: a kind ("gaussian" or "imq") and a
tuple of scales that the kernel is summed over. It is flat and JSON-friendly
(:meth:`Kernel.to_dict`, :meth:`Kernel.from_dict`); build one with
:func:`gaussian_kernel`, :func:`imq_kernel` or :func:`imq_multiscale`.

Reproducibility: the compiled loops deal the rows to a fixed number of chunks
(``_N_CHUNKS``) and add the chunks up in a fixed order, so on a given machine a
given input gives the same bits whatever the number of numba threads
(``NUMBA_NUM_THREADS``); the per-point rows are each summed by one thread.
Another CPU may differ in the last bits, as the compiled code differs (fused
multiply-add, vector width); results agree with the NumPy reference to about
1e-15 relative everywhere.

Example
-------
>>> import numpy as np
>>> from minivae.mmd import mmd, gaussian_kernel
>>> rng = np.random.default_rng(0)
>>> z = rng.standard_normal((200, 2))            # encoder samples
>>> z_prior = rng.standard_normal((200, 2))      # prior samples
>>> value, grad_z, grad_prior = mmd(z, z_prior, gaussian_kernel(gamma=0.5),
...                                 return_grad=True)
>>> grad_z.shape
(200, 2)
"""

import numbers
from dataclasses import dataclass

import numpy as np
from numba import prange

from ._exp import exp_nonpositive_numba
from ._jit import compile_kernel
from ._validation import check_array, check_flag, check_positive

__all__ = [
    "Kernel",
    "gaussian_kernel",
    "imq_kernel",
    "imq_multiscale",
    "kernel_matrix",
    "mmd",
    "mmd_and_grad",
    "mmd_per_point_and_grad",
    "mmd_per_point_reference",
    "mmd_reference",
    "WAE_IMQ_FACTORS",
]

# The kind code handed to the compiled loops is the position in this tuple.
_KINDS = ("gaussian", "imq")

# Scale factors of the multi-scale IMQ kernel in the official WAE code.
WAE_IMQ_FACTORS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

# The compiled loops deal the rows to this many chunks, each with its own
# buffers, and add the chunks up in chunk order. The count is a constant, never
# the thread count: the order of every floating-point addition, and so every bit
# of the result, is then the same at 1, 2 or 64 numba threads. More threads than
# chunks would idle, so it is set above the core count of most machines that
# run minivae; each chunk costs (4 + d)·(n + m) floats of buffer. Problems
# small enough to run on one thread (see _SERIAL_MAX_PAIRS) use one chunk: the
# count then depends on n + m alone, still never on the threads.
_N_CHUNKS = 16


# --------------------------------------------------------------------------
# Kernel specification
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Kernel:
    """A radial kernel k(x, y) = Σ_s κ(‖x − y‖²; s), summed over its scales.

    Parameters
    ----------
    kind : {"gaussian", "imq"}
        ``"gaussian"``: κ(r²; γ) = exp(−γ r²), one γ per scale.
        ``"imq"`` (inverse multiquadratic): κ(r²; C) = C / (C + r²), one C per
        scale.
    scales : float or sequence of float
        The γ values (Gaussian) or C values (IMQ), all finite and positive.
        Stored as a tuple of floats. Several scales give the sum of the
        single-scale kernels, as in the WAE paper's multi-scale IMQ.

    Notes
    -----
    Both kinds are characteristic, so MMD_k(P, Q) = 0 only if P = Q (Gretton
    et al. 2012), and both have k(x, x) = 1 per scale. Prefer the constructors
    :func:`gaussian_kernel` (γ or bandwidth h), :func:`imq_kernel` and
    :func:`imq_multiscale`; this class is the stored form. Being a frozen
    dataclass of a string and a tuple it is hashable, compares by value and
    round-trips through JSON with :meth:`to_dict` / :meth:`from_dict`.
    """

    kind: str
    scales: tuple

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kernel kind must be 'gaussian' or 'imq', got {self.kind!r}")
        name = "gamma" if self.kind == "gaussian" else "C"
        object.__setattr__(self, "scales", _as_scales(self.scales, name))

    def to_dict(self):
        """Return ``{"kind": ..., "scales": [...]}``, ready for ``json.dumps``."""
        return {"kind": self.kind, "scales": list(self.scales)}

    @classmethod
    def from_dict(cls, config):
        """Rebuild a kernel from the output of :meth:`to_dict`."""
        if not isinstance(config, dict) or set(config) != {"kind", "scales"}:
            raise ValueError(
                f"a kernel config must be a dict with exactly the keys 'kind' and 'scales', got {config!r}"
            )
        return cls(config["kind"], config["scales"])


def _as_scales(value, name):
    """A non-empty tuple of finite positive floats from a number or a sequence."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (check_positive(value, name),)
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {type(value).__name__}")
    try:
        values = tuple(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a number or a sequence of numbers, got {type(value).__name__}"
        ) from None
    if not values:
        raise ValueError(f"{name} must contain at least one value, got an empty sequence")
    return tuple(check_positive(v, f"{name}[{i}]") for i, v in enumerate(values))


def gaussian_kernel(gamma=None, bandwidth=None):
    """Gaussian kernel, given either γ or the bandwidth h (exactly one).

    Parameters
    ----------
    gamma : float or sequence of float, optional
        k(x, y) = exp(−γ‖x − y‖²), the parametrisation of IPMeasures.jl's
        ``GaussianKernel(γ)`` that the thesis used.
    bandwidth : float or sequence of float, optional
        k(x, y) = exp(−‖x − y‖² / (2h²)).

    Returns
    -------
    Kernel
        ``Kernel("gaussian", gammas)``; a bandwidth is stored as γ = 1/(2h²).

    Notes
    -----
    The two forms are the same kernel with γ = 1/(2h²), h = (2γ)^(-1/2). The
    thesis's "γ = 0.01" (its KDD Cup experiments) is exp(−0.01‖x − y‖²), i.e. h² = 50, h ≈ 7.07:
    a wide kernel for a standard normal latent space, where typical distances
    are about √(2 d_z). A sequence gives the sum of Gaussians at those scales.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample
    test, JMLR 13.
    """
    if (gamma is None) == (bandwidth is None):
        raise ValueError(
            f"give exactly one of gamma and bandwidth, got gamma={gamma!r}, bandwidth={bandwidth!r}"
        )
    if gamma is not None:
        return Kernel("gaussian", _as_scales(gamma, "gamma"))
    h = _as_scales(bandwidth, "bandwidth")
    return Kernel("gaussian", tuple(1.0 / (2.0 * h_s * h_s) for h_s in h))


def imq_kernel(C=1.0):
    """Inverse multiquadratic kernel k(x, y) = C / (C + ‖x − y‖²).

    Parameters
    ----------
    C : float or sequence of float
        The scale; the thesis uses C = 1. A sequence gives Σ_s C_s / (C_s + r²).

    Returns
    -------
    Kernel

    Notes
    -----
    The IMQ kernel has heavier tails than the Gaussian, so its gradient does
    not vanish for samples far from the prior's mass; Tolstikhin et al. (2018)
    found it trains WAEs better.

    References
    ----------
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR.
    """
    return Kernel("imq", _as_scales(C, "C"))


def imq_multiscale(d_z, sigma_z=1.0, factors=WAE_IMQ_FACTORS):
    """The WAE paper's multi-scale IMQ: C = 2·d_z·σ_z² times each factor.

    Parameters
    ----------
    d_z : int
        Latent dimension.
    sigma_z : float
        Standard deviation of the (Gaussian) prior per coordinate.
    factors : sequence of float
        Default {0.1, 0.2, 0.5, 1, 2, 5, 10}, as in the official WAE code.

    Returns
    -------
    Kernel
        ``imq_kernel(C=[2·d_z·σ_z²·f for f in factors])``.

    Notes
    -----
    2·d_z·σ_z² is the expected squared distance between two independent draws
    of N(0, σ_z² I) in d_z dimensions, so the scales straddle the typical
    distance by two orders of magnitude either way.

    References
    ----------
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR.
    """
    if isinstance(d_z, bool) or not isinstance(d_z, numbers.Integral) or d_z < 1:
        raise ValueError(f"d_z must be a positive int, got {d_z!r}")
    sigma_z = check_positive(sigma_z, "sigma_z")
    base = 2.0 * int(d_z) * sigma_z ** 2
    return imq_kernel(C=[base * f for f in _as_scales(factors, "factors")])


# --------------------------------------------------------------------------
# NumPy reference (read beside (2.38) in docs/equations.md)
# --------------------------------------------------------------------------

def _kernel_and_slope(r2, kernel):
    """Kernel values k and slopes dk/d(r²) at squared distances ``r2``.

    Gaussian: κ = exp(−γ r²), dκ/dr² = −γ κ. IMQ: κ = C/(C + r²),
    dκ/dr² = −C/(C + r²)² = −κ²/C. Both summed over the scales.
    """
    k = np.zeros_like(r2)
    dk = np.zeros_like(r2)
    for s in kernel.scales:
        if kernel.kind == "gaussian":
            e = np.exp(-s * r2)
            k += e
            dk -= s * e
        else:
            q = s / (s + r2)
            k += q
            dk -= q * q / s
    return k, dk


def kernel_matrix(X, Y, kernel):
    """The matrix K[i, j] = k(x_i, y_j) (NumPy, O(n·m) memory).

    Parameters
    ----------
    X : array_like of shape (n, d)
    Y : array_like of shape (m, d)
    kernel : Kernel

    Returns
    -------
    ndarray of shape (n, m)
    """
    X, Y, kernel = _check_inputs(X, Y, kernel, min_samples=1)
    r2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=-1)
    return _kernel_and_slope(r2, kernel)[0]


def mmd_reference(X, Y, kernel=None, unbiased=True, return_grad=False):
    """MMD² (2.38) and its gradient, vectorised NumPy with (n, m, d) arrays.

    Same parameters and results as :func:`mmd`; this is the readable version
    that the compiled loops are tested against, and the "naive broadcasting"
    baseline of ``benchmarks/bench_mmd.py``. It allocates n², m² and n·m
    matrices (times d for the differences), so keep n, m to a few thousand.

    Notes
    -----
    With x_i ~ Q (n encoder samples) and y_j ~ P (m prior samples), (2.38):

    unbiased  MMD² = Σ_{i≠i'} k(x_i, x_i') / (n(n−1)) + Σ_{j≠j'} k(y_j, y_j') / (m(m−1))
                     − 2 Σ_{i,j} k(x_i, y_j) / (n m)
    biased    the same with the diagonal terms kept and 1/n², 1/m² instead.

    Writing k(x, y) = κ(‖x − y‖²) and a = 1/(n(n−1)) (or 1/n²), each within
    pair appears twice in the sum and d‖x_i − x_j‖²/dx_i = 2(x_i − x_j), so

    ∂MMD²/∂x_i = 4a Σ_j κ'(‖x_i − x_j‖²)(x_i − x_j) − (4/(nm)) Σ_j κ'(‖x_i − y_j‖²)(x_i − y_j),

    and ∂MMD²/∂y_j likewise with the roles of X and Y exchanged (b = 1/(m(m−1))
    or 1/m²). The diagonal needs no special care in the gradient: x_i − x_i = 0.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample
    test, JMLR 13, Lemma 6 (unbiased) and Eq. (5) (biased).
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR, Algorithm 2.
    """
    unbiased = check_flag(unbiased, "unbiased")
    return_grad = check_flag(return_grad, "return_grad")
    X, Y, kernel = _check_inputs(X, Y, kernel, min_samples=2 if unbiased else 1)
    return _mmd_numpy(X, Y, kernel, unbiased, return_grad)


def _mmd_numpy(X, Y, kernel, unbiased, return_grad):
    n, m = X.shape[0], Y.shape[0]
    diff_xx = X[:, None, :] - X[None, :, :]   # (n, n, d): x_i − x_i'
    diff_yy = Y[:, None, :] - Y[None, :, :]   # (m, m, d): y_j − y_j'
    diff_xy = X[:, None, :] - Y[None, :, :]   # (n, m, d): x_i − y_j
    k_xx, dk_xx = _kernel_and_slope((diff_xx ** 2).sum(axis=-1), kernel)
    k_yy, dk_yy = _kernel_and_slope((diff_yy ** 2).sum(axis=-1), kernel)
    k_xy, dk_xy = _kernel_and_slope((diff_xy ** 2).sum(axis=-1), kernel)

    if unbiased:
        # U-statistic: drop the i = i' terms k(x_i, x_i) = k(0).
        np.fill_diagonal(k_xx, 0.0)
        np.fill_diagonal(k_yy, 0.0)
        a, b = 1.0 / (n * (n - 1)), 1.0 / (m * (m - 1))
    else:
        a, b = 1.0 / n ** 2, 1.0 / m ** 2
    c = 1.0 / (n * m)
    value = a * k_xx.sum() + b * k_yy.sum() - 2.0 * c * k_xy.sum()
    if not return_grad:
        return float(value)

    grad_X = (4.0 * a * np.einsum("ij,ijd->id", dk_xx, diff_xx)
              - 4.0 * c * np.einsum("ij,ijd->id", dk_xy, diff_xy))
    grad_Y = (4.0 * b * np.einsum("ij,ijd->id", dk_yy, diff_yy)
              + 4.0 * c * np.einsum("ij,ijd->jd", dk_xy, diff_xy))   # y_j − x_i = −diff_xy
    return float(value), grad_X, grad_Y


def mmd_per_point_reference(Z, Y, kernel, unbiased=True):
    """Per-point MMD² and its gradient, one :func:`mmd_reference` call per row.

    The readable version of :func:`mmd_per_point_and_grad`, which is tested
    against it: a Python loop over the rows, each a (2.38) in NumPy.

    Parameters
    ----------
    Z : array_like of shape (n, S, d)
        Row i holds S draws of q(z | x_i).
    Y : array_like of shape (n, M, d)
        Row i holds M draws of the prior (M = S in the thesis).
    kernel : Kernel
    unbiased : bool

    Returns
    -------
    values : ndarray of shape (n,)
        values[i] = MMD²(Z[i], Y[i]).
    grad_Z : ndarray of shape (n, S, d)
        grad_Z[i] = ∂values[i]/∂Z[i].
    """
    unbiased = check_flag(unbiased, "unbiased")
    Z, Y = _check_per_point(Z, Y, unbiased)
    values = np.empty(Z.shape[0])
    grad_Z = np.empty(Z.shape)
    for i in range(Z.shape[0]):
        values[i], grad_Z[i], _ = _mmd_numpy(Z[i], Y[i], kernel, unbiased, return_grad=True)
    return values, grad_Z


# --------------------------------------------------------------------------
# Loops (compiled below by numba; callable as plain Python)
# --------------------------------------------------------------------------

def _weighted_sum(w, z, z_i, L):
    """Σ_{j < L} w[j]·(z_i − z[j]): the gradient that row i collects from its later partners.

    A floating-point sum in loop order is a chain of dependent additions that
    the compiler may not reorder, so it runs at one addition per few cycles and
    does not vectorise. This one function is compiled with ``reassoc`` (and
    ``contract``, fused multiply-add), so LLVM splits the sum into vector
    partial sums; that made the whole gradient about 1.5 times as fast. The
    order of the additions is then fixed when the loops are compiled, not by
    the thread count, so results stay bit-identical at any thread count (and
    the serial and parallel bindings agree; the tests check both). It differs
    from a sum in loop order by rounding only (the tests compare with the
    NumPy reference to 1e-10). Called as plain Python it sums in loop order.
    """
    s = 0.0
    for j in range(L):
        s += w[j] * (z_i - z[j])
    return s


# The fast-math flags are set on this loop's instructions alone, and stay on
# them wherever LLVM inlines it. No -inf or NaN ever reaches it.
_weighted_sum_numba = compile_kernel(_weighted_sum, fastmath={"reassoc", "contract"})


def _mmd_loops(ZT, n, kind, scales, unbiased, n_chunks, grad_mode):
    """MMD² and its gradient as fused loops over unordered pairs.

    Parameters
    ----------
    ZT : ndarray of shape (d, n + m), C-contiguous
        The n encoder samples followed by the m prior samples, one column per
        sample (transposed so that the innermost loops run over contiguous
        memory and the compiler can use SIMD).
    n : int
        Number of encoder samples (the first n columns).
    kind : int
        0 Gaussian (scales are γ), 1 IMQ (scales are C); see ``_KINDS``.
    scales : ndarray of shape (n_scales,)
    unbiased : bool
    n_chunks : int
        Rows are dealt round-robin to this many chunks; each chunk has its own
        buffers, so the parallel loop over chunks has no shared writes, and the
        chunks are added up in chunk order at the end. Row i has N − 1 − i
        partners, and dealing the rows round-robin gives every chunk almost the
        same number of pairs. The callers pass the constant ``_N_CHUNKS``
        (1 for problems they run serially), so the bits never depend on the
        thread count.
    grad_mode : int
        0: value only; 1: also ∂MMD²/∂X; 2: also ∂MMD²/∂X and ∂MMD²/∂Y.

    Returns
    -------
    value : float
    grad : ndarray of shape (0, d), (n, d) or (n + m, d) for grad_mode 0, 1, 2
        Rows 0..n−1 are ∂MMD²/∂x_i, rows n.. are ∂MMD²/∂y_j.

    Notes
    -----
    Same sums as :func:`mmd_reference` ((2.38)), over the stacked points z_1..z_N
    (N = n + m), each unordered pair i < j once. A pair gets the weight
    c = 2/(n(n−1)) if both are encoder samples, 2/(m(m−1)) if both are prior
    samples (2/n², 2/m² biased; the 2 counts (i, j) and (j, i)) and −2/(nm) if
    mixed. It adds c·k(z_i, z_j) to MMD², w·(z_i − z_j) to ∂/∂z_i and
    −w·(z_i − z_j) to ∂/∂z_j, with w = 2c·κ'(‖z_i − z_j‖²). The biased estimator
    adds the diagonal k(z, z) = n_scales for each point: n_scales·(1/n + 1/m).

    Memory per chunk: four length-N buffers and a (d, N) gradient buffer,
    O((n + m)·d) in all; the n×m kernel matrix never exists.
    """
    d, N = ZT.shape
    m = N - n
    n_scales = scales.shape[0]
    if unbiased:
        c_xx = 2.0 / (n * (n - 1.0))
        c_yy = 2.0 / (m * (m - 1.0))
        diagonal = 0.0
    else:
        c_xx = 2.0 / (n * n)
        c_yy = 2.0 / (m * m)
        diagonal = n_scales * (1.0 / n + 1.0 / m)
    c_xy = -2.0 / (n * m)

    # With grad_mode 1 only rows of X receive gradient: pairs within Y need
    # none, and an (x_i, y_j) pair only its x side, which halves the work.
    n_grad = 0 if grad_mode == 0 else (n if grad_mode == 1 else N)
    GT = np.zeros((n_chunks, d, n_grad))   # per-chunk gradient, transposed
    chunk_value = np.zeros(n_chunks)
    for c in prange(n_chunks):
        r2 = np.empty(N)
        kv = np.empty(N)
        w = np.empty(N)
        # Value contributions are collected per column j and summed once at
        # the end: an elementwise update vectorises, a running scalar sum
        # (whose order the compiler must keep) would not.
        v = np.zeros(N)
        for i in range(c, N, n_chunks):
            # Pair z_i with the L later points j = i+1 .. N-1. Loops run over
            # jj = j − (i+1) from 0, on views starting at column i+1: an index
            # known to be non-negative needs no wraparound check, and then
            # the compiler vectorises the loop.
            lo = i + 1
            L = N - lo
            # Squared distances r2[jj] = ‖z_i − z_j‖².
            for jj in range(L):
                r2[jj] = 0.0
            for k in range(d):
                z_ik = ZT[k, i]
                z_k = ZT[k, lo:]
                for jj in range(L):
                    t = z_k[jj] - z_ik
                    r2[jj] += t * t
            # Kernel value kv and slope w = dκ/d(r²), summed over the scales.
            for jj in range(L):
                kv[jj] = 0.0
                w[jj] = 0.0
            for s in range(n_scales):
                sc = scales[s]
                if kind == 0:   # Gaussian exp(−γ r²), sc = γ
                    for jj in range(L):
                        e = exp_nonpositive_numba(-sc * r2[jj])
                        kv[jj] += e
                        w[jj] -= sc * e
                else:           # IMQ C/(C + r²), sc = C; slope −κ²/C
                    inv_sc = 1.0 / sc
                    for jj in range(L):
                        q = sc / (sc + r2[jj])
                        kv[jj] += q
                        w[jj] -= q * q * inv_sc
            # Pair weights: the first n_xx later points are encoder samples
            # (pairs within X); the rest pair an encoder sample with a prior
            # sample if i < n, two prior samples otherwise.
            n_xx = n - lo if i < n else 0
            c_rest = c_xy if i < n else c_yy
            v_tail = v[lo:]
            for jj in range(L):
                coef = c_xx if jj < n_xx else c_rest
                v_tail[jj] += coef * kv[jj]
                w[jj] *= 2.0 * coef
            if grad_mode == 0 or (grad_mode == 1 and i >= n):
                continue
            n_scatter = L if grad_mode == 2 else n_xx
            for k in range(d):
                z_ik = ZT[k, i]
                z_k = ZT[k, lo:]
                # Row j gets −w_j (z_i − z_j): elementwise, vectorised.
                g_k = GT[c, k, lo:]
                for jj in range(n_scatter):
                    g_k[jj] -= w[jj] * (z_ik - z_k[jj])
                # Row i gets Σ_j w_j (z_i − z_j), a reduction (see _weighted_sum).
                GT[c, k, i] += _weighted_sum_numba(w, z_k, z_ik, L)
        total = 0.0
        for j in range(N):
            total += v[j]
        chunk_value[c] = total

    value = diagonal
    for c in range(n_chunks):
        value += chunk_value[c]
    grad = np.empty((n_grad, d))
    for i in prange(n_grad):
        for k in range(d):
            g = 0.0
            for c in range(n_chunks):
                g += GT[c, k, i]
            grad[i, k] = g
    return value, grad


# Compiled binding; the plain function above stays importable and testable.
# error_model="numpy" lets a float division by zero give inf instead of
# raising, which removes a branch per division so the loops vectorise; the
# divisors here are C + r² >= C > 0, so it never happens. Of the fast-math
# flags only "contract": a·b + c may become one fused multiply-add (one
# rounding instead of two); no assumption about NaN, inf or the order of sums.
_FLAGS = dict(error_model="numpy", fastmath={"contract"})
_mmd_numba = compile_kernel(_mmd_loops, parallel=True, **_FLAGS)


# The same loops on one thread, for small problems such as a WAE minibatch of
# 100: there, waking and joining the worker threads costs more than the pairs
# themselves, and far more on a busy machine, where a parallel region waits for
# every one of its threads to be scheduled. Given the same chunk count, the
# same bits as the parallel binding (tested).
# compile_kernel gives a serial build a cache entry of its own (see minivae._jit).
_mmd_numba_serial = compile_kernel(_mmd_loops, **_FLAGS)

# Up to this many unordered pairs (about n + m = 450) mmd() runs serially, on
# one chunk: chunks there only cost buffers and a final reduction (about 12 %
# of a WAE minibatch of 100).
_SERIAL_MAX_PAIRS = 100_000


def _per_point_loops(ZT, S, kind, scales, unbiased):
    """One MMD² per row, and its gradient with respect to the row's first S samples.

    Parameters
    ----------
    ZT : ndarray of shape (n, d, S + M), C-contiguous
        ZT[i] is row i's S posterior draws followed by its M prior draws, one
        sample per column, as :func:`_mmd_loops` takes them.
    S : int
    kind, scales, unbiased :
        As for :func:`_mmd_loops`.

    Returns
    -------
    values : ndarray of shape (n,)
    grad : ndarray of shape (n, S, d)

    Notes
    -----
    The rows are independent, so ``prange`` runs over them; each row is one
    single-chunk call of the serial binding of :func:`_mmd_loops` (value and
    ∂/∂X), computed by one thread in a fixed order, so the bits do not depend
    on the thread count. Called as plain Python, the row loop runs
    uncompiled and each row still calls the compiled binding.
    """
    n_rows, d, N = ZT.shape
    values = np.empty(n_rows)
    grad = np.empty((n_rows, S, d))
    # One chunk, gradient with respect to X (grad_mode 1). Typed int64 rather
    # than literal 1s, which would make numba compile a second specialisation
    # of the loops with the constants folded in.
    one_chunk = np.int64(1)
    grad_x_only = np.int64(1)
    for i in prange(n_rows):
        value, g = _mmd_numba_serial(ZT[i], S, kind, scales, unbiased, one_chunk, grad_x_only)
        values[i] = value
        grad[i] = g
    return values, grad


_per_point_numba = compile_kernel(_per_point_loops, parallel=True, **_FLAGS)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

def _check_inputs(X, Y, kernel, min_samples):
    """Validate (X, Y, kernel); return float64 C-contiguous arrays and a Kernel."""
    X = check_array(X, "X")
    Y = check_array(Y, "Y")
    for name, arr in (("X", X), ("Y", Y)):
        if arr.shape[0] < min_samples:
            raise ValueError(
                f"the unbiased MMD² needs at least {min_samples} samples in {name}, got "
                f"{arr.shape[0]}; pass unbiased=False for the biased estimator"
            )
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of columns, got X with {X.shape[1]} and Y with {Y.shape[1]}"
        )
    if kernel is None:
        kernel = imq_multiscale(X.shape[1])
    if not isinstance(kernel, Kernel):
        raise TypeError(
            "kernel must be a minivae.Kernel (use gaussian_kernel, imq_kernel or "
            f"imq_multiscale), got {type(kernel).__name__}"
        )
    return X, Y, kernel


def _check_per_point(Z, Y, unbiased):
    Z = np.asarray(Z, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Z.ndim != 3 or Y.ndim != 3:
        raise ValueError(f"Z and Y must be 3-D arrays (rows, draws, dimensions), got Z with "
                         f"shape {Z.shape} and Y with shape {Y.shape}")
    if Z.shape[0] != Y.shape[0] or Z.shape[2] != Y.shape[2]:
        raise ValueError(f"Z and Y must have the same number of rows and dimensions, got Z with "
                         f"shape {Z.shape} and Y with shape {Y.shape}")
    min_draws = 2 if unbiased else 1
    if min(Z.shape[1], Y.shape[1]) < min_draws:
        raise ValueError(f"the {'un' if unbiased else ''}biased MMD² needs at least {min_draws} "
                         f"draws per row, got Z with shape {Z.shape} and Y with shape {Y.shape}")
    return Z, Y


def mmd(X, Y, kernel=None, unbiased=True, return_grad=False, grad_Y=True, backend="numba"):
    """Squared maximum mean discrepancy MMD²_k between two samples (2.38).

    Parameters
    ----------
    X : array_like of shape (n, d)
        Samples of Q, e.g. the encoder samples z of a WAE minibatch.
    Y : array_like of shape (m, d)
        Samples of P, e.g. draws from the prior. m may differ from n.
    kernel : Kernel, optional
        Default: ``imq_multiscale(d)``, the WAE paper's choice for a N(0, I)
        prior in d dimensions.
    unbiased : bool
        True (default, as IPMeasures.jl and the WAE code): the U-statistic,
        within-sample diagonal removed; needs n, m >= 2; can be negative.
        False: the V-statistic over all pairs, always >= 0, biased upwards.
    return_grad : bool
        Also return the gradients with respect to X and Y.
    grad_Y : bool
        With ``return_grad``: compute ∂MMD²/∂Y too (default), or return None
        in its place. A WAE step treats the prior samples as constants and
        needs only ∂MMD²/∂X; skipping ∂MMD²/∂Y halves the gradient work when
        m ≈ n.
    backend : {"numba", "numpy"}
        "numba" (default): the compiled, parallel loops, O((n + m)·d) memory.
        "numpy": :func:`mmd_reference`, O(n·m·d) memory.

    Returns
    -------
    value : float
        MMD².
    grad_X : ndarray of shape (n, d)
        ∂MMD²/∂X (only if ``return_grad``).
    grad_Y : ndarray of shape (m, d) or None
        ∂MMD²/∂Y (only if ``return_grad``; None if ``grad_Y=False``).

    Raises
    ------
    ValueError
        If X or Y is not 2-D, holds NaN/inf, has too few rows (2 for the
        unbiased estimator, 1 for the biased), or their widths differ; or if
        ``backend`` is unknown.
    TypeError
        If ``kernel`` is not a :class:`Kernel` or a flag is not a bool.

    Notes
    -----
    The estimators and the gradient formula are written out in
    :func:`mmd_reference`. The compiled loops visit each unordered pair once,
    fusing distance, kernel and sums, and deal the rows to a fixed number of
    chunks (16) added up in a fixed order, so for a fixed input the result is
    bit-identical whatever the number of numba threads. Small problems (n + m
    below about 450) run on one thread and one chunk, where starting the
    parallel region would cost more than it saves. The first call compiles
    the loops (cached on disk afterwards). Inside a training loop,
    :func:`mmd_and_grad` skips the input checks.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample
    test, JMLR 13.
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR.
    """
    unbiased = check_flag(unbiased, "unbiased")
    return_grad = check_flag(return_grad, "return_grad")
    grad_Y = check_flag(grad_Y, "grad_Y")
    if backend not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba' or 'numpy', got {backend!r}")
    X, Y, kernel = _check_inputs(X, Y, kernel, min_samples=2 if unbiased else 1)
    if backend == "numpy":
        result = _mmd_numpy(X, Y, kernel, unbiased, return_grad)
        return result if not return_grad or grad_Y else (result[0], result[1], None)
    if not return_grad:
        return mmd_and_grad(X, Y, kernel, unbiased, wrt=None)
    if grad_Y:
        return mmd_and_grad(X, Y, kernel, unbiased, wrt="both")
    return (*mmd_and_grad(X, Y, kernel, unbiased, wrt="X"), None)


# What each ``wrt`` of mmd_and_grad asks of the loops (their grad_mode).
_GRAD_MODES = {None: 0, "X": 1, "both": 2}


def mmd_and_grad(X, Y, kernel, unbiased=True, wrt="X"):
    """MMD² (2.38) and its gradient: the unchecked fast path for training steps.

    The same compiled loops and the same bits as :func:`mmd`, without its input
    checks, for a caller that has validated its data already -- a WAE step,
    whose encoder samples come from a network that was checked once per fit.
    Nothing here converts or checks values: NaN or inf in, NaN out; wrong shapes
    give a NumPy or numba error. Outside a training loop use :func:`mmd`.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64 (float32 accepted)
        Samples of Q, e.g. the encoder samples z of a minibatch; finite.
    Y : ndarray of shape (m, d), same dtype rules as X
        Samples of P, e.g. prior draws, treated as constants unless
        ``wrt="both"``; finite. Needs n, m >= 2 for the unbiased estimator
        (n, m >= 1 for the biased).
    kernel : Kernel
        The kernel (no default here: :func:`mmd` picks ``imq_multiscale(d)``).
    unbiased : bool
        U-statistic (True) or V-statistic (False), as in :func:`mmd`.
    wrt : {"X", "both", None}
        Which gradients to compute:

        * ``"X"`` (default) -- ∂MMD²/∂X only, what a WAE step needs: pairs within
          Y then need no gradient and a pair (x_i, y_j) only its x side, which
          halves the gradient work when m ≈ n;
        * ``"both"`` -- ∂MMD²/∂X and ∂MMD²/∂Y;
        * ``None`` -- the value only.

    Returns
    -------
    ``wrt="X"``: (value, grad_X); ``wrt="both"``: (value, grad_X, grad_Y);
    ``wrt=None``: value.

    value : float
        MMD².
    grad_X : ndarray of shape (n, d), float64
        ∂MMD²/∂X.
    grad_Y : ndarray of shape (m, d), float64
        ∂MMD²/∂Y.

    Raises
    ------
    ValueError
        If ``wrt`` is not one of "X", "both" or None (the only check made).

    Notes
    -----
    X and Y are copied into one (d, n + m) float64 array, one sample per column,
    which the loops need anyway (their inner loops run over contiguous memory);
    so any 2-D float arrays work, contiguous or not, and the inputs are never
    modified. The sums and the gradient formula are written out in
    :func:`mmd_reference`; the loops in :func:`_mmd_loops`.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample
    test, JMLR 13.
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR, Algorithm 2.
    """
    try:
        grad_mode = _GRAD_MODES[wrt]
    except (KeyError, TypeError):
        raise ValueError(f"wrt must be 'X', 'both' or None, got {wrt!r}") from None
    n, d = X.shape
    N = n + Y.shape[0]
    ZT = np.empty((d, N))
    ZT[:, :n] = X.T
    ZT[:, n:] = Y.T
    scales = np.asarray(kernel.scales, dtype=np.float64)
    if N * (N - 1) // 2 <= _SERIAL_MAX_PAIRS:
        loops, n_chunks = _mmd_numba_serial, 1
    else:
        loops, n_chunks = _mmd_numba, _N_CHUNKS
    value, grad = loops(ZT, n, _KINDS.index(kernel.kind), scales, bool(unbiased), n_chunks,
                        grad_mode)
    value = float(value)
    if grad_mode == 0:
        return value
    if grad_mode == 1:
        return value, grad
    return value, grad[:n], grad[n:]


def mmd_per_point_and_grad(Z, Y, kernel, unbiased=True):
    """One MMD² per data point and its gradient: the thesis's per-point WAE penalty (2.39), batched.

    For each row i, MMD²(Z[i], Y[i]) between S draws of q(z | x_i) and M prior
    draws, by (2.38), with its gradient with respect to the S posterior draws.
    The WAE's per-point mode averages ``values`` over the minibatch. The rows
    run in parallel in compiled code; this replaces a Python loop of
    :func:`mmd_and_grad` calls, one per row.

    Like :func:`mmd_and_grad` this is a fast path for training steps: shapes
    are checked (O(1)), values are not (NaN or inf in, NaN out).

    Parameters
    ----------
    Z : ndarray of shape (n, S, d), float64 (float32 accepted)
        Z[i, s] = μ_i + σ_i ⊙ ε_is, the s-th draw of q(z | x_i).
    Y : ndarray of shape (n, M, d)
        Y[i] holds M draws of the prior P_Z for row i (M = S in the thesis).
    kernel : Kernel
    unbiased : bool
        U-statistic (default; needs S, M >= 2) or V-statistic, as in :func:`mmd`.

    Returns
    -------
    values : ndarray of shape (n,)
        values[i] = MMD²(Z[i], Y[i]); not averaged, not multiplied by λ.
    grad_Z : ndarray of shape (n, S, d), float64
        grad_Z[i] = ∂values[i]/∂Z[i]; the prior draws get no gradient.

    Raises
    ------
    ValueError
        If Z or Y is not 3-D, their row counts or dimensions differ, or a row
        has too few draws for the estimator.

    Notes
    -----
    Row i's sums are those of :func:`mmd_reference` on (Z[i], Y[i]); the batched
    NumPy version is :func:`mmd_per_point_reference`. Each row is computed by
    one thread in a fixed order, so the bits do not depend on the thread
    count, and a row's result does not depend on the other rows.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample
    test, JMLR 13.
    Tolstikhin, Bousquet, Gelly & Schölkopf (2018), Wasserstein auto-encoders,
    ICLR.
    """
    unbiased = bool(unbiased)
    if Z.ndim != 3 or Y.ndim != 3 or Z.shape[0] != Y.shape[0] or Z.shape[2] != Y.shape[2] \
            or min(Z.shape[1], Y.shape[1]) < (2 if unbiased else 1):
        _check_per_point(Z, Y, unbiased)      # raises, naming the shapes
    n, S, d = Z.shape
    N = S + Y.shape[1]
    ZT = np.empty((n, d, N))
    ZT[:, :, :S] = Z.transpose(0, 2, 1)
    ZT[:, :, S:] = Y.transpose(0, 2, 1)
    scales = np.asarray(kernel.scales, dtype=np.float64)
    # Always the parallel binding: a per-point batch is n·S² pairs, large enough
    # that starting the threads costs little.
    return _per_point_numba(ZT, S, _KINDS.index(kernel.kind), scales, unbiased)
