"""Confidence intervals and per-group summaries: pure functions on arrays.

- :func:`t_interval`: Student t interval of a mean, optionally clipped to the range a quantity can
  take (accuracies stay in [0, 1]); :func:`t_bounds`: its one-sided bounds.
- :func:`summarize`: mean, SD, t-interval and n of a group, keeping missing values in place.
- :func:`bootstrap_ci`: one vectorised percentile bootstrap for any statistic of independent
  samples (rliable's ``StratifiedBootstrap`` idea: each sample resampled on its own).
- :func:`sd_interval`: chi-square interval of a standard deviation.
- :func:`clustered_accuracy`, :func:`arm_accuracy_interval`: an arm's mean accuracy when all its
  runs are scored on one test split, with the split's own clustered sampling error added to the
  seed variance (docs/statistics-runs.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as st

from vfreport.stats.results import ALPHA, CONFIDENCE, N_RESAMPLES, Bounds, Interval

MAX_BOOT_ELEMENTS = 4_000_000
"""Resampled elements held in memory at once; resamples beyond that are drawn in chunks."""
BOOTSTRAP_MIN_N = 8
"""Below this many values per group a percentile bootstrap is labelled unreliable: at 3 vs 3 runs
the percentile interval of a mean difference covered the true value about 79 % of the time."""


def finite(x: Any) -> float | None:
    """``float(x)`` when it is a finite number, else None."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def as_array(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """A 1-D float array."""
    return np.asarray(values, dtype=float).ravel()


def t_interval(
    values: Sequence[float] | np.ndarray,
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = None,
) -> Interval | None:
    """Student t confidence interval of a mean.

    ``mean ± t(1 - (1 - confidence)/2, n - 1) · s / √n``, clipped to ``bounds`` (e.g. (0, 1) for
    an accuracy: the true mean cannot lie outside, so clipping keeps the coverage and removes
    impossible values). None for n < 2.

    References
    ----------
    Student (1908), "The probable error of a mean", Biometrika 6(1).
    """
    x = as_array(values)
    n = len(x)
    if n < 2:
        return None
    m = float(x.mean())
    half = float(st.t.ppf(0.5 + confidence / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    lo, hi = m - half, m + half
    method = f"Student t interval, df = {n - 1}"
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        method += f", clipped to [{bounds[0]:g}, {bounds[1]:g}]"
    return Interval(lo, hi, method, confidence)


def t_bounds(
    values: Sequence[float] | np.ndarray, alpha: float = ALPHA, bounds: tuple[float, float] | None = None
) -> Bounds | None:
    """One-sided ``(1 - alpha)`` Student t bounds of a mean, ``mean ∓ t(1 - alpha, n - 1) · s/√n``,
    clipped to ``bounds``: the bounds a one-sided one-sample t-test at ``alpha`` reads (Student
    1908). None for n < 2."""
    x = as_array(values)
    n = len(x)
    if n < 2:
        return None
    m = float(x.mean())
    half = float(st.t.ppf(1.0 - alpha, n - 1) * x.std(ddof=1) / math.sqrt(n))
    lo, hi = m - half, m + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return Bounds(lo, hi, alpha, f"one-sided {100 * (1 - alpha):g} % Student t bounds, df = {n - 1}")


@dataclass(frozen=True)
class Summary:
    """Mean, sample SD (ddof = 1), t-interval and n of a group; ``per_seed`` keeps None (a run
    without a value) in place."""

    mean: float | None
    std: float | None
    ci: Interval | None
    n: int
    per_seed: tuple[float | None, ...]

    @property
    def ci95(self) -> tuple[float | None, float | None] | None:
        return self.ci.as_tuple() if self.ci is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "ci95": list(self.ci.as_tuple()) if self.ci is not None else None,
            "per_seed": list(self.per_seed),
            "n": self.n,
        }


def summarize(values: Sequence[float | None] | np.ndarray, bounds: tuple[float, float] | None = None) -> Summary:
    """Mean, sample SD and 95 % t-interval (:func:`t_interval`, clipped to ``bounds``) of the
    values that exist; None/NaN entries stay in ``per_seed``. SD and CI are None for n < 2."""
    per_seed = tuple(finite(v) for v in values)
    x = np.array([v for v in per_seed if v is not None], dtype=float)
    n = len(x)
    return Summary(
        mean=float(x.mean()) if n else None,
        std=float(x.std(ddof=1)) if n >= 2 else None,
        ci=t_interval(x, bounds=bounds),
        n=n,
        per_seed=per_seed,
    )


def bootstrap_ci(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., np.ndarray],
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float | None, float | None] | None:
    """Percentile bootstrap interval of ``statistic`` over independent samples, vectorised.

    Each array of ``samples`` is resampled with replacement along its first axis, independently
    of the others. ``statistic`` receives one array per sample shaped ``(batch, n_i, ...)`` and
    returns ``(batch,)``. Reproducible for a given ``seed``; memory bounded by drawing in chunks.
    A bound that is not finite comes back as None; None when a sample is empty.

    References
    ----------
    Efron, B. & Tibshirani, R. (1993), *An Introduction to the Bootstrap*, ch. 13.
    Agarwal, R. et al. (2021), "Deep reinforcement learning at the edge of the statistical
    precipice", NeurIPS (rliable: one bootstrap for any statistic).
    """
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if any(len(a) == 0 for a in arrays):
        return None
    rng = np.random.default_rng(seed)
    width = sum(a.size for a in arrays)
    chunk = max(1, min(n_resamples, MAX_BOOT_ELEMENTS // max(width, 1)))
    out = np.empty(n_resamples, dtype=float)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        resampled = [a[rng.integers(0, len(a), size=(b, len(a)))] for a in arrays]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[done : done + b] = statistic(*resampled)
        done += b
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.nanquantile(out, [tail, 1.0 - tail])
    return finite(lo), finite(hi)


def _mean_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.mean(axis=1) - b.mean(axis=1)


def bootstrap_mean_diff_ci(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """Percentile bootstrap interval of ``mean(target) - mean(baseline)``, each group resampled on
    its own (Efron & Tibshirani 1993, §13.3). Marked ``reliable=False`` below
    :data:`BOOTSTRAP_MIN_N` values per group. None if a group has fewer than 2 values."""
    a, b = as_array(target), as_array(baseline)
    if len(a) < 2 or len(b) < 2:
        return None
    ci = bootstrap_ci([a, b], _mean_diff, n_resamples, seed, confidence)
    if ci is None or None in ci:
        return None
    small = min(len(a), len(b)) < BOOTSTRAP_MIN_N
    return Interval(
        ci[0], ci[1], f"percentile bootstrap over runs, {n_resamples} resamples", confidence,
        reliable=not small,
        note=f"unreliable below {BOOTSTRAP_MIN_N} runs per arm (under-covers)" if small else "",
    )


def sd_interval(sd: float, df: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Chi-square confidence interval of a normal population's SD from a sample SD with ``df``
    degrees of freedom: ``[s·√(df/χ²(1-a/2, df)), s·√(df/χ²(a/2, df))]``. At df = 4 (3 + 3 runs,
    pooled) the interval spans ×0.60 to ×2.87 of the estimate.

    References
    ----------
    Sheskin, D. J. (2011), *Handbook of Parametric and Nonparametric Statistical Procedures*,
    5th ed., Test 3 (the single-sample chi-square test for a population variance).
    """
    if df < 1 or not (sd >= 0 and math.isfinite(sd)):
        return None
    a = 1.0 - confidence
    return (
        float(sd * math.sqrt(df / st.chi2.ppf(1.0 - a / 2.0, df))),
        float(sd * math.sqrt(df / st.chi2.ppf(a / 2.0, df))),
    )


