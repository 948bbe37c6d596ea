"""A mixture of VAEs trained by EM, the "EMVAE" (docs/equations.md (2.43)-(2.45); thesis §2.5).

K component VAEs share one architecture; component k has its own encoder
q_k(z|x) = N(μ_k(x), diag σ_k(x)²) and decoder f_k. A latent indicator v_i picks
the component of data point x_i with p(v_i = k) = α_k, so

    p(x) = Σ_k α_k p_k(x),    p_k(x | z) = N(x | f_k(z), ω² I).

Training alternates the two steps of EM (Dempster et al. 1977):

    E-step (2.43)  γ_ik = α_k p_k(x_i | z_ik) / Σ_j α_j p_j(x_i | z_ij),   z_ik = μ_k(x_i) + σ_k(x_i) ε_ik
    M-step (2.44)  one Adam step on  (1/n) Σ_i Σ_k γ_ik [ −ln p_k(x_i | z_ik) + KL(q_k(z|x_i) ‖ N(0, I)) − ln α_k ]
                   with γ held fixed, then α_k = (1/N) Σ_i γ_ik.

The thesis prints (2.44) with "+ γ·KL" inside the maximised objective; the KL
enters the ELBO with a minus sign, so the minimised loss above has + KL.

The K components are not K networks in a Python loop: every layer is stacked
(``nn.Dense(..., n_stack=K)``, weights of shape (K, ...)), and one batched
matrix product runs all components on a minibatch at once. The E-step over
all rows and components is the compiled kernel of :mod:`minivae.estep`.
"""

import warnings

import numpy as np
from scipy.special import logsumexp

from .._validation import (
    check_array,
    check_flag,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_random_state,
)
from ..estep import e_step
from ..losses import (
    kl_standard_normal,
    log_normal_from_eps,
    log_standard_normal,
    reparametrise,
    reparametrise_backward,
)
from ..nn import MLP, Dense, sigmoid
from ..priors import StandardNormal
from ._base import allow_overflow, check_n_mc, row_blocks
from ._gaussian import GaussianLatentModel

__all__ = ["EMVAE"]

_E_STEP_EVERY = ("batch", "epoch")
_E_STEP_SCORES = ("likelihood", "elbo")


