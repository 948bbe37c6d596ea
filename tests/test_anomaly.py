"""Tests of minivae.anomaly: hand-written ROC/AUC/PR metrics, the detector, the baselines.

The metrics are checked against a brute-force pairwise count (the definition of
the Mann–Whitney probability), against small cases worked out by hand, against
the trapezoidal area of our own ROC curve, and against scikit-learn where it is
installed. Convention throughout: y = 1 for anomalies, higher score = more anomalous.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae._validation import NotFittedError
from minivae.anomaly import (
    AnomalyDetector,
    MeanDistance,
    PCAReconstruction,
    average_precision,
    model_anomaly_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from tests.strategies import seeds


def _brute_force_auc(y, s):
    """P(anomaly score > normal score) + ½ P(tie), over every (anomaly, normal) pair."""
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def _labelled_scores(seed, n, n_levels):
    """Random labels with both classes and integer-valued scores (so ties are common)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = (0, 1)
    rng.shuffle(y)
    s = rng.integers(0, n_levels, n).astype(float)
    return y, s


# ====================================================================== AUC
@given(seed=seeds, n=st.integers(2, 60), n_levels=st.integers(1, 8))
def test_auc_equals_brute_force_pair_count_with_ties(seed, n, n_levels):
    y, s = _labelled_scores(seed, n, n_levels)
    assert roc_auc_score(y, s) == pytest.approx(_brute_force_auc(y, s), abs=1e-15)


@given(seed=seeds, n=st.integers(2, 60), n_levels=st.integers(1, 8))
def test_auc_equals_trapezoid_area_under_roc_curve(seed, n, n_levels):
    y, s = _labelled_scores(seed, n, n_levels)
    fpr, tpr, _ = roc_curve(y, s)
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
    assert roc_auc_score(y, s) == pytest.approx(area, abs=1e-12)


@pytest.mark.parametrize("y, s, expected", [
    ([0, 1], [0.0, 1.0], 1.0),                 # anomaly on top
    ([0, 1], [1.0, 0.0], 0.0),                 # reversed
    ([0, 1], [3.0, 3.0], 0.5),                 # one tied pair counts ½
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),   # pairs won: 3 of 4
    ([0, 0, 1], [1.0, 2.0, 2.0], 0.75),        # one win, one tie: (1 + ½)/2
    ([1, 0, 0, 0], [5, 1, 5, 9], 0.5),         # beats 1, ties 1, loses 1: (1 + ½)/3
])
def test_auc_small_known_cases(y, s, expected):
    assert roc_auc_score(y, s) == expected


@given(seed=seeds, n=st.integers(2, 200), value=st.floats(-1e6, 1e6))
def test_constant_scorer_gets_exactly_one_half(seed, n, value):
    y, _ = _labelled_scores(seed, n, 1)
    assert roc_auc_score(y, np.full(n, value)) == 0.5


@given(seed=seeds, n=st.integers(2, 40))
def test_auc_is_invariant_to_monotone_transforms_and_flips_with_sign(seed, n):
    y, s = _labelled_scores(seed, n, 5)
    auc = roc_auc_score(y, s)
    assert roc_auc_score(y, np.exp(s / 3.0) + 7.0) == pytest.approx(auc, abs=1e-15)
    assert roc_auc_score(y, -s) == pytest.approx(1.0 - auc, abs=1e-15)


# ====================================================================== ROC curve
@given(seed=seeds, n=st.integers(2, 60), n_levels=st.integers(1, 8))
def test_roc_curve_runs_from_origin_to_one_one_monotonically(seed, n, n_levels):
    y, s = _labelled_scores(seed, n, n_levels)
    fpr, tpr, thr = roc_curve(y, s)
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert thr[0] == np.inf and np.all(np.diff(thr) < 0)
    # every point is (FP/n0, TP/n1) of the rule "score >= threshold"
    for f, t, th in zip(fpr[1:], tpr[1:], thr[1:]):
        flagged = s >= th
        assert t == np.mean(flagged[y == 1]) and f == np.mean(flagged[y == 0])


def test_roc_curve_never_splits_tied_scores():
    # two tied rows, one anomaly and one normal: one diagonal step, no corner
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.5, 0.5, 0.1])
    fpr, tpr, thr = roc_curve(y, s)
    np.testing.assert_array_equal(thr, [np.inf, 0.9, 0.5, 0.1])
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 1.0, 1.0])
    assert len(np.unique(s)) + 1 == len(thr)


