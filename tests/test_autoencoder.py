"""Tests of the Autoencoder family and of the shared training loop, save and load (models/_base.py)."""

import json
import os
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import subspace_angles

from minivae._validation import NotFittedError
from minivae.gradcheck import check_gradients
from minivae.losses import contractive_penalty, sparsity_penalty
from minivae.models import Autoencoder, TrainingDivergedError, load
from minivae.models import _base
from minivae.nn import ACTIVATIONS
from tests.strategies import batch_sizes, seeds, small_dims

activation_names = st.sampled_from(sorted(ACTIVATIONS))

# Each variant of the autoencoder family ([F 1.1]-[F 1.7]) as constructor arguments; the hypothesis tests draw the rest.
VARIANTS = {
    "plain": {},
    "deep": {"hidden_sizes": (3, 2)},
    "bernoulli": {"likelihood": "bernoulli", "hidden_sizes": (3,)},
    "sparse": {"code_activation": "sigmoid", "sparsity_weight": 0.7, "sparsity": 0.1},
    "denoising_gaussian": {"noise": "gaussian", "noise_level": 0.4, "hidden_sizes": (3,)},
    "denoising_mask": {"noise": "mask", "noise_level": 0.3, "hidden_sizes": (3,)},
    "contractive": {"code_activation": "sigmoid", "contractive_weight": 0.8},
    "sparse_contractive_denoising": {"code_activation": "sigmoid", "sparsity_weight": 0.5,
                                     "contractive_weight": 0.5, "noise": "gaussian"},
}


def _data(seed, n, d, likelihood="gaussian"):
    rng = np.random.default_rng(seed)
    if likelihood == "bernoulli":
        return rng.random((n, d))
    return rng.standard_normal((n, d))


def _toy(n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2)) @ rng.standard_normal((2, d)) + 0.1 * rng.standard_normal((n, d))


# ---------------------------------------------------------------------- objective gradients
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@given(seed=seeds, n=batch_sizes, d=small_dims, k=small_dims, activation=activation_names)
def test_objective_gradients(variant, seed, n, d, k, activation):
    kwargs = VARIANTS[variant]
    model = Autoencoder(n_latent=k, activation=activation, random_state=seed, **kwargs)
    X = _data(seed, n, d, model.likelihood)
    model.initialize(X)
    rng = np.random.default_rng(seed + 1)
    # Move every parameter off its initial value (zero biases, β = 1).
    for v in model.params_.values():
        v += 0.3 * rng.standard_normal(v.shape)
    noise = model.draw_noise(X, rng)
    if model.noise is not None:
        assert noise is not None
    check_gradients(lambda: model.objective(X, noise), model.params_).assert_ok(1e-6)


def test_objective_values_match_independent_formulas():
    X = _toy(20, 4)
    plain = Autoencoder(n_latent=2, random_state=0).initialize(X)
    r = X - plain.reconstruct(X)
    assert plain.objective(X)[0] == pytest.approx(0.5 * np.mean(np.sum(r * r, axis=1)), rel=1e-12)
    np.testing.assert_allclose(plain.score_samples(X), -0.5 * np.sum(r * r, axis=1), rtol=1e-12)

    kw = dict(n_latent=3, code_activation="sigmoid", random_state=0)
    base = Autoencoder(**kw).initialize(X).objective(X)[0]
    sparse = Autoencoder(sparsity_weight=2.0, sparsity=0.1, **kw).initialize(X)
    omega, _ = sparsity_penalty(sparse.transform(X), 0.1)
    assert sparse.objective(X)[0] == pytest.approx(base + 2.0 * omega, rel=1e-12)
    contr = Autoencoder(contractive_weight=3.0, **kw).initialize(X)
    penalty, _, _ = contractive_penalty(contr.transform(X), contr.params_["encoder.0.W"])
    assert contr.objective(X)[0] == pytest.approx(base + 3.0 * penalty.mean(), rel=1e-12)


