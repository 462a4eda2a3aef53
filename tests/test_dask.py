"""run-all on dask (`--executor dask`): same histories as the local executor, a killed worker's run
retried and resumed from last.pt, clear errors for an unreachable scheduler, GPU runs asking for
a GPU. Needs the `dask` extra."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _signals import HAS_PROC, sigint_pending, terminal_sigint
from _tiny import tiny_toml

pytest.importorskip("distributed")

from vfreport.errors import ConfigError  # noqa: E402
from vfreport.run.executors import (  # noqa: E402
    SCHEDULER_TIMEOUT_S,
    DaskExecutor,
    check_visible,
    executors,
    parse_resources,
)

TINY = tiny_toml(checkpoint_every=1)
ARMS = ("librispeech", "ami")


def run_all(root: Path, out: str, *options: str, config: str = TINY, **popen) -> subprocess.Popen:
    (root / "tiny.toml").write_text(config)
    env = {**os.environ, "VFREPORT_CACHE_DIR": str(root / "cache")}
    return subprocess.Popen([sys.executable, "-m", "vfreport.cli", "run-all", "--config", "tiny.toml", "--out", out,
                             "--no-report", *options], cwd=root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=500)
    assert proc.returncode == 0, f"{out}\n{err}"
    return out


def histories(exp: Path) -> dict[str, str]:
    """history.csv of every run without its wall-clock column, as text (byte-comparable)."""
    return {arm: pd.read_csv(exp / arm / "seed-0/history.csv").drop(columns=["epoch_seconds"]).to_csv(index=False)
            for arm in ARMS}


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("dask")
    finish(run_all(root, "local", "--jobs", "2"))
    return root, histories(root / "local")


@pytest.mark.slow
def test_a_local_cluster_of_two_workers_gives_the_local_executors_histories(local):
    root, expected = local
    out = finish(run_all(root, "dask", "--executor", "dask", "--workers", "2"))
    assert "dask dashboard: http" in out
    assert histories(root / "dask") == expected
    manifest = json.loads((root / "dask/manifest.json").read_text())
    assert manifest["executor"] == {"name": "dask", "scheduler": "LocalCluster", "workers": 2, "resources": None}


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_run_resumes_from_last_pt(local):
    """Deterministic: the run's kernel is stopped after epoch 1 (so the run cannot finish), its
    worker process is SIGKILLed, then the orphaned kernel may go on (it exits, its parent gone)."""
    import psutil

    root, expected = local
    proc = run_all(root, "killed", "--executor", "dask", "--workers", "2")
    status = root / "killed/ami/seed-0/status.json"
    checkpoint = root / "killed/ami/seed-0/checkpoints/epoch-0001.pt"
    kernel = worker = None
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and worker is None:
            s = json.loads(status.read_text()) if status.exists() else {}
            if s.get("state") == "running" and (s.get("last_epoch") or 0) >= 1:
                kernel = s["pid"]
                os.kill(kernel, signal.SIGSTOP)
                worker = psutil.Process(kernel).ppid()
            time.sleep(0.05)
        assert worker is not None, "the run did not start"
        first_checkpoint = checkpoint.stat().st_mtime_ns
        os.kill(worker, signal.SIGKILL)
    except BaseException:
        proc.kill()
        raise
    finally:
        if kernel is not None:
            os.kill(kernel, signal.SIGCONT)
    finish(proc)
    assert json.loads(status.read_text())["pid"] != kernel  # another kernel finished the run
    # resumed, not restarted: epoch 1's checkpoint is the one written before the kill
    assert checkpoint.stat().st_mtime_ns == first_checkpoint
    assert histories(root / "killed") == expected


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="reads pending signals from /proc (Linux)")
def test_ctrl_c_interrupts_the_kernels_on_the_workers_and_marks_the_runs_failed(tmp_path):
    """As the local executor's Ctrl-C test: the kernels are stopped until run-all has forwarded the
    interrupt. The LocalCluster's workers share run-all's process group: they get the Ctrl-C too."""
    proc = run_all(tmp_path, "exp", "--executor", "dask", "--workers", "2", start_new_session=True,
                   preexec_fn=terminal_sigint, config=tiny_toml(checkpoint_every=1, epochs=2000))
    # 2,000 tiny epochs: no run can finish while the other is still starting on a loaded machine
    # (with 40, one run completed before the other reached epoch 1 under load)
    kernels: list[int] = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not kernels:
            st = [json.loads(p.read_text()) for p in tmp_path.glob("exp/*/seed-0/status.json")]
            if len(st) == 2 and all((s.get("last_epoch") or 0) >= 1 for s in st):
                kernels = [s["pid"] for s in st]
            time.sleep(0.05)
        assert kernels, "the runs did not start"
        for pid in kernels:
            os.kill(pid, signal.SIGSTOP)
        os.killpg(proc.pid, signal.SIGINT)
        while time.time() < deadline and not all(sigint_pending(pid) for pid in kernels):
            time.sleep(0.05)
        assert all(sigint_pending(pid) for pid in kernels), "run-all did not interrupt the kernels"
    except BaseException:
        proc.kill()
        raise
    finally:
        for pid in kernels:
            os.kill(pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume with the same command" in err and "Traceback" not in err
    for arm in ARMS:
        s = json.loads((tmp_path / f"exp/{arm}/seed-0/status.json").read_text())
        assert s["state"] == "failed" and s["error"]["type"] == "KeyboardInterrupt"


def test_an_unreachable_scheduler_is_one_error_line(tmp_path):
    assert SCHEDULER_TIMEOUT_S < 10
    proc = run_all(tmp_path, "exp", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith("error: cannot reach the dask scheduler at tcp://127.0.0.1:1")
    assert not (tmp_path / "exp/.vfreport.lock").exists()


def test_a_worker_that_cannot_see_the_folder_says_which(tmp_path):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp/.token").write_text("abc")
    assert check_visible([(str(tmp_path / "exp/.token"), "abc")]) is None
    assert "is another directory" in check_visible([(str(tmp_path / "exp/.token"), "xyz")])
    msg = check_visible([(str(tmp_path / "elsewhere/.token"), "abc")])
    assert f"{tmp_path / 'elsewhere'} is not on storage this worker sees" in msg


class _Client:
    """What DaskExecutor.submit asks of a distributed.Client."""

    def __init__(self, resources: dict) -> None:
        self.resources = resources
        self.submitted: list[dict] = []

    def scheduler_info(self) -> dict:
        return {"workers": {"tcp://w:1": {"resources": self.resources}}}

    def nthreads(self) -> dict:
        return {"tcp://w:1": 4}

    def submit(self, fn, *args, **kwargs):
        self.submitted.append(kwargs)
        return _Future()


class _Future:
    def done(self) -> bool:
        return False


def test_a_cuda_run_asks_for_a_gpu_and_a_cluster_without_one_is_an_error(tmp_path):
    from vfreport.experiment.layout import ExperimentDir

    ex = executors.create("dask", jobs=1, scheduler="tcp://x:1", resources="GPU=1")
    assert isinstance(ex, DaskExecutor) and ex.resources == {"GPU": 1.0}
    exp = ExperimentDir(tmp_path)
    ex.client = _Client({"GPU": 1})
    ex.submit(exp, {"arm": "a", "seed": 0, "device": "cuda"}, tmp_path / "t.ipynb")
    ex.submit(exp, {"arm": "a", "seed": 1, "device": "auto"}, tmp_path / "t.ipynb")
    assert [s["resources"] for s in ex.client.submitted] == [{"GPU": 1}, None]
    ex.client = _Client({})
    with pytest.raises(ConfigError, match="asks for a GPU.*--resources GPU=1"):
        ex.submit(exp, {"arm": "a", "seed": 0, "device": "cuda:0"}, tmp_path / "t.ipynb")


def test_executor_options_are_checked():
    assert executors.names()[:2] == ["local", "dask"]
    with pytest.raises(ConfigError, match="unknown executor 'ray'.*local, dask"):
        executors.create("ray")
    with pytest.raises(ConfigError, match="'local' does not take --scheduler"):
        executors.create("local", scheduler="tcp://x:1")
    with pytest.raises(ConfigError, match="NAME=AMOUNT"):
        parse_resources("GPU")
    assert parse_resources("GPU=2,MEM=1e9") == {"GPU": 2.0, "MEM": 1e9}
