"""Every statistic and verdict of an experiment from its runs' metrics: a pure function.

:func:`compute` takes, per arm, the metrics of its included runs (:class:`ArmInput`) and the DER
evaluation entry, and returns an :class:`Analysis` (typed); :mod:`vfreport.analysis.results` reads
the files in and assembles results.json from it. The testing order (docs/verdicts.md): the primary
endpoint first at full α (ΔDER on the common yardstick, :mod:`vfreport.analysis.primary`; H1 when
there is no evaluation), then the secondary family H1–H3 (H2–H3) with Holm within it. Extra
scenario conditions (:class:`~vfreport.analysis.verdicts.Gate`) come in through ``gates`` (the
target's lift over its audio-free baseline); the DER gate (the target beats both model-free
baselines) and the data check are added here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from vfreport import format as F
from vfreport.analysis import evaluation as E
from vfreport.analysis import hypotheses as H
from vfreport.analysis import primary as P
from vfreport.analysis import verdicts as V
from vfreport.analysis.lift import GATE_NAME as LIFT_GATE
from vfreport.analysis.metrics import EARLY_EPOCHS, NOISE_FLOOR, UNBIASED_SOURCES, RunMetrics, arm_split_error
from vfreport.config import ExperimentConfig
from vfreport.stats.intervals import Summary, arm_accuracy_interval, bootstrap_mean_diff_ci, summarize
from vfreport.stats.outliers import flag_runs, pooled_robust_sd, sensitivity
from vfreport.stats.power import PowerPlan, der_runs_needed, der_runs_no_gain, holm_alpha, power_plan
from vfreport.stats.results import N_RESAMPLES, Interval, TestResult
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
DER_MAX_RUNS = 50
"""Largest number of runs per arm the ΔDER advice searches (beyond it: "more than 50")."""


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
    readiness: V.Readiness
    stability: str | None
    data_flags: tuple[str, ...]
    unbiased_sources: tuple[str, ...]
    der_vs_baselines: str = ""


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
    primary: V.Primary
    yardstick: P.YardstickStats | None
    family: tuple[str, ...]
    runs_advice: str
    robustness: Robustness
    real: P.YardstickStats | None = None


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


def different_tasks(target: ArmInput, baseline: ArmInput, strategies: Mapping[str, str]) -> str:
    """H1's caveat when the arms use different label strategies (their accuracies are different tasks)."""
    t, b = strategies.get(target.name, ""), strategies.get(baseline.name, "")
    if not t or not b or t == b:
        return ""
    return (f"The arms use different label strategies ({target.display_name}: {t}; {baseline.display_name}: {b}), "
            "so these accuracies measure different tasks; each arm's lift over its audio-free baseline, and DER on "
            "the same meetings, are the comparable quantities.")


def _h2_upper_bound(target: Sequence[float], baseline: Sequence[float], alpha: float) -> float | None:
    """H2's one-sided (1 − α) upper bound of the noise SD ratio: the exponentiated upper end of the
    1 − 2α Welch interval of the mean log difference (the interval H2's estimate uses)."""
    logs = [np.log(np.maximum(np.asarray(v, dtype=float), NOISE_FLOOR)) for v in (target, baseline)]
    ci = welch_t_interval(*logs, 1 - 2 * alpha) if min(len(x) for x in logs) >= 2 else None
    return float(np.exp(ci.high)) if ci is not None else None


def _with_bounds(tests: dict[str, Any], h2_bound: float | None, alpha: float, tasks: str) -> dict[str, Any]:
    """The tests with the one-sided (1 − α) bound printed beside each in ``extra["one_sided_bound"]``:
    H1's lower bound of Δ (Welch), H2's upper bound of the noise SD ratio, H3's lower bound of the
    mean (Student t); and H1's ``extra["different_tasks"]`` sentence."""
    bounds = {"H1": tests["H1"].bounds.lower if tests["H1"].bounds else None, "H2": h2_bound,
              "H3": tests["H3"].bounds.lower if tests["H3"].bounds else None}
    out = {}
    for k, t in tests.items():
        extra = {**t.extra, "one_sided_bound": bounds[k] if t.testable else None, "one_sided_level": 1 - alpha}
        if k == "H1" and tasks:
            extra["different_tasks"] = tasks
        out[k] = replace(t, extra=extra)
    return out


