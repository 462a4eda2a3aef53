"""The primary endpoint (docs/verdicts.md): ΔDER on the common yardstick, or H1 when there is no
evaluation, as a :class:`vfreport.analysis.verdicts.Primary`; and each arm's DER against the
model-free baselines (readiness caps, the best/realistic gate).

ΔDER: every run of both arms diarized the same held-out meetings (results.json's ``evaluation``,
:mod:`vfreport.analysis.evaluation`), so the runs × meetings DER tables of the two arms go to
:func:`vfreport.stats.crossed.compare_crossed` (runs nested in arms, meetings crossed with arms;
closed-form two-way random-effects ANOVA with a Satterthwaite df), meetings weighted by their
scored reference speech as pyannote's corpus DER is. A model-free baseline is a one-row table.

Pure functions: the evaluation entry in, typed results out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vfreport import format as F
from vfreport.analysis.verdicts import Primary
from vfreport.config import Thresholds
from vfreport.stats.crossed import CrossedComparison, compare_crossed
from vfreport.stats.results import TestResult

BASELINE_LABELS = {"one-speaker": "one-speaker", "position": "position-rule"}
"""How a model-free baseline is named in a comparison sentence."""


@dataclass(frozen=True)
class YardstickStats:
    """The crossed comparisons of one evaluation: the primary (target − baseline arm) and, per arm,
    against each model-free baseline; ``uris`` the meetings (column order); ``reason`` why the
    primary is missing (an arm without evaluated runs)."""

    uris: tuple[str, ...]
    primary: CrossedComparison | None
    vs_baselines: dict[str, dict[str, CrossedComparison]] = field(default_factory=dict)
    reason: str = ""
    source: str = ""


def available(evaluation: Mapping[str, Any] | None) -> bool:
    return bool(evaluation and evaluation.get("available") and evaluation.get("der"))


def der_table(runs: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str]) -> np.ndarray:
    """{seed: {uri: score}} → runs × meetings DER (fractions), runs in seed order."""
    return np.array([[runs[s][u]["der"] for u in uris] for s in sorted(runs, key=int)], dtype=float)


def meeting_weights(evaluation: Mapping[str, Any], uris: Sequence[str]) -> np.ndarray | None:
    """Each meeting's scored reference speech (pyannote's ``total``: the corpus-DER weight), read
    from any scored table; None when it is not recorded."""
    tables = [*((evaluation.get("baseline_der") or {}).values()),
              *(r for runs in (evaluation.get("der") or {}).values() for r in runs.values())]
    for t in tables:
        if all(isinstance((t.get(u) or {}).get("total"), int | float) for u in uris):
            w = np.array([t[u]["total"] for u in uris], dtype=float)
            if np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0:
                return w
    return None


def yardstick_stats(evaluation: Mapping[str, Any] | None, target: str, baseline: str, alpha: float,
                    exclude: Mapping[str, set[str]] | None = None) -> YardstickStats | None:
    """The crossed comparisons of an available evaluation (None when there is none), leaving out
    the runs (seeds, as strings) in ``exclude`` per arm."""
    if not available(evaluation):
        return None
    uris = tuple(m["uri"] for m in evaluation.get("meetings") or [])
    drop = exclude or {}
    der = {arm: {s: v for s, v in runs.items() if str(s) not in drop.get(arm, set())}
           for arm, runs in (evaluation.get("der") or {}).items()}
    w = meeting_weights(evaluation, uris)
    tables = {arm: der_table(runs, uris) for arm, runs in der.items() if runs}
    vs: dict[str, dict[str, CrossedComparison]] = {}
    for arm, table in tables.items():
        vs[arm] = {name: compare_crossed(table, der_table({"0": scores}, uris), w, alpha=alpha)
                   for name, scores in (evaluation.get("baseline_der") or {}).items()}
    primary, reason = None, ""
    if target in tables and baseline in tables:
        primary = compare_crossed(tables[target], tables[baseline], w, alpha=alpha)
    else:
        missing = [a for a in (target, baseline) if a not in tables]
        reason = f"no evaluated run in {' or '.join(missing)}"
    return YardstickStats(uris, primary, vs, reason, str(evaluation.get("source") or ""))


def _f(x: Any) -> float | None:
    return float(x) if F.ok(x) and math.isfinite(float(x)) else None


def der_primary(ys: YardstickStats, th: Thresholds, data: str) -> Primary:
    """ΔDER (target − baseline arm) as the primary endpoint."""
    label = f"ΔDER on {len(ys.uris)} held-out meetings"
    c = ys.primary
    if c is None:
        return Primary("der", label, th.min_der_delta, th.alpha, False, reason=ys.reason, data=data)
    testable = all(_f(x) is not None for x in (c.se, c.df, c.upper_bound, c.ci[0])) and c.se > 0
    reason = "" if testable else ("fewer than 2 runs of the target arm or 2 meetings: no interval"
                                  if not F.ok(c.se) else "no variance between runs or meetings: no interval")
    return Primary(
        endpoint="der", label=label, threshold=th.min_der_delta, alpha=th.alpha, testable=testable,
        estimate=_f(c.estimate), ci95=(c.ci[0], c.ci[1]) if testable else None, gain=-c.estimate,
        gain_bound=-c.upper_bound if testable else None, gain_upper=-c.ci[0] if testable else None,
        p_value=_f(c.p_value), df=_f(c.df), se=_f(c.se), statistic=_f(c.statistic), method=c.method,
        n={"runs": list(c.n_runs), "meetings": c.n_meetings, "effective_meetings": _f(c.effective_meetings)},
        components={k: float(v) for k, v in c.components.items()}, reason=reason, data=data)


def accuracy_primary(test: TestResult, th: Thresholds, basis: str, data: str) -> Primary:
    """H1 (one-sided Welch test on the selection-unbiased accuracy) as the primary endpoint: the
    gain bound is the test's one-sided (1 − α) lower Welch bound (``test.bounds``, the bound the
    test inverts), "no worthwhile gain" reads the 95 % interval's upper end."""
    label = f"Δ {basis}"
    if not test.testable:
        return Primary("accuracy", label, th.min_delta, th.alpha, False, reason=test.reason, data=data,
                       estimate=test.estimate.value if test.estimate else None)
    one = test.bounds.lower if test.bounds is not None and test.bounds.alpha == th.alpha else None
    two = test.ci
    est = test.estimate.value if test.estimate else None
    return Primary(
        endpoint="accuracy", label=label, threshold=th.min_delta, alpha=th.alpha,
        testable=one is not None and two is not None, estimate=est,
        ci95=two.as_tuple() if two else None, gain=est, gain_bound=one,
        gain_upper=two.high if two else None, p_value=test.p_value, df=test.df,
        se=est / test.statistic if F.ok(est) and F.ok(test.statistic) and test.statistic else None,
        statistic=test.statistic, method=f"{test.method} over runs (Welch 1947)",
        n={"runs": list(test.n)}, data=data)


