"""Power by simulation for pre-specified effects: the one-sided Welch t-test over runs, and the
crossed ΔDER comparison (:func:`der_power`, :func:`der_runs_needed`, :func:`der_runs_no_gain`).

The test the report runs is Welch's; at small n its power differs from the pooled-variance
noncentral-t formula (which overstates it at 3 runs per arm), so power is simulated for Welch
itself. Only pre-specified effects are used (the
smallest worthwhile Δ, the expected gain): "observed power" is a function of the p-value and
adds nothing (Hoenig & Heisey 2001). The SD behind a 3 + 3-run design is itself uncertain (a
chi-square interval spans ×0.6 to ×2.9), so seeds needed are given as a range.

Level. Power is computed at the level the test is actually run at: in a family tested after the
primary endpoint with Holm, a test's first step is at ``alpha / k`` (:func:`holm_alpha`), which is
where the advice must be computed (advice at α = 0.05 for a test that Holm runs at 0.025 reached
0.67–0.70 power instead of 0.80). "No worthwhile gain" is shown when the one-sided upper bound of
Δ is below ``min_delta``: the Welch test of ``Δ < min_delta``, whose power at a true Δ is
:func:`welch_power` at ``(min_delta − Δ) / σ`` (:func:`runs_for_no_gain`; an equivalence-type,
one-sided TOST half: Schuirmann 1987).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as st

from vfreport.stats.crossed import component_sds, variance_of_difference
from vfreport.stats.intervals import as_array, sd_interval
from vfreport.stats.twosample import pooled_sd

N_SIM = 4000
MAX_SEEDS = 200


@lru_cache(maxsize=256)
def _null_draws(n_target: int, n_baseline: int, n_sim: int, seed: int, alpha: float) -> tuple[np.ndarray, ...]:
    """Mean difference, standard error and one-sided critical t of ``n_sim`` Welch tests on
    standard-normal data (shifting the target by d changes only the mean difference)."""
    rng = np.random.default_rng([seed, n_target, n_baseline])
    a = rng.standard_normal((n_sim, n_target))
    b = rng.standard_normal((n_sim, n_baseline))
    qa, qb = a.var(axis=1, ddof=1) / n_target, b.var(axis=1, ddof=1) / n_baseline
    se = np.sqrt(qa + qb)
    df = (qa + qb) ** 2 / (qa**2 / (n_target - 1) + qb**2 / (n_baseline - 1))
    return a.mean(axis=1) - b.mean(axis=1), se, st.t.ppf(1.0 - alpha, df)


def welch_power(
    effect: float, n_target: int, n_baseline: int, alpha: float = 0.05, n_sim: int = N_SIM, seed: int = 0
) -> float:
    """Simulated power of the one-sided Welch t-test (:func:`vfreport.stats.twosample.welch_t`)
    for a standardised effect ``effect = Δ / σ`` (both arms normal with SD σ), ``n_sim`` replicates
    with a fixed seed (Monte-Carlo SE ≤ 0.008 at 4,000).

    References
    ----------
    Colas, C., Sigaud, O. & Oudeyer, P.-Y. (2018), "How many random seeds? Statistical power
    analysis in deep reinforcement learning experiments", arXiv:1806.08295 (Welch power by
    simulation). Welch (1947).
    """
    if n_target < 2 or n_baseline < 2:
        return float("nan")
    m, se, crit = _null_draws(int(n_target), int(n_baseline), int(n_sim), int(seed), float(alpha))
    return float(np.mean((m + effect) / se > crit))


def seeds_needed(
    effect: float, alpha: float = 0.05, power: float = 0.8, max_n: int = MAX_SEEDS, n_sim: int = N_SIM, seed: int = 0
) -> int | None:
    """Smallest equal number of runs per arm (≥ 2) at which :func:`welch_power` reaches ``power``
    (doubling, then bisection). None when ``effect`` ≤ 0 or more than ``max_n`` would be needed."""
    if not (effect > 0 and math.isfinite(effect)):
        return None
    lo, hi = 1, 2
    while welch_power(effect, hi, hi, alpha, n_sim, seed) < power:
        lo, hi = hi, hi * 2
        if lo >= max_n:
            return None
        hi = min(hi, max_n)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if welch_power(effect, mid, mid, alpha, n_sim, seed) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def holm_alpha(alpha: float, family_size: int = 1) -> float:
    """The level of Holm's first (most demanding) step in a family of ``family_size`` tests,
    ``alpha / family_size`` (Holm 1979): the level at which to plan the runs for any one of them."""
    return float(alpha) / max(1, int(family_size))


def runs_for_no_gain(
    min_delta: float, sd: float, true_delta: float = 0.0, alpha: float = 0.05, power: float = 0.8,
    max_n: int = MAX_SEEDS, n_sim: int = N_SIM, seed: int = 0,
) -> int | None:
    """Runs per arm at which the one-sided ``(1 − alpha)`` upper Welch bound of Δ falls below
    ``min_delta`` with probability ``power`` when the true Δ is ``true_delta`` (default 0): the
    Welch test of ``Δ < min_delta`` (Schuirmann 1987, one TOST half), via :func:`seeds_needed` at
    ``(min_delta − true_delta) / sd``. None when ``true_delta >= min_delta``, ``sd`` is not
    positive, or more than ``max_n`` runs would be needed.

    References
    ----------
    Schuirmann, D. J. (1987), "A comparison of the two one-sided tests procedure and the power
    approach for assessing the equivalence of average bioavailability", J. Pharmacokinet.
    Biopharm. 15(6).
    """
    if not (sd > 0 and math.isfinite(sd)):
        return None
    return seeds_needed((min_delta - true_delta) / sd, alpha, power, max_n, n_sim, seed)


@dataclass(frozen=True)
class EffectPower:
    """Power and runs needed for one pre-specified Δ. ``seeds`` uses the SD estimate;
    ``seeds_range`` the ends of its interval (None: more than the search limit)."""

    name: str
    delta: float
    power_now: float | None
    seeds: int | None
    seeds_range: tuple[int | None, int | None]


@dataclass(frozen=True)
class PowerPlan:
    method: str
    alpha: float
    target_power: float
    sd: float | None
    sd_ci: tuple[float, float] | None
    df: int
    n: tuple[int, int]
    effects: tuple[EffectPower, ...]
    max_seeds: int = MAX_SEEDS
    reason: str = ""
    no_gain: EffectPower | None = None
    """Runs per arm to show "no worthwhile gain" (upper bound < ``delta``, the min_delta) when the
    true Δ is 0; ``power_now`` is that chance at the current n."""


def power_plan(
    target: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    effects: Mapping[str, float],
    alpha: float = 0.05,
    power: float = 0.8,
    n_sim: int = N_SIM,
    seed: int = 0,
    min_delta: float | None = None,
) -> PowerPlan:
    """Power now and runs per arm needed for each pre-specified Δ in ``effects`` (name → Δ), using
    the pooled SD of the per-run values and its chi-square 95 % interval
    (:func:`vfreport.stats.intervals.sd_interval`) for the range. No observed power. ``alpha`` is
    the level the test is run at (for a Holm family, :func:`holm_alpha`). With ``min_delta``, also
    the runs needed to show "no worthwhile gain" at a true Δ of 0 (:func:`runs_for_no_gain`).

    References
    ----------
    Hoenig, J. M. & Heisey, D. M. (2001), "The abuse of power: the pervasive fallacy of power
    calculations for data analysis", The American Statistician 55(1). Colas et al. (2018).
    """
    a, b = as_array(target), as_array(baseline)
    n = (len(a), len(b))
    sd = pooled_sd(a, b)
    df = max(0, n[0] + n[1] - 2)
    method = (f"simulated one-sided Welch t-test ({n_sim} replicates per n), normal runs with the pooled SD, "
              f"α = {alpha:g}, power {power:g}, equal runs per arm; range from the SD's chi-square 95 % interval")
    if sd is None or sd <= 0:
        why = (f"the SD across runs is undefined: needs at least 3 runs, 2 in one arm (got {n[0]} and {n[1]})"
               if sd is None else "the SD across runs is 0: every run of each arm has the same value")
        return PowerPlan(method, alpha, power, sd, None, df, n, (), reason=why)
    ci = sd_interval(sd, df)
    out = []
    for name, delta in effects.items():
        now = welch_power(delta / sd, n[0], n[1], alpha, n_sim, seed) if min(n) >= 2 else None
        fewest = seeds_needed(delta / ci[0], alpha, power, n_sim=n_sim, seed=seed) if ci else None
        most = seeds_needed(delta / ci[1], alpha, power, n_sim=n_sim, seed=seed) if ci else None
        out.append(EffectPower(name, float(delta), now, seeds_needed(delta / sd, alpha, power, n_sim=n_sim, seed=seed),
                               (fewest, most)))
    no_gain = None
    if min_delta is not None and min_delta > 0:
        now = welch_power(min_delta / sd, n[0], n[1], alpha, n_sim, seed) if min(n) >= 2 else None
        no_gain = EffectPower(
            "no worthwhile gain (true Δ = 0)", float(min_delta), now,
            runs_for_no_gain(min_delta, sd, 0.0, alpha, power, n_sim=n_sim, seed=seed),
            (runs_for_no_gain(min_delta, ci[0], 0.0, alpha, power, n_sim=n_sim, seed=seed) if ci else None,
             runs_for_no_gain(min_delta, ci[1], 0.0, alpha, power, n_sim=n_sim, seed=seed) if ci else None))
    return PowerPlan(method, alpha, power, sd, ci, df, n, tuple(out), no_gain=no_gain)


# ---------------------------------------------------------------------------------------------
# ΔDER on the crossed runs × meetings design (vfreport.stats.crossed)
# ---------------------------------------------------------------------------------------------


def der_power(components: Mapping[str, float], runs: tuple[int, int], n_meetings: int, true_delta: float,
              threshold: float = 0.0, bound: str = "upper", alpha: float = 0.05, n_sim: int = N_SIM,
              seed: int = 0) -> float:
    """Chance that the one-sided ``1 − alpha`` ``bound`` of ΔDER from
    :func:`vfreport.stats.crossed.compare_crossed` lies beyond ``threshold`` (``"upper"``: below it,
    a gain of ``−threshold`` shown; ``"lower"``: above it, a gain of ``−threshold`` excluded) when
    the true ΔDER is ``true_delta``, ``runs = (r_target, r_other)`` (``r_other = 1``: a model-free
    baseline) and meetings are weighted equally.

    Simulated from the variance components (keys of :data:`vfreport.stats.crossed.COMPONENTS`,
    or ``run`` / ``residual`` for both arms) through the exact law of the statistic's parts under
    the crossed model: Δ̂ normal, independent of the mean squares, each a scaled chi-square
    (Searle, Casella & McCulloch 1992, §4.5), combined by
    :func:`vfreport.stats.crossed.variance_of_difference` as the test does. ``n_sim`` replicates
    with a fixed seed (tests check it against simulated tables).
    """
    if bound not in ("upper", "lower"):
        raise ValueError(f"bound must be 'upper' or 'lower', got {bound!r}")
    r_t, r_o = int(runs[0]), int(runs[1])
    m = int(n_meetings)
    if r_t < 2 or m < 2:
        return float("nan")
    var = {k: s * s for k, s in component_sds(dict(components)).items()}
    if r_o < 2:
        var["run_other"] = var["residual_other"] = 0.0
    rng = np.random.default_rng([seed, r_t, r_o, m])

    def scaled_chi2(scale: float, df: int) -> np.ndarray:
        return scale * rng.chisquare(df, n_sim) / df if df > 0 else np.zeros(n_sim)

    d_var = 2 * var["arm_x_meeting"] + var["residual_target"] / r_t + var["residual_other"] / r_o
    true_var = var["run_target"] / r_t + var["run_other"] / r_o + d_var / m
    estimate = true_delta + math.sqrt(true_var) * rng.standard_normal(n_sim)
    parts = []
    for arm, r in (("target", r_t), ("other", r_o)):
        if r < 2:
            parts += [np.zeros(n_sim), np.zeros(n_sim)]
            continue
        parts.append(scaled_chi2(var[f"run_{arm}"] + var[f"residual_{arm}"] / m, r - 1))
        parts.append(scaled_chi2(var[f"residual_{arm}"], (r - 1) * (m - 1)))
    s2_d = scaled_chi2(d_var, m - 1)
    v, df = variance_of_difference(parts[0], parts[1], r_t, parts[2], parts[3], r_o, s2_d, m, float(m))
    with np.errstate(invalid="ignore"):
        reach = st.t.isf(alpha, df) * np.sqrt(v)
        hit = estimate + reach < threshold if bound == "upper" else estimate - reach > threshold
    return float(np.mean(hit & (v > 0)))


def _smallest_runs(power_at: Callable[[int], float], power: float, max_runs: int) -> int | None:
    """Smallest r in [2, max_runs] with ``power_at(r) ≥ power`` (doubling, then bisection; power
    assumed non-decreasing in r). None when even ``max_runs`` falls short."""
    if power_at(max_runs) < power:
        return None
    lo, hi = 1, 2
    while hi < max_runs and power_at(hi) < power:
        lo, hi = hi, min(2 * hi, max_runs)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_at(mid) >= power else (mid, hi)
    return hi


def der_runs_needed(components: Mapping[str, float], n_meetings: int, effect: float, alpha: float = 0.05,
                    power: float = 0.8, max_runs: int = MAX_SEEDS, *, baseline_runs: int | None = None,
                    margin: float = 0.0, n_sim: int = N_SIM, seed: int = 0) -> int | None:
    """Runs per arm at which the crossed ΔDER test (:func:`der_power`, one-sided at ``alpha``, the
    level it is actually run at) shows the target's DER lower by more than ``margin`` with chance
    ``power`` when the true gain is ``effect`` (DER fraction, > 0). ``margin = 0``: "gain shown";
    ``margin = min_der_delta``: "worthwhile gain shown". ``baseline_runs``: None for equal runs in
    both arms, 1 against a model-free baseline.

    None when ``effect`` ≤ ``margin`` or ``max_runs`` runs fall short: with a fixed number of
    meetings the arm × meeting variance does not shrink with runs, so power levels off below
    ``power`` when the meetings are too few; more meetings, not more seeds, are then needed.

    References
    ----------
    Hoenig & Heisey (2001) (pre-specified effects, no observed power); Satterthwaite (1946).
    """
    if not (math.isfinite(effect) and effect > margin):
        return None

    def power_at(r: int) -> float:
        runs = (r, r if baseline_runs is None else int(baseline_runs))
        return der_power(components, runs, n_meetings, -effect, -margin, "upper", alpha, n_sim, seed)

    return _smallest_runs(power_at, power, int(max_runs))


def der_runs_no_gain(components: Mapping[str, float], n_meetings: int, min_der_delta: float, alpha: float = 0.05,
                     power: float = 0.8, max_runs: int = MAX_SEEDS, *, baseline_runs: int | None = None,
                     true_delta: float = 0.0, n_sim: int = N_SIM, seed: int = 0) -> int | None:
    """Runs per arm at which "no worthwhile gain" can be shown: the one-sided ``1 − alpha`` lower
    bound of ΔDER above ``−min_der_delta`` (a gain of ``min_der_delta`` excluded) with chance
    ``power`` when the true ΔDER is ``true_delta`` (default 0: the arms equal). None when
    ``max_runs`` fall short (see :func:`der_runs_needed`)."""
    if not (math.isfinite(min_der_delta) and min_der_delta > 0 and true_delta > -min_der_delta):
        return None

    def power_at(r: int) -> float:
        runs = (r, r if baseline_runs is None else int(baseline_runs))
        return der_power(components, runs, n_meetings, true_delta, -min_der_delta, "lower", alpha, n_sim, seed)

    return _smallest_runs(power_at, power, int(max_runs))


def der_runs_range(components: Mapping[str, float], n_meetings: int, effect: float, df: float,
                   alpha: float = 0.05, power: float = 0.8, max_runs: int = MAX_SEEDS, confidence: float = 0.95,
                   **kw: object) -> tuple[int | None, int | None]:
    """The range of :func:`der_runs_needed` over the uncertainty of the estimated components: all
    scaled together by the ends of the chi-square ``confidence`` interval of Var(Δ̂) at its
    Satterthwaite ``df`` (``df / χ²_{1−q}`` to ``df / χ²_{q}``, q = (1 − confidence) / 2), fewest
    runs first; keywords as :func:`der_runs_needed`. (None, None) when ``df`` is not finite and positive."""
    if not (math.isfinite(df) and df > 0):
        return None, None
    q = (1 - confidence) / 2
    ends = (df / st.chi2.isf(q, df), df / st.chi2.isf(1 - q, df))
    return tuple(der_runs_needed({k: v * f for k, v in components.items()}, n_meetings, effect, alpha, power,
                                 max_runs, **kw) for f in ends)  # type: ignore[return-value]
