"""Verdicts (docs/verdicts.md): the config's thresholds applied to the statistics, as pure functions
returning a label and a sentence that cites the numbers with their intervals and the bound each
decision read.

Values are rounded to 9 decimals before comparing, so float noise such as 0.7500000000000001
does not flip a label.

**Testing order.** The primary endpoint is tested first, at full α: ΔDER on the common yardstick
(target − baseline arm, every run of both arms on the same held-out meetings, crossed
random-effects comparison) whenever an evaluation exists; otherwise H1 (one-sided Welch test on
the selection-unbiased accuracy), and the verdict's first sentence says so. The strategy
document's H1–H3 (H2–H3 when H1 is the primary) form the secondary family, Holm-adjusted within
the family at α. The secondary family only changes the scenario after the primary endpoint has
shown a worthwhile gain (best vs realistic reads H2): serial gatekeeping, so the scenario's
familywise error stays at α (Dmitrienko & Tamhane 2007, "Gatekeeping procedures with clinical
trial applications", Pharmaceutical Statistics 6).

**Primary decision** (:func:`primary_decision`), in the gain orientation (gain = baseline DER −
target DER, or target accuracy − baseline accuracy), with ``threshold`` = ``min_der_delta`` (DER)
or ``min_delta`` (accuracy):

- "worthwhile" when the one-sided (1 − α) lower bound of the gain is above the threshold;
- "no-worthwhile-gain" when the upper end of the gain's two-sided 95 % interval (a one-sided
  97.5 % bound) is below the threshold: said at most 2.5 % of the time when the true gain equals
  the threshold; it may come with a gain above 0 (then the sentence says a small gain is shown),
  never with a gain shown beyond the threshold;
- "gain-uncertain" (gain shown, size uncertain) when the one-sided lower bound is above 0 only;
- "inconclusive" otherwise, with the runs that would decide it and ``run-all --until-decided``.

**Scenario** (:func:`scenario`): "incomplete" (an arm without runs); "descriptive" (the primary
endpoint not testable); "worst" (no worthwhile gain: the data change did not buy what was
needed), "inconclusive", "gain-uncertain" from the primary decision; after a worthwhile gain, a
failed :class:`Gate` (the target's lift ≥ ``min_lift`` with an interval above 0; the target's DER
below both model-free baselines; enough data) gives "explained-by-structure" (lift) or
"not-confirmed"; else the target's accuracy is read by its 95 % interval's lower end: "best"
(≥ best_case with H2 supported), "high-but-unstable" (≥ best_case without H2), "realistic"
(≥ realistic), "below-realistic" (the realistic accuracy is not shown). A gate that could not be
evaluated (``passed`` None) is cited as a caution without blocking.

**Production readiness** (:func:`production_readiness`) of an arm reads the 95 % interval of its
selection-unbiased accuracy: "ready" when its lower end is above ``ready`` (75 %), "poc" when the
lower end is at least ``poc`` (65 %), "data-quality" when the upper end is below ``poc``,
"uncertain" when it straddles ``poc``; "not-assessable" with one run (no interval);
"insufficient-data" when the arm received under :data:`MIN_DATA_FRACTION` of its windows. Caps:
an arm whose DER does not beat both model-free baselines (the one-sided bound of each difference
below 0) is at most "poc", as is an arm whose DER interval does not lie below
``thresholds.ready_der`` when that is set; an arm whose evidence is synthetic never gets "ready":
it gets "ready-synthetic" (passes on synthetic data; not a production claim).

**Stability** on the detrended noise half range: "high" if ``<= max_variance``, "moderate" if
``<= 2 × max_variance``, else "low".

**Secondary hypotheses**: "supported" when the test's Holm-adjusted p < α (H2 also needs the
target's noise half range < max_variance and a noise ratio < 1); "not decidable" when the design
cannot reach α at this n; "not testable" when there are too few runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vfreport import format as F
from vfreport.analysis.lift import GATE_NAME as LIFT_GATE
from vfreport.config import Thresholds
from vfreport.stats.intervals import Summary
from vfreport.stats.results import TestResult

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_DECIDABLE = "not decidable"
NOT_TESTABLE = "not testable"
MIN_DATA_FRACTION = 0.5
"""An arm whose runs received fewer than this fraction of the windows asked for (in any split) is
flagged and gets "insufficient data" instead of a readiness verdict."""
DIGITS = 9
UNTIL_DECIDED = "vfreport run-all --until-decided"

WORTHWHILE = "worthwhile"
GAIN_UNCERTAIN = "gain-uncertain"
NO_WORTHWHILE_GAIN = "no-worthwhile-gain"
INCONCLUSIVE = "inconclusive"
PRIMARY_NOT_TESTABLE = "not-testable"
PRIMARY_DECISIONS = {
    WORTHWHILE: "worthwhile improvement",
    GAIN_UNCERTAIN: "gain shown, size uncertain",
    NO_WORTHWHILE_GAIN: "no worthwhile gain",
    INCONCLUSIVE: "not decided",
    PRIMARY_NOT_TESTABLE: "not testable",
}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str


@dataclass(frozen=True)
class HypothesisOutcome:
    """A test, its Holm-adjusted p (None when it is the primary endpoint, tested at full α, or not
    in the family) and its verdict: what :func:`scenario` reads."""

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
class Primary:
    """The primary endpoint of one experiment (module docstring), in two orientations: ``estimate``
    and ``ci95`` as measured (ΔDER = target − baseline, lower is better; Δacc = target − baseline),
    ``gain``, ``gain_bound`` and ``gain_upper`` with positive = target better.

    ``gain_bound``: the one-sided (1 − α) lower confidence bound of the gain (what the gain test
    reads); ``gain_upper``: the upper end of the gain's two-sided 95 % interval (what "no
    worthwhile gain" reads). ``p_value``: one-sided, H0 no gain."""

    endpoint: str  # "der" | "accuracy"
    label: str  # "ΔDER on 6 held-out meetings" / "Δ test acc (best epoch chosen on validation)"
    threshold: float
    alpha: float
    testable: bool
    estimate: float | None = None
    ci95: tuple[float, float] | None = None
    gain: float | None = None
    gain_bound: float | None = None
    gain_upper: float | None = None
    p_value: float | None = None
    df: float | None = None
    se: float | None = None
    statistic: float | None = None
    method: str = ""
    n: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""
    data: str = ""  # "synthetic" | "real" | "mixed": what the endpoint's evidence rests on

    @property
    def lower_is_better(self) -> bool:
        return self.endpoint == "der"

    @property
    def native_bound(self) -> float | None:
        """The one-sided bound in the measured orientation (ΔDER's upper bound; Δacc's lower bound)."""
        if self.gain_bound is None:
            return None
        return -self.gain_bound if self.lower_is_better else self.gain_bound


