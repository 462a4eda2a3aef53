"""Runner: papermill execution, failure recording, locking, IPC kernels."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat as nbf
import pytest

from vfreport.config import load_config
from vfreport.errors import ConfigError, ExperimentLockedError
from vfreport.experiment.layout import ExperimentDir
from vfreport.run.executors import LocalExecutor, run_one
from vfreport.run.job import PARAMETERS, check_parameters
from vfreport.run.notebooks import execute_notebook
from vfreport.run.runner import experiment_lock, prepare_experiment_dir


def notebook(path: Path, *cells: str) -> Path:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_code_cell("arm = 'x'\nseed = 0", metadata={"tags": ["parameters"]})]
    nb.cells += [nbf.v4.new_code_cell(c) for c in cells]
    nbf.write(nb, path)
    return path


def test_kernels_talk_over_ipc_not_tcp(tmp_path):
    code = "import ipykernel, json\nprint(json.loads(ipykernel.get_connection_info())['transport'])"
    src = notebook(tmp_path / "t.ipynb", code)
    execute_notebook(src, tmp_path / "out.ipynb", {"arm": "a"}, cwd=tmp_path)
    out = nbf.read(tmp_path / "out.ipynb", 4)
    assert out.cells[-1].outputs[0]["text"].strip() == "ipc"


def test_exception_in_a_cell_is_recorded_with_the_cell(tmp_path):
    src = notebook(tmp_path / "t.ipynb", "y = 1", "raise ValueError('bad data in row 7')")
    exp = ExperimentDir(tmp_path / "exp")
    status = run_one(exp, {"arm": "ami", "seed": 3}, src)
    assert status.state == "failed"
    assert status.error["type"] == "ValueError"
    assert "bad data in row 7" in status.error["message"]
    assert status.error["cell"] == 3  # parameters, injected parameters, y = 1, raise
    executed = nbf.read(exp.run("ami", 3).notebook, 4)
    assert any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    assert exp.run("ami", 3).read_status() == status


def test_a_dead_kernel_marks_the_run_failed_with_the_reason(tmp_path):
    src = notebook(tmp_path / "t.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    status = run_one(ExperimentDir(tmp_path / "exp"), {"arm": "ami", "seed": 0}, src)
    assert status.state == "failed"
    assert status.error["type"] == "DeadKernelError"
    assert "kernel died" in status.error["message"]


def test_unknown_notebook_parameter_is_an_error():
    check_parameters({k: None for k in PARAMETERS})
    with pytest.raises(ConfigError, match="unknown notebook parameter.*epocs"):
        check_parameters({"epocs": 3})


def test_lock_refuses_a_second_runner_and_takes_over_stale_locks(tmp_path):
    exp = ExperimentDir(tmp_path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import socket

        exp.lock.write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(), "since": "now"}))
        with pytest.raises(ExperimentLockedError, match=f"pid {sleeper.pid}"), experiment_lock(exp):
            pass
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder is gone: its lock is stale and is taken over
    with experiment_lock(exp):
        assert json.loads(exp.lock.read_text())["pid"] == os.getpid()
    assert not exp.lock.exists()


def test_a_directory_with_another_config_is_refused(tmp_path):
    prepare_experiment_dir(load_config(), tmp_path)
    prepare_experiment_dir(load_config(), tmp_path)  # same config: fine (resume)
    other = load_config(overrides={"experiment": {"epochs": 20}})
    with pytest.raises(ConfigError, match="another config"):
        prepare_experiment_dir(other, tmp_path)


def test_threads_split_between_jobs():
    cores = os.cpu_count() or 1
    assert LocalExecutor(jobs=1).threads_per_run() == cores
    assert LocalExecutor(jobs=2).threads_per_run() * 2 <= max(2, cores)
    assert LocalExecutor(jobs=2).threads_per_run(requested=3) == 3
