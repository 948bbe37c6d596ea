"""Hypothesis strategies and settings shared by the test modules.

Arrays are drawn from a seeded Generator rather than element by element, so
values stay O(1) and shrinking works on the seed and the shapes.
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Two profiles (issue 9, item 19):
#   "dev" explores: new random examples on every run, remembered in the local
#         example database, so that a failure found once is replayed until fixed;
#   "ci"  is derandomised: the examples are a fixed function of each test, so a
#         CI run never fails by chance, and the same run fails the same way on
#         every machine.
# "ci" is chosen when the CI environment variable is set to anything but
# "", "0", "false" or "no" (GitHub Actions, GitLab and .ci/run set CI=true);
# HYPOTHESIS_PROFILE=dev|ci overrides. deadline=None: the first call of a numba
# kernel compiles it. "ci" replaces Hypothesis's built-in profile of that name.
settings.register_profile(
    "dev",
    # Hypothesis's own defaults, not whatever profile is loaded (Hypothesis loads its
    # built-in, derandomised "ci" profile by itself when CI is set).
    parent=settings.get_profile("default"),
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "ci",
    parent=settings.get_profile("dev"),
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.register_profile("minivae", parent=settings.get_profile("dev"))   # the former name


def profile_name(environ=os.environ):
    """The hypothesis profile for this run: "ci" under CI, else "dev" (see above)."""
    chosen = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if chosen:
        return chosen
    ci = environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "dev"


settings.load_profile(profile_name())

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
