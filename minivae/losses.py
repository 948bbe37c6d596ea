"""Losses and penalties, each with its gradient.

Conventions: every function returns the loss *per sample* (shape ``(n,)``,
summed over features or latent dimensions) together with the gradient of the
*sum over the batch* with respect to its array arguments. A model divides by
the batch size once, at the top of its backward pass. Two exceptions: the
sparsity penalty is a function of the whole batch (through p̂) and returns a
scalar; ``kl_diagonal_gaussians`` and ``kl_gaussians`` (2.29) return values only,
as references that the analytic (2.31) and Monte-Carlo estimates are tested against.

Contract: unchecked building blocks. The losses and their gradients run in
every training step, on arrays that the estimators have already checked, so
they do not validate their inputs: they expect float arrays of the documented
shapes (a wrong shape fails inside NumPy; NaN or ±inf pass through). One
exception: the full-covariance reference ``kl_gaussians`` is not on the hot
path and checks its arguments (ValueError for mismatched shapes, non-finite
values, and covariances that are not symmetric positive definite).

Equation numbers are the VAE thesis's ([F x.y]: the autoencoder thesis), written
out in docs/equations.md.
"""

import numpy as np
from scipy.special import log_softmax

from .nn import sigmoid, softplus

__all__ = [
    "LOG_2PI",
    "reparametrise",
    "reparametrise_backward",
    "log_normal_from_eps",
    "log_standard_normal",
    "gaussian_nll",
    "bernoulli_nll",
    "categorical_nll",
    "categorical_argmax",
    "kl_standard_normal",
    "kl_diagonal_gaussians",
    "kl_gaussians",
    "sparsity_penalty",
    "contractive_penalty",
]

LOG_2PI = float(np.log(2.0 * np.pi))


def reparametrise(mu, log_sigma, eps):
    """The reparametrisation trick (2.32): z = μ + σ ⊙ ε with σ = exp(log_sigma).

    Parameters
    ----------
    mu, log_sigma : ndarray, shape (n, k)
        Parameters of q(z|x); ``log_sigma`` is the log of the standard deviation.
    eps : ndarray, shape (L, n, k) or (L, 1, k)
        L draws of ε ~ N(0, I) per row (or L draws shared by every row).

    Returns
    -------
    z : ndarray, shape (L, n, k)

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    """
    return mu + np.exp(log_sigma) * eps


def reparametrise_backward(d_z, log_sigma, eps):
    """Chain rule through (2.32): ∂L/∂μ = Σ_l ∂L/∂z_l,  ∂L/∂log σ = σ ⊙ Σ_l (∂L/∂z_l ⊙ ε_l).

    z depends on μ with slope 1 and on log σ with slope σε.

    Parameters
    ----------
    d_z : ndarray, shape (L, n, k)
        ∂L/∂z for each of the L draws.
    log_sigma : ndarray, shape (n, k)
    eps : ndarray, shape (L, n, k)

    Returns
    -------
    d_mu, d_log_sigma : ndarray, shape (n, k)
    """
    return d_z.sum(axis=0), (d_z * eps).sum(axis=0) * np.exp(log_sigma)


def log_normal_from_eps(eps, log_sigma):
    """ln q(z|x) = ln N(z | μ, diag σ²) at z = μ + σε, written from ε (2.32):

        ln q(z|x) = −½ Σ_j ε_j² − Σ_j ln σ_j − (k/2) ln 2π.

    Recomputing (z − μ)/σ from z instead loses everything when σ is tiny
    next to μ (z rounds to μ) and overflows when σ is huge; written from ε it
    is exact for any log σ.

    Parameters
    ----------
    eps : ndarray, shape (L, n, k) or (L, 1, k)
    log_sigma : ndarray, shape (n, k)

    Returns
    -------
    ndarray, shape (L, n)
    """
    k = eps.shape[-1]
    return -0.5 * np.einsum("...j,...j->...", eps, eps) - log_sigma.sum(axis=-1) - 0.5 * k * LOG_2PI


