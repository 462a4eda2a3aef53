"""Analysis of an experiment directory: the runs in, results.json out.

Formats: docs/experiment-directory.md; methods: docs/statistics.md.


:func:`analyze_experiment` takes the experiment as loaded once
(:func:`vfreport.experiment.records.load_experiment`: experiment.toml and every ``<arm>/seed-<k>``
run's status.json, params.json, history.csv), computes per-run metrics (:mod:`vfreport.analysis.metrics`), then
everything else with the pure :func:`vfreport.analysis.compute.compute`, and builds results.json
(:func:`build_results`, the one place; its layout: :mod:`vfreport.experiment.results_schema`,
docs/experiment-directory.md); :func:`vfreport.pipeline.write_results`
writes it atomically as strict JSON.

Runs that failed, are still running, never started or have no folder are listed under
``arms.<arm>.missing`` with the reason and left out of the statistics. A completed run whose
history is malformed (missing columns, NaN/inf, gaps in the epochs, accuracies outside [0, 1])
raises :class:`HistoryError` naming the file, line and column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from vfreport import __version__
from vfreport.analysis import verdicts as V
from vfreport.analysis.compute import Analysis, ArmInput, compute
from vfreport.analysis.metrics import UNBIASED_SOURCES, RunMetrics, run_metrics, split_sampling_error
from vfreport.config import ExperimentConfig, Thresholds
from vfreport.errors import HistoryError
from vfreport.experiment.records import MISSING, Experiment, Run, as_experiment
from vfreport.experiment.results_schema import (
    SCHEMA_VERSION,
    Arm,
    DerDelta,
    Evaluation,
    Gate,
    Lift,
    LiftDelta,
    OnnxEntry,
    Primary,
    Results,
    Sequential,
)
from vfreport.experiment.status import RunStatus
from vfreport.names import run_key
from vfreport.stats.power import PowerPlan
from vfreport.stats.results import N_RESAMPLES, Interval

DATA_KEYS = ("source", "label_strategy", "train_windows", "val_windows", "test_windows", "skipped_rows")
HYPOTHESIS_NAMES = {
    "H1": "Real labels → higher accuracy",
    "H2": "Real labels → stable training",
    "H3": "Real labels → better learning",
}


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def to_jsonable(obj: Any) -> Any:
    """Strict-JSON-ready copy: NaN/inf → None, numpy scalars/arrays → Python, tuples → lists,
    dataclasses → dicts, Paths → strings, mapping keys → strings."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable({k: getattr(obj, k) for k in obj.__dataclass_fields__})
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"cannot write {type(obj).__name__} to results.json")


# ---------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------


@dataclass
class _Run:
    arm: str
    seed: int
    state: str
    included: bool
    reason: str = ""
    status: RunStatus | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: RunMetrics | None = None
    notes: list[str] = field(default_factory=list)


def _test_acc(test: Any) -> float | None:
    """The run's test accuracy at its best-validation epoch (status.json ``test.acc``), if any."""
    return test.get("acc") if isinstance(test, Mapping) else None


def _or_unknown(value: int | None) -> str:
    return "?" if value is None else str(value)


def _error_text(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error) if error else "no error recorded in status.json"
    text = f"{error.get('type') or 'error'}: {error.get('message') or ''}".strip()
    if error.get("cell") is not None:
        text += f" (cell {error['cell']})"
    return text


def _metrics(run: Run) -> RunMetrics:
    test = run.status.test
    return run_metrics(run.require_history(), _test_acc(test), *split_sampling_error(test))


def _analysis_run(run: Run) -> _Run:
    """What the analysis makes of one loaded run: included or why not, its metrics and notes. Raises the
    HistoryError of a completed run's malformed history."""
    if run.dir is None:
        return _Run(run.arm, run.seed, MISSING, False, f"no run folder {run_key(run.arm, run.seed)}")
    status, state = run.status, run.state
    r = _Run(run.arm, run.seed, state, state == "completed", status=status, params=run.params)
    if state == "completed":
        if not run.has_history:
            r.included = False
            r.reason = "status.json says completed but history.csv is missing"
        else:
            r.metrics = _metrics(run)
            test = status.test
            if isinstance(test, Mapping) and test.get("error"):
                r.notes.append(f"no test score ({test['error']}): final-epoch val acc used instead")
            expected = status.epochs
            if isinstance(expected, int) and r.metrics.epochs < expected:
                r.notes.append(f"completed with {r.metrics.epochs} of {expected} epochs")
        return r
    if state == "failed":
        r.reason = f"failed: {_error_text(status.error)}"
    elif state == "running":
        r.reason = (
            f"still running (last epoch {_or_unknown(status.last_epoch)} of {_or_unknown(status.epochs)})"
        )
    else:
        r.reason = "pending: never started"
    if run.has_history:  # partial history: show it, but a diverged run may hold NaN
        try:
            r.metrics = _metrics(run)
        except HistoryError as e:
            r.notes.append(f"partial history not usable: {e}")
    return r


