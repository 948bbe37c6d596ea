"""Regression, Bayesian linear regression and a worked variational-Bayes example.

This module is the first chapter of the package (thesis §1.2 and §2.1; the
equations are written out in docs/equations.md): it
needs no neural network, only linear algebra and, for the variational example,
the package's Adam optimiser.

Contents, grouped by role
-------------------------
Basis functions (1.12, 1.15-1.16)
    :func:`polynomial_features`, :func:`sigmoid_features`, :func:`design_matrix`.
Least squares and ridge regression (1.13-1.14)
    :func:`sum_of_squares`, :func:`least_squares`.
Bayesian linear regression (1.19-1.28; Bishop 2006, §3.3 and §3.5)
    :func:`weight_posterior`, :func:`predictive_distribution`,
    :func:`log_evidence`, :class:`BayesianLinearRegression`.
A conjugate check of the ELBO identity (2.4-2.11)
    One observation d ~ N(m, 1) with a known prior precision alpha, so that
    ln p(d) is known exactly: :func:`kl_normal`, :func:`normal_mean_posterior`,
    :func:`normal_mean_log_evidence`, :func:`normal_mean_elbo`.
The Normal-Gamma example (2.12-2.24)
    :func:`normal_gamma_elbo` (closed form with gradient),
    :func:`fit_normal_gamma_adam` (gradient ascent), :func:`fit_normal_gamma_cavi`
    (coordinate ascent) and :func:`normal_gamma_predictive` (2.24).

References
----------
Bishop, C. M. (2006). Pattern Recognition and Machine Learning. Springer.
    §1.1 (polynomial fitting), §3.1-3.3 (Bayesian linear regression), §3.5
    (evidence approximation), §10.1 (variational inference).
Blei, D. M., Kucukelbir, A. & McAuliffe, J. D. (2017). Variational inference:
    a review for statisticians. JASA 112(518), 859-877 (CAVI).
Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
"""

import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import digamma, expit, gammaln, polygamma

from ._estimator import ParamsMixin
from ._validation import check_array, check_is_fitted, check_positive, check_positive_int, check_random_state
from .losses import LOG_2PI
from .optim import Adam

__all__ = [
    "polynomial_features",
    "sigmoid_features",
    "design_matrix",
    "sum_of_squares",
    "least_squares",
    "weight_posterior",
    "predictive_distribution",
    "log_evidence",
    "BayesianLinearRegression",
    "kl_normal",
    "normal_mean_posterior",
    "normal_mean_log_evidence",
    "normal_mean_elbo",
    "normal_gamma_elbo",
    "NormalGammaResult",
    "fit_normal_gamma_adam",
    "fit_normal_gamma_cavi",
    "normal_gamma_predictive",
]



# ---------------------------------------------------------------------------
# Input checks specific to this module
# ---------------------------------------------------------------------------

def _check_x_1d(x, name="x"):
    """Return a scalar input variable as a finite float64 vector of shape (n,).

    A column of shape (n, 1) is accepted too, since that is how a single
    feature usually arrives from a data table.
    """
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array (or one column), got shape {arr.shape}")
    return check_array(arr, name=name, ndim=1)


def _check_targets(t, n_rows, rows_name="Phi"):
    """Return ``t`` as a finite float64 vector with one entry per row of the design matrix."""
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    t = check_array(t, name="t", ndim=1)
    if t.shape[0] != n_rows:
        raise ValueError(f"t has {t.shape[0]} samples, but {rows_name} has {n_rows} rows")
    return t


def _check_positive_values(value, name):
    """Return ``value`` as a float64 array after checking every entry is finite and > 0."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return arr


def _check_finite_values(value, name):
    """Return ``value`` as a float64 array after checking every entry is finite."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or array, got {type(value).__name__}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def _as_output(value, *inputs):
    """A Python float when every input was a scalar, else the array."""
    if all(np.ndim(v) == 0 for v in inputs):
        return float(value)
    return value


# ---------------------------------------------------------------------------
# Basis functions (1.12, 1.15-1.16)
# ---------------------------------------------------------------------------

def polynomial_features(x, degree):
    """Powers of a scalar input, the basis of polynomial regression.

    Parameters
    ----------
    x : array_like of shape (n_samples,) or (n_samples, 1)
        The input variable.
    degree : int
        The polynomial order M >= 0.

    Returns
    -------
    Phi : ndarray of shape (n_samples, degree + 1)
        ``Phi[n, j] = x_n ** j`` for j = 0..M; column 0 is the constant 1.

    Notes
    -----
    (1.12) in docs/equations.md: y(x, w) = sum_{j=0..M} w_j x^j = w^T phi(x) with
    phi_j(x) = x^j, so polynomial fitting is linear regression on these
    columns. For large M and |x| > 1 the columns span many orders of
    magnitude; :func:`least_squares` therefore solves with an SVD rather than
    the normal equations.

    References
    ----------
    Bishop (2006), §1.1, eq. (1.1).
    """
    x = _check_x_1d(x)
    degree = check_positive_int(degree, "degree", minimum=0)
    # x ** 0 is 1 even at x = 0, which is the convention (1.12) needs.
    return x[:, None] ** np.arange(degree + 1)


