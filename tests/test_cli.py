"""The command line and the demo (the README's main job)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minivae
import minivae.cli
from minivae.cli import build_parser, main
from minivae.demo import gap_fraction, run_demo

REPO = Path(minivae.__file__).resolve().parent.parent


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


# ---------------------------------------------------------------------- user mistakes
# Each mistake: exit status 2, exactly one line on stderr naming the problem, no traceback.
def _mistakes(tmp_path):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a directory")
    cases = {
        "negative-seed": (["demo", "--seed", "-1"], "--seed: must be an int >= 0, got -1"),
        "text-seed": (["demo", "--seed", "one"], "--seed: must be an int >= 0, got 'one'"),
        "out-is-a-file": (["demo", "--out", str(a_file)], f"out must be a directory, but it is a file: '{a_file}'"),
        "out-below-a-file": (["demo", "--out", str(a_file / "sub")], "Not a directory"),
        "unknown-command": (["frobnicate"], "invalid choice: 'frobnicate'"),
        "unknown-option": (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        "no-command": ([], "required: command"),
    }
    if os.path.isdir("/sys/kernel"):
        # Linux sysfs refuses new directories and files, even to root: an existing
        # directory that cannot be written, and one that cannot be created.
        cases["unwritable-directory"] = (["demo", "--out", "/sys/kernel"], "/sys/kernel")
        cases["uncreatable-directory"] = (["demo", "--out", "/sys/minivae-test"], "/sys/minivae-test")
    if hasattr(os, "geteuid") and os.geteuid() != 0:   # root ignores permission bits
        ro = tmp_path / "read_only"
        ro.mkdir()
        ro.chmod(0o500)
        cases["read-only-directory"] = (["demo", "--out", str(ro)], "Permission denied")
        cases["inside-read-only-directory"] = (["demo", "--out", str(ro / "new")], "Permission denied")
    return cases


def _run_in_process(argv, capsys):
    """main(argv) as the console script runs it: (exit status, stdout, stderr)."""
    try:
        status = main(argv)
    except SystemExit as exc:        # argparse's own exit
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_mistakes_give_one_line_and_no_traceback(tmp_path, capsys):
    cases = _mistakes(tmp_path)
    try:
        for name, (argv, expected) in cases.items():
            status, out, err = _run_in_process(argv, capsys)
            lines = err.strip().splitlines()
            assert status == 2, (name, status, err)
            assert len(lines) == 1 and lines[0].startswith("minivae"), (name, err)
            assert expected in lines[0], (name, lines[0])
            assert out == "", (name, out)
    finally:
        for p in tmp_path.iterdir():
            if p.is_dir():
                p.chmod(0o700)


def test_cli_mistakes_in_a_real_process(tmp_path):
    """The console entry point itself: status 2, one line, no traceback (a sample of the cases)."""
    cases = _mistakes(tmp_path)
    sample = [k for k in ("negative-seed", "out-is-a-file", "unwritable-directory") if k in cases]
    env = {**os.environ, "PYTHONPATH": str(REPO), "MINIVAE_DEBUG": ""}
    # All at once: each process spends its time importing NumPy.
    procs = {name: subprocess.Popen([sys.executable, "-m", "minivae", *cases[name][0]], cwd=tmp_path,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in sample}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (name, proc.returncode, err)
        assert "Traceback" not in err, (name, err)
        assert err.strip().splitlines() == [err.strip()] and cases[name][1] in err, (name, err)
        assert out == "", (name, out)


@pytest.mark.parametrize("exc", [ValueError("n_latent must be a positive int, got 0"),
                                 TypeError("fast must be True or False, got 'no' (str)"),
                                 FileNotFoundError(2, "No such file or directory", "model.npz"),
                                 PermissionError(13, "Permission denied", "/ro/out")])
def test_every_command_turns_user_errors_into_one_line(monkeypatch, capsys, exc):
    """A command added later inherits the handling: main() catches, not the command."""
    def command(args):
        raise exc

    monkeypatch.setattr(minivae.cli, "_demo", command)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minivae: error: ")
    if isinstance(exc, OSError):
        assert err == f"minivae: error: {exc.strerror}: '{exc.filename}'\n"
    else:
        assert str(exc) in err


def test_bugs_keep_their_traceback_and_debug_shows_user_errors(monkeypatch):
    def buggy(args):
        raise RuntimeError("a bug in minivae")

    monkeypatch.setattr(minivae.cli, "_demo", buggy)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["demo"])

    def mistake(args):
        raise ValueError("bad")

    monkeypatch.setattr(minivae.cli, "_demo", mistake)
    monkeypatch.setenv("MINIVAE_DEBUG", "1")
    with pytest.raises(ValueError, match="bad"):
        main(["demo"])


def test_datasets_command_reports_missing_files_and_exits_1(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MINIVAE_DATA", str(tmp_path / "nothing-here"))
    assert main(["datasets"]) == 1
    out = capsys.readouterr().out
    assert out.count("not available") == 3 and "not found" in out


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(out=3), TypeError, "out must be a str or os.PathLike path, got 3"),
    (dict(out=""), ValueError, "out must be a non-empty path"),
    (dict(fast="no"), TypeError, "fast must be True or False, got 'no'"),
    (dict(random_state=-1), ValueError, "random_state must be a non-negative int, got -1"),
    (dict(random_state=1.5), TypeError, "random_state must be None, an int"),
    (dict(log="print"), TypeError, "log must be callable, got str"),
])
def test_run_demo_checks_its_arguments_before_running(tmp_path, kwargs, exc, match):
    kwargs.setdefault("out", tmp_path / "demo")
    with pytest.raises(exc, match=match):
        run_demo(**kwargs)
    assert not (tmp_path / "demo").exists()
