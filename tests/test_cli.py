"""The command line and the demo (the README's main job)."""

import subprocess
import sys

import numpy as np
import pytest

from minivae.cli import build_parser, main
from minivae.demo import gap_fraction, run_demo


def test_demo_fast_writes_figures_and_summary(tmp_path):
    results = run_demo(out=tmp_path, fast=True, random_state=0, log=lambda line: None)
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    summary = (tmp_path / "summary.txt").read_text()
    assert "banana" in summary and "gap" in summary
    gaps = results["two_clusters_gap_fraction"]
    assert gaps["data"] < 0.01
    assert 0.0 <= gaps["vae_samples"] <= 1.0


def test_demo_is_reproducible(tmp_path):
    a = run_demo(out=tmp_path / "a", fast=True, random_state=3, log=lambda line: None)
    b = run_demo(out=tmp_path / "b", fast=True, random_state=3, log=lambda line: None)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_gap_fraction():
    X = np.array([[0.0, 0.0], [0.0, 5.0], [0.0, 10.0], [0.0, 6.9]])
    assert gap_fraction(X) == 0.5


def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "minivae", "demo", "--fast", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "gap" in proc.stdout
    assert (tmp_path / "summary.txt").exists()


def test_parser_rejects_unknown_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_version_flag(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])
    assert "minivae" in capsys.readouterr().out
