"""The exercises, one block per equation, in the order of the tutorials.

Each block holds a reference solution (vectorised, the way the package writes
it), the cases it is checked on, the independent computation it is checked
against (the package's own function, central differences, or a slow loop in
log space) and the mistakes students commonly make, each with its hint.
``EXERCISES`` maps an exercise's name to it.
"""

import importlib

import numpy as np
from scipy.special import logsumexp

from .. import bayes, losses, nn, optim
from ._checker import Case, Exercise, Mistake

__all__ = ["EXERCISES"]

LOG_2PI = float(np.log(2.0 * np.pi))


def _stable_sigmoid(a):
    # Sign-split form: e^{−|a|} never overflows, for any a.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _mmd_module():
    # The MMD module is minivae.kernels today and minivae.mmd after the
    # architecture change; import_module returns the module even where the
    # package also exports a function of the same name.
    try:
        return importlib.import_module("minivae.mmd")
    except ImportError:
        return importlib.import_module("minivae.kernels")


# ---------------------------------------------------------------------------
# 00 Bayes and variational inference
# ---------------------------------------------------------------------------

def _cavi_reference(m_hat, S, d, gamma0, delta0):
    gamma = gamma0 + 0.5
    delta = delta0 + 0.5 * (m_hat ** 2 + S)
    S = 1.0 / (1.0 + gamma / delta)
    return gamma, delta, S, d * S


def _cavi_oracle(m_hat, S, d, gamma0, delta0):
    fit = bayes.fit_normal_gamma_cavi(d=float(d), gamma0=gamma0, delta0=delta0, max_iter=1,
                                      init=(m_hat, S, 1.0, 1.0))
    return fit.gamma, fit.delta, fit.S, fit.m_hat


def _cavi_cases(rng):
    return [
        Case("random", m_hat=float(rng.normal(0, 3)), S=float(rng.uniform(0.1, 2.0)),
             d=float(rng.normal(0, 5)), gamma0=float(rng.uniform(0.5, 3)),
             delta0=float(rng.uniform(0.5, 3))),
        Case("the thesis's start, d = 5, no prior information", m_hat=0.0, S=1.0, d=5.0,
             gamma0=1e-8, delta0=1e-8),
        Case("at the thesis's optimum", m_hat=4.8, S=0.96, d=5.0, gamma0=1e-8, delta0=1e-8),
        Case("large magnitudes", m_hat=900.0, S=1e-3, d=1e3, gamma0=1e-8, delta0=1e-8),
        Case("d = 0", m_hat=0.3, S=0.5, d=0.0, gamma0=2.0, delta0=0.1),
    ]


def _cavi_no_S(m_hat, S, d, gamma0, delta0):
    gamma, delta = gamma0 + 0.5, delta0 + 0.5 * m_hat ** 2
    S = 1.0 / (1.0 + gamma / delta)
    return gamma, delta, S, d * S


def _cavi_shape_one(m_hat, S, d, gamma0, delta0):
    return _cavi_reference(m_hat, S, d, gamma0 + 0.5, delta0)


def _cavi_no_likelihood(m_hat, S, d, gamma0, delta0):
    gamma, delta, _, _ = _cavi_reference(m_hat, S, d, gamma0, delta0)
    S = delta / gamma
    return gamma, delta, S, d * S


def _cavi_stale_S(m_hat, S, d, gamma0, delta0):
    gamma, delta, S_new, _ = _cavi_reference(m_hat, S, d, gamma0, delta0)
    return gamma, delta, S_new, d * S


def _cavi_sign(m_hat, S, d, gamma0, delta0):
    gamma, delta, S, m_hat = _cavi_reference(m_hat, S, d, gamma0, delta0)
    return gamma, delta, S, -m_hat


NORMAL_GAMMA_CAVI = Exercise(
    name="normal_gamma_cavi_sweep",
    equation="(2.12-2.24)",
    title="One coordinate-ascent (CAVI) sweep of the Normal-Gamma example",
    statement=(
        "Model: d ~ N(m, 1), m ~ N(0, 1/α), α ~ Gamma(γ0, δ0) (shape, rate).\n"
        "Mean field q(m, α) = N(m | m̂, S) Gamma(α | γ, δ). CAVI sets each factor to\n"
        "    ln q*(α) = E_q(m)[ln p(d, m, α)] + const,   ln q*(m) = E_q(α)[ln p(d, m, α)] + const,\n"
        "first q(α) from the current q(m), then q(m) from the new q(α); both are conjugate.\n"
        "Moments: E_q[m²] = m̂² + S, E_q[α] = γ/δ, E_q[ln α] = ψ(γ) − ln δ."),
    signature="m_hat, S, d, gamma0, delta0",
    docstring="""
        Parameters
        ----------
        m_hat, S : float
            Mean and variance (> 0) of the current q(m).
        d : float
            The observation.
        gamma0, delta0 : float
            Shape and rate (> 0) of the prior Gamma(α | γ0, δ0).

        Returns
        -------
        gamma, delta, S, m_hat : float
            The updated parameters, in the order they are updated: first q(α)
            from the incoming m_hat, S; then q(m) from the new gamma, delta.
        """,
    outputs=("gamma", "delta", "S", "m_hat"),
    reference=_cavi_reference,
    oracle=_cavi_oracle,
    cases=_cavi_cases,
    mistakes=(
        Mistake("other", _cavi_no_S, "δ needs E_q[m²] = m̂² + S, not m̂² alone: S is missing"),
        Mistake("factor", _cavi_shape_one,
                "the single m contributes ½ to the shape of q(α): γ = γ0 + ½, not γ0 + 1"),
        Mistake("other", _cavi_no_likelihood,
                "q(m)'s precision adds the likelihood's precision 1 to E[α] = γ/δ: S = 1/(1 + γ/δ)"),
        Mistake("other", _cavi_stale_S, "m̂ = d S uses the S just updated, not the incoming one"),
        Mistake("sign", _cavi_sign, "m̂ = d S has the sign of d"),
    ),
    explain={"gamma": "γ = γ0 + ½",
             "delta": "δ = δ0 + ½ (m̂² + S), with the incoming m̂ and S",
             "S": "S = 1 / (1 + γ/δ), with the new γ and δ",
             "m_hat": "m̂ = d S, with the new S"},
    tutorial="00_bayes_and_variational_inference",
)


# ---------------------------------------------------------------------------
# 01 The network and autoencoders
# ---------------------------------------------------------------------------

def _sigmoid_reference(dz, a):
    s = _stable_sigmoid(a)
    return dz * s * (1.0 - s)


def _sigmoid_oracle(dz, a):
    return nn.Sigmoid().backward(dz, a, nn.sigmoid(a))[0]


def _sigmoid_cases(rng):
    a_big = np.array([[-1000.0, -40.0, 0.0], [40.0, 1000.0, -745.0]])
    return [
        Case("random", dz=rng.standard_normal((4, 3)), a=2.0 * rng.standard_normal((4, 3))),
        Case("one entry", dz=rng.standard_normal((1, 1)), a=rng.standard_normal((1, 1))),
        Case("large magnitudes", dz=rng.standard_normal((2, 3)), a=a_big),
    ]


