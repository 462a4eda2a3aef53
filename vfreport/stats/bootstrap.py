"""A two-level bootstrap for scores of runs on shared items (runs × meetings), and rliable's
aggregate point estimates (pure functions of arrays; nothing here reads files).

The data of one *group* (an arm, or a fixed audio-free baseline) is an array of shape
``(runs, items, ...)``: one row per training run (seed), one column per held-out item (meeting),
optional trailing axes for what a statistic needs (e.g. error and total seconds). Every group is
scored on the same items.

:func:`hierarchical_bootstrap` draws, in each replicate, the items with replacement once (shared
by every group and every run: a meeting that is hard for one arm is hard for the other, so the
comparison stays paired) and, independently for each group, the runs with replacement. The
statistic sees the resampled arrays. This is the "pigeonhole" bootstrap of a crossed design
(Owen 2007), which is conservative for the variance of a mean; with ``crossed=False`` the items
are drawn afresh within every resampled run (the nested two-stage bootstrap, e.g. Saravanan et
al. 2020), for designs where each run has its own items.

:func:`bootstrap_t_interval` turns the replicates into an interval that holds at three runs per
arm: the percentile bootstrap of a mean over n runs is too narrow by ``sqrt((n - 1) / n)`` and
ignores that the spread itself is estimated from n values (docs/statistics.md: at 3 vs 3 seeds a
percentile interval covered the true Δ 79 % of the time). The interval is
``estimate ± t(1 - α/2, n - 1) · sqrt(n / (n - 1)) · SE_boot`` with n the smallest number of runs
among the groups that have several (Welch's conservative degrees of freedom, min(n1, n2) - 1), or
the number of items when that is smaller (the item-level spread is estimated from that many). Its
coverage and type-I error are checked by simulation in ``tests/test_bootstrap.py``.

:func:`iqm` and :func:`probability_of_improvement` are rliable's aggregate metrics for few-run
reporting (Agarwal et al. 2021): the interquartile mean of all run × item scores, and the
probability that a run of one group scores better than a run of the other on a random item
(Mann–Whitney counting per item, ties count one half, averaged over items).

References
----------
Agarwal, R., Schwarzer, M., Castro, P. S., Courville, A., Bellemare, M. G. (2021). Deep
reinforcement learning at the edge of the statistical precipice. NeurIPS 2021 (rliable:
stratified bootstrap, IQM, probability of improvement).
Owen, A. B. (2007). The pigeonhole bootstrap. Annals of Applied Statistics 1(2), 386-411.
Saravanan, V., Berman, G. J., Sober, S. J. (2020). Application of the hierarchical bootstrap to
multi-level data in neuroscience. Neurons, Behavior, Data analysis and Theory 3(5).
Welch, B. L. (1947). The generalization of Student's problem when several different population
variances are involved. Biometrika 34, 28-35.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from vfreport.stats.results import CONFIDENCE, N_RESAMPLES

_MAX_ELEMENTS = 4_000_000  # resampled cells held in memory at once (replicates are drawn in chunks beyond that)

Statistic = Callable[[Sequence[np.ndarray]], np.ndarray]
"""``statistic(groups)``: each group resampled to shape ``(B, runs, items, ...)``; returns ``(B,)``."""


@dataclass(frozen=True)
class BootstrapResult:
    """A statistic, its bootstrap replicates' spread and two intervals.

    ``ci95`` is :func:`bootstrap_t_interval` (the one to read); ``percentile_ci95`` the plain
    percentile interval, for comparison. ``p_less`` / ``p_greater``: one-sided p-values of the
    t reference for "the statistic is below / above ``null``". ``df``: the t degrees of freedom.
    """

    estimate: float
    se: float
    ci95: tuple[float, float]
    percentile_ci95: tuple[float, float]
    df: int
    n_units: int
    p_less: float
    p_greater: float
    n_resamples: int
    method: str

    def to_dict(self) -> dict[str, object]:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci95": list(self.ci95),
            "percentile_ci95": list(self.percentile_ci95),
            "df": self.df,
            "n_units": self.n_units,
            "p_less": self.p_less,
            "p_greater": self.p_greater,
            "n_resamples": self.n_resamples,
            "method": self.method,
        }


def _check_groups(groups: Sequence[np.ndarray]) -> list[np.ndarray]:
    arrays = [np.asarray(g, dtype=float) for g in groups]
    if not arrays:
        raise ValueError("hierarchical_bootstrap needs at least one group")
    items = {a.shape[1] if a.ndim >= 2 else None for a in arrays}
    if None in items or len(items) != 1:
        shapes = [a.shape for a in arrays]
        raise ValueError(f"every group must be (runs, items, ...) with the same items; shapes {shapes}")
    if any(a.shape[0] < 1 for a in arrays) or next(iter(items)) < 1:
        raise ValueError("every group needs at least one run and one item")
    return arrays


def hierarchical_bootstrap(
    groups: Sequence[np.ndarray],
    statistic: Statistic,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    crossed: bool = True,
) -> np.ndarray:
    """Bootstrap replicates ``(n_resamples,)`` of ``statistic`` over runs and items (module doc).

    ``crossed=True``: items drawn once per replicate, shared by all groups and runs (paired);
    ``crossed=False``: items drawn afresh for every resampled run of every group (nested).
    Seeded: the same inputs and ``seed`` give the same replicates.
    """
    arrays = _check_groups(groups)
    rng = np.random.default_rng(seed)
    m = arrays[0].shape[1]
    cells = sum(a.shape[0] * m * max(1, int(np.prod(a.shape[2:]))) for a in arrays)
    chunk = max(1, min(n_resamples, _MAX_ELEMENTS // max(1, cells)))
    out = np.empty(n_resamples, dtype=float)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        shared = rng.integers(0, m, size=(b, 1, m))
        resampled = []
        for a in arrays:
            r = a.shape[0]
            rows = rng.integers(0, r, size=(b, r, 1))
            cols = shared if crossed else rng.integers(0, m, size=(b, r, m))
            resampled.append(a[rows, cols])
        values = np.asarray(statistic(resampled), dtype=float).reshape(-1)
        if values.shape != (b,):
            raise ValueError(f"statistic returned shape {values.shape}, expected ({b},)")
        out[done : done + b] = values
        done += b
    return out


def units(groups: Sequence[np.ndarray]) -> int:
    """The replication that bounds the interval: the fewest runs among groups with several runs, or
    the number of items when that is smaller (the item level is estimated from that many values)."""
    arrays = _check_groups(groups)
    counts = [a.shape[0] for a in arrays if a.shape[0] > 1]
    if arrays[0].shape[1] > 1:
        counts.append(arrays[0].shape[1])
    return min(counts) if counts else 1


def bootstrap_t_interval(
    estimate: float,
    replicates: np.ndarray,
    n_units: int,
    confidence: float = CONFIDENCE,
    null: float = 0.0,
) -> tuple[tuple[float, float], float, int, float, float]:
    """``estimate ± t(1 - α/2, n - 1) · sqrt(n / (n - 1)) · SE_boot`` (module doc).

    Returns (interval, SE_boot, df, p_less, p_greater), the p-values one-sided for ``null`` on
    the same t reference. With ``n_units < 2`` the interval is (nan, nan) and the p-values nan.
    """
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    se = float(reps.std(ddof=1)) if len(reps) > 1 else float("nan")
    if n_units < 2 or not math.isfinite(se) or not math.isfinite(estimate):
        return (float("nan"), float("nan")), se, max(0, n_units - 1), float("nan"), float("nan")
    df = n_units - 1
    scale = se * math.sqrt(n_units / df)
    half = float(st.t.ppf(0.5 + confidence / 2.0, df)) * scale
    if scale <= 0:  # no spread at all: the estimate is exact under this design
        p_less = 1.0 if estimate >= null else 0.0
        p_greater = 1.0 if estimate <= null else 0.0
        return (estimate, estimate), se, df, p_less, p_greater
    t = (estimate - null) / scale
    return (estimate - half, estimate + half), se, df, float(st.t.cdf(t, df)), float(st.t.sf(t, df))


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13)."""
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if len(reps) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(reps, [0.5 - confidence / 2.0, 0.5 + confidence / 2.0])
    return (float(lo), float(hi))


