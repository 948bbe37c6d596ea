"""Tests of minivae._validation: every check raises the named error with a message showing the value.

The last sections sweep each kind of argument check (issue 9: flags, counts,
real numbers, paths, ragged arrays, building-block arguments) across the public
helpers that use it.
"""

import decimal
import fractions
import os
import pathlib
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae._validation import (
    NotFittedError,
    check_array,
    check_dtype,
    check_flag,
    check_hidden_sizes,
    check_is_fitted,
    check_path,
    check_positive,
    check_positive_int,
    check_probability,
    check_random_state,
    check_verbose,
)
from minivae.losses import kl_gaussians
from minivae.nn import softplus
from minivae.optim import clip_grad_norm


# ---------------------------------------------------------------------- check_array
def test_check_array_returns_contiguous_float64():
    X = np.arange(12.0).reshape(3, 4)[:, ::2]
    out = check_array(X)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, X)


@pytest.mark.parametrize("X", [
    [[1, 2], [3, 4]],
    np.array([[1, 2], [3, 4]], dtype=np.int8),
    np.array([[1, 2], [3, 4]], dtype=np.uint64),
    np.array([[True, False], [False, True]]),
])
def test_check_array_accepts_integers_and_bools(X):
    out = check_array(X)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(X, dtype=float))