def sigmoid_features(x, centers, scale=1.0):
    """Logistic-sigmoid bumps placed at ``centers``: phi_j(x) = sigma((x - c_j) / s).

    Parameters
    ----------
    x : array_like of shape (n_samples,) or (n_samples, 1)
        The input variable.
    centers : array_like of shape (n_basis,)
        Locations c_j of the sigmoids.
    scale : float, default 1.0
        Common width s > 0.

    Returns
    -------
    Phi : ndarray of shape (n_samples, n_basis)
        No constant column; :func:`design_matrix` adds phi_0 = 1.

    Notes
    -----
    (1.15) in docs/equations.md: sigma(a) = 1 / (1 + exp(-a)), here applied to a = (x - c_j)/s so
    that each basis function is a smooth step centred at c_j. ``scipy.special.expit``
    evaluates sigma without overflow for any |a|.

    References
    ----------
    Bishop (2006), §3.1, eq. (3.5)-(3.6).
    """
    x = _check_x_1d(x)
    centers = _check_x_1d(np.atleast_1d(centers), name="centers")
    scale = check_positive(scale, "scale")
    return expit((x[:, None] - centers[None, :]) / scale)


def design_matrix(x, basis="polynomial", degree=3, centers=None, scale=1.0):
    """The design matrix Phi[n, j] = phi_j(x_n), with phi_0 = 1.

    Parameters
    ----------
    x : array_like
        Shape (n_samples,) for the scalar bases, (n_samples, n_features) for
        ``"linear"``.
    basis : {"polynomial", "sigmoid", "linear"}
        ``"polynomial"``: 1, x, ..., x^degree; ``"sigmoid"``: 1 followed by
        :func:`sigmoid_features` at ``centers``; ``"linear"``: 1 followed by
        the columns of ``x``.
    degree : int, default 3
        Polynomial order (``"polynomial"`` only).
    centers : array_like, optional
        Sigmoid centres (required for ``"sigmoid"``).
    scale : float, default 1.0
        Sigmoid width (``"sigmoid"`` only).

    Returns
    -------
    Phi : ndarray of shape (n_samples, n_basis)

    Notes
    -----
    (1.16) in docs/equations.md: y(x, w) = w^T phi(x) with phi_0(x) = 1 carrying the bias
    w_0; stacking phi(x_n)^T as rows gives the N x M matrix Phi of (1.20).

    References
    ----------
    Bishop (2006), §3.1.1, eq. (3.16).
    """
    if basis == "polynomial":
        return polynomial_features(x, degree)
    if basis == "sigmoid":
        if centers is None:
            raise ValueError("basis='sigmoid' needs centers, got None")
        phi = sigmoid_features(x, centers, scale)
    elif basis == "linear":
        arr = np.asarray(x)
        phi = check_array(arr.reshape(-1, 1) if arr.ndim == 1 else arr, name="x")
    else:
        raise ValueError(f"basis must be 'polynomial', 'sigmoid' or 'linear', got {basis!r}")
    return np.hstack([np.ones((phi.shape[0], 1)), phi])


# ---------------------------------------------------------------------------
# Least squares and ridge regression (1.13-1.14)
# ---------------------------------------------------------------------------

def sum_of_squares(w, Phi, t, lam=0.0):
    """The (regularised) sum-of-squares error of weights ``w``.

    Parameters
    ----------
    w : array_like of shape (n_basis,)
    Phi : array_like of shape (n_samples, n_basis)
    t : array_like of shape (n_samples,)
    lam : float, default 0.0
        Ridge strength lambda >= 0.

    Returns
    -------
    float
        E(w) = 1/2 sum_n (t_n - w^T phi(x_n))^2 + lam/2 ||w||^2.

    Notes
    -----
    (1.13) for ``lam = 0`` and (1.14) otherwise, in docs/equations.md; with a
    basis Phi it is (1.17). Every weight, w_0 included, is penalised, as in the thesis.

    References
    ----------
    Bishop (2006), eq. (1.2) and (1.4).
    """
    Phi = check_array(Phi, name="Phi")
    t = _check_targets(t, Phi.shape[0])
    w = check_array(w, name="w", ndim=1)
    if w.shape[0] != Phi.shape[1]:
        raise ValueError(f"w has {w.shape[0]} entries, but Phi has {Phi.shape[1]} columns")
    lam = check_positive(lam, "lam", allow_zero=True)
    r = t - Phi @ w
    return 0.5 * float(r @ r) + 0.5 * lam * float(w @ w)


def least_squares(Phi, t, lam=0.0):
    """Weights minimising the sum-of-squares error (1.13), or its ridge version (1.14).

    Parameters
    ----------
    Phi : array_like of shape (n_samples, n_basis)
        Design matrix.
    t : array_like of shape (n_samples,)
        Targets.
    lam : float, default 0.0
        Ridge strength lambda >= 0.

    Returns
    -------
    w : ndarray of shape (n_basis,)
        The minimiser; for ``lam = 0`` and a rank-deficient ``Phi`` (more basis
        functions than points), the minimiser of smallest norm.

    Notes
    -----
    Setting the gradient of (1.14) to zero gives (Phi^T Phi + lam I) w = Phi^T t.
    Forming Phi^T Phi squares the condition number of Phi, which for a
    degree-8 polynomial basis loses most of float64's digits. The same
    minimiser solves the stacked least-squares problem
    [Phi; sqrt(lam) I] w ~ [t; 0], whose SVD solution keeps them.

    References
    ----------
    Bishop (2006), §1.1 and eq. (3.28).
    """
    Phi = check_array(Phi, name="Phi")
    t = _check_targets(t, Phi.shape[0])
    lam = check_positive(lam, "lam", allow_zero=True)
    if lam > 0:
        n_basis = Phi.shape[1]
        Phi = np.vstack([Phi, np.sqrt(lam) * np.eye(n_basis)])
        t = np.concatenate([t, np.zeros(n_basis)])
    w, *_ = np.linalg.lstsq(Phi, t, rcond=None)
    return w


# ---------------------------------------------------------------------------
# Bayesian linear regression (1.19-1.28)
# ---------------------------------------------------------------------------

