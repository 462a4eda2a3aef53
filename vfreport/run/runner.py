"""`run-all`: execute the training notebook with papermill for every (arm, seed).

- an executor (:mod:`vfreport.run.executors`: ``local`` threads, or ``dask`` tasks on a
  LocalCluster or a running scheduler) runs the notebooks, ``jobs`` at a time; torch threads are
  split so that jobs x threads <= cores;
- before any kernel starts: whatever runs the notebooks must see the experiment directory and
  the window cache, an arm whose hub cannot be reached fails all its runs with one message, and
  the windows are prepared once;
- a run whose status is ``completed`` (with a full history) is skipped; an unfinished one
  resumes from its ``last.pt`` (the training loop does that);
- a failed run (exception in a cell, dead kernel) is recorded in its ``status.json`` with the
  cell and the exception, the others go on, and the caller exits non-zero;
- the experiment directory is locked (a lock file holding the pid; a stale lock, whose process is
  gone, is taken over) so two ``run-all`` never write the same runs;
- kernels talk to the runner over IPC sockets, not TCP ports, where the platform allows.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from vfreport import __version__
from vfreport.cache import windows_cache_dir
from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.data.sources import check_hub
from vfreport.data.windows import cache_key, cache_path, prepare_arm
from vfreport.errors import (
    ConfigError,
    ExperimentError,
    ExperimentLockedError,
    HistoryError,
    HubUnavailableError,
    VfreportError,
)
from vfreport.experiment.history import read_history
from vfreport.experiment.layout import ExperimentDir, RunDir, now_iso, read_json
from vfreport.experiment.manifest import write_manifest
from vfreport.names import run_key
from vfreport.run.executors import executors, pid_alive, running_kernel
from vfreport.run.notebooks import template_path
from vfreport.run.parameters import check_parameters, job_parameters

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
TRAIN_TEMPLATE = template_path("train.ipynb")
PACKAGES = ["torch", "numpy", "scipy", "pandas", "pyarrow", "datasets", "papermill", "nbconvert",
            "seaborn", "matplotlib", "soundfile", "onnx", "onnxruntime"]


# ---------------------------------------------------------------------------------------------
# lock
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def experiment_lock(exp: ExperimentDir) -> Iterator[None]:
    """Hold ``<exp>/.vfreport.lock`` (O_EXCL create holding our pid); take over stale locks."""
    exp.root.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(exp.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                info = read_json(exp.lock)
                pid = int(info["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                pid = -1
            if pid > 0 and pid != os.getpid() and pid_alive(pid) and info.get("host") == socket.gethostname():
                raise ExperimentLockedError(
                    f"{exp.root} is in use by another vfreport process (pid {pid}, since {info.get('since')}); "
                    f"wait for it to finish, or remove {exp.lock} if that process is gone"
                ) from None
            exp.lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f'{{"pid": {os.getpid()}, "host": "{socket.gethostname()}", "since": "{now_iso()}"}}\n')
        break
    else:  # pragma: no cover - lost a race twice
        raise ExperimentLockedError(f"could not lock {exp.root}")
    try:
        yield
    finally:
        exp.lock.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------------------------


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PACKAGE_ROOT,
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "vfreport": __version__}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def record_environment(exp: ExperimentDir, cfg: ExperimentConfig, config_file: str | None, **fields: Any) -> None:
    """Write manifest.json with where and with what run-all trains, and ``fields`` (Manifest fields)."""
    from vfreport.run.job import hardware  # torch: not needed to fail fast on a bad option
    write_manifest(exp, vfreport_version=__version__, git_commit=git_commit(), python=sys.version.split()[0],
                   packages=package_versions(), hardware=hardware(), config_file=config_file,
                   experiment=cfg.name, **fields)


# ---------------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------------


def is_complete(run: RunDir, epochs: int) -> bool:
    if run.read_status().state != "completed" or not run.history.exists():
        return False
    try:
        return int(read_history(run.history)["epoch"].max()) >= epochs
    except HistoryError:  # unreadable or invalid: train it again (it resumes from last.pt)
        return False


# ---------------------------------------------------------------------------------------------
# run-all
# ---------------------------------------------------------------------------------------------


@dataclass
class RunAllResult:
    exp_dir: Path
    completed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


def prepare_experiment_dir(cfg: ExperimentConfig, out: Path) -> ExperimentDir:
    """Create the directory and its experiment.toml; refuse a directory holding another config."""
    exp = ExperimentDir(out)
    exp.root.mkdir(parents=True, exist_ok=True)
    if exp.config.exists():
        existing = read_experiment_config(exp.config)
        if existing.to_dict() != cfg.to_dict():
            raise ConfigError(
                f"{exp.root} already holds an experiment with another config ({exp.config}); "
                "resume it with the same config, or choose another --out"
            )
    else:
        exp.write_config(cfg)
    return exp


def unreachable_arms(cfg: ExperimentConfig, cache_dir: Path) -> dict[str, dict[str, Any]]:
    """Arms whose remote source cannot be reached, checked once (per endpoint) before any kernel
    starts: arm name -> the error entry every run of that arm records. An arm whose windows are
    already in the cache needs no source and is never listed."""
    def cached(arm: Any) -> bool:
        return all(cache_path(cache_dir, arm, split, cache_key(arm, split, n, cfg.train.window_seconds, role)).exists()
                   for split, n, role in ((arm.train_split, arm.train_windows, "train"),
                                          (arm.val_split, arm.val_windows, "val")))

    verdict: str | None = None
    checked = False
    out: dict[str, dict[str, Any]] = {}
    for arm in cfg.arms.values():
        if arm.source != "hub" or cached(arm):
            continue
        if not checked:
            checked = True
            try:
                check_hub()
            except HubUnavailableError as e:
                verdict = str(e)
        if verdict is not None:
            out[arm.name] = {"type": "HubUnavailableError", "message": verdict, "cell": None}
    return out


def prepare_data(cfg: ExperimentConfig, jobs: int, progress: bool, skip: set[str] = frozenset()) -> None:
    """Build (or find in the cache) every arm's model-ready windows before the notebooks start."""
    arms = [arm for arm in cfg.arms.values() if arm.name not in skip]
    if not arms:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(arms)))) as pool:
        futures = {arm.name: pool.submit(prepare_arm, arm, cfg.train.window_seconds,
                                         windows_cache_dir(), progress) for arm in arms}
        for name, f in futures.items():
            try:
                f.result()
            except VfreportError as e:  # the arm's notebooks meet the same error and record it per run
                tqdm.write(f"data for arm {name!r} could not be prepared: {e}")


