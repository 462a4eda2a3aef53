"""Power of the one-sided Welch t-test, by simulation, for pre-specified effects.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as st

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
