# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 00 · From least squares to variational inference
#
# This tutorial follows thesis §1.2 (regression and Bayesian regression, equations
# 1.12–1.28) and §2.1 (variational inference, 2.4–2.24; all written out in
# docs/equations.md) with the functions of
# `minivae.bayes`. No neural network appears yet: everything the VAE will need —
# a likelihood, a prior, a posterior, and a lower bound on the evidence — is met here in
# models small enough to solve by hand, so each number can be checked against a
# closed form.
#
# 1. Polynomial least squares and over-fitting (1.12–1.13, Fig. 1.1).
# 2. Ridge regression as the fix (1.14).
# 3. Bayesian linear regression with a sigmoid basis (1.15–1.27): predictive bands
#    that shrink as data arrive, and MAP = ridge (1.28).
# 4. The ELBO decomposition ln p(d) = KL + L (2.9), checked on a model whose evidence
#    is known exactly.
# 5. The Normal–Gamma example (2.12–2.24): gradient ascent (Adam) and coordinate ascent
#    (CAVI) reach the thesis's optimum m̂ = 4.8, S = 0.96, γ = 0.5, δ = 12.
# 6. Fig. 2.1: q(m) against p(m | d, α) for several α.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import integrate, stats

from minivae.bayes import (
    BayesianLinearRegression,
    design_matrix,
    fit_normal_gamma_adam,
    fit_normal_gamma_cavi,
    kl_normal,
    least_squares,
    normal_gamma_elbo,
    normal_gamma_predictive,
    normal_mean_elbo,
    normal_mean_log_evidence,
    normal_mean_posterior,
    polynomial_features,
    predictive_distribution,
    sum_of_squares,
)

FAST = os.environ.get("MINIVAE_FAST") == "1"
OUT = Path(os.environ.get("MINIVAE_OUTPUT", "figures"))
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Polynomial least squares (1.12–1.13) and Fig. 1.1
#
# The thesis draws nine targets t = sin(x) + ε with ε ~ N(0, 0.2). Its notation does not say
# whether 0.2 is the standard deviation or the variance; **we take 0.2 as the standard
# deviation** (noise variance 0.04, noise precision β = 1/0.2² = 25, the value used in
# section 3). The inputs are nine equally spaced points on one period [0, 2π].
#
# A polynomial of order M, y(x, w) = Σ_{j=0..M} w_j x^j (1.12), is linear in w, so with the
# design matrix Φ_nj = x_n^j (`polynomial_features`) the error
# E(w) = ½ Σ_n (t_n − y(x_n, w))² (1.13) is a linear least-squares problem
# (`least_squares`). We report the training error E_RMS = √(2E/N) and the distance to the
# truth, the RMS of y(x, w) − sin(x) over a fine grid.
#
# One draw of nine noisy points can make any M look good or bad, so we draw the noise
# R times, fit every draw, and report medians; the figure shows the draw whose M = 8 error
# is the median one (a typical draw, not a hand-picked one).

# %%
sigma_noise = 0.2
n_repeats = 200
x_train = np.linspace(0.0, 2.0 * np.pi, 9)
T_train = np.sin(x_train) + sigma_noise * rng.standard_normal((n_repeats, 9))
x_grid = np.linspace(0.0, 2.0 * np.pi, 300)
orders = [1, 2, 3, 8]


def train_rms(w, t, degree):
    """E_RMS = sqrt(2 E(w) / N) with E from (1.13)."""
    return np.sqrt(2.0 * sum_of_squares(w, polynomial_features(x_train, degree), t) / len(t))


def truth_rms(w, degree):
    """RMS distance between y(x, w) and sin(x) on the plotting grid."""
    return np.sqrt(np.mean((polynomial_features(x_grid, degree) @ w - np.sin(x_grid)) ** 2))


