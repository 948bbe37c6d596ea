"""Anomaly detection with a model of the normal data (thesis chapter 3; An & Cho 2015).

A model is fitted to normal rows only; a row it reconstructs badly, or finds
unlikely, is flagged. The module has three parts.

Metrics (written by hand, no scikit-learn)
    ``roc_curve``, ``roc_auc_score``, ``precision_recall_curve``,
    ``average_precision``. Convention everywhere: ``y_true`` is 1 for an
    anomaly and 0 for a normal row, and a HIGHER score means MORE ANOMALOUS.
Detector
    ``AnomalyDetector(model, score=..., contamination=...)`` wraps any model
    with ``fit`` and either ``reconstruction_error(X, n_mc, random_state)``
    (the reconstruction score (3.1)) or ``score_samples(X)`` (a log-likelihood
    or ELBO, higher = more typical).
Baselines with the same interface
    ``PCAReconstruction`` (squared error of a rank-k PCA reconstruction) and
    ``MeanDistance`` (squared distance to the training mean in standardised
    units). A model that does not beat them has not earned its complexity.

Detectors follow scikit-learn's outlier detectors (IsolationForest,
LocalOutlierFactor): ``score_samples`` is higher for MORE TYPICAL rows,
``decision_function`` is negative for rows flagged as anomalies and
``predict`` returns +1 for normal rows and -1 for anomalies. The metrics want
the opposite orientation, so pass ``detector.anomaly_score(X)`` (or
``-detector.score_samples(X)``) to ``roc_auc_score``.

References
----------
An, J. and Cho, S. (2015). Variational autoencoder based anomaly detection
using reconstruction probability. SNU Data Mining Center, Special Lecture on IE.
Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition
Letters 27(8), 861-874.
Mann, H. B. and Whitney, D. R. (1947). On a test of whether one of two random
variables is stochastically larger than the other. Ann. Math. Statist. 18(1).
"""

import inspect
import numbers

import numpy as np

from ._estimator import ParamsMixin
from ._validation import NotFittedError, check_array, check_positive_int

__all__ = [
    "roc_curve",
    "roc_auc_score",
    "precision_recall_curve",
    "average_precision",
    "model_anomaly_score",
    "AnomalyDetector",
    "PCAReconstruction",
    "MeanDistance",
]


# ====================================================================== input checks
def _check_labels_scores(y_true, scores):
    """Validate ``y_true`` (0/1, both present) and ``scores`` (finite, same length).

    Returns ``(y, s)``: ``y`` a bool array (True = anomaly), ``s`` float64.
    """
    y = np.asarray(y_true)
    s = np.asarray(scores)
    if y.ndim != 1:
        raise ValueError(f"y_true must be a 1-D array, got shape {y.shape}")
    if s.ndim != 1:
        raise ValueError(f"scores must be a 1-D array, got shape {s.shape}")
    if len(y) != len(s):
        raise ValueError(f"y_true and scores must have the same length, got {len(y)} and {len(s)}")
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"y_true must hold 0/1 labels, got dtype {y.dtype}")
    if s.dtype == object or not (np.issubdtype(s.dtype, np.number) or s.dtype == bool):
        raise TypeError(f"scores must be numeric, got dtype {s.dtype}")
    values = np.unique(y)
    if not np.all(np.isin(values, (0, 1))):
        raise ValueError(f"y_true must hold only 0 (normal) and 1 (anomaly), got values {values[:10]}")
    if len(values) < 2:
        raise ValueError(
            f"y_true holds only one class ({values.tolist()}); ROC and precision-recall "
            "need at least one anomaly (1) and one normal row (0)"
        )
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        n_bad = int(len(s) - np.count_nonzero(np.isfinite(s)))
        raise ValueError(f"scores contain NaN or infinity ({n_bad} non-finite value(s))")
    return y.astype(bool), s


def _counts_at_thresholds(y, s):
    """True and false positives when flagging ``score >= t``, for each distinct ``t``.

    Thresholds are the distinct scores in DECREASING order, so each step of
    the returned cumulative counts moves a whole group of tied rows at once:
    tied scores are never split.
    """
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # last index of each run of equal scores
    ends = np.flatnonzero(np.diff(s_sorted) != 0)
    ends = np.append(ends, len(s_sorted) - 1)
    tps = np.cumsum(y_sorted)[ends]
    fps = (ends + 1) - tps
    return tps, fps, s_sorted[ends]


