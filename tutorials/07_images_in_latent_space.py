# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 07 · Images in latent space
#
# The autoencoder thesis plans a chapter of "tasks in latent space" and never writes
# it ([F ch. 3-4]). This tutorial does them, measured, on MNIST digits:
#
# 1. a **Bernoulli-decoder VAE**: samples, reconstructions, and a test-set estimate of
#    ln p(x);
# 2. **interpolation** between two encoded digits, along a straight line and along a
#    great circle (slerp);
# 3. a **2-D latent map** (nz = 2) coloured by digit;
# 4. **latent traversals**: one unit swept, the others held;
# 5. **compression**: posterior means quantised to b bits per unit, bits per image
#    against reconstruction error, beside PCA with the same number of bits;
# 6. the **stacked autoencoder** [F 1.3.4] (greedy layer-wise, then fine-tuned) against
#    the same deep autoencoder trained end to end;
# 7. the **anomaly view**: one digit class held out of training, found again by its
#    reconstruction score (3.1), with the AUC.
#
# Equation numbers such as (2.26) refer to `docs/equations.md` (the VAE thesis's
# numbering; [F x.y] is the autoencoder thesis).
#
# **Data.** MNIST is read from `$MINIVAE_DATA/mnist/` (see `minivae.datasets.load_mnist`);
# the images are binarised at 0.5 so that the Bernoulli likelihood is a true probability
# of the pixels and ln p(x) is in nats. With `MINIVAE_FAST=1` the digits are averaged
# down to 14 × 14 and only a few thousand are used. If MNIST is not available the
# tutorial says so and runs on the package's 8 × 8 bar images
# (`minivae.datasets.bars`, labels = orientation) so that every cell still runs.
#
# ## The model
#
# The encoder gives q(z|x) = N(μ(x), diag σ²(x)) (2.26), the prior is N(0, I) (2.27),
# and for binary pixels the decoder is p(x|z) = Π_j Bernoulli(x_j | σ(f_j(z))), whose
# negative log is the cross-entropy Σ_j [softplus(f_j) − x_j f_j]
# (`minivae.losses.bernoulli_nll`). Training maximises the ELBO
# E_q[ln p(x|z)] − KL(q(z|x) ‖ p(z)) (2.25, 2.31) with the reparametrisation
# z = μ + σ ⊙ ε (2.32).

# %%
import os
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from minivae import Autoencoder, StackedAutoencoder, VAE, datasets
from minivae.latent import (
    LatentCodec,
    active_units,
    interpolate,
    latent_traversal,
    pca_fit,
    rate_distortion,
)
from minivae.plotting import (
    plot_image_grid,
    plot_interpolations,
    plot_latent_scatter,
    plot_loss_curves,
    plot_rate_distortion,
    plot_reconstructions,
    plot_roc,
    plot_traversals,
    pyplot,
)

FAST = os.environ.get("MINIVAE_FAST") == "1"
OUT = Path(os.environ.get("MINIVAE_OUTPUT", "figures"))
OUT.mkdir(parents=True, exist_ok=True)
plt = pyplot()
rng = np.random.default_rng(0)
t_start = time.perf_counter()
numbers = {}


def new_seed():
    """An int seed for a model, drawn from the tutorial's one Generator."""
    return int(rng.integers(2**31))


def show(fig, name):
    """Save the figure to $MINIVAE_OUTPUT and show it (in a notebook; a no-op when headless)."""
    fig.savefig(OUT / name, dpi=100, bbox_inches="tight")
    if plt.get_backend().lower() != "agg":
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 0. Data

# %%
def load_images():
    """MNIST (binarised) if available, else the bar images; returns a dict."""
    if not os.environ.get("MINIVAE_DATA"):
        print("MINIVAE_DATA is not set, so MNIST is not looked for: using the built-in 8x8 bar "
              "images instead (set MINIVAE_DATA to a directory holding mnist/*.gz for digits).")
    else:
        n_train, n_test, down = (2500, 800, 2) if FAST else (10000, 2000, 1)
        try:
            X, y = datasets.load_mnist("train", n_samples=n_train, downsample=down, binarize=True,
                                       download=False)
            Xt, yt = datasets.load_mnist("test", n_samples=n_test, downsample=down, binarize=True,
                                         download=False)
            side = 28 // down
            return dict(name=f"MNIST {side}x{side}", X=X, y=y, X_test=Xt, y_test=yt,
                        shape=(side, side), held_out=(0, 7, 1))
        except OSError as err:
            print(f"MNIST not found under $MINIVAE_DATA ({err.__class__.__name__}): using the "
                  "built-in 8x8 bar images instead.")
    X, y = datasets.bars(3000, random_state=new_seed(), return_labels=True)
    Xt, yt = datasets.bars(1000, random_state=new_seed(), return_labels=True)
    return dict(name="bars 8x8", X=X, y=y, X_test=Xt, y_test=yt, shape=(8, 8), held_out=(1,))


