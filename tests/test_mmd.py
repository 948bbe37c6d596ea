"""Tests for minivae.mmd: MMD² (2.38) three ways, its gradient, its kernels.

The compiled loops are checked against the NumPy reference, against the same
loops run as plain Python (what NUMBA_DISABLE_JIT=1 would run) and against a
brute-force double loop over ordered pairs written here from (2.38) alone.
Gradients are checked against central differences.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minivae.gradcheck import check_gradients
from minivae.mmd import (
    WAE_IMQ_FACTORS,
    Kernel,
    _KINDS,
    _N_CHUNKS,
    _SERIAL_MAX_PAIRS,
    _mmd_loops,
    _mmd_numba,
    _mmd_numba_serial,
    _per_point_loops,
    _per_point_numba,
    gaussian_kernel,
    imq_kernel,
    imq_multiscale,
    kernel_matrix,
    mmd,
    mmd_and_grad,
    mmd_per_point_and_grad,
    mmd_per_point_reference,
    mmd_reference,
)
from tests.strategies import normal_array, seeds

KERNELS = [
    gaussian_kernel(gamma=0.01),          # the thesis's IPMeasures γ
    gaussian_kernel(bandwidth=0.8),
    gaussian_kernel(gamma=[0.1, 2.0]),    # a sum of two Gaussians
    imq_kernel(C=1.0),                    # the thesis's IMQ
    imq_multiscale(d_z=2),                # the WAE paper's seven scales
]
KERNEL_IDS = ["gauss-g0.01", "gauss-h0.8", "gauss-2scales", "imq-C1", "imq-multi"]

sample_sizes = st.integers(min_value=2, max_value=12)
dims = st.integers(min_value=1, max_value=4)


def _samples(seed, n, m, d, shift=0.7):
    """X ~ N(0, I), Y ~ N(shift, 1.5² I): different, so MMD² and gradients are O(1)."""
    return normal_array(seed, (n, d)), shift + normal_array(seed + 1, (m, d), scale=1.5)


def _brute_force_mmd2(X, Y, kernel, unbiased):
    """(2.38) term by term over ordered pairs, in pure Python floats."""
    def k(a, b):
        r2 = sum((float(ai) - float(bi)) ** 2 for ai, bi in zip(a, b))
        if kernel.kind == "gaussian":
            return sum(math.exp(-g * r2) for g in kernel.scales)
        return sum(C / (C + r2) for C in kernel.scales)

    n, m = len(X), len(Y)
    s_xx = sum(k(X[i], X[j]) for i in range(n) for j in range(n) if i != j or not unbiased)
    s_yy = sum(k(Y[i], Y[j]) for i in range(m) for j in range(m) if i != j or not unbiased)
    s_xy = sum(k(X[i], Y[j]) for i in range(n) for j in range(m))
    if unbiased:
        return s_xx / (n * (n - 1)) + s_yy / (m * (m - 1)) - 2 * s_xy / (n * m)
    return s_xx / n ** 2 + s_yy / m ** 2 - 2 * s_xy / (n * m)


def _value_scale(X, Y, kernel, unbiased):
    """Sum of the magnitudes of the three terms of (2.38).

    MMD² is a difference of O(1) averages and can be much smaller than them,
    so rounding error is measured against the terms, not against MMD² itself.
    """
    n, m = len(X), len(Y)
    k_xx, k_yy, k_xy = (kernel_matrix(A, B, kernel) for A, B in ((X, X), (Y, Y), (X, Y)))
    if unbiased:
        return ((k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
                + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) + 2 * k_xy.mean())
    return k_xx.mean() + k_yy.mean() + 2 * k_xy.mean()


def _rel_err(a, b):
    """max |a − b| / max |b| for arrays (the largest entry sets the scale)."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _run_loops(X, Y, kernel, unbiased, n_chunks, loops=_mmd_loops, grad_mode=2):
    """Call a loop binding directly; the default is the plain-Python function
    (what NUMBA_DISABLE_JIT=1 would run)."""
    ZT = np.ascontiguousarray(np.concatenate([X, Y]).T)
    value, grad = loops(ZT, len(X), _KINDS.index(kernel.kind),
                        np.asarray(kernel.scales), unbiased, n_chunks, grad_mode)
    return value, grad[:len(X)], grad[len(X):]


# --------------------------------------------------------------------------
# Three implementations agree
# --------------------------------------------------------------------------

