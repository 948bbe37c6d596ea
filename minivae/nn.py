"""The hand-written neural-network core: activations, dense layers, MLPs, flat parameters.

Everything here follows thesis §1.3 (equations in docs/equations.md). A dense layer computes

    a_j = Σ_i w_ji x_i + b_j          (1.29)
    z_j = h(a_j)                      (1.30)

and its backward pass is backpropagation (1.36-1.37):

    δ_j = ∂L/∂a_j = h'(a_j) ∂L/∂z_j,   ∂L/∂w_ji = δ_j x_i,   ∂L/∂x_i = Σ_j w_ji δ_j.

Layers keep no state between calls: ``forward(x)`` returns ``(y, cache)`` and
``backward(dy, cache)`` returns ``(dx, grads)``. The cache is handed back
explicitly, so one network can be run twice in a step (a batch and
VampPrior's pseudo-inputs) without the second pass overwriting the first.

``backward`` can also *add* its gradients into arrays it is given
(``grads=...``): a model keeps all its weights and gradients in one flat
buffer (:class:`FlatParameters`) whose named views are handed to the layers,
and accumulation is what makes a twice-run encoder receive the sum of both
contributions.

Every layer can be *stacked*: with ``n_stack=K`` the weights get a leading
axis of K independent copies and the input a matching leading axis, so K
mixture components run as one batched matrix product.

Contract: unchecked building blocks. The functions and the ``forward`` /
``backward`` methods here run several times in every training step, under
estimators that have already checked their data (``minivae.models`` call
``minivae._validation.check_array`` once per ``fit`` or score call), so they
do not validate their inputs: they expect float arrays (float64 or float32)
of the documented shapes. A wrong shape fails inside NumPy, and NaN or ±inf
pass through to the output. Constructors (``Dense``, ``MLP``, ``Swish``,
``FlatParameters``) run once and do check their arguments. When you call these
blocks yourself, check your arrays first, e.g. with ``check_array``.
"""

import functools

import numpy as np
from scipy.special import expit as _expit

from ._validation import check_positive_int

__all__ = [
    "sigmoid",
    "softplus",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "Softplus",
    "Swish",
    "ACTIVATIONS",
    "get_activation",
    "Dense",
    "MLP",
    "FlatParameters",
]


def _numpy_exp64_is_simd():
    """True where NumPy's float64 exp runs its AVX-512 (X86_V4) SIMD loop on this CPU."""
    try:
        from numpy.lib.introspect import opt_func_info
        current = opt_func_info(func_name="exp", signature="float64")["exp"]["dd"]["current"]
    except (ImportError, KeyError, TypeError, ValueError):
        return False
    return current == "X86_V4" or "AVX512" in current


# A property of the machine, so the same seed still gives the same bits on it.
_FAST_EXP64 = _numpy_exp64_is_simd()


def sigmoid(a):
    """Logistic sigmoid σ(a) = 1 / (1 + e^{-a}) (1.15), without overflow warnings for any a.

    Notes
    -----
    The formula is evaluated as written. It has a small *relative* error even
    where σ(a) is tiny, because e^{-a}, 1 + e^{-a} and the reciprocal each
    have one. Only where σ(a) would be below the smallest normal number
    (a < −709 in float64, a < −88 in float32) does e^{-a} overflow to +inf,
    and then 1 / (1 + inf) = 0 is the value flushed to zero, so that overflow
    is harmless and is not reported. This agrees with the sign-split form
    (e^{a} / (1 + e^{a}) for a < 0) to rounding.

    The sigmoid is the hottest elementwise function of the networks
    (benchmarks/bench_vae.py). In float64, NumPy's exp is a scalar loop on
    CPUs without AVX-512, and ``scipy.special.expit`` evaluates exactly this
    formula (bit for bit) in one pass instead of four, which makes a VAE
    training step 5-7 % faster. Where NumPy runs its AVX-512 float64 exp
    (``_FAST_EXP64``, decided once per machine) and in float32, NumPy's
    vectorised exp is faster than expit's scalar one (2.5x on 100 x 30 in
    float64), so the four NumPy passes below are used.
    """
    dtype = getattr(a, "dtype", None)
    if dtype != np.float32 and not (_FAST_EXP64 and dtype == np.float64):
        return _expit(a)
    with np.errstate(over="ignore"):
        e = np.exp(np.negative(a))
    e += 1.0
    return 1.0 / e