def _run_entry(r: _Run) -> dict[str, Any]:
    m = r.metrics
    entry: dict[str, Any] = {
        "arm": r.arm,
        "seed": r.seed,
        "state": r.state,
        "included": r.included,
        "reason": r.reason or None,
        "error": r.status.error if r.status else None,
        "epochs_completed": m.epochs if m else (r.status.last_epoch if r.status else None),
        "seconds": r.status.seconds if r.status else None,
    }
    keys = (
        "unbiased_acc",
        "unbiased_source",
        "test_acc",
        "best_val_acc",
        "best_epoch",
        "best_after_epoch4",
        "train_acc_epoch10",
        "val_acc_half_range",
        "val_acc_jump_std",
        "val_acc_noise_sd",
        "val_acc_noise_half_range",
        "plateau",
        "plateau_epochs",
        "final_val_acc",
        "final_train_acc",
        "best_val_window_acc",
        "window_epochs",
        "train_frames_epoch10",
    )
    for k in keys:
        entry[k] = getattr(m, k) if m else None
    entry["flags"] = list(m.flags if m else ()) + r.notes
    return entry


def _missing_note(cfg: ExperimentConfig, runs: Sequence[_Run]) -> str:
    """' [AMI: 1 run(s) excluded: seed 1 failed: …]' for each arm with runs left out."""
    out = ""
    for arm, acfg in cfg.arms.items():
        missing = [r for r in runs if r.arm == arm and not r.included]
        if missing:
            items = "; ".join(f"seed {r.seed} {r.reason}" for r in missing)
            out += f" [{acfg.display_name}: {len(missing)} run(s) excluded: {items}]"
    return out


def _data_info(cfg: ExperimentConfig, arm: str, runs: Sequence[_Run]) -> dict[str, Any]:
    a = cfg.arms[arm]
    info: dict[str, Any] = {
        "skipped_rows": None,
        "train_windows": a.train_windows,
        "val_windows": a.val_windows,
        "source": a.source,
        "label_strategy": a.label_strategy,
    }
    per_seed: dict[str, dict[str, Any]] = {}
    for r in runs:
        found: dict[str, Any] = {}
        for table in (
            r.params,
            r.params.get("arm") if isinstance(r.params.get("arm"), dict) else {},
            r.params.get("data") if isinstance(r.params.get("data"), dict) else {},
        ):
            found.update({k: table[k] for k in DATA_KEYS if k in table})
        if r.status is not None and isinstance(r.status.data, dict):
            found.update(r.status.data)
        if found:
            per_seed[str(r.seed)] = found
    if per_seed:
        info.update(next(iter(per_seed.values())))
        if any(v != next(iter(per_seed.values())) for v in per_seed.values()):
            info["per_seed"] = per_seed
    return info


# ---------------------------------------------------------------------------------------------
# the analysis
# ---------------------------------------------------------------------------------------------
# results.json from the analysis
# ---------------------------------------------------------------------------------------------


def _interval(ci: Interval | None) -> dict[str, Any] | None:
    if ci is None:
        return None
    return {"low": ci.low, "high": ci.high, "method": ci.method, "confidence": ci.confidence,
            "reliable": ci.reliable, "note": ci.note or None}


