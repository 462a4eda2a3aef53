"""The synthetic corpora have a known answer (issue 11, design.md §5-§6): the report must not
invent learning, and must see it when it is there.

Each test trains the demo preset's AMI arm (its windows, epochs, seeds, settings and objective) and
reads each run's lift as the report does (:mod:`vfreport.analysis.lift`): the best checkpoint
(chosen on validation) scored on the held-out test windows, minus the audio-free baseline on the
same windows under the same scoring, with a Student t-interval over the seeds.

- ``voice_spread = 0`` (one talker speaking throughout, whatever the turns: the audio is independent
  of the labels): the interval must include 0;
- default voices: the lift must be at least 10 points with an interval excluding 0.

The null holds. The default does not yet, so it is a strict xfail (on the assertion only: any other
error fails) that records what was measured (2 CPU threads, shared machine; see
:data:`vfreport.data.labels.DEFAULT_OBJECTIVE`): when the model learns the voices within the
demo's budget, it XPASSes and fails, and the marker comes off. Slow (minutes on 2 cores):
``pytest -m slow tests/test_known_answer.py``.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from vfreport.analysis.lift import lift_summary
from vfreport.config import load_config
from vfreport.data import labels as L
from vfreport.data.windows import prepare_arm, prepare_split
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.train import score_checkpoint, train_run

pytestmark = pytest.mark.slow


def demo_target_lift(tmp_path, **arm_overrides) -> dict:
    cfg = load_config(preset="demo")
    arm = replace(cfg.target, **arm_overrides)
    seconds = cfg.train.window_seconds
    train, val = prepare_arm(arm, seconds, cache_dir=tmp_path / "cache")
    test = prepare_split(arm, arm.test_split, arm.test_windows, seconds, "test", cache_dir=tmp_path / "cache")
    objective = L.resolve_objective(arm.label_strategy, arm.objective)
    baseline = L.audio_free_baseline_accuracy(objective, train.labels, train.mask, test.labels, test.mask)
    accuracy = []
    for seed in cfg.seeds:
        run = ExperimentDir(tmp_path / "exp").run(arm.name, seed)
        run.root.mkdir(parents=True)
        spec = replace(cfg.train, device="cpu").for_run(arm, seed, cfg.epochs, cfg.checkpoint_every)
        train_run(spec, run, train, val, progress=False)
        accuracy.append(score_checkpoint(run.best, test, spec.batch_size, "cpu")["acc"])
    return lift_summary(accuracy, [baseline] * len(accuracy), cfg.seeds, min_lift=0.10)


DEFAULT_MEASURED = ("measured (run-all, demo): the AMI arm is +4.7 points (95 % CI +2.7 to +6.7, test) above its "
                    "audio-free baseline; +9.6 with 4x the training compute (one seed): not yet +10 within the budget")


def test_null_voices_show_no_lift(tmp_path):
    lift = demo_target_lift(tmp_path, voice_spread=0.0)
    assert lift["n"] == 3 and lift["ci95"] is not None
    assert lift["ci95"][0] <= 0.0 <= lift["ci95"][1], lift


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=DEFAULT_MEASURED)
def test_default_voices_show_a_lift_of_10_points(tmp_path):
    lift = demo_target_lift(tmp_path)
    assert lift["n"] == 3
    assert lift["mean"] >= 0.10 and lift["ci_excludes_zero"], lift
