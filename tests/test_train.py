"""Training loop: history contract, checkpoints, resume equivalence, determinism."""

import types

import numpy as np
import pandas as pd
import pytest
import torch

from vfreport.config import TrainSettings
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.network import FastDiarizationModel, ModelConfig, load_checkpoint, num_frames
from vfreport.model.train import lr_at, train_run

SMALL = ModelConfig(width=32, attn_layers=1, heads=2)
S = 8000


def windows(n: int, seed: int):
    """Two tones (low / high pitch) labelled 0 / 1 per frame: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    t = np.arange(S) / 16000
    labels = rng.integers(0, 2, n)
    f0 = np.where(labels == 1, 900.0, 300.0)[:, None]
    audio = (np.sin(2 * np.pi * f0 * t) + 0.3 * rng.standard_normal((n, S))).astype(np.float32)
    T = num_frames(S)
    mask = np.ones((n, T), bool)
    mask[:, :2] = False  # some unscored frames
    return types.SimpleNamespace(audio=audio, labels=np.repeat(labels[:, None], T, 1), mask=mask)


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def run(tmp_path, name, epochs=6, on_epoch=None, seed=0):
    spec = TrainSettings(seed=seed, epochs=epochs, checkpoint_every=5, batch_size=16, lr=3e-3, device="cpu")
    r = ExperimentDir(tmp_path / name).run("ami", seed)
    h = train_run(spec, r, windows(64, 1), windows(32, 2), model_config=SMALL, progress=False, on_epoch=on_epoch)
    return r, h


def deterministic(df: pd.DataFrame) -> str:
    return df.drop(columns=["epoch_seconds"]).to_csv(index=False)


def test_history_checkpoints_and_predictions(tmp_path):
    r, h = run(tmp_path, "a")
    disk = pd.read_csv(r.history)
    assert list(disk.columns[:7]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"]
    assert disk["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert disk[["train_acc", "val_acc"]].apply(lambda c: c.between(0, 1)).all().all()
    assert h["val_acc"].iloc[-1] > 0.9, "two tones must be learnt"
    assert (disk["val_frames"] == 32 * (num_frames(S) - 2)).all()
    assert sorted(p.name for p in r.checkpoints.iterdir()) == ["best.pt", "epoch-0005.pt", "last.pt"]
    preds = pd.read_parquet(r.predictions)
    assert len(preds) == 6 * 32
    per_epoch = preds.groupby("epoch").sum()
    np.testing.assert_allclose(per_epoch["frames_correct"] / per_epoch["frames_scored"], disk["val_acc"].to_numpy())
    best = load_checkpoint(r.best)
    assert best["best_epoch"] == int(disk["val_acc"].idxmax()) + 1
    assert best["val_acc"] == pytest.approx(disk["val_acc"].max())


def test_from_checkpoint_rebuilds_the_trained_model(tmp_path):
    r, h = run(tmp_path, "a", epochs=2)
    model = FastDiarizationModel.from_checkpoint(r.last)
    assert model.config == SMALL
    x = torch.from_numpy(windows(4, 9).audio)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (4, num_frames(S), 2)


def test_resume_after_interruption_gives_the_same_history(tmp_path):
    _, full = run(tmp_path, "full")

    class Interrupted(Exception):
        pass

    def crash_at_3(row):
        if row["epoch"] == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        run(tmp_path, "cut", on_epoch=crash_at_3)
    r, resumed = run(tmp_path, "cut")
    assert deterministic(resumed) == deterministic(full)
    assert deterministic(pd.read_csv(r.history)) == deterministic(pd.read_csv(tmp_path / "full/ami/seed-0/history.csv"))
    full_preds = pd.read_parquet(tmp_path / "full/ami/seed-0/val_predictions.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(r.predictions), full_preds)


def test_seeds_are_deterministic_and_distinct(tmp_path):
    _, a = run(tmp_path, "a", epochs=2)
    _, b = run(tmp_path, "b", epochs=2)
    _, c = run(tmp_path, "c", epochs=2, seed=1)
    assert deterministic(a) == deterministic(b)
    assert deterministic(a) != deterministic(c)


def test_lr_schedule_warms_up_then_decays():
    lrs = [lr_at(s, 100, 1e-3) for s in range(100)]
    assert lrs[0] < lrs[4] <= 1e-3
    assert lrs[-1] == pytest.approx(1e-4, rel=0.05)
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:], strict=False))


def test_learning_curve_plots_both_splits_and_chance(tmp_path):
    from vfreport.report.plots import learning_curve

    _, h = run(tmp_path, "plot", epochs=2)
    fig = learning_curve(h, title="ami / seed 0")
    loss_ax, acc_ax = fig.axes
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "val", "chance (ln 2)"]
    assert list(acc_ax.lines[1].get_ydata()) == list(100 * h["val_acc"])


def test_pit_loss_and_hits_take_the_better_permutation_per_window():
    from vfreport.data.labels import window_hits
    from vfreport.model.train import masked_loss_and_hits

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 11, 2, generator=g)
    labels = torch.randint(0, 2, (5, 11), generator=g)
    mask = torch.rand(5, 11, generator=g) < 0.8
    fixed, fixed_hits, scored = masked_loss_and_hits(logits, labels, mask, "fixed")
    swapped, swapped_hits, _ = masked_loss_and_hits(logits, 1 - labels, mask, "fixed")
    pit, pit_hits, pit_scored = masked_loss_and_hits(logits, labels, mask, "pit")
    per_window = [min(float(masked_loss_and_hits(logits[i : i + 1], lab[i : i + 1], mask[i : i + 1])[0])
                      for lab in (labels, 1 - labels)) for i in range(5)]
    assert float(pit) == pytest.approx(sum(per_window), rel=1e-5)
    assert float(pit) <= min(float(fixed), float(swapped)) + 1e-5
    assert torch.equal(pit_hits, torch.maximum(fixed_hits, swapped_hits))
    assert torch.equal(pit_scored, scored)
    pred = logits.argmax(-1).numpy()
    np.testing.assert_array_equal(pit_hits.numpy(), window_hits(pred, labels.numpy(), mask.numpy(), "pit"))
    # swapping every label changes nothing under PIT
    again, again_hits, _ = masked_loss_and_hits(logits, 1 - labels, mask, "pit")
    assert float(again) == pytest.approx(float(pit)) and torch.equal(again_hits, pit_hits)
    # gradients flow through the chosen permutation only
    x = logits.clone().requires_grad_(True)
    masked_loss_and_hits(x, labels, mask, "pit")[0].backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_epoch_windows_draws_a_fresh_subset_each_epoch(tmp_path):
    """epoch_windows = 8 of 64 prepared windows: each epoch trains on 8 windows, drawn afresh (its
    scored frames match the seeded draw), so four epochs see more than 8 distinct windows."""
    from dataclasses import replace

    from vfreport.config import load_config, validate
    from vfreport.errors import ConfigError
    from vfreport.model.train import epoch_size

    train = windows(64, 1)
    for i in range(64):  # windows score T - 2, T - 1 or T frames: an epoch's frame count depends on its windows
        train.mask[i, : 2 - i % 3] = False
        train.mask[i, 2 - i % 3 :] = True
    spec = TrainSettings(seed=0, epochs=4, checkpoint_every=5, batch_size=4, epoch_windows=8, lr=3e-3, device="cpu")
    r = ExperimentDir(tmp_path / "e").run("ami", 0)
    h = train_run(spec, r, train, windows(16, 2), model_config=SMALL, progress=False)
    drawn = []
    for epoch in range(1, 5):  # the loop's draw: a permutation seeded by (seed, epoch), first 8
        order = torch.randperm(64, generator=torch.Generator().manual_seed(epoch))[:8].numpy()
        drawn.append(set(order.tolist()))
        assert h["train_frames"].iloc[epoch - 1] == train.mask[order].sum()
    assert len(set().union(*drawn)) > 8
    assert load_checkpoint(r.last)["scheduler_state"]["total_steps"] == 4 * 2  # 8 windows / batch 4, 4 epochs
    assert (epoch_size(64, 0), epoch_size(64, 8), epoch_size(5, 8)) == (64, 8, 5)
    demo = load_config()
    with pytest.raises(ConfigError, match="epoch_windows"):
        validate(replace(demo, train=replace(demo.train, epoch_windows=-1)))
