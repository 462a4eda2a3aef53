"""Group-sequential designs on ΔDER, the primary endpoint (adaptive seeds; docs/statistics-der.md).

Planned looks at ``n_1 < … < n_K`` runs per arm. At look k every run so far of both arms has
diarized the same ``m`` held-out meetings, and the crossed comparison
(:func:`vfreport.stats.crossed.compare_crossed`: ΔDER = target − baseline arm, two-way
random-effects ANOVA, Satterthwaite df) gives the look's ΔDER, SE and df. The experiment stops

- for **efficacy** when the nominal one-sided p of ``ΔDER < 0`` (the target's DER lower) is at
  or below ``efficacy_p[k]``;
- for **futility** (looks before the last; non-binding) when a gain of ``min_der_delta`` is
  rejected: the nominal p of ``ΔDER ≤ −min_der_delta`` against ``ΔDER > −min_der_delta`` is at
  or below ``futility_p[k]`` ("no worthwhile gain");
- otherwise it adds seeds; the last look without efficacy is ``final``.

The thresholds come from an α-spending function (Lan–DeMets O'Brien–Fleming or Haybittle–Peto)
**calibrated by Monte Carlo on the crossed statistic itself**, as :mod:`vfreport.stats.sequential`
does for Welch's t. The nuisance here is the mix of variance components: when the arm × meeting
interaction dominates, adding runs barely moves Δ̂ (the same meetings are re-used at every look)
and the looks are strongly correlated; when run variance dominates they are nearly as
independent as Welch's. The nominal p does not depend on the components' overall scale, so the
calibration simulates null paths (runs × meetings tables, :func:`vfreport.stats.crossed.simulate_tables`)
at several mixes (run-, interaction- and residual-dominated, and the assumed components) and at
each look takes the largest threshold that keeps the cumulative rejection rate within the
spending function at *every* mix. Futility is calibrated the same way at ``futility_beta`` under
``ΔDER = −min_der_delta`` (by the symmetry of the null, the same paths serve) and is ignored by
the efficacy boundaries, so the type-I bound holds whether or not one stops for futility. Only
the operating characteristics (power, expected seeds) depend on the assumed components and the
number of meetings.

References
----------
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, ch. 7, §8.2, ch. 9. Lan & DeMets (1983), Biometrika 70(3). O'Brien & Fleming (1979),
Biometrics 35(3). Haybittle (1971); Peto et al. (1976). Satterthwaite (1946).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as st

from vfreport.stats.crossed import compare_crossed_batch, component_sds, simulate_tables
from vfreport.stats.sequential import (
    DEFAULT_FUTILITY_BETA,
    DEFAULT_LOOKS,
    SPENDING_REFERENCES,
    Decision,
    DesignRecord,
    LookDecision,
    calibrate_boundaries,
    check_looks,
    check_settings,
    run_procedure,
    spending_text,
    stopping_rates,
)

ENDPOINT = "der"
DEFAULT_N_SIM = 20_000
"""Simulated paths per variance mix (calibration, and again for the independent check)."""
DEFAULT_MIN_DER_DELTA = 0.03
"""Used when a config has no ``thresholds.min_der_delta`` (the same default as the config's)."""
DEMO_COMPONENTS = {"run": 0.0008, "meeting": 0.0064, "arm_x_meeting": 0.002, "residual": 0.0019}
"""Variance components (DER fraction²) near those estimated on the demo's 12 + 12 runs × 6
meetings (run and residual pooled over the arms): run SD 2.8, meeting 8, arm × meeting 4.5,
residual 4.4 DER points. The assumed components when none are given (operating
characteristics only)."""
MIXES = {
    "run-dominated": {"run": 1.0, "arm_x_meeting": 0.01, "residual": 0.1},
    "interaction-dominated": {"run": 0.01, "arm_x_meeting": 1.0, "residual": 0.1},
    "residual-dominated": {"run": 0.01, "arm_x_meeting": 0.01, "residual": 1.0},
}
"""Mixes of variance components (scale-free) the boundaries must hold at, besides the assumed one."""
CHUNK = 10_000


@dataclass(frozen=True)
class DerBoundary:
    """One look: ``n`` runs per arm, information fraction ``n / n_K``, the cumulative type-I error
    spent by its end (calibration paths, worst mix), the nominal one-sided p thresholds for
    efficacy (``ΔDER < 0``) and futility (``ΔDER > −min_der_delta``; None at the last look)."""

    look: int
    n: int
    information: float
    alpha_spent: float
    efficacy_p: float
    futility_p: float | None


@dataclass(frozen=True)
class DerOperatingPoint:
    """The design's behaviour when the true ΔDER is ``delta`` (negative: the target better) under
    the assumed components: chance of stopping for efficacy, for futility, at the last look
    without a decision, at each look, and the expected runs per arm."""

    name: str
    delta: float
    power: float
    futility: float
    final: float
    stop_at_look: tuple[float, ...]
    expected_seeds: float


@dataclass(frozen=True)
class DerSequentialDesign(DesignRecord):
    """A calibrated group-sequential design on ΔDER (:func:`design_sequential_der`)."""

    looks: tuple[int, ...]
    alpha: float
    spending: str
    futility: str
    futility_beta: float
    min_der_delta: float
    n_meetings: int
    components: dict[str, float]
    components_source: str
    mixes: tuple[str, ...]
    n_sim: int
    seed: int
    boundaries: tuple[DerBoundary, ...]
    type_i_error: float
    """Simulated on fresh paths, futility ignored (the non-binding guarantee), worst mix."""
    type_i_error_by_mix: dict[str, float]
    type_i_error_with_futility: float
    """The same with futility obeyed, under the assumed components."""
    monte_carlo_se: float
    operating: tuple[DerOperatingPoint, ...]
    method: str
    references: tuple[str, ...] = field(default=())
    endpoint: str = ENDPOINT

    @property
    def power(self) -> dict[str, float]:
        """Chance of stopping for efficacy per named gain (ΔDER < 0)."""
        return {o.name: o.power for o in self.operating if o.delta < 0}


def der_design_from_dict(d: Mapping[str, Any]) -> DerSequentialDesign:
    """The design :meth:`DerSequentialDesign.to_dict` wrote (used as written, not recalibrated)."""
    f = {k: d[k] for k in DerSequentialDesign.__dataclass_fields__ if k in d}
    f["looks"] = tuple(int(n) for n in d["looks"])
    f["mixes"] = tuple(d["mixes"])
    f["components"] = {k: float(v) for k, v in d["components"].items()}
    f["boundaries"] = tuple(DerBoundary(**b) for b in d["boundaries"])
    f["operating"] = tuple(DerOperatingPoint(**{**o, "stop_at_look": tuple(o["stop_at_look"])}) for o in d["operating"])
    f["references"] = tuple(d.get("references", ()))
    f["type_i_error_by_mix"] = dict(d["type_i_error_by_mix"])
    return DerSequentialDesign(**f)


# ---------------------------------------------------------------------------------------------
# simulation
# ---------------------------------------------------------------------------------------------


def _look_stats(components: Mapping[str, float], looks: tuple[int, ...], n_meetings: int, n_sim: int,
                seed: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ΔDER estimate, SE and df per null path (true Δ = 0) and look, ``(n_sim, K)`` each: one pair
    of ``n_K``-run tables per path, look k reading its first ``n_k`` runs of each arm."""
    est, se, df = (np.empty((n_sim, len(looks))) for _ in range(3))
    for start in range(0, n_sim, CHUNK):
        size = min(CHUNK, n_sim - start)
        t, o = simulate_tables(dict(components), (looks[-1], looks[-1]), n_meetings, size, 0.0,
                               (*seed, start))
        for k, n in enumerate(looks):
            res = compare_crossed_batch(t[:, :n], o[:, :n])
            rows = slice(start, start + size)
            est[rows, k], se[rows, k], df[rows, k] = res.estimate, res.se, res.df
    return est, se, df


def _p_gain(est: np.ndarray, se: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Nominal one-sided p of ``ΔDER < 0`` (1 where undefined: never rejects)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = st.t.cdf(est / se, df)
    return np.where(np.isfinite(p), p, 1.0)


def _p_no_gain(est: np.ndarray, se: np.ndarray, df: np.ndarray, min_der_delta: float) -> np.ndarray:
    """Nominal one-sided p of ``ΔDER > −min_der_delta`` (1 where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = st.t.sf((est + min_der_delta) / se, df)
    return np.where(np.isfinite(p), p, 1.0)


def _check(mixes: Mapping[str, Mapping[str, float]], looks: tuple[int, ...], m: int, n_sim: int, seed: int,
           eff_p: Sequence[float], fut_p: Sequence[float | None]) -> tuple[dict[str, float], tuple[np.ndarray, ...]]:
    """Type-I error per mix on fresh null paths (futility ignored), and the assumed mix's (estimate,
    SE, df) per path and look."""
    by_mix: dict[str, float] = {}
    assumed: tuple[np.ndarray, ...] = ()
    for i, (name, c) in enumerate(mixes.items()):
        est, se, df = _look_stats(c, looks, m, n_sim, (seed, 1, i))
        _, outcome = run_procedure(_p_gain(est, se, df), None, eff_p, fut_p)
        by_mix[name] = float(np.mean(outcome == 1))
        if name == "assumed":
            assumed = (est, se, df)
    return by_mix, assumed


def _operating(assumed: tuple[np.ndarray, ...], looks: tuple[int, ...], truths: Mapping[str, float],
               min_der_delta: float, futility: str, eff_p: Sequence[float],
               fut_p: Sequence[float | None]) -> list[DerOperatingPoint]:
    """Operating characteristics per named true ΔDER: the assumed mix's null paths shifted by it."""
    est, se, df = assumed
    ops = []
    for name, d in truths.items():
        pf = _p_no_gain(est + d, se, df, min_der_delta) if futility != "none" else None
        look, outcome = run_procedure(_p_gain(est + d, se, df), pf, eff_p, fut_p)
        ops.append(DerOperatingPoint(name=name, delta=d, **stopping_rates(look, outcome, looks)))
    return ops


# ---------------------------------------------------------------------------------------------
# the design
# ---------------------------------------------------------------------------------------------


def design_sequential_der(
    looks: Sequence[int] = DEFAULT_LOOKS,
    n_meetings: int = 6,
    alpha: float = 0.05,
    spending: str = "obf",
    futility: str = "beta-spending",
    futility_beta: float = DEFAULT_FUTILITY_BETA,
    min_der_delta: float = DEFAULT_MIN_DER_DELTA,
    alternatives: Mapping[str, float] | None = None,
    components: Mapping[str, float] | None = None,
    n_sim: int = DEFAULT_N_SIM,
    seed: int = 0,
) -> DerSequentialDesign:
    """Calibrate a group-sequential design on the crossed ΔDER test at ``looks`` runs per arm,
    every run scored on ``n_meetings`` meetings.

    Parameters
    ----------
    looks
        Runs per arm at each look, strictly increasing, the first at least 2.
    n_meetings
        Held-out meetings every run diarizes (the same at every look).
    alpha
        One-sided level of the whole procedure.
    spending, futility, futility_beta
        As :func:`vfreport.stats.sequential.design_sequential`; futility tests "no worthwhile
        gain" (``ΔDER > −min_der_delta``).
    min_der_delta
        Smallest worthwhile DER gain (fraction, > 0).
    alternatives
        Named DER gains (> 0, fractions) whose power and expected seeds are reported besides
        ``min_der_delta``.
    components
        Variance components (keys of :data:`vfreport.stats.crossed.COMPONENTS`, or ``run`` /
        ``residual`` for both arms) for the operating characteristics and as one more calibration
        mix. None: :data:`DEMO_COMPONENTS`.
    n_sim
        Simulated paths per mix; the reported type-I error and operating characteristics come from
        a second, independent set.
    seed
        Seed of the simulations: the same arguments give the same design.

    References
    ----------
    Jennison & Turnbull (2000), ch. 7 (error spending computed by simulation) and §8.2
    (non-binding futility); Lan & DeMets (1983); O'Brien & Fleming (1979); Satterthwaite (1946).
    """
    looks = check_looks(looks)
    check_settings(alpha, spending, futility, futility_beta, n_sim)
    if not min_der_delta > 0:
        raise ValueError(f"min_der_delta must be > 0, got {min_der_delta}")
    if int(n_meetings) < 2:
        raise ValueError(f"a DER design needs at least 2 meetings, got {n_meetings}")
    given = components is not None
    comps = {k: s * s for k, s in component_sds(dict(components if given else DEMO_COMPONENTS)).items()}
    if sum(v for k, v in comps.items() if k != "meeting") <= 0:
        raise ValueError("the variance components give ΔDER no variance (all but the meeting term are 0)")
    m = int(n_meetings)
    mixes = {"assumed": comps, **MIXES}

    # ---- calibration (efficacy at alpha; futility at futility_beta on the same null paths)
    p_cal = [_p_gain(*_look_stats(c, looks, m, n_sim, (seed, 0, i))) for i, c in enumerate(mixes.values())]
    eff_p, spent, fut_p = calibrate_boundaries(p_cal, looks, alpha, spending, futility, futility_beta)
    bounds = tuple(DerBoundary(k + 1, n, n / looks[-1], spent[k], eff_p[k], fut_p[k]) for k, n in enumerate(looks))
    # ---- independent check on fresh paths, and the operating characteristics (assumed components)
    by_mix, assumed = _check(mixes, looks, m, n_sim, seed, eff_p, fut_p)
    truths = {"null": 0.0, "min_der_delta": -float(min_der_delta)}
    for name, gain in (alternatives or {}).items():
        if -float(gain) not in truths.values():
            truths[name] = -float(gain)
    ops = _operating(assumed, looks, truths, min_der_delta, futility, eff_p, fut_p)
    method = (
        f"group-sequential one-sided test of ΔDER < 0 (crossed runs × meetings comparison, two-way random-effects "
        f"ANOVA, Satterthwaite df) at {', '.join(map(str, looks))} runs per arm on {m} meetings; "
        + spending_text(spending, alpha) + f", boundaries on the nominal p calibrated by Monte Carlo ({n_sim:,} "
        f"null paths per variance mix: {', '.join(mixes)}; worst mix)"
        + (f"; non-binding futility when a gain of min_der_delta = {min_der_delta:g} is rejected, O'Brien–Fleming "
           f"spending of β = {futility_beta:g}" if futility != "none" and len(looks) > 1 else "; no futility boundary")
    )
    return DerSequentialDesign(
        looks=looks, alpha=float(alpha), spending=spending, futility=futility, futility_beta=float(futility_beta),
        min_der_delta=float(min_der_delta), n_meetings=m, components=comps,
        components_source="given" if given else "demo", mixes=tuple(mixes), n_sim=int(n_sim), seed=int(seed),
        boundaries=bounds, type_i_error=max(by_mix.values()), type_i_error_by_mix=by_mix,
        type_i_error_with_futility=next(o.power for o in ops if o.name == "null"),
        monte_carlo_se=float(math.sqrt(alpha * (1 - alpha) / n_sim)), operating=tuple(ops), method=method,
        references=(*SPENDING_REFERENCES, "Satterthwaite, F. E. (1946), Biometrics Bulletin 2(6): 110-114"),
    )


# ---------------------------------------------------------------------------------------------
# decisions
# ---------------------------------------------------------------------------------------------


def decide_der(design: DerSequentialDesign, look_index: int, estimate: float, se: float, df: float) -> LookDecision:
    """Continue, stop for efficacy (ΔDER < 0), stop for futility (a gain of ``min_der_delta``
    rejected), or (last look) final, from the look's crossed comparison (estimate, SE, df of
    :func:`vfreport.stats.crossed.compare_crossed`). ``p_value`` is the nominal p of ``ΔDER < 0``,
    ``p_futility`` that of ``ΔDER > −min_der_delta``. An undefined SE or df never stops the
    design before the last look. Efficacy takes precedence over futility.

    References
    ----------
    Jennison & Turnbull (2000), §7.2.
    """
    if not 0 <= look_index < len(design.looks):
        raise IndexError(f"look {look_index} outside the design's {len(design.looks)} looks")
    b = design.boundaries[look_index]
    last = look_index == len(design.looks) - 1
    ok = all(isinstance(x, int | float) and math.isfinite(x) for x in (estimate, se, df)) and se > 0
    p = float(st.t.cdf(estimate / se, df)) if ok else None
    pf = float(st.t.sf((estimate + design.min_der_delta) / se, df)) if ok and b.futility_p is not None else None
    if p is not None and p <= b.efficacy_p:
        dec, why = Decision.EFFICACY, f"ΔDER < 0: nominal one-sided p {p:.3g} ≤ efficacy boundary {b.efficacy_p:.3g}"
    elif pf is not None and b.futility_p is not None and pf <= b.futility_p:
        dec, why = Decision.FUTILITY, (f"a gain of min_der_delta = {100 * design.min_der_delta:g} DER points "
                                       f"rejected: nominal p {pf:.3g} ≤ futility boundary {b.futility_p:.3g}")
    elif last:
        dec = Decision.FINAL
        why = (f"last look: nominal p {p:.3g} > efficacy boundary {b.efficacy_p:.3g}" if p is not None
               else "last look: ΔDER's SE is undefined")
    else:
        dec = Decision.CONTINUE
        why = "ΔDER's SE is undefined" if p is None else f"nominal p {p:.3g} between the boundaries"
    return LookDecision(look_index + 1, b.n, dec, p, b.efficacy_p, pf, b.futility_p, why)


def repeated_upper_bound(design: DerSequentialDesign, look_index: int, estimate: float, se: float,
                         df: float) -> float | None:
    """One-sided repeated confidence bound for ΔDER at a look, ``Δ̂ + t_{1−a_k}(df) · SE``: over all
    looks together it holds with probability at least ``1 − α``; it is < 0 exactly when the look
    crossed for efficacy (Jennison & Turnbull 2000, ch. 9)."""
    a = design.boundaries[look_index].efficacy_p
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in (estimate, se, df)) or a <= 0 or se <= 0:
        return None
    return float(estimate + st.t.isf(a, df) * se)


__all__ = [
    "DEFAULT_MIN_DER_DELTA", "DEFAULT_N_SIM", "DEMO_COMPONENTS", "ENDPOINT", "MIXES", "DerBoundary",
    "DerOperatingPoint", "DerSequentialDesign", "decide_der", "der_design_from_dict", "design_sequential_der",
    "repeated_upper_bound",
]