def _arm_results(cfg: ExperimentConfig, arms: Mapping[str, ArmInput], ys: P.YardstickStats | None,
                 real: P.YardstickStats | None, evaluation: Mapping[str, Any] | None) -> dict[str, ArmResult]:
    """Per arm: summaries, production readiness (reading the real recordings' DER first), stability
    and data flags."""
    th = cfg.thresholds
    sources = {a.name: a.source for a in cfg.arms.values()}
    real_ev = (evaluation or {}).get("real")
    judge, judge_ev = (real, real_ev) if real is not None else (ys, evaluation)  # readiness reads real data first
    arm_out: dict[str, ArmResult] = {}
    for name, a in arms.items():
        sums = {k: summarize([getattr(m, k) for m in a.metrics], bounds) for k, bounds in METRICS.items()}
        sums["unbiased_acc"] = with_split_error(sums["unbiased_acc"], a.metrics, th.alpha)
        flags = data_flags(a)
        u = sums["unbiased_acc"]
        beats, der_text = (P.beats_baselines(judge.vs_baselines.get(name, {}), a.display_name) if judge
                           else (None, ""))
        if real is not None and der_text:
            der_text = f"on the {len(real.uris)} real recordings, {der_text}"
        der_ci = ((judge_ev or {}).get("summary") or {}).get(name, {}).get("der", {}).get("ci95") if judge else None
        arm_out[name] = ArmResult(
            summaries=sums,
            readiness=V.production_readiness(u.mean, u.ci95, th, insufficient=bool(flags),
                                             synthetic=sources.get(name) == "synthetic" and real is None,
                                             der_beats_baselines=beats, der_reason=der_text, der_ci=der_ci),
            stability=V.stability(sums["val_acc_noise_half_range"].mean, th),
            data_flags=flags,
            unbiased_sources=tuple(m.unbiased_source for m in a.metrics),
            der_vs_baselines=der_text,
        )
    return arm_out


def _full_runs(a: ArmInput) -> list[RunMetrics]:
    """The arm's runs that trained at least :data:`EARLY_EPOCHS` epochs (H2 compares their early noise)."""
    return [m for m in a.metrics if m.window_epochs >= EARLY_EPOCHS]


def _tests(cfg: ExperimentConfig, tgt: ArmInput, base: ArmInput, n_resamples: int,
           seed: int) -> tuple[dict[str, TestResult], str]:
    """H1–H3 over runs, with their one-sided bounds, and the caveat when the arms train different tasks."""
    th = cfg.thresholds
    full_t, full_b = _full_runs(tgt), _full_runs(base)
    acc_t, acc_b = _values(tgt.metrics, "unbiased_acc"), _values(base.metrics, "unbiased_acc")
    noise_sd_t, noise_sd_b = _values(full_t, "val_acc_noise_sd"), _values(full_b, "val_acc_noise_sd")
    tests = {
        "H1": H.h1_test(acc_t, acc_b, n_resamples, seed, th.alpha),
        "H2": H.h2_test(noise_sd_t, noise_sd_b, th.alpha, seed),
        "H3": H.h3_test(_values(tgt.metrics, "train_acc_epoch10"), th.train_acc_epoch10, th.alpha),
    }
    short = [a.display_name for a, full in ((tgt, full_t), (base, full_b)) if a.metrics and not full]
    if short:
        tests["H2"] = replace(tests["H2"], reason=f"no completed {' or '.join(short)} run has {EARLY_EPOCHS} epochs "
                              f"(variability over epochs 1–{EARLY_EPOCHS} cannot be compared)")
    tasks = different_tasks(tgt, base, {a.name: a.label_strategy for a in cfg.arms.values()})
    return _with_bounds(tests, _h2_upper_bound(noise_sd_t, noise_sd_b, th.alpha), th.alpha, tasks), tasks


def _primary(cfg: ExperimentConfig, ys: P.YardstickStats | None, h1: TestResult, basis: str,
             evaluation: Mapping[str, Any] | None) -> tuple[V.Primary, str]:
    """The primary endpoint (ΔDER when the evaluation compared the arms, else H1) and, for H1, why
    ΔDER is missing."""
    th = cfg.thresholds
    sources = {a.name: a.source for a in cfg.arms.values()}
    if ys is not None and ys.primary is not None:
        der_data = (str((evaluation or {}).get("data") or "") or V.data_words([ys.source] if ys.source
                                                                            else list(sources.values())))
        return P.der_primary(ys, th, der_data), ""
    acc_data = V.data_words([sources[cfg.target.name], sources[cfg.baseline.name]])
    fallback = (ys.reason if ys else (evaluation or {}).get("reason")) or "the evaluation step did not run"
    return P.accuracy_primary(h1, th, basis, acc_data), fallback