@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
@given(seed=seeds, n=sample_sizes, m=sample_sizes, d=dims,
       n_chunks=st.sampled_from([1, 3, 8]))
@example(seed=0, n=2, m=2, d=1, n_chunks=8)
@example(seed=1, n=2, m=9, d=3, n_chunks=3)
@example(seed=2, n=11, m=4, d=2, n_chunks=1)
def test_compiled_loops_reference_and_brute_force_agree(kernel, unbiased, seed, n, m, d,
                                                        n_chunks):
    X, Y = _samples(seed, n, m, d)
    ref_value, ref_gX, ref_gY = mmd_reference(X, Y, kernel, unbiased, return_grad=True)
    scale = _value_scale(X, Y, kernel, unbiased)

    brute = _brute_force_mmd2(X.tolist(), Y.tolist(), kernel, unbiased)
    assert abs(ref_value - brute) <= 1e-10 * scale

    value, gX, gY = mmd(X, Y, kernel, unbiased, return_grad=True)
    assert abs(value - ref_value) <= 1e-10 * scale
    assert mmd(X, Y, kernel, unbiased) == pytest.approx(value, rel=0, abs=1e-12 * scale)
    assert gX.shape == (n, d) and gY.shape == (m, d)
    assert _rel_err(gX, ref_gX) < 1e-10
    assert _rel_err(gY, ref_gY) < 1e-10

    # mmd() runs problems this small on the serial binding; call the
    # parallel one directly too, and the uncompiled loops.
    for loops in (_mmd_numba, _mmd_loops):
        loop_value, loop_gX, loop_gY = _run_loops(X, Y, kernel, unbiased, n_chunks, loops)
        assert abs(loop_value - ref_value) <= 1e-10 * scale
        assert _rel_err(loop_gX, ref_gX) < 1e-10
        assert _rel_err(loop_gY, ref_gY) < 1e-10
        # Gradient of X only: the same sums in the same order, minus the Y rows.
        x_value, x_gX, x_gY = _run_loops(X, Y, kernel, unbiased, n_chunks, loops, grad_mode=1)
        assert x_value == loop_value and x_gY.shape == (0, d)
        np.testing.assert_array_equal(x_gX, loop_gX)

    value_x, gX_only, none = mmd(X, Y, kernel, unbiased, return_grad=True, grad_Y=False)
    assert none is None and value_x == value
    np.testing.assert_array_equal(gX_only, gX)


@pytest.mark.parametrize("kernel", [KERNELS[1], KERNELS[4]], ids=["gauss", "imq-multi"])
def test_compiled_matches_reference_on_larger_samples(kernel):
    # Large enough that every chunk holds many rows and the four-way partial
    # sums run many full rounds.
    X, Y = _samples(3, 301, 187, 3)
    for unbiased in (True, False):
        ref = mmd_reference(X, Y, kernel, unbiased, return_grad=True)
        got = mmd(X, Y, kernel, unbiased, return_grad=True)
        assert abs(got[0] - ref[0]) <= 1e-10 * _value_scale(X, Y, kernel, unbiased)
        assert _rel_err(got[1], ref[1]) < 1e-10
        assert _rel_err(got[2], ref[2]) < 1e-10


def test_numpy_backend_is_the_reference():
    X, Y = _samples(4, 9, 6, 2)
    k = KERNELS[3]
    ref = mmd_reference(X, Y, k, return_grad=True)
    got = mmd(X, Y, k, return_grad=True, backend="numpy")
    assert got[0] == ref[0]
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(got[2], ref[2])
    assert mmd(X, Y, k, return_grad=True, grad_Y=False, backend="numpy")[2] is None


@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("size", [(9, 7, 3), (260, 240, 2)], ids=["serial", "parallel"])
def test_mmd_and_grad_modes_give_the_bits_of_mmd(size, unbiased):
    n, m, d = size
    X, Y = _samples(12, n, m, d)
    k = KERNELS[2]
    value, gX, gY = mmd(X, Y, k, unbiased, return_grad=True)
    X_before, Y_before = X.copy(), Y.copy()
    both = mmd_and_grad(X, Y, k, unbiased, wrt="both")
    x_only = mmd_and_grad(X, Y, k, unbiased)              # wrt="X" is the default
    value_only = mmd_and_grad(X, Y, k, unbiased, wrt=None)
    assert len(both) == 3 and len(x_only) == 2 and isinstance(value_only, float)
    assert both[0] == x_only[0] == value_only == value
    np.testing.assert_array_equal(both[1], gX)
    np.testing.assert_array_equal(both[2], gY)
    np.testing.assert_array_equal(x_only[1], gX)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)
    ref = mmd_reference(X, Y, k, unbiased, return_grad=True)
    assert _rel_err(x_only[1], ref[1]) < 1e-10


