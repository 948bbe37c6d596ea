"""The model architecture: one explicit step, the public objective, literal Adam, row-independent
and finite scores, divergence, the likelihood's domain, and model files (issues 8 and 9)."""

import json
import multiprocessing
import os
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from minivae import GaussianMixture
from minivae._validation import NotFittedError
from minivae.models import (EMVAE, VAE, WAE, Autoencoder, BaseModel, TrainingDivergedError,
                            VampPriorVAE, load)
from minivae.optim import Adam

X8 = np.random.default_rng(0).normal(size=(8, 3))


# ---------------------------------------------------------------------- Adam
def test_adam_matches_the_algorithm_box_line_by_line():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(50)
    ours = theta.copy()
    adam = Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    m = np.zeros(50)
    v = np.zeros(50)
    for t in range(1, 31):
        g = rng.standard_normal(50) * 10.0 ** rng.integers(-3, 3)
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        m_hat = m / (1 - 0.8 ** t)
        v_hat = v / (1 - 0.99 ** t)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6)
        adam.step({"w": ours}, {"w": g.copy()})
        np.testing.assert_allclose(ours, theta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(adam.m["w"], m, rtol=1e-12)
    np.testing.assert_allclose(adam.v["w"], v, rtol=1e-12)


def test_optimizer_state_is_named_like_params():
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=2, random_state=0).fit(X8)
    state = model.optimizer_state()
    assert state["t"] == 2
    for key in ("m", "v"):
        assert state[key].keys() == model.params_.keys()
        for name, value in state[key].items():
            assert value.shape == model.params_[name].shape
    assert np.any(state["m"]["decoder.0.W"] != 0)


# ---------------------------------------------------------------------- the step and objective
def test_step_adds_into_the_grads_it_is_given():
    model = VAE(n_latent=2, hidden_sizes=(4,), random_state=0).initialize(X8)
    noise = model.draw_noise(X8, 1)
    loss, grads = model.objective(X8, noise)
    model._flat.grad.fill(0.0)
    for _ in range(2):
        model.step(X8, noise, {"beta": 1.0, "rows": np.arange(8)}, model._grads)
    for name, g in grads.items():
        np.testing.assert_allclose(model._flat.grads[name], 2 * g, rtol=1e-12, atol=1e-15)


def test_objective_after_a_fit_inside_the_warmup_is_the_full_negative_elbo():
    model = VAE(n_latent=2, hidden_sizes=(5,), kl_warmup=10, n_epochs=3, random_state=0).fit(X8)
    noise = model.draw_noise(X8, 3)
    full, _ = model.objective(X8, noise)
    warm, _ = model.objective(X8, noise, state={"beta": 0.2})
    mu, log_sigma = model.encode(X8)
    z = mu + np.exp(log_sigma) * noise["eps"][0]
    f = model.decode(z)
    nll = 0.5 * ((X8 - f) ** 2).sum(axis=1) + 1.5 * np.log(2 * np.pi)
    kl = 0.5 * (np.exp(2 * log_sigma) + mu ** 2 - 2 * log_sigma - 1).sum(axis=1)
    assert full == pytest.approx(np.mean(nll + kl), rel=1e-12)
    assert warm == pytest.approx(np.mean(nll + 0.2 * kl), rel=1e-12)


def test_objective_needs_noise_where_the_model_draws_some():
    model = VAE(n_latent=2, hidden_sizes=(4,), random_state=0).initialize(X8)
    with pytest.raises(TypeError, match="pass noise=model.draw_noise"):
        model.objective(X8)
    with pytest.raises(TypeError, match="noise must be the dict"):
        model.objective(X8, noise=[1, 2])
    # A plain autoencoder draws nothing: objective(X) is fine.
    assert np.isfinite(Autoencoder(n_latent=2).initialize(X8).objective(X8)[0])


def test_base_model_is_not_instantiable():
    with pytest.raises(TypeError, match="BaseModel is the base class"):
        BaseModel()


