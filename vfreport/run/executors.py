"""Executors: where run-all executes the training notebook of each (arm, seed).

One interface, a registry of backends (papermill's ``engines.py`` is the model):

- ``local`` (the default, no extra dependency): a pool of threads on this machine, each driving
  one papermill kernel (a process of its own);
- ``dask`` (``pip install 'vfreport[dask]'``): one dask task per run, executed by papermill inside
  a dask worker process; a LocalCluster of ``jobs`` single-threaded worker processes, or the
  cluster of a running scheduler (``scheduler=ADDRESS``).

Every executor writes to the experiment directory through the run's own files (status.json,
history.csv, checkpoints), so the runner reads progress and outcomes the same way whatever the
backend: the experiment directory and the window cache must be on storage every worker sees
(:meth:`Executor.check_storage` proves it before the runs start).

A backend is a subclass of :class:`Executor` registered with :data:`executors`::

    executors.register("mine", MyExecutor)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from vfreport.cache import default_cache_dir
from vfreport.errors import ConfigError, ExperimentError
from vfreport.experiment.layout import ExperimentDir, RunDir, now_iso
from vfreport.experiment.status import RunStatus
from vfreport.names import run_key
from vfreport.run.notebooks import execute_notebook

STORAGE_TOKEN = ".vfreport-storage-check"
SCHEDULER_TIMEOUT_S = 5.0
"""How long connecting to a ``--scheduler`` may take before run-all gives up (one error line)."""
WORKERS_TIMEOUT_S = 120.0
"""How long run-all waits for the first worker of a ``--scheduler`` that has none."""
STORAGE_CHECK_TIMEOUT_S = 60.0


# ---------------------------------------------------------------------------------------------
# one run (what every executor calls, in whatever process it runs)
# ---------------------------------------------------------------------------------------------


def describe_failure(exc: BaseException) -> dict[str, Any]:
    """status.json's error entry for a failed notebook: exception type, message and cell."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {"type": exc.ename, "message": str(exc.evalue), "cell": int(exc.cell_index),
                "exec_count": exc.exec_count}
    name = type(exc).__name__
    msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else name
    if name == "DeadKernelError":
        msg = f"the kernel died (killed or out of memory): {msg}"
    return {"type": name, "message": msg, "cell": None}


def run_one(exp: ExperimentDir, params: dict[str, Any], template: Path) -> RunStatus:
    """Execute one run's notebook; never raises for a failed run: records it and returns the status."""
    run = exp.run(params["arm"], params["seed"])
    run.root.mkdir(parents=True, exist_ok=True)
    try:
        execute_notebook(template, run.notebook, params, cwd=run.root)
    except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, the others go on
        status = run.read_status()
        if status.state == "failed" and (status.error or {}).get("type") == "KeyboardInterrupt":
            return status  # run-all was interrupted (Ctrl-C) and said so first: that is the reason
        return run.write_status(state="failed", error=describe_failure(exc), ended=now_iso())
    return run.read_status()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_kernel(run: RunDir) -> int | None:
    """The pid of the kernel recorded as running ``run`` on this host, if it is still alive."""
    try:
        status = run.read_status()
    except (OSError, ExperimentError):
        return None
    pid = status.pid
    if status.state != "running" or not isinstance(pid, int) or pid == os.getpid():
        return None
    if status.host not in (None, socket.gethostname()) or not pid_alive(pid):
        return None
    return pid


def interrupt_kernels(exp_root: str | Path, keys: Iterable[tuple[str, int]], children_only: bool = False) -> int:
    """Send SIGINT to the live kernels of the runs ``keys`` (their pids are in status.json).

    ``children_only``: only kernels this process started (a dask worker interrupts its own kernels).
    Returns how many kernels were interrupted."""
    import signal

    exp = ExperimentDir(exp_root)
    n = 0
    for arm, seed in keys:
        pid = running_kernel(exp.run(arm, seed))
        if pid is None:
            continue
        if children_only and _parent_pid(pid) != os.getpid():
            continue
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
            n += 1
    return n


