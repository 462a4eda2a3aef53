"""The clustering threshold's calibration on real recordings (vfreport.bench.calibration)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _data import AMI_DEBUG, AMI_DEBUG_TEST, AMI_DEBUG_TRAIN

from vfreport.bench import calibration as K
from vfreport.bench.pipeline_der import open_recordings
from vfreport.deploy.predict import PipelineSettings, predict_audio
from vfreport.deploy.scoring import Meeting, diarize, rttm_round_trip


def test_choose_speech_takes_the_lowest_error_then_the_largest_onset_and_smallest_pad() -> None:
    assert K.choose_speech({(0.25, 0.1): 0.13, (0.25, 0.3): 0.11, (0.5, 0.3): 0.12}) == (0.25, 0.3)
    assert K.choose_speech({(0.25, 0.1): 0.11, (0.5, 0.3): 0.11, (0.5, 0.2): 0.11}) == (0.5, 0.2)
    with pytest.raises(ValueError):
        K.choose_speech({(0.25, 0.1): math.nan})


def test_detection_score_counts_missed_and_false_alarm_within_the_uem() -> None:
    """Hand-checked: 10 s of reference speech in a 20-s UEM; the hypothesis misses 2 s and adds 3 s
    (its region beyond the UEM does not count)."""
    from vfreport.data.rttm import Segment
    from vfreport.deploy.scoring import detection_score

    s = detection_score([Segment("x", 5.0, 10.0, "A")], [(7.0, 18.0), (25.0, 28.0)], [(0.0, 20.0)], "x")
    assert s["total"] == pytest.approx(10.0) and s["error"] == pytest.approx(2.0 + 3.0)


def test_choose_threshold_takes_the_lowest_der_and_the_largest_among_ties() -> None:
    assert K.choose_threshold({0.3: 0.5, 0.35: 0.4, 0.4: 0.45}) == 0.35
    assert K.choose_threshold({0.3: 0.4, 0.35: 0.4, 0.4: 0.45}) == 0.35
    assert K.choose_threshold({0.3: math.nan, 0.4: 0.7}) == 0.4
    with pytest.raises(ValueError):
        K.choose_threshold({0.3: math.nan})


def test_the_test_data_splits_are_disjoint_real_recordings() -> None:
    cal, check = K.data_folders()
    assert cal == [AMI_DEBUG_TRAIN] and check == [AMI_DEBUG, AMI_DEBUG_TEST]
    cal_uris = {r.uri for d in cal for r in open_recordings(d)}
    check_uris = {r.uri for d in check for r in open_recordings(d)}
    assert cal_uris == {f"trn{i:02d}" for i in range(10)}
    assert check_uris == {"dev00", "dev01", "tst00", "tst01"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small untrained FastDiarizationModel exported to ONNX (its segmentation is poor, which is
    all the identity test below needs: the same stages whatever the model)."""
    import torch

    from vfreport.deploy.onnx import export_model
    from vfreport.model.network import FastDiarizationModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "model.onnx"
    export_model(FastDiarizationModel().eval(), path, {"arm": "untrained", "seed": 0, "epoch": 0})
    return path


def test_embedding_once_and_clustering_per_threshold_gives_predicts_rttm(model) -> None:
    """The calibration's split of the pipeline (embed once, cluster per threshold) must score what
    predict and the yardstick write: same RTTM text for every threshold and both conditions."""
    from vfreport.deploy.predict import load_predictor

    predictor = load_predictor(model)
    r = open_recordings(AMI_DEBUG)[0]
    own = K.prepare(predictor, r, "own", PipelineSettings())
    oracle = K.prepare(predictor, r, "oracle", PipelineSettings())
    for threshold in (0.3, 0.4):
        settings = PipelineSettings(threshold=threshold)
        assert rttm_round_trip(K.hypothesis(predictor, own, settings))[0] == \
            rttm_round_trip(predict_audio(predictor, r.audio, r.uri, settings=settings))[0]
        meeting = Meeting(r.uri, r.audio, tuple(r.reference), tuple(r.uem))
        assert rttm_round_trip(K.hypothesis(predictor, oracle, settings))[0] == \
            rttm_round_trip(diarize(predictor, meeting, settings=settings))[0]