# ---------------------------------------------------------------------- scores
def _fitted_models():
    Xb = np.random.default_rng(1).random((40, 3))
    return [
        ("vae", VAE(n_latent=2, hidden_sizes=(6,), n_epochs=3, random_state=0).fit(X8), X8),
        ("vae-bernoulli", VAE(n_latent=2, hidden_sizes=(6,), likelihood="bernoulli", n_epochs=3,
                              random_state=0).fit(Xb), Xb),
        ("wae", WAE(n_latent=2, hidden_sizes=(6,), n_epochs=3, random_state=0).fit(X8), X8),
    ]


SCORES = {
    "elbo": lambda m, X: m.elbo(X, n_mc=5, random_state=3),
    "log_likelihood": lambda m, X: m.log_likelihood(X, n_mc=7, random_state=3),
    "score_samples": lambda m, X: m.score_samples(X),
    "reconstruction_error": lambda m, X: m.reconstruction_error(X, n_mc=4, random_state=3),
    "reconstruct": lambda m, X: m.reconstruct(X, sample_z=True, random_state=3),
}


@pytest.mark.parametrize("score", sorted(SCORES))
def test_a_rows_score_is_the_same_alone_and_in_a_batch(score):
    for name, model, X in _fitted_models():
        if not hasattr(model, score):
            continue
        together = SCORES[score](model, X)
        for i in (0, 3, len(X) - 1):
            alone = SCORES[score](model, X[i:i + 1])
            if score == "reconstruct":
                # An encode-decode of the posterior mean, not a blocked score: a 1-row
                # product may take another BLAS routine, so equal up to rounding.
                np.testing.assert_allclose(alone[0], together[i], rtol=1e-12, atol=1e-12)
            else:
                np.testing.assert_array_equal(alone[0], together[i], err_msg=name)
        # Deterministic for a seed.
        np.testing.assert_array_equal(SCORES[score](model, X), together)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_row_independence_of_the_scores_at_a_realistic_width(dtype):
    # 600 rows of 30 features, rows alone and at every position of a 256-row block.
    # float64: bit for bit. float32: OpenBLAS's single-precision product gives a row
    # different last bits at different positions in the block, so only to rounding.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 30))
    models = [VAE(n_latent=3, hidden_sizes=(32,)), WAE(n_latent=3, hidden_sizes=(32,)),
              VampPriorVAE(n_pseudo=10, n_latent=3, hidden_sizes=(32,))]
    for model in models:
        model.set_params(dtype=dtype, n_epochs=2, random_state=0).fit(X)
        for score in ("elbo", "log_likelihood", "score_samples", "reconstruction_error"):
            if not hasattr(model, score):
                continue
            together = SCORES[score](model, X)
            alone = np.array([SCORES[score](model, X[i:i + 1])[0] for i in range(0, 600, 23)])
            if dtype == "float64":
                np.testing.assert_array_equal(alone, together[::23], err_msg=score)
            else:
                np.testing.assert_allclose(alone, together[::23], rtol=1e-5, err_msg=score)


@pytest.mark.parametrize("log_sigma", [-800.0, -50.0, 0.0, 700.0])
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_scores_are_finite_for_extreme_log_sigma(log_sigma, likelihood):
    X = np.random.default_rng(0).random((6, 3))
    model = VAE(n_latent=2, hidden_sizes=(4,), likelihood=likelihood).initialize(X, random_state=0)
    model.params_["log_sigma.b"][...] = log_sigma
    model.params_["mu.b"][...] = 1e4          # σ ≪ |μ|: z = μ + σε would round to μ
    for score in ("elbo", "log_likelihood", "score_samples", "reconstruction_error"):
        values = SCORES[score](model, X)
        assert not np.any(np.isnan(values)), (score, values)
        assert np.all(values < np.inf), (score, values)
    assert np.all(np.isfinite(SCORES["reconstruct"](model, X)))
    noise = model.draw_noise(X, 0)
    loss, grads = model.objective(X, noise)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())


