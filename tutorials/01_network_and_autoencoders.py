# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 — The network core and the autoencoder family
#
# This tutorial walks through thesis §1.3 (the network core) and §1.3 of the
# autoencoder thesis ([F] in docs/equations.md) with the code that implements
# them open beside the equations:
#
# 1. backpropagation on a two-layer network, by hand and with `minivae.nn`,
#    checked against finite differences (1.29–1.37);
# 2. SGD, SGD with momentum and Adam on the same regression problem (1.33,
#    1.38–1.39, Kingma & Ba 2015);
# 3. a linear autoencoder finds the PCA subspace (Baldi & Hornik 1989, [F 1.3.2]);
# 4. sparse, denoising and contractive autoencoders on small bar images
#    ([F 1.2–1.7], Rifai et al. 2011).
#
# Run it as `python tutorials/01_network_and_autoencoders.py`; with
# `MINIVAE_FAST=1` it uses small settings and finishes in seconds. Figures go to
# `$MINIVAE_OUTPUT` (default `./figures`).

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles

from minivae.datasets import bars
from minivae.gradcheck import check_gradients
from minivae.losses import contractive_penalty, gaussian_nll
from minivae.models import Autoencoder
from minivae.nn import ACTIVATIONS, MLP
from minivae.optim import SGD, Adam
from minivae.plotting import image_grid

FAST = os.environ.get("MINIVAE_FAST") == "1"
OUT = Path(os.environ.get("MINIVAE_OUTPUT", "figures"))
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
t_start = time.perf_counter()

# %% [markdown]
# ## 1. Backpropagation on a tiny network
#
# A dense layer computes, for each unit j,
#
#     a_j = Σ_i w_ji x_i + b_j          (1.29)
#     z_j = h(a_j)                      (1.30)
#
# and two of them make the network y = h₂(W₂ h₁(W₁x + b₁) + b₂) (1.31–1.32).
# In code, one row of `x` is one sample, so (1.29) becomes `a = x @ W.T + b`
# with `W` of shape (n_out, n_in): that is `minivae.nn.Dense.forward`.
#
# Take the loss L = ½ Σ_n ‖y_n − t_n‖² (the Gaussian NLL with ω² = 1,
# `minivae.losses.gaussian_nll`). Backpropagation (1.36–1.37) names the error
# of unit j, δ_j = ∂L/∂a_j, and gets all of them from the top down:
#
# * output layer (identity, h′ = 1):  δ⁽²⁾ = y − t;
# * hidden layer (1.36):             δ⁽¹⁾_j = h′(a⁽¹⁾_j) Σ_k w⁽²⁾_kj δ⁽²⁾_k;
# * every weight (1.37):             ∂L/∂w_ji = δ_j z_i, summed over the batch,
#   and ∂L/∂b_j = δ_j.
#
# With tanh hidden units h′(a) = 1 − tanh²(a) = 1 − z², so the cached output
# is enough. `minivae.nn.Dense.backward` is exactly these three lines:
# `delta = activation.backward(dz, ...)`, `dW = delta.T @ x`, `dx = delta @ W`.
# Below we write the derivation out with plain NumPy, then compare it with
# `MLP.backward`, and finally compare both with central differences.

# %%
n, d_in, d_hid, d_out = 5, 3, 4, 2
net = MLP([d_in, d_hid, d_out], activation="tanh", out_activation="identity")
params = net.init_params(rng)          # Glorot-uniform W, zero b; bound to the layers
x = rng.standard_normal((n, d_in))
t = rng.standard_normal((n, d_out))

# Forward pass, equation by equation.
W1, b1, W2, b2 = params["0.W"], params["0.b"], params["1.W"], params["1.b"]
a1 = x @ W1.T + b1                     # (1.29)
z1 = np.tanh(a1)                       # (1.30)
y = z1 @ W2.T + b2                     # (1.31-1.32), identity output
L = 0.5 * np.sum((y - t) ** 2)

# Backward pass, equation by equation.
delta2 = y - t                         # δ of the output units
delta1 = (1.0 - z1 ** 2) * (delta2 @ W2)   # (1.36)
by_hand = {
    "0.W": delta1.T @ x, "0.b": delta1.sum(axis=0),    # (1.37)
    "1.W": delta2.T @ z1, "1.b": delta2.sum(axis=0),
}