def test_roc_curve_of_constant_scorer_is_the_diagonal():
    fpr, tpr, _ = roc_curve([0, 1, 0, 1, 1], np.zeros(5))
    np.testing.assert_array_equal(fpr, [0.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1.0])


# ====================================================================== precision-recall
def test_precision_recall_small_known_case():
    y = np.array([0, 1, 1, 0])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    precision, recall, thr = precision_recall_curve(y, s)
    np.testing.assert_array_equal(thr, [0.1, 0.35, 0.4, 0.8])
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5, 0.0, 1.0])
    np.testing.assert_allclose(recall, [1.0, 1.0, 0.5, 0.0, 0.0])
    # AP = (½ − 0)·½ + (1 − ½)·⅔
    assert average_precision(y, s) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)


@given(seed=seeds, n=st.integers(2, 60), n_levels=st.integers(1, 8))
def test_average_precision_against_definition(seed, n, n_levels):
    y, s = _labelled_scores(seed, n, n_levels)
    expected, prev_recall = 0.0, 0.0
    for t in np.unique(s)[::-1]:
        flagged = s >= t
        tp = np.sum(flagged & (y == 1))
        recall = tp / np.sum(y == 1)
        expected += (recall - prev_recall) * tp / flagged.sum()
        prev_recall = recall
    assert average_precision(y, s) == pytest.approx(expected, abs=1e-12)


def test_average_precision_of_constant_scorer_is_the_anomaly_fraction():
    y = np.array([0, 0, 0, 1])
    assert average_precision(y, np.ones(4)) == pytest.approx(0.25)


# ====================================================================== errors
@pytest.mark.parametrize("func", [roc_curve, roc_auc_score, precision_recall_curve, average_precision])
@pytest.mark.parametrize("y, s, match", [
    ([1, 1, 1], [0.1, 0.2, 0.3], "only one class"),
    ([0, 0], [0.1, 0.2], "only one class"),
    ([0, 1, 1], [0.1, np.nan, 0.3], "NaN or infinity"),
    ([0, 1, 1], [0.1, np.inf, 0.3], "NaN or infinity"),
    ([0, 1, 1], [0.1, 0.2], "same length"),
    ([0, 1, 2], [0.1, 0.2, 0.3], "only 0"),
    ([-1, 1], [0.1, 0.2], "only 0"),
    ([[0, 1]], [[0.1, 0.2]], "1-D"),
])
def test_metrics_reject_bad_input_with_a_clear_message(func, y, s, match):
    with pytest.raises(ValueError, match=match):
        func(y, s)


# ====================================================================== sklearn as an extra oracle
@given(seed=seeds, n=st.integers(2, 60), n_levels=st.integers(1, 8))
def test_metrics_agree_with_scikit_learn(seed, n, n_levels):
    metrics = pytest.importorskip("sklearn.metrics")
    y, s = _labelled_scores(seed, n, n_levels)
    assert roc_auc_score(y, s) == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    fpr, tpr, _ = roc_curve(y, s)
    fpr_sk, tpr_sk, _ = metrics.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, fpr_sk)
    np.testing.assert_allclose(tpr, tpr_sk)
    for ours, theirs in zip(precision_recall_curve(y, s),
                            metrics.precision_recall_curve(y, s, drop_intermediate=False)):
        np.testing.assert_allclose(ours, theirs)


