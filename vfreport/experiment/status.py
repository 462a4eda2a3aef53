"""status.json: one run's state and what its run recorded (docs/experiment-directory.md).

:class:`RunStatus` is the one record of it: :meth:`RunStatus.from_json` the one reader and
:meth:`RunStatus.to_json` the one writer, called by :meth:`RunDir.read_status
<vfreport.experiment.layout.RunDir.read_status>` and :meth:`RunDir.write_status
<vfreport.experiment.layout.RunDir.write_status>`. Training, run-all, the executors, the importer and
the benchmarks change a status through ``write_status(field=value, ...)``, so a misspelt field is a
TypeError rather than a new key nobody reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from vfreport.errors import ExperimentError

RunState = Literal["pending", "running", "completed", "failed"]
RUN_STATES: tuple[RunState, ...] = get_args(RunState)
"""``pending`` (never started, or queued again), ``running``, ``completed``, ``failed`` (``error`` says why)."""

_JSON_NAMES = {"import_": "import"}
"""Fields whose JSON key is a Python keyword."""


@dataclass(frozen=True)
class RunStatus:
    """The content of one ``<arm>/seed-<k>/status.json``.

    ``data`` and ``test`` are what training measured about the run's windows and its held-out test
    split (the analysis reads them); ``error`` is ``{"type", "message", "cell", ...}`` of a failed run;
    ``source``, ``imported`` and ``import_`` (JSON ``"import"``) describe an imported run. Keys
    written by other tools are kept in ``extra`` and written back unchanged.
    """

    arm: str
    seed: int
    state: RunState = "pending"
    epochs: int | None = None
    last_epoch: int | None = None
    started: str | None = None
    ended: str | None = None
    seconds: float | None = None
    error: dict[str, Any] | None = None
    pid: int | None = None
    host: str | None = None
    hardware: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    data_seconds: float | None = None
    test: dict[str, Any] | None = None
    source: str | None = None
    imported: str | None = None
    import_: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to status.json: every field that is set (None fields left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "extra" and value is not None:
                out[_JSON_NAMES.get(f.name, f.name)] = value
        return {**self.extra, **out}

    @classmethod
    def from_json(cls, obj: dict[str, Any], arm: str, seed: int, where: Path | str) -> RunStatus:
        """The record of a status.json object; ``arm`` and ``seed`` (the run's folder) fill in what it
        lacks. ExperimentError naming ``where`` for a state outside :data:`RUN_STATES`."""
        state = obj.get("state", "pending")
        if state not in RUN_STATES:
            raise ExperimentError(f"{where}: state {state!r} is not one of {', '.join(RUN_STATES)}")
        keys = {_JSON_NAMES.get(f.name, f.name): f.name for f in dataclasses.fields(cls) if f.name != "extra"}
        known = {keys[k]: v for k, v in obj.items() if k in keys}
        extra = {k: v for k, v in obj.items() if k not in keys}
        return cls(**{"arm": arm, "seed": seed, **known, "state": state, "extra": extra})
