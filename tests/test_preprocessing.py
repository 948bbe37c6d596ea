"""Tests for minivae.preprocessing.Standardizer: statistics, log1p by index or name, constants, errors."""

import numpy as np
import pytest

from minivae import datasets
from minivae._validation import NotFittedError
from minivae.preprocessing import Standardizer


def test_zero_mean_unit_std_and_round_trip():
    rng = np.random.default_rng(0)
    X = rng.normal([1.0, -2.0, 50.0], [0.5, 3.0, 10.0], size=(200, 3))
    sc = Standardizer().fit(X)
    Z = sc.transform(X)
    np.testing.assert_allclose(Z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(Z), X, rtol=1e-12, atol=1e-12)
    # statistics from the fitting data are applied unchanged to new data
    X2 = X[:10] + 1.0
    np.testing.assert_allclose(sc.transform(X2), (X2 - X.mean(0)) / X.std(0), rtol=1e-12)
    assert not sc.constant_.any()
    # the input is never modified
    X_copy = X.copy()
    sc.fit_transform(X)
    np.testing.assert_array_equal(X, X_copy)


def test_log1p_columns_and_constant_column():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.exponential(1000.0, 300), rng.normal(size=300), np.full(300, 7.0)])
    sc = Standardizer(log1p_columns=[0]).fit(X)
    L = np.log1p(X[:, 0])
    np.testing.assert_allclose(sc.transform(X)[:, 0], (L - L.mean()) / L.std(), rtol=1e-12)
    # a constant column maps to 0 instead of dividing by a zero std
    np.testing.assert_array_equal(sc.transform(X)[:, 2], 0.0)
    assert sc.scale_[2] == 1.0
    np.testing.assert_array_equal(sc.constant_, [False, False, True])
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(X)), X, rtol=1e-10)
    assert sc.get_params() == {"log1p_columns": [0], "feature_names": None, "rtol": 1e-12}
    assert sc.set_params(log1p_columns=()) is sc


@pytest.mark.parametrize("base", [15.0, 0.1 + 0.2, 1e6, -3.5e-8, 123456.789])
def test_near_constant_column_is_constant_relative_to_its_magnitude(base):
    # a spread of one or a few rounding errors: exact equality misses it
    col = np.array([base, np.nextafter(base, np.inf), base, np.nextafter(np.nextafter(base, -np.inf), -np.inf)])
    assert np.ptp(col) > 0
    X = np.column_stack([col, np.arange(4.0)])
    sc = Standardizer().fit(X)
    assert sc.constant_[0] and sc.scale_[0] == 1.0
    # a new value transforms to its distance from the mean, not to ~1e14
    new = sc.transform([[base + 15.0, 0.0]])[0, 0]
    assert abs(new - 15.0) < 1e-6 * max(1.0, abs(base))


def test_small_but_real_spread_is_scaled():
    # tiny values, but a spread as large as they are: a real column, not a constant
    col = np.array([1e-300, 2e-300, 3e-300, 4e-300])
    sc = Standardizer().fit(np.column_stack([col, col * 1e5]))
    assert not sc.constant_.any()
    np.testing.assert_allclose(sc.transform(col[:, None].repeat(2, 1) * [1, 1e5]).std(0), 1.0)
    # rtol is the documented knob: a spread of 1e-9 relative counts as constant under rtol=1e-6
    X = np.column_stack([1.0 + 1e-9 * np.arange(5), np.arange(5.0)])
    assert not Standardizer().fit(X).constant_[0]
    assert Standardizer(rtol=1e-6).fit(X).constant_[0]


def test_log1p_columns_by_name():
    rng = np.random.default_rng(2)
    names = datasets.KDD_THESIS_FEATURES
    X = rng.exponential(50.0, size=(100, len(names)))
    by_name = Standardizer(log1p_columns=datasets.KDD_HEAVY_TAILED_FEATURES, feature_names=names).fit(X)
    by_index = Standardizer(log1p_columns=(0, 1, 2)).fit(X)
    assert by_name.log1p_indices_ == (0, 1, 2)
    assert by_name.feature_names_in_ == names
    np.testing.assert_array_equal(by_name.transform(X), by_index.transform(X))
    # names and indices may be mixed; order does not matter
    mixed = Standardizer(log1p_columns=("dst_bytes", 0), feature_names=names).fit(X)
    assert mixed.log1p_indices_ == (2, 0)
    np.testing.assert_allclose(mixed.transform(X), Standardizer(log1p_columns=(0, 2)).fit(X).transform(X),
                               rtol=0, atol=1e-13)
    # refitting without names forgets them
    by_name.set_params(feature_names=None, log1p_columns=(1,)).fit(X)
    assert not hasattr(by_name, "feature_names_in_")