fits = {M: [least_squares(polynomial_features(x_train, M), t) for t in T_train] for M in orders}
err_train = {M: np.array([train_rms(w, t, M) for w, t in zip(fits[M], T_train)]) for M in orders}
err_truth = {M: np.array([truth_rms(w, M) for w in fits[M]]) for M in orders}
shown = int(np.argsort(err_truth[8])[n_repeats // 2])
t_train = T_train[shown]

print(f"medians over {n_repeats} noise draws")
print(" M   train E_RMS   RMS to sin(x)   max_j |w_j| (2pi)^j  (shown draw)")
for M in orders:
    w = fits[M][shown]
    term_size = np.max(np.abs(w) * (2.0 * np.pi) ** np.arange(M + 1))
    print(f"{M:2d}   {np.median(err_train[M]):11.4f}   {np.median(err_truth[M]):13.4f}   {term_size:20.4g}")

fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True, sharey=True)
for ax, M in zip(axes.ravel(), orders):
    ax.plot(x_grid, np.sin(x_grid), color="tab:green", lw=1, label="sin(x)")
    ax.plot(x_grid, polynomial_features(x_grid, M) @ fits[M][shown], color="tab:red", label=f"M = {M}")
    ax.plot(x_train, t_train, "o", mfc="none", color="tab:blue", label="data t")
    ax.set_ylim(-1.7, 1.7)
    ax.set(xlabel="x", ylabel="t", title=f"Fig. 1.1: M = {M}")
    ax.legend(loc="upper right", fontsize=8)
fig.suptitle("Fig. 1.1: least-squares polynomials of order M (1.12–1.13), noise std 0.2")
fig.tight_layout()
fig.savefig(OUT / "00_fig1_1_polynomial_fits.png", dpi=120)
plt.show()

# %% [markdown]
# M = 1 and 2 cannot bend enough (under-fitting: both errors large); M = 3 follows the sine;
# M = 8 has nine coefficients for nine points, so it passes through every point (training
# error 0) and wanders between them — its distance to sin(x) is larger than that of M = 3.
# As the thesis remarks after (1.13), the over-fitted coefficients are large and of
# alternating sign: the last column shows the biggest single term |w_j x^j| at x = 2π —
# for M = 8 tens of thousands, while the function they add up to stays within ±1.5.

# %%
print("coefficients w_j of the M = 8 fit (shown draw):")
print(np.array2string(fits[8][shown], precision=3, max_line_width=100))

# %% [markdown]
# ## 2. Ridge regression (1.14)
#
# Adding λ/2 ‖w‖² to the error (1.14) penalises large coefficients. The minimiser solves
# (ΦᵀΦ + λI) w = Φᵀt; `least_squares(Phi, t, lam)` solves the equivalent stacked problem
# [Φ; √λ I] w ≈ [t; 0] with an SVD, since forming ΦᵀΦ for x⁸ up to 2.4·10⁶ would lose most
# digits. We scan ln λ for M = 8 over the same R draws and keep the λ with the lowest
# median distance to sin(x). (In practice the truth is unknown and λ is chosen on held-out
# data, or by the evidence — section 3.)

# %%
Phi8 = polynomial_features(x_train, 8)
log_lams = np.linspace(-20.0, 5.0, 26 if FAST else 101)
ridge_truth = np.array([[truth_rms(least_squares(Phi8, t, np.exp(ll)), 8) for t in T_train] for ll in log_lams])
ridge_median = np.median(ridge_truth, axis=1)
best = int(np.argmin(ridge_median))
lam_best = float(np.exp(log_lams[best]))
w_ridge = least_squares(Phi8, t_train, lam_best)
print(f"best ln(lambda) = {log_lams[best]:.2f}")
print(f"median RMS to sin(x): M = 3 {np.median(err_truth[3]):.4f}, M = 8 {np.median(err_truth[8]):.4f}, "
      f"M = 8 with ridge {ridge_median[best]:.4f}")
print(f"shown draw: max_j |w_j| (2pi)^j = {np.max(np.abs(fits[8][shown]) * (2 * np.pi) ** np.arange(9)):.4g} "
      f"without ridge, {np.max(np.abs(w_ridge) * (2 * np.pi) ** np.arange(9)):.4g} with")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(x_grid, np.sin(x_grid), color="tab:green", lw=1, label="sin(x)")
ax1.plot(x_grid, polynomial_features(x_grid, 8) @ fits[8][shown], color="tab:red", alpha=0.4,
         label="M = 8, λ = 0")
ax1.plot(x_grid, polynomial_features(x_grid, 8) @ w_ridge, color="tab:red",
         label=f"M = 8, ln λ = {log_lams[best]:.1f}")
ax1.plot(x_train, t_train, "o", mfc="none", color="tab:blue", label="data t")
ax1.set_ylim(-1.7, 1.7)
ax1.set(xlabel="x", ylabel="t", title="ridge regression (1.14), shown draw")
ax1.legend(fontsize=8)
ax2.plot(log_lams, ridge_median, label="M = 8 with ridge")
ax2.axhline(np.median(err_truth[3]), color="tab:gray", ls="--", label="M = 3, λ = 0")
ax2.axvline(log_lams[best], color="gray", ls=":")
ax2.set_xlabel("ln λ")
ax2.set_ylabel(f"median RMS to sin(x) over {n_repeats} draws")
ax2.set_title("choosing λ (1.14)")
ax2.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "00_ridge.png", dpi=120)
plt.show()

