"""manifest.json: how an experiment directory came to be (docs/experiment-directory.md).

:class:`Manifest` is its one schema and :func:`write_manifest` its one writer: run-all records the
environment it trains in and when it started and ended, the importer records which files it
imported; both recount ``runs`` from the runs' status.json.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from vfreport import __version__
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, read_json_object
from vfreport.experiment.status import RunState
from vfreport.names import run_key


@dataclass(frozen=True)
class Manifest:
    """The content of manifest.json.

    ``git_commit``, ``python``, ``packages`` and ``hardware`` describe where run-all trained (unknown,
    so empty, for imported runs); ``executor`` is run-all's executor, ``imports`` maps an imported
    run's key to ``{"file", "imported", "vfreport_version"}``; ``runs`` maps every run's key
    (:func:`~vfreport.names.run_key`) to its state. ``source`` is ``"import"`` once something was
    imported. Keys written by other tools are kept in ``extra``.
    """

    vfreport_version: str = __version__
    git_commit: str | None = None
    python: str | None = None
    packages: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    config_file: str | None = None
    experiment: str | None = None
    source: Literal["import"] | None = None
    started: str | None = None
    ended: str | None = None
    seconds: float | None = None
    executor: dict[str, Any] | None = None
    imports: dict[str, dict[str, Any]] | None = None
    runs: dict[str, RunState] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to manifest.json (``source``, ``executor``, ``imports`` and
        ``seconds`` only when set)."""
        optional = ("source", "executor", "imports", "seconds")
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **{k: v for k, v in out.items() if k not in optional or v is not None}}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Manifest:
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in obj.items() if k in names},
                   extra={k: v for k, v in obj.items() if k not in names})


def read_manifest(exp: ExperimentDir) -> Manifest | None:
    """The experiment's manifest.json, None if it has none (ExperimentError when unreadable)."""
    if not exp.manifest.exists():
        return None
    return Manifest.from_json(read_json_object(exp.manifest, "manifest"))


def write_manifest(exp: ExperimentDir, **fields: Any) -> Manifest:
    """Set ``fields`` (:class:`Manifest` fields) over the current manifest.json (or a new one), recount
    ``runs`` from the runs' status.json, write it atomically and return it."""
    manifest = dataclasses.replace(read_manifest(exp) or Manifest(), **fields)
    manifest = dataclasses.replace(manifest, runs={run_key(r.arm, r.seed): r.read_status().state for r in exp.runs()})
    atomic_write_json(exp.manifest, manifest.to_json())
    return manifest