def test_log_likelihood_is_exact_when_sigma_is_tiny_next_to_mu():
    """ln q is written from ε: with log σ = −50 and μ = 1e4 the IWAE estimate with one draw
    equals the ELBO estimate with the same draw (the analytic KL equals E_q[ln q − ln p] up to
    the prior term, which the shared draw makes identical)."""
    X = np.random.default_rng(0).normal(size=(5, 3))
    model = VAE(n_latent=2, hidden_sizes=(4,)).initialize(X, random_state=0)
    model.params_["log_sigma.b"][...] = -25.0
    ll = model.log_likelihood(X, n_mc=1, random_state=0)
    mu, log_sigma = model.encode(X)
    eps = np.random.default_rng(0).standard_normal((1, 1, 2))
    z = mu + np.exp(log_sigma) * eps[0]
    f = model.decode(z)
    log_px = -0.5 * ((X - f) ** 2).sum(axis=1) - 1.5 * np.log(2 * np.pi)
    log_pz = -0.5 * (z ** 2).sum(axis=1) - np.log(2 * np.pi)
    log_qz = -0.5 * (eps[0] ** 2).sum(axis=1) - log_sigma.sum(axis=1) - np.log(2 * np.pi)
    np.testing.assert_allclose(ll, log_px + log_pz - log_qz, rtol=1e-12)


# ---------------------------------------------------------------------- divergence
@pytest.mark.parametrize("make", [
    lambda: VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, lr=1e300, random_state=0),
    lambda: WAE(n_latent=2, hidden_sizes=(4,), n_epochs=2, lr=1e300, random_state=0),
    lambda: Autoencoder(n_latent=2, n_epochs=2, lr=1e300, random_state=0),
])
def test_a_diverged_fit_leaves_no_usable_model(make, tmp_path):
    model = make()
    with pytest.raises(TrainingDivergedError, match=r"at epoch \d+, batch \d+.*lower lr"):
        model.fit(X8)
    with pytest.raises(NotFittedError):
        model.transform(X8)
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


# ---------------------------------------------------------------------- the likelihood's domain
@pytest.mark.filterwarnings("ignore:VAE. the posterior collapsed")   # one epoch on 10 rows
@pytest.mark.parametrize("make", [
    lambda: VAE(n_latent=2, hidden_sizes=(4,), likelihood="bernoulli", n_epochs=1),
    lambda: WAE(n_latent=2, hidden_sizes=(4,), likelihood="bernoulli", n_epochs=1),
    lambda: Autoencoder(n_latent=2, likelihood="bernoulli", n_epochs=1),
])
def test_bernoulli_likelihood_refuses_data_outside_0_1(make):
    X = np.random.default_rng(0).random((10, 3))
    with pytest.raises(ValueError, match=r"likelihood='bernoulli' needs data in \[0, 1\]"):
        make().fit(X * 5)
    model = make().fit(X)
    with pytest.raises(ValueError, match="needs data in"):
        model.score_samples(X - 1)


# ---------------------------------------------------------------------- flags
@pytest.mark.parametrize("call", [
    lambda m: m.reconstruct(X8, sample_z="False"),
    lambda m: m.sample(3, noise="yes"),
])
def test_flags_must_be_bools(call):
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0).fit(X8)
    with pytest.raises(TypeError, match="must be True or False"):
        call(model)


@pytest.mark.parametrize("kwargs, match", [
    (dict(verbose="yes"), "verbose must be a bool or an int >= 0"),
    (dict(random_state="0"), "random_state must be None, an int"),
])
def test_loop_arguments_are_checked_before_training(kwargs, match):
    with pytest.raises(TypeError, match=match):
        VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, **kwargs).fit(X8)


@pytest.mark.parametrize("kwargs", [dict(rows_per_block=0), dict(rows_per_block=-1),
                                    dict(rows_per_block=True), dict(n_mc=0)])
