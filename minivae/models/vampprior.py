"""The VAE with a VampPrior: a prior made of the encoder's own posteriors (thesis §2.4; Tomczak & Welling 2018).

The ELBO rewritten (2.40) shows that the prior only enters through the
cross-entropy E_q(z)[−ln p(z)] with the aggregated posterior q(z) = (1/N) Σ_n q(z|x_n);
the prior that maximises the ELBO is that aggregate itself (2.41). It needs all
N training points, so the VampPrior keeps K ≪ N learned *pseudo-inputs* u_k
instead and mixes the encoder's posteriors at them:

    p(z) = (1/K) Σ_k q(z | u_k) = (1/K) Σ_k N(z | μ(u_k), diag σ(u_k)²)       (2.42)

The KL term is no longer analytic. One training step on a minibatch of n rows,
written out in :meth:`VampPriorVAE.step`, runs the *same* encoder twice, on the
batch and on the pseudo-inputs, with two explicit caches:

    mu, log_sigma = encoder(x)                       (2.26)   cache enc_x
    mu_u, log_sigma_u = encoder(u)                   (2.42)   cache enc_u
    z = mu + exp(log_sigma) ⊙ ε                      (2.32)
    KL ≈ ln q(z|x) − ln p(z)                         ln q from ε, ln p by log-sum-exp over k
    loss = (1/n) Σ_n [ −ln p(x_n | z_n) + β (ln q(z_n|x_n) − ln p(z_n)) ]

and the gradient reaches u through the encoder's input gradient.
"""

import numpy as np
from scipy.special import logsumexp, softmax

from .._validation import NotFittedError, check_is_fitted, check_positive_int, check_random_state
from ..losses import LOG_2PI, log_normal_from_eps, reparametrise, reparametrise_backward
from ._gaussian import GaussianLatentModel
from .vae import VAE

__all__ = ["VampPriorVAE", "VampPrior", "vampprior_log_prob", "vampprior_log_prob_backward"]

# log_prob evaluates the (m, K) component table in blocks of about this many entries.
_BLOCK_ENTRIES = 2_000_000

# Pseudo-inputs initialised from rows are kept this far inside (0, 1) under the
# sigmoid, whose logit of an exact 0 or 1 pixel would be infinite.
_SIGMOID_MARGIN = 0.01


# =====================================================================================
# The prior (2.42): density, its gradient, and the mixture as a prior object
# =====================================================================================

def vampprior_log_prob(z, mu_u, log_sigma_u):
    """ln p(z) of the VampPrior (2.42) for each row of ``z``, with the cache for the backward pass.

    ln p(z) = ln (1/K) Σ_k N(z | μ_k, diag σ_k²),   μ_k = mu_u[k], σ_k = exp(log_sigma_u[k]),

    each component ln N(z | μ_k, σ_k) = −½ Σ_j (z_j − μ_kj)² / σ_kj² − Σ_j ln σ_kj − (d/2) ln 2π,
    and the sum over k by ``scipy.special.logsumexp`` (no underflow far from
    every component).

    Parameters
    ----------
    z : ndarray, shape (m, d)
    mu_u, log_sigma_u : ndarray, shape (K, d)
        The encoder's outputs at the K pseudo-inputs; ``log_sigma_u`` is the log
        of the standard deviation.

    Returns
    -------
    log_p : ndarray, shape (m,)
    cache : tuple
        For :func:`vampprior_log_prob_backward`.

    Notes
    -----
    The squared distances are expanded, Σ_j z_j² a_kj − 2 Σ_j z_j b_kj + Σ_j μ_kj b_kj
    with a = 1/σ², b = μ/σ², so that all m·K of them are two matrix products
    instead of an (m, K, d) array: 20 times faster at m = 100, K = 500, d = 40,
    and exact to ~1e-13 for values of order 1. Cancellation can make a
    distance slightly negative when σ is tiny next to |z − μ|; it is clipped at 0.

    References
    ----------
    Tomczak, J. M. & Welling, M. (2018). VAE with a VampPrior. AISTATS.
    """
    K, d = mu_u.shape
    a = np.exp(-2.0 * log_sigma_u)                               # 1/σ², (K, d)
    b = mu_u * a                                                  # μ/σ²
    dist2 = (z * z) @ a.T - 2.0 * (z @ b.T) + np.einsum("kj,kj->k", mu_u, b)
    np.maximum(dist2, 0.0, out=dist2)                             # (m, K)
    log_comp = -0.5 * dist2 - log_sigma_u.sum(axis=1) - 0.5 * d * LOG_2PI
    log_p = logsumexp(log_comp, axis=1) - np.log(K)
    return log_p, (z, mu_u, a, b, log_comp)


