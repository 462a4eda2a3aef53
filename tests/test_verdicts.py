"""vfreport.analysis.verdicts: labels at and around every threshold, readiness caps, hypothesis
verdicts, the primary endpoint's decisions (one bound per claim), the scenario's rules, comparison
sentences that agree with their intervals, gates, and the one number formatter."""

from __future__ import annotations

import numpy as np
import pytest

from vfreport import format as F
from vfreport.analysis import primary as P
from vfreport.analysis import verdicts as V
from vfreport.analysis.compute import runs_advice
from vfreport.analysis.hypotheses import h1_test
from vfreport.config import Thresholds
from vfreport.stats.crossed import CrossedComparison
from vfreport.stats.intervals import summarize
from vfreport.stats.power import power_plan
from vfreport.stats.results import Estimate, Interval, TestResult, not_testable

TH = Thresholds()
ACC = (0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean", "ci", "label"),
    [
        (0.85, (0.7501, 0.95), "ready"),
        (0.85, (0.75, 0.95), "poc"),  # the interval must clear 75 %
        (0.80, (0.65, 0.95), "poc"),
        (0.80, (0.6499, 0.95), "uncertain"),  # straddles 65 %: PoC not established
        (0.60, (0.55, 0.6499), "data-quality"),
        (0.60, (0.55, 0.65), "uncertain"),
        (0.90, None, "not-assessable"),  # one run: no interval, no label
        (0.85, (0.75 + 1e-15, 0.95), "poc"),  # float noise does not flip the label
    ],
)
def test_the_accuracy_rule_reads_the_interval(mean, ci, label):
    assert V.accuracy_readiness(mean, ci, TH) == label
    assert V.production_readiness(mean, ci, TH).code == label  # real data, no DER: no cap


def test_readiness_is_insufficient_data_when_flagged_and_none_without_a_value():
    assert V.production_readiness(0.95, (0.9, 1.0), TH, insufficient=True).code == "insufficient-data"
    assert V.production_readiness(None, None, TH).code is None
    assert V.production_readiness(0.85, (0.81, 0.89), Thresholds(ready=0.9, poc=0.8)).code == "poc"


def test_readiness_is_capped_by_the_yardstick_and_never_ready_on_synthetic_data():
    ready = (0.9, (0.85, 0.95))
    capped = V.production_readiness(*ready, TH, der_beats_baselines=False, der_reason="its DER does not beat X")
    assert capped.code == "poc" and capped.accuracy_code == "ready" and capped.reasons == ("its DER does not beat X",)
    synthetic = V.production_readiness(*ready, TH, synthetic=True, der_beats_baselines=True)
    assert synthetic.code == "ready-synthetic" and synthetic.evidence == "synthetic" and not synthetic.reasons
    assert V.production_readiness(*ready, TH, synthetic=True, der_beats_baselines=False).code == "poc"
    ceiling = Thresholds(ready_der=0.20)
    assert V.production_readiness(*ready, ceiling, der_ci=(0.15, 0.199)).code == "ready"
    high = V.production_readiness(*ready, ceiling, der_ci=(0.15, 0.25))
    assert high.code == "poc" and "ready_der ceiling 20.0 %" in high.reasons[0]
    assert V.production_readiness(0.6, (0.55, 0.62), TH, der_beats_baselines=False).code == "data-quality"


@pytest.mark.parametrize(("hr", "label"), [(0.05, "high"), (0.0501, "moderate"), (0.1, "moderate"), (0.1001, "low")])
def test_stability_boundaries(hr, label):
    assert V.stability(hr, TH) == label


def test_data_shortfall_rule():
    short = V.data_shortfall({"train_windows": 240, "val_windows": 50}, {"train_windows": 8, "val_windows": 4})
    assert short == ["train: 8 of 240 windows (3 %)", "val: 4 of 50 windows (8 %)"]
    assert V.data_shortfall({"train_windows": 240}, {"train_windows": 120}) == []  # exactly half is enough
    assert V.data_shortfall({"train_windows": 240}, {}) == []  # unknown is not flagged


def test_expected_range_is_inclusive():
    assert V.in_expected_range(0.15, TH) and V.in_expected_range(0.25, TH)
    assert not V.in_expected_range(0.1499, TH) and V.in_expected_range(None, TH) is None


# ---------------------------------------------------------------------------------------------
# hypotheses
# ---------------------------------------------------------------------------------------------


