"""Reliability and security guarantees: untrusted checkpoints, non-ASCII names, Ctrl-C, failed arms."""

from __future__ import annotations

import contextlib
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
from _data import AMI_DEBUG
from _signals import HAS_PROC, sigint_pending, terminal_sigint
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


def _statuses(root: Path) -> dict[str, dict]:
    out = {}
    for arm in ("librispeech", "ami"):
        path = root / f"exp/{arm}/seed-0/status.json"
        out[arm] = json.loads(path.read_text()) if path.exists() else {}
    return out


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="reads pending signals from /proc (Linux)")
def test_ctrl_c_stops_cleanly_says_how_to_resume_and_resumes(tmp_path):
    """Deterministic: both kernels are stopped (SIGSTOP) before the Ctrl-C and resumed only once
    run-all has forwarded the interrupt to them, so no run can finish in between."""
    (tmp_path / "small.toml").write_text(SMALL)
    args = ["run-all", "--config", "small.toml", "--out", "exp", "--no-report"]
    proc = _cli(args, tmp_path, start_new_session=True, preexec_fn=terminal_sigint)
    kernels: list[int] = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            st = _statuses(tmp_path)
            if all((s.get("last_epoch") or 0) >= 1 for s in st.values()):
                kernels = [s["pid"] for s in st.values()]
                break
            time.sleep(0.05)
        assert kernels, "the runs did not start"
        for pid in kernels:
            os.kill(pid, signal.SIGSTOP)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
        while time.time() < deadline and not all(sigint_pending(pid) for pid in kernels):
            time.sleep(0.05)
        assert all(sigint_pending(pid) for pid in kernels), "run-all did not interrupt the kernels"
    finally:
        for pid in kernels:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume with the same command" in err and "Traceback" not in err
    for s in _statuses(tmp_path).values():
        assert s["state"] == "failed" and s["error"]["type"] == "KeyboardInterrupt"
        assert s["last_epoch"] < 40
    assert not (tmp_path / "exp/.vfreport.lock").exists()
    again = _cli(args, tmp_path)
    out, err = again.communicate(timeout=500)
    assert again.returncode == 0, err
    for s in _statuses(tmp_path).values():
        assert s["state"] == "completed"


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


def test_a_url_shown_as_text_or_linked_is_not_a_reference():
    from vfreport.report.review import external_references

    msg = "HubUnavailableError: cannot reach the Hugging Face hub (https://huggingface.co): timed out"
    html = (f'<html><body><table><tr><td>{msg}</td></tr></table><a href="https://huggingface.co">hub</a>'
            '<div style="background: url(https://x.example/bg.png)"></div>'
            '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="style.css">'
            '<img srcset="a.png 1x, data:image/png;base64,AA 2x"></body></html>')
    assert external_references(html) == ["https://cdn.example/x.js", "style.css", "a.png",
                                          "https://x.example/bg.png"]


@pytest.mark.slow
def test_an_unreachable_hub_fails_its_runs_before_any_kernel_and_the_report_is_still_written(tmp_path):
    config = SMALL.replace("epochs = 40", "epochs = 2").replace("seeds = [0]", "seeds = [0, 1]")
    (tmp_path / "hub.toml").write_text(config.replace("val_windows = 12\n", 'val_windows = 12\nsource = "hub"\n'))
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", VFREPORT_CACHE_DIR=str(tmp_path / "cache"))  # nothing listens
    proc = subprocess.run([sys.executable, "-m", "vfreport.cli", "run-all", "--config", "hub.toml", "--out", "exp"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=500)
    assert proc.returncode == 1, proc.stderr
    assert "not self-contained" not in proc.stderr
    messages = set()
    for arm in ("librispeech", "ami"):
        for seed in (0, 1):
            run = tmp_path / f"exp/{arm}/seed-{seed}"
            status = json.loads((run / "status.json").read_text())
            assert status["state"] == "failed" and status["error"]["type"] == "HubUnavailableError"
            messages.add(status["error"]["message"])
            assert not (run / "train.ipynb").exists()  # no kernel was started for it
    assert len(messages) == 1 and "cannot reach the Hugging Face hub (http://127.0.0.1:9)" in messages.pop()
    assert "HubUnavailableError" in (tmp_path / "exp/report.md").read_text()
    assert "cannot reach the Hugging Face hub" in (tmp_path / "exp/report.html").read_text()
