"""vfreport.analysis.verdicts: labels at and around every threshold, hypothesis verdicts, the
scenario's rules (worst only when Δ's interval is below min_delta; inconclusive otherwise), gates,
and the one number formatter."""

from __future__ import annotations

import numpy as np
import pytest

from vfreport.analysis import verdicts as V
from vfreport.analysis.hypotheses import h1_test
from vfreport.config import Thresholds
from vfreport.report import format as F
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
        (0.7501, None, "ready"),  # one run: the point is read
        (0.75, None, "poc"),
        (0.6499, None, "data-quality"),
        (0.75 + 1e-15, None, "poc"),  # float noise does not flip the label
    ],
)
def test_production_readiness_reads_the_interval(mean, ci, label):
    assert V.production_readiness(mean, ci, TH) == label


def test_readiness_is_insufficient_data_when_flagged_and_none_without_a_value():
    assert V.production_readiness(0.95, (0.9, 1.0), TH, insufficient=True) == "insufficient-data"
    assert V.production_readiness(None, None, TH) is None
    assert V.production_readiness(0.85, (0.81, 0.89), Thresholds(ready=0.9, poc=0.8)) == "poc"


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
    v = V.h1_verdict(test, p, TH, "AMI", "Libri", summarize(t, ACC), summarize(b, ACC), "test acc")
    return V.HypothesisOutcome(test, p, v)


def _h2(verdict: str) -> V.HypothesisOutcome:
    t = TestResult("exact permutation test", True, statistic_name="Δ mean log SD", statistic=-1.0, p_value=0.01,
                   estimate=Estimate("ratio", 0.3), ci=Interval(0.1, 0.6, "Welch"), n=(5, 5))
    return V.HypothesisOutcome(t, 0.02, V.Verdict(verdict, "..."))


def test_h1_verdict_cites_delta_welch_interval_and_holm_p():
    o = _h1([0.80, 0.82, 0.81], [0.55, 0.57, 0.56])
    assert o.verdict.verdict == "supported"
    assert "Δ = +25.0 points (95 % CI" in o.verdict.reason and "Welch" in o.verdict.reason
    assert "Hedges' g" in o.verdict.reason and "n = 3 and 3 runs" in o.verdict.reason
    assert V.h1_verdict(o.test, 0.2, TH, "AMI", "Libri", summarize([0.8]), summarize([0.5]), "x").verdict == \
        "not supported"


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


def _scenario(t, b, h2="supported", gates=(), p_holm=None):
    h1 = _h1(t, b, p_holm)
    outcomes = {"H1": h1, "H2": _h2(h2)}
    pw = power_plan(t, b, {"min_delta": TH.min_delta})
    return V.scenario(summarize(t, ACC), summarize(b, ACC), outcomes, TH, "AMI", "Libri", "test acc", pw, gates)


def test_regression_a_not_significant_is_not_worst():
    """95/64/93 % vs 60/63/58 %: Welch p = 0.07 but Δ = +23.7 points; 0.1.0 said "worst"."""
    s = _scenario([0.95, 0.64, 0.93], [0.60, 0.63, 0.58])
    assert s.name == "inconclusive"
    assert "not evidence of no effect" in s.sentence and "runs per arm" in s.sentence
    assert "Δ = +23.7 points (95 % CI -18.2 to +65.6 points, Welch)" in s.sentence


def test_worst_only_when_the_whole_interval_is_below_min_delta():
    rng = np.random.default_rng(0)
    t, b = list(0.60 + rng.normal(0, 0.005, 6)), list(0.60 + rng.normal(0, 0.005, 6))
    s = _scenario(t, b)
    assert s.name == "worst" and "whole interval" in s.sentence


def test_a_significant_gain_below_min_delta_is_inconclusive_unless_its_interval_is_below_it():
    t, b = [0.640, 0.645, 0.650, 0.66], [0.60, 0.605, 0.61, 0.615]  # Δ ≈ 4.1 points, interval reaching 5
    s = _scenario(t, b)
    assert s.name == "inconclusive" and "smaller than the smallest worthwhile gain" in s.sentence
    tight = _scenario([0.630, 0.631, 0.632, 0.633], [0.600, 0.601, 0.602, 0.603])  # Δ = 3 points, tight
    assert tight.name == "worst"


@pytest.mark.parametrize(("level", "h2", "name"), [
    (0.85, "supported", "best"),
    (0.85, "not decidable", "high-but-unstable"),
    (0.77, "supported", "realistic"),
    (0.70, "supported", "below-realistic"),
])
def test_scenario_with_h1_supported_is_named_for_the_target_accuracy(level, h2, name):
    s = _scenario([level - 0.01, level, level + 0.01], [0.55, 0.56, 0.57], h2=h2)
    assert s.name == name and s.title == V.SCENARIO_TITLES[name]


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
    inc = V.scenario(empty, summarize([0.6]), {}, TH, "AMI", "Libri", "test acc")
    assert inc.name == "incomplete" and "AMI" in inc.sentence


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