def vampprior_log_prob_backward(d_log_p, cache):
    """Chain rule through :func:`vampprior_log_prob` (2.42): gradients w.r.t. z, μ_k and ln σ_k.

    With responsibilities w_mk = softmax_k(ln N(z_m | μ_k, σ_k)) and G_mk = g_m w_mk
    (g = ``d_log_p``, the upstream gradient of each ln p(z_m)):

        ∂/∂z_m      = Σ_k G_mk (μ_k − z_m) / σ_k²
        ∂/∂μ_k      = Σ_m G_mk (z_m − μ_k) / σ_k²
        ∂/∂ln σ_kj  = Σ_m G_mk [ (z_mj − μ_kj)² / σ_kj² − 1 ]

    each again as matrix products.

    Parameters
    ----------
    d_log_p : ndarray, shape (m,)
    cache : tuple
        From :func:`vampprior_log_prob`.

    Returns
    -------
    d_z : ndarray, shape (m, d)
    d_mu_u, d_log_sigma_u : ndarray, shape (K, d)
    """
    z, mu_u, a, b, log_comp = cache
    G = d_log_p[:, None] * softmax(log_comp, axis=1)              # (m, K)
    S = G.sum(axis=0)[:, None]                                    # Σ_m G_mk, (K, 1)
    Gz = G.T @ z                                                  # (K, d)
    d_z = G @ b - z * (G @ a)
    d_mu_u = Gz * a - S * b
    d_log_sigma_u = (G.T @ (z * z)) * a - 2.0 * Gz * b + S * (mu_u * b) - S
    return d_z, d_mu_u, d_log_sigma_u