# %% [markdown]
# ## 3. Bayesian linear regression (1.15–1.28)
#
# Replace the powers by sigmoid steps φ_j(x) = σ((x − c_j)/s) — the thesis's
# σ(x) = 1/(1 + e^−x) (1.15) moved to nine centres c_j on [0, 2π] and stretched by
# s = 0.6 — with φ_0 = 1 for the bias, so y(x, w) = wᵀφ(x) (1.16). Treat w as random: the likelihood is
# p(t | Φ, w, β) = N(t | Φw, β⁻¹I) (1.19–1.20) and the prior p(w | α) = N(w | 0, α⁻¹I)
# (1.21). Both are Gaussian, so the posterior is Gaussian, N(w | m_N, S_N) with
#
# * S_N⁻¹ = αI + βΦᵀΦ (1.26),  m_N = β S_N Φᵀ t (1.27)  — `weight_posterior`;
#
# and a new target has the Gaussian predictive distribution with
#
# * mean m_Nᵀφ(x) and variance 1/β + φ(x)ᵀ S_N φ(x) — `predictive_distribution`
#   (Bishop 3.58–3.59).
#
# The variance has two parts: the noise 1/β, which no amount of data removes, and the
# uncertainty about w, which shrinks as points arrive. Below the points of a stream
# arrive one by one; β = 25 is the true noise precision and α = 2 a mild prior.
# N = 0 is the prior itself (m_0 = 0, S_0 = α⁻¹I).

# %%
alpha, beta = 2.0, 1.0 / sigma_noise ** 2
centers = np.linspace(0.0, 2.0 * np.pi, 9)
scale = 0.6
n_stream = 25
x_stream = rng.uniform(0.0, 2.0 * np.pi, n_stream)
t_stream = np.sin(x_stream) + sigma_noise * rng.standard_normal(n_stream)
Phi_grid = design_matrix(x_grid, "sigmoid", centers=centers, scale=scale)
n_curves = 3 if FAST else 5

fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True, sharey=True)
print("  N   mean predictive std   max predictive std")
for ax, N in zip(axes.ravel(), [0, 1, 2, 4, 9, 25]):
    if N == 0:
        M = Phi_grid.shape[1]
        mean, var = predictive_distribution(Phi_grid, np.zeros(M), np.eye(M) / alpha, beta)
        std = np.sqrt(var)
        curves = rng.standard_normal((n_curves, M)) / np.sqrt(alpha)
    else:
        blr = BayesianLinearRegression(alpha, beta, basis="sigmoid", centers=centers, scale=scale)
        blr.fit(x_stream[:N], t_stream[:N])
        mean, std = blr.predict(x_grid, return_std=True)
        curves = blr.sample_weights(n_curves, random_state=rng)
    print(f"{N:3d}   {std.mean():19.4f}   {std.max():18.4f}")
    ax.fill_between(x_grid, mean - 2 * std, mean + 2 * std, color="tab:red", alpha=0.2, label="±2 predictive std")
    draws = ax.plot(x_grid, Phi_grid @ curves.T, color="tab:gray", lw=0.7, alpha=0.8)
    draws[0].set_label("prior draws of w" if N == 0 else "posterior draws of w")
    ax.plot(x_grid, mean, color="tab:red", label="predictive mean")
    ax.plot(x_grid, np.sin(x_grid), color="tab:green", lw=1, ls="--", label="sin(x)")
    ax.plot(x_stream[:N], t_stream[:N], "o", mfc="none", color="tab:blue", label=f"{N} data points")
    stage = "the prior (1.21)" if N == 0 else "posterior (1.26–1.27)"
    ax.set(xlabel="x", ylabel="t", title=f"N = {N}: {stage}", ylim=(-3.6, 2.5))
    ax.legend(fontsize=6, loc="lower center", ncol=3, handlelength=1.5, columnspacing=0.8)
