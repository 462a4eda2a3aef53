"""Analysis of an experiment directory: the runs in, results.json out (design.md §8–§10).

:func:`analyze_experiment` reads experiment.toml and every ``<arm>/seed-<k>`` run (status.json,
params.json, history.csv, val_predictions.parquet), computes the statistics of
:mod:`vfreport.stats.tests` and the verdicts of :mod:`vfreport.analysis.verdicts`, and returns the dict that
design.md §8 describes; :func:`vfreport.pipeline.write_results` writes it atomically as strict
JSON. This is the I/O edge: everything else is pure.

Runs that failed, are still running, never started or have no folder are listed under
``arms.<arm>.missing`` with the reason and left out of the statistics. A completed run whose
history is malformed (missing columns, NaN/inf, gaps in the epochs, accuracies outside [0, 1])
raises :class:`HistoryError` naming the file, line and column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vfreport import __version__
from vfreport.analysis import verdicts as V
from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.errors import ExperimentError, HistoryError
from vfreport.experiment.layout import (
    PREDICTION_COLUMNS,
    RUN_STATES,
    ExperimentDir,
    RunDir,
    read_json_object,
)
from vfreport.stats import tests as S

REQUIRED_HISTORY_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
"""What the statistics read: must exist, every cell a finite number."""
OPTIONAL_HISTORY_COLUMNS = ["lr", "epoch_seconds", "train_frames", "val_frames", "val_window_acc"]
"""Informational (the rest of :data:`vfreport.experiment.layout.HISTORY_COLUMNS` and the training extras):
may be absent or have empty cells (an imported history has no lr or frame counts), but a value
that is there must be a finite number."""
FRACTION_COLUMNS = ["train_acc", "val_acc", "val_window_acc"]
COUNT_COLUMNS = ["train_frames", "val_frames"]
DATA_KEYS = ("source", "label_strategy", "train_windows", "val_windows", "skipped_rows")
METRICS = ("best_val_acc", "train_acc_epoch10", "val_acc_half_range", "val_acc_jump_std")
HYPOTHESIS_NAMES = {
    "H1": "Real labels → higher accuracy",
    "H2": "Real labels → stable training",
    "H3": "Real labels → better learning",
}


# ---------------------------------------------------------------------------------------------
# reading and validating files
# ---------------------------------------------------------------------------------------------


def validate_history(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check a history table and return it with its known columns as numbers.

    Required (:data:`REQUIRED_HISTORY_COLUMNS`): present, at least one row, every cell a finite
    number (NaN, empty cells, inf and text are errors), epochs exactly 1, 2, …, n. Optional
    (:data:`OPTIONAL_HISTORY_COLUMNS`): empty cells allowed, inf and text are errors. Accuracies
    in [0, 1], frame counts >= 0. Messages name ``where`` and the CSV line (header = line 1).
    """
    missing = [c for c in REQUIRED_HISTORY_COLUMNS if c not in df.columns]
    if missing:
        raise HistoryError(
            f"{where}: missing column(s) {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED_HISTORY_COLUMNS)})"
        )
    if len(df) == 0:
        raise HistoryError(f"{where}: no epochs (the file has a header but no rows)")
    num: dict[str, np.ndarray] = {}
    for col in REQUIRED_HISTORY_COLUMNS + [c for c in OPTIONAL_HISTORY_COLUMNS if c in df.columns]:
        raw = df[col]
        if raw.dtype.kind in "fiu":
            vals = raw.to_numpy(dtype=float)
        else:  # text, empty cells: coerce and report the first bad cell
            vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        if col in REQUIRED_HISTORY_COLUMNS:
            bad = ~np.isfinite(vals)
        else:  # empty is fine, anything else must be a finite number
            bad = np.isinf(vals) | (np.isnan(vals) & raw.notna().to_numpy())
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise HistoryError(
                f"{where}: line {i + 2}, column {col!r}: {raw.iloc[i]!r} is not a finite number"
            )
        num[col] = vals
    wrong = np.flatnonzero(num["epoch"] != np.arange(1, len(df) + 1))
    if len(wrong):
        i = int(wrong[0])
        raise HistoryError(
            f"{where}: line {i + 2}, column 'epoch': {df['epoch'].iloc[i]!r} where {i + 1} was "
            "expected (epochs must be 1, 2, 3, … without gaps or repeats)"
        )
    for col in FRACTION_COLUMNS:
        if col in num:
            bad = (num[col] < 0) | (num[col] > 1)  # NaN (empty optional cell) compares False
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise HistoryError(
                    f"{where}: line {i + 2}, column {col!r}: {num[col][i]!r} is not a fraction "
                    "in [0, 1] (accuracies are fractions, not percent)"
                )
    for col in COUNT_COLUMNS:
        if col in num:
            bad = num[col] < 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise HistoryError(
                    f"{where}: line {i + 2}, column {col!r}: negative frame count {num[col][i]!r}"
                )
    num["epoch"] = num["epoch"].astype(int)
    return df.assign(**num)