def log_standard_normal(z):
    """ln N(z | 0, I) = −½ ‖z‖² − (k/2) ln 2π over the last axis.

    The normal density (1.7) of the VAE prior (2.27), docs/equations.md.
    """
    return -0.5 * np.einsum("...j,...j->...", z, z) - 0.5 * z.shape[-1] * LOG_2PI


def gaussian_nll(x, x_hat, sigma2=1.0, include_constant=False):
    """Negative log-likelihood of x under N(x̂, ω²I), per sample.

    Parameters
    ----------
    x, x_hat : ndarray, shape (n, d)
        Data and decoder mean f(z). Leading axes broadcast, so x̂ may be
        (L, n, d) for L samples of z per row; the loss then has shape (L, n).
    sigma2 : float
        Decoder variance ω² of (2.28) in docs/equations.md.
    include_constant : bool
        Add (d/2) ln(2πω²), making it the exact NLL.

    Returns
    -------
    nll : ndarray, shape (n,)
        ½ Σ_j (x_j − x̂_j)² / ω²  [+ (d/2) ln 2πω²].
    d_x_hat : ndarray, shape (n, d)
        ∂(Σ_n nll_n)/∂x̂ = (x̂ − x) / ω².

    Notes
    -----
    (2.33): ln p(x|z) = −‖x − f(z)‖² / (2ω²) + const, the log of the normal
    density (1.7) with Σ = ω²I. With ω² = 1 this is half the squared error,
    the autoencoder's reconstruction loss [F 1.1].
    """
    r = x_hat - x
    nll = np.vecdot(r, r) * (0.5 / sigma2)  # vecdot(r, r) = Σ_j r_j²
    if include_constant:
        nll += 0.5 * x.shape[-1] * (LOG_2PI + np.log(sigma2))
    return nll, r / sigma2


def bernoulli_nll(x, logits):
    """Negative log-likelihood of x ∈ [0, 1] under Bernoulli(σ(logits)), per sample.

    Returns
    -------
    nll : ndarray, shape (n,)
        Σ_j [softplus(l_j) − x_j l_j], which equals
        −Σ_j [x_j ln σ(l_j) + (1 − x_j) ln(1 − σ(l_j))] without ever forming ln 0.
    d_logits : ndarray, shape (n, d)
        σ(l) − x.
    """
    nll = (softplus(logits) - x * logits).sum(axis=-1)
    return nll, sigmoid(logits) - x


def categorical_nll(x, logits, n_classes):
    """Negative log-likelihood of one-hot groups under a softmax per position, per sample.

    Parameters
    ----------
    x : ndarray, shape (n, P·C)
        P positions of C = ``n_classes`` one-hot entries each (e.g. the words
        of a fixed-length sentence).
    logits : ndarray, shape (n, P·C) or (L, n, P·C)
        Decoder output f(z); leading axes broadcast against ``x`` as in
        :func:`gaussian_nll` (L draws of z per row give a loss of shape (L, n)).
    n_classes : int
        C, the width of each group.

    Returns
    -------
    nll : ndarray, shape (n,) or (L, n)
        −Σ_p ln softmax(f_p)[x_p], summed over the P positions.
    d_logits : ndarray, shape of ``logits``
        softmax(f_p) − x_p at every position.

    Notes
    -----
    The categorical counterpart of (2.33): p(x|z) = Π_p Cat(x_p | softmax(f_p(z))),
    each position independent given z. The log-softmax subtracts each group's
    maximum before exp (log-sum-exp, here ``scipy.special.log_softmax``), so
    logits of ±1e4 neither overflow nor give 0·∞ = NaN.

    References
    ----------
    Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R. & Bengio, S.
    (2016). Generating sentences from a continuous space. CoNLL.
    """
    lg = logits.reshape(*logits.shape[:-1], -1, n_classes)
    xg = x.reshape(*x.shape[:-1], -1, n_classes)
    log_p = log_softmax(lg, axis=-1)
    nll = -(xg * log_p).sum(axis=(-2, -1))
    return nll, (np.exp(log_p) - xg).reshape(logits.shape)


