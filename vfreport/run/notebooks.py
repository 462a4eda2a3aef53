"""Executing notebooks with papermill: our interpreter's kernel, talking over IPC sockets.

Kept free of torch so that the report does not pay for importing it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def template_path(name: str) -> Path:
    """A notebook template shipped as package data (``templates/`` in the repository, installed as
    ``vfreport.templates``), as a real file path papermill can read."""
    from importlib.resources import files

    path = Path(str(files("vfreport.templates") / name))
    if not path.is_file():
        raise FileNotFoundError(f"vfreport's template {name} is missing from {path.parent}: reinstall vfreport")
    return path


def kernel_name() -> str:
    """The Jupyter kernel that runs notebooks: "python3" (jupyter_client starts it with this
    interpreter, ``sys.executable``) unless ``$VFREPORT_KERNEL`` names another."""
    return os.environ.get("VFREPORT_KERNEL", "python3")


def ipc_kernel_manager_class() -> type | None:
    """An AsyncKernelManager that talks over IPC (Unix sockets) instead of TCP ports (POSIX only)."""
    if os.name != "posix":
        return None
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            # An absolute socket path in a private folder per kernel: jupyter_client's default
            # ("kernel-ipc" in the cwd) lets parallel kernels pick the same socket files.
            return os.path.join(tempfile.mkdtemp(prefix="vfreport-kernel-"), "kernel-ipc")

    return IPCKernelManager


def execute_notebook(template: Path | str, output: Path | str, parameters: dict[str, Any],
                     cwd: Path | str | None = None, timeout_s: int | None = None) -> None:
    """papermill with IPC kernels and our interpreter's kernel; raises papermill's errors.

    Thread-safe: papermill's own ``cwd`` argument ``chdir``s the whole process, which breaks
    notebooks run in parallel threads, so paths are made absolute and the kernel alone is started
    in ``cwd`` (nbclient's ``resources.metadata.path``).
    """
    import papermill as pm

    kwargs: dict[str, Any] = {}
    kmc = ipc_kernel_manager_class()
    if kmc is not None:
        kwargs["kernel_manager_class"] = kmc
    if cwd is not None:
        kwargs["resources"] = {"metadata": {"path": str(Path(cwd).resolve())}}
    pm.execute_notebook(
        str(Path(template).resolve()), str(Path(output).resolve()), parameters=parameters, kernel_name=kernel_name(),
        progress_bar=False, log_output=False, start_timeout=300, execution_timeout=timeout_s,
        # every output is already on disk (atomically) when the last cell ends: no need to wait for
        # a graceful kernel exit, which costs about a second with torch loaded
        shutdown_kernel="immediate", **kwargs,
    )
