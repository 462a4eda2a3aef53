"""Reliability and security guarantees: untrusted checkpoints, non-ASCII names, Ctrl-C, failed arms."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from _paths import AMI_DEBUG
from hypothesis import given, settings
from hypothesis import strategies as st

from vfreport.config import load_config
from vfreport.data.rttm import format_uem, parse_uem
from vfreport.data.windows import prepare_arm
from vfreport.errors import ExperimentError
from vfreport.model.network import FastDiarizationModel, load_checkpoint

FIXTURE = AMI_DEBUG


class _Payload:
    """Unpickling this runs a shell command: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoints_are_loaded_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "best.pt"
    torch.save({"model_config": {}, "model_state": {}, "evil": _Payload(marker)}, bad)
    with pytest.raises(ExperimentError, match="cannot load checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(ExperimentError):
        FastDiarizationModel.from_checkpoint(bad)
    assert not marker.exists()


def test_non_ascii_file_names_and_speaker_labels_work(tmp_path):
    shutil.copy(FIXTURE / "dev00.wav", tmp_path / "réunion-ü.wav")
    rttm = (FIXTURE / "debug.development.rttm").read_text().splitlines()
    renamed = {"MEE009": "Zoë", "MEE012": "话者"}
    lines = []
    for line in rttm:
        f = line.split()
        if f[1] == "dev00":
            f[1], f[7] = "réunion-ü", renamed[f[7]]
            lines.append(" ".join(f))
    (tmp_path / "dev.rttm").write_text("\n".join(lines) + "\n", encoding="utf-8")
    arm = replace(load_config().target, source="local", path=str(tmp_path), train_split="dev", val_split="dev",
                  train_windows=6, val_windows=3)
    with pytest.warns(UserWarning):  # same split for train and val
        train, val = prepare_arm(arm, 2.0)
    assert len(train) == 6 and len(val) == 3
    assert train.mask.any(axis=1).all()
    assert {0, 1} <= set(train.labels[train.mask].tolist())


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), min_size=1, max_size=5),
    min_size=1, max_size=4))
def test_uem_round_trip(raw):
    regions = {}
    for uri, spans in raw.items():
        t, out = 0, []
        for gap, length in spans:  # disjoint, sorted regions on a millisecond grid
            start = t + gap
            out.append((start / 1000, (start + length) / 1000))
            t = start + length
        regions[uri] = out
    assert parse_uem(format_uem(regions), "x.uem") == regions


def _cli(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "VFREPORT_CACHE_DIR": str(cwd / "cache")}
    return subprocess.Popen([sys.executable, "-m", "vfreport.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


SMALL = """
[experiment]
name = "small"
seeds = [0]
epochs = 40
[train]
window_seconds = 1.0
batch_size = 8
[arms.librispeech]
train_windows = 48
val_windows = 12
[arms.ami]
train_windows = 48
val_windows = 12
"""


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_says_how_to_resume_and_resumes(tmp_path):
    (tmp_path / "small.toml").write_text(SMALL)
    args = ["run-all", "--config", "small.toml", "--out", "exp", "--no-report"]
    proc = _cli(args, tmp_path, start_new_session=True)
    status = tmp_path / "exp/ami/seed-0/status.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (status.exists() and (json.loads(status.read_text()).get("last_epoch") or 0)):
        time.sleep(0.05)
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
    out, err = proc.communicate(timeout=120)
    assert time.time() - t0 < 60
    assert proc.returncode == 130
    assert "resume with the same command" in err and "Traceback" not in err
    for arm in ("librispeech", "ami"):
        s = json.loads((tmp_path / f"exp/{arm}/seed-0/status.json").read_text())
        assert s["state"] in ("failed", "completed")
        if s["state"] == "failed":
            assert s["error"]["type"] == "KeyboardInterrupt"
    assert not (tmp_path / "exp/.vfreport.lock").exists()
    again = _cli(args, tmp_path)
    out, err = again.communicate(timeout=500)
    assert again.returncode == 0, err
    for arm in ("librispeech", "ami"):
        assert json.loads((tmp_path / f"exp/{arm}/seed-0/status.json").read_text())["state"] == "completed"


@pytest.mark.slow
def test_a_failing_arm_is_recorded_the_report_still_written_and_the_exit_status_nonzero(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "cfg.toml").write_text(SMALL.replace("epochs = 40", "epochs = 3")
                                       + 'source = "local"\npath = "empty"\n')
    proc = _cli(["run-all", "--config", "cfg.toml", "--out", "exp"], tmp_path)
    out, err = proc.communicate(timeout=500)
    assert proc.returncode == 1
    assert "failed: ami/seed-0" in err
    status = json.loads((tmp_path / "exp/ami/seed-0/status.json").read_text())
    assert status["state"] == "failed" and status["error"]["type"] == "DataError"
    assert isinstance(status["error"]["cell"], int)
    nb = json.loads((tmp_path / "exp/ami/seed-0/train.ipynb").read_text())
    assert any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))
    assert json.loads((tmp_path / "exp/librispeech/seed-0/status.json").read_text())["state"] == "completed"
    report = (tmp_path / "exp/report.md").read_text()
    assert "DataError" in report
    results = json.loads((tmp_path / "exp/results.json").read_text())
    assert results["arms"]["ami"]["missing"][0]["seed"] == 0
