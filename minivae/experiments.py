"""The thesis's anomaly-detection tables (chapter 3), rerun in one command.

``python -m minivae reproduce {kdd,htru2,all} [--runs 6] [--quick] [--out DIR]``
trains the thesis's grid — VAE, WAE with a Gaussian kernel, WAE with an IMQ
kernel (and EMVAE where ``minivae.models`` has it), each in the thesis's two
architectures — with the thesis's ω², γ, C and λ (thesis §3.3-3.4), and writes

* ``results.md``: AUC mean ± std over the runs per cell, under two protocols,
  beside the thesis's value and two baselines, with the number of active
  latent units, and a plain reading of the numbers;
* ``results.json``: every number (per run), the settings and the timings;
* ``roc_<data>_<protocol>.png``: the ROC curves of the first run.

Protocols
---------
``thesis`` (a)
    Train on all normal rows, score every row, training rows included (the
    thesis's protocol). An AUC here is partly a training-set number.
``heldout`` (b)
    Train on 80 % of the normal rows, score the other 20 % plus all the
    anomalies. The split changes with the run, and is the same for every model
    and baseline within a run.

Scores and preprocessing
------------------------
Every model scores a row by the reconstruction score (3.1),
(1/L) Σ_l ‖x − f(z_l)‖² with z_l ~ q(z|x) (``AnomalyDetector``, L = 10 draws);
the baselines are the rank-nz PCA reconstruction error and the squared
distance to the training mean (``minivae.anomaly``). The thesis does not state
its preprocessing. Here every column is standardised with the mean and
standard deviation of the training normals (nothing about the anomalies leaks
in); ``log1p`` of KDD's byte counts is optional (``--log1p``), and off by
default because it hides the "back" attacks, whose only trait is huge byte
counts. ω² has meaning only relative to the data's scale: after
standardisation every column has variance 1, so the thesis's ω² = 300 on KDD
asks the decoder to explain the data as noise 300 times larger than the data,
and the KL term wins (no active latent unit).

What the thesis does not give (epochs, minibatch size, learning rate) is ours
and written in ``SETTINGS`` and in the JSON file. The WAE's MMD is by default
the WAE paper's (the minibatch's codes against as many prior draws); the
thesis's own per-point form (2.39), each q(z|x) against the prior, runs with
``--wae-mmd per_point`` and costs several times more.

References
----------
An, J. and Cho, S. (2015). Variational autoencoder based anomaly detection
using reconstruction probability.
Burda, Y., Grosse, R. and Salakhutdinov, R. (2016). Importance weighted
autoencoders. ICLR (the active-unit statistic).
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, models
from ._validation import check_positive_int
from .anomaly import AnomalyDetector, MeanDistance, PCAReconstruction, roc_auc_score, roc_curve
from .datasets import KDD_HEAVY_TAILED_FEATURES, KDD_THESIS_FEATURES, load_htru2, load_kddcup99
from .preprocessing import Standardizer

__all__ = [
    "THESIS_AUC",
    "DATASETS",
    "SETTINGS",
    "QUICK_SETTINGS",
    "PROTOCOLS",
    "load_data",
    "make_model",
    "active_units",
    "split_protocol",
    "run_cell",
    "reproduce",
    "format_report",
    "add_reproduce_parser",
    "run_reproduce",
]

PROTOCOLS = ("thesis", "heldout")

# The thesis's values (tables of §3.3 and §3.4), keyed (data set, model, nh).
# EMVAE: on KDD only K = 5 components of nz = 10, nh = 30 was reported
# (two components ended up used); on HTRU2 it always collapsed to one
# component and no AUC was given.
THESIS_AUC = {
    ("kdd", "vae", 2): 0.985, ("kdd", "vae", 30): 0.997,
    ("kdd", "wae_gaussian", 2): 0.986, ("kdd", "wae_gaussian", 30): 0.983,
    ("kdd", "wae_imq", 2): 0.985, ("kdd", "wae_imq", 30): 0.982,
    ("kdd", "emvae", 30): 0.997,
    ("htru2", "vae", 2): 0.908, ("htru2", "vae", 20): 0.928,
    ("htru2", "wae_gaussian", 2): 0.822, ("htru2", "wae_gaussian", 20): 0.914,
    ("htru2", "wae_imq", 2): 0.835, ("htru2", "wae_imq", 20): 0.916,
}

# The thesis's hyperparameters per data set: architectures (nz, nh), the VAE's
# decoder variance ω², the Gaussian kernel's γ, the IMQ kernel's C, the MMD
# weight λ (the WAE's reconstruction term is the thesis's 0.5·‖x − f(z)‖²,
# i.e. ω² = 1), and the EMVAE's K with its architecture.
DATASETS = {
    "kdd": {
        "title": "KDD Cup 1999 (http, 10 % file)",
        "architectures": ((2, 2), (10, 30)),
        "sigma2": 300.0, "gamma": 0.01, "imq_c": 1.0, "lam": 1.0,
        "emvae": {"n_components": 5, "arch": (10, 30), "sigma2": 300.0},
    },
    "htru2": {
        "title": "HTRU2 (pulsars are the anomalies)",
        "architectures": ((2, 2), (4, 20)),
        "sigma2": 1.0, "gamma": 1.0, "imq_c": 1.0, "lam": 1.0,
        "emvae": None,
    },
}

MODEL_NAMES = {"vae": "VAE", "wae_gaussian": "WAE (Gaussian kernel)", "wae_imq": "WAE (IMQ kernel)",
               "emvae": "EMVAE"}

# Training settings the thesis does not state (ours). Epochs are per data set:
# KDD's 61,886 normal rows are 3.8x HTRU2's 16,259, so 10 passes still give
# more Adam steps (6,190) than 20 passes over HTRU2 (3,260).
SETTINGS = {
    "n_epochs": {"kdd": 10, "htru2": 20},
    "batch_size": 100,
    "lr": 1e-3,
    "activation": "sigmoid",
    # The WAE paper's MMD between the minibatch's z and as many prior draws. The
    # thesis's own per-point form (2.39; --wae-mmd per_point, 10 draws per row)
    # loops over rows in Python today and costs 5-10x more per epoch.
    "wae_mmd_mode": "aggregate",
    "wae_n_mc": 1,
    "n_mc_score": 10,                 # L of the reconstruction score (3.1)
    "heldout_fraction": 0.2,
    "log1p": False,
}
QUICK_SETTINGS = dict(SETTINGS, n_epochs={"kdd": 2, "htru2": 5}, n_mc_score=4)


# ====================================================================== data and models
def load_data(name, log1p=False, data_home=None):
    """Load a data set of the thesis's chapter 3 as ``(X, y, log1p_columns)``.

    Parameters
    ----------
    name : {"kdd", "htru2"}
    log1p : bool
        KDD only: return the indices of the heavy-tailed byte and duration
        columns for a log1p before standardising (empty otherwise).
    data_home : path or None
        As for the loaders (default ``$MINIVAE_DATA``).

    Returns
    -------
    X : ndarray (n_rows, n_features), y : ndarray (n_rows,) with 1 = anomaly,
    log1p_columns : tuple of int
    """
    if name == "kdd":
        X, y = load_kddcup99(service="http", data_home=data_home)
        cols = tuple(KDD_THESIS_FEATURES.index(c) for c in KDD_HEAVY_TAILED_FEATURES) if log1p else ()
        return X, y, cols
    if name == "htru2":
        X, y = load_htru2(data_home=data_home)
        return X, y, ()
    raise ValueError(f"data set must be 'kdd' or 'htru2', got {name!r}")


def _model_kinds(dataset):
    kinds = ["vae", "wae_gaussian", "wae_imq"]
    if DATASETS[dataset]["emvae"] is not None and hasattr(models, "EMVAE"):
        kinds.append("emvae")
    return kinds


def _cells(dataset, kinds=None):
    """(model kind, nz, nh) for every cell of a data set's table (of ``kinds`` only, if given)."""
    cfg = DATASETS[dataset]
    out = []
    for kind in _model_kinds(dataset):
        if kinds is not None and kind not in kinds:
            continue
        archs = (cfg["emvae"]["arch"],) if kind == "emvae" else cfg["architectures"]
        out.extend((kind, nz, nh) for nz, nh in archs)
    return out


