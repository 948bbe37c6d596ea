"""Tests of minivae.priors: the priors p(z) a WAE matches ((2.37)).

Sampling is checked against the analytic moments of the distribution (within
several standard errors), densities against scipy.stats written out
independently, and the configuration dicts by a JSON round trip.
"""

import json

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import integrate, special, stats

from minivae.priors import GaussianMixture, StandardNormal, prior_from_config
from tests.strategies import normal_array, seeds, small_dims

N_DRAWS = 200_000


def _random_mixture(seed, K, d, zero_weight=False):
    rng = np.random.default_rng(seed)
    means = 3.0 * rng.standard_normal((K, d))
    scales = rng.uniform(0.3, 2.0, size=K)
    weights = rng.uniform(0.5, 3.0, size=K)
    if zero_weight and K > 1:
        weights[0] = 0.0
    return GaussianMixture(means, scales, weights)


def _mixture_moments(means, scales, weights):
    """Mean Σ w_k m_k and covariance Σ w_k (s_k² I + m_k m_kᵀ) − m mᵀ of an isotropic mixture."""
    d = means.shape[1]
    m = weights @ means
    second = sum(w * (s * s * np.eye(d) + np.outer(mk, mk)) for w, s, mk in zip(weights, scales, means))
    return m, second - np.outer(m, m)


def _assert_moments(Z, mean, cov, n_se=5.0):
    """Sample mean and covariance of Z agree with (mean, cov) within n_se standard errors.

    The standard error of each entry is estimated from the sample: std(z_j)/√n
    for the mean, std((z_i − m_i)(z_j − m_j))/√n for the covariance.
    """
    n = Z.shape[0]
    se_mean = Z.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(Z.mean(axis=0) - mean) < n_se * se_mean), (Z.mean(axis=0), mean)
    C = Z - Z.mean(axis=0)
    prods = C[:, :, None] * C[:, None, :]
    se_cov = prods.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(prods.mean(axis=0) - cov) < n_se * se_cov + 1e-12), (prods.mean(axis=0), cov)


# ====================================================================== StandardNormal
@pytest.mark.parametrize("dim", [1, 3])
def test_standard_normal_sample_moments(dim):
    Z = StandardNormal(dim).sample(N_DRAWS, random_state=0)
    assert Z.shape == (N_DRAWS, dim)
    _assert_moments(Z, np.zeros(dim), np.eye(dim))


@given(seed=seeds, dim=small_dims, n=st.integers(1, 6))
def test_standard_normal_log_prob_matches_scipy(seed, dim, n):
    z = normal_array(seed, (n, dim), scale=2.0)
    expected = stats.multivariate_normal(np.zeros(dim), np.eye(dim)).logpdf(z)
    np.testing.assert_allclose(StandardNormal(dim).log_prob(z), np.atleast_1d(expected), rtol=1e-12)


def test_standard_normal_log_prob_over_leading_axes():
    z = normal_array(1, (4, 5, 2))
    out = StandardNormal(2).log_prob(z)
    assert out.shape == (4, 5)
    np.testing.assert_allclose(out[2], StandardNormal(2).log_prob(z[2]), rtol=1e-14)


# ====================================================================== GaussianMixture
@pytest.mark.parametrize("seed, K, d", [(0, 2, 2), (1, 3, 1), (2, 4, 3)])
def test_mixture_sample_moments(seed, K, d):
    prior = _random_mixture(seed, K, d)
    Z, k = prior.sample(N_DRAWS, random_state=seed, return_components=True)
    assert Z.shape == (N_DRAWS, d) and k.shape == (N_DRAWS,)
    mean, cov = _mixture_moments(prior.means, prior.scales, prior.weights)
    _assert_moments(Z, mean, cov)
    # Component frequencies: binomial standard error √(w(1 − w)/n).
    freq = np.bincount(k, minlength=K) / N_DRAWS
    se = np.sqrt(prior.weights * (1 - prior.weights) / N_DRAWS)
    assert np.all(np.abs(freq - prior.weights) < 5 * se + 1e-12)
    # Given its component, a draw is N(m_k, s_k² I).
    for j in range(K):
        _assert_moments(Z[k == j], prior.means[j], prior.scales[j] ** 2 * np.eye(d))


