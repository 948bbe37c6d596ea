"""The part the VAE, the WAE and their extensions share: a Gaussian encoder q(z|x) and a decoder.

The network is the thesis's (docs/equations.md, (2.26)-(2.28)):

    encoder trunk  h = A(x)                      (any list of hidden sizes)
    heads          mu = Dense(h),  log_sigma = Dense(h)   q(z|x) = N(mu, diag σ²)
    decoder        f(z) = Chain(Dense(z, h, act), ..., Dense(h, nx))

and everything that needs only these two maps lives here once: encoding,
decoding, reconstruction, sampling from the model's prior object, and the
reconstruction-probability score (3.1). What makes the VAE a VAE (the KL
term) and the WAE a WAE (the MMD term) is each one's ``step``.

Scores are row-independent: every row of one call sees the *same* L draws of
ε (an array of shape (L, 1, n_latent) broadcast over the rows), and the
networks run on blocks of a fixed number of rows (the last one padded), so a
row's score is bit-identical whether it is scored alone or with others, and
whatever the block size. That holds for float64 models; for float32 ones
OpenBLAS's single-precision product gives a row different last bits at
different positions in a block, so a row alone agrees to float32 rounding
(~1e-7 relative), not bit for bit.
"""

import warnings

import numpy as np
from scipy.special import softmax

from .._validation import (
    check_array,
    check_flag,
    check_hidden_sizes,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_random_state,
)
from ..losses import bernoulli_nll, categorical_nll, gaussian_nll, reparametrise
from ..nn import MLP, Dense, get_activation, sigmoid
from ._base import (BLOCK_ROWS, MAX_BLOCK_ROWS, MAX_EPS_BYTES, BaseModel, allow_overflow, check_n_mc,
                    row_blocks)

__all__ = ["GaussianLatentModel", "LOG_SIGMA_MIN", "LOG_SIGMA_MAX"]

# The encoder's log σ is clamped to this range (σ from 9e-14 to 1e13). Beyond
# it z = μ + σε either rounds to μ (the ε term vanishes below μ's last bit) or
# overflows the decoder; inside it every score stays finite. Many VAE codes
# bound the log-variance the same way. The clamp passes no gradient outside.
LOG_SIGMA_MIN, LOG_SIGMA_MAX = -30.0, 30.0

# Memory budget of the Monte-Carlo scores: about this many floats per block
# (blocks of rows: see row_blocks in _base.py).
_BLOCK_FLOATS = 4_000_000
# Arrays of n_mc·batch rows by the widest layer a training step holds at once (measured
# 7-8: the layers' caches and their gradients), for the fit's memory check.
_STEP_ARRAYS = 8


def _check_one_hot(X, n_categories):
    """Refuse X unless every row is groups of ``n_categories`` entries, each group one-hot."""
    if X.shape[1] % n_categories:
        raise ValueError(f"likelihood='categorical' with n_categories={n_categories} needs a "
                         f"multiple of {n_categories} features, got {X.shape[1]}")
    groups = X.reshape(X.shape[0], -1, n_categories)
    bad = ~(((groups == 0) | (groups == 1)).all(axis=-1) & (groups.sum(axis=-1) == 1))
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        pos = int(np.argmax(bad[row]))
        raise ValueError(f"likelihood='categorical' needs one-hot groups of n_categories={n_categories} "
                         f"entries (0 or 1, exactly one 1 per group); row {row} is not: its group "
                         f"{pos} (columns {pos * n_categories}-{(pos + 1) * n_categories - 1}) is "
                         f"{groups[row, pos].tolist()}")