@dataclass(frozen=True)
class Readiness:
    """An arm's production readiness: the code, what the accuracy rule alone said, and why any
    cap applied (sentences)."""

    code: str | None
    accuracy_code: str | None
    reasons: tuple[str, ...] = ()
    evidence: str = ""  # "synthetic" | "real"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sentence: str
    gates: tuple[Gate, ...] = ()
    decision: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "sentence": self.sentence, "primary_decision": self.decision,
                "gates": [{"name": g.name, "passed": g.passed, "sentence": g.sentence} for g in self.gates]}


def rounded(x: float) -> float:
    return round(float(x), DIGITS)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


def accuracy_readiness(mean: float | None, ci: Any, th: Thresholds, insufficient: bool = False) -> str | None:
    """The strategy document's accuracy rule on the 95 % interval (module docstring), before caps.
    None when there is no value; "not-assessable" without an interval (one run)."""
    if insufficient:
        return "insufficient-data"
    if not F.ok(mean):
        return None
    if not F.ci_ok(ci):
        return "not-assessable"
    lo, hi = ci[0], ci[1]
    if rounded(lo) > rounded(th.ready):
        return "ready"
    if rounded(lo) >= rounded(th.poc):
        return "poc"
    if rounded(hi) < rounded(th.poc):
        return "data-quality"
    return "uncertain"