def test_mmd_and_grad_takes_strided_and_float32_arrays():
    X, Y = _samples(13, 10, 8, 3)
    k = KERNELS[3]
    expected = mmd_and_grad(X, Y, k)
    Xf = np.asfortranarray(X)
    Yw = np.zeros((8, 6))
    Yw[:, ::2] = Y                                     # a strided view
    got = mmd_and_grad(Xf, Yw[:, ::2], k)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    v32, g32 = mmd_and_grad(X.astype(np.float32), Y.astype(np.float32), k)
    assert g32.dtype == np.float64
    ref = mmd_reference(X.astype(np.float32).astype(float), Y.astype(np.float32).astype(float), k,
                        return_grad=True)
    assert abs(v32 - ref[0]) < 1e-12 and _rel_err(g32, ref[1]) < 1e-10


@pytest.mark.parametrize("wrt", ["x", "Y", "all", 1, True])
def test_mmd_and_grad_names_a_bad_mode(wrt):
    X, Y = _samples(14, 4, 4, 2)
    with pytest.raises(ValueError, match=f"wrt must be 'X', 'both' or None, got {wrt!r}"):
        mmd_and_grad(X, Y, KERNELS[0], wrt=wrt)


# Run in a fresh interpreter per thread count: NUMBA_NUM_THREADS is read once,
# when numba starts its thread pool. Prints the bits of each result in hex.
_THREADS_SCRIPT = """
import hashlib, sys
import numba, numpy as np
from minivae.mmd import imq_multiscale, gaussian_kernel, mmd, mmd_and_grad, mmd_per_point_and_grad
rng = np.random.default_rng(5)
X, Y = rng.standard_normal((257, 4)), 0.5 + rng.standard_normal((203, 4))
out = [str(numba.get_num_threads())]
for k in (imq_multiscale(d_z=4), gaussian_kernel(gamma=0.3)):
    for unbiased in (True, False):
        v, gX, gY = mmd(X, Y, k, unbiased, return_grad=True)
        v1, gX1 = mmd_and_grad(X, Y, k, unbiased, wrt="X")
        out += [v.hex(), v1.hex()] + [hashlib.sha256(g.tobytes()).hexdigest() for g in (gX, gY, gX1)]
Z, P = rng.standard_normal((80, 30, 3)), rng.standard_normal((80, 30, 3))
values, grad_Z = mmd_per_point_and_grad(Z, P, gaussian_kernel(gamma=0.5))
out += [hashlib.sha256(a.tobytes()).hexdigest() for a in (values, grad_Z)]
print(" ".join(out))
"""