def test_bernoulli_objective_and_outputs():
    X = (np.random.default_rng(0).random((10, 4)) > 0.5).astype(float)
    model = Autoencoder(n_latent=2, likelihood="bernoulli", random_state=0).initialize(X)
    R = model.reconstruct(X)
    assert np.all((R > 0) & (R < 1))
    direct = -(X * np.log(R) + (1 - X) * np.log(1 - R)).sum(axis=1)
    np.testing.assert_allclose(model.score_samples(X), -direct, rtol=1e-10)
    assert model.objective(X)[0] == pytest.approx(direct.mean(), rel=1e-10)


def test_corruption_is_applied_and_held_fixed_by_noise():
    """Denoising [F 1.6]: the loss is L(x, g(f(x̃))), x̃ = x + level·eps or x ⊙ keep."""
    X = _toy(200, 5)
    rng = np.random.default_rng(3)
    # Corruption does not change the initialisation, so a plain AE with the same seed
    # has the same weights and can replay the corrupted forward pass.
    plain = Autoencoder(n_latent=2, random_state=0).initialize(X)

    def loss_on(X_tilde):
        r = X - plain.inverse_transform(plain.transform(X_tilde))
        return 0.5 * np.mean(np.sum(r * r, axis=1))

    masked = Autoencoder(n_latent=2, noise="mask", noise_level=0.3, random_state=0).initialize(X)
    noise = masked.draw_noise(X, rng)
    assert noise["keep"].shape == X.shape
    assert abs(1 - noise["keep"].mean() - 0.3) < 0.03
    first, again = masked.objective(X, noise), masked.objective(X, noise)
    assert first[0] == again[0]
    assert all(np.array_equal(first[1][k], again[1][k]) for k in first[1])
    assert first[0] == pytest.approx(loss_on(X * noise["keep"]), rel=1e-12)
    assert first[0] != pytest.approx(loss_on(X), rel=1e-3)

    gauss = Autoencoder(n_latent=2, noise="gaussian", noise_level=0.5, random_state=0).initialize(X)
    eps = gauss.draw_noise(X, rng)["eps"]
    assert eps.shape == X.shape and abs(eps.std() - 1) < 0.05
    assert gauss.objective(X, {"eps": eps})[0] == pytest.approx(loss_on(X + 0.5 * eps), rel=1e-12)
    # Corruption is a training device only: transform sees the clean input.
    np.testing.assert_array_equal(gauss.transform(X), plain.transform(X))


# ---------------------------------------------------------------------- PCA subspace
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_autoencoder_learns_the_pca_subspace(seed):
    """Baldi & Hornik (1989): the decoder columns of a linear AE + MSE span the top-k principal subspace."""
    rng = np.random.default_rng(seed)
    n, d, k = 400, 8, 2
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.array([3.0, 2.0] + [0.3] * (d - k))  # clear gap between σ_2 and σ_3
    X = (rng.standard_normal((n, d)) * scales) @ Q.T + 2.0 * rng.standard_normal(d)
    Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)[2]
    model = Autoencoder(n_latent=k, activation="identity", code_activation="identity",
                        lr=0.05, n_epochs=300, batch_size=50, random_state=seed).fit(X)
    W = model.params_["decoder.0.W"]
    assert W.shape == (d, k)
    assert subspace_angles(W, Vt[:k].T).max() < 0.05
    # A sanity check that the threshold can fail: the next principal directions are far off.
    assert subspace_angles(W, Vt[k:2 * k].T).max() > 1.0


# ---------------------------------------------------------------------- reproducibility
def test_same_seed_gives_bit_identical_params():
    X = _toy()
    kw = dict(n_latent=2, hidden_sizes=(4,), noise="mask", noise_level=0.2, n_epochs=5,
              batch_size=16)
    a = Autoencoder(random_state=7, **kw).fit(X)
    b = Autoencoder(random_state=7, **kw).fit(X)
    c = Autoencoder(random_state=8, **kw).fit(X)
    assert list(a.params_) == list(b.params_)
    for name in a.params_:
        assert np.array_equal(a.params_[name], b.params_[name])
    assert a.history_ == b.history_
    assert any(not np.array_equal(a.params_[k], c.params_[k]) for k in a.params_)