class GaussianLatentModel(BaseModel):
    """Shared base of the models with a Gaussian latent q(z|x) = N(μ(x), diag σ(x)²).

    Subclasses set the constructor arguments ``n_latent``, ``hidden_sizes``,
    ``activation``, ``likelihood``, ``sigma2`` and ``n_mc`` and implement
    ``step``; see :class:`minivae.models.VAE` for their meaning.
    """

    _likelihoods = ("gaussian", "bernoulli")

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        check_positive_int(self.n_latent, "n_latent")
        if not check_hidden_sizes(self.hidden_sizes):
            raise ValueError("hidden_sizes must name at least one hidden layer, got ()")
        get_activation(self.activation)
        if self.likelihood not in self._likelihoods:
            names = " or ".join(repr(k) for k in self._likelihoods if k != "categorical")
            also = (" (or 'categorical' with n_categories, for one-hot data)"
                    if "categorical" in self._likelihoods else "")
            raise ValueError(f"likelihood must be {names}, got {self.likelihood!r}{also}")
        check_positive(self.sigma2, "sigma2")
        check_positive_int(self.n_mc, "n_mc")

    def _check_fit_size(self, shape):
        """Refuse a training step that would hold more than 1 GiB, before any work.

        A step holds about ``_STEP_ARRAYS`` arrays of n_mc·batch rows by the
        widest layer (times the K networks of an EMVAE): measured 7-8 at
        16-wide networks. ``VAE(n_mc=10**7).fit(X)`` drew a (10⁷, 100,
        n_latent) ε of 15 GiB and then failed in the forward pass, or woke the
        out-of-memory killer; it is bounded by the same 1 GiB as the scores' ε.
        """
        self._check_common()
        self._check_params()
        batch = min(self.batch_size, shape[0])
        width = max(shape[1], self.n_latent, *check_hidden_sizes(self.hidden_sizes))
        stacked = getattr(self, "n_components", 1)
        per_draw = _STEP_ARRAYS * batch * width * stacked * np.dtype(self.dtype).itemsize
        if self.n_mc * per_draw > MAX_EPS_BYTES:
            networks = f" for each of {stacked} networks" if stacked > 1 else ""
            raise ValueError(
                f"n_mc={self.n_mc} draws for each of the {batch} rows of a batch would make a "
                f"training step hold about {self.n_mc * per_draw / 2**30:.1f} GiB ({_STEP_ARRAYS} arrays "
                f"of {self.n_mc} x {batch} rows x {width} {np.dtype(self.dtype).name} values{networks}); "
                f"at most n_mc={MAX_EPS_BYTES // per_draw} fits in 1 GiB: lower n_mc or batch_size")

    def _set_up(self):
        super()._set_up()
        self._hidden = check_hidden_sizes(self.hidden_sizes)

    def _make_modules(self, X):
        hidden, nz, act = self._hidden, self.n_latent, self.activation
        return {
            "encoder": MLP([X.shape[1], *hidden], act, act),
            "mu": Dense(hidden[-1], nz),
            "log_sigma": Dense(hidden[-1], nz),
            "decoder": MLP([nz, *hidden[::-1], X.shape[1]], act, "identity"),
        }

    def _init_params(self, X, rng):
        # Start every q(z|x) with unit variance: Glorot weights on the log_sigma head
        # can put log σ at ±10 or more on raw data, i.e. a KL term of 1e8 that some
        # runs never recover from. The head still learns, as ∂L/∂W = δᵀh ≠ 0.
        self.params_["log_sigma.W"][...] = 0.0

    def _check_data(self, X):
        super()._check_data(X)
        if self.likelihood == "categorical" and "categorical" in self._likelihoods:
            # fit checks the data before the hyperparameters: n_categories first.
            _check_one_hot(X, check_positive_int(self.n_categories, "n_categories", minimum=2))

    def _warn_if_collapsed(self, X):
        """Warn when no latent unit is active after fit (posterior collapse).

        A unit u is active when Var_x(E_q[z_u | x]) > 0.01 (Burda et al. 2016),
        estimated on up to 2,000 training rows.
        """
        mu = self._encode(X[:2000])[0]
        if X.shape[0] > 1 and not np.any(mu.var(axis=0) > 0.01):
            scale = float(np.mean(X.var(axis=0)))
            warnings.warn(
                f"{type(self).__name__}: the posterior collapsed, no latent unit is active "
                f"(Var_x of every posterior mean <= 0.01). The usual cause is sigma2 = "
                f"{self.sigma2} being large next to the data's scale (mean feature variance "
                f"{scale:.3g}): lower sigma2, standardise X, or use kl_warmup.",
                UserWarning, stacklevel=4)   # points at the caller of fit()

    # ------------------------------------------------------------------ building blocks
    def _encode(self, X):
        """Forward through the encoder: ``(mu, log_sigma, caches)``, log σ clamped (see LOG_SIGMA_MIN)."""
        h, trunk = self.modules_["encoder"].forward(X)
        mu, mu_cache = self.modules_["mu"].forward(h)
        raw, ls_cache = self.modules_["log_sigma"].forward(h)
        log_sigma = np.clip(raw, LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        return mu, log_sigma, (trunk, mu_cache, ls_cache, raw)

    def _encode_backward(self, d_mu, d_log_sigma, caches, grads, need_dx=False):
        """Backward through the encoder, adding into ``grads``; returns ∂L/∂x if ``need_dx``."""
        trunk, mu_cache, ls_cache, raw = caches
        d_raw = np.where((raw > LOG_SIGMA_MIN) & (raw < LOG_SIGMA_MAX), d_log_sigma, 0.0)
        d_h, _ = self.modules_["mu"].backward(d_mu, mu_cache, grads["mu"])
        d_h2, _ = self.modules_["log_sigma"].backward(d_raw, ls_cache, grads["log_sigma"])
        d_h += d_h2
        return self.modules_["encoder"].backward(d_h, trunk, grads["encoder"], need_dx=need_dx)[0]

    def _nll(self, X, out):
        """−ln p(x | z) per sample (2.33), with its normalising constant, and ∂/∂f(z)."""
        if self.likelihood == "gaussian":
            return gaussian_nll(X, out, self.sigma2, include_constant=True)
        if self.likelihood == "categorical":
            return categorical_nll(X, out, self.n_categories)
        return bernoulli_nll(X, out)

    def _decode_nll(self, X, z):
        """−ln p(x | z) for z of shape (L, n, n_latent): returns (L, n)."""
        L, n = z.shape[:2]
        out = self.modules_["decoder"].forward(z.reshape(L * n, -1))[0]
        return self._nll(X, out.reshape(L, n, -1))[0]

    def _shared_eps(self, n_mc, rng):
        """L draws of ε shared by every row of a call: shape (L, 1, n_latent)."""
        return rng.standard_normal((n_mc, 1, self.n_latent), dtype=self._dtype)

    def _blocks(self, X, n_mc, rows_per_block=None):
        """The rows of X in blocks of a fixed size (a multiple of 64 rows), each encoded.

        Yields ``(rows, X_block, mu, log_sigma)``: ``rows`` is the slice of X
        the block holds; the last block is padded with zero rows to the same
        size, so a caller keeps the first ``rows.stop - rows.start`` values.
        """
        for rows, xb in row_blocks(X, self._rows_per_block(n_mc, rows_per_block)):
            mu, log_sigma, _ = self._encode(xb)
            yield rows, xb, mu, log_sigma

    def _draw_chunks(self, n_mc, n_stacked=1):
        """Slices of the n_mc draws such that one chunk of a block of ``MAX_BLOCK_ROWS`` rows
        (of ``n_stacked`` stacked networks) holds about 4·10⁶ floats.

        The partition depends only on n_mc and the network, never on the data or
        on the block size, so that a score reduced chunk by chunk (a sum, a
        log-sum-exp) is the same whatever ``rows_per_block``.
        """
        per_draw = n_stacked * MAX_BLOCK_ROWS * max(self.n_features_in_, self.n_latent, *self._hidden)
        step = max(1, _BLOCK_FLOATS // per_draw)
        return [slice(k, min(k + step, n_mc)) for k in range(0, n_mc, step)]

    def _rows_per_block(self, n_mc, rows_per_block):
        """Rows per block: from the memory budget (at most 256), or ``rows_per_block``; a multiple of 64."""
        if rows_per_block is None:
            width = max(self.n_features_in_, self.n_latent, *self._hidden)
            rows = min(max(1, _BLOCK_FLOATS // (n_mc * width)), MAX_BLOCK_ROWS)
        else:
            rows = check_positive_int(rows_per_block, "rows_per_block")
        return -(-rows // BLOCK_ROWS) * BLOCK_ROWS

    # ------------------------------------------------------------------ inference
    def encode(self, X):
        """Parameters of q(z|x) (2.26): ``(mu, log_sigma)``, each (n_samples, n_latent); log σ is the log std."""
        X = self._validate_X(X)
        mu, log_sigma, _ = self._encode(X)
        return mu, log_sigma

    def transform(self, X):
        """The posterior mean μ(x) of each row, shape (n_samples, n_latent)."""
        return self.encode(X)[0]

    def _decode(self, Z):
        out = self.modules_["decoder"].forward(Z)[0]
        if self.likelihood == "categorical":
            groups = out.reshape(out.shape[0], -1, self.n_categories)
            return softmax(groups, axis=-1).reshape(out.shape)
        return sigmoid(out) if self.likelihood == "bernoulli" else out

    def decode(self, Z):
        """Decoder mean f(z) of N(f(z), ω²I) (2.28), Bernoulli probabilities σ(f(z)) or softmax probabilities, per row of Z.

        For a categorical decoder: the probabilities softmax(f_p(z)) of every
        position p, shape (n_samples, P·C), each group of C summing to 1
        (:func:`minivae.losses.categorical_argmax` picks the most likely).
        """
        check_is_fitted(self)
        Z = check_array(Z, name="Z", dtype=self._dtype, n_features=self.n_latent,
                        estimator=f"{type(self).__name__}'s latent space")
        return self._decode(Z)

    def reconstruct(self, X, sample_z=False, random_state=0):
        """Decode the posterior mean of each row, or with ``sample_z`` one draw z = μ + σε (2.32).

        With ``sample_z`` every row uses the same ε (row-independent results).
        """
        sample_z = check_flag(sample_z, "sample_z")
        mu, log_sigma = self.encode(X)
        if sample_z:
            eps = self._shared_eps(1, check_random_state(random_state))[0]
            mu = reparametrise(mu, log_sigma, eps)
        return self._decode(mu)

    def sample(self, n_samples=1, random_state=None, noise=False):
        """Generate new data: z ~ p(z) (the model's prior; N(0, I) (2.27) for the VAE), then the decoder mean f(z).

        With ``noise=True`` the observation noise is added too: x ~ N(f(z), ω² I)
        for the Gaussian decoder, x ~ Bernoulli(σ(f(z))) for the Bernoulli one,
        and one one-hot draw per position for the categorical one.
        Returns an array of shape (n_samples, n_features).
        """
        check_is_fitted(self)
        n_samples = check_positive_int(n_samples, "n_samples")
        noise = check_flag(noise, "noise")
        rng = check_random_state(random_state)
        x = self._decode(self._sample_prior(n_samples, rng))
        return self._observation_noise(x, rng) if noise else x

    def _observation_noise(self, x, rng):
        """A draw of p(x | z) given its mean or probabilities ``x`` (n, n_features) from the decoder."""
        if self.likelihood == "gaussian":
            # A Python float: a NumPy float64 scalar would turn a float32 sample into float64.
            return x + float(np.sqrt(self.sigma2)) * rng.standard_normal(x.shape, dtype=self._dtype)
        if self.likelihood == "categorical":
            # Inverse CDF per position: the first class whose cumulative probability exceeds u.
            cdf = x.reshape(x.shape[0], -1, self.n_categories).cumsum(axis=-1)
            u = rng.random((*cdf.shape[:2], 1))
            k = np.minimum((cdf < u).sum(axis=-1), self.n_categories - 1)
            return np.eye(self.n_categories, dtype=self._dtype)[k].reshape(x.shape)
        return (rng.random(x.shape) < x).astype(self._dtype)

    def _sample_prior(self, n, rng):
        z = np.asarray(self.prior_.sample(n, rng), dtype=self._dtype)
        # A user-supplied prior may have no ``dim`` to check in advance.
        if z.shape != (n, self.n_latent):
            raise ValueError(f"prior.sample({n}, rng) must return shape {(n, self.n_latent)}, "
                             f"got {z.shape}")
        return z

    @allow_overflow
    def reconstruction_error(self, X, n_mc=1, random_state=0):
        """Reconstruction-probability score (3.1): (1/L) Σ_l ‖x − f(z_l)‖², z_l ~ q(z|x).

        Higher means more anomalous (An & Cho 2015). f(z) is the decoder mean
        (Bernoulli probabilities for a Bernoulli decoder). The L = ``n_mc``
        draws of ε are shared by all rows, so a row's score does not depend on
        the other rows, and the same ``random_state`` gives the same scores.

        Returns
        -------
        ndarray, shape (n_samples,)
        """
        X = self._validate_X(X, scored=True)
        L = check_n_mc(n_mc, self.n_latent, self._dtype)
        eps = self._shared_eps(L, check_random_state(random_state))
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, mu, log_sigma in self._blocks(X, L):
            err = np.zeros(xb.shape[0])
            for draws in self._draw_chunks(L):
                z = reparametrise(mu, log_sigma, eps[draws])
                x_hat = self._decode(z.reshape(-1, self.n_latent)).reshape(z.shape[0], xb.shape[0], -1)
                r = x_hat - xb
                err += np.einsum("lnd,lnd->n", r, r)
            out[rows] = err[:rows.stop - rows.start] / L
        return out