def comparison_sentence(c: CrossedComparison, name: str) -> tuple[bool | None, str]:
    """Whether the arm beats a model-free baseline (one-sided bound of ΔDER below 0) and a sentence
    that agrees with its interval (the 90 % interval, whose ends are the one-sided 95 % bounds):
    'beats the one-speaker baseline by 26.0 points (90 % CI −35.0 to −16.9 points)'."""
    label = BASELINE_LABELS.get(name, name)
    lo, hi = _f(c.lower_bound), _f(c.upper_bound)
    if lo is None or hi is None:
        return None, f"the {label} comparison has no interval (ΔDER {F.points(c.estimate)})"
    level = f"{F.pct(1 - 2 * c.alpha, 0)} CI"
    ci = F.ci_points((lo, hi), level)
    if hi < 0:
        return True, f"beats the {label} baseline by {F.points(-c.estimate, signed=False)} ({ci})"
    if lo > 0:
        return False, f"is worse than the {label} baseline by {F.points(c.estimate, signed=False)} ({ci})"
    return False, f"the {label} comparison is undecided (ΔDER {F.points(c.estimate)}, {ci})"


def beats_baselines(comparisons: Mapping[str, CrossedComparison], arm_name: str) -> tuple[bool | None, str]:
    """Whether an arm's DER beats every model-free baseline, and one sentence saying how each went
    (lower DER is better). None when there is nothing to compare with."""
    if not comparisons:
        return None, f"{arm_name}'s DER was not compared with the model-free baselines"
    results = [comparison_sentence(c, name) for name, c in comparisons.items()]
    if any(ok is None for ok, _ in results):
        return None, f"{arm_name}'s DER: " + "; ".join(s for _, s in results)
    passed = all(ok for ok, _ in results)
    lead = "beats both model-free baselines" if passed else "does not beat both model-free baselines"
    parts = [s if s.startswith("the ") else f"it {s}" for _, s in results]
    return passed, f"{arm_name}'s DER (lower is better) {lead}: " + "; ".join(parts)


def comparison_dict(c: CrossedComparison) -> dict[str, Any]:
    """results.json's entry of one crossed comparison."""
    return {"estimate": c.estimate, "se": c.se, "df": c.df, "ci95": list(c.ci), "confidence": c.confidence,
            "upper_bound": c.upper_bound, "lower_bound": c.lower_bound, "alpha": c.alpha, "p_value": c.p_value,
            "alternative": "less", "statistic": c.statistic, "n": {"runs": list(c.n_runs), "meetings": c.n_meetings},
            "effective_meetings": c.effective_meetings, "components": dict(c.components), "method": c.method,
            "lower_is_better": True}


__all__ = ["YardstickStats", "accuracy_primary", "available", "beats_baselines", "comparison_dict",
           "comparison_sentence", "der_primary", "der_table", "meeting_weights", "yardstick_stats"]
