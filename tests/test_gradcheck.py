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


# ---------------------------------------------------------------------- checks it cannot make
# A check that meets NaN or infinity must fail (never report 0 error), naming the entry.
def _cube(w):
    return float(np.sum(w ** 3)), {"w": 3 * w ** 2}


def _nan_grad_at_1(w):
    g = 3 * w ** 2
    g[1] = np.nan
    return float(np.sum(w ** 3)), {"w": g}


def _inf_grad_at_0(w):
    g = 3 * w ** 2
    g[0] = np.inf
    return float(np.sum(w ** 3)), {"w": g}


def _nan_loss_when_w2_moves_up(w):
    # Finite at the unperturbed point, NaN at θ + h e_2: the difference at w[2] is NaN.
    loss = float(np.sum(w ** 3)) if w[2] <= 0.5 else float("nan")
    return loss, {"w": 3 * w ** 2}


def _inf_loss_on_both_sides_of_w0(w):
    # inf − inf at w[0] only.
    loss = float(np.sum(w ** 3)) if w[0] == -1.0 else float("inf")
    return loss, {"w": 3 * w ** 2}


def _huge_difference_at_w1(w):
    # Both losses finite, but their difference overflows: (1e308 − (−1e308)) / 2h = inf.
    if w[1] == 0.25:
        return float(np.sum(w ** 3)), {"w": 3 * w ** 2}
    return (1e308 if w[1] > 0.25 else -1e308), {"w": 3 * w ** 2}


@pytest.mark.parametrize("make, name_index", [
    (_nan_grad_at_1, (1,)),
    (_inf_grad_at_0, (0,)),
    (_nan_loss_when_w2_moves_up, (2,)),
    (_inf_loss_on_both_sides_of_w0, (0,)),
    (_huge_difference_at_w1, (1,)),
], ids=["nan-gradient", "inf-gradient", "nan-perturbed-loss", "inf-minus-inf", "overflowing-difference"])
def test_non_finite_entries_fail_and_are_named(make, name_index):
    w = np.array([-1.0, 0.25, 0.5])
    before = w.copy()
    result = check_gradients(lambda: make(w), {"w": w})
    assert result.max_rel_error == np.inf
    assert result.name == "w" and result.index == name_index
    assert result.n_checked == 3
    with pytest.raises(AssertionError, match=rf"non-finite value at w\[{name_index[0]}\]"):
        result.assert_ok(1e-6)
    with pytest.raises(AssertionError):
        result.assert_ok(1e300)
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_unperturbed_loss_raises(loss):
    w = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=f"loss at the unperturbed arrays is {loss}"):
        check_gradients(lambda: (loss, {"w": 3 * w ** 2}), {"w": w})


@pytest.mark.parametrize("eps, exc, match", [
    (float("nan"), ValueError, "eps must be a finite positive number, got nan"),
    (float("inf"), ValueError, "eps must be a finite positive number, got inf"),
    (0.0, ValueError, "eps must be a finite positive number, got 0.0"),
    (-1e-6, ValueError, "eps must be a finite positive number"),
    ("1e-6", TypeError, "eps must be a real number, got str"),
    (True, TypeError, "eps must be a real number, got bool"),
    (1j, TypeError, "eps must be a real number, got complex"),
])
@pytest.mark.parametrize("entry", ["check_gradients", "numerical_gradient"])
def test_eps_must_be_finite_and_positive(entry, eps, exc, match):
    w = np.array([1.0, 2.0])
    with pytest.raises(exc, match=match):
        if entry == "check_gradients":
            check_gradients(lambda: _cube(w), {"w": w}, eps=eps)
        else:
            numerical_gradient(lambda: _cube(w)[0], w, eps=eps)
    np.testing.assert_array_equal(w, [1.0, 2.0])


@pytest.mark.parametrize("arrays, names, match", [
    ({}, None, "nothing to check: the selection of arrays is empty"),
    ({"w": np.ones(2)}, [], "nothing to check: the selection of arrays is empty"),
    ({"w": np.ones(2)}, (), "nothing to check"),
    ({"w": np.ones(0)}, None, r"nothing to check: the selected arrays \['w'\] have no entries"),
    ({"w": np.ones((3, 0)), "v": np.ones(2)}, ["w"], "have no entries"),
    ({"w": np.ones(2)}, ["v"], r"'v' is not one of the arrays \['w'\]"),
])
def test_empty_or_unknown_selection_raises(arrays, names, match):
    with pytest.raises(ValueError, match=match):
        check_gradients(lambda: (0.0, {k: np.zeros_like(v) for k, v in arrays.items()}), arrays, names=names)


def test_selection_by_one_name_and_duplicates_count_once():
    arrays = _arrays(0, 2, 3)
    assert check_gradients(_cubic(arrays), arrays, names="x").n_checked == 3
    assert check_gradients(_cubic(arrays), arrays, names=["x", "x", "w"]).n_checked == 5


@pytest.mark.parametrize("func, exc, match", [
    (lambda w: (0.0, {}), ValueError, r"returned no gradient for 'w'"),
    (lambda w: 0.0, TypeError, r"must return a tuple \(loss, grads\)"),
    (lambda w: (np.ones(2), {"w": w}), TypeError, "must return a scalar loss, got ndarray"),
    (lambda w: ("abc", {"w": w}), TypeError, "must return a scalar loss, got str"),
])
def test_malformed_func_output_raises(func, exc, match):
    w = np.array([1.0, 2.0])
    with pytest.raises(exc, match=match):
        check_gradients(lambda: func(w), {"w": w})


def test_arrays_are_restored_when_func_raises_midway():
    w = np.array([1.0, 2.0])
    calls = []

    def func():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return _cube(w)

    with pytest.raises(RuntimeError, match="boom"):
        check_gradients(func, {"w": w})
    np.testing.assert_array_equal(w, [1.0, 2.0])


@pytest.mark.parametrize("tol", [float("nan"), 0.0, -1.0, "1e-6"])
def test_assert_ok_rejects_a_meaningless_tolerance(tol):
    w = np.array([1.0, 2.0])
    result = check_gradients(lambda: _cube(w), {"w": w})
    with pytest.raises((ValueError, TypeError), match="tol must be"):
        result.assert_ok(tol)


def test_rejects_non_arrays_and_read_only_arrays():
    with pytest.raises(TypeError, match="need float64 arrays; w is list"):
        check_gradients(lambda: (0.0, {"w": [1.0]}), {"w": [1.0]})
    with pytest.raises(TypeError, match="arrays must be a dict"):
        check_gradients(lambda: (0.0, {}), [np.ones(2)])
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        check_gradients(lambda: _cube(w), {"w": w})