# ====================================================================== detectors
def _shifted(seed=0, n=800, n_anom=80, nx=5, shift=3.0):
    """Correlated normal rows, and anomalies shifted off their principal plane."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((2, nx))
    normal = rng.standard_normal((n, 2)) @ A + 0.1 * rng.standard_normal((n, nx))
    test_normal = rng.standard_normal((n, 2)) @ A + 0.1 * rng.standard_normal((n, nx))
    anomalies = rng.standard_normal((n_anom, 2)) @ A + 0.1 * rng.standard_normal((n_anom, nx))
    anomalies += shift * rng.standard_normal(nx) / np.sqrt(nx)
    X_test = np.vstack([test_normal, anomalies])
    y_test = np.r_[np.zeros(n), np.ones(n_anom)]
    return normal, X_test, y_test


class _RecModel:
    """A stand-in model with the interface AnomalyDetector needs: a PCA 'decoder'
    plus Gaussian noise in the code, so the score depends on the seed."""

    def __init__(self):
        self.fitted = False

    def fit(self, X):
        self.pca = PCAReconstruction(n_components=2).fit(X)
        self.fitted = True
        return self

    def reconstruction_error(self, X, n_mc=1, random_state=None):
        rng = np.random.default_rng(random_state)
        V, m = self.pca.components_, self.pca.mean_
        z = (X - m) @ V.T
        errs = [np.sum((X - m - (z + 0.01 * rng.standard_normal(z.shape)) @ V) ** 2, axis=1)
                for _ in range(n_mc)]
        return np.mean(errs, axis=0)


class _LikModel:
    """A stand-in with only score_samples (higher = more typical)."""

    def fit(self, X):
        self.m = X.mean(axis=0)
        return self

    def score_samples(self, X):
        return -np.sum((X - self.m) ** 2, axis=1)


@pytest.mark.parametrize("make", [
    lambda: PCAReconstruction(n_components=2),
    lambda: MeanDistance(),
    lambda: AnomalyDetector(_RecModel(), n_mc=3),
    lambda: AnomalyDetector(_LikModel(), score="likelihood"),
])
def test_detectors_find_a_shift_off_the_normal_data(make):
    X, X_test, y_test = _shifted(shift=6.0)
    det = make().fit(X)
    s = det.anomaly_score(X_test)
    np.testing.assert_array_equal(det.score_samples(X_test), -s)
    np.testing.assert_allclose(det.decision_function(X_test), det.threshold_ - s)
    assert roc_auc_score(y_test, s) > 0.9


def test_pca_baseline_separates_off_plane_anomalies_perfectly_and_mean_distance_does_not():
    # anomalies lie inside the normal cloud's range but off its plane: PCA
    # catches them, the distance to the mean barely does
    X, X_test, y_test = _shifted(shift=1.5)
    auc_pca = roc_auc_score(y_test, PCAReconstruction(2).fit(X).anomaly_score(X_test))
    auc_mean = roc_auc_score(y_test, MeanDistance().fit(X).anomaly_score(X_test))
    assert auc_pca > 0.99 and auc_mean < auc_pca


def test_pca_reconstruction_matches_its_definition():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 4))
    det = PCAReconstruction(n_components=2).fit(X)
    np.testing.assert_allclose(det.components_ @ det.components_.T, np.eye(2), atol=1e-12)
    # the kept directions are the top eigenvectors of the sample covariance
    evals, _ = np.linalg.eigh(np.cov(X.T))
    np.testing.assert_allclose(det.explained_variance_, evals[::-1][:2], rtol=1e-10)
    # residual = the part along the two discarded eigenvectors
    Xc = X - X.mean(axis=0)
    _, evecs = np.linalg.eigh(np.cov(X.T))
    expected = np.sum((Xc @ evecs[:, :2]) ** 2, axis=1)
    np.testing.assert_allclose(det.anomaly_score(X), expected, rtol=1e-9, atol=1e-12)
    # full rank reconstructs exactly
    full = PCAReconstruction(n_components=4).fit(X)
    np.testing.assert_allclose(full.anomaly_score(X), 0.0, atol=1e-20 + 1e-12)


def test_mean_distance_matches_its_definition():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 3)) * [1.0, 10.0, 0.1] + 5
    X[:, 2] = 4.0                                   # constant column: scale 1
    det = MeanDistance().fit(X)
    x = np.array([[5.0, 5.0, 4.0], [6.0, 5.0, 5.0]])
    sd = X.std(axis=0)
    expected = ((x[:, 0] - X[:, 0].mean()) / sd[0]) ** 2 + ((x[:, 1] - X[:, 1].mean()) / sd[1]) ** 2 \
        + (x[:, 2] - 4.0) ** 2
    np.testing.assert_allclose(det.anomaly_score(x), expected)


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.2, 0.5])
def test_threshold_flags_at_most_the_contamination_fraction_of_training_rows(contamination):
    X, _, _ = _shifted(n=1000)
    det = MeanDistance(contamination=contamination).fit(X)
    flagged = det.predict(X) == -1
    n = len(X)
    assert np.isin(det.predict(X), (-1, 1)).all()
    # the (1 − c) order statistic: exactly floor((n − 1)·c) training rows lie above it
    assert flagged.sum() == int(np.floor((n - 1) * contamination + 1e-9))
    assert flagged.mean() <= contamination
    np.testing.assert_array_equal(flagged, det.anomaly_score(X) > det.threshold_)


def test_larger_contamination_lowers_the_threshold_not_the_scores():
    X, X_test, _ = _shifted()
    a = MeanDistance(contamination=0.01).fit(X)
    b = MeanDistance(contamination=0.2).fit(X)
    assert b.threshold_ < a.threshold_
    np.testing.assert_array_equal(a.anomaly_score(X_test), b.anomaly_score(X_test))
    assert (b.predict(X_test) == -1).sum() > (a.predict(X_test) == -1).sum()


def test_detector_fits_the_model_passes_n_mc_and_seed_and_is_row_independent():
    X, X_test, _ = _shifted()
    model = _RecModel()
    det = AnomalyDetector(model, n_mc=4, random_state=3).fit(X)
    assert model.fitted
    s = det.anomaly_score(X_test)
    np.testing.assert_array_equal(s, det.anomaly_score(X_test))          # same seed, same scores
    expected = model.reconstruction_error(X_test, n_mc=4, random_state=3)
    np.testing.assert_array_equal(s, expected)
    np.testing.assert_array_equal(model_anomaly_score(model, X_test, n_mc=4, random_state=3), s)
    other = AnomalyDetector(model, n_mc=4, random_state=4)
    other.threshold_, other.n_features_in_ = det.threshold_, det.n_features_in_
    assert not np.array_equal(other.anomaly_score(X_test), s)


def test_detector_and_baselines_expose_params_and_refuse_before_fit():
    det = AnomalyDetector(_LikModel(), score="likelihood", contamination=0.1)
    assert det.get_params()["contamination"] == 0.1
    for d in (det, PCAReconstruction(1), MeanDistance()):
        with pytest.raises(NotFittedError):
            d.predict(np.zeros((2, 3)))


@pytest.mark.parametrize("make, match, exc", [
    (lambda: MeanDistance(contamination=0.0), "contamination", ValueError),
    (lambda: MeanDistance(contamination=0.7), "contamination", ValueError),
    (lambda: MeanDistance(contamination="auto"), "contamination", TypeError),
    (lambda: PCAReconstruction(n_components=9), "n_components", ValueError),
    (lambda: PCAReconstruction(n_components=0), "n_components", ValueError),
    (lambda: AnomalyDetector(_LikModel(), score="reconstruction"), "reconstruction_error", TypeError),
    (lambda: AnomalyDetector(_RecModel(), score="magic"), "score must be one of", ValueError),
    (lambda: AnomalyDetector(_RecModel(), n_mc=0), "n_mc", ValueError),
])
def test_bad_parameters_raise_naming_the_parameter(make, match, exc):
    X, _, _ = _shifted(n=50)
    with pytest.raises(exc, match=match):
        make().fit(X)


def test_scoring_checks_feature_count_and_model_output():
    X, _, _ = _shifted(n=50)
    det = MeanDistance().fit(X)
    with pytest.raises(ValueError, match="has 3 features"):
        det.predict(X[:, :3])

    class NaNModel(_LikModel):
        def score_samples(self, X):
            return np.full(len(X), np.nan)

    with pytest.raises(ValueError, match="non-finite"):
        AnomalyDetector(NaNModel(), score="likelihood").fit(X)


@pytest.mark.parametrize("score", ["reconstruction", "likelihood", "elbo"])
def test_detector_with_a_real_vae_finds_the_shift(score):
    from minivae.models import VAE

    X, X_test, y_test = _shifted(n=400, n_anom=40, shift=6.0)
    vae = VAE(n_latent=2, hidden_sizes=(8,), n_epochs=15, random_state=0)
    det = AnomalyDetector(vae, score=score, n_mc=5, contamination=0.05).fit(X)
    s = det.anomaly_score(X_test)
    assert roc_auc_score(y_test, s) > 0.9
    # the same seed gives the same scores, and a row's score ignores the other rows
    np.testing.assert_array_equal(s, det.anomaly_score(X_test))
    np.testing.assert_allclose(det.anomaly_score(X_test[::7]), s[::7], rtol=1e-12)
    assert np.mean(det.predict(X) == -1) <= 0.05


def test_detector_with_a_wae_uses_its_score_samples():
    from minivae.models import WAE

    X, X_test, y_test = _shifted(n=400, n_anom=40, shift=6.0)
    det = AnomalyDetector(WAE(n_latent=2, hidden_sizes=(8,), n_epochs=10, random_state=0),
                          score="likelihood").fit(X)
    assert roc_auc_score(y_test, det.anomaly_score(X_test)) > 0.9
    with pytest.raises(TypeError, match="elbo"):
        AnomalyDetector(det.model, score="elbo").fit(X)
