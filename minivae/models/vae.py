"""The variational autoencoder (SPEC 4; Kingma & Welling 2014).

The network is the thesis's (SPEC 4, "Network"):

    A = Dense(nx, nh, act)                 encoder trunk (any list of hidden sizes)
    mu = Dense(nh, nz),  log_sigma = Dense(nh, nz)
    f = Chain(Dense(nz, nh, act), Dense(nh, nx))

and one training step on a minibatch of n rows is, read top to bottom:

    mu, log_sigma = encoder(x)                                  (2.26)
    z = mu + exp(log_sigma) ⊙ ε,   ε ~ N(0, I)                  (2.32)
    loss = (1/n) Σ_n [ −ln p(x_n | z_n) + β KL(q(z|x_n) ‖ N(0, I)) ]   (2.25, 2.31, 2.33)

with the chain rule written out in ``_loss_and_grad``.
"""

import numpy as np

from .._validation import (
    check_array,
    check_hidden_sizes,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_random_state,
)
from ..losses import bernoulli_nll, gaussian_nll, kl_standard_normal
from ..nn import MLP, Dense, get_activation, sigmoid
from ._base import BaseModel

__all__ = ["VAE", "log_normal_diag", "logsumexp"]

_LOG_2PI = np.log(2.0 * np.pi)


def log_normal_diag(z, mu, log_sigma):
    """ln N(z | μ, diag σ²) summed over the last axis (log_sigma = ln σ)."""
    u = (z - mu) * np.exp(-log_sigma)
    return -0.5 * np.einsum("...j,...j->...", u, u) - log_sigma.sum(axis=-1) - 0.5 * z.shape[-1] * _LOG_2PI