def test_inference_arguments_are_checked(kwargs):
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0).fit(X8)
    with pytest.raises(ValueError, match="must be an int >= 1"):
        model.log_likelihood(X8, **kwargs)


@pytest.mark.parametrize("make, score, per_draw", [
    (lambda: VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0), "log_likelihood", 2),
    (lambda: VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0), "elbo", 2),
    (lambda: VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0), "reconstruction_error", 2),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0),
     "predict_proba", 6),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0),
     "score_samples", 6),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0),
     "reconstruction_error", 6),
])
def test_too_many_draws_fail_at_once_naming_the_memory(make, score, per_draw):
    # The n_mc draws of ε are held at once; 10⁹ of them would need GiBs before any work.
    model = make().fit(X8)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"n_mc=1000000000 draws of ε would take \d+\.\d GiB "
                                             rf"\({per_draw} float64 values per draw"):
            getattr(model, score)(X8, n_mc=10**9)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**6, peak
    most = 2**30 // (8 * per_draw)
    assert getattr(model, score)(X8[:1], n_mc=min(most, 2000)).shape[0] == 1    # the bound is not too tight


@pytest.mark.parametrize("make, score, n_mc, old_bytes_per_draw", [
    # What the old code held per draw: the VAE its (n_mc, 64) log-weights, the EMVAE every
    # draw's activations of its K = 3 networks at once (~5 arrays of 64 rows x 16 units).
    (lambda: VAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0), "log_likelihood", 1600, 64 * 8),
    (lambda: VAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0), "elbo", 1600, 64 * 8),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0),
     "predict_proba", 200, 5 * 3 * 64 * 16 * 8),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0),
     "score_samples", 200, 5 * 3 * 64 * 16 * 8),
    (lambda: EMVAE(n_components=3, n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0),
     "reconstruction_error", 200, 5 * 3 * 64 * 16 * 8),
])
def test_many_draws_below_the_limit_run_in_bounded_memory(make, score, n_mc, old_bytes_per_draw,
                                                          monkeypatch):
    # Below the 1 GiB of ε a score must run: the VAE kept its (n_mc, 64) log-weights (3 GB at
    # n_mc = 10⁶) and the EMVAE ran all draws at once (> 4 GB at n_mc = 10⁵). With chunks of a
    # few draws (a small budget), the memory a score holds grows with n_mc by far less than that.
    monkeypatch.setattr("minivae.models._gaussian._BLOCK_FLOATS", 20_000)
    model = make().fit(X8)
    assert len(model._draw_chunks(n_mc, getattr(model, "n_components", 1))) > 10

    def peak(draws):
        tracemalloc.start()
        try:
            values = getattr(model, score)(X8[:2], n_mc=draws)
            return tracemalloc.get_traced_memory()[1], values
        finally:
            tracemalloc.stop()

    small, _ = peak(n_mc // 4)
    large, many = peak(n_mc)
    growth = (large - small) / (n_mc - n_mc // 4)
    assert growth < old_bytes_per_draw / 3, (growth, old_bytes_per_draw)
    assert np.all(np.isfinite(many))
    # The chunks reduce to the same values as all draws at once (one chunk).
    model._draw_chunks = lambda n, n_stacked=1: [slice(0, n)]
    np.testing.assert_allclose(many, getattr(model, score)(X8[:2], n_mc=n_mc), rtol=1e-12, atol=1e-12)


def test_log_likelihood_over_many_chunks_is_the_same_whatever_rows_per_block(monkeypatch):
    monkeypatch.setattr("minivae.models._gaussian._BLOCK_FLOATS", 20_000)    # chunks of 4 draws
    vae = VAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0).fit(X8)
    assert len(vae._draw_chunks(400)) > 10
    alone = vae.log_likelihood(X8[:1], n_mc=400, rows_per_block=64)
    for rows in (64, 128, 512):
        np.testing.assert_array_equal(vae.log_likelihood(X8, n_mc=400, rows_per_block=rows)[:1], alone)


@pytest.mark.parametrize("make, limit", [
    (lambda n_mc: VAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, batch_size=100, n_mc=n_mc), 10485),
    (lambda n_mc: WAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, batch_size=100, n_mc=n_mc), 10485),
    (lambda n_mc: EMVAE(n_components=2, n_latent=2, hidden_sizes=(16,), n_epochs=1, batch_size=100,
                        n_mc=n_mc), 5242),
])
def test_training_n_mc_too_large_fails_at_once_naming_the_memory(make, limit):
    # VAE(n_mc=10**7).fit drew a 15 GiB ε and then died in the forward pass (or met the OOM killer).
    X = np.random.default_rng(0).normal(size=(200, 3))
    model = make(10**7)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"n_mc=10000000 draws for each of the 100 rows of a batch "
                                             rf"would make a training step hold about \d+\.\d GiB .*"
                                             rf"at most n_mc={limit} fits in 1 GiB: lower n_mc or batch_size"):
            model.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**6, peak
    assert not hasattr(model, "params_")
    with pytest.raises(ValueError, match=f"n_mc={limit + 1} draws"):
        make(limit + 1).fit(X)
    # A smaller batch leaves room for more draws (for the WAE, the MMD's pair count binds first).
    smaller = make(2 * limit).set_params(batch_size=50)
    if isinstance(smaller, WAE):
        with pytest.raises(ValueError, match="pairs of samples"):
            smaller._check_fit_size(X.shape)
    else:
        smaller._check_fit_size(X.shape)