def _checked_precision(Phi, t, alpha, beta):
    """Validate a regression problem and factor its posterior precision.

    Returns ``(Phi, t, alpha, beta, factor)`` with ``factor`` the Cholesky
    factor of A = S_N^{-1} = alpha I + beta Phi^T Phi (1.26).
    """
    Phi = check_array(Phi, name="Phi")
    t = _check_targets(t, Phi.shape[0])
    alpha = check_positive(alpha, "alpha")
    beta = check_positive(beta, "beta")
    A = alpha * np.eye(Phi.shape[1]) + beta * (Phi.T @ Phi)
    return Phi, t, alpha, beta, cho_factor(A, lower=True)


def weight_posterior(Phi, t, alpha, beta):
    """Posterior N(w | m_N, S_N) of the weights of a Bayesian linear regression.

    Parameters
    ----------
    Phi : array_like of shape (n_samples, n_basis)
        Design matrix (1.16).
    t : array_like of shape (n_samples,)
        Targets.
    alpha : float
        Prior precision, p(w | alpha) = N(w | 0, alpha^{-1} I) (1.21).
    beta : float
        Noise precision, p(t | Phi, w, beta) = N(t | Phi w, beta^{-1} I) (1.18)-(1.20).

    Returns
    -------
    m_N : ndarray of shape (n_basis,)
        Posterior mean, which is also the MAP estimate.
    S_N : ndarray of shape (n_basis, n_basis)
        Posterior covariance.

    Notes
    -----
    Bayes' rule (1.22) and completing the square (1.23)-(1.25) give, in
    docs/equations.md, (1.26): S_N^{-1} = alpha I + beta Phi^T Phi, and (1.27):
    m_N = beta S_N Phi^T t. The precision is symmetric positive definite
    (alpha > 0), so it is factorised once by Cholesky and both quantities come
    from triangular solves instead of an explicit inverse.
    Dividing (1.27) by beta shows m_N = (Phi^T Phi + (alpha/beta) I)^{-1} Phi^T t,
    the ridge solution with lambda = alpha / beta (1.28).

    References
    ----------
    Bishop (2006), §3.3.1, eq. (3.53)-(3.54).
    """
    Phi, t, alpha, beta, factor = _checked_precision(Phi, t, alpha, beta)
    S_N = cho_solve(factor, np.eye(Phi.shape[1]))
    # Round-off leaves S_N a few ulps from symmetric; sampling needs it exactly so.
    S_N = 0.5 * (S_N + S_N.T)
    m_N = beta * cho_solve(factor, Phi.T @ t)
    return m_N, S_N


def predictive_distribution(Phi, m_N, S_N, beta):
    """Mean and variance of the predictive distribution p(t | x, t_train, alpha, beta).

    Parameters
    ----------
    Phi : array_like of shape (n_samples, n_basis)
        Design matrix of the new inputs.
    m_N, S_N : ndarray
        Posterior mean and covariance from :func:`weight_posterior`.
    beta : float
        Noise precision.

    Returns
    -------
    mean : ndarray of shape (n_samples,)
        m_N^T phi(x).
    var : ndarray of shape (n_samples,)
        1/beta + phi(x)^T S_N phi(x).

    Notes
    -----
    Integrating the likelihood (1.18) against the posterior (1.26-1.27) gives
    a Gaussian: the first variance term is the noise on the targets, the
    second the uncertainty in w, which shrinks as data arrive.

    References
    ----------
    Bishop (2006), §3.3.2, eq. (3.58)-(3.59).
    """
    Phi = check_array(Phi, name="Phi")
    m_N = np.asarray(m_N, dtype=np.float64)
    S_N = np.asarray(S_N, dtype=np.float64)
    if Phi.shape[1] != m_N.shape[0]:
        raise ValueError(f"Phi has {Phi.shape[1]} columns, but the posterior has {m_N.shape[0]} weights")
    beta = check_positive(beta, "beta")
    mean = Phi @ m_N
    # Row-wise phi_n^T S_N phi_n without forming the n x n matrix Phi S_N Phi^T.
    var = 1.0 / beta + np.einsum("ij,jk,ik->i", Phi, S_N, Phi)
    return mean, var


def log_evidence(Phi, t, alpha, beta):
    """Log marginal likelihood ln p(t | alpha, beta) of Bayesian linear regression.

    Parameters
    ----------
    Phi : array_like of shape (n_samples, n_basis)
    t : array_like of shape (n_samples,)
    alpha, beta : float
        Prior and noise precisions.

    Returns
    -------
    float

    Notes
    -----
    Bishop (3.86): ln p(t) = M/2 ln alpha + N/2 ln beta - E(m_N) - 1/2 ln|A|
    - N/2 ln 2 pi, with E(m_N) = beta/2 ||t - Phi m_N||^2 + alpha/2 m_N^T m_N and
    A = S_N^{-1} (1.26). It equals ln N(t | 0, alpha^{-1} Phi Phi^T + beta^{-1} I),
    which costs an N x N factorisation instead of an M x M one.

    References
    ----------
    Bishop (2006), §3.5.1, eq. (3.77)-(3.86).
    """
    Phi, t, alpha, beta, factor = _checked_precision(Phi, t, alpha, beta)
    n, M = Phi.shape
    m_N = beta * cho_solve(factor, Phi.T @ t)
    r = t - Phi @ m_N
    E_mN = 0.5 * beta * float(r @ r) + 0.5 * alpha * float(m_N @ m_N)
    # ln|A| = 2 sum ln diag(L) for A = L L^T.
    log_det_A = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    return float(0.5 * M * np.log(alpha) + 0.5 * n * np.log(beta) - E_mN - 0.5 * log_det_A - 0.5 * n * LOG_2PI)