data = load_images()
X, y, X_test, y_test, SHAPE = data["X"], data["y"], data["X_test"], data["y_test"], data["shape"]
MNIST = data["name"].startswith("MNIST")
print(f"{data['name']}: {X.shape[0]} training and {X_test.shape[0]} test images of "
      f"{X.shape[1]} pixels; {X.mean():.3f} of the pixels are on")
numbers["data"] = data["name"]

# %% [markdown]
# ## 1. A Bernoulli-decoder VAE: samples, reconstructions, ln p(x)
#
# nz = 8 latent units, one hidden layer. `model.sample` draws z ~ N(0, I) and decodes it;
# the grid shows the Bernoulli means σ(f(z)) (grey = uncertain pixel), not binary draws.
# `model.log_likelihood` is the importance-weighted estimate of Burda et al. (2016),
# ln p(x) ≈ ln (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x): for K = 1 it is the
# ELBO, and it rises towards ln p(x) as K grows.

# %%
NZ = 8 if MNIST else 4
HIDDEN = (256,) if (MNIST and not FAST) else (64,)
EPOCHS = 30 if FAST else 40
vae = VAE(n_latent=NZ, hidden_sizes=HIDDEN, activation="relu", likelihood="bernoulli",
          lr=5e-3, batch_size=100, n_epochs=EPOCHS, random_state=new_seed())
t0 = time.perf_counter()
vae.fit(X)
t_vae = time.perf_counter() - t0
print(f"VAE {X.shape[1]}-{HIDDEN[0]}-{NZ}: {EPOCHS} epochs in {t_vae:.1f} s; final loss "
      f"{vae.history_['loss'][-1]:.2f} nats (reconstruction {vae.history_['reconstruction'][-1]:.2f}, "
      f"KL {vae.history_['kl'][-1]:.2f})")

show(plot_image_grid(vae.sample(64, random_state=new_seed()), SHAPE, n_cols=8,
                     title="VAE samples: decoder means σ(f(z)), z ~ N(0, I)"), "07_samples.png")
show(plot_reconstructions(X_test[:12], vae.reconstruct(X_test[:12]), SHAPE, n=12,
                          titles=("test digits", "reconstructions σ(f(μ(x)))")),
     "07_reconstructions.png")
show(plot_loss_curves({"VAE": vae.history_}), "07_vae_loss.png")

n_ll = 300 if FAST else 1000
K = 50 if FAST else 500
ll = vae.log_likelihood(X_test[:n_ll], n_mc=K, random_state=new_seed())
elbo = vae.elbo(X_test[:n_ll], n_mc=100, random_state=new_seed())
n_active, activity = active_units(vae, X_test, return_activity=True)
numbers["test ln p(x), IWAE K=%d" % K] = ll.mean()
numbers["test ELBO (100 draws)"] = elbo.mean()
numbers["active units"] = f"{n_active} of {NZ}"
print(f"Test set ({n_ll} images): ln p(x) ≈ {ll.mean():.2f} ± {ll.std() / np.sqrt(n_ll):.2f} nats "
      f"(K = {K}); ELBO {elbo.mean():.2f}; active units (A_u > 0.01): {n_active} of {NZ}, "
      f"A_u = {np.round(activity, 2).tolist()}")

# %% [markdown]
# **What to look for.** Samples should look like digits, blurred where the model is
# unsure (the grid shows probabilities). Reconstructions keep the identity and the slant
# of a digit but lose stroke detail, because 8 numbers must describe 196 or 784 pixels.
# The importance-weighted ln p(x) lies above the ELBO: the difference is the part of the
# bound's slack that K samples recover. Active units: the KL term switches off units the
# decoder does not need (posterior collapse unit by unit); Burda et al.'s criterion counts
# those that still move with x.
#
# ## 2. Linear vs spherical interpolation
#
# `minivae.latent.interpolate` encodes both endpoints to their posterior means and decodes
# a path between them. Under the prior N(0, I) in nz dimensions almost all mass lies near
# the sphere of radius √nz, and the straight line between two codes cuts inside it, where
# the decoder saw few codes in training. `slerp` walks the great circle and moves the norm
# linearly from ‖z_a‖ to ‖z_b‖ (`minivae.latent.slerp`).