SIGMOID_BACKWARD = Exercise(
    name="sigmoid_backward",
    equation="(1.36)",
    title="Backward pass of the sigmoid activation",
    statement=(
        "z = σ(a) = 1 / (1 + e^{−a})\n"
        "∂L/∂a = σ'(a) ⊙ ∂L/∂z   (the h'(a) factor of δ in (1.36)); write σ' with σ itself"),
    signature="dz, a",
    docstring="""
        Parameters
        ----------
        dz : ndarray, shape (n, k)
            ∂L/∂z, the gradient arriving from above.
        a : ndarray, shape (n, k)
            The pre-activations; any size, even |a| = 1000.

        Returns
        -------
        d_a : ndarray, shape (n, k)
            ∂L/∂a, elementwise.
        """,
    outputs=("d_a",),
    reference=_sigmoid_reference,
    oracle=_sigmoid_oracle,
    cases=_sigmoid_cases,
    mistakes=(
        Mistake("other", lambda dz, a: _stable_sigmoid(a) * (1.0 - _stable_sigmoid(a)),
                "the chain rule: multiply σ'(a) by the incoming gradient dz"),
        Mistake("sign", lambda dz, a: dz * _stable_sigmoid(a) * (_stable_sigmoid(a) - 1.0),
                "σ'(a) = σ(a)(1 − σ(a)) is positive: the sign is flipped"),
        Mistake("factor", lambda dz, a: dz * a * (1.0 - a),
                "σ'(a) = z(1 − z) is written with the output z = σ(a), not with a"),
    ),
    explain={"d_a": "d_a = dz ⊙ σ(a)(1 − σ(a))"},
    nonfinite_hint=("e^{a} overflows for a ≈ 710: compute σ from e^{−|a|} "
                    "(σ(a) = 1/(1 + e^{−|a|}) for a ≥ 0, e^{−|a|}/(1 + e^{−|a|}) for a < 0)."),
    tutorial="01_network_and_autoencoders",
)


def _swish_reference(dz, a, beta):
    s = _stable_sigmoid(beta * a)
    s1 = s * (1.0 - s)
    return dz * (s + beta * a * s1), (dz * a * a * s1).sum(axis=0)


def _swish_oracle(dz, a, beta):
    return nn.Swish(trainable=True).backward(dz, a, None, beta[None, :])


def _swish_cases(rng):
    return [
        Case("random", dz=rng.standard_normal((5, 3)), a=2.0 * rng.standard_normal((5, 3)),
             beta=rng.uniform(0.5, 2.0, 3)),
        Case("one row, one unit", dz=rng.standard_normal((1, 1)), a=rng.standard_normal((1, 1)),
             beta=np.array([1.7])),
        Case("large magnitudes", dz=rng.standard_normal((3, 2)),
             a=np.array([[-500.0, 30.0], [500.0, -30.0], [0.0, 1.0]]), beta=np.array([1.5, -0.7])),
    ]


def _swish_no_beta(dz, a, beta):
    s = _stable_sigmoid(beta * a)
    d_a, d_beta = _swish_reference(dz, a, beta)
    return dz * (s + a * s * (1.0 - s)), d_beta


def _swish_mean(dz, a, beta):
    d_a, d_beta = _swish_reference(dz, a, beta)
    return d_a, d_beta / a.shape[0]


def _swish_sign(dz, a, beta):
    d_a, d_beta = _swish_reference(dz, a, beta)
    return d_a, -d_beta


def _swish_one_a(dz, a, beta):
    s = _stable_sigmoid(beta * a)
    return _swish_reference(dz, a, beta)[0], (dz * a * s * (1.0 - s)).sum(axis=0)


SWISH_BACKWARD = Exercise(
    name="swish_backward",
    equation="(1.36)",
    title="Backward pass of swish with a trainable β",
    statement=(
        "h(a) = a σ(βa)   (Ramachandran et al. 2017; β = 1 is SiLU), one β_k per unit k\n"
        "∂L/∂a = ∂h/∂a ⊙ ∂L/∂z,   ∂L/∂β_k = Σ_n ∂L/∂z_nk ∂h(a_nk)/∂β_k   (β_k is shared by every row)"),
    signature="dz, a, beta",
    docstring="""
        Parameters
        ----------
        dz : ndarray, shape (n, k)
            ∂L/∂z for a batch of n rows and k units.
        a : ndarray, shape (n, k)
            Pre-activations.
        beta : ndarray, shape (k,)
            One β per unit, shared by every row.

        Returns
        -------
        d_a : ndarray, shape (n, k)
            ∂L/∂a.
        d_beta : ndarray, shape (k,)
            ∂L/∂β, summed over the rows.
        """,
    outputs=("d_a", "d_beta"),
    reference=_swish_reference,
    oracle=_swish_oracle,
    cases=_swish_cases,
    mistakes=(
        Mistake("factor", _swish_no_beta,
                "∂h/∂a = s(1 + βa(1 − s)): the inner derivative of σ(βa) brings a factor β"),
        Mistake("1/n", _swish_mean,
                "β is shared by every row: ∂L/∂β is the plain sum over rows, not their mean"),
        Mistake("sign", _swish_sign, "∂h/∂β = a² s(1 − s) ≥ 0: the sign is flipped"),
        Mistake("factor", _swish_one_a,
                "∂h/∂β = a² s(1 − s): one a from h = a σ(βa), one from the inner derivative of βa"),
    ),
    explain={"d_a": "d_a = dz ⊙ s(1 + βa(1 − s)), s = σ(βa)",
             "d_beta": "d_beta = Σ_n dz ⊙ a² s(1 − s)"},
    nonfinite_hint="σ(βa) overflows for large |βa| unless written from e^{−|βa|}.",
    tutorial="01_network_and_autoencoders",
)


def _dense_reference(dz, x, W, b):
    a = x @ W.T + b
    s = _stable_sigmoid(a)
    delta = dz * s * (1.0 - s)
    return delta @ W, delta.T @ x, delta.sum(axis=0)


def _dense_oracle(dz, x, W, b):
    layer = nn.Dense(W.shape[1], W.shape[0], activation="sigmoid")
    layer.bind({"W": W, "b": b})
    z, cache = layer.forward(x)
    dx, grads = layer.backward(dz, cache)
    return dx, grads["W"], grads["b"]


def _dense_cases(rng):
    def case(label, n, n_in, n_out, scale=1.0):
        return Case(label, dz=rng.standard_normal((n, n_out)), x=scale * rng.standard_normal((n, n_in)),
                    W=rng.standard_normal((n_out, n_in)), b=rng.standard_normal(n_out))
    return [
        case("random, as many inputs as outputs", 4, 3, 3),
        case("random", 5, 4, 2),
        case("one row, one input, one output", 1, 1, 1),
        case("large magnitudes (saturated units)", 3, 2, 3, scale=100.0),
    ]


def _dense_delta(dz, x, W, b):
    s = _stable_sigmoid(x @ W.T + b)
    return dz * s * (1.0 - s)