fig.suptitle("Bayesian linear regression, sigmoid basis: predictive mean, ±2 std, draws of w")
fig.tight_layout()
fig.savefig(OUT / "00_bayesian_regression_bands.png", dpi=120)
plt.show()

# %% [markdown]
# **MAP = ridge (1.28).** ln p(w | t) = −β/2 ‖t − Φw‖² − α/2 ‖w‖² + const, which is −β times
# (1.14) with λ = α/β; so the posterior mode m_N is the ridge solution.

# %%
Phi_stream = design_matrix(x_stream, "sigmoid", centers=centers, scale=scale)
blr = BayesianLinearRegression(alpha, beta).fit(Phi_stream, t_stream)
w_ridge_blr = least_squares(Phi_stream, t_stream, lam=alpha / beta)
print(f"max |m_N - w_ridge(lambda = alpha/beta)| = {np.max(np.abs(blr.m_N_ - w_ridge_blr)):.2e}")

# %% [markdown]
# **An extra: choosing α and β from the data.** (1.14) left λ to be chosen by hand. The
# Bayesian answer (Bishop §3.5, not in the thesis) maximises the evidence
# p(t | α, β) = ∫ p(t | w, β) p(w | α) dw over α and β; `fit_evidence` iterates
# Bishop's fixed-point equations (3.92, 3.95). With only 25 points the estimate of β is
# rough; compare it with the noise actually present in this sample, 1/mean((t − sin x)²).

# %%
blr_ev = BayesianLinearRegression(alpha=1.0, beta=1.0, basis="sigmoid", centers=centers, scale=scale)
blr_ev.fit_evidence(x_stream, t_stream)
print(f"evidence maximisation: alpha = {blr_ev.alpha_:.3f}, beta = {blr_ev.beta_:.2f} "
      f"(noise std {blr_ev.beta_ ** -0.5:.3f}), gamma = {blr_ev.gamma_:.2f} well-determined weights "
      f"of {blr_ev.n_features_in_}, ln p(t) = {blr_ev.log_evidence_:.3f}, {blr_ev.n_iter_} sweeps")
print(f"noise in this sample: 1/mean((t - sin x)^2) = {1.0 / np.mean((t_stream - np.sin(x_stream)) ** 2):.2f} "
      f"(true beta = {beta:.0f}); ln p(t) at the hand-set alpha = {alpha}, beta = {beta:.0f}: "
      f"{BayesianLinearRegression(alpha, beta).fit(Phi_stream, t_stream).log_evidence_:.3f}")

# %% [markdown]
# ## 4. The evidence lower bound (2.4–2.11), checked where ln p is known
#
# For a latent variable m and data d, Jensen's inequality gives, for any density q(m),
# ln p(d) ≥ L(q) = ∫ q(m) ln [p(d, m)/q(m)] dm (2.4–2.5), and the gap is exactly a KL
# divergence (2.9):
#
# ln p(d) = D_KL[q(m) ‖ p(m | d)] + L(q),   L(q) = E_q[ln p(d | m)] − D_KL[q(m) ‖ p(m)] (2.10–2.11).
#
# To see every term we take the Normal–Gamma model of section 5 with α *fixed*:
# d = m + ε, ε ~ N(0, 1), m ~ N(0, 1/α). Then
#
# * p(d) = N(d | 0, 1 + 1/α) (`normal_mean_log_evidence`),
# * p(m | d) = N(m | d/(1 + α), 1/(1 + α)) (`normal_mean_posterior`),
# * for q(m) = N(m | m̂, S): E_q[ln p(d | m)] = −½ ln 2π − ½ d² + d m̂ − ½ (m̂² + S) (2.23),
#   and the KL between Gaussians is closed-form (`kl_normal`); `normal_mean_elbo` puts
#   (2.10–2.11) together.
#
# We also compute L(q) by numerical quadrature of (2.5), which shares none of that algebra.

