"""Deterministic autoencoders: undercomplete, overcomplete, deep, sparse, denoising, contractive.

One class covers the whole family of the autoencoder thesis's §1.3 ([F 1.1]-[F 1.7] in docs/equations.md); the variants are
penalties and corruptions switched on by arguments, and they combine freely:

* undercomplete / overcomplete: ``n_latent`` smaller / larger than the input;
* deep: ``hidden_sizes`` adds layers to the encoder (and, mirrored, to the decoder);
* sparse [F 1.2-1.5]: ``sparsity_weight > 0`` adds β Σ_i KL(p ‖ p̂_i);
* denoising [F 1.6-1.7]: ``noise="gaussian"`` or ``"mask"`` trains on L(x, g(f(x̃)));
* contractive (Rifai et al. 2011): ``contractive_weight > 0`` adds λ ‖∂h/∂x‖_F².
"""

import numpy as np

from .._validation import (
    check_array,
    check_hidden_sizes,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_probability,
)
from ..losses import bernoulli_nll, contractive_penalty, gaussian_nll, sparsity_penalty
from ..nn import MLP, get_activation, sigmoid
from ._base import MAX_BLOCK_ROWS, BaseModel, allow_overflow, row_blocks

__all__ = ["Autoencoder"]


class Autoencoder(BaseModel):
    """Autoencoder h = f(x), r = g(h) trained on L(x, g(f(x))) [F 1.1].

    Parameters
    ----------
    n_latent : int
        Width of the code h.
    hidden_sizes : int or sequence of int
        Hidden widths of the encoder; the decoder mirrors them. ``()`` gives
        the shallow autoencoder x -> h -> x̂.
    activation : str
        Hidden-layer activation (``minivae.nn.ACTIVATIONS``).
    code_activation : str
        Activation of the code layer; ``"identity"`` with ``activation="identity"``
        is the linear autoencoder that learns the PCA subspace ([F §1.3.2]; Baldi & Hornik 1989).
        Sparse and contractive autoencoders need ``"sigmoid"``.
    likelihood : {"gaussian", "bernoulli"}
        Reconstruction loss per sample: ½ ‖x − x̂‖² (Gaussian NLL with ω² = 1,
        (2.33)), or the Bernoulli NLL of x ∈ [0, 1] with the decoder giving logits.
    sparsity, sparsity_weight : float
        Target activation p and weight β of the sparsity penalty [F 1.5]; 0 turns it off.
    noise : {None, "gaussian", "mask"}
        Corruption of the input for a denoising autoencoder [F 1.6]: add
        N(0, noise_level²) noise, or set each input to 0 with probability noise_level.
    noise_level : float
    contractive_weight : float
        λ of the contractive penalty (needs a one-layer sigmoid encoder); 0 turns it off.
    lr, batch_size, n_epochs, clip_norm :
        Adam learning rate, minibatch size, epochs, optional gradient-norm clip.
    dtype : {"float64", "float32"}
        Precision of the weights and of the arithmetic. Outputs in data or
        latent space (``transform``, ``reconstruct``, ``sample``) have this
        dtype; per-row scores (``score_samples``, ``reconstruction_error``,
        and a VAE's ``elbo`` and ``log_likelihood``) are always float64.
    random_state : None, int or numpy.random.Generator
        Drives initialisation, shuffling and corruption.
    verbose : bool or int
        Print progress to stderr during ``fit``.
    early_stopping, validation_fraction, n_iter_no_change :
        As scikit-learn's MLP names them: with ``early_stopping=True`` a
        random ``validation_fraction`` of the rows is held out, the full
        objective on it is recorded as ``history_["val_loss"]`` after every
        epoch, training stops once it has not improved for
        ``n_iter_no_change`` epochs, and the weights of the best epoch are
        restored (``best_epoch_``, 1-based).

    Attributes
    ----------
    params_ : dict
        Qualified name (``"encoder.0.W"``) -> array.
    history_ : dict
        ``"loss"`` and the named parts of the objective, one value per epoch.
    n_features_in_ : int

    Notes
    -----
    The objective minimised over a minibatch of n rows is

        (1/n) Σ_n L(x_n, g(f(x̃_n))) + β Σ_i KL(p ‖ p̂_i) + λ (1/n) Σ_n ‖∂h_n/∂x_n‖_F².

    References
    ----------
    Goodfellow, I., Bengio, Y. & Courville, A. (2016). Deep Learning, ch. 14.
    Baldi, P. & Hornik, K. (1989). Neural networks and principal component analysis.
    Vincent, P. et al. (2008). Extracting and composing robust features with denoising autoencoders.
    Rifai, S. et al. (2011). Contractive auto-encoders. ICML.
    """

    def __init__(self, n_latent=2, hidden_sizes=(), activation="sigmoid",
                 code_activation="identity", likelihood="gaussian", sparsity=0.05,
                 sparsity_weight=0.0, noise=None, noise_level=0.1, contractive_weight=0.0,
                 lr=1e-3, batch_size=100, n_epochs=100, clip_norm=None, dtype="float64",
                 random_state=None, verbose=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10):
        self.n_latent = n_latent
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.likelihood = likelihood
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.noise = noise
        self.noise_level = noise_level
        self.contractive_weight = contractive_weight
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

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        check_positive_int(self.n_latent, "n_latent")
        hidden = check_hidden_sizes(self.hidden_sizes)
        get_activation(self.activation)
        get_activation(self.code_activation, "code_activation")
        if self.likelihood not in ("gaussian", "bernoulli"):
            raise ValueError(f"likelihood must be 'gaussian' or 'bernoulli', got {self.likelihood!r}")
        check_probability(self.sparsity, "sparsity")
        check_positive(self.sparsity_weight, "sparsity_weight", allow_zero=True)
        check_positive(self.contractive_weight, "contractive_weight", allow_zero=True)
        if self.noise not in (None, "gaussian", "mask"):
            raise ValueError(f"noise must be None, 'gaussian' or 'mask', got {self.noise!r}")
        if self.noise == "mask":
            check_probability(self.noise_level, "noise_level", open_interval=False)
        elif self.noise == "gaussian":
            check_positive(self.noise_level, "noise_level")
        needs_sigmoid = [name for name, w in (("sparsity_weight", self.sparsity_weight),
                                              ("contractive_weight", self.contractive_weight)) if w > 0]
        if needs_sigmoid and self.code_activation != "sigmoid":
            raise ValueError(f"{needs_sigmoid[0]} > 0 needs code_activation='sigmoid', "
                             f"got {self.code_activation!r}")
        if self.contractive_weight > 0 and hidden:
            raise ValueError("the contractive penalty is implemented for a one-layer sigmoid "
                             f"encoder; got hidden_sizes={self.hidden_sizes!r} (use ())")

    def _set_up(self):
        super()._set_up()
        self._hidden = check_hidden_sizes(self.hidden_sizes)

    def _make_modules(self, X):
        enc = [X.shape[1], *self._hidden, self.n_latent]
        return {
            "encoder": MLP(enc, self.activation, self.code_activation),
            "decoder": MLP(enc[::-1], self.activation, "identity"),
        }

    # ------------------------------------------------------------------ objective
    def _draw_noise(self, X, rng):
        if self.noise == "gaussian":
            return {"eps": rng.standard_normal(X.shape).astype(X.dtype, copy=False)}
        if self.noise == "mask":
            return {"keep": rng.random(X.shape) >= self.noise_level}
        return {}

    def _corrupt(self, X, noise):
        """x̃: x + s·ε (Gaussian) or x with masked entries set to 0 [F 1.6]; x itself without noise."""
        if "eps" in noise:
            return X + self.noise_level * noise["eps"]
        if "keep" in noise:
            return X * noise["keep"]
        return X

    def _reconstruction(self, X, out):
        """Per-sample reconstruction loss and its gradient w.r.t. the decoder output."""
        if self.likelihood == "gaussian":
            return gaussian_nll(X, out)
        return bernoulli_nll(X, out)

    def step(self, X, noise, state, grads):
        """The autoencoder objective on the minibatch ``X``; adds its gradient into ``grads``.

        loss = (1/n) Σ_n L(x_n, g(f(x̃_n))) + β_s Σ_i KL(p ‖ p̂_i) + λ (1/n) Σ_n ‖∂h_n/∂x_n‖_F²

        with x̃ the corrupted input ([F 1.1], [F 1.2], [F 1.5], [F 1.6]-[F 1.7]; Rifai et al.
        2011); β_s is ``sparsity_weight`` and λ ``contractive_weight``. The
        sparsity penalty is a function of the whole batch (through the mean
        activation p̂), so it enters once, not per row. ``state`` is unused.

        Returns
        -------
        loss : float
        terms : dict
            ``reconstruction`` and, when switched on, ``sparsity`` and ``contractive``.
        """
        n = X.shape[0]
        enc, dec = self.modules_["encoder"], self.modules_["decoder"]
        h, enc_caches = enc.forward(self._corrupt(X, noise))
        out, dec_caches = dec.forward(h)
        rec, d_out = self._reconstruction(X, out)
        loss = rec.sum() / n
        terms = {"reconstruction": loss}
        d_h, _ = dec.backward(d_out / n, dec_caches, grads["decoder"])
        if self.sparsity_weight > 0:
            omega, d_h_sparse = sparsity_penalty(h, self.sparsity)
            loss += self.sparsity_weight * omega
            d_h += self.sparsity_weight * d_h_sparse
            terms["sparsity"] = omega
        if self.contractive_weight > 0:
            lam = self.contractive_weight
            penalty, d_h_c, d_W = contractive_penalty(h, self.params_["encoder.0.W"])
            loss += lam * penalty.sum() / n
            d_h += (lam / n) * d_h_c
            grads["encoder"]["0.W"] += (lam / n) * d_W
            terms["contractive"] = penalty.sum() / n
        enc.backward(d_h, enc_caches, grads["encoder"], need_dx=False)
        return float(loss), {k: float(v) for k, v in terms.items()}

    # ------------------------------------------------------------------ inference
    def transform(self, X):
        """The code h = f(x) of each row of X (no corruption)."""
        X = self._validate_X(X)
        return self.modules_["encoder"].forward(X)[0]

    def inverse_transform(self, H):
        """Decode codes H to data space: g(h), passed through σ for a Bernoulli decoder."""
        check_is_fitted(self)
        H = check_array(H, name="H", dtype=self._dtype, n_features=self.n_latent,
                        estimator=f"{type(self).__name__}'s code layer")
        out = self.modules_["decoder"].forward(H)[0]
        return sigmoid(out) if self.likelihood == "bernoulli" else out

    def reconstruct(self, X):
        """g(f(x)) for each row of X."""
        return self.inverse_transform(self.transform(X))

    @allow_overflow
    def reconstruction_error(self, X, n_mc=1, random_state=0):
        """Reconstruction score (3.1) of a deterministic autoencoder: ‖x − g(f(x))‖² per row.

        Higher means more anomalous. The code is deterministic, so ``n_mc``
        and ``random_state`` (kept for the same call as the VAE's) change nothing.
        Returns an array of shape (n_samples,), float64 like every model's
        per-row scores, whatever the model's dtype; a row's score is
        bit-identical alone or in a batch (float64 models).
        """
        check_positive_int(n_mc, "n_mc")
        X = self._validate_X(X, scored=True)
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, logits in self._blocks(X):
            x_hat = sigmoid(logits) if self.likelihood == "bernoulli" else logits
            r = x_hat - xb
            out[rows] = np.einsum("nd,nd->n", r, r)[:rows.stop - rows.start]
        return out

    @allow_overflow
    def score_samples(self, X):
        """Minus the per-sample reconstruction loss: higher means more typical; (n_samples,), float64."""
        X = self._validate_X(X, scored=True)
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb, logits in self._blocks(X):
            out[rows] = -self._reconstruction(xb, logits)[0][:rows.stop - rows.start]
        return out

    def _blocks(self, X):
        """``(rows, X_block, decoder output)`` on padded blocks of a fixed size, as the VAE's scores.

        A 1-row product takes another BLAS kernel than a many-row one; with
        fixed blocks a row's score is bit-identical alone or in a batch.
        """
        for rows, xb in row_blocks(X, MAX_BLOCK_ROWS):
            h = self.modules_["encoder"].forward(xb)[0]
            yield rows, xb, self.modules_["decoder"].forward(h)[0]
