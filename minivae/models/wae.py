"""The Wasserstein autoencoder with an MMD penalty (SPEC 5; Tolstikhin et al. 2018).

Same encoder and decoder as the VAE; the KL term is replaced by

    λ · MMD²_k(Q_Z, P_Z)                                           (2.37-2.38)

between encoder samples and samples of the prior P_Z, which can be anything
that can be sampled (a Gaussian mixture, say). One training step:

    mu, log_sigma = encoder(x);  z = mu + exp(log_sigma) ⊙ ε        (2.32)
    z̃ ~ P_Z                                                         (prior samples)
    loss = (1/n) Σ_n −ln p(x_n | z_n) + λ MMD²(z, z̃)                (2.39)

with ∂MMD²/∂z from the numba kernel in :mod:`minivae.kernels`.
"""

import numpy as np

from .._validation import check_positive, check_positive_int
from ..mmd import Kernel, gaussian_kernel, imq_kernel, imq_multiscale, mmd_and_grad
from ..priors import StandardNormal, prior_from_config
from .vae import VAE

__all__ = ["WAE"]


class WAE(VAE):
    """Wasserstein autoencoder, WAE-MMD (Tolstikhin et al. 2018; thesis §2.3).

    Parameters
    ----------
    n_latent, hidden_sizes, activation, likelihood, sigma2 :
        As for :class:`VAE`; the reconstruction term is the same −ln p(x|z).
    kernel : str or minivae.kernels.Kernel
        ``"gaussian"`` (IPMeasures' exp(−γ‖x−y‖²)), ``"imq"`` (C/(C + ‖x−y‖²)), or
        a ``Kernel`` from :func:`minivae.kernels.gaussian_kernel` (γ or bandwidth h,
        γ = 1/(2h²)), :func:`~minivae.kernels.imq_kernel` or
        :func:`~minivae.kernels.imq_multiscale`.
    kernel_scale : float or None
        γ of the Gaussian kernel or C of the IMQ kernel, for a string
        ``kernel`` only (a ``Kernel`` carries its own scales). None picks the
        WAE paper's default: C = 2·d_z (σ_z = 1) summed over the scales
        {0.1, 0.2, 0.5, 1, 2, 5, 10} for IMQ, γ = 1/(2·d_z) for the Gaussian.
        The thesis used γ = 0.01 and C = 1 on KDD (SPEC 8.1).
    lam : float
        λ, the weight of the MMD penalty.
    prior : None, StandardNormal, GaussianMixture or any object with ``sample(n, rng)``
        P_Z; None means N(0, I).
    mmd_mode : {"aggregate", "per_point"}
        ``"aggregate"`` (default, the WAE paper): one z per data point, and the
        MMD compares the *aggregate posterior* Q_Z of the minibatch with as
        many prior samples — this is what makes Q_Z match P_Z.
        ``"per_point"`` (the thesis's code, (2.39)): for every x, ``n_sample``
        draws of q(z|x) are compared with ``n_sample`` prior draws, and the
        penalties are averaged over the batch. It pulls each q(z|x) towards
        the whole prior, which is closer to a VAE's KL term than to a WAE, and
        costs n·n_sample² kernel evaluations per step.
    n_sample : int
        Draws per data point in ``"per_point"`` mode (thesis: 1,000 in 1-D, 200 in 2-D).
    deterministic : bool
        Use z = μ(x) (a deterministic encoder, as in the WAE paper's
        experiments); the log_sigma head then receives no gradient, and
        ``reconstruct(X, sample_z=True)`` decodes μ(x) too.
    unbiased : bool
        U-statistic (default, as IPMeasures and the WAE code) or V-statistic MMD².
    lr, batch_size, n_epochs, clip_norm, dtype, random_state, verbose :
        As for :class:`VAE`.

    Attributes
    ----------
    params_ : dict
        As for :class:`VAE`.
    history_ : dict
        Per epoch: ``loss`` = ``reconstruction`` + ``mmd``, where ``mmd`` is
        the penalty as it enters the loss, λ·MMD² (not MMD² alone).

    Notes
    -----
    The objective (2.37-2.39), per minibatch of n rows, is

        (1/n) Σ_n −ln p(x_n | z_n) + λ MMD²_k({z_n}, {z̃_n}),   z̃_n ~ P_Z,

    with the MMD² estimator of (2.38) from :func:`minivae.kernels.mmd` and
    its gradient with respect to the z_n pushed back through the
    reparametrisation z = μ + σ ⊙ ε. With the unbiased estimator a batch of a
    single row has no within-sample pair, so its MMD term is skipped (only
    the final, partial batch of an epoch can be that small).

    A WAE has no ELBO: ``elbo`` and ``log_likelihood`` raise AttributeError,
    and ``score_samples`` is minus the reconstruction loss at z = μ(x).

    References
    ----------
    Tolstikhin, I., Bousquet, O., Gelly, S. & Schölkopf, B. (2018). Wasserstein
    auto-encoders. ICLR.
    Gretton, A. et al. (2012). A kernel two-sample test. JMLR 13.
    """

    _regularizer_name = "mmd"

    def __init__(self, n_latent=2, hidden_sizes=(32,), activation="swish", likelihood="gaussian",
                 sigma2=1.0, kernel="gaussian", kernel_scale=None, lam=1.0, prior=None,
                 mmd_mode="aggregate", n_sample=200, deterministic=False, unbiased=True,
                 lr=1e-3, batch_size=100, n_epochs=100, clip_norm=None, dtype="float64",
                 random_state=None, verbose=False):
        self.n_latent = n_latent
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.sigma2 = sigma2
        self.kernel = kernel
        self.kernel_scale = kernel_scale
        self.lam = lam
        self.prior = prior
        self.mmd_mode = mmd_mode
        self.n_sample = n_sample
        self.deterministic = deterministic
        self.unbiased = unbiased
        self.lr = lr
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # The VAE's n_mc and KL warm-up have no WAE counterpart.
    n_mc = 1
    kl_warmup = 0

    def _check_params(self):
        super()._check_params()
        for name in ("deterministic", "unbiased"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        check_positive(self.lam, "lam", allow_zero=True)
        check_positive_int(self.n_sample, "n_sample", minimum=2)
        if self.mmd_mode not in ("aggregate", "per_point"):
            raise ValueError(f"mmd_mode must be 'aggregate' or 'per_point', got {self.mmd_mode!r}")
        if self.mmd_mode == "per_point" and self.deterministic:
            raise ValueError("mmd_mode='per_point' compares draws of q(z|x) and needs a "
                             "stochastic encoder; got deterministic=True")
        self._kernel = self._make_kernel()
        self._prior = self._make_prior()

    def _make_kernel(self):
        if isinstance(self.kernel, (Kernel, dict)):
            if self.kernel_scale is not None:
                raise ValueError("kernel_scale applies to kernel='gaussian' or 'imq' only; a Kernel "
                                 f"carries its own scales, got kernel_scale={self.kernel_scale!r}")
            return self.kernel if isinstance(self.kernel, Kernel) else Kernel.from_dict(self.kernel)
        if self.kernel == "gaussian":
            gamma = 1.0 / (2.0 * self.n_latent) if self.kernel_scale is None else self.kernel_scale
            return gaussian_kernel(gamma=check_positive(gamma, "kernel_scale"))
        if self.kernel == "imq":
            if self.kernel_scale is None:
                return imq_multiscale(self.n_latent)
            return imq_kernel(C=check_positive(self.kernel_scale, "kernel_scale"))
        raise ValueError(f"kernel must be 'gaussian', 'imq' or a Kernel, got {self.kernel!r}")

    def _make_prior(self):
        prior = self.prior
        if prior is None:
            prior = StandardNormal(self.n_latent)
        elif isinstance(prior, dict):
            prior = prior_from_config(prior)
        if not callable(getattr(prior, "sample", None)):
            raise TypeError(f"prior must have a sample(n, random_state) method, got {type(prior).__name__}")
        dim = getattr(prior, "dim", self.n_latent)
        if dim != self.n_latent:
            raise ValueError(f"prior has dimension {dim}, but n_latent is {self.n_latent}")
        return prior

    def _begin_epoch(self, epoch, X, rng):
        pass

    # ------------------------------------------------------------------ objective
    def _draw_noise(self, X, rng):
        n, nz, dt = X.shape[0], self.n_latent, self._dtype
        if self.deterministic:
            eps = np.zeros((1, n, nz), dtype=dt)
        else:
            eps = rng.standard_normal((1, n, nz), dtype=dt)
        noise = {"eps": eps}
        if self.mmd_mode == "aggregate":
            noise["prior"] = self._sample_prior(n, rng)
        else:
            noise["eps_mmd"] = rng.standard_normal((self.n_sample, n, nz), dtype=dt)
            noise["prior"] = self._sample_prior(n * self.n_sample, rng).reshape(n, self.n_sample, nz)
        return noise

    def _regularizer(self, mu, log_sigma, z, noise):
        """λ·MMD² (2.38) and its gradients, in the chosen mode (see the class docstring)."""
        lam, n = self.lam, mu.shape[0]
        if self.mmd_mode == "aggregate":
            zq = z.reshape(-1, self.n_latent)
            if zq.shape[0] < 2 and self.unbiased:
                return 0.0, 0.0, 0.0, None
            value, grad_z = mmd_and_grad(zq, noise["prior"], self._kernel, self.unbiased, wrt="X")
            return lam * value, 0.0, 0.0, (lam * grad_z).reshape(z.shape)
        # Thesis variant: one MMD per data point between its n_sample posterior draws
        # and n_sample prior draws; z_is = mu_i + σ_i ε_is, so the gradients flow to
        # mu_i (slope 1) and log_sigma_i (slope σ_i ε_is).
        eps = noise["eps_mmd"]
        sigma = np.exp(log_sigma)
        total = 0.0
        d_mu = np.zeros_like(mu)
        d_log_sigma = np.zeros_like(mu)
        for i in range(n):
            z_i = mu[i] + sigma[i] * eps[:, i]
            value, grad_z = mmd_and_grad(z_i, noise["prior"][i], self._kernel, self.unbiased, wrt="X")
            total += value
            d_mu[i] = grad_z.sum(axis=0)
            d_log_sigma[i] = (grad_z * eps[:, i]).sum(axis=0) * sigma[i]
        return lam * total / n, (lam / n) * d_mu, (lam / n) * d_log_sigma, None

    def elbo(self, X, n_samples=1, random_state=None):
        raise AttributeError("a WAE has no ELBO: it is not trained as a likelihood model")

    def log_likelihood(self, X, n_importance=100, random_state=None, batch_size=None):
        raise AttributeError("a WAE has no likelihood estimate: its aggregate posterior, "
                             "not q(z|x), is matched to the prior")

    def score_samples(self, X, n_samples=1, random_state=None):
        """Minus the reconstruction loss −ln p(x | z = μ(x)): higher means more typical."""
        X = self._validate_X(X)
        mu = self._encode(X)[0]
        return -self._nll(X, self.modules_["decoder"].forward(mu)[0])[0]

    def _sample_prior(self, n, rng):
        z = np.asarray(self._prior.sample(n, rng), dtype=self._dtype)
        # A user-supplied prior may have no ``dim`` to check in advance.
        if z.shape != (n, self.n_latent):
            raise ValueError(f"prior.sample({n}, rng) must return shape {(n, self.n_latent)}, "
                             f"got {z.shape}")
        return z

    def reconstruct(self, X, sample_z=False, random_state=None):
        """Decode μ(x) (or, with ``sample_z`` and a stochastic encoder, one z ~ q(z|x))."""
        return super().reconstruct(X, sample_z=sample_z and not self.deterministic,
                                   random_state=random_state)

    def _after_load(self):
        # The file stores the prior and a Kernel as dicts; give them back as objects.
        if isinstance(self.prior, dict):
            self.prior = self._prior
        if isinstance(self.kernel, dict):
            self.kernel = self._kernel

    def _config(self):
        config = super()._config()
        if self.prior is not None and not isinstance(self.prior, dict):
            if not hasattr(self.prior, "get_config"):
                raise TypeError(f"cannot save a WAE whose prior {type(self.prior).__name__} has no get_config()")
            config["prior"] = self.prior.get_config()
        if isinstance(self.kernel, Kernel):
            config["kernel"] = self.kernel.to_dict()
        return config

