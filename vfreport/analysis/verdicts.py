"""Verdicts (docs/statistics.md): the config's thresholds applied to the statistics, as pure functions
returning a label and a sentence that cites the numbers with their intervals.

Values are rounded to 9 decimals before comparing, so float noise such as 0.7500000000000001
does not flip a label.

Production readiness of an arm reads the 95 % interval of its selection-unbiased accuracy:

- "ready" when the interval's lower end is above ``ready`` (75 %);
- "poc" when the lower end is at least ``poc`` (65 %) but not above ``ready``;
- "data-quality" when the upper end is below ``poc``;
- "uncertain" when the interval straddles ``poc`` (the runs cannot tell PoC from data-quality);
- with one run (no interval) the point is read the same way and the sentence says so;
- "insufficient-data" instead of all of these when an arm received fewer than
  :data:`MIN_DATA_FRACTION` of the windows it asked for (:func:`data_shortfall`).

Stability on the detrended noise half range (:mod:`vfreport.analysis.metrics`): "high" if
``<= max_variance``, "moderate" if ``<= 2 × max_variance``, else "low".

Hypotheses: "supported" when the test's Holm-adjusted p < alpha (H2 also needs the target's noise
half range < max_variance and a noise ratio < 1); "not decidable" when the design cannot reach
alpha at this n; "not testable" when there are too few runs.

Scenario (:func:`scenario`), in order: "incomplete" (an arm without runs); "descriptive" (H1 not
testable, e.g. one run per arm); "worst" only when the upper end of Δ's interval is below
``min_delta`` (the data change did not help); "inconclusive" when H1 is not significant but the
interval still admits a worthwhile Δ (with the runs that would decide it), or when H1 is significant
but the point Δ is below ``min_delta`` while its interval reaches it; then, with H1
supported, "not-confirmed" when an extra condition (a :class:`Gate`) failed, else by the
target's accuracy: "best" (≥ best_case with H2 supported), "high-but-unstable" (≥ best_case
without H2), "realistic" (≥ realistic), "below-realistic".

Extra conditions: :func:`scenario` takes ``gates``, a sequence of :class:`Gate` (name, passed,
sentence). Any module can add one (the target's lift over its audio-free baseline, a DER
hypothesis on the common yardstick, the data check): ``passed=False`` keeps the scenario from
"best"/"realistic" and its sentence is cited; ``passed=None`` (not evaluated) is cited as a
caution without blocking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vfreport.analysis.lift import GATE_NAME as LIFT_GATE
from vfreport.config import Thresholds
from vfreport.report import format as F
from vfreport.stats.intervals import Summary
from vfreport.stats.power import PowerPlan
from vfreport.stats.results import TestResult

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_DECIDABLE = "not decidable"
NOT_TESTABLE = "not testable"
MIN_DATA_FRACTION = 0.5
"""An arm whose runs received fewer than this fraction of the windows asked for (in any split) is
flagged and gets "insufficient data" instead of a readiness verdict."""
DIGITS = 9


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str


@dataclass(frozen=True)
class HypothesisOutcome:
    """A test, its Holm-adjusted p and its verdict: what :func:`scenario` reads."""

    test: TestResult
    p_holm: float | None
    verdict: Verdict


@dataclass(frozen=True)
class Gate:
    """An extra condition for the best and realistic scenarios (see the module docstring)."""

    name: str
    passed: bool | None
    sentence: str


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sentence: str
    gates: tuple[Gate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "sentence": self.sentence,
                "gates": [{"name": g.name, "passed": g.passed, "sentence": g.sentence} for g in self.gates]}


def rounded(x: float) -> float:
    return round(float(x), DIGITS)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


def production_readiness(mean: float | None, ci: Any, th: Thresholds, insufficient: bool = False) -> str | None:
    """Readiness of an arm from its mean selection-unbiased accuracy and its 95 % interval (rules
    in the module docstring). None when there is no value."""
    if insufficient:
        return "insufficient-data"
    if not F.ok(mean):
        return None
    lo, hi = (ci[0], ci[1]) if F.ci_ok(ci) else (mean, mean)
    if rounded(lo) > rounded(th.ready):
        return "ready"
    if rounded(lo) >= rounded(th.poc):
        return "poc"
    if rounded(hi) < rounded(th.poc):
        return "data-quality"
    return "uncertain"


def stability(noise_half_range: float | None, th: Thresholds) -> str | None:
    """'high' if the detrended noise half range <= max_variance, 'moderate' if <= 2 ×, else 'low'."""
    if not F.ok(noise_half_range):
        return None
    v = rounded(noise_half_range)
    if v <= rounded(th.max_variance):
        return "high"
    if v <= rounded(2 * th.max_variance):
        return "moderate"
    return "low"


def data_shortfall(requested: Mapping[str, Any], received: Mapping[str, Any]) -> list[str]:
    """The splits (e.g. "train_windows") in which ``received`` is below :data:`MIN_DATA_FRACTION`
    of ``requested``, as sentences ('train: 8 of 240 windows (3 %)'). Unknown counts are skipped."""
    out = []
    for key, asked in requested.items():
        got = received.get(key)
        if F.ok(asked) and asked > 0 and F.ok(got) and got < MIN_DATA_FRACTION * asked:
            split = key.removesuffix("_windows")
            out.append(f"{split}: {int(got)} of {int(asked)} windows ({100 * got / asked:.0f} %)")
    return out


def significant(p_holm: float | None, alpha: float) -> bool:
    return F.ok(p_holm) and p_holm < alpha


def in_expected_range(delta: float | None, th: Thresholds) -> bool | None:
    """Whether Δ falls in the strategy document's expected gain [lo, hi] (inclusive)."""
    if not F.ok(delta):
        return None
    lo, hi = th.expected_gain
    return rounded(lo) <= rounded(delta) <= rounded(hi)


