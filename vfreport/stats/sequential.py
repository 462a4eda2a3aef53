"""Group-sequential designs for the one-sided Welch t-test over runs (adaptive seeds).

Planned looks at ``n_1 < n_2 < … < n_K`` runs per arm (e.g. 3, 5, 8, 12 seeds). At look k the
one-sided Welch t-test of ``target > baseline`` is run on every run so far; the experiment stops

- for **efficacy** when its nominal one-sided p is at or below ``efficacy_p[k]``;
- for **futility** (looks before the last) when the data reject a worthwhile effect: the
  one-sided Welch test of ``Δ < min_delta`` has nominal p at or below ``futility_p[k]``, i.e. the
  upper ``1 - futility_p[k]`` confidence bound of Δ lies below ``min_delta``;
- otherwise it adds seeds up to the next look; the last look decides H1 without a futility
  boundary (``final``: H1 not supported at the largest planned n).

Boundaries live on the nominal-p scale of Welch's test: the t a look needs is
``t_{1-a_k}(df_k)`` with the look's own Welch–Satterthwaite df, so a look whose runs show very
unequal spreads (df near ``n - 1``) needs a larger t than one with equal spreads (df near
``2n - 2``). The thresholds come from an α-spending function, Lan–DeMets O'Brien–Fleming
(``α(t) = 2 - 2Φ(z_{1-α/2} / √t)``, t = n_k / n_K) or Haybittle–Peto (every interim look at
nominal p ≤ 0.001, the last one at what is left), **calibrated by Monte Carlo on the Welch
statistic itself**: normal boundaries are wrong at 3–5 runs per arm, where Welch's t has 2–8 df
and the looks are strongly correlated. The calibration simulates null paths at several ratios
of the arms' SDs (the Behrens–Fisher nuisance; ratios r and 1/r give the same null distribution)
and at each look takes the largest threshold that keeps the cumulative rejection rate within the
spending function at *every* ratio. Futility boundaries are non-binding and calibrated the same
way at level ``futility_beta`` under ``Δ = min_delta`` (by the symmetry of the null, the same
paths serve): the efficacy boundaries ignore them, so the type-I error bound holds whether or not
the experimenter stops at a futility boundary. Neither boundary needs an assumption about the
seed-to-seed SD; only the operating characteristics (power, expected seeds) do.

Everything is a pure function of its arguments, vectorised over simulated paths with numpy and
seeded, so the same arguments give the same design.

References
----------
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, Chapman & Hall/CRC (ch. 7 error spending; ch. 9 repeated confidence intervals; §8.2
non-binding futility). Lan, K. K. G. & DeMets, D. L. (1983), "Discrete sequential boundaries for
clinical trials", Biometrika 70(3). O'Brien, P. C. & Fleming, T. R. (1979), "A multiple testing
procedure for clinical trials", Biometrics 35(3). Haybittle, J. L. (1971), "Repeated assessment
of results in clinical trials of cancer treatment", British Journal of Radiology 44; Peto, R. et
al. (1976), British Journal of Cancer 34(6). Welch, B. L. (1947), Biometrika 34.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats as st

from vfreport.stats.twosample import welch_t

SPENDING = ("obf", "hp")
FUTILITY = ("beta-spending", "none")
DEFAULT_LOOKS = (3, 5, 8, 12)
DEFAULT_N_SIM = 100_000
"""Simulated paths per SD ratio (calibration, and again for the independent check)."""
DEFAULT_SD_RATIOS = (1.0, 2.0, 4.0, 10.0)
"""Ratios of the arms' SDs the boundaries must hold at (the Behrens–Fisher nuisance)."""
DEFAULT_FUTILITY_BETA = 0.10
"""Futility error: the chance of stopping for futility when Δ is exactly ``min_delta``."""
HP_INTERIM_P = 0.001
"""Haybittle–Peto: the nominal p every interim look needs (Peto et al. 1976's p < 0.001;
Haybittle 1971 asked for 3 SE, one-sided p 0.00135)."""
SD_ASSUMPTION = "min_delta"
"""Without a given SD, operating characteristics assume a seed-to-seed SD equal to min_delta."""