# ====================================================================== ROC
def roc_curve(y_true, scores):
    """Receiver operating characteristic: FPR and TPR for every threshold.

    Convention: ``y_true`` is 1 for anomalies, 0 for normal rows; a higher
    score means more anomalous, and a row is flagged when ``score >= t``.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Labels, 1 = anomaly (positive), 0 = normal. Both must occur.
    scores : array_like of shape (n_samples,)
        Anomaly scores, higher = more anomalous; finite.

    Returns
    -------
    fpr : ndarray of shape (n_thresholds + 1,)
        False positive rate FP / (FP + TN), increasing from 0 to 1.
    tpr : ndarray of shape (n_thresholds + 1,)
        True positive rate TP / (TP + FN), increasing from 0 to 1.
    thresholds : ndarray of shape (n_thresholds + 1,)
        ``thresholds[0] = +inf`` (nothing flagged: the point (0, 0)); then the
        distinct scores in decreasing order. The last one is the smallest
        score, where everything is flagged: the point (1, 1).

    Raises
    ------
    ValueError
        If the lengths differ, ``y_true`` is not 0/1 or holds one class only,
        or a score is NaN or infinite.

    Notes
    -----
    TPR = TP / (TP + FN) and FPR = FP / (FP + TN) (thesis §3.1, whose TPR
    misprints the denominator as TP + FP; Fawcett 2006). Rows with tied
    scores cross the threshold together, so the curve takes one diagonal step
    over a tie group and never splits it; the area under this curve then
    equals ``roc_auc_score`` with ties counted ½.

    References
    ----------
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition Letters.
    """
    y, s = _check_labels_scores(y_true, scores)
    tps, fps, thresholds = _counts_at_thresholds(y, s)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    tpr = np.concatenate(([0.0], tps / n_pos))
    fpr = np.concatenate(([0.0], fps / n_neg))
    return fpr, tpr, np.concatenate(([np.inf], thresholds))


def _midranks_times_two(s):
    """Twice the average rank (1-based) of each score; ties share their mean rank.

    A group of c tied scores occupying ranks start+1 … start+c has mean rank
    start + (c + 1)/2; twice that, 2·start + c + 1, is an integer, so the
    rank sums below are exact integers.
    """
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return (2 * start + counts + 1)[inverse]


def roc_auc_score(y_true, scores):
    """Area under the ROC curve: P(anomaly outscores a normal row), ties counted ½.

    Convention: ``y_true`` is 1 for anomalies; a higher score means more
    anomalous. 1.0 = every anomaly scores above every normal row, 0.5 = no
    better than chance (a constant scorer gives exactly 0.5), 0.0 = reversed.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Labels, 1 = anomaly, 0 = normal. Both must occur.
    scores : array_like of shape (n_samples,)
        Anomaly scores, higher = more anomalous; finite.

    Returns
    -------
    auc : float
        In [0, 1].

    Raises
    ------
    ValueError
        As ``roc_curve``: mismatched lengths, labels other than 0/1, a single
        class, NaN or infinite scores.

    Notes
    -----
    The Mann–Whitney form, computed from ranks in O(n log n):
    AUC = U / (n₁ n₀),  U = R₁ − n₁(n₁ + 1)/2,
    with n₁ anomalies, n₀ normal rows and R₁ the sum of the anomalies' ranks
    among all scores (tied scores get their average rank). U counts the
    (anomaly, normal) pairs the anomaly wins, plus ½ per tied pair, so AUC is
    the probability that a random anomaly outscores a random normal row. It
    equals the trapezoidal area under ``roc_curve``. Everything is done on
    twice the ranks, which are integers, so the result is exact up to the
    final division.

    References
    ----------
    Mann, H. B. and Whitney, D. R. (1947). Ann. Math. Statist. 18(1), 50-60.
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area
    under a ROC curve. Radiology 143(1), 29-36.
    """
    y, s = _check_labels_scores(y_true, scores)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    two_r1 = int(_midranks_times_two(s)[y].sum())
    two_u = two_r1 - n_pos * (n_pos + 1)
    return two_u / (2.0 * n_pos * n_neg)


