"""An experiment directory read once: frozen typed records built by :func:`load_experiment`
(docs/experiment-directory.md).

    load_experiment(DIR)  ->  Experiment(dir, config, manifest, runs, warnings)
                                 runs: Run(arm, seed, dir, status, params, history, checkpoints)

One command (``vfreport report``, ``export-onnx``, ``evaluate`` on an experiment, run-all after
training) loads the experiment once and passes the :class:`Experiment` down to the analysis, the
evaluation, the export and the report; none of them reads experiment.toml, manifest.json,
status.json, params.json or history.csv again. Public functions that a notebook calls with a path
take ``Experiment | path`` and load at that edge (:func:`as_experiment`).

The module is named for what it holds (records of one experiment directory); ``vfreport.model`` is
the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.errors import ExperimentError, HistoryError
from vfreport.experiment.history import read_history
from vfreport.experiment.layout import ExperimentDir, RunDir, read_json_object
from vfreport.experiment.manifest import Manifest, read_manifest
from vfreport.experiment.status import RunStatus
from vfreport.names import run_key

MISSING = "missing"
"""The state of a configured run that has no ``<arm>/seed-<k>`` folder."""


@dataclass(frozen=True)
class Run:
    """One configured (arm, seed) as read from its folder.

    ``status`` is status.json (:class:`~vfreport.experiment.status.RunStatus`; ``pending`` without
    one or without a folder), ``params`` params.json (empty without one). ``history`` is the
    validated history.csv, None when there is none or it is malformed; then ``history_error`` holds
    the HistoryError naming the file, line and column (the analysis raises it for a completed run,
    the figures for any).
    ``best`` and ``last`` are the checkpoints present when the run was read.
    """

    arm: str
    seed: int
    dir: RunDir | None
    status: RunStatus
    params: dict[str, Any]
    history: pd.DataFrame | None = None
    history_error: HistoryError | None = None
    best: Path | None = None
    last: Path | None = None

    @property
    def state(self) -> str:
        """status.json's state, or :data:`MISSING` when the run has no folder."""
        return MISSING if self.dir is None else self.status.state

    @property
    def has_history(self) -> bool:
        """True when the folder holds a history.csv (usable or not)."""
        return self.history is not None or self.history_error is not None

    def require_history(self) -> pd.DataFrame:
        """The history; the HistoryError read with it when it is malformed (callers check ``has_history``)."""
        if self.history_error is not None:
            raise self.history_error
        if self.history is None:
            raise HistoryError(f"{run_key(self.arm, self.seed)}: no history.csv")
        return self.history


@dataclass(frozen=True)
class Experiment:
    """An experiment directory as read by :func:`load_experiment`.

    ``runs``: every configured arm × (``experiment.seeds`` ∪ seed folders on disk), arms in config
    order, seeds ascending. ``warnings``: seed folders not in the config (they are included).
    ``manifest`` is manifest.json (:class:`~vfreport.experiment.manifest.Manifest`; None when absent or
    unreadable, ``manifest_error`` says why).
    """

    dir: ExperimentDir
    config: ExperimentConfig
    runs: tuple[Run, ...]
    manifest: Manifest | None = None
    manifest_error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        return self.dir.root

    def arm_runs(self, arm: str) -> tuple[Run, ...]:
        """The runs of ``arm``, seeds ascending."""
        return tuple(r for r in self.runs if r.arm == arm)

    def run(self, arm: str, seed: int) -> Run:
        """The run (arm, seed); ExperimentError when the experiment has no such run."""
        for r in self.runs:
            if r.arm == arm and r.seed == int(seed):
                return r
        raise ExperimentError(f"{self.root}: no run {run_key(arm, seed)} (arms: {', '.join(self.config.arms)})")

    def best_checkpoints(self) -> dict[str, dict[int, RunDir]]:
        """{arm: {seed: run folder}} of the completed runs that have a best.pt (every configured arm a
        key, seeds ascending)."""
        return {arm: {r.seed: r.dir for r in self.arm_runs(arm)
                      if r.dir is not None and r.state == "completed" and r.best is not None}
                for arm in self.config.arms}


def _file(path: Path) -> Path | None:
    return path if path.is_file() else None


def read_run(run: RunDir) -> Run:
    """One run folder: status.json (:meth:`RunDir.read_status <vfreport.experiment.layout.RunDir.read_status>`,
    ExperimentError when unreadable or its state unknown), params.json, history.csv (a malformed one is
    kept as ``history_error``) and the checkpoints present."""
    status = run.read_status()
    params = read_json_object(run.params, "params") if run.params.exists() else {}
    history, error = None, None
    if run.history.exists():
        try:
            history = read_history(run.history)
        except HistoryError as e:
            error = e
    return Run(run.arm, run.seed, run, status, params, history, error, _file(run.best), _file(run.last))


def _runs(ed: ExperimentDir, cfg: ExperimentConfig) -> tuple[list[Run], list[str]]:
    """Every configured (arm, seed) run, and warnings (seed folders not in the config)."""
    on_disk = {(r.arm, r.seed): r for r in ed.runs()}
    unknown = sorted({arm for arm, _ in on_disk} - set(cfg.arms))
    if unknown:
        raise ExperimentError(
            f"{ed.root}: run folder(s) for arm(s) {', '.join(unknown)} not in {ed.config.name} "
            f"(configured arms: {', '.join(cfg.arms)})"
        )
    runs: list[Run] = []
    warnings: list[str] = []
    for arm in cfg.arms:
        extra_seeds = sorted({s for a, s in on_disk if a == arm} - set(cfg.seeds))
        if extra_seeds:
            warnings.append(f"{arm}: seed folder(s) {extra_seeds} not in experiment.seeds {cfg.seeds}; included")
        for s in sorted(set(cfg.seeds) | set(extra_seeds)):
            found = on_disk.get((arm, s))
            runs.append(read_run(found) if found is not None else Run(arm, s, None, RunStatus(arm, s), {}))
    return runs, warnings


def load_experiment(exp_dir: Path | str) -> Experiment:
    """Read an experiment directory once: experiment.toml, manifest.json and every run's status.json,
    params.json, history.csv and checkpoint paths.

    Raises ExperimentError (missing directory or experiment.toml, run folders of arms not in the
    config, an unreadable status.json or params.json), ConfigError (bad experiment.toml). A malformed
    history does not raise here (:attr:`Run.history_error`); an unreadable manifest.json neither
    (:attr:`Experiment.manifest_error`).
    """
    ed = ExperimentDir(exp_dir).require()
    cfg = read_experiment_config(ed.config)
    runs, warnings = _runs(ed, cfg)
    manifest, manifest_error = None, None
    try:
        manifest = read_manifest(ed)
    except ExperimentError as e:
        manifest_error = str(e)
    return Experiment(ed, cfg, tuple(runs), manifest, manifest_error, tuple(warnings))


def as_experiment(experiment: Experiment | Path | str) -> Experiment:
    """``experiment`` itself, or the directory at that path loaded (:func:`load_experiment`): the edge
    where a notebook or a test passes a path."""
    return experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