# ---------------------------------------------------------------------- model files
def _saved(tmp_path):
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0).fit(X8)
    return model, model.save(tmp_path / "vae.npz")


def _rewrite(src, dst, edit_meta=None, edit_arrays=None):
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    if edit_meta:
        meta = edit_meta(meta) or meta
    if edit_arrays:
        edit_arrays(arrays)
    np.savez(dst, __meta__=np.array(json.dumps(meta)), **arrays)
    return dst


def _set(key, value):
    def edit(meta):
        if value is _DROP:
            meta.pop(key)
        else:
            meta[key] = value
    return edit


_DROP = object()


@pytest.mark.parametrize("edit_meta, edit_arrays, match", [
    (lambda m: m["config"].update(flavour=1), None, r"no constructor argument\(s\) \['flavour'\]"),
    (_set("config", [1, 2]), None, "configuration must be a JSON object"),
    (_set("config", _DROP), None, "configuration must be a JSON object"),
    (_set("class", ["VAE"]), None, "class name must be a string"),
    (_set("n_features_in", 10**9), None, r"n_features_in must be an int in \[1, 1e7\]"),
    (_set("n_features_in", "3"), None, "n_features_in must be an int"),
    (lambda m: m["config"].update(n_latent=0), None, "configuration is invalid"),
    (None, lambda a: a.__setitem__("param/mu.W", a["param/mu.W"] * np.nan), "finite real numbers"),
    (None, lambda a: a.__setitem__("param/mu.W", a["param/mu.W"] + 0j), "finite real numbers"),
    (None, lambda a: a.__setitem__("param/mu.b", np.array(["a", "b"])), "finite real numbers"),
    (None, lambda a: a.__setitem__("param/mu.b", np.zeros(5)), "wrong shape"),
])
def test_load_rejects_every_malformed_file_with_value_error(tmp_path, edit_meta, edit_arrays, match):
    _, path = _saved(tmp_path)
    bad = _rewrite(path, tmp_path / "bad.npz", edit_meta, edit_arrays)
    with pytest.raises(ValueError, match=match):
        load(bad)


def test_load_rejects_a_npy_file(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(3.0))
    with pytest.raises(ValueError, match="single .npy array"):
        load(tmp_path / "x.npy")


