"""vfreport.stats.outliers: failed runs are flagged and the decision's dependence on them is shown
(docs/statistics-runs.md). The audit's case: one seed in five fails (−20 points) in the target arm
only. Fixed seeds; run with ``-s`` to see the measured rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _expdir import LN2, make_history

from vfreport.analysis.metrics import run_metrics
from vfreport.stats.outliers import flag_runs, pooled_robust_sd, sensitivity, yuen_test
from vfreport.stats.twosample import welch_t_test

ALPHA = 0.05
SEED_SD = 0.025
FAIL = 0.20
FAIL_RATE = 0.2
MIN_DELTA = 0.05


def mc_bound(rate: float, reps: int) -> float:
    return rate + 2 * math.sqrt(rate * (1 - rate) / reps)


def test_flag_rule_on_known_values():
    flags = flag_runs([0.80, 0.81, 0.79, 0.60, 0.80])
    assert [f.flagged for f in flags] == [False, False, False, True, False]
    assert flags[3].robust_z == pytest.approx((0.60 - 0.80) / (1.4826 * 0.01))
    assert "robust SDs" in flags[3].reasons[0]
    # the floor: a spread below it is never flagged, even when the MAD is 0
    assert not any(f.flagged for f in flag_runs([0.80, 0.80, 0.82], floor=MIN_DELTA))
    assert flag_runs([0.80, 0.80, 0.82])[2].flagged  # MAD 0, no floor
    # a plateaued run is flagged whatever its value; two runs: no MAD rule
    two = flag_runs([0.5, 0.8], at_chance=[True, False])
    assert [f.flagged for f in two] == [True, False] and two[0].robust_z is None
    assert flag_runs([0.8, None, 0.81, 0.2])[1].flagged is False


def test_sensitivity_says_when_the_decision_depends_on_the_flagged_runs():
    base = [0.70, 0.71, 0.72, 0.70, 0.71]
    target = [0.76, 0.77, 0.75, 0.76, 0.40]  # four clear gains, one failure
    s = sensitivity(target, base, flag_runs(target, floor=MIN_DELTA), flag_runs(base, floor=MIN_DELTA))
    assert s.flagged == (1, 0)
    assert s.all_runs.p_value > ALPHA and s.without_flagged.p_value < ALPHA and s.depends_on_flagged
    assert "depends on the flagged runs" in s.summary
    clean = sensitivity(base, base, flag_runs(base), flag_runs(base))
    assert clean.without_flagged is None and not clean.depends_on_flagged and clean.summary == "no run flagged"
    # Yuen's test with nothing trimmed is Welch's
    assert yuen_test(target[:4], base[:4]).p_value == pytest.approx(welch_t_test(target[:4], base[:4]).p_value)


def simulate(rng: np.random.Generator, n: int, reps: int, equal_means: bool) -> dict[str, float]:
    """``reps`` experiments of ``n`` + ``n`` runs: baseline N(0.70, SD), target the same with each run
    failing (−20 points) with probability 1/5. ``equal_means``: the target's working runs sit
    +4 points higher so that the arms' means are equal (the audit's null); otherwise the working
    runs of both arms are equal and the failures only pull the target down."""
    shift = FAIL * FAIL_RATE if equal_means else 0.0
    b = rng.normal(0.70, SEED_SD, (reps, n))
    failed = rng.random((reps, n)) < FAIL_RATE
    a = rng.normal(0.70 + shift, SEED_SD, (reps, n)) - FAIL * failed
    out = {"welch": 0, "without": 0, "yuen": 0, "silent": 0, "caught": 0, "false_flag": 0, "failed": 0, "working": 0,
           "rejected_with_failure_flagged": 0, "rejected_with_failure": 0, "lone": 0, "lone_caught": 0}
    for i in range(reps):
        scale = pooled_robust_sd(a[i], b[i])
        fa, fb = flag_runs(a[i], floor=MIN_DELTA, scale=scale), flag_runs(b[i], floor=MIN_DELTA, scale=scale)
        s = sensitivity(a[i], b[i], fa, fb, ALPHA)
        flagged_a = np.array([f.flagged for f in fa])
        reject = s.all_runs.p_value < ALPHA
        out["welch"] += reject
        w = s.without_flagged if s.without_flagged is not None else s.all_runs
        out["without"] += bool(w.testable and w.p_value < ALPHA)
        out["yuen"] += bool(s.trimmed.p_value is not None and s.trimmed.p_value < ALPHA)
        out["silent"] += reject and not any(s.flagged)
        out["caught"] += int(np.sum(flagged_a & failed[i]))
        out["failed"] += int(failed[i].sum())
        out["false_flag"] += int(np.sum(flagged_a & ~failed[i])) + sum(f.flagged for f in fb)
        out["working"] += int(np.sum(~failed[i])) + n
        if failed[i].sum() == 1:
            out["lone"] += 1
            out["lone_caught"] += bool(np.any(flagged_a & failed[i]))
        if reject and failed[i].any():
            out["rejected_with_failure"] += 1
            out["rejected_with_failure_flagged"] += bool(s.flagged[0])
    return {"welch": out["welch"] / reps, "without": out["without"] / reps, "yuen": out["yuen"] / reps,
            "silent": out["silent"] / reps, "catch": out["caught"] / max(out["failed"], 1),
            "catch_lone": out["lone_caught"] / max(out["lone"], 1),
            "false_flag": out["false_flag"] / out["working"], "no_failure_drawn": float(np.mean(~failed.any(axis=1))),
            "rejected_with_failure": out["rejected_with_failure"],
            "flagged_when_rejected_with_failure":
                out["rejected_with_failure_flagged"] / max(out["rejected_with_failure"], 1)}


@pytest.mark.parametrize("n", [3, 5, 10])
def test_a_failed_seed_is_flagged_and_the_sensitivity_analysis_keeps_alpha(n):
    """Working runs equal in both arms, failures in the target only, the scale pooled over both arms
    (:func:`pooled_robust_sd`): a lone failed run is caught at least 95 % of the time; runs of an
    arm where several failed are caught less often (they make the arm's median: the overall rate is
    printed); at most 5 % of working runs are flagged; the decision without the flagged runs and
    Yuen's test keep the type-I error within α + MC error."""
    reps = 800
    r = simulate(np.random.default_rng(50 + n), n, reps, equal_means=False)
    print(f"\nfailures in the target (working runs equal), n = {n}: a lone failed run caught {r['catch_lone']:.3f}, "
          f"all failed runs {r['catch']:.3f}; working runs flagged {r['false_flag']:.4f}; "
          f"type-I: Welch {r['welch']:.3f}, without flagged runs {r['without']:.3f}, Yuen {r['yuen']:.3f} "
          f"({reps} replicates)")
    assert r["catch_lone"] >= 0.95
    assert r["false_flag"] <= 0.05
    assert r["without"] <= mc_bound(ALPHA, reps) and r["yuen"] <= mc_bound(ALPHA, reps)


