"""Priors p(z) over the latent space that a WAE can match (SPEC 5: "anything you can sample").

A prior is any object with ``sample(n, rng)`` returning an (n, d) array and,
where a likelihood is needed, ``log_prob(z)``. Two are provided; both turn into
a JSON-able dict with ``get_config()`` so that a model using them can be saved.
"""

import numpy as np

from ._validation import check_positive_int, check_random_state

__all__ = ["StandardNormal", "GaussianMixture", "prior_from_config"]

_LOG_2PI = np.log(2.0 * np.pi)


class StandardNormal:
    """p(z) = N(0, I) in ``dim`` dimensions (2.27)."""

    def __init__(self, dim):
        self.dim = check_positive_int(dim, "dim")

    def sample(self, n, random_state=None):
        """n draws, shape (n, dim)."""
        return check_random_state(random_state).standard_normal((n, self.dim))

    def log_prob(self, z):
        """ln N(z | 0, I) per row."""
        z = np.asarray(z, dtype=float)
        return -0.5 * np.sum(z * z, axis=-1) - 0.5 * self.dim * _LOG_2PI

    def get_config(self):
        return {"kind": "standard_normal", "dim": self.dim}

    def __repr__(self):
        return f"StandardNormal(dim={self.dim})"


class GaussianMixture:
    """p(z) = Σ_k w_k N(z | m_k, s_k² I): an isotropic Gaussian mixture.

    Parameters
    ----------
    means : array_like, shape (K, d)
    scales : float or array_like, shape (K,)
        Standard deviation s_k of each component.
    weights : array_like, shape (K,), optional
        Mixing weights (normalised here); equal by default.

    Example
    -------
    The two-cluster prior used against Fig. 2.13:
    ``GaussianMixture(means=[[-3, 0], [3, 0]], scales=1.0, weights=[2, 1])``.
    """

    def __init__(self, means, scales=1.0, weights=None):
        means = np.atleast_2d(np.asarray(means, dtype=float))
        if means.ndim != 2 or not np.isfinite(means).all():
            raise ValueError(f"means must be a finite (K, d) array, got shape {means.shape}")
        K = means.shape[0]
        scales = np.broadcast_to(np.asarray(scales, dtype=float), (K,)).copy()
        if not (np.isfinite(scales).all() and (scales > 0).all()):
            raise ValueError(f"scales must be positive, got {scales.tolist()}")
        weights = np.ones(K) if weights is None else np.asarray(weights, dtype=float)
        if weights.shape != (K,) or not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be {K} non-negative numbers with a positive sum, got {weights.tolist()}")
        self.means, self.scales, self.weights = means, scales, weights / weights.sum()
        self.dim = means.shape[1]

    def sample(self, n, random_state=None, return_components=False):
        """n draws: pick k ~ Cat(w), then z ~ N(m_k, s_k² I)."""
        rng = check_random_state(random_state)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        z = self.means[k] + self.scales[k, None] * rng.standard_normal((n, self.dim))
        return (z, k) if return_components else z

    def log_prob(self, z):
        """ln Σ_k w_k N(z | m_k, s_k² I) per row, by log-sum-exp over k."""
        z = np.asarray(z, dtype=float)
        d2 = ((z[..., None, :] - self.means) ** 2).sum(axis=-1)
        log_comp = (np.log(self.weights) - self.dim * np.log(self.scales)
                    - 0.5 * self.dim * _LOG_2PI - 0.5 * d2 / self.scales ** 2)
        m = log_comp.max(axis=-1, keepdims=True)
        return m[..., 0] + np.log(np.exp(log_comp - m).sum(axis=-1))

    def get_config(self):
        return {"kind": "gaussian_mixture", "means": self.means.tolist(),
                "scales": self.scales.tolist(), "weights": self.weights.tolist()}

    def __repr__(self):
        return f"GaussianMixture(means={self.means.tolist()}, scales={self.scales.tolist()}, weights={self.weights.tolist()})"


def prior_from_config(config):
    """Rebuild a prior from the dict its ``get_config()`` returned (used by ``load``)."""
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind == "standard_normal":
        return StandardNormal(config["dim"])
    if kind == "gaussian_mixture":
        return GaussianMixture(config["means"], config["scales"], config["weights"])
    raise ValueError(f"unknown prior configuration {config!r}")
