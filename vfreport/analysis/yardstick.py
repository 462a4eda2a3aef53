"""The common yardstick in the verdict (docs/statistics.md, docs/yardstick.md): DER on held-out meetings and each
arm's lift over its audio-free baseline, turned into results.json entries and scenario gates.

    prepare(exp_dir, cfg)  ->  Yardstick(evaluation, lifts, gates)
    analyze_experiment(exp_dir, gates=verdict_gates(ys), evaluation=ys.evaluation)
        (ΔDER on the evaluation is the primary endpoint: :mod:`vfreport.analysis.primary`)
    attach(results, ys)    ->  results["evaluation"], arms.<arm>.lift, delta.der, delta.lift

Gates (best and realistic scenarios): the lift gate here: the target's mean lift is at least
``thresholds.min_lift`` with an interval excluding 0 (:func:`vfreport.analysis.lift.lift_gate`);
otherwise "inconclusive: accuracy explained by window structure". The DER gate (the target's DER
below both model-free baselines, by the same crossed comparison as the primary endpoint) is added
by :func:`vfreport.analysis.compute.compute`, which holds the comparisons.

A gate that could not be evaluated (no baseline recorded, no meetings) has ``passed`` None: it is
cited as a caution and does not block.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vfreport.analysis import evaluation as E
from vfreport.analysis import lift as L
from vfreport.analysis.results import arm_input, load_runs
from vfreport.analysis.verdicts import Gate
from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.errors import VfreportError
from vfreport.experiment.layout import ExperimentDir

DER_GATE = E.GATE_NAME


@dataclass
class Yardstick:
    evaluation: dict[str, Any] | None
    lifts: dict[str, dict[str, Any]] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)


def gates(cfg: ExperimentConfig, lifts: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lift gate as ``{name, passed, sentence}`` (module doc)."""
    tgt = cfg.target
    return [L.lift_gate(lifts.get(tgt.name), tgt.display_name)]


def verdict_gates(ys: Yardstick) -> list[Any]:
    """:class:`vfreport.analysis.verdicts.Gate` objects for ``analyze_experiment(..., gates=...)``."""
    return [Gate(g["name"], g["passed"], g["sentence"]) for g in ys.gates]


def prepare(exp_dir: Path | str, cfg: ExperimentConfig | None = None, *, evaluate: bool = True,
            previous: Mapping[str, Any] | None = None, **evaluate_options: Any) -> Yardstick:
    """Evaluate DER (or, with ``evaluate`` False, reuse ``previous["evaluation"]``), compute every
    arm's lift and the gates."""
    cfg = cfg or read_experiment_config(ExperimentDir(exp_dir).config)
    if evaluate:
        try:
            evaluation = E.evaluate_experiment(exp_dir, cfg, **evaluate_options)
        except VfreportError as e:  # the report still comes out, saying why DER is missing
            evaluation = {"available": False, "reason": f"evaluation failed: {e}"}
    else:
        evaluation = (previous or {}).get("evaluation")
    lifts = experiment_lifts(exp_dir, cfg)
    return Yardstick(evaluation, lifts, gates(cfg, lifts))


def experiment_lifts(exp_dir: Path | str, cfg: ExperimentConfig | None = None) -> dict[str, dict[str, Any]]:
    """:func:`vfreport.analysis.lift.arm_lift` of every arm of an experiment directory (reads the runs as
    the analysis does)."""
    ed = ExperimentDir(exp_dir)
    cfg = cfg or read_experiment_config(ed.config)
    runs, _ = load_runs(ed, cfg)
    return {arm: L.arm_lift(arm_input(cfg, arm, runs, {}), cfg.thresholds.min_lift) for arm in cfg.arms}


def der_delta(primary: Mapping[str, Any] | None) -> dict[str, Any]:
    """``delta.der``: target − baseline arm corpus DER with the primary endpoint's crossed interval
    (lower is better); empty when the primary endpoint is not ΔDER."""
    p = primary or {}
    if p.get("endpoint") != "der" or p.get("estimate") is None:
        return {"value": None, "ci95": None, "lower_is_better": True}
    return {"value": p["estimate"], "ci95": p["ci95"], "p_value": p["p_value"], "lower_is_better": True,
            "method": p["method"]}


def attach(results: MutableMapping[str, Any], ys: Yardstick) -> MutableMapping[str, Any]:
    """Put the yardstick into an analysed results dict: ``evaluation``, ``arms.<arm>.lift``,
    ``delta.der`` and ``delta.lift`` (the arms' lifts are against different baselines on different
    tasks: reported side by side, not differenced)."""
    results["evaluation"] = ys.evaluation
    for arm, lift in ys.lifts.items():
        if arm in results.get("arms", {}):
            results["arms"][arm]["lift"] = lift
    delta = results.setdefault("delta", {})
    delta["der"] = der_delta(results.get("primary"))
    delta["lift"] = {"value": None, "ci95": None,
                     "note": "each arm against its own audio-free baseline on its own task: not differenced"}
    results["yardstick_gates"] = ys.gates
    return results


__all__: Sequence[str] = ("DER_GATE", "Yardstick", "attach", "der_delta", "experiment_lifts", "gates", "prepare",
                          "verdict_gates")