class Decision(StrEnum):
    """What a look says."""

    CONTINUE = "continue"
    EFFICACY = "efficacy"
    FUTILITY = "futility"
    FINAL = "final"
    """The last look without crossing the efficacy boundary: H1 not supported at the largest n."""


@dataclass(frozen=True)
class Boundary:
    """One look: ``n`` runs per arm, information fraction ``n / n_K``, the cumulative type-I
    error spent by the end of it (calibration paths, worst SD ratio; at most the spending
    function's value), and its nominal one-sided p thresholds. ``efficacy_t`` / ``efficacy_t_min_df``
    are the t the efficacy threshold needs at Welch df ``2n - 2`` (equal spreads) and ``n - 1``
    (one arm's spread dominating). Futility: stop when the nominal p of ``Δ < min_delta`` is at or
    below ``futility_p``, i.e. ``(Δ - min_delta) / SE ≤ futility_t`` (negative; shown at df
    ``2n - 2``). ``futility_p`` and ``futility_t`` are None at the last look."""

    look: int
    n: int
    information: float
    alpha_spent: float
    efficacy_p: float
    efficacy_t: float
    efficacy_t_min_df: float
    futility_p: float | None
    futility_t: float | None


@dataclass(frozen=True)
class OperatingPoint:
    """The design's behaviour when the true Δ is ``delta`` and the runs' SD is ``sd`` in both arms:
    chance of stopping for efficacy (power), for futility, at the last look without a decision,
    at each look, and the expected runs per arm."""

    name: str
    delta: float
    sd: float
    power: float
    futility: float
    final: float
    stop_at_look: tuple[float, ...]
    expected_seeds: float


