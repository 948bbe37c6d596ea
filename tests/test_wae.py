"""Tests of minivae.models.WAE, the Wasserstein autoencoder with an MMD penalty ((2.37)-(2.39)).

The gradient of the whole objective is checked against central differences
with ε and the prior samples held fixed; its value against the objective
written out by hand with the NumPy reference ``mmd_reference``; the trained
model against the two-cluster set of Fig. 2.13, where a VAE fails.
"""

import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivae import datasets
from minivae.demo import gap_fraction
from minivae.gradcheck import check_gradients
from minivae.mmd import Kernel, gaussian_kernel, imq_kernel, mmd_reference
from minivae.models import VAE, WAE, load
from minivae.priors import GaussianMixture, StandardNormal
from tests.strategies import jitter_biases, seeds, toy_inputs

hidden_lists = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=2)
likelihoods = st.sampled_from(["gaussian", "bernoulli"])
# "multi" stands for a Kernel object summed over two bandwidths.
kernel_choices = st.sampled_from(["gaussian", "imq", "multi"])
kernel_scales = st.one_of(st.none(), st.floats(0.2, 3.0))
modes = st.sampled_from(["aggregate", "per_point"])

# The WAE paper's multi-scale IMQ factors, written out here rather than imported.
WAE_FACTORS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def _kernel_arg(kernel, scale):
    """The WAE arguments (kernel, kernel_scale) for a drawn kernel choice."""
    if kernel == "multi":
        return gaussian_kernel(bandwidth=[0.7, 2.0]), None
    return kernel, scale


def _expected_kernel(kernel, scale, nz):
    """The kernel the WAE documents for (kernel, kernel_scale), built from the formulas."""
    if isinstance(kernel, Kernel):
        return kernel
    if kernel == "gaussian":
        return Kernel("gaussian", (1.0 / (2.0 * nz) if scale is None else scale,))
    if scale is None:
        return Kernel("imq", tuple(2.0 * nz * f for f in WAE_FACTORS))
    return Kernel("imq", (scale,))


def _random_prior(seed, nz, mixture):
    if not mixture:
        return None
    rng = np.random.default_rng(seed + 7)
    return GaussianMixture(2.0 * rng.standard_normal((2, nz)), scales=rng.uniform(0.3, 1.5, 2),
                           weights=[2.0, 1.0])


def _initialized(seed, n, nx, nz, hidden, likelihood, **wae_kwargs):
    X = toy_inputs(seed, n, nx, likelihood)
    model = WAE(n_latent=nz, hidden_sizes=tuple(hidden), likelihood=likelihood, **wae_kwargs)
    model.initialize(X, random_state=seed)
    return jitter_biases(model, seed), X


# ====================================================================== gradients
# More examples than the profile's 15: the flags combine into 2·2·3·2·2·2 = 96 cases.
@settings(max_examples=60)
@given(seed=seeds, n=st.integers(1, 5), nx=st.integers(1, 3), nz=st.integers(1, 3),
       hidden=hidden_lists, kernel=kernel_choices, scale=kernel_scales, unbiased=st.booleans(),
       mode=modes, deterministic=st.booleans(), likelihood=likelihoods,
       lam=st.floats(0.1, 20.0), sigma2=st.floats(0.2, 5.0), n_mc=st.integers(2, 4),
       mixture=st.booleans(), activation=st.sampled_from(["swish", "tanh"]))
def test_wae_objective_gradient_matches_finite_differences(seed, n, nx, nz, hidden, kernel, scale,
                                                           unbiased, mode, deterministic, likelihood,
                                                           lam, sigma2, n_mc, mixture, activation):
    kernel, scale = _kernel_arg(kernel, scale)
    # The per-point mode compares draws of q(z|x): it needs a stochastic encoder.
    deterministic = deterministic and mode == "aggregate"
    model, X = _initialized(seed, n, nx, nz, hidden, likelihood, kernel=kernel, kernel_scale=scale,
                            lam=lam, sigma2=sigma2, unbiased=unbiased, mmd_mode=mode,
                            deterministic=deterministic, n_mc=n_mc,
                            prior=_random_prior(seed, nz, mixture), activation=activation)
    noise = model.draw_noise(X, np.random.default_rng(seed))
    result = check_gradients(lambda: model.objective(X, noise), model.params_)
    result.assert_ok(1e-6)
    if deterministic:
        # z = μ(x): nothing depends on the log_sigma head.
        _, grads = model.objective(X, noise)
        assert not np.any(grads["log_sigma.W"]) and not np.any(grads["log_sigma.b"])