# ====================================================================== precision-recall
def precision_recall_curve(y_true, scores):
    """Precision and recall for every threshold (flag a row when ``score >= t``).

    Convention: ``y_true`` is 1 for anomalies; a higher score means more
    anomalous. The layout is scikit-learn's.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Labels, 1 = anomaly, 0 = normal. Both must occur.
    scores : array_like of shape (n_samples,)
        Anomaly scores, higher = more anomalous; finite.

    Returns
    -------
    precision : ndarray of shape (n_thresholds + 1,)
        TP / (TP + FP) at ``thresholds[i]``; the final entry is 1 (nothing
        flagged, by convention).
    recall : ndarray of shape (n_thresholds + 1,)
        TP / (TP + FN) at ``thresholds[i]``, decreasing; the final entry is 0.
    thresholds : ndarray of shape (n_thresholds,)
        The distinct scores in INCREASING order. Tied scores are never split.

    Raises
    ------
    ValueError
        As ``roc_curve``.
    """
    y, s = _check_labels_scores(y_true, scores)
    tps, fps, thresholds = _counts_at_thresholds(y, s)
    precision = tps / (tps + fps)           # tps + fps ≥ 1 at every threshold
    recall = tps / tps[-1]
    return (np.concatenate((precision[::-1], [1.0])),
            np.concatenate((recall[::-1], [0.0])),
            thresholds[::-1])


def average_precision(y_true, scores):
    """Average precision: the precision-recall curve summarised as a step sum.

    Convention: ``y_true`` is 1 for anomalies; a higher score means more
    anomalous. A constant scorer gets the anomaly fraction n₁ / n.

    Parameters
    ----------
    y_true, scores : array_like of shape (n_samples,)
        As ``precision_recall_curve``.

    Returns
    -------
    ap : float
        In (0, 1].

    Raises
    ------
    ValueError
        As ``roc_curve``.

    Notes
    -----
    AP = Σ_t (R_t − R_{t−1}) P_t over the thresholds in decreasing order,
    with R_0 = 0: each new recall is weighted by the precision at which it was
    reached. No interpolation (scikit-learn's ``average_precision_score``
    uses the same sum).
    """
    precision, recall, _ = precision_recall_curve(y_true, scores)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


# ====================================================================== detectors
def _check_contamination(contamination):
    if isinstance(contamination, bool) or not isinstance(contamination, numbers.Real):
        raise TypeError(f"contamination must be a real number, got {type(contamination).__name__}")
    c = float(contamination)
    if not 0.0 < c <= 0.5:
        raise ValueError(f"contamination must lie in (0, 0.5], got {contamination}")
    return c