class DesignRecord(ABC):
    """What the accuracy and the ΔDER designs (:class:`SequentialDesign`,
    :class:`vfreport.stats.sequential_der.DerSequentialDesign`) share: looks, boundaries and
    operating points, the expected seeds per truth, and their JSON form (``power`` is each
    design's: the sign of a gain differs)."""

    looks: tuple[int, ...]
    boundaries: tuple[Any, ...]
    operating: tuple[Any, ...]

    @property
    @abstractmethod
    def power(self) -> dict[str, float]:
        """Chance of stopping for efficacy per named gain."""

    @property
    def expected_seeds(self) -> dict[str, float]:
        """Expected runs per arm at the stop, per named truth (``null`` and each alternative)."""
        return {o.name: o.expected_seeds for o in self.operating}

    @property
    def max_seeds(self) -> int:
        return self.looks[-1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (no NaN: undefined numbers are None), read back by :func:`design_from_dict`
        or :func:`vfreport.stats.sequential_der.der_design_from_dict`."""
        d = asdict(self)  # type: ignore[call-overload]
        d["boundaries"] = [asdict(b) for b in self.boundaries]
        d["operating"] = [asdict(o) for o in self.operating]
        d["power"] = self.power
        d["expected_seeds"] = self.expected_seeds
        return jsonable(d)


@dataclass(frozen=True)
class SequentialDesign(DesignRecord):
    """A calibrated group-sequential design (see :func:`design_sequential`)."""

    looks: tuple[int, ...]
    alpha: float
    spending: str
    futility: str
    futility_beta: float
    min_delta: float
    sd: float
    sd_source: str
    sd_ratios: tuple[float, ...]
    n_sim: int
    seed: int
    boundaries: tuple[Boundary, ...]
    type_i_error: float
    """Simulated on fresh paths, futility ignored (the non-binding guarantee), worst SD ratio."""
    type_i_error_by_sd_ratio: dict[str, float]
    type_i_error_with_futility: float
    """The same with futility obeyed, SD ratio 1 and the assumed SD (never above ``type_i_error``)."""
    monte_carlo_se: float
    operating: tuple[OperatingPoint, ...]
    method: str
    references: tuple[str, ...] = field(default=())

    @property
    def power(self) -> dict[str, float]:
        """Power (chance of stopping for efficacy) per named alternative (Δ > 0)."""
        return {o.name: o.power for o in self.operating if o.delta > 0}


def jsonable(x: Any) -> Any:
    """``x`` with NaN/inf floats as None and numpy scalars and tuples as plain JSON types."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    return x


def design_from_dict(d: Mapping[str, Any]) -> SequentialDesign:
    """The :class:`SequentialDesign` that :meth:`SequentialDesign.to_dict` wrote (a persisted,
    pre-registered design is used as written, not recalibrated)."""
    fields_ = {k: d[k] for k in SequentialDesign.__dataclass_fields__ if k in d}
    fields_["looks"] = tuple(int(n) for n in d["looks"])
    fields_["sd_ratios"] = tuple(float(r) for r in d["sd_ratios"])
    fields_["boundaries"] = tuple(Boundary(**b) for b in d["boundaries"])
    fields_["operating"] = tuple(OperatingPoint(**{**o, "stop_at_look": tuple(o["stop_at_look"])})
                                 for o in d["operating"])
    fields_["references"] = tuple(d.get("references", ()))
    fields_["type_i_error_by_sd_ratio"] = dict(d["type_i_error_by_sd_ratio"])
    return SequentialDesign(**fields_)


# ---------------------------------------------------------------------------------------------
# spending
# ---------------------------------------------------------------------------------------------


def obf_spending(information: float | np.ndarray, alpha: float) -> float | np.ndarray:
    """Lan–DeMets O'Brien–Fleming-type spending function, one-sided:
    ``α(t) = 2 - 2Φ(z_{1-α/2} / √t)``, ``α(1) = α`` (Lan & DeMets 1983, eq. 3)."""
    t = np.asarray(information, dtype=float)
    out = 2.0 - 2.0 * st.norm.cdf(st.norm.ppf(1.0 - alpha / 2.0) / np.sqrt(t))
    return float(out) if out.ndim == 0 else out


def check_looks(looks: Sequence[int]) -> tuple[int, ...]:
    """Validated looks: at least one, strictly increasing, each at least 2 runs per arm."""
    out = tuple(int(n) for n in looks)
    if not out:
        raise ValueError("a sequential design needs at least one look")
    if out[0] < 2:
        raise ValueError(f"the first look needs at least 2 runs per arm (Welch's t), got {out[0]}")
    if any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"looks must be strictly increasing, got {', '.join(map(str, out))}")
    return out


def parse_looks(text: str) -> tuple[int, ...]:
    """``"3,5,8,12"`` → ``(3, 5, 8, 12)`` (validated by :func:`check_looks`)."""
    try:
        values = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise ValueError(f"looks must be comma-separated integers, got {text!r}") from None
    return check_looks(values)


# ---------------------------------------------------------------------------------------------
# simulation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Paths:
    """Standard-normal runs summarised at each look: per path and look, each arm's mean and
    variance of the mean (SD 1 in both arms before scaling)."""

    mean_a: np.ndarray  # mean of the target's runs, (n_sim, K)
    mean_b: np.ndarray  # mean of the baseline's runs
    qa: np.ndarray  # var(target runs) / n
    qb: np.ndarray


def _simulate(looks: tuple[int, ...], n_sim: int, seed: int | Sequence[int]) -> _Paths:
    rng = np.random.default_rng(seed)
    n_max = looks[-1]
    idx = np.asarray(looks) - 1
    n = np.asarray(looks, dtype=float)
    out = []
    for _ in range(2):
        z = rng.standard_normal((n_sim, n_max))
        s1 = np.cumsum(z, axis=1)[:, idx]
        s2 = np.cumsum(z * z, axis=1)[:, idx]
        mean = s1 / n
        var = np.maximum(s2 - s1 * mean, 0.0) / (n - 1.0)
        out.append((mean, var / n))
    return _Paths(out[0][0], out[1][0], out[0][1], out[1][1])