def _h1(t, b, p_holm=None):
    test = h1_test(t, b, n_resamples=200)
    p = test.p_value if p_holm is None else p_holm
    v = V.h1_verdict(test, p, TH, "AMI", "Libri", summarize(t, ACC), summarize(b, ACC), "test acc",
                     test.bounds.lower if test.bounds else None)
    return V.HypothesisOutcome(test, p, v)


def _h2(verdict: str) -> V.HypothesisOutcome:
    t = TestResult("exact permutation test", True, statistic_name="Δ mean log SD", statistic=-1.0, p_value=0.01,
                   estimate=Estimate("ratio", 0.3), ci=Interval(0.1, 0.6, "Welch"), n=(5, 5))
    return V.HypothesisOutcome(t, 0.02, V.Verdict(verdict, "..."))


def test_h1_verdict_cites_delta_welch_interval_and_holm_p():
    o = _h1([0.80, 0.82, 0.81], [0.55, 0.57, 0.56])
    assert o.verdict.verdict == "supported"
    assert "Δ = +25.0 points (one-sided 95 % lower bound +23." in o.verdict.reason and "Welch" in o.verdict.reason
    assert "Hedges' g" in o.verdict.reason and "n = 3 and 3 runs" in o.verdict.reason
    assert V.h1_verdict(o.test, 0.2, TH, "AMI", "Libri", summarize([0.8]), summarize([0.5]), "x").verdict == \
        "not supported"
    tasks = V.h1_verdict(o.test, 0.2, TH, "AMI", "Libri", summarize([0.8]), summarize([0.5]), "x",
                         different_tasks="These accuracies measure different tasks.")
    assert tasks.reason.endswith("These accuracies measure different tasks.")


def test_h2_not_decidable_and_thresholds():
    und = TestResult("exact permutation test", True, p_value=0.05, estimate=Estimate("ratio", 0.2),
                     n=(3, 3), min_p=0.05, decidable=False, reason="not decidable at n = 3 and 3")
    v = V.h2_verdict(und, None, TH, "T", "B", 0.01, 0.15)
    assert v.verdict == V.NOT_DECIDABLE and "not decidable" in v.reason
    dec = TestResult("exact permutation test", True, p_value=0.004, estimate=Estimate("ratio", 0.2), n=(5, 5))
    assert V.h2_verdict(dec, 0.01, TH, "T", "B", 0.01, 0.15).verdict == V.SUPPORTED
    noisy = V.h2_verdict(dec, 0.01, TH, "T", "B", 0.06, 0.15)
    assert noisy.verdict == V.NOT_SUPPORTED and "noise not below ±5.0 %" in noisy.reason
    thin = V.h2_verdict(not_testable("perm", "one run per arm", (1, 1)), None, TH, "T", "B", 0.01, 0.1)
    assert thin.verdict == V.NOT_TESTABLE and "one run per arm" in thin.reason


# ---------------------------------------------------------------------------------------------
# scenario
# ---------------------------------------------------------------------------------------------


def _scenario(t, b, h2="supported", gates=()):
    """The verdict without an evaluation: H1 is the primary endpoint, H2 in the secondary family."""
    primary = P.accuracy_primary(h1_test(t, b, n_resamples=200), TH, "test acc", "synthetic")
    advice = runs_advice(primary, power_plan(t, b, {"min_delta": TH.min_delta}, min_delta=TH.min_delta), TH)
    return V.scenario(primary, summarize(t, ACC), summarize(b, ACC), {"H2": _h2(h2)}, TH, "AMI", "Libri",
                      "test acc", advice, gates, fallback_reason="no meetings")


def test_without_an_evaluation_the_first_sentence_says_the_verdict_falls_back_to_h1_and_names_the_data():
    s = _scenario([0.95, 0.64, 0.93], [0.60, 0.63, 0.58])
    first = s.sentence.split(". ")[0]
    assert first.startswith("No DER evaluation on held-out meetings (no meetings), so this verdict falls back to H1")
    assert "on synthetic data" in first


def test_regression_a_not_significant_is_not_worst():
    """95/64/93 % vs 60/63/58 %: Welch p = 0.07 but Δ = +23.7 points; 0.1.0 said "worst"."""
    s = _scenario([0.95, 0.64, 0.93], [0.60, 0.63, 0.58])
    assert s.name == "inconclusive" and s.decision == V.INCONCLUSIVE
    assert "not evidence of no effect" in s.sentence and "runs per arm" in s.sentence
    assert "--until-decided" in s.sentence and "re-testing at a fixed α" in s.sentence
    assert "= +23.7 points (95 % CI -18.2 to +65.6 points; one-sided 95 % lower bound" in s.sentence