def _results_at_threads(n_threads_list):
    root = Path(__file__).resolve().parents[1]
    procs = []
    for t in n_threads_list:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(t), PYTHONPATH=str(root))
        procs.append(subprocess.Popen([sys.executable, "-c", _THREADS_SCRIPT], cwd=root, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(out.split())
    return results


def test_result_is_bit_identical_at_1_2_and_16_threads():
    # The rows are dealt to a fixed number of chunks, added in a fixed order,
    # so the summation order does not depend on how many threads run them.
    X = np.random.default_rng(5).standard_normal((257, 4))
    N = len(X) + 203
    assert N * (N - 1) // 2 > _SERIAL_MAX_PAIRS      # mmd() takes the parallel path
    assert _N_CHUNKS >= 16
    one, two, sixteen = _results_at_threads([1, 2, 16])
    assert (one[0], two[0], sixteen[0]) == ("1", "2", "16")
    assert one[1:] == two[1:] == sixteen[1:]
    # The value-only path and the ∂/∂X-only path repeat the same sums.
    for r in range(4):
        v, v1, hX, hY, hX1 = one[1 + 5 * r: 6 + 5 * r]
        assert v == v1 and hX == hX1 and hX != hY
    assert len(one) == 1 + 5 * 4 + 2


@pytest.mark.parametrize("kernel", [KERNELS[2], KERNELS[4]], ids=["gauss-2scales", "imq-multi"])
def test_serial_and_parallel_bindings_give_the_same_bits(kernel):
    X, Y = _samples(11, 40, 33, 3)
    for unbiased in (True, False):
        serial = _run_loops(X, Y, kernel, unbiased, _N_CHUNKS, _mmd_numba_serial)
        parallel = _run_loops(X, Y, kernel, unbiased, _N_CHUNKS, _mmd_numba)
        assert serial[0] == parallel[0]
        np.testing.assert_array_equal(serial[1], parallel[1])
        np.testing.assert_array_equal(serial[2], parallel[2])


def test_serial_and_parallel_bindings_keep_separate_cache_files():
    # numba files cached machine code by qualified name and argument types, not
    # by compile options: two bindings of one function would load each other's
    # code, and the "parallel" one could run serially.
    try:
        paths = [f._cache._cache_file._index_path for f in (_mmd_numba, _mmd_numba_serial)]
    except AttributeError:
        pytest.skip("numba's cache internals have changed")
    assert paths[0] != paths[1]
    assert _mmd_numba_serial.py_func.__code__ is _mmd_loops.__code__


def test_value_only_call_of_the_compiled_loops_returns_no_gradient():
    X, Y = _samples(6, 7, 5, 2)
    ZT = np.ascontiguousarray(np.concatenate([X, Y]).T)
    value, grad = _mmd_numba(ZT, 7, 1, np.array([1.0]), True, 8, 0)
    assert grad.shape == (0, 2)
    assert value == pytest.approx(mmd_reference(X, Y, imq_kernel(1.0)), abs=1e-12)


# --------------------------------------------------------------------------
# Gradients against finite differences
# --------------------------------------------------------------------------

@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", [KERNELS[2], KERNELS[4]], ids=["gauss-2scales", "imq-multi"])
@given(seed=seeds, n=st.integers(2, 6), m=st.integers(2, 6), d=st.integers(1, 3))
def test_gradient_matches_finite_differences(kernel, unbiased, seed, n, m, d):
    X, Y = _samples(seed, n, m, d)

    def func():
        value, gX, gY = mmd(X, Y, kernel, unbiased, return_grad=True)
        return value, {"X": gX, "Y": gY}

    check_gradients(func, {"X": X, "Y": Y}).assert_ok(1e-6)


@given(seed=seeds, n=st.integers(2, 5), m=st.integers(2, 5))
def test_reference_gradient_matches_finite_differences(seed, n, m):
    X, Y = _samples(seed, n, m, 2)
    k = gaussian_kernel(gamma=0.3)

    def func():
        value, gX, gY = mmd_reference(X, Y, k, return_grad=True)
        return value, {"X": gX, "Y": gY}

    check_gradients(func, {"X": X, "Y": Y}).assert_ok(1e-6)


# --------------------------------------------------------------------------
# Properties of the estimators
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
@given(seed=seeds, n=st.integers(1, 30), d=dims)
def test_biased_mmd_of_a_sample_with_itself_is_zero_and_stationary(kernel, seed, n, d):
    X = normal_array(seed, (n, d))
    value, gX, gY = mmd(X, X.copy(), kernel, unbiased=False, return_grad=True)
    assert abs(value) < 1e-12 * len(kernel.scales)
    # X = Y minimises the V-statistic (it is >= 0), so the gradient vanishes.
    np.testing.assert_allclose(gX, 0.0, atol=1e-12)
    np.testing.assert_allclose(gY, 0.0, atol=1e-12)


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
@given(seed=seeds, n=st.integers(1, 10), m=st.integers(1, 10), d=dims)
def test_biased_mmd_is_non_negative(kernel, seed, n, m, d):
    X, Y = normal_array(seed, (n, d)), normal_array(seed + 1, (m, d))
    assert mmd(X, Y, kernel, unbiased=False) >= -1e-12


@given(seed=seeds, n=sample_sizes, m=sample_sizes)
def test_mmd_is_symmetric_in_its_two_samples(seed, n, m):
    X, Y = _samples(seed, n, m, 2)
    v1, gX1, gY1 = mmd(X, Y, KERNELS[4], return_grad=True)
    v2, gY2, gX2 = mmd(Y, X, KERNELS[4], return_grad=True)
    assert v1 == pytest.approx(v2, abs=1e-13)
    np.testing.assert_allclose(gX1, gX2, atol=1e-13)
    np.testing.assert_allclose(gY1, gY2, atol=1e-13)


@pytest.mark.parametrize("kernel", [gaussian_kernel(gamma=0.5), imq_multiscale(d_z=2)],
                         ids=["gauss", "imq-multi"])
def test_unbiased_estimator_has_mean_zero_and_biased_does_not(kernel):
    # Repeated draws of X and Y from the same N(0, I): the U-statistic is
    # unbiased for MMD² = 0, the V-statistic exceeds it by about
    # (E k(x, x) − E k(x, x')) (1/n + 1/m) > 0.
    rng = np.random.default_rng(20180430)
    n_repeats, n, m = 300, 20, 30
    unbiased, biased = np.empty(n_repeats), np.empty(n_repeats)
    for r in range(n_repeats):
        X, Y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
        unbiased[r] = mmd(X, Y, kernel)
        biased[r] = mmd(X, Y, kernel, unbiased=False)
    se_u = unbiased.std(ddof=1) / np.sqrt(n_repeats)
    se_b = biased.std(ddof=1) / np.sqrt(n_repeats)
    assert abs(unbiased.mean()) < 4 * se_u
    assert biased.mean() > 4 * se_b
    assert (unbiased < 0).any()          # a U-statistic can go negative


@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", [gaussian_kernel(gamma=0.5), imq_kernel(1.0)],
                         ids=["gauss", "imq"])
def test_mmd_grows_with_a_mean_shift(kernel, unbiased):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 2))
    base = rng.standard_normal((150, 2))   # the same draws shifted: common random numbers
    shifts = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]
    values = [mmd(X, base + [delta, 0.0], kernel, unbiased) for delta in shifts]
    assert np.all(np.diff(values) > 0), values
    assert values[0] < 0.02 < values[-1]


