"""vfreport.stats.tests against independent computations (formulas by hand, scipy called differently,
exhaustive enumeration, published sample sizes) plus property tests."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from _expdir import LIBRISPEECH_VAL, librispeech_history, make_history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy import stats as st

from vfreport.stats import tests as S

# ---------------------------------------------------------------------------------------------
# per run
# ---------------------------------------------------------------------------------------------


def test_run_metrics_reproduce_the_strategy_documents_librispeech_figures():
    m = S.run_metrics(librispeech_history())
    assert m.best_val_acc == pytest.approx(0.615)
    assert m.best_epoch == 4
    assert m.best_after_epoch4 is False
    assert m.train_acc_epoch10 == pytest.approx(0.48)
    assert m.val_acc_half_range == pytest.approx(0.15)  # (0.615 - 0.315) / 2
    assert m.plateau is True  # train loss stays at 0.694 ≈ ln 2
    assert m.window_epochs == 10 and m.flags == ()
    # jump std by hand: statistics.stdev of successive differences over epochs 1..10
    early = LIBRISPEECH_VAL[:10]
    jumps = [early[i + 1] - early[i] for i in range(9)]
    assert m.val_acc_jump_std == pytest.approx(statistics.stdev(jumps))
    assert m.val_acc_changes == pytest.approx(jumps)
    assert m.final_val_acc == pytest.approx(LIBRISPEECH_VAL[-1])
    assert m.train_frames_epoch10 == 4000


def test_variability_is_read_over_epochs_1_to_10_only():
    val = [0.5, 0.6, 0.55, 0.62, 0.58, 0.6, 0.61, 0.63, 0.6, 0.64, 0.1, 0.95]
    m = S.run_metrics(make_history(val))
    assert m.val_acc_half_range == pytest.approx((0.64 - 0.5) / 2)
    assert len(m.val_acc_changes) == 9
    assert m.best_val_acc == pytest.approx(0.95) and m.best_epoch == 12  # best is over all epochs


def test_best_epoch_ties_go_to_the_earliest_epoch():
    m = S.run_metrics(make_history([0.5, 0.7, 0.6, 0.7, 0.65]))
    assert m.best_epoch == 2 and m.best_val_acc == pytest.approx(0.7)


def test_best_after_epoch_4_boundary():
    assert S.run_metrics(make_history([0.1, 0.2, 0.3, 0.9, 0.5])).best_after_epoch4 is False
    assert S.run_metrics(make_history([0.1, 0.2, 0.3, 0.4, 0.9])).best_after_epoch4 is True


def test_short_history_uses_what_exists_and_flags_it():
    m = S.run_metrics(make_history([0.5, 0.6, 0.55, 0.7, 0.65, 0.72]))
    assert m.train_acc_epoch10 is None and m.train_frames_epoch10 is None
    assert m.window_epochs == 6
    assert m.val_acc_half_range == pytest.approx((0.72 - 0.5) / 2)
    assert len(m.flags) == 1 and "6 epochs" in m.flags[0]


@pytest.mark.parametrize("n, half, jump", [(1, False, False), (2, True, False), (3, True, True)])
def test_very_short_histories_give_none_instead_of_crashing(n, half, jump):
    m = S.run_metrics(make_history([0.5, 0.6, 0.4][:n]))
    assert (m.val_acc_half_range is not None) is half
    assert (m.val_acc_jump_std is not None) is jump


def test_plateau_needs_three_consecutive_epochs_near_ln2():
    near, far = 0.699, 0.72  # |0.699 - ln 2| = 0.0059, |0.72 - ln 2| = 0.0269
    two = make_history([0.5] * 6, train_loss=[near, near, far, near, near, far])
    three = make_history([0.5] * 6, train_loss=[far, near, near, near, far, far])
    assert S.run_metrics(two).plateau is False and S.run_metrics(two).plateau_epochs == 2
    assert S.run_metrics(three).plateau is True and S.run_metrics(three).plateau_epochs == 3
    assert S.longest_run([True, False, True, True, False]) == 2


# ---------------------------------------------------------------------------------------------
# per arm
# ---------------------------------------------------------------------------------------------


def test_summarize_matches_a_hand_worked_t_interval():
    s = S.summarize([0.6, 0.7, 0.8])
    assert s.mean == pytest.approx(0.7) and s.std == pytest.approx(0.1) and s.n == 3
    half = 4.302653 * 0.1 / math.sqrt(3)  # t(0.975, 2) from a table
    assert s.ci95 == pytest.approx((0.7 - half, 0.7 + half), abs=1e-6)


def test_summarize_keeps_missing_values_in_place_and_handles_n_below_2():
    s = S.summarize([0.6, None, float("nan")])
    assert s.per_seed == (0.6, None, None) and s.n == 1
    assert s.mean == pytest.approx(0.6) and s.std is None and s.ci95 is None
    empty = S.summarize([])
    assert empty.mean is None and empty.n == 0
    assert S.summarize([0.5, 0.5]).ci95 == (0.5, 0.5)


# ---------------------------------------------------------------------------------------------
# H1
# ---------------------------------------------------------------------------------------------

A = [0.80, 0.78, 0.83]
B = [0.60, 0.55, 0.66, 0.58]


def test_welch_df_by_the_formula_and_against_scipy():
    va, vb = statistics.variance(A) / 3, statistics.variance(B) / 4
    by_hand = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    assert S.welch_df(A, B) == pytest.approx(by_hand)
    assert S.welch_df(A, B) == pytest.approx(st.ttest_ind(A, B, equal_var=False).df)
    assert S.welch_df([0.5], B) is None


def test_welch_t_test_against_hand_computation():
    res = S.welch_t_test(A, B, n_resamples=2000)
    ma, mb = statistics.mean(A), statistics.mean(B)
    se = math.sqrt(statistics.variance(A) / 3 + statistics.variance(B) / 4)
    t = (ma - mb) / se
    assert res.testable and res.statistic == pytest.approx(t)
    assert res.p_value == pytest.approx(st.t.sf(t, S.welch_df(A, B)))
    assert res.estimate.value == pytest.approx(ma - mb)
    assert res.ci95[0] <= ma - mb <= res.ci95[1]
    assert res.n == (3, 4) and res.unit == "seeds"


def test_hedges_g_by_hand():
    ma, mb = statistics.mean(A), statistics.mean(B)
    sp = math.sqrt((2 * statistics.variance(A) + 3 * statistics.variance(B)) / 5)
    j = 1 - 3 / (4 * 7 - 9)
    assert S.hedges_g(A, B) == pytest.approx(j * (ma - mb) / sp)
    assert S.hedges_g([0.5, 0.5], [0.5, 0.5]) is None


def test_welch_zero_variance_and_single_seed_are_not_testable():
    flat = S.welch_t_test([0.7, 0.7], [0.6, 0.6])
    assert not flat.testable and "zero variance" in flat.reason
    one = S.welch_t_test([0.7], [0.6, 0.5])
    assert not one.testable and "2 seeds" in one.reason


def test_bootstrap_ci_is_reproducible_and_close_to_normal_theory():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.8, 0.05, 400), rng.normal(0.6, 0.08, 300)
    ci1 = S.bootstrap_mean_diff_ci(a, b, seed=7)
    assert ci1 == S.bootstrap_mean_diff_ci(a, b, seed=7)
    assert ci1 != S.bootstrap_mean_diff_ci(a, b, seed=8)
    d = a.mean() - b.mean()
    se = math.sqrt(a.var() / len(a) + b.var() / len(b))  # plug-in SE (ddof=0) as the bootstrap uses
    assert ci1[0] == pytest.approx(d - 1.96 * se, abs=0.002)
    assert ci1[1] == pytest.approx(d + 1.96 * se, abs=0.002)
    assert S.bootstrap_mean_diff_ci([0.5], b) is None


def test_bootstrap_ci_chunks_give_the_same_shape_of_answer():
    # more elements than one chunk holds: the chunked path must still be a valid percentile CI
    a = np.linspace(0.0, 1.0, 5000)
    ci = S.bootstrap_ci([a], lambda x: x.mean(axis=1), n_resamples=2000, seed=0)
    se = a.std() / math.sqrt(len(a))
    assert ci[0] == pytest.approx(0.5 - 1.96 * se, abs=0.003) and ci[1] == pytest.approx(
        0.5 + 1.96 * se, abs=0.003
    )


def _exact_permutation_p(ts, tc, bs, bc):
    scored, correct = np.r_[ts, bs], np.r_[tc, bc]
    obs = tc.sum() / ts.sum() - bc.sum() / bs.sum()
    hits = total = 0
    for idx in itertools.combinations(range(len(scored)), len(ts)):
        mask = np.zeros(len(scored), bool)
        mask[list(idx)] = True
        d = correct[mask].sum() / scored[mask].sum() - correct[~mask].sum() / scored[~mask].sum()
        hits += d >= obs - 1e-12
        total += 1
    return hits / total


def test_window_permutation_test_matches_exhaustive_enumeration():
    ts, tc = np.array([100, 80, 120.0]), np.array([90, 60, 100.0])
    bs, bc = np.array([100, 90, 110, 100.0]), np.array([60, 70, 50, 65.0])
    exact = _exact_permutation_p(ts, tc, bs, bc)  # 35 arrangements
    res = S.window_permutation_test(ts, tc, bs, bc, n_resamples=20_000, seed=3)
    assert res.p_value == pytest.approx(exact, abs=0.01)
    assert res.statistic == pytest.approx(tc.sum() / ts.sum() - bc.sum() / bs.sum())
    assert res.ci95[0] <= res.statistic <= res.ci95[1]
    expected_h = 2 * math.asin(math.sqrt(tc.sum() / ts.sum())) - 2 * math.asin(math.sqrt(bc.sum() / bs.sum()))
    assert res.effect_size.value == pytest.approx(expected_h)
    assert res.unit == "windows" and res.n == (3, 4)


def test_window_permutation_test_detects_a_clear_gap_and_not_a_null():
    rng = np.random.default_rng(0)
    s = np.full(60, 100.0)
    high, low = rng.binomial(100, 0.8, 60).astype(float), rng.binomial(100, 0.55, 60).astype(float)
    clear = S.window_permutation_test(s, high, s, low, n_resamples=2000)
    assert clear.p_value == pytest.approx(1 / 2001)
    same = S.window_permutation_test(s, low, s, low, n_resamples=2000)
    assert same.p_value > 0.4


def test_h1_routes_to_welch_windows_or_not_testable():
    assert S.h1_test(A, B, n_resamples=500).test == "one-sided Welch t-test"
    thin = S.h1_test([0.8], [0.6])
    assert not thin.testable and "2 seeds" in thin.reason and "val_predictions" in thin.reason
    s = np.full(10, 100.0)
    win = S.h1_test([0.8], [0.6], (s, s * 0.8), (s, s * 0.6), n_resamples=500)
    assert win.testable and win.unit == "windows" and "note" in win.extra
    none = S.h1_test([], [0.6, 0.5])
    assert not none.testable and "target" in none.reason


# ---------------------------------------------------------------------------------------------
# H2
# ---------------------------------------------------------------------------------------------


def test_brown_forsythe_matches_levene_and_the_one_sided_t_on_absolute_deviations():
    rng = np.random.default_rng(2)
    t, b = rng.normal(0.01, 0.02, 27), rng.normal(0.0, 0.12, 27)
    res = S.brown_forsythe_test(t, b, n_resamples=2000)
    lev = st.levene(t, b, center="median")
    assert res.statistic == pytest.approx(lev.statistic)
    zt, zb = np.abs(t - np.median(t)), np.abs(b - np.median(b))
    tt = st.ttest_ind(zt, zb, equal_var=True, alternative="less")
    assert res.statistic == pytest.approx(tt.statistic**2)
    assert res.p_value == pytest.approx(tt.pvalue)
    assert res.df == (1.0, 52.0)
    ratio = np.std(t, ddof=1) / np.std(b, ddof=1)
    assert res.estimate.value == pytest.approx(ratio)
    assert res.ci95[0] <= ratio <= res.ci95[1]
    # the other direction: target more spread → one-sided p near 1
    assert S.brown_forsythe_test(b, t, n_resamples=200).p_value > 0.99


def test_brown_forsythe_thin_and_degenerate_data():
    assert not S.brown_forsythe_test([0.1], [0.1, 0.2]).testable
    flat = S.brown_forsythe_test([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert not flat.testable and "zero variance" in flat.reason
    zero_base = S.brown_forsythe_test([0.1, -0.1, 0.05, 0.0], [0.02, 0.02, 0.02, 0.03], n_resamples=200)
    assert zero_base.testable  # baseline SD > 0 here
    const_base = S.brown_forsythe_test([0.1, -0.1, 0.05, 0.0], [0.02, 0.02, 0.02, 0.02], n_resamples=200)
    assert const_base.estimate.value is None and const_base.ci95 is None


# ---------------------------------------------------------------------------------------------
# H3
# ---------------------------------------------------------------------------------------------


def test_one_sample_t_test_by_hand():
    x = [0.74, 0.79, 0.81]
    res = S.one_sample_t_test(x, 0.70)
    m, s = statistics.mean(x), statistics.stdev(x)
    t = (m - 0.70) / (s / math.sqrt(3))
    assert res.statistic == pytest.approx(t) and res.df == 2
    assert res.p_value == pytest.approx(st.t.sf(t, 2))
    assert res.effect_size.value == pytest.approx((m - 0.70) / s)
    assert res.ci95[0] <= m <= res.ci95[1]


def test_binomial_test_against_the_binomial_tail_and_clopper_pearson_by_beta_quantiles():
    k, n = 745, 1000
    res = S.binomial_test(k, n, 0.70)
    assert res.p_value == pytest.approx(st.binom.sf(k - 1, n, 0.70))
    lo, hi = st.beta.ppf(0.025, k, n - k + 1), st.beta.ppf(0.975, k + 1, n - k)
    assert res.ci95 == pytest.approx((lo, hi))
    assert res.unit == "frames" and res.caveat


def test_h3_routes_and_thin_data():
    assert S.h3_test([0.8, 0.82], 0.7).test == "one-sided one-sample t-test"
    one = S.h3_test([0.8], 0.7, train_frames_epoch10=2000)
    assert one.testable and one.extra["successes"] == 1600 and one.extra["trials"] == 2000
    no_frames = S.h3_test([0.8], 0.7)
    assert not no_frames.testable and "train_frames" in no_frames.reason
    none = S.h3_test([], 0.7)
    assert not none.testable and "10 epochs" in none.reason
    flat = S.h3_test([0.8, 0.8], 0.7)
    assert not flat.testable and "zero variance" in flat.reason


# ---------------------------------------------------------------------------------------------
# Holm and power
# ---------------------------------------------------------------------------------------------


def test_holm_hand_worked():
    assert S.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert S.holm([0.01, None, 0.04]) == [pytest.approx(0.02), None, pytest.approx(0.04)]
    assert S.holm([0.6, 0.5]) == pytest.approx([1.0, 1.0])
    assert S.holm([None, None]) == [None, None]


@pytest.mark.parametrize("d, n", [(0.5, 51), (0.8, 21), (1.0, 14)])
def test_seeds_needed_matches_published_one_sided_sample_sizes(d, n):
    # G*Power 3, t test two independent means, one tail, alpha 0.05, power 0.80
    assert S.seeds_needed(d * 0.1, 0.1, alpha=0.05, power=0.8) == n
    assert S.power_two_sample(d * 0.1, 0.1, n, n) >= 0.8 > S.power_two_sample(d * 0.1, 0.1, n - 1, n - 1)


def test_power_against_the_normal_approximation():
    # large n: noncentral t → normal; power ≈ Φ(δ / (σ √(2/n)) - z_{1-α})
    p = S.power_two_sample(0.02, 0.1, 400, 400)
    approx = st.norm.cdf(0.02 / (0.1 * math.sqrt(2 / 400)) - st.norm.ppf(0.95))
    assert p == pytest.approx(approx, abs=0.005)


def test_power_analysis_reasons():
    ok = S.power_analysis([0.80, 0.78, 0.83], [0.60, 0.55, 0.66])
    assert ok.pooled_sd == pytest.approx(S.pooled_sd([0.80, 0.78, 0.83], [0.60, 0.55, 0.66]))
    assert ok.seeds_for_observed_delta >= 2 and ok.seeds_for_5_points >= ok.seeds_for_observed_delta
    assert 0 <= ok.power_at_current_n <= 1
    zero = S.power_analysis([0.8, 0.8], [0.6, 0.6])
    assert zero.seeds_for_5_points is None and "0" in zero.reason
    undefined = S.power_analysis([0.8], [0.6])
    assert undefined.pooled_sd is None and "undefined" in undefined.reason
    negative = S.power_analysis([0.5, 0.52], [0.6, 0.62])
    assert negative.seeds_for_observed_delta is None and "Δ ≤ 0" in negative.reason
    assert negative.seeds_for_5_points is not None


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

acc = hs.floats(0.0, 1.0, allow_nan=False)
arms = hs.lists(acc, min_size=1, max_size=8)
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(arms, arms)
def test_property_welch_results_are_finite_and_valid(a, b):
    res = S.welch_t_test(a, b, n_resamples=200)
    if res.testable:
        assert 0.0 <= res.p_value <= 1.0
        assert math.isfinite(res.statistic) and math.isfinite(res.df)
        lo, hi = res.ci95
        assert lo - 1e-12 <= res.estimate.value <= hi + 1e-12
    else:
        assert res.reason and res.p_value is None


@PROPS
@given(arms, arms)
def test_property_bootstrap_ci_contains_the_difference_of_means(a, b):
    ci = S.bootstrap_mean_diff_ci(a, b, n_resamples=300, seed=1)
    if min(len(a), len(b)) < 2:
        assert ci is None
    else:
        d = float(np.mean(a) - np.mean(b))
        assert ci[0] - 1e-12 <= d <= ci[1] + 1e-12


@PROPS
@given(hs.lists(acc, min_size=0, max_size=10))
def test_property_summary_ci_contains_the_mean(x):
    s = S.summarize(x)
    if s.n >= 2:
        assert s.ci95[0] - 1e-12 <= s.mean <= s.ci95[1] + 1e-12 and s.std >= 0
    else:
        assert s.ci95 is None


@PROPS
@given(hs.integers(1, 5000), hs.floats(0.0, 1.0), hs.floats(0.05, 0.95))
def test_property_binomial_p_in_unit_interval_and_ci_contains_proportion(n, frac, p0):
    k = int(round(frac * n))
    res = S.binomial_test(k, n, p0)
    assert 0.0 <= res.p_value <= 1.0
    assert res.ci95[0] - 1e-12 <= k / n <= res.ci95[1] + 1e-12


@PROPS
@given(
    hs.lists(hs.floats(-0.3, 0.3), min_size=2, max_size=20),
    hs.lists(hs.floats(-0.3, 0.3), min_size=2, max_size=20),
)
def test_property_brown_forsythe_p_in_unit_interval(a, b):
    res = S.brown_forsythe_test(a, b, n_resamples=100)
    if res.testable:
        assert 0.0 <= res.p_value <= 1.0 and res.statistic >= 0
    else:
        assert res.reason


@PROPS
@given(hs.lists(hs.one_of(hs.none(), hs.floats(0.0, 1.0)), min_size=0, max_size=5))
def test_property_holm_is_monotone_capped_and_not_below_raw(ps):
    adj = S.holm(ps)
    for p, q in zip(ps, adj, strict=True):
        assert (p is None) == (q is None)
        if p is not None:
            assert p - 1e-15 <= q <= 1.0
    pairs = sorted((p, q) for p, q in zip(ps, adj, strict=True) if p is not None)
    assert all(q1 <= q2 + 1e-15 for (_, q1), (_, q2) in itertools.pairwise(pairs))


@PROPS
@given(hs.lists(acc, min_size=2, max_size=6), hs.floats(0.05, 0.95))
def test_property_one_sample_t(x, thr):
    res = S.one_sample_t_test(x, thr)
    if res.testable:
        assert 0.0 <= res.p_value <= 1.0 and math.isfinite(res.statistic)
        assert res.ci95[0] - 1e-12 <= res.estimate.value <= res.ci95[1] + 1e-12