# %%
d_obs, alpha_fixed = 5.0, 1.0
log_p = normal_mean_log_evidence(d_obs, alpha_fixed)
m_post, S_post = normal_mean_posterior(d_obs, alpha_fixed)


def elbo_by_quadrature(m_hat, S):
    q = stats.norm(m_hat, np.sqrt(S))
    integrand = lambda m: q.pdf(m) * (stats.norm.logpdf(d_obs, m, 1.0)  # noqa: E731
                                      + stats.norm.logpdf(m, 0.0, alpha_fixed ** -0.5) - q.logpdf(m))
    return integrate.quad(integrand, m_hat - 12 * np.sqrt(S), m_hat + 12 * np.sqrt(S))[0]


print(f"ln p(d = 5) = {log_p:.6f}; exact posterior N({m_post}, {S_post})")
print("q = N(m_hat, S)                L(q)      L by quad   KL(q||p(m|d))   L + KL")
candidates = [("prior N(0, 1/alpha)", 0.0, 1.0 / alpha_fixed), ("N(d, 0.5)", d_obs, 0.5),
              ("N(2.5, 2)", 2.5, 2.0), ("N(3, 0.1)", 3.0, 0.1), ("exact posterior", m_post, S_post)]
for name, m_hat, S in candidates:
    L = normal_mean_elbo(m_hat, S, d_obs, alpha_fixed)
    KL = kl_normal(m_hat, S, m_post, S_post)
    print(f"{name:22s} {L:10.6f}  {elbo_by_quadrature(m_hat, S):10.6f}  {KL:13.6f}  {L + KL:10.6f}")

m_hats = np.linspace(-1.0, 6.0, 200)
fig, ax = plt.subplots(figsize=(6, 3.8))
for S in [0.1, S_post, 2.0]:
    ax.plot(m_hats, normal_mean_elbo(m_hats, S, d_obs, alpha_fixed), label=f"L(q), S = {S:g}")
ax.axhline(log_p, color="k", ls="--", lw=1, label="ln p(d)")
ax.plot([m_post], [log_p], "k*", ms=10, label="q = p(m | d)")
ax.set_ylim(log_p - 8, log_p + 1)
ax.set_xlabel("m̂")
ax.set_ylabel("L(q) for q(m) = N(m̂, S)")
ax.legend(fontsize=8)
ax.set_title("(2.9): L(q) never exceeds ln p(d); touches it at p(m | d)", fontsize=10)
fig.tight_layout()
fig.savefig(OUT / "00_elbo_bound.png", dpi=120)
plt.show()

# %% [markdown]
# ## 5. The Normal–Gamma example (2.12–2.24)
#
# Now α is unknown too: p(d | m) = N(d | m, 1), p(m | α) = N(m | 0, α⁻¹),
# p(α) = Gamma(α | γ0, δ0) (shape, rate). The posterior p(m, α | d) is no longer a
# standard density, so we approximate it by the mean-field family
# q(m, α) = N(m | m̂, S) · Gamma(α | γ, δ) and maximise the ELBO (2.22)
#
# L = E_q[ln p(d | m)] − D_KL[q(m, α) ‖ p(m, α)].
#
# `normal_gamma_elbo` writes it term by term: the expected log-likelihood (2.23); then
# the KL (2.17) as minus E_q[ln p(m | α)] (2.19), minus E_q[ln p(α)] (2.20), minus the
# entropy ½ ln(2πeS) of q(m) and the Gamma entropy γ − ln δ + ln Γ(γ) + (1 − γ)ψ(γ) (1.11),
# using E[α] = γ/δ and E[ln α] = ψ(γ) − ln δ. It also returns the gradient, checked
# against finite differences in `tests/test_bayes.py`.
#
# Two ways to maximise it:
#
# * **gradient ascent** (the thesis's choice): `fit_normal_gamma_adam` runs the package's
#   Adam on θ = (m̂, ln S, ln γ, ln δ) — logs make it unconstrained, and by the chain rule
#   ∂L/∂ln S = S ∂L/∂S. Adam descends, so it receives −∂L/∂θ.
# * **coordinate ascent** (CAVI): setting each factor to exp E_other[ln p(d, m, α)] gives
#   γ = γ0 + ½, δ = δ0 + ½(m̂² + S), then S = 1/(1 + γ/δ), m̂ = d·S.
#
# "No prior information" means γ0 = δ0 → 0, where p(α) becomes improper (its
# normaliser, and so L, tends to −∞), but the optimum has a limit. We use 10⁻⁸.

