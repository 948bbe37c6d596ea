"""Tests of minivae.models.VampPriorVAE and the VampPrior density (2.42).

Each check has an independent reference: central differences for every
gradient (encoder, decoder and pseudo-inputs, ε held fixed), a plain double
loop over (2.42) for the density, N(0, I) for a constructed one-component
prior, and hand-placed pseudo-inputs for the sampler.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae import VampPriorVAE, datasets
from minivae._validation import NotFittedError
from minivae.gradcheck import check_gradients
from minivae.losses import LOG_2PI, log_normal_from_eps, log_standard_normal
from minivae.models import load, vampprior
from minivae.models.vampprior import VampPrior, vampprior_log_prob, vampprior_log_prob_backward
from tests.strategies import jitter_biases, seeds, toy_inputs

smooth_activations = st.sampled_from(["swish", "sigmoid", "tanh", "softplus"])
transforms = st.sampled_from([None, "sigmoid", "hardtanh"])
likelihoods = st.sampled_from(["gaussian", "bernoulli"])


def _initialized(seed, n, nx, nz, K, hidden, activation, likelihood, transform, n_mc=1):
    X = toy_inputs(seed, n, nx, likelihood)
    model = VampPriorVAE(n_pseudo=K, n_latent=nz, hidden_sizes=hidden, activation=activation,
                         likelihood=likelihood, n_mc=n_mc, pseudo_transform=transform)
    model.initialize(X, random_state=seed)
    jitter_biases(model, seed)
    rng = np.random.default_rng(seed + 2)
    if transform == "hardtanh":
        # away from the kinks at 0 and 1, where a central difference is meaningless
        model.params_["u"][...] = rng.uniform(0.1, 0.9, model.params_["u"].shape)
    else:
        model.params_["u"][...] += 0.3 * rng.standard_normal(model.params_["u"].shape)
    return model, X


# ====================================================================== gradients
@given(seed=seeds, n=st.integers(1, 4), nx=st.integers(1, 4), nz=st.integers(1, 3), K=st.integers(1, 4),
       hidden=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
       activation=smooth_activations, likelihood=likelihoods, transform=transforms,
       n_mc=st.integers(1, 3), beta=st.floats(0.0, 1.0))
def test_objective_gradient_matches_finite_differences(seed, n, nx, nz, K, hidden, activation, likelihood,
                                                        transform, n_mc, beta):
    model, X = _initialized(seed, n, nx, nz, K, hidden, activation, likelihood, transform, n_mc)
    noise = model.draw_noise(X, np.random.default_rng(seed))
    result = check_gradients(lambda: model.objective(X, noise, state={"beta": beta}), model.params_)
    result.assert_ok(1e-6)
    # the pseudo-inputs really receive a gradient (unless β = 0 switches the prior off)
    _, grads = model.objective(X, noise)
    assert np.abs(grads["u"]).max() > 0


@given(seed=seeds, m=st.integers(1, 6), K=st.integers(1, 5), d=st.integers(1, 4))
def test_density_gradient_matches_finite_differences(seed, m, K, d):
    rng = np.random.default_rng(seed)
    arrays = {"z": rng.standard_normal((m, d)), "mu_u": rng.standard_normal((K, d)),
              "log_sigma_u": 0.5 * rng.standard_normal((K, d))}
    g = rng.standard_normal(m)

    def func():
        log_p, cache = vampprior_log_prob(arrays["z"], arrays["mu_u"], arrays["log_sigma_u"])
        d_z, d_mu_u, d_log_sigma_u = vampprior_log_prob_backward(g, cache)
        return float(g @ log_p), {"z": d_z, "mu_u": d_mu_u, "log_sigma_u": d_log_sigma_u}

    check_gradients(func, arrays).assert_ok(1e-6)


# ====================================================================== the density (2.42)
def _double_loop(z, mu_u, log_sigma_u):
    """ln (1/K) Σ_k Π_j N(z_j | μ_kj, σ_kj²), one component and one coordinate at a time."""
    out = np.empty(z.shape[0])
    K, d = mu_u.shape
    for i in range(z.shape[0]):
        terms = []
        for k in range(K):
            t = 0.0
            for j in range(d):
                s = np.exp(log_sigma_u[k, j])
                t += -0.5 * ((z[i, j] - mu_u[k, j]) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
            terms.append(t)
        top = max(terms)   # the oracle in log space too, so far points do not underflow
        out[i] = top + np.log(sum(np.exp(t - top) for t in terms) / K)
    return out


@given(seed=seeds, m=st.integers(1, 6), K=st.integers(1, 6), d=st.integers(1, 4),
       spread=st.floats(0.1, 10.0))
def test_log_density_equals_double_loop(seed, m, K, d, spread):
    rng = np.random.default_rng(seed)
    z = spread * rng.standard_normal((m, d))
    mu_u = spread * rng.standard_normal((K, d))
    log_sigma_u = rng.uniform(-1.0, 1.0, (K, d))
    expected = _double_loop(z, mu_u, log_sigma_u)
    np.testing.assert_allclose(vampprior_log_prob(z, mu_u, log_sigma_u)[0], expected, rtol=1e-10, atol=1e-10)
    prior = VampPrior(mu_u, log_sigma_u)
    np.testing.assert_allclose(prior.log_prob(z), expected, rtol=1e-10, atol=1e-10)


def test_prior_log_prob_blocks_and_leading_axes(monkeypatch):
    rng = np.random.default_rng(0)
    prior = VampPrior(rng.standard_normal((7, 3)), 0.3 * rng.standard_normal((7, 3)))
    z = rng.standard_normal((4, 5, 3))
    whole = prior.log_prob(z)
    assert whole.shape == (4, 5)
    monkeypatch.setattr(vampprior, "_BLOCK_ENTRIES", 7 * 3)   # blocks of 3 rows
    np.testing.assert_array_equal(prior.log_prob(z), whole)
    np.testing.assert_allclose(whole.ravel(), _double_loop(z.reshape(-1, 3), prior.mu_u, prior.log_sigma_u),
                               rtol=1e-10)


def test_log_density_far_from_every_component_is_finite():
    mu_u = np.array([[0.0, 0.0], [1.0, 1.0]])
    log_sigma_u = np.full((2, 2), -3.0)
    z = np.array([[1e3, -1e3], [0.5, 0.5]])
    log_p = vampprior_log_prob(z, mu_u, log_sigma_u)[0]
    assert np.isfinite(log_p).all()
    np.testing.assert_allclose(log_p, _double_loop(z, mu_u, log_sigma_u), rtol=1e-10)


def _constructed_encoder_model(u0, seed=0):
    """K = 1, with the encoder's biases set so that exactly u0 maps to μ = 0, log σ = 0."""
    nx = u0.size
    X = np.random.default_rng(seed).standard_normal((10, nx))
    model = VampPriorVAE(n_pseudo=1, n_latent=3, hidden_sizes=(4,), activation="tanh")
    model.initialize(X, random_state=seed)
    rng = np.random.default_rng(seed + 1)
    for name in ("mu.W", "log_sigma.W"):
        model.params_[name][...] = rng.standard_normal(model.params_[name].shape)
    h = model.modules_["encoder"].forward(u0[None])[0][0]
    model.params_["mu.b"][...] = -model.params_["mu.W"] @ h
    model.params_["log_sigma.b"][...] = -model.params_["log_sigma.W"] @ h
    model.params_["u"][...] = u0
    return model, X


