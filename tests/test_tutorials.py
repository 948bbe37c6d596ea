"""Every tutorial runs end to end in fast mode, and the equation table points at real code."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_fast_mode(path, tmp_path):
    env = dict(os.environ, MINIVAE_FAST="1", MINIVAE_OUTPUT=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert list(tmp_path.glob("*.png")), f"{path.name} saved no figure"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_is_percent_format(path):
    text = path.read_text()
    assert text.count("# %%") >= 3
    assert "# %% [markdown]" in text
    assert "MINIVAE_FAST" in text


def _table_functions():
    readme = ROOT / "tutorials" / "README.md"
    names = re.findall(r"`(minivae(?:\.\w+)+)`", readme.read_text())
    return sorted(set(names))


def test_equation_table_names_exist():
    names = _table_functions()
    assert names, "tutorials/README.md names no functions"
    missing = []
    for dotted in names:
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(dotted)
            break
        else:
            missing.append(dotted)
    assert not missing, f"tutorials/README.md names functions that do not exist: {missing}"