def _hypothesis_dict(key: str, h: V.HypothesisOutcome, arms: tuple[str, ...],
                     extra: Mapping[str, Any]) -> dict[str, Any]:
    t = h.test
    ci = t.ci.as_tuple() if t.ci else None
    return {
        "name": HYPOTHESIS_NAMES[key],
        "test": t.method,
        "statistic_name": t.statistic_name or None,
        "statistic": t.statistic,
        "df": t.df,
        "p_value": t.p_value,
        "p_value_holm": h.p_holm,
        "alternative": t.alternative,
        "effect_size": {"name": t.effect_size.name, "value": t.effect_size.value} if t.effect_size else None,
        "estimate": {"name": t.estimate.name, "value": t.estimate.value} if t.estimate else None,
        "ci95": list(ci) if ci else None,
        "ci": _interval(t.ci),
        "n": dict(zip(arms, t.n, strict=False)),
        "unit": t.unit,
        "testable": t.testable,
        "decidable": t.decidable,
        "min_p": t.min_p,
        "in_holm": h.p_holm is not None,
        "verdict": h.verdict.verdict,
        "reason": h.verdict.reason,
        **{k: (_interval(v) if isinstance(v, Interval) else v) for k, v in t.extra.items()},
        **extra,
    }


def primary_dict(an: Analysis, seeds: Mapping[str, Sequence[int]] | None = None) -> dict[str, Any]:
    """results.json's ``primary`` block: the endpoint, its estimate, interval, bounds, df, method, p,
    decision and variance components, the flagged runs and the decision without them; the scenario
    cites it. ``seeds`` (per arm, in the analysis's run order) names the flagged runs."""
    p = an.primary
    an_seeds = dict(seeds or {})
    block: dict[str, Any] = {
        "endpoint": p.endpoint,
        "name": ("ΔDER on held-out meetings (target − baseline arm), crossed runs × meetings" if p.endpoint == "der"
                 else "H1: Δ selection-unbiased accuracy (target − baseline arm), one-sided Welch over runs"),
        "label": p.label,
        "testable": p.testable,
        "reason": p.reason or None,
        "estimate": p.estimate,
        "lower_is_better": p.lower_is_better,
        "ci95": list(p.ci95) if p.ci95 else None,
        "one_sided_bound": p.native_bound,
        "one_sided_bound_kind": "upper" if p.lower_is_better else "lower",
        "one_sided_level": 1 - p.alpha,
        "gain": p.gain,
        "gain_bound": p.gain_bound,
        "gain_upper_95": p.gain_upper,
        "threshold": p.threshold,
        "threshold_name": "min_der_delta" if p.endpoint == "der" else "min_delta",
        "alpha": p.alpha,
        "df": p.df,
        "se": p.se,
        "statistic": p.statistic,
        "p_value": p.p_value,
        "alternative": "target better (one-sided)",
        "method": p.method,
        "n": dict(p.n),
        "variance_components": dict(p.components) or None,
        "data": p.data,
        "decision": V.primary_decision(p),
        "decision_words": V.PRIMARY_DECISIONS[V.primary_decision(p)],
        "rules": {
            V.WORTHWHILE: "one-sided (1 − α) bound of the gain above the threshold",
            V.GAIN_UNCERTAIN: "one-sided (1 − α) bound of the gain above 0, not above the threshold",
            V.NO_WORTHWHILE_GAIN: "upper end of the gain's two-sided 95 % interval below the threshold",
            V.INCONCLUSIVE: "otherwise",
        },
        "runs_advice": an.runs_advice or None,
        "flagged_runs": {arm: [{"seed": (an_seeds.get(arm) or [])[f.index] if f.index < len(an_seeds.get(arm) or [])
                                else f.index, "value": f.value, "robust_z": f.robust_z, "reasons": list(f.reasons)}
                               for f in fl if f.flagged] for arm, fl in an.robustness.flags.items()},
        "flag_rule": ("a run whose selection-unbiased accuracy lies more than 3 robust SDs (1.4826 · MAD) and more "
                      "than min_delta from its arm's median, or that never left chance while most runs of its arm "
                      "did"),
        "decision_without_flagged": an.robustness.decision_without,
        "depends_on_flagged": an.robustness.depends,
        "sensitivity": an.robustness.sentence or None,
        "sensitivity_h1": an.robustness.detail or None,
        "testing_order": ("primary endpoint first at full α; then the secondary family "
                          f"({', '.join(an.family)}), Holm within it"),
    }
    ys = an.yardstick
    if ys is not None:
        from vfreport.analysis.primary import comparison_dict

        block["comparison"] = comparison_dict(ys.primary) if ys.primary is not None else None
        block["vs_baselines"] = {arm: {name: comparison_dict(c) for name, c in comps.items()}
                                 for arm, comps in ys.vs_baselines.items()}
        block["meetings"] = list(ys.uris)
    if an.real is not None:  # the config's [evaluation] recordings: same method, beside the held-out meetings
        from vfreport.analysis.primary import comparison_dict

        block["real"] = {"data": "real", "meetings": list(an.real.uris),
                         "comparison": comparison_dict(an.real.primary) if an.real.primary is not None else None,
                         "vs_baselines": {arm: {name: comparison_dict(c) for name, c in comps.items()}
                                          for arm, comps in an.real.vs_baselines.items()}}
    return block


