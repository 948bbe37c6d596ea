"""The stacked autoencoder: greedy stages, the assembled network, fine-tuning."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