class VampPrior:
    """The VampPrior of a fitted model as a fixed mixture: p(z) = (1/K) Σ_k N(z | μ_k, diag σ_k²) (2.42).

    What :attr:`VampPriorVAE.prior_` returns: the encoder's posteriors at the
    pseudo-inputs, frozen. ``sample`` picks a component uniformly, then draws
    from it: the VampPrior itself, not N(0, I).

    Parameters
    ----------
    mu_u, log_sigma_u : array_like, shape (K, d)
        Means and log standard deviations of the K components.
    """

    def __init__(self, mu_u, log_sigma_u):
        mu_u = np.array(mu_u, dtype=float)
        log_sigma_u = np.array(log_sigma_u, dtype=float)
        if mu_u.ndim != 2 or mu_u.size == 0 or log_sigma_u.shape != mu_u.shape:
            raise ValueError(f"mu_u and log_sigma_u must be (K, d) arrays of one shape, "
                             f"got {mu_u.shape} and {log_sigma_u.shape}")
        if not (np.isfinite(mu_u).all() and np.isfinite(log_sigma_u).all()):
            raise ValueError("mu_u and log_sigma_u must be finite")
        self.mu_u, self.log_sigma_u = mu_u, log_sigma_u
        self.dim = mu_u.shape[1]

    @property
    def n_components(self):
        """K, the number of pseudo-inputs."""
        return self.mu_u.shape[0]

    def log_prob(self, z):
        """ln p(z) (2.42) over the last axis of ``z`` (any leading shape), by :func:`vampprior_log_prob`."""
        z = np.asarray(z, dtype=float)
        if z.ndim == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"z must have {self.dim} entries along its last axis for this VampPrior, "
                             f"got shape {z.shape}")
        flat = z.reshape(-1, self.dim)
        out = np.empty(flat.shape[0])
        block = max(1, _BLOCK_ENTRIES // self.n_components)
        for start in range(0, flat.shape[0], block):
            out[start:start + block] = vampprior_log_prob(flat[start:start + block], self.mu_u,
                                                          self.log_sigma_u)[0]
        return out.reshape(z.shape[:-1])

    def sample(self, n, random_state=None, return_components=False):
        """``n`` draws from (2.42): k uniform on {0, ..., K−1}, then z = μ_k + σ_k ⊙ ε with ε ~ N(0, I).

        With ``return_components`` also return the picked k of each draw.
        """
        n = check_positive_int(n, "n", minimum=0)
        rng = check_random_state(random_state)
        k = rng.integers(self.n_components, size=n)
        z = reparametrise(self.mu_u[k], self.log_sigma_u[k], rng.standard_normal((n, self.dim)))
        return (z, k) if return_components else z

    def __repr__(self):
        return f"VampPrior(n_components={self.n_components}, dim={self.dim})"


# =====================================================================================
# The model
# =====================================================================================

class VampPriorVAE(VAE):
    """VAE whose prior is the VampPrior (2.42), a mixture of the encoder's posteriors at learned pseudo-inputs.

    Parameters
    ----------
    n_pseudo : int, default 500
        K, the number of pseudo-inputs u_k (the authors use 500 on MNIST).
    pseudo_init : {"rows", "normal"}, default "rows"
        ``"rows"``: u starts at K training rows drawn without replacement (with
        replacement if K exceeds the rows). ``"normal"``: the parameter starts
        at N(−0.05, 0.01²) draws, the authors' other choice.
    pseudo_transform : {None, "sigmoid", "hardtanh"}, default None
        How the parameter ``params_["u"]`` (v, say) becomes the pseudo-inputs:
        None: u = v, unconstrained. ``"sigmoid"``: u = σ(v), always in (0, 1).
        ``"hardtanh"``: u = min(1, max(0, v)), the authors' choice for MNIST; its
        gradient is 1 for 0 ≤ v ≤ 1 and 0 outside, so a coordinate pushed
        below 0 or above 1 stays there. The two keep u in the range of [0, 1]
        data. With ``"rows"`` the parameter starts where u equals the row
        (sigmoid: the row clipped to [0.01, 0.99] first, as σ(v) never reaches 0
        or 1). ``"normal"`` with ``"hardtanh"`` is refused: every u would start
        at 0 with zero gradient.
    n_latent, hidden_sizes, activation, likelihood, sigma2, n_mc, kl_warmup, lr, batch_size,
    n_epochs, clip_norm, dtype, random_state, verbose, early_stopping, validation_fraction,
    n_iter_no_change :
        As for :class:`VAE`. ``kl_warmup`` ramps β on the estimated KL term
        (the authors warm up over 100 epochs).

    Attributes
    ----------
    params_ : dict
        The VAE's networks and ``u``, shape (n_pseudo, n_features): the
        pseudo-input parameter v (equal to u without ``pseudo_transform``).
    pseudo_inputs_ : ndarray, shape (n_pseudo, n_features)
        The pseudo-inputs u_k, e.g. to show as images.
    prior_ : VampPrior
        p(z) (2.42) at the current parameters: what ``sample`` draws from and
        ``log_likelihood`` evaluates.
    history_ : dict
        Per epoch: ``loss``, ``reconstruction`` and ``kl`` (the Monte-Carlo KL
        estimate (1/L) Σ_l [ln q(z_l|x) − ln p(z_l)], averaged over rows).

    Notes
    -----
    One step costs a second encoder pass, forward and backward, over the K
    pseudo-inputs: with K = 500 and batches of 100 rows that pass is five
    times the batch's own encoder pass. The KL estimate uses the same draws z
    as the reconstruction term; ln q(z|x) is written from ε
    (:func:`minivae.losses.log_normal_from_eps`), and the encoder's log σ is
    clamped to [−30, 30] on the batch and on the pseudo-inputs alike.

    References
    ----------
    Tomczak, J. M. & Welling, M. (2018). VAE with a VampPrior. AISTATS.
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    """

    _pseudo_inits = ("rows", "normal")
    _pseudo_transforms = (None, "sigmoid", "hardtanh")

    def __init__(self, n_pseudo=500, pseudo_init="rows", pseudo_transform=None, n_latent=2,
                 hidden_sizes=(32,), activation="swish", likelihood="gaussian", sigma2=1.0, n_mc=1,
                 kl_warmup=0, lr=1e-3, batch_size=100, n_epochs=100, clip_norm=None,
                 dtype="float64", random_state=None, verbose=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10):
        self.n_pseudo = n_pseudo
        self.pseudo_init = pseudo_init
        self.pseudo_transform = pseudo_transform
        super().__init__(n_latent=n_latent, hidden_sizes=hidden_sizes, activation=activation,
                         likelihood=likelihood, sigma2=sigma2, n_mc=n_mc, kl_warmup=kl_warmup, lr=lr,
                         batch_size=batch_size, n_epochs=n_epochs, clip_norm=clip_norm, dtype=dtype,
                         random_state=random_state, verbose=verbose,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change)

    # ------------------------------------------------------------------ set-up
    def _set_up(self):
        # As for the Gaussian-latent base, but not the VAE's N(0, I) prior: prior_
        # is derived from u and the encoder (a property).
        GaussianLatentModel._set_up(self)

    def _check_params(self):
        super()._check_params()
        check_positive_int(self.n_pseudo, "n_pseudo")
        if not isinstance(self.pseudo_init, str) or self.pseudo_init not in self._pseudo_inits:
            raise ValueError(f"pseudo_init must be 'rows' or 'normal', got {self.pseudo_init!r}")
        if self.pseudo_transform is not None and (not isinstance(self.pseudo_transform, str)
                                                  or self.pseudo_transform not in self._pseudo_transforms):
            raise ValueError(f"pseudo_transform must be None, 'sigmoid' or 'hardtanh', "
                             f"got {self.pseudo_transform!r}")
        if self.pseudo_init == "normal" and self.pseudo_transform == "hardtanh":
            raise ValueError("pseudo_init='normal' with pseudo_transform='hardtanh' starts every "
                             "pseudo-input at N(-0.05, 0.01) < 0, where hard-tanh gives u = 0 and no "
                             "gradient; use pseudo_init='rows' or pseudo_transform='sigmoid'")

    def _extra_shapes(self, X):
        return {"u": (self.n_pseudo, X.shape[1])}

    def _init_params(self, X, rng):
        super()._init_params(X, rng)
        K, n = self.n_pseudo, X.shape[0]
        if self.pseudo_init == "normal":
            v = rng.normal(-0.05, 0.01, size=(K, X.shape[1]))
        else:
            rows = X[rng.choice(n, size=K, replace=K > n)]
            if self.pseudo_transform == "sigmoid":
                rows = np.clip(rows, _SIGMOID_MARGIN, 1.0 - _SIGMOID_MARGIN)
                v = np.log(rows) - np.log1p(-rows)                       # σ⁻¹
            else:
                v = rows
        self.params_["u"][...] = v

    # ------------------------------------------------------------------ pseudo-inputs
    def _pseudo_forward(self, v):
        """u from the parameter v (see ``pseudo_transform``)."""
        if self.pseudo_transform == "sigmoid":
            return 0.5 * (1.0 + np.tanh(0.5 * v))                        # σ(v) without overflow
        if self.pseudo_transform == "hardtanh":
            return np.clip(v, 0.0, 1.0)
        return v

    def _pseudo_backward(self, d_u, v, u):
        """∂L/∂v from ∂L/∂u: σ' = u(1 − u) for the sigmoid, 1 on [0, 1] for hard-tanh."""
        if self.pseudo_transform == "sigmoid":
            return d_u * u * (1.0 - u)
        if self.pseudo_transform == "hardtanh":
            return np.where((v >= 0.0) & (v <= 1.0), d_u, 0.0)
        return d_u

    @property
    def pseudo_inputs_(self):
        """The pseudo-inputs u_k, shape (n_pseudo, n_features) (a copy)."""
        check_is_fitted(self)
        return np.array(self._pseudo_forward(self.params_["u"]))

    @property
    def prior_(self):
        """The VampPrior (2.42) at the current parameters, as a :class:`VampPrior`."""
        if getattr(self, "params_", None) is None:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; its prior is made "
                                 "from the fitted encoder and pseudo-inputs")
        mu_u, log_sigma_u, _ = self._encode(self._pseudo_forward(self.params_["u"]))
        return VampPrior(mu_u, log_sigma_u)

    # ------------------------------------------------------------------ objective
    def step(self, X, noise, state, grads):
        """The negative ELBO with the VampPrior on the minibatch ``X``; adds its gradient into ``grads``.

        loss = (1/n) Σ_n [ (1/L) Σ_l −ln p(x_n | z_nl) + β (1/L) Σ_l (ln q(z_nl | x_n) − ln p(z_nl)) ],
        z_nl = μ_n + σ_n ε_nl (2.32), p(z) the VampPrior (2.42) of the current
        pseudo-inputs, β = ``state["beta"]`` (KL warm-up; 1 is the ELBO).

        Parameters
        ----------
        X : ndarray, shape (n, n_features)
        noise : dict
            ``eps`` of shape (L, n, n_latent), from :meth:`draw_noise`.
        state : dict
            ``beta``.
        grads : dict
            Gradient arrays by network, and ``grads["u"]``, added into.

        Returns
        -------
        loss : float
        terms : dict
            ``reconstruction`` = (1/nL) Σ −ln p(x|z) and ``kl`` = (1/nL) Σ (ln q − ln p).
        """
        n, beta, eps = X.shape[0], state["beta"], noise["eps"]
        L, nz = eps.shape[0], eps.shape[2]
        decoder = self.modules_["decoder"]
        v = self.params_["u"]
        u = self._pseudo_forward(v)                                            # (K, n_features)
        mu, log_sigma, enc_x = self._encode(X)                                 # (2.26), the batch
        mu_u, log_sigma_u, enc_u = self._encode(u)                             # (2.42), the pseudo-inputs
        z = reparametrise(mu, log_sigma, eps)                                  # (2.32), (L, n, nz)
        x_hat, dec = decoder.forward(z.reshape(L * n, nz))
        nll, d_x_hat = self._nll(X, x_hat.reshape(L, n, -1))                   # (2.33), (L, n)
        log_q = log_normal_from_eps(eps, log_sigma)                            # ln q(z|x), (L, n)
        log_p, prior = vampprior_log_prob(z.reshape(L * n, nz), mu_u, log_sigma_u)   # ln p(z), (L·n,)
        kl = log_q - log_p.reshape(L, n)
        reconstruction, kl_mean = nll.sum() / (n * L), kl.sum() / (n * L)
        loss = reconstruction + beta * kl_mean
        # the decoder, and −β ln p(z) through z; ln q = −½‖ε‖² − Σ ln σ depends on log σ only
        d_z, _ = decoder.backward(d_x_hat.reshape(L * n, -1) / (n * L), dec, grads["decoder"])
        d_log_p = np.full(L * n, -beta / (n * L), dtype=z.dtype)
        d_z_prior, d_mu_u, d_log_sigma_u = vampprior_log_prob_backward(d_log_p, prior)
        d_mu, d_log_sigma = reparametrise_backward((d_z + d_z_prior).reshape(L, n, nz), log_sigma, eps)
        d_log_sigma -= beta / n                                                # ∂(β/nL Σ ln q)/∂ln σ
        self._encode_backward(d_mu, d_log_sigma, enc_x, grads)
        d_u = self._encode_backward(d_mu_u, d_log_sigma_u, enc_u, grads, need_dx=True)
        grads["u"] += self._pseudo_backward(d_u, v, u)
        return float(loss), {"reconstruction": float(reconstruction), "kl": float(kl_mean)}

    # ------------------------------------------------------------------ likelihood estimates
    def _kl(self, mu, log_sigma, eps):
        """KL(q(z|x) ‖ p(z)) per row, (n,), estimated with the draws ε: (1/L) Σ_l [ln q(z_l|x) − ln p(z_l)]."""
        z = reparametrise(mu, log_sigma, eps)
        return (log_normal_from_eps(eps, log_sigma) - self.prior_.log_prob(z)).mean(axis=0)