def _power_dict(pw: PowerPlan) -> dict[str, Any]:
    return {
        "method": pw.method,
        "alpha": pw.alpha,
        "target_power": pw.target_power,
        "pooled_sd": pw.sd,
        "sd_ci95": list(pw.sd_ci) if pw.sd_ci else None,
        "df": pw.df,
        "n": list(pw.n),
        "max_seeds": pw.max_seeds,
        "effects": [{"name": e.name, "delta": e.delta, "power_now": e.power_now, "seeds": e.seeds,
                     "seeds_range": list(e.seeds_range)} for e in pw.effects],
        "reason": pw.reason or None,
    }


def der_delta(primary: Primary) -> DerDelta:
    """``delta.der``: target − baseline arm corpus DER with the primary endpoint's crossed interval
    (lower is better); empty when the primary endpoint is not ΔDER."""
    if primary["endpoint"] != "der" or primary["estimate"] is None:
        return {"value": None, "ci95": None, "lower_is_better": True}
    return {"value": primary["estimate"], "ci95": primary["ci95"], "p_value": primary["p_value"],
            "lower_is_better": True, "method": primary["method"]}


LIFT_DELTA: LiftDelta = {"value": None, "ci95": None,
                         "note": "each arm against its own audio-free baseline on its own task: not differenced"}
"""``delta.lift``: the arms' lifts are against different baselines on different tasks, reported side
by side (``arms.<arm>.lift``), never differenced."""


@dataclass
class Yardstick:
    """What :func:`vfreport.analysis.yardstick.prepare` measures: results.json's ``evaluation`` entry,
    every arm's ``lift`` and the gates as ``{name, passed, sentence}``."""

    evaluation: Evaluation | None
    lifts: dict[str, Lift] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)

    def verdict_gates(self) -> list[V.Gate]:
        """The gates as :class:`vfreport.analysis.verdicts.Gate` objects for the scenario."""
        return [V.Gate(g["name"], g["passed"], g["sentence"]) for g in self.gates]


def _arm_entries(cfg: ExperimentConfig, an: Analysis, runs: Sequence[_Run],
                 lifts: Mapping[str, Lift]) -> dict[str, Arm]:
    """results.json's ``arms``: each arm's runs, summaries, stability, readiness and (with a
    yardstick) lift."""
    arms_out: dict[str, Arm] = {}
    for name, acfg in cfg.arms.items():
        a = an.arms[name]
        inc = [r for r in runs if r.arm == name and r.included]
        arm: Arm = {
            "display_name": acfg.display_name,
            "role": acfg.role,
            "n_seeds": len(inc),
            "seeds": [r.seed for r in inc],
            "missing": [{"seed": r.seed, "state": r.state, "reason": r.reason}
                        for r in runs if r.arm == name and not r.included],
            **{k: s.to_dict() for k, s in a.summaries.items()},  # type: ignore[typeddict-item]
            "unbiased_source": list(a.unbiased_sources),
            "best_epoch": [r.metrics.best_epoch for r in inc],
            "plateau": [r.metrics.plateau for r in inc],
            "best_after_epoch4": [r.metrics.best_after_epoch4 for r in inc],
            "epochs_completed": [r.metrics.epochs for r in inc],
            "stability": a.stability,
            "production_readiness": a.readiness.code,
            "readiness": {"code": a.readiness.code, "accuracy_rule": a.readiness.accuracy_code,
                          "caps": list(a.readiness.reasons), "evidence": a.readiness.evidence,
                          "source": acfg.source},
            "der_vs_baselines": a.der_vs_baselines or None,
            "data_flags": list(a.data_flags),
        }
        if name in lifts:
            arm["lift"] = lifts[name]  # type: ignore[typeddict-item]
        arms_out[name] = arm
    return arms_out


