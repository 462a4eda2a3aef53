"""Verdicts (design.md §10): thresholds from the config applied to the statistics, as pure
functions that return a label and a sentence citing the numbers.

Boundary conventions (values are rounded to 9 decimals before comparing, so float noise such
as 0.7500000000000001 does not flip a label):

- production readiness on best val acc: ``> ready`` → "ready"; ``>= poc`` → "poc"; else
  "data-quality". Exactly 75 % is therefore "poc" and exactly 65 % is "poc" (the strategy
  document: "> 75 %" ready, "65–75 %" PoC, "< 65 %" data quality).
- stability on the val-acc half-range over epochs 1–10: ``<= max_variance`` → "high";
  ``<= 2 × max_variance`` → "moderate"; else "low".
- H2's threshold part: half-range ``< max_variance`` (strictly, "variance < 5 %").
- scenario on the target's mean best val acc: "worst" if H1 is not supported or
  ``Δ < min_delta`` (it takes precedence); "best" if ``>= best_case`` with H2 supported;
  "realistic" if ``realistic <= acc < best_case``; otherwise "high-but-unstable"
  (``>= best_case`` without H2) or "below-realistic" (``< realistic``, H1 not refuted);
  "incomplete" when an arm has no completed run.
- a hypothesis is "supported" when its Holm-adjusted p-value is ``< alpha`` (and, for H2, both
  threshold conditions hold).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vfreport.config import Thresholds
from vfreport.stats.tests import HypothesisTestResult, Summary

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_TESTABLE = "not testable"
_DIGITS = 9


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sentence: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "sentence": self.sentence}


# ---------------------------------------------------------------------------------------------
# formatting (percent with one decimal)
# ---------------------------------------------------------------------------------------------


def _ok(x: Any) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def fmt_pct(x: float | None) -> str:
    """0.7834 → '78.3 %'; None → 'n/a'."""
    return f"{100 * x:.1f} %" if _ok(x) else "n/a"


def fmt_points(x: float | None, signed: bool = True) -> str:
    """0.263 → '+26.3 points'."""
    if not _ok(x):
        return "n/a"
    return f"{100 * x:+.1f} points" if signed else f"{100 * x:.1f} points"


def fmt_ci_pct(ci: Any, unit: str = "") -> str:
    """(0.741, 0.825) → '95 % CI 74.1–82.5'; None → 'no CI'."""
    if ci is None or not all(_ok(v) for v in ci):
        return "no CI"
    return f"95 % CI {100 * ci[0]:.1f}–{100 * ci[1]:.1f}{unit}"


def fmt_ci(ci: Any, digits: int = 2) -> str:
    """A CI of a plain number (a ratio): '95 % CI 0.08–0.25'."""
    if ci is None or len(ci) != 2:
        return "no CI"
    lo = f"{ci[0]:.{digits}f}" if _ok(ci[0]) else "-inf"
    hi = f"{ci[1]:.{digits}f}" if _ok(ci[1]) else "inf"
    return f"95 % CI {lo}–{hi}"


def fmt_p(p: float | None) -> str:
    """'p = 0.003', 'p < 0.001' or 'p n/a'."""
    if not _ok(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_num(x: float | None, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if _ok(x) else "n/a"


def fmt_df(df: Any) -> str:
    if df is None:
        return ""
    if isinstance(df, list | tuple):
        return ", df = (" + ", ".join(f"{v:g}" for v in df) + ")"
    return f", df = {df:.1f}"


def _r(x: float) -> float:
    return round(float(x), _DIGITS)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


def production_readiness(best_val_acc: float | None, th: Thresholds) -> str | None:
    """'ready' if > th.ready, 'poc' if >= th.poc, else 'data-quality' (None if no value)."""
    if not _ok(best_val_acc):
        return None
    v = _r(best_val_acc)
    if v > _r(th.ready):
        return "ready"
    if v >= _r(th.poc):
        return "poc"
    return "data-quality"


def stability(half_range: float | None, th: Thresholds) -> str | None:
    """'high' if the half-range <= max_variance, 'moderate' if <= 2 × max_variance, else 'low'."""
    if not _ok(half_range):
        return None
    v = _r(half_range)
    if v <= _r(th.max_variance):
        return "high"
    if v <= _r(2 * th.max_variance):
        return "moderate"
    return "low"


def significant(p_holm: float | None, alpha: float) -> bool:
    return _ok(p_holm) and p_holm < alpha


def in_expected_range(delta: float | None, th: Thresholds) -> bool | None:
    """Whether Δ falls in the strategy document's expected gain [lo, hi] (inclusive)."""
    if not _ok(delta):
        return None
    lo, hi = th.expected_gain
    return _r(lo) <= _r(delta) <= _r(hi)


