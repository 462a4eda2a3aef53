"""End to end through the real CLI: `vfreport run-all` on a tiny config (papermill, 2 jobs),
then skip-on-rerun, SIGKILL-and-resume, import + report, export and predict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pandas as pd
import pytest
from _data import AMI_DEBUG
from _results_schema import assert_valid_results
from _tiny import tiny_toml

from vfreport.data.rttm import parse_rttm

pytestmark = pytest.mark.slow

FIXTURE = AMI_DEBUG
TINY = tiny_toml(seeds=(0, 1), epochs=8, train_windows=24, val_windows=12)


def vfreport(*args: str, cwd: Path, check: bool = True, timeout: float = 500) -> subprocess.CompletedProcess:
    env = {**os.environ, "VFREPORT_CACHE_DIR": str(cwd / "cache")}
    out = subprocess.run([sys.executable, "-m", "vfreport.cli", *args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"vfreport {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def deterministic_history(path: Path) -> str:
    """history.csv without the wall-clock column, as text: byte-for-byte comparable."""
    return pd.read_csv(path).drop(columns=["epoch_seconds"]).to_csv(index=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    (root / "tiny.toml").write_text(TINY)
    out = vfreport("run-all", "--config", "tiny.toml", "--out", "exp", "--jobs", "2", cwd=root)
    assert "trained 4 runs" in out.stdout
    return root


def test_run_all_writes_the_experiment_directory(demo):
    exp = demo / "exp"
    for arm in ("librispeech", "ami"):
        for seed in (0, 1):
            run = exp / arm / f"seed-{seed}"
            nb = json.loads((run / "train.ipynb").read_text())
            assert nb["metadata"]["papermill"]["parameters"]["arm"] == arm
            assert json.loads((run / "params.json").read_text())["seed"] == seed
            hist = pd.read_csv(run / "history.csv")
            assert hist["epoch"].tolist() == list(range(1, 9))
            assert hist[["train_acc", "val_acc"]].apply(lambda c: c.between(0, 1)).all().all()
            assert len(pd.read_parquet(run / "val_predictions.parquet")) == 8 * 12
            assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "epoch-0005.pt", "last.pt"]
            status = json.loads((run / "status.json").read_text())
            assert status["state"] == "completed" and status["last_epoch"] == 8
    manifest = json.loads((exp / "manifest.json").read_text())
    assert set(manifest["runs"].values()) == {"completed"}
    assert manifest["packages"]["torch"]
    results = json.loads((exp / "results.json").read_text())
    assert_valid_results(results)  # written in a subprocess: tests/conftest.py's check does not reach it
    assert set(results["hypotheses"]) == {"H1", "H2", "H3"}
    report = (exp / "report.md").read_text()
    assert ("| Metric | LibriSpeech-like (Pseudo, synthetic) | AMI-like (annotated, synthetic) | Δ Improvement |"
            in report)
    assert (exp / "report.html").stat().st_size > 10_000
    assert (exp / "review.ipynb").exists() and any((exp / "figures").glob("*.png"))
    onnx.checker.check_model(str(exp / "model.onnx"), full_check=True)
    assert results["onnx"]["parity_ok"] is True


def test_seeds_differ_and_runs_are_real(demo):
    a = pd.read_csv(demo / "exp/ami/seed-0/history.csv")
    b = pd.read_csv(demo / "exp/ami/seed-1/history.csv")
    assert not a["train_loss"].equals(b["train_loss"])


def test_rerun_skips_completed_runs(demo):
    out = vfreport("run-all", "--config", "tiny.toml", "--out", "exp", "--no-report", cwd=demo)
    assert "trained 0 runs, skipped 4" in out.stdout


def test_sigkill_then_rerun_resumes_to_identical_histories(demo):
    env = {**os.environ, "VFREPORT_CACHE_DIR": str(demo / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "vfreport.cli", "run-all", "--config", "tiny.toml", "--out",
                             "killed", "--jobs", "2", "--no-report"], cwd=demo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status = demo / "killed/ami/seed-0/status.json"
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            if status.exists():
                s = json.loads(status.read_text())
                if (s.get("last_epoch") or 0) >= 2:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("training never reached epoch 2")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernels, mid-training
        proc.wait()
    s = json.loads(status.read_text())
    assert s["state"] == "running" and s["last_epoch"] < 8, "killed mid-run"
    out = vfreport("run-all", "--config", "tiny.toml", "--out", "killed", "--jobs", "2", "--no-report", cwd=demo)
    assert "0 failed" in out.stdout
    for arm in ("librispeech", "ami"):
        for seed in (0, 1):
            rel = f"{arm}/seed-{seed}/history.csv"
            assert deterministic_history(demo / "killed" / rel) == deterministic_history(demo / "exp" / rel), rel


def test_import_then_report_from_a_csv_history(tmp_path):
    rows = "epoch,train_loss,train_acc,val_loss,val_acc\n" + "\n".join(
        f"{e},{0.69 - 0.001 * e},{45 + 0.3 * e:.1f},0.70,{v}" for e, v in
        enumerate([50.0, 55.0, 58.0, 61.5, 40.0, 31.5, 45.0, 50.0, 52.0, 48.0, 47.0, 49.0], start=1))
    (tmp_path / "libri.csv").write_text(rows)
    out = vfreport("import", "colab", "--history", "librispeech:0:libri.csv", cwd=tmp_path)
    assert "percent" in out.stdout
    vfreport("report", "colab", "--no-html", cwd=tmp_path)
    report = (tmp_path / "colab/report.md").read_text()
    assert "| Best Val Acc (optimistic) | 61.5 %" in report
    assert "±15.0 %" in report


def test_export_and_predict_on_real_audio(demo):
    out = vfreport("export-onnx", "exp", "--out", "exp/again.onnx", cwd=demo)
    assert "parity" in out.stdout
    out = vfreport("predict", "exp/again.onnx", str(FIXTURE / "dev00.wav"), cwd=demo)
    segments = parse_rttm(out.stdout, "stdout")["dev00"]
    assert segments and all(0 <= s.start < s.end <= 30.0 + 2e-3 for s in segments)  # RTTM has 3 decimals


def test_errors_are_one_clear_line(tmp_path):
    (tmp_path / "bad.toml").write_text("[experiment]\nepocs = 3\n")
    out = vfreport("run-all", "--config", "bad.toml", cwd=tmp_path, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.toml" in lines[0]
    assert "unknown key experiment.epocs (did you mean 'epochs'?)" in lines[0]
    assert "Traceback" not in out.stderr