def test_generator_random_state():
    X = _toy()
    kw = dict(n_latent=2, n_epochs=3, batch_size=16)
    a = Autoencoder(random_state=np.random.default_rng(5), **kw).fit(X)
    b = Autoencoder(random_state=np.random.default_rng(5), **kw).fit(X)
    for name in a.params_:
        assert np.array_equal(a.params_[name], b.params_[name])
    # A Generator is advanced by fit, so refitting the same model continues its stream.
    before = {k: v.copy() for k, v in a.params_.items()}
    a.fit(X)
    assert any(not np.array_equal(before[k], a.params_[k]) for k in before)


def test_fit_records_history_and_returns_self():
    X = _toy()
    model = Autoencoder(n_latent=2, code_activation="sigmoid", sparsity_weight=0.1,
                        n_epochs=7, batch_size=1000, random_state=0)
    assert model.fit(X) is model
    assert set(model.history_) == {"loss", "reconstruction", "sparsity"}
    assert all(len(v) == 7 for v in model.history_.values())
    h = model.history_
    np.testing.assert_allclose(h["loss"], np.add(h["reconstruction"], 0.1 * np.array(h["sparsity"])),
                               rtol=1e-12)
    assert model.n_features_in_ == 5


def test_sparse_autoencoder_reaches_target_activation():
    X = _toy(200, 6)
    kw = dict(n_latent=8, code_activation="sigmoid", sparsity=0.05, lr=0.03, n_epochs=300,
              batch_size=50, random_state=0)
    sparse = Autoencoder(sparsity_weight=10.0, **kw).fit(X)
    np.testing.assert_allclose(sparse.transform(X).mean(axis=0), 0.05, atol=0.02)
    dense = Autoencoder(**kw).fit(X)
    assert dense.transform(X).mean() > 0.2


def test_verbose_prints_progress(capsys):
    Autoencoder(n_latent=2, n_epochs=2, verbose=True, random_state=0).fit(_toy())
    err = capsys.readouterr().err
    assert "[Autoencoder] epoch 2/2" in err and "loss" in err


# ---------------------------------------------------------------------- save / load
def _fitted(**kw):
    params = dict(n_latent=2, hidden_sizes=(4,), code_activation="sigmoid", sparsity_weight=0.1,
                  n_epochs=3, random_state=0)
    params.update(kw)
    X = np.random.default_rng(0).random((60, 5)) if kw.get("likelihood") == "bernoulli" else _toy()
    return Autoencoder(**params).fit(X)


@pytest.mark.parametrize("kw", [{}, {"likelihood": "bernoulli"}, {"dtype": "float32"}])
def test_save_load_round_trip(tmp_path, kw):
    model = _fitted(**kw)
    X = _toy(seed=1) if "likelihood" not in kw else np.random.default_rng(1).random((60, 5))
    path = model.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file left behind
    loaded = load(path)
    assert type(loaded) is Autoencoder
    assert loaded.get_params() == model.get_params()
    assert loaded.history_ == model.history_
    for name in model.params_:
        assert loaded.params_[name].dtype == model.params_[name].dtype
        assert np.array_equal(loaded.params_[name], model.params_[name])
    for method in ("transform", "reconstruct", "score_samples"):
        assert np.array_equal(getattr(loaded, method)(X), getattr(model, method)(X))
    # Loaded models keep training.
    loaded.set_params(n_epochs=1).fit(X)


