"""Build fake experiment directories for tests (no training): histories in, a directory that
follows docs/experiment-directory.md out. Reusable by any test module: ``from _expdir import make_experiment``.

    exp = make_experiment(tmp_path, {("librispeech", 0): make_history([...]), ("ami", 0): ...})
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vfreport.config import load_config
from vfreport.experiment.layout import ExperimentDir, atomic_write_json

LN2 = math.log(2.0)


def make_history(
    val_acc: Sequence[float],
    train_acc: Sequence[float] | None = None,
    train_loss: Sequence[float] | None = None,
    *,
    train_frames: int = 4000,
    val_frames: int = 2000,
    val_window_acc: Sequence[float] | None = None,
) -> pd.DataFrame:
    """A history.csv table with the contract's columns; unspecified columns get plausible values."""
    n = len(val_acc)
    val = np.asarray(val_acc, dtype=float)
    tr = np.asarray(train_acc, dtype=float) if train_acc is not None else np.linspace(0.55, 0.9, n)
    loss = np.asarray(train_loss, dtype=float) if train_loss is not None else np.linspace(0.69, 0.3, n)
    return pd.DataFrame(
        {
            "epoch": np.arange(1, n + 1),
            "train_loss": loss,
            "train_acc": tr,
            "val_loss": 1.0 - 0.5 * val,
            "val_acc": val,
            "lr": np.full(n, 1e-3),
            "epoch_seconds": np.full(n, 2.5),
            "train_frames": np.full(n, train_frames),
            "val_frames": np.full(n, val_frames),
            "val_window_acc": np.asarray(val_window_acc, dtype=float) if val_window_acc is not None else val,
        }
    )


def make_predictions(
    history: pd.DataFrame,
    n_windows: int = 20,
    frames_per_window: int = 100,
    seed: int = 0,
    spread: float = 0.1,
) -> pd.DataFrame:
    """val_predictions rows (epoch, window, frames_scored, frames_correct) whose per-epoch totals
    give round(val_acc × scored) correct frames, spread over windows with some variation."""
    rng = np.random.default_rng(seed)
    rows = []
    for epoch, acc in zip(history["epoch"], history["val_acc"], strict=True):
        scored = np.full(n_windows, frames_per_window)
        correct = np.clip(np.round((acc + rng.normal(0, spread, n_windows)) * scored), 0, scored).astype(int)
        want = int(round(acc * scored.sum()))
        while correct.sum() != want:  # nudge one frame at a time towards the exact total
            i = int(rng.integers(n_windows))
            if correct.sum() < want and correct[i] < scored[i]:
                correct[i] += 1
            elif correct.sum() > want and correct[i] > 0:
                correct[i] -= 1
        for w in range(n_windows):
            rows.append((int(epoch), w, int(scored[w]), int(correct[w])))
    return pd.DataFrame(rows, columns=["epoch", "window", "frames_scored", "frames_correct"])


def make_experiment(
    tmp_path: Path,
    histories: Mapping[tuple[str, int], pd.DataFrame | None],
    overrides: Mapping[str, Any] | None = None,
    states: Mapping[tuple[str, int], str] | None = None,
    *,
    predictions: bool | Mapping[tuple[str, int], pd.DataFrame] = False,
    status_extra: Mapping[tuple[str, int], Mapping[str, Any]] | None = None,
    params: Mapping[tuple[str, int], Mapping[str, Any]] | None = None,
    name: str = "exp",
) -> Path:
    """Write ``tmp_path/name`` with experiment.toml (demo preset + ``overrides``; seeds and
    epochs default to those of ``histories``), and for every (arm, seed): history.csv (unless the
    history is None), status.json (state from ``states``, default "completed"; a failed run gets
    an error), optional params.json and val_predictions.parquet (``predictions=True`` derives
    them from the histories). Returns the experiment directory."""
    states = dict(states or {})
    status_extra = dict(status_extra or {})
    seeds = sorted({s for _, s in histories} | {s for _, s in states})
    epochs = max((len(h) for h in histories.values() if h is not None), default=12)
    over = {"experiment": {"name": name, "seeds": seeds, "epochs": epochs}}
    for k, v in (overrides or {}).items():
        over[k] = {**over.get(k, {}), **v} if isinstance(v, Mapping) else v
    cfg = load_config(preset="demo", overrides=over)
    ed = ExperimentDir(Path(tmp_path) / name)
    ed.root.mkdir(parents=True, exist_ok=True)
    ed.write_config(cfg)
    for key in sorted(set(histories) | set(states)):
        arm, seed = key
        run = ed.run(arm, seed)
        run.root.mkdir(parents=True, exist_ok=True)
        hist = histories.get(key)
        if hist is not None:
            hist.to_csv(run.history, index=False)
        state = states.get(key, "completed")
        status: dict[str, Any] = {
            "state": state,
            "started": "2025-12-15T10:00:00+00:00",
            "ended": "2025-12-15T10:05:00+00:00",
            "seconds": 300.0,
            "last_epoch": len(hist) if hist is not None else 0,
            "epochs": cfg.epochs,
        }
        if state == "failed":
            status["error"] = {"type": "RuntimeError", "message": "CUDA out of memory", "cell": 4}
        run.write_status(fresh=True, **{**status, **status_extra.get(key, {})})
        if params and key in params:
            atomic_write_json(run.params, dict(params[key]))
        if isinstance(predictions, Mapping):
            if key in predictions:
                predictions[key].to_parquet(run.predictions, index=False)
        elif predictions and hist is not None:
            make_predictions(hist, seed=seed).to_parquet(run.predictions, index=False)
    return ed.root


LIBRISPEECH_VAL = [0.52, 0.40, 0.58, 0.615, 0.315, 0.55, 0.45, 0.60, 0.47, 0.53, 0.50, 0.56]
"""The strategy document's LibriSpeech run: best 61.5 % at epoch 4, ±15 % over epochs 1–10."""
LIBRISPEECH_TRAIN = [0.49, 0.50, 0.47, 0.49, 0.48, 0.50, 0.47, 0.49, 0.48, 0.48, 0.49, 0.48]
LIBRISPEECH_LOSS = [
    0.6935,
    0.6940,
    0.6938,
    0.6942,
    0.6939,
    0.6941,
    0.6937,
    0.6940,
    0.6939,
    0.6940,
    0.6938,
    0.6940,
]


def librispeech_history() -> pd.DataFrame:
    """The strategy document's LibriSpeech figures as a 12-epoch history (plateau at ln 2)."""
    return make_history(LIBRISPEECH_VAL, LIBRISPEECH_TRAIN, LIBRISPEECH_LOSS)


def ami_history(level: float = 0.80, seed: int = 0, epochs: int = 12) -> pd.DataFrame:
    """A smooth, learning target run that ends near ``level`` (small epoch-to-epoch jitter)."""
    rng = np.random.default_rng(seed)
    ramp = level - 0.2 * np.exp(-np.arange(epochs) / 3.0)
    val = np.clip(ramp + rng.normal(0, 0.004, epochs), 0, 1)
    train = np.clip(np.linspace(0.6, 0.9, epochs) + rng.normal(0, 0.005, epochs), 0, 1)
    loss = np.linspace(0.65, 0.25, epochs)
    return make_history(val, train, loss)
