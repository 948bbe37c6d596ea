"""Tests of minivae._validation: every check raises the named error with a message showing the value."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae._validation import (
    NotFittedError,
    check_array,
    check_dtype,
    check_hidden_sizes,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_probability,
    check_random_state,
)


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