# %%
eps0 = 1e-8
cavi = fit_normal_gamma_cavi(d=d_obs, gamma0=eps0, delta0=eps0)
adam = fit_normal_gamma_adam(d=d_obs, gamma0=eps0, delta0=eps0)
print("            m_hat        S           gamma       delta        ELBO         iterations")
for name, r in [("CAVI", cavi), ("Adam", adam)]:
    print(f"{name}   {r.m_hat:.8f}  {r.S:.8f}  {r.gamma:.8f}  {r.delta:.8f}  {r.elbo:.8f}  {r.n_iter}")
print("thesis   4.8          0.96        0.5         12.0")
print(f"max |Adam - CAVI| = {np.max(np.abs(np.subtract(adam.as_tuple(), cavi.as_tuple()))):.2e}")
_, g = normal_gamma_elbo(*cavi.as_tuple(), d_obs, eps0, eps0)
print(f"|gradient| at the CAVI fixed point: {max(abs(v) for v in g.values()):.1e}")
print(f"E_q[alpha] = gamma/delta = {cavi.E_alpha:.6f} (= 1/24)")

L_star = max(cavi.elbo, adam.elbo)
fig, ax = plt.subplots(figsize=(6, 3.8))
# Below ~1e-14 the differences are round-off in L (|L| ~ 20), so clip there.
ax.semilogy(np.maximum(L_star - cavi.history, 1e-14), "o-", label="CAVI (sweeps)")
ax.semilogy(np.maximum(L_star - adam.history, 1e-14), label="Adam (steps)")
ax.set_xscale("symlog", linthresh=10)
ax.set_xlabel("iteration")
ax.set_ylabel("L* − L")
ax.legend()
ax.set_title("Normal–Gamma ELBO (2.22): distance to the optimum", fontsize=10)
fig.tight_layout()
fig.savefig(OUT / "00_normal_gamma_convergence.png", dpi=120)
plt.show()

# %% [markdown]
# **The limit γ0 = δ0 → 0.** The CAVI fixed point with γ0 = δ0 = 0 can be solved by hand:
# γ = ½, E[α] = 1/(m̂² + S), and with m̂ = dS the equation for S becomes
# S(d²S² + S + 1) = d²S² + S, i.e. S = 1 − 1/d² = 0.96 for d = 5; then m̂ = 4.8 and
# δ = ½(4.8² + 0.96) = 12. The table shows both optimisers approaching it as γ0 = δ0
# shrink; the error is of order γ0.

# %%
print("gamma0=delta0   method   m_hat        S            gamma        delta         max dist to limit")
limit = np.array([4.8, 0.96, 0.5, 12.0])
for e in [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]:
    for name, fit in [("CAVI", fit_normal_gamma_cavi), ("Adam", fit_normal_gamma_adam)]:
        r = fit(d=d_obs, gamma0=e, delta0=e)
        dist = np.max(np.abs(np.array(r.as_tuple()) - limit))
        print(f"{e:8.0e}       {name}     {r.m_hat:.9f}  {r.S:.9f}  {r.gamma:.9f}  {r.delta:.9f}  {dist:.2e}")

# %% [markdown]
# **The predictive distribution (2.24).** Replacing p(m, α) by q(m, α) in
# p(d') = ∫ p(d' | m) p(m, α) dm dα gives N(d' | m̂, S + 1): the two Gaussian variances
# add and q(α) integrates out (`normal_gamma_predictive`).