def test_one_pseudo_input_mapped_to_the_origin_gives_the_standard_normal():
    u0 = np.array([0.3, -1.2])
    model, X = _constructed_encoder_model(u0)
    # the construction: u0 goes to N(0, I), other inputs do not
    mu, log_sigma = model.encode(np.vstack([u0, u0 + 1.0]))
    np.testing.assert_allclose(mu[0], 0.0, atol=1e-14)
    np.testing.assert_allclose(log_sigma[0], 0.0, atol=1e-14)
    assert np.abs(mu[1]).max() > 0.1
    z = np.random.default_rng(3).normal(scale=2.0, size=(50, 3))
    np.testing.assert_allclose(model.prior_.log_prob(z), log_standard_normal(z), rtol=1e-12, atol=1e-12)
    # and the training objective's KL term is then ln q(z|x) − ln N(z | 0, I), by hand
    noise = model.draw_noise(X, 0)
    mu, log_sigma = model.encode(X)
    z = mu + np.exp(log_sigma) * noise["eps"]
    kl = (log_normal_from_eps(noise["eps"], log_sigma) - log_standard_normal(z)).mean()
    _, terms = model.step(X, noise, {"beta": 1.0, "rows": np.arange(10)}, model._grads)
    np.testing.assert_allclose(terms["kl"], kl, rtol=1e-12)


