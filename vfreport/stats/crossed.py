"""ΔDER between two arms whose runs all score the same meetings: a crossed design (docs/statistics-der.md).

Runs are nested in arms, meetings are crossed with arms. For arm ``a`` (target ``t`` or other
``o``), run ``i`` and meeting ``j`` the model is

    Y_aij = μ_a + R_ai + M_j + (AM)_aj + E_aij,

with independent normal run effects ``R_ai`` (variance ``σ²_run,a``, per arm), meeting effects
``M_j`` (``σ²_meeting``), arm × meeting interactions ``(AM)_aj`` (``σ²_am``) and residuals
``E_aij`` (run × meeting within the arm, ``σ²_res,a``). The estimate is the difference of the
arms' corpus DERs, ``Δ̂ = Σ_j w_j (Ȳ_t·j − Ȳ_o·j)`` with meeting weights ``w_j`` summing to 1. The
meeting main effect cancels in Δ̂; the run effects and the arm × meeting interaction do not:

    Var(Δ̂) = σ²_run,t / r_t + σ²_run,o / r_o + (2σ²_am + σ²_res,t / r_t + σ²_res,o / r_o) / m_eff,

``m_eff = 1 / Σ w_j²`` (= m with equal weights). Closed-form method of moments on the two
``runs × meetings`` tables (the two-way random-effects ANOVA; Searle, Casella & McCulloch 1992,
ch. 4) estimates it without bias from three kinds of mean square, independent under the model:

- ``S²_row,a``: the variance over arm ``a``'s runs of their corpus DERs (``r_a − 1`` df),
  expectation ``σ²_run,a + σ²_res,a / m_eff``;
- ``MS_res,a``: the arm's run × meeting interaction mean square (``(r_a − 1)(m − 1)`` df),
  expectation ``σ²_res,a``;
- ``S²_D``: the variance over meetings of ``D_j = Ȳ_t·j − Ȳ_o·j`` (``m − 1`` df), expectation
  ``2σ²_am + σ²_res,t / r_t + σ²_res,o / r_o``;

    V̂ = Σ_a max(0, S²_row,a − MS_res,a / m_eff) / r_a + S²_D / m_eff.

An arm's run term is truncated at 0 (its run variance estimated as 0, the boundary a REML fit
would also take); a truncated term leaves V̂ and its df. The t reference takes the Satterthwaite
(1946) df of the linear combination of mean squares, ``V̂² / Σ_k (c_k MS_k)² / ν_k``. On balanced
data with equal runs per arm and positive components this V̂ equals the REML variance of the arm
effect in ``DER ~ arm + (1 | run) + (1 | meeting) + (1 | arm:meeting)`` (tests check it against
statsmodels' MixedLM, and check its type-I error and coverage by simulation).

A model-free baseline (``other`` with one row) has no run variance and no residual: its terms
are 0 by construction, and its meeting-to-meeting deviations are counted in ``S²_D``.

Weights: pyannote.metrics' corpus DER is total error over total reference speech, i.e. the
per-meeting DERs weighted by each meeting's scored reference speech; pass those durations as
``weights`` to estimate the difference of corpus DERs. The meeting-level variance terms then
count ``m_eff`` meetings instead of ``m`` (unequal weights spend information); ``S²_D`` and
``MS_res`` stay unweighted (the model's interaction and residual variances do not depend on a
meeting's length), so their df are unchanged. ``weights=None`` weights meetings equally.

References
----------
Satterthwaite, F. E. (1946), "An approximate distribution of estimates of variance components",
Biometrics Bulletin 2(6): 110-114. Baayen, R. H., Davidson, D. J. & Bates, D. M. (2008),
"Mixed-effects modeling with crossed random effects for subjects and items", Journal of Memory
and Language 59(4): 390-412. Searle, S. R., Casella, G. & McCulloch, C. E. (1992), *Variance
Components*, Wiley (ch. 4: ANOVA estimation in balanced data; §4.8 Satterthwaite).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from vfreport.stats.results import CONFIDENCE

ALPHA = 0.05
METHOD = (
    "ΔDER = difference of the arms' corpus DERs on the same meetings; crossed design (runs nested in "
    "arms, meetings crossed with arms): closed-form two-way random-effects ANOVA (method of moments: run, "
    "meeting, arm × meeting and residual variance), one-sided t with Satterthwaite df"
)
COMPONENTS = ("run_target", "run_other", "meeting", "arm_x_meeting", "residual_target", "residual_other")
"""Keys of :attr:`CrossedComparison.components` (variances, DER fraction squared)."""


@dataclass(frozen=True)
class CrossedComparison:
    """ΔDER of one comparison (see the module docstring). DER fractions (0–1); negative Δ = target better.

    ``upper_bound`` / ``lower_bound`` are one-sided ``1 − alpha`` bounds (a gain of at least ``g``
    is shown when ``upper_bound < −g``; a gain of ``g`` is excluded when ``lower_bound > −g``);
    ``p_value`` is one-sided for H0 ``Δ ≥ 0`` against ``Δ < 0`` (target lower DER). NaN ``se``,
    ``df``, bounds and ``p_value`` when Var(Δ̂) cannot be estimated (fewer than 2 meetings, or
    fewer than 2 target runs); ``se = 0`` gives NaN statistic and p as well.
    """

    estimate: float
    se: float
    df: float
    ci: tuple[float, float]
    upper_bound: float
    lower_bound: float
    p_value: float
    statistic: float
    n_runs: tuple[int, int]
    n_meetings: int
    components: dict[str, float]
    method: str
    confidence: float = CONFIDENCE
    alpha: float = ALPHA
    effective_meetings: float = math.nan


@dataclass(frozen=True)
class CrossedBatch:
    """:func:`compare_crossed_batch` on ``B`` tables at once: arrays of shape ``(B,)``."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    components: dict[str, np.ndarray]
    effective_meetings: float

    @property
    def statistic(self) -> np.ndarray:
        """t = Δ̂ / SE (NaN where SE is 0 or undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.se > 0, self.estimate / self.se, np.nan)

    def p_value(self, margin: float = 0.0) -> np.ndarray:
        """One-sided p of H0 ``Δ ≥ −margin`` against ``Δ < −margin`` (margin 0: target lower DER)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(self.se > 0, (self.estimate + margin) / self.se, np.nan)
        return st.t.cdf(t, self.df)

    def upper_bound(self, alpha: float = ALPHA) -> np.ndarray:
        return self.estimate + st.t.isf(alpha, self.df) * self.se

    def lower_bound(self, alpha: float = ALPHA) -> np.ndarray:
        return self.estimate - st.t.isf(alpha, self.df) * self.se


