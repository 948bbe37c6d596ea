"""Hypothesis strategies and settings shared by the test modules.

Arrays are drawn from a seeded Generator rather than element by element, so
values stay O(1) and shrinking works on the seed and the shapes.
"""

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# deadline=None: the first call of a numba kernel compiles it.
settings.register_profile(
    "minivae",
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("minivae")

seeds = st.integers(min_value=0, max_value=2**32 - 1)
small_dims = st.integers(min_value=1, max_value=4)
batch_sizes = st.integers(min_value=1, max_value=5)


def normal_array(seed, shape, scale=1.0):
    """A float64 array of N(0, scale²) values from a seeded Generator."""
    return scale * np.random.default_rng(seed).standard_normal(shape)


def toy_inputs(seed, n, nx, likelihood):
    """Inputs for a likelihood: N(0, 1) values, or values in [0, 1] (not only 0/1) for Bernoulli."""
    rng = np.random.default_rng(seed)
    return rng.random((n, nx)) if likelihood == "bernoulli" else rng.standard_normal((n, nx))


def jitter_biases(model, seed, scale=0.3):
    """Give every bias a random N(0, scale²) value, so gradient checks run away from 0."""
    rng = np.random.default_rng(seed + 1)
    for name, value in model.params_.items():
        if name.endswith(".b"):
            value[...] = scale * rng.standard_normal(value.shape)
    return model