def _outcomes(tests: Mapping[str, TestResult], p_holm: Mapping[str, float | None], th: Any, tgt: ArmInput,
              base: ArmInput, arm_out: Mapping[str, ArmResult], basis: str,
              tasks: str) -> dict[str, V.HypothesisOutcome]:
    """Each hypothesis's test, Holm-adjusted p and verdict."""
    st, sb = arm_out[tgt.name].summaries, arm_out[base.name].summaries
    noise_t = summarize(_values(_full_runs(tgt), "val_acc_noise_half_range")).mean
    noise_b = summarize(_values(_full_runs(base), "val_acc_noise_half_range")).mean
    verdicts = {
        "H1": V.h1_verdict(tests["H1"], p_holm["H1"], th, tgt.display_name, base.display_name, st["unbiased_acc"],
                           sb["unbiased_acc"], basis, tests["H1"].extra["one_sided_bound"], tasks),
        "H2": V.h2_verdict(tests["H2"], p_holm["H2"], th, tgt.display_name, base.display_name, noise_t, noise_b),
        "H3": V.h3_verdict(tests["H3"], p_holm["H3"], th, tgt.display_name, tests["H3"].extra["one_sided_bound"]),
    }
    return {k: V.HypothesisOutcome(tests[k], p_holm[k], verdicts[k]) for k in tests}


def _power(th: Any, tgt: ArmInput, base: ArmInput, tests: Mapping[str, TestResult], family: Sequence[str],
           seed: int) -> PowerPlan:
    """Runs needed for H1 at each distinct Δ of interest (min_delta, the expected gains), at H1's level."""
    effects = {"min_delta": th.min_delta, **{f"expected_gain_{i}": g for i, g in enumerate(th.expected_gain)}}
    effects = dict(sorted({v: k for k, v in effects.items()}.items()))  # distinct Δs, smallest first
    h1_alpha = th.alpha if "H1" not in family else holm_alpha(th.alpha, sum(
        tests[k].testable and tests[k].decidable for k in family))
    return power_plan(_values(tgt.metrics, "unbiased_acc"), _values(base.metrics, "unbiased_acc"),
                      {name: d for d, name in effects.items()}, alpha=h1_alpha, seed=seed, min_delta=th.min_delta)


def _scenario_gates(gates: Sequence[V.Gate], ys: P.YardstickStats | None, tgt: ArmInput, base: ArmInput,
                    arm_out: Mapping[str, ArmResult], fallback: str) -> list[V.Gate]:
    """The caller's gates, the DER gate (target below the model-free baselines) and the data check."""
    all_gates = [g for g in gates if g.name != E.GATE_NAME]
    if ys is not None:
        beats, text = P.beats_baselines(ys.vs_baselines.get(tgt.name, {}), tgt.display_name)
        all_gates.append(V.Gate(E.GATE_NAME, beats, text))
    else:
        all_gates.append(V.Gate(E.GATE_NAME, None, f"DER on held-out meetings is unknown ({fallback})"))
    short = [f"{a.display_name} got too few windows ({'; '.join(arm_out[a.name].data_flags)})"
             for a in (tgt, base) if arm_out[a.name].data_flags]
    if short:
        all_gates.append(V.Gate("data", False, " and ".join(short)))
    return all_gates