def _welch(paths: _Paths, sd_ratio: float, shift: float | np.ndarray = 0.0) -> tuple[np.ndarray, ...]:
    """t, df and SE of every path and look when the target's SD is ``sd_ratio`` times the
    baseline's (1) and its mean is ``shift`` higher."""
    qa = paths.qa * sd_ratio**2
    q = qa + paths.qb
    se = np.sqrt(q)
    return (paths.mean_a * sd_ratio - paths.mean_b + shift) / se, q, se


def _welch_df(paths: _Paths, looks: tuple[int, ...], sd_ratio: float) -> np.ndarray:
    n = np.asarray(looks, dtype=float)
    qa = paths.qa * sd_ratio**2
    return (qa + paths.qb) ** 2 / (qa**2 / (n - 1.0) + paths.qb**2 / (n - 1.0))


def _null_p(paths: _Paths, looks: tuple[int, ...], sd_ratio: float) -> np.ndarray:
    t, _, _ = _welch(paths, sd_ratio)
    return st.t.sf(t, _welch_df(paths, looks, sd_ratio))


def _threshold(p_alive: np.ndarray, allowed: float) -> float:
    """Largest nominal threshold ``a`` with at most ``allowed`` (fractional, interpolated between
    order statistics) of ``p_alive`` at or below it."""
    if allowed <= 0 or p_alive.size == 0:
        return 0.0
    m = int(math.floor(allowed))
    if m >= p_alive.size:
        return 1.0
    s = np.sort(np.partition(p_alive, m)[: m + 1])  # the m + 1 smallest
    below = s[m - 1] if m >= 1 else 0.0
    return float(below + (allowed - m) * (s[m] - below))