# %%
for x_new in [0.0, 4.8, 7.0]:
    print(f"p(d' = {x_new}) ~ N({x_new} | {cavi.m_hat:.2f}, {cavi.S + 1:.2f}) = "
          f"{np.exp(normal_gamma_predictive(x_new, cavi.m_hat, cavi.S)):.4f}")

# %% [markdown]
# ## 6. Fig. 2.1: q(m) against p(m) for several α
#
# For a *fixed* α the posterior of m is p(m | d, α) = N(m | d/(1 + α), 1/(1 + α)) (section 4).
# Larger α (a tighter prior around 0) pulls m towards 0 and narrows it; as α → 0 the prior
# fades and p(m | d, α) → N(d, 1). (The thesis says the prior's influence vanishes for
# α → +∞; with α a *precision*, as in (2.21), it vanishes for α → 0.) The variational
# q(m) = N(4.8, 0.96) coincides with p(m | d, α) at α = E_q[α] = 1/24 — exactly what the CAVI
# update for q(m) says.
#
# The right panel compares q(m) with the exact marginal posterior p(m | d), obtained by
# integrating α out: p(m) = ∫ N(m | 0, 1/α) Gamma(α | γ0, δ0) dα ∝ (δ0 + m²/2)^−(γ0+½), so
# p(m | d) ∝ N(d | m, 1)(δ0 + m²/2)^−(γ0+½), normalised by 1-D quadrature.

# %%
m_axis = np.linspace(-1.0, 10.0, 500)
q_m = stats.norm.pdf(m_axis, cavi.m_hat, np.sqrt(cavi.S))


def unnormalised_posterior(m, gamma0=eps0, delta0=eps0):
    return stats.norm.pdf(d_obs, m, 1.0) * (delta0 + 0.5 * m ** 2) ** -(gamma0 + 0.5)


# The prior spikes at m = 0 (width ~ sqrt(delta0)), so split the integral there.
Z = sum(integrate.quad(unnormalised_posterior, a, b, limit=200)[0] for a, b in [(-np.inf, 0.0), (0.0, np.inf)])
mean_exact = integrate.quad(lambda m: m * unnormalised_posterior(m), 0.0, np.inf, limit=200)[0] / Z \
    + integrate.quad(lambda m: m * unnormalised_posterior(m), -np.inf, 0.0, limit=200)[0] / Z
var_exact = sum(integrate.quad(lambda m: (m - mean_exact) ** 2 * unnormalised_posterior(m), a, b, limit=200)[0]
                for a, b in [(-np.inf, 0.0), (0.0, np.inf)]) / Z
