# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 09 · Tabular data synthesis with a VAE, and how to tell whether it worked
#
# A fitted VAE is a generator: draw z ~ N(0, I) (2.27) and decode, x = f(z), or
# with the observation noise x ~ N(f(z), ω² I) (2.28). On a table this makes
# *synthetic rows*: data one can share or use to enlarge a class, provided it
# looks like the real data. "Looks like" needs measuring. This tutorial fits one
# VAE to the non-pulsars of HTRU2 and one to the pulsars, synthesises both
# classes, and compares them with the real rows three ways
# (`minivae.synthesis.fidelity_report`):
#
# 1. **marginals**: for every column, the two-sample Kolmogorov–Smirnov statistic
#    D = sup_t |F_real(t) − F_synthetic(t)|, the largest gap between the two
#    empirical distribution functions (0: identical; scipy.stats.ks_2samp);
# 2. **dependence**: the Pearson correlation matrices of real and synthetic rows,
#    and the Frobenius norm and largest entry of their difference;
# 3. **utility**, train on synthetic, test on real (TSTR; Esteban et al. 2017):
#    the same logistic regression (`minivae.synthesis.LogisticRegression`, fitted
#    by the package's Adam) is trained once on the real training rows and once on
#    the synthetic rows, and both are scored by ROC AUC on held-out real rows.
#
# The comparison is made class by class, since the synthesiser is
# class-conditional. As a yardstick, a deliberately bad synthesiser is measured
# too: each column of the real training rows shuffled independently within each
# class. Its marginals are perfect by construction (D = 0), and everything that
# ties the columns together is gone.
#
# `minivae.synthesis.synthesize(model, n, preprocessing)` draws the rows and
# undoes the preprocessing, so the rows come back in the units of the table.
# The preprocessing is anything with `inverse_transform`; here a signed log
# sign(x)·ln(1 + |x|) on the five heavy-tailed columns (skewness, kurtosis and
# the DM-SNR mean and std reach hundreds), then standardisation
# (`minivae.datasets.Standardizer`). A Gaussian decoder cannot put a long tail
# on a column by itself; the log gives it one.

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minivae.datasets import HTRU2_FEATURE_NAMES, Standardizer, load_htru2
from minivae.models import VAE
from minivae.synthesis import fidelity_report, plot_correlations, plot_marginals, synthesize

FAST = os.environ.get("MINIVAE_FAST") == "1"
OUT = Path(os.environ.get("MINIVAE_OUTPUT", "figures"))
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
t_start = time.perf_counter()

N_EPOCHS = 30 if FAST else 100
CLASS_NAMES = ("non-pulsar", "pulsar")
HEAVY_TAILED = (3, 4, 5, 6, 7)    # profile_skewness and the four DM-SNR statistics


def new_seed():
    """An int seed for a model, drawn from the tutorial's one Generator."""
    return int(rng.integers(2**31))


class SignedLogStandardizer:
    """sign(x)·ln(1 + |x|) on ``columns``, then (x − mean) / std per column; and back."""

    def __init__(self, columns):
        self.columns = list(columns)

    def _signed_log(self, X):
        X = np.array(X, dtype=np.float64)
        X[:, self.columns] = np.sign(X[:, self.columns]) * np.log1p(np.abs(X[:, self.columns]))
        return X

    def fit(self, X):
        self.standardizer_ = Standardizer().fit(self._signed_log(X))
        return self

    def transform(self, X):
        return self.standardizer_.transform(self._signed_log(X))

    def inverse_transform(self, Z):
        X = self.standardizer_.inverse_transform(Z)
        X[:, self.columns] = np.sign(X[:, self.columns]) * np.expm1(np.abs(X[:, self.columns]))
        return X