# ====================================================================== objective value
def _objective_by_hand(model, X, noise, kernel):
    """(2.39): mean −ln p(x|z) + λ·MMD², from encode/decode and mmd_reference only."""
    mu, log_sigma = model.encode(X)
    sigma = np.exp(log_sigma)
    eps = noise["eps"]
    L, n, nz = eps.shape
    z = mu + sigma * eps                                               # (2.32), (L, n, nz)
    # The reconstruction averages every draw (aggregate) or uses the first (per point).
    L_rec = L if model.mmd_mode == "aggregate" else 1
    nll = np.zeros(n)
    for l in range(L_rec):
        f = model.decode(z[l])
        if model.likelihood == "gaussian":                             # (2.33) with its constant
            w2 = model.sigma2
            nll += ((X - f) ** 2).sum(axis=1) / (2 * w2) + 0.5 * X.shape[1] * np.log(2 * np.pi * w2)
        else:
            nll += -(X * np.log(f) + (1 - X) * np.log1p(-f)).sum(axis=1)
    nll /= L_rec
    if model.mmd_mode == "aggregate":
        # All n·L draws against as many prior draws; no within-sample pair if n·L = 1.
        if n * L < 2 and model.unbiased:
            penalty = 0.0
        else:
            penalty = mmd_reference(z.reshape(-1, nz), noise["prior"], kernel, unbiased=model.unbiased)
    else:
        # Per point: n_mc draws of q(z|x_i) against n_mc prior draws, averaged.
        penalty = np.mean([mmd_reference(z[:, i], noise["prior"][i], kernel,
                                         unbiased=model.unbiased) for i in range(n)])
    return nll.mean() + model.lam * penalty


@settings(max_examples=60)
@given(seed=seeds, n=st.integers(1, 6), nx=st.integers(1, 3), nz=st.integers(1, 3),
       hidden=hidden_lists, kernel=kernel_choices, scale=kernel_scales, unbiased=st.booleans(),
       mode=modes, deterministic=st.booleans(), likelihood=likelihoods, lam=st.floats(0.0, 50.0),
       n_mc=st.integers(2, 6), mixture=st.booleans())
def test_objective_is_reconstruction_plus_lam_mmd(seed, n, nx, nz, hidden, kernel, scale, unbiased,
                                                  mode, deterministic, likelihood, lam, n_mc,
                                                  mixture):
    kernel, scale = _kernel_arg(kernel, scale)
    deterministic = deterministic and mode == "aggregate"
    prior = _random_prior(seed, nz, mixture)
    model, X = _initialized(seed, n, nx, nz, hidden, likelihood, kernel=kernel, kernel_scale=scale,
                            lam=lam, sigma2=0.7, unbiased=unbiased, mmd_mode=mode,
                            deterministic=deterministic, n_mc=n_mc, prior=prior)
    noise = model.draw_noise(X, np.random.default_rng(seed))
    # The draws have the documented shapes, and a deterministic encoder gets ε = 0.
    L = model.n_mc
    assert noise["eps"].shape == (L, n, nz)
    if deterministic:
        assert not np.any(noise["eps"])
    if mode == "aggregate":
        assert noise["prior"].shape == (L * n, nz)
    else:
        assert noise["prior"].shape == (n, L, nz)
    loss, _ = model.objective(X, noise)
    expected = _objective_by_hand(model, X, noise, _expected_kernel(kernel, scale, nz))
    np.testing.assert_allclose(loss, expected, rtol=1e-10, atol=1e-10)


