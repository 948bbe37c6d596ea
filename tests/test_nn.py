"""Tests of minivae.nn: activations, Dense (plain and stacked), MLP, FlatParameters.

Every backward pass is checked against central differences (float64, max
relative error < 1e-6) with the loss L = Σ c ⊙ y, a random linear functional of
the output, so that ∂L/∂y = c is an arbitrary upstream gradient.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae.gradcheck import check_gradients
from minivae.nn import (
    ACTIVATIONS,
    MLP,
    Dense,
    FlatParameters,
    Swish,
    get_activation,
    sigmoid,
    softplus,
)
from tests.strategies import batch_sizes, seeds, small_dims

activation_names = st.sampled_from(sorted(ACTIVATIONS))


def _reference(name, a, beta):
    """Each activation written out directly from its definition (thesis §1.3.2)."""
    if name == "identity":
        return a
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-a))
    if name == "tanh":
        return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))
    if name == "relu":
        return np.where(a > 0, a, 0.0)
    if name == "softplus":
        return np.log(1.0 + np.exp(a))
    b = 1.0 if beta is None else beta
    return a / (1.0 + np.exp(-b * a))


# ---------------------------------------------------------------------- activations
@given(name=activation_names, seed=seeds, n=batch_sizes, m=small_dims)
def test_activation_gradients(name, seed, n, m):
    act = ACTIVATIONS[name]()
    rng = np.random.default_rng(seed)
    a = 2.0 * rng.standard_normal((n, m))
    c = rng.standard_normal((n, m))
    arrays = {"a": a}
    if act.trainable:
        # Away from β = 1 so that a β/1 mix-up would show.
        arrays["beta"] = rng.uniform(0.3, 2.5, size=m)

    def func():
        beta = arrays["beta"][None, :] if act.trainable else None
        z = act.forward(a, beta)
        da, d_beta = act.backward(c, a, z, beta)
        grads = {"a": da}
        if act.trainable:
            grads["beta"] = d_beta
        else:
            assert d_beta is None
        return float(np.sum(c * z)), grads

    check_gradients(func, arrays).assert_ok(1e-6)


@given(name=activation_names, seed=seeds)
def test_activation_values_match_definitions(name, seed):
    rng = np.random.default_rng(seed)
    a = 3.0 * rng.standard_normal((4, 3))
    act = ACTIVATIONS[name]()
    beta = rng.uniform(0.3, 2.5, size=3)[None, :] if act.trainable else None
    np.testing.assert_allclose(act.forward(a, beta), _reference(name, a, beta),
                               rtol=1e-12, atol=1e-14)


def test_activation_registry_and_names():
    assert set(ACTIVATIONS) == {"identity", "sigmoid", "tanh", "relu", "softplus",
                                "swish", "swish_beta"}
    for name in ACTIVATIONS:
        assert get_activation(name).name == name
    swish = Swish(trainable=True)
    assert get_activation(swish) is swish
    assert not get_activation("swish").trainable and get_activation("swish_beta").trainable
    with pytest.raises(ValueError, match="activation must be one of .*got 'foo'"):
        get_activation("foo")
    with pytest.raises(ValueError, match="got 3"):
        get_activation(3)


def test_swish_with_beta_one_is_silu():
    a = np.linspace(-6, 6, 25)[None, :]
    silu = a / (1.0 + np.exp(-a))
    np.testing.assert_allclose(Swish().forward(a), silu, rtol=1e-13)
    np.testing.assert_allclose(Swish(trainable=True).forward(a, np.ones_like(a)), silu, rtol=1e-13)


def test_sigmoid_is_stable_at_extremes():
    a = np.array([-1000.0, -745.0, -50.0, 0.0, 50.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = sigmoid(a)
            sp = softplus(a)
    assert s[0] == 0.0 and s[-1] == 1.0
    assert s[3] == 0.5
    assert np.all(np.isfinite(s)) and np.all(np.diff(s) >= 0)
    # softplus(a) = a for large a and 0 for very negative a, without overflow.
    assert sp[-1] == 1000.0 and sp[0] == 0.0
    # The naive formula does overflow there, so the check above is not vacuous.
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            1.0 / (1.0 + np.exp(-a))


@given(seed=seeds)
def test_sigmoid_matches_naive_formula_for_moderate_arguments(seed):
    a = 10.0 * np.random.default_rng(seed).standard_normal(50)
    np.testing.assert_allclose(sigmoid(a), 1.0 / (1.0 + np.exp(-a)), rtol=1e-14, atol=0)
    np.testing.assert_allclose(softplus(a), np.log1p(np.exp(a)), rtol=1e-13, atol=0)


def test_sigmoid_float32_stays_float32_without_warnings():
    a = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(a)
    assert s.dtype == np.float32
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5


# ---------------------------------------------------------------------- Dense
@given(name=activation_names, seed=seeds, n=batch_sizes, n_in=small_dims, n_out=small_dims,
       n_stack=st.one_of(st.none(), st.integers(1, 3)))
def test_dense_gradients(name, seed, n, n_in, n_out, n_stack):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, name, n_stack=n_stack)
    params = layer.init_params(rng)
    # Non-zero biases and β ≠ 1 so that every term of the backward pass matters.
    params["b"][...] = rng.standard_normal(params["b"].shape)
    if "beta" in params:
        params["beta"][...] = rng.uniform(0.3, 2.5, size=params["beta"].shape)
    lead = () if n_stack is None else (n_stack,)
    x = rng.standard_normal(lead + (n, n_in))
    c = rng.standard_normal(lead + (n, n_out))
    arrays = {**layer.params, "x": x}

    def func():
        y, cache = layer.forward(x)
        dx, grads = layer.backward(c, cache)
        return float(np.sum(c * y)), {**grads, "x": dx}

    check_gradients(func, arrays).assert_ok(1e-6)


@given(seed=seeds, n=batch_sizes, k=st.integers(1, 3))
def test_stacked_dense_equals_independent_layers(seed, n, k):
    rng = np.random.default_rng(seed)
    stacked = Dense(3, 2, "swish_beta", n_stack=k)
    params = stacked.init_params(rng)
    params["beta"][...] = rng.uniform(0.5, 2.0, size=params["beta"].shape)
    params["b"][...] = rng.standard_normal(params["b"].shape)
    x = rng.standard_normal((k, n, 3))
    c = rng.standard_normal((k, n, 2))
    y, cache = stacked.forward(x)
    dx, grads = stacked.backward(c, cache)
    for i in range(k):
        single = Dense(3, 2, "swish_beta")
        single.bind({name: params[name][i] for name in single.shapes})
        yi, ci = single.forward(x[i])
        dxi, gi = single.backward(c[i], ci)
        np.testing.assert_allclose(y[i], yi, rtol=1e-13)
        np.testing.assert_allclose(dx[i], dxi, rtol=1e-13, atol=1e-15)
        for name in gi:
            np.testing.assert_allclose(grads[name][i], gi[name], rtol=1e-13, atol=1e-15)


def test_dense_shapes_and_initialisation():
    rng = np.random.default_rng(0)
    layer = Dense(300, 200, "tanh")
    p = layer.init_params(rng)
    assert p["W"].shape == (200, 300) and p["b"].shape == (200,)
    assert np.all(p["b"] == 0)
    r = np.sqrt(6.0 / 500)
    assert np.abs(p["W"]).max() <= r
    # Glorot-uniform variance r²/3 = 2/(n_in + n_out).
    assert abs(p["W"].var() / (2.0 / 500) - 1) < 0.05
    relu = Dense(300, 200, "relu").init_params(rng)
    assert abs(relu["W"].var() / (2.0 / 300) - 1) < 0.05
    swish = Dense(4, 3, "swish_beta")
    assert swish.init_params(rng)["beta"].tolist() == [1.0, 1.0, 1.0]
    assert Dense(4, 3, "swish").shapes.keys() == {"W", "b"}
    stacked = Dense(4, 3, "swish_beta", n_stack=5)
    assert stacked.shapes == {"W": (5, 3, 4), "b": (5, 3), "beta": (5, 3)}


def test_dense_init_is_reproducible_from_the_generator():
    a = Dense(5, 4).init_params(np.random.default_rng(7))
    b = Dense(5, 4).init_params(np.random.default_rng(7))
    c = Dense(5, 4).init_params(np.random.default_rng(8))
    assert np.array_equal(a["W"], b["W"])
    assert not np.array_equal(a["W"], c["W"])


def test_dense_bad_arguments():
    with pytest.raises(ValueError, match="n_in must be an int >= 1, got 0"):
        Dense(0, 3)
    with pytest.raises(ValueError, match="n_stack must be an int >= 1, got 0"):
        Dense(2, 3, n_stack=0)
    layer = Dense(2, 3)
    with pytest.raises(ValueError, match=r"parameter W has shape \(2, 3\), expected \(3, 2\)"):
        layer.bind({"W": np.zeros((2, 3)), "b": np.zeros(3)})


def test_dense_backward_accumulates_into_given_arrays():
    rng = np.random.default_rng(1)
    layer = Dense(3, 2, "swish_beta")
    layer.init_params(rng)
    x = rng.standard_normal((4, 3))
    c = rng.standard_normal((4, 2))
    y, cache = layer.forward(x)
    _, fresh = layer.backward(c, cache)
    acc = {k: np.ones_like(v) for k, v in fresh.items()}
    dx, out = layer.backward(c, cache, grads=acc, need_dx=False)
    assert dx is None and out is acc
    for k in fresh:
        np.testing.assert_allclose(acc[k], 1.0 + fresh[k], rtol=1e-14)


def test_dense_accepts_float32():
    rng = np.random.default_rng(2)
    layer = Dense(3, 2, "sigmoid")
    layer.init_params(rng, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in layer.params.values())
    x32 = rng.standard_normal((5, 3)).astype(np.float32)
    y, cache = layer.forward(x32)
    assert y.dtype == np.float32
    dx, grads = layer.backward(np.ones_like(y), cache)
    assert dx.dtype == np.float32 and grads["W"].dtype == np.float32
    # float32 input through float64 weights also works (result promoted).
    layer64 = Dense(3, 2, "sigmoid")
    layer64.init_params(np.random.default_rng(2))
    y64, _ = layer64.forward(x32)
    np.testing.assert_allclose(y64, y, rtol=1e-5)


# ---------------------------------------------------------------------- MLP
@given(seed=seeds, n=batch_sizes,
       sizes=st.lists(small_dims, min_size=2, max_size=4),
       activation=activation_names, out_activation=activation_names,
       n_stack=st.one_of(st.none(), st.integers(1, 2)))
def test_mlp_gradients(seed, n, sizes, activation, out_activation, n_stack):
    rng = np.random.default_rng(seed)
    mlp = MLP(sizes, activation, out_activation, n_stack=n_stack)
    mlp.init_params(rng)
    for name, v in mlp.params.items():
        if name.endswith(".b"):
            v[...] = 0.5 * rng.standard_normal(v.shape)
        elif name.endswith(".beta"):
            v[...] = rng.uniform(0.3, 2.5, size=v.shape)
    lead = () if n_stack is None else (n_stack,)
    x = rng.standard_normal(lead + (n, sizes[0]))
    c = rng.standard_normal(lead + (n, sizes[-1]))
    arrays = {**mlp.params, "x": x}
    assert set(mlp.params) == set(mlp.shapes)

    def func():
        y, caches = mlp.forward(x)
        dx, grads = mlp.backward(c, caches)
        return float(np.sum(c * y)), {**grads, "x": dx}

    check_gradients(func, arrays).assert_ok(1e-6)


def test_mlp_structure_and_names():
    mlp = MLP([4, 3, 2], activation="tanh", out_activation="sigmoid")
    assert [layer.activation.name for layer in mlp.layers] == ["tanh", "sigmoid"]
    assert list(mlp.shapes) == ["0.W", "0.b", "1.W", "1.b"]
    assert mlp.shapes["0.W"] == (3, 4) and mlp.shapes["1.W"] == (2, 3)
    with pytest.raises(ValueError, match="at least an input and an output size"):
        MLP([3])
    with pytest.raises(ValueError, match="layer size must be an int >= 1, got 0"):
        MLP([3, 0, 2])


def test_mlp_bound_to_flat_buffer_accumulates_twice_run_gradients():
    """Running the network twice and adding both backward passes gives the gradient of the sum."""
    rng = np.random.default_rng(3)
    mlp = MLP([3, 4, 2], "swish_beta")
    flat = FlatParameters({f"net.{k}": s for k, s in mlp.shapes.items()})
    params, grads = flat.subset("net.")
    mlp.bind(params)
    for k, v in mlp.init_params(rng, bind=False).items():
        params[k][...] = v
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    c1, c2 = rng.standard_normal((5, 2)), rng.standard_normal((2, 2))

    def func():
        flat.grad.fill(0.0)
        y1, k1 = mlp.forward(x1)
        y2, k2 = mlp.forward(x2)
        mlp.backward(c1, k1, grads, need_dx=False)
        mlp.backward(c2, k2, grads, need_dx=False)
        return float(np.sum(c1 * y1) + np.sum(c2 * y2)), {"theta": flat.grad.copy()}

    check_gradients(func, {"theta": flat.theta}).assert_ok(1e-6)


def test_flat_parameters_views():
    flat = FlatParameters({"a.W": (2, 3), "a.b": (3,), "u": (1,)})
    assert flat.theta.size == 10 and flat.grad.size == 10
    flat.params["a.b"][...] = [1.0, 2.0, 3.0]
    assert flat.theta[6:9].tolist() == [1.0, 2.0, 3.0]
    p, g = flat.subset("a.")
    assert set(p) == {"W", "b"} and set(g) == {"W", "b"}
    assert np.shares_memory(p["W"], flat.theta) and np.shares_memory(g["W"], flat.grad)
    assert FlatParameters({"x": (2,)}, dtype=np.float32).theta.dtype == np.float32