def test_save_without_npz_suffix_and_generator_state(tmp_path):
    model = _fitted(random_state=np.random.default_rng(0))
    path = model.save(tmp_path / "model.bin")
    assert path.exists() and sorted(os.listdir(tmp_path)) == ["model.bin"]
    loaded = load(path)
    # A Generator cannot be stored; the loaded model has random_state=None.
    assert loaded.random_state is None
    assert np.array_equal(loaded.transform(_toy()), model.transform(_toy()))


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    _fitted().save(path)
    good = path.read_bytes()

    def crash(fh, **arrays):
        fh.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(_base.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        _fitted(random_state=1).save(path)
    # The old file is untouched and no temporary file remains.
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.npz"]


def test_load_truncated_file(tmp_path):
    path = _fitted().save(tmp_path / "model.npz")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100, 0):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"cut{cut}.npz is not a valid minivae model file"):
            load(bad)


def test_load_random_bytes(tmp_path):
    bad = tmp_path / "noise.npz"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ValueError, match="is not a valid minivae model file"):
        load(bad)


def test_load_foreign_npz(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.arange(4.0))
    with pytest.raises(ValueError, match="is not a valid minivae model file"):
        load(foreign)
    other = tmp_path / "other.npz"
    np.savez(other, __meta__=np.array(json.dumps({"format": "something-else", "version": 1})))
    with pytest.raises(ValueError, match="is not a valid minivae model file"):
        load(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __meta__=np.array([{"format": "minivae-model"}], dtype=object))
    with pytest.raises(ValueError, match="is not a valid minivae model file"):
        load(pickled)


def _rewrite(path, target, edit_meta=None, drop=None):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["__meta__"]))
    if edit_meta:
        edit_meta(meta)
    arrays["__meta__"] = np.array(json.dumps(meta))
    if drop:
        del arrays[drop]
    np.savez(target, **arrays)
    return target


def test_load_wrong_version_class_or_missing_parameter(tmp_path):
    path = _fitted().save(tmp_path / "model.npz")
    v99 = _rewrite(path, tmp_path / "v99.npz", lambda m: m.update(version=99))
    with pytest.raises(ValueError, match="has model format version 99; this minivae reads version 1"):
        load(v99)
    cls = _rewrite(path, tmp_path / "cls.npz", lambda m: m.update({"class": "Transformer"}))
    with pytest.raises(ValueError, match="unknown model class 'Transformer'"):
        load(cls)
    missing = _rewrite(path, tmp_path / "missing.npz", drop="param/decoder.0.W")
    with pytest.raises(ValueError, match="parameter decoder.0.W is missing"):
        load(missing)
    with pytest.raises(FileNotFoundError, match="no model file"):
        load(tmp_path / "absent.npz")


# ---------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("X, match", [
    (np.array([[0.0, np.nan], [1.0, 2.0]]), "X contains NaN or infinity"),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), "X contains NaN or infinity"),
    (np.zeros(4), "X must be a 2-D array, got 1-D"),
    (np.zeros((2, 3, 4)), "X must be a 2-D array, got 3-D"),
    (np.zeros((0, 4)), "X is empty"),
])
def test_fit_rejects_bad_X(X, match):
    with pytest.raises(ValueError, match=match):
        Autoencoder(n_epochs=1).fit(X)


@pytest.mark.parametrize("X", ["data", [["a", "b"], ["c", "d"]], np.array([[1, None]], dtype=object)])
def test_fit_rejects_non_numeric_X(X):
    with pytest.raises(TypeError, match="X must be a numeric array"):
        Autoencoder(n_epochs=1).fit(X)


def test_integer_and_bool_input_are_accepted():
    Xi = np.random.default_rng(0).integers(0, 5, size=(30, 4))
    a = Autoencoder(n_latent=2, n_epochs=2, random_state=0).fit(Xi)
    b = Autoencoder(n_latent=2, n_epochs=2, random_state=0).fit(Xi.astype(float))
    assert np.array_equal(a.transform(Xi), b.transform(Xi.astype(float)))
    Xb = Xi > 2
    model = Autoencoder(n_latent=2, likelihood="bernoulli", n_epochs=2, random_state=0).fit(Xb)
    assert model.score_samples(Xb).shape == (30,)
    assert model.reconstruct(Xb.tolist()).shape == (30, 4)


