"""The common yardstick in the verdict (docs/statistics.md, docs/yardstick.md): DER on held-out meetings and each
arm's lift over its audio-free baseline, turned into results.json entries and scenario gates.

    prepare(experiment)  ->  Yardstick(evaluation, lifts, gates)
    analyze_experiment(experiment, yardstick=ys)
        (its gates enter the scenario, ΔDER on its evaluation is the primary endpoint:
        :mod:`vfreport.analysis.primary`; :func:`vfreport.analysis.results.build_results` puts
        ``evaluation``, ``arms.<arm>.lift``, ``delta.der``, ``delta.lift`` and ``yardstick_gates``
        into results.json)

Gates (best and realistic scenarios): the lift gate here: the target's mean lift is at least
``thresholds.min_lift`` with an interval excluding 0 (:func:`vfreport.analysis.lift.lift_gate`);
otherwise "inconclusive: accuracy explained by window structure". The DER gate (the target's DER
below both model-free baselines, by the same crossed comparison as the primary endpoint) is added
by :func:`vfreport.analysis.compute.compute`, which holds the comparisons.

A gate that could not be evaluated (no baseline recorded, no meetings) has ``passed`` None: it is
cited as a caution and does not block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vfreport.analysis import evaluation as E
from vfreport.analysis import lift as L
from vfreport.analysis.results import Yardstick, analysis_runs, arm_input
from vfreport.config import ExperimentConfig
from vfreport.errors import VfreportError
from vfreport.experiment.records import Experiment, as_experiment
from vfreport.experiment.results_schema import Gate

DER_GATE = E.GATE_NAME


def gates(cfg: ExperimentConfig, lifts: Mapping[str, Mapping[str, Any]]) -> list[Gate]:
    """The lift gate as ``{name, passed, sentence}`` (module doc)."""
    tgt = cfg.target
    return [L.lift_gate(lifts.get(tgt.name), tgt.display_name)]


def prepare(experiment: Experiment | Path | str, *, evaluate: bool = True, previous: Mapping[str, Any] | None = None,
            **evaluate_options: Any) -> Yardstick:
    """Evaluate DER (or, with ``evaluate`` False, reuse ``previous["evaluation"]``), compute every
    arm's lift and the gates, on the loaded ``experiment`` (a path is loaded here)."""
    experiment = as_experiment(experiment)
    if evaluate:
        try:
            evaluation = E.evaluate_experiment(experiment, **evaluate_options)
        except VfreportError as e:  # the report still comes out, saying why DER is missing
            evaluation = {"available": False, "reason": f"evaluation failed: {e}"}
    else:
        evaluation = (previous or {}).get("evaluation")
    lifts = experiment_lifts(experiment)
    return Yardstick(evaluation, lifts, gates(experiment.config, lifts))


def experiment_lifts(experiment: Experiment | Path | str) -> dict[str, dict[str, Any]]:
    """:func:`vfreport.analysis.lift.arm_lift` of every arm of an experiment (its runs as the analysis
    sees them; a path is loaded here)."""
    experiment = as_experiment(experiment)
    cfg = experiment.config
    runs = analysis_runs(experiment)
    return {arm: L.arm_lift(arm_input(cfg, arm, runs, {}), cfg.thresholds.min_lift) for arm in cfg.arms}


__all__: Sequence[str] = ("DER_GATE", "Yardstick", "experiment_lifts", "gates", "prepare")