class BayesianLinearRegression(ParamsMixin):
    """Bayesian linear regression with Gaussian prior and Gaussian noise ((1.18)-(1.28)).

    Parameters
    ----------
    alpha : float, default 1.0
        Prior precision of the weights (1.21). With :meth:`fit_evidence` it is
        only the starting value.
    beta : float, default 1.0
        Noise precision (1.20); the noise standard deviation is beta**-0.5.
    basis : {None, "polynomial", "sigmoid", "linear"}, default None
        ``None``: the input to ``fit``/``predict`` is already the design matrix
        Phi. Otherwise it is x, expanded by :func:`design_matrix`.
    degree : int, default 3
        Polynomial order for ``basis="polynomial"``.
    centers : array_like, optional
        Sigmoid centres for ``basis="sigmoid"``.
    scale : float, default 1.0
        Sigmoid width for ``basis="sigmoid"``.

    Attributes
    ----------
    m_N_ : ndarray of shape (n_basis,)
        Posterior mean (1.27), equal to the MAP / ridge solution (1.28).
    S_N_ : ndarray of shape (n_basis, n_basis)
        Posterior covariance (1.26).
    alpha_, beta_ : float
        The precisions used (re-estimated by :meth:`fit_evidence`).
    log_evidence_ : float
        ln p(t | alpha_, beta_) (Bishop 3.86).
    gamma_ : float
        Only after :meth:`fit_evidence`: Bishop's gamma (3.91), the effective
        number of well-determined weights. (Not the Gamma shape of (2.16).)
    n_iter_ : int
        Only after :meth:`fit_evidence`: re-estimation sweeps used.
    n_features_in_ : int
        Number of columns of the design matrix.

    Notes
    -----
    The posterior is N(w | m_N, S_N) with S_N^{-1} = alpha I + beta Phi^T Phi
    (1.26) and m_N = beta S_N Phi^T t (1.27); see :func:`weight_posterior`.

    References
    ----------
    Bishop, C. M. (2006). Pattern Recognition and Machine Learning, §3.3, §3.5.
    """

    def __init__(self, alpha=1.0, beta=1.0, basis=None, degree=3, centers=None, scale=1.0):
        self.alpha = alpha
        self.beta = beta
        self.basis = basis
        self.degree = degree
        self.centers = centers
        self.scale = scale

    # -- helpers -----------------------------------------------------------
    def _design(self, X):
        if self.basis is None:
            return check_array(X, name="Phi")
        return design_matrix(X, basis=self.basis, degree=self.degree, centers=self.centers, scale=self.scale)

    def _design_for_prediction(self, X):
        check_is_fitted(self, "m_N_")
        Phi = self._design(X)
        if Phi.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Phi has {Phi.shape[1]} features, but this BayesianLinearRegression was fitted "
                f"with {self.n_features_in_}"
            )
        return Phi

    def _set_posterior(self, Phi, t, alpha, beta):
        self.alpha_, self.beta_ = alpha, beta
        self.m_N_, self.S_N_ = weight_posterior(Phi, t, alpha, beta)
        self.log_evidence_ = log_evidence(Phi, t, alpha, beta)
        self.n_features_in_ = Phi.shape[1]

    # -- fitting -----------------------------------------------------------
    def fit(self, X, t):
        """Compute the posterior over w for fixed ``alpha`` and ``beta``.

        Parameters
        ----------
        X : array_like
            Design matrix Phi (``basis=None``) or raw inputs x.
        t : array_like of shape (n_samples,)
            Targets.

        Returns
        -------
        self
        """
        alpha = check_positive(self.alpha, "alpha")
        beta = check_positive(self.beta, "beta")
        Phi = self._design(X)
        t = _check_targets(t, Phi.shape[0])
        self._set_posterior(Phi, t, alpha, beta)
        return self

    def fit_evidence(self, X, t, max_iter=100, tol=1e-8):
        """Choose alpha and beta by maximising the evidence, then fit (optional extra).

        Parameters
        ----------
        X, t : array_like
            As in :meth:`fit`.
        max_iter : int, default 100
            Maximum number of re-estimation sweeps.
        tol : float, default 1e-8
            Stop when both alpha and beta change by less than this relative amount.

        Returns
        -------
        self

        Notes
        -----
        The fixed-point iteration of Bishop §3.5.2 ("empirical Bayes", type-II
        maximum likelihood). With eigenvalues lambda_i of beta Phi^T Phi,
        gamma = sum_i lambda_i / (alpha + lambda_i) (3.91),
        alpha <- gamma / m_N^T m_N (3.92) and
        1/beta <- ||t - Phi m_N||^2 / (N - gamma) (3.95),
        with m_N recomputed from (1.27) in between. The eigenvalues of
        Phi^T Phi are computed once and rescaled by beta each sweep. Each fixed
        point is a stationary point of :func:`log_evidence` in (alpha, beta).
        This is not part of the thesis; it answers the question the thesis
        leaves open after (1.14), how to choose lambda = alpha / beta.

        References
        ----------
        Bishop (2006), §3.5.2; MacKay, D. J. C. (1992). Bayesian interpolation.
        Neural Computation 4(3), 415-447.
        """
        alpha = check_positive(self.alpha, "alpha")
        beta = check_positive(self.beta, "beta")
        max_iter = check_positive_int(max_iter, "max_iter")
        tol = check_positive(tol, "tol")
        Phi = self._design(X)
        t = _check_targets(t, Phi.shape[0])
        n = Phi.shape[0]
        eig = np.clip(np.linalg.eigvalsh(Phi.T @ Phi), 0.0, None)
        converged = False
        for it in range(1, max_iter + 1):
            m_N, _ = weight_posterior(Phi, t, alpha, beta)
            lam = beta * eig
            gamma = float(np.sum(lam / (alpha + lam)))
            r = t - Phi @ m_N
            rss = float(r @ r)
            mm = float(m_N @ m_N)
            if rss <= 1e-300 or n - gamma <= 1e-12 or mm <= 1e-300:
                raise ValueError(
                    "evidence maximisation diverged: the data are fitted exactly or w = 0 "
                    f"(||t - Phi m_N||^2 = {rss:.3g}, N - gamma = {n - gamma:.3g}, "
                    f"m_N^T m_N = {mm:.3g}); use fewer basis functions or more data"
                )
            alpha_new = gamma / mm
            beta_new = (n - gamma) / rss
            change = max(abs(alpha_new - alpha) / alpha, abs(beta_new - beta) / beta)
            alpha, beta = alpha_new, beta_new
            if change < tol:
                converged = True
                break
        self._set_posterior(Phi, t, alpha, beta)
        lam = beta * eig
        self.gamma_ = float(np.sum(lam / (alpha + lam)))
        self.n_iter_ = it
        self.converged_ = converged
        return self

    # -- using the posterior -----------------------------------------------
    def predict(self, X, return_std=False):
        """Predictive mean, and optionally the predictive standard deviation.

        Parameters
        ----------
        X : array_like
            Design matrix or raw inputs, as in :meth:`fit`.
        return_std : bool, default False
            Also return sqrt(1/beta + phi^T S_N phi).

        Returns
        -------
        mean : ndarray of shape (n_samples,)
        std : ndarray of shape (n_samples,), only if ``return_std``
            The square root of the predictive variance of
            :func:`predictive_distribution` (Bishop 3.59).
        """
        Phi = self._design_for_prediction(X)
        mean, var = predictive_distribution(Phi, self.m_N_, self.S_N_, self.beta_)
        if return_std:
            return mean, np.sqrt(var)
        return mean

    def sample_weights(self, n_samples=1, random_state=None):
        """Draw weight vectors from the posterior N(m_N, S_N).

        Parameters
        ----------
        n_samples : int, default 1
        random_state : None, int or numpy.random.Generator

        Returns
        -------
        W : ndarray of shape (n_samples, n_basis)
            Each row is one w; ``Phi @ W.T`` gives one regression curve per column.

        Notes
        -----
        w = m_N + L eps with S_N = L L^T (Cholesky) and eps ~ N(0, I), so
        cov(w) = L L^T = S_N.
        """
        check_is_fitted(self, "m_N_")
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = check_random_state(random_state)
        L = np.linalg.cholesky(self.S_N_)
        eps = rng.standard_normal((n_samples, self.m_N_.shape[0]))
        return self.m_N_ + eps @ L.T