def softplus(a):
    """softplus(a) = ln(1 + e^{a}) = max(a, 0) + ln(1 + e^{-|a|}), stable for any a.

    Integer and bool input is computed in float64 (−|a| of an unsigned int
    would wrap around); float32 stays float32.
    """
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


class Identity:
    """h(a) = a."""

    name = "identity"
    trainable = False

    def forward(self, a, beta=None):
        return a

    def backward(self, dz, a, z, beta=None):
        """Return (dL/da, dL/dβ); the second is None for activations without β."""
        return dz, None


class Sigmoid(Identity):
    """h(a) = σ(a) (1.15); h'(a) = σ(a)(1 − σ(a)), written with the output z."""

    name = "sigmoid"

    def forward(self, a, beta=None):
        return sigmoid(a)

    def backward(self, dz, a, z, beta=None):
        return dz * z * (1.0 - z), None


class Tanh(Identity):
    """h(a) = tanh(a); h'(a) = 1 − tanh²(a)."""

    name = "tanh"

    def forward(self, a, beta=None):
        return np.tanh(a)

    def backward(self, dz, a, z, beta=None):
        return dz * (1.0 - z * z), None


class ReLU(Identity):
    """h(a) = max(0, a); h'(a) = 1 for a > 0 and 0 otherwise (0 at a = 0)."""

    name = "relu"

    def forward(self, a, beta=None):
        return np.maximum(a, 0.0)

    def backward(self, dz, a, z, beta=None):
        return dz * (a > 0), None


class Softplus(Identity):
    """h(a) = ln(1 + e^a); h'(a) = σ(a)."""

    name = "softplus"

    def forward(self, a, beta=None):
        return softplus(a)

    def backward(self, dz, a, z, beta=None):
        return dz * sigmoid(a), None


class Swish(Identity):
    """Swish h(a) = a·σ(βa) (Ramachandran et al. 2017); β = 1 is SiLU.

    Notes
    -----
    With s = σ(βa):
        ∂h/∂a = s (1 + βa (1 − s)),    ∂h/∂β = a² s (1 − s).
    Both need the pre-activation a, which is why a dense layer caches a.
    With ``trainable=True`` the layer owning this activation holds one β per
    unit, initialised to 1, learned with the weights.

    References
    ----------
    Ramachandran, P., Zoph, B. & Le, Q. V. (2017). Searching for activation functions.
    arXiv:1710.05941.
    """

    def __init__(self, trainable=False):
        self.trainable = bool(trainable)
        self.name = "swish_beta" if self.trainable else "swish"

    def forward(self, a, beta=None):
        return a * sigmoid(a if beta is None else beta * a)

    def backward(self, dz, a, z, beta=None):
        ba = a if beta is None else beta * a
        s = sigmoid(ba)
        s1 = s * (1.0 - s)
        da = dz * (s + ba * s1)
        if beta is None:
            return da, None
        # Sum over the batch axis: β is shared by every sample.
        return da, (dz * a * a * s1).sum(axis=-2)


# Names usable in a model's ``activation=`` argument (and in saved configs).
ACTIVATIONS = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "softplus": Softplus,
    "swish": lambda: Swish(trainable=False),
    "swish_beta": lambda: Swish(trainable=True),
}


def get_activation(activation, name="activation"):
    """Return an activation object from its name (see ``ACTIVATIONS``) or pass one through.

    ``name`` is the argument named in the error message.
    """
    if isinstance(activation, Identity):
        return activation
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"{name} must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        )
    return ACTIVATIONS[activation]()


