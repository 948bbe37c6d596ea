"""Tests for minivae.bayes: regression, Bayesian linear regression, the VB examples.

Each closed form is checked against a computation that does not share its
algebra: numerical integration on a grid or with quad, Gaussian conditioning
of the joint (w, t), Monte Carlo, finite differences, or a fixed point solved
by hand.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from minivae._validation import NotFittedError
from minivae.bayes import (
    BayesianLinearRegression,
    _normal_gamma_elbo_unconstrained,
    design_matrix,
    fit_normal_gamma_adam,
    fit_normal_gamma_cavi,
    kl_normal,
    least_squares,
    log_evidence,
    normal_gamma_elbo,
    normal_gamma_predictive,
    normal_mean_elbo,
    normal_mean_log_evidence,
    normal_mean_posterior,
    polynomial_features,
    predictive_distribution,
    sigmoid_features,
    sum_of_squares,
    weight_posterior,
)
from minivae.gradcheck import check_gradients
from tests.strategies import normal_array, seeds, small_dims

THESIS_OPTIMUM = (4.8, 0.96, 0.5, 12.0)  # thesis, after (2.24): (m_hat, S, gamma, delta) for d = 5
precisions = st.floats(min_value=0.05, max_value=20.0)


def _regression_problem(seed, n, M):
    """A random design matrix and targets with O(1) entries."""
    return normal_array(seed, (n, M)), normal_array(seed + 1, (n,))


# ---------------------------------------------------------------------------
# Basis functions
# ---------------------------------------------------------------------------

@given(seeds, st.integers(min_value=0, max_value=9))
def test_polynomial_features_are_powers(seed, degree):
    x = normal_array(seed, (7,))
    Phi = polynomial_features(x, degree)
    np.testing.assert_allclose(Phi, np.vander(x, degree + 1, increasing=True), rtol=1e-14)
    # (n, 1) columns are accepted and give the same matrix.
    np.testing.assert_array_equal(polynomial_features(x[:, None], degree), Phi)


def test_sigmoid_features_formula_and_no_overflow():
    x = np.linspace(-3.0, 3.0, 13)
    centers = np.array([-1.0, 0.0, 2.0])
    s = 0.7
    expected = 1.0 / (1.0 + np.exp(-(x[:, None] - centers) / s))
    np.testing.assert_allclose(sigmoid_features(x, centers, s), expected, rtol=1e-14)
    # |a| = 1e4: a naive exp(-a) overflows; pytest turns that warning into an error.
    far = sigmoid_features(np.array([-1e4, 1e4]), [0.0], scale=1.0)
    np.testing.assert_array_equal(far[:, 0], [0.0, 1.0])


def test_design_matrix_has_bias_column():
    x = np.linspace(0.0, 1.0, 5)
    for basis, kw in [("polynomial", {"degree": 2}), ("sigmoid", {"centers": [0.2, 0.8]}), ("linear", {})]:
        Phi = design_matrix(x, basis=basis, **kw)
        np.testing.assert_array_equal(Phi[:, 0], 1.0)
    np.testing.assert_array_equal(design_matrix(x, "sigmoid", centers=[0.5], scale=0.1)[:, 1:],
                                  sigmoid_features(x, [0.5], 0.1))
    X2 = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(design_matrix(X2, "linear")[:, 1:], X2)


# ---------------------------------------------------------------------------
# Least squares and ridge (1.13-1.14)
# ---------------------------------------------------------------------------

@given(seeds, st.integers(min_value=4, max_value=12), small_dims, st.floats(min_value=0.0, max_value=5.0))
def test_least_squares_is_stationary_and_minimal(seed, n, M, lam):
    Phi, t = _regression_problem(seed, n, M)
    w = least_squares(Phi, t, lam=lam)
    # Gradient of (1.14): Phi^T (Phi w - t) + lam w = 0 at the minimiser.
    grad = Phi.T @ (Phi @ w - t) + lam * w
    assert np.max(np.abs(grad)) < 1e-9 * max(1.0, np.max(np.abs(Phi.T @ t)))
    E_min = sum_of_squares(w, Phi, t, lam)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        assert sum_of_squares(w + 1e-3 * rng.standard_normal(M), Phi, t, lam) >= E_min


def test_least_squares_interpolates_with_as_many_weights_as_points():
    # The Fig. 1.1 situation: 9 points, order 8, so the fit passes through every point.
    x = np.linspace(0.0, 2.0 * np.pi, 9)
    t = np.sin(x) + normal_array(0, (9,), scale=0.2)
    Phi = polynomial_features(x, 8)
    w = least_squares(Phi, t)
    np.testing.assert_allclose(Phi @ w, t, atol=1e-8)
    # Ridge cannot interpolate and shrinks the weights.
    w_ridge = least_squares(Phi, t, lam=1e-3)
    assert np.linalg.norm(w_ridge) < np.linalg.norm(w)
    assert sum_of_squares(w_ridge, Phi, t) > sum_of_squares(w, Phi, t)


def test_sum_of_squares_formula():
    Phi = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
    t = np.array([1.0, 0.0, 2.0])
    w = np.array([0.5, -1.0])
    r = [1.0 - (0.5 - 2.0), 0.0 - (0.5 + 1.0), 2.0 - (0.5 - 0.5)]
    assert sum_of_squares(w, Phi, t) == pytest.approx(0.5 * sum(ri ** 2 for ri in r))
    assert sum_of_squares(w, Phi, t, lam=2.0) == pytest.approx(0.5 * sum(ri ** 2 for ri in r) + 1.25)


# ---------------------------------------------------------------------------
# Bayesian linear regression (1.19-1.28)
# ---------------------------------------------------------------------------

def test_posterior_matches_grid_integration_in_2d():
    # Brute force: evaluate prior x likelihood on a 2-D grid of w, normalise
    # numerically and take moments.
    x = np.array([-1.0, -0.3, 0.4, 1.2, 2.0])
    t = np.array([-0.8, 0.1, 0.5, 1.5, 1.7])
    Phi = design_matrix(x, "linear")
    alpha, beta = 2.0, 3.0
    m_N, S_N = weight_posterior(Phi, t, alpha, beta)
    w0, w1 = np.meshgrid(np.linspace(-3, 3, 801), np.linspace(-3, 3, 801), indexing="ij")
    W = np.stack([w0.ravel(), w1.ravel()], axis=1)
    log_prior = -0.5 * alpha * np.sum(W ** 2, axis=1)
    log_lik = -0.5 * beta * np.sum((t[None, :] - W @ Phi.T) ** 2, axis=1)
    log_post = log_prior + log_lik
    p = np.exp(log_post - log_post.max())
    p /= p.sum()
    mean = p @ W
    cov = (W - mean).T @ ((W - mean) * p[:, None])
    np.testing.assert_allclose(mean, m_N, atol=1e-6)
    np.testing.assert_allclose(cov, S_N, atol=1e-6)


@given(seeds, st.integers(min_value=1, max_value=8), small_dims, precisions, precisions)
def test_posterior_matches_gaussian_conditioning(seed, n, M, alpha, beta):
    # Independent route: (w, t) are jointly Gaussian with cov(w) = I/alpha,
    # cov(t) = Phi Phi^T/alpha + I/beta, cov(w, t) = Phi^T/alpha; condition on t.
    Phi, t = _regression_problem(seed, n, M)
    m_N, S_N = weight_posterior(Phi, t, alpha, beta)
    C_t = Phi @ Phi.T / alpha + np.eye(n) / beta
    K = np.linalg.solve(C_t, Phi).T / alpha
    np.testing.assert_allclose(m_N, K @ t, atol=1e-9, rtol=1e-8)
    np.testing.assert_allclose(S_N, np.eye(M) / alpha - K @ Phi / alpha, atol=1e-9, rtol=1e-8)


@given(seeds, st.integers(min_value=2, max_value=8), small_dims, precisions, precisions)
def test_posterior_equals_sequential_gaussian_products(seed, n, M, alpha, beta):
    # Multiply the prior by one likelihood factor at a time: precision adds
    # beta phi phi^T, the precision-weighted mean adds beta phi t.
    Phi, t = _regression_problem(seed, n, M)
    P = alpha * np.eye(M)
    h = np.zeros(M)
    for phi, tn in zip(Phi, t):
        P = P + beta * np.outer(phi, phi)
        h = h + beta * phi * tn
    m_N, S_N = weight_posterior(Phi, t, alpha, beta)
    np.testing.assert_allclose(S_N, np.linalg.inv(P), atol=1e-9, rtol=1e-8)
    np.testing.assert_allclose(m_N, np.linalg.solve(P, h), atol=1e-9, rtol=1e-8)


@given(seeds, st.integers(min_value=1, max_value=10), small_dims, precisions, precisions)
def test_map_equals_ridge_with_lambda_alpha_over_beta(seed, n, M, alpha, beta):
    # (1.28)
    Phi, t = _regression_problem(seed, n, M)
    model = BayesianLinearRegression(alpha=alpha, beta=beta).fit(Phi, t)
    w_ridge = least_squares(Phi, t, lam=alpha / beta)
    np.testing.assert_allclose(model.m_N_, w_ridge, atol=1e-9, rtol=1e-8)


@given(seeds, st.integers(min_value=1, max_value=8), small_dims, precisions, precisions)
def test_predictive_matches_gaussian_conditioning(seed, n, M, alpha, beta):
    # p(t* | t): condition the joint Gaussian of (t*, t) on t.
    Phi, t = _regression_problem(seed, n, M)
    Phi_new = normal_array(seed + 2, (3, M))
    m_N, S_N = weight_posterior(Phi, t, alpha, beta)
    mean, var = predictive_distribution(Phi_new, m_N, S_N, beta)
    C_t = Phi @ Phi.T / alpha + np.eye(n) / beta
    C_star_t = Phi_new @ Phi.T / alpha
    C_star = Phi_new @ Phi_new.T / alpha + np.eye(3) / beta
    np.testing.assert_allclose(mean, C_star_t @ np.linalg.solve(C_t, t), atol=1e-9, rtol=1e-8)
    cond_cov = C_star - C_star_t @ np.linalg.solve(C_t, C_star_t.T)
    np.testing.assert_allclose(var, np.diag(cond_cov), atol=1e-9, rtol=1e-8)


def test_predictive_std_shrinks_as_points_arrive():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 2 * np.pi, 20)
    t = np.sin(x) + 0.2 * rng.standard_normal(20)
    grid = np.linspace(0, 2 * np.pi, 50)
    previous = np.inf
    for n in range(1, 21, 3):
        model = BayesianLinearRegression(alpha=2.0, beta=25.0, basis="polynomial", degree=3)
        model.fit(x[:n], t[:n])
        _, std = model.predict(grid, return_std=True)
        # Adding data can only reduce S_N (in the Loewner order), hence every std.
        assert np.all(std <= previous + 1e-12)
        assert np.all(std >= 0.2 - 1e-12)  # never below the noise level 1/sqrt(beta)
        previous = std


def test_basis_option_equals_explicit_design_matrix():
    x = np.linspace(-1, 1, 7)
    t = x ** 3 - x
    centers = np.array([-0.5, 0.0, 0.5])
    a = BayesianLinearRegression(1.0, 10.0, basis="sigmoid", centers=centers, scale=0.3).fit(x, t)
    Phi = design_matrix(x, "sigmoid", centers=centers, scale=0.3)
    b = BayesianLinearRegression(1.0, 10.0).fit(Phi, t)
    np.testing.assert_array_equal(a.m_N_, b.m_N_)
    xs = np.array([0.1, 0.9])
    np.testing.assert_array_equal(a.predict(xs), b.predict(design_matrix(xs, "sigmoid", centers=centers, scale=0.3)))


def test_sample_weights_reproducible_and_distributed_as_posterior():
    Phi, t = _regression_problem(11, 6, 3)
    model = BayesianLinearRegression(alpha=1.5, beta=4.0).fit(Phi, t)
    n = 40000
    W = model.sample_weights(n, random_state=5)
    np.testing.assert_array_equal(W, model.sample_weights(n, random_state=5))
    assert not np.array_equal(W[:10], model.sample_weights(10, random_state=6))
    se = np.sqrt(np.diag(model.S_N_) / n)
    assert np.all(np.abs(W.mean(axis=0) - model.m_N_) < 5 * se)
    # Sample covariance entries have standard error about sqrt((S_ii S_jj + S_ij^2) / n).
    S = model.S_N_
    se_cov = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S ** 2) / n)
    assert np.all(np.abs(np.cov(W.T) - S) < 5 * se_cov)


@given(seeds, st.integers(min_value=1, max_value=8), small_dims, precisions, precisions)
def test_log_evidence_matches_multivariate_normal(seed, n, M, alpha, beta):
    Phi, t = _regression_problem(seed, n, M)
    C_t = Phi @ Phi.T / alpha + np.eye(n) / beta
    expected = stats.multivariate_normal(np.zeros(n), C_t).logpdf(t)
    assert log_evidence(Phi, t, alpha, beta) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_fit_evidence_finds_a_stationary_point_of_the_evidence():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2 * np.pi, 40)
    t = np.sin(x) + 0.2 * rng.standard_normal(40)
    model = BayesianLinearRegression(alpha=1.0, beta=1.0, basis="polynomial", degree=5)
    model.fit_evidence(x, t, max_iter=500, tol=1e-12)
    assert model.converged_
    Phi = polynomial_features(x, 5)
    la, lb, h = np.log(model.alpha_), np.log(model.beta_), 1e-4
    f = lambda a, b: log_evidence(Phi, t, np.exp(a), np.exp(b))  # noqa: E731
    d_a = (f(la + h, lb) - f(la - h, lb)) / (2 * h)
    d_b = (f(la, lb + h) - f(la, lb - h)) / (2 * h)
    assert abs(d_a) < 1e-5 and abs(d_b) < 1e-5
    for da, db in [(0.3, 0), (-0.3, 0), (0, 0.3), (0, -0.3)]:
        assert f(la + da, lb + db) < model.log_evidence_
    # The noise level is recovered roughly (true beta = 25) and gamma <= M.
    assert 10 < model.beta_ < 60
    assert 0 < model.gamma_ <= 6
    assert model.log_evidence_ == pytest.approx(f(la, lb))


# ---------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0, -1.0])
def test_nonpositive_alpha_raises(alpha):
    Phi, t = _regression_problem(0, 5, 2)
    with pytest.raises(ValueError, match=r"alpha must be a finite positive number, got -?[01]\.0"):
        BayesianLinearRegression(alpha=alpha).fit(Phi, t)
    with pytest.raises(ValueError, match="alpha must be"):
        weight_posterior(Phi, t, alpha, 1.0)
    with pytest.raises(ValueError, match="alpha must be finite and positive"):
        normal_mean_elbo(0.0, 1.0, 5.0, alpha)


def test_bad_inputs_raise_clear_errors():
    Phi, t = _regression_problem(0, 6, 2)
    with pytest.raises(ValueError, match="beta must be a finite positive number, got nan"):
        BayesianLinearRegression(beta=float("nan")).fit(Phi, t)
    with pytest.raises(ValueError, match="t has 5 samples, but Phi has 6 rows"):
        BayesianLinearRegression().fit(Phi, t[:5])
    with pytest.raises(ValueError, match="t has 5 samples, but Phi has 6 rows"):
        least_squares(Phi, t[:5])
    bad = Phi.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"Phi contains NaN or infinity \(1 non-finite"):
        BayesianLinearRegression().fit(bad, t)
    t_bad = t.copy()
    t_bad[0] = np.inf
    with pytest.raises(ValueError, match="t contains NaN or infinity"):
        weight_posterior(Phi, t_bad, 1.0, 1.0)
    with pytest.raises(ValueError, match="lam must be a finite non-negative number, got -0.5"):
        least_squares(Phi, t, lam=-0.5)
    with pytest.raises(ValueError, match="degree must be an int >= 0, got -1"):
        polynomial_features([1.0, 2.0], -1)
    with pytest.raises(ValueError, match="scale must be a finite positive number, got 0.0"):
        sigmoid_features([1.0], [0.0], scale=0)
    with pytest.raises(ValueError, match="basis='sigmoid' needs centers"):
        design_matrix([1.0, 2.0], "sigmoid")
    with pytest.raises(ValueError, match="basis must be 'polynomial', 'sigmoid' or 'linear', got 'cubic'"):
        design_matrix([1.0, 2.0], "cubic")
    with pytest.raises(ValueError, match="x must be a 1-D array"):
        polynomial_features(np.ones((3, 2)), 2)
    with pytest.raises(ValueError, match="w has 3 entries, but Phi has 2 columns"):
        sum_of_squares(np.ones(3), Phi, t)


def test_unfitted_and_mismatched_prediction_errors():
    Phi, t = _regression_problem(0, 6, 2)
    model = BayesianLinearRegression()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict(Phi)
    with pytest.raises(NotFittedError):
        model.sample_weights(3)
    model.fit(Phi, t)
    with pytest.raises(ValueError, match="Phi has 3 features, but this BayesianLinearRegression was fitted with 2"):
        model.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="has no parameter 'lam'"):
        model.set_params(lam=1.0)
    assert model.set_params(alpha=3.0).get_params()["alpha"] == 3.0


def test_fit_evidence_refuses_exact_interpolation():
    x = np.linspace(0, 1, 4)
    t = np.array([0.0, 1.0, -1.0, 0.5])
    model = BayesianLinearRegression(alpha=1e-6, beta=1e6, basis="polynomial", degree=3)
    with pytest.raises(ValueError, match="evidence maximisation diverged"):
        model.fit_evidence(x, t, max_iter=1000)


def test_normal_gamma_bad_inputs():
    with pytest.raises(ValueError, match="S must be finite and positive"):
        normal_gamma_elbo(0.0, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma0 must be finite and positive"):
        normal_gamma_elbo(0.0, 1.0, 1.0, 1.0, gamma0=0.0)
    with pytest.raises(ValueError, match="d must be a finite real number, got nan"):
        fit_normal_gamma_cavi(d=float("nan"))
    with pytest.raises(ValueError, match="delta0 must be a finite positive number, got 0.0"):
        fit_normal_gamma_adam(delta0=0.0)
    with pytest.raises(ValueError, match="init S must be a finite positive number, got -1.0"):
        fit_normal_gamma_cavi(init=(0.0, -1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="S_q must be finite and positive"):
        kl_normal(0.0, 0.0, 0.0, 1.0)


# ---------------------------------------------------------------------------
# Conjugate check: ELBO <= ln p(d), equality at the exact posterior (2.4-2.11)
# ---------------------------------------------------------------------------

finite = st.floats(min_value=-8.0, max_value=8.0)
variances = st.floats(min_value=0.01, max_value=10.0)


@given(finite, variances, finite, precisions)
def test_elbo_bounds_log_evidence_and_gap_is_kl(m_hat, S, d, alpha):
    L = normal_mean_elbo(m_hat, S, d, alpha)
    log_p = normal_mean_log_evidence(d, alpha)
    assert L <= log_p + 1e-12
    # (2.9): ln p(d) = KL(q || p(m | d)) + L(q)
    m_post, S_post = normal_mean_posterior(d, alpha)
    assert log_p == pytest.approx(L + kl_normal(m_hat, S, m_post, S_post), abs=1e-10)


@given(finite, precisions)
def test_elbo_equals_log_evidence_at_exact_posterior(d, alpha):
    m_post, S_post = normal_mean_posterior(d, alpha)
    assert normal_mean_elbo(m_post, S_post, d, alpha) == pytest.approx(normal_mean_log_evidence(d, alpha),
                                                                      abs=1e-12)
    # ... and anywhere else it is strictly smaller.
    assert normal_mean_elbo(m_post + 0.1, S_post, d, alpha) < normal_mean_log_evidence(d, alpha)
    assert normal_mean_elbo(m_post, 1.5 * S_post, d, alpha) < normal_mean_log_evidence(d, alpha)


@given(finite, precisions)
def test_conjugate_posterior_is_one_weight_bayesian_regression(d, alpha):
    # d = m + eps is Bayesian linear regression with Phi = [[1]], beta = 1.
    m_N, S_N = weight_posterior(np.ones((1, 1)), [d], alpha, 1.0)
    m_post, S_post = normal_mean_posterior(d, alpha)
    assert m_post == pytest.approx(m_N[0], rel=1e-12, abs=1e-14)
    assert S_post == pytest.approx(S_N[0, 0], rel=1e-12)
    assert normal_mean_log_evidence(d, alpha) == pytest.approx(log_evidence(np.ones((1, 1)), [d], alpha, 1.0),
                                                               rel=1e-12)


@pytest.mark.parametrize("m_hat, S, d, alpha", [(0.3, 0.5, 2.0, 1.0), (4.0, 2.0, 5.0, 0.2), (-1.0, 0.1, 0.5, 3.0)])
def test_conjugate_closed_forms_match_quadrature(m_hat, S, d, alpha):
    # ELBO (2.5) as the integral of q ln(p(d, m) / q); ln p(d) as the integral of p(d | m) p(m).
    def log_normal(x, mean, var):
        return -0.5 * np.log(2 * np.pi * var) - 0.5 * (x - mean) ** 2 / var

    def log_joint(m):
        return log_normal(d, m, 1.0) + log_normal(m, 0.0, 1.0 / alpha)

    def elbo_integrand(m):
        log_q = log_normal(m, m_hat, S)
        return np.exp(log_q) * (log_joint(m) - log_q)

    L_quad, _ = integrate.quad(elbo_integrand, -np.inf, np.inf, epsabs=1e-12)
    p_quad, _ = integrate.quad(lambda m: np.exp(log_joint(m)), -np.inf, np.inf, epsabs=1e-14)
    assert normal_mean_elbo(m_hat, S, d, alpha) == pytest.approx(L_quad, abs=1e-8)
    assert normal_mean_log_evidence(d, alpha) == pytest.approx(np.log(p_quad), abs=1e-8)


def test_vectorised_conjugate_functions():
    m = np.linspace(-1, 6, 5)
    L = normal_mean_elbo(m, 0.5, 5.0, 1.0)
    assert L.shape == (5,)
    np.testing.assert_allclose(L, [normal_mean_elbo(mi, 0.5, 5.0, 1.0) for mi in m], rtol=1e-15)


# ---------------------------------------------------------------------------
# The Normal-Gamma example (2.12-2.24)
# ---------------------------------------------------------------------------

log_positive = st.floats(min_value=np.log(0.05), max_value=np.log(30.0))
log_prior_param = st.floats(min_value=np.log(1e-8), max_value=np.log(10.0))


@given(finite, finite, log_positive, log_positive, log_positive, log_prior_param, log_prior_param)
def test_normal_gamma_elbo_gradient(d, m_hat, log_S, log_gamma, log_delta, log_gamma0, log_delta0):
    arrays = {"m_hat": np.array([m_hat]), "S": np.exp([log_S]),
              "gamma": np.exp([log_gamma]), "delta": np.exp([log_delta])}
    gamma0, delta0 = np.exp(log_gamma0), np.exp(log_delta0)

    def func():
        L, g = normal_gamma_elbo(arrays["m_hat"], arrays["S"], arrays["gamma"], arrays["delta"],
                                 d, gamma0, delta0)
        return float(L[0]), g

    check_gradients(func, arrays).assert_ok(1e-6)


@given(finite, finite, log_positive, log_positive, log_positive)
def test_normal_gamma_unconstrained_gradient(d, m_hat, log_S, log_gamma, log_delta):
    theta = {"m_hat": np.array([m_hat]), "log_S": np.array([log_S]),
             "log_gamma": np.array([log_gamma]), "log_delta": np.array([log_delta])}

    def func():
        L, g = _normal_gamma_elbo_unconstrained(theta, d, 1e-3, 1e-3)
        return float(L[0]), g

    check_gradients(func, theta).assert_ok(1e-6)


@pytest.mark.parametrize("params", [(4.8, 0.96, 0.5, 12.0, 5.0, 1e-8, 1e-8),
                                    (0.5, 0.3, 3.0, 1.5, -1.0, 2.0, 3.0),
                                    (1.0, 2.0, 0.2, 0.1, 2.0, 0.5, 0.1)])
def test_normal_gamma_elbo_matches_quadrature(params):
    # L = E_q[ln p(d, m, alpha) - ln q(m, alpha)] by numerical integration with
    # scipy's log densities, i.e. without any of the expectations of (2.17-2.23):
    # Gauss-Hermite in m (exact here: the integrand is quadratic in m) and
    # adaptive quadrature in alpha.
    m_hat, S, gamma, delta, d, gamma0, delta0 = params
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)
    m = m_hat + np.sqrt(S) * nodes
    weights = weights / np.sqrt(2.0 * np.pi)
    q_alpha = stats.gamma(gamma, scale=1.0 / delta)

    def log_ratio_given_alpha(a):
        over_m = (stats.norm.logpdf(d, m, 1.0) + stats.norm.logpdf(m, 0.0, 1.0 / np.sqrt(a))
                  - stats.norm.logpdf(m, m_hat, np.sqrt(S)))
        return weights @ over_m + stats.gamma.logpdf(a, gamma0, scale=1.0 / delta0) - q_alpha.logpdf(a)

    # Split at the mean: for gamma < 1 the density of q(alpha) is infinite at 0.
    mid = q_alpha.mean()
    L_quad = sum(integrate.quad(lambda a: q_alpha.pdf(a) * log_ratio_given_alpha(a), lo, hi,
                                limit=200, epsabs=1e-12, epsrel=1e-12)[0]
                 for lo, hi in [(0.0, mid), (mid, np.inf)])
    L, _ = normal_gamma_elbo(m_hat, S, gamma, delta, d, gamma0, delta0)
    assert L == pytest.approx(L_quad, abs=1e-9)


def test_both_optimisers_reach_the_thesis_optimum():
    adam = fit_normal_gamma_adam(d=5.0, gamma0=1e-8, delta0=1e-8)
    cavi = fit_normal_gamma_cavi(d=5.0, gamma0=1e-8, delta0=1e-8)
    assert adam.converged and cavi.converged
    np.testing.assert_allclose(adam.as_tuple(), THESIS_OPTIMUM, atol=1e-3, rtol=0)
    np.testing.assert_allclose(cavi.as_tuple(), THESIS_OPTIMUM, atol=1e-3, rtol=0)
    # They also agree with each other far more closely than 1e-3.
    np.testing.assert_allclose(adam.as_tuple(), cavi.as_tuple(), rtol=1e-7)
    assert adam.elbo == pytest.approx(cavi.elbo, abs=1e-12)
    # The optimum is a stationary point of the closed-form ELBO.
    _, g = normal_gamma_elbo(*cavi.as_tuple(), 5.0, 1e-8, 1e-8)
    assert max(abs(v) for v in g.values()) < 1e-8


@given(st.floats(min_value=1.5, max_value=10.0), st.booleans())
def test_cavi_fixed_point_matches_hand_solution(abs_d, negative):
    # With gamma0 = delta0 -> 0 the fixed-point equations reduce to
    # S (d^2 S^2 + S + 1) = d^2 S^2 + S, i.e. S = 1 - 1/d^2 (d = 5: 0.96).
    d = -abs_d if negative else abs_d
    S = 1.0 - 1.0 / d ** 2
    m_hat = d * S
    expected = (m_hat, S, 0.5, 0.5 * (m_hat ** 2 + S))
    res = fit_normal_gamma_cavi(d=d, gamma0=1e-10, delta0=1e-10, max_iter=5000)
    assert res.converged
    np.testing.assert_allclose(res.as_tuple(), expected, rtol=1e-6)


def test_cavi_never_decreases_the_elbo():
    for d, init in [(5.0, None), (2.0, (10.0, 5.0, 1.0, 1.0)), (-3.0, (0.0, 0.01, 1.0, 1.0))]:
        res = fit_normal_gamma_cavi(d=d, gamma0=0.5, delta0=0.2, init=init)
        assert np.all(np.diff(res.history) >= -1e-12)
        assert res.history[-1] > res.history[0]


def test_adam_ascends_from_a_distant_start():
    res = fit_normal_gamma_adam(d=5.0, gamma0=1e-8, delta0=1e-8, init=(-9.0, 0.05, 8.0, 0.1))
    np.testing.assert_allclose(res.as_tuple(), THESIS_OPTIMUM, atol=1e-3, rtol=0)
    assert res.history[-1] > res.history[0]


def test_limit_gamma0_delta0_to_zero():
    dist = []
    for eps in [1e-1, 1e-2, 1e-4, 1e-6, 1e-8]:
        res = fit_normal_gamma_cavi(d=5.0, gamma0=eps, delta0=eps)
        dist.append(np.max(np.abs(np.array(res.as_tuple()) - THESIS_OPTIMUM)))
    assert np.all(np.diff(dist) < 0)
    assert dist[0] > 1e-2 and dist[-1] < 1e-6


@pytest.mark.parametrize("x", [-1.0, 3.0, 5.0, 8.0])
def test_normal_gamma_predictive_matches_quadrature(x):
    # (2.24): integral of N(x | m, 1) q(m) dm.
    m_hat, S = 4.8, 0.96
    p, _ = integrate.quad(lambda m: stats.norm.pdf(x, m, 1.0) * stats.norm.pdf(m, m_hat, np.sqrt(S)),
                          -np.inf, np.inf)
    assert normal_gamma_predictive(x, m_hat, S) == pytest.approx(np.log(p), abs=1e-8)