def _test_text(test: HypothesisTestResult, p_holm: float | None) -> str:
    if "t-test" in test.test:
        stat = f"t = {fmt_num(test.statistic)}"
    elif "Brown–Forsythe" in test.test:
        stat = f"F = {fmt_num(test.statistic)}"
    elif "permutation" in test.test:
        stat = f"Δ = {fmt_points(test.statistic)}"
    elif "binomial" in test.test:
        stat = f"{int(test.statistic or 0)} of {test.n[0] if test.n else 0} frames correct"
    else:
        stat = f"statistic = {fmt_num(test.statistic)}"
    holm = f", Holm {fmt_p(p_holm)}" if _ok(p_holm) else ""
    return f"{test.test}: {stat}{fmt_df(test.df)}, {fmt_p(test.p_value)}{holm}"


def _decision(p_holm: float | None, alpha: float) -> str:
    if significant(p_holm, alpha):
        return f"< α = {alpha:g}"
    return f"not < α = {alpha:g}"


# ---------------------------------------------------------------------------------------------
# hypotheses
# ---------------------------------------------------------------------------------------------


def h1_verdict(
    test: HypothesisTestResult,
    p_holm: float | None,
    th: Thresholds,
    target_name: str,
    baseline_name: str,
    target_mean: float | None,
    baseline_mean: float | None,
) -> Verdict:
    """H1 (real labels → higher accuracy): supported iff the one-sided test's Holm p < alpha."""
    head = f"{target_name} {fmt_pct(target_mean)} vs {baseline_name} {fmt_pct(baseline_mean)} best val acc"
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not testable: {test.reason}.")
    delta = test.estimate.value if test.estimate else None
    units = f"n = {test.n[0]} and {test.n[1]} {test.unit}" if len(test.n) == 2 else ""
    es = test.effect_size
    es_text = f"; {es.name} = {fmt_num(es.value)}" if es is not None and _ok(es.value) else ""
    lo, hi = th.expected_gain
    expected = in_expected_range(delta, th)
    exp_text = (
        f"; Δ is {'inside' if expected else 'outside'} the expected +{100 * lo:.0f}–{100 * hi:.0f} points"
        if expected is not None
        else ""
    )
    reason = (
        f"{head}: Δ = {fmt_points(delta)} ({fmt_ci_pct(test.ci95)}, {units}); {_test_text(test, p_holm)} "
        f"{_decision(p_holm, th.alpha)}{es_text}{exp_text}."
    )
    return Verdict(SUPPORTED if significant(p_holm, th.alpha) else NOT_SUPPORTED, reason)


