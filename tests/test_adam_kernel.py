"""The compiled Adam pass gives the NumPy formulas' result bit for bit."""

import numpy as np
import pytest

from minivae._adam_kernel import _adam_loops, _constants, adam_update, adam_update_reference
from minivae.optim import Adam


def _run(update, dtype, seed, n=257, steps=40, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n).astype(dtype)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        # Gradients over many orders of magnitude, zeros included.
        g = (rng.standard_normal(n) * 10.0 ** rng.integers(-12, 4, size=n)).astype(dtype)
        g[::17] = 0.0
        update(theta, g, m, v, t, beta1, beta2, lr, eps)
    return theta, m, v


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_adam_equals_numpy_formulas_bit_for_bit(dtype, seed):
    ours = _run(adam_update, dtype, seed)
    ref = _run(adam_update_reference, dtype, seed)
    for a, b in zip(ours, ref):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plain_loops_uncompiled_equal_the_reference(dtype):
    rng = np.random.default_rng(3)
    theta, g = rng.standard_normal(9).astype(dtype), rng.standard_normal(9).astype(dtype)
    m, v = rng.standard_normal(9).astype(dtype), rng.random(9).astype(dtype)
    ref = [a.copy() for a in (theta, g, m, v)]
    adam_update_reference(ref[0], ref[1], ref[2], ref[3], 4, 0.8, 0.99, 0.01, 1e-6)
    _adam_loops(theta, g, m, v, *_constants(dtype, 4, 0.8, 0.99, 0.01, 1e-6))
    for a, b in zip((theta, m, v), (ref[0], ref[2], ref[3])):
        np.testing.assert_array_equal(a, b)


def test_non_contiguous_and_nd_buffers_take_the_reference_path():
    rng = np.random.default_rng(4)
    full = rng.standard_normal((6, 8))
    theta = full[:, ::2]                   # neither 1-D nor contiguous
    g = rng.standard_normal(theta.shape)
    ref, others = theta.copy(), full[:, 1::2].copy()
    m, v, m2, v2 = (np.zeros_like(ref) for _ in range(4))
    adam_update(theta, g, m, v, 1, 0.9, 0.999, 1e-3, 1e-8)
    adam_update_reference(ref, g, m2, v2, 1, 0.9, 0.999, 1e-3, 1e-8)
    np.testing.assert_array_equal(theta, ref)
    np.testing.assert_array_equal(full[:, 1::2], others)  # the columns between are untouched


def test_adam_optimizer_runs_the_compiled_pass_on_a_flat_buffer():
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(100)
    ref, m, v = theta.copy(), np.zeros(100), np.zeros(100)
    adam = Adam(lr=0.01)
    for t in range(1, 6):
        g = rng.standard_normal(100)
        adam.step({"theta": theta}, {"theta": g})
        adam_update_reference(ref, g, m, v, t, 0.9, 0.999, 0.01, 1e-8)
    np.testing.assert_array_equal(theta, ref)
    np.testing.assert_array_equal(adam.m["theta"], m)
    assert adam.steps["theta"] == 5
