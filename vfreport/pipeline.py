"""run-all's sequence, and the one writer of results.json.

    train (run/)  ->  analyse (analysis/)  ->  evaluate (analysis/evaluation)  ->  export (deploy/)
                  ->  report (report/)

Each command loads the experiment once (:func:`vfreport.experiment.records.load_experiment`) and
passes the :class:`~vfreport.experiment.records.Experiment` to every stage after training; the
stages read none of its files again. Every stage but training is a function that returns data;
only :func:`write_results` writes
``results.json``, which :func:`vfreport.analysis.results.build_results` builds (its layout:
:mod:`vfreport.experiment.results_schema`). The export returns its entry (a failed one rides on
``ExportError.entry``), which :func:`with_onnx` puts under ``onnx``; a later ``vfreport report``
keeps that entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vfreport.analysis import yardstick
from vfreport.analysis.results import analyze_experiment, to_jsonable
from vfreport.analysis.sequential import sequential_entry
from vfreport.config import ExperimentConfig
from vfreport.deploy.export import export_experiment
from vfreport.errors import ExportError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, read_json
from vfreport.experiment.records import Experiment, as_experiment, load_experiment
from vfreport.experiment.results_schema import OnnxEntry, Results, with_onnx
from vfreport.report.write import write_report
from vfreport.run import runner
from vfreport.sequential_run import merge_trained, run_until_decided

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def write_results(exp_dir: Path | str, results: Results) -> Path:
    """Write ``results`` to ``<exp_dir>/results.json`` atomically, as strict JSON (the only writer)."""
    return atomic_write_json(ExperimentDir(exp_dir).results, to_jsonable(dict(results)))


def previous_results(exp_dir: Path | str) -> dict[str, Any] | None:
    """The results.json already in ``exp_dir``, or None when missing or unreadable."""
    path = ExperimentDir(exp_dir).results
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def analyse(experiment: Experiment | Path | str, keep_onnx: bool = True, evaluate: bool = True) -> Results:
    """Analyse an experiment and measure the common yardstick (:mod:`vfreport.analysis.yardstick`).

    ``experiment`` is the loaded experiment (a path is loaded here, once: every stage below gets the
    same :class:`~vfreport.experiment.records.Experiment`). With ``evaluate``, every completed run's
    best checkpoint diarizes the held-out meetings (DER,
    :func:`vfreport.analysis.evaluation.evaluate_experiment`); without, the previous results.json's
    ``evaluation`` is kept. Each arm's lift over its audio-free baseline and the DER comparison
    enter the scenario as gates. With ``keep_onnx``, the ``onnx`` entry of the previous
    results.json is carried over: the model exported then is still on disk and still described by it.
    """
    experiment = as_experiment(experiment)
    old = previous_results(experiment.root)
    ys = yardstick.prepare(experiment, evaluate=evaluate, previous=old)
    onnx = (old or {}).get("onnx") if keep_onnx else None
    # sequential: run-all --until-decided's design, its looks, where it stopped (None otherwise)
    return analyze_experiment(experiment, yardstick=ys, onnx=onnx, sequential=sequential_entry(experiment.root))


def export(experiment: Experiment | Path | str, results: Results, arm: str | None = None,
           out: Path | str | None = None, int8: str | None = None) -> OnnxEntry:
    """Export the winner and return its ``onnx`` entry (with ``int8``: also the int8 model, judged
    by DER, under the entry's ``int8``). On failure raise ExportError, whose ``entry`` holds what
    results.json records about the failed attempt (or None)."""
    return export_experiment(experiment, results, arm=arm, out=out, int8=int8)


def report(experiment: Experiment | Path | str, results: Results, html: bool = True) -> dict[str, Path]:
    """Write results.json, then render figures, report.md and (with ``html``) review.ipynb + report.html."""
    experiment = as_experiment(experiment)
    paths = {"results.json": write_results(experiment.root, results)}
    paths.update(write_report(experiment, results, html=html))
    return paths


@dataclass
class PipelineResult:
    results: Results
    paths: dict[str, Path] = field(default_factory=dict)
    export_error: ExportError | None = None


def analyse_export_report(exp_dir: Path | str, html: bool = True, echo: Echo = _quiet) -> PipelineResult:
    """After training: load the experiment once, analyse, export the winner to ONNX, write results.json
    and the report once."""
    experiment = load_experiment(exp_dir)
    results = analyse(experiment, keep_onnx=False)
    export_error: ExportError | None = None
    try:
        entry = export(experiment, results)
        echo(f"  model.onnx: {Path(exp_dir) / entry['path']} (parity max |diff| {entry['max_abs_diff']:.2e})")
    except ExportError as e:
        export_error = e
        entry = e.entry
    results = with_onnx(results, entry)
    return PipelineResult(results, report(experiment, results, html=html), export_error)


def train_until_decided(cfg: ExperimentConfig, out: Path, train: Callable[[ExperimentConfig], Any],
                        looks: Sequence[int] | None = None, echo: Echo = _quiet, design: Any = None,
                        endpoint: str | None = None) -> Any:
    """``run-all --until-decided``: train look by look of a group-sequential design (``design``,
    e.g. from ``vfreport design --json``; default: the config's for ``endpoint`` at ``looks``),
    analysing after each, held-out meetings included (only the look's new runs diarize; earlier
    RTTMs are re-scored), until it stops (:func:`vfreport.sequential_run.run_until_decided`;
    state in ``<out>/sequential.json``). Returns the training outcome of all looks together."""
    run = run_until_decided(cfg, out, train, lambda: analyse(out, keep_onnx=False),
                            looks=looks, design=design, echo=echo, endpoint=endpoint)
    return merge_trained(run.trained, out)


def run_all(cfg: ExperimentConfig, out: Path, jobs: int = 2, config_file: str | None = None,
            report_after: bool = True, echo: Echo = _quiet, until_decided: bool = False,
            looks: Sequence[int] | None = None, design: Any = None, endpoint: str | None = None,
            **run_options: Any) -> tuple[Any, PipelineResult | None]:
    """Train every (arm, seed) (:func:`vfreport.run.runner.run_all`), then analyse, export and report.
    With ``until_decided``, seeds are added look by look (:func:`train_until_decided`, ``looks``
    seeds per arm, or a given ``design``, deciding on ``endpoint``) until the sequential design stops.

    Returns the training outcome and, with ``report_after``, the :class:`PipelineResult`."""
    def train(c: ExperimentConfig) -> Any:
        return runner.run_all(c, out, jobs=jobs, config_file=config_file, **run_options)

    trained = train_until_decided(cfg, out, train, looks, echo, design, endpoint) if until_decided else train(cfg)
    echo(f"trained {len(trained.completed)} runs, skipped {len(trained.skipped)} already complete, "
         f"{len(trained.failed)} failed, in {trained.seconds:.1f} s")
    if not report_after:
        return trained, None
    return trained, analyse_export_report(out, echo=echo)
