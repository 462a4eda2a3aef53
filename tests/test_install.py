"""A plain (non-editable) install runs `vfreport run-all` from an unrelated directory: the
templates travel inside the wheel as package data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _tiny import tiny_toml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TINY = tiny_toml(name="installed", epochs=2, train_windows=8, val_windows=8)


def test_pip_install_dot_runs_run_all_from_another_directory(tmp_path: Path) -> None:
    site = tmp_path / "site"
    # `pip install .`: a real wheel build of vfreport alone (its dependencies are this interpreter's)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(ROOT)], check=True, capture_output=True, text=True)
    assert (site / "vfreport" / "templates" / "train.ipynb").is_file()
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "tiny.toml").write_text(TINY)
    # the installed copy comes first on the path, in this process and in the notebook kernels it starts
    env = {**os.environ, "PYTHONPATH": str(site), "VFREPORT_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.run([sys.executable, "-c", "import vfreport; print(vfreport.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(site)
    out = subprocess.run([sys.executable, "-m", "vfreport.cli", "run-all", "--config", "tiny.toml", "--out", "exp",
                          "--no-report"], cwd=work, env=env, capture_output=True, text=True, timeout=500)
    assert out.returncode == 0, out.stdout + out.stderr
    for arm in ("librispeech", "ami"):
        status = json.loads((work / "exp" / arm / "seed-0" / "status.json").read_text())
        assert status["state"] == "completed" and status["last_epoch"] == 2
        nb = json.loads((work / "exp" / arm / "seed-0" / "train.ipynb").read_text())
        printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
        assert "Traceback" not in printed
