"""The training loop: one (arm, seed) run, checkpointed and resumable, deterministic per seed.

Readable in one sitting (nanoGPT-style): ``train_run`` loops over epochs; each epoch shuffles
with a generator seeded by (seed, epoch) and reseeds dropout the same way, so a run resumed
from ``last.pt`` replays exactly the epochs an uninterrupted run would have.

Per epoch it appends to ``history.csv`` (train/val loss and frame accuracy over scored frames,
lr, seconds, scored-frame counts, window accuracy), rewrites ``val_predictions.parquet`` (frames
scored/correct per validation window and epoch), and saves ``last.pt``, ``epoch-XXXX.pt`` every
``checkpoint_every`` epochs and ``best.pt`` on a new best val acc. Every file is written
atomically.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from vfreport import __version__
from vfreport.config import TrainSettings
from vfreport.errors import ConfigError
from vfreport.experiment.layout import RunDir, atomic_write_with
from vfreport.model.network import FastDiarizationModel, ModelConfig, load_checkpoint
from vfreport.names import run_key
from vfreport.objective import check_resolved, resolve_objective
from vfreport.stats.intervals import clustered_accuracy

CHECKPOINT_FORMAT = "vfreport-checkpoint-1"
WARMUP_FRACTION = 0.05


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def epoch_size(n_windows: int, epoch_windows: int) -> int:
    """Windows one epoch trains on: ``epoch_windows`` of the ``n_windows`` prepared (all when 0 or
    more than there are). Each epoch draws its windows afresh (a seeded permutation), so a pool
    k times larger than an epoch shows each window about 12/k times in 12 epochs: more distinct
    windows for the same compute, which raised the demo AMI arm's test-split lift
    (measurements: docs/performance.md)."""
    return n_windows if epoch_windows <= 0 else min(int(epoch_windows), n_windows)


def lr_at(step: int, total_steps: int, base_lr: float) -> float:
    """Linear warm-up over the first 5 % of steps, then cosine decay to 10 % of ``base_lr``."""
    warm = max(1, int(WARMUP_FRACTION * total_steps))
    if step < warm:
        return base_lr * (step + 1) / warm
    progress = (step - warm) / max(1, total_steps - warm)
    return base_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def masked_loss_and_hits(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, objective: str = "fixed"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cross-entropy summed over scored frames, correct frames per window, scored frames per window.

    ``objective="pit"`` (permutation-invariant, pyannote's segmentation): each window is scored
    under the better of the two label permutations (labels as given, or 0 and 1 swapped): the
    loss takes the permutation with the lower loss, the hits the one with more correct frames
    (``max(hits, scored - hits)``, as :func:`vfreport.data.labels.window_hits`).
    """
    logits = logits.float()
    m = mask.to(logits.dtype)
    scored = mask.sum(dim=1)
    logp = F.log_softmax(logits, dim=-1)  # (B, T, 2)
    ce = -logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)  # (B, T)
    hits = ((logits.argmax(-1) == labels) & mask).sum(dim=1)
    if check_resolved(objective) == "fixed":
        return (ce * m).sum(), hits, scored
    ce_swapped = -logp.gather(-1, (1 - labels).unsqueeze(-1)).squeeze(-1)
    per_window = torch.minimum((ce * m).sum(dim=1), (ce_swapped * m).sum(dim=1))
    return per_window.sum(), torch.maximum(hits, scored - hits), scored


class _Arrays:
    """Model-ready tensors, on the training device when they fit (GPU), else pinned on the host."""

    def __init__(self, audio: np.ndarray, labels: np.ndarray, mask: np.ndarray, device: torch.device) -> None:
        self.device = device
        arrays = (audio, labels.astype(np.int64), mask.astype(bool))
        tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
        on_device = False
        if device.type == "cuda":
            need = sum(t.numel() * t.element_size() for t in tensors)
            free, _ = torch.cuda.mem_get_info(device)
            on_device = need < 0.5 * free
            if not on_device:
                tensors = [t.pin_memory() for t in tensors]
        if on_device:
            tensors = [t.to(device) for t in tensors]
        self.audio, self.labels, self.mask = tensors
        self.n = len(self.audio)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = idx.to(self.audio.device)
        out = (self.audio[idx], self.labels[idx], self.mask[idx])
        return tuple(t.to(self.device, non_blocking=True) for t in out)  # type: ignore[return-value]


def autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def evaluate(model: FastDiarizationModel, data: _Arrays, batch_size: int,
             objective: str = "fixed") -> tuple[float, np.ndarray, np.ndarray]:
    """Mean loss over scored frames, and per-window (frames correct, frames scored)."""
    model.eval()
    loss_sum, hits, scored = 0.0, [], []
    with torch.no_grad(), autocast(data.device):
        for start in range(0, data.n, batch_size):
            idx = torch.arange(start, min(start + batch_size, data.n))
            x, y, m = data.batch(idx)
            ls, h, s = masked_loss_and_hits(model(x), y, m, objective)
            loss_sum += float(ls)
            hits.append(h.cpu())
            scored.append(s.cpu())
    h_all = torch.cat(hits).numpy().astype(np.int64)
    s_all = torch.cat(scored).numpy().astype(np.int64)
    return loss_sum / max(1, int(s_all.sum())), h_all, s_all


def window_clusters(windows: Any) -> tuple[np.ndarray, str]:
    """The cluster of each window for the split's sampling error: its source row (a recording; for
    ``pairs`` windows, the row of the first half) when every window knows it ("recording"), else
    each window on its own ("window")."""
    n = int(windows.audio.shape[0])
    row = getattr(windows, "row", None)
    if row is None or len(row) != n or np.any(np.asarray(row) < 0):
        return np.arange(n), "window"
    return np.asarray(row, dtype=np.int64), "recording"


def score_checkpoint(path: Path | str, windows: Any, batch_size: int = 64, device: str = "auto") -> dict[str, Any]:
    """Frame accuracy of the checkpoint at ``path`` (e.g. ``best.pt``, chosen on validation) on
    ``windows`` (a held-out test split), scored as in training (the checkpoint's objective).
    Returns acc, frames scored, windows and the checkpoint's epoch, and the split's own sampling
    error: frames correct / scored per cluster of windows (``per_cluster``, clusters from
    :func:`window_clusters`, ``cluster_by``), the clustered variance of ``acc`` (``split_var``,
    :func:`vfreport.stats.intervals.clustered_accuracy`) and the number of clusters."""
    dev = resolve_device(device)
    ckpt = load_checkpoint(path, map_location=dev)
    model = FastDiarizationModel.from_checkpoint(path, map_location=dev).to(dev)
    data = _Arrays(windows.audio, windows.labels, windows.mask, dev)
    _, hits, scored = evaluate(model, data, batch_size, str(ckpt.get("objective", "fixed")))
    total = int(scored.sum())
    cluster, by = window_clusters(windows)
    ids, idx = np.unique(cluster, return_inverse=True)
    _, split_var, groups = clustered_accuracy(hits, scored, cluster)
    return {"acc": float(hits.sum() / total) if total else None, "frames": total,
            "windows": int(windows.audio.shape[0]), "epoch": int(ckpt.get("epoch", 0)), "checkpoint": Path(path).name,
            "split_var": split_var, "split_clusters": groups, "cluster_by": by,
            "per_cluster": {"cluster": ids.tolist(),
                            "frames_correct": np.bincount(idx, weights=hits, minlength=len(ids)).astype(int).tolist(),
                            "frames_scored": np.bincount(idx, weights=scored, minlength=len(ids)).astype(int).tolist()}}


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    def write(f: Any) -> None:
        buf = io.BytesIO()
        torch.save(payload, buf)
        f.write(buf.getvalue())

    atomic_write_with(path, write)


def _write_predictions(path: Path, frames: pd.DataFrame) -> None:
    atomic_write_with(path, lambda f: frames.to_parquet(f, index=False))


def training_objective(spec: TrainSettings, train: Any) -> str:
    """``spec.objective`` resolved against the windows' label strategy ("fixed" or "pit")."""
    strategy = (getattr(train, "info", None) or {}).get("label_strategy")
    try:
        return resolve_objective(strategy, spec.objective)
    except ValueError as e:
        raise ConfigError(str(e)) from e