def test_text(test: TestResult, p_holm: float | None) -> str:
    """'Welch two-sample t-test, one-sided: t = 2.34, df = 2.1, p = 0.070, Holm p = 0.139'."""
    parts = []
    if F.ok(test.statistic):
        parts.append(f"{test.statistic_name or 'statistic'} = {F.num(test.statistic)}")
    if F.ok(test.df):
        parts.append(f"df = {F.df_text(test.df)}")
    parts.append(F.p_text(test.p_value))
    if F.ok(p_holm):
        parts.append(F.p_text(p_holm, "Holm p"))
    if F.ok(test.min_p):
        parts.append(f"smallest reachable p {F.pvalue(test.min_p) if test.min_p >= 0.001 else f'{test.min_p:.1e}'}")
    return f"{test.method}: {', '.join(parts)}"


def _decision(p_holm: float | None, alpha: float) -> str:
    return f"< α = {alpha:g}" if significant(p_holm, alpha) else f"not < α = {alpha:g}"


def _n_text(test: TestResult) -> str:
    return f"n = {' and '.join(str(k) for k in test.n)} {test.unit}" if test.n else ""


# ---------------------------------------------------------------------------------------------
# hypotheses
# ---------------------------------------------------------------------------------------------


def h1_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str, baseline_name: str,
               target: Summary, baseline: Summary, basis: str) -> Verdict:
    """H1 (real labels → higher accuracy): supported iff the one-sided Welch test's Holm p < alpha.
    ``basis`` names the accuracy compared (e.g. "test acc at the best-validation epoch")."""
    head = (f"{target_name} {F.mean_ci_pct(target.mean, target.ci95, target.n)} vs {baseline_name} "
            f"{F.mean_ci_pct(baseline.mean, baseline.ci95, baseline.n)} {basis}")
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not tested: {test.reason}.")
    delta = test.estimate.value if test.estimate else None
    es = test.effect_size
    es_text = f"; {es.name} = {F.num(es.value)}" if es is not None and F.ok(es.value) else ""
    expected = in_expected_range(delta, th)
    lo, hi = th.expected_gain
    exp_text = (f"; Δ is {'inside' if expected else 'outside'} the expected +{100 * lo:.0f} to +{100 * hi:.0f} points"
                if expected is not None else "")
    ci = test.ci.as_tuple() if test.ci else None
    reason = (f"{head}: Δ = {F.points(delta)} ({F.ci_points(ci)}, Welch; {_n_text(test)}); "
              f"{test_text(test, p_holm)} {_decision(p_holm, th.alpha)}{es_text}{exp_text}.")
    return Verdict(SUPPORTED if significant(p_holm, th.alpha) else NOT_SUPPORTED, reason)


def h2_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str, baseline_name: str,
               target_noise: float | None, baseline_noise: float | None) -> Verdict:
    """H2 (real labels → stable training): supported iff the target's mean detrended noise half
    range is < max_variance, the noise ratio (target / baseline) is < 1, and the one-sided
    permutation test's Holm p < alpha. "not decidable" when the test cannot reach alpha at this n."""
    head = (f"{target_name} val acc noise ±{F.pct(target_noise)} over epochs 1–10 after removing "
            f"the learning trend (threshold < ±{F.pct(th.max_variance)}) vs ±{F.pct(baseline_noise)} for "
            f"{baseline_name}")
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not tested: {test.reason}.")
    ratio = test.estimate.value if test.estimate else None
    ci = test.ci.as_tuple() if test.ci else None
    text = f"{head}; noise SD ratio {F.num(ratio)} ({F.ci_num(ci)}, {_n_text(test)}); {test_text(test, p_holm)}"
    if not test.decidable:
        return Verdict(NOT_DECIDABLE, f"{text}; {test.reason}.")
    failed = []
    if not (F.ok(target_noise) and rounded(target_noise) < rounded(th.max_variance)):
        failed.append(f"noise not below ±{F.pct(th.max_variance)}")
    if not (F.ok(ratio) and ratio < 1.0):
        failed.append(f"noise not smaller than {baseline_name}'s")
    if not significant(p_holm, th.alpha):
        failed.append(f"Holm p not < α = {th.alpha:g}")
    return Verdict(NOT_SUPPORTED if failed else SUPPORTED,
                   f"{text}; not supported: {', '.join(failed)}." if failed else f"{text}.")