# --------------------------------------------------------------------------
# Kernels and their parametrisations
# --------------------------------------------------------------------------

def test_gaussian_parametrisations_agree_and_thesis_gamma_is_h2_50():
    thesis = gaussian_kernel(gamma=0.01)
    assert gaussian_kernel(bandwidth=np.sqrt(50.0)).scales == pytest.approx(thesis.scales)
    X, Y = _samples(8, 4, 5, 3)
    h = 1.7
    r2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(kernel_matrix(X, Y, gaussian_kernel(bandwidth=h)),
                               np.exp(-r2 / (2 * h ** 2)), rtol=1e-14)
    np.testing.assert_allclose(kernel_matrix(X, Y, gaussian_kernel(gamma=1 / (2 * h ** 2))),
                               np.exp(-r2 / (2 * h ** 2)), rtol=1e-14)
    np.testing.assert_allclose(kernel_matrix(X, Y, thesis), np.exp(-0.01 * r2), rtol=1e-14)


def test_imq_kernels():
    X, Y = _samples(9, 3, 4, 2)
    r2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(kernel_matrix(X, Y, imq_kernel(2.5)), 2.5 / (2.5 + r2), rtol=1e-14)
    multi = imq_multiscale(d_z=8, sigma_z=0.5)
    assert multi.kind == "imq"
    assert multi.scales == pytest.approx([2 * 8 * 0.25 * f for f in WAE_IMQ_FACTORS])
    # k(x, x) = 1 per scale.
    np.testing.assert_allclose(np.diag(kernel_matrix(X, X, multi)), len(WAE_IMQ_FACTORS))


def test_default_kernel_is_wae_multiscale_imq():
    X, Y = _samples(10, 8, 6, 3)
    assert mmd(X, Y) == mmd(X, Y, imq_multiscale(d_z=3))


def test_kernel_round_trips_through_json():
    for k in KERNELS:
        config = json.loads(json.dumps(k.to_dict()))
        assert Kernel.from_dict(config) == k
    assert Kernel("imq", 2) == imq_kernel(C=2.0)
    assert hash(Kernel("gaussian", [0.5])) == hash(gaussian_kernel(gamma=0.5))