def test_prior_samples_come_from_the_prior():
    # The "prior" draws of one step are prior.sample(n, rng) with the step's Generator,
    # taken right after ε.
    prior = GaussianMixture([[0.0, -4.0], [0.0, 4.0]], scales=0.5, weights=[2, 1])
    model, X = _initialized(0, 7, 3, 2, [4], "gaussian", prior=prior)
    noise = model.draw_noise(X, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    eps = rng.standard_normal((1, 7, 2))
    np.testing.assert_array_equal(noise["eps"], eps)
    np.testing.assert_array_equal(noise["prior"], prior.sample(7, rng))


def test_aggregate_and_per_point_penalties_measure_different_things():
    """(2.37) against (2.39): the aggregate MMD compares Q_Z = (1/n) Σ q(z|x_n) with P_Z; the
    per-point MMD compares every single q(z|x_n) with P_Z."""
    n, nz = 200, 2
    rng = np.random.default_rng(0)
    # Case A: narrow posteriors q(z|x_n) = N(μ_n, 0.05² I) with μ_n ~ N(0, I).
    # Their mixture is N(0, (1 + 0.05²) I) ≈ P_Z, but no single one resembles P_Z.
    mu_a, ls_a = rng.standard_normal((n, nz)), np.full((n, nz), np.log(0.05))
    # Case B: every posterior equals the prior, q(z|x_n) = N(0, I).
    mu_b, ls_b = np.zeros((n, nz)), np.zeros((n, nz))
    penalties = {}
    for mode in ("aggregate", "per_point"):
        model = WAE(n_latent=nz, hidden_sizes=(nz,), activation="identity", kernel="imq", lam=1.0,
                    mmd_mode=mode, n_mc=50)
        for case, (mu, ls) in {"A": (mu_a, ls_a), "B": (mu_b, ls_b)}.items():
            # An identity encoder with μ(x) = x and a constant log σ gives these posteriors.
            model.initialize(mu, random_state=0)
            for name in ("encoder.0.W", "mu.W"):
                model.params_[name][...] = np.eye(nz)
            model.params_["encoder.0.b"][...] = model.params_["mu.b"][...] = 0.0
            model.params_["log_sigma.W"][...] = 0.0
            model.params_["log_sigma.b"][...] = ls[0]
            noise = model.draw_noise(mu, np.random.default_rng(1))
            penalties[mode, case] = model.step(mu, noise, {"beta": 1.0}, model._grads)[1]["mmd"]
    # The aggregate penalty is near 0 in both cases (sampling noise of order 1/n) ...
    assert abs(penalties["aggregate", "A"]) < 0.05 and abs(penalties["aggregate", "B"]) < 0.05
    # ... the per-point penalty only in case B; case A is far from the prior.
    assert abs(penalties["per_point", "B"]) < 0.05
    assert penalties["per_point", "A"] > 1.0


def test_single_row_batch_has_no_unbiased_mmd_term():
    model, X = _initialized(3, 1, 2, 2, [3], "gaussian", lam=5.0)
    noise = model.draw_noise(X, np.random.default_rng(0))
    loss, _ = model.objective(X, noise)
    mu, log_sigma = model.encode(X)
    f = model.decode(mu + np.exp(log_sigma) * noise["eps"][0])
    nll = ((X - f) ** 2).sum() / 2 + np.log(2 * np.pi)
    np.testing.assert_allclose(loss, nll, rtol=1e-12)


# ====================================================================== training
def test_mixture_prior_wae_keeps_the_gap_between_two_clusters_empty():
    """Fig. 2.13: 2,000 points from N(0, I), 1,000 from N((0, 10), I).

    A VAE's samples smear into the gap 3 < y < 7; a WAE whose prior has two
    well-separated components (16 standard deviations apart, weights 2:1 like
    the clusters) leaves it empty. See tutorials/03_wae.py for the choice of
    settings and how often other seeds succeed.
    """
    X = datasets.two_clusters(random_state=0)
    prior = GaussianMixture(means=[[0.0, -4.0], [0.0, 4.0]], scales=0.5, weights=[2, 1])
    common = dict(n_latent=2, hidden_sizes=(16,), activation="swish", sigma2=0.05,
                  batch_size=100, n_epochs=100, random_state=0)
    wae = WAE(prior=prior, kernel="imq", lam=10.0, lr=2e-2, **common).fit(X)
    S = wae.sample(3000, random_state=0)
    assert gap_fraction(S) < 0.05
    # Both clusters are generated, in the data's proportions (no cluster dropped).
    assert abs(np.mean(S[:, 1] > 7) - 1 / 3) < 0.05
    assert abs(np.mean(S[:, 1] < 3) - 2 / 3) < 0.05
    # The VAE with the same network and training smears mass into the gap.
    vae = VAE(lr=5e-3, **common).fit(X)
    assert gap_fraction(vae.sample(3000, random_state=0)) > 0.10


def test_wae_learns_a_shifted_normal():
    """Fig. 2.10: data N((3, 5), I); the samples' mean and covariance approach the truth."""
    X = datasets.normal_2d(1000, random_state=0)
    # Gaussian kernels summed over γ = 0.01 (the thesis's, long reach) to γ = 1 (h ≈ 0.7,
    # the scale of the N(0, I) prior); tutorials/03_wae.py explains the choice.
    wae = WAE(n_latent=2, hidden_sizes=(8,), sigma2=0.05, kernel=gaussian_kernel(gamma=[0.01, 0.1, 1.0]),
              lam=100.0, lr=5e-3, batch_size=50, n_epochs=150, random_state=0).fit(X)
    S = wae.sample(5000, random_state=1)
    np.testing.assert_allclose(S.mean(axis=0), [3.0, 5.0], atol=0.25)
    np.testing.assert_allclose(np.cov(S.T), np.eye(2), atol=0.25)
    assert wae.history_["loss"][-1] < wae.history_["loss"][0]
    # history_ holds the two parts of the loss, which add up to it.
    np.testing.assert_allclose(np.add(wae.history_["reconstruction"], wae.history_["mmd"]),
                               wae.history_["loss"], rtol=1e-10)


def test_float32_model_trains_and_samples_float32():
    X = datasets.normal_2d(200, random_state=0)
    wae = WAE(hidden_sizes=(4,), n_epochs=2, dtype="float32", random_state=0).fit(X)
    assert wae.params_["decoder.0.W"].dtype == np.float32
    assert wae.sample(10, random_state=0).dtype == np.float32


# ====================================================================== determinism
@pytest.mark.parametrize("mode", ["aggregate", "per_point"])
def test_same_seed_same_model(mode):
    X = datasets.two_clusters(100, 50, random_state=0)
    kwargs = dict(hidden_sizes=(4,), mmd_mode=mode, n_mc=5, n_epochs=3, batch_size=32,
                  prior=GaussianMixture([[0, -2], [0, 2]], 0.5, [2, 1]))
    a = WAE(random_state=3, **kwargs).fit(X)
    b = WAE(random_state=np.random.default_rng(3), **kwargs).fit(X)
    c = WAE(random_state=4, **kwargs).fit(X)
    for name in a.params_:
        np.testing.assert_array_equal(a.params_[name], b.params_[name])
    assert a.history_ == b.history_
    assert any(not np.array_equal(a.params_[k], c.params_[k]) for k in a.params_)
    np.testing.assert_array_equal(a.sample(20, random_state=1), b.sample(20, random_state=1))


# ====================================================================== save / load
@pytest.mark.parametrize("kwargs", [
    dict(prior=GaussianMixture([[0.0, -4.0], [0.0, 4.0]], scales=[0.5, 0.7], weights=[2, 1])),
    dict(kernel=imq_kernel(C=[0.5, 2.0]), mmd_mode="per_point", n_mc=4),
    dict(kernel=gaussian_kernel(bandwidth=3.0), deterministic=True,
         prior=GaussianMixture([[1.0, 1.0]], scales=2.0)),
], ids=["mixture-prior", "kernel-object", "deterministic"])
def test_save_load_round_trip(kwargs, tmp_path):
    X = datasets.two_clusters(60, 30, random_state=1)
    model = WAE(hidden_sizes=(5,), n_epochs=2, batch_size=30, random_state=0, **kwargs).fit(X)
    path = model.save(tmp_path / "wae.npz")
    loaded = load(path)
    assert type(loaded) is WAE
    for name in model.params_:
        np.testing.assert_array_equal(loaded.params_[name], model.params_[name])
    # The prior and the kernel come back as objects equal to the originals.
    if "prior" in kwargs:
        assert type(loaded.prior) is GaussianMixture
        assert loaded.prior.get_config() == kwargs["prior"].get_config()
    if "kernel" in kwargs:
        assert loaded.kernel == kwargs["kernel"]
    for key in ("mmd_mode", "n_mc", "deterministic", "lam", "unbiased"):
        assert getattr(loaded, key) == getattr(model, key)
    np.testing.assert_array_equal(loaded.sample(25, random_state=2), model.sample(25, random_state=2))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    # The same noise gives the same objective: prior, kernel and mode survived.
    noise = model.draw_noise(X, np.random.default_rng(0))
    assert loaded.objective(X, noise)[0] == model.objective(X, noise)[0]
    assert loaded.history_ == model.history_
    # A second save of the loaded model writes the same configuration.
    loaded.save(tmp_path / "again.npz")
    assert load(tmp_path / "again.npz").get_params().keys() == model.get_params().keys()


def test_save_refuses_a_prior_without_config(tmp_path):
    class Uniform:
        dim = 2

        def sample(self, n, random_state=None):
            return np.random.default_rng(random_state).uniform(-1, 1, (n, 2))

    X = datasets.normal_2d(50, random_state=0)
    model = WAE(hidden_sizes=(3,), prior=Uniform(), n_epochs=1, random_state=0).fit(X)
    assert model.sample(4, random_state=0).shape == (4, 2)
    with pytest.raises(TypeError, match="cannot save prior=.*Uniform has no JSON form"):
        model.save(tmp_path / "wae.npz")


# ====================================================================== bad input
X_SMALL = np.random.default_rng(0).standard_normal((20, 3))


class _NoSample:
    dim = 2


class _WrongShape:
    dim = 2

    def sample(self, n, random_state=None):
        return np.zeros((n, 3))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(mmd_mode="both"), ValueError, "mmd_mode must be 'aggregate' or 'per_point', got 'both'"),
    (dict(lam=-1.0), ValueError, "lam must be a finite non-negative number, got -1.0"),
    (dict(lam=np.nan), ValueError, "lam must be a finite non-negative number, got nan"),
    (dict(lam="big"), TypeError, "lam must be a real number, got str"),
    (dict(mmd_mode="per_point", n_mc=1), ValueError, "needs n_mc >= 2 .*got 1"),
    (dict(n_mc=2.5), ValueError, "n_mc must be an int >= 1, got 2.5"),
    (dict(mmd_mode="per_point", deterministic=True), ValueError,
     "mmd_mode='per_point' compares draws of q\\(z\\|x\\) and needs a stochastic encoder"),
    (dict(prior=StandardNormal(3)), ValueError, "prior has dimension 3, but n_latent is 2"),
    (dict(prior=GaussianMixture([[0.0], [1.0]])), ValueError, "prior has dimension 1, but n_latent is 2"),
    (dict(prior=_NoSample()), TypeError, "prior must have a sample\\(n, random_state\\) method, got _NoSample"),
    (dict(prior=_WrongShape()), ValueError, "must return shape \\(20, 2\\), got \\(20, 3\\)"),
    (dict(prior={"kind": "uniform"}), ValueError, "unknown prior configuration"),
    (dict(kernel="laplace"), ValueError, "kernel must be 'gaussian', 'imq' or a Kernel, got 'laplace'"),
    (dict(kernel=None), ValueError, "kernel must be 'gaussian', 'imq' or a Kernel, got None"),
    (dict(kernel="gaussian", kernel_scale=0.0), ValueError, "kernel_scale must be a finite positive number, got 0.0"),
    (dict(kernel="imq", kernel_scale=-2.0), ValueError, "kernel_scale must be a finite positive number, got -2.0"),
    (dict(kernel=imq_kernel(1.0), kernel_scale=1.0), ValueError, "kernel_scale applies to kernel='gaussian' or 'imq' only"),
    (dict(deterministic="yes"), TypeError, "deterministic must be True or False, got 'yes'"),
    (dict(unbiased=1), TypeError, "unbiased must be True or False, got 1"),
    (dict(n_latent=0), ValueError, "n_latent must be an int >= 1, got 0"),
    (dict(sigma2=0.0), ValueError, "sigma2 must be a finite positive number, got 0.0"),
])
def test_bad_hyperparameters_raise_at_fit(kwargs, exc, match):
    model = WAE(**{"hidden_sizes": (3,), "n_epochs": 1, **kwargs})   # __init__ only stores
    with pytest.raises(exc, match=match):
        model.fit(X_SMALL)


