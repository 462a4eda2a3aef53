"""vfreport.analysis.verdicts: labels at and around every threshold, hypothesis verdicts, the scenario."""

from __future__ import annotations

import pytest

from vfreport.analysis import verdicts as V
from vfreport.config import Thresholds
from vfreport.stats.tests import EffectSize, HypothesisTestResult, Summary, not_testable

TH = Thresholds()


@pytest.mark.parametrize(
    "acc, label",
    [
        (0.6499, "data-quality"),
        (0.65, "poc"),
        (0.6501, "poc"),
        (0.7499, "poc"),
        (0.75, "poc"),
        (0.7501, "ready"),
        (0.75 + 1e-15, "poc"),  # float noise does not flip the label
        (0.0, "data-quality"),
        (1.0, "ready"),
    ],
)
def test_production_readiness_boundaries(acc, label):
    assert V.production_readiness(acc, TH) == label


def test_production_readiness_follows_the_configured_thresholds():
    th = Thresholds(ready=0.9, poc=0.8)
    assert V.production_readiness(0.85, th) == "poc"
    assert V.production_readiness(0.79, th) == "data-quality"
    assert V.production_readiness(None, th) is None


@pytest.mark.parametrize(
    "hr, label",
    [
        (0.0499, "high"),
        (0.05, "high"),
        (0.0501, "moderate"),
        (0.0999, "moderate"),
        (0.1, "moderate"),
        (0.1001, "low"),
        (0.15, "low"),
    ],
)
def test_stability_boundaries(hr, label):
    assert V.stability(hr, TH) == label


def test_expected_range_is_inclusive():
    assert V.in_expected_range(0.15, TH) and V.in_expected_range(0.25, TH)
    assert not V.in_expected_range(0.1499, TH) and not V.in_expected_range(0.2501, TH)
    assert V.in_expected_range(None, TH) is None


def test_formatting():
    assert V.fmt_pct(0.7834) == "78.3 %"
    assert V.fmt_points(0.263) == "+26.3 points" and V.fmt_points(-0.02) == "-2.0 points"
    assert V.fmt_ci_pct((0.741, 0.825)) == "95 % CI 74.1–82.5"
    assert V.fmt_ci_pct(None) == "no CI"
    assert V.fmt_p(0.0031) == "p = 0.003" and V.fmt_p(0.0002) == "p < 0.001" and V.fmt_p(None) == "p n/a"
    assert V.fmt_pct(None) == "n/a"


# ---------------------------------------------------------------------------------------------
# hypotheses
# ---------------------------------------------------------------------------------------------


def _welch(p=0.001, delta=0.2, ci=(0.15, 0.25)):
    return HypothesisTestResult(
        test="one-sided Welch t-test",
        testable=True,
        statistic=5.0,
        df=3.5,
        p_value=p,
        effect_size=EffectSize("Hedges' g", 2.0),
        estimate=EffectSize("Δ mean", delta),
        ci95=ci,
        n=(3, 3),
    )


@pytest.mark.parametrize(
    "p_holm, verdict", [(0.049, "supported"), (0.05, "not supported"), (0.2, "not supported")]
)
def test_h1_verdict_uses_the_holm_p_value_against_alpha(p_holm, verdict):
    v = V.h1_verdict(_welch(), p_holm, TH, "AMI Corpus (Real)", "LibriSpeech (Pseudo)", 0.8, 0.6)
    assert v.verdict == verdict
    assert "AMI Corpus (Real) 80.0 %" in v.reason and "LibriSpeech (Pseudo) 60.0 %" in v.reason
    assert (
        "+20.0 points" in v.reason and "95 % CI 15.0–25.0" in v.reason and "inside the expected" in v.reason
    )


def test_not_testable_hypotheses_keep_the_reason():
    t = not_testable("one-sided Welch t-test", "needs at least 2 seeds per arm, got 1 and 1", (1, 1))
    v = V.h1_verdict(t, None, TH, "T", "B", 0.8, 0.6)
    assert v.verdict == "not testable" and "2 seeds" in v.reason
    v3 = V.h3_verdict(not_testable("x", "no target run reached epoch 10", (0,)), None, TH, "T")
    assert v3.verdict == "not testable" and "epoch 10" in v3.reason


def _bf(ratio=0.2, ci=(0.1, 0.3)):
    return HypothesisTestResult(
        test="one-sided Brown–Forsythe test (median-centred Levene)",
        testable=True,
        statistic=12.0,
        df=(1.0, 16.0),
        p_value=0.001,
        alternative="less",
        effect_size=EffectSize("SD ratio", ratio),
        estimate=EffectSize("SD ratio", ratio),
        ci95=ci,
        n=(9, 9),
        unit="epoch-to-epoch changes",
        extra={"sd_target": 0.01, "sd_baseline": 0.05},
    )


def test_h2_needs_all_three_conditions():
    ok = V.h2_verdict(_bf(), 0.002, TH, "T", "B", 0.03, 0.15)
    assert ok.verdict == "supported" and "±3.0 points" in ok.reason and "F = 12.00" in ok.reason
    at_threshold = V.h2_verdict(_bf(), 0.002, TH, "T", "B", 0.05, 0.15)  # "< 5 %" is strict
    assert at_threshold.verdict == "not supported" and "half-range not below" in at_threshold.reason
    more_spread = V.h2_verdict(_bf(ratio=1.3), 0.002, TH, "T", "B", 0.03, 0.15)
    assert more_spread.verdict == "not supported" and "not less spread" in more_spread.reason
    not_sig = V.h2_verdict(_bf(), 0.06, TH, "T", "B", 0.03, 0.15)
    assert not_sig.verdict == "not supported" and "Holm p not < α" in not_sig.reason


