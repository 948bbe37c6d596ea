"""Tests of minivae.models.EMVAE, the mixture of VAEs trained by EM (thesis §2.5).

The stacked components are checked against K separate VAEs holding the same
weights (their encoders, decoders, objectives and scores), the M-step gradient
against central differences with γ and ε held fixed, the E-step against
:func:`minivae.estep.e_step` applied to per-component log-likelihoods computed
by hand, and training against the thesis's three-cluster experiment (2.45).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae import EMVAE, VAE, datasets
from minivae._validation import NotFittedError
from minivae.estep import e_step
from minivae.gradcheck import check_gradients
from minivae.models import load
from tests.strategies import jitter_biases, seeds, toy_inputs

smooth_activations = st.sampled_from(["swish", "swish_beta", "sigmoid", "tanh", "softplus"])
hidden_lists = st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=2)
likelihoods = st.sampled_from(["gaussian", "bernoulli"])


def _initialized(seed, n, nx, nz, hidden, activation, likelihood, K, n_mc=1, sigma2=0.8):
    X = toy_inputs(seed, n, nx, likelihood)
    model = EMVAE(n_components=K, n_latent=nz, hidden_sizes=tuple(hidden), activation=activation,
                  likelihood=likelihood, sigma2=sigma2, n_mc=n_mc)
    model.initialize(X, random_state=seed)
    return jitter_biases(model, seed), X


def _random_log_gamma(seed, n, K, dead=()):
    """Fixed responsibilities: a random softmax per row, exactly 0 in the ``dead`` columns."""
    a = np.random.default_rng(seed + 7).standard_normal((n, K))
    a[:, list(dead)] = -np.inf
    return e_step(a)[0]


def _component_vae(model, k):
    """A VAE with the architecture of one component and component k's weights."""
    vae = VAE(n_latent=model.n_latent, hidden_sizes=model.hidden_sizes, activation=model.activation,
              likelihood=model.likelihood, sigma2=model.sigma2, dtype=model.dtype)
    vae.initialize(np.zeros((1, model.n_features_in_)), random_state=0)
    for name, value in vae.params_.items():
        value[...] = model.params_[name][k]
    return vae


def _by_hand(model, X, eps):
    """−ln p_k(x | z) (L, K, n) and KL_k (K, n), one separate VAE per component (2.31)-(2.33)."""
    L, K = eps.shape[:2]
    nll = np.empty((L, K, X.shape[0]))
    kl = np.empty((K, X.shape[0]))
    for k in range(K):
        vae = _component_vae(model, k)
        mu, log_sigma = vae.encode(X)
        for l in range(L):
            f = vae.decode(mu + np.exp(log_sigma) * eps[l, k])
            if model.likelihood == "gaussian":
                w2 = model.sigma2
                nll[l, k] = ((X - f) ** 2).sum(axis=1) / (2 * w2) + 0.5 * X.shape[1] * np.log(2 * np.pi * w2)
            else:
                nll[l, k] = -(X * np.log(f) + (1 - X) * np.log1p(-f)).sum(axis=1)
        kl[k] = 0.5 * (np.exp(2 * log_sigma) + mu ** 2 - 1.0 - 2 * log_sigma).sum(axis=1)
    return nll, kl


# ====================================================================== gradients
@given(seed=seeds, n=st.integers(1, 4), nx=st.integers(1, 3), nz=st.integers(1, 2),
       hidden=hidden_lists, activation=smooth_activations, likelihood=likelihoods,
       K=st.integers(1, 3), n_mc=st.integers(1, 2), beta=st.floats(0.0, 1.0), dead=st.booleans())
def test_m_step_gradient_matches_finite_differences(seed, n, nx, nz, hidden, activation, likelihood,
                                                    K, n_mc, beta, dead):
    model, X = _initialized(seed, n, nx, nz, hidden, activation, likelihood, K, n_mc)
    noise = model.draw_noise(X, np.random.default_rng(seed))
    assert noise["eps"].shape == (n_mc, K, n, nz)
    dead_components = (K - 1,) if dead and K > 1 else ()
    log_gamma = _random_log_gamma(seed, n, K, dead_components)
    log_alpha = np.log(np.full(K, 1.0 / K))
    log_alpha[list(dead_components)] = -np.inf
    state = {"log_gamma": log_gamma, "log_alpha": log_alpha, "beta": beta}
    result = check_gradients(lambda: model.objective(X, noise, state), model.params_).assert_ok(1e-6)
    assert result.n_checked == sum(v.size for v in model.params_.values())
    if dead_components:
        # γ = 0 exactly: no gradient reaches a dead component.
        _, grads = model.objective(X, noise, state)
        for name, g in grads.items():
            assert not g[K - 1].any(), name