def synthesise_both_classes(columns):
    """One VAE per class on the training rows (signed log on ``columns``); returns synthetic rows.

    Returns (rows with noise, rows of the decoder mean from the same z, their labels, the models).
    """
    noisy, mean, labels, fitted = [], [], [], []
    for c, name in enumerate(CLASS_NAMES):
        Xc = X_train[y_train == c]
        prep = SignedLogStandardizer(columns).fit(Xc)
        model = VAE(n_latent=4, hidden_sizes=(64,), sigma2=0.05, n_epochs=N_EPOCHS, lr=3e-3,
                    batch_size=100, kl_warmup=N_EPOCHS // 4, random_state=new_seed())
        model.fit(prep.transform(Xc))
        seed = new_seed()
        noisy.append(synthesize(model, Xc.shape[0], prep, random_state=seed, noise=True))
        mean.append(synthesize(model, Xc.shape[0], prep, random_state=seed))
        labels.append(np.full(Xc.shape[0], c))
        fitted.append(model)
        print(f"  {name}: VAE on {Xc.shape[0]} rows, final loss {model.history_['loss'][-1]:.3f}")
    return np.vstack(noisy), np.vstack(mean), np.concatenate(labels), fitted


# %% [markdown]
# ## 1. Data: a training part to synthesise from, a held-out part to test on

# %%
X, y = load_htru2()
order = rng.permutation(X.shape[0])
n_test = X.shape[0] * 3 // 10
test, train = order[:n_test], order[n_test:]
if FAST:   # a subset: 2,000 non-pulsars and 400 pulsars to train on, 2,000 rows to test on
    train = np.r_[train[y[train] == 0][:2000], train[y[train] == 1][:400]]
    test = test[:2000]
X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
print(f"training rows: {np.sum(y_train == 0)} non-pulsars, {np.sum(y_train == 1)} pulsars; "
      f"held-out rows: {X_test.shape[0]} ({np.sum(y_test == 1)} pulsars)")

# %% [markdown]
# ## 2. One VAE per class
#
# Each class gets its own preprocessing (fitted on its own rows) and its own
# VAE with a Gaussian decoder, ω² = 0.05 in standardised units, four latent
# dimensions, and the KL weight warmed up over the first quarter of training.
# Each synthesises as many rows as its class has in the training part.
#
# Decoder mean or noise? The decoder mean f(z) is a smooth function of four
# latent numbers and can come out too narrow; adding the noise N(0, ω² I)
# restores the spread (tutorial 02, Fig. 2.3). With ω² = 0.05 the noise is
# small here; both are measured below, and so is the same VAE without the
# signed log.

# %%
print("with the signed log on the heavy-tailed columns:")
synthetic, synthetic_mean, y_synthetic, models = synthesise_both_classes(HEAVY_TAILED)
print("standardised only:")
synthetic_plain, _, _, _ = synthesise_both_classes(())
print("first synthetic pulsar, in the table's units:")
print("  " + ", ".join(f"{n} {v:.3g}" for n, v in zip(HTRU2_FEATURE_NAMES, synthetic[y_synthetic == 1][0])))

# %% [markdown]
# ## 3. The fidelity report

# %%
shuffled = X_train.copy()
for c in (0, 1):
    rows = np.flatnonzero(y_train == c)
    for j in range(X.shape[1]):
        shuffled[rows, j] = X_train[rng.permutation(rows), j]

reports = {
    "VAE, x ~ N(f(z), w2 I)": fidelity_report(X_train, synthetic, y_train, y_synthetic, X_test, y_test,
                                               feature_names=HTRU2_FEATURE_NAMES),
    "VAE, decoder mean f(z)": fidelity_report(X_train, synthetic_mean, y_train, y_synthetic, X_test, y_test,
                                              feature_names=HTRU2_FEATURE_NAMES),
    "VAE, no signed log": fidelity_report(X_train, synthetic_plain, y_train, y_synthetic, X_test, y_test,
                                          feature_names=HTRU2_FEATURE_NAMES),
    "shuffled columns": fidelity_report(X_train, shuffled, y_train, y_train, X_test, y_test,
                                        feature_names=HTRU2_FEATURE_NAMES),
}
print(reports["VAE, x ~ N(f(z), w2 I)"])
print()
print(f"{'synthesiser':26s} {'mean KS D':>22s} {'corr. Frobenius':>22s} {'corr. max|diff|':>22s}"
      f" {'AUC (TSTR)':>11s}")
print(f"{'':26s} {'non-puls.   pulsar':>22s} {'non-puls.   pulsar':>22s} {'non-puls.   pulsar':>22s}")
for name, r in reports.items():
    ks, fro, mx = r.ks.mean(axis=1), r.corr_frobenius, r.corr_max_abs
    print(f"{name:26s} {ks[0]:11.3f} {ks[1]:9.3f} {fro[0]:12.3f} {fro[1]:9.3f} {mx[0]:12.3f} {mx[1]:9.3f}"
          f" {r.auc_synthetic:11.4f}")
print(f"{'real training rows':26s} {'0':>11s} {'0':>9s} {'0':>12s} {'0':>9s} {'0':>12s} {'0':>9s}"
      f" {reports['shuffled columns'].auc_real:11.4f}")

# %% [markdown]
# ## 4. Marginals and correlations, real against synthetic

# %%
fig = plot_marginals(X_train, synthetic, y_train, y_synthetic, feature_names=HTRU2_FEATURE_NAMES,
                     class_names=CLASS_NAMES)
fig.savefig(OUT / "09_marginals.png", dpi=90)
plt.show()

fig = plot_correlations(reports["VAE, x ~ N(f(z), w2 I)"], class_names=CLASS_NAMES)
fig.savefig(OUT / "09_correlations.png", dpi=90)
plt.show()
print(f"total time {time.perf_counter() - t_start:.1f} s")

# %% [markdown]
# ## What you should see
#
# Numbers from a full run (`python tutorials/09_tabular_synthesis.py`, 12,529
# training rows, 5,369 held-out rows, 30 s on a shared 2-core machine); fast
# mode trains on a subset for fewer epochs and prints rougher ones.
#
# | synthesiser | mean KS D (non-pulsar / pulsar) | correlations, Frobenius | max diff | TSTR AUC |
# |---|---|---|---|---|
# | VAE, signed log, x ~ N(f(z), ω² I) | 0.047 / 0.064 | 0.61 / 1.24 | 0.22 / 0.47 | 0.9635 |
# | VAE, signed log, decoder mean f(z) | 0.043 / 0.070 | 0.54 / 0.91 | 0.18 / 0.27 | 0.9636 |
# | VAE, standardised only | 0.080 / 0.087 | 0.40 / 0.35 | 0.13 / 0.12 | 0.9619 |
# | shuffled columns | 0 / 0 | 3.28 / 4.22 | 0.92 / 0.97 | 0.9612 |
# | real training rows | 0 / 0 | 0 / 0 | 0 / 0 | 0.9662 |
#
# * **Marginals** (`09_marginals.png`). The synthetic histograms follow the real
#   ones for both classes, including the long tails of the skewness and
#   DM-SNR columns: every KS statistic is below 0.09. Without the signed log
#   the Gaussian decoder cannot make those tails and the KS statistics of the
#   heavy-tailed columns grow (mean 0.080 and 0.087).
# * **Correlations** (`09_correlations.png`). The block structure (profile
#   statistics against DM-SNR statistics) is reproduced, but not every entry:
#   Pearson correlations are moved by the few most extreme rows, and the
#   inverse of the log turns the tails of the synthetic rows into large
#   values. This is the price of the log: standardised only, the VAE matches
#   the correlations better (Frobenius 0.40 and 0.35) and the marginals worse.
#   Which one to use depends on what the synthetic data is for.
# * **Train on synthetic, test on real.** A logistic regression fitted on the
#   synthetic rows separates the held-out real pulsars almost as well as one
#   fitted on the real rows (AUC 0.9635 against 0.9662). Note that the shuffled
#   columns score nearly as well (0.9612): a linear classifier needs the
#   class-wise marginals, not the dependence between columns, so TSTR with a
#   simple classifier measures only part of the fidelity. The correlation
#   measures are the ones that expose the shuffled table (Frobenius 3.3 and
#   4.2 against 0.6 and 1.2); each measure sees something the others miss.
#
# References: Esteban, C., Hyland, S. L. & Rätsch, G. (2017). Real-valued (medical)
# time series generation with recurrent conditional GANs. arXiv:1706.02633.
# Lyon, R. J. et al. (2016). Fifty years of pulsar candidate selection. MNRAS 459(1).
