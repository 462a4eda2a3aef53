"""The strategy document's hypotheses H1–H3 as tests over runs (docs/statistics.md).

The unit is the run (one seed of one arm): each function takes one value per run. Epochs,
windows and frames of one run are not independent samples, so nothing here pools them.

- :func:`h1_test`: target > baseline on the selection-unbiased accuracy; one-sided Welch t-test,
  the Welch t-interval for Δ (primary), a percentile bootstrap (secondary, labelled unreliable
  below 8 runs per arm), Hedges' g.
- :func:`h2_test`: target more stable than baseline; per run the val-acc noise SD around the
  run's own concave trend, chance-level plateau epochs left out (:func:`vfreport.stats.noise.noise_sd`,
  indifferent to the curve's shape), compared on the log scale with an exact
  permutation test (valid at any n; at 3 vs 3 runs its smallest p is 0.05, so H2 is "not
  decidable" there). Estimate: the ratio of geometric means (target / baseline) with the
  exponentiated Welch t-interval of the log difference.
- :func:`h3_test`: target train acc at epoch 10 > threshold; one-sample t over runs.
- :func:`adjust`: Holm over the tests that ran and can decide, within one family: the verdict
  (:mod:`vfreport.analysis.verdicts`) tests the primary endpoint (ΔDER on the common yardstick, or
  H1 without an evaluation) first at full α and passes only the secondary family (H1–H3, or H2–H3)
  here.

With one run per arm nothing is tested: the results say what a test would need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from vfreport.analysis.metrics import NOISE_FLOOR
from vfreport.stats.intervals import as_array, bootstrap_mean_diff_ci
from vfreport.stats.multiple import holm
from vfreport.stats.results import ALPHA, N_RESAMPLES, Estimate, Interval, TestResult, not_testable
from vfreport.stats.twosample import (
    one_sample_t_test,
    permutation_test,
    runs_for_permutation,
    welch_t_interval,
    welch_t_test,
)

ACCURACY_BOUNDS = (0.0, 1.0)


def _one_run_reason(n: tuple[int, ...], what: str) -> str:
    if min(n) == 0:
        return "no completed run in one arm"
    return (f"one run per arm ({n[0]} and {n[1]}): descriptive only; {what} needs at least 2 runs per arm "
            "(run more seeds)")


def h1_test(
    target: Sequence[float], baseline: Sequence[float], n_resamples: int = N_RESAMPLES, seed: int = 0,
    alpha: float = ALPHA,
) -> TestResult:
    """H1, real labels → higher accuracy: one-sided Welch t-test on the per-run selection-unbiased
    accuracy (:func:`vfreport.stats.twosample.welch_t_test`), Welch t-interval as the CI, and in
    ``extra["bootstrap_ci"]`` the percentile bootstrap interval
    (:func:`vfreport.stats.intervals.bootstrap_mean_diff_ci`), flagged unreliable below 8 runs."""
    a, b = as_array(target), as_array(baseline)
    n = (len(a), len(b))
    if min(n) < 2:
        est = Estimate("Δ mean", float(a.mean() - b.mean())) if min(n) else None
        return not_testable("Welch two-sample t-test, one-sided", _one_run_reason(n, "Welch's t-test"), n,
                            estimate=est)
    res = welch_t_test(a, b, "greater", alpha=alpha)
    boot = bootstrap_mean_diff_ci(a, b, n_resamples, seed)
    return replace(res, extra={**res.extra, "bootstrap_ci": boot})


def h2_test(target_noise_sd: Sequence[float], baseline_noise_sd: Sequence[float], alpha: float,
            seed: int = 0) -> TestResult:
    """H2, real labels → stable training: one-sided exact permutation test that the target's runs
    have smaller log noise SDs (:func:`vfreport.stats.noise.noise_sd`) than the baseline's
    (:func:`vfreport.stats.twosample.permutation_test`, ``alternative="less"``). SDs below
    :data:`~vfreport.analysis.metrics.NOISE_FLOOR` are raised to it first. Estimate: ratio of
    geometric means; CI: exponentiated Welch t-interval of the mean log difference."""
    a = np.log(np.maximum(as_array(target_noise_sd), NOISE_FLOOR))
    b = np.log(np.maximum(as_array(baseline_noise_sd), NOISE_FLOOR))
    n = (len(a), len(b))
    if min(n) < 2:
        return not_testable("exact permutation test on log noise SD, one-sided",
                            _one_run_reason(n, "a permutation test") +
                            f"; it can reach α = {alpha:g} from {runs_for_permutation(alpha)} runs per arm", n)
    res = permutation_test(a, b, alternative="less", alpha=alpha, seed=seed)
    ratio = float(math.exp(a.mean() - b.mean()))
    w = welch_t_interval(a, b)
    ci = Interval(math.exp(w.low), math.exp(w.high), "exponentiated Welch t-interval of the mean log difference",
                  w.confidence) if w is not None else None
    reason = res.reason
    if not res.decidable:
        k = runs_for_permutation(alpha)
        reason += f"; {k} runs per arm can reach it (smallest p {1 / math.comb(2 * k, k):.3g})"
    return replace(
        res,
        method=f"{'exact' if res.extra.get('exact') else 'Monte Carlo'} permutation test on log noise SD, "
        "one-sided",
        statistic_name="Δ mean log SD",
        estimate=Estimate("noise SD ratio (target / baseline, geometric means)", ratio),
        effect_size=Estimate("noise SD ratio (target / baseline, geometric means)", ratio),
        ci=ci,
        reason=reason,
    )


def h3_test(train_acc_epoch10: Sequence[float], threshold: float, alpha: float = ALPHA) -> TestResult:
    """H3, target train acc at epoch 10 > ``threshold``: one-sided one-sample t-test over runs
    (:func:`vfreport.stats.twosample.one_sample_t_test`), t-interval clipped to [0, 1]."""
    x = as_array(train_acc_epoch10)
    if len(x) < 2:
        why = ("no target run reached epoch 10 (fewer than 10 epochs)" if len(x) == 0 else
               "one run: descriptive only; a one-sample t-test needs at least 2 runs (run more seeds)")
        est = Estimate("mean", float(x.mean())) if len(x) else None
        return not_testable("one-sample t-test, one-sided", why, (len(x),), estimate=est,
                            extra={"threshold": float(threshold)})
    return one_sample_t_test(x, threshold, "greater", bounds=ACCURACY_BOUNDS, alpha=alpha)


def adjust(tests: Mapping[str, TestResult]) -> dict[str, float | None]:
    """Holm-adjusted p-values (:func:`vfreport.stats.multiple.holm`) over the tests that ran and
    can decide at their n; the others get None and do not count."""
    keys = list(tests)
    ps = [tests[k].p_value if tests[k].testable and tests[k].decidable else None for k in keys]
    return dict(zip(keys, holm(ps), strict=True))