DENSE_BACKWARD = Exercise(
    name="dense_backward",
    equation="(1.36-1.37)",
    title="Backward pass of a dense sigmoid layer",
    statement=(
        "Forward (1.29-1.30): a = x Wᵀ + b, z = σ(a); W holds w_ji (shape n_out × n_in).\n"
        "(1.36) δ = σ'(a) ⊙ ∂L/∂z,   ∂L/∂x_i = Σ_j w_ji δ_j, i.e. dx = δ W\n"
        "(1.37) ∂L/∂w_ji = Σ_n δ_nj x_ni, i.e. dW = δᵀ x;   ∂L/∂b = Σ_n δ_n"),
    signature="dz, x, W, b",
    docstring="""
        Parameters
        ----------
        dz : ndarray, shape (n, n_out)
            ∂L/∂z for a batch of n rows.
        x : ndarray, shape (n, n_in)
            The layer's input.
        W : ndarray, shape (n_out, n_in)
            Weights w_ji.
        b : ndarray, shape (n_out,)
            Biases.

        Returns
        -------
        dx : ndarray, shape (n, n_in)
            ∂L/∂x.
        dW : ndarray, shape (n_out, n_in)
            ∂L/∂W, summed over the batch.
        db : ndarray, shape (n_out,)
            ∂L/∂b, summed over the batch.
        """,
    outputs=("dx", "dW", "db"),
    reference=_dense_reference,
    oracle=_dense_oracle,
    cases=_dense_cases,
    mistakes=(
        Mistake("transpose",
                lambda dz, x, W, b: (_dense_delta(dz, x, W, b) @ W, x.T @ _dense_delta(dz, x, W, b),
                                     _dense_delta(dz, x, W, b).sum(axis=0)),
                "(1.37) ∂L/∂w_ji = Σ_n δ_nj x_ni: dW = δᵀx has the shape of W, (n_out, n_in); "
                "xᵀδ is its transpose"),
        Mistake("transpose",
                lambda dz, x, W, b: (_dense_delta(dz, x, W, b) @ W.T, _dense_delta(dz, x, W, b).T @ x,
                                     _dense_delta(dz, x, W, b).sum(axis=0)),
                "(1.36) ∂L/∂x_i = Σ_j w_ji δ_j: dx = δ W, not δ Wᵀ"),
        Mistake("factor", lambda dz, x, W, b: (dz @ W, dz.T @ x, dz.sum(axis=0)),
                "δ = σ'(a) ⊙ ∂L/∂z (1.36): the sigmoid's derivative σ(a)(1 − σ(a)) is missing"),
        Mistake("1/n",
                lambda dz, x, W, b: (_dense_delta(dz, x, W, b) @ W, _dense_delta(dz, x, W, b).T @ x,
                                     _dense_delta(dz, x, W, b).mean(axis=0)),
                "∂L/∂b = Σ_n δ_n is a sum over the batch (the model applies the loss's 1/n once, "
                "before the backward pass), not a mean"),
        Mistake("sign",
                lambda dz, x, W, b: (_dense_delta(dz, x, W, b) @ W, -_dense_delta(dz, x, W, b).T @ x,
                                     _dense_delta(dz, x, W, b).sum(axis=0)),
                "dW = +δᵀx: the gradient, not the descent step"),
    ),
    explain={"dx": "dx = δ W, δ = dz ⊙ σ(a)(1 − σ(a)), a = x Wᵀ + b",
             "dW": "dW = δᵀ x, shaped like W",
             "db": "db = Σ_n δ_n"},
    nonfinite_hint="σ(a) overflows for large |a| unless written from e^{−|a|}.",
    tutorial="01_network_and_autoencoders",
)


