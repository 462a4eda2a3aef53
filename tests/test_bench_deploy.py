"""The deployment benchmarks compute what they report (timings are measured, never asserted):
ONNX Runtime's share of the peak and its option sweep, the int8 speed-up, predict on long audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from vfreport.bench import predict_scaling as P
from vfreport.bench.onnx_speed import SWEEP, SessionChoice, int8_speed, share_of_peak, tune_session
from vfreport.deploy.onnx import export_model, inference_session, session_options
from vfreport.errors import DataError
from vfreport.model.network import FastDiarizationModel


def test_share_of_peak_is_achieved_flops_over_peak() -> None:
    assert share_of_peak(100.0, 1e8, 20.0) == pytest.approx(0.5)
    assert share_of_peak(0.0, 1e8, 20.0) == 0.0


def test_per_hour_takes_out_the_start_up() -> None:
    assert P.per_hour_seconds(14.0, 4.0, 20) == pytest.approx(30.0)
    assert P.per_hour_seconds(3.0, 4.0, 60) == 0.0


def test_session_options_follow_the_choice() -> None:
    import onnxruntime as ort

    opts = session_options(3)
    assert opts.intra_op_num_threads == 3 and opts.inter_op_num_threads == 1
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    par = session_options(2, optimization="basic", parallel=True, spinning=True)
    assert par.execution_mode == ort.ExecutionMode.ORT_PARALLEL and par.inter_op_num_threads == 2
    assert par.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert par.get_session_config_entry("session.intra_op.allow_spinning") == "1"


def _excerpts(folder: Path, seconds: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in P.EXCERPTS:
        sf.write(folder / name, (0.1 * rng.standard_normal(int(16_000 * seconds))).astype(np.float32), 16_000,
                 subtype="FLOAT")
    return folder


def test_long_recording_is_tiled_to_length_with_distinct_gains_and_cached(tmp_path: Path) -> None:
    src = _excerpts(tmp_path / "src")
    path = P.long_recording(1, tmp_path / "cache", src)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16_000, 1, 60 * 16_000, "PCM_16")
    audio, _ = sf.read(path, dtype="float32")
    unit = np.concatenate([sf.read(src / n, dtype="float32")[0] for n in P.EXCERPTS])
    copies = audio.reshape(30, len(unit))  # 2 s unit, 30 copies per minute
    gains_db = 20 * np.log10(np.abs(copies).mean(axis=1) / np.abs(unit).mean())
    assert np.all(np.abs(gains_db) <= P.GAIN_DB + 0.05)
    assert np.unique(np.round(gains_db, 3)).size == 30  # no two copies alike
    mtime = path.stat().st_mtime_ns
    assert P.long_recording(1, tmp_path / "cache", src) == path and path.stat().st_mtime_ns == mtime


def test_long_recording_without_the_excerpts_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="source checkout"):
        P.long_recording(1, tmp_path / "cache", tmp_path / "nothing")


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_model(FastDiarizationModel().eval(), path, {"arm": "untrained", "seed": 0, "epoch": 0})
    return path


@pytest.mark.slow
def test_sweep_tries_every_option_and_keeps_the_fastest(tiny_onnx: Path) -> None:
    res = tune_session(tiny_onnx, threads=2, samples=16_000, budget_s=0.01, rounds=2)
    for name, values in SWEEP:
        assert {t[name] for t in res["trials"]} == set(values), name
    assert {t["threads"] for t in res["trials"]} == {1, 2}
    assert res["best_windows_per_s"] == max(t["windows_per_s"] for t in res["trials"]) > 0
    assert res["default"] == {**vars(SessionChoice(threads=2))}
    default = [t for t in res["trials"] if {k: t[k] for k in res["default"]} == res["default"]]
    assert len(default) == 1 and default[0]["windows_per_s"] == res["default_windows_per_s"]
    assert len(res["trials"]) == len({tuple(sorted(t.items())) for t in res["trials"]})  # each config once


@pytest.mark.slow
def test_int8_speed_and_sizes(tiny_onnx: Path, tmp_path: Path) -> None:
    from vfreport.deploy.quantize import quantize_int8

    cal = (0.1 * np.random.default_rng(0).standard_normal((8, 16_000))).astype(np.float32)
    q = quantize_int8(tiny_onnx, tmp_path / "model.int8.onnx", "static", cal)
    res = int8_speed(tiny_onnx, q, SessionChoice(threads=1, batch=4), samples=16_000, rounds=1, budget_s=0.05)
    assert res["int8_bytes"] < res["fp32_bytes"]
    assert res["speedup"] == pytest.approx(res["int8_windows_per_s"] / res["fp32_windows_per_s"])
    out = inference_session(q).run(None, {"waveform": cal[:2]})[0]
    assert out.shape[0] == 2 and np.isfinite(out).all()


@pytest.mark.slow
def test_measure_predict_reports_wall_time_and_peak_memory_of_the_child(tiny_onnx: Path, tmp_path: Path) -> None:
    audio = P.long_recording(1, tmp_path / "cache", _excerpts(tmp_path / "src"))
    row = P.measure_predict(tiny_onnx, audio, tmp_path / "out")
    assert row["returncode"] == 0 and row["wall_s"] > 0 and row["cpu_s"] > 0
    assert 50 < row["peak_rss_mb"] < 4096  # a python process with onnxruntime, not this test's own RSS
    assert (tmp_path / "out" / f"{audio.stem}.rttm").is_file()
    with pytest.raises(RuntimeError, match="exited"):
        P.measure_predict(tmp_path / "missing.onnx", audio, tmp_path / "out2")