def test_h3_verdict():
    t = HypothesisTestResult(
        test="one-sided one-sample t-test",
        testable=True,
        statistic=4.0,
        df=2.0,
        p_value=0.02,
        effect_size=EffectSize("Cohen's d", 2.3),
        estimate=EffectSize("mean", 0.82),
        ci95=(0.74, 0.90),
        n=(3,),
    )
    v = V.h3_verdict(t, 0.04, TH, "AMI Corpus (Real)")
    assert v.verdict == "supported" and "82.0 %" in v.reason and "70.0 %" in v.reason
    assert V.h3_verdict(t, 0.06, TH, "AMI").verdict == "not supported"


# ---------------------------------------------------------------------------------------------
# scenario
# ---------------------------------------------------------------------------------------------


def _s(mean, ci=(0.0, 0.0), n=3):
    lo, hi = ci if ci != (0.0, 0.0) else (mean - 0.02, mean + 0.02)
    return Summary(mean=mean, std=0.01, ci95=(lo, hi), n=n, per_seed=(mean,) * n)


def _hyp(h1="supported", h2="supported", h3="supported"):
    return {
        "H1": {"verdict": h1, "p_value_holm": 0.003},
        "H2": {"verdict": h2, "p_value_holm": 0.01},
        "H3": {"verdict": h3, "p_value_holm": 0.02},
    }


def _scen(target, baseline=0.52, hyp=None, delta=None):
    d = target - baseline if delta is None else delta
    return V.scenario(
        _s(target),
        _s(baseline),
        d,
        (d - 0.04, d + 0.04),
        hyp or _hyp(),
        TH,
        "AMI Corpus (Real)",
        "LibriSpeech (Pseudo)",
    )


@pytest.mark.parametrize(
    "target, name",
    [
        (0.85, "best"),
        (0.80, "best"),
        (0.7999, "realistic"),
        (0.7501, "realistic"),
        (0.75, "realistic"),
        (0.7499, "below-realistic"),
        (0.65, "below-realistic"),
    ],
)
def test_scenario_by_target_accuracy(target, name):
    assert _scen(target).name == name


def test_best_needs_h2_otherwise_named_for_where_it_falls():
    s = _scen(0.85, hyp=_hyp(h2="not supported"))
    assert s.name == "high-but-unstable" and "H2" in s.sentence


def test_worst_takes_precedence():
    assert _scen(0.85, hyp=_hyp(h1="not supported")).name == "worst"
    # Δ below min_delta even with H1 supported
    assert _scen(0.85, baseline=0.81).name == "worst"
    assert _scen(0.56, baseline=0.52, delta=0.0499).name == "worst"
    assert _scen(0.57, baseline=0.52, delta=0.05).name == "below-realistic"  # exactly 5 points is not worst
    worst = _scen(0.60, baseline=0.615, hyp=_hyp(h1="not supported"))
    assert "architecture" in worst.sentence and "H1 is not supported" in worst.sentence


def test_sentence_cites_numbers_and_cis():
    s = V.scenario(
        _s(0.783, (0.741, 0.825)),
        _s(0.52, (0.48, 0.56)),
        0.263,
        (0.21, 0.31),
        _hyp(),
        TH,
        "AMI Corpus (Real)",
        "LibriSpeech (Pseudo)",
    )
    assert s.name == "realistic"
    assert s.sentence.startswith(
        "AMI Corpus (Real) reached 78.3 % best val acc (95 % CI 74.1–82.5, n = 3) vs "
        "52.0 % (95 % CI 48.0–56.0, n = 3) for LibriSpeech (Pseudo): Δ = +26.3 points "
        "(95 % CI 21.0–31.0); H1 supported (p = 0.003, Holm)"
    )
    assert s.title == V.SCENARIO_TITLES["realistic"]


def test_untestable_h1_is_flagged_and_missing_arms_give_incomplete():
    s = _scen(0.77, hyp=_hyp(h1="not testable"))
    assert s.name == "realistic" and "H1 could not be tested" in s.sentence
    empty = Summary(None, None, None, 0, ())
    inc = V.scenario(empty, _s(0.6), None, None, _hyp(), TH, "AMI", "Libri")
    assert inc.name == "incomplete" and "AMI" in inc.sentence


def test_h2_without_half_ranges_says_so_plainly():
    t = not_testable("Brown–Forsythe", "no completed T run has 10 epochs", (0, 2), unit="runs")
    v = V.h2_verdict(t, None, TH, "T", "B", None, 0.15)
    assert v.verdict == "not testable" and "n/a" not in v.reason and "10 epochs" in v.reason


def test_position_caveat_at_and_around_min_delta():
    from vfreport.analysis.verdicts import position_caveat
    from vfreport.config import Thresholds

    th = Thresholds()  # min_delta = 0.05
    assert position_caveat(0.81, 0.798, th, "AMI") is not None
    assert "+1.2 points above its position-only baseline (79.8 %," in position_caveat(0.81, 0.798, th, "AMI")
    assert position_caveat(0.849, 0.80, th, "AMI") is not None  # 4.9 points
    assert position_caveat(0.85, 0.80, th, "AMI") is None  # exactly 5 points
    assert position_caveat(0.90, 0.50, th, "AMI") is None
    assert position_caveat(None, 0.5, th, "AMI") is None
    assert position_caveat(0.8, None, th, "AMI") is None