def test_transform_time_checks():
    model = Autoencoder(n_latent=2, n_epochs=1, random_state=0).fit(_toy(d=5))
    for method in ("transform", "reconstruct", "score_samples"):
        with pytest.raises(ValueError, match="X has 3 features, but this Autoencoder was fitted with 5"):
            getattr(model, method)(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            getattr(model, method)(np.full((2, 5), np.nan))
        with pytest.raises(ValueError, match="X must be a 2-D array, got 1-D"):
            getattr(model, method)(np.zeros(5))
    with pytest.raises(ValueError, match="H has 3 features"):
        model.inverse_transform(np.zeros((2, 3)))
    assert model.transform(np.zeros((3, 5))).shape == (3, 2)
    assert model.inverse_transform(np.zeros((3, 2))).shape == (3, 5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_latent": 0}, ValueError, "n_latent must be an int >= 1, got 0"),
    ({"n_latent": 2.5}, ValueError, "n_latent must be an int >= 1, got 2.5"),
    ({"lr": -1}, ValueError, r"lr must be a finite positive number, got -1"),
    ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
    ({"n_epochs": -1}, ValueError, "n_epochs must be an int >= 0, got -1"),
    ({"activation": "foo"}, ValueError, "activation must be one of .*got 'foo'"),
    ({"code_activation": "bar"}, ValueError, "got 'bar'"),
    ({"likelihood": "poisson"}, ValueError, "likelihood must be 'gaussian' or 'bernoulli', got 'poisson'"),
    ({"noise": "salt"}, ValueError, "noise must be None, 'gaussian' or 'mask', got 'salt'"),
    ({"noise": "mask", "noise_level": 1.0}, ValueError, r"noise_level must lie in \[0, 1\), got 1.0"),
    ({"noise": "gaussian", "noise_level": -0.1}, ValueError, "noise_level must be a finite positive number, got -0.1"),
    ({"sparsity": 1.5}, ValueError, r"sparsity must lie in \(0, 1\), got 1.5"),
    ({"sparsity_weight": 1.0}, ValueError, "sparsity_weight > 0 needs code_activation='sigmoid', got 'identity'"),
    ({"contractive_weight": -1.0}, ValueError, "contractive_weight must be a finite non-negative number, got -1.0"),
    ({"contractive_weight": 1.0, "code_activation": "sigmoid", "hidden_sizes": (3,)}, ValueError,
     r"contractive penalty .* got hidden_sizes=\(3,\)"),
    ({"hidden_sizes": (3, 0)}, ValueError, r"hidden_sizes must contain positive ints, got \(3, 0\)"),
    ({"dtype": "int32"}, ValueError, "dtype must be float32 or float64, got int32"),
    ({"clip_norm": 0}, ValueError, "clip_norm must be a finite positive number, got 0"),
    ({"random_state": -5}, ValueError, "random_state must be a non-negative int, got -5"),
])
def test_bad_hyperparameters_raise_at_fit(kwargs, error, match):
    model = Autoencoder(**{"n_epochs": 1, **kwargs})  # __init__ only stores
    with pytest.raises(error, match=match):
        model.fit(_toy())
    assert getattr(model, "params_", None) is None


def test_methods_before_fit_raise_not_fitted(tmp_path):
    model = Autoencoder()
    X = _toy()
    for call in (lambda: model.transform(X), lambda: model.reconstruct(X),
                 lambda: model.score_samples(X), lambda: model.inverse_transform(np.zeros((2, 2))),
                 lambda: model.objective(X), lambda: model.save(tmp_path / "m.npz")):
        with pytest.raises(NotFittedError, match="This Autoencoder is not fitted yet"):
            call()


