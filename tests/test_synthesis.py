"""Tabular synthesis: synthesize() in original units, the fidelity report, the TSTR classifier."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae.gradcheck import check_gradients
from minivae.models import VAE
from minivae.synthesis import LogisticRegression, fidelity_report, rank_auc, synthesize
from tests.strategies import seeds

MEANS = np.array([[1000.0, -5.0, 0.02], [1030.0, -2.0, 0.05]])   # class 0 and class 1
SCALES = np.array([20.0, 2.0, 0.01])
CORR = np.array([[1.0, 0.8, -0.5], [0.8, 1.0, -0.3], [-0.5, -0.3, 1.0]])


def table(n_per_class, rng):
    """Two classes of correlated Gaussian rows in very different units per column."""
    L = np.linalg.cholesky(CORR)
    X = np.vstack([MEANS[c] + SCALES * (rng.standard_normal((n_per_class, 3)) @ L.T) for c in (0, 1)])
    y = np.repeat([0, 1], n_per_class)
    return X, y


class Scaler:
    """The smallest preprocessing with an inverse: (x − mean) / std per column."""

    def fit(self, X):
        self.mean, self.std = X.mean(axis=0), X.std(axis=0)
        return self

    def transform(self, X):
        return (X - self.mean) / self.std

    def inverse_transform(self, Z):
        return Z * self.std + self.mean


# ---------------------------------------------------------------------- synthesize
@pytest.fixture(scope="module")
def fitted():
    X, y = table(300, np.random.default_rng(0))
    X0 = X[y == 0]
    scaler = Scaler().fit(X0)
    model = VAE(n_latent=2, hidden_sizes=(16,), sigma2=0.1, n_epochs=40, lr=5e-3,
                random_state=0).fit(scaler.transform(X0))
    return model, scaler, X0


def test_synthesize_returns_rows_in_the_original_units_and_columns(fitted):
    model, scaler, X0 = fitted
    rows = synthesize(model, 500, preprocessing=scaler, random_state=1)
    assert rows.shape == (500, 3)
    # Each column lands on its real mean within a third of its real std, in its own units.
    assert np.all(np.abs(rows.mean(axis=0) - X0.mean(axis=0)) < X0.std(axis=0) / 3)
    np.testing.assert_allclose(rows, scaler.inverse_transform(model.sample(500, random_state=1)))
    # Without the preprocessing, the rows stay in the model's standardised units.
    raw = synthesize(model, 500, random_state=1)
    assert np.all(np.abs(raw.mean(axis=0)) < 1.0)


def test_synthesize_is_seeded_and_noise_adds_the_decoder_variance(fitted):
    model, scaler, _ = fitted
    np.testing.assert_array_equal(synthesize(model, 50, scaler, random_state=3),
                                  synthesize(model, 50, scaler, random_state=3))
    plain = synthesize(model, 4000, random_state=4)
    noisy = synthesize(model, 4000, random_state=4, noise=True)
    # Var[x] = Var[f(z)] + ω² per column for x ~ N(f(z), ω² I): within 10 %.
    np.testing.assert_allclose(noisy.var(axis=0), plain.var(axis=0) + model.sigma2, rtol=0.1)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(model=object()), TypeError, "model must be a fitted generative model"),
    (dict(preprocessing=object()), TypeError, "preprocessing must have an inverse_transform"),
    (dict(n_samples=0), ValueError, "n_samples must be an int >= 1, got 0"),
])
def test_synthesize_checks_its_arguments(fitted, kwargs, error, message):
    args = dict(model=fitted[0], n_samples=5, preprocessing=None)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        synthesize(**args)


def test_synthesize_needs_a_fitted_model():
    with pytest.raises(Exception, match="not fitted"):
        synthesize(VAE(), 5)


# ---------------------------------------------------------------------- the classifier and AUC
@given(seed=seeds, n=st.integers(2, 30))
def test_rank_auc_is_the_share_of_correctly_ordered_pairs(seed, n):
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, n)]
    score = rng.integers(0, 4, y.size).astype(float)     # many ties
    pos, neg = score[y == 1], score[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert rank_auc(y, score) == pytest.approx(pairs.mean(), abs=1e-12)


def test_rank_auc_errors():
    with pytest.raises(ValueError, match="both classes"):
        rank_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="0 and 1"):
        rank_auc([0, 2], [0.1, 0.2])


def test_logistic_regression_gradient_is_the_mean_nll_gradient():
    # The fit's gradient, written in LogisticRegression.fit, against finite differences of its loss.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20).astype(float)
    w, b, l2 = rng.standard_normal(3), rng.standard_normal(1), 0.1

    def func():
        a = X @ w + b
        loss = np.mean(np.logaddexp(0.0, a) - y * a) + 0.5 * l2 * w @ w
        d_a = (1.0 / (1.0 + np.exp(-a)) - y) / X.shape[0]
        return float(loss), {"w": X.T @ d_a + l2 * w, "b": np.array([d_a.sum()])}

    check_gradients(func, {"w": w, "b": b}).assert_ok(1e-6)


def test_logistic_regression_learns_a_separable_direction():
    X, y = table(300, np.random.default_rng(1))
    clf = LogisticRegression().fit(X, y)
    X_test, y_test = table(300, np.random.default_rng(2))
    assert rank_auc(y_test, clf.decision_function(X_test)) > 0.9
    p = clf.predict_proba(X_test)
    assert np.all((p > 0) & (p < 1))
    # Deterministic: the same data gives the same weights.
    np.testing.assert_array_equal(LogisticRegression().fit(X, y).coef_, clf.coef_)


# ---------------------------------------------------------------------- the report
def good_and_bad(rng):
    """A good synthesiser (fresh draws of the same law) and a bad one (its columns, label too, shuffled)."""
    X, y = table(1000, rng)
    bad = np.column_stack([X, y])
    for j in range(bad.shape[1]):
        bad[:, j] = rng.permutation(bad[:, j])
    return (X, y), (bad[:, :3], bad[:, 3].astype(int))


@pytest.mark.parametrize("seed", [0, 1])
def test_report_rates_shuffled_columns_worse_on_every_measure(seed):
    rng = np.random.default_rng(seed)
    real, y_real = table(1000, rng)
    X_test, y_test = table(1000, rng)
    (good, y_good), (bad, y_bad) = good_and_bad(rng)
    g = fidelity_report(real, good, y_real, y_good, X_test, y_test)
    b = fidelity_report(real, bad, y_real, y_bad, X_test, y_test)
    assert np.all(b.ks > g.ks)                          # every column of every class
    assert np.all(b.corr_frobenius > g.corr_frobenius)
    assert np.all(b.corr_max_abs > g.corr_max_abs)
    assert b.auc_synthetic < g.auc_synthetic
    assert abs(g.auc_synthetic - g.auc_real) < 0.02      # fresh draws are as good as real rows
    assert b.auc_synthetic < 0.65                          # shuffled labels carry nothing
    np.testing.assert_allclose(g.corr_real[0], CORR, atol=0.1)


def test_report_without_labels_compares_all_rows():
    rng = np.random.default_rng(3)
    real, _ = table(500, rng)
    (good, _), (bad, _) = good_and_bad(rng)
    g, b = fidelity_report(real, good), fidelity_report(real, bad)
    assert g.classes == ["all"] and g.ks.shape == (1, 3) and g.auc_real is None
    assert b.corr_frobenius[0] > g.corr_frobenius[0]
    text = str(g)
    assert "Kolmogorov-Smirnov" in text and "Frobenius" in text and "x2" in text


def test_identical_data_is_perfect():
    X, y = table(100, np.random.default_rng(4))
    r = fidelity_report(X, X, y, y, feature_names=["a", "b", "c"])
    np.testing.assert_array_equal(r.ks, 0.0)
    np.testing.assert_allclose(r.corr_frobenius, 0.0, atol=1e-12)
    assert "a" in str(r)


@pytest.mark.parametrize("kwargs, message", [
    (dict(synthetic=np.zeros((5, 2))), "synthetic has 2 features"),
    (dict(y_synthetic=None), "both y_real and y_synthetic"),
    (dict(y_real=np.zeros(3)), r"y_real must have one label per row \(10\)"),
    (dict(X_test=np.zeros((4, 3))), "needs X_test, y_test"),
    (dict(feature_names=["a"]), "feature_names must name 3 columns, got 1"),
    (dict(y_synthetic=np.r_[np.zeros(9), 1]), "class 1 has 5 real and 1 synthetic rows"),
])
def test_report_checks_its_arguments(kwargs, message):
    X = np.random.default_rng(5).standard_normal((10, 3))
    args = dict(real=X, synthetic=X, y_real=np.repeat([0, 1], 5), y_synthetic=np.repeat([0, 1], 5))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fidelity_report(**args)


# ---------------------------------------------------------------------- figures
def test_figures_are_returned_with_labelled_axes():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from minivae.synthesis import plot_correlations, plot_marginals

    rng = np.random.default_rng(6)
    real, y = table(100, rng)
    (good, y_good), _ = good_and_bad(rng)
    names = ["a", "b", "c"]
    figures = [plot_marginals(real, good, y, y_good, feature_names=names, n_cols=2),
               plot_correlations(fidelity_report(real, good, y, y_good, feature_names=names))]
    for fig in figures:
        assert isinstance(fig, Figure)
        shown = [ax for ax in fig.axes if ax.axison and ax.get_images() + ax.patches[:1]]
        assert shown and all(ax.get_xlabel() and ax.get_ylabel() for ax in shown)
        plt.close(fig)