def calibrate_thresholds(p_by_ratio: Sequence[np.ndarray], cumulative: Sequence[float | None],
                         fixed: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """Nominal thresholds, look by look: ``fixed[k]`` where given, else the largest that keeps the
    cumulative rejection rate within ``cumulative[k]`` at every SD ratio. Returns the thresholds
    and the worst-ratio cumulative rejection rate after each look."""
    n_sim = p_by_ratio[0].shape[0]
    alive = [np.ones(n_sim, dtype=bool) for _ in p_by_ratio]
    rejected = [0 for _ in p_by_ratio]
    thresholds, spent = [], []
    for k in range(p_by_ratio[0].shape[1]):
        if fixed[k] is not None:
            a = float(fixed[k])
        else:
            a = min(_threshold(p[al, k], cumulative[k] * n_sim - rej)
                    for p, al, rej in zip(p_by_ratio, alive, rejected, strict=True))
        for i, p in enumerate(p_by_ratio):
            hit = alive[i] & (p[:, k] <= a)
            rejected[i] += int(hit.sum())
            alive[i] &= ~hit
        thresholds.append(a)
        spent.append(max(rejected) / n_sim)
    return thresholds, spent


def run_procedure(p: np.ndarray, p_fut: np.ndarray | None, efficacy: Sequence[float],
                   futility: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Stopping look (index) and outcome (0 continue→final, 1 efficacy, 2 futility) per path."""
    n_sim, k_max = p.shape
    look = np.full(n_sim, k_max - 1)
    outcome = np.zeros(n_sim, dtype=int)
    alive = np.ones(n_sim, dtype=bool)
    for k in range(k_max):
        eff = alive & (p[:, k] <= efficacy[k])
        outcome[eff], look[eff] = 1, k
        alive &= ~eff
        if p_fut is not None and futility[k] is not None:
            fut = alive & (p_fut[:, k] <= futility[k])
            outcome[fut], look[fut] = 2, k
            alive &= ~fut
    return look, outcome


# ---------------------------------------------------------------------------------------------
# the design
# ---------------------------------------------------------------------------------------------


def check_settings(alpha: float, spending: str, futility: str, futility_beta: float, n_sim: int) -> None:
    """ValueError unless the settings both designs share are valid."""
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if spending not in SPENDING:
        raise ValueError(f"spending must be one of {', '.join(SPENDING)}, got {spending!r}")
    if futility not in FUTILITY:
        raise ValueError(f"futility must be one of {', '.join(FUTILITY)}, got {futility!r}")
    if futility == "beta-spending" and not 0 < futility_beta < 0.5:
        raise ValueError(f"futility_beta must be in (0, 0.5), got {futility_beta}")
    if n_sim < 1000:
        raise ValueError(f"n_sim must be at least 1000, got {n_sim}")


def calibrate_boundaries(p_cal: Sequence[np.ndarray], looks: tuple[int, ...], alpha: float, spending: str,
                         futility: str, futility_beta: float) -> tuple[list[float], list[float], list[float | None]]:
    """(efficacy p thresholds, α spent, futility p thresholds or None) per look from null paths'
    nominal p ``p_cal`` (one ``(paths, looks)`` array per calibration setting, the worst one
    binding): efficacy at level ``alpha`` by ``spending``; futility (``"beta-spending"``) at
    ``futility_beta`` by O'Brien–Fleming spending, on the same null paths (by the null's symmetry
    the futility p under the smallest worthwhile effect has the law of the efficacy p under 0),
    none at the last look (Jennison & Turnbull 2000, ch. 7 and §8.2)."""
    k_max = len(looks)
    info = [n / looks[-1] for n in looks]
    if spending == "obf":
        cum = [float(obf_spending(t, alpha)) for t in info]
        fixed: list[float | None] = [None] * k_max
    else:
        cum = [alpha] * k_max
        fixed = [HP_INTERIM_P] * (k_max - 1) + [None]
    eff_p, spent = calibrate_thresholds(p_cal, cum, fixed)
    fut_p: list[float | None] = [None] * k_max
    if futility == "beta-spending" and k_max > 1:
        cum_f = [float(obf_spending(t, futility_beta)) for t in info]
        fp, _ = calibrate_thresholds([p[:, :-1] for p in p_cal], cum_f[:-1], [None] * (k_max - 1))
        fut_p = [*fp, None]
    return eff_p, spent, fut_p


def stopping_rates(look: np.ndarray, outcome: np.ndarray, looks: tuple[int, ...]) -> dict[str, Any]:
    """An operating point's rates from :func:`run_procedure`'s (look, outcome) per path: power,
    futility, final (no decision), the share stopping at each look, the expected runs per arm."""
    return {"power": float(np.mean(outcome == 1)), "futility": float(np.mean(outcome == 2)),
            "final": float(np.mean(outcome == 0)),
            "stop_at_look": tuple(float(np.mean(look == k)) for k in range(len(looks))),
            "expected_seeds": float(np.mean(np.asarray(looks)[look]))}


def spending_text(spending: str, alpha: float) -> str:
    """The α-spending rule in a design's ``method``."""
    return (("Lan–DeMets O'Brien–Fleming α-spending" if spending == "obf"
             else f"Haybittle–Peto (interim nominal p ≤ {HP_INTERIM_P:g})") + f", α = {alpha:g}")


SPENDING_REFERENCES = (
    "Jennison, C. & Turnbull, B. W. (2000), Group Sequential Methods with Applications to Clinical Trials",
    "Lan, K. K. G. & DeMets, D. L. (1983), Biometrika 70(3): 659-663",
    "O'Brien, P. C. & Fleming, T. R. (1979), Biometrics 35(3): 549-556",
)


def _boundaries(looks: tuple[int, ...], spent: Sequence[float], eff_p: Sequence[float],
                fut_p: Sequence[float | None]) -> tuple[Boundary, ...]:
    return tuple(
        Boundary(
            look=k + 1, n=n, information=n / looks[-1], alpha_spent=spent[k], efficacy_p=eff_p[k],
            efficacy_t=float(st.t.isf(eff_p[k], 2 * n - 2)) if eff_p[k] > 0 else math.inf,
            efficacy_t_min_df=float(st.t.isf(eff_p[k], n - 1)) if eff_p[k] > 0 else math.inf,
            futility_p=fut_p[k],
            futility_t=(float(st.t.ppf(fut_p[k], 2 * n - 2)) if fut_p[k] else None),
        )
        for k, n in enumerate(looks)
    )


def _operating(chk: _Paths, looks: tuple[int, ...], truths: Mapping[str, float], sd: float, min_delta: float,
               futility: str, eff_p: Sequence[float], fut_p: Sequence[float | None]) -> list[OperatingPoint]:
    """Operating characteristics at SD ratio 1, runs' SD ``sd``, per named true Δ."""
    df1 = _welch_df(chk, looks, 1.0)
    ops = []
    for name, d in truths.items():
        t, _, se = _welch(chk, 1.0, d / sd)
        p = st.t.sf(t, df1)
        pf = st.t.cdf(t - (min_delta / sd) / se, df1) if futility != "none" else None
        look, outcome = run_procedure(p, pf, eff_p, fut_p)
        ops.append(OperatingPoint(name=name, delta=d, sd=sd, **stopping_rates(look, outcome, looks)))
    return ops


def design_sequential(
    looks: Sequence[int] = DEFAULT_LOOKS,
    alpha: float = 0.05,
    spending: str = "obf",
    futility: str = "beta-spending",
    futility_beta: float = DEFAULT_FUTILITY_BETA,
    min_delta: float = 0.05,
    alternatives: Mapping[str, float] | None = None,
    sd: float | None = None,
    sd_ratios: Sequence[float] = DEFAULT_SD_RATIOS,
    n_sim: int = DEFAULT_N_SIM,
    seed: int = 0,
) -> SequentialDesign:
    """Calibrate a group-sequential design for the one-sided Welch t-test at ``looks`` runs per arm.

    Parameters
    ----------
    looks
        Runs per arm at each look, strictly increasing, the first at least 2.
    alpha
        One-sided level of the whole procedure (all looks together).
    spending
        ``"obf"``: Lan–DeMets O'Brien–Fleming α-spending; ``"hp"``: Haybittle–Peto (interim
        looks at nominal p ≤ :data:`HP_INTERIM_P`, the last at what is left of α).
    futility
        ``"beta-spending"``: non-binding futility boundaries at looks before the last, from
        O'Brien–Fleming spending of ``futility_beta`` under Δ = ``min_delta``; ``"none"``.
    futility_beta
        Chance of stopping for futility (summed over interim looks) when Δ = ``min_delta``.
    min_delta
        Smallest worthwhile Δ (accuracy fraction); the futility boundary tests ``Δ < min_delta``.
    alternatives
        Named Δs (besides ``min_delta``) whose power and expected seeds are reported, e.g. the
        expected gain.
    sd
        Seed-to-seed SD of the per-run value, the same in both arms, for the operating
        characteristics only (boundaries do not depend on it). None: ``min_delta``.
    sd_ratios
        SD ratios between the arms at which the type-I error must hold (≥ 1; 1/r is the same).
    n_sim
        Simulated paths per SD ratio; the reported type-I error and operating characteristics are
        simulated on a second, independent set of paths (seed ``[seed, 1]``).
    seed
        Seed of the simulations: the same arguments give the same design.

    Returns
    -------
    SequentialDesign
        ``boundaries`` per look, ``type_i_error`` (fresh paths, futility ignored, worst SD ratio),
        ``power`` and ``expected_seeds`` per named truth, ``method``.

    References
    ----------
    Jennison & Turnbull (2000), ch. 7 (error-spending boundaries computed by simulation for
    statistics whose joint law has no closed form) and §8.2 (non-binding futility); Lan & DeMets
    (1983); O'Brien & Fleming (1979); Haybittle (1971); Peto et al. (1976); Welch (1947).
    """
    looks = check_looks(looks)
    check_settings(alpha, spending, futility, futility_beta, n_sim)
    if not min_delta > 0:
        raise ValueError(f"min_delta must be > 0, got {min_delta}")
    ratios = tuple(sorted({max(float(r), 1.0 / float(r)) for r in sd_ratios})) or (1.0,)
    sd_value = float(sd) if sd is not None else float(min_delta)
    if not sd_value > 0:
        raise ValueError(f"sd must be > 0, got {sd}")

    # ---- calibration paths (efficacy at alpha; futility at futility_beta), then a fresh check
    cal = _simulate(looks, n_sim, [seed, 0])
    eff_p, spent, fut_p = calibrate_boundaries([_null_p(cal, looks, r) for r in ratios], looks, alpha, spending,
                                               futility, futility_beta)
    chk = _simulate(looks, n_sim, [seed, 1])
    by_ratio = {f"{r:g}": float(np.mean(run_procedure(_null_p(chk, looks, r), None, eff_p, fut_p)[1] == 1))
                for r in ratios}
    truths = {"null": 0.0, "min_delta": float(min_delta)}
    for name, d in (alternatives or {}).items():
        if float(d) not in truths.values():
            truths[name] = float(d)
    ops = _operating(chk, looks, truths, sd_value, min_delta, futility, eff_p, fut_p)
    method = (
        f"group-sequential one-sided Welch t-test at {', '.join(map(str, looks))} runs per arm; "
        + spending_text(spending, alpha) + ", boundaries on Welch's nominal p calibrated by Monte Carlo "
        f"({n_sim:,} null paths per SD ratio {', '.join(f'{r:g}' for r in ratios)}; worst ratio)"
        + (f"; non-binding futility when Δ < min_delta = {min_delta:g} is rejected, O'Brien–Fleming "
           f"spending of β = {futility_beta:g}" if futility != "none" and len(looks) > 1 else "; no futility boundary")
    )
    refs = (
        *SPENDING_REFERENCES,
        "Haybittle, J. L. (1971), Br J Radiol 44: 793-797; Peto, R. et al. (1976), Br J Cancer 34(6): 585-612",
        "Welch, B. L. (1947), Biometrika 34: 28-35",
    )
    return SequentialDesign(
        looks=looks, alpha=float(alpha), spending=spending, futility=futility,
        futility_beta=float(futility_beta), min_delta=float(min_delta), sd=sd_value,
        sd_source="given" if sd is not None else SD_ASSUMPTION, sd_ratios=ratios, n_sim=int(n_sim),
        seed=int(seed), boundaries=_boundaries(looks, spent, eff_p, fut_p), type_i_error=max(by_ratio.values()),
        type_i_error_by_sd_ratio=by_ratio, type_i_error_with_futility=next(o.power for o in ops if o.name == "null"),
        monte_carlo_se=float(math.sqrt(max(alpha * (1 - alpha), 1e-12) / n_sim)),
        operating=tuple(ops), method=method, references=refs,
    )


# ---------------------------------------------------------------------------------------------
# decisions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookStatistics:
    """Welch statistics of one look's runs: Δ = mean(target) − mean(baseline), its SE, the t of
    ``Δ > 0``, the Welch df, and the t of ``Δ < min_delta`` (``(Δ - min_delta) / SE``)."""

    n: tuple[int, int]
    delta: float
    se: float
    t: float
    df: float
    t_futility: float


def look_statistics(target: Sequence[float], baseline: Sequence[float], min_delta: float) -> LookStatistics:
    """:class:`LookStatistics` of one look from the per-run values
    (:func:`vfreport.stats.twosample.welch_t`); NaN t and df when Welch's t is undefined."""
    a, b = np.asarray(target, dtype=float), np.asarray(baseline, dtype=float)
    t, df = welch_t(a, b)
    enough = a.size > 1 and b.size > 1
    delta = float(a.mean() - b.mean()) if a.size and b.size else math.nan
    se = float(math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)) if enough else math.nan
    t_fut = (delta - min_delta) / se if math.isfinite(t) and se > 0 else math.nan
    return LookStatistics((int(a.size), int(b.size)), delta, float(se), t, df, float(t_fut))