def make_model(dataset, kind, nz, nh, random_state=0, quick=False, settings=None):
    """An unfitted model of one cell, with the thesis's hyperparameters.

    The thesis's network (§3.2): ``Dense(nx, nh, sigmoid)`` shared by the mu and
    log_sigma heads, decoder ``Dense(nz, nh, sigmoid), Dense(nh, nx)``;
    Adam. ``kind`` is ``"vae"`` (ω² of the data set), ``"wae_gaussian"``
    (exp(−γ‖x − y‖²)), ``"wae_imq"`` (C / (C + ‖x − y‖²)) or ``"emvae"``.
    ``settings`` (default ``SETTINGS``, or ``QUICK_SETTINGS`` with ``quick``)
    gives what the thesis does not: epochs, minibatch, learning rate, MMD form.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {tuple(DATASETS)}, got {dataset!r}")
    cfg = DATASETS[dataset]
    s = settings if settings is not None else (QUICK_SETTINGS if quick else SETTINGS)
    common = dict(n_latent=nz, hidden_sizes=(nh,), activation=s["activation"],
                  lr=s["lr"], batch_size=s["batch_size"], n_epochs=s["n_epochs"][dataset],
                  random_state=random_state)
    if kind == "vae":
        return models.VAE(sigma2=cfg["sigma2"], **common)
    if kind in ("wae_gaussian", "wae_imq"):
        gaussian = kind == "wae_gaussian"
        return models.WAE(sigma2=1.0, kernel="gaussian" if gaussian else "imq",
                          kernel_scale=cfg["gamma"] if gaussian else cfg["imq_c"], lam=cfg["lam"],
                          mmd_mode=s["wae_mmd_mode"], n_mc=s["wae_n_mc"], **common)
    if kind == "emvae":
        if not hasattr(models, "EMVAE") or cfg["emvae"] is None:
            raise ValueError(f"no EMVAE cell for {dataset!r} in this installation")
        return models.EMVAE(n_components=cfg["emvae"]["n_components"],
                            sigma2=cfg["emvae"]["sigma2"], **common)
    raise ValueError(f"kind must be one of {tuple(MODEL_NAMES)}, got {kind!r}")


def active_units(model, X, threshold=0.01):
    """Number of latent units whose posterior mean varies over the data (Burda et al. 2016).

    Unit u is active when Cov_x(E_q(z|x)[z_u]) > ``threshold``, the variance
    over the rows of ``X`` of the posterior mean ``model.transform(X)[:, u]``.
    0 means the posterior collapsed: q(z|x) is the same for every x, the
    decoder outputs one point, and the reconstruction score is the squared
    distance to it.
    """
    mu = np.asarray(model.transform(X))
    return int(np.sum(mu.var(axis=0) > threshold))


def split_protocol(y, protocol, run, heldout_fraction=0.2):
    """Row indices ``(train, test)`` of a protocol: the training rows are normal.

    ``"thesis"``: train on every normal row, test on all rows. ``"heldout"``:
    a random ``heldout_fraction`` of the normal rows (seeded by ``run``) goes
    to the test set with all the anomalies; the rest is the training set.
    """
    y = np.asarray(y)
    normal = np.flatnonzero(y == 0)
    if protocol == "thesis":
        return normal, np.arange(len(y))
    if protocol == "heldout":
        rng = np.random.default_rng([run, 8])
        perm = rng.permutation(normal)
        n_test = int(round(heldout_fraction * len(normal)))
        test = np.sort(np.concatenate([perm[:n_test], np.flatnonzero(y != 0)]))
        return np.sort(perm[n_test:]), test
    raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def _prepared(X, y, log1p_columns, protocol, run, settings):
    train, test = split_protocol(y, protocol, run, settings["heldout_fraction"])
    scaler = Standardizer(log1p_columns=log1p_columns).fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test]), y[test]


def run_cell(dataset, kind, nz, nh, protocol="thesis", run=0, quick=False, data=None,
             return_scores=False, settings=None):
    """Train one model of the grid and score it: one (cell, protocol, run).

    Parameters
    ----------
    dataset : {"kdd", "htru2"}
    kind : {"vae", "wae_gaussian", "wae_imq", "emvae"}
    nz, nh : int
        The architecture.
    protocol : {"thesis", "heldout"}
    run : int
        Seeds the model (``random_state=run``), the scoring draws and the
        held-out split.
    quick : bool
        Use ``QUICK_SETTINGS`` (fewer epochs and draws).
    data : tuple or None
        ``load_data(dataset)``'s result, to avoid reloading.
    return_scores : bool
        Also return the test labels and scores (for ROC curves).
    settings : dict or None
        Overrides ``quick``: a full settings dict like ``SETTINGS``.

    Returns
    -------
    dict
        ``auc`` (higher score = more anomalous, y = 1 for anomalies),
        ``active_units``, ``fit_seconds``, ``score_seconds``, ``final_loss``;
        with ``return_scores``, ``y_test`` and ``scores`` too.
    """
    if settings is None:
        settings = QUICK_SETTINGS if quick else SETTINGS
    X, y, cols = data if data is not None else load_data(dataset, settings["log1p"])
    X_train, X_test, y_test = _prepared(X, y, cols, protocol, run, settings)
    model = make_model(dataset, kind, nz, nh, random_state=run, settings=settings)
    detector = AnomalyDetector(model, score="reconstruction", n_mc=settings["n_mc_score"],
                               random_state=run)
    t0 = time.perf_counter()
    detector.fit(X_train)
    t1 = time.perf_counter()
    scores = detector.anomaly_score(X_test)
    t2 = time.perf_counter()
    out = {
        "auc": roc_auc_score(y_test, scores),
        "active_units": active_units(model, X_train),
        "fit_seconds": t1 - t0,
        "score_seconds": t2 - t1,
        "final_loss": float(model.history_["loss"][-1]),
    }
    if return_scores:
        out["y_test"], out["scores"] = y_test, scores
    return out


def _baselines(X, y, cols, protocol, run, settings, ks):
    """AUC of the PCA baseline for each k in ``ks`` and of the mean distance."""
    X_train, X_test, y_test = _prepared(X, y, cols, protocol, run, settings)
    out, curves = {}, {}
    for k in ks:
        s = PCAReconstruction(n_components=k).fit(X_train).anomaly_score(X_test)
        out[f"pca{k}"], curves[f"pca{k}"] = roc_auc_score(y_test, s), s
    s = MeanDistance().fit(X_train).anomaly_score(X_test)
    out["mean_distance"], curves["mean_distance"] = roc_auc_score(y_test, s), s
    return out, curves, y_test


# ====================================================================== the grid
class _Progress:
    """One line per finished model on stderr: count, cell, AUC, elapsed and ETA."""

    def __init__(self, total, stream=None, enabled=True):
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled
        self.start = time.perf_counter()

    @staticmethod
    def _clock(seconds):
        m, s = divmod(int(round(seconds)), 60)
        return f"{m:02d}:{s:02d}"

    def update(self, text):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        print(f"[{self.done:3d}/{self.total}] {text}  elapsed {self._clock(elapsed)}, "
              f"left ~{self._clock(eta)}", file=self.stream or sys.stderr, flush=True)


def _mean_std(values):
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


_WORKER_DATA = {}


def _task(task):
    """One (data set, cell, protocol, run) of the grid; loads the data once per process."""
    d, kind, nz, nh, protocol, run, settings, data_home = task
    if d not in _WORKER_DATA:
        _WORKER_DATA[d] = load_data(d, settings["log1p"], data_home)
    return run_cell(d, kind, nz, nh, protocol, run, data=_WORKER_DATA[d],
                    return_scores=run == 0, settings=settings)


def reproduce(datasets=("kdd", "htru2"), n_runs=6, quick=False, out=None, log1p=False,
              data_home=None, kinds=None, wae_mmd_mode=None, n_jobs=1, progress=True):
    """Run the thesis's grid and return every number; optionally write the report files.

    Parameters
    ----------
    datasets : sequence of {"kdd", "htru2"}
    n_runs : int
        Runs per cell and protocol; run r uses seed r for the model, the
        scoring draws and the held-out split.
    quick : bool
        ``QUICK_SETTINGS``: a few epochs, for a smoke test (numbers not comparable).
    out : path or None
        Directory for ``results.md``, ``results.json`` and the ROC PNGs.
    log1p : bool
        log1p of KDD's duration and byte counts before standardising.
    data_home : path or None
        Data directory (default ``$MINIVAE_DATA``).
    kinds : sequence of str or None
        Only these models (``"vae"``, ``"wae_gaussian"``, ``"wae_imq"``,
        ``"emvae"``); None runs them all.
    wae_mmd_mode : {"aggregate", "per_point"} or None
        The WAE's MMD form (None: the one in the settings, see ``SETTINGS``).
    n_jobs : int
        Worker processes; each trains whole models (results do not depend on it).
    progress : bool
        Print one progress line per trained model on stderr.

    Returns
    -------
    dict
        ``settings``, ``datasets`` -> per data set ``cells`` (per cell: thesis
        value, per protocol the AUC and active units of each run and their
        mean and std), ``baselines`` (per protocol, per run), ``seconds``.
    """
    n_runs = check_positive_int(n_runs, "n_runs")
    n_jobs = check_positive_int(n_jobs, "n_jobs")
    datasets = tuple(datasets)
    for d in datasets:
        if d not in DATASETS:
            raise ValueError(f"datasets must be taken from {tuple(DATASETS)}, got {d!r}")
    if kinds is not None:
        kinds = tuple(kinds)
        for k in kinds:
            if k not in MODEL_NAMES:
                raise ValueError(f"kinds must be taken from {tuple(MODEL_NAMES)}, got {k!r}")
    settings = dict(QUICK_SETTINGS if quick else SETTINGS, log1p=bool(log1p))
    if wae_mmd_mode is not None:
        if wae_mmd_mode not in ("aggregate", "per_point"):
            raise ValueError(f"wae_mmd_mode must be 'aggregate' or 'per_point', got {wae_mmd_mode!r}")
        settings["wae_mmd_mode"] = wae_mmd_mode
        # per point: each x's draws against as many prior draws, so at least 2
        settings["wae_n_mc"] = 10 if wae_mmd_mode == "per_point" else 1
    t_start = time.perf_counter()
    results = {"settings": settings, "quick": bool(quick), "n_runs": n_runs, "n_jobs": n_jobs,
               "datasets": {}, "version": __version__, "python": platform.python_version(),
               "numpy": np.__version__}
    curves = {}
    tasks = []
    for d in datasets:
        t_d = time.perf_counter()
        X, y, cols = load_data(d, log1p, data_home)
        _WORKER_DATA[d] = (X, y, cols)
        ks = sorted({nz for _, nz, _ in _cells(d, kinds)})
        res_d = {"title": DATASETS[d]["title"], "n_rows": int(len(y)), "n_anomalies": int(y.sum()),
                 "n_features": int(X.shape[1]), "log1p_columns": list(cols),
                 "hyperparameters": {k: v for k, v in DATASETS[d].items() if k != "title"},
                 "cells": {}, "baselines": {}, "seconds": 0.0}
        for protocol in PROTOCOLS:
            base_runs = []
            for run in range(n_runs):
                b, b_curves, y_test = _baselines(X, y, cols, protocol, run, settings, ks)
                base_runs.append(b)
                if run == 0:
                    curves[(d, protocol, "baselines")] = (y_test, b_curves)
            res_d["baselines"][protocol] = {
                "runs": base_runs,
                **{k: dict(zip(("mean", "std"), _mean_std([r[k] for r in base_runs])))
                   for k in base_runs[0]}}
        for kind, nz, nh in _cells(d, kinds):
            res_d["cells"][f"{kind}/nz={nz}/nh={nh}"] = {
                "kind": kind, "nz": nz, "nh": nh, "thesis_auc": THESIS_AUC.get((d, kind, nh)),
                **{protocol: {"runs": [None] * n_runs} for protocol in PROTOCOLS}}
            tasks += [(d, kind, nz, nh, protocol, run, settings, data_home)
                      for protocol in PROTOCOLS for run in range(n_runs)]
        res_d["seconds"] += time.perf_counter() - t_d
        results["datasets"][d] = res_d

    bar = _Progress(len(tasks), enabled=progress)

    def collect(task, r):
        d, kind, nz, nh, protocol, run = task[:6]
        key = f"{kind}/nz={nz}/nh={nh}"
        if run == 0:
            curves[(d, protocol, key)] = (r.pop("y_test"), r.pop("scores"))
        results["datasets"][d]["cells"][key][protocol]["runs"][run] = r
        results["datasets"][d]["seconds"] += r["fit_seconds"] + r["score_seconds"]
        bar.update(f"{d} {MODEL_NAMES[kind]} nz={nz} nh={nh} {protocol} run {run}: "
                   f"AUC {r['auc']:.4f}, {r['active_units']}/{nz} active, {r['fit_seconds']:.1f} s")

    if n_jobs == 1:
        for task in tasks:
            collect(task, _task(task))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            futures = {pool.submit(_task, task): task for task in tasks}
            for future in as_completed(futures):
                collect(futures[future], future.result())

    for res_d in results["datasets"].values():
        for cell in res_d["cells"].values():
            for protocol in PROTOCOLS:
                runs = cell[protocol]["runs"]
                mean, std = _mean_std([r["auc"] for r in runs])
                cell[protocol].update(auc_mean=mean, auc_std=std,
                                      active_units=[r["active_units"] for r in runs])
    results["seconds"] = time.perf_counter() - t_start
    if out is not None:
        _write(results, curves, Path(out))
    return results


# ====================================================================== report
def _fmt(mean, std=None):
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def _verdicts(res_d, quick):
    """Plain sentences about one data set's numbers."""
    lines, cells = [], res_d["cells"]
    below, met, compared = [], 0, 0
    for key, c in cells.items():
        if c["thesis_auc"] is None:
            continue
        compared += 1
        ours = c["thesis"]["auc_mean"]
        if ours >= c["thesis_auc"] - 0.005:
            met += 1
        else:
            below.append(f"{MODEL_NAMES[c['kind']]} nz = {c['nz']}, nh = {c['nh']}: "
                         f"{ours:.4f} vs {c['thesis_auc']:.3f}")
    lines.append(f"Under the thesis's protocol {met} of {compared} cells reach the thesis's AUC "
                 f"− 0.005" + (f"; below it: {'; '.join(below)}." if below else "."))
    collapsed = [f"{MODEL_NAMES[c['kind']]} nz = {c['nz']}, nh = {c['nh']}"
                 for c in cells.values() if max(c["thesis"]["active_units"]) == 0]
    if collapsed:
        lines.append(
            "Posterior collapse (no active latent unit in any run): " + "; ".join(collapsed) +
            ". There q(z|x) is the prior for every x, the decoder outputs one point and the "
            "score is the squared distance to it — the mean-distance baseline in disguise. "
            "The cause is ω² relative to the data's scale: after standardisation each column "
            "has variance 1, and a decoder variance far above it makes the KL term win.")
    best_model = max(cells.values(), key=lambda c: c["thesis"]["auc_mean"])
    bases = res_d["baselines"]["thesis"]
    best_base = max((k for k in bases if k != "runs"), key=lambda k: bases[k]["mean"])
    bm, bb = best_model["thesis"]["auc_mean"], bases[best_base]["mean"]
    name = f"{MODEL_NAMES[best_model['kind']]} nz = {best_model['nz']}, nh = {best_model['nh']}"
    base_name = "mean distance" if best_base == "mean_distance" else f"PCA k = {best_base[3:]}"
    if bb >= bm - 0.005:
        lines.append(f"A baseline ties (within 0.005) or beats every model: {base_name} reaches {bb:.4f}, the best "
                     f"model ({name}) {bm:.4f}. On this preprocessing the networks add nothing a "
                     "linear or distance-to-mean score does not already give.")
    else:
        lines.append(f"The best model ({name}, {bm:.4f}) beats the best baseline "
                     f"({base_name}, {bb:.4f}) by {bm - bb:.4f}.")
    gaps = [c["thesis"]["auc_mean"] - c["heldout"]["auc_mean"] for c in cells.values()]
    lines.append(f"Held out (train on 80 % of the normals, score the rest and all anomalies), the "
                 f"AUC changes by {min(-g for g in gaps):+.3f} to {max(-g for g in gaps):+.3f} "
                 "against the thesis's protocol: scoring the training rows "
                 f"{'flatters the models little' if max(abs(g) for g in gaps) < 0.01 else 'matters'} "
                 "here.")
    if quick:
        lines.append("These are --quick numbers (a few epochs): a smoke test, not a reproduction.")
    return lines


