"""Preprocessing: standardisation fitted on training data, with optional log1p of chosen columns.

``Standardizer`` is the preprocessing of the anomaly experiments (thesis
chapter 3). The thesis does not state its preprocessing; this one is ours, made
explicit: fit it on the training normals only, so nothing about the anomalies
leaks into it. ω² of a Gaussian decoder only has meaning relative to the
scale this transformer produces (unit variance per column).
"""

import numbers

import numpy as np

from ._validation import NotFittedError, check_array, check_positive

__all__ = ["Standardizer"]


class Standardizer:
    """Optional log1p on chosen columns, then (x − mean) / std per column.

    Parameters
    ----------
    log1p_columns : sequence of int or str, default ()
        Columns replaced by log(1 + x) before the statistics are taken, for
        heavy-tailed non-negative counts such as KDD's duration, src_bytes and
        dst_bytes (``minivae.datasets.KDD_HEAVY_TAILED_FEATURES``). Given by
        index, or by name when ``feature_names`` is given. Values there must
        exceed −1.
    feature_names : sequence of str or None, default None
        The name of each column of X, in order (e.g. the ``features`` passed
        to ``load_kddcup99``, or ``KDD_THESIS_FEATURES``). Needed only to choose
        ``log1p_columns`` by name; X must then have exactly these columns.
    rtol : float, default 1e-12
        A column counts as constant when its spread is negligible next to its
        magnitude: max − min <= rtol · max |value| (after the log1p). Such a
        column gets scale 1 instead of its standard deviation, so a column
        whose spread is one rounding error (std ~1e-15) does not blow new
        values up by 1e15.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means after the log1p.
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (ddof = 0); 1 for a constant column (which
        therefore maps to x − mean_, about 0 on the training data).
    constant_ : ndarray of shape (n_features,), bool
        Which columns were found constant (see ``rtol``).
    log1p_indices_ : tuple of int
        The log1p columns as indices, whichever way they were given.
    n_features_in_ : int
    feature_names_in_ : tuple of str
        Only when ``feature_names`` was given.

    Examples
    --------
    >>> from minivae.datasets import load_kddcup99, KDD_THESIS_FEATURES   # doctest: +SKIP
    >>> X, y = load_kddcup99()                                           # doctest: +SKIP
    >>> scaler = Standardizer(log1p_columns=("duration", "src_bytes", "dst_bytes"),
    ...                       feature_names=KDD_THESIS_FEATURES)         # doctest: +SKIP
    >>> Z = scaler.fit(X[y == 0]).transform(X)                            # doctest: +SKIP
    """

    def __init__(self, log1p_columns=(), feature_names=None, rtol=1e-12):
        self.log1p_columns = log1p_columns
        self.feature_names = feature_names
        self.rtol = rtol

    # ---- scikit-learn style parameters -------------------------------------------

    _param_names = ("log1p_columns", "feature_names", "rtol")

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self._param_names:
                raise ValueError(f"invalid parameter {key!r} for Standardizer; "
                                 f"valid ones are {', '.join(self._param_names)}")
            setattr(self, key, value)
        return self

    # ---- checks --------------------------------------------------------------------

    def _check_feature_names(self, n_features):
        names = self.feature_names
        if names is None:
            return None
        if isinstance(names, (str, bytes)):
            raise ValueError(f"feature_names must be a sequence of column names, got the string {names!r}")
        try:
            names = tuple(names)
        except TypeError:
            raise ValueError(f"feature_names must be a sequence of column names, got {names!r}") from None
        if not all(isinstance(name, str) for name in names):
            raise ValueError(f"feature_names must hold strings, got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"feature_names must be unique, got {names!r}")
        if len(names) != n_features:
            raise ValueError(f"feature_names has {len(names)} names, but X has {n_features} columns")
        return names

    def _log1p_indices(self, n_features, names):
        """Resolve ``log1p_columns`` (indices or names) into a tuple of column indices."""
        cols = self.log1p_columns
        what = "a sequence of column indices or names"
        if isinstance(cols, (str, bytes)):
            raise ValueError(f"log1p_columns must be {what}, got the string {cols!r}; "
                             f"write ({cols!r},) for one column")
        try:
            cols = tuple(cols)
        except TypeError:
            raise ValueError(f"log1p_columns must be {what}, got {cols!r}") from None
        indices = []
        for c in cols:
            if isinstance(c, str):
                if names is None:
                    raise ValueError(f"log1p_columns names the column {c!r}, but no feature_names were "
                                     "given to look it up; pass feature_names=... or use indices")
                if c not in names:
                    raise ValueError(f"log1p_columns: {c!r} is not one of the feature_names {names!r}")
                indices.append(names.index(c))
            elif isinstance(c, numbers.Integral) and not isinstance(c, bool) and 0 <= c < n_features:
                indices.append(int(c))
            else:
                raise ValueError(f"log1p_columns must hold column indices in [0, {n_features}) "
                                 f"or names, got {cols!r}")
        if len(set(indices)) != len(indices):
            raise ValueError(f"log1p_columns lists a column twice: {cols!r}")
        return tuple(indices)

    def _column_name(self, j):
        names = getattr(self, "feature_names_in_", None)
        return f"column {j} ({names[j]!r})" if names is not None else f"column {j}"

    def _log1p(self, X, cols, name="X"):
        if not cols:
            return X
        X = X.copy()
        bad = X[:, cols] <= -1.0
        if bad.any():
            j = cols[int(np.argmax(bad.any(axis=0)))]
            raise ValueError(f"log1p_columns: {name} {self._column_name(j)} holds values <= -1, "
                             "where log1p is undefined")
        X[:, cols] = np.log1p(X[:, cols])
        return X

    # ---- the transformer -----------------------------------------------------------

    def fit(self, X, y=None):
        """Learn column means and standard deviations (after the log1p) from ``X``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training data, finite (e.g. the training normals only).
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For a bad column choice (unknown name, index out of range, a name
            without ``feature_names``), a log1p column holding values <= −1,
            or X that is not a finite 2-D array.
        """
        X = check_array(X)
        rtol = check_positive(self.rtol, "rtol", allow_zero=True)
        names = self._check_feature_names(X.shape[1])
        cols = self._log1p_indices(X.shape[1], names)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        Z = self._log1p(X, cols)
        mean = Z.mean(axis=0)
        scale = Z.std(axis=0)
        magnitude = np.abs(Z).max(axis=0)
        spread = np.ptp(Z, axis=0)
        tiny = (scale == 0) & (spread > 0)
        if tiny.any():   # squares of values near 1e-300 underflow: take the std of Z / magnitude
            scale[tiny] = (Z[:, tiny] / magnitude[tiny]).std(axis=0) * magnitude[tiny]
        # the spread measured against the column's own magnitude, not against 0:
        # 15 + 1 ulp has std ~1e-15 > 0, and is still constant
        constant = (spread <= rtol * magnitude) | (scale == 0)
        scale[constant] = 1.0
        self.log1p_indices_ = cols
        self.mean_ = mean
        self.scale_ = scale
        self.constant_ = constant
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self):
        if getattr(self, "mean_", None) is None:
            raise NotFittedError("This Standardizer is not fitted yet; call fit(X) before using it")

    def transform(self, X):
        """Return (log1p-where-asked(X) − mean_) / scale_, shape (n_samples, n_features).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            If X has another number of columns than at fit, is not finite, or
            holds values <= −1 in a log1p column.
        """
        self._check_fitted()
        X = check_array(X, n_features=self.n_features_in_, estimator="Standardizer")
        return (self._log1p(X, self.log1p_indices_) - self.mean_) / self.scale_

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """Map standardised values back: Z · scale_ + mean_, then expm1 on the log1p columns.

        A log1p column whose value exceeds about 709 after unscaling comes back
        as inf (exp overflows), without a warning.
        """
        self._check_fitted()
        Z = check_array(Z, name="Z", n_features=self.n_features_in_, estimator="Standardizer")
        X = Z * self.scale_ + self.mean_
        cols = list(self.log1p_indices_)
        if cols:
            with np.errstate(over="ignore"):
                X[:, cols] = np.expm1(X[:, cols])
        return X