@dataclass(frozen=True)
class LookDecision:
    """The decision at one look, with the nominal p-values and the thresholds they met."""

    look: int
    n: int
    decision: Decision
    p_value: float | None
    efficacy_p: float
    p_futility: float | None
    futility_p: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return jsonable({**asdict(self), "decision": self.decision.value})


def decide(design: SequentialDesign, look_index: int, t_stat: float, df: float | None = None,
           t_futility: float | None = None) -> LookDecision:
    """Continue, stop for efficacy, stop for futility, or (last look) final.

    Parameters
    ----------
    design
        The calibrated design.
    look_index
        0-based index of the look.
    t_stat
        Welch's t of ``target - baseline`` (positive favours the target).
    df
        Its Welch–Satterthwaite df. None: ``n - 1``, the smallest df Welch's test can have at
        ``n`` runs per arm, so efficacy is never easier than with the true df.
    t_futility
        ``(Δ - min_delta) / SE`` (:class:`LookStatistics`); None: the futility boundary is not
        checked.

    Efficacy takes precedence over futility (a Δ that is > 0 yet clearly below ``min_delta`` is
    reported as efficacy for H1; the report then reads its size against ``min_delta``). An
    undefined t (no variance, too few runs) never stops the design before the last look.

    References
    ----------
    Jennison & Turnbull (2000), §7.2 (applying error-spending boundaries at the observed looks).
    """
    if not 0 <= look_index < len(design.looks):
        raise IndexError(f"look {look_index} outside the design's {len(design.looks)} looks")
    b = design.boundaries[look_index]
    last = look_index == len(design.looks) - 1
    dof = float(df) if df is not None and math.isfinite(df) else float(b.n - 1)
    p = float(st.t.sf(t_stat, dof)) if t_stat is not None and math.isfinite(t_stat) else None
    pf = (float(st.t.cdf(t_futility, dof))
          if t_futility is not None and math.isfinite(t_futility) and b.futility_p is not None else None)
    if p is not None and p <= b.efficacy_p:
        dec, why = Decision.EFFICACY, f"nominal one-sided p {p:.3g} ≤ efficacy boundary {b.efficacy_p:.3g}"
    elif pf is not None and pf <= b.futility_p:
        dec, why = Decision.FUTILITY, (f"Δ < min_delta = {design.min_delta:g}: nominal p {pf:.3g} ≤ futility "
                                       f"boundary {b.futility_p:.3g}")
    elif last:
        dec = Decision.FINAL
        why = (f"last look: nominal p {p:.3g} > efficacy boundary {b.efficacy_p:.3g}" if p is not None
               else "last look: Welch's t is undefined (no variance)")
    else:
        dec = Decision.CONTINUE
        why = ("Welch's t is undefined (no variance)" if p is None
               else f"nominal p {p:.3g} between the boundaries")
    return LookDecision(look_index + 1, b.n, dec, p, b.efficacy_p, pf, b.futility_p, why)