def format_report(results):
    """The Markdown report of ``reproduce``'s result: tables and plain statements."""
    s = results["settings"]
    out = ["# The thesis's anomaly-detection tables, rerun", ""]
    out.append(
        f"AUC (area under the ROC curve: the probability that an anomaly gets a higher "
        f"reconstruction score (3.1) than a normal row) as mean ± std over "
        f"{results['n_runs']} run(s). (a) = the thesis's protocol (train on all normals, score "
        f"every row); (b) = held out (train on 80 % of the normals, score the other 20 % and all "
        f"anomalies). Active = latent units whose posterior mean varies over the training rows "
        f"(variance > 0.01), per run. Baselines: PCA reconstruction error with k = nz and the "
        f"squared distance to the training mean in standardised units. Preprocessing: "
        f"standardisation fitted on the training normals"
        f"{', log1p of KDD duration and byte counts' if s['log1p'] else ''}. Training: "
        f"{', '.join(f'{v} epochs on {k}' for k, v in s['n_epochs'].items())}, minibatch {s['batch_size']}, Adam lr {s['lr']}, "
        f"sigmoid; WAE MMD {s['wae_mmd_mode']} with {s['wae_n_mc']} draw(s) per row; "
        f"L = {s['n_mc_score']} draws in the score.")
    for d, res_d in results["datasets"].items():
        hp = res_d["hyperparameters"]
        out += ["", f"## {res_d['title']}", "",
                f"{res_d['n_rows']} rows, {res_d['n_anomalies']} anomalies, {res_d['n_features']} "
                f"features. VAE ω² = {hp['sigma2']:g}; WAE Gaussian γ = {hp['gamma']:g}, IMQ "
                f"C = {hp['imq_c']:g}, λ = {hp['lam']:g}. Training and scoring took "
                f"{res_d['seconds']:.0f} s (summed over workers).", "",
                "| model | nz | nh | thesis | (a) ours | (b) held out | active (a) | "
                "PCA k=nz (a) / (b) | mean dist. (a) / (b) |",
                "|---|---|---|---|---|---|---|---|---|"]
        base = res_d["baselines"]
        for c in res_d["cells"].values():
            pk = f"pca{c['nz']}"
            thesis = "—" if c["thesis_auc"] is None else f"{c['thesis_auc']:.3f}"
            act = ",".join(str(a) for a in c["thesis"]["active_units"])
            out.append(
                f"| {MODEL_NAMES[c['kind']]} | {c['nz']} | {c['nh']} | {thesis} | "
                f"{_fmt(c['thesis']['auc_mean'], c['thesis']['auc_std'])} | "
                f"{_fmt(c['heldout']['auc_mean'], c['heldout']['auc_std'])} | {act} | "
                f"{_fmt(base['thesis'][pk]['mean'])} / {_fmt(base['heldout'][pk]['mean'])} | "
                f"{_fmt(base['thesis']['mean_distance']['mean'])} / "
                f"{_fmt(base['heldout']['mean_distance']['mean'])} |")
        if d == "kdd" and "emvae" not in {c["kind"] for c in res_d["cells"].values()}:
            out += ["", "EMVAE (thesis: 0.997 with K = 5, nz = 10, nh = 30) is not in this "
                    "installation's minivae.models, so its row is missing."]
        if d == "htru2":
            out += ["", "EMVAE: the thesis reports that it always collapsed to one component on "
                    "HTRU2 and gives no AUC; it is not rerun here."]
        out += ["", "What the numbers say:", ""] + [f"- {line}" for line in _verdicts(res_d, results["quick"])]
    out += ["", f"Wall-clock time {results['seconds']:.0f} s with {results['n_jobs']} worker(s) "
            f"(minivae {results['version']}, "
            f"Python {results['python']}, NumPy {results['numpy']})."]
    return "\n".join(out) + "\n"