def bootstrap(
    groups: Sequence[np.ndarray],
    statistic: Statistic,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    crossed: bool = True,
    confidence: float = CONFIDENCE,
    null: float = 0.0,
) -> BootstrapResult:
    """The statistic on the data, its hierarchical-bootstrap replicates and intervals (module doc)."""
    arrays = _check_groups(groups)
    estimate = float(np.asarray(statistic([a[None] for a in arrays]), dtype=float).reshape(-1)[0])
    reps = hierarchical_bootstrap(arrays, statistic, n_resamples, seed, crossed)
    n = units(arrays)
    ci, se, df, p_less, p_greater = bootstrap_t_interval(estimate, reps, n, confidence, null)
    design = "items shared across runs and groups" if crossed else "items nested in runs"
    method = (f"two-level bootstrap (runs, then meetings; {design}; {n_resamples} resamples, seed {seed}); "
              f"interval estimate ± t({df})·√(n/(n−1))·SE with n = {n}")
    return BootstrapResult(estimate, se, ci, percentile_interval(reps, confidence), df, n, p_less, p_greater,
                           n_resamples, method)


# ---------------------------------------------------------------------------------------------
# statistics (vectorised over replicates: arrays (B, runs, items, ...))
# ---------------------------------------------------------------------------------------------