@pytest.mark.parametrize("path", [123, None, 3.5])
def test_save_and_load_check_the_path_type(tmp_path, path):
    model, _ = _saved(tmp_path)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike path"):
        model.save(path)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike path"):
        load(path)


def test_save_refuses_a_non_finite_model(tmp_path):
    model, _ = _saved(tmp_path)
    model.params_["mu.b"][0] = np.inf
    with pytest.raises(ValueError, match="non-finite parameters"):
        model.save(tmp_path / "inf.npz")


@pytest.mark.parametrize("kwargs", [
    dict(hidden_sizes=(np.int64(4),)),
    dict(hidden_sizes=np.array([4, 3])),
    dict(n_latent=np.int32(2), sigma2=np.float32(0.5)),
    dict(activation=__import__("minivae").nn.Swish(trainable=True)),
])
def test_save_writes_every_hyperparameter_fit_accepted(tmp_path, kwargs):
    model = VAE(**{"n_latent": 2, "hidden_sizes": (4,), "n_epochs": 1, "random_state": 0, **kwargs})
    model.fit(X8)
    loaded = load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.transform(X8), model.transform(X8))


def test_set_params_after_fit_does_not_spoil_the_file(tmp_path):
    model, _ = _saved(tmp_path)
    model.set_params(n_latent=7, hidden_sizes=(9, 9))
    loaded = load(model.save(tmp_path / "m.npz"))
    assert loaded.n_latent == 2
    np.testing.assert_array_equal(loaded.transform(X8), model.transform(X8))


def test_a_long_file_name_saves(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / ("m" * 240 + ".npz")
    load(model.save(path))
    assert sorted(os.listdir(tmp_path)) == sorted(["vae.npz", path.name])


def test_concurrent_saves_by_threads_never_tear_the_file(tmp_path):
    models = [VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=s).fit(X8) for s in range(6)]
    path = tmp_path / "shared.npz"
    errors = []

    def save_many(m):
        try:
            for _ in range(5):
                m.save(path)
                load(path)
        except Exception as exc:  # noqa: BLE001 — collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=save_many, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert os.listdir(tmp_path) == ["shared.npz"]
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None


def _save_in_process(seed, path):
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=seed).fit(X8)
    for _ in range(5):
        model.save(path)
        load(path)


def test_concurrent_saves_by_processes_never_tear_the_file(tmp_path):
    path = str(tmp_path / "shared.npz")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_in_process, args=(s, path)) for s in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert os.listdir(tmp_path) == ["shared.npz"]
    load(path)


def test_wae_with_a_mixture_prior_round_trips(tmp_path):
    prior = GaussianMixture([[0.0, -2.0], [0.0, 2.0]], scales=0.5)
    model = WAE(n_latent=2, hidden_sizes=(4,), prior=prior, n_epochs=1, random_state=0).fit(X8)
    loaded = load(model.save(tmp_path / "w.npz"))
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), model.sample(5, random_state=1))


# ---------------------------------------------------------------------- training-loop features
def test_early_stopping_stops_records_val_loss_and_restores_the_best_weights():
    X = np.random.default_rng(0).normal(size=(200, 3))
    model = VAE(n_latent=2, hidden_sizes=(8,), lr=0.05, n_epochs=300, early_stopping=True,
                validation_fraction=0.2, n_iter_no_change=5, random_state=0)
    seen = []
    validation_loss = model._validation_loss

    def recording(X_val):
        value = validation_loss(X_val)
        seen.append(model._flat.theta.copy())
        return value

    model._validation_loss = recording
    model.fit(X)
    val = model.history_["val_loss"]
    assert len(val) == len(model.history_["loss"]) == len(seen) < 300     # it stopped
    best = model.best_epoch_
    assert val[best - 1] == min(val) and len(val) - best == 5             # 5 epochs without gain
    np.testing.assert_array_equal(model._flat.theta, seen[best - 1])      # best weights restored
    assert not np.array_equal(seen[-1], seen[best - 1])