def production_readiness(mean: float | None, ci: Any, th: Thresholds, insufficient: bool = False, *,
                         synthetic: bool = False, der_beats_baselines: bool | None = None, der_reason: str = "",
                         der_ci: Any = None) -> Readiness:
    """Readiness of an arm (module docstring): the accuracy rule, capped at "poc" when its DER does
    not beat both model-free baselines (``der_beats_baselines`` False, ``der_reason`` cited) or
    when ``th.ready_der`` is set and ``der_ci`` (the arm's DER interval) does not lie below it, and
    "ready-synthetic" instead of "ready" when the evidence is synthetic."""
    acc = accuracy_readiness(mean, ci, th, insufficient)
    code, reasons = acc, []
    if der_beats_baselines is False:
        reasons.append(der_reason or "its DER does not beat both model-free baselines")
        if code == "ready":
            code = "poc"
    if th.ready_der is not None:
        below = F.ci_ok(der_ci) and rounded(der_ci[1]) < rounded(th.ready_der)
        if not below:
            reasons.append(f"its DER interval ({F.ci_pct(der_ci) if F.ci_ok(der_ci) else 'not measured'}) does not "
                           f"lie below the ready_der ceiling {F.pct(th.ready_der)}")
            if code == "ready":
                code = "poc"
    if code == "ready" and synthetic:
        code = "ready-synthetic"
    return Readiness(code, acc, tuple(reasons), "synthetic" if synthetic else "real")


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
            out.append(f"{split}: {int(got)} of {int(asked)} windows ({F.pct(got / asked, 0)})")
    return out


def significant(p: float | None, alpha: float) -> bool:
    return F.ok(p) and p < alpha


def in_expected_range(delta: float | None, th: Thresholds) -> bool | None:
    """Whether Δ falls in the strategy document's expected gain [lo, hi] (inclusive)."""
    if not F.ok(delta):
        return None
    lo, hi = th.expected_gain
    return rounded(lo) <= rounded(delta) <= rounded(hi)


def data_words(sources: Sequence[str]) -> str:
    """'synthetic', 'real' or 'mixed' for the sources (config ``source``) an evidence rests on."""
    kinds = {"synthetic" if s == "synthetic" else "real" for s in sources if s}
    return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "unknown"


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


def _decision(p: float | None, alpha: float, holm: bool = True) -> str:
    what = "Holm p" if holm else "p"
    return f"({what} {'<' if significant(p, alpha) else 'not <'} α = {alpha:g})"


def _n_text(test: TestResult) -> str:
    return f"n = {' and '.join(str(k) for k in test.n)} {test.unit}" if test.n else ""


def bound_text(bound: float | None, alpha: float, kind: str = "lower", unit: str = "points") -> str:
    """'one-sided 95 % lower bound +3.1 points'."""
    value = F.points(bound) if unit == "points" else F.pct(bound) if unit == "pct" else F.num(bound)
    return f"one-sided {F.pct(1 - alpha, 0)} {kind} bound {value}"


# ---------------------------------------------------------------------------------------------
# the secondary family
# ---------------------------------------------------------------------------------------------


def h1_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str, baseline_name: str,
               target: Summary, baseline: Summary, basis: str, bound: float | None = None,
               different_tasks: str = "") -> Verdict:
    """H1 (real labels → higher accuracy): supported iff the one-sided Welch test's p (Holm-adjusted
    in the secondary family; raw when H1 is the primary endpoint, ``p_holm`` None) < α. ``bound``
    is the one-sided (1 − α) lower bound of Δ printed beside it; ``different_tasks`` (a sentence)
    says when the arms' label strategies make their accuracies measure different tasks."""
    head = (f"{target_name} {F.mean_ci_pct(target.mean, target.ci95, target.n)} vs {baseline_name} "
            f"{F.mean_ci_pct(baseline.mean, baseline.ci95, baseline.n)} {basis}")
    tasks = f" {different_tasks}" if different_tasks else ""
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not tested: {test.reason}.{tasks}")
    delta = test.estimate.value if test.estimate else None
    es = test.effect_size
    es_text = f"; {es.name} = {F.num(es.value)}" if es is not None and F.ok(es.value) else ""
    expected = in_expected_range(delta, th)
    lo, hi = th.expected_gain
    exp_text = (f"; Δ is {'inside' if expected else 'outside'} the expected +{100 * lo:.0f} to +{100 * hi:.0f} points"
                if expected is not None else "")
    p = p_holm if p_holm is not None else test.p_value
    reason = (f"{head}: Δ = {F.points(delta)} ({bound_text(bound, th.alpha)}, Welch; {_n_text(test)}); "
              f"{test_text(test, p_holm)} {_decision(p, th.alpha, p_holm is not None)}{es_text}{exp_text}.{tasks}")
    return Verdict(SUPPORTED if significant(p, th.alpha) else NOT_SUPPORTED, reason)