class _BaseDetector(ParamsMixin):
    """Threshold, ``decision_function`` and ``predict`` on top of ``anomaly_score``.

    A subclass implements ``_fit(X)`` (learn from normal rows) and
    ``_anomaly_score(X)`` (validated X, returns higher = more anomalous).
    """

    def fit(self, X, y=None):
        """Fit on normal rows ``X`` (n_samples, n_features) and set ``threshold_``.

        ``threshold_`` is the (1 − contamination) quantile of the anomaly
        scores of the training rows (the order statistic at or above it, so
        at most a fraction ``contamination`` of them lies strictly above).
        ``y`` is ignored. Returns self.
        """
        c = _check_contamination(self.contamination)
        X = check_array(X, min_samples=2)
        self._fit(X)
        self.n_features_in_ = X.shape[1]
        train = self._checked_scores(X)
        self.threshold_ = float(np.quantile(train, 1.0 - c, method="higher"))
        return self

    def _checked_scores(self, X):
        s = np.asarray(self._anomaly_score(X), dtype=np.float64)
        s = np.where(s == np.inf, np.finfo(np.float64).max, s)   # overflowed: most anomalous
        if s.shape != (X.shape[0],) or not np.isfinite(s).all():
            raise ValueError(
                f"{type(self).__name__}: the score function returned "
                f"{'shape ' + str(s.shape) if s.shape != (X.shape[0],) else 'non-finite values'} "
                f"for {X.shape[0]} rows"
            )
        return s

    def _validate(self, X):
        if getattr(self, "threshold_", None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X) before using it")
        return check_array(X, n_features=self.n_features_in_, estimator=type(self).__name__)

    def anomaly_score(self, X):
        """Anomaly score per row: HIGHER = MORE ANOMALOUS (feed it to ``roc_auc_score``).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._checked_scores(self._validate(X))

    def score_samples(self, X):
        """Typicality per row, scikit-learn's meaning: HIGHER = MORE TYPICAL (= −anomaly_score)."""
        return -self.anomaly_score(X)

    def decision_function(self, X):
        """``threshold_ − anomaly_score``: negative for rows flagged as anomalies.

        Higher = more typical, like ``score_samples`` shifted so the decision
        boundary sits at 0 (scikit-learn's ``score_samples − offset_``).
        """
        s = self.anomaly_score(X)
        return self.threshold_ - s

    def predict(self, X):
        """+1 for a normal row, −1 for an anomaly (anomaly_score > threshold_), as scikit-learn."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def fit_predict(self, X, y=None):
        """``fit(X)`` then ``predict(X)``."""
        return self.fit(X).predict(X)


def _call_with(func, X, **kwargs):
    """Call ``func(X, **kwargs)`` passing only the keywords its signature accepts."""
    try:
        accepted = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return func(X)
    if any(p.kind == p.VAR_KEYWORD for p in accepted.values()):
        return func(X, **kwargs)
    return func(X, **{k: v for k, v in kwargs.items() if k in accepted})


_SCORE_METHODS = {"reconstruction": "reconstruction_error", "likelihood": "score_samples",
                  "elbo": "elbo"}


def model_anomaly_score(model, X, score="reconstruction", n_mc=10, random_state=0):
    """Anomaly score of each row under a fitted model: HIGHER = MORE ANOMALOUS.

    Parameters
    ----------
    model : fitted estimator
        With ``reconstruction_error`` (for ``score="reconstruction"``),
        ``score_samples`` (``"likelihood"``) or ``elbo`` (``"elbo"``).
    X : array_like of shape (n_samples, n_features)
    score : {"reconstruction", "likelihood", "elbo"}
        ``"reconstruction"``: the reconstruction score (3.1),
        (1/L) Σ_l ‖x − f(z_l)‖², z_l ~ q(z|x), L = ``n_mc``.
        ``"likelihood"``: −``model.score_samples(X)``. ``"elbo"``: −ELBO per row.
    n_mc, random_state :
        Passed on where the method accepts them.

    Returns
    -------
    ndarray of shape (n_samples,), float64

    Raises
    ------
    ValueError
        Unknown ``score``, or a non-finite score came back.
    TypeError
        The model lacks the method ``score`` needs.

    References
    ----------
    An, J. and Cho, S. (2015). Variational autoencoder based anomaly detection
    using reconstruction probability.
    """
    if score not in _SCORE_METHODS:
        raise ValueError(f"score must be one of {tuple(_SCORE_METHODS)}, got {score!r}")
    name = _SCORE_METHODS[score]
    method = getattr(model, name, None)
    if not callable(method):
        raise TypeError(f"score={score!r} needs a model with the method {name}(); "
                        f"{type(model).__name__} has none")
    values = _call_with(method, X, n_mc=n_mc, random_state=random_state)
    s = np.asarray(values, dtype=np.float64)
    if score != "reconstruction":
        s = -s
    # A far outlier's squared error (or −ln p) can overflow to +inf: it is the most
    # anomalous row, so it takes the largest finite value, which every metric ranks.
    s = np.where(s == np.inf, np.finfo(np.float64).max, s)
    if s.ndim != 1 or not np.isfinite(s).all():
        raise ValueError(f"{type(model).__name__}.{name} returned "
                         f"{'shape ' + str(s.shape) if s.ndim != 1 else 'non-finite values'}")
    return s


class AnomalyDetector(_BaseDetector):
    """Anomaly detection with a generative model fitted to normal rows (thesis ch. 3).

    Parameters
    ----------
    model : estimator
        Anything with ``fit(X)`` and either
        ``reconstruction_error(X, n_mc, random_state)`` or ``score_samples(X)``
        (a VAE, WAE, EMVAE, VampPrior, an Autoencoder, ...). ``fit`` fits it.
    score : {"reconstruction", "likelihood", "elbo"}
        What makes a row anomalous:

        * ``"reconstruction"`` — the reconstruction score (3.1),
          (1/L) Σ_l ‖x − f(z_l)‖² with z_l ~ q(z|x) and L = ``n_mc``, from
          ``model.reconstruction_error``. Higher = more anomalous.
        * ``"likelihood"`` — ``−model.score_samples(X)``, e.g. an
          importance-sampled −ln p(x).
        * ``"elbo"`` — ``−model.elbo(X)``, the negative ELBO per row.

        ``random_state`` (and ``n_mc``, where the method takes it) is passed on.
    contamination : float in (0, 0.5]
        Expected fraction of anomalies among the training rows: sets
        ``threshold_``. It does not change any score or AUC.
    n_mc : int
        Draws L of z per row for the Monte-Carlo scores.
    random_state : None, int or numpy.random.Generator
        Seed of the scoring draws. An int gives the same scores on every
        call; the model's own ``random_state`` governs its training.

    Attributes
    ----------
    threshold_ : float
        Rows with ``anomaly_score > threshold_`` are predicted anomalous.
    n_features_in_ : int

    Notes
    -----
    Convention: ``anomaly_score`` (and the metrics of this module) are higher
    for more anomalous rows; ``score_samples`` and ``decision_function`` keep
    scikit-learn's meaning, higher for more typical rows; ``predict`` gives
    +1 (normal) / −1 (anomaly), as ``sklearn.ensemble.IsolationForest``.

    References
    ----------
    An, J. and Cho, S. (2015). Variational autoencoder based anomaly detection
    using reconstruction probability.
    """

    def __init__(self, model, score="reconstruction", contamination=0.01, n_mc=10, random_state=0):
        self.model = model
        self.score = score
        self.contamination = contamination
        self.n_mc = n_mc
        self.random_state = random_state

    def _check_score(self):
        if self.score not in _SCORE_METHODS:
            raise ValueError(f"score must be one of {tuple(_SCORE_METHODS)}, got {self.score!r}")
        name = _SCORE_METHODS[self.score]
        if not callable(getattr(self.model, name, None)):
            raise TypeError(f"score={self.score!r} needs a model with the method {name}(); "
                            f"{type(self.model).__name__} has none")

    def _fit(self, X):
        self._check_score()
        check_positive_int(self.n_mc, "n_mc")
        if not callable(getattr(self.model, "fit", None)):
            raise TypeError(f"model must have a fit method, got {type(self.model).__name__}")
        self.model.fit(X)

    def _anomaly_score(self, X):
        return model_anomaly_score(self.model, X, self.score, self.n_mc, self.random_state)


class PCAReconstruction(_BaseDetector):
    """Baseline: squared error of the rank-k PCA reconstruction.

    The linear counterpart of the reconstruction score (3.1): a row far from
    the k-dimensional principal subspace of the training rows is anomalous.
    With k = nz it is the linear autoencoder of the same bottleneck width
    (a linear, deterministic VAE decoder spans the same subspace at best).

    Parameters
    ----------
    n_components : int
        Rank k of the reconstruction, 1 ≤ k ≤ min(n_samples, n_features).
        k = n_features reconstructs everything exactly (every score 0).
    contamination : float in (0, 0.5]
        Sets ``threshold_`` as in ``AnomalyDetector``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    components_ : ndarray of shape (n_components, n_features)
        Orthonormal principal directions (rows), from the SVD of the centred
        training data.
    explained_variance_ : ndarray of shape (n_components,)
    threshold_ : float

    Notes
    -----
    With X − mean = U S Vᵀ and V_k the first k right singular vectors, the
    reconstruction is mean + (x − mean) V_k V_kᵀ, and the score is
    ‖(x − mean)(I − V_k V_kᵀ)‖², summed over features. Data are centred only;
    standardise them first if columns have different units.
    Convention: ``anomaly_score`` higher = more anomalous.
    """

    def __init__(self, n_components=2, contamination=0.01):
        self.n_components = n_components
        self.contamination = contamination

    def _fit(self, X):
        k = check_positive_int(self.n_components, "n_components")
        if k > min(X.shape):
            raise ValueError(
                f"n_components must be at most min(n_samples, n_features) = {min(X.shape)}, got {k}")
        self.mean_ = X.mean(axis=0)
        _, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.components_ = Vt[:k]
        self.explained_variance_ = S[:k] ** 2 / max(X.shape[0] - 1, 1)

    def _anomaly_score(self, X):
        Xc = X - self.mean_
        residual = Xc - (Xc @ self.components_.T) @ self.components_
        return np.einsum("ij,ij->i", residual, residual)


class MeanDistance(_BaseDetector):
    """Baseline: squared distance to the training mean in standardised units.

    score(x) = Σ_j ((x_j − m_j) / s_j)², with m and s the mean and standard
    deviation of each training column (a constant column gets s = 1). The
    simplest detector there is; it ignores correlations between columns.

    Parameters
    ----------
    contamination : float in (0, 0.5]
        Sets ``threshold_`` as in ``AnomalyDetector``.

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (n_features,)
    threshold_ : float

    Notes
    -----
    Convention: ``anomaly_score`` higher = more anomalous.
    """

    def __init__(self, contamination=0.01):
        self.contamination = contamination

    def _fit(self, X):
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)

    def _anomaly_score(self, X):
        Z = (X - self.mean_) / self.scale_
        return np.einsum("ij,ij->i", Z, Z)