def clustered_accuracy(
    correct: Sequence[float] | np.ndarray, scored: Sequence[float] | np.ndarray, cluster: Sequence[Any] | np.ndarray
) -> tuple[float | None, float | None, int]:
    """Accuracy of one test split, ``p = Σ correct / Σ scored`` over its windows, the sampling
    variance of ``p`` with windows clustered (by recording or speaker), and the number of clusters
    ``G``: per cluster ``e_g = Σ_g (correct − p · scored)``, ``Var(p) = G/(G−1) · Σ e_g² / (Σ scored)²``
    (the linearised, CR1 cluster-robust variance of a ratio mean: Cochran 1977, §6.9 and §9A.6;
    Cameron & Miller 2015, §2). Frames of a window, and windows of a recording, are not
    independent; recordings are taken to be. Variance None below 2 clusters; all None without
    scored frames."""
    c, m = as_array(correct), as_array(scored)
    labels = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
    total = float(m.sum())
    if total <= 0:
        return None, None, 0
    p = float(c.sum() / total)
    g = int(labels.max()) + 1 if len(labels) else 0
    if g < 2:
        return p, None, g
    e = np.bincount(labels, weights=c - p * m, minlength=g)
    return p, float(g / (g - 1) * np.sum(e**2) / total**2), g