# %%
pairs = [(int(np.flatnonzero(y_test == a)[0]), int(np.flatnonzero(y_test == b)[0]))
         for a, b in ((1, 0), (4, 9), (3, 8))] if MNIST else [(0, 1), (2, 3), (4, 5)]
STEPS = 9
strips = {}
for i, j in pairs:
    for method in ("linear", "slerp"):
        strips[f"{method} {y_test[i]}→{y_test[j]}"] = interpolate(vae, X_test[i], X_test[j],
                                                                 steps=STEPS, method=method)
show(plot_interpolations(strips, SHAPE, title="decoded paths: linear vs slerp"),
     "07_interpolation.png")

# How far inside the sphere does the straight line go? Mid-path norms over 200 random pairs.
idx = rng.integers(0, X_test.shape[0], size=(200, 2))
mid = {"linear": [], "slerp": [], "endpoints": []}
for i, j in idx:
    for method in ("linear", "slerp"):
        Z = interpolate(vae, X_test[i], X_test[j], steps=3, method=method, return_latent=True)[1]
        mid[method].append(np.linalg.norm(Z[1]))
    mid["endpoints"].append(0.5 * (np.linalg.norm(Z[0]) + np.linalg.norm(Z[2])))
mid = {k: float(np.mean(v)) for k, v in mid.items()}
numbers["mid-path norm linear / slerp / endpoints"] = (
    f"{mid['linear']:.2f} / {mid['slerp']:.2f} / {mid['endpoints']:.2f}")
print(f"Mean norm at t = 1/2 over 200 pairs: linear {mid['linear']:.2f}, slerp {mid['slerp']:.2f}; "
      f"endpoints {mid['endpoints']:.2f}; √nz = {np.sqrt(NZ):.2f}")

# %% [markdown]
# **What to look for.** Both paths start and end at the reconstructions of the two digits.
# The linear path passes through codes of smaller norm (the numbers above), where images
# often turn faint or generic (a "mean digit"); the slerp path keeps the norm of real codes
# and its middle images stay more digit-like. With only 8 latent units the effect is
# modest; it grows with nz, since the typical radius √nz grows while the straight line
# between two random directions shrinks by a factor about 1/√2 at its middle.
#
# ## 3. A 2-D latent map
#
# With nz = 2 the posterior means can be drawn directly. The colour is the digit label,
# which the VAE never saw. To put a number on the picture we classify each test digit by
# the majority label of its 5 nearest training codes (plain NumPy), and do the same on
# the first two principal components.

# %%
vae2 = VAE(n_latent=2, hidden_sizes=HIDDEN, activation="relu", likelihood="bernoulli", lr=5e-3,
           batch_size=100, n_epochs=EPOCHS, random_state=new_seed()).fit(X)
Z2, Z2_test = vae2.transform(X), vae2.transform(X_test)
show(plot_latent_scatter(Z2_test, y_test, title="VAE with nz = 2: posterior means of test digits"),
     "07_latent_map.png")


def knn_accuracy(Z_train, y_train, Z_query, y_query, k=5):
    """Share of queries whose k nearest training codes (Euclidean) vote for the right label."""
    d2 = (np.sum(Z_query ** 2, axis=1)[:, None] - 2 * Z_query @ Z_train.T
          + np.sum(Z_train ** 2, axis=1)[None, :])
    nearest = np.argpartition(d2, k, axis=1)[:, :k]
    votes = np.apply_along_axis(np.bincount, 1, y_train[nearest], minlength=int(y_train.max()) + 1)
    return float(np.mean(votes.argmax(axis=1) == y_query))


mean_, V_, _ = pca_fit(X)
acc_vae2 = knn_accuracy(Z2, y, Z2_test, y_test)
acc_pca2 = knn_accuracy((X - mean_) @ V_[:2].T, y, (X_test - mean_) @ V_[:2].T, y_test)
numbers["5-NN accuracy on 2-D codes: VAE / PCA"] = f"{acc_vae2:.3f} / {acc_pca2:.3f}"
print(f"5-nearest-neighbour accuracy on the 2-D codes: VAE {acc_vae2:.3f}, PCA {acc_pca2:.3f}")