@pytest.mark.parametrize("n", [3, 10])
def test_under_the_audits_equal_means_null_a_false_claim_with_a_failure_drawn_is_never_silent(n):
    """The audit's null: arm means equal, the target's working runs +4 points and one run in five
    failing. Welch's type-I is far above α (the audit: 0.29 / 0.29 / 0.11 at 3 / 5 / 10 runs);
    whenever a failed run is among those drawn and H1 is claimed, the failure is flagged, so the
    report says so. The claims left silent come from draws with no failed run, which no rule can
    see (rate printed beside the chance of drawing none)."""
    reps = 800
    r = simulate(np.random.default_rng(70 + n), n, reps, equal_means=True)
    print(f"\nequal means (audit), n = {n}: Welch type-I {r['welch']:.3f}; flagged in "
          f"{r['flagged_when_rejected_with_failure']:.3f} of the {r['rejected_with_failure']} claims with a failed run "
          f"drawn; silent false claims {r['silent']:.3f} (no failure drawn in {r['no_failure_drawn']:.3f} of "
          f"experiments); lone failed run caught {r['catch_lone']:.3f}; without flagged runs {r['without']:.3f}, "
          f"Yuen {r['yuen']:.3f}")
    assert r["welch"] > ALPHA  # the problem is real
    assert r["catch_lone"] >= 0.95
    if r["rejected_with_failure"]:
        assert r["flagged_when_rejected_with_failure"] >= 0.95


def test_pooled_scale_sees_failures_that_an_arms_own_mad_spans():
    target, base = [0.66, 0.70, 0.50, 0.52, 0.68], [0.70, 0.71, 0.72, 0.70, 0.71]  # two failures of five
    assert not any(f.flagged for f in flag_runs(target, floor=MIN_DELTA))
    scale = pooled_robust_sd(target, base)
    assert [f.flagged for f in flag_runs(target, floor=MIN_DELTA, scale=scale)] == [False, False, True, True, False]
    s = sensitivity(target, base, flag_runs(target, floor=MIN_DELTA, scale=scale),
                    flag_runs(base, floor=MIN_DELTA, scale=scale, at_chance=[False] * 4 + [True]), ALPHA)
    assert s.flagged == (2, 1) and s.without_flagged.n == (3, 4)


def test_a_run_at_chance_in_every_epoch_never_left_chance():
    stuck = run_metrics(make_history([0.5] * 6, train_loss=[LN2] * 6))
    late = run_metrics(make_history([0.5] * 3 + [0.6, 0.7, 0.75], train_loss=[LN2] * 3 + [0.6, 0.5, 0.4]))
    assert stuck.never_left_chance and not late.never_left_chance and late.plateau
