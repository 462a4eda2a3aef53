"""Tests on one value per unit (here: per run): Welch's t, an exact permutation test, the
one-sample t, with their intervals and effect sizes. Pure functions on arrays.

Conventions: two-sample functions take ``(target, baseline)`` and estimate
``target - baseline``; ``alternative="greater"`` tests ``target > baseline``. ``ci`` is two-sided
at ``confidence`` (95 %); ``bounds`` (:class:`~vfreport.stats.results.Bounds`) are the one-sided
``(1 - alpha)`` bounds that match a one-sided test at ``alpha``: the one-sided p of "greater" is
below ``alpha`` exactly when ``bounds.lower`` is above the null value, and
``bounds.interval`` is the matching 90 % two-sided interval at α = 0.05.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as st

from vfreport.stats.intervals import as_array, finite, t_bounds, t_interval
from vfreport.stats.results import ALPHA, CONFIDENCE, Bounds, Estimate, Interval, TestResult, not_testable

ZERO_SD = 1e-12
"""An SD at or below this counts as no variance: a t statistic is then undefined."""
EXACT_LIMIT = 20_000
"""An exact permutation test enumerates at most this many splits; above it, Monte Carlo."""
MC_PERMUTATIONS = 19_999


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call scipy without its "precision loss" warning (fires on constant groups, handled here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss", category=RuntimeWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Welch
# ---------------------------------------------------------------------------------------------


def welch_t(target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Welch's t statistic and Welch–Satterthwaite df of ``mean(target) - mean(baseline)``.

    ``t = (m_a - m_b) / √(s_a²/n_a + s_b²/n_b)``,
    ``df = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a-1) + (s_b²/n_b)²/(n_b-1))``.
    The one-sided p of ``target > baseline`` is ``scipy.stats.t.sf(t, df)``. Plain floats, for
    callers that build their own designs (group-sequential boundaries); NaN when undefined (fewer
    than 2 values in a group, or no variance in either).

    References
    ----------
    Welch, B. L. (1947), "The generalization of 'Student's' problem when several different
    population variances are involved", Biometrika 34. Satterthwaite, F. E. (1946), Biometrics
    Bulletin 2(6).
    """
    a, b = as_array(target), as_array(baseline)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    qa, qb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    den = qa**2 / (len(a) - 1) + qb**2 / (len(b) - 1)
    if qa + qb <= ZERO_SD**2 or den == 0:
        return math.nan, math.nan
    return float((a.mean() - b.mean()) / math.sqrt(qa + qb)), float((qa + qb) ** 2 / den)


def _welch_parts(target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray
                 ) -> tuple[float, float, float] | None:
    """(Δ, SE, df) of Welch's statistic, ``√(s_a²/n_a + s_b²/n_b)`` and Welch–Satterthwaite df;
    None when undefined (see :func:`welch_t`)."""
    a, b = as_array(target), as_array(baseline)
    _, df = welch_t(a, b)
    if not math.isfinite(df):
        return None
    return float(a.mean() - b.mean()), math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)), df


def welch_t_interval(
    target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE
) -> Interval | None:
    """Welch t-interval of ``mean(target) - mean(baseline)``:
    ``Δ ± t(1 - (1-confidence)/2, df_W) · √(s_a²/n_a + s_b²/n_b)`` (Welch 1947). The interval the
    Welch test inverts: it excludes 0 exactly when the two-sided Welch p < 1 - confidence. None
    when undefined (see :func:`welch_t`)."""
    parts = _welch_parts(target, baseline)
    if parts is None:
        return None
    d, se, df = parts
    half = float(st.t.ppf(0.5 + confidence / 2.0, df) * se)
    return Interval(d - half, d + half, f"Welch t-interval, df = {df:.1f}", confidence)


def welch_bounds(
    target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray, alpha: float = ALPHA
) -> Bounds | None:
    """One-sided ``(1 - alpha)`` Welch bounds of ``mean(target) - mean(baseline)``:
    ``Δ ∓ t(1 - alpha, df_W) · √(s_a²/n_a + s_b²/n_b)`` (Welch 1947). ``lower`` is above ``δ0``
    exactly when the one-sided Welch test of ``Δ > δ0`` has p < alpha; ``upper`` is below ``δ0``
    exactly when the test of ``Δ < δ0`` does (so "no worthwhile gain" reads ``upper < min_delta``).
    None when undefined (see :func:`welch_t`)."""
    parts = _welch_parts(target, baseline)
    if parts is None:
        return None
    d, se, df = parts
    half = float(st.t.ppf(1.0 - alpha, df) * se)
    return Bounds(d - half, d + half, alpha, f"one-sided {100 * (1 - alpha):g} % Welch bounds, df = {df:.1f}")