def h2_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str, baseline_name: str,
               target_noise: float | None, baseline_noise: float | None) -> Verdict:
    """H2 (real labels → stable training): supported iff the target's mean noise half range is
    < max_variance, the noise ratio (target / baseline) is < 1, and the one-sided permutation
    test's Holm p < α. "not decidable" when the test cannot reach α at this n."""
    head = (f"{target_name} val acc noise ±{F.pct(target_noise)} over epochs 1–10 after removing "
            f"the learning trend (threshold < ±{F.pct(th.max_variance)}) vs ±{F.pct(baseline_noise)} for "
            f"{baseline_name}")
    if not test.testable:
        return Verdict(NOT_TESTABLE, f"{head}; not tested: {test.reason}.")
    ratio = test.estimate.value if test.estimate else None
    upper = test.extra.get("one_sided_bound") if test.extra else None
    bound = f", {bound_text(upper, th.alpha, 'upper', 'num')}" if F.ok(upper) else ""
    text = f"{head}; noise SD ratio {F.num(ratio)} ({_n_text(test)}{bound}); {test_text(test, p_holm)}"
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


def h3_verdict(test: TestResult, p_holm: float | None, th: Thresholds, target_name: str,
               bound: float | None = None) -> Verdict:
    """H3 (real labels → better learning): supported iff the one-sided one-sample t-test of train
    acc at epoch 10 > th.train_acc_epoch10 has Holm p < α; ``bound`` is the mean's one-sided
    (1 − α) lower bound printed beside it."""
    thr = F.pct(th.train_acc_epoch10)
    est = test.estimate.value if test.estimate else None
    if not test.testable:
        got = f" (mean {F.pct(est)})" if F.ok(est) else ""
        return Verdict(NOT_TESTABLE, f"{target_name} train acc at epoch 10{got} vs threshold {thr}; not tested: "
                                     f"{test.reason}.")
    es = test.effect_size
    es_text = f"; {es.name} = {F.num(es.value)}" if es is not None and F.ok(es.value) else ""
    reason = (f"{target_name} train acc at epoch 10 {F.pct(est)} ({bound_text(bound, th.alpha, unit='pct')}, "
              f"{_n_text(test)}) vs threshold > {thr}; {test_text(test, p_holm)} {_decision(p_holm, th.alpha)}"
              f"{es_text}.")
    return Verdict(SUPPORTED if significant(p_holm, th.alpha) else NOT_SUPPORTED, reason)


# ---------------------------------------------------------------------------------------------
# the primary endpoint
# ---------------------------------------------------------------------------------------------


def primary_decision(p: Primary) -> str:
    """The primary endpoint's decision (module docstring: each reads its bound)."""
    if not p.testable or not (F.ok(p.gain_bound) and F.ok(p.gain_upper)):
        return PRIMARY_NOT_TESTABLE
    thr = rounded(p.threshold)
    if rounded(p.gain_bound) > thr:
        return WORTHWHILE
    if rounded(p.gain_upper) < thr:
        return NO_WORTHWHILE_GAIN
    if rounded(p.gain_bound) > 0:
        return GAIN_UNCERTAIN
    return INCONCLUSIVE


def _amount(p: Primary, x: float | None) -> str:
    return F.points(x, signed=False) if F.ok(x) else "n/a"


def primary_sentence(p: Primary, target_name: str, baseline_name: str) -> str:
    """The primary endpoint in one sentence, naming its data: 'On synthetic data, ΔDER on 6 held-out
    meetings (target − baseline, lower is better) = −6.8 points (95 % CI …; one-sided 95 % upper
    bound …; method, df, p): not decided.'"""
    data = f"On {p.data} data, " if p.data in ("synthetic", "real", "mixed") else ""
    if not p.testable:
        return f"{data}{p.label}: not testable ({p.reason})."
    kind = "upper" if p.lower_is_better else "lower"
    direction = ("lower is better" if p.lower_is_better else "higher is better")
    better = ""
    if F.ok(p.gain):
        who, other = (target_name, baseline_name) if p.gain > 0 else (baseline_name, target_name)
        better = f"; {who} is better than {other} by {_amount(p, abs(p.gain))} on this measure"
    dof = f", df = {F.df_text(p.df)}" if F.ok(p.df) else ""
    return (f"{data}{p.label} ({target_name} − {baseline_name}, {direction}) = {F.points(p.estimate)} "
            f"({F.ci_points(p.ci95)}; {bound_text(p.native_bound, p.alpha, kind)}{dof}, {F.p_text(p.p_value)} "
            f"one-sided{better}): {PRIMARY_DECISIONS[primary_decision(p)]}.")