def h3_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str) -> Verdict:
    """H3 (real labels → better learning): supported iff the one-sided one-sample t-test of train
    acc at epoch 10 > th.train_acc_epoch10 has Holm p < alpha."""
    thr = F.pct(th.train_acc_epoch10)
    est = test.estimate.value if test.estimate else None
    if not test.testable:
        got = f" (mean {F.pct(est)})" if F.ok(est) else ""
        return Verdict(NOT_TESTABLE, f"{target_name} train acc at epoch 10{got} vs threshold {thr}; not tested: "
                                     f"{test.reason}.")
    es = test.effect_size
    es_text = f"; {es.name} = {F.num(es.value)}" if es is not None and F.ok(es.value) else ""
    ci = test.ci.as_tuple() if test.ci else None
    reason = (f"{target_name} train acc at epoch 10 {F.pct(est)} ({F.ci_pct(ci)}, {_n_text(test)}) vs threshold "
              f"> {thr}; {test_text(test, p_holm)} {_decision(p_holm, th.alpha)}{es_text}.")
    return Verdict(SUPPORTED if significant(p_holm, th.alpha) else NOT_SUPPORTED, reason)


# ---------------------------------------------------------------------------------------------
# scenario
# ---------------------------------------------------------------------------------------------

SCENARIO_TITLES = {
    "best": "Best case: real labels reach production accuracy with stable training",
    "realistic": "Realistic scenario: real labels fix the pseudo-label limitation",
    "worst": "Worst case: the data change did not help; architecture limits",
    "inconclusive": "Inconclusive: not enough evidence either way",
    "descriptive": "Descriptive only: too few runs to test the gain",
    "not-confirmed": "Gain shown, but not confirmed by every condition",
    "explained-by-structure": "Inconclusive: accuracy explained by window structure",
    "high-but-unstable": "Best-case accuracy, but stable training not shown",
    "below-realistic": "Real labels help, but below the realistic target",
    "incomplete": "Not enough completed runs for a verdict",
}


def _hyp_text(key: str, h: HypothesisOutcome | None) -> str:
    if h is None or h.verdict.verdict == NOT_TESTABLE:
        return f"{key} not tested"
    if h.verdict.verdict == NOT_DECIDABLE:
        return f"{key} not decidable at n = {' and '.join(map(str, h.test.n))}"
    return f"{key} {h.verdict.verdict} ({F.p_text(h.p_holm, 'Holm p')})"


def _seeds_text(power: PowerPlan | None, th: Thresholds) -> str:
    if power is None or not power.effects:
        return f"more runs per arm would decide it{f' ({power.reason})' if power and power.reason else ''}"
    e = next((x for x in power.effects if x.name == "min_delta"), power.effects[0])
    lo, hi = e.seeds_range
    rng = f"{lo or '?'}–{hi if hi is not None else f'>{power.max_seeds}'}"
    if e.seeds is None:
        return (f"more than {power.max_seeds} runs per arm would be needed to detect a "
                f"{F.points(e.delta, signed=False)} Δ with {100 * power.target_power:.0f} % power")
    return (f"about {e.seeds} runs per arm (range {rng} for the SD's uncertainty) would detect a "
            f"{F.points(e.delta, signed=False)} Δ with {100 * power.target_power:.0f} % power")


