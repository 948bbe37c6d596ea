"""Tests of minivae.losses: values against independent formulas, gradients against central differences."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import log_softmax

from minivae.gradcheck import check_gradients
from minivae.losses import (
    bernoulli_nll,
    categorical_nll,
    contractive_penalty,
    gaussian_nll,
    kl_diagonal_gaussians,
    kl_gaussians,
    kl_standard_normal,
    sparsity_penalty,
)
from minivae.nn import Dense, sigmoid
from tests.strategies import batch_sizes, seeds, small_dims

sigma2s = st.floats(min_value=0.05, max_value=20.0)


# ---------------------------------------------------------------------- Gaussian NLL
@given(seed=seeds, n=batch_sizes, d=small_dims, sigma2=sigma2s, constant=st.booleans())
def test_gaussian_nll_gradient(seed, n, d, sigma2, constant):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x_hat = rng.standard_normal((n, d))

    def func():
        nll, d_x_hat = gaussian_nll(x, x_hat, sigma2, include_constant=constant)
        return float(nll.sum()), {"x_hat": d_x_hat}

    check_gradients(func, {"x_hat": x_hat}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, d=small_dims, sigma2=sigma2s)
def test_gaussian_nll_value_matches_scipy(seed, n, d, sigma2):
    rng = np.random.default_rng(seed)
    x, x_hat = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    exact = -stats.norm.logpdf(x, loc=x_hat, scale=np.sqrt(sigma2)).sum(axis=1)
    nll, _ = gaussian_nll(x, x_hat, sigma2, include_constant=True)
    assert nll.shape == (n,)
    np.testing.assert_allclose(nll, exact, rtol=1e-12, atol=1e-12)
    # Without the constant only the (d/2) ln 2πω² term is dropped.
    bare, _ = gaussian_nll(x, x_hat, sigma2)
    np.testing.assert_allclose(bare, exact - 0.5 * d * np.log(2 * np.pi * sigma2), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bare, 0.5 * ((x - x_hat) ** 2).sum(axis=1) / sigma2, rtol=1e-13)


# ---------------------------------------------------------------------- Bernoulli NLL
@given(seed=seeds, n=batch_sizes, d=small_dims)
def test_bernoulli_nll_gradient(seed, n, d):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))  # any value in [0, 1], not only 0/1
    logits = 2.0 * rng.standard_normal((n, d))

    def func():
        nll, d_logits = bernoulli_nll(x, logits)
        return float(nll.sum()), {"logits": d_logits}

    check_gradients(func, {"logits": logits}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, d=small_dims)
def test_bernoulli_nll_value_matches_direct_formula(seed, n, d):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    logits = 3.0 * rng.standard_normal((n, d))
    p = 1.0 / (1.0 + np.exp(-logits))
    direct = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    nll, _ = bernoulli_nll(x, logits)
    np.testing.assert_allclose(nll, direct, rtol=1e-10, atol=1e-12)


def test_bernoulli_nll_is_stable_at_extreme_logits():
    logits = np.array([[1000.0, 1000.0, -1000.0, -1000.0]])
    x = np.array([[1.0, 0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            nll, d_logits = bernoulli_nll(x, logits)
            per_entry = np.array([bernoulli_nll(x[:, [j]], logits[:, [j]])[0][0] for j in range(4)])
    # Confident and right costs 0; confident and wrong costs |logit|.
    np.testing.assert_array_equal(per_entry, [0.0, 1000.0, 0.0, 1000.0])
    assert nll[0] == 2000.0
    np.testing.assert_array_equal(d_logits, [[0.0, 1.0, 0.0, -1.0]])


# ---------------------------------------------------------------------- categorical NLL
@given(seed=seeds, n=batch_sizes, n_pos=st.integers(1, 3), n_classes=st.integers(2, 4))
def test_categorical_nll_gradient_and_value(seed, n, n_pos, n_classes):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=(n, n_pos))
    x = np.eye(n_classes)[labels].reshape(n, n_pos * n_classes)
    logits = 2.0 * rng.standard_normal((n, n_pos * n_classes))

    def func():
        nll, d_logits = categorical_nll(x, logits, n_classes)
        return float(nll.sum()), {"logits": d_logits}

    check_gradients(func, {"logits": logits}).assert_ok(1e-6)

    nll, _ = categorical_nll(x, logits, n_classes)
    lg = logits.reshape(n, n_pos, n_classes)
    p = np.exp(lg) / np.exp(lg).sum(axis=-1, keepdims=True)
    direct = -np.log(np.take_along_axis(p, labels[..., None], axis=-1)).sum(axis=(1, 2))
    np.testing.assert_allclose(nll, direct, rtol=1e-12)


def test_categorical_nll_is_stable_at_extreme_logits():
    logits = np.array([[1000.0, 0.0, -1000.0, 0.0, 900.0, 1000.0]])
    x = np.array([[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nll, d_logits = categorical_nll(x, logits, 3)
    expected = -(log_softmax(logits.reshape(2, 3), axis=1) * x.reshape(2, 3)).sum()
    np.testing.assert_allclose(nll, [expected], rtol=1e-12)
    assert np.all(np.isfinite(d_logits))


# ---------------------------------------------------------------------- Gaussian KLs
@given(seed=seeds, n=batch_sizes, k=small_dims)
def test_kl_standard_normal_gradient(seed, n, k):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((n, k))
    log_sigma = 0.7 * rng.standard_normal((n, k))

    def func():
        kl, d_mu, d_log_sigma = kl_standard_normal(mu, log_sigma)
        return float(kl.sum()), {"mu": d_mu, "log_sigma": d_log_sigma}

    check_gradients(func, {"mu": mu, "log_sigma": log_sigma}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, k=small_dims)
def test_kl_standard_normal_treats_log_sigma_as_log_std(seed, n, k):
    """Pin the convention: log_sigma is ln σ (standard deviation), so Σ = diag(exp(2 log_sigma))."""
    rng = np.random.default_rng(seed)
    mu, log_sigma = rng.standard_normal((n, k)), 0.7 * rng.standard_normal((n, k))
    kl, _, _ = kl_standard_normal(mu, log_sigma)
    for i in range(n):
        full = kl_gaussians(mu[i], np.diag(np.exp(2 * log_sigma[i])), np.zeros(k), np.eye(k))
        np.testing.assert_allclose(kl[i], full, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kl, kl_diagonal_gaussians(mu, log_sigma, 0 * mu, 0 * mu), rtol=1e-12, atol=1e-14)
    assert np.all(kl >= 0)
    assert np.all(kl_standard_normal(np.zeros((2, k)), np.zeros((2, k)))[0] == 0)


@given(seed=seeds, k=small_dims)
def test_kl_gaussians_full_matches_diagonal_formula(seed, k):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    ls1, ls2 = 0.6 * rng.standard_normal(k), 0.6 * rng.standard_normal(k)
    full = kl_gaussians(mu1, np.diag(np.exp(2 * ls1)), mu2, np.diag(np.exp(2 * ls2)))
    diag = kl_diagonal_gaussians(mu1, ls1, mu2, ls2)
    np.testing.assert_allclose(full, diag, rtol=1e-10, atol=1e-12)
    assert kl_gaussians(mu1, np.diag(np.exp(2 * ls1)), mu1, np.diag(np.exp(2 * ls1))) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kl_gaussians_matches_monte_carlo(seed):
    """KL = E_p[ln p(x) − ln q(x)], estimated from 20,000 draws, within 4 standard errors."""
    rng = np.random.default_rng(seed)
    k = 3
    A1, A2 = rng.standard_normal((k, k)), rng.standard_normal((k, k))
    Sigma1, Sigma2 = A1 @ A1.T + 0.5 * np.eye(k), A2 @ A2.T + 0.5 * np.eye(k)
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    x = rng.multivariate_normal(mu1, Sigma1, size=20_000)
    log_ratio = (stats.multivariate_normal.logpdf(x, mu1, Sigma1)
                 - stats.multivariate_normal.logpdf(x, mu2, Sigma2))
    estimate, se = log_ratio.mean(), log_ratio.std(ddof=1) / np.sqrt(x.shape[0])
    kl = kl_gaussians(mu1, Sigma1, mu2, Sigma2)
    assert abs(kl - estimate) < 4 * se
    # KL is not symmetric: the reverse direction is a different number.
    assert abs(kl_gaussians(mu2, Sigma2, mu1, Sigma1) - kl) > 1e-3


def test_kl_gaussians_rejects_bad_input():
    with pytest.raises(ValueError, match="shapes do not match"):
        kl_gaussians(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        kl_gaussians(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))


# ---------------------------------------------------------------------- sparsity
@given(seed=seeds, n=batch_sizes, k=small_dims, p=st.floats(0.01, 0.5))
def test_sparsity_penalty_gradient(seed, n, k, p):
    rng = np.random.default_rng(seed)
    h = sigmoid(1.5 * rng.standard_normal((n, k)))

    def func():
        omega, d_h = sparsity_penalty(h, p)
        return omega, {"h": d_h}

    check_gradients(func, {"h": h}).assert_ok(1e-6)


@given(seed=seeds, k=small_dims, p=st.floats(0.01, 0.5))
def test_sparsity_penalty_value(seed, k, p):
    rng = np.random.default_rng(seed)
    h = sigmoid(rng.standard_normal((6, k)))
    p_hat = h.mean(axis=0)
    # KL between Bernoulli(p) and Bernoulli(p̂_i), summed over units.
    direct = sum(stats.entropy([p, 1 - p], [q, 1 - q]) for q in p_hat)
    omega, _ = sparsity_penalty(h, p)
    assert omega == pytest.approx(direct, rel=1e-10)
    # Zero exactly when every unit's mean activation equals the target.
    assert sparsity_penalty(np.full((4, k), p), p)[0] == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparsity_penalty_finite_for_saturated_units(dtype):
    h = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        omega, d_h = sparsity_penalty(h, 0.05)
    assert np.isfinite(omega) and omega > 10
    assert np.all(np.isfinite(d_h))


# ---------------------------------------------------------------------- contractive
@given(seed=seeds, n=batch_sizes, k=small_dims, d=small_dims)
def test_contractive_penalty_partial_gradients(seed, n, k, d):
    """d_h and d_W are the partial derivatives of Σ_n penalty_n(h, W) with h and W independent."""
    rng = np.random.default_rng(seed)
    h = sigmoid(rng.standard_normal((n, k)))
    W = rng.standard_normal((k, d))

    def func():
        penalty, d_h, d_W = contractive_penalty(h, W)
        return float(penalty.sum()), {"h": d_h, "W": d_W}

    check_gradients(func, {"h": h, "W": W}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, k=small_dims, d=small_dims)
def test_contractive_penalty_through_sigmoid_layer(seed, n, k, d):
    """Total gradient of Σ ‖∂h/∂x‖² w.r.t. W, b and x when h = σ(Wx + b): explicit part plus backprop."""
    rng = np.random.default_rng(seed)
    layer = Dense(d, k, "sigmoid")
    params = layer.init_params(rng)
    params["b"][...] = rng.standard_normal(k)
    x = rng.standard_normal((n, d))

    def func():
        h, cache = layer.forward(x)
        penalty, d_h, d_W = contractive_penalty(h, params["W"])
        dx, grads = layer.backward(d_h, cache)
        return float(penalty.sum()), {"W": grads["W"] + d_W, "b": grads["b"], "x": dx}

    check_gradients(func, {"W": params["W"], "b": params["b"], "x": x}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, k=small_dims, d=small_dims)
def test_contractive_penalty_is_squared_frobenius_norm_of_jacobian(seed, n, k, d):
    rng = np.random.default_rng(seed)
    W, b = rng.standard_normal((k, d)), rng.standard_normal(k)
    x = rng.standard_normal((n, d))

    def encode(xi):
        return 1.0 / (1.0 + np.exp(-(W @ xi + b)))

    h = np.array([encode(xi) for xi in x])
    penalty, _, _ = contractive_penalty(h, W)
    step = 1e-5
    for i in range(n):
        J = np.empty((k, d))
        for j in range(d):
            e = np.zeros(d)
            e[j] = step
            J[:, j] = (encode(x[i] + e) - encode(x[i] - e)) / (2 * step)
        np.testing.assert_allclose(penalty[i], np.sum(J * J), rtol=1e-7, atol=1e-10)