@dataclass(frozen=True)
class ArmAccuracy:
    """An arm's mean accuracy over runs with seed and test-split error (:func:`arm_accuracy_interval`)."""

    mean: float
    se: float
    df: float
    seed_var: float
    split_var: float
    ci: Interval
    bounds: Bounds

    @property
    def split_share(self) -> float:
        """Share of the variance of the mean that comes from the test split."""
        total = self.seed_var + self.split_var
        return self.split_var / total if total > 0 else 0.0


def arm_accuracy_interval(
    run_values: Sequence[float] | np.ndarray,
    split_var: float | None = None,
    split_clusters: int | None = None,
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> ArmAccuracy | None:
    """Interval and one-sided bounds for an arm's mean accuracy when all its runs are scored on
    one shared test split.

    The split's own sampling error is common to every run scored on it, so it does not shrink
    with more runs: ``Var(mean) = s²/n + v_split``, where ``s²`` is the variance across runs and
    ``v_split`` the split's clustered sampling variance (:func:`clustered_accuracy`; pass the mean
    of the runs' variances: exact when the runs' split errors are fully correlated, conservative
    otherwise, the run-specific part being in ``s²`` already). Degrees of freedom by
    Welch–Satterthwaite from ``n − 1`` and ``G − 1`` (``split_clusters``). Interval
    ``mean ± t(1 − (1−confidence)/2, df) · se``, bounds ``mean ∓ t(1 − alpha, df) · se``, both
    clipped to ``bounds``. Without ``split_var`` only the seed term is used (the plain t-interval).
    None with fewer than 2 runs.

    References
    ----------
    Satterthwaite, F. E. (1946), Biometrics Bulletin 2(6). Cameron, A. C. & Miller, D. L. (2015),
    "A practitioner's guide to cluster-robust inference", J. Human Resources 50(2).
    """
    x = as_array(run_values)
    n = len(x)
    if n < 2:
        return None
    seed_var = float(x.var(ddof=1) / n)
    v = float(split_var) if split_var is not None and math.isfinite(split_var) and split_var > 0 else 0.0
    g = int(split_clusters) if split_clusters else 0
    total = seed_var + v
    parts = seed_var**2 / (n - 1) + (v**2 / (g - 1) if v > 0 and g >= 2 else 0.0)
    df = total**2 / parts if parts > 0 else float(n - 1)
    se = math.sqrt(total)
    m = float(x.mean())
    what = "runs and test-split (clustered) error" if v > 0 else "runs only"
    half = float(st.t.ppf(0.5 + confidence / 2.0, df) * se)
    one = float(st.t.ppf(1.0 - alpha, df) * se)
    lo, hi, blo, bhi = m - half, m + half, m - one, m + one
    if bounds is not None:
        lo, hi, blo, bhi = max(lo, bounds[0]), min(hi, bounds[1]), max(blo, bounds[0]), min(bhi, bounds[1])
    method = f"t interval over {what}, Satterthwaite df = {df:.1f}"
    return ArmAccuracy(m, se, df, seed_var, v, Interval(lo, hi, method, confidence),
                       Bounds(blo, bhi, alpha, f"one-sided {100 * (1 - alpha):g} % bounds, {what}, df = {df:.1f}"))