# ---------------------------------------------------------------------------------------------
# scenario
# ---------------------------------------------------------------------------------------------

SCENARIO_TITLES = {
    "best": "Best case: real labels reach production accuracy with stable training",
    "realistic": "Realistic scenario: real labels fix the pseudo-label limitation",
    "worst": "No worthwhile gain: the data change did not buy what was needed",
    "inconclusive": "Inconclusive: not enough evidence either way",
    "gain-uncertain": "Gain shown, size uncertain",
    "descriptive": "Descriptive only: too few runs to test the gain",
    "not-confirmed": "Worthwhile gain, but not confirmed by every condition",
    "explained-by-structure": "Inconclusive: accuracy explained by window structure",
    "high-but-unstable": "Best-case accuracy, but stable training not shown",
    "below-realistic": "Worthwhile gain, but the realistic accuracy is not shown",
    "incomplete": "Not enough completed runs for a verdict",
}


def _hyp_text(key: str, h: HypothesisOutcome | None) -> str:
    if h is None or h.verdict.verdict == NOT_TESTABLE:
        return f"{key} not tested"
    if h.verdict.verdict == NOT_DECIDABLE:
        return f"{key} not decidable at n = {' and '.join(map(str, h.test.n))}"
    return f"{key} {h.verdict.verdict} ({F.p_text(h.p_holm, 'Holm p')})"


def _lower(x: Any) -> float | None:
    return x[0] if F.ci_ok(x) else None


def _primary_tail(decision: str, primary: Primary, runs_advice: str) -> tuple[str, str] | None:
    """(scenario, sentence) when the primary endpoint alone decides it: not testable, no worthwhile
    gain, inconclusive, or a gain not shown to be worthwhile; None when a worthwhile gain is shown."""
    amount = _amount(primary, primary.threshold)
    if decision == PRIMARY_NOT_TESTABLE:
        return "descriptive", f"The gain is not tested ({primary.reason}); the numbers describe these runs only."
    if decision == NO_WORTHWHILE_GAIN:
        small = (" A gain above 0 is shown, but" if F.ok(primary.gain_bound) and rounded(primary.gain_bound) > 0
                 else "")
        return "worst", (f"No worthwhile gain:{small} the 95 % interval excludes a gain of {amount} (the smallest "
                         "worthwhile gain), so the data change did not buy what was needed; this points to "
                         "architecture limits: revisit the model design.")
    if decision == INCONCLUSIVE:
        return "inconclusive", (f"Inconclusive: no gain is shown, and the interval still admits a gain of {amount} "
                                f"or more, so this is not evidence of no effect; "
                                f"{runs_advice or 'more runs per arm would decide it'}.")
    if decision == GAIN_UNCERTAIN:
        return "gain-uncertain", (f"A gain is shown (the bound clears 0) but not one of {amount} or more (the "
                                  f"smallest worthwhile gain), and the interval still reaches it; "
                                  f"{runs_advice or 'more runs per arm would decide it'}.")
    return None


def _gates_tail(failed: Sequence[Gate]) -> tuple[str, str] | None:
    """(scenario, sentence) when a worthwhile gain is shown but a gate failed (the lift gate: the
    accuracy is explained by window structure); None when none failed."""
    if not failed:
        return None
    structural = any(g.name == LIFT_GATE for g in failed)
    lead = "Inconclusive: accuracy explained by window structure: " if structural else "The gain is worthwhile, but "
    name = "explained-by-structure" if structural else "not-confirmed"
    return name, lead + "; ".join(g.sentence for g in failed) + "."


def _accuracy_tail(target: Summary, h2: HypothesisOutcome | None, th: Thresholds, target_name: str,
                   basis: str) -> tuple[str, str]:
    """(scenario, sentence) of a worthwhile gain with every gate passed or unknown: best, high but
    unstable, realistic or below realistic, read on the target accuracy's lower 95 % bound and H2."""
    acc_lo = _lower(target.ci95)
    h2_ok = h2 is not None and h2.verdict.verdict == SUPPORTED
    acc = (f"{target_name}'s {basis} {F.mean_ci_pct(target.mean, target.ci95, target.n)} (read on the 95 % "
           "interval's lower end)")
    if acc_lo is not None and rounded(acc_lo) >= rounded(th.best_case) and h2_ok:
        return "best", (f"Best case: {acc} at or above {F.pct(th.best_case)} with stable training (H2 supported); "
                        "the architecture is sound and the data was the bottleneck.")
    if acc_lo is not None and rounded(acc_lo) >= rounded(th.best_case):
        return "high-but-unstable", (f"{acc} is at or above the best-case {F.pct(th.best_case)}, but H2 (stable "
                                     f"training) is {h2.verdict.verdict if h2 else NOT_TESTABLE}.")
    if acc_lo is not None and rounded(acc_lo) >= rounded(th.realistic):
        return "realistic", (f"Realistic scenario: {acc} at or above {F.pct(th.realistic)}; real labels solve the "
                             "pseudo-label limitation, production needs minor tuning.")
    return "below-realistic", (f"The gain is worthwhile, but {acc} does not show the realistic "
                               f"{F.pct(th.realistic)}{' (one run: no interval)' if acc_lo is None else ''}.")