def _parent_pid(pid: int) -> int | None:
    try:
        import psutil

        return psutil.Process(pid).ppid()
    except Exception:  # noqa: BLE001 - psutil missing, or the process is gone
        return None


def _wait_for_previous_kernel(run: RunDir, timeout: float = 30.0) -> None:
    """Before a retried run starts: let the kernel of the attempt whose worker died go away.

    Its kernel notices its parent is gone within a second (ipykernel's parent poller) and exits;
    one that outlives ``timeout`` is killed, so that two kernels never write the same run."""
    import signal

    pid = running_kernel(run)
    if pid is None or _parent_pid(pid) == os.getpid():
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def check_visible(paths_and_tokens: list[tuple[str, str]]) -> str | None:
    """On a worker: None when every ``path`` holds its ``token``, else what is wrong (one line)."""
    for path, token in paths_and_tokens:
        p = Path(path)
        try:
            found = p.read_text(encoding="utf-8").strip()
        except OSError as e:
            return f"cannot read {p} ({e.strerror or e}): {p.parent} is not on storage this worker sees"
        if found != token:
            return f"{p.parent} on this worker is another directory (its {p.name} differs)"
    return None


def run_task(exp_root: str, params: dict[str, Any], template: str, env: dict[str, str | None]) -> RunStatus:
    """A dask task: one run's notebook, executed with papermill inside the worker process.

    ``env``: variables set (or, None, removed) before the kernel starts: the window cache the
    client prepared, and the client's values of what the dask nanny sets for its worker (one
    thread for numpy, ``MALLOC_TRIM_THRESHOLD_``: a kernel inheriting the latter trains at half speed)."""
    for name, value in env.items():  # the kernel inherits the worker's environment
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    exp = ExperimentDir(exp_root)
    if not exp.config.is_file():
        raise ExperimentError(f"worker {socket.gethostname()} cannot see the experiment directory {exp_root}: "
                              "put it on storage every worker sees")
    _wait_for_previous_kernel(exp.run(params["arm"], params["seed"]))
    return run_one(exp, params, Path(template))


# ---------------------------------------------------------------------------------------------
# the interface
# ---------------------------------------------------------------------------------------------


