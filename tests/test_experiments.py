"""Tests of minivae.experiments: the thesis-reproduction grid and its command line.

The real-data tests need the UCI files: they run when MINIVAE_DATA is set and
are skipped otherwise.
"""

import argparse
import json
import os

import numpy as np
import pytest

from minivae import experiments
from minivae.experiments import (
    THESIS_AUC,
    active_units,
    add_reproduce_parser,
    format_report,
    make_model,
    reproduce,
    run_cell,
    run_reproduce,
    split_protocol,
)

needs_data = pytest.mark.skipif(not os.environ.get("MINIVAE_DATA"),
                                reason="MINIVAE_DATA is not set (real UCI files needed)")


# ====================================================================== protocols
@pytest.mark.parametrize("run", [0, 3])
def test_split_protocols(run):
    y = np.r_[np.zeros(100, int), np.ones(7, int)]
    np.random.default_rng(0).shuffle(y)
    train, test = split_protocol(y, "thesis", run)
    np.testing.assert_array_equal(train, np.flatnonzero(y == 0))
    np.testing.assert_array_equal(test, np.arange(len(y)))

    train, test = split_protocol(y, "heldout", run)
    assert np.all(y[train] == 0)                            # trained on normals only
    assert len(np.intersect1d(train, test)) == 0           # no row both trained on and scored
    assert np.sum(y[test] == 0) == 20 and np.sum(y[test] == 1) == 7
    assert len(train) + len(test) == len(y)
    again = split_protocol(y, "heldout", run)
    np.testing.assert_array_equal(again[0], train)         # seeded by the run
    other = split_protocol(y, "heldout", run + 1)
    assert not np.array_equal(other[0], train)
    with pytest.raises(ValueError, match="protocol"):
        split_protocol(y, "bogus", run)


def test_active_units_counts_latent_dimensions_whose_mean_varies():
    class Fixed:
        def transform(self, X):
            return np.c_[X[:, 0], np.full(len(X), 3.0), 0.05 * X[:, 1]]

    X = np.random.default_rng(0).standard_normal((500, 2))
    assert active_units(Fixed(), X) == 1            # var 1 > 0.01; 0; 0.0025 < 0.01
    assert active_units(Fixed(), X, threshold=0.001) == 2


def test_models_carry_the_thesis_hyperparameters():
    vae = make_model("kdd", "vae", 10, 30)
    assert (vae.sigma2, vae.n_latent, tuple(vae.hidden_sizes), vae.activation) == (300.0, 10, (30,), "sigmoid")
    g = make_model("kdd", "wae_gaussian", 2, 2)
    assert (g.kernel, g.kernel_scale, g.lam) == ("gaussian", 0.01, 1.0)
    imq = make_model("htru2", "wae_imq", 4, 20)
    assert (imq.kernel, imq.kernel_scale, imq.lam) == ("imq", 1.0, 1.0)
    assert make_model("htru2", "vae", 2, 2).sigma2 == 1.0
    assert make_model("htru2", "wae_gaussian", 2, 2).kernel_scale == 1.0
    assert THESIS_AUC[("kdd", "vae", 30)] == 0.997 and THESIS_AUC[("htru2", "vae", 20)] == 0.928
    with pytest.raises(ValueError, match="kind"):
        make_model("kdd", "gan", 2, 2)
    with pytest.raises(ValueError, match="dataset"):
        make_model("mnist", "vae", 2, 2)


# ====================================================================== real data
@needs_data
def test_quick_htru2_vae_cell_reaches_auc_090():
    r = run_cell("htru2", "vae", 4, 20, protocol="thesis", run=0, quick=True)
    assert r["auc"] >= 0.90
    assert 1 <= r["active_units"] <= 4