@functools.lru_cache(maxsize=32)
def _ones(n, dtype):
    """A read-only vector of n ones (cached: the batch size rarely changes)."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


class Dense:
    """Fully connected layer z = h(x Wᵀ + b) (1.29-1.30), optionally stacked K times.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    activation : str or activation object
        h; see ``ACTIVATIONS``. ``"swish_beta"`` adds a trainable β per unit.
    n_stack : int or None
        If given, K independent copies: W has shape (K, n_out, n_in), b and β
        (K, n_out), inputs (K, n, n_in).

    Attributes
    ----------
    shapes : dict
        Parameter name -> shape: ``W`` (n_out, n_in) holds w_ji as in (1.29),
        ``b`` (n_out,), and ``beta`` (n_out,) for a trainable swish.
    params : dict
        Parameter name -> array, set by :meth:`bind` (views into a model's flat
        buffer) or by :meth:`init_params` for standalone use.
    """

    def __init__(self, n_in, n_out, activation="identity", n_stack=None):
        self.n_in = check_positive_int(n_in, "n_in")
        self.n_out = check_positive_int(n_out, "n_out")
        self.n_stack = None if n_stack is None else check_positive_int(n_stack, "n_stack")
        self.activation = get_activation(activation)
        lead = () if self.n_stack is None else (self.n_stack,)
        self.shapes = {"W": lead + (self.n_out, self.n_in), "b": lead + (self.n_out,)}
        if self.activation.trainable:
            self.shapes["beta"] = lead + (self.n_out,)
        self.params = {}

    def init_params(self, rng, dtype=np.float64, bind=True):
        """Draw initial parameters from the Generator ``rng``.

        W is Glorot-uniform, U(−r, r) with r = √(6 / (n_in + n_out)) (Glorot &
        Bengio 2010), or He-normal N(0, 2/n_in) for ReLU (He et al. 2015);
        b = 0; β = 1.
        """
        if self.activation.name == "relu":
            W = rng.standard_normal(self.shapes["W"]) * np.sqrt(2.0 / self.n_in)
        else:
            r = np.sqrt(6.0 / (self.n_in + self.n_out))
            W = rng.uniform(-r, r, size=self.shapes["W"])
        values = {"W": W, "b": np.zeros(self.shapes["b"])}
        if "beta" in self.shapes:
            values["beta"] = np.ones(self.shapes["beta"])
        values = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in values.items()}
        if bind:
            self.bind(values)
        return values

    def bind(self, params):
        """Use the given arrays (e.g. views into a flat buffer) as this layer's parameters."""
        for name, shape in self.shapes.items():
            if params[name].shape != shape:
                raise ValueError(f"parameter {name} has shape {params[name].shape}, expected {shape}")
        self.params = {name: params[name] for name in self.shapes}

    def forward(self, x):
        """Return ``(z, cache)``, z = h(x Wᵀ + b) (1.29-1.30); x is (n, n_in) or (K, n, n_in)."""
        p = self.params
        a = x @ p["W"].mT
        a += p["b"][..., None, :]  # in place: a is a fresh array
        beta = p["beta"][..., None, :] if "beta" in p else None
        z = self.activation.forward(a, beta)
        return z, (x, a, z)

    def backward(self, dz, cache, grads=None, need_dx=True):
        """Backpropagate dL/dz through the layer: the chain rule (1.34-1.35) gives (1.36-1.37).

        Parameters
        ----------
        dz : ndarray
            ∂L/∂z, shaped like the output.
        cache : tuple
            What :meth:`forward` returned with z.
        grads : dict, optional
            Arrays shaped like the parameters into which the gradients are
            *added*. If None, fresh arrays are returned.
        need_dx : bool
            Skip the input gradient (the first layer of a network needs none).

        Returns
        -------
        dx : ndarray or None
            ∂L/∂x = δ W.
        grads : dict
            ∂L/∂W = δᵀx (summed over the batch), ∂L/∂b = Σ_n δ, and ∂L/∂β.
        """
        x, a, z = cache
        p = self.params
        beta = p["beta"][..., None, :] if "beta" in p else None
        delta, d_beta = self.activation.backward(dz, a, z, beta)
        dW = delta.mT @ x
        # The bias is the weight of a constant input 1, so Σ_n δ_n = δᵀ1 like
        # dW = δᵀx; as a matrix-vector product this is twice as fast as
        # delta.sum(axis=-2) at batch sizes of 100.
        db = delta.mT @ _ones(delta.shape[-2], delta.dtype)
        if grads is None:
            grads = {"W": dW, "b": db}
            if d_beta is not None:
                grads["beta"] = d_beta
        else:
            grads["W"] += dW
            grads["b"] += db
            if d_beta is not None:
                grads["beta"] += d_beta
        dx = delta @ p["W"] if need_dx else None
        return dx, grads