def test_mixture_weights_are_normalised_and_zero_weight_is_never_drawn():
    prior = GaussianMixture([[0.0], [5.0], [-5.0]], scales=[1.0, 0.5, 2.0], weights=[0, 3, 1])
    np.testing.assert_allclose(prior.weights, [0.0, 0.75, 0.25])
    assert prior.n_components == 3 and prior.dim == 1
    _, k = prior.sample(5000, random_state=0, return_components=True)
    assert not np.any(k == 0)
    # ln 0 for the empty component must not warn (pytest turns RuntimeWarning into errors).
    assert np.all(np.isfinite(prior.log_prob([[0.0], [5.0], [100.0]])))


@given(seed=seeds, K=st.integers(1, 4), d=small_dims, n=st.integers(1, 6), zero_weight=st.booleans())
@example(seed=1008, K=2, d=3, n=3, zero_weight=True)   # broke the old oracle (issue 9, item 19)
def test_mixture_log_prob_matches_scipy(seed, K, d, n, zero_weight):
    prior = _random_mixture(seed, K, d, zero_weight)
    z = normal_array(seed + 1, (n, d), scale=3.0)
    # ln Σ_k w_k N(z | m_k, s_k² I) from scipy's log-densities, combined in log space
    # (a density or a weight of 0 would make ln Σ w_k pdf_k fail: issue 9, item 19).
    log_pdf = np.array([np.atleast_1d(stats.multivariate_normal(m, s * s * np.eye(d)).logpdf(z))
                        for m, s in zip(prior.means, prior.scales)])
    expected = special.logsumexp(log_pdf, axis=0, b=prior.weights[:, None])
    np.testing.assert_allclose(prior.log_prob(z), expected, rtol=1e-10)


def test_mixture_log_prob_far_from_the_means_does_not_underflow():
    prior = GaussianMixture([[0.0, -4.0], [0.0, 4.0]], scales=0.5, weights=[2, 1])
    z = np.array([[0.0, 60.0], [-80.0, 0.0]])   # every density underflows to 0 in float64
    with np.errstate(under="ignore"):
        assert np.all(prior.log_prob(z) > -np.inf)
    expected = special.logsumexp(
        [np.log(w) + stats.multivariate_normal(m, 0.25 * np.eye(2)).logpdf(z)
         for w, m in zip(prior.weights, prior.means)], axis=0)
    np.testing.assert_allclose(prior.log_prob(z), expected, rtol=1e-12)


def test_mixture_density_integrates_to_one_in_1d():
    prior = GaussianMixture([[-2.0], [1.0], [4.0]], scales=[0.5, 1.0, 0.3], weights=[1, 2, 1])
    total, _ = integrate.quad(lambda t: np.exp(prior.log_prob([[t]]))[0], -20, 20, points=[-2, 1, 4],
                              limit=200)
    assert abs(total - 1.0) < 1e-8


def test_single_component_mixture_is_a_shifted_scaled_normal():
    prior = GaussianMixture([[1.0, -2.0]], scales=3.0)
    z = normal_array(5, (7, 2), scale=4.0)
    expected = stats.multivariate_normal([1.0, -2.0], 9.0 * np.eye(2)).logpdf(z)
    np.testing.assert_allclose(prior.log_prob(z), expected, rtol=1e-12)


# ====================================================================== randomness
@pytest.mark.parametrize("prior", [StandardNormal(3), _random_mixture(0, 3, 2)], ids=["normal", "mixture"])
def test_same_seed_same_draws(prior):
    a = prior.sample(50, random_state=7)
    b = prior.sample(50, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, prior.sample(50, random_state=8))
    # A shared Generator advances: two calls give different draws.
    rng = np.random.default_rng(0)
    assert not np.array_equal(prior.sample(5, rng), prior.sample(5, rng))
    assert prior.sample(0, random_state=0).shape == (0, prior.dim)