# ====================================================================== sampling
def _three_means_model():
    """n_features = n_latent = 2, identity encoder and decoder, σ = 0.1: u_k is the component mean."""
    X = np.zeros((5, 2))
    model = VampPriorVAE(n_pseudo=3, n_latent=2, hidden_sizes=(2,), activation="identity")
    model.initialize(X, random_state=0)
    for name, value in model.params_.items():
        value[...] = 0.0
    for name in ("encoder.0.W", "mu.W", "decoder.0.W", "decoder.1.W"):
        model.params_[name][...] = np.eye(2)
    model.params_["log_sigma.b"][...] = np.log(0.1)
    means = np.array([[-10.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    model.params_["u"][...] = means
    return model, means


def test_sample_draws_from_the_vampprior_not_the_standard_normal():
    model, means = _three_means_model()
    n = 3000
    z, k = model.prior_.sample(n, random_state=0, return_components=True)
    # proportions 1/3 each, within 5 binomial standard errors
    se = np.sqrt((1 / 3) * (2 / 3) / n)
    assert np.all(np.abs(np.bincount(k, minlength=3) / n - 1 / 3) < 5 * se)
    # every draw sits near its own component's mean (σ = 0.1), none in between
    dist = np.linalg.norm(z[:, None, :] - means[None], axis=2)
    np.testing.assert_array_equal(dist.argmin(axis=1), k)
    assert dist.min(axis=1).max() < 0.6
    # the component spread is σ = 0.1 per coordinate
    np.testing.assert_allclose((z - means[k]).std(axis=0), 0.1, rtol=0.1)
    # model.sample decodes exactly these draws (the decoder here is the identity)
    x = model.sample(n, random_state=0)
    np.testing.assert_allclose(x, z, rtol=0, atol=1e-12)
    assert np.mean(np.linalg.norm(x, axis=1) < 3.0) == 0.0   # N(0, I) would put 99 % there


# ====================================================================== scores
@pytest.fixture(scope="module")
def fitted():
    X = datasets.bars(120, size=4, random_state=0)
    model = VampPriorVAE(n_pseudo=6, n_latent=2, hidden_sizes=(8,), likelihood="bernoulli",
                         pseudo_transform="hardtanh", kl_warmup=3, n_epochs=8, batch_size=30,
                         random_state=0)
    return model.fit(X), X


def test_scores_are_finite_and_row_independent(fitted):
    model, X = fitted
    for score in (lambda A: model.log_likelihood(A, n_mc=20, random_state=3),
                  lambda A: model.elbo(A, n_mc=4, random_state=3),
                  lambda A: model.score_samples(A, n_mc=20, random_state=3),
                  lambda A: model.reconstruction_error(A, n_mc=4, random_state=3)):
        full = score(X[:12])
        assert np.isfinite(full).all()
        # Equal up to the last bits only: OpenBLAS multiplies a single row by another
        # kernel (gemv) than a stack of rows, so even the VAE's encode(X[i:i+1]) can
        # differ from encode(X)[i] by an ulp. A dependence on the other rows (ε laid out
        # by batch position) would show as differences of order 1.
        for i in (0, 5, 11):
            np.testing.assert_allclose(score(X[i:i + 1])[0], full[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(score(X[:12][::-1]), full[::-1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(score(np.vstack([X[:12], 1.0 - X[:12]]))[:12], full, rtol=1e-12, atol=1e-12)
    # the block size of log_likelihood changes nothing
    np.testing.assert_array_equal(model.log_likelihood(X[:12], n_mc=20, random_state=3, rows_per_block=5),
                                  model.log_likelihood(X[:12], n_mc=20, random_state=3))


@pytest.mark.parametrize("log_sigma_bias", [-800.0, -50.0, 0.0, 700.0])
def test_scores_finite_at_extreme_log_sigma(fitted, log_sigma_bias):
    model, X = fitted
    params = {k: v.copy() for k, v in model.params_.items()}
    try:
        model.params_["log_sigma.W"][...] = 0.0
        model.params_["log_sigma.b"][...] = log_sigma_bias
        assert np.isfinite(model.log_likelihood(X[:5], n_mc=10)).all()
        assert np.isfinite(model.elbo(X[:5], n_mc=3)).all()
        assert np.isfinite(model.prior_.log_prob(np.zeros((2, 2)))).all()
        noise = model.draw_noise(X[:5], 0)
        loss, grads = model.objective(X[:5], noise)
        assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())
    finally:
        for k, v in params.items():
            model.params_[k][...] = v


def test_log_likelihood_bound_and_history(fitted):
    model, X = fitted
    ll = model.log_likelihood(X[:20], n_mc=200, random_state=0)
    elbo = model.elbo(X[:20], n_mc=200, random_state=0)
    # the importance-weighted estimate is above the ELBO on average (same draws)
    assert ll.mean() > elbo.mean()
    assert set(model.history_) == {"loss", "reconstruction", "kl"}
    # warm-up: β = 0 in the first epoch, so the loss is the reconstruction term alone
    assert model.history_["loss"][0] == model.history_["reconstruction"][0]


def test_pseudo_inputs_stay_in_the_data_range_and_start_at_rows():
    X = datasets.bars(60, size=3, random_state=1)
    for transform in ("sigmoid", "hardtanh"):
        model = VampPriorVAE(n_pseudo=5, n_latent=2, hidden_sizes=(6,), likelihood="bernoulli",
                             pseudo_transform=transform, lr=0.05, n_epochs=5, random_state=0)
        start = VampPriorVAE(**model.get_params()).initialize(X).pseudo_inputs_
        rows = {tuple(r) for r in X}
        if transform == "hardtanh":
            assert all(tuple(r) in rows for r in start)
        else:   # rows pulled 0.01 inside (0, 1)
            clipped = {tuple(np.clip(r, 0.01, 0.99)) for r in X}
            assert all(tuple(np.round(r, 12)) in {tuple(np.round(c, 12)) for c in clipped} for r in start)
        u = model.fit(X).pseudo_inputs_
        assert u.shape == (5, 9) and u.min() >= 0.0 and u.max() <= 1.0
        assert not np.array_equal(u, start)   # they were trained
    # without a transform the pseudo-inputs are the parameter itself
    model = VampPriorVAE(n_pseudo=4, n_latent=2, hidden_sizes=(6,), pseudo_init="normal").initialize(X, 0)
    np.testing.assert_array_equal(model.pseudo_inputs_, model.params_["u"])
    assert abs(model.params_["u"].mean() + 0.05) < 0.005 and abs(model.params_["u"].std() - 0.01) < 0.003


def test_same_seed_same_model_and_save_load(tmp_path, fitted):
    model, X = fitted
    again = VampPriorVAE(**model.get_params()).fit(X)
    for name, value in model.params_.items():
        np.testing.assert_array_equal(again.params_[name], value)
    path = model.save(tmp_path / "vamp.npz")
    loaded = load(path)
    assert type(loaded) is VampPriorVAE and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.pseudo_inputs_, model.pseudo_inputs_)
    np.testing.assert_array_equal(loaded.log_likelihood(X[:5], n_mc=10), model.log_likelihood(X[:5], n_mc=10))
    np.testing.assert_array_equal(loaded.sample(3, random_state=1), model.sample(3, random_state=1))


# ====================================================================== errors
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_pseudo=0), ValueError, "n_pseudo must be an int >= 1, got 0"),
    (dict(n_pseudo=2.5), ValueError, "n_pseudo must be an int"),
    (dict(pseudo_init="random"), ValueError, "pseudo_init must be 'rows' or 'normal', got 'random'"),
    (dict(pseudo_init=None), ValueError, "pseudo_init must be"),
    (dict(pseudo_transform="relu"), ValueError, "pseudo_transform must be None, 'sigmoid' or 'hardtanh'"),
    (dict(pseudo_transform=True), ValueError, "pseudo_transform must be"),
    (dict(pseudo_init="normal", pseudo_transform="hardtanh"), ValueError, "no gradient"),
    (dict(kl_warmup=-1), ValueError, "kl_warmup must be an int >= 0"),
    (dict(n_latent=0), ValueError, "n_latent"),
])
def test_bad_hyperparameters_raise_at_fit(kwargs, exc, match):
    X = np.random.default_rng(0).random((10, 3))
    with pytest.raises(exc, match=match):
        VampPriorVAE(n_pseudo=kwargs.pop("n_pseudo", 3), n_epochs=1, **kwargs).fit(X)


def test_unfitted_model_has_no_prior():
    model = VampPriorVAE()
    assert not hasattr(model, "prior_")
    with pytest.raises(NotFittedError, match="not fitted"):
        model.prior_
    with pytest.raises(NotFittedError, match="not fitted"):
        model.pseudo_inputs_
    with pytest.raises(NotFittedError):
        model.sample(2)


def test_bad_prior_arguments():
    with pytest.raises(ValueError, match="one shape"):
        VampPrior(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        VampPrior(np.full((1, 1), np.nan), np.zeros((1, 1)))
    prior = VampPrior(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3 entries along its last axis"):
        prior.log_prob(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        prior.sample(-1)
    assert prior.sample(0).shape == (0, 3)
    # a one-component prior with σ = 1 at 0 is N(0, I), constant included
    np.testing.assert_allclose(VampPrior(np.zeros((1, 2)), np.zeros((1, 2))).log_prob(np.zeros(2)), -LOG_2PI)
