"""The Wasserstein autoencoder with an MMD penalty ((2.37)-(2.39) in docs/equations.md; Tolstikhin et al. 2018).

Same encoder and decoder as the VAE; the KL term is replaced by

    λ · MMD²_k(Q_Z, P_Z)                                           (2.37-2.38)

between encoder samples and samples of the prior P_Z, which can be anything
that can be sampled (a Gaussian mixture, say). One training step:

    mu, log_sigma = encoder(x);  z = mu + exp(log_sigma) ⊙ ε        (2.32)
    z̃ ~ P_Z                                                         (prior samples)
    loss = (1/n) Σ_n −ln p(x_n | z_n) + λ MMD²(z, z̃)                (2.39)

with ∂MMD²/∂z from the compiled kernel in :mod:`minivae.mmd`, written out in
:meth:`WAE.step`.
"""

import numpy as np

from .._validation import check_flag, check_positive
from ..mmd import (
    Kernel,
    gaussian_kernel,
    imq_kernel,
    imq_multiscale,
    mmd_and_grad,
    mmd_per_point_and_grad,
)
from ..losses import reparametrise, reparametrise_backward
from ..priors import StandardNormal, prior_from_config
from ._base import allow_overflow
from ._gaussian import GaussianLatentModel

__all__ = ["WAE"]

# fit refuses a step whose MMD² would visit more pairs of samples than this
# (a few seconds per step on one core).
MAX_MMD_PAIRS = 10**9


