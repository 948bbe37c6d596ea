"""The benchmark scripts run: each in its smallest mode, printing its table.

Their numbers are measurements, not test outcomes (the targets live in the
scripts); these tests only keep the scripts from rotting between the runs
that report them.
"""

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Smallest settings of each script; no PyTorch or JAX columns (optional extras).
RUNS = {
    "bench_vae": ["--quick", "--threads", "1", "--no-torch", "--no-jax", "--configs", "htru2",
                  "--dtypes", "float32", "--repeats", "1", "--epochs", "1"],
    "bench_emvae": ["--quick", "--no-epoch", "--repeats", "1"],
    "bench_mmd": ["--quick", "--threads", "1", "--no-wae"],
}
# A data row of each table: the ratio it reports.
ROWS = {
    "bench_vae": r"HTRU2-like 8-20-4\s+float32\s+1\s+[\d,]+\s+[\d,]+.*?([\d.]+)x",
    "bench_emvae": r"^\s+100000\s+6\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)",
    "bench_mmd": r"^\s+1000\s+10 gaussian\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)",
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_benchmark_script_prints_its_table(script):
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), *RUNS[script]],
                          env=env, capture_output=True, text=True, timeout=300)
    # A missed speed target sets the exit status of bench_emvae and bench_mmd: not a failure here.
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    match = re.search(ROWS[script], proc.stdout, flags=re.MULTILINE)
    assert match, proc.stdout[-3000:]
    ratio = float(match.group(1))
    assert math.isfinite(ratio) and ratio > 0


@pytest.mark.parametrize("script", ["bench_emvae", "bench_mmd", "bench_vae", "bench_vampprior_mnist"])
def test_benchmark_script_measures_the_minivae_of_its_checkout(script, tmp_path):
    # Run from elsewhere with no PYTHONPATH: the script must import the minivae next to it,
    # not an installed copy (an editable install of another checkout, a released version).
    probe = (
        "import contextlib, io, runpy, sys\n"
        f"sys.argv = [{script!r}, '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        runpy.run_path({str(ROOT / 'benchmarks' / (script + '.py'))!r}, run_name='__main__')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "import minivae\n"
        "print(minivae.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(proc.stdout.strip()).resolve() == (ROOT / "minivae" / "__init__.py").resolve()


def test_bench_vae_prints_both_blas_settings_and_the_targets(capsys):
    spec = importlib.util.spec_from_file_location("bench_vae", ROOT / "benchmarks" / "bench_vae.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = dict(config="kdd", dtype="float64", threads=1, products=2e6, torch=None, jax_step=5e5)
    rows = [dict(row, blas="env", minivae=6e5, jax_scan=8e5),       # 0.75x: below the 1.0 target
            dict(row, blas="native", minivae=9e5, jax_scan=8e5)]    # 1.125x: met
    bench.print_table(rows)
    bench.print_targets(rows)
    out = capsys.readouterr().out
    assert re.search(r"KDD-like 34-30-10\s+float64\s+1\s+env\s+600,000", out), out
    assert re.search(r"KDD-like 34-30-10\s+float64\s+1\s+native\s+900,000", out), out
    assert re.search(r"0\.75x\s+\(target >= 1\.0\)\s+FAIL \[env BLAS\]", out), out
    assert re.search(r"1\.12x\s+\(target >= 1\.0\)\s+PASS \[native BLAS\]", out), out


def test_bench_mmd_explains_the_wae_epoch(capsys):
    spec = importlib.util.spec_from_file_location("bench_mmd", ROOT / "benchmarks" / "bench_mmd.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    times = bench.bench_wae_vs_vae_epoch(n_rows=500, repeats=1)
    out = capsys.readouterr().out
    assert set(times) == {"VAE", "WAE gaussian g=0.01", "WAE imq C=1", "WAE gaussian default",
                          "WAE imq default (7)"}
    for name in list(times)[1:]:
        match = re.search(rf"{re.escape(name)}\s+WAE - VAE\s+-?\d+ us; its MMD² \+ gradient alone\s+(\d+) us; "
                          rf"WAE/VAE if the step added only these two: x\s*([\d.]+)", out)
        assert match, out
        assert int(match.group(1)) > 0 and float(match.group(2)) > 1.0