def compute(
    cfg: ExperimentConfig,
    arms: Mapping[str, ArmInput],
    gates: Sequence[V.Gate] = (),
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    evaluation: Mapping[str, Any] | None = None,
) -> Analysis:
    """The primary endpoint, summaries, Δs, the secondary family with Holm, power, readiness,
    stability and the scenario.

    ``arms`` maps every configured arm name to its :class:`ArmInput`. ``evaluation`` is
    results.json's ``evaluation`` entry (DER of every run on the held-out meetings): when it is
    available, ΔDER is the primary endpoint (:mod:`vfreport.analysis.primary`), else H1. ``gates``
    are extra conditions for the best and realistic scenarios (see
    :mod:`vfreport.analysis.verdicts`); the DER gate and the data check are added here. Bootstrap
    draws are seeded by ``seed``: the same inputs give the same numbers.
    """
    th = cfg.thresholds
    tgt, base = arms[cfg.target.name], arms[cfg.baseline.name]
    basis = basis_text([m.unbiased_source for a in (tgt, base) for m in a.metrics])
    ys = P.yardstick_stats(evaluation, tgt.name, base.name, th.alpha)
    real = P.yardstick_stats((evaluation or {}).get("real"), tgt.name, base.name, th.alpha)  # [evaluation] set
    arm_out = _arm_results(cfg, arms, ys, real, evaluation)
    delta = {k: _delta(_values(tgt.metrics, k), _values(base.metrics, k), n_resamples, seed + i)
             for i, k in enumerate(METRICS)}
    tests, tasks = _tests(cfg, tgt, base, n_resamples, seed)
    primary, fallback = _primary(cfg, ys, tests["H1"], basis, evaluation)
    family = [k for k in tests if not (k == "H1" and primary.endpoint == "accuracy")]
    p_holm = {**{k: None for k in tests}, **H.adjust({k: tests[k] for k in family})}
    outcomes = _outcomes(tests, p_holm, th, tgt, base, arm_out, basis, tasks)
    power = _power(th, tgt, base, tests, family, seed)
    advice = runs_advice(primary, power, th)
    acc_t, acc_b = _values(tgt.metrics, "unbiased_acc"), _values(base.metrics, "unbiased_acc")
    scale = pooled_robust_sd(acc_t, acc_b)
    flags = {a.name: flag_runs([m.unbiased_acc for m in a.metrics], floor=th.min_delta,
                               at_chance=failed_to_learn(a.metrics), scale=scale) for a in (tgt, base)}
    robust = flagged_runs(primary, flags, tgt, base, evaluation, th)
    st, sb = arm_out[tgt.name].summaries, arm_out[base.name].summaries
    scen = V.scenario(primary, st["unbiased_acc"], sb["unbiased_acc"], {k: outcomes[k] for k in family}, th,
                      tgt.display_name, base.display_name, basis, advice,
                      _scenario_gates(gates, ys, tgt, base, arm_out, fallback), fallback, robust.sentence)
    # the lift gate (accuracy minus the audio-free baseline under the run's scoring) supersedes the
    # older position-only caveat: one baseline per report, not two that differ slightly
    measured_lift = any(g.name == LIFT_GATE and g.passed is not None for g in gates)
    caveat = None if measured_lift else V.position_caveat(st["unbiased_acc"].mean, tgt.position_baseline, th,
                                                          tgt.display_name)
    return Analysis(basis, arm_out, delta, outcomes, power, scen, caveat, primary, ys, tuple(family), advice, robust,
                    real)


def runs_advice(primary: V.Primary, power: PowerPlan, th: Any, max_runs: int = DER_MAX_RUNS) -> str:
    """How many runs per arm would decide the primary endpoint, at the level each claim is read at:
    a gain of the smallest worthwhile size shown at α (80 % power), and "no worthwhile gain" shown
    (the 95 % interval's end, a one-sided α/2 bound) when the true gain is 0. ΔDER: simulated from
    the measured variance components (:func:`vfreport.stats.power.der_runs_needed`,
    :func:`~vfreport.stats.power.der_runs_no_gain`), at the same meetings; accuracy: the Welch
    power plan."""
    if primary.endpoint == "accuracy":
        e = next((x for x in power.effects if x.name == "min_delta"), None)
        if e is None:
            return f"more runs per arm would decide it ({power.reason})" if power.reason else ""
        eq = power.no_gain.seeds if power.no_gain is not None else None
        return V.runs_advice(e.seeds, e.seeds_range, f"a gain of {F.points(e.delta, signed=False)} with "
                             f"{F.pct(power.target_power, 0)} power at α = {power.alpha:g}", power.max_seeds, eq)
    comps = {k: max(v, 0.0) for k, v in primary.components.items() if F.ok(v)}
    meetings = int(primary.n.get("meetings") or 0)
    if not comps or meetings < 2:
        return V.runs_advice(None, None, "a DER gain", 0)
    gain = der_runs_needed(comps, meetings, th.min_der_delta, th.alpha, max_runs=max_runs)
    none = der_runs_no_gain(comps, meetings, th.min_der_delta, th.alpha / 2, max_runs=max_runs)
    what = (f"a DER gain when the true gain is {F.points(th.min_der_delta, signed=False)} (80 % power at "
            f"α = {th.alpha:g}, on the same {meetings} meetings, from the measured variance components)")
    text = V.runs_advice(gain, None, what, max_runs, none,
                         f" (true gain 0, 95 % interval excluding {F.points(th.min_der_delta, signed=False)})")
    if gain is None or none is None:
        text += ("; with this few meetings the arm × meeting variation does not shrink with more runs: evaluate on "
                 "more meetings")
    return text