# ---------------------------------------------------------------------------
# A conjugate check of the ELBO identity (2.4-2.11)
# ---------------------------------------------------------------------------
# One observation d ~ N(m, 1) with prior m ~ N(0, 1/alpha), alpha known. This
# is the Normal-Gamma model (2.21) with alpha held fixed; everything is
# Gaussian, so ln p(d), the posterior and every KL are closed forms.

def kl_normal(m_q, S_q, m_p, S_p):
    """KL divergence D_KL(N(m_q, S_q) || N(m_p, S_p)) between univariate Gaussians.

    Parameters
    ----------
    m_q, S_q : float or array_like
        Mean and variance of the first argument (the one averaged over).
    m_p, S_p : float or array_like
        Mean and variance of the second.

    Returns
    -------
    float or ndarray

    Notes
    -----
    (2.6) for two Gaussians: 1/2 [S_q/S_p + (m_q - m_p)^2/S_p - 1 + ln(S_p/S_q)].
    Not symmetric, >= 0, and 0 only when the two coincide (2.7).

    References
    ----------
    Bishop (2006), exercise 2.13 (the multivariate form).
    """
    m_q = _check_finite_values(m_q, "m_q")
    m_p = _check_finite_values(m_p, "m_p")
    S_q_ = _check_positive_values(S_q, "S_q")
    S_p_ = _check_positive_values(S_p, "S_p")
    kl = 0.5 * (S_q_ / S_p_ + (m_q - m_p) ** 2 / S_p_ - 1.0 + np.log(S_p_ / S_q_))
    return _as_output(kl, m_q, S_q, m_p, S_p)


def normal_mean_posterior(d, alpha):
    """Exact posterior p(m | d) = N(m | m_post, S_post) for d ~ N(m, 1), m ~ N(0, 1/alpha).

    Returns
    -------
    m_post, S_post : float or ndarray
        S_post = 1 / (1 + alpha) and m_post = d S_post.

    Notes
    -----
    Precisions add (1 from the likelihood, alpha from the prior); the mean is
    the precision-weighted data. This is Bayes' rule (2.2), worked out as
    (1.26)-(1.27) with Phi = [1],
    beta = 1, and the q(m) update of CAVI (see :func:`fit_normal_gamma_cavi`)
    with E[alpha] replaced by alpha.

    References
    ----------
    Bishop (2006), eq. (2.141)-(2.142).
    """
    d_ = _check_finite_values(d, "d")
    alpha_ = _check_positive_values(alpha, "alpha")
    S_post = 1.0 / (1.0 + alpha_)
    return _as_output(d_ * S_post, d, alpha), _as_output(S_post, d, alpha)


def normal_mean_log_evidence(d, alpha):
    """ln p(d) = ln N(d | 0, 1 + 1/alpha) for d ~ N(m, 1), m ~ N(0, 1/alpha).

    Notes
    -----
    d = m + eps is a sum of independent Gaussians, so its marginal variance is
    1/alpha + 1. This is the evidence (2.1), the quantity the ELBO (2.4-2.5)
    bounds from below.
    """
    d_ = _check_finite_values(d, "d")
    alpha_ = _check_positive_values(alpha, "alpha")
    var = 1.0 + 1.0 / alpha_
    return _as_output(-0.5 * (LOG_2PI + np.log(var) + d_ ** 2 / var), d, alpha)


