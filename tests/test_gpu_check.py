"""scripts/gpu-check.sh: it parses, and on a machine without CUDA it stops with one clear error
before running anything (its CUDA path runs only where a GPU is lent: docs/deployment.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu-check.sh"


def run_script(tmp_path: Path, path_dirs: list[Path], python: str = sys.executable) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]), "PYTHON": python}
    return subprocess.run(["bash", str(SCRIPT), str(tmp_path / "gpu.json")], env=env, capture_output=True,
                          text=True, timeout=120)


def test_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


@pytest.mark.skipif(any((Path(d) / "nvidia-smi").exists() for d in ("/usr/bin", "/bin")),
                    reason="this machine has nvidia-smi")
def test_without_nvidia_driver_it_fails_clearly_and_runs_nothing(tmp_path: Path) -> None:
    done = run_script(tmp_path, [])
    assert done.returncode == 3
    assert "no NVIDIA driver" in done.stderr and "nothing was run" in done.stderr
    assert not (tmp_path / "gpu.json").exists()


def test_with_a_cpu_only_torch_it_fails_clearly_and_runs_nothing(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch can use CUDA")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: Fake GPU (UUID: GPU-0)'\n")
    (fake / "nvidia-smi").chmod(0o755)
    done = run_script(tmp_path, [fake])
    assert done.returncode == 3
    assert "cannot use CUDA" in done.stderr and "nothing was run" in done.stderr
    assert not (tmp_path / "gpu.json").exists()