# %% [markdown]
# **What to look for.** Classes form regions of the disc; similar digits (4 and 9, 3, 5
# and 8) share borders, and 1s usually sit at one edge because they have the fewest
# pixels on. The prior pulls everything into a round blob around 0: the VAE does not
# separate classes it was never told about, but its 2-D map keeps more of the class
# structure than the best linear 2-D projection (compare the two accuracies).
#
# ## 4. Latent traversals
#
# `minivae.latent.latent_traversal` keeps the code μ(x) of one digit and sweeps one unit
# through −3 … 3 (where the prior has almost all its mass). We show the most active units.

# %%
values = np.linspace(-3, 3, 9)
top = np.argsort(activity)[::-1][:min(5, NZ)]
sweeps = np.stack([latent_traversal(vae, X_test[0], int(u), values) for u in top])
show(plot_traversals(sweeps, values, SHAPE, units=top,
                     title="one unit swept, the others at μ(x)"), "07_traversals.png")

# %% [markdown]
# **What to look for.** Each row changes one thing: often slant, width or stroke
# thickness, sometimes the digit's identity (a 7 turning into a 9). Units are not
# guaranteed to be "disentangled"; nothing in the plain ELBO asks for that.
#
# ## 5. Compression: rate against distortion, beside PCA
#
# `minivae.latent.LatentCodec` stores b bits per latent unit: u = Φ(μ_j) is cut into 2^b
# equal bins, so every bin holds the same prior mass, and the decoder maps a bin back to
# Φ⁻¹ of its centre. A code has b · nz bits and `encode` packs it into
# ⌈b · nz / 8⌉ bytes per image. `minivae.latent.rate_distortion` gives the squared error
# per image for each b, and the PCA baseline at the same number of bits: nz components of
# b bits each (same layout), and the best split of the bits among k components.

# %%
codec = LatentCodec(vae, 4)
blob = codec.encode(X_test[:100])
print(f"LatentCodec(bits=4): {len(blob)} bytes for 100 images = {codec.bytes_per_example} bytes "
      f"per image (the binary image itself needs {int(np.ceil(X.shape[1] / 8))} bytes)")
bits_list = [1, 2, 3, 4, 6, 8]
rd = rate_distortion(vae, X_test, bits_list, X_fit=X)
print("bits/unit  bits/image  VAE error  PCA (nz comps)  PCA (best split, k)")
for r in range(len(bits_list)):
    print(f"{rd['bits'][r]:9d}  {rd['bits_per_example'][r]:10d}  {rd['model_error'][r]:9.2f}  "
          f"{rd['pca_error'][r]:14.2f}  {rd['pca_best_error'][r]:9.2f} (k={rd['pca_best_components'][r]})")
print(f"VAE with the unquantised code: {rd['model_error_unquantized']:.2f}; "
      f"error of predicting every pixel by its mean: "
      f"{float(np.mean(np.sum((X_test - X.mean(axis=0)) ** 2, axis=1))):.2f}")
show(plot_rate_distortion(rd, title=f"rate-distortion on {data['name']} (test set)"),
     "07_rate_distortion.png")
r4 = bits_list.index(4)
numbers["error at 4 bits/unit: VAE / PCA same layout / PCA best split"] = (
    f"{rd['model_error'][r4]:.2f} / {rd['pca_error'][r4]:.2f} / {rd['pca_best_error'][r4]:.2f}")

# %% [markdown]
# **What to look for.** All curves fall as bits grow; the VAE's flattens at its
# unquantised error after about 4 bits per unit — beyond that the code is not the
# bottleneck, the 8-unit model is. At 1 bit per unit the two codes are about equal (a
# sign per unit says little either way); from 2 bits per unit on, the non-linear code
# wins clearly over PCA with the same layout (on 28 × 28 digits, 29.4 against 42.8 at
# 32 bits per image). PCA with the freedom to spread its bits over more components keeps
# improving with the budget and catches up with a fixed nz = 8 VAE at about 64 bits per
# image: a fair comparison at high rates would give the VAE more units too.
#
# ## 6. Stacked vs end-to-end deep autoencoder [F 1.3.4]
#
# `minivae.models.StackedAutoencoder` trains one shallow autoencoder per layer on the codes
# of the layer below (greedy, Hinton & Salakhutdinov 2006), stacks them, and fine-tunes the
# whole network by backpropagation. With sigmoid units its network is exactly
# `Autoencoder(hidden_sizes=layer_sizes[:-1])`, which we train end to end from a random
# start with as many epochs as the stacked model's stages and fine-tuning together
# (a generous budget: a stage epoch costs less than a full-network epoch).

