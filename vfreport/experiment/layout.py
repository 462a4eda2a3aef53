"""The experiment directory contract (docs/experiment-directory.md) and atomic file writes.

    runs/<experiment>/
      experiment.toml, manifest.json, results.json, report.md, report.html, review.ipynb,
      figures/, model.onnx
      <arm>/seed-<k>/
        train.ipynb, params.json, history.csv, val_predictions.parquet, status.json,
        checkpoints/epoch-0005.pt … best.pt last.pt

Every writer goes through :func:`atomic_write_bytes` (temporary file in the same folder, fsync,
``os.replace``) so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfreport.errors import ExperimentError
from vfreport.experiment.history import history_csv
from vfreport.experiment.status import RunStatus
from vfreport.names import SAFE_NAME, check_name, run_key

if TYPE_CHECKING:
    import pandas as pd

    from vfreport.config import ExperimentConfig

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def now_iso() -> str:
    """The current UTC time as ISO 8601 to the second: every timestamp in the experiment directory."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    return atomic_write_with(path, lambda f: f.write(data))


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def atomic_write_with(path: Path | str, writer: Callable[[Any], Any]) -> Path:
    """Call ``writer(binary_file)`` on a temporary file, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def read_json(path: Path | str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; ExperimentError naming the file when it is unreadable or not an object."""
    try:
        data = read_json(path)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ExperimentError(f"{path}: invalid {what} JSON: {e}") from e
    if not isinstance(data, dict):
        raise ExperimentError(f"{path}: {what} must be a JSON object, got {type(data).__name__}")
    return data


# ---------------------------------------------------------------------------------------------
# the directory
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunDir:
    """One (arm, seed) run folder."""

    root: Path
    arm: str
    seed: int

    @property
    def notebook(self) -> Path:
        return self.root / "train.ipynb"

    @property
    def params(self) -> Path:
        return self.root / "params.json"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def predictions(self) -> Path:
        return self.root / "val_predictions.parquet"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def checkpoint(self, epoch: int) -> Path:
        return self.checkpoints / f"epoch-{epoch:04d}.pt"

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.pt"

    def write_history(self, history: pd.DataFrame) -> Path:
        """Write history.csv (atomically) in its column order: :func:`~vfreport.experiment.history.history_csv`."""
        return atomic_write_text(self.history, history_csv(history, str(self.history)))

    def read_status(self) -> RunStatus:
        """The run's status.json (``pending`` when there is none); ExperimentError when unreadable."""
        if not self.status.exists():
            return RunStatus(self.arm, self.seed)
        return RunStatus.from_json(read_json_object(self.status, "status"), self.arm, self.seed, self.status)

    def write_status(self, *, fresh: bool = False, **fields: Any) -> RunStatus:
        """Set ``fields`` (:class:`RunStatus` fields) in status.json, atomically, and return the new
        status: over the current one, or over an empty one with ``fresh=True``."""
        status = dataclasses.replace(RunStatus(self.arm, self.seed) if fresh else self.read_status(), **fields)
        atomic_write_json(self.status, status.to_json())
        return status


@dataclass(frozen=True)
class ExperimentDir:
    """Paths of one experiment directory; creates nothing until asked."""

    root: Path

    def __init__(self, root: Path | str) -> None:
        object.__setattr__(self, "root", Path(root))

    def require(self) -> ExperimentDir:
        """Self, after checking that the folder exists and holds experiment.toml (ExperimentError)."""
        if not self.root.is_dir():
            raise ExperimentError(f"experiment directory {str(self.root)!r} does not exist")
        if not self.config.is_file():
            raise ExperimentError(f"{self.config}: missing (is {str(self.root)!r} an experiment directory?)")
        return self

    @property
    def config(self) -> Path:
        return self.root / "experiment.toml"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def results(self) -> Path:
        return self.root / "results.json"

    @property
    def report_md(self) -> Path:
        return self.root / "report.md"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def review(self) -> Path:
        return self.root / "review.ipynb"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def lock(self) -> Path:
        return self.root / ".vfreport.lock"

    def write_config(self, cfg: ExperimentConfig) -> Path:
        """Write experiment.toml (atomically): the one writer of it (run-all, the importer, the
        sequential design's growing seed list, the benchmarks)."""
        return atomic_write_text(self.config, cfg.to_toml())

    def run(self, arm: str, seed: int) -> RunDir:
        check_name(arm, "arm name")
        return RunDir(self.root / run_key(arm, seed), arm, int(seed))

    def runs(self) -> Iterator[RunDir]:
        """Every ``<arm>/seed-<k>`` folder present on disk, sorted by arm then seed."""
        if not self.root.is_dir():
            return
        found = []
        for arm_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and SAFE_NAME.match(p.name)):
            for seed_dir in arm_dir.iterdir():
                m = re.fullmatch(r"seed-(\d+)", seed_dir.name)
                if m and seed_dir.is_dir():
                    found.append(RunDir(seed_dir, arm_dir.name, int(m.group(1))))
        yield from sorted(found, key=lambda r: (r.arm, r.seed))
