"""Priors p(z) over the latent space that a WAE can match (SPEC 5: "anything you can sample").

A prior is any object with ``sample(n, random_state)`` returning an (n, d) array
and, where a likelihood is needed, ``log_prob(z)``. Two are provided; both turn
into a JSON-able dict with ``get_config()`` so that a model using them can be
saved, and :func:`prior_from_config` turns the dict back into the prior.
"""

import numpy as np
from scipy.special import logsumexp

from ._validation import check_positive_int, check_random_state
from .losses import LOG_2PI, log_standard_normal

__all__ = ["StandardNormal", "GaussianMixture", "prior_from_config"]


def _check_n(n):
    """The number of draws: an int >= 0."""
    return check_positive_int(n, "n", minimum=0)


def _check_z(z, dim, who):
    """z as a float array whose last axis has length ``dim``."""
    z = np.asarray(z, dtype=float)
    if z.ndim == 0 or z.shape[-1] != dim:
        raise ValueError(f"z must have {dim} entries along its last axis for this {who}, got shape {z.shape}")
    return z


class StandardNormal:
    """p(z) = N(0, I) in ``dim`` dimensions, the VAE's prior (2.27).

    Parameters
    ----------
    dim : int
        d, the latent dimension.

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.
    """

    def __init__(self, dim):
        self.dim = check_positive_int(dim, "dim")

    def sample(self, n, random_state=None):
        """``n`` draws, shape (n, dim)."""
        return check_random_state(random_state).standard_normal((_check_n(n), self.dim))

    def log_prob(self, z):
        """ln N(z | 0, I) = −½‖z‖² − (d/2) ln 2π, over the last axis of ``z``."""
        z = _check_z(z, self.dim, "StandardNormal")
        return log_standard_normal(z)

    def get_config(self):
        """``{"kind": "standard_normal", "dim": d}``."""
        return {"kind": "standard_normal", "dim": self.dim}

    def __repr__(self):
        return f"StandardNormal(dim={self.dim})"


class GaussianMixture:
    """p(z) = Σ_k w_k N(z | m_k, s_k² I): a mixture of isotropic Gaussians.

    Parameters
    ----------
    means : array_like of shape (K, d)
        Component means m_k, one row each (a single component is ``[[...]]``).
    scales : float or array_like of shape (K,)
        Standard deviation s_k of each component (one number: the same for all).
    weights : array_like of shape (K,), optional
        Mixing weights w_k, non-negative; normalised here. Equal by default.

    Notes
    -----
    A prior with separated components is what a WAE can use and a VAE (whose
    KL term is tied to N(0, I)) cannot (SPEC 5, thesis §2.5 motivation). For
    the two clusters of Fig. 2.13 the tutorial ``03_wae.py`` uses
    ``GaussianMixture(means=[[0, -4], [0, 4]], scales=0.5, weights=[2, 1])``:
    the weights follow the cluster sizes 2,000 : 1,000, and the components
    are 16 standard deviations apart, so almost no prior mass lies between
    them, where the decoder has to switch from one cluster to the other.

    References
    ----------
    Tolstikhin, I., Bousquet, O., Gelly, S. & Schölkopf, B. (2018). Wasserstein
    auto-encoders. ICLR.
    Bishop, C. M. (2006). Pattern Recognition and Machine Learning, §9.2.
    """

    def __init__(self, means, scales=1.0, weights=None):
        means = np.array(means, dtype=float)
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(f"means must be a (K, d) array with K, d >= 1 (one row per component; "
                             f"a single component is [[...]]), got shape {means.shape}")
        if not np.isfinite(means).all():
            raise ValueError("means must be finite, got NaN or infinity")
        K = means.shape[0]
        scales = np.array(scales, dtype=float)
        if scales.ndim == 0:
            scales = np.full(K, float(scales))
        if scales.shape != (K,) or not (np.isfinite(scales).all() and (scales > 0).all()):
            raise ValueError(f"scales must be one positive number or {K} of them, got {scales.tolist()}")
        weights = np.ones(K) if weights is None else np.array(weights, dtype=float)
        if (weights.shape != (K,) or not np.isfinite(weights).all() or (weights < 0).any()
                or weights.sum() <= 0):
            raise ValueError(f"weights must be {K} non-negative numbers with a positive sum, "
                             f"got {weights.tolist()}")
        self.means, self.scales, self.weights = means, scales, weights / weights.sum()
        # The configuration keeps the weights as given: normalising already
        # normalised weights again can move their last bits, and a reloaded
        # prior must draw exactly the same samples.
        self._weights_given = weights
        self.dim = means.shape[1]

    @property
    def n_components(self):
        """K, the number of components."""
        return self.means.shape[0]

    def sample(self, n, random_state=None, return_components=False):
        """``n`` draws: pick k ~ Cat(w), then z = m_k + s_k ε with ε ~ N(0, I).

        With ``return_components`` also return the picked k of each draw.
        """
        rng = check_random_state(random_state)
        n = _check_n(n)
        k = rng.choice(self.n_components, size=n, p=self.weights)
        z = self.means[k] + self.scales[k, None] * rng.standard_normal((n, self.dim))
        return (z, k) if return_components else z

    def log_prob(self, z):
        """ln Σ_k w_k N(z | m_k, s_k² I) over the last axis of ``z``, by log-sum-exp over k.

        Each component contributes ln w_k − d ln s_k − (d/2) ln 2π − ‖z − m_k‖² / (2 s_k²);
        the largest is subtracted before exponentiating so that nothing underflows
        to ln 0 far from the means.
        """
        z = _check_z(z, self.dim, "GaussianMixture")
        d2 = ((z[..., None, :] - self.means) ** 2).sum(axis=-1)
        # A component of weight 0 contributes ln 0 = −inf, which log-sum-exp handles.
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        log_comp = (log_w - self.dim * np.log(self.scales) - 0.5 * self.dim * LOG_2PI
                    - 0.5 * d2 / self.scales ** 2)
        return logsumexp(log_comp, axis=-1)

    def get_config(self):
        """``{"kind": "gaussian_mixture", "means": ..., "scales": ..., "weights": ...}`` as lists.

        The weights are stored as they were given (normalised on construction).
        """
        return {"kind": "gaussian_mixture", "means": self.means.tolist(),
                "scales": self.scales.tolist(), "weights": self._weights_given.tolist()}

    def __repr__(self):
        return (f"GaussianMixture(means={self.means.tolist()}, scales={self.scales.tolist()}, "
                f"weights={self.weights.tolist()})")


def prior_from_config(config):
    """Rebuild a prior from the dict its ``get_config()`` returned (used by ``load``).

    Raises
    ------
    ValueError
        If ``config`` is not such a dict (unknown kind, missing or bad entries).
    """
    kind = config.get("kind") if isinstance(config, dict) else None
    keys = {"standard_normal": {"kind", "dim"},
            "gaussian_mixture": {"kind", "means", "scales", "weights"}}.get(kind)
    if keys is None or set(config) != keys:
        raise ValueError(f"unknown prior configuration {config!r}; expected the dict of "
                         "StandardNormal.get_config() or GaussianMixture.get_config()")
    if kind == "standard_normal":
        return StandardNormal(config["dim"])
    return GaussianMixture(config["means"], config["scales"], config["weights"])