def run_all(cfg: ExperimentConfig, out: Path, jobs: int = 2, progress: bool = True,
            config_file: str | None = None, template: Path = TRAIN_TEMPLATE, executor: str = "local",
            **executor_options: Any) -> RunAllResult:
    """Train every (arm, seed) of ``cfg`` into ``out`` through papermill; see the module docstring.

    ``executor`` names a backend of :data:`vfreport.run.executors.executors` (``local``, ``dask``);
    ``executor_options`` are its options (dask: ``scheduler``, ``resources``); ``jobs`` is its
    parallelism (local threads, or the dask LocalCluster's worker processes)."""
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    if not template.exists():
        raise ExperimentError(f"training notebook template not found: {template}")
    backend = executors.create(executor, jobs=jobs, **executor_options)
    backend.check()

    t0 = time.perf_counter()
    exp = prepare_experiment_dir(cfg, Path(out).resolve())
    result = RunAllResult(exp.root)
    with experiment_lock(exp), backend:
        record_environment(exp, cfg, config_file, started=now_iso(), ended=None, executor=backend.describe())
        cache_dir = windows_cache_dir()
        backend.check_storage([exp.root, cache_dir])
        dashboard = getattr(backend, "dashboard", None)
        if dashboard and progress:
            tqdm.write(f"dask dashboard: {dashboard}")
        threads = backend.threads_per_run(cfg.train.threads)
        todo: list[dict[str, Any]] = []
        for arm in cfg.arms.values():
            for seed in cfg.seeds:
                run = exp.run(arm.name, seed)
                if is_complete(run, cfg.epochs):
                    result.skipped.append(run_key(arm.name, seed))
                    continue
                params = job_parameters(exp.root.resolve(), arm, seed, cfg.epochs, cfg.checkpoint_every,
                                        cfg.train, threads)
                params["progress"] = False
                check_parameters(params)
                run.root.mkdir(parents=True, exist_ok=True)
                run.write_status(state="pending", epochs=cfg.epochs, error=None)
                todo.append(params)
        unreachable = unreachable_arms(cfg, cache_dir) if todo else {}
        for p in [p for p in todo if p["arm"] in unreachable]:  # fail fast: no kernel for an unreachable source
            err = unreachable[p["arm"]]
            exp.run(p["arm"], p["seed"]).write_status(state="failed", ended=now_iso(), error=err)
            result.failed[run_key(p["arm"], p["seed"])] = err
            todo.remove(p)
        for name, err in unreachable.items():
            tqdm.write(f"arm {name!r}: every run failed: {err['message']}")
        if todo:
            prepare_data(cfg, jobs, progress, skip=set(unreachable))
        try:
            _execute_all(exp, todo, backend, cfg.epochs, progress, result, template)
        finally:
            record_environment(exp, cfg, config_file, ended=now_iso(), seconds=round(time.perf_counter() - t0, 2))
    result.seconds = time.perf_counter() - t0
    return result