def logsumexp(a, axis):
    """ln Σ exp(a) along ``axis``, subtracting the maximum first so nothing overflows."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


class VAE(BaseModel):
    """Variational autoencoder with a Gaussian or Bernoulli decoder (SPEC 4).

    Parameters
    ----------
    n_latent : int
        nz, the dimension of z.
    hidden_sizes : int or sequence of int
        nh: widths of the encoder trunk; the decoder mirrors them. At least one.
    activation : str
        Hidden activation: the thesis uses ``"swish"`` on toy data and
        ``"sigmoid"`` on real data (``"swish_beta"`` learns β).
    likelihood : {"gaussian", "bernoulli"}
        p(x|z): N(f(z), ω² I) (2.28) or Bernoulli(σ(f(z))) for data in [0, 1].
    sigma2 : float
        ω², the fixed decoder variance of the Gaussian likelihood. The thesis
        minimises ``0.5·Σ(x − f(z))² + ω²·KL``, which is ω² times the negative
        ELBO this class minimises: same optimum, so ``sigma2=300`` means what
        the thesis's "ω² = 300" means. Small ω² favours reconstruction, large ω²
        the prior.
    n_mc : int
        Samples of ε per data point in each training step.
    kl_warmup : int
        Epochs over which the KL weight β rises linearly from 0 to 1 (0: β = 1
        throughout), against posterior collapse (Bowman et al. 2016; Sønderby
        et al. 2016).
    lr, batch_size, n_epochs, clip_norm, dtype, random_state, verbose :
        As for :class:`minivae.models.Autoencoder`.

    Attributes
    ----------
    params_ : dict
        ``encoder.*``, ``mu.W``, ``mu.b``, ``log_sigma.W``, ``log_sigma.b``, ``decoder.*``.
    history_ : dict
        Per epoch: ``loss`` (the negative ELBO when β = 1), ``reconstruction``
        (−E_q ln p(x|z)) and ``kl``.

    Notes
    -----
    ``log_sigma`` is the log of the *standard deviation*:
    z = mu + exp(log_sigma)·ε, and the KL (2.31) uses σ² = exp(2·log_sigma).

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance weighted autoencoders. ICLR.
    """

    def __init__(self, n_latent=2, hidden_sizes=(32,), activation="swish", likelihood="gaussian",
                 sigma2=1.0, n_mc=1, kl_warmup=0, lr=1e-3, batch_size=100, n_epochs=100,
                 clip_norm=None, dtype="float64", random_state=None, verbose=False):
        self.n_latent = n_latent
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.sigma2 = sigma2
        self.n_mc = n_mc
        self.kl_warmup = kl_warmup
        self.lr = lr
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        check_positive_int(self.n_latent, "n_latent")
        self._hidden = check_hidden_sizes(self.hidden_sizes)
        if not self._hidden:
            raise ValueError("hidden_sizes must name at least one hidden layer, got ()")
        get_activation(self.activation)
        if self.likelihood not in ("gaussian", "bernoulli"):
            raise ValueError(f"likelihood must be 'gaussian' or 'bernoulli', got {self.likelihood!r}")
        check_positive(self.sigma2, "sigma2")
        check_positive_int(self.n_mc, "n_mc")
        check_positive_int(self.kl_warmup, "kl_warmup", minimum=0)
        self._beta = 1.0

    def _make_modules(self, n_features):
        hidden, nz, act = self._hidden, self.n_latent, self.activation
        return {
            "encoder": MLP([n_features, *hidden], act, act),
            "mu": Dense(hidden[-1], nz),
            "log_sigma": Dense(hidden[-1], nz),
            "decoder": MLP([nz, *hidden[::-1], n_features], act, "identity"),
        }

    def _init_extra(self, rng, values):
        # Start every q(z|x) with unit variance: Glorot weights on the log_sigma head
        # can put log σ at ±10 or more on raw data, i.e. a KL term of 1e8 that some
        # runs never recover from. The head still learns, as ∂L/∂W = δᵀh ≠ 0.
        values["log_sigma.W"][...] = 0.0

    def _begin_epoch(self, epoch, X, rng):
        self._beta = 1.0 if self.kl_warmup == 0 else min(1.0, epoch / self.kl_warmup)

    # ------------------------------------------------------------------ building blocks
    def _encode(self, X):
        """Forward through the encoder: (mu, log_sigma, caches)."""
        h, trunk = self.modules_["encoder"].forward(X)
        mu, mu_cache = self.modules_["mu"].forward(h)
        log_sigma, ls_cache = self.modules_["log_sigma"].forward(h)
        return mu, log_sigma, (trunk, mu_cache, ls_cache)

    def _encode_backward(self, d_mu, d_log_sigma, caches, need_dx=False):
        """Backward through the encoder, adding into the parameter gradients; returns dL/dx."""
        trunk, mu_cache, ls_cache = caches
        d_h, _ = self.modules_["mu"].backward(d_mu, mu_cache, self._grads["mu"])
        d_h2, _ = self.modules_["log_sigma"].backward(d_log_sigma, ls_cache, self._grads["log_sigma"])
        d_h += d_h2
        return self.modules_["encoder"].backward(d_h, trunk, self._grads["encoder"], need_dx=need_dx)[0]

    def _nll(self, X, out):
        """−ln p(x | z) per sample, with the normalising constant, and its gradient w.r.t. f(z)."""
        if self.likelihood == "gaussian":
            return gaussian_nll(X, out, self.sigma2, include_constant=True)
        return bernoulli_nll(X, out)

    def _draw_noise(self, X, rng):
        return {"eps": rng.standard_normal((self.n_mc, X.shape[0], self.n_latent), dtype=self._dtype)}

    def _kl(self, mu, log_sigma, z, eps):
        """KL term per sample and its gradients (d_mu, d_log_sigma, d_z); analytic (2.31) here.

        Gradients are of the *sum* over the batch. Models with another prior
        (VampPrior) override this; d_z is None when the term does not depend on z.
        """
        kl, d_mu, d_log_sigma = kl_standard_normal(mu, log_sigma)
        return kl, d_mu, d_log_sigma, None

    # Name of the regulariser in history_.
    _regularizer_name = "kl"

    def _regularizer(self, mu, log_sigma, z, noise):
        """The objective's second term, as a batch mean, with gradients of that mean.

        Returns ``(value, d_mu, d_log_sigma, d_z)``; for the VAE the mean KL.
        The WAE overrides this with λ·MMD² between z and prior samples.
        """
        n = mu.shape[0]
        kl, d_mu, d_log_sigma, d_z = self._kl(mu, log_sigma, z, noise["eps"])
        return kl.sum() / n, d_mu / n, d_log_sigma / n, None if d_z is None else d_z / n

    # ------------------------------------------------------------------ objective
    def _loss_and_grad(self, X, noise):
        n, L = X.shape[0], noise["eps"].shape[0]
        eps = noise["eps"]
        mu, log_sigma, enc_caches = self._encode(X)
        sigma = np.exp(log_sigma)
        z = mu + sigma * eps                                      # (2.32), shape (L, n, nz)
        out, dec_caches = self.modules_["decoder"].forward(z.reshape(L * n, -1))
        nll, d_out = self._nll(X, out.reshape(L, n, -1))         # (2.33), averaged over L below
        reg, d_mu_reg, d_ls_reg, d_z_reg = self._regularizer(mu, log_sigma, z, noise)
        beta = self._beta
        rec = nll.sum() / (n * L)
        # Chain rule: z depends on mu with slope 1 and on log_sigma with slope σε.
        d_z, _ = self.modules_["decoder"].backward(d_out.reshape(L * n, -1) / (n * L), dec_caches,
                                                   self._grads["decoder"])
        d_z = d_z.reshape(L, n, -1)
        if d_z_reg is not None:
            d_z += beta * d_z_reg
        d_mu = d_z.sum(axis=0) + beta * d_mu_reg
        d_log_sigma = (d_z * eps).sum(axis=0) * sigma + beta * d_ls_reg
        self._encode_backward(d_mu, d_log_sigma, enc_caches)
        return float(rec + beta * reg), {"reconstruction": float(rec), self._regularizer_name: float(reg)}

    # ------------------------------------------------------------------ inference
    def encode(self, X):
        """Parameters of q(z|x): ``(mu, log_sigma)``, each (n_samples, n_latent)."""
        X = self._validate_X(X)
        mu, log_sigma, _ = self._encode(X)
        return mu, log_sigma

    def transform(self, X):
        """The posterior mean μ(x) of each row."""
        return self.encode(X)[0]

    def _decode(self, Z):
        out = self.modules_["decoder"].forward(Z)[0]
        return sigmoid(out) if self.likelihood == "bernoulli" else out

    def decode(self, Z):
        """Decoder mean f(z) (Gaussian) or Bernoulli probabilities σ(f(z)) for each row of Z."""
        check_is_fitted(self)
        Z = check_array(Z, name="Z", dtype=self._dtype, n_features=self.n_latent,
                        estimator=f"{type(self).__name__}'s latent space")
        return self._decode(Z)

    def reconstruct(self, X, sample_z=False, random_state=None):
        """Decode the posterior mean (or, with ``sample_z``, one draw z ~ q(z|x))."""
        mu, log_sigma = self.encode(X)
        if sample_z:
            rng = check_random_state(random_state)
            mu = mu + np.exp(log_sigma) * rng.standard_normal(mu.shape, dtype=self._dtype)
        return self._decode(mu)

    def _sample_prior(self, n, rng):
        return rng.standard_normal((n, self.n_latent), dtype=self._dtype)

    def sample(self, n_samples=1, random_state=None, noise=False):
        """Generate new data: z ~ p(z), then the decoder mean f(z).

        With ``noise=True`` the observation noise is added too: x ~ N(f(z), ω² I)
        for the Gaussian decoder, x ~ Bernoulli(σ(f(z))) for the Bernoulli one.
        """
        check_is_fitted(self)
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = check_random_state(random_state)
        x = self._decode(self._sample_prior(n_samples, rng))
        if noise and self.likelihood == "gaussian":
            x = x + np.sqrt(self.sigma2) * rng.standard_normal(x.shape, dtype=self._dtype)
        elif noise:
            x = (rng.random(x.shape) < x).astype(self._dtype)
        return x

    def elbo(self, X, n_samples=1, random_state=None):
        """Per-sample ELBO: E_q[ln p(x|z)] (Monte Carlo, ``n_samples`` draws) − KL (2.10-2.11)."""
        X = self._validate_X(X)
        rng = check_random_state(random_state)
        L, n = check_positive_int(n_samples, "n_samples"), X.shape[0]
        mu, log_sigma, _ = self._encode(X)
        eps = rng.standard_normal((L, n, self.n_latent), dtype=self._dtype)
        z = mu + np.exp(log_sigma) * eps
        out = self.modules_["decoder"].forward(z.reshape(L * n, -1))[0]
        nll = self._nll(X, out.reshape(L, n, -1))[0]
        kl = self._kl(mu, log_sigma, z, eps)[0]
        return -nll.mean(axis=0) - kl

    def _log_prior(self, z):
        """ln p(z) for the standard normal prior (2.27)."""
        return -0.5 * np.einsum("...j,...j->...", z, z) - 0.5 * z.shape[-1] * _LOG_2PI

    def log_likelihood(self, X, n_importance=100, random_state=None, batch_size=None):
        """Importance-weighted estimate of ln p(x) per sample (Burda et al. 2016).

        ln p(x) ≈ ln (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x),  z_k ~ q(z|x).

        It is a lower bound in expectation that tightens as K grows; K = 1 is
        the ELBO. Computed in blocks so memory stays bounded for large K.
        """
        X = self._validate_X(X)
        rng = check_random_state(random_state)
        K = check_positive_int(n_importance, "n_importance")
        n, d = X.shape
        rows = batch_size or max(1, min(n, 2_000_000 // (K * d) or 1))
        out = np.empty(n)
        for start in range(0, n, rows):
            xb = X[start:start + rows]
            mu, log_sigma, _ = self._encode(xb)
            k_block = max(1, 4_000_000 // (xb.shape[0] * d))
            log_w = []
            for k0 in range(0, K, k_block):
                kb = min(k_block, K - k0)
                z = mu + np.exp(log_sigma) * rng.standard_normal((kb,) + mu.shape, dtype=self._dtype)
                f = self.modules_["decoder"].forward(z.reshape(kb * xb.shape[0], -1))[0]
                log_px = -self._nll(xb, f.reshape(kb, xb.shape[0], -1))[0]
                log_w.append(log_px + self._log_prior(z) - log_normal_diag(z, mu, log_sigma))
            out[start:start + rows] = logsumexp(np.concatenate(log_w, axis=0), axis=0) - np.log(K)
        return out

    def score_samples(self, X, n_importance=100, random_state=None):
        """ln p(x) estimated by importance sampling: higher means more typical."""
        return self.log_likelihood(X, n_importance=n_importance, random_state=random_state)