def categorical_argmax(probs, n_classes):
    """The most probable class at each position: ``probs`` (n, P·C) -> indices (n, P), int.

    Greedy decoding of a categorical decoder (:func:`categorical_nll`); works
    on probabilities and on logits alike (softmax keeps the order). Ties go
    to the lowest index.
    """
    probs = np.asarray(probs)
    return probs.reshape(*probs.shape[:-1], -1, n_classes).argmax(axis=-1)


def kl_standard_normal(mu, log_sigma):
    """KL[N(μ, diag σ²) ‖ N(0, I)] per sample, with its gradients (2.31).

    Parameters
    ----------
    mu, log_sigma : ndarray, shape (n, k)
        Encoder outputs; ``log_sigma`` is the log of the *standard deviation*.

    Returns
    -------
    kl : ndarray, shape (n,)
        ½ Σ_i (σ_i² + μ_i² − 2 ln σ_i − 1).
    d_mu, d_log_sigma : ndarray, shape (n, k)
        μ and σ² − 1.

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    """
    two_log_sigma = 2.0 * log_sigma                # ln σ², used twice
    sigma2 = np.exp(two_log_sigma)
    kl = 0.5 * (sigma2 + mu * mu - two_log_sigma - 1.0).sum(axis=-1)
    return kl, mu, sigma2 - 1.0


def kl_diagonal_gaussians(mu1, log_sigma1, mu2, log_sigma2):
    """KL[N(μ1, diag σ1²) ‖ N(μ2, diag σ2²)] summed over the last axis ((2.29), diagonal case).

    ½ Σ_i [2 ln σ2_i − 2 ln σ1_i − 1 + σ1_i²/σ2_i² + (μ1_i − μ2_i)²/σ2_i²].
    """
    ratio = np.exp(2.0 * (log_sigma1 - log_sigma2))
    diff2 = (mu1 - mu2) ** 2 * np.exp(-2.0 * log_sigma2)
    return 0.5 * (2.0 * (log_sigma2 - log_sigma1) - 1.0 + ratio + diff2).sum(axis=-1)