def test_calibrate_reports_every_threshold_on_both_splits_and_chooses_on_calibration(model) -> None:
    recordings = open_recordings(AMI_DEBUG)
    result = K.calibrate(model, recordings[:1], recordings[1:], thresholds=(0.2, 0.6))
    for split, uris in (("calibration", ["dev00"]), ("check", ["dev01"])):
        assert result[split]["recordings"] == uris
        systems = {(row["condition"], row["system"]) for row in result[split]["rows"]}
        assert systems == {(c, s) for c in K.CONDITIONS for s in (0.2, 0.6, K.ONE_SPEAKER)}
        for row in result[split]["rows"]:
            per = row["recordings"][uris[0]]
            assert row["der"] == pytest.approx(per["der"])  # one recording: corpus = its DER
            assert np.isfinite(row["der"]) and per["speakers"] >= 0
    oracle = {row["system"]: row["der"] for row in result["calibration"]["rows"]
              if row["condition"] == "oracle" and row["system"] != K.ONE_SPEAKER}
    assert result["chosen"] == K.choose_threshold(oracle)
    # threshold 0.6: one cluster, the one-speaker baseline with oracle speech
    one = {row["system"]: row["der"] for row in result["calibration"]["rows"] if row["condition"] == "oracle"}
    assert one[0.6] == pytest.approx(one[K.ONE_SPEAKER], abs=0.02)
    table = K.markdown(result)
    assert f"**{result['chosen']:.2f}**" in table
    assert table.count("| calibration (1) |") == 2 and table.count("| check (1) |") == 2
    # the detector's grid: every (onset, pad) on both splits, the choice by the calibration recordings
    sp = result["speech"]
    assert len(sp["calibration"]) == len(sp["check"]) == len(K.ONSETS) * len(K.PADS)
    cal = {(r["onset"], r["pad"]): r["detection_error"] for r in sp["calibration"]}
    assert tuple(sp["chosen"]) == K.choose_speech(cal)
    assert f"| {K.ONSETS[0]:.2f} |" in table


def test_bench_calibration_figures_are_computed(model) -> None:
    figs, table = K.bench_calibration(model, [AMI_DEBUG], [AMI_DEBUG_TEST])
    assert [f.name.split(" (")[0].split(",")[0] for f in figs] == [
        "calibrated clustering threshold", "calibrated speech onset",
        "check recordings' corpus DER at the calibrated threshold",
        "check recordings' corpus DER at the calibrated threshold"]
    assert figs[0].value in K.THRESHOLDS and figs[1].value in K.ONSETS
    assert all(np.isfinite(f.value) and f.met is not None for f in figs)
    assert "| check (2) | own |" in table and "| calibration (2) | oracle |" in table


def test_the_yardstick_uses_the_synthetic_threshold_only_on_synthetic_meetings() -> None:
    """Synthetic meetings get SYNTHETIC_THRESHOLD (the real recordings' calibrated threshold merges
    the synthetic voices); real ones, or settings a caller gives, are left as they are."""
    from dataclasses import replace

    from vfreport.config import load_config
    from vfreport.deploy.predict import DEFAULT_THRESHOLD, SYNTHETIC_THRESHOLD
    from vfreport.deploy.scoring import yardstick_settings

    arm = load_config(preset="demo").target
    assert arm.source == "synthetic"
    assert yardstick_settings(arm).threshold == SYNTHETIC_THRESHOLD != DEFAULT_THRESHOLD
    assert yardstick_settings(replace(arm, source="local")) is None  # predict's defaults
    given = PipelineSettings(threshold=0.5)
    assert yardstick_settings(arm, given) is given
    assert yardstick_settings(None) is None


def test_bench_calibration_says_clearly_when_a_folder_holds_no_recordings(tmp_path, model) -> None:
    from vfreport.errors import DataError

    with pytest.raises(DataError, match="no <uri>.wav with a reference"):
        K.bench_calibration(model, [tmp_path / "missing"], [AMI_DEBUG])