def normal_mean_elbo(m_hat, S, d, alpha):
    """ELBO of q(m) = N(m | m_hat, S) for d ~ N(m, 1), m ~ N(0, 1/alpha), alpha known.

    Parameters
    ----------
    m_hat : float or array_like
        Mean of q(m).
    S : float or array_like
        Variance of q(m), > 0.
    d : float or array_like
        The observation.
    alpha : float or array_like
        Prior precision, > 0.

    Returns
    -------
    float or ndarray
        L(q) = E_q[ln p(d | m)] - D_KL(q(m) || p(m)).

    Notes
    -----
    The bound (2.4-2.5) written as (2.10-2.11), with the expected log-likelihood (2.23),
    -1/2 ln 2 pi - 1/2 d^2 + d m_hat - 1/2 (m_hat^2 + S), and the Gaussian KL
    of :func:`kl_normal` against the prior N(0, 1/alpha). By (2.9),
    ln p(d) - L(q) = D_KL(q || p(m | d)) >= 0, with equality exactly at
    q = p(m | d) of :func:`normal_mean_posterior`.

    References
    ----------
    Bishop (2006), §10.1, eq. (10.2)-(10.4).
    """
    m_hat_ = _check_finite_values(m_hat, "m_hat")
    d_ = _check_finite_values(d, "d")
    S_ = _check_positive_values(S, "S")
    alpha_ = _check_positive_values(alpha, "alpha")
    expected_loglik = expected_log_likelihood(d_, m_hat_, S_)
    kl_prior = 0.5 * (alpha_ * S_ + alpha_ * m_hat_ ** 2 - 1.0 - np.log(alpha_ * S_))
    return _as_output(expected_loglik - kl_prior, m_hat, S, d, alpha)


def expected_log_likelihood(d, m_hat, S):
    """E_q[ln N(d | m, 1)] under q(m) = N(m_hat, S), the expected log-likelihood (2.23).

    −½ ln 2π − ½ d² + d m_hat − ½ (m_hat² + S); its derivatives are
    ∂/∂m_hat = d − m_hat and ∂/∂S = −½.
    """
    return -0.5 * LOG_2PI - 0.5 * d ** 2 + d * m_hat - 0.5 * (m_hat ** 2 + S)


# ---------------------------------------------------------------------------
# The Normal-Gamma example (2.12-2.24)
# ---------------------------------------------------------------------------

def normal_gamma_elbo(m_hat, S, gamma, delta, d=5.0, gamma0=1e-8, delta0=1e-8):
    """Closed-form ELBO of the Normal-Gamma example and its gradient.

    Model (2.21): p(d | m) = N(d | m, 1), p(m | alpha) = N(m | 0, 1/alpha),
    p(alpha) = Gamma(alpha | gamma0, delta0) (shape, rate).
    Mean-field family: q(m, alpha) = N(m | m_hat, S) Gamma(alpha | gamma, delta).

    Parameters
    ----------
    m_hat, S : float or array_like
        Mean and variance (> 0) of q(m).
    gamma, delta : float or array_like
        Shape and rate (> 0) of q(alpha).
    d : float or array_like, default 5.0
        The single observation.
    gamma0, delta0 : float or array_like, default 1e-8
        Shape and rate (> 0) of the prior on alpha; the thesis's
        "no prior information" is the limit gamma0 = delta0 -> 0.

    Returns
    -------
    L : float or ndarray
        The ELBO (2.22).
    grads : dict
        dL/d``m_hat``, dL/d``S``, dL/d``gamma``, dL/d``delta``, each shaped like L.

    Notes
    -----
    (2.22) in docs/equations.md: L = E_q[ln p(d | m)] - D_KL(q(m, alpha) || p(m, alpha)).
    The first term is (2.23); by (2.17) the KL is minus the sum of E_q[ln p(m | alpha)] (2.19),
    E_q[ln p(alpha)] (2.20) and the two entropies (2.18). The Gamma moments
    are E[alpha] = gamma/delta (1.10) and E[ln alpha] = psi(gamma) - ln delta, the
    Gamma entropy is (1.11): gamma - ln delta + ln Gamma(gamma) + (1 - gamma) psi(gamma).
    Each term's derivative is written under it; psi' is the trigamma function.
    The constant gamma0 ln delta0 - ln Gamma(gamma0) tends to -inf as
    gamma0, delta0 -> 0 (the prior becomes improper) but does not move the
    optimum; that is why a tiny positive gamma0 = delta0 stands in for 0.

    References
    ----------
    Bishop (2006), §10.1 (the ELBO) and §10.1.3 (a close relative: unknown
    mean and noise precision of a Gaussian); Blei, Kucukelbir & McAuliffe (2017).
    """
    inputs = (
        _check_finite_values(m_hat, "m_hat"),
        _check_positive_values(S, "S"),
        _check_positive_values(gamma, "gamma"),
        _check_positive_values(delta, "delta"),
        _check_finite_values(d, "d"),
        _check_positive_values(gamma0, "gamma0"),
        _check_positive_values(delta0, "delta0"),
    )
    L, grads = _normal_gamma_elbo(*np.broadcast_arrays(*inputs))
    if all(np.ndim(v) == 0 for v in inputs):
        return float(L), {k: float(v) for k, v in grads.items()}
    return L, grads


