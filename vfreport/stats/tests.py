"""Statistics of an experiment (design.md §9): pure functions on arrays, small frozen results.

Nothing here reads or writes files. Every function names its method and a reference, in the
manner of ``scipy.stats`` and rliable. Accuracies are fractions in [0, 1].

Per run (:func:`run_metrics`): best val acc and its epoch, train acc at epoch 10, val-acc
variability over epochs 1–10 (± half the range, as the strategy document writes it, and the std
of the epoch-to-epoch changes), a plateau flag, whether the best epoch is after 4.

Per arm (:func:`summarize`): mean, std and a t-interval over seeds.

Hypotheses (:func:`h1_test`, :func:`h2_test`, :func:`h3_test`) return a
:class:`HypothesisTestResult` that says, with ``testable=False`` and a reason, when the data are
too thin for the test instead of raising. :func:`holm` adjusts their p-values;
:func:`power_analysis` says how many seeds a conclusive comparison would need.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

LN2 = math.log(2.0)
EARLY_EPOCHS = 10
"""Variability and train accuracy are read over epochs 1..10 (the strategy document's window)."""
PLATEAU_TOLERANCE = 0.01
PLATEAU_MIN_EPOCHS = 3
BEST_AFTER_EPOCH = 4
N_RESAMPLES = 10_000
CONFIDENCE = 0.95
ZERO_SD = 1e-12
"""An SD at or below this (in accuracy units) counts as zero variance: tests are not testable."""
_MAX_BOOT_ELEMENTS = 4_000_000  # resampled elements held in memory at once (chunks beyond that)


# ---------------------------------------------------------------------------------------------
# result types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunMetrics:
    """What one training run's history says (see :func:`run_metrics`)."""

    epochs: int
    best_val_acc: float
    best_epoch: int
    best_after_epoch4: bool
    train_acc_epoch10: float | None
    train_frames_epoch10: int | None
    val_acc_half_range: float | None
    val_acc_jump_std: float | None
    val_acc_changes: tuple[float, ...]
    window_epochs: int
    plateau: bool
    plateau_epochs: int
    final_val_acc: float
    final_train_acc: float
    best_val_window_acc: float | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """Mean, sample std (ddof=1), 95 % t-interval and n over seeds; ``per_seed`` keeps None
    (a run that has no value, e.g. fewer than 10 epochs) in place."""

    mean: float | None
    std: float | None
    ci95: tuple[float, float] | None
    n: int
    per_seed: tuple[float | None, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "ci95": list(self.ci95) if self.ci95 is not None else None,
            "per_seed": list(self.per_seed),
            "n": self.n,
        }


@dataclass(frozen=True)
class EffectSize:
    name: str
    value: float | None


@dataclass(frozen=True)
class HypothesisTestResult:
    """One significance test. ``estimate`` is the quantity ``ci95`` is an interval for.

    ``df`` is a number for t-tests, a pair (numerator, denominator) for F-tests and None for
    exact, permutation and binomial tests. ``n`` counts the units of ``unit`` in
    (target, baseline) order (one entry for one-sample tests).
    """

    test: str
    testable: bool
    reason: str = ""
    statistic: float | None = None
    df: float | tuple[float, float] | None = None
    p_value: float | None = None
    alternative: str = "greater"
    effect_size: EffectSize | None = None
    estimate: EffectSize | None = None
    ci95: tuple[float | None, float | None] | None = None
    n: tuple[int, ...] = ()
    unit: str = "seeds"
    caveat: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PowerResult:
    observed_delta: float | None
    pooled_sd: float | None
    seeds_for_observed_delta: int | None
    seeds_for_5_points: int | None
    power_at_current_n: float | None
    alpha: float
    target_power: float
    method: str
    reason: str = ""


def not_testable(
    test: str, reason: str, n: tuple[int, ...] = (), unit: str = "seeds", **kw: Any
) -> HypothesisTestResult:
    """A result that says why ``test`` could not be run (thin data), instead of raising."""
    return HypothesisTestResult(test=test, testable=False, reason=reason, n=n, unit=unit, **kw)


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a scipy test without its "precision loss" warning, which fires on an arm whose values
    are all equal (variance exactly 0, which the tests handle)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss", category=RuntimeWarning)
        return fn(*args, **kwargs)


def _arr(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


# ---------------------------------------------------------------------------------------------
# per run
# ---------------------------------------------------------------------------------------------


def longest_run(mask: Sequence[bool] | np.ndarray) -> int:
    """Length of the longest stretch of consecutive True values."""
    best = cur = 0
    for m in np.asarray(mask, dtype=bool):
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def run_metrics(history: pd.DataFrame) -> RunMetrics:
    """Per-run metrics of the strategy document from one validated history (design.md §9).

    ``history`` has one row per epoch (1-based, consecutive) with at least ``epoch``,
    ``train_loss``, ``train_acc`` and ``val_acc``; ``train_frames`` and ``val_window_acc`` are
    used when present.

    - best val acc: the maximum of ``val_acc``; its epoch is the first epoch reaching it (ties
      go to the earlier epoch, the one a best-checkpoint rule keeps); ``best_after_epoch4`` is
      ``best_epoch > 4``.
    - train acc at epoch 10: None when the run has fewer than 10 epochs.
    - variability over epochs 1..10 (or the epochs that exist, flagged): half the range,
      ``(max - min) / 2`` (the strategy document's "±15 %"; None with fewer than 2 epochs) and
      the sample std (ddof=1) of the epoch-to-epoch changes (None with fewer than 3 epochs).
    - plateau: ``|train_loss - ln 2| <= 0.01`` for at least 3 consecutive epochs (chance level
      of a balanced 2-class cross-entropy, the strategy document's 0.694).
    """
    if len(history) == 0:
        raise ValueError("history has no epochs")
    ep = history["epoch"].to_numpy()
    h = history if np.all(np.diff(ep) > 0) else history.sort_values("epoch")
    col = {c: h[c].to_numpy(dtype=float) for c in ("epoch", "train_loss", "train_acc", "val_acc")}
    for c in ("train_frames", "val_window_acc"):
        if c in h.columns:
            col[c] = h[c].to_numpy(dtype=float)
    epoch, val = col["epoch"].astype(int), col["val_acc"]
    epochs = int(epoch[-1])
    best_idx = int(np.argmax(val))
    best_epoch = int(epoch[best_idx])
    flags: list[str] = []

    at10 = np.flatnonzero(epoch == EARLY_EPOCHS)
    train10 = float(col["train_acc"][at10[0]]) if len(at10) else None
    frames10 = None  # unknown without a train_frames column or with an empty cell
    if len(at10) and "train_frames" in col and _finite(col["train_frames"][at10[0]]) is not None:
        frames10 = int(round(float(col["train_frames"][at10[0]])))

    ev = val[epoch <= EARLY_EPOCHS]
    window = len(ev)
    half_range = float((ev.max() - ev.min()) / 2.0) if window >= 2 else None
    changes = np.diff(ev)
    jump_std = float(np.std(changes, ddof=1)) if len(changes) >= 2 else None
    if window < EARLY_EPOCHS:
        flags.append(
            f"only {window} epoch{'s' if window != 1 else ''}: variability over epochs 1–{window}"
            f" instead of 1–{EARLY_EPOCHS}, no train acc at epoch {EARLY_EPOCHS}"
        )

    plateau_epochs = longest_run(np.abs(col["train_loss"] - LN2) <= PLATEAU_TOLERANCE)
    window_acc = _finite(col["val_window_acc"][best_idx]) if "val_window_acc" in col else None

    return RunMetrics(
        epochs=epochs,
        best_val_acc=float(val[best_idx]),
        best_epoch=best_epoch,
        best_after_epoch4=best_epoch > BEST_AFTER_EPOCH,
        train_acc_epoch10=train10,
        train_frames_epoch10=frames10,
        val_acc_half_range=half_range,
        val_acc_jump_std=jump_std,
        val_acc_changes=tuple(float(c) for c in changes),
        window_epochs=window,
        plateau=plateau_epochs >= PLATEAU_MIN_EPOCHS,
        plateau_epochs=plateau_epochs,
        final_val_acc=float(val[-1]),
        final_train_acc=float(col["train_acc"][-1]),
        best_val_window_acc=window_acc,
        flags=tuple(flags),
    )


# ---------------------------------------------------------------------------------------------
# per arm
# ---------------------------------------------------------------------------------------------


def t_interval(
    values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Student t confidence interval of the mean, ``mean ± t(1-α/2, n-1) · s / √n``
    (Student 1908). None for n < 2."""
    x = _arr(values)
    n = len(x)
    if n < 2:
        return None
    m = float(x.mean())
    half = float(st.t.ppf(0.5 + confidence / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return (m - half, m + half)


def summarize(values: Sequence[float | None] | np.ndarray) -> Summary:
    """Mean, sample std (ddof=1) and 95 % t-interval over seeds (Student 1908).

    None (and NaN) entries are runs without a value: they stay in ``per_seed`` and are left out
    of the statistics. std and CI are None for n < 2; mean is None for n = 0.
    """
    per_seed = tuple(_finite(v) for v in values)
    x = np.array([v for v in per_seed if v is not None], dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else None
    std = float(x.std(ddof=1)) if n >= 2 else None
    return Summary(mean=mean, std=std, ci95=t_interval(x), n=n, per_seed=per_seed)


# ---------------------------------------------------------------------------------------------
# effect sizes and helpers
# ---------------------------------------------------------------------------------------------


def welch_df(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Welch–Satterthwaite degrees of freedom (Welch 1947; Satterthwaite 1946):
    ``(va/na + vb/nb)² / ((va/na)²/(na-1) + (vb/nb)²/(nb-1))``. None if undefined."""
    a, b = _arr(a), _arr(b)
    if len(a) < 2 or len(b) < 2:
        return None
    qa, qb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    den = qa**2 / (len(a) - 1) + qb**2 / (len(b) - 1)
    if den == 0:
        return None
    return float((qa + qb) ** 2 / den)


def pooled_sd(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Pooled standard deviation ``sqrt(((na-1)sa² + (nb-1)sb²) / (na+nb-2))`` (Cohen 1988).
    An arm with one value contributes no variance but is not an error; None if na+nb < 3."""
    a, b = _arr(a), _arr(b)
    dof = len(a) + len(b) - 2
    if dof < 1 or len(a) == 0 or len(b) == 0:
        return None
    ss = (a.var(ddof=1) * (len(a) - 1) if len(a) > 1 else 0.0) + (
        b.var(ddof=1) * (len(b) - 1) if len(b) > 1 else 0.0
    )
    return float(math.sqrt(ss / dof))


def hedges_g(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Hedges' g: Cohen's d with the pooled SD times the small-sample correction
    ``J = 1 - 3 / (4(na+nb) - 9)`` (Hedges & Olkin 1985, eq. 5.10). None if the pooled SD is 0
    or either group has fewer than 2 values."""
    a, b = _arr(a), _arr(b)
    if len(a) < 2 or len(b) < 2:
        return None
    s = pooled_sd(a, b)
    if not s:
        return None
    j = 1.0 - 3.0 / (4.0 * (len(a) + len(b)) - 9.0)
    return float(j * (a.mean() - b.mean()) / s)


def cohens_d_one_sample(values: Sequence[float] | np.ndarray, mu0: float) -> float | None:
    """Cohen's d for one sample, ``(mean - mu0) / s`` (Cohen 1988). None if s = 0 or n < 2."""
    x = _arr(values)
    if len(x) < 2:
        return None
    s = x.std(ddof=1)
    return float((x.mean() - mu0) / s) if s > 0 else None


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h for two proportions, ``2 asin √p1 - 2 asin √p2`` (Cohen 1988, §6.2)."""
    p1 = min(max(float(p1), 0.0), 1.0)
    p2 = min(max(float(p2), 0.0), 1.0)
    return float(2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p2)))


# ---------------------------------------------------------------------------------------------
# bootstrap
# ---------------------------------------------------------------------------------------------


def bootstrap_ci(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., np.ndarray],
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float | None, float | None] | None:
    """Percentile bootstrap CI (Efron & Tibshirani 1993, ch. 13), vectorised.

    Each array in ``samples`` is resampled with replacement along its first axis, independently
    of the others (rows stay together, so paired columns stay paired). ``statistic`` receives one
    array per sample shaped ``(batch, n_i, ...)`` and returns ``(batch,)``. Resamples are drawn
    in chunks so that memory stays bounded. Reproducible for a given ``seed``. A bound that is not
    finite (e.g. a ratio whose denominator resampled to 0) comes back as None; the result is None
    when a sample is empty.
    """
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if any(len(a) == 0 for a in arrays):
        return None
    rng = np.random.default_rng(seed)
    width = sum(a.size for a in arrays)
    chunk = max(1, min(n_resamples, _MAX_BOOT_ELEMENTS // max(width, 1)))
    out = np.empty(n_resamples, dtype=float)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        resampled = [a[rng.integers(0, len(a), size=(b, len(a)))] for a in arrays]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[done : done + b] = statistic(*resampled)
        done += b
    alpha = 1.0 - confidence
    if np.all(np.isfinite(out)):
        lo, hi = np.quantile(out, [alpha / 2.0, 1.0 - alpha / 2.0])
    else:  # order statistics, no interpolation towards inf/nan
        out = np.where(np.isnan(out), np.inf, out)
        lo, hi = np.quantile(out, [alpha / 2.0, 1.0 - alpha / 2.0], method="inverted_cdf")
    return (_finite(lo), _finite(hi))


def _mean_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.mean(axis=1) - b.mean(axis=1)


def _sd_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.std(axis=1, ddof=1) / b.std(axis=1, ddof=1)


def _pooled_acc_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # rows: (scored, correct) per window
    return a[..., 1].sum(axis=1) / a[..., 0].sum(axis=1) - b[..., 1].sum(axis=1) / b[..., 0].sum(axis=1)


def bootstrap_mean_diff_ci(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of ``mean(target) - mean(baseline)``, each arm resampled over its
    seeds independently (Efron & Tibshirani 1993, §13.3). None if either arm has < 2 values
    (resampling one value would show no spread for that arm)."""
    a, b = _arr(target), _arr(baseline)
    if len(a) < 2 or len(b) < 2:
        return None
    ci = bootstrap_ci([a, b], _mean_diff, n_resamples, seed, confidence)
    return None if ci is None or None in ci else (float(ci[0]), float(ci[1]))


def mean_diff(
    target: Sequence[float | None],
    baseline: Sequence[float | None],
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[float | None, tuple[float, float] | None]:
    """Δ = mean(target) - mean(baseline) over the values that exist, with its bootstrap CI
    (:func:`bootstrap_mean_diff_ci`). (None, None) when an arm has no value."""
    a = np.array([v for v in (_finite(x) for x in target) if v is not None], dtype=float)
    b = np.array([v for v in (_finite(x) for x in baseline) if v is not None], dtype=float)
    if len(a) == 0 or len(b) == 0:
        return None, None
    return float(a.mean() - b.mean()), bootstrap_mean_diff_ci(a, b, n_resamples, seed)


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------


def welch_t_test(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> HypothesisTestResult:
    """One-sided Welch t-test, H_a: mean(target) > mean(baseline) (Welch 1947), via
    ``scipy.stats.ttest_ind(equal_var=False, alternative="greater")``; Welch–Satterthwaite df;
    effect size Hedges' g (Hedges & Olkin 1985); CI: percentile bootstrap of Δ over seeds
    (Efron & Tibshirani 1993). Needs ≥ 2 values per arm and some variance."""
    name = "one-sided Welch t-test"
    a, b = _arr(target), _arr(baseline)
    n = (len(a), len(b))
    if min(n) < 2:
        return not_testable(
            name, f"needs at least 2 seeds per arm, got {n[0]} (target) and {n[1]} (baseline)", n
        )
    delta = float(a.mean() - b.mean())
    if a.std(ddof=1) <= ZERO_SD and b.std(ddof=1) <= ZERO_SD:
        return not_testable(
            name,
            "zero variance: every seed of both arms has the same value",
            n,
            estimate=EffectSize("Δ mean", delta),
        )
    res = _quiet(st.ttest_ind, a, b, equal_var=False, alternative="greater")
    return HypothesisTestResult(
        test=name,
        testable=True,
        statistic=_finite(res.statistic),
        df=welch_df(a, b),
        p_value=_finite(res.pvalue),
        alternative="greater",
        effect_size=EffectSize("Hedges' g", hedges_g(a, b)),
        estimate=EffectSize("Δ mean", delta),
        ci95=bootstrap_mean_diff_ci(a, b, n_resamples, seed),
        n=n,
        unit="seeds",
    )


def window_permutation_test(
    target_scored: Sequence[float] | np.ndarray,
    target_correct: Sequence[float] | np.ndarray,
    baseline_scored: Sequence[float] | np.ndarray,
    baseline_correct: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> HypothesisTestResult:
    """One-sided permutation test over validation windows (Good 2005; Ernst 2004).

    Units are windows (frames within a window are strongly correlated, so a frame-level z-test
    would be anti-conservative). Statistic: Δ of frame accuracy, ``Σcorrect/Σscored`` of the
    target windows minus that of the baseline windows — exactly the difference of the two runs'
    val acc. The arm labels of the windows are permuted ``n_resamples`` times;
    ``p = (1 + #{Δ_perm ≥ Δ_obs}) / (1 + n_resamples)`` (Phipson & Smyth 2010). CI: percentile
    bootstrap of Δ over windows; effect size: Cohen's h of the two frame accuracies.
    """
    name = "one-sided permutation test over validation windows"
    ts, tc = _arr(target_scored), _arr(target_correct)
    bs, bc = _arr(baseline_scored), _arr(baseline_correct)
    n = (len(ts), len(bs))
    if min(n) < 2:
        return not_testable(
            name, f"needs at least 2 validation windows per arm, got {n[0]} and {n[1]}", n, unit="windows"
        )
    if ts.sum() <= 0 or bs.sum() <= 0:
        return not_testable(name, "no scored validation frames in one arm", n, unit="windows")
    acc_t, acc_b = tc.sum() / ts.sum(), bc.sum() / bs.sum()
    delta = float(acc_t - acc_b)
    scored = np.concatenate([ts, bs])
    correct = np.concatenate([tc, bc])
    total_s, total_c = scored.sum(), correct.sum()
    rng = np.random.default_rng(seed)
    big = len(scored)
    chunk = max(1, min(n_resamples, _MAX_BOOT_ELEMENTS // big))
    count = 0
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        in_target = np.argsort(rng.random((b, big)), axis=1) < n[0]
        s_t = in_target @ scored
        c_t = in_target @ correct
        with np.errstate(divide="ignore", invalid="ignore"):
            perm = c_t / s_t - (total_c - c_t) / (total_s - s_t)
        count += int(np.sum(np.nan_to_num(perm, nan=-np.inf) >= delta - 1e-12))
        done += b
    p = (1 + count) / (1 + n_resamples)
    ci = bootstrap_ci(
        [np.column_stack([ts, tc]), np.column_stack([bs, bc])], _pooled_acc_diff, n_resamples, seed + 1
    )
    return HypothesisTestResult(
        test=name,
        testable=True,
        statistic=delta,
        df=None,
        p_value=float(p),
        alternative="greater",
        effect_size=EffectSize("Cohen's h", cohens_h(acc_t, acc_b)),
        estimate=EffectSize("Δ val acc", delta),
        ci95=ci,
        n=n,
        unit="windows",
        caveat="one run per arm: windows are the units, so the test speaks for these runs and "
        "ignores seed-to-seed variation",
        extra={"n_permutations": n_resamples},
    )


def brown_forsythe_test(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> HypothesisTestResult:
    """Brown–Forsythe test of equal spread, made one-sided: H_a: target spread < baseline's
    (Brown & Forsythe 1974; Levene 1960), via ``scipy.stats.levene(center="median")``.

    With two groups F = t², where t is the pooled two-sample t-test on the absolute deviations
    from each group's median; the one-sided p-value is therefore ``p/2`` when the target's mean
    absolute deviation is the smaller one and ``1 - p/2`` otherwise. df = (1, N - 2). Effect
    size and estimate: the ratio of sample SDs (target / baseline), with a percentile bootstrap
    CI resampling each group (Efron & Tibshirani 1993).
    """
    name = "one-sided Brown–Forsythe test (median-centred Levene)"
    a, b = _arr(target), _arr(baseline)
    n = (len(a), len(b))
    unit = "epoch-to-epoch changes"
    if min(n) < 2:
        return not_testable(
            name, f"needs at least 2 epoch-to-epoch changes per arm, got {n[0]} and {n[1]}", n, unit=unit
        )
    za, zb = np.abs(a - np.median(a)), np.abs(b - np.median(b))
    if np.var(np.concatenate([za - za.mean(), zb - zb.mean()])) == 0:
        return not_testable(
            name, "zero variance: the absolute deviations of the changes are constant", n, unit=unit
        )
    res = _quiet(st.levene, a, b, center="median")
    f, p2 = _finite(res.statistic), _finite(res.pvalue)
    if f is None or p2 is None:
        return not_testable(name, "the Brown–Forsythe statistic is undefined for these data", n, unit=unit)
    p1 = p2 / 2.0 if za.mean() < zb.mean() else 1.0 - p2 / 2.0
    sa, sb = a.std(ddof=1), b.std(ddof=1)
    ratio = float(sa / sb) if sb > 0 else None
    ci = bootstrap_ci([a, b], _sd_ratio, n_resamples, seed) if sb > 0 else None
    return HypothesisTestResult(
        test=name,
        testable=True,
        statistic=f,
        df=(1.0, float(len(a) + len(b) - 2)),
        p_value=float(p1),
        alternative="less",
        effect_size=EffectSize("SD ratio (target / baseline)", ratio),
        estimate=EffectSize("SD ratio (target / baseline)", ratio),
        ci95=ci,
        n=n,
        unit=unit,
        extra={"p_value_two_sided": p2, "sd_target": float(sa), "sd_baseline": float(sb)},
    )


def one_sample_t_test(values: Sequence[float] | np.ndarray, threshold: float) -> HypothesisTestResult:
    """One-sided one-sample t-test, H_a: mean > threshold (Student 1908), via
    ``scipy.stats.ttest_1samp(alternative="greater")``; effect size Cohen's d; CI: two-sided 95 %
    t-interval of the mean."""
    name = "one-sided one-sample t-test"
    x = _arr(values)
    n = (len(x),)
    if len(x) < 2:
        return not_testable(name, f"needs at least 2 seeds, got {len(x)}", n)
    if x.std(ddof=1) <= ZERO_SD:
        return not_testable(
            name,
            "zero variance: every seed has the same value",
            n,
            estimate=EffectSize("mean", float(x.mean())),
        )
    res = _quiet(st.ttest_1samp, x, threshold, alternative="greater")
    return HypothesisTestResult(
        test=name,
        testable=True,
        statistic=_finite(res.statistic),
        df=float(len(x) - 1),
        p_value=_finite(res.pvalue),
        alternative="greater",
        effect_size=EffectSize("Cohen's d", cohens_d_one_sample(x, threshold)),
        estimate=EffectSize("mean", float(x.mean())),
        ci95=t_interval(x),
        n=n,
        unit="seeds",
        extra={"threshold": float(threshold)},
    )


def binomial_test(successes: int, trials: int, threshold: float) -> HypothesisTestResult:
    """One-sided exact binomial test, H_a: proportion > threshold, via ``scipy.stats.binomtest``;
    CI: two-sided 95 % Clopper–Pearson exact interval (Clopper & Pearson 1934); effect size
    Cohen's h against
    the threshold. Frames are not independent, so the p-value is optimistic (see ``caveat``)."""
    name = "one-sided exact binomial test over scored frames"
    k, m = int(successes), int(trials)
    if m <= 0:
        return not_testable(name, "no scored frames", (m,), unit="frames")
    if not 0 <= k <= m:
        raise ValueError(f"successes must be in 0..{m}, got {k}")
    res = st.binomtest(k, m, threshold, alternative="greater")
    # two-sided interval, like every other ci95 (the one-sided test's own interval is [lo, 1])
    ci = st.binomtest(k, m, threshold).proportion_ci(confidence_level=CONFIDENCE, method="exact")
    return HypothesisTestResult(
        test=name,
        testable=True,
        statistic=float(k),
        df=None,
        p_value=_finite(res.pvalue),
        alternative="greater",
        effect_size=EffectSize("Cohen's h", cohens_h(k / m, threshold)),
        estimate=EffectSize("proportion", k / m),
        ci95=(float(ci.low), float(ci.high)),
        n=(m,),
        unit="frames",
        caveat="one run: frames are the units and are correlated within windows, so the p-value "
        "is optimistic",
        extra={"threshold": float(threshold), "successes": k, "trials": m},
    )


# ---------------------------------------------------------------------------------------------
# the three hypotheses
# ---------------------------------------------------------------------------------------------


def h1_test(
    target_best: Sequence[float],
    baseline_best: Sequence[float],
    target_windows: tuple[np.ndarray, np.ndarray] | None = None,
    baseline_windows: tuple[np.ndarray, np.ndarray] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> HypothesisTestResult:
    """H1, real labels → higher best val acc (design.md §9).

    With ≥ 2 seeds per arm: :func:`welch_t_test` on the per-seed best val acc. Otherwise, when
    both arms' per-window (frames scored, frames correct) at the best epoch are given:
    :func:`window_permutation_test`. Else not testable, with the reason.
    """
    nt, nb = len(target_best), len(baseline_best)
    if min(nt, nb) >= 2:
        return welch_t_test(target_best, baseline_best, n_resamples, seed)
    if nt == 0 or nb == 0:
        return not_testable(
            "one-sided Welch t-test",
            f"no completed run in the {'target' if nt == 0 else 'baseline'} arm",
            (nt, nb),
        )
    if target_windows is None or baseline_windows is None:
        return not_testable(
            "one-sided Welch t-test",
            f"needs at least 2 seeds per arm (got {nt} and {nb}), and the window-level fallback needs "
            "val_predictions.parquet for the best epoch of every run",
            (nt, nb),
        )
    res = window_permutation_test(
        target_windows[0], target_windows[1], baseline_windows[0], baseline_windows[1], n_resamples, seed
    )
    note = f"fewer than 2 seeds per arm ({nt} and {nb}): tested over validation windows instead of seeds"
    return replace(res, extra={**res.extra, "seeds": (nt, nb), "note": note})


def h2_test(
    target_changes: Sequence[float],
    baseline_changes: Sequence[float],
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> HypothesisTestResult:
    """H2, real labels → stable training: :func:`brown_forsythe_test` on the epoch-to-epoch val-acc
    changes over epochs 1–10, pooled over the seeds of each arm. The threshold part of H2
    (half-range < max_variance) is judged in :mod:`vfreport.analysis.verdicts`."""
    return brown_forsythe_test(target_changes, baseline_changes, n_resamples, seed)


def h3_test(
    train_acc_epoch10: Sequence[float],
    threshold: float,
    train_frames_epoch10: int | None = None,
) -> HypothesisTestResult:
    """H3, target train acc at epoch 10 > threshold (0.70).

    ≥ 2 seeds: :func:`one_sample_t_test`; one seed: :func:`binomial_test` on that epoch's scored
    frames (``round(train_acc × train_frames)`` successes), if the frame count is known.
    """
    x = _arr(train_acc_epoch10)
    if len(x) >= 2:
        return one_sample_t_test(x, threshold)
    if len(x) == 0:
        return not_testable(
            "one-sided one-sample t-test",
            f"no target run reached epoch {EARLY_EPOCHS} (fewer than {EARLY_EPOCHS} epochs)",
            (0,),
        )
    if not train_frames_epoch10:
        return not_testable(
            "one-sided exact binomial test over scored frames",
            "one seed and no train_frames column in history.csv for the binomial test",
            (1,),
            unit="seeds",
        )
    frames = int(train_frames_epoch10)
    res = binomial_test(int(round(float(x[0]) * frames)), frames, threshold)
    note = f"one seed: tested over the scored frames of epoch {EARLY_EPOCHS} instead of seeds"
    return replace(res, extra={**res.extra, "note": note})


# ---------------------------------------------------------------------------------------------
# multiplicity and power
# ---------------------------------------------------------------------------------------------


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni step-down adjusted p-values (Holm 1979): sort ascending, multiply the
    i-th smallest (1-based) by ``m - i + 1``, take the running maximum, cap at 1. None entries
    (tests that could not be run) are skipped and do not count in m."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        out[i] = running
    return out


def power_two_sample(delta: float, sd: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    """Power of the one-sided two-sample t-test (pooled variance) for a true difference ``delta``
    and common SD ``sd``: ``P(T' > t(1-α, df))`` with T' noncentral t, df = n1+n2-2 and
    noncentrality ``delta / (sd·sqrt(1/n1 + 1/n2))`` (Cohen 1988, ch. 2), via scipy.stats.nct."""
    df = n1 + n2 - 2
    ncp = delta / (sd * math.sqrt(1.0 / n1 + 1.0 / n2))
    return float(st.nct.sf(st.t.ppf(1.0 - alpha, df), df, ncp))


def seeds_needed(
    delta: float, sd: float, alpha: float = 0.05, power: float = 0.8, max_n: int = 1_000_000
) -> int | None:
    """Smallest n per arm (n ≥ 2, equal arms) with :func:`power_two_sample` ≥ ``power``
    (power rises with n: doubling, then bisection). None if delta ≤ 0, sd ≤ 0 or n > max_n."""
    if not (delta > 0 and sd > 0 and math.isfinite(delta) and math.isfinite(sd)):
        return None
    lo, hi = 1, 2
    while power_two_sample(delta, sd, hi, hi, alpha) < power:
        lo, hi = hi, hi * 2
        if hi > max_n:
            return None
    while hi - lo > 1:  # power(lo) < target <= power(hi) (lo = 1 is "not enough")
        mid = (lo + hi) // 2
        if power_two_sample(delta, sd, mid, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def power_analysis(
    target: Sequence[float],
    baseline: Sequence[float],
    alpha: float = 0.05,
    target_power: float = 0.8,
    planned_delta: float = 0.05,
) -> PowerResult:
    """Seeds per arm needed to detect the observed Δ and a ``planned_delta`` (5 points) with a
    one-sided two-sample t-test at ``target_power`` and ``alpha``, and the power at the current
    n, using the pooled SD of the per-seed best val acc (Cohen 1988; noncentral t via
    scipy.stats.nct). Fields are None, with ``reason``, when the SD is 0 or undefined."""
    method = (
        f"one-sided two-sample t-test, noncentral t (scipy.stats.nct), pooled SD of per-seed best "
        f"val acc, alpha = {alpha:g}, power = {target_power:g}, equal seeds per arm"
    )
    a, b = _arr(target), _arr(baseline)
    delta = float(a.mean() - b.mean()) if len(a) and len(b) else None
    sd = pooled_sd(a, b)
    base = {
        "observed_delta": delta,
        "pooled_sd": sd,
        "alpha": alpha,
        "target_power": target_power,
        "method": method,
    }
    if sd is None:
        return PowerResult(
            seeds_for_observed_delta=None,
            seeds_for_5_points=None,
            power_at_current_n=None,
            reason=f"pooled SD undefined: needs at least 3 completed runs, one arm with 2 "
            f"(got {len(a)} and {len(b)})",
            **base,
        )
    if sd == 0:
        return PowerResult(
            seeds_for_observed_delta=None,
            seeds_for_5_points=None,
            power_at_current_n=None,
            reason="pooled SD is 0: every seed of each arm has the same best val acc",
            **base,
        )
    reason = "" if delta is not None and delta > 0 else "observed Δ ≤ 0: no number of seeds detects it"
    return PowerResult(
        seeds_for_observed_delta=seeds_needed(delta, sd, alpha, target_power) if delta is not None else None,
        seeds_for_5_points=seeds_needed(planned_delta, sd, alpha, target_power),
        power_at_current_n=power_two_sample(delta, sd, len(a), len(b), alpha) if delta is not None else None,
        reason=reason,
        **base,
    )