# ====================================================================== configuration
@pytest.mark.parametrize("prior", [StandardNormal(4), _random_mixture(3, 3, 2),
                                   GaussianMixture([[0.0, -4.0], [0.0, 4.0]], 0.5, [2, 1])],
                         ids=["normal", "random-mixture", "two-clusters"])
def test_config_round_trip_through_json(prior):
    config = json.loads(json.dumps(prior.get_config()))
    rebuilt = prior_from_config(config)
    assert type(rebuilt) is type(prior)
    assert rebuilt.get_config() == prior.get_config()
    z = normal_array(0, (6, prior.dim))
    np.testing.assert_array_equal(rebuilt.log_prob(z), prior.log_prob(z))
    np.testing.assert_array_equal(rebuilt.sample(20, random_state=1), prior.sample(20, random_state=1))
    assert repr(rebuilt) == repr(prior)


# ====================================================================== bad arguments
@pytest.mark.parametrize("dim, exc, match", [
    (0, ValueError, "dim must be an int >= 1, got 0"),
    (2.5, ValueError, "dim must be an int >= 1, got 2.5"),
    (True, ValueError, "dim must be an int"),
])
def test_standard_normal_rejects_bad_dim(dim, exc, match):
    with pytest.raises(exc, match=match):
        StandardNormal(dim)


@pytest.mark.parametrize("kwargs, match", [
    (dict(means=[0.0, 1.0]), r"means must be a \(K, d\) array .* got shape \(2,\)"),
    (dict(means=np.zeros((0, 2))), r"got shape \(0, 2\)"),
    (dict(means=np.zeros((2, 0))), r"got shape \(2, 0\)"),
    (dict(means=[[0.0, np.nan]]), "means must be finite"),
    (dict(means=[[0.0], [1.0]], scales=-1.0), r"scales must be one positive number or 2 of them, got \[-1.0, -1.0\]"),
    (dict(means=[[0.0], [1.0]], scales=[1.0, 0.0]), r"got \[1.0, 0.0\]"),
    (dict(means=[[0.0], [1.0]], scales=[1.0, 1.0, 1.0]), "scales must be one positive number or 2"),
    (dict(means=[[0.0], [1.0]], scales=np.inf), "scales must be"),
    (dict(means=[[0.0], [1.0]], weights=[1.0, -0.5]), r"weights must be 2 finite non-negative .* got \[1.0, -0.5\]"),
    (dict(means=[[0.0], [1.0]], weights=[1.0, np.inf]), "weights must be 2 finite"),
    (dict(means=[[0.0], [1.0]], weights=[1.0, 1e400]), "weights must be 2 finite"),
    (dict(means=[[0.0], [1.0]], weights=[0.0, 0.0]), "positive sum"),
    (dict(means=[[0.0], [1.0]], weights=[1.0]), r"weights must be 2 .* got \[1.0\]"),
])
def test_mixture_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs)


@pytest.mark.parametrize("prior", [StandardNormal(2), GaussianMixture([[0.0, 0.0], [1.0, 1.0]])],
                         ids=["normal", "mixture"])