def test_default_state_holds_gamma_at_alpha_and_is_checkable():
    model, X = _initialized(3, 5, 2, 2, [3], "swish", "gaussian", 3)
    noise = model.draw_noise(X, 3)
    check_gradients(lambda: model.objective(X, noise), model.params_).assert_ok(1e-6)
    loss_default, _ = model.objective(X, noise)
    uniform = {"log_gamma": np.full((5, 3), -np.log(3.0)), "log_alpha": np.full(3, -np.log(3.0))}
    assert loss_default == model.objective(X, noise, uniform)[0]


# ====================================================================== batched components
@given(seed=seeds, n=st.integers(1, 5), nx=st.integers(1, 3), nz=st.integers(1, 3),
       hidden=hidden_lists, activation=smooth_activations, likelihood=likelihoods,
       K=st.integers(1, 4), n_mc=st.integers(1, 3))
def test_batched_components_equal_separate_vaes(seed, n, nx, nz, hidden, activation, likelihood, K, n_mc):
    model, X = _initialized(seed, n, nx, nz, hidden, activation, likelihood, K, n_mc)
    mu, log_sigma = model.encode(X)
    Z = np.random.default_rng(seed).standard_normal((3, nz))
    decoded = model.decode(Z)
    assert mu.shape == log_sigma.shape == (K, n, nz) and decoded.shape == (K, 3, nx)
    for k in range(K):
        vae = _component_vae(model, k)
        mu_k, log_sigma_k = vae.encode(X)
        np.testing.assert_allclose(mu[k], mu_k, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(log_sigma[k], log_sigma_k, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(decoded[k], vae.decode(Z), rtol=1e-12, atol=1e-13)

    # The M-step loss (2.44) from K separate VAEs, and with uniform γ each
    # component's gradient is 1/K of its own VAE's negative-ELBO gradient.
    noise = model.draw_noise(X, seed)
    log_gamma = _random_log_gamma(seed, n, K)
    log_alpha = np.log(np.random.default_rng(seed).dirichlet(np.ones(K)))
    nll, kl = _by_hand(model, X, noise["eps"])
    gamma = np.exp(log_gamma).T
    expected = (gamma * (nll.mean(axis=0) + kl - log_alpha[:, None])).sum() / n
    loss, _ = model.objective(X, noise, {"log_gamma": log_gamma, "log_alpha": log_alpha})
    assert loss == pytest.approx(expected, rel=1e-10, abs=1e-10)

    uniform = {"log_gamma": np.full((n, K), -np.log(K)), "log_alpha": np.full(K, -np.log(K))}
    _, grads = model.objective(X, noise, uniform)
    for k in range(K):
        vae = _component_vae(model, k)
        _, vae_grads = vae.objective(X, {"eps": noise["eps"][:, k]})
        for name, g in vae_grads.items():
            np.testing.assert_allclose(grads[name][k], g / K, rtol=1e-9, atol=1e-12, err_msg=name)


def test_step_e_step_writes_responsibilities_and_weights():
    model, X = _initialized(4, 6, 2, 2, [3], "swish", "gaussian", 3, n_mc=2)
    noise = model.draw_noise(X, 4)
    N = 10
    state = model.init_state(np.zeros((N, 2)))
    rows = np.array([7, 2, 9, 0, 4, 5])
    state = {**state, "rows": rows, "e_step": True}
    model.step(X, noise, state, model._grads)
    nll, kl = _by_hand(model, X, noise["eps"])
    expected, _ = e_step(-nll.mean(axis=0).T, np.full(3, -np.log(3.0)))        # (2.43)
    np.testing.assert_allclose(state["log_gamma"][rows], expected, rtol=1e-10, atol=1e-12)
    untouched = np.setdiff1d(np.arange(N), rows)
    np.testing.assert_array_equal(state["log_gamma"][untouched], -np.log(3.0))
    gamma = np.exp(state["log_gamma"])
    np.testing.assert_allclose(state["gamma_sum"], gamma.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.exp(state["log_alpha"]), gamma.mean(axis=0), rtol=1e-12)   # (2.44)

    model.set_params(e_step_score="elbo")
    state = {**model.init_state(np.zeros((N, 2))), "rows": rows, "e_step": True}
    model.step(X, noise, state, model._grads)
    expected, _ = e_step((-nll.mean(axis=0) - kl).T, np.full(3, -np.log(3.0)))
    np.testing.assert_allclose(state["log_gamma"][rows], expected, rtol=1e-10, atol=1e-12)


def test_single_component_scores_equal_the_vae():
    model, X = _initialized(5, 7, 3, 2, [4], "tanh", "gaussian", 1)
    model.weights_ = np.ones(1)
    vae = _component_vae(model, 0)
    np.testing.assert_allclose(model.score_samples(X, n_mc=20, random_state=3),
                               vae.log_likelihood(X, n_mc=20, random_state=3), rtol=1e-10)
    np.testing.assert_allclose(model.reconstruction_error(X, n_mc=4, random_state=3),
                               vae.reconstruction_error(X, n_mc=4, random_state=3), rtol=1e-10)
    np.testing.assert_array_equal(model.predict_proba(X), 1.0)
    np.testing.assert_allclose(model.transform(X), vae.transform(X), rtol=1e-12)


# ====================================================================== the thesis's experiment
# (2.45) with the thesis's settings: K = 6, nx = nh = nz = 2, swish, ω² = 0.3, 200 epochs of
# minibatches of 100; then the settings the EMVAE docstring recommends for a reliable fit
# (4 draws, ELBO score, an E-step per epoch annealed over 100 epochs, pruning below 0.02).
THESIS = dict(n_components=6, n_latent=2, hidden_sizes=(2,), activation="swish", sigma2=0.3,
              lr=1e-3, batch_size=100, n_epochs=200)
RECOMMENDED = dict(n_mc=4, e_step_score="elbo", e_step_every="epoch", prune_below=0.02,
                   anneal_epochs=100, anneal_start=0.3)


def _finds_three_clusters(model, X, labels):
    """The criterion of the test below, as a bool: three components at the proportions, one per cluster."""
    alpha = model.weights_
    used = np.sort(alpha[alpha > 0.05])[::-1]
    if used.size != 3 or np.abs(used - [800 / 1400, 400 / 1400, 200 / 1400]).max() > 0.05:
        return False
    if model.n_components_used_ != 3:
        return False
    predicted = model.predict(X)
    counts = [np.bincount(predicted[labels == c], minlength=6) for c in range(3)]
    return (min(c.max() / c.sum() for c in counts) > 0.95
            and len({c.argmax() for c in counts}) == 3)


@pytest.fixture(scope="module")
def three_cluster_fit():
    X, labels = datasets.three_clusters(random_state=0, return_labels=True)
    model = EMVAE(**THESIS, **RECOMMENDED, random_state=0).fit(X)
    return model, X, labels


def test_three_clusters_are_found_with_their_proportions(three_cluster_fit):
    model, X, labels = three_cluster_fit
    alpha = model.weights_
    assert alpha.shape == (6,) and alpha.sum() == pytest.approx(1.0, abs=1e-12)
    used = np.sort(alpha[alpha > 0.05])[::-1]
    assert used.size == 3, alpha
    np.testing.assert_allclose(used, [800 / 1400, 400 / 1400, 200 / 1400], atol=0.05)
    assert model.n_components_used_ == 3
    # Each true cluster is explained by one component of its own.
    predicted = model.predict(X)
    for c in range(3):
        share = np.bincount(predicted[labels == c], minlength=6).max() / (labels == c).sum()
        assert share > 0.95, (c, share)
    assert len({np.bincount(predicted[labels == c], minlength=6).argmax() for c in range(3)}) == 3
    assert _finds_three_clusters(model, X, labels)
    # Pruning below 0.02 leaves the three unused components at α = 0 exactly.
    assert (alpha == 0).sum() == 3


def test_recommended_settings_find_the_clusters_for_most_seeds():
    # Seeds 1-5: the five seeds after the fixture's, fixed by that rule (not picked by outcome).
    # Over seeds 0-19 the recommended settings succeeded for 13/20, the thesis's for 3/20
    # (tutorial 04 has the table); on seeds 1-5 they succeeded for 4/5 and 2/5. One failure
    # is allowed, so the test guards the improvement without pinning single runs.
    X, labels = datasets.three_clusters(random_state=0, return_labels=True)
    found = [_finds_three_clusters(EMVAE(**THESIS, **RECOMMENDED, random_state=s).fit(X), X, labels)
             for s in range(1, 6)]
    assert sum(found) >= 4, found


def test_annealing_tempers_the_e_step():
    """With power b, (2.43) is γ ∝ (α_k p_k)^b; b rises linearly from anneal_start to 1."""
    model, X = _initialized(4, 6, 2, 2, [3], "swish", "gaussian", 3, n_mc=2)
    model.set_params(anneal_epochs=4, anneal_start=0.2)
    assert [model._e_step_power(t) for t in range(6)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    noise = model.draw_noise(X, 4)
    rows = np.arange(6)
    log_alpha = np.log([0.5, 0.3, 0.2])
    state = {**model.init_state(X), "rows": rows, "e_step": True, "e_step_power": 0.5}
    state["log_alpha"][...] = log_alpha
    model.step(X, noise, state, model._grads)
    nll, _ = _by_hand(model, X, noise["eps"])
    expected, _ = e_step(0.5 * (-nll.mean(axis=0).T), 0.5 * log_alpha)
    np.testing.assert_allclose(state["log_gamma"], expected, rtol=1e-10, atol=1e-12)
    # Flatter than the untempered (2.43): the largest γ of every row is smaller.
    untempered, _ = e_step(-nll.mean(axis=0).T, log_alpha)
    assert (expected.max(axis=1) <= untempered.max(axis=1) + 1e-12).all()


def test_annealing_longer_than_the_fit_warns():
    # With anneal_epochs >= n_epochs no E-step runs untempered: weights_ come from
    # flattened responsibilities. The fit says so instead of failing silently.
    X = np.random.default_rng(0).standard_normal((40, 2))
    model = EMVAE(n_components=3, hidden_sizes=(3,), n_epochs=4, anneal_epochs=10, anneal_start=0.3,
                  random_state=0)
    with pytest.warns(UserWarning, match=r"anneal_epochs=10 >= n_epochs=4.*b = 0.51"):
        model.fit(X)
    assert np.isclose(model.weights_.sum(), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_params(anneal_epochs=3).fit(X)       # finishes: the last epoch has b = 1


def test_samples_follow_the_mixture_weights(three_cluster_fit):
    model, X, labels = three_cluster_fit
    x, v = model.sample(20_000, random_state=1, return_components=True)
    assert x.shape == (20_000, 2)
    freq = np.bincount(v, minlength=6) / v.size
    se = np.sqrt(model.weights_ * (1 - model.weights_) / v.size)
    assert (np.abs(freq - model.weights_) <= 5 * se + 1e-12).all()
    # Each used component generates around the cluster it explains: the mean
    # of its samples is nearest to that cluster's centre. (After 200 epochs the
    # samples of a component are still wider than its cluster: z ~ N(0, I)
    # reaches where the encoder's q_k(z|x) put little mass.)
    centres = np.array([[0.0, 5.0], [-5.0, 3.0], [5.0, -3.0]])
    predicted = model.predict(X)
    used = np.flatnonzero(model.weights_ > 0.05)
    for k in used:
        cluster = np.bincount(labels[predicted == k], minlength=3).argmax()
        nearest = np.linalg.norm(x[v == k].mean(axis=0) - centres, axis=1).argmin()
        assert nearest == cluster, (k, x[v == k].mean(axis=0), cluster)


def test_scores_are_row_independent_and_normalised(three_cluster_fit):
    model, X, _ = three_cluster_fit
    gamma = model.predict_proba(X[:50], random_state=2)
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.predict_proba(X[10:20], random_state=2), gamma[10:20])
    scores = model.score_samples(X[:50], n_mc=10, random_state=2)
    np.testing.assert_array_equal(model.score_samples(X[30:40], n_mc=10, random_state=2), scores[30:40])
    assert np.isfinite(scores).all()
    far = model.score_samples(np.array([[30.0, -30.0]]), n_mc=10, random_state=2)
    assert far[0] < scores.min()
    errors = model.reconstruction_error(X[:50], n_mc=3, random_state=2)
    np.testing.assert_array_equal(model.reconstruction_error(X[5:9], n_mc=3, random_state=2), errors[5:9])
    # A Generator gives γ and the errors the same ε too: equal to its own first seed drawn as an int.
    seed = int(np.random.default_rng(11).integers(2**63))
    np.testing.assert_array_equal(
        model.reconstruction_error(X[:20], n_mc=3, random_state=np.random.default_rng(11)),
        model.reconstruction_error(X[:20], n_mc=3, random_state=seed))
    assert model.transform(X[:50]).shape == (50, 2)
    assert model.reconstruct(X[:50]).shape == (50, 2)


# ====================================================================== options
def test_pruning_and_floor():
    X = datasets.two_clusters(n1=200, n2=100, random_state=0)
    common = dict(n_components=4, n_latent=2, hidden_sizes=(4,), sigma2=0.3, n_epochs=15,
                  lr=3e-3, random_state=0)
    pruned = EMVAE(prune_below=0.1, **common).fit(X)
    dead = pruned.weights_ == 0
    assert dead.any() and pruned.weights_.sum() == pytest.approx(1.0)
    gamma = pruned.predict_proba(X[:20])
    assert (gamma[:, dead] == 0).all()
    floored = EMVAE(weight_floor=0.05, **common).fit(X)
    assert (floored.weights_ >= 0.05 - 1e-12).all() and floored.weights_.sum() == pytest.approx(1.0)
    per_epoch = EMVAE(e_step_every="epoch", e_step_score="elbo", **common).fit(X)
    assert per_epoch.weights_.sum() == pytest.approx(1.0)
    assert set(per_epoch.history_) == {"loss", "reconstruction", "kl", "mixing"}


# ====================================================================== estimator contract
def test_same_seed_gives_identical_fits():
    X = datasets.two_clusters(n1=100, n2=50, random_state=1)
    fits = [EMVAE(n_components=3, hidden_sizes=(3,), n_epochs=3, random_state=5).fit(X) for _ in range(2)]
    for name, value in fits[0].params_.items():
        np.testing.assert_array_equal(value, fits[1].params_[name])
    np.testing.assert_array_equal(fits[0].weights_, fits[1].weights_)
    assert fits[0].history_ == fits[1].history_
    other = EMVAE(n_components=3, hidden_sizes=(3,), n_epochs=3, random_state=6).fit(X)
    assert not np.array_equal(other.params_["mu.W"], fits[0].params_["mu.W"])


def test_save_load_round_trip(tmp_path):
    X = datasets.two_clusters(n1=100, n2=50, random_state=1)
    model = EMVAE(n_components=3, hidden_sizes=(3,), n_epochs=3, prune_below=0.2,
                  random_state=5).fit(X)
    path = model.save(tmp_path / "emvae.npz")
    loaded = load(path)
    assert isinstance(loaded, EMVAE) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.weights_, model.weights_)
    assert loaded.n_components_used_ == model.n_components_used_
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.score_samples(X, n_mc=5), model.score_samples(X, n_mc=5))
    np.testing.assert_array_equal(loaded.sample(5, random_state=0), model.sample(5, random_state=0))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_components": 0}, ValueError, "n_components must be an int >= 1, got 0"),
    ({"e_step_every": "sometimes"}, ValueError, "e_step_every must be 'batch' or 'epoch', got 'sometimes'"),
    ({"e_step_score": "kl"}, ValueError, "e_step_score must be 'likelihood' or 'elbo', got 'kl'"),
    ({"weight_floor": 0.5}, ValueError, r"weight_floor must lie in \[0, 1/n_components\)"),
    ({"prune_below": -0.1}, ValueError, "prune_below must lie in"),
    ({"weight_floor": "0.1"}, TypeError, "weight_floor must be a real number, got str"),
    ({"weight_floor": 0.1, "prune_below": 0.1}, ValueError, "at most one of weight_floor and prune_below"),
    ({"sigma2": -1.0}, ValueError, "sigma2 must be a finite positive number"),
    ({"anneal_epochs": -1}, ValueError, "anneal_epochs must be an int >= 0, got -1"),
    ({"anneal_epochs": 2.5}, ValueError, "anneal_epochs must be an int >= 0, got 2.5"),
    ({"anneal_start": 0.0}, ValueError, "anneal_start must be a finite positive number, got 0.0"),
    ({"anneal_start": 1.5}, ValueError, r"anneal_start must lie in \(0, 1\], got 1.5"),
    ({"anneal_start": "0.3"}, TypeError, "anneal_start"),
])
def test_bad_hyperparameters_raise_at_fit(kwargs, error, message):
    X = np.zeros((4, 2))
    with pytest.raises(error, match=message):
        EMVAE(**{"n_components": 3, **kwargs}).fit(X)


def test_bad_data_and_unfitted_use_raise():
    with pytest.raises(NotFittedError):
        EMVAE().predict(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="contains NaN"):
        EMVAE().fit(np.array([[0.0, np.nan]]))
    model = EMVAE(n_components=2, hidden_sizes=(2,), n_epochs=1, random_state=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="X has 2 features, but this EMVAE was fitted with 3"):
        model.predict_proba(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="n_mc must be an int >= 1, got 0"):
        model.score_samples(np.eye(3), n_mc=0)
    with pytest.raises(ValueError, match="n_samples must be an int >= 1"):
        model.sample(0)
    with pytest.raises(TypeError, match="return_components must be True or False"):
        model.sample(2, return_components="yes")
    with pytest.raises(ValueError, match="Z has 3 features"):
        model.decode(np.zeros((1, 3)))