print(f"exact p(m | d): mean {mean_exact:.4f}, variance {var_exact:.4f};  q(m): mean {cavi.m_hat:.4f}, "
      f"variance {cavi.S:.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
# q(m) is drawn first as a wide pale band, so the α = 1/24 curve, which coincides with
# it, stays visible as a thin line running along the middle of the band.
ax1.plot(m_axis, q_m, color="0.7", lw=7, solid_capstyle="butt", label="q(m) = N(4.8, 0.96) (wide grey)")
for a, colour in [(1.0 / 24.0, "k"), (0.25, "tab:blue"), (1.0, "tab:orange"), (2.0, "tab:green")]:
    mp, Sp = normal_mean_posterior(d_obs, a)
    name = "1/24 = E_q[α], on q" if a == 1.0 / 24.0 else f"{a:g}"
    ax1.plot(m_axis, stats.norm.pdf(m_axis, mp, np.sqrt(Sp)), color=colour, lw=1.3,
             label=f"p(m | d, α = {name})")
ax1.set(xlabel="m", ylabel="density", ylim=(0, 0.8))
ax1.legend(fontsize=8)
ax1.set_title("Fig. 2.1: q(m) and p(m | d = 5, α)")
# Two thin lines here: the small difference in width between them is the point.
ax2.plot(m_axis, unnormalised_posterior(m_axis) / Z, color="tab:purple", lw=2, label="exact p(m | d)")
ax2.plot(m_axis, q_m, "k--", lw=1.3, label="q(m) = N(4.8, 0.96)")
ax2.set(xlabel="m", ylabel="density")
ax2.legend(fontsize=8)
ax2.set_title("beyond Fig. 2.1: q(m) against the exact p(m | d)")
fig.tight_layout()
fig.savefig(OUT / "00_fig2_1_q_vs_p.png", dpi=120)
plt.show()
print(f"figures written to {OUT}")

# %% [markdown]
# ## What you should see
#
# (Numbers from a full run, `MINIVAE_FAST` unset. The fast mode scans a coarser λ grid
# and draws fewer posterior curves, so only the ridge and band figures look different.)
#
# * **Fig. 1.1** (`00_fig1_1_polynomial_fits.png`): over 200 noise draws the median RMS
#   distance to sin(x) is 0.48 (M = 1), 0.48 (M = 2), 0.14 (M = 3) and 0.32 (M = 8), while
#   the training error of M = 8 is 0.0000 — it interpolates the nine points. In the shown
#   draw its largest term |w_j (2π)^j| is 6.0·10⁴ (M = 3: 35).
# * **Ridge** (`00_ridge.png`): ln λ = −2 brings the median error of M = 8 from 0.32 to 0.16,
#   close to M = 3 (0.14), and the largest term from 6.0·10⁴ to 860.
# * **Bayesian regression** (`00_bayesian_regression_bands.png`): the mean predictive std
#   over [0, 2π] falls 1.52 → 1.00 → 0.62 → 0.61 → 0.25 → 0.22 for N = 0, 1, 2, 4, 9, 25,
#   towards the noise floor 1/√β = 0.2; far from the data the band stays wide (max std
#   1.35 at N = 4, 0.25 at N = 25). MAP and ridge with λ = α/β agree to 7.7·10⁻¹⁴ (1.28).
#   Evidence maximisation picks α = 0.68, β = 58.9 (the sample's own noise gives 31),
#   γ = 5.7 of 10 weights well determined, and raises ln p(t) from −2.38 (α = 2, β = 25)
#   to 1.78.
# * **ELBO identity** (`00_elbo_bound.png`): for d = 5, α = 1, ln p(d) = −7.515512. For
#   every q tried L(q) (closed form and quadrature agree to 6 decimals) is below it, and
#   L + KL(q ‖ p(m | d)) = −7.515512 each time (2.9); at q = p(m | d) = N(2.5, 0.5) the KL
#   is 0 and L = ln p(d).
# * **Normal–Gamma** (`00_normal_gamma_convergence.png`): with γ0 = δ0 = 10⁻⁸ CAVI needs 15
#   sweeps and Adam 436 steps to reach m̂ = 4.80000000, S = 0.96000000, γ = 0.50000001,
#   δ = 11.99999999 (ELBO −20.03011888; its −18.4 comes from −ln Γ(γ0) of the nearly
#   improper prior). The two agree to 2·10⁻⁹ and the gradient at the optimum is 10⁻¹⁴.
#   The limit table shows the distance to (4.8, 0.96, 0.5, 12) equal to γ0 itself, from
#   0.1 down to 10⁻⁸ — that is just γ = γ0 + ½. Predictive (2.24): N(d' | 4.8, 1.96).
# * **Fig. 2.1** (`00_fig2_1_q_vs_p.png`): p(m | d, α) slides from N(4.8, 0.96) towards 0 and
#   narrows as α grows (α = 2: N(1.67, 0.33)); q(m) lies exactly on the α = E_q[α] = 1/24
#   curve. Against the exact marginal posterior (mean 4.7786, variance 1.0581) the
#   mean-field q(m) has nearly the right mean (4.8) and a smaller variance (0.96): the
#   familiar tendency of KL(q ‖ p) to under-cover the posterior.

# %% [markdown]
# ## Exercises
#
# Write one CAVI sweep of section 5 yourself — the updates of q(α) and then of q(m),
# (2.12–2.24) — and let the package check it against its own update on random and
# awkward inputs (a shell in the repository, with minivae installed):
#
# ```
# minivae exercise start normal_gamma_cavi_sweep -o my_normal_gamma_cavi_sweep.py
# minivae exercise check my_normal_gamma_cavi_sweep.py
# ```
#
# `start` writes a skeleton with the equation, the signature and the docstring; `check`
# reports the first failing case with a hint, or "not done yet". `minivae exercise list`
# shows every exercise; `docs/exercises.md` explains the reports.