def test_bad_sample_size_and_log_prob_shape(prior):
    with pytest.raises(ValueError, match="n must be an int >= 0, got -1"):
        prior.sample(-1, random_state=0)
    with pytest.raises(ValueError, match="n must be an int >= 0, got 2.0"):
        prior.sample(2.0, random_state=0)
    with pytest.raises(TypeError, match="random_state"):
        prior.sample(2, random_state="seed")
    # A (n, 1) array must not broadcast silently against 2-D means.
    with pytest.raises(ValueError, match=r"z must have 2 entries along its last axis .* got shape \(3, 1\)"):
        prior.log_prob(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        prior.log_prob(0.0)


@pytest.mark.parametrize("config", [
    None,
    "gaussian_mixture",
    {"kind": "student_t", "dim": 2},
    {"kind": "standard_normal"},
    {"kind": "gaussian_mixture", "means": [[0.0]], "scales": [1.0]},
    {"kind": "standard_normal", "dim": 2, "extra": 1},
])
def test_prior_from_config_rejects_foreign_dicts(config):
    with pytest.raises(ValueError, match="unknown prior configuration"):
        prior_from_config(config)


def test_prior_from_config_validates_values():
    with pytest.raises(ValueError, match="dim must be an int >= 1, got -3"):
        prior_from_config({"kind": "standard_normal", "dim": -3})
    with pytest.raises(ValueError, match="weights must be"):
        prior_from_config({"kind": "gaussian_mixture", "means": [[0.0]], "scales": [1.0], "weights": [-1.0]})


# ====================================================================== strict types, extreme values
# Every array argument of the priors: numeric text is refused, not parsed (issue 9, item 17).
@pytest.mark.parametrize("call, match", [
    (lambda: GaussianMixture([["0", "1"]]), "means must hold real numbers, got dtype <U1"),
    (lambda: GaussianMixture([[0.0, 1.0]], scales="0.5"), "scales must hold real numbers"),
    (lambda: GaussianMixture([[0.0, 1.0]], scales=[1j]), "scales must hold real numbers, got dtype complex"),
    (lambda: GaussianMixture([[0.0], [1.0]], weights=["1", "2"]), "weights must hold real numbers"),
    (lambda: GaussianMixture([[0.0], [1.0]], weights=[True, False]), "weights must hold real numbers, got dtype bool"),
    (lambda: GaussianMixture([[0.0, None]]), "means must hold real numbers, got dtype object"),
    (lambda: StandardNormal(2).log_prob([["0", "1"]]), "z must hold real numbers"),
    (lambda: GaussianMixture([[0.0, 1.0]]).log_prob([["0", "1"]]), "z must hold real numbers"),
    (lambda: GaussianMixture([[0.0, 1.0]]).sample(3, 0, return_components="False"),
     "return_components must be True or False, got 'False'"),
    (lambda: GaussianMixture([[0.0, 1.0]]).sample(3, 0, return_components=1), "return_components must be True or False"),
])
def test_priors_refuse_text_and_non_flags(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda: StandardNormal("2"),
    lambda: StandardNormal(2).sample("3", random_state=0),
    lambda: GaussianMixture([[0.0]]).sample(np.float64(3), random_state=0),
], ids=["dim", "n-normal", "n-mixture"])
def test_priors_refuse_counts_that_are_not_ints(call):
    with pytest.raises(ValueError, match="must be an int"):
        call()


@pytest.mark.parametrize("weights", [[1e308, 1e308], [1e308, 1e308, 1e308], [5e-324, 5e-324], [1e-310, 3e-310]])
def test_mixture_weights_of_any_scale_are_normalised(weights):
    K = len(weights)
    prior = GaussianMixture(np.arange(K, dtype=float)[:, None], weights=weights)
    expected = np.array(weights) / np.array(weights).max()
    np.testing.assert_allclose(prior.weights, expected / expected.sum(), rtol=1e-12)
    assert np.isclose(prior.weights.sum(), 1.0)
    assert prior.sample(10, random_state=0).shape == (10, 1)
    assert np.isfinite(prior.log_prob([[0.5]])).all()


@pytest.mark.parametrize("prior", [StandardNormal(2), GaussianMixture([[0.0, -4.0], [0.0, 4.0]], 0.5, [0, 1])],
                         ids=["normal", "mixture"])
def test_log_prob_extreme_and_nan_inputs(prior):
    z = np.array([[np.inf, 0.0], [-np.inf, np.inf], [1e200, 1e200], [0.0, 4.0]])
    out = prior.log_prob(z)          # no overflow warning (they are errors under pytest)
    assert np.all(out[:3] == -np.inf) and np.isfinite(out[3])
    with pytest.raises(ValueError, match=r"z contains NaN \(1 value\(s\)\)"):
        prior.log_prob([[0.0, np.nan]])


def test_prior_from_config_turns_type_errors_into_value_errors():
    with pytest.raises(ValueError, match="bad prior configuration .* means must hold real numbers"):
        prior_from_config({"kind": "gaussian_mixture", "means": [["0"]], "scales": [1.0], "weights": [1.0]})
