"""The stacked autoencoder: greedy stages, the assembled network, fine-tuning."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minivae
from minivae import Autoencoder, StackedAutoencoder, datasets
from minivae.gradcheck import check_gradients
from tests.strategies import jitter_biases, seeds, toy_inputs


@pytest.fixture(scope="module")
def bars():
    return datasets.bars(300, random_state=0)


@given(seed=seeds, n=st.integers(1, 5), nx=st.integers(2, 5), likelihood=st.sampled_from(["gaussian", "bernoulli"]),
       activation=st.sampled_from(["sigmoid", "tanh"]), code_activation=st.sampled_from(["identity", "sigmoid"]))
def test_every_greedy_stage_and_the_finetuning_objective_pass_the_gradient_check(
        seed, n, nx, likelihood, activation, code_activation):
    X = toy_inputs(seed, 12, nx, likelihood)
    model = StackedAutoencoder((4, 3, 2), activation=activation, code_activation=code_activation,
                               likelihood=likelihood, pretrain_epochs=1, finetune_epochs=1,
                               batch_size=4, random_state=seed).fit(X)
    inputs = model.stage_inputs(X[:n])
    assert [H.shape[1] for H in inputs] == [nx, 4, 3]
    for stage, H in zip(model.stages_, inputs):
        jitter_biases(stage, seed)
        check_gradients(lambda: stage.objective(H, None), stage.params_).assert_ok(1e-6)
    jitter_biases(model, seed)
    check_gradients(lambda: model.objective(X[:n]), model.params_).assert_ok(1e-6)


def test_stages_see_the_codes_of_the_stage_below_and_use_logistic_units(bars):
    model = StackedAutoencoder((16, 4), likelihood="bernoulli", pretrain_epochs=2,
                               finetune_epochs=0, random_state=0).fit(bars)
    first, second = model.stages_
    assert (first.n_latent, first.likelihood, first.code_activation) == (16, "bernoulli", "sigmoid")
    assert (second.n_latent, second.likelihood, second.code_activation) == (4, "bernoulli", "identity")
    assert second.n_features_in_ == 16
    # before fine-tuning the assembled network is the composition of the stages
    H1 = first.transform(bars)
    np.testing.assert_allclose(model.transform(bars), second.transform(H1), atol=1e-12)
    np.testing.assert_allclose(model.reconstruct(bars),
                               first.inverse_transform(second.inverse_transform(second.transform(H1))),
                               atol=1e-12)
    assert model.n_latent == 4 and len(model.history_["pretrain"]) == 2


def test_with_sigmoid_units_it_is_the_deep_autoencoders_architecture(bars):
    model = StackedAutoencoder((16, 4), likelihood="bernoulli", pretrain_epochs=2,
                               finetune_epochs=1, random_state=0).fit(bars)
    deep = Autoencoder(n_latent=4, hidden_sizes=(16,), activation="sigmoid",
                       likelihood="bernoulli").initialize(bars, random_state=0)
    assert set(deep.params_) == set(model.params_)
    for name, value in model.params_.items():
        deep.params_[name][...] = value
    np.testing.assert_allclose(deep.reconstruct(bars[:20]), model.reconstruct(bars[:20]), atol=1e-12)
    np.testing.assert_allclose(deep.score_samples(bars[:20]), model.score_samples(bars[:20]), atol=1e-10)


def test_finetuning_does_not_worsen_reconstruction(bars):
    kwargs = dict(layer_sizes=(16, 4), likelihood="bernoulli", pretrain_epochs=5, lr=5e-3,
                  random_state=3)
    greedy = StackedAutoencoder(finetune_epochs=0, **kwargs).fit(bars)
    tuned = StackedAutoencoder(finetune_epochs=15, **kwargs).fit(bars)
    before = -greedy.score_samples(bars).mean()
    after = -tuned.score_samples(bars).mean()
    # fine-tuning starts from the greedy network (same seed, same stages)
    assert tuned.history_["finetune"][0] == pytest.approx(before, rel=1e-12)
    assert len(tuned.history_["finetune"]) == 16
    assert after <= before
    assert after < 0.99 * before


def test_fit_is_reproducible(bars):
    a = StackedAutoencoder((8, 2), pretrain_epochs=2, finetune_epochs=2, random_state=5).fit(bars)
    b = StackedAutoencoder((8, 2), pretrain_epochs=2, finetune_epochs=2, random_state=5).fit(bars)
    np.testing.assert_array_equal(a.transform(bars), b.transform(bars))


@pytest.mark.parametrize("kwargs, match", [
    (dict(layer_sizes=()), "layer_sizes"),
    (dict(layer_sizes=(4, 0)), "layer_sizes"),
    (dict(likelihood="poisson"), "likelihood"),
    (dict(activation="nope"), "activation"),
    (dict(pretrain_epochs=-1), "pretrain_epochs"),
    (dict(lr=0.0), "lr"),
])
def test_bad_parameters_are_named(bars, kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackedAutoencoder(**kwargs).fit(bars)


def test_inference_checks_inputs(bars):
    model = StackedAutoencoder((8, 2), pretrain_epochs=1, finetune_epochs=0, random_state=0)
    with pytest.raises(ValueError, match="not fitted"):
        model.transform(bars)
    model.fit(bars)
    with pytest.raises(ValueError, match="features"):
        model.transform(bars[:, :5])
    with pytest.raises(ValueError):
        model.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="noise"):
        model.objective(bars, noise={"eps": 0})


# ---------------------------------------------------------------------- save and load
@pytest.fixture(scope="module")
def fitted(bars):
    return StackedAutoencoder((8, 3), likelihood="bernoulli", pretrain_epochs=2, finetune_epochs=2,
                              random_state=np.random.default_rng(4)).fit(bars)


def _rewrite(src, dst, change):
    """Copy the archive ``src`` to ``dst`` after ``change(arrays, meta)`` edits it in place."""
    import json

    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["__meta__"]))
    change(arrays, meta)
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(dst, **arrays)
    return dst


def test_save_load_round_trip_is_bit_identical(fitted, bars, tmp_path):
    path = fitted.save(tmp_path / "stacked.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["stacked.npz"]      # no temporary file left
    loaded = StackedAutoencoder.load(path)
    for method in ("transform", "reconstruct", "score_samples"):
        np.testing.assert_array_equal(getattr(loaded, method)(bars), getattr(fitted, method)(bars))
    H = fitted.transform(bars[:9])
    np.testing.assert_array_equal(loaded.inverse_transform(H), fitted.inverse_transform(H))
    for a, b in zip(loaded.stage_inputs(bars), fitted.stage_inputs(bars)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.stages_, fitted.stages_):
        assert a.get_params() == b.get_params() and a.history_ == b.history_
        for name in b.params_:
            np.testing.assert_array_equal(a.params_[name], b.params_[name])
    assert loaded.history_ == fitted.history_
    # a Generator random_state is stored as None, like the other models'
    assert loaded.get_params() == {**fitted.get_params(), "random_state": None}
    # minivae.load, which reads every model's file, gives the same model
    general = minivae.load(path)
    assert type(general) is StackedAutoencoder
    np.testing.assert_array_equal(general.transform(bars), fitted.transform(bars))
    # fine-tuning continues exactly as it would have on the saved model
    again = StackedAutoencoder.load(path)
    loaded.finetune(bars, 2, random_state=7)
    again.finetune(bars, 2, random_state=7)
    np.testing.assert_array_equal(loaded.transform(bars), again.transform(bars))
    assert len(loaded.history_["finetune"]) == len(fitted.history_["finetune"]) + 2


def test_save_writes_the_arguments_the_model_was_fitted_with(fitted, tmp_path):
    import copy

    model = copy.deepcopy(fitted).set_params(layer_sizes=(5, 5, 5), lr=0.5)
    loaded = StackedAutoencoder.load(model.save(tmp_path / "m.npz"))
    assert loaded.layer_sizes == (8, 3) and loaded.lr == fitted.lr


def test_save_refuses_what_it_cannot_write(fitted, bars, tmp_path):
    import copy

    with pytest.raises(ValueError, match="not fitted"):
        StackedAutoencoder().save(tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError, match="no directory"):
        fitted.save(tmp_path / "nodir" / "m.npz")
    with pytest.raises(TypeError, match="path"):
        fitted.save(3)
    # A directory: said plainly (it was "Is a directory: '.minivae-....part' -> ...").
    for model in (fitted, Autoencoder(n_latent=2, n_epochs=1, random_state=0).fit(bars)):
        with pytest.raises(IsADirectoryError, match=r"cannot write .*: it is a directory"):
            model.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []
    broken = copy.deepcopy(fitted)
    broken.params_["decoder.1.b"][0] = np.nan
    with pytest.raises(ValueError, match=r"non-finite parameters \(param/decoder\.1\.b\)"):
        broken.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def _drop(key):
    return lambda arrays, meta: arrays.pop(key)


def _set(key, value):
    return lambda arrays, meta: arrays.__setitem__(key, value)


BAD_FILES = [
    ("a missing parameter", _drop("param/encoder.1.W"), "param/encoder.1.W is missing"),
    ("a missing stage parameter", _drop("stage/0/param/decoder.0.b"), "stage/0/param/decoder.0.b is missing"),
    ("a misshapen parameter", _set("param/encoder.0.b", np.zeros(7)), r"wrong shape \(expected \(8,\)\)"),
    ("a NaN parameter", _set("param/encoder.0.b", np.full(8, np.nan)), "finite real numbers"),
    ("integer parameters", _set("param/encoder.0.b", np.zeros(8, dtype=np.int64)), "dtype int64"),
    ("an unknown argument", lambda a, m: m["config"].update(n_layers=3), r"no constructor argument\(s\) \['n_layers'\]"),
    ("an invalid argument", lambda a, m: m["config"].update(likelihood="poisson"), "configuration is invalid"),
    ("a wrong number of stages", lambda a, m: m["state"].update(stages=m["state"]["stages"][:1]), "2 greedy stages"),
    ("no fine-tuning history", lambda a, m: m["history"].pop("finetune"), "history must hold"),
    ("a huge network", lambda a, m: m.update(n_features_in=10_000_000) or m["config"].update(layer_sizes=[10_000_000]),
     "implausibly large"),
    ("another format version", lambda a, m: m.update(version=99), "format version 99"),
    ("no header", lambda a, m: a.clear(), "no minivae header"),
]


@pytest.mark.parametrize("what, change, match", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_load_names_what_is_wrong_with_a_bad_file(fitted, tmp_path, what, change, match):
    good = fitted.save(tmp_path / "good.npz")
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    if what == "no header":
        np.savez(bad, x=np.zeros(2))
    with pytest.raises(ValueError, match=match):
        StackedAutoencoder.load(bad)


def test_load_refuses_other_files(fitted, bars, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        StackedAutoencoder.load(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="path"):
        StackedAutoencoder.load(None)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a valid minivae model file"):
        StackedAutoencoder.load(tmp_path / "junk.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        StackedAutoencoder.load(tmp_path / "array.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a valid minivae model file"):
        StackedAutoencoder.load(tmp_path / "objects.npy")
    other = Autoencoder(n_latent=2, n_epochs=1, random_state=0).fit(bars).save(tmp_path / "ae.npz")
    with pytest.raises(ValueError, match="holds a model of class Autoencoder, not a StackedAutoencoder"):
        StackedAutoencoder.load(other)


def test_a_rows_score_is_bit_identical_alone_and_in_a_large_batch():
    # As for every model: padded blocks of a fixed size, so BLAS takes the same kernel
    # for a lone row as for 600 (a 1-row product goes through another routine).
    X = np.random.default_rng(0).random((600, 30))
    model = StackedAutoencoder((16, 4), pretrain_epochs=2, random_state=0).fit(X)
    together = model.score_samples(X)
    assert together.dtype == np.float64
    alone = np.array([model.score_samples(X[i:i + 1])[0] for i in range(0, 600, 7)])
    np.testing.assert_array_equal(alone, together[::7])