def _normal_gamma_elbo(m_hat, S, gamma, delta, d, gamma0, delta0):
    """The body of :func:`normal_gamma_elbo` on validated, broadcast float arrays."""
    E_alpha = gamma / delta
    E_log_alpha = digamma(gamma) - np.log(delta)
    E_m2 = m_hat ** 2 + S
    trigamma = polygamma(1, gamma)

    # (2.23) expected log-likelihood E_q[ln N(d | m, 1)]
    loglik = expected_log_likelihood(d, m_hat, S)
    d_m_hat = d - m_hat
    d_S = np.full_like(S, -0.5)
    d_gamma = np.zeros_like(gamma)
    d_delta = np.zeros_like(delta)

    # (2.19) E_q[ln N(m | 0, 1/alpha)] = -1/2 ln 2 pi + 1/2 E[ln alpha] - 1/2 E[alpha] E[m^2]
    log_prior_m = -0.5 * LOG_2PI + 0.5 * E_log_alpha - 0.5 * E_alpha * E_m2
    d_m_hat = d_m_hat - E_alpha * m_hat
    d_S = d_S - 0.5 * E_alpha
    d_gamma = d_gamma + 0.5 * trigamma - 0.5 * E_m2 / delta
    d_delta = d_delta - 0.5 / delta + 0.5 * gamma * E_m2 / delta ** 2

    # (2.20) E_q[ln Gamma(alpha | gamma0, delta0)]
    log_prior_alpha = (gamma0 * np.log(delta0) - gammaln(gamma0)
                       + (gamma0 - 1.0) * E_log_alpha - delta0 * E_alpha)
    d_gamma = d_gamma + (gamma0 - 1.0) * trigamma - delta0 / delta
    d_delta = d_delta - (gamma0 - 1.0) / delta + delta0 * gamma / delta ** 2

    # Entropy of q(m) = N(m_hat, S): 1/2 ln(2 pi e S)
    entropy_m = 0.5 * (LOG_2PI + 1.0 + np.log(S))
    d_S = d_S + 0.5 / S

    # Entropy of q(alpha) = Gamma(gamma, delta) (1.11); the psi(gamma) from
    # d/dgamma ln Gamma(gamma) cancels the -psi(gamma) of (1 - gamma) psi(gamma).
    entropy_alpha = gamma - np.log(delta) + gammaln(gamma) + (1.0 - gamma) * digamma(gamma)
    d_gamma = d_gamma + 1.0 + (1.0 - gamma) * trigamma
    d_delta = d_delta - 1.0 / delta

    L = loglik + log_prior_m + log_prior_alpha + entropy_m + entropy_alpha
    return L, {"m_hat": d_m_hat, "S": d_S, "gamma": d_gamma, "delta": d_delta}


def _normal_gamma_elbo_unconstrained(theta, d, gamma0, delta0):
    """ELBO and its gradient in the unconstrained coordinates used by Adam.

    ``theta`` holds ``m_hat``, ``log_S``, ``log_gamma``, ``log_delta``. By the
    chain rule dL/d(log S) = S dL/dS, and likewise for gamma and delta; the
    log keeps S, gamma, delta positive whatever step the optimiser takes.
    """
    S = np.exp(theta["log_S"])
    gamma = np.exp(theta["log_gamma"])
    delta = np.exp(theta["log_delta"])
    # The callers validated d, gamma0, delta0; exp keeps S, gamma, delta positive.
    L, g = _normal_gamma_elbo(theta["m_hat"], S, gamma, delta, d, gamma0, delta0)
    grads = {
        "m_hat": g["m_hat"],
        "log_S": S * g["S"],
        "log_gamma": gamma * g["gamma"],
        "log_delta": delta * g["delta"],
    }
    return L, grads


@dataclass
class NormalGammaResult:
    """The fitted q(m, alpha) = N(m | m_hat, S) Gamma(alpha | gamma, delta).

    Attributes
    ----------
    m_hat, S, gamma, delta : float
        The variational parameters.
    elbo : float
        The ELBO (2.22) at these parameters.
    n_iter : int
        Iterations (Adam steps or CAVI sweeps) performed.
    converged : bool
        Whether the stopping tolerance was met before ``max_iter``.
    history : ndarray
        The ELBO before each iteration and after the last.
    """

    m_hat: float
    S: float
    gamma: float
    delta: float
    elbo: float
    n_iter: int
    converged: bool
    history: np.ndarray = field(repr=False)

    @property
    def E_alpha(self):
        """E_q[alpha] = gamma / delta."""
        return self.gamma / self.delta

    def as_tuple(self):
        """(m_hat, S, gamma, delta)."""
        return (self.m_hat, self.S, self.gamma, self.delta)


def _check_normal_gamma_setup(d, gamma0, delta0, init):
    if isinstance(d, bool) or not isinstance(d, numbers.Real) or not np.isfinite(d):
        raise ValueError(f"d must be a finite real number, got {d!r}")
    gamma0 = check_positive(gamma0, "gamma0")
    delta0 = check_positive(delta0, "delta0")
    m_hat, S, gamma, delta = (0.0, 1.0, 1.0, 1.0) if init is None else init
    m_hat = float(_check_finite_values(m_hat, "init m_hat"))
    S = check_positive(S, "init S")
    gamma = check_positive(gamma, "init gamma")
    delta = check_positive(delta, "init delta")
    return float(d), gamma0, delta0, (m_hat, S, gamma, delta)