def _hypotheses(cfg: ExperimentConfig, an: Analysis, runs: Sequence[_Run]) -> dict[str, Any]:
    """results.json's ``hypotheses``: H1-H3 with their family and thresholds; an untestable one's
    reason names the missing runs."""
    th = cfg.thresholds
    tgt, base = cfg.target, cfg.baseline
    order = (tgt.name, base.name)
    h = an.hypotheses
    h1_delta = h["H1"].test.estimate.value if h["H1"].test.estimate else None
    noise = {k: an.arms[a].summaries["val_acc_noise_half_range"].mean for k, a in (("target", tgt.name),
                                                                                  ("baseline", base.name))}
    family = {k: ("secondary" if k in an.family else "primary") for k in h}
    hyp = {
        "H1": _hypothesis_dict("H1", h["H1"], order, {
            "delta": h1_delta, "in_expected_range": V.in_expected_range(h1_delta, th),
            "expected_gain": list(th.expected_gain), "basis": an.basis, "family": family["H1"]}),
        "H2": _hypothesis_dict("H2", h["H2"], order, {"family": family["H2"],
            "target_noise_half_range": noise["target"], "baseline_noise_half_range": noise["baseline"],
            "max_variance": th.max_variance,
            "target_below_max_variance": (V.rounded(noise["target"]) < V.rounded(th.max_variance))
            if noise["target"] is not None else None}),
        "H3": _hypothesis_dict("H3", h["H3"], (tgt.name,), {"family": family["H3"]}),
    }
    note = _missing_note(cfg, runs)
    for entry in hyp.values():
        if not entry["testable"] and note:
            entry["reason"] += note
    return hyp


def _thresholds(th: Thresholds) -> dict[str, Any]:
    """results.json's ``thresholds``: the config's, and the data-fraction rule's."""
    return {
        "ready": th.ready, "poc": th.poc, "best_case": th.best_case, "realistic": th.realistic,
        "max_variance": th.max_variance, "train_acc_epoch10": th.train_acc_epoch10, "alpha": th.alpha,
        "expected_gain": list(th.expected_gain), "min_delta": th.min_delta, "min_lift": th.min_lift,
        "min_der_delta": th.min_der_delta, "ready_der": th.ready_der,
        "min_data_fraction": V.MIN_DATA_FRACTION,
    }


def _delta(an: Analysis, primary: Mapping[str, Any], with_yardstick: bool) -> dict[str, Any]:
    """results.json's ``delta``: each accuracy difference, and (with a yardstick) ``der`` and ``lift``."""
    delta: dict[str, Any] = {k: {"value": d.value, "ci95": list(d.ci.as_tuple()) if d.ci else None,
                                 "ci": _interval(d.ci), "bootstrap_ci": _interval(d.bootstrap)}
                             for k, d in an.delta.items()}
    if with_yardstick:
        delta["der"] = der_delta(primary)
        delta["lift"] = LIFT_DELTA
    return delta


def _scenario(an: Analysis) -> dict[str, Any]:
    """results.json's ``scenario``, with the position-baseline caveat appended when there is one."""
    out = an.scenario.to_dict()
    if an.position_caveat:
        out["sentence"] += " " + an.position_caveat
        out["position_caveat"] = an.position_caveat
    return out


def build_results(
    cfg: ExperimentConfig,
    an: Analysis,
    runs: Sequence[_Run],
    data: Mapping[str, Any],
    experiment: Mapping[str, Any],
    *,
    yardstick: Yardstick | None = None,
    onnx: OnnxEntry | None = None,
    sequential: Sequential | None = None,
) -> Results:
    """results.json (:class:`vfreport.experiment.results_schema.Results`, docs/experiment-directory.md),
    the one place it is built: the analysis, the runs and the data notes; with the ``yardstick``
    (:mod:`vfreport.analysis.yardstick`) also ``evaluation``, ``arms.<arm>.lift``, ``delta.der``,
    ``delta.lift`` and ``yardstick_gates``; the export's ``onnx`` entry (replace it later with
    :func:`vfreport.experiment.results_schema.with_onnx`); run-all --until-decided's ``sequential``."""
    lifts = yardstick.lifts if yardstick is not None else {}
    primary = to_jsonable(primary_dict(an, {a: [r.seed for r in runs if r.arm == a and r.included] for a in cfg.arms}))
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "experiment": dict(experiment),
        "thresholds": _thresholds(cfg.thresholds),
        "primary": primary,
        "runs": [_run_entry(r) for r in runs],
        "arms": _arm_entries(cfg, an, runs, lifts),
        "baseline": cfg.baseline.name,
        "target": cfg.target.name,
        "basis": {"name": an.basis, "unbiased_sources": UNBIASED_SOURCES},
        "delta": _delta(an, primary, yardstick is not None),
        "hypotheses": _hypotheses(cfg, an, runs),
        "scenario": _scenario(an),
        "power": _power_dict(an.power),
        "onnx": onnx,
        "data": dict(data),
    }
    if yardstick is not None:
        results["evaluation"] = yardstick.evaluation
        results["yardstick_gates"] = yardstick.gates
    if sequential is not None:
        results["sequential"] = sequential
    return to_jsonable(results)


