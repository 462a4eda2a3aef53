"""Per-run metrics (docs/statistics.md): what one training run's history says, one value per run.

Nothing here reads files. :func:`run_metrics` takes a validated history and, when the run scored
its best checkpoint on a held-out test split, that test accuracy.

- Selection-unbiased accuracy (``unbiased_acc``): the best epoch is chosen on validation and
  scored on the test split (``unbiased_source = "test"``). Without a test split (an imported
  history) the final-epoch validation accuracy is used (``"final-val"``): a fixed epoch, so no
  selection. This is the number H1, readiness and the scenario read.
- Best val acc (the strategy document's "Best Val Acc"): the maximum over epochs of the same
  validation set the epoch was selected on, so optimistic. A no-skill model with 8-point epoch
  noise averages 68 % over 12 epochs.
- Variability over epochs 1–10: the strategy document's ± half range ``(max - min) / 2``
  (descriptive: a clean learning curve rising 50 → 85 % has a half range of 17.5 points) and a
  noise measure for stability and H2 that the curve's shape does not inflate: the SD of val acc
  around its own trend over epochs 1–10 (:func:`vfreport.stats.noise.noise_sd`,
  ``val_acc_noise_sd``): a least-squares concave trend, with chance-level plateau epochs (train
  loss within 0.01 of ln 2 for 3 or more epochs in a row; ``chance_epochs`` counts them) fitted by
  their own level instead. Later epochs do not enter: H2 is the strategy document's question about
  epochs 1–10 (and a later, lower learning rate would change the noise being compared); a run
  with fewer than 6 epochs has no noise value. Also shown as the half range that noise of that SD
  gives over the window's k epochs (``val_acc_noise_half_range = σ · d2(k) / 2``), so it reads on
  the strategy document's ±5 % scale.
- Train acc at epoch 10; plateau at ln 2; best epoch after 4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate
from scipy import stats as st

from vfreport.stats.intervals import finite
from vfreport.stats.noise import noise_sd

LN2 = math.log(2.0)
EARLY_EPOCHS = 10
"""Variability and train accuracy are read over epochs 1..10 (the strategy document's window)."""
PLATEAU_TOLERANCE = 0.01
PLATEAU_MIN_EPOCHS = 3
BEST_AFTER_EPOCH = 4
NOISE_FLOOR = 1e-4
"""Noise SDs below this (0.01 points, under any validation set's resolution) are taken as
this value before logs are compared (a noise-free curve would otherwise give log 0)."""
UNBIASED_SOURCES = {
    "test": "best epoch chosen on validation, scored on the held-out test split",
    "final-val": "final-epoch validation accuracy (no test split)",
}


@dataclass(frozen=True)
class RunMetrics:
    """What one training run says (see :func:`run_metrics`)."""

    epochs: int
    unbiased_acc: float
    unbiased_source: str
    test_acc: float | None
    best_val_acc: float
    best_epoch: int
    best_after_epoch4: bool
    train_acc_epoch10: float | None
    train_frames_epoch10: int | None
    val_acc_half_range: float | None
    val_acc_jump_std: float | None
    val_acc_noise_sd: float | None
    val_acc_noise_half_range: float | None
    chance_epochs: int
    window_epochs: int
    plateau: bool
    plateau_epochs: int
    final_val_acc: float
    final_train_acc: float
    best_val_window_acc: float | None
    flags: tuple[str, ...] = ()
    test_split_var: float | None = None
    test_split_clusters: int | None = None
    never_left_chance: bool = False
    """Every epoch inside a chance-level plateau: a failed run (docs/statistics-runs.md)."""


def longest_run(mask: Sequence[bool] | np.ndarray) -> int:
    """Length of the longest stretch of consecutive True values."""
    best = cur = 0
    for m in np.asarray(mask, dtype=bool):
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


@lru_cache(maxsize=64)
def expected_range(k: int) -> float:
    """d2(k): the expected range of ``k`` independent standard-normal values,
    ``∫ 1 - Φ(x)^k - (1 - Φ(x))^k dx`` (d2(10) = 3.078).

    References
    ----------
    Tippett, L. H. C. (1925), "On the extreme individuals and the range of samples taken from a
    normal population", Biometrika 17. Montgomery, D. C. (2009), *Introduction to Statistical
    Quality Control*, 6th ed., Appendix VI (the control-chart constant d2).
    """
    if k < 2:
        return 0.0

    def f(x: float) -> float:
        return 1.0 - st.norm.cdf(x) ** k - st.norm.sf(x) ** k

    return float(integrate.quad(f, -np.inf, np.inf)[0])


def plateau_epochs_mask(train_loss: Sequence[float] | np.ndarray) -> np.ndarray:
    """Epochs inside a chance-level plateau: ``|train_loss - ln 2| <= 0.01`` for at least 3
    consecutive epochs (the rule behind ``plateau``). True marks such an epoch."""
    near = np.abs(np.asarray(train_loss, dtype=float) - LN2) <= PLATEAU_TOLERANCE
    out = np.zeros(len(near), dtype=bool)
    start = None
    for i, m in enumerate([*near, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start >= PLATEAU_MIN_EPOCHS:
                out[start:i] = True
            start = None
    return out


def split_sampling_error(test: Mapping[str, Any] | None) -> tuple[float | None, int | None]:
    """The clustered sampling variance of a run's test accuracy and its number of clusters, from
    status.json ``test`` (written by :func:`vfreport.model.train.score_checkpoint`); (None, None)
    for runs scored before these were recorded, or without a test split."""
    if not isinstance(test, Mapping):
        return None, None
    var, groups = finite(test.get("split_var")), finite(test.get("split_clusters"))
    return var, int(groups) if groups is not None else None


def arm_split_error(runs: Sequence[RunMetrics]) -> tuple[float | None, int | None]:
    """An arm's test-split variance for :func:`vfreport.stats.intervals.arm_accuracy_interval`: the
    mean of its runs' clustered split variances and the fewest clusters among them (the split's
    own error is shared by every run scored on it, so it is added once, not divided by n). (None,
    None) unless every run recorded one (runs scored before it was recorded, no test split)."""
    vals = [(r.test_split_var, r.test_split_clusters) for r in runs]
    if not vals or any(v is None or g is None for v, g in vals):
        return None, None
    return float(np.mean([v for v, _ in vals])), int(min(g for _, g in vals))


def run_metrics(history: pd.DataFrame, test_acc: float | None = None, test_split_var: float | None = None,
                test_split_clusters: int | None = None) -> RunMetrics:
    """Per-run metrics from one validated history (one row per epoch, 1-based, consecutive, with
    ``epoch``, ``train_loss``, ``train_acc``, ``val_acc``; ``train_frames`` and ``val_window_acc``
    used when present) and the run's test accuracy at its best-validation epoch, if it has one.

    Best epoch: the first epoch reaching the maximum val acc (the one a best-checkpoint rule
    keeps). Plateau: ``|train_loss - ln 2| <= 0.01`` for at least 3 consecutive epochs (chance
    level of a balanced two-class cross-entropy, the strategy document's 0.694). The test split's
    clustered sampling variance and cluster count (:func:`split_sampling_error`) are carried along for
    the arm's accuracy interval (:func:`vfreport.stats.intervals.arm_accuracy_interval`).
    """
    if len(history) == 0:
        raise ValueError("history has no epochs")
    h = history if np.all(np.diff(history["epoch"].to_numpy()) > 0) else history.sort_values("epoch")
    epoch = h["epoch"].to_numpy(dtype=int)
    val = h["val_acc"].to_numpy(dtype=float)
    train = h["train_acc"].to_numpy(dtype=float)
    best_idx = int(np.argmax(val))
    flags: list[str] = []

    at10 = np.flatnonzero(epoch == EARLY_EPOCHS)
    train10 = float(train[at10[0]]) if len(at10) else None
    frames10 = None
    if len(at10) and "train_frames" in h.columns:
        f = finite(h["train_frames"].to_numpy(dtype=float)[at10[0]])
        frames10 = int(round(f)) if f is not None else None

    early = epoch <= EARLY_EPOCHS
    ev = val[early]
    window = len(ev)
    changes = np.diff(ev)
    at_chance = plateau_epochs_mask(h["train_loss"].to_numpy(dtype=float))
    noise = noise_sd(ev, epoch[early], at_chance[early])
    chance_epochs = int(np.sum(at_chance[early]))
    if window < EARLY_EPOCHS:
        flags.append(f"only {window} epoch{'s' if window != 1 else ''}: variability over epochs 1–{window} instead "
                     f"of 1–{EARLY_EPOCHS}, no train acc at epoch {EARLY_EPOCHS}")
    test = finite(test_acc)
    window_acc = None
    if "val_window_acc" in h.columns:
        window_acc = finite(h["val_window_acc"].to_numpy(dtype=float)[best_idx])
    plateau_epochs = longest_run(np.abs(h["train_loss"].to_numpy(dtype=float) - LN2) <= PLATEAU_TOLERANCE)
    return RunMetrics(
        epochs=int(epoch[-1]),
        unbiased_acc=test if test is not None else float(val[-1]),
        unbiased_source="test" if test is not None else "final-val",
        test_acc=test,
        best_val_acc=float(val[best_idx]),
        best_epoch=int(epoch[best_idx]),
        best_after_epoch4=int(epoch[best_idx]) > BEST_AFTER_EPOCH,
        train_acc_epoch10=train10,
        train_frames_epoch10=frames10,
        val_acc_half_range=float((ev.max() - ev.min()) / 2.0) if window >= 2 else None,
        val_acc_jump_std=float(np.std(changes, ddof=1)) if len(changes) >= 2 else None,
        val_acc_noise_sd=noise,
        val_acc_noise_half_range=noise * expected_range(window) / 2.0 if noise is not None else None,
        chance_epochs=chance_epochs,
        window_epochs=window,
        plateau=plateau_epochs >= PLATEAU_MIN_EPOCHS,
        plateau_epochs=plateau_epochs,
        final_val_acc=float(val[-1]),
        final_train_acc=float(train[-1]),
        best_val_window_acc=window_acc,
        flags=tuple(flags),
        test_split_var=finite(test_split_var) if test is not None else None,
        test_split_clusters=test_split_clusters if test is not None else None,
        never_left_chance=bool(at_chance.all()),
    )
