"""Tests of minivae.gradcheck: it accepts right gradients, catches wrong ones and says where."""

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minivae.gradcheck
from minivae.gradcheck import GradCheckResult, check_gradients, numerical_gradient
from tests.strategies import seeds, small_dims


def _cubic(arrays):
    """L = Σ w³ + Σ (A x)², with its exact gradients."""
    w, A, x = arrays["w"], arrays["A"], arrays["x"]

    def func():
        y = A @ x
        loss = float(np.sum(w ** 3) + np.sum(y ** 2))
        return loss, {"w": 3 * w ** 2, "A": 2 * np.outer(y, x), "x": 2 * A.T @ y}

    return func


def _arrays(seed, m, n):
    rng = np.random.default_rng(seed)
    return {"w": rng.standard_normal(m), "A": rng.standard_normal((m, n)), "x": rng.standard_normal(n)}


@given(seed=seeds, m=small_dims, n=small_dims)
def test_accepts_correct_gradients_and_restores_arrays(seed, m, n):
    arrays = _arrays(seed, m, n)
    before = {k: v.copy() for k, v in arrays.items()}
    result = check_gradients(_cubic(arrays), arrays)
    assert isinstance(result, GradCheckResult)
    assert result.max_rel_error < 1e-7
    assert result.assert_ok(1e-6) is result
    assert result.n_checked == m + m * n + n
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], before[k])


@given(seed=seeds, m=small_dims, n=small_dims, data=st.data())
def test_catches_a_wrong_entry_and_names_it(seed, m, n, data):
    arrays = _arrays(seed, m, n)
    good = _cubic(arrays)
    i = data.draw(st.integers(0, m - 1))
    j = data.draw(st.integers(0, n - 1))

    def bad():
        loss, grads = good()
        grads["A"][i, j] += 0.5  # a backprop bug in one entry
        return loss, grads

    result = check_gradients(bad, arrays)
    assert result.name == "A" and result.index == (i, j)
    assert result.analytic - result.numeric == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(AssertionError, match=rf"at A\[{i}, {j}\]: analytic .* numeric"):
        result.assert_ok(1e-6)


def test_catches_a_sign_error():
    w = np.array([0.3, -1.2])

    def func():
        return float(np.sum(np.sin(w))), {"w": -np.cos(w)}

    result = check_gradients(func, {"w": w})
    assert result.max_rel_error > 0.1
    assert "w[" in str(result)


def test_relative_error_definition():
    """max|a − n| / max(1, |a| + |n|): absolute for small gradients, relative for large ones."""
    w = np.array([2.0])

    def func():
        return float(1e4 * w[0] ** 2), {"w": np.array([1.001 * 2e4 * w[0]])}

    result = check_gradients(func, {"w": w})
    assert result.max_rel_error == pytest.approx(0.001 * 4e4 / (4e4 + 4.004e4), rel=1e-4)


def test_names_selects_a_subset():
    arrays = _arrays(0, 2, 3)
    result = check_gradients(_cubic(arrays), arrays, names=["x"])
    assert result.n_checked == 3


def test_rejects_float32_and_wrong_shapes():
    w32 = np.ones(2, dtype=np.float32)
    with pytest.raises(TypeError, match="need float64 arrays; w is float32"):
        check_gradients(lambda: (0.0, {"w": w32}), {"w": w32})
    w = np.ones(3)
    with pytest.raises(ValueError, match=r"gradient of w has shape \(2,\), expected \(3,\)"):
        check_gradients(lambda: (0.0, {"w": np.ones(2)}), {"w": w})


def test_numerical_gradient_matches_known_derivative_and_needs_contiguous_arrays():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    g = numerical_gradient(lambda: float(np.sum(np.exp(x))), x)
    np.testing.assert_allclose(g, np.exp(x), rtol=1e-8)
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: 0.0, np.ones((3, 4)).T)


def test_module_docstring_example_runs():
    failures, _ = doctest.testmod(minivae.gradcheck, verbose=False)
    assert failures == 0
