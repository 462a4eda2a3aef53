"""One (arm, seed) training job: what ``templates/train.ipynb`` calls.

The notebook's ``parameters`` cell holds exactly :data:`PARAMETERS` (papermill injects the
runner's values); :func:`run_job` turns them into an :class:`~vfreport.config.ArmConfig` and a
:class:`~vfreport.model.train.TrainSpec`, prepares (or loads from the cache) the model-ready windows,
records ``params.json`` and ``status.json``, and trains.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from vfreport.config import ArmConfig, TrainSettings
from vfreport.errors import ConfigError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, now_iso
from vfreport.model.train import TrainSpec, train_run, training_objective

ARM_PARAMETERS = [f.name for f in fields(ArmConfig) if f.name not in ("name", "display_name", "role")]
TRAIN_PARAMETERS = [f.name for f in fields(TrainSettings)]
PARAMETERS = [
    "experiment_dir", "arm", "seed", "epochs", "checkpoint_every", "progress", *ARM_PARAMETERS, *TRAIN_PARAMETERS
]
"""Every parameter the training notebook accepts (anything else is an error, not a warning)."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("VFREPORT_CACHE_DIR", Path.home() / ".cache" / "vfreport"))


def job_parameters(exp_dir: Path | str, arm: ArmConfig, seed: int, epochs: int, checkpoint_every: int,
                   train: TrainSettings, threads: int) -> dict[str, Any]:
    """The notebook parameters for one run (all JSON-serialisable scalars)."""
    arm_d = asdict(arm)
    params: dict[str, Any] = {
        "experiment_dir": str(exp_dir),
        "arm": arm.name,
        "seed": int(seed),
        "epochs": int(epochs),
        "checkpoint_every": int(checkpoint_every),
        "progress": True,
    }
    params.update({k: arm_d[k] for k in ARM_PARAMETERS})
    params.update(asdict(train))
    params["threads"] = int(threads)
    return params


def check_parameters(params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(f"unknown notebook parameter(s): {', '.join(unknown)} (accepted: {', '.join(PARAMETERS)})")


def split_parameters(params: dict[str, Any]) -> tuple[ArmConfig, TrainSpec, int]:
    check_parameters(params)
    missing = [p for p in ("experiment_dir", "arm", "dataset", "label_strategy") if p not in params]
    if missing:
        raise ConfigError(f"missing notebook parameter(s): {', '.join(missing)}")
    arm = ArmConfig(
        name=params["arm"], display_name=params["arm"], role="target",
        **{k: params[k] for k in ARM_PARAMETERS if k in params},
    )
    defaults = TrainSpec()
    spec = replace(defaults, arm=arm.name, **{f.name: type(getattr(defaults, f.name))(params[f.name])
                                              for f in fields(TrainSpec) if f.name in params and f.name != "arm"})
    return arm, spec, int(params.get("threads", 0) or 0)


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def data_summary(train: Any, val: Any, objective: str = "fixed") -> dict[str, Any]:
    """What the report says about a run's data (status.json "data").

    ``audio_free_baseline_val_acc``: the best audio-free predictor's validation accuracy under the
    run's scoring (``objective``; :func:`vfreport.data.labels.audio_free_baseline_accuracy`): a
    run's lift is its val accuracy minus this. ``*_windows_requested`` / ``*_windows`` (found) /
    ``*_windows_eligible`` (two-speaker, cluster: eligible positions in the rows read) flag a
    shortfall."""
    from vfreport.data.labels import audio_free_baseline_accuracy, position_baseline_accuracy

    def count(info: dict[str, Any], key: str) -> int:
        return int(info.get(key) or 0)

    return {
        "source": train.info.get("source"),
        "label_strategy": train.info.get("label_strategy"),
        "origin": train.info.get("origin"),
        "train_windows": len(train),
        "val_windows": len(val),
        "train_windows_requested": train.info.get("requested_windows"),
        "val_windows_requested": val.info.get("requested_windows"),
        "train_windows_eligible": train.info.get("windows_eligible"),
        "val_windows_eligible": val.info.get("windows_eligible"),
        "voice_spread": train.info.get("voice_spread"),
        "objective": objective,
        "skipped_rows": count(train.info, "skipped_rows") + count(val.info, "skipped_rows"),
        "train_speakers": train.info.get("speakers"),
        "val_speakers": val.info.get("speakers"),
        "scored_fraction": round(float(val.mask.mean()), 4) if len(val) else None,
        "position_baseline_val_acc": round(
            position_baseline_accuracy(train.labels, train.mask, val.labels, val.mask), 4),
        "audio_free_baseline_val_acc": round(
            audio_free_baseline_accuracy(objective, train.labels, train.mask, val.labels, val.mask), 4),
    }


def run_job(**params: Any) -> pd.DataFrame:
    """Prepare data and train one run; returns its history. Called by the training notebook."""
    from vfreport.data.windows import prepare_arm

    arm, spec, threads = split_parameters(params)
    if threads > 0:
        torch.set_num_threads(threads)
    run = ExperimentDir(params["experiment_dir"]).run(arm.name, spec.seed)
    run.root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run.params, params)
    started = now_iso()
    t0 = time.perf_counter()
    run.write_status(state="running", error=None, started=started, epochs=spec.epochs, pid=os.getpid(),
                     host=socket.gethostname(),
                     hardware=hardware())
    train, val = prepare_arm(arm, float(params.get("window_seconds", 2.0)), cache_dir=default_cache_dir() / "windows",
                             progress=bool(params.get("progress", True)))
    run.write_status(data=data_summary(train, val, training_objective(spec, train)),
                     data_seconds=round(time.perf_counter() - t0, 3))

    def on_epoch(row: dict[str, Any]) -> None:
        run.write_status(last_epoch=int(row["epoch"]))

    history = train_run(spec, run, train, val, progress=bool(params.get("progress", True)), on_epoch=on_epoch)
    run.write_status(state="completed", ended=now_iso(), seconds=round(time.perf_counter() - t0, 3),
                     last_epoch=int(history["epoch"].max()) if len(history) else 0)
    return history
