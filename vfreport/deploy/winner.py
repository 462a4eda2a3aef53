"""Which checkpoint to export: the best seed of the winning arm (the checkpoints there are:
:meth:`vfreport.experiment.records.Experiment.best_checkpoints`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfreport.errors import ExperimentError, ExportError
from vfreport.experiment.layout import ExperimentDir
from vfreport.names import check_name


@dataclass(frozen=True)
class Selection:
    """The checkpoint chosen for export."""

    arm: str
    seed: int
    epoch: int
    val_acc: float
    checkpoint: Path


def _arm_mean(results: dict[str, Any], arm: str) -> float | None:
    entry = results.get("arms", {}).get(arm) or {}
    # the selection-unbiased accuracy (analysis.metrics); results without it: best val acc
    stat = entry.get("unbiased_acc") or entry.get("best_val_acc") or {}
    mean = stat.get("mean") if isinstance(stat, dict) else None
    return float(mean) if isinstance(mean, int | float) and math.isfinite(mean) else None


def _completed_seeds(results: dict[str, Any], arm: str) -> list[int]:
    runs = results.get("runs")
    if isinstance(runs, list) and runs:
        return sorted({int(r["seed"]) for r in runs if r.get("arm") == arm and r.get("state") == "completed"})
    return sorted(int(s) for s in (results.get("arms", {}).get(arm) or {}).get("seeds", []))


def choose_winner(results: dict[str, Any], exp_dir: Path, arm: str | None = None) -> Selection:
    """Pick the checkpoint to export.

    Arm: ``arm`` if given, else the arm with the highest mean selection-unbiased accuracy over seeds
    (``results["arms"][arm]["unbiased_acc"]["mean"]``, or ``best_val_acc`` in results without it;
    ties go to the alphabetically first arm).
    Within the arm: among completed runs, the ``best.pt`` whose own ``best_val_acc`` is highest
    (ties: lowest seed). Raises ExportError naming the paths when no such checkpoint exists.
    """
    arms = results.get("arms") or {}
    if not isinstance(arms, dict) or not arms:
        raise ExportError(f"{Path(exp_dir) / 'results.json'} has no 'arms': nothing to export")
    if arm is not None:
        check_name(arm, "arm name")
        if arm not in arms:
            raise ExportError(
                f"arm {arm!r} is not in {Path(exp_dir) / 'results.json'} (arms: {', '.join(sorted(arms))})"
            )
    else:
        scored = [(m, name) for name in sorted(arms) if (m := _arm_mean(results, name)) is not None]
        if not scored:
            raise ExportError(
                f"no arm in {Path(exp_dir) / 'results.json'} has a best val acc (no completed runs): nothing to export"
            )
        best_mean = max(m for m, _ in scored)
        arm = next(name for m, name in scored if m == best_mean)

    exp = ExperimentDir(exp_dir)
    seeds = _completed_seeds(results, arm)
    candidates: list[Selection] = []
    looked: list[str] = []
    for seed in seeds:
        path = exp.run(arm, seed).best
        looked.append(str(path))
        if not path.is_file():
            continue
        ckpt = read_checkpoint(path)
        try:
            val_acc = float(ckpt["best_val_acc"])
            epoch = int(ckpt.get("best_epoch", ckpt.get("epoch")))
        except (KeyError, TypeError, ValueError) as e:
            raise ExportError(f"{path} lacks 'best_val_acc'/'best_epoch': not a vfreport best checkpoint") from e
        if int(ckpt.get("seed", seed)) != seed:
            raise ExportError(f"{path} says seed {ckpt.get('seed')} but lives in seed-{seed}")
        candidates.append(Selection(arm, seed, epoch, val_acc, path))
    if not candidates:
        where = ", ".join(looked) if looked else f"no completed run of arm {arm!r} in results.json"
        raise ExportError(
            f"no best.pt checkpoint for arm {arm!r} ({where}); train it first or choose another arm with --arm"
        )
    return max(candidates, key=lambda s: (s.val_acc, -s.seed))


def read_checkpoint(path: Path) -> dict[str, Any]:
    from vfreport.model.network import load_checkpoint

    try:
        return load_checkpoint(path)
    except ExperimentError as e:
        raise ExportError(str(e)) from e