def test_worst_only_when_the_interval_excludes_a_worthwhile_gain():
    rng = np.random.default_rng(0)
    t, b = list(0.60 + rng.normal(0, 0.005, 6)), list(0.60 + rng.normal(0, 0.005, 6))
    s = _scenario(t, b)
    assert s.name == "worst" and "excludes a gain of 5.0 points" in s.sentence
    assert "did not help" not in s.sentence  # the data change did not buy what was needed


def test_a_gain_shown_below_min_delta_is_gain_uncertain_unless_its_interval_excludes_min_delta():
    t, b = [0.640, 0.645, 0.650, 0.66], [0.60, 0.605, 0.61, 0.615]  # Δ ≈ 4.1 points, interval reaching 5
    s = _scenario(t, b)
    assert s.name == "gain-uncertain" and s.decision == V.GAIN_UNCERTAIN
    assert "A gain is shown (the bound clears 0) but not one of 5.0 points" in s.sentence
    tight = _scenario([0.630, 0.631, 0.632, 0.633], [0.600, 0.601, 0.602, 0.603])  # Δ = 3 points, tight
    assert tight.name == "worst" and "A gain above 0 is shown, but the 95 % interval excludes" in tight.sentence


@pytest.mark.parametrize(("level", "h2", "name"), [
    (0.85, "supported", "best"),
    (0.85, "not decidable", "high-but-unstable"),
    (0.78, "supported", "realistic"),
    (0.70, "supported", "below-realistic"),
])
def test_a_worthwhile_gain_is_named_for_the_lower_end_of_the_target_accuracy(level, h2, name):
    s = _scenario([level - 0.005, level, level + 0.005], [0.55, 0.56, 0.57], h2=h2)
    assert s.decision == V.WORTHWHILE and s.name == name and s.title == V.SCENARIO_TITLES[name]


def test_best_reads_the_bound_not_the_point():
    s = _scenario([0.74, 0.84, 0.94], [0.55, 0.56, 0.57])  # mean 84 %, but its interval reaches 59 %
    assert s.decision == V.WORTHWHILE and s.name == "below-realistic"


def test_gates_block_best_and_realistic_and_unknown_gates_are_cited():
    t, b = [0.84, 0.85, 0.86], [0.55, 0.56, 0.57]
    lift = V.Gate("lift", False, "the target is only +1.0 points above its audio-free baseline")
    s = _scenario(t, b, gates=[lift])
    assert s.name == "not-confirmed" and "audio-free baseline" in s.sentence
    assert s.to_dict()["gates"] == [{"name": "lift", "passed": False, "sentence": lift.sentence}]
    der = V.Gate("der", None, "DER on held-out meetings was not computed")
    unknown = _scenario(t, b, gates=[der])
    assert unknown.name == "best" and "Not yet checked: DER" in unknown.sentence


def test_one_run_per_arm_is_descriptive_and_missing_arms_are_incomplete():
    s = _scenario([0.85], [0.55])
    assert s.name == "descriptive" and "one run per arm" in s.sentence
    empty = summarize([])
    p = P.accuracy_primary(h1_test([], [0.6]), TH, "test acc", "synthetic")
    inc = V.scenario(p, empty, summarize([0.6]), {}, TH, "AMI", "Libri", "test acc")
    assert inc.name == "incomplete" and "AMI" in inc.sentence


# ---------------------------------------------------------------------------------------------
# the primary endpoint on DER
# ---------------------------------------------------------------------------------------------


def _der(est, lo90, hi90, lo95, hi95):
    return V.Primary("der", "ΔDER on 6 held-out meetings", TH.min_der_delta, TH.alpha, True, estimate=est,
                     ci95=(lo95, hi95), gain=-est, gain_bound=-hi90, gain_upper=-lo95, p_value=0.01, df=5.0,
                     data="synthetic")