# The same through the library.
y_lib, caches = net.forward(x)
loss_lib, d_y = gaussian_nll(t, y_lib)
_, grads_lib = net.backward(d_y, caches, need_dx=False)
print(f"loss by hand {L:.6f}, via minivae {loss_lib.sum():.6f}")
for name in by_hand:
    diff = np.abs(by_hand[name] - grads_lib[name]).max()
    print(f"  d{name:4s} by hand vs MLP.backward: max |difference| = {diff:.1e}")

# %% [markdown]
# Agreement between two implementations of the same derivation proves little if
# the derivation is wrong. The independent check is the central difference
#
#     ∂L/∂θ_i ≈ [L(θ + h e_i) − L(θ − h e_i)] / (2h),   error O(h²),
#
# taken over every entry of every weight *and of the input*
# (`minivae.gradcheck.check_gradients`). It reports
# max |a − n| / max(1, |a| + |n|) and where it occurs; in float64 with
# h = 1e-6 a correct gradient gives about 1e-9 or less.

# %%
x_check = x.copy()


def tiny_net_loss():
    y, caches = net.forward(x_check)
    nll, d_y = gaussian_nll(t, y)
    d_x, grads = net.backward(d_y, caches)
    return nll.sum(), {**grads, "x": d_x}


result = check_gradients(tiny_net_loss, {**params, "x": x_check})
print(result)
print(f"max relative error of the 2-layer tanh net: {result.max_rel_error:.2e}")


# What a bug looks like: the same backward pass with h'(a) forgotten in (1.36).
def buggy_loss():
    y, (cache1, cache2) = net.forward(x_check)
    _, _, z1_ = cache1
    nll, d_y = gaussian_nll(t, y)
    d1 = d_y @ params["1.W"]                 # should be (1 - z1²) * (d_y @ W2)
    grads = {"0.W": d1.T @ x_check, "0.b": d1.sum(axis=0),
             "1.W": d_y.T @ z1_, "1.b": d_y.sum(axis=0)}
    return nll.sum(), grads


bug = check_gradients(buggy_loss, params)
print(f"with h' left out of (1.36): {bug}")

# %% [markdown]
# The same check for every activation of thesis §1.3.2, including swish
# x·σ(βx) with a trained β per unit (`minivae.nn.Swish`): its β gradient
# ∂h/∂β = a² σ(βa)(1 − σ(βa)) is checked like any weight.

# %%
grad_errors = {}
for act in ACTIVATIONS:
    net_a = MLP([d_in, d_hid, d_hid, d_out], activation=act)
    p_a = net_a.init_params(rng)
    if act == "swish_beta":
        # Move β away from 1 so a β-specific bug cannot hide behind β = 1.
        for k in p_a:
            if k.endswith("beta"):
                p_a[k][...] = rng.uniform(0.5, 2.0, size=p_a[k].shape)
    x_a = rng.standard_normal((n, d_in))

    def loss_a(net_a=net_a, x_a=x_a):
        y, caches = net_a.forward(x_a)
        nll, d_y = gaussian_nll(t, y)
        d_x, grads = net_a.backward(d_y, caches)
        return nll.sum(), {**grads, "x": d_x}

    grad_errors[act] = check_gradients(loss_a, {**p_a, "x": x_a}).max_rel_error
    print(f"  {act:10s} max relative error {grad_errors[act]:.2e}")

# %% [markdown]
# ## 2. SGD, momentum and Adam on the same problem
#
# Gradient descent w ← w − η ∇L (1.33) on a random minibatch of the data is
# stochastic gradient descent (1.38–1.39). Momentum keeps a velocity
# v ← μv − η∇L and moves w by v. Adam (thesis §1.3.1) keeps running means of the
# gradient and of its square,
#
#     m_t = β₁ m_{t−1} + (1 − β₁) g_t,      v_t = β₂ v_{t−1} + (1 − β₂) g_t²,
#     m̂_t = m_t / (1 − β₁ᵗ),               v̂_t = v_t / (1 − β₂ᵗ),
#     θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε),
#
# so each weight gets its own step size, roughly η in units of its typical
# gradient. Code: `minivae.optim.SGD`, `minivae.optim.Adam`; both take the
# same `step(params, grads)` with dicts keyed like the network's parameters.
#
# Problem: fit t = sin(2x) + noise (σ = 0.1) on x ∈ [−π, π] with a 1-32-32-1
# tanh network, minibatches of 32. Every optimiser starts from the *same*
# initial weights and sees the *same* minibatches; each gets the best learning
# rate from a small grid (comparing optimisers at one shared η would only
# measure whose scale η happens to suit). The noise floor of the loss
# ½ mean (y − t)² is ½·0.1² = 0.005.