def _model_and_optimizer(spec: TrainSettings, train: Any, val: Any, model_config: ModelConfig | None,
                         device: torch.device) -> tuple[FastDiarizationModel, torch.optim.Optimizer]:
    """The seeded model (its frame count checked against the labels') and AdamW, weight decay on
    matrices only."""
    torch.manual_seed(spec.seed)
    model = FastDiarizationModel(model_config).to(device)
    n_frames = model.num_frames(train.audio.shape[1])
    if train.labels.shape[1] != n_frames or val.labels.shape[1] != model.num_frames(val.audio.shape[1]):
        raise ConfigError(
            f"labels have {train.labels.shape[1]} frames per window but the model outputs {n_frames}: "
            "windows were built for another frame geometry"
        )
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": spec.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=spec.lr,
    )
    return model, optimizer


@dataclass
class _Progress:
    """What the epochs so far left: the history rows, the validation predictions, the best epoch."""

    history: list[dict[str, Any]] = field(default_factory=list)
    predictions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["epoch", "window", "frames_scored", "frames_correct"]))
    best_val_acc: float = -1.0
    best_epoch: int = 0
    start_epoch: int = 1


def _resume(run: RunDir, model: FastDiarizationModel, optimizer: torch.optim.Optimizer,
            device: torch.device) -> _Progress:
    """A fresh start, or the state of ``last.pt`` (model, optimizer, history) and its predictions."""
    done = _Progress()
    if run.last.exists():
        ckpt = load_checkpoint(run.last, map_location=device)
        model.load_state_dict(ckpt["model_state"])
        optimizer.load_state_dict(ckpt["optimizer_state"])
        done.history = [dict(r) for r in ckpt["history"]]
        done.best_val_acc, done.best_epoch = float(ckpt["best_val_acc"]), int(ckpt["best_epoch"])
        done.start_epoch = int(ckpt["epoch"]) + 1
        if run.predictions.exists():
            predictions = pd.read_parquet(run.predictions)
            done.predictions = predictions[predictions["epoch"] < done.start_epoch]
    return done


