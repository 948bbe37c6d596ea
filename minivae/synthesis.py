"""Tabular data synthesis with a generative model, and how faithful the synthetic rows are.

A VAE trained on a table is a generator of new rows: z ~ p(z), x = f(z)
((2.27)-(2.28) in docs/equations.md). :func:`synthesize` draws them and undoes
the preprocessing the model was trained on, so the rows come back in the
table's own units. :func:`fidelity_report` then compares real and synthetic
rows three ways:

1. marginals: the two-sample Kolmogorov–Smirnov statistic of every column,
   D = sup_t |F_real(t) − F_synthetic(t)| (scipy.stats.ks_2samp);
2. dependence: the difference between the two Pearson correlation matrices
   (its Frobenius norm and its largest entry);
3. utility, "train on synthetic, test on real" (TSTR; Esteban et al. 2017):
   the same logistic regression is fitted once on synthetic rows and once on
   real ones, and both are scored by ROC AUC on held-out real rows. Synthetic
   data that keeps what separates the classes scores close to the real data.

When labels are given, the marginals and correlations are compared class by
class: a class-conditional synthesiser should reproduce each class, and the
pooled columns would mix fidelity with the class proportions one chose to
synthesise.

References
----------
Esteban, C., Hyland, S. L. & Rätsch, G. (2017). Real-valued (medical) time
series generation with recurrent conditional GANs. arXiv:1706.02633.
Xu, L., Skoularidou, M., Cuesta-Infante, A. & Veeramachaneni, K. (2019).
Modeling tabular data using conditional GAN. NeurIPS.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import ks_2samp, rankdata

from ._validation import check_array, check_is_fitted, check_positive, check_positive_int, check_random_state
from .losses import bernoulli_nll
from .nn import sigmoid
from .optim import Adam

__all__ = ["synthesize", "fidelity_report", "FidelityReport", "LogisticRegression", "rank_auc",
           "plot_marginals", "plot_correlations"]


def synthesize(model, n_samples, preprocessing=None, random_state=None, noise=False):
    """Draw ``n_samples`` new rows from a fitted generative model, in the original units.

    Parameters
    ----------
    model : fitted model with ``sample(n_samples, random_state=...)``
        E.g. :class:`minivae.models.VAE`: z ~ p(z) (2.27), x = f(z) (2.28).
    n_samples : int
        Number of rows.
    preprocessing : object with ``inverse_transform``, optional
        What turned the table into the model's training data (e.g.
        :class:`minivae.datasets.Standardizer`, log1p columns included);
        its ``inverse_transform`` maps the samples back.
    random_state : None, int or numpy.random.Generator
    noise : bool
        Also draw the decoder's observation noise, x ~ N(f(z), ω² I), instead
        of returning the decoder mean f(z) (passed on to ``model.sample``).
        The decoder mean is smoother than the data; the noise restores the
        spread at the price of adding it to every column alike.

    Returns
    -------
    ndarray, shape (n_samples, n_features)

    Raises
    ------
    TypeError
        If ``model`` has no ``sample`` method or ``preprocessing`` no
        ``inverse_transform``.
    ValueError
        If ``n_samples`` is not a positive int, the model is not fitted, or
        the inverse transform changes the number of rows.
    """
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"model must be a fitted generative model with a sample method, "
                        f"got {type(model).__name__}")
    if preprocessing is not None and not callable(getattr(preprocessing, "inverse_transform", None)):
        raise TypeError(f"preprocessing must have an inverse_transform method, got {type(preprocessing).__name__}")
    n_samples = check_positive_int(n_samples, "n_samples")
    check_is_fitted(model)
    rng = check_random_state(random_state)
    rows = model.sample(n_samples, random_state=rng, noise=True) if noise else model.sample(n_samples, random_state=rng)
    if preprocessing is not None:
        rows = np.asarray(preprocessing.inverse_transform(rows))
    if rows.ndim != 2 or rows.shape[0] != n_samples:
        raise ValueError(f"expected {n_samples} synthetic rows, got shape {rows.shape} after inverse_transform")
    return rows


# ---------------------------------------------------------------------- the TSTR classifier
def rank_auc(y_true, score):
    """ROC AUC from ranks (Mann–Whitney U): P(score of a positive > score of a negative), ties count ½.

    AUC = (Σ_{i positive} rank_i − n₁(n₁ + 1)/2) / (n₁ n₀), with average ranks for ties.

    Raises
    ------
    ValueError
        If ``y_true`` is not 0/1, the lengths differ, or one class is absent.
    """
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=np.float64)
    if y_true.shape != score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and score must be 1-D of the same length, got {y_true.shape} and {score.shape}")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError(f"y_true must hold 0 and 1, got values {np.unique(y_true)[:5].tolist()}")
    n1 = int(np.sum(y_true == 1))
    n0 = y_true.size - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"the AUC needs both classes, got {n1} positive and {n0} negative rows")
    ranks = rankdata(score)
    return float((ranks[y_true == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


class LogisticRegression:
    """Logistic regression p(y = 1 | x) = σ(wᵀx̃ + b) on standardised features x̃, fitted by full-batch Adam.

    The loss is the mean Bernoulli NLL (2.33's Bernoulli counterpart,
    :func:`minivae.losses.bernoulli_nll`) plus ``l2``·½‖w‖², minimised for
    ``n_iter`` Adam steps (Kingma & Ba 2015) from w = 0, b = 0: a
    deterministic fit. Features are standardised with the training rows'
    means and standard deviations, so that one learning rate suits every
    table.

    Parameters
    ----------
    l2 : float
        Ridge weight λ (> 0 keeps w finite on separable data).
    lr : float
        Adam's step size η.
    n_iter : int
        Adam steps on the whole training set.
    """

    def __init__(self, l2=1e-3, lr=0.05, n_iter=500):
        self.l2 = l2
        self.lr = lr
        self.n_iter = n_iter

    def fit(self, X, y):
        """Fit on X (n, d) and labels y ∈ {0, 1} (n,); returns self."""
        X = check_array(X)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0],) or not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"y must hold one 0/1 label per row of X ({X.shape[0]}), got shape {y.shape}")
        l2 = check_positive(self.l2, "l2", allow_zero=True)
        n_iter = check_positive_int(self.n_iter, "n_iter")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        Xs = (X - self.mean_) / self.scale_
        params = {"w": np.zeros(X.shape[1]), "b": np.zeros(1)}
        optimizer = Adam(lr=self.lr)
        n = X.shape[0]
        for _ in range(n_iter):
            a = Xs @ params["w"] + params["b"]
            _, d_a = bernoulli_nll(y[:, None], a[:, None])          # σ(a) − y, per row
            d_a = d_a[:, 0] / n
            grads = {"w": Xs.T @ d_a + l2 * params["w"], "b": np.array([d_a.sum()])}
            optimizer.step(params, grads)
        self.coef_, self.intercept_ = params["w"], float(params["b"][0])
        return self

    def decision_function(self, X):
        """The logit wᵀx̃ + b of each row, shape (n,)."""
        check_is_fitted(self, "coef_")
        X = check_array(X, n_features=self.coef_.size, estimator="LogisticRegression")
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        """p(y = 1 | x) of each row, shape (n,)."""
        return sigmoid(self.decision_function(X))


# ---------------------------------------------------------------------- the report
@dataclass
class FidelityReport:
    """What :func:`fidelity_report` measured; ``print(report)`` shows a table.

    Attributes
    ----------
    classes : list
        The groups compared: the class labels, or ``["all"]`` without labels.
    ks : ndarray, shape (n_groups, n_features)
        Kolmogorov–Smirnov statistic D of each column within each group (0 = same marginal).
    ks_pvalue : ndarray, shape (n_groups, n_features)
    corr_real, corr_synthetic : ndarray, shape (n_groups, n_features, n_features)
        Pearson correlation matrices (a constant column correlates 0 with the others).
    corr_frobenius, corr_max_abs : ndarray, shape (n_groups,)
        ‖C_real − C_synthetic‖_F and max |C_real − C_synthetic| per group.
    auc_real, auc_synthetic : float or None
        TSTR: AUC on the held-out real rows of the logistic regression fitted
        on the real rows and on the synthetic rows (None without test rows).
    feature_names : list of str
    """

    classes: list
    ks: np.ndarray
    ks_pvalue: np.ndarray
    corr_real: np.ndarray
    corr_synthetic: np.ndarray
    corr_frobenius: np.ndarray
    corr_max_abs: np.ndarray
    auc_real: float = None
    auc_synthetic: float = None
    feature_names: list = field(default_factory=list)

    def __str__(self):
        width = max(8, *(len(name) for name in self.feature_names))
        head = "".join(f"  {str(c):>10}" for c in self.classes)
        lines = ["Kolmogorov-Smirnov D per column (real vs synthetic), by class",
                 f"{'column':<{width}}{head}"]
        for j, name in enumerate(self.feature_names):
            lines.append(f"{name:<{width}}" + "".join(f"  {d:>10.3f}" for d in self.ks[:, j]))
        lines.append(f"{'mean':<{width}}" + "".join(f"  {d:>10.3f}" for d in self.ks.mean(axis=1)))
        lines.append("correlation matrices, real - synthetic")
        lines.append(f"{'Frobenius':<{width}}" + "".join(f"  {d:>10.3f}" for d in self.corr_frobenius))
        lines.append(f"{'max |diff|':<{width}}" + "".join(f"  {d:>10.3f}" for d in self.corr_max_abs))
        if self.auc_real is not None:
            lines.append(f"train on real, test on real:           AUC {self.auc_real:.4f}")
            lines.append(f"train on synthetic, test on real:      AUC {self.auc_synthetic:.4f}")
        return "\n".join(lines)


def _correlation(X):
    """Pearson correlation matrix; a constant column gets 0 off the diagonal instead of NaN."""
    Xc = X - X.mean(axis=0)
    std = np.sqrt((Xc * Xc).mean(axis=0))
    Z = Xc / np.where(std > 0, std, 1.0)
    C = (Z.T @ Z) / X.shape[0]
    np.fill_diagonal(C, 1.0)
    return C


def _labels(y, n, name):
    if y is None:
        return None
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{name} must have one label per row ({n}), got shape {y.shape}")
    return y


def fidelity_report(real, synthetic, y_real=None, y_synthetic=None, X_test=None, y_test=None,
                    feature_names=None, classifier=None):
    """Compare synthetic rows with real ones: marginals, correlations, train-on-synthetic / test-on-real.

    Parameters
    ----------
    real : array-like, shape (n_real, n_features)
        Real rows (those the synthesiser was trained on, in the same units).
    synthetic : array-like, shape (n_synthetic, n_features)
    y_real, y_synthetic : array-like of shape (n_real,), (n_synthetic,), optional
        Class labels (both or neither). With them, the KS statistics and
        correlations are computed within each class of ``y_real``; for the
        TSTR check they must be 0/1.
    X_test, y_test : array-like, optional
        Held-out real rows and 0/1 labels for the TSTR check; without them
        ``auc_real`` and ``auc_synthetic`` are None.
    feature_names : sequence of str, optional
    classifier : object with fit(X, y) and decision_function(X), optional
        Default :class:`LogisticRegression` (). The same settings are
        fitted on the real and on the synthetic rows.

    Returns
    -------
    FidelityReport

    Raises
    ------
    ValueError
        If the column counts differ, only one of ``y_real`` and
        ``y_synthetic`` is given, a class has fewer than 2 rows on either
        side, or the TSTR inputs are inconsistent.
    """
    real = check_array(real, name="real")
    synthetic = check_array(synthetic, name="synthetic", n_features=real.shape[1], estimator="real data")
    d = real.shape[1]
    if (y_real is None) != (y_synthetic is None):
        raise ValueError("give both y_real and y_synthetic, or neither")
    y_real = _labels(y_real, real.shape[0], "y_real")
    y_synthetic = _labels(y_synthetic, synthetic.shape[0], "y_synthetic")
    names = [f"x{j}" for j in range(d)] if feature_names is None else [str(s) for s in feature_names]
    if len(names) != d:
        raise ValueError(f"feature_names must name {d} columns, got {len(names)}")
    if y_real is None:
        classes, groups = ["all"], [(real, synthetic)]
    else:
        classes = np.unique(y_real).tolist()
        groups = [(real[y_real == c], synthetic[y_synthetic == c]) for c in classes]
    ks = np.empty((len(groups), d))
    pv = np.empty((len(groups), d))
    corr_r = np.empty((len(groups), d, d))
    corr_s = np.empty((len(groups), d, d))
    for g, (r, s) in enumerate(groups):
        if r.shape[0] < 2 or s.shape[0] < 2:
            raise ValueError(f"class {classes[g]!r} has {r.shape[0]} real and {s.shape[0]} synthetic "
                             f"rows; at least 2 of each are needed")
        for j in range(d):
            result = ks_2samp(r[:, j], s[:, j])
            ks[g, j], pv[g, j] = result.statistic, result.pvalue
        corr_r[g], corr_s[g] = _correlation(r), _correlation(s)
    diff = corr_r - corr_s
    report = FidelityReport(
        classes=classes, ks=ks, ks_pvalue=pv, corr_real=corr_r, corr_synthetic=corr_s,
        corr_frobenius=np.sqrt((diff * diff).sum(axis=(1, 2))), corr_max_abs=np.abs(diff).max(axis=(1, 2)),
        feature_names=names)
    if X_test is not None or y_test is not None:
        if X_test is None or y_test is None or y_real is None:
            raise ValueError("the train-on-synthetic check needs X_test, y_test, y_real and y_synthetic")
        X_test = check_array(X_test, name="X_test", n_features=d, estimator="real data")
        y_test = _labels(y_test, X_test.shape[0], "y_test")
        make = (lambda: LogisticRegression()) if classifier is None else (lambda: classifier)
        report.auc_real = rank_auc(y_test, make().fit(real, y_real).decision_function(X_test))
        report.auc_synthetic = rank_auc(y_test, make().fit(synthetic, y_synthetic).decision_function(X_test))
    return report


# ---------------------------------------------------------------------- figures
def plot_marginals(real, synthetic, y_real=None, y_synthetic=None, feature_names=None,
                   class_names=None, n_cols=4, bins=40):
    """Histograms of every column, real (filled) against synthetic (outline), class by class.

    The bins span the 0.5 % to 99.5 % quantiles of the real column, so that a
    few extreme rows do not squeeze the rest into one bin.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plotting import pyplot

    plt = pyplot()
    real = check_array(real, name="real")
    synthetic = check_array(synthetic, name="synthetic", n_features=real.shape[1], estimator="real data")
    d = real.shape[1]
    names = [f"x{j}" for j in range(d)] if feature_names is None else list(feature_names)
    if y_real is None:
        groups = [("all", real, synthetic)]
    else:
        y_real, y_synthetic = np.asarray(y_real), np.asarray(y_synthetic)
        classes = np.unique(y_real)
        labels = [str(c) for c in classes] if class_names is None else list(class_names)
        groups = [(lab, real[y_real == c], synthetic[y_synthetic == c]) for lab, c in zip(labels, classes)]
    n_rows = int(np.ceil(d / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.2 * n_cols, 2.6 * n_rows), squeeze=False)
    for j, ax in enumerate(axes.ravel()):
        if j >= d:
            ax.set_axis_off()
            continue
        lo, hi = np.quantile(real[:, j], [0.005, 0.995])
        edges = np.linspace(lo, hi, bins + 1)
        for k, (label, r, s) in enumerate(groups):
            color = f"C{k}"
            ax.hist(np.clip(r[:, j], lo, hi), bins=edges, density=True, alpha=0.35, color=color,
                    label=f"real {label}")
            ax.hist(np.clip(s[:, j], lo, hi), bins=edges, density=True, histtype="step", lw=1.5,
                    color=color, label=f"synthetic {label}")
        ax.set_xlabel(names[j])
        ax.set_ylabel("density")
    axes.ravel()[0].legend(fontsize="x-small")
    fig.suptitle("Marginals: real (filled) vs synthetic (outline); values beyond the "
                 "0.5-99.5 % quantiles are piled at the edges")
    fig.tight_layout()
    return fig