def scenario(
    target: Summary,
    baseline: Summary,
    hypotheses: Mapping[str, HypothesisOutcome],
    th: Thresholds,
    target_name: str,
    baseline_name: str,
    basis: str,
    power: PowerPlan | None = None,
    gates: Sequence[Gate] = (),
) -> Scenario:
    """The strategy document's scenario (rules in the module docstring), with a sentence citing
    the numbers and their intervals. ``hypotheses`` maps "H1".."H3" to outcomes; ``basis`` names
    the accuracy (e.g. "test acc at the best-validation epoch"); ``power`` gives the runs that
    would decide an inconclusive result; ``gates`` are extra conditions for best/realistic."""
    gates = tuple(gates)
    if target.mean is None or baseline.mean is None:
        which = target_name if target.mean is None else baseline_name
        return Scenario("incomplete", SCENARIO_TITLES["incomplete"],
                        f"No completed run in {which}: no scenario can be judged.", gates)
    h1 = hypotheses.get("H1")
    delta = h1.test.estimate.value if h1 and h1.test.estimate else target.mean - baseline.mean
    ci = h1.test.ci.as_tuple() if h1 and h1.test.ci else None
    head = (f"{target_name} {F.mean_ci_pct(target.mean, target.ci95, target.n)} vs {baseline_name} "
            f"{F.mean_ci_pct(baseline.mean, baseline.ci95, baseline.n)} {basis}: Δ = {F.points(delta)} "
            f"({F.ci_points(ci) + ', Welch' if ci else 'no CI'}); "
            f"{_hyp_text('H1', h1)}, {_hyp_text('H2', hypotheses.get('H2'))}, {_hyp_text('H3', hypotheses.get('H3'))}.")
    acc = rounded(target.mean)
    failed = [g for g in gates if g.passed is False]
    unknown = [g for g in gates if g.passed is None]
    h2 = hypotheses.get("H2")
    if h1 is None or not h1.test.testable:
        name = "descriptive"
        why = h1.test.reason if h1 else "H1 was not run"
        tail = f"The gain is not tested ({why}); the numbers above describe these runs only."
    elif ci is not None and rounded(ci[1]) < rounded(th.min_delta):
        name = "worst"
        tail = (f"Worst case: the whole interval for Δ lies below the smallest worthwhile gain "
                f"({F.points(th.min_delta, signed=False)}): the data change did not help, which points to "
                "architecture limits; revisit the model design.")
    elif not significant(h1.p_holm, th.alpha):
        name = "inconclusive"
        tail = (f"Inconclusive: H1 is not significant, but the interval for Δ still admits a gain of "
                f"{F.points(th.min_delta, signed=False)} or more, so this is not evidence of no effect; "
                f"{_seeds_text(power, th)}.")
    elif F.ok(delta) and rounded(delta) < rounded(th.min_delta):
        name = "inconclusive"
        tail = (f"Inconclusive: Δ is significantly above 0 but smaller than the smallest worthwhile gain "
                f"({F.points(th.min_delta, signed=False)}), and its interval reaches both sides of it; "
                f"{_seeds_text(power, th)}.")
    elif failed:
        # the target's lift over its audio-free baseline failed: the accuracy is not evidence about voices
        structural = any(g.name == LIFT_GATE for g in failed)
        name = "explained-by-structure" if structural else "not-confirmed"
        lead = ("Inconclusive: accuracy explained by window structure: " if structural
                else "The gain is significant, but ")
        tail = lead + "; ".join(g.sentence for g in failed) + "."
    elif acc >= rounded(th.best_case) and h2 is not None and h2.verdict.verdict == SUPPORTED:
        name = "best"
        tail = (f"Best case: at or above {F.pct(th.best_case)} with stable training; the architecture is sound "
                "and the data was the bottleneck.")
    elif acc >= rounded(th.best_case):
        name = "high-but-unstable"
        h2v = h2.verdict.verdict if h2 else NOT_TESTABLE
        tail = f"At or above the best-case {F.pct(th.best_case)}, but H2 (stable training) is {h2v}."
    elif acc >= rounded(th.realistic):
        name = "realistic"
        tail = (f"Realistic scenario: between {F.pct(th.realistic)} and {F.pct(th.best_case)}; real labels solve "
                "the pseudo-label limitation, production needs minor tuning.")
    else:
        name = "below-realistic"
        tail = (f"Below the realistic {F.pct(th.realistic)}: real labels help, but the model is not yet "
                "production-ready.")
    if unknown and name in ("best", "realistic", "high-but-unstable"):
        tail += " Not yet checked: " + "; ".join(g.sentence for g in unknown) + "."
    return Scenario(name, SCENARIO_TITLES[name], f"{head} {tail}", gates)


def position_caveat(target_acc: float | None, position_baseline: float | None, th: Thresholds,
                    target_name: str) -> str | None:
    """A warning when the target's accuracy is less than ``min_delta`` above what frame position
    alone predicts (``vfreport.data.labels.position_baseline_accuracy``), else None: with
    ``two-speaker`` labels much of the accuracy can come from position, so the verdict says so
    instead of crediting the architecture with it."""
    if target_acc is None or position_baseline is None:
        return None
    if not (math.isfinite(target_acc) and math.isfinite(position_baseline)):
        return None
    gain = target_acc - position_baseline
    if rounded(gain) >= rounded(th.min_delta):
        return None
    return (f"Caution: {target_name} is only {F.points(gain)} above its position-only baseline "
            f"({F.pct(position_baseline)}, what frame position alone predicts): the model has mostly learnt "
            "when the first speaker talks, not who is talking, so this does not yet show that the "
            "architecture separates voices.")