def read_history(path: Path | str) -> pd.DataFrame:
    """Read and validate one history.csv (:func:`validate_history`)."""
    p = Path(path)
    try:
        df = pd.read_csv(p)
    except FileNotFoundError as e:
        raise HistoryError(f"{p}: file not found") from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise HistoryError(f"{p}: not a readable CSV file: {e}") from e
    return validate_history(df, str(p))


def read_predictions(path: Path | str) -> pd.DataFrame:
    """Read and validate a val_predictions.parquet (one row per epoch and validation window)."""
    p = Path(path)
    try:
        df = pd.read_parquet(p)
    except FileNotFoundError as e:
        raise HistoryError(f"{p}: file not found") from e
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise HistoryError(f"{p}: not a readable parquet file: {e}") from e
    missing = [c for c in PREDICTION_COLUMNS if c not in df.columns]
    if missing:
        raise HistoryError(
            f"{p}: missing column(s) {', '.join(missing)} (expected {', '.join(PREDICTION_COLUMNS)})"
        )
    out = df[PREDICTION_COLUMNS].copy()
    for col in ("epoch", "frames_scored", "frames_correct"):
        vals = pd.to_numeric(out[col], errors="coerce").astype(float)
        bad = ~np.isfinite(vals.to_numpy()) | (vals.to_numpy() < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise HistoryError(
                f"{p}: row {i}, column {col!r}: {out[col].iloc[i]!r} is not a non-negative number"
            )
        out[col] = vals
    over = (out["frames_correct"] > out["frames_scored"]).to_numpy()
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise HistoryError(f"{p}: row {i}: frames_correct exceeds frames_scored")
    return out


def _read_json_file(path: Path, what: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return read_json_object(path, what)


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
    run: RunDir | None = None
    status: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: S.RunMetrics | None = None
    notes: list[str] = field(default_factory=list)


def _error_text(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error) if error else "no error recorded in status.json"
    text = f"{error.get('type') or 'error'}: {error.get('message') or ''}".strip()
    if error.get("cell") is not None:
        text += f" (cell {error['cell']})"
    return text


def _load_run(run: RunDir | None, arm: str, seed: int) -> _Run:
    if run is None:
        return _Run(arm, seed, "missing", False, f"no run folder {arm}/seed-{seed}")
    status = _read_json_file(run.status, "status") or {"state": "pending"}
    params = _read_json_file(run.params, "params") or {}
    state = status.get("state", "pending")
    if state not in RUN_STATES:
        raise ExperimentError(f"{run.status}: state {state!r} is not one of {', '.join(RUN_STATES)}")
    r = _Run(arm, seed, state, state == "completed", run=run, status=status, params=params)
    if state == "completed":
        if not run.history.exists():
            r.included = False
            r.reason = "status.json says completed but history.csv is missing"
        else:
            r.metrics = S.run_metrics(read_history(run.history))
            expected = status.get("epochs")
            if isinstance(expected, int) and r.metrics.epochs < expected:
                r.notes.append(f"completed with {r.metrics.epochs} of {expected} epochs")
        return r
    if state == "failed":
        r.reason = f"failed: {_error_text(status.get('error'))}"
    elif state == "running":
        r.reason = (
            f"still running (last epoch {status.get('last_epoch', '?')} of {status.get('epochs', '?')})"
        )
    else:
        r.reason = "pending: never started"
    if run.history.exists():  # partial history: show it, but a diverged run may hold NaN
        try:
            r.metrics = S.run_metrics(read_history(run.history))
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
        "error": r.status.get("error"),
        "epochs_completed": m.epochs if m else r.status.get("last_epoch"),
        "seconds": r.status.get("seconds"),
    }
    keys = (
        "best_val_acc",
        "best_epoch",
        "best_after_epoch4",
        "train_acc_epoch10",
        "val_acc_half_range",
        "val_acc_jump_std",
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


def _windows_at_best(runs: Sequence[_Run]) -> tuple[tuple[np.ndarray, np.ndarray] | None, str]:
    """Per-window (scored, correct) at each run's best epoch, summed over runs by window id."""
    parts = []
    for r in runs:
        if r.run is None or not r.run.predictions.exists():
            return None, f"{r.arm}/seed-{r.seed} has no val_predictions.parquet"
        preds = read_predictions(r.run.predictions)
        at = preds[preds["epoch"] == r.metrics.best_epoch]
        if at.empty:
            return None, f"{r.run.predictions} has no rows for the best epoch {r.metrics.best_epoch}"
        parts.append(at)
    agg = pd.concat(parts).groupby("window", sort=True)[["frames_scored", "frames_correct"]].sum()
    return (agg["frames_scored"].to_numpy(float), agg["frames_correct"].to_numpy(float)), ""


def _missing_note(arm_name: str, missing: Sequence[_Run]) -> str:
    if not missing:
        return ""
    items = "; ".join(f"seed {r.seed} {r.reason}" for r in missing)
    return f" [{arm_name}: {len(missing)} run(s) excluded: {items}]"


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
        if isinstance(r.status.get("data"), dict):
            found.update(r.status["data"])
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


def _hypothesis_dict(
    key: str,
    res: S.HypothesisTestResult,
    p_holm: float | None,
    verdict: V.Verdict,
    arms: tuple[str, ...],
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "name": HYPOTHESIS_NAMES[key],
        "test": res.test,
        "statistic": res.statistic,
        "df": res.df,
        "p_value": res.p_value,
        "p_value_holm": p_holm,
        "alternative": res.alternative,
        "effect_size": (
            {"name": res.effect_size.name, "value": res.effect_size.value} if res.effect_size else None
        ),
        "estimate": {"name": res.estimate.name, "value": res.estimate.value} if res.estimate else None,
        "ci95": list(res.ci95) if res.ci95 is not None else None,
        "n": dict(zip(arms, res.n, strict=False)),
        "unit": res.unit,
        "testable": res.testable,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "caveat": res.caveat or None,
        **{k: (dict(zip(arms, v, strict=False)) if k == "seeds" else v) for k, v in res.extra.items()},
        **extra,
    }


def analyze_experiment(
    exp_dir: Path | str, *, n_resamples: int = S.N_RESAMPLES, seed: int = 0
) -> dict[str, Any]:
    """Compute every statistic and verdict of an experiment directory (results.json's dict).

    Raises ExperimentError (missing directory/config, arm folders not in the config, bad
    status.json), ConfigError (bad experiment.toml) or HistoryError (malformed history of a
    completed run). Bootstrap/permutation draws are seeded by ``seed``: the same directory gives
    the same numbers.
    """
    ed = ExperimentDir(exp_dir)
    if not ed.root.is_dir():
        raise ExperimentError(f"experiment directory {str(ed.root)!r} does not exist")
    if not ed.config.is_file():
        raise ExperimentError(f"{ed.config}: missing (is {str(ed.root)!r} an experiment directory?)")
    cfg = read_experiment_config(ed.config)
    th = cfg.thresholds
    warnings: list[str] = []

    on_disk = {(r.arm, r.seed): r for r in ed.runs()}
    unknown = sorted({arm for arm, _ in on_disk} - set(cfg.arms))
    if unknown:
        raise ExperimentError(
            f"{ed.root}: run folder(s) for arm(s) {', '.join(unknown)} not in {ed.config.name} "
            f"(configured arms: {', '.join(cfg.arms)})"
        )
    runs: list[_Run] = []
    for arm in cfg.arms:
        extra_seeds = sorted({s for a, s in on_disk if a == arm} - set(cfg.seeds))
        if extra_seeds:
            warnings.append(
                f"{arm}: seed folder(s) {extra_seeds} not in experiment.seeds {cfg.seeds}; included"
            )
        for s in sorted(set(cfg.seeds) | set(extra_seeds)):
            runs.append(_load_run(on_disk.get((arm, s)), arm, s))

    base, tgt = cfg.baseline, cfg.target
    included = {arm: [r for r in runs if r.arm == arm and r.included] for arm in cfg.arms}
    missing = {arm: [r for r in runs if r.arm == arm and not r.included] for arm in cfg.arms}

    # ---- per arm
    arms_out: dict[str, Any] = {}
    summaries: dict[str, dict[str, S.Summary]] = {}
    for arm, acfg in cfg.arms.items():
        ms = [r.metrics for r in included[arm]]
        summaries[arm] = {k: S.summarize([getattr(m, k) for m in ms]) for k in METRICS}
        arms_out[arm] = {
            "display_name": acfg.display_name,
            "role": acfg.role,
            "n_seeds": len(ms),
            "seeds": [r.seed for r in included[arm]],
            "missing": [{"seed": r.seed, "state": r.state, "reason": r.reason} for r in missing[arm]],
            **{k: summaries[arm][k].to_dict() for k in METRICS},
            "best_epoch": [m.best_epoch for m in ms],
            "plateau": [m.plateau for m in ms],
            "best_after_epoch4": [m.best_after_epoch4 for m in ms],
            "epochs_completed": [m.epochs for m in ms],
            "stability": V.stability(summaries[arm]["val_acc_half_range"].mean, th),
            "production_readiness": V.production_readiness(summaries[arm]["best_val_acc"].mean, th),
        }

    # ---- Δ, target − baseline
    delta_out: dict[str, Any] = {}
    for i, k in enumerate(METRICS):
        value, ci = S.mean_diff(
            summaries[tgt.name][k].per_seed, summaries[base.name][k].per_seed, n_resamples, seed + i
        )
        delta_out[k] = {"value": value, "ci95": list(ci) if ci else None}

    # ---- hypotheses
    t_runs, b_runs = included[tgt.name], included[base.name]
    order = (tgt.name, base.name)
    miss_note = _missing_note(tgt.display_name, missing[tgt.name]) + _missing_note(
        base.display_name, missing[base.name]
    )

    t_best = [r.metrics.best_val_acc for r in t_runs]
    b_best = [r.metrics.best_val_acc for r in b_runs]
    t_win = b_win = None
    if min(len(t_best), len(b_best)) == 1:
        t_win, why_t = _windows_at_best(t_runs)
        b_win, why_b = _windows_at_best(b_runs)
        if t_win is None or b_win is None:
            warnings.append(f"H1 window-level test unavailable: {why_t or why_b}")
    h1 = S.h1_test(t_best, b_best, t_win, b_win, n_resamples, seed)  # same draws as delta.best_val_acc

    t_full = [r for r in t_runs if r.metrics.window_epochs >= S.EARLY_EPOCHS]
    b_full = [r for r in b_runs if r.metrics.window_epochs >= S.EARLY_EPOCHS]
    if not t_full or not b_full:
        arm_name = tgt.display_name if not t_full else base.display_name
        h2 = S.not_testable(
            "one-sided Brown–Forsythe test (median-centred Levene)",
            f"no completed {arm_name} run has {S.EARLY_EPOCHS} epochs (fewer than {S.EARLY_EPOCHS} epochs: "
            f"variability over epochs 1–{S.EARLY_EPOCHS} cannot be compared)",
            (len(t_full), len(b_full)),
            unit="runs",
        )
    else:
        h2 = S.h2_test(
            [c for r in t_full for c in r.metrics.val_acc_changes],
            [c for r in b_full for c in r.metrics.val_acc_changes],
            n_resamples,
            seed + 20,
        )
    t_hr = S.summarize([r.metrics.val_acc_half_range for r in t_full]).mean if t_full else None
    b_hr = S.summarize([r.metrics.val_acc_half_range for r in b_full]).mean if b_full else None

    t10 = [r for r in t_runs if r.metrics.train_acc_epoch10 is not None]
    h3 = S.h3_test(
        [r.metrics.train_acc_epoch10 for r in t10],
        th.train_acc_epoch10,
        t10[0].metrics.train_frames_epoch10 if len(t10) == 1 else None,
    )

    tests = {"H1": h1, "H2": h2, "H3": h3}
    tests = {k: (replace(t, reason=t.reason + miss_note) if not t.testable else t) for k, t in tests.items()}
    p_holm = dict(
        zip(tests, S.holm([t.p_value if t.testable else None for t in tests.values()]), strict=True)
    )

    v1 = V.h1_verdict(
        tests["H1"],
        p_holm["H1"],
        th,
        tgt.display_name,
        base.display_name,
        summaries[tgt.name]["best_val_acc"].mean,
        summaries[base.name]["best_val_acc"].mean,
    )
    v2 = V.h2_verdict(tests["H2"], p_holm["H2"], th, tgt.display_name, base.display_name, t_hr, b_hr)
    v3 = V.h3_verdict(tests["H3"], p_holm["H3"], th, tgt.display_name)
    h1_delta = tests["H1"].estimate.value if tests["H1"].estimate else None
    hyp = {
        "H1": _hypothesis_dict(
            "H1",
            tests["H1"],
            p_holm["H1"],
            v1,
            order,
            {
                "delta": h1_delta,
                "in_expected_range": V.in_expected_range(h1_delta, th),
                "expected_gain": list(th.expected_gain),
            },
        ),
        "H2": _hypothesis_dict(
            "H2",
            tests["H2"],
            p_holm["H2"],
            v2,
            order,
            {
                "target_half_range": t_hr,
                "baseline_half_range": b_hr,
                "max_variance": th.max_variance,
                "target_below_max_variance": (V._r(t_hr) < V._r(th.max_variance))
                if t_hr is not None
                else None,
            },
        ),
        "H3": _hypothesis_dict("H3", tests["H3"], p_holm["H3"], v3, (tgt.name,), {}),
    }

    scen = V.scenario(
        summaries[tgt.name]["best_val_acc"],
        summaries[base.name]["best_val_acc"],
        delta_out["best_val_acc"]["value"],
        delta_out["best_val_acc"]["ci95"],
        hyp,
        th,
        tgt.display_name,
        base.display_name,
    )

    data_out = {arm: _data_info(cfg, arm, [r for r in runs if r.arm == arm]) for arm in cfg.arms}
    caveat = V.position_caveat(summaries[tgt.name]["best_val_acc"].mean,
                               data_out[tgt.name].get("position_baseline_val_acc"), th, tgt.display_name)
    scenario_out = scen.to_dict()
    if caveat:
        scenario_out["sentence"] += " " + caveat
        scenario_out["position_caveat"] = caveat

    pw = S.power_analysis(t_best, b_best, alpha=th.alpha)
    manifest = None
    try:
        manifest = _read_json_file(ed.manifest, "manifest")
    except ExperimentError as e:
        warnings.append(str(e))

    return to_jsonable(
        {
            "experiment": {
                "name": cfg.name,
                "dir": str(ed.root.resolve()),
                "config": cfg.to_dict(),
                "generated": datetime.now(UTC).isoformat(timespec="seconds"),
                "vfreport_version": __version__,
                "manifest": manifest,
                "warnings": warnings,
            },
            "thresholds": {
                "ready": th.ready,
                "poc": th.poc,
                "best_case": th.best_case,
                "realistic": th.realistic,
                "max_variance": th.max_variance,
                "train_acc_epoch10": th.train_acc_epoch10,
                "alpha": th.alpha,
                "expected_gain": list(th.expected_gain),
                "min_delta": th.min_delta,
            },
            "runs": [_run_entry(r) for r in runs],
            "arms": arms_out,
            "baseline": base.name,
            "target": tgt.name,
            "delta": delta_out,
            "hypotheses": hyp,
            "scenario": scenario_out,
            "power": {
                "observed_delta": pw.observed_delta,
                "pooled_sd": pw.pooled_sd,
                "seeds_for_observed_delta": pw.seeds_for_observed_delta,
                "seeds_for_5_points": pw.seeds_for_5_points,
                "power_at_current_n": pw.power_at_current_n,
                "alpha": pw.alpha,
                "target_power": pw.target_power,
                "method": pw.method,
                "reason": pw.reason or None,
            },
            "onnx": None,  # the export's entry: vfreport.pipeline fills it in
            "data": data_out,
        }
    )