def decide_runs(design: SequentialDesign, look_index: int, target: Sequence[float],
                baseline: Sequence[float]) -> tuple[LookStatistics, LookDecision]:
    """:func:`look_statistics` then :func:`decide` from the per-run values of one look."""
    s = look_statistics(target, baseline, design.min_delta)
    return s, decide(design, look_index, s.t, s.df, s.t_futility)


def repeated_lower_bound(design: SequentialDesign, look_index: int, stats: LookStatistics) -> float | None:
    """One-sided repeated confidence bound for Δ at a look: ``Δ - t_{1-a_k}(df) · SE`` with
    ``a_k`` the look's efficacy threshold. Over all looks together it holds with probability at
    least ``1 - α`` (it is the efficacy boundary inverted), so it may be read at any look,
    whether or not the design stopped there; it is > 0 exactly when the look crossed for efficacy.

    References
    ----------
    Jennison & Turnbull (2000), ch. 9 (repeated confidence intervals).
    """
    a = design.boundaries[look_index].efficacy_p
    if not (math.isfinite(stats.se) and math.isfinite(stats.df)) or a <= 0:
        return None
    return float(stats.delta - st.t.isf(a, stats.df) * stats.se)


__all__ = [
    "DEFAULT_LOOKS", "DEFAULT_N_SIM", "Boundary", "Decision", "LookDecision", "LookStatistics", "OperatingPoint",
    "SequentialDesign", "check_looks", "decide", "decide_runs", "design_from_dict", "design_sequential",
    "look_statistics", "obf_spending", "parse_looks", "repeated_lower_bound",
]