@needs_data
def test_reproduce_writes_table_json_and_roc_pngs(tmp_path, capsys):
    results = reproduce(("htru2",), n_runs=2, quick=True, out=tmp_path, kinds=("vae",))
    in_two = reproduce(("htru2",), n_runs=2, quick=True, kinds=("vae",), n_jobs=2, progress=False)
    for key, c in in_two["datasets"]["htru2"]["cells"].items():   # workers change nothing
        assert c["heldout"]["auc_mean"] == results["datasets"]["htru2"]["cells"][key]["heldout"]["auc_mean"]
    cells = results["datasets"]["htru2"]["cells"]
    assert set(cells) == {"vae/nz=2/nh=2", "vae/nz=4/nh=20"}
    for c in cells.values():
        for protocol in ("thesis", "heldout"):
            aucs = [r["auc"] for r in c[protocol]["runs"]]
            assert len(aucs) == 2 and c[protocol]["auc_mean"] == pytest.approx(np.mean(aucs))
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["datasets"]["htru2"]["cells"]["vae/nz=4/nh=20"]["thesis_auc"] == 0.928
    base = saved["datasets"]["htru2"]["baselines"]["thesis"]
    assert base["mean_distance"]["mean"] > 0.9 and "pca4" in base
    md = (tmp_path / "results.md").read_text()
    assert "| VAE | 4 | 20 | 0.928 |" in md and "What the numbers say" in md
    assert md == format_report(results)
    for protocol in ("thesis", "heldout"):
        assert (tmp_path / f"roc_htru2_{protocol}.png").stat().st_size > 5_000
    progress = capsys.readouterr().err
    assert "[  8/8]" in progress and "AUC" in progress


# ====================================================================== command line
def _parse(argv):
    parser = argparse.ArgumentParser(prog="minivae")
    add_reproduce_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_reproduce_parser_defaults_and_choices():
    args = _parse(["reproduce", "all"])
    assert (args.dataset, args.runs, args.quick, args.models) == ("all", 6, False, None)
    assert args.jobs == min(2, os.cpu_count() or 1)
    assert args.func is run_reproduce
    args = _parse(["reproduce", "kdd", "--runs", "2", "--quick", "--out", "x", "--models", "vae"])
    assert (args.runs, args.quick, args.out, args.models) == (2, True, "x", ["vae"])
    with pytest.raises(SystemExit):
        _parse(["reproduce", "mnist"])


@pytest.mark.parametrize("option", ["--runs", "--jobs"])
def test_reproduce_bad_counts_exit_nonzero_with_one_line(capsys, option):
    assert run_reproduce(_parse(["reproduce", "htru2", option, "0"])) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and option in err


def test_reproduce_rejects_unknown_names():
    with pytest.raises(ValueError, match="datasets"):
        reproduce(("mnist",))
    with pytest.raises(ValueError, match="kinds"):
        reproduce(("htru2",), kinds=("gan",))
    with pytest.raises(ValueError, match="n_runs"):
        reproduce(("htru2",), n_runs=0)
    with pytest.raises(ValueError, match="wae_mmd_mode"):
        reproduce(("htru2",), wae_mmd_mode="pairwise")
    assert experiments.PROTOCOLS == ("thesis", "heldout")


# ====================================================================== the report's sentences
def _fake_results(model_auc, base_auc, active):
    """A results dict as reproduce returns it, for one HTRU2 VAE cell."""
    runs = [{"auc": model_auc, "active_units": active}] * 2
    cell = {"kind": "vae", "nz": 4, "nh": 20, "thesis_auc": 0.928,
            **{p: {"runs": runs, "auc_mean": model_auc, "auc_std": 0.0, "active_units": [active] * 2}
               for p in ("thesis", "heldout")}}
    base = {p: {"runs": [], "pca4": {"mean": base_auc, "std": 0.0},
                "mean_distance": {"mean": base_auc - 0.01, "std": 0.0}} for p in ("thesis", "heldout")}
    settings = dict(experiments.SETTINGS)
    return {"settings": settings, "quick": False, "n_runs": 2, "n_jobs": 1, "seconds": 1.0,
            "version": "x", "python": "3", "numpy": "2",
            "datasets": {"htru2": {"title": "HTRU2", "n_rows": 10, "n_anomalies": 2, "n_features": 8,
                                   "seconds": 1.0, "cells": {"vae/nz=4/nh=20": cell}, "baselines": base,
                                   "hyperparameters": experiments.DATASETS["htru2"]}}}


def test_report_says_plainly_when_a_cell_misses_the_thesis_or_collapses_or_a_baseline_wins():
    md = format_report(_fake_results(model_auc=0.90, base_auc=0.95, active=0))
    assert "0 of 1 cells reach" in md and "VAE nz = 4, nh = 20: 0.9000 vs 0.928" in md
    assert "Posterior collapse" in md and "ω²" in md
    assert "A baseline ties (within 0.005) or beats every model: PCA k = 4 reaches 0.9500" in md
    md = format_report(_fake_results(model_auc=0.96, base_auc=0.94, active=3))
    assert "1 of 1 cells reach" in md and "Posterior collapse" not in md
    assert "beats the best baseline (PCA k = 4, 0.9400) by 0.0200" in md
    assert "| VAE | 4 | 20 | 0.928 | 0.9600 ± 0.0000 |" in md