def h2_verdict(
    test: HypothesisTestResult,
    p_holm: float | None,
    th: Thresholds,
    target_name: str,
    baseline_name: str,
    target_half_range: float | None,
    baseline_half_range: float | None,
) -> Verdict:
    """H2 (real labels → stable training): supported iff the target's mean val-acc half-range
    (epochs 1–10) is < max_variance, its epoch-to-epoch changes have a smaller SD than the
    baseline's (ratio < 1), and the one-sided Brown–Forsythe test's Holm p < alpha."""
    head = (
        f"{target_name} val acc varied ±{fmt_points(target_half_range, signed=False)} over epochs 1–10 "
        f"(threshold < {fmt_points(th.max_variance, signed=False)}) vs ±"
        f"{fmt_points(baseline_half_range, signed=False)} for {baseline_name}"
    )
    if not _ok(target_half_range) or not _ok(baseline_half_range):
        head = f"{target_name} vs {baseline_name} val-acc variability over epochs 1–10"
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not testable: {test.reason}.")
    ratio = test.estimate.value if test.estimate else None
    sd_t, sd_b = test.extra.get("sd_target"), test.extra.get("sd_baseline")
    below = _ok(target_half_range) and _r(target_half_range) < _r(th.max_variance)
    lower = _ok(ratio) and ratio < 1.0
    sig = significant(p_holm, th.alpha)
    failed = []
    if not below:
        failed.append(f"half-range not below {fmt_points(th.max_variance, signed=False)}")
    if not lower:
        failed.append(f"changes not less spread than {baseline_name}'s")
    if not sig:
        failed.append(f"Holm p not < α = {th.alpha:g}")
    reason = (
        f"{head}; SD of epoch-to-epoch changes {fmt_points(sd_t, signed=False)} vs "
        f"{fmt_points(sd_b, signed=False)} (ratio {fmt_num(ratio)}, {fmt_ci(test.ci95)}); "
        f"{_test_text(test, p_holm)}"
    )
    reason += f"; not supported: {', '.join(failed)}." if failed else "."
    return Verdict(SUPPORTED if not failed else NOT_SUPPORTED, reason)


def h3_verdict(test: HypothesisTestResult, p_holm: float | None, th: Thresholds, target_name: str) -> Verdict:
    """H3 (real labels → better learning): supported iff the one-sided test of train acc at
    epoch 10 > th.train_acc_epoch10 has Holm p < alpha."""
    thr = fmt_pct(th.train_acc_epoch10)
    if not test.testable:
        est = test.estimate.value if test.estimate else None
        got = f" (mean {fmt_pct(est)})" if _ok(est) else ""
        return Verdict(
            NOT_TESTABLE,
            f"{target_name} train acc at epoch 10{got} vs threshold {thr}; not testable: {test.reason}.",
        )
    est = test.estimate.value if test.estimate else None
    n = test.n[0] if test.n else 0
    es = test.effect_size
    es_text = f"; {es.name} = {fmt_num(es.value)}" if es is not None and _ok(es.value) else ""
    reason = (
        f"{target_name} train acc at epoch 10 {fmt_pct(est)} ({fmt_ci_pct(test.ci95)}, n = {n} {test.unit}) "
        f"vs threshold > {thr}; {_test_text(test, p_holm)} {_decision(p_holm, th.alpha)}{es_text}."
    )
    return Verdict(SUPPORTED if significant(p_holm, th.alpha) else NOT_SUPPORTED, reason)


# ---------------------------------------------------------------------------------------------
# scenario
# ---------------------------------------------------------------------------------------------

SCENARIO_TITLES = {
    "best": "Best case: real labels reach production accuracy with stable training",
    "realistic": "Realistic scenario: real labels fix the pseudo-label limitation",
    "worst": "Worst case: architecture limits, not just data",
    "high-but-unstable": "Best-case accuracy, but stable training not shown",
    "below-realistic": "Real labels help, but below the realistic target",
    "incomplete": "Not enough completed runs for a verdict",
}


def _summary_text(s: Summary) -> str:
    return f"{fmt_pct(s.mean)} best val acc ({fmt_ci_pct(s.ci95)}, n = {s.n})"


def _hyp_text(key: str, h: Mapping[str, Any] | None) -> str:
    if not h:
        return f"{key} not testable"
    v = h.get("verdict", NOT_TESTABLE)
    if v == NOT_TESTABLE:
        return f"{key} not testable"
    return f"{key} {v} ({fmt_p(h.get('p_value_holm'))}, Holm)"