def scenario(
    primary: Primary,
    target: Summary,
    baseline: Summary,
    secondary: Mapping[str, HypothesisOutcome],
    th: Thresholds,
    target_name: str,
    baseline_name: str,
    basis: str,
    runs_advice: str = "",
    gates: Sequence[Gate] = (),
    fallback_reason: str = "",
    flagged: str = "",
) -> Scenario:
    """The strategy document's scenario (rules in the module docstring) with a sentence that starts
    with the primary endpoint and its data.

    ``secondary`` maps "H1".."H3" to outcomes (H2 is what best vs realistic reads);
    ``runs_advice`` says how many runs would decide an inconclusive primary result;
    ``fallback_reason`` (no DER evaluation) makes the first sentence say the verdict falls back to
    H1; ``flagged`` is a sentence on whether the decision depends on flagged runs."""
    gates = tuple(gates)
    if target.mean is None or baseline.mean is None:
        which = target_name if target.mean is None else baseline_name
        return Scenario("incomplete", SCENARIO_TITLES["incomplete"],
                        f"No completed run in {which}: no scenario can be judged.", gates)
    lead = ""
    if primary.endpoint == "accuracy":
        why = f" ({fallback_reason})" if fallback_reason else ""
        lead = (f"No DER evaluation on held-out meetings{why}, so this verdict falls back to H1, the accuracy "
                f"comparison, on {primary.data} data. ")
    head = lead + primary_sentence(primary, target_name, baseline_name)
    decision = primary_decision(primary)
    failed = [g for g in gates if g.passed is False]
    unknown = [g for g in gates if g.passed is None]
    name, tail = (_primary_tail(decision, primary, runs_advice) or _gates_tail(failed)
                  or _accuracy_tail(target, secondary.get("H2"), th, target_name, basis))
    if unknown and name in ("best", "realistic", "high-but-unstable"):
        tail += " Not yet checked: " + "; ".join(g.sentence for g in unknown) + "."
    family = [k for k in ("H1", "H2", "H3") if k in secondary]
    sec = ""
    if family:
        sec = (" Secondary family (Holm within it, after the primary endpoint): "
               + ", ".join(_hyp_text(k, secondary[k]) for k in family) + ".")
    extra = f" {flagged}" if flagged else ""
    return Scenario(name, SCENARIO_TITLES[name], f"{head} {tail}{sec}{extra}", gates, decision)


def runs_advice(needed: int | None, range_: tuple[int | None, int | None] | None, what: str, max_runs: int,
                equivalence: int | None = None, threshold_text: str = "") -> str:
    """'about 9 runs per arm (range 5–20 for the variance's uncertainty) would show a gain of 3.0
    points with 80 % power at the α the test is run at; …: run `vfreport run-all --until-decided`
    rather than re-testing at a fixed α'."""
    if needed is None:
        text = (f"more than {max_runs} runs per arm would be needed to show {what}" if max_runs
                else f"more runs per arm would be needed to show {what}")
    else:
        rng = ""
        if range_ is not None:
            lo, hi = range_
            rng = f" (range {lo or '?'}–{hi if hi is not None else f'>{max_runs}'} for the variance's uncertainty)"
        text = f"about {needed} runs per arm{rng} would show {what}"
    if equivalence is not None:
        text += f"; about {equivalence} runs per arm would show no worthwhile gain{threshold_text} if there is none"
    elif threshold_text:
        text += f"; more than {max_runs} runs per arm would be needed to show no worthwhile gain{threshold_text}"
    return (f"{text}; add them with `{UNTIL_DECIDED}` (its boundaries keep the error rate), rather than re-testing "
            "at a fixed α")


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