def kl_gaussians(mu1, Sigma1, mu2, Sigma2):
    """KL[N(μ1, Σ1) ‖ N(μ2, Σ2)] for full covariance matrices (2.29).

    ½ [ln(|Σ2|/|Σ1|) − n + tr(Σ2⁻¹Σ1) + (μ1 − μ2)ᵀ Σ2⁻¹ (μ1 − μ2)], computed
    with Cholesky factors (so both covariances must be positive definite).

    Raises
    ------
    ValueError
        If the shapes do not match (μ of shape (n,), Σ of shape (n, n)), a
        value is not finite, or a covariance is not symmetric — |Σ − Σᵀ| above
        1e-10 times max |Σ|, i.e. more than rounding — or not positive definite.
        (Cholesky reads one triangle only, so a non-symmetric Σ would be
        replaced silently by a symmetric one.)

    Notes
    -----
    With μ2 = 0 and Σ2 = I this is (2.30), the full-covariance form of (2.31).
    """
    mu1, mu2 = np.asarray(mu1, float), np.asarray(mu2, float)
    Sigma1, Sigma2 = np.atleast_2d(Sigma1).astype(float), np.atleast_2d(Sigma2).astype(float)
    n = mu1.shape[-1] if mu1.ndim == 1 else -1
    if Sigma1.shape != (n, n) or Sigma2.shape != (n, n) or mu2.shape != mu1.shape:
        raise ValueError(
            f"shapes do not match: mu1 {mu1.shape}, Sigma1 {Sigma1.shape}, mu2 {mu2.shape}, Sigma2 {Sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("Sigma1", Sigma1), ("mu2", mu2), ("Sigma2", Sigma2)):
        if not np.isfinite(value).all():
            raise ValueError(f"{name} contains NaN or infinity")
    for name, S in (("Sigma1", Sigma1), ("Sigma2", Sigma2)):
        asym = np.abs(S - S.T).max()
        if asym > 1e-10 * np.abs(S).max():
            raise ValueError(f"{name} must be symmetric, but max |{name} − {name}ᵀ| = {asym:.3g}")
    try:
        L1, L2 = np.linalg.cholesky(Sigma1), np.linalg.cholesky(Sigma2)
    except np.linalg.LinAlgError:
        raise ValueError("Sigma1 and Sigma2 must be symmetric positive definite") from None
    logdet1 = 2.0 * np.log(np.diag(L1)).sum()
    logdet2 = 2.0 * np.log(np.diag(L2)).sum()
    # tr(Σ2⁻¹Σ1) = ‖L2⁻¹ L1‖_F² and the Mahalanobis term = ‖L2⁻¹(μ1 − μ2)‖².
    A = np.linalg.solve(L2, L1)
    v = np.linalg.solve(L2, mu1 - mu2)
    return 0.5 * (logdet2 - logdet1 - n + np.sum(A * A) + np.sum(v * v))


def sparsity_penalty(h, p):
    """Sparsity penalty Ω = Σ_i KL(p ‖ p̂_i) of a batch of sigmoid codes [F 1.3-1.5].

    Parameters
    ----------
    h : ndarray, shape (n, k)
        Code activations in (0, 1).
    p : float
        Target mean activation.

    Returns
    -------
    omega : float
        Σ_i [p ln(p/p̂_i) + (1 − p) ln((1 − p)/(1 − p̂_i))], p̂_i = (1/n) Σ_n h_ni.
    d_h : ndarray, shape (n, k)
        ∂Ω/∂h_ni = (1/n) [−p/p̂_i + (1 − p)/(1 − p̂_i)].

    Notes
    -----
    p̂ is clipped into [δ, 1 − δ], δ = max(1e-12, machine epsilon of h), so that
    a saturated unit gives a large but finite penalty (in float32, 1 − 1e-12
    rounds to 1 and would not keep 1 − p̂ away from 0).
    """
    n = h.shape[0]
    delta = max(1e-12, float(np.finfo(h.dtype).eps))
    p_hat = np.clip(h.mean(axis=0), delta, 1.0 - delta)
    omega = float(np.sum(p * np.log(p / p_hat) + (1.0 - p) * np.log((1.0 - p) / (1.0 - p_hat))))
    d_p_hat = -p / p_hat + (1.0 - p) / (1.0 - p_hat)
    return omega, np.broadcast_to(d_p_hat / n, h.shape).copy()


def contractive_penalty(h, W):
    """Contractive penalty ‖∂h/∂x‖_F² of a sigmoid code layer h = σ(Wx + b), per sample.

    Parameters
    ----------
    h : ndarray, shape (n, k)
        Code h = σ(Wx + b).
    W : ndarray, shape (k, d)
        The code layer's weights.

    Returns
    -------
    penalty : ndarray, shape (n,)
        Σ_j (h_j (1 − h_j))² Σ_i W_ji²  ([F §1.3.8] in docs/equations.md; Rifai et al. 2011).
    d_h : ndarray, shape (n, k)
        2 h(1 − h)(1 − 2h) Σ_i W_ji², the derivative through h only.
    d_W : ndarray, shape (k, d)
        2 W_ji Σ_n (h_nj (1 − h_nj))², the explicit dependence on W; the
        dependence through h flows back through the layer's own backward pass.

    References
    ----------
    Rifai, S., Vincent, P., Muller, X., Glorot, X. & Bengio, Y. (2011). Contractive
    auto-encoders: explicit invariance during feature extraction. ICML.
    """
    s = (W * W).sum(axis=1)
    g = h * (1.0 - h)
    penalty = (g * g) @ s
    d_h = 2.0 * g * (1.0 - 2.0 * h) * s
    d_W = 2.0 * W * (g * g).sum(axis=0)[:, None]
    return penalty, d_h, d_W