class EMVAE(GaussianLatentModel):
    """Mixture of K variational autoencoders trained by EM (thesis §2.5, (2.43)-(2.45)).

    Parameters
    ----------
    n_components : int
        K, the number of component VAEs. Components the data do not need end
        with α_k ≈ 0 (the thesis starts with K = 6 for three clusters).
    n_latent, hidden_sizes, activation, likelihood, sigma2 :
        The architecture of *each* component, as for :class:`VAE`; ω² =
        ``sigma2`` is the decoder variance of (2.28), shared by the components.
    n_mc : int
        Draws of ε per data point and component in each training step (and
        in the E-step score, which averages ln p_k(x | z) over them). ``fit``
        refuses (ValueError, naming the size) an n_mc whose step would hold
        more than 1 GiB: about 8 arrays of n_mc·batch_size rows by the widest
        layer, for each of the K networks.
    e_step_every : {"batch", "epoch"}
        ``"batch"`` (default): each minibatch first updates its own rows' γ
        with the ε of that step, then α (incremental EM, Neal & Hinton 1998);
        ``"epoch"``: one E-step over the whole training set at the start of
        every epoch, with fresh ε, and γ fixed during the epoch. Either way a
        full E-step starts the fit.
    e_step_score : {"likelihood", "elbo"}
        What (2.43) weighs the components by. ``"likelihood"`` (default, the
        thesis's choice): ln p_k(x_i | z_ik) at one reparametrised z_ik per
        component, the term that says how well component k *reconstructs*
        x_i. ``"elbo"``: ln p_k(x_i | z_ik) − KL(q_k(z|x_i) ‖ N(0, I)), a
        one-sample estimate of the component's ELBO, a lower bound of
        ln p_k(x_i), which makes γ an approximation of the true posterior
        over components. The default follows the thesis, whose results the
        tutorial reproduces; the two agree when the components' KL terms are
        similar, and the ELBO score additionally penalises a component whose
        encoder must move far from the prior to explain x_i.
    weight_floor : float in [0, 1/K)
        If positive, after every α update α ← floor + (1 − K·floor)·α, so that
        every α_k ≥ floor and no component dies. 0 (default): none.
    prune_below : float in [0, 1/K)
        If positive, a component whose α_k falls below this is removed for
        good: α_k = 0, hence γ_ik = 0 exactly (ln γ = −inf) and no gradient
        ever reaches it again. 0 (default): none. At most one of
        ``weight_floor`` and ``prune_below`` may be positive.
    anneal_epochs : int >= 0
        Deterministic annealing of the E-step (Ueda & Nakano 1998): for the
        first ``anneal_epochs`` epochs (2.43) is tempered,
        γ_ik ∝ (α_k p_k(x_i | z_ik))^b_t, with b_t rising linearly from
        ``anneal_start`` at epoch 0 to 1 at epoch ``anneal_epochs``, and is
        (2.43) itself afterwards. b < 1 flattens the responsibilities, so no
        component claims a region (or a neighbouring cluster) on the strength
        of the random networks it started with. 0 (default): no annealing,
        the thesis's algorithm. With ``anneal_epochs >= n_epochs`` the
        annealing does not finish (every E-step is tempered, and ``weights_``
        come from flattened responsibilities): fit warns.
    anneal_start : float in (0, 1]
        b_0, the power of the first E-step when ``anneal_epochs`` > 0.
    lr, batch_size, n_epochs, clip_norm, dtype, random_state, verbose, early_stopping, validation_fraction, n_iter_no_change :
        As for :class:`VAE`.

    Attributes
    ----------
    params_ : dict
        Stacked parameters: ``encoder.0.W`` has shape (K, n_hidden, n_features),
        ``mu.W`` (K, n_latent, n_hidden), ..., the first axis the component.
    weights_ : ndarray, shape (n_components,)
        α, the fitted mixture weights (Σ α_k = 1; exactly 0 for a pruned or
        starved component).
    n_components_used_ : int
        The number of components that are the most responsible one
        (largest γ_ik) for at least one training row in the last E-step.
    prior_ : minivae.priors.StandardNormal
        p(z) = N(0, I), shared by the components.
    history_ : dict
        Per epoch: ``loss`` (the M-step objective below), ``reconstruction``,
        ``kl`` and ``mixing`` (its three terms).

    Notes
    -----
    **Settings for a reliable fit.** The defaults are the thesis's algorithm.
    On the three-cluster set (2.45) with K = 6 it finds the three clusters
    with their proportions for only 3 of 20 seeds (the others split a
    cluster between two components, merge two clusters into one, or keep a
    tiny component that wins a few rows). With ``n_mc=4,
    e_step_score="elbo", e_step_every="epoch", prune_below=0.02,
    anneal_epochs=100, anneal_start=0.3`` it does for 13 of 20 (tutorial 04
    and docs/equations.md, (2.43), have the table): more draws make the
    E-step less noisy, the ELBO score charges a component the KL of
    stretching its encoder over two clusters, the annealing keeps early
    random differences from deciding the partition, and pruning removes the
    components that have lost.

    The loss of one minibatch (:meth:`step`) is the negative M-step
    objective (2.44) averaged over the n rows,

        (1/n) Σ_i Σ_k γ_ik [ (1/L) Σ_l −ln p_k(x_i | z_ikl) + KL_ik − ln α_k ],

    with 0·ln 0 = 0 for dead components; the last term has no gradient with
    respect to the networks (α is updated in closed form). Generation draws
    v ~ Cat(α), ε ~ N(0, I) and returns f_v(ε).

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood
    from incomplete data via the EM algorithm. JRSS B 39.
    Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that
    justifies incremental, sparse, and other variants. In Learning in
    Graphical Models.
    Ueda, N. & Nakano, R. (1998). Deterministic annealing EM algorithm.
    Neural Networks 11(2).
    """

    _extra_state = ("weights_", "n_components_used_")

    def __init__(self, n_components=2, n_latent=2, hidden_sizes=(32,), activation="swish",
                 likelihood="gaussian", sigma2=1.0, n_mc=1, e_step_every="batch",
                 e_step_score="likelihood", weight_floor=0.0, prune_below=0.0, anneal_epochs=0,
                 anneal_start=0.3, lr=1e-3,
                 batch_size=100, n_epochs=100, clip_norm=None, dtype="float64",
                 random_state=None, verbose=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10):
        self.n_components = n_components
        self.n_latent = n_latent
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.sigma2 = sigma2
        self.n_mc = n_mc
        self.e_step_every = e_step_every
        self.e_step_score = e_step_score
        self.weight_floor = weight_floor
        self.prune_below = prune_below
        self.anneal_epochs = anneal_epochs
        self.anneal_start = anneal_start
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
        super()._check_params()
        K = check_positive_int(self.n_components, "n_components")
        if self.e_step_every not in _E_STEP_EVERY:
            raise ValueError(f"e_step_every must be 'batch' or 'epoch', got {self.e_step_every!r}")
        if self.e_step_score not in _E_STEP_SCORES:
            raise ValueError(f"e_step_score must be 'likelihood' or 'elbo', got {self.e_step_score!r}")
        for name in ("weight_floor", "prune_below"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
            if not 0.0 <= float(value) < 1.0 / K:
                raise ValueError(f"{name} must lie in [0, 1/n_components) = [0, {1.0 / K:.4g}), "
                                 f"got {value}")
        if self.weight_floor > 0 and self.prune_below > 0:
            raise ValueError(f"at most one of weight_floor and prune_below may be positive, got "
                             f"weight_floor={self.weight_floor}, prune_below={self.prune_below}")
        check_positive_int(self.anneal_epochs, "anneal_epochs", minimum=0)
        if check_positive(self.anneal_start, "anneal_start") > 1.0:   # also refuses 0, NaN, "0.3"
            raise ValueError(f"anneal_start must lie in (0, 1], got {self.anneal_start}")

    def _set_up(self):
        super()._set_up()
        self.prior_ = StandardNormal(self.n_latent)

    def _make_modules(self, X):
        hidden, nz, act, K = self._hidden, self.n_latent, self.activation, self.n_components
        return {
            "encoder": MLP([X.shape[1], *hidden], act, act, n_stack=K),
            "mu": Dense(hidden[-1], nz, n_stack=K),
            "log_sigma": Dense(hidden[-1], nz, n_stack=K),
            "decoder": MLP([nz, *hidden[::-1], X.shape[1]], act, "identity", n_stack=K),
        }

    def _draw_noise(self, X, rng):
        """ε of shape (n_mc, K, n, n_latent): one draw per row, component and Monte-Carlo sample."""
        shape = (self.n_mc, self.n_components, X.shape[0], self.n_latent)
        return {"eps": rng.standard_normal(shape, dtype=self._dtype)}

    # ------------------------------------------------------------------ state: γ and α
    def init_state(self, X):
        """Uniform α and γ_ik = 1/K for every training row; the first epoch's E-step replaces them.

        ``log_gamma`` (N, K), ``gamma_sum`` = Σ_i γ_ik (K,), ``log_alpha`` (K,)
        and ``alive`` (K,) are updated in place; ``e_step`` says whether
        :meth:`step` runs the E-step on its minibatch, ``e_step_power`` is the
        annealing power b of (2.43) (1 outside the annealing).
        """
        N, K = X.shape[0], self.n_components
        if 0 < self.anneal_epochs and self.anneal_epochs >= self.n_epochs:
            b = self._e_step_power(self.n_epochs - 1)
            warnings.warn(
                f"EMVAE: anneal_epochs={self.anneal_epochs} >= n_epochs={self.n_epochs}, so the "
                f"annealing does not finish: the last E-step is tempered with b = {b:.3g} instead "
                f"of 1, and weights_ come from flattened responsibilities. Raise n_epochs above "
                f"anneal_epochs.", UserWarning, stacklevel=3)   # points at the caller of fit()
        return {
            "beta": 1.0,
            "e_step_power": 1.0,
            "log_gamma": np.full((N, K), -np.log(K)),
            "gamma_sum": np.full(K, N / K),
            "log_alpha": np.full(K, -np.log(K)),
            "alive": np.ones(K, dtype=bool),
            "e_step": self.e_step_every == "batch",
        }

    def default_state(self, X):
        """γ held at the current α for every row (uniform before fit), β = 1, no E-step.

        It does not depend on the networks' weights, so :meth:`objective` is a
        deterministic function of them for gradient checks; pass
        ``state={"log_gamma": ...}`` to hold other responsibilities fixed.
        """
        K = self.n_components
        alpha = getattr(self, "weights_", None)
        with np.errstate(divide="ignore"):
            log_alpha = np.full(K, -np.log(K)) if alpha is None else np.log(alpha)
        return {"beta": 1.0, "rows": np.arange(X.shape[0]),
                "log_gamma": np.broadcast_to(log_alpha, (X.shape[0], K)).copy(),
                "log_alpha": log_alpha, "e_step": False}

    def _e_step_power(self, epoch):
        """The annealing power b_t of (2.43): anneal_start → 1 linearly over anneal_epochs, then 1."""
        if epoch >= self.anneal_epochs:
            return 1.0
        return self.anneal_start + (1.0 - self.anneal_start) * epoch / self.anneal_epochs

    def _begin_epoch(self, epoch, X, state, rng):
        b = state["e_step_power"] = self._e_step_power(epoch)
        if epoch == 0 or self.e_step_every == "epoch":
            # E-step (2.43) over the whole training set, with fresh ε.
            scores = np.empty((X.shape[0], self.n_components))
            rows = self._rows_per_block(self.n_mc * self.n_components, None)
            for start in range(0, X.shape[0], rows):
                xb = X[start:start + rows]
                scores[start:start + rows] = self._scores(xb, self._draw_noise(xb, rng)["eps"])
            # Tempered when annealing: γ ∝ (α_k p_k)^b, i.e. (2.43) on b·ln α_k + b·ln p_k.
            state["log_gamma"][...] = e_step(b * scores, b * state["log_alpha"])[0]
        # α from every row's current γ: exact once per epoch, whatever
        # rounding the per-batch updates of gamma_sum accumulated.
        state["gamma_sum"][...] = np.exp(state["log_gamma"]).sum(axis=0)
        self._update_alpha(state)
        return state

    def _update_alpha(self, state):
        """M-step for α (2.44): α_k = (1/N) Σ_i γ_ik, then the floor or the pruning, in place."""
        alpha = np.maximum(state["gamma_sum"], 0.0) / state["log_gamma"].shape[0]
        alive = state["alive"]
        if self.prune_below > 0:
            alive &= alpha >= self.prune_below
        alpha = np.where(alive, alpha, 0.0)
        alpha /= alpha.sum()
        if self.weight_floor > 0:
            alpha = self.weight_floor + (1.0 - self.n_components * self.weight_floor) * alpha
        with np.errstate(divide="ignore"):
            state["log_alpha"][...] = np.log(alpha)

    def _end_fit(self, X, state):
        self.weights_ = np.exp(state["log_alpha"])
        self.n_components_used_ = int(np.unique(state["log_gamma"].argmax(axis=1)).size)

    # ------------------------------------------------------------------ the batched components
    def _forward(self, X, eps):
        """All K components on X: encoder, (2.32), decoder, −ln p_k(x | z) and KL_k.

        Returns ``(mu, log_sigma, enc, x_hat, dec, nll, d_x_hat, kl, d_mu_kl, d_log_sigma_kl)``
        with mu, log_sigma (K, n, nz), nll (L, K, n), kl (K, n); eps is (L, K, n or 1, nz).
        """
        L, K, n = eps.shape[0], self.n_components, X.shape[0]
        mu, log_sigma, enc = self._encode(X)                          # (2.26), (K, n, nz) each
        z = reparametrise(mu, log_sigma, eps)                         # (2.32), (L, K, n, nz)
        # The stacked decoder takes (K, rows, nz): the L draws become extra rows.
        z_k = z.swapaxes(0, 1).reshape(K, L * n, self.n_latent)
        x_hat, dec = self.modules_["decoder"].forward(z_k)           # (K, L·n, nx)
        x_hat = x_hat.reshape(K, L, n, -1).swapaxes(0, 1)            # (L, K, n, nx)
        nll, d_x_hat = self._nll(X, x_hat)                            # (2.33), (L, K, n)
        kl, d_mu_kl, d_log_sigma_kl = kl_standard_normal(mu, log_sigma)   # (2.31), (K, n)
        return mu, log_sigma, enc, z, dec, nll, d_x_hat, kl, d_mu_kl, d_log_sigma_kl

    def _score(self, nll, kl):
        """The E-step's ln p_k(x_i): (1/L) Σ_l ln p_k(x_i | z_ikl), minus KL_ik for "elbo"; (n, K)."""
        score = -nll.mean(axis=0)
        if self.e_step_score == "elbo":
            score = score - kl
        return score.T

    def _scores(self, X, eps):
        out = self._forward(X, eps)
        return self._score(out[5], out[7])

    # ------------------------------------------------------------------ objective
    def step(self, X, noise, state, grads):
        """E-step on the minibatch (if ``state["e_step"]``), then the M-step loss (2.44) and its gradient.

        loss = (1/n) Σ_i Σ_k γ_ik [ (1/L) Σ_l −ln p_k(x_i | z_ikl) + β KL_ik − ln α_k ],
        z_ikl = μ_k(x_i) + σ_k(x_i) ε_ikl. The gradient treats γ as constant,
        as the M-step does: γ_ik weighs row i's gradient in component k.

        Parameters
        ----------
        X : ndarray, shape (n, n_features)
        noise : dict
            ``eps`` of shape (L, K, n, n_latent), from :meth:`draw_noise`.
        state : dict
            ``log_gamma`` (rows of the training set, or of X), ``rows`` (this
            batch's indices into it), ``log_alpha``, ``beta`` (default 1),
            ``e_step`` (default False), ``e_step_power`` (default 1). With
            ``e_step`` the step first runs (2.43), raised to the power
            ``e_step_power`` (the annealing), on its rows with the same ε and
            writes γ and α into ``state`` in place (``gamma_sum`` and
            ``alive`` too).
        grads : dict
            Gradient arrays by network, added into.

        Returns
        -------
        loss : float
        terms : dict
            ``reconstruction`` (1/n) Σ γ (1/L) Σ −ln p, ``kl`` (1/n) Σ γ KL,
            ``mixing`` −(1/n) Σ γ ln α.
        """
        n, eps, rows = X.shape[0], noise["eps"], state["rows"]
        beta = state.get("beta", 1.0)
        L = eps.shape[0]
        mu, log_sigma, enc, z, dec, nll, d_x_hat, kl, d_mu_kl, d_log_sigma_kl = self._forward(X, eps)
        if state.get("e_step", False):
            # E-step (2.43) on this batch with the same ε (tempered by the
            # annealing power b, 1 by default), then α (2.44).
            b = state.get("e_step_power", 1.0)
            log_gamma, _ = e_step(b * self._score(nll, kl), b * state["log_alpha"])
            state["gamma_sum"] += np.exp(log_gamma).sum(axis=0) - np.exp(state["log_gamma"][rows]).sum(axis=0)
            state["log_gamma"][rows] = log_gamma
            self._update_alpha(state)
        log_gamma = state["log_gamma"][rows].T                        # (K, n), held fixed
        gamma = np.exp(log_gamma).astype(self._dtype)
        log_alpha = state["log_alpha"]
        # 0·ln 0 = 0 for a dead component (α_k = 0, so γ_ik = 0 up to the
        # rounding of the running Σ_i γ_ik that set α_k).
        mixing = -(gamma * np.where(np.isfinite(log_alpha), log_alpha, 0.0)[:, None]).sum() / n
        reconstruction = (gamma * nll.mean(axis=0)).sum() / n
        kl_mean = (gamma * kl).sum() / n
        loss = reconstruction + beta * kl_mean + mixing
        # Backward: row i of component k carries the weight γ_ik / (nL).
        K, nz = self.n_components, self.n_latent
        d_x_hat = d_x_hat * (gamma / (n * L))[None, :, :, None]                       # (L, K, n, nx)
        d_z, _ = self.modules_["decoder"].backward(
            d_x_hat.swapaxes(0, 1).reshape(K, L * n, -1), dec, grads["decoder"])
        d_z = d_z.reshape(K, L, n, nz).swapaxes(0, 1)                                  # (L, K, n, nz)
        d_mu, d_log_sigma = reparametrise_backward(d_z, log_sigma, eps)               # (K, n, nz)
        w_kl = (beta / n) * gamma[..., None]
        d_mu += w_kl * d_mu_kl
        d_log_sigma += w_kl * d_log_sigma_kl
        self._encode_backward(d_mu, d_log_sigma, enc, grads)
        return float(loss), {"reconstruction": float(reconstruction), "kl": float(kl_mean),
                             "mixing": float(mixing)}

    # ------------------------------------------------------------------ components of new data
    def _log_alpha(self):
        with np.errstate(divide="ignore"):
            return np.log(self.weights_)

    def _draw_blocks(self, X, L):
        """``(rows, X_block, draws)``: the row blocks of X, each with the slices of the L draws to run at once.

        The networks run on a few million floats at a time (chunks of the
        draws, as in the VAE's scores), not on all L draws of the K components
        at once: at L = 10⁵ those took GiBs for a 16-wide network.
        """
        chunks = self._draw_chunks(L, self.n_components)
        for rows, xb in row_blocks(X, self._rows_per_block(L * self.n_components, None)):
            yield rows, xb, chunks

    def _component_scores(self, X, n_mc, random_state):
        """The E-step score (n, K) of every row, all rows with the same ε draws (L, K, 1, nz)."""
        L = check_n_mc(n_mc, self.n_components * self.n_latent, self._dtype)
        rng = check_random_state(random_state)
        eps = rng.standard_normal((L, self.n_components, 1, self.n_latent), dtype=self._dtype)
        scores = np.empty((X.shape[0], self.n_components))
        for rows, xb, chunks in self._draw_blocks(X, L):
            nll = 0.0
            for draws in chunks:
                out = self._forward(xb, eps[draws])
                nll = nll + out[5].sum(axis=0)                                # Σ_l over the chunk, (K, n)
            # The mean over the L draws, as one "draw" for _score.
            scores[rows] = self._score((nll / L)[None], out[7])[:rows.stop - rows.start]
        return scores

    def predict_proba(self, X, n_mc=1, random_state=0):
        """Responsibilities γ_ik (2.43) of new rows, shape (n_samples, n_components).

        Scored as in training (``e_step_score``), with L = ``n_mc`` draws of ε
        per component shared by every row, so a row's γ does not depend on
        the other rows; the same ``random_state`` gives the same result.
        Rows sum to 1; a component with α_k = 0 gets γ_ik = 0.
        """
        X = self._validate_X(X, scored=True)
        scores = self._component_scores(X, n_mc, random_state)
        return np.exp(e_step(scores, self._log_alpha())[0])

    def predict(self, X, n_mc=1, random_state=0):
        """The most responsible component argmax_k γ_ik of each row, shape (n_samples,)."""
        return self.predict_proba(X, n_mc=n_mc, random_state=random_state).argmax(axis=1)

    def encode(self, X):
        """q_k(z|x) of every component: ``(mu, log_sigma)``, each (n_components, n_samples, n_latent)."""
        X = self._validate_X(X)
        mu, log_sigma, _ = self._encode(X)
        return mu, log_sigma

    def transform(self, X, n_mc=1, random_state=0):
        """μ_k(x) of the most responsible component k = :meth:`predict` (x), shape (n_samples, n_latent)."""
        X = self._validate_X(X, scored=True)
        k = self.predict(X, n_mc=n_mc, random_state=random_state)
        return self._encode(X)[0][k, np.arange(X.shape[0])]

    def _decode(self, Z):
        out = self.modules_["decoder"].forward(Z)[0]
        return sigmoid(out) if self.likelihood == "bernoulli" else out

    def decode(self, Z):
        """Every component's decoder mean f_k(z) for each row of Z: shape (n_components, n_rows, n_features)."""
        check_is_fitted(self)
        Z = check_array(Z, name="Z", dtype=self._dtype, n_features=self.n_latent,
                        estimator=f"{type(self).__name__}'s latent space")
        return self._decode(Z)

    def reconstruct(self, X, sample_z=False, random_state=0):
        """Decode the posterior mean of each row by its most responsible component (or one z = μ + σε)."""
        sample_z = check_flag(sample_z, "sample_z")
        X = self._validate_X(X, scored=True)
        rng = check_random_state(random_state)
        k = self.predict(X, random_state=rng)
        mu, log_sigma, _ = self._encode(X)
        z = mu
        if sample_z:
            z = reparametrise(mu, log_sigma, rng.standard_normal((self.n_components, 1, self.n_latent),
                                                                 dtype=self._dtype))
        return self._decode(z)[k, np.arange(X.shape[0])]

    def sample(self, n_samples=1, random_state=None, noise=False, return_components=False):
        """Generate new data: v ~ Cat(α), z ~ N(0, I), then the decoder mean f_v(z) (the generative model of (2.43)).

        With ``noise=True`` the observation noise is added: x ~ N(f_v(z), ω² I)
        (Gaussian), x ~ Bernoulli(σ(f_v(z))) (Bernoulli). Returns an array of
        shape (n_samples, n_features), and with ``return_components`` also the
        component v of each row.
        """
        check_is_fitted(self)
        n_samples = check_positive_int(n_samples, "n_samples")
        noise = check_flag(noise, "noise")
        return_components = check_flag(return_components, "return_components")
        rng = check_random_state(random_state)
        v = rng.choice(self.n_components, size=n_samples, p=self.weights_ / self.weights_.sum())
        z = self._sample_prior(n_samples, rng)
        # All K decoders in one batched product; each row keeps its own component's output.
        x = self._decode(z)[v, np.arange(n_samples)]
        if noise:
            x = self._observation_noise(x, rng)
        return (x, v) if return_components else x

    @allow_overflow
    def score_samples(self, X, n_mc=100, random_state=0):
        """Mixture log-likelihood estimate ln p(x) = ln Σ_k α_k p_k(x) per row: higher is more typical.

        Each ln p_k(x) is the importance-weighted estimate of component k
        (Burda et al. 2016), ln (1/L) Σ_l p_k(x | z_l) p(z_l) / q_k(z_l | x)
        with z_l ~ q_k(z|x), L = ``n_mc``; the sum over components is the
        E-step's log normaliser (:func:`minivae.estep.e_step`). The L draws
        of ε per component are shared by every row, so a row's score does not
        depend on the other rows. Returns an array of shape (n_samples,).
        A ValueError names the size when those L·K·n_latent values would take
        more than 1 GiB; the networks run on chunks of the draws, a few
        million floats at a time, so any L below that fits in memory.
        """
        X = self._validate_X(X, scored=True)
        L = check_n_mc(n_mc, self.n_components * self.n_latent, self._dtype)
        rng = check_random_state(random_state)
        eps = rng.standard_normal((L, self.n_components, 1, self.n_latent), dtype=self._dtype)
        log_p = np.empty((X.shape[0], self.n_components))
        for rows, xb, chunks in self._draw_blocks(X, L):
            total = None                                  # ln Σ_l w_l over the chunks so far, (K, n)
            for draws in chunks:
                mu, log_sigma, _, z, _, nll, _, _, _, _ = self._forward(xb, eps[draws])
                log_w = -nll + log_standard_normal(z) - log_normal_from_eps(eps[draws], log_sigma)
                chunk = logsumexp(log_w, axis=0)
                total = chunk if total is None else np.logaddexp(total, chunk)
            log_p[rows] = (total - np.log(L)).T[:rows.stop - rows.start]
        return e_step(log_p, self._log_alpha())[1]

    @allow_overflow
    def reconstruction_error(self, X, n_mc=1, random_state=0):
        """Reconstruction score (3.1) of the mixture: Σ_k γ_ik (1/L) Σ_l ‖x_i − f_k(z_ikl)‖².

        Each component's mean squared reconstruction error, weighted by the
        row's responsibilities (:meth:`predict_proba` with the same
        ``n_mc`` and ``random_state``, hence the same ε; a Generator is drawn
        from once, for a seed that both use). Higher means more anomalous. The
        ε draws are shared by every row. Returns an array of shape (n_samples,).
        """
        X = self._validate_X(X, scored=True)
        if isinstance(random_state, np.random.Generator):
            # One seed from the Generator for both uses, so that γ and the
            # errors see the same ε (as they do for an int seed).
            random_state = int(random_state.integers(2**63))
        gamma = self.predict_proba(X, n_mc=n_mc, random_state=random_state)
        L = check_n_mc(n_mc, self.n_components * self.n_latent, self._dtype)
        eps = check_random_state(random_state).standard_normal(
            (L, self.n_components, 1, self.n_latent), dtype=self._dtype)
        out = np.empty(X.shape[0])
        K, nz = self.n_components, self.n_latent
        for rows, xb, chunks in self._draw_blocks(X, L):
            nb, n_real = xb.shape[0], rows.stop - rows.start
            mu, log_sigma, _ = self._encode(xb)
            err = np.zeros((K, nb))
            for draws in chunks:
                n_draws = draws.stop - draws.start
                z = reparametrise(mu, log_sigma, eps[draws]).swapaxes(0, 1).reshape(K, n_draws * nb, nz)
                r = self._decode(z).reshape(K, n_draws, nb, -1) - xb              # (K, L_chunk, n, nx)
                err += np.einsum("klnd,klnd->kn", r, r)
            err /= L                                                             # (K, n)
            # 0·inf = 0: a component with γ = 0 does not count, even where its error overflowed.
            with np.errstate(invalid="ignore"):
                weighted = np.where(gamma[rows] > 0, gamma[rows] * err.T[:n_real], 0.0)
            out[rows] = weighted.sum(axis=1)
        return out