# %%
LAYERS = ((256, 64, NZ) if not FAST else (128, 32, NZ)) if MNIST else (32, 16, NZ)
PRE, FINE = (5, 10) if FAST else (10, 30)
stacked = StackedAutoencoder(LAYERS, activation="sigmoid", likelihood="bernoulli",
                             pretrain_epochs=PRE, finetune_epochs=FINE, lr=5e-3,
                             random_state=new_seed())
t0 = time.perf_counter()
stacked.fit(X)
t_stacked = time.perf_counter() - t0
deep = Autoencoder(n_latent=LAYERS[-1], hidden_sizes=LAYERS[:-1], activation="sigmoid",
                   likelihood="bernoulli", lr=5e-3, n_epochs=PRE * len(LAYERS) + FINE,
                   random_state=new_seed())
t0 = time.perf_counter()
deep.fit(X)
t_deep = time.perf_counter() - t0
greedy_train = stacked.history_["finetune"][0]     # the stacked stages before any fine-tuning
loss_stacked = float(-stacked.score_samples(X_test).mean())
loss_deep = float(-deep.score_samples(X_test).mean())
arch = "-".join(str(s) for s in (X.shape[1], *LAYERS))
print(f"Autoencoder {arch} (mirrored decoder), test cross-entropy per image:")
print(f"  stacked, greedy stages only:       ({greedy_train:.2f} on the training set)")
print(f"  stacked + {FINE} fine-tuning epochs:    {loss_stacked:.2f}   ({t_stacked:.1f} s)")
print(f"  end to end, {PRE * len(LAYERS) + FINE} epochs:             {loss_deep:.2f}   ({t_deep:.1f} s)")
numbers["stacked / end-to-end test loss"] = f"{loss_stacked:.2f} / {loss_deep:.2f}"
numbers["stacked / end-to-end seconds"] = f"{t_stacked:.1f} / {t_deep:.1f}"
show(plot_loss_curves({"stacked, fine-tuning (point 1: greedy stages only)": stacked.history_["finetune"],
                       "end to end": deep.history_}, keys=["loss"], title="train loss"),
     "07_stacked_vs_end_to_end.png")

# %% [markdown]
# **What to look for.** Fine-tuning starts from the greedy network's loss (the first point
# of the left curve) and improves it a lot: the greedy stages alone reconstruct poorly
# (each stage was only asked to reconstruct its own input). The end-to-end network, same
# architecture and more epochs, ends higher in our runs — by 2 nats per image on 28 × 28
# digits, by 8 in fast mode: with sigmoid units a random start spends its first epochs
# on a plateau (the knee of the right curve) while gradients through three saturating layers
# are small, and the greedy stages skip that. This is the original argument for greedy
# pre-training (Hinton & Salakhutdinov 2006; Bengio et al. 2007). It fell out of use because
# ReLU units, careful initialisation and Adam shrink that plateau; we did not measure that
# here. The stacked model is also the cheaper one: a stage epoch costs less than a
# full-network epoch.
#
# ## 7. The anomaly view: one digit class held out
#
# Train a VAE on every class but one, then score test images by the Monte-Carlo
# reconstruction error (3.1) (`minivae.models.VAE.reconstruction_error`), score(x) = (1/L) Σ_l ‖x − f(z_l)‖², z_l ~ q(z|x): the held-out
# class should reconstruct worse. The AUC is the probability that a held-out digit outscores
# a normal one (Mann–Whitney; ties count ½).

# %%
try:
    from minivae.anomaly import roc_auc_score
except ImportError:
    def roc_auc_score(y_true, score):
        """AUC by the rank formula: (Σ ranks of positives − n1(n1 + 1)/2) / (n1 n0), ties averaged."""
        ranks = rankdata(score)
        pos = np.asarray(y_true) == 1
        n1, n0 = pos.sum(), (~pos).sum()
        return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_points(y_true, score):
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-score, kind="stable")
    s, t = score[order], np.asarray(y_true)[order] == 1
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]   # last index of each tied block
    tp, fp = np.cumsum(t)[last], np.cumsum(~t)[last]
    return np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]]