def analysis_runs(experiment: Experiment) -> list[_Run]:
    """Every configured run of ``experiment`` as the analysis sees it (:func:`_analysis_run`)."""
    return [_analysis_run(r) for r in experiment.runs]


def _received(r: _Run) -> dict[str, Any]:
    """The windows a run reported receiving (status.json "data", and "test" for the test split)."""
    data, test = (r.status.data, r.status.test) if r.status else (None, None)
    got = dict(data) if isinstance(data, Mapping) else {}
    if isinstance(test, Mapping) and "windows" in test:
        got["test_windows"] = test["windows"]
        got.setdefault("test_windows_requested", test.get("windows_requested"))
    return got


def arm_input(cfg: ExperimentConfig, arm: str, runs: Sequence[_Run], data: Mapping[str, Any]) -> ArmInput:
    """What :func:`vfreport.analysis.compute.compute` needs of one arm."""
    a = cfg.arms[arm]
    inc = [r for r in runs if r.arm == arm and r.included]
    requested = {"train_windows": a.train_windows, "val_windows": a.val_windows, "test_windows": a.test_windows}
    received = tuple(_received(r) for r in inc)
    return ArmInput(arm, a.display_name, tuple(r.metrics for r in inc), tuple(r.seed for r in inc), requested,
                    received, data.get("position_baseline_val_acc"))


def analyze_experiment(
    experiment: Experiment | Path | str, *, n_resamples: int = N_RESAMPLES, seed: int = 0,
    gates: Sequence[V.Gate] = (), evaluation: Mapping[str, Any] | None = None, yardstick: Yardstick | None = None,
    onnx: OnnxEntry | None = None, sequential: Sequential | None = None,
) -> Results:
    """Compute every statistic and verdict of an experiment: its results.json.

    Takes the loaded experiment (:func:`vfreport.experiment.records.load_experiment`; a path is loaded
    here), makes its runs the analysis's (:func:`analysis_runs`), computes
    (:func:`vfreport.analysis.compute.compute`, with any extra scenario ``gates`` and the DER
    ``evaluation`` entry, which makes ΔDER the primary endpoint) and builds results.json
    (:func:`build_results`). A ``yardstick`` brings its own gates and evaluation (``gates`` and
    ``evaluation`` are then ignored) and its entries into results.json; ``onnx`` and ``sequential``
    go in as they are. Raises ExperimentError (missing directory/config, arm folders not in the config,
    bad status.json), ConfigError (bad experiment.toml) or HistoryError (malformed history of a
    completed run). Bootstrap draws are seeded by ``seed``: the same directory gives the same numbers.
    """
    experiment = as_experiment(experiment)
    cfg = experiment.config
    if yardstick is not None:
        gates, evaluation = yardstick.verdict_gates(), yardstick.evaluation
    runs = analysis_runs(experiment)
    warnings = list(experiment.warnings)
    data = {arm: _data_info(cfg, arm, [r for r in runs if r.arm == arm]) for arm in cfg.arms}
    an = compute(cfg, {arm: arm_input(cfg, arm, runs, data[arm]) for arm in cfg.arms}, gates, n_resamples, seed,
                 evaluation)
    for arm in cfg.arms:
        data[arm]["flags"] = list(an.arms[arm].data_flags)
    if experiment.manifest_error is not None:
        warnings.append(experiment.manifest_error)
    meta = {
        "name": cfg.name,
        "dir": str(experiment.root.resolve()),
        "config": cfg.to_dict(),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "vfreport_version": __version__,
        "manifest": experiment.manifest.to_json() if experiment.manifest else None,
        "warnings": warnings,
    }
    return build_results(cfg, an, runs, data, meta, yardstick=yardstick, onnx=onnx, sequential=sequential)