def _roc_figures(results, curves, out):
    from .plotting import pyplot

    plt = pyplot()
    paths = []
    for d, res_d in results["datasets"].items():
        kinds = list(dict.fromkeys(c["kind"] for c in res_d["cells"].values()))
        for protocol in PROTOCOLS:
            fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 4.2), squeeze=False)
            y_b, b_scores = curves[(d, protocol, "baselines")]
            for ax, kind in zip(axes[0], kinds):
                for key, c in res_d["cells"].items():
                    if c["kind"] != kind:
                        continue
                    y_t, s = curves[(d, protocol, key)]
                    fpr, tpr, _ = roc_curve(y_t, s)
                    ax.plot(fpr, tpr, label=f"nz={c['nz']}, nh={c['nh']}: AUC {roc_auc_score(y_t, s):.3f}")
                for name, s in b_scores.items():
                    if name.startswith("pca") or name == "mean_distance":
                        fpr, tpr, _ = roc_curve(y_b, s)
                        label = "mean distance" if name == "mean_distance" else f"PCA k={name[3:]}"
                        ax.plot(fpr, tpr, ls="--", lw=1, label=f"{label}: {roc_auc_score(y_b, s):.3f}")
                ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
                ax.set_xlabel("false positive rate")
                ax.set_ylabel("true positive rate")
                ax.set_title(f"{MODEL_NAMES[kind]}")
                ax.legend(loc="lower right", fontsize="x-small")
            fig.suptitle(f"{res_d['title']}: ROC, run 0, protocol "
                         f"{'(a) thesis' if protocol == 'thesis' else '(b) held out'}")
            fig.tight_layout()
            path = out / f"roc_{d}_{protocol}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            paths.append(path)
    return paths


