"""The common yardstick in the verdict (docs/statistics.md, docs/yardstick.md): DER on held-out meetings and each
arm's lift over its audio-free baseline, turned into results.json entries and scenario gates.

    prepare(exp_dir, cfg)  ->  Yardstick(evaluation, lifts, gates)
    analyze_experiment(exp_dir, gates=verdict_gates(ys))   (best/realistic need every gate)
    attach(results, ys)    ->  results["evaluation"], arms.<arm>.lift, delta.der, delta.lift

Gates (best and realistic scenarios):

- lift: the target's mean lift is at least ``thresholds.min_lift`` with an interval excluding 0
  (:func:`vfreport.analysis.lift.lift_gate`); otherwise "inconclusive: accuracy explained by
  window structure";
- DER: the target's DER is below both model-free baselines, the interval's upper end below 0
  (:func:`vfreport.analysis.evaluation.der_gate`).

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
from vfreport.config import ExperimentConfig
from vfreport.errors import VfreportError

DER_GATE = E.GATE_NAME


@dataclass
class Yardstick:
    evaluation: dict[str, Any] | None
    lifts: dict[str, dict[str, Any]] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)


def gates(cfg: ExperimentConfig, evaluation: Mapping[str, Any] | None,
          lifts: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lift gate and the DER gate as ``{name, passed, sentence}`` (module doc)."""
    tgt = cfg.target
    out = [L.lift_gate(lifts.get(tgt.name), tgt.display_name)]
    if evaluation and evaluation.get("available") and evaluation.get("gate"):
        out.append(dict(evaluation["gate"]))
    else:
        why = (evaluation or {}).get("reason") or "the evaluation step did not run"
        out.append({"name": DER_GATE, "passed": None, "sentence": f"DER on held-out meetings is unknown ({why})"})
    return out


def verdict_gates(ys: Yardstick) -> list[Any]:
    """:class:`vfreport.analysis.verdicts.Gate` objects for ``analyze_experiment(..., gates=...)``."""
    from vfreport.analysis.verdicts import Gate

    return [Gate(g["name"], g["passed"], g["sentence"]) for g in ys.gates]


def prepare(exp_dir: Path | str, cfg: ExperimentConfig | None = None, *, evaluate: bool = True,
            previous: Mapping[str, Any] | None = None, **evaluate_options: Any) -> Yardstick:
    """Evaluate DER (or, with ``evaluate`` False, reuse ``previous["evaluation"]``), compute every
    arm's lift and the gates."""
    from vfreport.config import read_experiment_config
    from vfreport.experiment.layout import ExperimentDir

    cfg = cfg or read_experiment_config(ExperimentDir(exp_dir).config)
    if evaluate:
        try:
            evaluation = E.evaluate_experiment(exp_dir, cfg, **evaluate_options)
        except VfreportError as e:  # the report still comes out, saying why DER is missing
            evaluation = {"available": False, "reason": f"evaluation failed: {e}"}
    else:
        evaluation = (previous or {}).get("evaluation")
    lifts = L.experiment_lifts(exp_dir, cfg)
    return Yardstick(evaluation, lifts, gates(cfg, evaluation, lifts))


def der_delta(evaluation: Mapping[str, Any] | None, baseline: str) -> dict[str, Any]:
    """``delta.der``: target − baseline arm corpus DER with its two-level-bootstrap interval (lower is better)."""
    c = ((evaluation or {}).get("comparisons") or {}).get(baseline) if evaluation else None
    if not c:
        return {"value": None, "ci95": None, "lower_is_better": True}
    return {"value": c["estimate"], "ci95": c["ci95"], "p_value": c["p_value"],
            "probability_of_improvement": c["probability_of_improvement"], "lower_is_better": True,
            "method": c["method"]}


def attach(results: MutableMapping[str, Any], ys: Yardstick, baseline: str | None = None) -> MutableMapping[str, Any]:
    """Put the yardstick into an analysed results dict: ``evaluation``, ``arms.<arm>.lift``,
    ``delta.der`` and ``delta.lift`` (the arms' lifts are against different baselines on different
    tasks: reported side by side, not differenced)."""
    results["evaluation"] = ys.evaluation
    for arm, lift in ys.lifts.items():
        if arm in results.get("arms", {}):
            results["arms"][arm]["lift"] = lift
    base = baseline or results.get("baseline")
    delta = results.setdefault("delta", {})
    delta["der"] = der_delta(ys.evaluation, base)
    delta["lift"] = {"value": None, "ci95": None,
                     "note": "each arm against its own audio-free baseline on its own task: not differenced"}
    results["yardstick_gates"] = ys.gates
    return results


__all__: Sequence[str] = ("DER_GATE", "Yardstick", "attach", "der_delta", "gates", "prepare", "verdict_gates")