def test_inputs_are_converted():
    X = np.arange(6, dtype=np.int32).reshape(3, 2)
    Y = np.asfortranarray(np.linspace(0, 1, 8).reshape(4, 2)).astype(np.float32)
    expected = mmd_reference(X.astype(float), Y.astype(float), KERNELS[3])
    assert mmd(X, Y, KERNELS[3]) == pytest.approx(expected, abs=1e-12)
    assert isinstance(mmd(X, Y, KERNELS[3]), float)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: mmd(np.zeros(3), np.zeros((3, 1))), ValueError, "X must be a 2-D array"),
    (lambda: mmd(np.zeros((3, 2)), np.zeros((4, 3))), ValueError,
     "same number of columns, got X with 2 and Y with 3"),
    (lambda: mmd(np.zeros((3, 2)), np.array([[0.0, np.nan], [1, 1]])), ValueError,
     "Y contains NaN or infinity"),
    (lambda: mmd(np.zeros((1, 2)), np.zeros((4, 2))), ValueError,
     "unbiased MMD² needs at least 2 samples in X, got 1"),
    (lambda: mmd(np.zeros((4, 2)), np.zeros((1, 2)), return_grad=True), ValueError,
     "at least 2 samples in Y, got 1"),
    (lambda: mmd(np.zeros((0, 2)), np.zeros((1, 2)), unbiased=False), ValueError,
     "X is empty"),
    (lambda: mmd(np.zeros((3, 2)), np.zeros((3, 2)), kernel="imq"), TypeError,
     "kernel must be a minivae.Kernel"),
    (lambda: mmd(np.zeros((3, 2)), np.zeros((3, 2)), unbiased="yes"), TypeError,
     "unbiased must be True or False"),
    (lambda: mmd(np.zeros((3, 2)), np.zeros((3, 2)), return_grad=True, grad_Y=None), TypeError,
     "grad_Y must be True or False, got None"),
    (lambda: mmd(np.zeros((3, 2)), np.zeros((3, 2)), backend="cuda"), ValueError,
     "backend must be 'numba' or 'numpy', got 'cuda'"),
    (lambda: gaussian_kernel(gamma=-1), ValueError, "gamma must be a finite positive number, got -1.0"),
    (lambda: gaussian_kernel(bandwidth=[1.0, 0.0]), ValueError, r"bandwidth\[1\] must be a finite positive"),
    (lambda: gaussian_kernel(), ValueError, "exactly one of gamma and bandwidth"),
    (lambda: gaussian_kernel(gamma=1.0, bandwidth=1.0), ValueError, "exactly one of gamma and bandwidth"),
    (lambda: imq_kernel(C=np.inf), ValueError, "C must be a finite positive number, got inf"),
    (lambda: imq_kernel(C=[]), ValueError, "C must contain at least one value"),
    (lambda: imq_kernel(C="1"), TypeError, "C must be a number or a sequence"),
    (lambda: imq_multiscale(d_z=0), ValueError, "d_z must be a positive int, got 0"),
    (lambda: imq_multiscale(d_z=2, sigma_z=-1.0), ValueError, "sigma_z must be a finite positive"),
    (lambda: Kernel("laplace", 1.0), ValueError, "kind must be 'gaussian' or 'imq', got 'laplace'"),
    (lambda: Kernel.from_dict({"kind": "imq"}), ValueError, "exactly the keys 'kind' and 'scales'"),
])
def test_bad_input_raises_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_biased_estimator_accepts_single_samples():
    X, Y = np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]])
    # One point each: V = k(x,x) + k(y,y) − 2k(x,y) = 2 − 2·C/(C + 2) with C = 1.
    assert mmd(X, Y, imq_kernel(1.0), unbiased=False) == pytest.approx(2 - 2 / 3, abs=1e-15)


# --------------------------------------------------------------------------
# Per-point MMD² (the thesis's WAE variant): one MMD² per row, batched
# --------------------------------------------------------------------------

def _per_point_samples(seed, n, S, M, d):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, S, d)), 0.5 + 1.3 * rng.standard_normal((n, M, d))