class WAE(GaussianLatentModel):
    """Wasserstein autoencoder, WAE-MMD (Tolstikhin et al. 2018; thesis §2.3).

    Parameters
    ----------
    n_latent, hidden_sizes, activation, likelihood, sigma2 :
        As for :class:`VAE`; the reconstruction term is the same −ln p(x|z).
    kernel : str or minivae.mmd.Kernel
        ``"gaussian"`` (IPMeasures' exp(−γ‖x−y‖²)), ``"imq"`` (C/(C + ‖x−y‖²)), or
        a ``Kernel`` from :func:`minivae.mmd.gaussian_kernel` (γ or bandwidth h,
        γ = 1/(2h²)), :func:`~minivae.mmd.imq_kernel` or
        :func:`~minivae.mmd.imq_multiscale`.
    kernel_scale : float or None
        γ of the Gaussian kernel or C of the IMQ kernel, for a string
        ``kernel`` only (a ``Kernel`` carries its own scales). None picks the
        WAE paper's default: C = 2·d_z (σ_z = 1) summed over the scales
        {0.1, 0.2, 0.5, 1, 2, 5, 10} for IMQ, γ = 1/(2·d_z) for the Gaussian.
        The thesis used γ = 0.01 and C = 1 on KDD (thesis §3.3).
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
        costs n·n_mc² kernel evaluations per step.
    n_mc : int
        Draws of ε per data point. In ``"aggregate"`` mode all n·n_mc draws
        enter both terms (the reconstruction is averaged over them). In
        ``"per_point"`` mode each x's n_mc draws are compared with n_mc prior
        draws (thesis: 1,000 in 1-D, 200 in 2-D; at least 2), and the
        reconstruction term uses the first draw of each x, one decoder pass
        per point as in the thesis's code. The MMD² of a step visits every
        pair of its samples: ``fit`` refuses (ValueError) n_mc and
        batch_size giving more than 10⁹ pairs per step.
    deterministic : bool
        Use z = μ(x) (a deterministic encoder, as in the WAE paper's
        experiments); the log_sigma head then receives no gradient, and
        ``reconstruct(X, sample_z=True)`` decodes μ(x) too.
    unbiased : bool
        U-statistic (default, as IPMeasures and the WAE code) or V-statistic MMD².
    lr, batch_size, n_epochs, clip_norm, dtype, random_state, verbose, early_stopping, validation_fraction, n_iter_no_change :
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

    with the MMD² estimator of (2.38) from :func:`minivae.mmd.mmd` and
    its gradient with respect to the z_n pushed back through the
    reparametrisation z = μ + σ ⊙ ε. With the unbiased estimator a batch of a
    single row has no within-sample pair, so its MMD term is skipped (only
    the final, partial batch of an epoch can be that small).

    A WAE has no ELBO and no likelihood estimate (it has no ``elbo`` or
    ``log_likelihood``); ``score_samples`` is minus the reconstruction loss at
    z = μ(x).

    References
    ----------
    Tolstikhin, I., Bousquet, O., Gelly, S. & Schölkopf, B. (2018). Wasserstein
    auto-encoders. ICLR.
    Gretton, A. et al. (2012). A kernel two-sample test. JMLR 13.
    """

    def __init__(self, n_latent=2, hidden_sizes=(32,), activation="swish", likelihood="gaussian",
                 sigma2=1.0, kernel="gaussian", kernel_scale=None, lam=1.0, prior=None,
                 mmd_mode="aggregate", n_mc=1, deterministic=False, unbiased=True,
                 lr=1e-3, batch_size=100, n_epochs=100, clip_norm=None, dtype="float64",
                 random_state=None, verbose=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10):
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
        self.n_mc = n_mc
        self.deterministic = deterministic
        self.unbiased = unbiased
        self.lr = lr
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    def _check_params(self):
        super()._check_params()
        check_flag(self.deterministic, "deterministic")
        check_flag(self.unbiased, "unbiased")
        check_positive(self.lam, "lam", allow_zero=True)
        if self.mmd_mode not in ("aggregate", "per_point"):
            raise ValueError(f"mmd_mode must be 'aggregate' or 'per_point', got {self.mmd_mode!r}")
        if self.mmd_mode == "per_point" and self.deterministic:
            raise ValueError("mmd_mode='per_point' compares draws of q(z|x) and needs a "
                             "stochastic encoder; got deterministic=True")
        if self.mmd_mode == "per_point" and self.n_mc < 2:
            raise ValueError("mmd_mode='per_point' compares n_mc draws of each q(z|x) with n_mc "
                             f"prior draws and needs n_mc >= 2 (the thesis used 200), got {self.n_mc}")
        self._make_kernel()
        self._make_prior()

    def _check_fit_size(self, shape):
        """Also refuse, before any work, a step whose MMD² would sum over more than ``MAX_MMD_PAIRS`` pairs.

        The penalty (2.38) visits every pair of the step's samples, so its cost
        grows with the square of n_mc·batch_size: aggregate, (2·n_mc·batch)²/2
        pairs; per point, batch·(2·n_mc)²/2. At a few ns per pair,
        ``WAE(n_mc=10**4).fit`` at batch 100 (2·10¹² pairs) would run for hours
        per step without a word.
        """
        super()._check_fit_size(shape)
        batch = min(self.batch_size, shape[0])
        if self.mmd_mode == "aggregate":
            pairs = (2 * self.n_mc * batch) ** 2 // 2
        else:
            pairs = batch * (2 * self.n_mc) ** 2 // 2
        if pairs > MAX_MMD_PAIRS:
            raise ValueError(
                f"n_mc={self.n_mc} with {batch} rows per batch makes each training step's MMD² "
                f"({self.mmd_mode}) sum over {pairs:.1e} pairs of samples, and its cost grows with "
                f"the square of n_mc·batch_size; at most {MAX_MMD_PAIRS:.0e} pairs (seconds per "
                f"step) are allowed: lower n_mc or batch_size")

    def _set_up(self):
        super()._set_up()
        self._kernel = self._make_kernel()
        self.prior_ = self._make_prior()

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

    # ------------------------------------------------------------------ objective
    def _shared_eps(self, n_mc, rng):
        # A deterministic encoder (z = μ) draws no ε: zeros keep every formula the same.
        if self.deterministic:
            return np.zeros((n_mc, 1, self.n_latent), dtype=self._dtype)
        return super()._shared_eps(n_mc, rng)

    def _draw_noise(self, X, rng):
        n, L, nz, dt = X.shape[0], self.n_mc, self.n_latent, self._dtype
        if self.deterministic:
            eps = np.zeros((L, n, nz), dtype=dt)
        else:
            eps = rng.standard_normal((L, n, nz), dtype=dt)
        if self.mmd_mode == "aggregate":
            prior = self._sample_prior(L * n, rng)
        else:
            prior = self._sample_prior(n * L, rng).reshape(n, L, nz)
        return {"eps": eps, "prior": prior}

    def step(self, X, noise, state, grads):
        """The WAE objective (2.37)-(2.39) on the minibatch ``X``; adds its gradient into ``grads``.

        aggregate:  (1/(nL)) Σ_{n,l} −ln p(x_n | z_nl) + λ MMD²({z_nl}, {z̃_m})
        per_point:  (1/n) Σ_n [ −ln p(x_n | z_n1) + λ MMD²({z_nl}_l, {z̃_nl}_l) ]

        with z_nl = μ_n + σ_n ε_nl (2.32), prior draws z̃ from ``noise["prior"]``
        and MMD² the estimator (2.38). The penalty's gradient ∂MMD²/∂z comes
        from the compiled kernel and is pushed back through (2.32) together
        with the decoder's.

        Returns
        -------
        loss : float
        terms : dict
            ``reconstruction`` and ``mmd`` (the penalty as it enters the loss, λ·MMD²).
        """
        n, lam, eps = X.shape[0], self.lam, noise["eps"]
        L, nz = eps.shape[0], self.n_latent
        decoder = self.modules_["decoder"]
        mu, log_sigma, enc = self._encode(X)                                   # (2.26)
        z = reparametrise(mu, log_sigma, eps)                                  # (2.32), (L, n, nz)
        # The reconstruction uses every draw (aggregate) or the first one (per_point).
        L_rec = L if self.mmd_mode == "aggregate" else 1
        x_hat, dec = decoder.forward(z[:L_rec].reshape(L_rec * n, nz))
        nll, d_x_hat = self._nll(X, x_hat.reshape(L_rec, n, -1))               # (2.33)
        reconstruction = nll.sum() / (n * L_rec)
        d_z = np.zeros_like(z)
        d_z_rec, _ = decoder.backward(d_x_hat.reshape(L_rec * n, -1) / (n * L_rec), dec,
                                      grads["decoder"])
        d_z[:L_rec] = d_z_rec.reshape(L_rec, n, nz)
        if self.mmd_mode == "aggregate":
            z_q = z.reshape(L * n, nz)
            if z_q.shape[0] < 2 and self.unbiased:
                # One draw has no within-sample pair: the U-statistic is undefined.
                penalty = 0.0
            else:
                mmd2, d_z_q = mmd_and_grad(z_q, noise["prior"], self._kernel, self.unbiased, wrt="X")  # (2.38)
                penalty = lam * mmd2
                d_z += lam * d_z_q.reshape(L, n, nz)
        else:
            # One MMD per point between its L posterior draws and L prior draws,
            # averaged over the batch (the thesis's (2.39)).
            mmd2, d_z_point = mmd_per_point_and_grad(np.ascontiguousarray(z.transpose(1, 0, 2)),
                                                     noise["prior"], self._kernel, self.unbiased)
            penalty = lam * mmd2.sum() / n
            d_z += (lam / n) * d_z_point.transpose(1, 0, 2)
        d_mu, d_log_sigma = reparametrise_backward(d_z, log_sigma, eps)
        self._encode_backward(d_mu, d_log_sigma, enc, grads)
        return float(reconstruction + penalty), {"reconstruction": float(reconstruction),
                                                 "mmd": float(penalty)}

    @allow_overflow
    def score_samples(self, X):
        """Minus the reconstruction loss −ln p(x | z = μ(x)) per row: higher means more typical.

        Returns an array of shape (n_samples,), float64 like every model's
        per-row scores, whatever the model's dtype. The networks run on the
        same padded blocks of rows as the Monte-Carlo scores, so a row's score
        is bit-identical alone or in a batch (float64; float32 to rounding).
        """
        X = self._validate_X(X, scored=True)
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, mu, _ in self._blocks(X, 1):
            nll = self._nll(xb, self.modules_["decoder"].forward(mu)[0])[0]
            out[rows] = -nll[:rows.stop - rows.start]
        return out

    def _after_load(self):
        # The file stores the prior and a Kernel as dicts; give them back as objects.
        if isinstance(self.prior, dict):
            self.prior = self.prior_
        if isinstance(self.kernel, dict):
            self.kernel = self._kernel