def _train_epoch(model: FastDiarizationModel, optimizer: torch.optim.Optimizer, tr: _Arrays, spec: TrainSettings,
                 epoch: int, per_epoch: int, total_steps: int, objective: str,
                 device: torch.device) -> tuple[float, int, int, float]:
    """One epoch of AdamW steps on a fresh seeded draw of the pool: (loss sum, hits, scored frames, last lr)."""
    model.train()
    steps_per_epoch = math.ceil(per_epoch / spec.batch_size)
    gen = torch.Generator().manual_seed(spec.seed * 1_000_003 + epoch)
    torch.manual_seed(spec.seed * 7_919 + epoch)  # dropout stream, replayable on resume
    order = torch.randperm(tr.n, generator=gen)[:per_epoch]  # a fresh draw of the pool each epoch
    loss_sum, hit_sum, scored_sum, lr = 0.0, 0, 0, spec.lr
    for b in range(steps_per_epoch):
        step = (epoch - 1) * steps_per_epoch + b
        lr = lr_at(step, total_steps, spec.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y, m = tr.batch(order[b * spec.batch_size : (b + 1) * spec.batch_size])
        with autocast(device):
            logits = model(x)
        ls, hits, scored = masked_loss_and_hits(logits, y, m, objective)
        n_scored = scored.sum()
        loss = ls / n_scored.clamp(min=1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss_sum += float(ls.detach())
        hit_sum += int(hits.sum())
        scored_sum += int(n_scored)
    return loss_sum, hit_sum, scored_sum, lr


def _epoch_predictions(epoch: int, val_hits: np.ndarray, val_scored: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": np.full(len(val_hits), epoch, dtype=np.int64),
            "window": np.arange(len(val_hits), dtype=np.int64),
            "frames_scored": val_scored,
            "frames_correct": val_hits,
        }
    )


def _payload(spec: TrainSettings, model: FastDiarizationModel, optimizer: torch.optim.Optimizer, epoch: int,
             steps_per_epoch: int, total_steps: int, done: _Progress, val_acc: float,
             objective: str) -> dict[str, Any]:
    """A checkpoint (:data:`CHECKPOINT_FORMAT`) after ``epoch``."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model_config": asdict(model.config),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer_state": optimizer.state_dict(),
        "scheduler_state": {"step": epoch * steps_per_epoch, "total_steps": total_steps},
        "epoch": epoch,
        "history": done.history,
        "val_acc": val_acc,
        "best_val_acc": done.best_val_acc,
        "best_epoch": done.best_epoch,
        "arm": spec.arm,
        "seed": spec.seed,
        "objective": objective,
        "vfreport_version": __version__,
        "sample_rate": model.config.sample_rate,
        "frame_step": model.frame_step,
    }


def train_run(
    spec: TrainSettings,
    run: RunDir,
    train: Any,
    val: Any,
    model_config: ModelConfig | None = None,
    progress: bool = True,
    on_epoch: Any = None,
) -> pd.DataFrame:
    """Train one run into ``run`` and return its history (resuming from ``last.pt`` if present).

    ``train`` / ``val`` are :class:`vfreport.data.windows.Windows` (``audio`` (N, S) float32,
    ``labels`` (N, T) int, ``mask`` (N, T) bool).
    """
    device = resolve_device(spec.device)
    objective = training_objective(spec, train)
    model, optimizer = _model_and_optimizer(spec, train, val, model_config, device)
    tr = _Arrays(train.audio, train.labels, train.mask, device)
    va = _Arrays(val.audio, val.labels, val.mask, device)
    per_epoch = epoch_size(tr.n, spec.epoch_windows)
    steps_per_epoch = math.ceil(per_epoch / spec.batch_size)
    total_steps = steps_per_epoch * spec.epochs
    done = _resume(run, model, optimizer, device)

    bar = tqdm(
        range(done.start_epoch, spec.epochs + 1),
        desc=run_key(spec.arm, spec.seed),
        unit="epoch",
        disable=not progress,
        initial=done.start_epoch - 1,
        total=spec.epochs,
    )
    for epoch in bar:
        t0 = time.perf_counter()
        loss_sum, hit_sum, scored_sum, lr = _train_epoch(model, optimizer, tr, spec, epoch, per_epoch, total_steps,
                                                         objective, device)
        val_loss, val_hits, val_scored = evaluate(model, va, max(spec.batch_size, 64), objective)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        scored_windows = val_scored > 0
        val_acc = float(val_hits.sum() / max(1, val_scored.sum()))
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(1, scored_sum),
            "train_acc": hit_sum / max(1, scored_sum),
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": lr,
            "epoch_seconds": time.perf_counter() - t0,
            "train_frames": scored_sum,
            "val_frames": int(val_scored.sum()),
            "val_window_acc": float(np.mean(val_hits[scored_windows] * 2 > val_scored[scored_windows]))
            if scored_windows.any()
            else float("nan"),
        }
        done.history.append(row)
        epoch_preds = _epoch_predictions(epoch, val_hits, val_scored)
        done.predictions = (epoch_preds if done.predictions.empty
                            else pd.concat([done.predictions, epoch_preds], ignore_index=True))
        is_best = val_acc > done.best_val_acc
        if is_best:
            done.best_val_acc, done.best_epoch = val_acc, epoch

        # Outputs first, checkpoint last: a crash between them replays this epoch on resume.
        run.write_history(pd.DataFrame(done.history))  # validated: the schema analysis reads
        _write_predictions(run.predictions, done.predictions)
        payload = _payload(spec, model, optimizer, epoch, steps_per_epoch, total_steps, done, val_acc, objective)
        if is_best:
            _save_checkpoint(run.best, payload)
        if epoch % spec.checkpoint_every == 0:
            _save_checkpoint(run.checkpoint(epoch), payload)
        _save_checkpoint(run.last, payload)
        if on_epoch is not None:
            on_epoch(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", acc=f"{row['train_acc']:.2f}", val=f"{val_acc:.2f}")
    bar.close()
    return pd.DataFrame(done.history)