@pytest.mark.parametrize(("primary", "decision"), [
    (_der(-0.08, -0.12, -0.0301, -0.13, -0.02), V.WORTHWHILE),  # the gain's bound 3.01 > 3 points
    (_der(-0.08, -0.12, -0.03, -0.13, -0.02), V.GAIN_UNCERTAIN),  # exactly 3: not beyond it
    (_der(0.00, -0.02, 0.02, -0.0299, 0.03), V.NO_WORTHWHILE_GAIN),  # a 3-point gain excluded by the 95 % CI
    (_der(0.00, -0.02, 0.02, -0.03, 0.03), V.INCONCLUSIVE),
    (_der(-0.02, -0.028, -0.001, -0.029, 0.0), V.NO_WORTHWHILE_GAIN),  # a small gain is shown, but not 3 points
])
def test_primary_decision_reads_one_bound_per_claim(primary, decision):
    assert V.primary_decision(primary) == decision


def test_the_der_primary_sentence_names_data_direction_and_bound():
    s = V.primary_sentence(_der(-0.068, -0.19, -0.002, -0.219, 0.084), "AMI", "Libri")
    assert s.startswith("On synthetic data, ΔDER on 6 held-out meetings (AMI − Libri, lower is better) = -6.8 points")
    assert "(95 % CI -21.9 to +8.4 points; one-sided 95 % upper bound -0.2 points" in s
    assert "AMI is better than Libri by 6.8 points" in s and s.endswith("gain shown, size uncertain.")


@pytest.mark.parametrize(("bounds", "start", "beats"), [
    ((-0.284, -0.202), "beats the one-speaker baseline by 24.3 points (90 % CI -28.4 to -20.2 points)", True),
    ((-0.089, 0.007), "the one-speaker comparison is undecided (ΔDER -4.1 points, 90 % CI -8.9 to +0.7", False),
    ((0.01, 0.05), "is worse than the one-speaker baseline by 3.0 points (90 % CI +1.0 to +5.0", False),
])
def test_comparison_sentences_agree_with_their_interval(bounds, start, beats):
    est = {True: -0.243, False: -0.041}[beats] if bounds[0] < 0 else 0.03
    c = CrossedComparison(estimate=est, se=0.01, df=5.0, ci=(bounds[0] - 0.01, bounds[1] + 0.01),
                          upper_bound=bounds[1], lower_bound=bounds[0], p_value=0.01, statistic=-2.0, n_runs=(3, 1),
                          n_meetings=6, components={}, method="crossed")
    ok, sentence = P.comparison_sentence(c, "one-speaker")
    assert ok is beats and sentence.startswith(start), sentence
    both, text = P.beats_baselines({"one-speaker": c, "position": c}, "AMI")
    assert both is beats and text.startswith(f"AMI's DER (lower is better) {'beats' if beats else 'does not beat'}")


def test_position_caveat_at_and_around_min_delta():
    assert "+1.2 points above its position-only baseline (79.8 %," in V.position_caveat(0.81, 0.798, TH, "AMI")
    assert V.position_caveat(0.85, 0.80, TH, "AMI") is None  # exactly 5 points
    assert V.position_caveat(None, 0.5, TH, "AMI") is None


# ---------------------------------------------------------------------------------------------
# the one formatter
# ---------------------------------------------------------------------------------------------


def test_one_p_value_format_for_sentences_and_tables():
    assert F.pvalue(0.004) == "0.004" and F.p_text(0.004) == "p = 0.004"
    assert F.pvalue(0.0004) == "< 0.001" and F.p_text(0.0004) == "p < 0.001"
    assert F.p_text(None) == "p n/a" and F.pvalue(float("nan")) == "n/a"
    o = _h1([0.80, 0.82, 0.81], [0.55, 0.57, 0.56], p_holm=0.004)
    assert "Holm p = 0.004" in o.verdict.reason


def test_numbers_intervals_and_marks():
    assert F.pct(0.615) == "61.5 %" and F.points(0.17) == "+17.0 points" and F.points(0.17, signed=False) == \
        "17.0 points"
    assert F.ci_pct((0.741, 0.825)) == "95 % CI 74.1–82.5 %" and F.ci_points((-0.18, 0.66)) == \
        "95 % CI -18.0 to +66.0 points"
    assert F.mean_ci_pct(0.8, None, 1) == "80.0 % (n = 1)" and F.ci_pct(None) == "no CI"
    assert F.df_text(None) == "—" and F.df_text(2.08) == "2.1" and F.num(True) == "n/a"
    assert set(F.MARKS.values()) == {"✅", "⚠️", "❌"}