def test_early_stopping_arguments_are_checked():
    for kwargs, match in [(dict(validation_fraction=1.0), "validation_fraction must lie in"),
                          (dict(n_iter_no_change=0), "n_iter_no_change must be an int"),
                          (dict(early_stopping="yes"), "early_stopping must be True or False")]:
        with pytest.raises((ValueError, TypeError), match=match):
            VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, **kwargs).fit(X8)


def test_posterior_collapse_warns_naming_sigma2():
    X = np.random.default_rng(0).normal(size=(100, 2)) * 0.01
    with pytest.warns(UserWarning, match="posterior collapsed.*sigma2 = 100.0") as record:
        VAE(n_latent=2, hidden_sizes=(4,), sigma2=100.0, n_epochs=20, lr=0.01, random_state=0).fit(X)
    assert record[0].filename == __file__          # the warning points at the user's fit() call


# ---------------------------------------------------------------------- every flag of every model
def _model_classes():
    import minivae.models as models

    return [getattr(models, name) for name in ("Autoencoder", "VAE", "WAE", "EMVAE", "VampPriorVAE")]


@pytest.mark.parametrize("cls", _model_classes(), ids=lambda c: c.__name__)
def test_every_boolean_argument_refuses_strings(cls):
    import inspect

    flags = [name for name, p in inspect.signature(cls.__init__).parameters.items()
             if isinstance(p.default, bool) and name != "verbose"]
    assert flags, cls
    for name in flags:
        model = cls(n_latent=2, n_epochs=1, **{name: "False"})
        with pytest.raises(TypeError, match=f"{name} must be True or False"):
            model.fit(X8)


# ---------------------------------------------------------------------- the reproducibility promise
_FIT_AND_HASH = """
import hashlib, numpy as np
from minivae import WAE, EMVAE
X = np.random.default_rng(0).normal(size=(600, 3))
h = hashlib.sha256()
for model in (WAE(n_latent=2, hidden_sizes=(6,), n_epochs=2, batch_size=300, random_state=0),
              WAE(n_latent=2, hidden_sizes=(6,), mmd_mode="per_point", n_mc=30, n_epochs=1,
                  random_state=0),
              EMVAE(n_components=3, n_latent=2, hidden_sizes=(6,), n_epochs=2, random_state=0,
                    e_step_every="epoch")):
    model.fit(X)
    h.update(model._flat.theta.tobytes())
    h.update(np.asarray(model.score_samples(X)).tobytes())
print(h.hexdigest())
"""


def test_fits_are_bit_identical_at_any_numba_thread_count():
    """README: the same seed gives the same bits whatever NUMBA_NUM_THREADS (BLAS pinned to 1)."""
    import subprocess
    import sys

    digests = set()
    for threads in ("1", "2", "16"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, OPENBLAS_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, "-c", _FIT_AND_HASH], env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        digests.add(proc.stdout.strip())
    assert len(digests) == 1, digests


# ---------------------------------------------------------------------- found by a new-user review
def test_far_outliers_score_minus_inf_without_warnings_and_rank_first():
    from minivae.anomaly import AnomalyDetector

    big = np.full((1, 3), 1e154)
    for model in (VAE(n_latent=2, n_epochs=2, random_state=0).fit(X8),
                  WAE(n_latent=2, n_epochs=2, random_state=0).fit(X8),
                  Autoencoder(n_latent=2, n_epochs=2, random_state=0).fit(X8)):
        assert model.score_samples(big)[0] == -np.inf        # pytest turns warnings into errors
        assert model.reconstruction_error(big)[0] == np.inf
    detector = AnomalyDetector(Autoencoder(n_latent=2, n_epochs=2, random_state=0)).fit(X8)
    labels = detector.predict(np.vstack([X8[:2], big]))
    assert labels[-1] == -1