def failed_to_learn(metrics: Sequence[RunMetrics]) -> list[bool]:
    """Runs that never left chance (every epoch in a chance-level plateau,
    ``RunMetrics.never_left_chance``) while most runs of their arm did leave it: a failed seed.
    When most of an arm's runs stay at chance, that is the arm's behaviour (the pseudo-label
    arm's), not a failed run, and nothing is flagged."""
    stuck = [bool(m.never_left_chance) for m in metrics]
    return stuck if sum(stuck) < len(stuck) / 2 else [False] * len(stuck)


def with_split_error(summary: Summary, metrics: Sequence[RunMetrics], alpha: float) -> Summary:
    """The arm's accuracy summary with the test split's own sampling error in its interval when
    every run was scored on the shared test split and recorded its clustered variance
    (:func:`vfreport.analysis.metrics.arm_split_error`,
    :func:`vfreport.stats.intervals.arm_accuracy_interval`: seed variance / n + the split's
    variance, Satterthwaite df); unchanged otherwise (runs only)."""
    var, clusters = arm_split_error(metrics)
    if var is None or summary.n < 2:
        return summary
    acc = arm_accuracy_interval([m.unbiased_acc for m in metrics], var, clusters, alpha=alpha)
    return replace(summary, ci=acc.ci) if acc is not None else summary


@dataclass(frozen=True)
class Robustness:
    """Runs flagged per arm (a robust rule, :func:`vfreport.stats.outliers.flag_runs`) and the
    primary decision without them."""

    flags: dict[str, tuple[Any, ...]]
    decision_all: str
    decision_without: str | None
    depends: bool
    sentence: str
    detail: str = ""


def flagged_runs(primary: V.Primary, flags: Mapping[str, Sequence[Any]], tgt: ArmInput, base: ArmInput,
                 evaluation: Mapping[str, Any] | None, th: Any) -> Robustness:
    """The primary decision with and without the flagged runs (a run more than 3 robust SDs from its
    arm's median accuracy, beyond min_delta, or never left chance): recomputed on the same endpoint
    (ΔDER without the flagged runs' rows; Welch without their accuracies; :func:`failed_to_learn`
    says which plateaued runs count), plus Yuen's trimmed test
    for H1 (:func:`vfreport.stats.outliers.sensitivity`). The sentence says whether the decision
    depends on them."""
    all_dec = V.primary_decision(primary)
    named = {a.name: [a.seeds[f.index] if f.index < len(a.seeds) else f.index for f in flags[a.name] if f.flagged]
             for a in (tgt, base)}
    if not any(named.values()):
        return Robustness(dict(flags), all_dec, None, False, "")
    keep = {a.name: [i for i, f in enumerate(flags[a.name]) if not f.flagged] for a in (tgt, base)}
    if primary.endpoint == "der":
        drop = {arm: {str(s) for s in seeds} for arm, seeds in named.items()}
        ys = P.yardstick_stats(evaluation, tgt.name, base.name, th.alpha, exclude=drop)
        without = P.der_primary(ys, th, primary.data) if ys is not None else None
        detail = ""
    else:
        acc = {a.name: [m.unbiased_acc for m in a.metrics] for a in (tgt, base)}
        sens = sensitivity(acc[tgt.name], acc[base.name], flags[tgt.name], flags[base.name], th.alpha)
        h1 = H.h1_test([acc[tgt.name][i] for i in keep[tgt.name]], [acc[base.name][i] for i in keep[base.name]],
                       n_resamples=200, alpha=th.alpha)
        without = P.accuracy_primary(h1, th, primary.label.removeprefix("Δ "), primary.data)
        detail = sens.summary
    dec = V.primary_decision(without) if without is not None else V.PRIMARY_NOT_TESTABLE
    which = "; ".join(f"{a.display_name} seed(s) {', '.join(map(str, named[a.name]))}" for a in (tgt, base)
                      if named[a.name])
    depends = dec != all_dec
    words = V.PRIMARY_DECISIONS
    sentence = (f"Flagged runs ({which}: outlying or never left chance): without them the primary decision is "
                f"\"{words[dec]}\" " + (f"instead of \"{words[all_dec]}\": the decision depends on the flagged runs."
                                        if depends else "too: the decision does not depend on them."))
    return Robustness(dict(flags), all_dec, dec, depends, sentence, detail)


__all__ = ["ACCURACY", "METRICS", "UNBIASED_SOURCES", "Analysis", "ArmInput", "ArmResult", "Delta", "compute",
           "different_tasks"]