def test_log1p_error_names_the_column():
    X = np.column_stack([np.arange(4.0), np.arange(4.0) - 5.0])
    with pytest.raises(ValueError, match=r"column 1 \('b'\) holds values <= -1"):
        Standardizer(log1p_columns=["b"], feature_names=["a", "b"]).fit(X)
    sc = Standardizer(log1p_columns=[0]).fit(X)
    with pytest.raises(ValueError, match="column 0 holds values <= -1"):
        sc.transform(X - 10.0)


def test_inverse_transform_overflow_gives_inf_without_warning():
    sc = Standardizer(log1p_columns=[0]).fit(np.array([[0.0], [1.0], [2.0]]))
    out = sc.inverse_transform([[1e6]])
    assert out[0, 0] == np.inf


@pytest.mark.parametrize("kwargs, fit_X, exc, match", [
    (dict(log1p_columns=[3]), None, ValueError, r"column indices in \[0, 3\) or names"),
    (dict(log1p_columns=[-1]), None, ValueError, r"column indices in \[0, 3\)"),
    (dict(log1p_columns=[True]), None, ValueError, r"column indices in \[0, 3\)"),
    (dict(log1p_columns=[1.0]), None, ValueError, r"column indices in \[0, 3\)"),
    (dict(log1p_columns="0"), None, ValueError, "got the string '0'"),
    (dict(log1p_columns=5), None, ValueError, "sequence of column indices or names"),
    (dict(log1p_columns=[0, 0]), None, ValueError, "lists a column twice"),
    (dict(log1p_columns=["a", 0], feature_names=["a", "b", "c"]), None, ValueError, "lists a column twice"),
    (dict(log1p_columns=["src_bytes"]), None, ValueError, "no feature_names were given"),
    (dict(log1p_columns=["x"], feature_names=["a", "b", "c"]), None, ValueError,
     "'x' is not one of the feature_names"),
    (dict(feature_names=["a", "b"]), None, ValueError, "feature_names has 2 names, but X has 3 columns"),
    (dict(feature_names="abc"), None, ValueError, "got the string 'abc'"),
    (dict(feature_names=["a", "a", "b"]), None, ValueError, "must be unique"),
    (dict(feature_names=[1, 2, 3]), None, ValueError, "must hold strings"),
    (dict(rtol=-1.0), None, ValueError, "rtol must be a finite non-negative number, got -1.0"),
    (dict(rtol="1e-9"), None, TypeError, "rtol must be a real number"),
    (dict(), np.full((2, 3), np.nan), ValueError, "NaN or infinity"),
    (dict(), np.zeros(3), ValueError, "must be a 2-D array"),
])
def test_fit_errors(kwargs, fit_X, exc, match):
    X = np.arange(12.0).reshape(4, 3) if fit_X is None else fit_X
    with pytest.raises(exc, match=match):
        Standardizer(**kwargs).fit(X)


def test_use_errors():
    X = np.arange(12.0).reshape(4, 3)
    with pytest.raises(NotFittedError, match="not fitted"):
        Standardizer().transform(X)
    with pytest.raises(NotFittedError, match="not fitted"):
        Standardizer().inverse_transform(X)
    sc = Standardizer().fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but this Standardizer was fitted with 3"):
        sc.transform(X[:, :2])
    with pytest.raises(ValueError, match="Z has 4 features, but this Standardizer was fitted with 3"):
        sc.inverse_transform(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        sc.transform(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="invalid parameter 'scale'"):
        sc.set_params(scale=2)


def test_datasets_reexport_is_the_same_class():
    assert datasets.Standardizer is Standardizer
