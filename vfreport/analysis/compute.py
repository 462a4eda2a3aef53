"""Every statistic and verdict of an experiment from its runs' metrics: a pure function.

:func:`compute` takes, per arm, the metrics of its included runs (:class:`ArmInput`) and returns
an :class:`Analysis` (typed); :mod:`vfreport.analysis.results` reads the files in and assembles
results.json from it. Extra scenario conditions (:class:`~vfreport.analysis.verdicts.Gate`) come
in through ``gates``: a module that evaluates, say, the target's lift over its audio-free baseline
or a DER hypothesis builds its gate and passes it; the data check is added here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from vfreport.analysis import hypotheses as H
from vfreport.analysis import verdicts as V
from vfreport.analysis.lift import GATE_NAME as LIFT_GATE
from vfreport.analysis.metrics import EARLY_EPOCHS, UNBIASED_SOURCES, RunMetrics
from vfreport.config import ExperimentConfig
from vfreport.stats.intervals import N_RESAMPLES, Summary, bootstrap_mean_diff_ci, summarize
from vfreport.stats.power import PowerPlan, power_plan
from vfreport.stats.results import Interval
from vfreport.stats.twosample import welch_t_interval

ACCURACY = (0.0, 1.0)
METRICS: dict[str, tuple[float, float] | None] = {
    "unbiased_acc": ACCURACY,
    "best_val_acc": ACCURACY,
    "final_val_acc": ACCURACY,
    "test_acc": ACCURACY,
    "train_acc_epoch10": ACCURACY,
    "val_acc_half_range": None,
    "val_acc_jump_std": None,
    "val_acc_noise_sd": None,
    "val_acc_noise_half_range": None,
}
"""Per-run metrics summarised per arm and compared (target − baseline), with the range each can
take (accuracy intervals are clipped to it)."""
WINDOW_KEYS = ("train_windows", "val_windows", "test_windows")


@dataclass(frozen=True)
class ArmInput:
    """One arm: its included runs' metrics (and seeds, same order), the windows it asked for per
    split, what each run reported receiving (status.json "data"), its position-only baseline."""

    name: str
    display_name: str
    metrics: tuple[RunMetrics, ...]
    seeds: tuple[int, ...] = ()
    requested: Mapping[str, int] = field(default_factory=dict)
    received: tuple[Mapping[str, Any], ...] = ()
    position_baseline: float | None = None


@dataclass(frozen=True)
class ArmResult:
    summaries: dict[str, Summary]
    readiness: str | None
    stability: str | None
    data_flags: tuple[str, ...]
    unbiased_sources: tuple[str, ...]


@dataclass(frozen=True)
class Delta:
    """target − baseline of one metric: the Welch t-interval (primary) and the percentile
    bootstrap (secondary, unreliable below 8 runs per arm)."""

    value: float | None
    ci: Interval | None
    bootstrap: Interval | None


@dataclass(frozen=True)
class Analysis:
    basis: str
    arms: dict[str, ArmResult]
    delta: dict[str, Delta]
    hypotheses: dict[str, V.HypothesisOutcome]
    power: PowerPlan
    scenario: V.Scenario
    position_caveat: str | None


def _values(ms: Sequence[RunMetrics], key: str) -> list[float]:
    return [v for v in (getattr(m, key) for m in ms) if v is not None]


def basis_text(sources: Sequence[str]) -> str:
    """What the selection-unbiased accuracy is, in words, for a set of runs."""
    kinds = set(sources)
    if kinds == {"test"}:
        return "test acc (best epoch chosen on validation)"
    if kinds == {"final-val"}:
        return "final-epoch val acc (no test split)"
    return "selection-unbiased acc (test where the run has it, else final-epoch val)"


def data_flags(arm: ArmInput) -> tuple[str, ...]:
    """Sentences for each run that received fewer than
    :data:`~vfreport.analysis.verdicts.MIN_DATA_FRACTION` of the windows its arm asked for."""
    out = []
    for seed, got in zip(arm.seeds or range(len(arm.received)), arm.received, strict=False):
        requested = {k: got.get(f"{k}_requested", arm.requested.get(k)) for k in WINDOW_KEYS}
        short = V.data_shortfall(requested, got)
        if short:
            out.append(f"seed {seed}: {'; '.join(short)}")
    return tuple(out)


def _delta(t: Sequence[float], b: Sequence[float], n_resamples: int, seed: int) -> Delta:
    if not t or not b:
        return Delta(None, None, None)
    return Delta(float(np.mean(t) - np.mean(b)), welch_t_interval(t, b),
                 bootstrap_mean_diff_ci(t, b, n_resamples, seed))


def compute(
    cfg: ExperimentConfig,
    arms: Mapping[str, ArmInput],
    gates: Sequence[V.Gate] = (),
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Analysis:
    """Summaries, Δs, H1–H3 with Holm, power, readiness, stability and the scenario.

    ``arms`` maps every configured arm name to its :class:`ArmInput`. ``gates`` are extra
    conditions for the best and realistic scenarios (see :mod:`vfreport.analysis.verdicts`).
    Bootstrap draws are seeded by ``seed``: the same inputs give the same numbers.
    """
    th = cfg.thresholds
    tgt, base = arms[cfg.target.name], arms[cfg.baseline.name]
    basis = basis_text([m.unbiased_source for a in (tgt, base) for m in a.metrics])

    arm_out: dict[str, ArmResult] = {}
    for name, a in arms.items():
        sums = {k: summarize([getattr(m, k) for m in a.metrics], bounds) for k, bounds in METRICS.items()}
        flags = data_flags(a)
        u = sums["unbiased_acc"]
        arm_out[name] = ArmResult(
            summaries=sums,
            readiness=V.production_readiness(u.mean, u.ci95, th, insufficient=bool(flags)),
            stability=V.stability(sums["val_acc_noise_half_range"].mean, th),
            data_flags=flags,
            unbiased_sources=tuple(m.unbiased_source for m in a.metrics),
        )

    delta = {k: _delta(_values(tgt.metrics, k), _values(base.metrics, k), n_resamples, seed + i)
             for i, k in enumerate(METRICS)}

    full_t = [m for m in tgt.metrics if m.window_epochs >= EARLY_EPOCHS]
    full_b = [m for m in base.metrics if m.window_epochs >= EARLY_EPOCHS]
    tests = {
        "H1": H.h1_test(_values(tgt.metrics, "unbiased_acc"), _values(base.metrics, "unbiased_acc"), n_resamples,
                        seed),
        "H2": H.h2_test(_values(full_t, "val_acc_noise_sd"), _values(full_b, "val_acc_noise_sd"), th.alpha, seed),
        "H3": H.h3_test(_values(tgt.metrics, "train_acc_epoch10"), th.train_acc_epoch10),
    }
    short = [a.display_name for a, full in ((tgt, full_t), (base, full_b)) if a.metrics and not full]
    if short:
        tests["H2"] = replace(tests["H2"], reason=f"no completed {' or '.join(short)} run has {EARLY_EPOCHS} epochs "
                              f"(variability over epochs 1–{EARLY_EPOCHS} cannot be compared)")
    p_holm = H.adjust(tests)
    st, sb = arm_out[tgt.name].summaries, arm_out[base.name].summaries
    noise_t = summarize(_values(full_t, "val_acc_noise_half_range")).mean
    noise_b = summarize(_values(full_b, "val_acc_noise_half_range")).mean
    verdicts = {
        "H1": V.h1_verdict(tests["H1"], p_holm["H1"], th, tgt.display_name, base.display_name, st["unbiased_acc"],
                           sb["unbiased_acc"], basis),
        "H2": V.h2_verdict(tests["H2"], p_holm["H2"], th, tgt.display_name, base.display_name, noise_t, noise_b),
        "H3": V.h3_verdict(tests["H3"], p_holm["H3"], th, tgt.display_name),
    }
    outcomes = {k: V.HypothesisOutcome(tests[k], p_holm[k], verdicts[k]) for k in tests}

    effects = {"min_delta": th.min_delta, **{f"expected_gain_{i}": g for i, g in enumerate(th.expected_gain)}}
    effects = dict(sorted({v: k for k, v in effects.items()}.items()))  # distinct Δs, smallest first
    power = power_plan(_values(tgt.metrics, "unbiased_acc"), _values(base.metrics, "unbiased_acc"),
                       {name: d for d, name in effects.items()}, alpha=th.alpha, seed=seed)

    all_gates = list(gates)
    short = [f"{a.display_name} got too few windows ({'; '.join(arm_out[a.name].data_flags)})"
             for a in (tgt, base) if arm_out[a.name].data_flags]
    if short:
        all_gates.append(V.Gate("data", False, " and ".join(short)))
    scen = V.scenario(st["unbiased_acc"], sb["unbiased_acc"], outcomes, th, tgt.display_name, base.display_name,
                      basis, power, all_gates)
    # the lift gate (accuracy minus the audio-free baseline under the run's scoring) supersedes the
    # older position-only caveat: one baseline per report, not two that differ slightly
    measured_lift = any(g.name == LIFT_GATE and g.passed is not None for g in gates)
    caveat = None if measured_lift else V.position_caveat(st["unbiased_acc"].mean, tgt.position_baseline, th,
                                                          tgt.display_name)
    return Analysis(basis, arm_out, delta, outcomes, power, scen, caveat)


__all__ = ["ACCURACY", "METRICS", "UNBIASED_SOURCES", "Analysis", "ArmInput", "ArmResult", "Delta", "compute"]