INTERRUPTED = {"type": "KeyboardInterrupt", "message": "interrupted by the user", "cell": None}


def _execute_all(exp: ExperimentDir, todo: list[dict[str, Any]], backend: Any, epochs: int, progress: bool,
                 result: RunAllResult, template: Path) -> None:
    total_epochs = len(todo) * epochs
    bar = tqdm(total=total_epochs, desc="run-all", unit="epoch", disable=not progress or not todo)
    keys = [(p["arm"], p["seed"]) for p in todo]

    def refresh() -> None:  # progress from the runs' status.json, written by whichever machine runs them
        done = 0
        for arm, seed in keys:
            with contextlib.suppress(OSError, ExperimentError):
                done += exp.run(arm, seed).read_status().last_epoch or 0
        bar.n = min(total_epochs, done)
        bar.set_postfix(failed=len(result.failed))
        bar.refresh()

    def collect(finished: set[Any]) -> None:
        for h in finished:
            key, (arm, seed) = handles[h]
            status = backend.result(h)
            if status.state == "completed":
                result.completed.append(key)
                continue
            err = status.error or {"type": "unknown", "message": "run did not complete", "cell": None}
            run = exp.run(arm, seed)
            if run.read_status().state in ("pending", "running"):  # the task died before recording it
                run.write_status(state="failed", ended=now_iso(), error=err)
            result.failed[key] = err
            bar.write(f"run {key} failed: {err.get('type')}: {err.get('message')}")

    handles: dict[Any, tuple[str, tuple[str, int]]] = {}
    try:
        for p in todo:
            handles[backend.submit(exp, p, template)] = (run_key(p["arm"], p["seed"]), (p["arm"], p["seed"]))
        pending = set(handles)
        while pending:
            finished, pending = backend.wait(pending, timeout=1.0)
            collect(finished)
            refresh()
    except KeyboardInterrupt:
        # Ctrl-C: nothing new starts; running kernels are interrupted (checkpoints are atomic) and
        # their runs recorded as failed with the reason, so the next run-all resumes them.
        interrupted = [(a, s) for a, s in keys if exp.run(a, s).read_status().state in ("pending", "running")]
        backend.cancel(set(handles))
        _wait_until_stopped(exp, keys, backend, timeout=60)
        left, deadline = set(handles), time.monotonic() + 30
        while left and time.monotonic() < deadline:  # the runs' own failure records are written
            _, left = backend.wait(left, timeout=1.0)
        for arm, seed in interrupted:
            run = exp.run(arm, seed)
            status = run.read_status()
            if status.state != "completed" and (status.error or {}).get("type") != INTERRUPTED["type"]:
                run.write_status(state="failed", ended=now_iso(), error=INTERRUPTED)
        raise
    finally:
        bar.close()


def _wait_until_stopped(exp: ExperimentDir, keys: list[tuple[str, int]], backend: Any, timeout: float) -> None:
    """Interrupt the kernels of ``keys`` until none is left running (an interrupted kernel records
    its failure); the interrupt is repeated every few seconds, for a kernel that missed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backend.interrupt(exp, keys)
        again = time.monotonic() + 10.0
        while time.monotonic() < min(again, deadline):
            if all(running_kernel(exp.run(a, s)) is None for a, s in keys):
                return
            time.sleep(0.1)
