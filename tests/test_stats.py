"""vfreport.stats (twosample, intervals, power, multiple) against independent computations: scipy
called differently, statsmodels, exhaustive enumeration, formulas by hand; plus property tests."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from vfreport.stats.intervals import bootstrap_mean_diff_ci, sd_interval, summarize, t_interval
from vfreport.stats.multiple import holm
from vfreport.stats.power import power_plan, seeds_needed, welch_power
from vfreport.stats.twosample import (
    hedges_g,
    min_permutation_p,
    one_sample_t_test,
    permutation_test,
    runs_for_permutation,
    welch_t,
    welch_t_interval,
    welch_t_test,
)

A = [0.95, 0.64, 0.93]
B = [0.60, 0.63, 0.58]


# ---------------------------------------------------------------------------------------------
# Welch
# ---------------------------------------------------------------------------------------------


def test_welch_t_and_df_match_scipy():
    res = st.ttest_ind(A, B, equal_var=False)
    t, df = welch_t(A, B)
    assert t == pytest.approx(res.statistic) and df == pytest.approx(res.df)
    assert st.t.sf(t, df) == pytest.approx(st.ttest_ind(A, B, equal_var=False, alternative="greater").pvalue)
    assert all(math.isnan(v) for v in welch_t([0.5], B)) and all(math.isnan(v) for v in welch_t([1, 1], [2, 2]))


def test_welch_test_and_interval_match_scipy():
    r = welch_t_test(A, B)
    ref = st.ttest_ind(A, B, equal_var=False, alternative="greater")
    assert r.testable and r.p_value == pytest.approx(ref.pvalue) and r.statistic_name == "t"
    assert r.estimate.value == pytest.approx(np.mean(A) - np.mean(B))
    ci = st.ttest_ind(A, B, equal_var=False).confidence_interval(0.95)
    assert (r.ci.low, r.ci.high) == pytest.approx((ci.low, ci.high))
    assert r.p_value > 0.05 and r.ci.low < 0 < r.ci.high  # the interval agrees with the test


def test_welch_interval_excludes_zero_exactly_when_two_sided_p_is_below_005():
    rng = np.random.default_rng(3)
    for _ in range(200):
        a, b = rng.normal(0.3, 0.2, 4), rng.normal(0.0, 0.1, 3)
        ci = welch_t_interval(a, b)
        p2 = st.ttest_ind(a, b, equal_var=False).pvalue
        assert (ci.low > 0 or ci.high < 0) == (p2 < 0.05)


def test_hedges_g_by_hand():
    sp = math.sqrt((2 * np.var(A, ddof=1) + 2 * np.var(B, ddof=1)) / 4)
    assert hedges_g(A, B) == pytest.approx((1 - 3 / (4 * 6 - 9)) * (np.mean(A) - np.mean(B)) / sp)
    assert hedges_g([0.5], B) is None


def test_welch_thin_and_constant_data_are_not_testable_with_a_reason():
    one = welch_t_test([0.7], B)
    assert not one.testable and "at least 2 runs" in one.reason
    flat = welch_t_test([0.7, 0.7], [0.6, 0.6])
    assert not flat.testable and flat.estimate.value == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------
# permutation
# ---------------------------------------------------------------------------------------------


def _enumerate(a, b):
    pooled = np.concatenate([a, b])
    obs = np.mean(a) - np.mean(b)
    count = total = 0
    for idx in itertools.combinations(range(len(pooled)), len(a)):
        mask = np.zeros(len(pooled), bool)
        mask[list(idx)] = True
        total += 1
        count += pooled[mask].mean() - pooled[~mask].mean() <= obs + 1e-12
    return count / total


def test_exact_permutation_test_matches_enumeration_and_states_its_floor():
    a, b = np.log([0.01, 0.02, 0.015, 0.012]), np.log([0.05, 0.03, 0.04, 0.02])
    r = permutation_test(a, b, alternative="less", alpha=0.05)
    assert r.p_value == pytest.approx(_enumerate(a, b))
    assert r.min_p == pytest.approx(1 / 70) and r.decidable and r.extra["exact"]


def test_three_against_three_cannot_reach_alpha():
    r = permutation_test([0.0, 0.1, 0.2], [1.0, 1.1, 1.2], alternative="less", alpha=0.05)
    assert r.p_value == pytest.approx(0.05) and r.min_p == pytest.approx(1 / math.comb(6, 3))
    assert not r.decidable and "not decidable" in r.reason
    assert min_permutation_p(5, 5) == pytest.approx(1 / 252) and runs_for_permutation(0.05) == 4


def test_large_groups_use_monte_carlo():
    rng = np.random.default_rng(0)
    r = permutation_test(rng.normal(0, 1, 20), rng.normal(0, 1, 20), seed=1)
    assert not r.extra["exact"] and 0 < r.p_value <= 1 and r.min_p < 1e-4


# ---------------------------------------------------------------------------------------------
# one sample, intervals
# ---------------------------------------------------------------------------------------------


def test_one_sample_t_matches_scipy_and_clips_its_interval():
    x = [0.72, 0.99, 0.95]
    r = one_sample_t_test(x, 0.7, bounds=(0.0, 1.0))
    ref = st.ttest_1samp(x, 0.7, alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue) and r.df == 2
    raw = st.ttest_1samp(x, 0.7).confidence_interval(0.95)
    assert raw.high > 1 and r.ci.high == 1.0 and r.ci.low == pytest.approx(raw.low)
    assert r.effect_size.value == pytest.approx((np.mean(x) - 0.7) / np.std(x, ddof=1))


def test_accuracy_intervals_stay_inside_0_and_1():
    s = summarize([0.95, 0.64, 0.93], bounds=(0.0, 1.0))
    unclipped = t_interval([0.95, 0.64, 0.93])
    assert unclipped.high > 1.0  # the case that printed "40.9–127.1"
    assert 0.0 <= s.ci.low <= s.ci.high <= 1.0 and s.ci.high == 1.0
    assert summarize([0.5, None, float("nan")]).per_seed == (0.5, None, None)
    assert summarize([0.5]).ci is None and summarize([]).mean is None


def test_bootstrap_is_reproducible_and_flagged_unreliable_below_8_runs():
    a = bootstrap_mean_diff_ci(A, B, 2000, seed=4)
    assert a == bootstrap_mean_diff_ci(A, B, 2000, seed=4)
    assert not a.reliable and "unreliable" in a.note
    rng = np.random.default_rng(1)
    big = bootstrap_mean_diff_ci(rng.normal(1, 1, 10), rng.normal(0, 1, 10), 2000)
    assert big.reliable


def test_sd_interval_is_the_chi_square_interval():
    lo, hi = sd_interval(1.0, 4)
    assert lo == pytest.approx(math.sqrt(4 / st.chi2.ppf(0.975, 4)))
    assert hi == pytest.approx(math.sqrt(4 / st.chi2.ppf(0.025, 4)))
    assert lo == pytest.approx(0.60, abs=0.005) and hi == pytest.approx(2.87, abs=0.01)  # docs/statistics.md: ×0.6–2.9


# ---------------------------------------------------------------------------------------------
# multiplicity, power
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ps", [[0.01, 0.04, 0.03], [0.5, 0.001, 0.2, 0.04], [0.02]])
def test_holm_matches_statsmodels(ps):
    assert holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))
    assert holm([0.01, None, 0.04]) == pytest.approx([0.02, None, 0.04])


def test_simulated_welch_power_is_alpha_under_the_null_and_matches_nct_for_large_n():
    assert welch_power(0.0, 5, 5) == pytest.approx(0.05, abs=0.012)
    n = 40  # large n: Welch ≈ pooled, whose power is the noncentral t
    df, ncp = 2 * n - 2, 0.5 / math.sqrt(2 / n)
    assert welch_power(0.5, n, n) == pytest.approx(st.nct.sf(st.t.ppf(0.95, df), df, ncp), abs=0.02)


def test_simulated_welch_power_at_3_runs_is_below_the_pooled_formula():
    df, ncp = 4, 1.0 / math.sqrt(2 / 3)
    pooled = st.nct.sf(st.t.ppf(0.95, df), df, ncp)
    assert welch_power(1.0, 3, 3, n_sim=20000) < pooled


def test_seeds_needed_and_the_power_plan_range():
    assert seeds_needed(0.0) is None and seeds_needed(0.01) is None  # > 200 runs
    n = seeds_needed(1.0)
    assert welch_power(1.0, n, n) >= 0.8 > welch_power(1.0, n - 1, n - 1)
    plan = power_plan(A, B, {"min_delta": 0.05, "gain": 0.15})
    lo, hi = plan.sd_ci
    assert lo < plan.sd < hi and plan.df == 4
    gain = plan.effects[1]
    assert gain.seeds_range[0] <= gain.seeds <= gain.seeds_range[1]
    assert power_plan([0.5], [0.6], {"min_delta": 0.05}).reason


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
acc = hs.floats(0.0, 1.0, allow_nan=False)
arms = hs.lists(acc, min_size=2, max_size=8)


@PROPS
@given(arms, arms)
def test_property_welch_results_are_valid(a, b):
    r = welch_t_test(a, b)
    if r.testable:
        assert 0.0 <= r.p_value <= 1.0 and r.ci.low <= r.estimate.value <= r.ci.high
    else:
        assert r.reason


@PROPS
@given(arms, arms)
def test_property_permutation_p_is_at_least_its_floor(a, b):
    r = permutation_test(a, b, alpha=0.05)
    assert r.min_p - 1e-12 <= r.p_value <= 1.0


@PROPS
@given(hs.lists(hs.floats(0.0, 1.0), min_size=1, max_size=6))
def test_property_holm_is_monotone_capped_and_not_below_raw(ps):
    adj = holm(ps)
    assert all(p <= a <= 1.0 for p, a in zip(ps, adj, strict=True))
    order = np.argsort(ps, kind="stable")
    assert all(adj[order[i]] <= adj[order[i + 1]] + 1e-12 for i in range(len(ps) - 1))