def test_autoencoder_reconstruction_error_is_the_squared_error():
    model = Autoencoder(n_latent=2, n_epochs=2, random_state=0).fit(X8)
    r = model.reconstruct(X8) - X8
    np.testing.assert_allclose(model.reconstruction_error(X8), (r * r).sum(axis=1), rtol=1e-12)


def test_mismatched_noise_and_missing_directories_get_clear_errors(tmp_path):
    model = VAE(n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0).fit(X8)
    with pytest.raises(ValueError, match=r"noise\['eps'\] must end in shape \(8, 2\)"):
        model.objective(X8, model.draw_noise(X8[:4], 0))
    with pytest.raises(FileNotFoundError, match="no directory"):
        model.save(tmp_path / "missing" / "m.npz")
    (tmp_path / "g.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="cannot read it as an .npz archive"):
        load(tmp_path / "g.csv")


@pytest.mark.parametrize("make", [
    lambda: VAE(n_latent=2, hidden_sizes=(6,)),
    lambda: WAE(n_latent=2, hidden_sizes=(6,)),
    lambda: EMVAE(n_components=2, n_latent=2, hidden_sizes=(6,)),
    lambda: VampPriorVAE(n_pseudo=4, n_latent=2, hidden_sizes=(6,)),
    lambda: Autoencoder(n_latent=2, hidden_sizes=(6,)),
], ids=["vae", "wae", "emvae", "vampprior", "autoencoder"])
def test_float32_models_give_float64_scores_and_float32_data(make):
    # One rule for every model: per-row scores are float64, whatever the model's dtype;
    # what lives in data or latent space keeps the model's dtype.
    X = np.random.default_rng(0).random((30, 3)).astype(np.float32)
    model = make().set_params(dtype="float32", n_epochs=2, random_state=0).fit(X)
    for name in ("score_samples", "elbo", "log_likelihood", "reconstruction_error"):
        if hasattr(model, name):
            assert getattr(model, name)(X).dtype == np.float64, name
    for name in ("transform", "reconstruct"):
        assert getattr(model, name)(X).dtype == np.float32, name


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("make", [
    lambda lik: VAE(n_latent=2, hidden_sizes=(6,), likelihood=lik),
    lambda lik: WAE(n_latent=2, hidden_sizes=(6,), likelihood=lik),
    lambda lik: EMVAE(n_components=2, n_latent=2, hidden_sizes=(6,), likelihood=lik),
    lambda lik: VampPriorVAE(n_pseudo=4, n_latent=2, hidden_sizes=(6,), likelihood=lik),
], ids=["vae", "wae", "emvae", "vampprior"])
def test_float32_models_sample_and_decode_in_float32(make, likelihood):
    # Samples live in data space: the model's dtype, with or without the observation noise.
    X = np.random.default_rng(0).random((30, 3)).astype(np.float32)
    model = make(likelihood).set_params(dtype="float32", n_epochs=2, random_state=0).fit(X)
    for noise in (False, True):
        assert model.sample(5, random_state=0, noise=noise).dtype == np.float32, noise
    assert model.decode(np.zeros((2, 2))).dtype == np.float32
    assert model.reconstruct(X, sample_z=True).dtype == np.float32
    if hasattr(model, "predict_proba"):      # responsibilities: per-row scores, float64
        assert model.predict_proba(X).dtype == np.float64


def test_scoring_a_few_rows_does_not_pad_them_to_a_huge_block():
    # Scores run on fixed, padded blocks (row independence); a short X pays for a
    # whole block, so the default block stays small whatever the memory budget allows.
    model = VAE(n_latent=2, hidden_sizes=(16,), n_epochs=1, random_state=0).fit(X8)
    model.score_samples(X8[:1], n_mc=1)                 # warm-up
    tracemalloc.start()
    try:
        for score in (model.score_samples, model.elbo, model.log_likelihood):
            score(X8[:1], n_mc=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak        # 256 rows × 16 units; a budget-sized block was 32 MB
