"""The variational autoencoder (docs/equations.md (2.25)-(2.33); Kingma & Welling 2014).

The network is the thesis's, shared with the WAE (:mod:`minivae.models._gaussian`):
an encoder trunk with ``mu`` and ``log_sigma`` heads and a mirrored decoder. One
training step on a minibatch of n rows, written out in :meth:`VAE.step`:

    mu, log_sigma = encoder(x)                                  (2.26)
    z = mu + exp(log_sigma) ⊙ ε,   ε ~ N(0, I)                  (2.32)
    loss = (1/n) Σ_n [ −ln p(x_n | z_n) + β KL(q(z|x_n) ‖ N(0, I)) ]   (2.25, 2.31, 2.33)
"""

import numpy as np
from scipy.special import logsumexp

from .._validation import check_positive_int, check_random_state
from ..losses import kl_standard_normal, log_normal_from_eps, reparametrise, reparametrise_backward
from ..priors import StandardNormal
from ._base import allow_overflow, check_n_mc, warmup_beta
from ._gaussian import GaussianLatentModel

__all__ = ["VAE"]


class VAE(GaussianLatentModel):
    """Variational autoencoder with a Gaussian, Bernoulli or categorical decoder ((2.25)-(2.33) in docs/equations.md).

    Parameters
    ----------
    n_latent : int
        nz, the dimension of z.
    hidden_sizes : int or sequence of int
        nh: widths of the encoder trunk; the decoder mirrors them. At least one.
    activation : str
        Hidden activation: the thesis uses ``"swish"`` on toy data and
        ``"sigmoid"`` on real data (``"swish_beta"`` learns β).
    likelihood : {"gaussian", "bernoulli", "categorical"}
        p(x|z): N(f(z), ω² I) (2.28), Bernoulli(σ(f(z))) for data in [0, 1],
        or categorical: the n_features = P·C columns are P positions of
        C = ``n_categories`` one-hot entries (a sentence of P words from a
        vocabulary of C), p(x|z) = Π_p softmax(f_p(z))[x_p]
        (:func:`minivae.losses.categorical_nll`; Bowman et al. 2016). ``fit``
        and the scores refuse data that is not one-hot groups (ValueError
        naming the first bad row); ``decode``, ``reconstruct`` and ``sample``
        return each position's probabilities.
    sigma2 : float
        ω², the fixed decoder variance of the Gaussian likelihood. The thesis
        minimises ``0.5·Σ(x − f(z))² + ω²·KL``, which is ω² times the negative
        ELBO this class minimises: same optimum, so ``sigma2=300`` means what
        the thesis's "ω² = 300" means. Small ω² favours reconstruction, large ω²
        the prior.
    n_categories : int or None
        C, the group width of the categorical likelihood (at least 2);
        needed with ``likelihood="categorical"``, ignored otherwise.
    n_mc : int
        Draws of ε per data point in each training step. ``fit`` refuses
        (ValueError, naming the size) an n_mc whose step would hold more than
        1 GiB: about 8 arrays of n_mc·batch_size rows by the widest layer.
    kl_warmup : int
        Epochs over which the KL weight β rises linearly from 0 to 1 (0: β = 1
        throughout), against posterior collapse (Bowman et al. 2016; Sønderby
        et al. 2016).
    lr, batch_size, n_epochs, clip_norm, dtype, random_state, verbose, early_stopping, validation_fraction, n_iter_no_change :
        As for :class:`minivae.models.Autoencoder`.

    Attributes
    ----------
    params_ : dict
        ``encoder.*``, ``mu.W``, ``mu.b``, ``log_sigma.W``, ``log_sigma.b``, ``decoder.*``.
    prior_ : minivae.priors.StandardNormal
        p(z) = N(0, I) (2.27): what ``sample`` draws from and ``log_likelihood`` evaluates.
    history_ : dict
        Per epoch: ``loss`` (the negative ELBO when β = 1), ``reconstruction``
        (−E_q ln p(x|z)) and ``kl``.

    Notes
    -----
    ``log_sigma`` is the log of the *standard deviation*:
    z = mu + exp(log_sigma)·ε, and the KL (2.31) uses σ² = exp(2·log_sigma).
    The encoder's log σ is clamped to [−30, 30] (see
    :data:`minivae.models._gaussian.LOG_SIGMA_MIN`), so every score is finite.
    The objective is written out in :meth:`step`.

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance weighted autoencoders. ICLR.
    Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R. & Bengio, S. (2016).
    Generating sentences from a continuous space. CoNLL.
    """

    _likelihoods = ("gaussian", "bernoulli", "categorical")

    def __init__(self, n_latent=2, hidden_sizes=(32,), activation="swish", likelihood="gaussian",
                 sigma2=1.0, n_mc=1, kl_warmup=0, lr=1e-3, batch_size=100, n_epochs=100,
                 clip_norm=None, dtype="float64", random_state=None, verbose=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 n_categories=None):
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
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_categories = n_categories

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        super()._check_params()
        check_positive_int(self.kl_warmup, "kl_warmup", minimum=0)
        if self.likelihood == "categorical":
            check_positive_int(self.n_categories, "n_categories", minimum=2)

    def _set_up(self):
        super()._set_up()
        self.prior_ = StandardNormal(self.n_latent)

    def init_state(self, X):
        return {"beta": warmup_beta(0, self.kl_warmup)}

    def _begin_epoch(self, epoch, X, state, rng):
        return {**state, "beta": warmup_beta(epoch, self.kl_warmup)}

    def _end_fit(self, X, state):
        self._warn_if_collapsed(X)

    def _draw_noise(self, X, rng):
        return {"eps": rng.standard_normal((self.n_mc, X.shape[0], self.n_latent), dtype=self._dtype)}

    # ------------------------------------------------------------------ objective
    def step(self, X, noise, state, grads):
        """The negative ELBO on the minibatch ``X`` with KL weight β; adds its gradient into ``grads``.

        loss = (1/n) Σ_n [ (1/L) Σ_l −ln p(x_n | z_nl) + β KL(q(z|x_n) ‖ N(0, I)) ],
        z_nl = μ_n + σ_n ε_nl: (2.25) with (2.31)-(2.33). β = ``state["beta"]``
        (the KL warm-up weight; 1 is the ELBO itself).

        Parameters
        ----------
        X : ndarray, shape (n, n_features)
        noise : dict
            ``eps`` of shape (L, n, n_latent), from :meth:`draw_noise`.
        state : dict
            ``beta``.
        grads : dict
            Gradient arrays by network (``grads["decoder"]["0.W"]``...), added into.

        Returns
        -------
        loss : float
        terms : dict
            ``reconstruction`` = (1/nL) Σ −ln p(x|z) and ``kl`` = (1/n) Σ KL.
        """
        n, beta, eps = X.shape[0], state["beta"], noise["eps"]
        L = eps.shape[0]
        decoder = self.modules_["decoder"]
        mu, log_sigma, enc = self._encode(X)                                   # (2.26)
        z = reparametrise(mu, log_sigma, eps)                                  # (2.32), (L, n, nz)
        x_hat, dec = decoder.forward(z.reshape(L * n, -1))
        nll, d_x_hat = self._nll(X, x_hat.reshape(L, n, -1))                   # (2.33), (L, n)
        kl, d_mu_kl, d_log_sigma_kl = kl_standard_normal(mu, log_sigma)        # (2.31), (n,)
        reconstruction, kl_mean = nll.sum() / (n * L), kl.sum() / n
        loss = reconstruction + beta * kl_mean
        d_z, _ = decoder.backward(d_x_hat.reshape(L * n, -1) / (n * L), dec, grads["decoder"])
        d_mu, d_log_sigma = reparametrise_backward(d_z.reshape(L, n, -1), log_sigma, eps)
        d_mu += (beta / n) * d_mu_kl
        d_log_sigma += (beta / n) * d_log_sigma_kl
        self._encode_backward(d_mu, d_log_sigma, enc, grads)
        return float(loss), {"reconstruction": float(reconstruction), "kl": float(kl_mean)}

    # ------------------------------------------------------------------ likelihood estimates
    def _kl(self, mu, log_sigma, eps):
        """KL(q(z|x) ‖ p(z)) per row, (n,): analytic (2.31) for the standard normal prior."""
        return kl_standard_normal(mu, log_sigma)[0]

    @allow_overflow
    def elbo(self, X, n_mc=1, random_state=0):
        """Per-row ELBO (2.10-2.11): (1/L) Σ_l ln p(x | z_l) − KL(q(z|x) ‖ p(z)), L = ``n_mc``.

        Every row uses the same L draws of ε, so a row's value does not depend
        on the other rows. Returns an array of shape (n_samples,).
        """
        X = self._validate_X(X, scored=True)
        L = check_n_mc(n_mc, self.n_latent, self._dtype)
        eps = self._shared_eps(L, check_random_state(random_state))
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, mu, log_sigma in self._blocks(X, L):
            # Summed chunk by chunk: only ε is held for all L draws.
            nll = sum(self._decode_nll(xb, reparametrise(mu, log_sigma, eps[draws])).sum(axis=0)
                      for draws in self._draw_chunks(L))
            elbo = -(nll / L) - self._kl(mu, log_sigma, eps)
            out[rows] = elbo[:rows.stop - rows.start]
        return out

    def _log_weights(self, X, mu, log_sigma, eps):
        """ln p(x|z) + ln p(z) − ln q(z|x) for each draw, (L, n), with ln q written from ε."""
        z = reparametrise(mu, log_sigma, eps)
        return -self._decode_nll(X, z) + self.prior_.log_prob(z) - log_normal_from_eps(eps, log_sigma)

    @allow_overflow
    def log_likelihood(self, X, n_mc=100, random_state=0, rows_per_block=None):
        """Importance-weighted estimate of ln p(x) per row (Burda et al. 2016).

        ln p(x) ≈ ln (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x),  z_k ~ q(z|x),  K = ``n_mc``.

        A lower bound in expectation that tightens as K grows; K = 1 is the
        ELBO. The K draws of ε are shared by every row, and the networks run on
        blocks of a fixed number of rows, so a row's value is bit-identical
        (float64 models; float32: to rounding) alone or among others,
        whatever ``rows_per_block`` (rows evaluated at once, rounded up to a
        multiple of 64; default: about 4·10⁶ floats of work, at most 256
        rows, since a short X is padded to a whole block).

        Returns
        -------
        ndarray, shape (n_samples,)

        Raises
        ------
        ValueError
            If n_mc is not an int >= 1, or its K·n_latent values of ε, held
            at once, would take more than 1 GiB (as in every Monte-Carlo score
            of the models). Everything else runs on chunks of the draws, a few
            million floats at a time, so any K below that fits in memory.
        """
        X = self._validate_X(X, scored=True)
        K = check_n_mc(n_mc, self.n_latent, self._dtype)
        eps = self._shared_eps(K, check_random_state(random_state))
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, mu, log_sigma in self._blocks(X, K, rows_per_block):
            # ln Σ_k w_k chunk by chunk, added up as it goes (ln(e^a + e^b) = logaddexp(a, b)):
            # only ε is held for all K draws (the (K, rows) log-weights took 3 GB at K = 10⁶).
            total = None
            for draws in self._draw_chunks(K):
                chunk = logsumexp(self._log_weights(xb, mu, log_sigma, eps[draws]), axis=0)
                total = chunk if total is None else np.logaddexp(total, chunk)
            out[rows] = (total - np.log(K))[:rows.stop - rows.start]
        return out

    def score_samples(self, X, n_mc=100, random_state=0):
        """ln p(x) estimated by importance sampling (:meth:`log_likelihood`): higher means more typical."""
        return self.log_likelihood(X, n_mc=n_mc, random_state=random_state)