# %%
n_reg = 256
x_reg = rng.uniform(-np.pi, np.pi, size=(n_reg, 1))
t_reg = np.sin(2.0 * x_reg) + 0.1 * rng.standard_normal((n_reg, 1))
reg_net = MLP([1, 32, 32, 1], activation="tanh")
theta0 = reg_net.init_params(rng, bind=False)
batch_seed = int(rng.integers(2**31))
n_steps = 600 if FAST else 4000
eval_every = 10
batch = 32


def train_regression(optimizer):
    """Train a copy of theta0 with ``optimizer``.

    Returns the full-data loss every ``eval_every`` steps and the trained weights.
    """
    p = {k: v.copy() for k, v in theta0.items()}
    reg_net.bind(p)
    order_rng = np.random.default_rng(batch_seed)
    curve = []
    # A too-large learning rate overflows; the grid search records that as inf.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            idx = order_rng.choice(n_reg, size=batch, replace=False)
            y, caches = reg_net.forward(x_reg[idx])
            _, d_y = gaussian_nll(t_reg[idx], y)
            _, grads = reg_net.backward(d_y / batch, caches, need_dx=False)
            optimizer.step(p, grads)
            if (step + 1) % eval_every == 0:
                full = float(gaussian_nll(t_reg, reg_net.forward(x_reg)[0])[0].mean())
                curve.append(full if np.isfinite(full) else np.inf)
                if not np.isfinite(full):
                    curve += [np.inf] * (n_steps // eval_every - len(curve))
                    break
    return np.array(curve), p


lr_grid = [1e-3, 1e-2, 1e-1]
optimizers = {
    "SGD": lambda lr: SGD(lr=lr),
    "SGD + momentum 0.9": lambda lr: SGD(lr=lr, momentum=0.9),
    "Adam": lambda lr: Adam(lr=lr),
}
curves, best_lr, trained = {}, {}, {}
for name, make in optimizers.items():
    runs = {lr: train_regression(make(lr)) for lr in lr_grid}
    # Judge by the mean over the last tenth of the steps: minibatch noise makes
    # the very last value a poor summary.
    tail = {lr: c[-max(1, len(c) // 10):].mean() for lr, (c, _) in runs.items()}
    best_lr[name] = min(tail, key=tail.get)
    curves[name], trained[name] = runs[best_lr[name]]
    print(f"{name:20s} best lr {best_lr[name]:g}: loss at step {n_steps // 10} "
          f"{curves[name][n_steps // 10 // eval_every - 1]:.4f}, final (mean of last tenth) "
          f"{tail[best_lr[name]]:.4f}   [final loss per lr: "
          + ", ".join(f"{lr:g}: {v:.4f}" for lr, v in tail.items()) + "]")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
steps = np.arange(1, len(next(iter(curves.values()))) + 1) * eval_every
for name, c in curves.items():
    axes[0].plot(steps, c, label=f"{name} (lr {best_lr[name]:g})")
axes[0].axhline(0.005, color="k", ls=":", lw=1, label="noise floor ½σ²")
axes[0].set(xscale="log", yscale="log", xlabel="step", ylabel="½ mean (y − t)² on all data",
            title="(1.33), (1.38–1.39), Adam: same net and minibatches, best lr each")
axes[0].legend(fontsize=8)
grid = np.linspace(-np.pi, np.pi, 200)[:, None]
axes[1].scatter(x_reg[:, 0], t_reg[:, 0], s=6, c="0.6", label="data")
for name in optimizers:
    reg_net.bind(trained[name])
    axes[1].plot(grid[:, 0], reg_net.forward(grid)[0][:, 0], label=name)
axes[1].set(xlabel="x", ylabel="t", title="fits after training")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "01_optimizers.png", dpi=100)
plt.show()

# %% [markdown]
# ## 3. A linear autoencoder learns the PCA subspace
#
# With identity activations the autoencoder is x̂ = W_d (W_e x + b_e) + b_d, a
# rank-k map. Minimising Σ_n ‖x_n − x̂_n‖² over all rank-k affine maps is the
# Eckart–Young problem, whose answer is the projection onto the top-k
# principal subspace of the centred data. Baldi & Hornik (1989) showed that
# every minimum of the linear autoencoder is of that form and that the other
# critical points are saddles, so gradient descent gets there: the columns of
# the decoder W_d *span* the top-k right singular vectors of the centred X.
# They need not *be* them: any invertible k×k matrix A gives the same map
# (W_d A)(A⁻¹ W_e), so the columns come out mixed and not orthonormal. The
# right comparison is between subspaces: the principal angles
# (`scipy.linalg.subspace_angles`), all zero iff the spans coincide.
#
# Data: 20-dimensional Gaussian data whose covariance has three large
# eigenvalues (standard deviations 3, 2.5, 2) and seventeen small ones (0.3),
# in random directions: a clear spectral gap after k = 3.
# The model is `minivae.models.Autoencoder(activation="identity",
# code_activation="identity")`; its loss is ½‖x − x̂‖² per sample.

# %%
n_pca, d_pca, k = (1000 if FAST else 2000), 20, 3
Q, _ = np.linalg.qr(rng.standard_normal((d_pca, d_pca)))
stds = np.r_[3.0, 2.5, 2.0, np.full(d_pca - k, 0.3)]
X_pca = (rng.standard_normal((n_pca, d_pca)) * stds) @ Q.T + rng.normal(size=d_pca)
Xc = X_pca - X_pca.mean(axis=0)
_, s_pca, Vt = np.linalg.svd(Xc, full_matrices=False)
V_k = Vt[:k].T                                        # (d, k) top-k principal directions
pca_loss = 0.5 * np.sum(s_pca[k:] ** 2) / n_pca      # ½‖x − x̂‖² of the rank-k PCA projection
print("singular values / sqrt(n):", np.round(s_pca[:6] / np.sqrt(n_pca), 3), "...")

pca_seed = int(rng.integers(2**31))
epoch_marks = [1, 2, 5, 10, 20, 40, 60] if FAST else [1, 2, 5, 10, 20, 50, 100, 200]
angles = []
for n_epochs in epoch_marks:
    # With the same seed, a run of n epochs is the first n epochs of a longer run,
    # so these fits trace one training trajectory.
    lin_ae = Autoencoder(n_latent=k, activation="identity", code_activation="identity",
                         lr=1e-2, n_epochs=n_epochs, random_state=pca_seed).fit(X_pca)
    angles.append(subspace_angles(lin_ae.params_["decoder.0.W"], V_k).max())
    print(f"  after {n_epochs:3d} epochs: largest principal angle {angles[-1]:.4f} rad")

W_d = lin_ae.params_["decoder.0.W"]                    # (n_features, n_latent)
ae_loss = float(-lin_ae.score_samples(X_pca).mean())
cos = np.abs((W_d / np.linalg.norm(W_d, axis=0)).T @ V_k)
print(f"largest principal angle after training: {angles[-1]:.4f} rad")
print(f"reconstruction loss: linear AE {ae_loss:.4f}, rank-{k} PCA (optimum) {pca_loss:.4f}")
print("decoder columns are mixed, not the PCs: |cos(column i, PC j)| =\n", np.round(cos, 3))
print("W_dᵀW_d (not the identity):\n", np.round(W_d.T @ W_d, 3))

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
index = np.arange(1, d_pca + 1)
axes[0].bar(index[:k], s_pca[:k] / np.sqrt(n_pca), color="C0", label=f"top k = {k}: kept by the AE")
axes[0].bar(index[k:], s_pca[k:] / np.sqrt(n_pca), color="0.6", label="the rest")
axes[0].set(xlabel="index", ylabel="singular value / √n",
            title="[F 1.3.2] spectrum of centred X: gap after k = 3")
axes[0].legend(fontsize=8)
axes[1].plot(epoch_marks, angles, "o-", label="one training run (same seed)")
axes[1].set(xscale="log", yscale="log", xlabel="epochs", ylabel="largest principal angle (rad)",
            title="[F 1.3.2] decoder span → top-3 PCA subspace")
axes[1].legend(fontsize=8)
im = axes[2].imshow(cos, vmin=0, vmax=1, cmap="viridis")
axes[2].set(xticks=range(k), yticks=range(k), xlabel="principal direction j",
            ylabel="decoder column i", title="|cos| column vs PC: same span, mixed basis")
fig.colorbar(im, ax=axes[2], label="|cos(column i, PC j)|")
fig.tight_layout()
fig.savefig(OUT / "01_linear_ae_pca.png", dpi=100)
plt.show()

# %% [markdown]
# ## 4. Sparse, denoising and contractive autoencoders on bar images
#
# `minivae.datasets.bars` draws 8×8 binary images: each picks horizontal or
# vertical at random, then switches each of its 8 bars on with probability
# 0.25. The 16 bars are the "true features" of the data, so we can see whether
# an autoencoder finds them. All models below have one sigmoid code layer
# h = σ(W_e x + b_e) and a Bernoulli decoder (loss Σ_j softplus(l_j) − x_j l_j
# on logits l, `minivae.losses.bernoulli_nll`), suited to pixels in {0, 1}.
# A learned feature is a row of the encoder weight `encoder.0.W`, shown as an
# 8×8 image (red positive, blue negative).
#
# **Sparse AE** [F 1.2–1.5]. Add Ω = Σ_i KL(p ‖ p̂_i), where p̂_i is the mean
# activation of code unit i over the batch and
# KL(p ‖ p̂) = p ln(p/p̂) + (1 − p) ln((1 − p)/(1 − p̂))
# (`minivae.losses.sparsity_penalty`). Its gradient with respect to each h_ni is
# (1/n)[−p/p̂_i + (1 − p)/(1 − p̂_i)]: it pushes every unit's mean activation
# towards the small target p, so each unit may fire for few images only. Each
# bar is on in one image out of eight (orientation ½ × bar 0.25), so "one unit
# per bar" is a code that is both sparse and sufficient to reconstruct.

# %%
size = 8
n_bars = 1000 if FAST else 2000
ae_epochs = 60 if FAST else 300
X_bars = bars(n=n_bars, size=size, p=0.25, random_state=rng)
X_test = bars(n=500, size=size, p=0.25, random_state=rng)

# The 16 bar templates, to score how bar-like a learned feature is.
templates = np.zeros((2 * size, size, size))
for i in range(size):
    templates[i, i, :] = 1.0           # horizontal bar in row i
    templates[size + i, :, i] = 1.0    # vertical bar in column i
templates = templates.reshape(2 * size, -1)
templates /= np.linalg.norm(templates, axis=1, keepdims=True)


def bar_match(W, threshold=0.7):
    """Each feature's best cosine with a bar: their mean, and how many distinct bars are
    matched by a feature whose cosine exceeds ``threshold`` (a feature that is visibly one bar)."""
    c = (W / np.linalg.norm(W, axis=1, keepdims=True)) @ templates.T
    best = c.max(axis=1)
    clear = set(c.argmax(axis=1)[best > threshold])
    return best.mean(), len(clear)


bars_seed = int(rng.integers(2**31))
common = dict(n_latent=2 * size, code_activation="sigmoid", likelihood="bernoulli",
              lr=1e-2, n_epochs=ae_epochs, random_state=bars_seed)
plain_ae = Autoencoder(**common).fit(X_bars)
sparse_ae = Autoencoder(**common, sparsity=0.05, sparsity_weight=3.0).fit(X_bars)
for label, model in [("plain ", plain_ae), ("sparse", sparse_ae)]:
    cos_bar, n_distinct = bar_match(model.params_["encoder.0.W"])
    h_test = model.transform(X_test)
    print(f"{label} AE: reconstruction NLL {-model.score_samples(X_test).mean():.3f}, "
          f"mean code activation {h_test.mean():.3f}, "
          f"mean feature-bar cosine {cos_bar:.3f}, bars found (cosine > 0.7) {n_distinct}/16")


def show_images(ax, images, n_cols, title, features=False):
    """Plot images (pixels in [0, 1], black = 1) or features (each scaled to its own max |w|).

    `minivae.plotting.image_grid` tiles them into one picture (one imshow draws much faster
    than one axes per image); grey lines separate the tiles.
    """
    if features:
        images = images / np.abs(images).max(axis=1, keepdims=True)
        cmap, vmin = plt.get_cmap("RdBu_r").with_extremes(bad="0.45"), -1.0
    else:
        cmap, vmin = plt.get_cmap("gray_r").with_extremes(bad="0.45"), 0.0
    image_grid(ax, images, (size, size), n_cols=n_cols, cmap=cmap)
    ax.images[-1].set_clim(vmin, 1.0)
    ax.figure.colorbar(ax.images[-1], ax=ax, fraction=0.02, pad=0.01,
                       label="w / max |w|" if features else "pixel")
    ax.set_title(title, fontsize=9, loc="left")


fig, axes = plt.subplots(3, 1, figsize=(12, 3.8))
show_images(axes[0], X_bars[:2 * size], 2 * size, "training images (8×8 bars)")
show_images(axes[1], plain_ae.params_["encoder.0.W"], 2 * size,
            "[F 1.1] plain AE features (rows of encoder.0.W; red > 0, blue < 0)", features=True)
show_images(axes[2], sparse_ae.params_["encoder.0.W"], 2 * size,
            "[F 1.5] sparse AE features (p = 0.05, weight 3)", features=True)
fig.tight_layout()
fig.savefig(OUT / "01_sparse_features.png", dpi=100)
plt.show()

# %% [markdown]
# **Denoising AE** [F 1.6–1.7] (Vincent et al. 2008). Train on
# L(x, g(f(x̃))): the encoder sees a corrupted copy x̃ = x + 0.5·ε,
# ε ~ N(0, I), and the loss compares the output with the *clean* x
# (`Autoencoder(noise="gaussian", noise_level=0.5)`; the corruption is drawn
# per minibatch in `draw_noise` and applied in `_corrupt`). A code as wide as
# the input (64 units) could learn to copy; the corruption makes copying
# useless and forces the model to learn what bar images look like. We test
# both models on noisy test images (σ = 0.5) and measure Σ_j (x̂_j − x_j)²
# against the clean image.

# %%
sigma_noise = 0.5
X_test_noisy = X_test + sigma_noise * rng.standard_normal(X_test.shape)
wide = dict(common, n_latent=size * size, n_epochs=40 if FAST else 100)
plain_wide = Autoencoder(**wide).fit(X_bars)
denoising_ae = Autoencoder(**wide, noise="gaussian", noise_level=sigma_noise).fit(X_bars)
err = {"noisy input itself": ((X_test_noisy - X_test) ** 2).sum(axis=1).mean()}
for label, model in [("plain AE", plain_wide), ("denoising AE", denoising_ae)]:
    err[label] = ((model.reconstruct(X_test_noisy) - X_test) ** 2).sum(axis=1).mean()
    clean_err = ((model.reconstruct(X_test) - X_test) ** 2).sum(axis=1).mean()
    print(f"{label:13s}: squared error to the clean image from noisy input {err[label]:.3f}, "
          f"from clean input {clean_err:.4f}")
print(f"noisy input vs clean image: {err['noisy input itself']:.3f}")

n_show = 10
rows = [("noisy input x + 0.5 ε", X_test_noisy),
        ("plain AE output", plain_wide.reconstruct(X_test_noisy)),
        ("[F 1.6–1.7] denoising AE output", denoising_ae.reconstruct(X_test_noisy)),
        ("clean x", X_test)]
fig, axes = plt.subplots(4, 1, figsize=(8, 4.6))
for ax, (label, images) in zip(axes, rows):
    # Noisy pixels fall outside [0, 1]; the colour map clips them to white/black.
    show_images(ax, images[:n_show], n_show, label)
fig.tight_layout()
fig.savefig(OUT / "01_denoising.png", dpi=100)
plt.show()

# %% [markdown]
# **Contractive AE** (Rifai et al. 2011; [F 1.3.8]). Penalise the Jacobian of
# the code, λ‖∂h/∂x‖_F². For h = σ(Wx + b), ∂h_j/∂x_i = h_j(1 − h_j) W_ji, so
#
#     ‖∂h/∂x‖_F² = Σ_j (h_j (1 − h_j))² Σ_i W_ji²
#
# (`minivae.losses.contractive_penalty`): cheap, no Jacobian is formed. The
# code becomes insensitive to small input changes, except along directions the
# reconstruction needs.
#
# Two checks. First, the formula against an independent computation: the
# Jacobian by central differences of `transform`, one input pixel at a time.
# Second, the effect: the penalty on test data of a plain and a contractive
# AE, and how much the code moves, ‖h(x + δ) − h(x)‖/‖δ‖, for small random δ.

# %%
lam = 0.3
contractive_ae = Autoencoder(**common, contractive_weight=lam).fit(X_bars)
delta_dir = rng.standard_normal(X_test.shape)
delta_dir /= np.linalg.norm(delta_dir, axis=1, keepdims=True)
h_step = 1e-4
for label, model in [("plain AE", plain_ae), (f"contractive AE (λ = {lam})", contractive_ae)]:
    h_test = model.transform(X_test)
    analytic = contractive_penalty(h_test, model.params_["encoder.0.W"])[0]
    jac_sq = np.zeros(len(X_test))
    for i in range(size * size):
        e = np.zeros(size * size)
        e[i] = h_step
        column = (model.transform(X_test + e) - model.transform(X_test - e)) / (2 * h_step)
        jac_sq += (column ** 2).sum(axis=1)
    gain = np.linalg.norm(model.transform(X_test + 1e-3 * delta_dir) - h_test, axis=1) / 1e-3
    print(f"{label:26s}: ‖∂h/∂x‖_F² formula {analytic.mean():.4f}, finite differences "
          f"{jac_sq.mean():.4f}; code gain for random δ {gain.mean():.4f}; "
          f"reconstruction NLL {-model.score_samples(X_test).mean():.3f}; "
          f"from noisy input, squared error "
          f"{((model.reconstruct(X_test_noisy) - X_test) ** 2).sum(axis=1).mean():.3f}")
plain_penalty = contractive_penalty(plain_ae.transform(X_bars),
                                    plain_ae.params_["encoder.0.W"])[0].mean()

fig, (ax_pen, ax_feat) = plt.subplots(1, 2, figsize=(12, 3.6), width_ratios=[1, 1.4])
ax_pen.plot(np.arange(1, ae_epochs + 1), contractive_ae.history_["contractive"],
            label=f"contractive AE (λ = {lam})")
ax_pen.axhline(plain_penalty, color="C1", ls="--", label="plain AE after training")
ax_pen.set(xlabel="epoch", ylabel="mean ‖∂h/∂x‖_F² (training data)", title="[F 1.3.8] contractive penalty")
ax_pen.legend(fontsize=8)
show_images(ax_feat, contractive_ae.params_["encoder.0.W"], size, "[F 1.3.8] contractive AE features",
            features=True)
fig.tight_layout()
fig.savefig(OUT / "01_contractive.png", dpi=100)
plt.show()

print(f"\ntotal time {time.perf_counter() - t_start:.1f} s (FAST={FAST})")

# %% [markdown]
# ## What you should see
#
# Numbers below are from a full-mode run (`python tutorials/01_network_and_autoencoders.py`,
# under a minute on 2 cores); fast mode trains less and prints somewhat different values.
#
# **Backpropagation.** The hand-written δ's of (1.36–1.37) and `MLP.backward`
# agree exactly (max difference 0.0), and central differences agree with both:
# max relative error 5.8e-10 for the 2-layer tanh net (41 entries, weights and
# input), and between 4e-10 and 4e-9 for every activation including swish
# with trained β. Leaving h′ out of (1.36) gives a max relative error of
# 0.39 at a first-layer weight (analytic 1.41, numeric 0.62): a real bug sits
# many orders of magnitude above the 1e-9 of a correct gradient.
#
# **Optimisers** (`01_optimizers.png`). Each optimiser at its best learning rate
# from {1e-3, 1e-2, 1e-1}, same start, same minibatches, 4,000 steps. Final
# loss (mean over the last 400 steps; noise floor 0.005): plain SGD 0.0416
# (lr 0.1), SGD + momentum 0.0073 (lr 0.1), Adam 0.0054 (lr 0.01). Plain SGD
# stays on a noisy plateau at ≈0.03–0.1 where the net fits only the middle of
# the sine wave (right panel). Momentum and Adam both leave that plateau after
# a few hundred steps; Adam a little sooner, and it ends lowest, at the noise
# floor. Adam's best η is ten times
# smaller than SGD's: its step is η in units of each weight's own gradient
# scale.
#
# **Linear AE = PCA** (`01_linear_ae_pca.png`). The singular values of the
# centred data drop from 1.98 to 0.33 after k = 3. The largest principal angle
# between the decoder's columns and the top-3 right singular vectors falls
# from 1.55 rad after one epoch to 0.024 rad after 50 epochs and stays near
# 0.02 rad (0.0210 after 200): constant-step minibatch Adam jitters around
# the optimum rather than landing on it. The reconstruction loss, 0.7725 per
# sample, is just above the rank-3 PCA optimum 0.7669, as it must be. Yet
# the individual columns are *not* principal directions: |cos| between
# columns and PCs ranges over 0.12–0.81, and W_dᵀW_d is far from diagonal.
# The autoencoder finds the subspace, not the basis.
#
# **Sparse AE** (`01_sparse_features.png`). The plain AE's features are
# unstructured red/blue patterns: mean best cosine with a bar 0.243, no
# feature is clearly a bar (0/16 with cosine > 0.7). With the sparsity
# penalty (p = 0.05, weight 3) the mean code activation drops from 0.609
# to 0.086, the mean cosine rises to 0.778, and 12 of the 16 bars each have a
# feature of their own; the rest are mixtures or near-dead units. Sparsity
# costs reconstruction quality: Bernoulli NLL 0.503 against 0.093 nats per
# image.
#
# **Denoising AE** (`01_denoising.png`). A noisy test image (σ = 0.5) is at
# squared distance 16.0 from its clean version. Both 64-unit autoencoders clean
# it up a lot, but the denoising one more than three times better: 0.406
# against 1.235 for the plain AE. In the figure the plain AE keeps grey
# speckles and half-bars where the noise was strong; the denoising AE's
# outputs are mostly clean bars, with a few mistakes left where the noise hid
# a bar (third image) or faked part of one (fifth). On clean input both are almost perfect
# (0.0003 for the plain AE, 0.0001 for the denoising one): the plain AE learned something
# close to copying.
#
# **Contractive AE** (`01_contractive.png`). The formula
# Σ_j (h_j(1 − h_j))² Σ_i W_ji² and the finite-difference Jacobian agree to
# the printed digits (2.5700 for the plain AE, 0.8700 for the contractive
# one). The penalty first rises while the weights grow, then falls steadily
# under λ = 0.3, ending three times smaller than the plain AE's, at almost
# the same reconstruction NLL (0.111 against 0.093). A small random
# perturbation moves the code 0.114 times its size instead of 0.196, and from
# noisy inputs the contractive AE reconstructs with squared error 0.984
# against 2.281: robustness to input noise without ever seeing noise.
#
# **Where each step lives.** Dense layer and backprop: `minivae.nn.Dense`,
# `minivae.nn.MLP`; activations: `minivae.nn.Sigmoid`, `Tanh`, `ReLU`,
# `Softplus`, `Swish`; finite differences: `minivae.gradcheck.check_gradients`;
# optimisers: `minivae.optim.SGD`, `minivae.optim.Adam`; losses and penalties:
# `minivae.losses.gaussian_nll`, `bernoulli_nll`, `sparsity_penalty`,
# `contractive_penalty`; the autoencoder family and its objective:
# `minivae.models.Autoencoder` (`step`). The table in
# `tutorials/README.md` maps each equation to its function; `docs/equations.md`
# writes them out.

# %% [markdown]
# ## Exercises
#
# Write the backward passes of this tutorial yourself and let the package check them
# against finite differences and its own implementation (a shell in the repository, with
# minivae installed):
#
# * `sigmoid_backward`: h′ of the sigmoid inside (1.36);
# * `swish_backward`: swish with a trainable β, ∂h/∂a and ∂h/∂β (1.36);
# * `dense_backward`: a dense sigmoid layer, δ, ∂L/∂W, ∂L/∂b and ∂L/∂x (1.36–1.37);
# * `adam_step`: one step of Adam as in section 2 (Kingma & Ba 2015);
# * `sparsity_penalty`: the sparse AE's Σ_i KL(p ‖ p̂_i) and its gradient [F 1.5].
#
# ```
# minivae exercise start sigmoid_backward -o my_sigmoid_backward.py
# minivae exercise check my_sigmoid_backward.py
# minivae exercise start swish_backward -o my_swish_backward.py
# minivae exercise check my_swish_backward.py
# minivae exercise start dense_backward -o my_dense_backward.py
# minivae exercise check my_dense_backward.py
# minivae exercise start adam_step -o my_adam_step.py
# minivae exercise check my_adam_step.py
# minivae exercise start sparsity_penalty -o my_sparsity_penalty.py
# minivae exercise check my_sparsity_penalty.py
# ```
#
# `start` writes a skeleton with the equation, the signature and the docstring; `check`
# reports the first failing case with a hint, or "not done yet". `minivae exercise list`
# shows every exercise; `docs/exercises.md` explains the reports.