def plot_correlations(report, class_names=None):
    """The real and synthetic correlation matrices of a :class:`FidelityReport` and their difference.

    One row per class; columns: real, synthetic, real − synthetic.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plotting import pyplot

    plt = pyplot()
    names = report.feature_names
    labels = [str(c) for c in report.classes] if class_names is None else list(class_names)
    n = len(report.classes)
    fig, axes = plt.subplots(n, 3, figsize=(13, 4.6 * n), squeeze=False, layout="constrained")
    for g in range(n):
        panels = (report.corr_real[g], report.corr_synthetic[g], report.corr_real[g] - report.corr_synthetic[g])
        titles = ("real", "synthetic", f"real − synthetic\n(Frobenius {report.corr_frobenius[g]:.2f}, "
                                       f"max {report.corr_max_abs[g]:.2f})")
        for k, (ax, C, title) in enumerate(zip(axes[g], panels, titles)):
            im = ax.imshow(C, vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set_xticks(range(len(names)), names, rotation=90, fontsize="small")
            ax.set_yticks(range(len(names)), names if k == 0 else [], fontsize="small")
            ax.set_xlabel("column")
            ax.set_ylabel("column" if k == 0 else "row: same columns")
            ax.set_title(f"{labels[g]}: {title}", fontsize="small")
        fig.colorbar(im, ax=axes[g].tolist(), label="Pearson correlation", shrink=0.8)
    return fig
