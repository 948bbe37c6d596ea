"""Tutorials 08 (sentence interpolation) and 09 (tabular synthesis) run in fast mode.

They run with this checkout first on PYTHONPATH, so that they import the
minivae under test, and must print their measured numbers and save their
figures to $MINIVAE_OUTPUT, nothing into the working directory.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_fast(name, tmp_path):
    cwd, out = tmp_path / "cwd", tmp_path / "figures"
    cwd.mkdir()
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), MINIVAE_FAST="1",
               MINIVAE_OUTPUT=str(out), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(ROOT / "tutorials" / name)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert not list(cwd.iterdir()), f"{name} wrote into the working directory"
    return proc.stdout, sorted(p.name for p in out.glob("*.png"))


def test_sentence_interpolation_tutorial(tmp_path):
    stdout, figures = run_fast("08_sentence_interpolation.py", tmp_path)
    assert figures == ["08_sentence_interpolation.png"]
    shares = re.findall(r"grammatical: interpolations ([\d.]+) .* prior samples ([\d.]+)", stdout)
    accuracies = re.findall(r"reconstruction accuracy \(words\): train ([\d.]+), test ([\d.]+)", stdout)
    assert len(shares) == 2 and len(accuracies) == 2, stdout[-2000:]
    for values in shares + accuracies:
        assert all(0.0 <= float(v) <= 1.0 for v in values)
    # The autoencoder (beta = 0) memorises its training sentences.
    assert float(accuracies[1][0]) > 0.95


def test_tabular_synthesis_tutorial(tmp_path):
    if not (Path(os.environ.get("MINIVAE_DATA", "~/.minivae/data")).expanduser() / "htru2").exists():
        pytest.skip("HTRU2 is not in $MINIVAE_DATA (the tutorial would download it)")
    stdout, figures = run_fast("09_tabular_synthesis.py", tmp_path)
    assert figures == ["09_correlations.png", "09_marginals.png"]
    assert "train on synthetic, test on real" in stdout
    rows = dict(re.findall(r"^(VAE, x ~ N\(f\(z\), w2 I\)|shuffled columns)\s+(.*)$", stdout, re.M))
    assert len(rows) == 2, stdout[-2000:]
    vae, shuffled = ([float(v) for v in rows[k].split()] for k in ("VAE, x ~ N(f(z), w2 I)", "shuffled columns"))
    # Shuffled columns keep the marginals exactly and lose the correlations.
    assert shuffled[:2] == [0.0, 0.0]
    assert vae[2] < shuffled[2] and vae[3] < shuffled[3]
    assert vae[-1] > 0.9            # the classifier trained on synthetic rows still separates