curves = {}
for c in data["held_out"]:
    vae_normal = VAE(n_latent=NZ, hidden_sizes=HIDDEN, activation="relu", likelihood="bernoulli",
                     lr=5e-3, batch_size=100, n_epochs=EPOCHS, random_state=new_seed()).fit(X[y != c])
    is_anomaly = (y_test == c).astype(int)
    score = vae_normal.reconstruction_error(X_test, n_mc=10, random_state=new_seed())   # (3.1)
    auc = roc_auc_score(is_anomaly, score)
    auc_ll = roc_auc_score(is_anomaly, -vae_normal.log_likelihood(X_test, n_mc=20,
                                                                   random_state=new_seed()))
    curves[f"class {c} held out"] = (*roc_points(is_anomaly, score), auc)
    numbers[f"AUC, class {c} held out: reconstruction (3.1) / -ln p(x)"] = f"{auc:.3f} / {auc_ll:.3f}"
    print(f"Class {c} held out ({is_anomaly.sum()} of {len(is_anomaly)} test images): AUC {auc:.3f} "
          f"with the reconstruction score (3.1), {auc_ll:.3f} with −ln p(x) (K = 20); mean pixels "
          f"on: class {c} {X_test[y_test == c].sum(axis=1).mean():.1f}, "
          f"others {X_test[y_test != c].sum(axis=1).mean():.1f}")
show(plot_roc(curves, title="one class held out of training: reconstruction score (3.1)"),
     "07_anomaly_roc.png")

# %% [markdown]
# **What to look for.** The held-out class is found well when its digits look unlike
# every training class (0, 6, 2 in our runs), barely when a near twin was trained on (a 7
# next to 1s and 9s), and a held-out **1 gets an AUC below 0.5**: the detector ranks the
# unseen 1s as *more* normal than the digits it was trained on. A 1 has few pixels on
# (printed above), so any decoder that draws a thin stroke reconstructs it well and gives
# it a high likelihood. Reconstruction error and likelihood measure how hard an image is
# to encode, not only how unfamiliar it is — the same failure that makes deep generative
# models rate simple out-of-distribution images as likely (Nalisnick et al. 2019). The
# likelihood and the reconstruction score agree closely here.
#
# ## What you should see
#
# Numbers from a full run (`python tutorials/07_images_in_latent_space.py`: 10,000
# binarised 28 × 28 training digits, 2,000 test digits; about 4 minutes of CPU on one
# core, 17 on a busy shared machine). Fast mode (2,500 digits at 14 × 14) prints rougher
# numbers in the same pattern; both lists are printed by the cell below.
#
# | what | full run | fast mode |
# |---|---|---|
# | test ln p(x), IWAE (K = 500 / 50) | −102.9 ± 1.2 nats | −34.3 ± 0.6 |
# | test ELBO (100 draws) | −110.7 | −36.3 |
# | active units (A_u > 0.01) | 8 of 8 | 8 of 8 |
# | norm at t = ½: linear / slerp (endpoints) | 2.12 / 2.92 (2.92) | 1.89 / 2.60 (2.60) |
# | 5-NN accuracy of 2-D codes: VAE / PCA | 0.595 / 0.413 | 0.511 / 0.370 |
# | error at 4 bits per unit (32 bits per image): VAE / PCA same layout / PCA best split | 29.4 / 42.8 / 37.6 | 7.97 / 9.99 / 8.41 |
# | test loss, stacked + fine-tuned / end to end | 94.0 / 96.0 nats | 29.7 / 38.3 |
# | AUC, class 0 / 7 / 1 held out (reconstruction score (3.1)) | 0.91 / 0.64 / 0.19 | 0.92 / 0.63 / 0.21 |
#
# * Samples and reconstructions are recognisable digits; the reconstructions keep shape and
#   slant, not stroke detail. ln p(x) lies 8 nats above the ELBO on 28 × 28 digits.
# * The straight line between two codes passes at about 0.73 of the endpoints' norm
#   (≈ 1/√2, two nearly orthogonal directions), and its middle images fade; slerp keeps the
#   norm and the strokes.
# * The 2-D map separates 0s and 1s from the rest and keeps more class structure than
#   2-D PCA, but not all of it: the VAE was never told the labels.
# * Compression: 4 bytes per image (4 bits × 8 units) reconstruct within 5 % of the
#   unquantised VAE code, and far better than PCA at the same size.
# * Greedy pre-training plus fine-tuning beats the same network trained end to end from a
#   random start at this budget, by a little on full digits and more in fast mode.
# * The anomaly view works for a distinctive class (0), hardly for a 7, and fails
#   upside down for 1s (AUC < 0.5): reconstruction error and likelihood favour simple images.

# %%
elapsed = time.perf_counter() - t_start
for key, value in numbers.items():
    print(f"{key:>62s}: {value if isinstance(value, str) else f'{value:.2f}'}")
print(f"{'total time (s)':>62s}: {elapsed:.1f}")