def pooled_sd(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Pooled SD ``√(((n_a-1)s_a² + (n_b-1)s_b²) / (n_a+n_b-2))`` (Cohen 1988, eq. 2.3.2). A
    group of one contributes no variance; None when ``n_a + n_b < 3`` or a group is empty."""
    a, b = as_array(a), as_array(b)
    dof = len(a) + len(b) - 2
    if dof < 1 or len(a) == 0 or len(b) == 0:
        return None
    ss = (a.var(ddof=1) * (len(a) - 1) if len(a) > 1 else 0.0) + (b.var(ddof=1) * (len(b) - 1) if len(b) > 1 else 0.0)
    return float(math.sqrt(ss / dof))


def hedges_g(target: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray) -> float | None:
    """Hedges' g: ``J · (m_a - m_b) / s_pooled`` with ``J = 1 - 3 / (4(n_a+n_b) - 9)``.
    None when a group has fewer than 2 values or the pooled SD is 0.

    References
    ----------
    Hedges, L. V. & Olkin, I. (1985), *Statistical Methods for Meta-Analysis*, eq. 5.10.
    """
    a, b = as_array(target), as_array(baseline)
    if len(a) < 2 or len(b) < 2:
        return None
    s = pooled_sd(a, b)
    if not s:
        return None
    j = 1.0 - 3.0 / (4.0 * (len(a) + len(b)) - 9.0)
    return float(j * (a.mean() - b.mean()) / s)


def welch_t_test(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    alternative: str = "greater",
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
) -> TestResult:
    """Welch's two-sample t-test with its t-interval, one-sided bounds and Hedges' g, one value
    per unit.

    p from ``scipy.stats.ttest_ind(equal_var=False)``; CI: :func:`welch_t_interval` (two-sided at
    ``confidence``); ``bounds``: :func:`welch_bounds` at ``alpha``; effect size :func:`hedges_g`.
    Not testable with fewer than 2 values per group or no variance.

    References
    ----------
    Welch (1947); Hedges & Olkin (1985); Colas, C., Sigaud, O. & Oudeyer, P.-Y. (2018), "How many
    random seeds? Statistical power analysis in deep reinforcement learning experiments"
    (Welch's test on per-seed results).
    """
    method = "Welch two-sample t-test" + (", one-sided" if alternative != "two-sided" else "")
    a, b = as_array(target), as_array(baseline)
    n = (len(a), len(b))
    if min(n) < 2:
        return not_testable(method, f"needs at least 2 runs per arm, got {n[0]} and {n[1]}", n)
    delta = float(a.mean() - b.mean())
    est = Estimate("Δ mean", delta)
    if a.std(ddof=1) <= ZERO_SD and b.std(ddof=1) <= ZERO_SD:
        return not_testable(method, "no variance: every run of both arms has the same value", n, estimate=est)
    res = _quiet(st.ttest_ind, a, b, equal_var=False, alternative=alternative)
    _, df = welch_t(a, b)
    return TestResult(
        method=method,
        testable=True,
        statistic_name="t",
        statistic=finite(res.statistic),
        df=finite(df),
        p_value=finite(res.pvalue),
        alternative=alternative,
        estimate=est,
        ci=welch_t_interval(a, b, confidence),
        effect_size=Estimate("Hedges' g", hedges_g(a, b)),
        n=n,
        bounds=welch_bounds(a, b, alpha),
    )


# ---------------------------------------------------------------------------------------------
# exact permutation test
# ---------------------------------------------------------------------------------------------


def min_permutation_p(n_target: int, n_baseline: int) -> float:
    """Smallest one-sided p an exact two-sample permutation test can give: ``1 / C(n_a+n_b, n_a)``
    (3 vs 3: 1/20 = 0.05; 4 vs 4: 1/70; 5 vs 5: 1/252)."""
    return 1.0 / math.comb(n_target + n_baseline, n_target)


def permutation_test(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    alternative: str = "greater",
    alpha: float | None = None,
    seed: int = 0,
) -> TestResult:
    """Two-sample permutation test of the difference in means, one value per unit.

    Enumerates every split of the pooled values into groups of the observed sizes (exact) when
    there are at most :data:`EXACT_LIMIT` of them, else draws :data:`MC_PERMUTATIONS` at random
    (p then ``(1 + #≥) / (1 + draws)``), via ``scipy.stats.permutation_test``. Valid whenever the
    values are exchangeable under the null, at any n; the price is a floor on p
    (:func:`min_permutation_p`). When ``alpha`` is given and the floor is not below it, the result
    says so (``decidable=False``): no outcome could be significant at this n.

    References
    ----------
    Good, P. (2005), *Permutation, Parametric and Bootstrap Tests of Hypotheses*, 3rd ed., ch. 3.
    Phipson, B. & Smyth, G. K. (2010), "Permutation p-values should never be zero", SAGMB 9(1).
    """
    a, b = as_array(target), as_array(baseline)
    n = (len(a), len(b))
    splits = math.comb(n[0] + n[1], n[0]) if min(n) >= 1 else 0
    exact = splits <= EXACT_LIMIT
    method = f"{'exact' if exact else 'Monte Carlo'} permutation test of the difference in means" + (
        ", one-sided" if alternative != "two-sided" else ""
    )
    if min(n) < 2:
        return not_testable(method, f"needs at least 2 runs per arm, got {n[0]} and {n[1]}", n)
    delta = float(a.mean() - b.mean())
    floor = min_permutation_p(*n) if exact else 1.0 / (1 + MC_PERMUTATIONS)
    if alternative == "two-sided":
        floor = min(1.0, 2 * floor)
    res = st.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        vectorized=True,
        n_resamples=np.inf if exact else MC_PERMUTATIONS,
        alternative=alternative,
        random_state=np.random.default_rng(seed),
    )
    decidable = alpha is None or floor < alpha
    return TestResult(
        method=method,
        testable=True,
        statistic_name="Δ mean",
        statistic=delta,
        df=None,
        p_value=finite(res.pvalue),
        alternative=alternative,
        estimate=Estimate("Δ mean", delta),
        n=n,
        min_p=floor,
        decidable=decidable,
        reason="" if decidable else (
            f"not decidable at n = {n[0]} and {n[1]}: the smallest p this test can reach is {floor:.3g}, "
            f"not below α = {alpha:g}"
        ),
        extra={"exact": exact, "permutations": splits if exact else MC_PERMUTATIONS},
    )


def runs_for_permutation(alpha: float, max_n: int = 50) -> int:
    """Smallest equal n per arm at which an exact one-sided permutation test can reach p < alpha."""
    for k in range(2, max_n + 1):
        if min_permutation_p(k, k) < alpha:
            return k
    return max_n


# ---------------------------------------------------------------------------------------------
# one sample
# ---------------------------------------------------------------------------------------------


def one_sample_t_test(
    values: Sequence[float] | np.ndarray,
    threshold: float,
    alternative: str = "greater",
    bounds: tuple[float, float] | None = None,
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
) -> TestResult:
    """One-sample t-test of ``mean > threshold`` (``scipy.stats.ttest_1samp``), one value per
    unit; CI: the t-interval of the mean (:func:`vfreport.stats.intervals.t_interval`, clipped to
    ``bounds``); one-sided bounds at ``alpha`` (:func:`vfreport.stats.intervals.t_bounds`); effect
    size Cohen's d ``(mean - threshold) / s``.

    References
    ----------
    Student (1908); Cohen, J. (1988), *Statistical Power Analysis for the Behavioral Sciences*,
    2nd ed., §2.2.
    """
    method = "one-sample t-test" + (", one-sided" if alternative != "two-sided" else "")
    x = as_array(values)
    n = (len(x),)
    if len(x) < 2:
        return not_testable(method, f"needs at least 2 runs, got {len(x)}", n)
    est = Estimate("mean", float(x.mean()))
    s = x.std(ddof=1)
    if s <= ZERO_SD:
        return not_testable(method, "no variance: every run has the same value", n, estimate=est)
    res = _quiet(st.ttest_1samp, x, threshold, alternative=alternative)
    return TestResult(
        method=method,
        testable=True,
        statistic_name="t",
        statistic=finite(res.statistic),
        df=float(len(x) - 1),
        p_value=finite(res.pvalue),
        alternative=alternative,
        estimate=est,
        ci=t_interval(x, confidence, bounds),
        effect_size=Estimate("Cohen's d", float((x.mean() - threshold) / s)),
        n=n,
        bounds=t_bounds(x, alpha, bounds),
        extra={"threshold": float(threshold)},
    )
