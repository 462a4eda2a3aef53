"""Lift: each run's accuracy minus the best audio-free baseline on the same windows (docs/data.md).

An arm's frame accuracy mixes what the model heard with what the task's structure gives away
(``two-speaker`` windows label the first speaker 0, so frame position alone predicts most frames).
Lift subtracts, run by run, what an audio-free predictor scores on the same windows; one value per
run (the unit of analysis), summarised with a Student t-interval over runs.

Which numbers: a run's test accuracy at its best-validation epoch against its
``audio_free_baseline_test_acc`` when the run records both; otherwise its final-epoch validation
accuracy (the selection-unbiased accuracy without a test split; not the max over epochs, which is
optimistic) against ``audio_free_baseline_val_acc`` (or, from runs trained before that field,
``position_baseline_val_acc``). The pair used is named in the entry's ``source``. Baselines are
read from each run's ``status.json`` ``data``.

The best/realistic gate (:func:`lift_gate`): the target's mean lift is at least ``min_lift`` and
its interval excludes 0; otherwise the accuracy is explained by window structure (the scenario
"explained-by-structure" of :func:`vfreport.analysis.verdicts.scenario`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vfreport import format as F
from vfreport.config import Thresholds
from vfreport.stats.intervals import finite, summarize

PAIRS = (
    ("test_acc", "audio_free_baseline_test_acc"),
    ("final_val_acc", "audio_free_baseline_val_acc"),
    ("final_val_acc", "position_baseline_val_acc"),
)
"""(accuracy in results.json's run entry, baseline in the run's status.json data), in order of preference."""
GATE_NAME = "lift over the audio-free baseline"


def run_lift(run: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[float | None, float | None, str | None]:
    """(accuracy, baseline, "accuracy − baseline" names) of one run: the first pair of :data:`PAIRS`
    that the run entry and its status data both have."""
    for acc_key, base_key in PAIRS:
        acc, base = finite(run.get(acc_key)), finite(data.get(base_key))
        if acc is not None and base is not None:
            return acc, base, f"{acc_key} − {base_key}"
    return None, None, None


def lift_summary(accuracy: Sequence[float | None], baseline: Sequence[float | None], seeds: Sequence[int],
                 min_lift: float = Thresholds.min_lift) -> dict[str, Any]:
    """Per-run lift (accuracy − baseline), mean, SD, Student t-interval over runs
    (:func:`vfreport.stats.intervals.summarize`; Student 1908), and the two gate conditions:
    ``above_min_lift`` (mean ≥ min_lift) and ``ci_excludes_zero``."""
    lifts = [a - b if a is not None and b is not None else None for a, b in zip(accuracy, baseline, strict=True)]
    s = summarize(lifts)
    mean, sd, n, ci = s.mean, s.std, s.n, (list(s.ci95) if s.ci95 is not None else None)
    return {
        "mean": mean, "std": sd, "ci95": ci, "n": n, "per_seed": lifts, "seeds": list(seeds),
        "accuracy_per_seed": list(accuracy), "baseline_per_seed": list(baseline), "min_lift": min_lift,
        "above_min_lift": (round(mean, 9) >= round(min_lift, 9)) if mean is not None else None,
        "ci_excludes_zero": (ci[0] > 0 or ci[1] < 0) if ci is not None else None,
        "method": "Student t-interval over runs",
    }


def describe(lift: float | None) -> str:
    """'3.2 points above' / '9.6 points below' its audio-free baseline (negative lifts read "below")."""
    if not F.ok(lift):
        return "n/a"
    return f"{F.points(abs(lift), signed=False)} {'above' if lift >= 0 else 'below'}"


def lift_gate(lift: Mapping[str, Any] | None, arm_name: str) -> dict[str, Any]:
    """The best/realistic condition on the target's lift: ``{name, passed, sentence}``
    (``passed`` None when no run recorded a baseline)."""
    if not lift or lift.get("mean") is None:
        return {"name": GATE_NAME, "passed": None,
                "sentence": f"{arm_name}'s lift over its audio-free baseline is unknown (no run recorded the baseline)"}
    ci = lift.get("ci95")
    ci_text = F.ci_points(ci) if ci else "no CI with one run"
    passed = bool(lift["above_min_lift"]) and bool(lift["ci_excludes_zero"]) and lift["mean"] > 0
    need = f"at least {F.points(lift['min_lift'], 0, signed=False)} with an interval excluding 0"
    if passed:
        sentence = f"{arm_name} is {describe(lift['mean'])} its audio-free baseline ({ci_text}; needed {need})"
    else:
        sentence = f"{arm_name} is only {describe(lift['mean'])} its audio-free baseline ({ci_text}; needed {need})"
    return {"name": GATE_NAME, "passed": passed, "sentence": sentence}


def arm_lift(arm: Any, min_lift: float = Thresholds.min_lift) -> dict[str, Any]:
    """``arms.<arm>.lift`` of one arm from what the analysis reads of its included runs: an object with
    ``metrics`` (per run: ``test_acc``, ``final_val_acc``), ``received`` (per run: status.json ``data``)
    and ``seeds``, in the same order (:class:`vfreport.analysis.compute.ArmInput`)."""
    acc, base, sources = [], [], set()
    for m, data in zip(arm.metrics, arm.received, strict=True):
        a, b, source = run_lift({"test_acc": getattr(m, "test_acc", None),
                                 "final_val_acc": getattr(m, "final_val_acc", None)}, data or {})
        acc.append(a)
        base.append(b)
        if source:
            sources.add(source)
    entry = lift_summary(acc, base, list(arm.seeds), min_lift)
    entry["source"] = " / ".join(sorted(sources)) or None
    return entry

