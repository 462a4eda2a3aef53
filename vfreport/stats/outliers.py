"""Runs that fail: a stated robust flag per arm and the decision with and without the flagged runs
(docs/statistics-runs.md). Pure functions on one value per run.

Rule (:func:`flag_runs`): a run is flagged when its value lies more than ``k = 3`` robust SDs from
its arm's median (Hampel's identifier, Hampel 1974; ``k`` = 3 as Leys et al. 2013 advise), and
further from it than ``floor`` (a spread smaller than the smallest worthwhile difference changes
no decision, and with three runs the MAD can be near 0); or when the caller marks it as having
never left chance (a plateaued run). The robust SD to pass (``scale``) is ``1.4826 · MAD`` of the
runs' deviations from their own arm's median pooled over both arms (:func:`pooled_robust_sd`); the
default, the arm's own ``1.4826 · MAD``, is weaker: with one run in five failing, an arm of 5–10
runs often holds two or three failures, and its own MAD then spans them. Measured with the pooled
scale (tests/test_outliers.py, seed SD 2.5 points, failures −20 points in one run in five):
a lone failed run is caught 98–100 % of the time at 3–10 runs, all failed runs 64–93 %, and 1–5 %
of working runs are flagged.

Sensitivity (:func:`sensitivity`): the one-sided Welch test recomputed without the flagged runs,
and Yuen's trimmed-mean Welch test on all runs (20 % trimmed from each end;
``scipy.stats.ttest_ind(trim=0.2)``; Yuen 1974), which needs no flag. The decision "depends on the
flagged runs" when the all-runs decision at ``alpha`` differs from the one without them.

References
----------
Hampel, F. R. (1974), "The influence curve and its role in robust estimation", JASA 69(346).
Leys, C. et al. (2013), "Detecting outliers: do not use standard deviation around the mean, use
absolute deviation around the median", J. Exp. Soc. Psychol. 49(4). Yuen, K. K. (1974), "The
two-sample trimmed t for unequal population variances", Biometrika 61(1). Wilcox, R. R. (2017),
*Introduction to Robust Estimation and Hypothesis Testing*, 4th ed., §5.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from vfreport.stats.intervals import as_array, finite
from vfreport.stats.results import ALPHA, TestResult
from vfreport.stats.twosample import welch_t_test

K_MAD = 3.0
MAD_SCALE = 1.4826
"""1 / Φ⁻¹(3/4): makes the MAD estimate the SD of normal data."""
MIN_RUNS_FOR_MAD = 3
TRIM = 0.2


@dataclass(frozen=True)
class RunFlag:
    """One run's flag: ``robust_z`` = (value − median) / (1.4826 · MAD) (None when the MAD rule
    does not apply), ``reasons`` the sentences that flagged it (empty: not flagged)."""

    index: int
    value: float | None
    robust_z: float | None
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


def _present(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    return np.array([v for v in (finite(v) for v in values) if v is not None], dtype=float)


def pooled_robust_sd(*arms: Sequence[float | None] | np.ndarray) -> float | None:
    """``1.4826 · MAD`` of every run's deviation from its own arm's median, pooled over the arms:
    the seed-to-seed scale with the arms' levels removed. Pooling keeps the scale when one arm has
    several failed runs (its own MAD then spans the failures). None with fewer than 3 runs."""
    dev = np.concatenate([x - np.median(x) for x in map(_present, arms) if len(x)] or [np.empty(0)])
    if len(dev) < MIN_RUNS_FOR_MAD:
        return None
    return MAD_SCALE * float(np.median(np.abs(dev)))


def flag_runs(
    values: Sequence[float | None] | np.ndarray,
    k: float = K_MAD,
    floor: float = 0.0,
    at_chance: Sequence[bool] | None = None,
    scale: float | None = None,
) -> tuple[RunFlag, ...]:
    """Flag outlying or plateaued runs of one arm (rule in the module docstring): ``|value −
    median| > max(k · s, floor)`` with ``s`` = ``scale`` when given (e.g. :func:`pooled_robust_sd`
    over both arms) else the arm's own ``1.4826 · MAD``, or ``at_chance[i]`` (the run never left
    chance). Missing values (None/NaN) are not flagged by the MAD rule and do not enter the median."""
    vals = [finite(v) for v in values]
    x = _present(values)
    use_mad = len(x) >= MIN_RUNS_FOR_MAD or (scale is not None and len(x) >= 2)
    med = float(np.median(x)) if len(x) else 0.0
    if scale is None:
        scale = MAD_SCALE * float(np.median(np.abs(x - med))) if use_mad else 0.0
    out = []
    for i, v in enumerate(vals):
        reasons = []
        z = None
        if use_mad and v is not None:
            dev = v - med
            z = dev / scale if scale > 0 else (0.0 if dev == 0 else float(np.sign(dev)) * np.inf)
            if abs(dev) > max(k * scale, floor):
                reasons.append(f"{abs(dev):.3g} from the arm's median {med:.3g}, more than {k:g} robust SDs "
                               f"(1.4826 · MAD = {scale:.3g})" + (f" and more than {floor:g}" if floor > 0 else ""))
        if at_chance is not None and at_chance[i]:
            reasons.append("never left chance (plateaued run)")
        out.append(RunFlag(i, v, finite(z) if z is not None and np.isfinite(z) else z, tuple(reasons)))
    return tuple(out)


@dataclass(frozen=True)
class Sensitivity:
    """H1 with all runs, without the flagged runs, and Yuen's trimmed test (module docstring)."""

    all_runs: TestResult
    without_flagged: TestResult | None
    trimmed: TestResult
    flagged: tuple[int, int]
    depends_on_flagged: bool
    alpha: float

    @property
    def summary(self) -> str:
        """One sentence for the report."""
        if not any(self.flagged):
            return "no run flagged"
        parts = [f"{self.flagged[0]} target and {self.flagged[1]} baseline run(s) flagged"]
        w = self.without_flagged
        parts.append(f"H1 p = {w.p_value:.3g} without them" if w is not None and w.p_value is not None
                     else "H1 not testable without them")
        if self.trimmed.p_value is not None:
            parts.append(f"Yuen's 20 % trimmed test p = {self.trimmed.p_value:.3g}")
        if self.depends_on_flagged:
            parts.append("the decision depends on the flagged runs")
        return "; ".join(parts)