def test_elbo_and_log_likelihood_do_not_exist_for_a_wae():
    # A WAE is not a likelihood model: it has no such methods at all (hasattr is honest).
    model = WAE(hidden_sizes=(3,), n_epochs=1, random_state=0).fit(X_SMALL)
    assert not hasattr(model, "elbo") and not hasattr(model, "log_likelihood")
    assert hasattr(model, "reconstruction_error") and hasattr(model, "score_samples")


def test_score_samples_is_minus_the_reconstruction_loss_at_the_mean():
    model = WAE(hidden_sizes=(3,), sigma2=0.5, n_epochs=1, random_state=0).fit(X_SMALL)
    f = model.decode(model.transform(X_SMALL))
    expected = -(((X_SMALL - f) ** 2).sum(axis=1) / (2 * 0.5) + 1.5 * np.log(2 * np.pi * 0.5))
    np.testing.assert_allclose(model.score_samples(X_SMALL), expected, rtol=1e-12)


def test_score_samples_of_a_row_is_bit_identical_alone_and_in_a_large_batch():
    # README: a row's score is bit-identical alone or in a batch. A 1-row product and
    # a 600-row product take different BLAS kernels, so the networks must run on
    # fixed-size padded blocks for this to hold (8 rows, as in test_architecture, hide it).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 7))
    model = WAE(n_latent=3, hidden_sizes=(16,), n_epochs=2, random_state=0).fit(X)
    together = model.score_samples(X)
    assert together.dtype == np.float64
    alone = np.array([model.score_samples(X[i:i + 1])[0] for i in range(0, 600, 7)])
    np.testing.assert_array_equal(alone, together[::7])


