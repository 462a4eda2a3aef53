"""The synthetic corpora have a known answer (issue 11, docs/data.md): the report must not
invent learning, and must see it when it is there.

Each test trains the demo preset's AMI arm (its windows, epochs, seeds, settings and objective) and
reads each run's lift as the report does (:mod:`vfreport.analysis.lift`): the best checkpoint
(chosen on validation) scored on the held-out test windows, minus the audio-free baseline on the
same windows under the same scoring, with a Student t-interval over the seeds.

Each run's best checkpoint also diarizes the held-out meetings as the report's evaluation does
(:func:`vfreport.analysis.evaluation.diarize`, oracle speech), scored by DER against one speaker
for all speech.

- ``voice_spread = 0`` (one talker speaking throughout, whatever the turns: the audio is independent
  of the labels): the lift interval must include 0 and DER must be no better than one speaker;
- default voices: DER at least 10 points below one speaker in every run, and a lift of at least
  10 points with an interval excluding 0.

All hold but the default's 10-point lift, a strict xfail (on the assertion only: any other error
fails) that records what was measured (see :data:`vfreport.data.labels.DEFAULT_OBJECTIVE`): when
the model gets there within the demo's budget, it XPASSes and fails, and the marker comes off.
Slow (minutes on 2 cores): ``pytest -m slow tests/test_known_answer.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vfreport.analysis import evaluation as E
from vfreport.analysis.lift import lift_summary
from vfreport.config import load_config
from vfreport.data import labels as L
from vfreport.data.windows import prepare_arm, prepare_split
from vfreport.deploy.predict import load_predictor
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.train import score_checkpoint, train_run

pytestmark = pytest.mark.slow


def demo_target(tmp_path, **arm_overrides) -> dict:
    """Train the demo's target arm (its seeds), return its lift summary and DER against one speaker."""
    cfg = load_config(preset="demo")
    arm = replace(cfg.target, **arm_overrides)
    seconds = cfg.train.window_seconds
    train, val = prepare_arm(arm, seconds, cache_dir=tmp_path / "cache")
    test = prepare_split(arm, arm.test_split, arm.test_windows, seconds, "test", cache_dir=tmp_path / "cache")
    objective = L.resolve_objective(arm.label_strategy, arm.objective)
    baseline = L.audio_free_baseline_accuracy(objective, train.labels, train.mask, test.labels, test.mask)
    meetings = list(E.open_meetings(arm, window_seconds=seconds)[0])

    def corpus_der(hypothesis) -> float:
        return E.corpus_der({m.uri: E.score(list(m.reference), hypothesis(m), list(m.uem), m.uri)
                             for m in meetings})["der"]

    accuracy, der = [], []
    for seed in cfg.seeds:
        run = ExperimentDir(tmp_path / "exp").run(arm.name, seed)
        run.root.mkdir(parents=True)
        spec = replace(cfg.train, device="cpu").for_run(arm, seed, cfg.epochs, cfg.checkpoint_every)
        train_run(spec, run, train, val, progress=False)
        accuracy.append(score_checkpoint(run.best, test, spec.batch_size, "cpu")["acc"])
        predictor = load_predictor(run.best)
        der.append(corpus_der(lambda m, p=predictor: E.diarize(p, m, seconds)))
    one_speaker = corpus_der(lambda m: E.one_speaker_segments(m.reference, m.uri))
    return {"lift": lift_summary(accuracy, [baseline] * len(accuracy), cfg.seeds, min_lift=0.10),
            "der": der, "one_speaker": one_speaker}


@pytest.fixture(scope="module")
def null(tmp_path_factory) -> dict:
    return demo_target(tmp_path_factory.mktemp("null"), voice_spread=0.0)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> dict:
    return demo_target(tmp_path_factory.mktemp("default"))


DEFAULT_MEASURED = ("measured (run-all, demo): the AMI arm is +8.6 points (95 % CI +7.5 to +9.8, test) above its "
                    "audio-free baseline (seeds 0-2: +8.8, +8.1, +9.0); +9.1 with a third more training")


def test_null_voices_show_no_lift(null):
    lift = null["lift"]
    assert lift["n"] == 3 and lift["ci95"] is not None
    assert lift["ci95"][0] <= 0.0 <= lift["ci95"][1], lift


def test_null_voices_do_not_beat_one_speaker_on_der(null):
    assert np.mean(null["der"]) > null["one_speaker"] - 0.02, null


def test_default_voices_beat_one_speaker_on_der(default):
    assert max(default["der"]) < default["one_speaker"] - 0.10, default


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=DEFAULT_MEASURED)
def test_default_voices_show_a_lift_of_10_points(default):
    lift = default["lift"]
    assert lift["n"] == 3
    assert lift["mean"] >= 0.10 and lift["ci_excludes_zero"], lift