def _adam_reference(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1 ** t)
    v_hat = v / (1.0 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_oracle(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    opt = optim.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    theta = theta.copy()
    # A first step with a zero gradient leaves theta alone and creates the
    # state; then m, v and the step count are set to the exercise's.
    opt.step({"theta": theta}, {"theta": np.zeros_like(theta)})
    opt.m["theta"][...] = m
    opt.v["theta"][...] = v
    opt.steps["theta"] = t - 1
    opt.step({"theta": theta}, {"theta": g.copy()})
    return theta, opt.m["theta"], opt.v["theta"]


def _adam_cases(rng):
    def case(label, shape, t, lr=1e-3, beta2=0.999, g_scale=1.0, fresh=False):
        g = g_scale * rng.standard_normal(shape)
        m = np.zeros(shape) if fresh else 0.1 * g_scale * rng.standard_normal(shape)
        v = np.zeros(shape) if fresh else 0.1 * g_scale ** 2 * rng.uniform(0, 1, shape)
        return Case(label, theta=rng.standard_normal(shape), g=g, m=m, v=v, t=t, lr=lr,
                    beta1=0.9, beta2=beta2, eps=1e-8)
    return [
        case("random, step 5", (3, 4), 5),
        case("first step (m = v = 0)", (4,), 1, lr=0.1, fresh=True),
        case("large gradients", (2, 2), 3, lr=0.01, beta2=0.99, g_scale=1e6),
        case("one parameter, step 1000", (1,), 1000),
        # √v̂ ≈ |g| ≈ ε: only here does it matter that ε is added to √v̂, not under the root.
        case("first step, tiny gradients (√v̂ comparable to ε)", (3,), 1, lr=0.1, g_scale=1e-8, fresh=True),
    ]


def _adam_typo(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    return theta - lr * (m / (1.0 - beta1 ** t)) / (np.sqrt(v / (1.0 - beta2 ** 2)) + eps), m, v


def _adam_no_correction(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def _adam_ascent(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new, m, v = _adam_reference(theta, g, m, v, t, lr, beta1, beta2, eps)
    return 2.0 * theta - new, m, v


def _adam_eps_under_root(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    return theta - lr * (m / (1.0 - beta1 ** t)) / np.sqrt(v / (1.0 - beta2 ** t) + eps), m, v


def _adam_v_of_g(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new, m, _ = _adam_reference(theta, g, m, v, t, lr, beta1, beta2, eps)
    return new, m, beta2 * v + (1.0 - beta2) * g


ADAM_STEP = Exercise(
    name="adam_step",
    equation="[Kingma & Ba 2015]",
    title="One step of the Adam optimiser",
    statement=(
        "m_t = β1 m_{t−1} + (1 − β1) g_t,   v_t = β2 v_{t−1} + (1 − β2) g_t²\n"
        "m̂_t = m_t / (1 − β1^t),   v̂_t = v_t / (1 − β2^t)\n"
        "θ_t = θ_{t−1} − lr m̂_t / (√v̂_t + ε)\n"
        "(The thesis prints 1 − β2² in the correction; it is 1 − β2^t.)"),
    signature="theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8",
    docstring="""
        Parameters
        ----------
        theta : ndarray
            Parameters θ_{t−1}.
        g : ndarray, same shape
            The gradient g_t at theta.
        m, v : ndarray, same shape
            First and second moment estimates m_{t−1}, v_{t−1} (zeros before step 1).
        t : int
            The number of this step, t >= 1.
        lr, beta1, beta2, eps : float
            Step size and Adam's constants.

        Returns
        -------
        theta, m, v : ndarray
            θ_t, m_t, v_t (new arrays; the inputs may be left unchanged).
        """,
    outputs=("theta", "m", "v"),
    reference=_adam_reference,
    oracle=_adam_oracle,
    cases=_adam_cases,
    mistakes=(
        Mistake("factor", _adam_typo,
                "the bias correction of v is 1 − β2^t, not 1 − β2² (a typo in the thesis)"),
        Mistake("factor", _adam_no_correction,
                "the bias corrections m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t) are missing"),
        Mistake("sign", _adam_ascent, "Adam descends: θ_t = θ_{t−1} − lr m̂/(√v̂ + ε)"),
        Mistake("other", _adam_v_of_g, "v_t averages the squared gradient g², not g"),
        Mistake("other", _adam_eps_under_root,
                "ε is added to the square root, √v̂_t + ε, not under it: √(v̂_t + ε) ≈ 1e-4 "
                "for ε = 1e-8 damps the steps of parameters with tiny gradients"),
    ),
    explain={"theta": "θ_t = θ_{t−1} − lr m̂_t/(√v̂_t + ε), m̂_t = m_t/(1 − β1^t), v̂_t = v_t/(1 − β2^t)",
             "m": "m_t = β1 m_{t−1} + (1 − β1) g_t",
             "v": "v_t = β2 v_{t−1} + (1 − β2) g_t²"},
    tutorial="01_network_and_autoencoders",
)


def _sparsity_reference(h, p):
    n = h.shape[0]
    p_hat = h.mean(axis=0)
    omega = np.sum(p * np.log(p / p_hat) + (1.0 - p) * np.log((1.0 - p) / (1.0 - p_hat)))
    d_p_hat = -p / p_hat + (1.0 - p) / (1.0 - p_hat)
    return omega, np.broadcast_to(d_p_hat / n, h.shape)


def _sparsity_oracle(h, p):
    return losses.sparsity_penalty(h, p)


def _sparsity_cases(rng):
    return [
        Case("random", h=rng.uniform(0.05, 0.95, (6, 3)), p=0.05),
        Case("one row, one unit", h=np.array([[0.3]]), p=0.1),
        Case("one unit", h=rng.uniform(0.01, 0.99, (8, 1)), p=0.3),
        Case("nearly silent units (large magnitudes of p/p̂)", h=rng.uniform(1e-7, 1e-5, (5, 2)), p=0.01),
    ]


def _sparsity_missing_n(h, p):
    omega, d_h = _sparsity_reference(h, p)
    return omega, d_h * h.shape[0]


def _sparsity_sign(h, p):
    omega, d_h = _sparsity_reference(h, p)
    return omega, -d_h


def _sparsity_reversed(h, p):
    p_hat = h.mean(axis=0)
    omega = np.sum(p_hat * np.log(p_hat / p) + (1.0 - p_hat) * np.log((1.0 - p_hat) / (1.0 - p)))
    return omega, _sparsity_reference(h, p)[1]


def _sparsity_mean_units(h, p):
    omega, d_h = _sparsity_reference(h, p)
    return omega / h.shape[1], d_h


SPARSITY_PENALTY = Exercise(
    name="sparsity_penalty",
    equation="[F 1.5]",
    title="The sparse autoencoder's KL penalty and its gradient",
    statement=(
        "p̂_i = (1/n) Σ_n h_ni   (mean activation of code unit i over the batch)\n"
        "Ω = Σ_i KL(p ‖ p̂_i) = Σ_i [p ln(p/p̂_i) + (1 − p) ln((1 − p)/(1 − p̂_i))]\n"
        "and its gradient ∂Ω/∂h_ni (every h_ni reaches Ω through p̂_i)"),
    signature="h, p",
    docstring="""
        Parameters
        ----------
        h : ndarray, shape (n, k)
            Sigmoid code activations in (0, 1) for a batch of n rows.
        p : float
            Target mean activation, in (0, 1).

        Returns
        -------
        omega : float
            Ω, a function of the whole batch (through p̂).
        d_h : ndarray, shape (n, k)
            ∂Ω/∂h.
        """,
    outputs=("omega", "d_h"),
    reference=_sparsity_reference,
    oracle=_sparsity_oracle,
    cases=_sparsity_cases,
    mistakes=(
        Mistake("1/n", _sparsity_missing_n,
                "p̂_i = (1/n) Σ_n h_ni, so ∂p̂_i/∂h_ni = 1/n: the 1/n is missing"),
        Mistake("sign", _sparsity_sign, "∂KL(p‖p̂)/∂p̂ = −p/p̂ + (1 − p)/(1 − p̂): the sign is flipped"),
        Mistake("other", _sparsity_reversed, "Ω uses KL(p ‖ p̂_i), target first; this is KL(p̂_i ‖ p)"),
        Mistake("factor", _sparsity_mean_units,
                "Ω sums KL(p ‖ p̂_i) over the code units i; it does not average them"),
    ),
    explain={"omega": "Ω = Σ_i [p ln(p/p̂_i) + (1 − p) ln((1 − p)/(1 − p̂_i))], p̂_i = (1/n) Σ_n h_ni",
             "d_h": "∂Ω/∂h_ni = (1/n)[−p/p̂_i + (1 − p)/(1 − p̂_i)]"},
    tutorial="01_network_and_autoencoders",
)


# ---------------------------------------------------------------------------
# 02 The variational autoencoder
# ---------------------------------------------------------------------------

def _kl_reference(mu, log_sigma):
    sigma2 = np.exp(2.0 * log_sigma)
    kl = 0.5 * np.sum(sigma2 + mu ** 2 - 2.0 * log_sigma - 1.0, axis=1)
    return kl, mu, sigma2 - 1.0


def _kl_cases(rng):
    return [
        Case("random", mu=rng.standard_normal((4, 3)), log_sigma=0.5 * rng.standard_normal((4, 3))),
        Case("one row, one latent dimension", mu=rng.standard_normal((1, 1)),
             log_sigma=rng.standard_normal((1, 1))),
        Case("one latent dimension", mu=rng.standard_normal((6, 1)), log_sigma=rng.standard_normal((6, 1))),
        Case("large magnitudes", mu=1e3 * rng.standard_normal((3, 2)), log_sigma=rng.uniform(-10, 10, (3, 2))),
    ]


def _kl_no_half(mu, log_sigma):
    kl, d_mu, d_ls = _kl_reference(mu, log_sigma)
    return 2.0 * kl, d_mu, d_ls


def _kl_log_variance(mu, log_sigma):
    var = np.exp(log_sigma)
    return 0.5 * np.sum(var + mu ** 2 - log_sigma - 1.0, axis=1), mu, 0.5 * (var - 1.0)


def _kl_d_sigma(mu, log_sigma):
    kl, d_mu, _ = _kl_reference(mu, log_sigma)
    sigma = np.exp(log_sigma)
    return kl, d_mu, sigma - 1.0 / sigma


def _kl_sign(mu, log_sigma):
    kl, d_mu, d_ls = _kl_reference(mu, log_sigma)
    return kl, -d_mu, d_ls


def _kl_double(mu, log_sigma):
    kl, d_mu, d_ls = _kl_reference(mu, log_sigma)
    return kl, d_mu, 2.0 * d_ls


KL_STANDARD_NORMAL = Exercise(
    name="kl_standard_normal",
    equation="(2.31)",
    title="KL divergence from N(μ, diag σ²) to N(0, I) and its gradient",
    statement=(
        "KL[N(μ, diag σ²) ‖ N(0, I)] = ½ Σ_i (σ_i² + μ_i² − 2 ln σ_i − 1),  σ = exp(log_sigma)\n"
        "and its gradients ∂KL/∂μ_i and ∂KL/∂log σ_i (with respect to log σ, not σ)"),
    signature="mu, log_sigma",
    docstring="""
        Parameters
        ----------
        mu : ndarray, shape (n, k)
            Encoder means.
        log_sigma : ndarray, shape (n, k)
            Log of the encoder's standard deviations (not of the variances).

        Returns
        -------
        kl : ndarray, shape (n,)
            The KL of each row, summed over the k latent dimensions.
        d_mu, d_log_sigma : ndarray, shape (n, k)
            ∂kl_n/∂mu and ∂kl_n/∂log_sigma (each row's KL depends on its own row only).
        """,
    outputs=("kl", "d_mu", "d_log_sigma"),
    reference=_kl_reference,
    oracle=losses.kl_standard_normal,
    cases=_kl_cases,
    mistakes=(
        Mistake("factor", _kl_no_half, "KL = ½ Σ_i (...): the ½ is missing"),
        Mistake("other", _kl_log_variance,
                "log_sigma is the log of the standard deviation: σ² = exp(2·log_sigma), not exp(log_sigma)"),
        Mistake("other", _kl_d_sigma,
                "differentiate with respect to log σ, not σ: ∂/∂log σ = σ ∂/∂σ, which gives σ² − 1"),
        Mistake("sign", _kl_sign, "∂KL/∂μ = +μ: the KL grows as μ moves away from 0"),
        Mistake("factor", _kl_double, "∂/∂log σ of ½(σ² − 2 log σ) is σ² − 1: the ½ cancels the 2"),
    ),
    explain={"kl": "kl = ½ Σ_i (σ_i² + μ_i² − 2 ln σ_i − 1), σ = exp(log_sigma)",
             "d_mu": "∂KL/∂μ = μ",
             "d_log_sigma": "∂KL/∂log σ = σ² − 1 = exp(2·log_sigma) − 1"},
    tutorial="02_vae",
)


def _reparam_reference(d_z, log_sigma, eps):
    return d_z, d_z * np.exp(log_sigma) * eps


def _reparam_objective(d_z, log_sigma, eps):
    # L = Σ d_z ⊙ z with z = μ + σ ⊙ ε: its gradient in log σ is what the
    # backward pass must return; μ only shifts L and is left out.
    return np.sum(d_z * np.exp(log_sigma) * eps)


def _reparam_cases(rng):
    return [
        Case("random", d_z=rng.standard_normal((4, 3)), log_sigma=0.5 * rng.standard_normal((4, 3)),
             eps=rng.standard_normal((4, 3))),
        Case("one row, one latent dimension", d_z=rng.standard_normal((1, 1)),
             log_sigma=rng.standard_normal((1, 1)), eps=rng.standard_normal((1, 1))),
        Case("large magnitudes", d_z=10.0 * rng.standard_normal((3, 2)), log_sigma=rng.uniform(-3, 3, (3, 2)),
             eps=3.0 * rng.standard_normal((3, 2))),
    ]


REPARAMETRISE_BACKWARD = Exercise(
    name="reparametrise_backward",
    equation="(2.32)",
    title="Backward pass of the reparametrisation z = μ + σ ⊙ ε",
    statement=(
        "z = μ + σ ⊙ ε,  σ = exp(log_sigma),  ε ~ N(0, I) held fixed\n"
        "Given ∂L/∂z, return ∂L/∂μ and ∂L/∂log σ by the chain rule."),
    signature="d_z, log_sigma, eps",
    docstring="""
        Parameters
        ----------
        d_z : ndarray, shape (n, k)
            ∂L/∂z, from the decoder's backward pass.
        log_sigma : ndarray, shape (n, k)
            Log of the encoder's standard deviations.
        eps : ndarray, shape (n, k)
            The standard normal draws used in the forward pass.

        Returns
        -------
        d_mu, d_log_sigma : ndarray, shape (n, k)
            ∂L/∂mu and ∂L/∂log_sigma.
        """,
    outputs=("d_mu", "d_log_sigma"),
    reference=_reparam_reference,
    oracle=lambda d_z, log_sigma, eps: {"d_mu": d_z},
    gradients={"d_log_sigma": ("log_sigma", _reparam_objective)},
    cases=_reparam_cases,
    mistakes=(
        Mistake("factor", lambda d_z, log_sigma, eps: (d_z, d_z),
                "d_log_sigma looks like it is missing the factor σε from (2.32): "
                "z = μ + σ ⊙ ε, so ∂z/∂log σ = σ ⊙ ε"),
        Mistake("factor", lambda d_z, log_sigma, eps: (d_z, d_z * eps),
                "d_log_sigma is missing the factor σ = exp(log_sigma): ∂σ/∂log σ = σ"),
        Mistake("factor", lambda d_z, log_sigma, eps: (d_z, d_z * np.exp(log_sigma)),
                "d_log_sigma is missing the factor ε: ∂z/∂log σ = σ ⊙ ε"),
        Mistake("sign", lambda d_z, log_sigma, eps: (-d_z, d_z * np.exp(log_sigma) * eps),
                "∂z/∂μ = +1, so ∂L/∂μ = ∂L/∂z"),
    ),
    explain={"d_mu": "∂L/∂μ = ∂L/∂z",
             "d_log_sigma": "∂L/∂log σ = ∂L/∂z ⊙ σ ⊙ ε, σ = exp(log_sigma)"},
    tutorial="02_vae",
)


def _nll_reference(x, x_hat, sigma2):
    r = x_hat - x
    return 0.5 * np.sum(r * r, axis=1) / sigma2, r / sigma2


def _nll_oracle(x, x_hat, sigma2):
    return losses.gaussian_nll(x, x_hat, sigma2)


def _nll_cases(rng):
    return [
        Case("random", x=rng.standard_normal((5, 3)), x_hat=rng.standard_normal((5, 3)), sigma2=0.5),
        Case("one row, one feature", x=rng.standard_normal((1, 1)), x_hat=rng.standard_normal((1, 1)),
             sigma2=2.0),
        Case("large magnitudes, the thesis's ω² = 300", x=1e3 * rng.standard_normal((3, 4)),
             x_hat=1e3 * rng.standard_normal((3, 4)), sigma2=300.0),
        Case("small decoder variance", x=rng.standard_normal((4, 2)), x_hat=rng.standard_normal((4, 2)),
             sigma2=1e-3),
    ]


GAUSSIAN_NLL = Exercise(
    name="gaussian_nll",
    equation="(2.33)",
    title="Gaussian negative log-likelihood of the decoder and its gradient",
    statement=(
        "ln p(x | z) = −‖x − f(z)‖² / (2ω²) + const,  x̂ = f(z),  ω² = sigma2\n"
        "nll = Σ_j (x_j − x̂_j)² / (2ω²)   (the constant (d/2) ln 2πω² left out)\n"
        "and its gradient ∂nll/∂x̂"),
    signature="x, x_hat, sigma2",
    docstring="""
        Parameters
        ----------
        x : ndarray, shape (n, d)
            Data.
        x_hat : ndarray, shape (n, d)
            Decoder means f(z).
        sigma2 : float
            Decoder variance ω² (2.28), > 0.

        Returns
        -------
        nll : ndarray, shape (n,)
            Each row's NLL, summed over the d features, without the constant.
        d_x_hat : ndarray, shape (n, d)
            ∂nll_n/∂x_hat.
        """,
    outputs=("nll", "d_x_hat"),
    reference=_nll_reference,
    oracle=_nll_oracle,
    cases=_nll_cases,
    mistakes=(
        Mistake("sign", lambda x, x_hat, sigma2: (_nll_reference(x, x_hat, sigma2)[0], (x - x_hat) / sigma2),
                "differentiate with respect to x̂, not x: ∂/∂x̂ ½(x − x̂)² = x̂ − x"),
        Mistake("factor", lambda x, x_hat, sigma2: (2.0 * _nll_reference(x, x_hat, sigma2)[0],
                                                    _nll_reference(x, x_hat, sigma2)[1]),
                "the log-density has ‖x − f(z)‖²/(2ω²): the ½ is missing"),
        Mistake("factor", lambda x, x_hat, sigma2: tuple(sigma2 * v for v in _nll_reference(x, x_hat, sigma2)),
                "divide by the decoder variance ω² = sigma2 (2.28)"),
        Mistake("1/n", lambda x, x_hat, sigma2: (_nll_reference(x, x_hat, sigma2)[0] / x.shape[1],
                                                 _nll_reference(x, x_hat, sigma2)[1]),
                "the NLL sums the squared errors over the d features; a mean divides by d"),
        Mistake("other", lambda x, x_hat, sigma2: (_nll_reference(x, x_hat, sigma2)[0]
                                                   + 0.5 * x.shape[1] * np.log(2.0 * np.pi * sigma2),
                                                   _nll_reference(x, x_hat, sigma2)[1]),
                "this nll includes the normalising constant (d/2) ln 2πω²; the exercise leaves it out "
                "(it moves no gradient): return Σ_j (x_j − x̂_j)²/(2ω²) only"),
    ),
    explain={"nll": "nll_n = Σ_j (x_nj − x̂_nj)² / (2ω²)",
             "d_x_hat": "∂nll/∂x̂ = (x̂ − x)/ω²"},
    tutorial="02_vae",
)


# ---------------------------------------------------------------------------
# 03 The Wasserstein autoencoder
# ---------------------------------------------------------------------------

def _mmd_parts(X, Y, gamma):
    dxx = X[:, None, :] - X[None, :, :]
    dyy = Y[:, None, :] - Y[None, :, :]
    dxy = X[:, None, :] - Y[None, :, :]
    kxx = np.exp(-gamma * np.sum(dxx ** 2, axis=-1))
    kyy = np.exp(-gamma * np.sum(dyy ** 2, axis=-1))
    kxy = np.exp(-gamma * np.sum(dxy ** 2, axis=-1))
    return dxx, dxy, kxx, kyy, kxy


def _mmd_reference(X, Y, gamma):
    n, m = len(X), len(Y)
    dxx, dxy, kxx, kyy, kxy = _mmd_parts(X, Y, gamma)
    # The U-statistic leaves out the i = j terms k(x_i, x_i) = 1.
    value = ((kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1))
             - 2.0 * kxy.sum() / (n * m))
    # Each within-sample pair appears twice, and ∂k(x, y)/∂x = −2γ (x − y) k.
    grad_X = -4.0 * gamma * (np.einsum("ij,ijd->id", kxx, dxx) / (n * (n - 1))
                             - np.einsum("ij,ijd->id", kxy, dxy) / (n * m))
    return value, grad_X


def _mmd_value(X, Y, gamma):
    mmd = _mmd_module()
    return mmd.mmd_reference(X, Y, mmd.gaussian_kernel(gamma=gamma), unbiased=True)


def _mmd_cases(rng):
    return [
        Case("random", X=rng.standard_normal((5, 2)), Y=rng.standard_normal((6, 2)), gamma=0.5),
        Case("two rows each, one dimension", X=rng.standard_normal((2, 1)), Y=rng.standard_normal((2, 1)),
             gamma=1.0),
        Case("one dimension, n ≠ m", X=rng.standard_normal((7, 1)), Y=rng.standard_normal((3, 1)),
             gamma=2.0),
        Case("large magnitudes, the thesis's γ = 0.01", X=10.0 * rng.standard_normal((4, 3)),
             Y=10.0 * rng.standard_normal((5, 3)) + 20.0, gamma=0.01),
    ]


def _mmd_biased(X, Y, gamma):
    n, m = len(X), len(Y)
    dxx, dxy, kxx, kyy, kxy = _mmd_parts(X, Y, gamma)
    value = kxx.sum() / n ** 2 + kyy.sum() / m ** 2 - 2.0 * kxy.sum() / (n * m)
    return value, _mmd_reference(X, Y, gamma)[1]


def _mmd_n_squared(X, Y, gamma):
    n, m = len(X), len(Y)
    dxx, dxy, kxx, kyy, kxy = _mmd_parts(X, Y, gamma)
    value = (kxx.sum() - n) / n ** 2 + (kyy.sum() - m) / m ** 2 - 2.0 * kxy.sum() / (n * m)
    return value, _mmd_reference(X, Y, gamma)[1]


def _mmd_cross_once(X, Y, gamma):
    n, m = len(X), len(Y)
    value, grad_X = _mmd_reference(X, Y, gamma)
    return value + _mmd_parts(X, Y, gamma)[4].sum() / (n * m), grad_X


def _mmd_grad_no_two(X, Y, gamma):
    value, grad_X = _mmd_reference(X, Y, gamma)
    return value, 0.5 * grad_X


def _mmd_grad_sign(X, Y, gamma):
    value, grad_X = _mmd_reference(X, Y, gamma)
    return value, -grad_X


def _mmd_grad_pairs_once(X, Y, gamma):
    n, m = len(X), len(Y)
    dxx, dxy, kxx, kyy, kxy = _mmd_parts(X, Y, gamma)
    grad_X = -2.0 * gamma * (np.einsum("ij,ijd->id", kxx, dxx) / (n * (n - 1))
                             - 2.0 * np.einsum("ij,ijd->id", kxy, dxy) / (n * m))
    return _mmd_reference(X, Y, gamma)[0], grad_X


MMD2_UNBIASED = Exercise(
    name="mmd2_unbiased",
    equation="(2.38)",
    title="Unbiased MMD² with a Gaussian kernel and its gradient in the encoder samples",
    statement=(
        "k(x, y) = exp(−γ ‖x − y‖²)   (IPMeasures.jl's GaussianKernel(γ))\n"
        "MMD² = Σ_{i≠i'} k(x_i, x_i')/(n(n−1)) + Σ_{j≠j'} k(y_j, y_j')/(m(m−1)) − 2 Σ_{i,j} k(x_i, y_j)/(nm)\n"
        "and its gradient ∂MMD²/∂x_i in the encoder samples (the prior samples y_j are constants)"),
    signature="X, Y, gamma",
    docstring="""
        Parameters
        ----------
        X : ndarray, shape (n, d)
            Encoder samples x_i ~ Q_Z, n >= 2.
        Y : ndarray, shape (m, d)
            Prior samples y_j ~ P_Z, m >= 2.
        gamma : float
            Kernel parameter γ > 0, in units of 1 / (squared latent distance).

        Returns
        -------
        value : float
            The unbiased estimate of MMD² (it can be slightly negative).
        grad_X : ndarray, shape (n, d)
            ∂MMD²/∂X.
        """,
    outputs=("value", "grad_X"),
    reference=_mmd_reference,
    oracle=lambda X, Y, gamma: {"value": _mmd_value(X, Y, gamma)},
    gradients={"grad_X": ("X", _mmd_value)},
    cases=_mmd_cases,
    mistakes=(
        Mistake("other", _mmd_biased,
                "this is the biased V-statistic: the unbiased (2.38) leaves out the i = i' terms "
                "and divides by n(n − 1)"),
        Mistake("1/n", _mmd_n_squared,
                "Σ_{i≠i'} has n(n − 1) terms: divide it by n(n − 1), not n²"),
        Mistake("factor", _mmd_cross_once, "the cross term carries a factor 2: − 2 Σ_{i,j} k(x_i, y_j)/(nm)"),
        Mistake("factor", _mmd_grad_no_two,
                "∂ exp(−γ‖x − y‖²)/∂x = −2γ (x − y) k(x, y): the 2 from the square is missing"),
        Mistake("sign", _mmd_grad_sign, "the gradient has the wrong sign"),
        Mistake("factor", _mmd_grad_pairs_once,
                "each within-sample pair appears twice in Σ_{i≠i'}: x_i is in k(x_i, x_i') and k(x_i', x_i)"),
    ),
    explain={"value": "MMD² = Σ_{i≠i'} k(x_i, x_i')/(n(n−1)) + Σ_{j≠j'} k(y_j, y_j')/(m(m−1)) "
                      "− 2 Σ_{i,j} k(x_i, y_j)/(nm)",
             "grad_X": "∂MMD²/∂x_i = −4γ [Σ_i' k(x_i, x_i')(x_i − x_i')/(n(n−1)) "
                       "− Σ_j k(x_i, y_j)(x_i − y_j)/(nm)]"},
    tutorial="03_wae",
)


# ---------------------------------------------------------------------------
# 04 EMVAE
# ---------------------------------------------------------------------------

def _e_step_reference(X, x_hat, sigma2, alpha):
    sq = np.sum((X[None, :, :] - x_hat) ** 2, axis=-1).T       # (n, K)
    log_w = np.log(alpha) - sq / (2.0 * sigma2)
    return log_w - logsumexp(log_w, axis=1, keepdims=True)


def _e_step_oracle(X, x_hat, sigma2, alpha):
    n, K = X.shape[0], x_hat.shape[0]
    log_gamma = np.empty((n, K))
    for i in range(n):
        row = [np.log(alpha[k]) - np.sum((X[i] - x_hat[k, i]) ** 2) / (2.0 * sigma2) for k in range(K)]
        log_gamma[i] = np.array(row) - logsumexp(row)
    return log_gamma


def _e_step_cases(rng):
    def case(label, n, K, d, sigma2, spread=1.0):
        X = rng.standard_normal((n, d))
        x_hat = X[None] + spread * rng.standard_normal((K, n, d))
        return Case(label, X=X, x_hat=x_hat, sigma2=sigma2, alpha=rng.dirichlet(np.ones(K) * 2.0))
    return [
        case("random, as many rows as components", 4, 4, 2, 0.5),
        case("random", 6, 3, 2, 1.0),
        case("one component", 5, 1, 3, 0.3),
        case("one row, one feature", 1, 3, 1, 1.0),
        case("far from every decoder mean (large magnitudes)", 5, 3, 2, 0.01, spread=100.0),
    ]


def _e_step_transposed(X, x_hat, sigma2, alpha):
    return _e_step_reference(X, x_hat, sigma2, alpha).T


def _e_step_wrong_axis(X, x_hat, sigma2, alpha):
    sq = np.sum((X[None, :, :] - x_hat) ** 2, axis=-1).T
    log_w = np.log(alpha) - sq / (2.0 * sigma2)
    return log_w - logsumexp(log_w, axis=0, keepdims=True)


E_STEP = Exercise(
    name="e_step",
    equation="(2.43)",
    title="The E-step of the mixture of VAEs: log-responsibilities",
    statement=(
        "γ_ik = α_k N(x_i | f_k(z), ω²I) / Σ_j α_j N(x_i | f_j(z), ω²I)\n"
        "in log space: ln γ_ik = ln α_k − ‖x_i − f_k(z)‖²/(2ω²) − logsumexp_j [ln α_j − ‖x_i − f_j(z)‖²/(2ω²)]\n"
        "(the normalising constants of N cancel: every component has the same ω² and d)"),
    signature="X, x_hat, sigma2, alpha",
    docstring="""
        Parameters
        ----------
        X : ndarray, shape (n, d)
            Data rows x_i.
        x_hat : ndarray, shape (K, n, d)
            Decoder means f_k(z) of each component k for each row i.
        sigma2 : float
            Decoder variance ω² (2.28), > 0.
        alpha : ndarray, shape (K,)
            Mixture weights α_k > 0, summing to 1.

        Returns
        -------
        log_gamma : ndarray, shape (n, K)
            ln γ_ik; each row's exp sums to 1. Exponents can reach −1e6:
            work in log space (scipy.special.logsumexp).
        """,
    outputs=("log_gamma",),
    reference=_e_step_reference,
    oracle=_e_step_oracle,
    cases=_e_step_cases,
    mistakes=(
        Mistake("transpose", _e_step_transposed,
                "log_gamma[i, k] is row i, component k: shape (n, K), the transpose of x_hat's leading axes"),
        Mistake("other", _e_step_wrong_axis,
                "γ_ik is normalised over the components k of each row i (Σ_k γ_ik = 1), not over the rows"),
        Mistake("other",
                lambda X, x_hat, sigma2, alpha: _e_step_reference(X, x_hat, sigma2, np.ones_like(alpha)),
                "(2.43) weighs each component's likelihood by its mixture weight α_k: ln α_k is missing"),
        Mistake("factor",
                lambda X, x_hat, sigma2, alpha: _e_step_reference(X, x_hat, sigma2 / 2.0, alpha),
                "N(x | f, ω²I) ∝ exp(−‖x − f‖²/(2ω²)): the ½ is missing"),
        Mistake("sign",
                lambda X, x_hat, sigma2, alpha: _e_step_reference(X, x_hat, -sigma2, alpha),
                "the Gaussian's exponent is −‖x − f‖²/(2ω²): the sign is flipped"),
    ),
    explain={"log_gamma": "ln γ_ik = ln α_k − ‖x_i − f_k‖²/(2ω²) − logsumexp_j [ln α_j − ‖x_i − f_j‖²/(2ω²)]"},
    nonfinite_hint=("Far from every decoder mean each exp(−‖x − f‖²/(2ω²)) underflows to 0, and 0/0 is "
                    "nan: compute ln γ in log space with scipy.special.logsumexp (it subtracts the row "
                    "maximum before exp)."),
    imports="import numpy as np\nfrom scipy.special import logsumexp",
    tutorial="04_emvae",
)


# ---------------------------------------------------------------------------
# 05 VampPrior
# ---------------------------------------------------------------------------

def _log_normal(z, mu, log_sigma):
    """ln N(z | μ, diag σ²) summed over the last axis."""
    return np.sum(-0.5 * LOG_2PI - log_sigma - 0.5 * ((z - mu) * np.exp(-log_sigma)) ** 2, axis=-1)


def _vamp_reference(z, mu_u, log_sigma_u):
    log_q = _log_normal(z[:, None, :], mu_u[None], log_sigma_u[None])    # (n, K)
    return logsumexp(log_q, axis=1) - np.log(mu_u.shape[0])


def _vamp_oracle(z, mu_u, log_sigma_u):
    n, K = z.shape[0], mu_u.shape[0]
    log_p = np.empty(n)
    for i in range(n):
        terms = []
        for k in range(K):
            s = 0.0
            for j in range(z.shape[1]):
                sigma = np.exp(log_sigma_u[k, j])
                s += -0.5 * LOG_2PI - log_sigma_u[k, j] - 0.5 * ((z[i, j] - mu_u[k, j]) / sigma) ** 2
            terms.append(s)
        log_p[i] = logsumexp(terms) - np.log(K)
    return log_p


def _vamp_cases(rng):
    def case(label, n, K, k, scale=1.0, log_sigma=(-1.0, 0.5)):
        return Case(label, z=scale * rng.standard_normal((n, k)), mu_u=rng.standard_normal((K, k)),
                    log_sigma_u=rng.uniform(*log_sigma, (K, k)))
    return [
        case("random", 5, 3, 2),
        case("one pseudo-input", 4, 1, 2),
        case("one row, one latent dimension", 1, 3, 1),
        case("far from every pseudo-input (large magnitudes)", 4, 3, 2, scale=200.0, log_sigma=(-3.0, -2.0)),
    ]


def _vamp_no_K(z, mu_u, log_sigma_u):
    return _vamp_reference(z, mu_u, log_sigma_u) + np.log(mu_u.shape[0])


def _vamp_log_variance(z, mu_u, log_sigma_u):
    return _vamp_reference(z, mu_u, 0.5 * log_sigma_u)


def _vamp_jensen(z, mu_u, log_sigma_u):
    return np.mean(_log_normal(z[:, None, :], mu_u[None], log_sigma_u[None]), axis=1)


def _vamp_no_constant(z, mu_u, log_sigma_u):
    return _vamp_reference(z, mu_u, log_sigma_u) + 0.5 * z.shape[1] * LOG_2PI


def _vamp_sign(z, mu_u, log_sigma_u):
    log_q = np.sum(-0.5 * LOG_2PI + log_sigma_u[None]
                   - 0.5 * ((z[:, None, :] - mu_u[None]) * np.exp(-log_sigma_u[None])) ** 2, axis=-1)
    return logsumexp(log_q, axis=1) - np.log(mu_u.shape[0])


VAMPPRIOR_LOG_DENSITY = Exercise(
    name="vampprior_log_density",
    equation="(2.42)",
    title="Log-density of the VampPrior, a mixture of the encoder at K pseudo-inputs",
    statement=(
        "p(z) = (1/K) Σ_k q(z | u_k) = (1/K) Σ_k N(z | μ_k, diag σ_k²),  μ_k, σ_k = encoder(u_k)\n"
        "ln p(z) = logsumexp_k [Σ_j ln N(z_j | μ_kj, σ_kj²)] − ln K\n"
        "ln N(z | μ, σ²) = −½ ln 2π − ln σ − (z − μ)²/(2σ²)"),
    signature="z, mu_u, log_sigma_u",
    docstring="""
        Parameters
        ----------
        z : ndarray, shape (n, k)
            Latent points.
        mu_u : ndarray, shape (K, k)
            Encoder means at the K pseudo-inputs.
        log_sigma_u : ndarray, shape (K, k)
            Log of the encoder standard deviations at the pseudo-inputs.

        Returns
        -------
        log_p : ndarray, shape (n,)
            ln p(z_i) in nats, including every constant. Far from all
            pseudo-inputs the densities underflow: work in log space.
        """,
    outputs=("log_p",),
    reference=_vamp_reference,
    oracle=_vamp_oracle,
    cases=_vamp_cases,
    mistakes=(
        Mistake("1/n", _vamp_no_K, "p(z) averages the K components: the 1/K (− ln K) is missing"),
        Mistake("other", _vamp_log_variance,
                "log_sigma_u is the log of the standard deviation: the variance is exp(2·log_sigma_u)"),
        Mistake("other", _vamp_jensen,
                "(2.42) is the log of an average of densities, ln (1/K) Σ_k exp(ln q_k): use "
                "logsumexp, not the average of the ln q_k"),
        Mistake("factor", _vamp_no_constant, "ln N(z | μ, σ²) includes −½ ln 2π per latent dimension"),
        Mistake("sign", _vamp_sign, "ln N(z | μ, σ²) has − ln σ, not + ln σ"),
    ),
    explain={"log_p": "ln p(z) = logsumexp_k Σ_j [−½ ln 2π − ln σ_kj − (z_j − μ_kj)²/(2σ_kj²)] − ln K"},
    nonfinite_hint=("Far from every pseudo-input each density underflows to 0 and ln 0 = −inf: keep "
                    "the ln N terms and combine them with scipy.special.logsumexp."),
    imports="import numpy as np\nfrom scipy.special import logsumexp",
    tutorial="05_vampprior",
)


# ---------------------------------------------------------------------------
# 06 Anomaly detection
# ---------------------------------------------------------------------------

def _score_reference(X, encode, decode, eps):
    mu, log_sigma = encode(X)
    z = mu + np.exp(log_sigma) * eps                  # (L, n, k): all draws at once
    return np.mean(np.sum((X - decode(z)) ** 2, axis=-1), axis=0)


def _score_oracle(X, encode, decode, eps):
    mu, log_sigma = encode(X)
    score = np.zeros(X.shape[0])
    for eps_l in eps:
        x_hat = decode(mu + np.exp(log_sigma) * eps_l)
        for i in range(X.shape[0]):
            score[i] += np.sum((X[i] - x_hat[i]) ** 2)
    return score / eps.shape[0]


def _score_cases(rng):
    def case(label, n, d, k, L, scale=1.0):
        A, B, C = rng.standard_normal((d, k)), rng.standard_normal((d, k)), rng.standard_normal((k, d))
        c = rng.standard_normal(d)

        def encode(X):
            return np.tanh(X @ A / scale), 0.5 * np.tanh(X @ B / scale) - 0.5

        def decode(z):
            return scale * (z @ C + c)

        return Case(label, X=scale * rng.standard_normal((n, d)), encode=encode, decode=decode,
                    eps=rng.standard_normal((L, n, k)))
    return [
        case("random", 5, 3, 2, 4),
        case("one row, one draw", 1, 3, 2, 1),
        case("one feature, one latent dimension", 4, 1, 1, 3),
        case("large magnitudes", 3, 4, 2, 5, scale=1e3),
    ]


def _score_sum(X, encode, decode, eps):
    return _score_reference(X, encode, decode, eps) * eps.shape[0]


def _score_no_noise(X, encode, decode, eps):
    mu, _ = encode(X)
    return np.sum((X - decode(mu)) ** 2, axis=-1)


def _score_variance(X, encode, decode, eps):
    mu, log_sigma = encode(X)
    z = mu + np.exp(2.0 * log_sigma) * eps
    return np.mean(np.sum((X - decode(z)) ** 2, axis=-1), axis=0)


def _score_feature_mean(X, encode, decode, eps):
    return _score_reference(X, encode, decode, eps) / X.shape[1]


RECONSTRUCTION_SCORE = Exercise(
    name="reconstruction_score",
    equation="(3.1)",
    title="The Monte-Carlo reconstruction score of an anomaly detector",
    statement=(
        "score(x) = (1/L) Σ_l ‖x − f(z_l)‖²,   z_l = μ(x) + σ(x) ⊙ ε_l   (2.32)\n"
        "higher is more anomalous (An & Cho 2015)"),
    signature="X, encode, decode, eps",
    docstring="""
        Parameters
        ----------
        X : ndarray, shape (n, d)
            Rows to score.
        encode : callable
            encode(X) returns (mu, log_sigma), each of shape (n, k).
        decode : callable
            decode(z) returns f(z); z of shape (..., n, k) gives (..., n, d).
        eps : ndarray, shape (L, n, k)
            The standard normal draws ε_l for each row, one slice per draw l.

        Returns
        -------
        score : ndarray, shape (n,)
            Each row's mean squared reconstruction distance over the L draws,
            summed over the d features (units of X, squared).
        """,
    outputs=("score",),
    reference=_score_reference,
    oracle=_score_oracle,
    cases=_score_cases,
    mistakes=(
        Mistake("1/n", _score_sum, "(3.1) averages over the L draws: divide the sum by L"),
        Mistake("other", _score_no_noise,
                "decode each draw z_l = μ + σ ⊙ ε_l (2.32) with the given eps, not the mean μ alone"),
        Mistake("other", _score_variance, "σ = exp(log_sigma) is the standard deviation, not the variance"),
        Mistake("factor", _score_feature_mean,
                "‖x − f(z_l)‖² sums the squared errors over the features; a mean divides by d"),
        Mistake("sign", lambda X, encode, decode, eps: -_score_reference(X, encode, decode, eps),
                "the score is +‖x − f(z)‖²: higher means more anomalous"),
    ),
    explain={"score": "score(x) = (1/L) Σ_l ‖x − f(z_l)‖², z_l = μ(x) + σ(x) ⊙ ε_l"},
    tutorial="06_anomaly_detection",
)


# In the order of the tutorials; ``minivae exercise list`` shows them this way.
EXERCISES = {ex.name: ex for ex in (
    NORMAL_GAMMA_CAVI,
    SIGMOID_BACKWARD,
    SWISH_BACKWARD,
    DENSE_BACKWARD,
    ADAM_STEP,
    SPARSITY_PENALTY,
    KL_STANDARD_NORMAL,
    REPARAMETRISE_BACKWARD,
    GAUSSIAN_NLL,
    MMD2_UNBIASED,
    E_STEP,
    VAMPPRIOR_LOG_DENSITY,
    RECONSTRUCTION_SCORE,
)}