def _significant(res: TestResult | None, alpha: float) -> bool | None:
    if res is None or not res.testable or res.p_value is None:
        return None
    return res.p_value < alpha


def yuen_test(target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray,
              alternative: str = "greater", trim: float = TRIM) -> TestResult:
    """Yuen's trimmed-mean Welch test (``scipy.stats.ttest_ind(equal_var=False, trim=trim)``;
    Yuen 1974): means and Winsorised variances after cutting ``trim`` of the runs from each end.
    At 3–4 runs per arm a 20 % trim cuts nothing (``floor(0.2·n) = 0``) and it equals Welch's."""
    a, b = as_array(target), as_array(baseline)
    n = (len(a), len(b))
    method = f"Yuen's {100 * trim:g} % trimmed-mean Welch test" + (", one-sided" if alternative != "two-sided" else "")
    if min(n) < 2:
        return TestResult(method=method, testable=False, reason=f"needs at least 2 runs per arm, got {n[0]} and {n[1]}",
                          n=n)
    res = st.ttest_ind(a, b, equal_var=False, trim=trim, alternative=alternative)
    p = finite(res.pvalue)
    return TestResult(method=method, testable=p is not None, statistic_name="t", statistic=finite(res.statistic),
                      df=finite(getattr(res, "df", None)), p_value=p, alternative=alternative, n=n,
                      reason="" if p is not None else "no variance after trimming")


def sensitivity(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    target_flags: Sequence[RunFlag],
    baseline_flags: Sequence[RunFlag],
    alpha: float = ALPHA,
) -> Sensitivity:
    """The one-sided H1 decision (target > baseline) at ``alpha`` with all runs, without the
    flagged runs and by Yuen's trimmed test; ``depends_on_flagged`` when dropping the flagged runs
    changes the all-runs decision (including to "not testable")."""
    a, b = as_array(target), as_array(baseline)
    fa = np.array([f.flagged for f in target_flags], dtype=bool)
    fb = np.array([f.flagged for f in baseline_flags], dtype=bool)
    full = welch_t_test(a, b, "greater", alpha=alpha)
    without = welch_t_test(a[~fa], b[~fb], "greater", alpha=alpha) if fa.any() or fb.any() else None
    trimmed = yuen_test(a, b)
    depends = without is not None and _significant(full, alpha) != _significant(without, alpha)
    return Sensitivity(full, without, trimmed, (int(fa.sum()), int(fb.sum())), bool(depends), alpha)