def fit_normal_gamma_adam(d=5.0, gamma0=1e-8, delta0=1e-8, lr=0.1, max_iter=10000, tol=1e-10,
                          init=None):
    """Maximise the Normal-Gamma ELBO by gradient ascent with Adam.

    Parameters
    ----------
    d : float, default 5.0
        The observation.
    gamma0, delta0 : float, default 1e-8
        Prior shape and rate of alpha.
    lr : float, default 0.1
        Adam step size.
    max_iter : int, default 10000
        Maximum number of Adam steps.
    tol : float, default 1e-10
        Stop when every component of the gradient (in the unconstrained
        coordinates) is below this in absolute value.
    init : tuple (m_hat, S, gamma, delta), optional
        Starting point; default (0, 1, 1, 1).

    Returns
    -------
    NormalGammaResult

    Notes
    -----
    The thesis maximises (2.22) "by gradient methods". Adam descends, so it
    is handed -dL/dtheta for theta = (m_hat, ln S, ln gamma, ln delta); the
    log parametrisation makes the problem unconstrained. The stopping rule
    matters: once the gradient is at round-off level, Adam's ratio
    m_t / sqrt(v_t) is a ratio of two tiny numbers and the steps no longer
    shrink, so the loop stops as soon as the gradient is below ``tol``. The
    ELBO is flat along the ridge gamma/delta = const (the scale of q(alpha)
    matters far less than its mean), so a distant start may need a few
    thousand steps; CAVI needs about fifteen sweeps.

    References
    ----------
    Kingma & Ba (2015); Adam in docs/equations.md for the update rule.
    """
    d, gamma0, delta0, (m_hat, S, gamma, delta) = _check_normal_gamma_setup(d, gamma0, delta0, init)
    lr = check_positive(lr, "lr")
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    theta = {
        "m_hat": np.array([m_hat]),
        "log_S": np.array([np.log(S)]),
        "log_gamma": np.array([np.log(gamma)]),
        "log_delta": np.array([np.log(delta)]),
    }
    opt = Adam(lr=lr)
    history = []
    converged = False
    n_iter = 0
    for n_iter in range(max_iter):
        L, g = _normal_gamma_elbo_unconstrained(theta, d, gamma0, delta0)
        history.append(float(L[0]))
        if max(float(np.max(np.abs(v))) for v in g.values()) < tol:
            converged = True
            break
        opt.step(theta, {name: -v for name, v in g.items()})
    else:
        n_iter = max_iter
        L, _ = _normal_gamma_elbo_unconstrained(theta, d, gamma0, delta0)
        history.append(float(L[0]))
    return NormalGammaResult(
        m_hat=float(theta["m_hat"][0]), S=float(np.exp(theta["log_S"][0])),
        gamma=float(np.exp(theta["log_gamma"][0])), delta=float(np.exp(theta["log_delta"][0])),
        elbo=history[-1], n_iter=n_iter, converged=converged, history=np.array(history),
    )


def fit_normal_gamma_cavi(d=5.0, gamma0=1e-8, delta0=1e-8, max_iter=1000, tol=1e-12, init=None):
    """Maximise the Normal-Gamma ELBO by coordinate ascent (CAVI).

    Parameters
    ----------
    d : float, default 5.0
        The observation.
    gamma0, delta0 : float, default 1e-8
        Prior shape and rate of alpha.
    max_iter : int, default 1000
        Maximum number of sweeps.
    tol : float, default 1e-12
        Stop when no parameter changes by more than this (relative to max(1, |value|)).
    init : tuple (m_hat, S, gamma, delta), optional
        Starting point; only m_hat and S are used, since q(alpha) is updated
        first. Default (0, 1, 1, 1).

    Returns
    -------
    NormalGammaResult

    Notes
    -----
    Each factor is set to the exponentiated expected log joint under the other
    factor, ln q*(x) = E_{-x}[ln p(d, m, alpha)] + const, which here is
    conjugate:
    q(alpha): gamma = gamma0 + 1/2, delta = delta0 + 1/2 (m_hat^2 + S);
    q(m): S = 1 / (1 + gamma/delta), m_hat = d S.
    Each update maximises the ELBO over one factor with the other held, so
    the ELBO (2.22) never decreases. The fixed point is the one the thesis quotes:
    for d = 5 and gamma0 = delta0 -> 0 it is (4.8, 0.96, 0.5, 12.0).

    References
    ----------
    Bishop (2006), §10.1.1, eq. (10.9); Blei, Kucukelbir & McAuliffe (2017), the CAVI algorithm.
    """
    d, gamma0, delta0, (m_hat, S, gamma, delta) = _check_normal_gamma_setup(d, gamma0, delta0, init)
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    history = [normal_gamma_elbo(m_hat, S, gamma, delta, d, gamma0, delta0)[0]]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        old = np.array([m_hat, S, gamma, delta])
        gamma = gamma0 + 0.5
        delta = delta0 + 0.5 * (m_hat ** 2 + S)
        S = 1.0 / (1.0 + gamma / delta)
        m_hat = d * S
        history.append(normal_gamma_elbo(m_hat, S, gamma, delta, d, gamma0, delta0)[0])
        new = np.array([m_hat, S, gamma, delta])
        if np.max(np.abs(new - old) / np.maximum(1.0, np.abs(new))) < tol:
            converged = True
            break
    return NormalGammaResult(m_hat=m_hat, S=S, gamma=gamma, delta=delta, elbo=history[-1],
                             n_iter=n_iter, converged=converged, history=np.array(history))


def normal_gamma_predictive(x, m_hat, S):
    """Log density of the approximate predictive p(x) ~ N(x | m_hat, S + 1).

    Parameters
    ----------
    x : float or array_like
        Where to evaluate.
    m_hat, S : float
        Mean and variance of q(m).

    Returns
    -------
    float or ndarray
        ln N(x | m_hat, S + 1).

    Notes
    -----
    (2.24): replacing p(m, alpha) by q(m, alpha) in
    p(x) = integral p(x | m) p(m, alpha) dm dalpha and using
    p(x | m) = N(x | m, 1) gives the convolution of two Gaussians, whose
    variances add: S + 1. q(alpha) integrates to one and drops out.
    """
    x_ = _check_finite_values(x, "x")
    m_hat_ = _check_finite_values(m_hat, "m_hat")
    S_ = _check_positive_values(S, "S")
    var = S_ + 1.0
    return _as_output(-0.5 * (LOG_2PI + np.log(var) + (x_ - m_hat_) ** 2 / var), x, m_hat, S)