class Executor:
    """Runs training notebooks: ``submit`` one run, ``wait`` for some, ``interrupt`` on Ctrl-C.

    Used as a context manager: entering acquires what the backend needs (a cluster, a
    connection), leaving releases it. Subclasses set :attr:`name` and :attr:`options` (the
    keyword options they accept besides ``jobs``)."""

    name: ClassVar[str] = "?"
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, jobs: int = 2, **options: Any) -> None:
        unknown = sorted(k for k, v in options.items() if k not in self.options and v not in (None, {}, ""))
        if unknown:
            raise ConfigError(f"executor {self.name!r} does not take {', '.join('--' + k for k in unknown)}")
        if jobs < 1:
            raise ConfigError(f"--jobs/--workers must be >= 1, got {jobs}")
        self.jobs = jobs

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def check(self) -> None:
        """Fail fast (before the experiment directory is touched) when the backend cannot work."""

    def describe(self) -> dict[str, Any]:
        """What the manifest records about where the runs ran."""
        return {"name": self.name, "jobs": self.jobs}

    def threads_per_run(self, requested: int = 0) -> int:
        """torch threads per run (0: torch's default on the machine that runs it)."""
        if requested > 0:
            return requested
        return max(1, (os.cpu_count() or 1) // self.jobs)

    def check_storage(self, paths: list[Path]) -> None:
        """Raise ExperimentError unless whatever runs the notebooks sees ``paths`` (folders)."""

    def submit(self, exp: ExperimentDir, params: dict[str, Any], template: Path) -> Any:
        raise NotImplementedError

    def wait(self, handles: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        """(finished, pending) after at most ``timeout`` seconds."""
        raise NotImplementedError

    def result(self, handle: Any) -> RunStatus:
        """The run's status once its handle finished (a failed run's status says why)."""
        raise NotImplementedError

    def cancel(self, handles: set[Any]) -> None:
        """Runs not started yet never start."""

    def interrupt(self, exp: ExperimentDir, keys: list[tuple[str, int]]) -> None:
        """SIGINT to the kernels of running runs (Ctrl-C)."""
        interrupt_kernels(exp.root, keys)


class Executors:
    """The registry of executors (``vfreport run-all --executor NAME``)."""

    def __init__(self) -> None:
        self._executors: dict[str, type[Executor]] = {}

    def register(self, name: str, executor: type[Executor]) -> type[Executor]:
        self._executors[name] = executor
        return executor

    def names(self) -> list[str]:
        return list(self._executors)

    def get(self, name: str) -> type[Executor]:
        try:
            return self._executors[name]
        except KeyError:
            raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(self._executors)}") from None

    def create(self, name: str, jobs: int = 2, **options: Any) -> Executor:
        return self.get(name)(jobs=jobs, **options)


executors = Executors()


# ---------------------------------------------------------------------------------------------
# local: threads driving papermill kernels on this machine
# ---------------------------------------------------------------------------------------------


class LocalExecutor(Executor):
    """``jobs`` threads, each driving one papermill kernel (a process) on this machine."""

    name = "local"

    def __enter__(self) -> LocalExecutor:
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="vfreport-run")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, exp: ExperimentDir, params: dict[str, Any], template: Path) -> Any:
        return self._pool.submit(run_one, exp, params, template)

    def wait(self, handles: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        done, pending = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return set(done), set(pending)

    def result(self, handle: Any) -> RunStatus:
        return handle.result()

    def cancel(self, handles: set[Any]) -> None:
        for f in handles:
            f.cancel()


executors.register("local", LocalExecutor)


# ---------------------------------------------------------------------------------------------
# dask: one task per run on a LocalCluster or a running scheduler
# ---------------------------------------------------------------------------------------------


def parse_resources(spec: str | dict[str, float] | None) -> dict[str, float]:
    """``"GPU=1,MEM=2"`` (dask-worker's ``--resources`` syntax) -> ``{"GPU": 1.0, "MEM": 2.0}``."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        return {str(k): float(v) for k, v in spec.items()}
    out: dict[str, float] = {}
    for item in spec.replace(" ", ",").split(","):
        if not item:
            continue
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--resources: expected NAME=AMOUNT[,NAME=AMOUNT], got {item!r}") from None
    return out


def _nanny_environ() -> list[str]:
    """The variables a dask nanny sets for its worker process (``distributed.nanny.pre-spawn-environ``)."""
    import dask

    return sorted({*(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}), "PYTHONHASHSEED"})


def needs_gpu(params: dict[str, Any]) -> bool:
    return str(params.get("device", "")).startswith("cuda")


@dataclass(eq=False)
class DaskRun:
    """A run of the dask executor: queued by run-all until a worker thread is free, then a future."""

    key: str
    args: tuple
    resources: dict[str, float] | None = None
    future: Any = None
    cancelled: bool = False


class DaskExecutor(Executor):
    """One dask task per run. Without ``scheduler``: a LocalCluster of ``jobs`` worker processes,
    one thread each (declaring ``resources``); with it: that scheduler's workers."""

    name = "dask"
    options = ("scheduler", "resources")

    def __init__(self, jobs: int = 2, scheduler: str | None = None, resources: str | dict | None = None) -> None:
        super().__init__(jobs)
        self.scheduler = scheduler or None
        self.resources = parse_resources(resources)
        self._client: Any = None
        self._starting: Any = None  # the LocalCluster being started in the background
        self.cluster: Any = None
        self._queued: list[DaskRun] = []
        self._submitted: list[DaskRun] = []
        self.kernel_env: dict[str, str | None] = {}

    # -- connection -------------------------------------------------------------------------

    def check(self) -> None:
        """An unreachable ``scheduler`` is one error within :data:`SCHEDULER_TIMEOUT_S` (a plain TCP
        connection first: distributed's own client would retry, then take seconds to clean up)."""
        if not self.scheduler:
            return
        scheme, sep, rest = self.scheduler.rpartition("://")
        if (sep and scheme not in ("tcp", "tls")) or ":" not in rest:
            return  # another transport, or a scheduler name: distributed's client checks it
        host, _, port = rest.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=SCHEDULER_TIMEOUT_S):
                pass
        except (OSError, ValueError) as e:
            reason = "timed out" if isinstance(e, TimeoutError) else (getattr(e, "strerror", None) or str(e))
            raise ExperimentError(f"cannot reach the dask scheduler at {self.scheduler}: {reason}") from None

    def __enter__(self) -> DaskExecutor:
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--executor dask needs dask.distributed: pip install 'vfreport[dask]'") from None
        # what the kernels get back in place of the nanny's settings (a nanny started here also
        # writes them into this process's environment)
        self.kernel_env = {name: os.environ.get(name) for name in _nanny_environ()}
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
            except Exception as e:  # noqa: BLE001 - whatever answered there is no dask scheduler
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ExperimentError(f"cannot reach the dask scheduler at {self.scheduler}: {reason}") from None
            try:
                self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except TimeoutError:
                self.client.close()
                raise ExperimentError(f"the dask scheduler at {self.scheduler} has no worker "
                                      f"(none joined in {WORKERS_TIMEOUT_S:g} s)") from None
        else:  # started in the background: run-all prepares the runs meanwhile

            def start() -> tuple[Any, Any]:
                cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR,
                                       resources=self.resources or None, preload=[__name__])
                return cluster, Client(cluster, set_as_default=False)

            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vfreport-dask-start")
            self._starting = pool.submit(start)
            pool.shutdown(wait=False)
        return self

    @property
    def client(self) -> Any:
        """The dask client (waits for the LocalCluster run-all started)."""
        if self._client is None and self._starting is not None:
            self.cluster, self._client = self._starting.result()
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    @property
    def dashboard(self) -> str | None:
        return getattr(self.client, "dashboard_link", None)

    def describe(self) -> dict[str, Any]:
        if self.scheduler:
            workers = len(self.client.scheduler_info().get("workers", {})) if self.client is not None else 0
        else:
            workers = self.jobs
        return {"name": self.name, "scheduler": self.scheduler or "LocalCluster", "workers": workers,
                "resources": self.resources or None}

    def threads_per_run(self, requested: int = 0) -> int:
        if requested > 0:
            return requested
        if self.scheduler:
            return 0  # the worker's machine decides (torch's default)
        return super().threads_per_run(requested)

    # -- storage ----------------------------------------------------------------------------

    def check_storage(self, paths: list[Path]) -> None:
        token = secrets.token_hex(8)
        files = []
        for folder in paths:
            folder.mkdir(parents=True, exist_ok=True)
            files.append(folder / f"{STORAGE_TOKEN}-{token}")  # one per check: run-alls may share the cache
            files[-1].write_text(token, encoding="utf-8")
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            future = pool.submit(self.client.run, check_visible, [(str(f), token) for f in files], on_error="return")
            answers = future.result(timeout=STORAGE_CHECK_TIMEOUT_S)
        except TimeoutError:
            raise ExperimentError(f"the dask workers did not answer the storage check of "
                                  f"{', '.join(map(str, paths))} within {STORAGE_CHECK_TIMEOUT_S:g} s") from None
        finally:
            pool.shutdown(wait=False)
            for f in files:
                f.unlink(missing_ok=True)
        for worker, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                answer = f"{type(answer).__name__}: {answer}"
            if answer:
                raise ExperimentError(f"dask worker {worker} cannot use {', '.join(map(str, paths))}: {answer}. "
                                      "The experiment directory (--out) and the window cache ($VFREPORT_CACHE_DIR) "
                                      "must be on storage every worker sees, at the same path")

    # -- runs -------------------------------------------------------------------------------
    #
    # A run is long and its duration unknown to the scheduler, which would queue a second run on a
    # busy worker while another worker idles. So run-all keeps the runs itself and submits one
    # whenever a worker thread is free (the cluster may grow or shrink meanwhile).

    def submit(self, exp: ExperimentDir, params: dict[str, Any], template: Path) -> DaskRun:
        key = run_key(params["arm"], params["seed"])
        resources = {"GPU": 1} if needs_gpu(params) else None
        if resources and not self._some_worker_has("GPU"):
            raise ConfigError(f"run {key} asks for a GPU (device = {params['device']!r}) but no dask "
                              "worker declares one: start workers with --resources GPU=1 "
                              "(or pass --resources GPU=1 to run-all for its local cluster)")
        env = {**self.kernel_env, "VFREPORT_CACHE_DIR": str(default_cache_dir())}
        run = DaskRun(key=f"vfreport-{key.replace('/', '-')}-{secrets.token_hex(4)}",
                      args=(str(exp.root), params, str(template), env), resources=resources)
        self._queued.append(run)
        self._top_up()
        return run

    def _top_up(self) -> None:
        if not self._queued:
            return
        busy = sum(1 for r in self._submitted if not r.future.done())
        free = sum(self.client.nthreads().values()) - busy
        while self._queued and free > 0:
            run = self._queued.pop(0)
            run.future = self.client.submit(run_task, *run.args, key=run.key, pure=False, resources=run.resources)
            self._submitted.append(run)
            free -= 1

    def _some_worker_has(self, resource: str) -> bool:
        workers = self.client.scheduler_info().get("workers", {})
        return any((w.get("resources") or {}).get(resource, 0) >= 1 for w in workers.values())

    def wait(self, handles: set[DaskRun], timeout: float) -> tuple[set[DaskRun], set[DaskRun]]:
        from distributed import wait as dask_wait

        self._top_up()
        ended = {h for h in handles if h.cancelled or (h.future is not None and h.future.done())}
        running = {h.future: h for h in handles if h.future is not None and h not in ended}
        if not ended and running:
            try:
                with self.client.as_current():
                    done, _ = dask_wait(list(running), timeout=timeout, return_when="FIRST_COMPLETED")
                ended = {running[f] for f in done}
            except TimeoutError:
                pass
            except Exception:  # noqa: BLE001 - cancelled meanwhile (FuturesCancelledError): ended too
                ended = {h for h in running.values() if h.future.done()}
        elif not ended:
            time.sleep(timeout)  # every run queued: no worker thread yet
        return ended, set(handles) - ended

    def result(self, handle: DaskRun) -> RunStatus:
        params = handle.args[1]
        if handle.future is None:
            return RunStatus(params["arm"], int(params["seed"]), "failed",
                             error={"type": "CancelledError", "message": "never started", "cell": None})
        try:
            return handle.future.result()
        except Exception as exc:  # noqa: BLE001 - the task itself failed (e.g. the worker cannot see the folder)
            return RunStatus(params["arm"], int(params["seed"]), "failed", error=describe_failure(exc))

    def cancel(self, handles: set[DaskRun]) -> None:
        self._queued.clear()
        for h in handles:
            h.cancelled = True
        with contextlib.suppress(Exception):
            self.client.cancel([h.future for h in handles if h.future is not None])

    def interrupt(self, exp: ExperimentDir, keys: list[tuple[str, int]]) -> None:
        # each worker interrupts the kernels it started (they run on its machine)
        with contextlib.suppress(Exception):
            self.client.run(interrupt_kernels, str(exp.root), keys, True, on_error="ignore")


executors.register("dask", DaskExecutor)


def dask_setup(worker: Any) -> None:
    """Run by dask in each worker process of run-all's LocalCluster (a ``preload`` of this module).

    The workers share run-all's process group, so a Ctrl-C in the terminal reaches them too: they
    ignore it (a KeyboardInterrupt would stop a worker's event loop and leave its kernel running);
    run-all cancels the tasks and interrupts the kernels itself."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