def mean_statistic(groups: Sequence[np.ndarray]) -> np.ndarray:
    """Mean over runs and items of the first group."""
    g = groups[0]
    return g.reshape(g.shape[0], -1).mean(axis=1)


def ratio_of_sums(g: np.ndarray) -> np.ndarray:
    """``sum(numerator) / sum(denominator)`` over runs and items of ``(B, runs, items, 2)``: the
    corpus-level rate (pyannote's ``abs(metric)``: total error over total reference speech)."""
    num = g[..., 0].reshape(g.shape[0], -1).sum(axis=1)
    den = g[..., 1].reshape(g.shape[0], -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def difference_of_ratios(groups: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`ratio_of_sums` of the first group minus that of the second."""
    return ratio_of_sums(groups[0]) - ratio_of_sums(groups[1])


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean of all scores (the middle 50 %, scipy's ``trim_mean(x, 0.25)``), rliable's
    robust aggregate (Agarwal et al. 2021)."""
    x = np.asarray(scores, dtype=float).reshape(-1)
    x = x[np.isfinite(x)]
    return float(st.trim_mean(x, 0.25)) if len(x) else float("nan")


def probability_of_improvement(x: np.ndarray, y: np.ndarray, lower_is_better: bool = True) -> float:
    """P(a run of ``x`` beats a run of ``y`` on a random item), rliable's probability of improvement.

    ``x`` (runs_x, items), ``y`` (runs_y, items), same items. Per item, the Mann–Whitney count over
    all run pairs (a tie counts one half) divided by the number of pairs; then the mean over items
    (Agarwal et al. 2021, eq. for P(X > Y) averaged over tasks).
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must be (runs, items) with the same items; got {a.shape} and {b.shape}")
    diff = a[:, None, :] - b[None, :, :]  # (rx, ry, items)
    better = (diff < 0) if lower_is_better else (diff > 0)
    per_item = (better + 0.5 * (diff == 0)).mean(axis=(0, 1))
    return float(per_item.mean())
