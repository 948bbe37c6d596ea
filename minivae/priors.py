"""Priors p(z) over the latent space: N(0, I) (2.27), and any other a WAE can match.

A WAE needs only samples of its prior P_Z ((2.37) in docs/equations.md).

A prior is any object with ``sample(n, random_state)`` returning an (n, d) array
and, where a likelihood is needed, ``log_prob(z)``. Two are provided; both turn
into a JSON-able dict with ``get_config()`` so that a model using them can be
saved, and :func:`prior_from_config` turns the dict back into the prior.
"""

import numpy as np
from scipy.special import logsumexp

from ._validation import check_flag, check_positive_int, check_random_state
from .losses import LOG_2PI, log_standard_normal

__all__ = ["StandardNormal", "GaussianMixture", "prior_from_config"]


def _check_n(n):
    """The number of draws: an int >= 0."""
    return check_positive_int(n, "n", minimum=0)


def _real_array(value, name):
    """``value`` as a float array; text, objects, bools and complex numbers are TypeErrors.

    ``np.array(["1.5"], dtype=float)`` would parse the text silently, so the
    kind of the input is checked before converting.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(float)


def _check_z(z, dim, who):
    """z as a float array whose last axis has length ``dim``; ±inf is allowed, NaN is not."""
    z = _real_array(z, "z")
    if z.ndim == 0 or z.shape[-1] != dim:
        raise ValueError(f"z must have {dim} entries along its last axis for this {who}, got shape {z.shape}")
    if np.isnan(z).any():
        raise ValueError(f"z contains NaN ({int(np.isnan(z).sum())} value(s))")
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
        """ln N(z | 0, I) = −½‖z‖² − (d/2) ln 2π (1.7), over the last axis of ``z``.

        Raises TypeError for non-numeric ``z`` and ValueError for a wrong last
        axis or NaN; an infinite coordinate gives −inf.
        """
        z = _check_z(z, self.dim, "StandardNormal")
        with np.errstate(over="ignore"):    # ‖z‖² = inf far out: the density is 0, ln 0 = −inf
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
        Mixing weights w_k, non-negative and finite, any scale (they are
        divided by their maximum before being summed, so even weights near
        the float64 limit do not overflow); normalised here. Equal by default.

    Raises
    ------
    TypeError
        If an argument holds text (also numeric strings), objects, bools or
        complex numbers.
    ValueError
        For wrong shapes, non-finite values, non-positive scales, negative
        weights or weights that are all 0.

    Notes
    -----
    A prior with separated components is what a WAE can use and a VAE (whose
    KL term is tied to N(0, I)) cannot (thesis §2.3 and the motivation of §2.5). For
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
        means = _real_array(means, "means")
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(f"means must be a (K, d) array with K, d >= 1 (one row per component; "
                             f"a single component is [[...]]), got shape {means.shape}")
        if not np.isfinite(means).all():
            raise ValueError("means must be finite, got NaN or infinity")
        K = means.shape[0]
        scales = _real_array(scales, "scales")
        if scales.ndim == 0:
            scales = np.full(K, float(scales))
        if scales.shape != (K,) or not (np.isfinite(scales).all() and (scales > 0).all()):
            raise ValueError(f"scales must be one positive number or {K} of them, got {scales.tolist()}")
        weights = np.ones(K) if weights is None else _real_array(weights, "weights")
        if (weights.shape != (K,) or not np.isfinite(weights).all() or (weights < 0).any()
                or not (weights > 0).any()):
            raise ValueError(f"weights must be {K} finite non-negative numbers with a positive sum, "
                             f"got {weights.tolist()}")
        # Scaled by the largest first: the sum of [1e308, 1e308] would overflow to inf.
        alpha = weights / weights.max()
        self.means, self.scales, self.weights = means, scales, alpha / alpha.sum()
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
        return_components = check_flag(return_components, "return_components")
        k = rng.choice(self.n_components, size=n, p=self.weights)
        z = self.means[k] + self.scales[k, None] * rng.standard_normal((n, self.dim))
        return (z, k) if return_components else z

    def log_prob(self, z):
        """ln Σ_k w_k N(z | m_k, s_k² I) over the last axis of ``z``, by log-sum-exp over k.

        Each component contributes ln w_k − d ln s_k − (d/2) ln 2π − ‖z − m_k‖² / (2 s_k²);
        scipy's log-sum-exp subtracts the largest before exponentiating, so that
        nothing underflows to ln 0 far from the means. Raises like
        :meth:`StandardNormal.log_prob`; an infinite coordinate gives −inf.
        """
        z = _check_z(z, self.dim, "GaussianMixture")
        # A component of weight 0 contributes ln 0 = −inf, which log-sum-exp handles;
        # ‖z − m_k‖² / s_k² = inf far out gives ln 0 = −inf as well.
        with np.errstate(divide="ignore", over="ignore"):
            d2 = ((z[..., None, :] - self.means) ** 2).sum(axis=-1)
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
    try:
        if kind == "standard_normal":
            return StandardNormal(config["dim"])
        return GaussianMixture(config["means"], config["scales"], config["weights"])
    except TypeError as exc:      # a damaged file is a ValueError, whatever is wrong inside
        raise ValueError(f"bad prior configuration {config!r}: {exc}") from None