def test_check_array_float32():
    assert check_array([[1, 2]], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("bad, value", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_check_array_rejects_non_finite(bad, value):
    X = np.zeros((3, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(1 non-finite value\(s\)\)"):
        check_array(X)


@pytest.mark.parametrize("X, match", [
    (np.zeros(5), r"X must be a 2-D array, got 1-D with shape \(5,\).*reshape"),
    (np.zeros((2, 3, 4)), r"X must be a 2-D array, got 3-D with shape \(2, 3, 4\)"),
    (np.float64(3.0), r"X must be a 2-D array, got 0-D"),
    (np.zeros((0, 3)), r"X is empty or too small: shape \(0, 3\)"),
    (np.zeros((3, 0)), r"X is empty or too small: shape \(3, 0\)"),
])
def test_check_array_rejects_bad_shapes(X, match):
    with pytest.raises(ValueError, match=match):
        check_array(X)


def test_check_array_min_samples_and_features():
    with pytest.raises(ValueError, match="at least 2 sample"):
        check_array(np.zeros((1, 3)), min_samples=2)
    with pytest.raises(ValueError, match="X has 3 features, but this VAE was fitted with 5"):
        check_array(np.zeros((2, 3)), n_features=5, estimator="VAE")
    with pytest.raises(ValueError, match="H has 3 features, but the model was fitted with 2"):
        check_array(np.zeros((2, 3)), name="H", n_features=2)


@pytest.mark.parametrize("X, match", [
    ("abc", "X must be a numeric array, got str"),
    (b"abc", "X must be a numeric array, got bytes"),
    ([["a", "b"], ["c", "d"]], "X must be a numeric array, got dtype <U1"),
    (np.array([[1.0, None]], dtype=object), "X must be a numeric array, got dtype object"),
    (np.ones((2, 2), dtype=complex), "X must be real-valued, got dtype complex128"),
])
def test_check_array_rejects_non_numeric(X, match):
    with pytest.raises(TypeError, match=match):
        check_array(X)


# ---------------------------------------------------------------------- random state
def test_check_random_state():
    a = check_random_state(5).standard_normal(4)
    b = check_random_state(5).standard_normal(4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, check_random_state(6).standard_normal(4))
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    assert isinstance(check_random_state(None), np.random.Generator)
    assert isinstance(check_random_state(np.int64(3)), np.random.Generator)
    with pytest.raises(ValueError, match="random_state must be a non-negative int, got -1"):
        check_random_state(-1)
    with pytest.raises(TypeError, match="got bool"):
        check_random_state(True)
    with pytest.raises(TypeError, match="got float"):
        check_random_state(1.5)
    with pytest.raises(TypeError, match="got RandomState"):
        check_random_state(np.random.RandomState(0))


# ---------------------------------------------------------------------- scalars
@given(value=st.floats(min_value=1e-300, max_value=1e300))
def test_check_positive_accepts_positive_floats(value):
    assert check_positive(value, "lr") == value


@pytest.mark.parametrize("value, match", [
    (0, "lr must be a finite positive number, got 0.0"),
    (-1, "lr must be a finite positive number, got -1.0"),
    (float("inf"), "lr must be a finite positive number, got inf"),
    (float("nan"), "lr must be a finite positive number, got nan"),
])
def test_check_positive_rejects(value, match):
    with pytest.raises(ValueError, match=match):
        check_positive(value, "lr")


def test_check_positive_zero_and_types():
    assert check_positive(0, "w", allow_zero=True) == 0.0
    with pytest.raises(ValueError, match="w must be a finite non-negative number, got -0.5"):
        check_positive(-0.5, "w", allow_zero=True)
    with pytest.raises(TypeError, match="lr must be a real number, got str"):
        check_positive("1", "lr")
    with pytest.raises(TypeError, match="got bool"):
        check_positive(True, "lr")


@pytest.mark.parametrize("value, match", [
    (0, "n_latent must be an int >= 1, got 0"),
    (-3, "n_latent must be an int >= 1, got -3"),
    (2.0, "n_latent must be an int >= 1, got 2.0"),
    (True, "n_latent must be an int >= 1, got True"),
    ("2", "n_latent must be an int >= 1, got '2'"),
])
def test_check_positive_int_rejects(value, match):
    with pytest.raises(ValueError, match=match):
        check_positive_int(value, "n_latent")


def test_check_positive_int_accepts():
    assert check_positive_int(np.int32(4), "n") == 4 and type(check_positive_int(np.int32(4), "n")) is int
    assert check_positive_int(0, "n_epochs", minimum=0) == 0


def test_check_probability():
    assert check_probability(0.3, "p") == 0.3
    assert check_probability(0.0, "p", open_interval=False) == 0.0
    for bad in (0.0, 1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=rf"p must lie in \(0, 1\), got {bad}"):
            check_probability(bad, "p")
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\), got 1.0"):
        check_probability(1.0, "p", open_interval=False)


def test_check_dtype():
    assert check_dtype("float32") is np.float32
    assert check_dtype(np.float64) is np.float64
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int64"):
        check_dtype("int64")
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got 'nonsense'"):
        check_dtype("nonsense")


def test_check_hidden_sizes():
    assert check_hidden_sizes(5) == (5,)
    assert check_hidden_sizes([4, 3]) == (4, 3)
    assert check_hidden_sizes(()) == ()
    with pytest.raises(ValueError, match=r"hidden_sizes must contain positive ints, got \(4, 0\)"):
        check_hidden_sizes((4, 0))
    with pytest.raises(ValueError, match="hidden_sizes must be an int or a sequence of ints, got 2.5"):
        check_hidden_sizes(2.5)


def test_check_is_fitted():
    class Model:
        params_ = None

    with pytest.raises(NotFittedError, match="This Model is not fitted yet; call fit"):
        check_is_fitted(Model())
    m = Model()
    m.params_ = {}
    check_is_fitted(m)
    # Catchable as either, like scikit-learn's.
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


# ====================================================================== issue 9: one check per kind
# ---------------------------------------------------------------------- flags (item 13)
@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_check_flag_accepts_real_bools(value):
    out = check_flag(value, "sample_z")
    assert type(out) is bool and out == bool(value)


@pytest.mark.parametrize("value", ["False", "True", "no", "", 0, 1, 1.0, None, np.array(True), [True]])
def test_check_flag_refuses_everything_else(value):
    with pytest.raises(TypeError, match=r"sample_z must be True or False, got .* \(\w+\)"):
        check_flag(value, "sample_z")


@pytest.mark.parametrize("value, level", [(False, 0), (True, 1), (0, 0), (2, 2), (np.int64(3), 3),
                                          (np.bool_(True), 1)])
def test_check_verbose_accepts_bools_and_levels(value, level):
    out = check_verbose(value)
    assert type(out) is int and out == level


@pytest.mark.parametrize("value, exc, match", [
    ("yes", TypeError, r"verbose must be a bool or an int >= 0, got 'yes' \(str\)"),
    (1.0, TypeError, r"got 1.0 \(float\)"),
    (None, TypeError, r"got None \(NoneType\)"),
    (-1, ValueError, "verbose must be a bool or an int >= 0, got -1"),
])
def test_check_verbose_refuses(value, exc, match):
    with pytest.raises(exc, match=match):
        check_verbose(value)


# ---------------------------------------------------------------------- paths (item 17)
class _BytesPath:
    def __fspath__(self):
        return b"model.npz"


@pytest.mark.parametrize("value", ["model.npz", pathlib.Path("a/b.npz"), pathlib.PurePosixPath("x")])
def test_check_path_accepts_text_paths(value):
    out = check_path(value, "path")
    assert isinstance(out, pathlib.Path) and str(out) == os.fspath(value)


@pytest.mark.parametrize("value, exc, match", [
    (b"model.npz", TypeError, r"path must be a str or os.PathLike path, got b'model.npz' \(bytes\)"),
    (3, TypeError, r"got 3 \(int\)"),            # an int would be taken as a file descriptor
    (None, TypeError, r"got None \(NoneType\)"),
    (["a.npz"], TypeError, r"\(list\)"),
    (np.zeros((50, 50)), TypeError, r"got array of shape \(50, 50\)"),
    (_BytesPath(), TypeError, "path must be a text path, got bytes"),
    ("", ValueError, "path must be a non-empty path"),
    ("a\0b", ValueError, "without NUL characters"),
])
def test_check_path_refuses(value, exc, match):
    with pytest.raises(exc, match=match):
        check_path(value, "path")


# ---------------------------------------------------------------------- real numbers (items 4, 17)
@pytest.mark.parametrize("value", [3, 2.5, np.float32(0.5), np.float64(1e-300), np.int64(7), np.uint8(1)])
def test_check_positive_returns_python_floats(value):
    out = check_positive(value, "lr")
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value, name", [
    (fractions.Fraction(1, 1000), "Fraction"), (decimal.Decimal("0.001"), "Decimal"), ("1e-3", "str"),
    (1e-3 + 0j, "complex"), (True, "bool"), (np.bool_(True), "bool"), (None, "NoneType"),
    (np.array(0.1), "ndarray"), ([0.1], "list"),
])
@pytest.mark.parametrize("check", [check_positive, check_probability])
def test_real_checks_refuse_other_types(check, value, name):
    with pytest.raises(TypeError, match=rf"lr must be a real number, got {name}"):
        check(value, "lr")


@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 400), np.inf, np.float32(np.nan)])
def test_check_positive_refuses_non_finite_and_huge_ints(value):
    with pytest.raises(ValueError, match="lr must be a finite positive number"):
        check_positive(value, "lr")


