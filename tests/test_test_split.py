"""The held-out test split (issue 10, selection-unbiased accuracy): presets ask for one, the
synthetic test split has new speakers, and the best checkpoint (chosen on validation) is scored on
it exactly like validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_train import SMALL, windows

from vfreport.config import TrainSettings, load_config
from vfreport.data.windows import prepare_split
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.network import load_checkpoint
from vfreport.model.train import score_checkpoint, train_run, window_clusters
from vfreport.stats.intervals import clustered_accuracy


def test_presets_ask_for_a_test_split_and_0_means_none():
    cfg = load_config(preset="demo")
    for arm in cfg.arms.values():
        assert arm.test_split == "test" and arm.test_windows == arm.val_windows
    off = load_config(preset="demo", overrides={"arms": {"ami": {"test_windows": 0}}})
    assert off.arms["ami"].test_windows == 0


def test_synthetic_librispeech_test_split_has_new_speakers(tmp_path):
    arm = load_config(preset="demo").arms["librispeech"]
    val = prepare_split(arm, arm.val_split, 16, 2.0, "val", tmp_path)
    test = prepare_split(arm, arm.test_split, 16, 2.0, "test", tmp_path)
    assert len(test) == 16 and test.info["split"] == "test" and test.info["arm"] == "librispeech"
    assert test.info["speakers"] and not np.array_equal(test.audio, val.audio[: len(test)])
    again = prepare_split(arm, arm.test_split, 16, 2.0, "test", tmp_path)
    assert again.info["cache"] == "hit" and np.array_equal(again.audio, test.audio)
    cluster, by = window_clusters(test)  # windows clustered by their source row for the split's error
    assert by == "recording" and np.array_equal(cluster, test.row) and len(np.unique(cluster)) >= 2


def test_best_checkpoint_scored_on_test_matches_its_validation_scoring(tmp_path):
    torch.set_num_threads(1)
    spec = TrainSettings(seed=0, epochs=3, checkpoint_every=5, batch_size=16, lr=3e-3, device="cpu")
    run = ExperimentDir(tmp_path / "e").run("ami", 0)
    val = windows(32, 2)
    hist = train_run(spec, run, windows(64, 1), val, model_config=SMALL, progress=False)
    best = load_checkpoint(run.best)
    scored_val = score_checkpoint(run.best, val, 16, "cpu")
    assert scored_val["epoch"] == best["best_epoch"] == int(hist["val_acc"].idxmax()) + 1
    assert scored_val["acc"] == pytest.approx(best["best_val_acc"])  # same scoring as training's validation
    test = score_checkpoint(run.best, windows(32, 3), 16, "cpu")
    assert 0.0 <= test["acc"] <= 1.0 and test["windows"] == 32 and test["checkpoint"] == "best.pt"
    # the split's own sampling error: per-cluster counts that add up to acc, and their variance
    per = test["per_cluster"]
    assert test["cluster_by"] == "window" and test["split_clusters"] == 32 == len(per["cluster"])  # no source rows
    assert sum(per["frames_scored"]) == test["frames"]
    assert sum(per["frames_correct"]) / test["frames"] == pytest.approx(test["acc"])
    assert test["split_var"] == pytest.approx(
        clustered_accuracy(per["frames_correct"], per["frames_scored"], per["cluster"])[1])