@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
@given(seed=seeds, n=st.integers(1, 6), S=st.integers(2, 9), M=st.integers(2, 9), d=dims)
@example(seed=0, n=1, S=2, M=2, d=1)
def test_per_point_matches_its_reference_and_mmd_row_by_row(kernel, unbiased, seed, n, S, M, d):
    Z, Y = _per_point_samples(seed, n, S, M, d)
    values, grad_Z = mmd_per_point_and_grad(Z, Y, kernel, unbiased)
    ref_values, ref_grad = mmd_per_point_reference(Z, Y, kernel, unbiased)
    assert values.shape == (n,) and grad_Z.shape == (n, S, d)
    for i in range(n):
        scale = _value_scale(Z[i], Y[i], kernel, unbiased)
        assert abs(values[i] - ref_values[i]) <= 1e-10 * scale
        assert _rel_err(grad_Z[i], ref_grad[i]) < 1e-10
        # The reference is mmd_reference row by row.
        row_value, row_grad, _ = mmd_reference(Z[i], Y[i], kernel, unbiased, return_grad=True)
        assert ref_values[i] == row_value
        np.testing.assert_array_equal(ref_grad[i], row_grad)
        # A row is the single-chunk serial loop that mmd_and_grad runs on small problems.
        fast_value, fast_grad = mmd_and_grad(Z[i], Y[i], kernel, unbiased)
        assert fast_value == values[i]
        np.testing.assert_array_equal(fast_grad, grad_Z[i])
    # The binding and its row loop run as plain Python agree bitwise.
    ZT = np.ascontiguousarray(np.concatenate([Z, Y], axis=1).transpose(0, 2, 1))
    args = (ZT, S, _KINDS.index(kernel.kind), np.asarray(kernel.scales), unbiased)
    for loops in (_per_point_numba, _per_point_loops):
        other_values, other_grad = loops(*args)
        np.testing.assert_array_equal(other_values, values)
        np.testing.assert_array_equal(other_grad, grad_Z)


def test_per_point_rows_do_not_depend_on_the_other_rows():
    Z, Y = _per_point_samples(21, 50, 40, 40, 2)
    k = KERNELS[1]
    values, grad_Z = mmd_per_point_and_grad(Z, Y, k)
    for i in (0, 17, 49):
        alone_values, alone_grad = mmd_per_point_and_grad(Z[i:i + 1], Y[i:i + 1], k)
        assert alone_values[0] == values[i]
        np.testing.assert_array_equal(alone_grad[0], grad_Z[i])
    ref_values, ref_grad = mmd_per_point_reference(Z, Y, k)
    np.testing.assert_allclose(values, ref_values, rtol=0, atol=1e-12)
    assert _rel_err(grad_Z, ref_grad) < 1e-10


@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", [KERNELS[2], KERNELS[4]], ids=["gauss-2scales", "imq-multi"])
@given(seed=seeds, n=st.integers(1, 3), S=st.integers(2, 5), d=st.integers(1, 3))
def test_per_point_gradient_matches_finite_differences(kernel, unbiased, seed, n, S, d):
    Z, Y = _per_point_samples(seed, n, S, S + 1, d)
    weights = np.random.default_rng(seed).standard_normal(n)   # so that rows cannot cancel

    def func():
        values, grad_Z = mmd_per_point_and_grad(Z, Y, kernel, unbiased)
        return float(weights @ values), {"Z": weights[:, None, None] * grad_Z}

    check_gradients(func, {"Z": Z}).assert_ok(1e-6)


def test_per_point_takes_float32_and_strided_draws():
    Z, Y = _per_point_samples(22, 4, 6, 5, 2)
    k = KERNELS[3]
    expected = mmd_per_point_and_grad(Z, Y, k)
    # (S, n, d) draws, as a WAE lays out ε, viewed as (n, S, d): not contiguous.
    got = mmd_per_point_and_grad(np.ascontiguousarray(Z.transpose(1, 0, 2)).transpose(1, 0, 2), Y, k)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    v32, g32 = mmd_per_point_and_grad(Z.astype(np.float32), Y.astype(np.float32), k)
    assert v32.dtype == g32.dtype == np.float64
    np.testing.assert_allclose(v32, expected[0], atol=1e-6)


@pytest.mark.parametrize("Z_shape, Y_shape, unbiased, message", [
    ((3, 4), (3, 4, 2), True, r"Z and Y must be 3-D arrays .*got Z with shape \(3, 4\)"),
    ((3, 4, 2), (2, 4, 2), True, r"same number of rows and dimensions, got Z with shape \(3, 4, 2\) "
                                 r"and Y with shape \(2, 4, 2\)"),
    ((3, 4, 2), (3, 4, 3), True, "same number of rows and dimensions"),
    ((3, 1, 2), (3, 4, 2), True, r"unbiased MMD² needs at least 2 draws per row, got Z with shape \(3, 1, 2\)"),
    ((3, 4, 2), (3, 0, 2), False, "biased MMD² needs at least 1 draws per row"),
])
def test_per_point_bad_shapes_are_named(Z_shape, Y_shape, unbiased, message):
    Z, Y = np.zeros(Z_shape), np.ones(Y_shape)
    for func in (mmd_per_point_and_grad, mmd_per_point_reference):
        with pytest.raises(ValueError, match=message):
            func(Z, Y, KERNELS[0], unbiased)