@pytest.mark.parametrize("value", [fractions.Fraction(4, 1), np.bool_(True), 4.0, np.float64(4), "4", None,
                                   np.array(4), decimal.Decimal(4)])
def test_check_positive_int_refuses_non_integers(value):
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got"):
        check_positive_int(value, "batch_size")


def test_messages_never_print_a_whole_array():
    for check in (check_positive_int, check_positive, check_flag, check_verbose, check_path):
        with pytest.raises((TypeError, ValueError)) as info:
            check(np.zeros((100, 100)), "arg")
        assert "array of shape (100, 100)" in str(info.value) and len(str(info.value)) < 200
    with pytest.raises(ValueError) as info:
        check_hidden_sizes(list(range(-1, 1000)))
    assert len(str(info.value)) < 200


# ---------------------------------------------------------------------- arrays (item 14)
@pytest.mark.parametrize("X", [
    [[1, 2, 3], [1]],
    [[1], [1, 2]],
    [[[1, 2], [3]]],
    [[1.0, 2.0], 3.0],
    [np.zeros(3), np.zeros(2)],
])
def test_check_array_refuses_ragged_input_clearly(X):
    with pytest.raises(ValueError, match="X must be a rectangular array, but its rows have different lengths"):
        check_array(X)


@pytest.mark.parametrize("X, match", [
    ([[1, None]], "dtype object"),
    ([[1.0, "2"]], "dtype <U"),
    (np.array([["2020-01-01"]], dtype="datetime64[D]"), "dtype datetime64"),
    (np.array([[1, 2]], dtype="timedelta64[s]"), "dtype timedelta64"),
    (np.ones((2, 2), dtype=np.complex64), "real-valued, got dtype complex64"),
    ([[1 + 2j, 3]], "real-valued"),
    ([[10 ** 400, 1]], "dtype object"),
])
def test_check_array_refuses_non_numeric_and_complex(X, match):
    with pytest.raises(TypeError, match=match):
        check_array(X)