def test_deterministic_encoder_reconstructs_from_the_mean():
    model = WAE(hidden_sizes=(3,), deterministic=True, n_epochs=1, random_state=0).fit(X_SMALL)
    np.testing.assert_array_equal(model.reconstruct(X_SMALL, sample_z=True, random_state=0),
                                  model.reconstruct(X_SMALL))
    stochastic = WAE(hidden_sizes=(3,), n_epochs=1, random_state=0).fit(X_SMALL)
    assert not np.array_equal(stochastic.reconstruct(X_SMALL, sample_z=True, random_state=0),
                              stochastic.reconstruct(X_SMALL))


@pytest.mark.parametrize("mmd_mode, n_mc, pairs", [("aggregate", 10**4, "2.0e+12"),
                                                   ("per_point", 10**4, "2.0e+10")])
def test_fit_refuses_a_step_whose_mmd_would_take_hours(mmd_mode, n_mc, pairs):
    X = np.random.default_rng(0).standard_normal((200, 5))
    model = WAE(n_latent=2, hidden_sizes=(16,), batch_size=100, n_mc=n_mc, mmd_mode=mmd_mode, n_epochs=1)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"n_mc=10000 with 100 rows per batch .* over {re.escape(pairs)} pairs"):
        model.fit(X)
    assert time.perf_counter() - start < 5
    assert not hasattr(model, "params_")
    # The thesis's per-point setting (n_mc = 200, batch 100: 8·10⁶ pairs) is far below the bound.
    WAE(n_latent=2, hidden_sizes=(4,), batch_size=100, n_mc=200, mmd_mode="per_point", n_epochs=1,
        random_state=0).fit(X[:100])
