"""Tests of minivae.optim: Adam and SGD against the update rules written out by hand."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae.optim import SGD, Adam, clip_grad_norm
from tests.strategies import seeds, small_dims


def _adam_by_hand(theta0, gradients, lr, b1, b2, eps):
    """Adam as in docs/equations.md, one line per equation, for a list of gradients g_1, g_2, ..."""
    theta = theta0.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    trajectory = []
    for t, g in enumerate(gradients, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(theta.copy())
    return trajectory


@given(seed=seeds, shape=st.lists(small_dims, min_size=1, max_size=2),
       lr=st.floats(1e-4, 1.0), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       eps=st.sampled_from([1e-8, 1e-3, 0.5]))
def test_adam_first_three_steps_match_the_formula(seed, shape, lr, b1, b2, eps):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    gradients = [rng.standard_normal(shape) for _ in range(3)]
    expected = _adam_by_hand(theta, gradients, lr, b1, b2, eps)
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    for g, want in zip(gradients, expected):
        opt.step({"w": theta}, {"w": g.copy()})
        # In-place arithmetic, but the formula's operations in the formula's order: same bits.
        np.testing.assert_array_equal(theta, want)
    assert opt.t == 3


def test_adam_step_allocates_no_parameter_sized_temporary():
    # A model's flat buffer holds up to 10⁶ weights: the update is one loop with no temporaries.
    theta = np.zeros(200_000)
    opt = Adam()
    opt.step({"w": theta}, {"w": np.ones_like(theta)})      # first step allocates the state
    tracemalloc.start()
    try:
        opt.step({"w": theta}, {"w": np.ones_like(theta)})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * theta.nbytes, peak    # the gradient passed in, and nothing else of its size


@given(seed=seeds, lr=st.floats(1e-4, 1.0), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999))
def test_adam_float32_matches_the_formula_in_float32(seed, lr, b1, b2):
    # NumPy computes float32 arrays with Python-float scalars in float32; so must the loop.
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(37).astype(np.float32)
    gradients = [rng.standard_normal(37).astype(np.float32) for _ in range(3)]
    expected = _adam_by_hand(theta, gradients, lr, b1, b2, 1e-8)
    opt = Adam(lr=lr, beta1=b1, beta2=b2)
    for g, want in zip(gradients, expected):
        opt.step({"w": theta}, {"w": g})
        assert want.dtype == np.float32
        np.testing.assert_array_equal(theta, want)


def test_adam_compiled_loop_equals_the_plain_python_loop():
    from minivae.optim import _adam_loop, _adam_numba

    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(23) for _ in range(2)] + [rng.random(23), rng.random(23)]
    scalars = (0.9, 0.1, 0.999, 1e-3, 0.271, 0.00299, 0.01, 1e-8)
    compiled = [a.copy() for a in arrays]
    _adam_loop(*arrays, *scalars)
    _adam_numba(*compiled, *scalars)
    for a, b in zip(arrays, compiled):
        np.testing.assert_array_equal(a, b)


def test_adam_updates_a_non_contiguous_array_in_place():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((6, 4))
    before = base.copy()
    view = base[:, 1]                       # a strided view: the update must reach base
    copy = view.copy()
    g = rng.standard_normal(6)
    Adam(lr=0.1).step({"w": view}, {"w": g})
    Adam(lr=0.1).step({"w": copy}, {"w": g})
    np.testing.assert_array_equal(base[:, 1], copy)
    assert np.all(base[:, 1] != before[:, 1])
    np.testing.assert_array_equal(np.delete(base, 1, axis=1), np.delete(before, 1, axis=1))


@pytest.mark.parametrize("theta, g, error, match", [
    (np.zeros(3, dtype=int), np.ones(3), TypeError, "'w' has dtype int64"),
    (np.zeros(3, dtype=">f8"), np.ones(3), TypeError, "'w' has dtype >f8 \\(big-endian\\)"),
    (np.zeros(3), np.ones(4), ValueError, r"gradient of 'w' has shape \(4,\), the parameter \(3,\)"),
    (np.zeros((2, 3)), np.ones(6), ValueError, r"shape \(6,\), the parameter \(2, 3\)"),
])
def test_adam_refuses_wrong_arrays_by_name(theta, g, error, match):
    with pytest.raises(error, match=match):
        Adam().step({"w": theta}, {"w": g})


def test_adam_first_step_moves_each_entry_by_about_lr():
    # After bias correction m^_1 = g and v^_1 = g², so the first step is lr·g/(|g| + eps).
    theta = np.array([1.0, 1.0, 1.0])
    g = np.array([1e-3, -5.0, 200.0])
    Adam(lr=0.1, eps=1e-8).step({"w": theta}, {"w": g})
    np.testing.assert_allclose(theta, 1.0 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(theta, 1.0 - 0.1 * np.sign(g), rtol=2e-6)


def test_adam_defaults_are_the_papers():
    opt = Adam()
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps) == (1e-3, 0.9, 0.999, 1e-8)


def test_adam_keyed_state_updates_arrays_independently():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(3), rng.standard_normal((2, 2))
    grads = [(rng.standard_normal(3), rng.standard_normal((2, 2))) for _ in range(4)]
    joint = Adam(lr=0.05)
    a, b = a0.copy(), b0.copy()
    alone_a, alone_b = Adam(lr=0.05), Adam(lr=0.05)
    a_ref, b_ref = a0.copy(), b0.copy()
    for ga, gb in grads:
        joint.step({"a": a, "b": b}, {"a": ga.copy(), "b": gb.copy()})
        alone_a.step({"a": a_ref}, {"a": ga.copy()})
        alone_b.step({"b": b_ref}, {"b": gb.copy()})
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_array_equal(b, b_ref)
    assert set(joint.m) == {"a", "b"} and joint.m["a"].shape == (3,) and joint.v["b"].shape == (2, 2)


def test_adam_key_added_later_gets_its_own_bias_correction():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(2), rng.standard_normal(2)
    b0 = b.copy()
    opt = Adam(lr=0.1)
    for _ in range(3):
        opt.step({"a": a}, {"a": rng.standard_normal(2)})
    gb = rng.standard_normal(2)
    opt.step({"a": a, "b": b}, {"a": rng.standard_normal(2), "b": gb.copy()})
    # b's first update is that of a fresh Adam: t = 1 for b.
    np.testing.assert_allclose(b, _adam_by_hand(b0, [gb], 0.1, 0.9, 0.999, 1e-8)[0], rtol=1e-12)


def test_adam_minimises_a_quadratic():
    A = np.diag([1.0, 10.0, 100.0])
    theta = np.array([3.0, -2.0, 1.0])
    opt = Adam(lr=0.05)
    for _ in range(2000):
        opt.step({"w": theta}, {"w": A @ theta})
    assert np.abs(theta).max() < 1e-2


def test_adam_float32_state():
    theta = np.ones(3, dtype=np.float32)
    opt = Adam(lr=0.1)
    opt.step({"w": theta}, {"w": np.ones(3, dtype=np.float32)})
    assert theta.dtype == np.float32 and opt.m["w"].dtype == np.float32
    np.testing.assert_allclose(theta, 0.9, rtol=1e-6)


# ---------------------------------------------------------------------- SGD
@given(seed=seeds, lr=st.floats(1e-3, 1.0))
def test_sgd_without_momentum(seed, lr):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(4)
    want = theta.copy()
    opt = SGD(lr=lr)
    for _ in range(3):
        g = rng.standard_normal(4)
        want = want - lr * g  # (1.33)
        opt.step({"w": theta}, {"w": g})
        np.testing.assert_allclose(theta, want, rtol=1e-13, atol=1e-15)


@given(seed=seeds, lr=st.floats(1e-3, 1.0), mu=st.floats(0.05, 0.95))
def test_sgd_with_momentum(seed, lr, mu):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(4)
    want, velocity = theta.copy(), np.zeros(4)
    opt = SGD(lr=lr, momentum=mu)
    for _ in range(3):
        g = rng.standard_normal(4)
        velocity = mu * velocity - lr * g
        want = want + velocity
        opt.step({"w": theta}, {"w": g})
        np.testing.assert_allclose(theta, want, rtol=1e-12, atol=1e-14)


def test_sgd_momentum_state_is_keyed():
    a, b = np.zeros(2), np.zeros(3)
    opt = SGD(lr=1.0, momentum=0.5)
    opt.step({"a": a, "b": b}, {"a": np.ones(2), "b": -np.ones(3)})
    opt.step({"a": a, "b": b}, {"a": np.zeros(2), "b": np.zeros(3)})
    # Second step coasts on each array's own velocity: 0.5 * (∓1).
    np.testing.assert_allclose(a, -1.5)
    np.testing.assert_allclose(b, 1.5)


# ---------------------------------------------------------------------- clipping
@given(seed=seeds, max_norm=st.floats(0.1, 10.0))
def test_clip_grad_norm(seed, max_norm):
    rng = np.random.default_rng(seed)
    grads = {"a": 3 * rng.standard_normal(4), "b": 3 * rng.standard_normal((2, 3))}
    before = {k: v.copy() for k, v in grads.items()}
    norm = np.sqrt(sum((v ** 2).sum() for v in before.values()))
    returned = clip_grad_norm(grads, max_norm)
    assert returned == pytest.approx(norm, rel=1e-12)
    after = np.sqrt(sum((v ** 2).sum() for v in grads.values()))
    if norm > max_norm:
        assert after == pytest.approx(max_norm, rel=1e-9)
        # Direction is kept: one common scale factor.
        for k in grads:
            np.testing.assert_allclose(grads[k], before[k] * (after / norm), rtol=1e-12)
    else:
        for k in grads:
            np.testing.assert_array_equal(grads[k], before[k])


@pytest.mark.parametrize("dtype, big", [(np.float32, 1e20), (np.float64, 1e200)])
def test_clip_grad_norm_when_the_squares_overflow(dtype, big):
    # Finite gradients whose squared norm overflows (float32 from ~1.8e19) are still
    # scaled to max_norm, not to zero (inf norm -> scale 0 made the step vanish).
    grads = {"a": np.full(10, big, dtype=dtype), "b": np.array([-big, 0.0], dtype=dtype)}
    norm = clip_grad_norm(grads, 2.0)
    assert norm == pytest.approx(big * np.sqrt(11), rel=1e-6)
    after = np.sqrt(sum(float(np.vdot(g.astype(np.float64), g.astype(np.float64))) for g in grads.values()))
    assert after == pytest.approx(2.0, rel=1e-6)
    assert grads["a"].dtype == dtype and grads["b"][0] < 0
    # An infinite gradient has no direction to keep: the norm is inf, as before.
    with np.errstate(invalid="ignore"):
        assert clip_grad_norm({"a": np.array([np.inf, 1.0])}, 1.0) == np.inf


def test_optimiser_clip_norm_limits_the_step():
    theta = np.zeros(2)
    SGD(lr=1.0, clip_norm=1.0).step({"w": theta}, {"w": np.array([30.0, 40.0])})
    np.testing.assert_allclose(theta, [-0.6, -0.8], rtol=1e-10)


# ---------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("make, match", [
    (lambda: Adam(lr=0), "lr must be a finite positive number, got 0"),
    (lambda: Adam(lr=-1), "lr must be a finite positive number, got -1"),
    (lambda: Adam(lr=float("nan")), "lr must be a finite positive number, got nan"),
    (lambda: Adam(beta1=1.0), r"beta1 must lie in \[0, 1\), got 1.0"),
    (lambda: Adam(beta2=1.5), r"beta2 must lie in \[0, 1\), got 1.5"),
    (lambda: Adam(beta1=-0.1), r"beta1 must lie in \[0, 1\), got -0.1"),
    (lambda: Adam(eps=0), "eps must be a finite positive number, got 0"),
    (lambda: Adam(clip_norm=-1), "clip_norm must be a finite positive number, got -1"),
    (lambda: SGD(lr=-0.5), "lr must be a finite positive number, got -0.5"),
    (lambda: SGD(momentum=1.0), r"momentum must lie in \[0, 1\), got 1.0"),
    (lambda: SGD(momentum=-0.2), "momentum must be a finite non-negative number, got -0.2"),
])
def test_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_numeric_hyperparameter_raises_type_error():
    with pytest.raises(TypeError, match="lr must be a real number, got str"):
        Adam(lr="0.1")


def test_mismatched_keys_raise():
    with pytest.raises(ValueError, match="params and grads must have the same keys"):
        Adam().step({"a": np.zeros(2)}, {"b": np.zeros(2)})


# ---------------------------------------------------------------------- Adam on a student's arrays
def test_adam_refuses_a_new_array_under_a_used_name():
    # The compiled loop indexes m and v by the parameter's size: a parameter that grew
    # under the same name read and wrote past the end of the state (a segfault at 3 -> 1000).
    opt = Adam()
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    bigger = np.zeros(5)
    with pytest.raises(ValueError, match=r"state for 'w' has shape \(3,\) .* parameter \(5,\).*new Adam"):
        opt.step({"w": bigger}, {"w": np.ones(5)})
    assert np.all(bigger == 0.0) and opt.steps["w"] == 1
    with pytest.raises(ValueError, match=r"dtype float64, the parameter \(3,\) and float32"):
        opt.step({"w": np.zeros(3, np.float32)}, {"w": np.ones(3, np.float32)})


@pytest.mark.parametrize("make_theta", [
    lambda: np.zeros(3),                        # contiguous: numba refused to compile the store
    lambda: np.zeros((3, 2))[:, 0],             # strided
    lambda: np.broadcast_to(np.zeros(1), (3,)),
], ids=["contiguous", "strided", "broadcast"])
def test_adam_refuses_a_read_only_parameter_by_name(make_theta):
    theta = make_theta()
    theta.flags.writeable = False
    with pytest.raises(ValueError, match="parameter 'w' is a read-only array"):
        Adam().step({"w": theta}, {"w": np.ones(3)})


@pytest.mark.parametrize("params, grads, match", [
    ([np.zeros(3)], [np.ones(3)], "params must be a dict of arrays keyed by name, got list"),
    ({"w": np.zeros(3)}, (np.ones(3),), "grads must be a dict of arrays keyed by name, got tuple"),
    ({"w": [0.0, 0.0]}, {"w": np.ones(2)}, "parameter 'w' must be a NumPy array .*, got list"),
    # A NumPy scalar cannot be updated in place: it was silently left as it was.
    ({"w": np.float64(1.0)}, {"w": np.float64(1.0)}, "parameter 'w' must be a NumPy array .*, got float64"),
    ({"w": np.zeros(3)}, {"w": np.array(["1", "2", "3"])}, "gradient of 'w' must hold real numbers, got dtype <U1"),
    ({"w": np.zeros(3)}, {"w": np.ones(3) * 1j}, "gradient of 'w' must hold real numbers, got dtype complex128"),
])
def test_adam_refuses_what_it_cannot_update_by_name(params, grads, match):
    with pytest.raises(TypeError, match=match):
        Adam().step(params, grads)


def test_adam_gradient_overlapping_its_parameter_is_read_before_it_is_written():
    # g and theta shifted views of one buffer: the loop overwrote g[i + 1] (theta[i]) before reading it.
    base = np.arange(6.0)
    theta, g = base[1:4], base[0:3]
    theta0, g0 = theta.copy(), g.copy()
    Adam(lr=0.1).step({"w": theta}, {"w": g})
    np.testing.assert_array_equal(theta, _adam_by_hand(theta0, [g0], 0.1, 0.9, 0.999, 1e-8)[0])


@pytest.mark.parametrize("order", ["F", "C"])
def test_adam_takes_a_list_gradient_and_any_memory_order(order):
    rng = np.random.default_rng(5)
    theta0 = rng.standard_normal((3, 4))
    gs = [rng.standard_normal((3, 4)) for _ in range(2)]
    theta = np.array(theta0, order=order)
    opt = Adam(lr=0.05)
    opt.step({"w": theta}, {"w": gs[0].tolist()})
    opt.step({"w": theta}, {"w": np.asfortranarray(gs[1])})
    np.testing.assert_array_equal(theta, _adam_by_hand(theta0, gs, 0.05, 0.9, 0.999, 1e-8)[-1])
    assert theta.flags.f_contiguous == (order == "F")