class MLP:
    """A chain of dense layers with widths ``sizes = [n_in, h_1, ..., n_out]`` (1.31-1.32).

    Hidden layers use ``activation``, the last layer ``out_activation``.
    Parameter names are qualified by layer index: ``"0.W"``, ``"0.b"``, ``"1.W"``, ...
    """

    def __init__(self, sizes, activation="sigmoid", out_activation="identity", n_stack=None):
        sizes = [check_positive_int(s, "layer size") for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
        self.sizes = sizes
        n_layers = len(sizes) - 1
        self.layers = [
            Dense(sizes[i], sizes[i + 1],
                  activation if i < n_layers - 1 else out_activation, n_stack=n_stack)
            for i in range(n_layers)
        ]
        self.shapes = {f"{i}.{k}": s for i, layer in enumerate(self.layers)
                       for k, s in layer.shapes.items()}
        # Each layer's names -> qualified names, built once instead of every backward pass.
        self._qualified = [{k: f"{i}.{k}" for k in layer.shapes} for i, layer in enumerate(self.layers)]

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def init_params(self, rng, dtype=np.float64, bind=True):
        """Initialise every layer (see :meth:`Dense.init_params`); returns the qualified dict."""
        values = {}
        for i, layer in enumerate(self.layers):
            for k, v in layer.init_params(rng, dtype, bind=bind).items():
                values[f"{i}.{k}"] = v
        return values

    def bind(self, params):
        """Bind qualified arrays ``{"0.W": ..., ...}`` to the layers."""
        for i, layer in enumerate(self.layers):
            layer.bind({k: params[f"{i}.{k}"] for k in layer.shapes})

    def forward(self, x):
        """Return ``(y, caches)``: the output (1.31-1.32) and one cache per layer."""
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x)
            caches.append(cache)
        return x, caches

    def backward(self, dy, caches, grads=None, need_dx=True):
        """Backpropagate (1.36-1.37) through all layers, last to first.

        ``grads`` (optional) is a qualified dict of arrays to add into; the
        returned dict has the same qualified names.
        """
        out = {} if grads is None else grads
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            sub = None if grads is None else {k: grads[q] for k, q in self._qualified[i].items()}
            dy, g = layer.backward(dy, caches[i], sub, need_dx=need_dx or i > 0)
            if grads is None:
                out.update({f"{i}.{k}": v for k, v in g.items()})
        return dy, out


class FlatParameters:
    """All of a model's parameters in one contiguous vector, seen through named views.

    One buffer ``theta`` and one gradient buffer ``grad`` of the same size;
    ``params[name]`` and ``grads[name]`` are reshaped views into them. An
    optimiser then updates the whole model with a few vector operations, and
    zeroing the gradients is a single ``fill``.

    Parameters
    ----------
    shapes : dict of str to tuple
        Qualified parameter names (``"encoder.0.W"``) and their shapes, in order.
    dtype : numpy float type
    """

    def __init__(self, shapes, dtype=np.float64):
        self.shapes = dict(shapes)
        sizes = [int(np.prod(s)) for s in self.shapes.values()]
        self.theta = np.zeros(sum(sizes), dtype=dtype)
        self.grad = np.zeros_like(self.theta)
        self.params, self.grads = {}, {}
        offset = 0
        for (name, shape), size in zip(self.shapes.items(), sizes):
            self.params[name] = self.theta[offset:offset + size].reshape(shape)
            self.grads[name] = self.grad[offset:offset + size].reshape(shape)
            offset += size

    def views(self, vector):
        """Named views of any vector laid out like ``theta`` (Adam's m and v, say)."""
        out, offset = {}, 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            out[name] = vector[offset:offset + size].reshape(shape)
            offset += size
        return out

    @staticmethod
    def groups(named):
        """Group qualified views by their first name part: ``{"encoder": {"0.W": ...}, "u": array}``.

        A name with no dot (a parameter of no network) maps to its array itself.
        """
        out = {}
        for name, value in named.items():
            head, dot, tail = name.partition(".")
            if dot:
                out.setdefault(head, {})[tail] = value
            else:
                out[name] = value
        return out

    def subset(self, prefix):
        """The (params, grads) views whose names start with ``prefix``, with it stripped."""
        n = len(prefix)
        params = {k[n:]: v for k, v in self.params.items() if k.startswith(prefix)}
        grads = {k[n:]: v for k, v in self.grads.items() if k.startswith(prefix)}
        return params, grads