def _weights(weights: np.ndarray | None, m: int) -> np.ndarray:
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, dtype=float)
    if w.shape != (m,):
        raise ValueError(f"weights must have one value per meeting ({m}), got shape {w.shape}")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        raise ValueError("weights must be finite, non-negative and not all 0")
    return w / w.sum()


def _arm(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per arm ``y[B, r, m]``: column means, corpus mean, S²_row and MS_res (the last two NaN when r < 2)."""
    b, r, m = y.shape
    col = y.mean(axis=1)
    corpus = col @ w
    if r < 2 or m < 2:
        nan = np.full(b, np.nan)
        return col, corpus, nan, nan
    row_w = y @ w  # (B, r): each run's corpus DER
    s2_row = row_w.var(axis=1, ddof=1)
    resid = y - y.mean(axis=2, keepdims=True) - col[:, None, :] + y.mean(axis=(1, 2))[:, None, None]
    ms_res = np.einsum("bij,bij->b", resid, resid) / ((r - 1) * (m - 1))
    return col, corpus, s2_row, ms_res


def variance_of_difference(s2_row_t: np.ndarray, ms_res_t: np.ndarray, r_t: int, s2_row_o: np.ndarray,
                           ms_res_o: np.ndarray, r_o: int, s2_d: np.ndarray, m: int,
                           m_eff: float) -> tuple[np.ndarray, np.ndarray]:
    """V̂ and its Satterthwaite df from the mean squares (module docstring): the arms' run terms
    ``(S²_row − MS_res / m_eff) / r`` summed and truncated at 0 (a truncated sum leaves V̂ and
    the df), plus ``S²_D / m_eff``. An arm with ``r < 2`` (a model-free baseline) adds nothing."""
    run_term = np.zeros_like(s2_d)
    run_denom = np.zeros_like(s2_d)
    for s2_row, ms_res, r in ((s2_row_t, ms_res_t, r_t), (s2_row_o, ms_res_o, r_o)):
        if r < 2:
            continue
        run_term = run_term + (s2_row - ms_res / m_eff) / r
        run_denom = run_denom + (s2_row / r) ** 2 / (r - 1) + (ms_res / (m_eff * r)) ** 2 / ((r - 1) * (m - 1))
    keep = run_term > 0
    v = s2_d / m_eff + np.where(keep, run_term, 0.0)
    denom = (s2_d / m_eff) ** 2 / (m - 1) + np.where(keep, run_denom, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denom > 0, v * v / denom, np.nan)
    return v, df


def compare_crossed_batch(target: np.ndarray, other: np.ndarray, weights: np.ndarray | None = None) -> CrossedBatch:
    """:func:`compare_crossed` vectorised over a leading batch axis: ``target[B, r_t, m]``,
    ``other[B, r_o, m]`` (``r_o = 1``: a model-free baseline), shared ``weights[m]``. Returns the
    estimate, SE, Satterthwaite df and variance components per table (module docstring)."""
    t = np.asarray(target, dtype=float)
    o = np.asarray(other, dtype=float)
    if t.ndim != 3 or o.ndim != 3:
        raise ValueError(f"batched tables must be 3-D (batch, runs, meetings), got {t.shape} and {o.shape}")
    if t.shape[0] != o.shape[0] or t.shape[2] != o.shape[2]:
        raise ValueError(f"target {t.shape} and other {o.shape} must share the batch and meeting axes")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(o))):
        raise ValueError("DER tables must not hold NaN or infinite values (drop the incomplete run)")
    b, r_t, m = t.shape
    r_o = o.shape[1]
    if r_t < 1 or r_o < 1 or m < 1:
        raise ValueError(f"each arm needs at least one run and one meeting, got {t.shape} and {o.shape}")
    w = _weights(weights, m)
    m_eff = float(1.0 / np.sum(w * w))
    col_t, mean_t, s2_row_t, ms_res_t = _arm(t, w)
    col_o, mean_o, s2_row_o, ms_res_o = _arm(o, w)
    estimate = mean_t - mean_o
    nan = np.full(b, np.nan)
    if m < 2 or r_t < 2:
        comps = {k: nan for k in COMPONENTS}
        return CrossedBatch(estimate, nan.copy(), nan.copy(), comps, m_eff)

    d = col_t - col_o
    s2_d = d.var(axis=1, ddof=1)
    v, df = variance_of_difference(s2_row_t, ms_res_t, r_t, s2_row_o, ms_res_o, r_o, s2_d, m, m_eff)
    se = np.sqrt(v)
    comps_run = [np.maximum(s2_row - ms_res / m_eff, 0.0) if r >= 2 else np.zeros(b)
                 for s2_row, ms_res, r in ((s2_row_t, ms_res_t, r_t), (s2_row_o, ms_res_o, r_o))]

    res_t = ms_res_t
    res_o = ms_res_o if r_o >= 2 else np.zeros(b)
    am = np.maximum(0.0, (s2_d - res_t / r_t - res_o / r_o) / 2.0)
    half = (col_t + col_o) / 2.0
    meeting = np.maximum(0.0, half.var(axis=1, ddof=1) - s2_d / 4.0)
    comps = {"run_target": comps_run[0], "run_other": comps_run[1], "meeting": meeting,
             "arm_x_meeting": am, "residual_target": res_t, "residual_other": res_o}
    return CrossedBatch(estimate, se, df, comps, m_eff)


def compare_crossed(
    target: np.ndarray,
    other: np.ndarray,
    weights: np.ndarray | None = None,
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
) -> CrossedComparison:
    """ΔDER = corpus DER(target) − corpus DER(other) on the same meetings, with its SE, Satterthwaite
    df, two-sided ``confidence`` interval, one-sided ``1 − alpha`` bounds and one-sided p.

    Parameters
    ----------
    target
        DER fractions, runs × meetings (every run of the target arm on every meeting).
    other
        The other arm's runs × meetings, same meetings in the same column order; one row is a
        model-free baseline (deterministic: no run variance, no residual). An arm of trained
        models with a single run cannot be compared this way (its run variance is unknown).
    weights
        Per-meeting scored reference speech (pyannote's corpus-DER weighting); None: equal.
    confidence, alpha
        Two-sided interval level; one-sided level of the bounds and of the test.

    Method and references: the module docstring (two-way random-effects ANOVA by the method of
    moments, Searle, Casella & McCulloch 1992; Satterthwaite 1946 df; the crossed design of
    Baayen, Davidson & Bates 2008).
    """
    t = np.asarray(target, dtype=float)
    o = np.asarray(other, dtype=float)
    if t.ndim != 2 or o.ndim != 2:
        raise ValueError(f"DER tables must be 2-D (runs × meetings), got shapes {t.shape} and {o.shape}")
    if t.shape[1] != o.shape[1]:
        raise ValueError(f"target and other must score the same meetings, got {t.shape[1]} and {o.shape[1]} columns")
    if not 0 < confidence < 1 or not 0 < alpha < 0.5:
        raise ValueError(f"confidence must be in (0, 1) and alpha in (0, 0.5), got {confidence} and {alpha}")
    res = compare_crossed_batch(t[None], o[None], weights)
    est, se, df = float(res.estimate[0]), float(res.se[0]), float(res.df[0])
    ok = math.isfinite(se) and se > 0 and math.isfinite(df)
    half = float(st.t.isf((1 - confidence) / 2, df)) * se if ok else math.nan
    one = float(st.t.isf(alpha, df)) * se if ok else math.nan
    stat = est / se if ok else math.nan
    weighting = "meetings weighted by scored reference speech" if weights is not None else "meetings weighted equally"
    baseline = "; other = model-free baseline (no run variance)" if o.shape[0] == 1 else ""
    return CrossedComparison(
        estimate=est, se=se, df=df if ok else math.nan,
        ci=(est - half, est + half), upper_bound=est + one, lower_bound=est - one,
        p_value=float(st.t.cdf(stat, df)) if ok else math.nan, statistic=stat,
        n_runs=(int(t.shape[0]), int(o.shape[0])), n_meetings=int(t.shape[1]),
        components={k: float(v[0]) for k, v in res.components.items()},
        method=f"{METHOD}; {weighting} (effective meetings {res.effective_meetings:.3g}){baseline}",
        confidence=float(confidence), alpha=float(alpha), effective_meetings=res.effective_meetings,
    )


# ---------------------------------------------------------------------------------------------
# simulation from variance components (calibration, power, sequential designs)
# ---------------------------------------------------------------------------------------------


def component_sds(components: dict[str, float]) -> dict[str, float]:
    """SDs of the model's terms from variance components keyed as :data:`COMPONENTS`; ``run`` and
    ``residual`` (one value for both arms) are accepted too. Missing terms are 0."""
    out = {}
    for key in COMPONENTS:
        pooled = key.split("_")[0] if key.startswith(("run_", "residual_")) else key
        value = components.get(key, components.get(pooled, 0.0))
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"variance component {key!r} must be finite and >= 0, got {value}")
        out[key] = math.sqrt(value)
    return out


def simulate_tables(components: dict[str, float], runs: tuple[int, int], n_meetings: int, n_sim: int,
                    delta: float = 0.0, seed: int | tuple[int, ...] = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_sim`` pairs of DER tables ``target[n_sim, r_t, m]``, ``other[n_sim, r_o, m]`` drawn from
    the module's model with the given variance components and true ΔDER ``delta``. ``r_o = 1``:
    a model-free baseline (no run effect, no residual). Values are centred at 0 (Δ̂ does not
    depend on the level)."""
    sd = component_sds(components)
    r_t, r_o = runs
    rng = np.random.default_rng(seed)
    m = int(n_meetings)
    meeting = rng.normal(0.0, sd["meeting"], (n_sim, 1, m))
    target = (delta + meeting + rng.normal(0.0, sd["arm_x_meeting"], (n_sim, 1, m))
              + rng.normal(0.0, sd["run_target"], (n_sim, r_t, 1))
              + rng.normal(0.0, sd["residual_target"], (n_sim, r_t, m)))
    other = meeting + rng.normal(0.0, sd["arm_x_meeting"], (n_sim, 1, m))
    if r_o > 1:
        other = (other + rng.normal(0.0, sd["run_other"], (n_sim, r_o, 1))
                 + rng.normal(0.0, sd["residual_other"], (n_sim, r_o, m)))
    return target, other


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Simulated behaviour of :func:`compare_crossed` at one design: type-I error of the one-sided
    test (true Δ = 0), coverage of the two-sided interval (true Δ = 0), power when the target's
    DER is lower by ``effect``, and the Monte-Carlo SE of a rate near ``alpha``."""

    runs: tuple[int, int]
    n_meetings: int
    effect: float
    type_i: float
    coverage: float
    power: float
    mc_se: float
    n_sim: int


def operating_characteristics(components: dict[str, float], runs: tuple[int, int], n_meetings: int,
                              effect: float = 0.05, alpha: float = ALPHA, confidence: float = CONFIDENCE,
                              weights: np.ndarray | None = None, n_sim: int = 20_000,
                              seed: int = 0) -> OperatingCharacteristics:
    """Type-I error, coverage and power of :func:`compare_crossed_batch` on ``n_sim`` tables per truth
    simulated by :func:`simulate_tables` (fixed ``seed``)."""
    null = compare_crossed_batch(*simulate_tables(components, runs, n_meetings, n_sim, 0.0, (seed, 0)), weights)
    alt = compare_crossed_batch(*simulate_tables(components, runs, n_meetings, n_sim, -effect, (seed, 1)), weights)
    half = st.t.isf((1 - confidence) / 2, null.df) * null.se
    return OperatingCharacteristics(
        runs=(int(runs[0]), int(runs[1])), n_meetings=int(n_meetings), effect=float(effect),
        type_i=float(np.mean(null.p_value() <= alpha)),
        coverage=float(np.mean(np.abs(null.estimate) <= half)),
        power=float(np.mean(alt.p_value() <= alpha)),
        mc_se=float(math.sqrt(alpha * (1 - alpha) / n_sim)), n_sim=int(n_sim),
    )


__all__ = [
    "COMPONENTS", "CrossedBatch", "CrossedComparison", "OperatingCharacteristics", "compare_crossed",
    "compare_crossed_batch", "component_sds", "operating_characteristics", "simulate_tables",
    "variance_of_difference",
]