def _write(results, curves, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(format_report(results), encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    _roc_figures(results, curves, out)


# ====================================================================== command line
def add_reproduce_parser(subparsers):
    """Add the ``reproduce`` command to an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "reproduce", help="rerun the thesis's anomaly-detection tables (KDD Cup 99, HTRU2)",
        description="Train the thesis's grid (VAE, WAE Gaussian, WAE IMQ, EMVAE where available) "
                    "under the thesis's protocol and a held-out one; write a Markdown table, a "
                    "JSON file of every number and ROC plots.")
    p.add_argument("dataset", choices=("kdd", "htru2", "all"), help="which table to rerun")
    p.add_argument("--runs", type=int, default=6, help="runs (seeds) per cell (default: 6)")
    p.add_argument("--quick", action="store_true", help="a few epochs only: a smoke test")
    p.add_argument("--out", default="minivae-reproduce", help="output directory (default: ./minivae-reproduce)")
    p.add_argument("--log1p", action="store_true", help="log1p of KDD duration and byte counts")
    p.add_argument("--data-home", default=None, help="data directory (default: $MINIVAE_DATA)")
    p.add_argument("--models", nargs="+", choices=tuple(MODEL_NAMES), default=None,
                   help="only these models (default: all)")
    p.add_argument("--wae-mmd", choices=("aggregate", "per_point"), default=None,
                   help="WAE MMD form: the WAE paper's aggregate one (default) or the thesis's "
                        "per-point one (slower)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes; the numbers do not depend on it (default: 2, or 1 on "
                        "a single core)")
    p.set_defaults(func=run_reproduce)
    return p


def run_reproduce(args):
    """Run ``reproduce`` from parsed arguments; print the report; return the exit code."""
    for name in ("runs", "jobs"):
        if getattr(args, name) < 1:
            print(f"minivae reproduce: --{name} must be >= 1, got {getattr(args, name)}",
                  file=sys.stderr)
            return 2
    names = ("kdd", "htru2") if args.dataset == "all" else (args.dataset,)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        # Checked before hours of training, not when the report is written.
        print(f"minivae reproduce: error: --out {out} is a file; give a directory", file=sys.stderr)
        return 2
    try:
        results = reproduce(names, n_runs=args.runs, quick=args.quick, out=args.out,
                            log1p=args.log1p, data_home=args.data_home, kinds=args.models,
                            wae_mmd_mode=args.wae_mmd, n_jobs=args.jobs)
    except (OSError, ValueError) as exc:
        print(f"minivae reproduce: {exc}", file=sys.stderr)
        return 1
    print(format_report(results))
    print(f"written: {Path(args.out) / 'results.md'}, results.json, roc_*.png")
    return 0