def scenario(
    target: Summary,
    baseline: Summary,
    delta: float | None,
    delta_ci: Any,
    hypotheses: Mapping[str, Mapping[str, Any]],
    th: Thresholds,
    target_name: str,
    baseline_name: str,
) -> Scenario:
    """The strategy document's scenario (design.md §10) with a sentence citing the numbers.

    ``hypotheses`` maps "H1".."H3" to dicts with at least "verdict" and "p_value_holm".
    """
    if target.mean is None or baseline.mean is None:
        which = target_name if target.mean is None else baseline_name
        sentence = (
            f"No completed run in {which}: {target_name} {_summary_text(target)}, {baseline_name} "
            f"{_summary_text(baseline)}; no scenario can be judged."
        )
        return Scenario("incomplete", SCENARIO_TITLES["incomplete"], sentence)

    h1 = hypotheses.get("H1", {}) or {}
    h2 = hypotheses.get("H2", {}) or {}
    acc = _r(target.mean)
    h1_not = h1.get("verdict") == NOT_SUPPORTED
    small = _ok(delta) and _r(delta) < _r(th.min_delta)
    if h1_not or small:
        name = "worst"
        why = []
        if h1_not:
            why.append("H1 is not supported")
        if small:
            why.append(f"Δ is below {fmt_points(th.min_delta, signed=False)}")
        tail = (
            f"Worst case: {' and '.join(why)}, which points to architecture limits rather than data; "
            "revisit the model design."
        )
    elif acc >= _r(th.best_case) and h2.get("verdict") == SUPPORTED:
        name = "best"
        tail = (
            f"Best case: at or above {fmt_pct(th.best_case)} with stable training; the architecture is sound "
            "and the data was the bottleneck."
        )
    elif acc >= _r(th.best_case):
        name = "high-but-unstable"
        tail = (
            f"At or above the best-case {fmt_pct(th.best_case)}, but H2 (stable training) is "
            f"{h2.get('verdict', NOT_TESTABLE)}."
        )
    elif acc >= _r(th.realistic):
        name = "realistic"
        tail = (
            f"Realistic scenario: between {fmt_pct(th.realistic)} and {fmt_pct(th.best_case)}; real labels "
            "solve the pseudo-label limitation, production needs minor tuning."
        )
    else:
        name = "below-realistic"
        tail = (
            f"Below the realistic {fmt_pct(th.realistic)}: real labels help, but the model is not yet "
            "production-ready."
        )
    if h1.get("verdict", NOT_TESTABLE) == NOT_TESTABLE and name != "worst":
        tail += " Caution: H1 could not be tested, so the gain is not established."
    sentence = (
        f"{target_name} reached {_summary_text(target)} vs {fmt_pct(baseline.mean)} "
        f"({fmt_ci_pct(baseline.ci95)}, n = {baseline.n}) for {baseline_name}: "
        f"Δ = {fmt_points(delta)} ({fmt_ci_pct(delta_ci)}); "
        f"{_hyp_text('H1', h1)}, {_hyp_text('H2', h2)}, {_hyp_text('H3', hypotheses.get('H3'))}. {tail}"
    )
    return Scenario(name, SCENARIO_TITLES[name], sentence)


def position_caveat(target_best: float | None, position_baseline: float | None, th: Thresholds,
                    target_name: str) -> str | None:
    """A warning when the target's best val acc is less than ``min_delta`` above what frame position
    alone predicts (``vfreport.data.labels.position_baseline_accuracy``), else None.

    The scenario rules of design.md §10 read accuracy as evidence about the voices; with
    ``two-speaker`` labels (first speaker = 0) much of it can come from position, so the verdict
    says so instead of crediting the architecture with it.
    """
    if target_best is None or position_baseline is None:
        return None
    if not (math.isfinite(target_best) and math.isfinite(position_baseline)):
        return None
    gain = target_best - position_baseline
    if _r(gain) >= _r(th.min_delta):
        return None
    return (f"Caution: {target_name} is only {fmt_points(gain)} above its position-only baseline "
            f"({fmt_pct(position_baseline)}, what frame position alone predicts): the model has mostly learnt "
            f"when the first speaker talks, not who is talking, so this does not yet show that the "
            f"architecture separates voices.")
