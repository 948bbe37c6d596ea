"""The categorical likelihood: categorical_nll and VAE(likelihood="categorical", n_categories=C).

Oracles: finite differences for every gradient, log_softmax from scipy for
the loss value, and the one-hot structure of what the model returns.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import log_softmax

from minivae import load
from minivae.gradcheck import check_gradients
from minivae.losses import categorical_argmax, categorical_nll
from minivae.models import VAE, WAE
from tests.strategies import batch_sizes, seeds


def one_hot(labels, n_categories):
    """Integer labels (n, P) -> one-hot rows (n, P·C)."""
    n = labels.shape[0]
    return np.eye(n_categories)[labels].reshape(n, -1)


# ---------------------------------------------------------------------- the loss
@given(seed=seeds, n=batch_sizes, n_pos=st.integers(1, 3), n_classes=st.integers(2, 5),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_gradient_matches_finite_differences(seed, n, n_pos, n_classes, scale):
    rng = np.random.default_rng(seed)
    x = one_hot(rng.integers(0, n_classes, size=(n, n_pos)), n_classes)
    logits = scale * rng.standard_normal((n, n_pos * n_classes))

    def func():
        nll, d_logits = categorical_nll(x, logits, n_classes)
        return float(nll.sum()), {"logits": d_logits}

    check_gradients(func, {"logits": logits}).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, L=st.integers(1, 3))
def test_draws_of_z_broadcast_over_rows(seed, n, L):
    rng = np.random.default_rng(seed)
    x = one_hot(rng.integers(0, 4, size=(n, 3)), 4)
    logits = rng.standard_normal((L, n, 12))
    nll, d_logits = categorical_nll(x, logits, 4)
    assert nll.shape == (L, n) and d_logits.shape == logits.shape
    for ell in range(L):
        one, d_one = categorical_nll(x, logits[ell], 4)
        np.testing.assert_allclose(nll[ell], one, rtol=1e-13)
        np.testing.assert_allclose(d_logits[ell], d_one, rtol=1e-13)


@pytest.mark.parametrize("big", [1e4, -1e4])
def test_stable_at_logits_of_1e4(big):
    # Positions: the right class at +big, the wrong class at +big, all at ±big, and a tie.
    logits = np.array([[big, 0.0, -big, -big, big, 0.0, big, big, big, big, big, 0.0]])
    x = one_hot(np.array([[0, 1, 2, 0]]), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nll, d_logits = categorical_nll(x, logits, 3)
    assert np.isfinite(nll).all() and np.isfinite(d_logits).all()
    expected = -(log_softmax(logits.reshape(4, 3), axis=1) * x.reshape(4, 3)).sum()
    np.testing.assert_allclose(nll, [expected], rtol=1e-12)
    # Each group of the gradient is softmax − x: it sums to 0 and lies in [−1, 1].
    np.testing.assert_allclose(d_logits.reshape(4, 3).sum(axis=1), 0.0, atol=1e-12)
    assert np.abs(d_logits).max() <= 1.0


def test_confident_and_right_costs_nothing_confident_and_wrong_costs_the_gap():
    logits = np.array([[1e4, 0.0, 0.0, 0.0, 1e4, 0.0]])
    x = one_hot(np.array([[0, 0]]), 3)
    nll, _ = categorical_nll(x, logits, 3)
    np.testing.assert_allclose(nll, [1e4], rtol=1e-12)


def test_argmax_picks_the_most_likely_class_per_position():
    probs = np.array([[0.1, 0.7, 0.2, 0.5, 0.25, 0.25]])
    np.testing.assert_array_equal(categorical_argmax(probs, 3), [[1, 0]])


# ---------------------------------------------------------------------- the VAE
def small_vae(**kw):
    args = dict(n_latent=2, hidden_sizes=(5,), likelihood="categorical", n_categories=3,
                n_epochs=2, batch_size=4, random_state=0)
    args.update(kw)
    return VAE(**args)


def test_vae_gradient_with_a_categorical_decoder():
    rng = np.random.default_rng(3)
    X = one_hot(rng.integers(0, 3, size=(6, 4)), 3)
    model = small_vae(n_mc=2).initialize(X)
    noise = model.draw_noise(X, random_state=1)
    check_gradients(lambda: model.objective(X, noise), model.params_).assert_ok(1e-6)


def test_vae_objective_is_categorical_nll_plus_kl():
    rng = np.random.default_rng(4)
    X = one_hot(rng.integers(0, 3, size=(5, 4)), 3)
    model = small_vae().initialize(X)
    noise = model.draw_noise(X, random_state=2)
    loss, _ = model.objective(X, noise)
    mu, log_sigma = model.encode(X)
    z = mu + np.exp(log_sigma) * noise["eps"][0]
    logits = model.modules_["decoder"].forward(z)[0]
    by_hand = -(log_softmax(logits.reshape(5, 4, 3), axis=-1) * X.reshape(5, 4, 3)).sum(axis=(1, 2))
    kl = 0.5 * (np.exp(2 * log_sigma) + mu ** 2 - 2 * log_sigma - 1).sum(axis=1)
    np.testing.assert_allclose(loss, (by_hand + kl).mean(), rtol=1e-12)


def test_decode_and_sample_return_probabilities_per_position():
    rng = np.random.default_rng(5)
    X = one_hot(rng.integers(0, 3, size=(20, 4)), 3)
    model = small_vae().fit(X)
    for out in (model.decode(rng.standard_normal((7, 2))), model.sample(7, random_state=0),
                model.reconstruct(X)):
        groups = out.reshape(out.shape[0], 4, 3)
        assert (groups >= 0).all()
        np.testing.assert_allclose(groups.sum(axis=-1), 1.0, rtol=1e-12)
    drawn = model.sample(50, random_state=0, noise=True).reshape(50, 4, 3)
    assert set(np.unique(drawn)) <= {0.0, 1.0}
    np.testing.assert_array_equal(drawn.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(model.sample(5, random_state=7, noise=True),
                                  model.sample(5, random_state=7, noise=True))


def test_noisy_samples_follow_the_decoder_probabilities():
    # With the decoder's probabilities p at a fixed z, the draws' frequencies estimate p.
    rng = np.random.default_rng(6)
    X = one_hot(rng.integers(0, 3, size=(20, 2)), 3)
    model = small_vae(n_latent=1).fit(X)
    model.prior_.sample = lambda n, rng: np.zeros((n, 1))
    p = model.decode(np.zeros((1, 1)))[0]
    freq = model.sample(20_000, random_state=0, noise=True).mean(axis=0)
    se = np.sqrt(p * (1 - p) / 20_000)
    assert np.all(np.abs(freq - p) < 5 * se + 1e-12)


@pytest.mark.parametrize("bad, row", [
    (lambda X: X * 0.5, 0),                                      # not 0/1
    (lambda X: np.where(np.arange(len(X))[:, None] == 3, 0.0, X), 3),   # an empty group
    (lambda X: np.where((np.arange(len(X))[:, None] == 2) & (np.arange(X.shape[1]) < 3), 1.0, X), 2),
])
def test_fit_and_scores_refuse_data_that_is_not_one_hot(bad, row):
    rng = np.random.default_rng(7)
    X = one_hot(rng.integers(0, 3, size=(6, 4)), 3)
    with pytest.raises(ValueError, match=rf"row {row} is not"):
        small_vae().fit(bad(X))
    model = small_vae().fit(X)
    for method in (model.elbo, model.score_samples, model.reconstruction_error):
        with pytest.raises(ValueError, match=rf"one-hot groups.*row {row} is not"):
            method(bad(X))


def test_width_must_be_a_multiple_of_n_categories():
    with pytest.raises(ValueError, match="multiple of 3 features, got 10"):
        small_vae().fit(np.zeros((4, 10)))


@pytest.mark.parametrize("value", [None, 1, 2.5, "3"])
def test_n_categories_is_checked(value):
    X = one_hot(np.zeros((4, 2), dtype=int), 3)
    with pytest.raises(ValueError, match="n_categories must be an int >= 2"):
        small_vae(n_categories=value).fit(X)


def test_other_likelihoods_ignore_n_categories_and_wae_refuses_categorical():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # the collapse warning on constant data
        VAE(n_epochs=1, n_categories=None, random_state=0).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="likelihood must be"):
        WAE(likelihood="categorical", n_epochs=1).fit(np.eye(3))


def test_save_and_load_keep_the_categorical_decoder(tmp_path):
    rng = np.random.default_rng(8)
    X = one_hot(rng.integers(0, 3, size=(10, 4)), 3)
    model = small_vae().fit(X)
    again = load(model.save(tmp_path / "cat.npz"))
    assert again.n_categories == 3 and again.likelihood == "categorical"
    np.testing.assert_array_equal(again.reconstruct(X), model.reconstruct(X))
    np.testing.assert_array_equal(again.elbo(X), model.elbo(X))