def test_check_array_reports_overflow_on_conversion_without_a_warning():
    X = np.array([[1.0, 1e300]], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X contains NaN or infinity \(1 non-finite"):
            check_array(X, dtype=np.float32)


# ---------------------------------------------------------------------- public helpers (item 17)
def test_clip_grad_norm_refuses_a_bad_max_norm_and_leaves_gradients_alone():
    for bad, exc in [(-1.0, ValueError), (0.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
                     ("1", TypeError), (True, TypeError), (None, TypeError)]:
        grads = {"a": np.array([3.0, 4.0])}
        with pytest.raises(exc, match="max_norm must be"):
            clip_grad_norm(grads, bad)
        np.testing.assert_array_equal(grads["a"], [3.0, 4.0])
    grads = {"a": np.array([3.0, 4.0])}
    assert clip_grad_norm(grads, np.float32(1.0)) == 5.0
    np.testing.assert_allclose(grads["a"], [0.6, 0.8])


def test_kl_gaussians_refuses_what_cholesky_would_silently_change():
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    m = np.zeros(2)
    skew = S + np.array([[0.0, 1e-3], [0.0, 0.0]])
    for args, match in [
        ((m, skew, m, S), r"Sigma1 must be symmetric, but max \|Sigma1 − Sigma1ᵀ\| = 0.001"),
        ((m, S, m, skew), "Sigma2 must be symmetric"),
        ((m, np.array([[1.0, np.nan], [np.nan, 1.0]]), m, S), "Sigma1 contains NaN or infinity"),
        ((np.array([0.0, np.inf]), S, m, S), "mu1 contains NaN or infinity"),
        ((0.0, 1.0, 0.0, 1.0), "shapes do not match"),
        ((np.zeros((1, 2)), S, np.zeros((1, 2)), S), "shapes do not match"),
        ((m, -S, m, S), "positive definite"),
    ]:
        with pytest.raises(ValueError, match=match):
            kl_gaussians(*args)
    # Rounding-level asymmetry (a covariance computed as A Aᵀ) is accepted.
    A = np.random.default_rng(0).standard_normal((3, 3))
    C = A @ A.T + np.eye(3)
    C[0, 1] += 1e-15
    assert kl_gaussians(np.zeros(3), C, np.zeros(3), C) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint64, np.int8, np.int64, bool])
def test_softplus_computes_integers_in_float(dtype):
    a = np.array([0, 1, 2, 100], dtype=dtype) if dtype is not bool else np.array([False, True])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = softplus(a)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.logaddexp(0.0, a.astype(np.float64)), rtol=1e-15)
    assert softplus(np.float32([1.0])).dtype == np.float32