def test_get_params_set_params_round_trip():
    model = Autoencoder(n_latent=3, hidden_sizes=(5,), noise="mask", lr=0.01, random_state=4)
    params = model.get_params()
    assert params["n_latent"] == 3 and params["hidden_sizes"] == (5,) and params["noise"] == "mask"
    assert set(params) == {"n_latent", "hidden_sizes", "activation", "code_activation", "likelihood",
                           "sparsity", "sparsity_weight", "noise", "noise_level", "contractive_weight",
                           "lr", "batch_size", "n_epochs", "clip_norm", "dtype", "random_state",
                           "verbose", "early_stopping", "validation_fraction", "n_iter_no_change"}
    clone = Autoencoder(**params)
    assert clone.get_params() == params
    assert clone.set_params(n_latent=4, lr=0.1) is clone
    assert clone.get_params() == {**params, "n_latent": 4, "lr": 0.1}
    assert "n_latent=4" in repr(clone)
    with pytest.raises(ValueError, match="Autoencoder has no parameter 'n_hidden'"):
        clone.set_params(n_hidden=3)


# ---------------------------------------------------------------------- divergence and dtype
def _divergence_epoch(exc):
    found = re.search(r"at epoch (\d+), batch (\d+)", str(exc))
    assert found, str(exc)
    return int(found.group(1))


def test_absurd_learning_rate_raises_training_diverged():
    """float32, lr = 1e6 on data scaled by 1e6: the loss overflows within two steps."""
    X = _toy(100, 5) * 1e6
    model = Autoencoder(n_latent=2, lr=1e6, n_epochs=20, batch_size=100, dtype="float32", random_state=0)
    with pytest.raises(TrainingDivergedError, match="loss (after the last step )?became (inf|nan)") as info:
        model.fit(X)
    # One batch per epoch: the step of epoch 1 or 2 overflows, and is caught in its epoch.
    assert _divergence_epoch(info.value) in (1, 2)
    # Nothing half-fitted is left behind.
    assert not hasattr(model, "params_") and not hasattr(model, "history_")
    with pytest.raises(NotFittedError):
        model.transform(X)
    assert "lower lr (now 1000000.0)" in str(info.value)
    assert isinstance(info.value, FloatingPointError)


def test_absurd_learning_rate_float64():
    # In float64, Adam's steps are bounded by lr, so only a truly absurd lr overflows the forward pass.
    model = Autoencoder(n_latent=2, lr=1e200, n_epochs=5, batch_size=20, random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, batch 2"):
        model.fit(_toy())


def test_float32_fit():
    X = _toy()
    kw = dict(n_latent=2, hidden_sizes=(4,), noise="gaussian", n_epochs=5, batch_size=16, random_state=0)
    m32 = Autoencoder(dtype="float32", **kw).fit(X)
    m64 = Autoencoder(**kw).fit(X)
    for name, v in m32.params_.items():
        assert v.dtype == np.float32
        # Same seed, same initialisation and batches: float32 follows the float64 run closely.
        np.testing.assert_allclose(v, m64.params_[name], atol=1e-3)
    assert m32.transform(X).dtype == np.float32
    assert m32.reconstruct(X).dtype == np.float32
    assert all(np.isfinite(m32.history_["loss"]))


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_a_rows_score_is_bit_identical_alone_and_in_a_large_batch(likelihood):
    # README: a row's score is bit-identical alone or in a batch. A 1-row and a 600-row
    # matrix product take different BLAS kernels, so the scores run on padded blocks.
    X = np.random.default_rng(0).random((600, 30))
    model = Autoencoder(n_latent=3, hidden_sizes=(32,), likelihood=likelihood, n_epochs=2,
                        random_state=0).fit(X)
    for score in (model.score_samples, model.reconstruction_error):
        together = score(X)
        assert together.dtype == np.float64
        alone = np.array([score(X[i:i + 1])[0] for i in range(0, 600, 7)])
        np.testing.assert_array_equal(alone, together[::7], err_msg=score.__name__)
