"""ONNX export: winner selection, metadata, checker, ORT-vs-torch parity on unseen shapes, failure paths.

Three real exports (~4-7 s each): the module-scoped fixture, the parity-failure path, an explicit --out.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from vfreport import __version__
from vfreport.bench.onnx_speed import bench_onnx
from vfreport.deploy import export as export_step
from vfreport.deploy import onnx as export_mod
from vfreport.deploy.onnx import (
    CHECK_SHAPES,
    EXAMPLE_SHAPE,
    PARITY_TOLERANCE,
    read_metadata,
    verify_parity,
)
from vfreport.deploy.winner import choose_winner
from vfreport.errors import ExperimentError, ExportError, UnsafePathError
from vfreport.experiment.layout import ExperimentDir, read_json
from vfreport.model.network import FastDiarizationModel, num_frames


def save_checkpoint(path: Path, arm: str, seed: int, best_val_acc: float, best_epoch: int, torch_seed: int) -> None:
    """A checkpoint per the shared contract, from an untrained model with fixed weights."""
    torch.manual_seed(torch_seed)
    model = FastDiarizationModel()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": "vfreport-checkpoint-1",
            "model_config": asdict(model.config),
            "model_state": model.state_dict(),
            "optimizer_state": {},
            "scheduler_state": {"step": 0, "total_steps": 0},
            "epoch": best_epoch,
            "history": [],
            "val_acc": best_val_acc,
            "best_val_acc": best_val_acc,
            "best_epoch": best_epoch,
            "arm": arm,
            "seed": seed,
            "vfreport_version": __version__,
            "sample_rate": 16000,
            "frame_step": 256,
        },
        path,
    )


def fake_results(arm_means: dict[str, float | None], runs: list[tuple[str, int, str]]) -> dict:
    return {
        "experiment": {"name": "exp-test", "config": {"train": {"window_seconds": 2.5}}},
        "arms": {
            arm: {"display_name": arm, "best_val_acc": {"mean": mean, "std": None, "ci95": [None, None]},
                  "seeds": sorted(s for a, s, st in runs if a == arm and st == "completed")}
            for arm, mean in arm_means.items()
        },
        "runs": [{"arm": a, "seed": s, "state": st} for a, s, st in runs],
        "baseline": "librispeech",
        "target": "ami",
        "onnx": None,
    }


def make_experiment(root: Path) -> Path:
    """AMI wins on mean (0.78 vs 0.55); within AMI seed 1 has the best checkpoint (0.81);
    AMI seed 2 completed but lost its checkpoint; LibriSpeech seed 1 failed."""
    exp = ExperimentDir(root)
    save_checkpoint(exp.run("ami", 0).best, "ami", 0, 0.76, 6, torch_seed=10)
    save_checkpoint(exp.run("ami", 1).best, "ami", 1, 0.81, 9, torch_seed=11)
    save_checkpoint(exp.run("librispeech", 0).best, "librispeech", 0, 0.60, 3, torch_seed=20)
    runs = [("ami", 0, "completed"), ("ami", 1, "completed"), ("ami", 2, "completed"),
            ("librispeech", 0, "completed"), ("librispeech", 1, "failed")]
    (root / "results.json").write_text(json.dumps(fake_results({"librispeech": 0.55, "ami": 0.78}, runs)))
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = make_experiment(tmp_path_factory.mktemp("exp"))
    entry = export_step.export_experiment(root, read_json(root / "results.json"))
    return root, entry


# ---------------------------------------------------------------------------------------------
# winner selection (no export)
# ---------------------------------------------------------------------------------------------


def test_winner_is_best_seed_of_best_mean_arm(tmp_path: Path) -> None:
    root = make_experiment(tmp_path)
    sel = choose_winner(read_json(root / "results.json"), root)
    assert (sel.arm, sel.seed, sel.epoch) == ("ami", 1, 9)
    assert sel.val_acc == pytest.approx(0.81)
    assert sel.checkpoint == ExperimentDir(root).run("ami", 1).best


def test_winner_follows_arm_means_not_single_best_checkpoint(tmp_path: Path) -> None:
    root = make_experiment(tmp_path)
    results = read_json(root / "results.json")
    results["arms"]["librispeech"]["best_val_acc"]["mean"] = 0.90  # now the baseline arm wins on mean
    sel = choose_winner(results, root)
    assert (sel.arm, sel.seed) == ("librispeech", 0)


def test_explicit_arm(tmp_path: Path) -> None:
    root = make_experiment(tmp_path)
    sel = choose_winner(read_json(root / "results.json"), root, arm="librispeech")
    assert (sel.arm, sel.seed, sel.val_acc) == ("librispeech", 0, pytest.approx(0.60))


def test_unknown_or_unsafe_arm(tmp_path: Path) -> None:
    root = make_experiment(tmp_path)
    results = read_json(root / "results.json")
    with pytest.raises(ExportError, match="arm 'nope'.*arms: ami, librispeech"):
        choose_winner(results, root, arm="nope")
    with pytest.raises(UnsafePathError):
        choose_winner(results, root, arm="../ami")


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    root = make_experiment(tmp_path)
    results = read_json(root / "results.json")
    for seed in (0, 1):
        ExperimentDir(root).run("ami", seed).best.unlink()
    with pytest.raises(ExportError, match=r"no best\.pt checkpoint for arm 'ami'.*seed-2/checkpoints/best\.pt"):
        choose_winner(results, root)
    # a run that failed is never a candidate, even with a checkpoint on disk
    save_checkpoint(ExperimentDir(root).run("librispeech", 1).best, "librispeech", 1, 0.99, 2, torch_seed=1)
    assert choose_winner(results, root, arm="librispeech").seed == 0


def test_no_arm_with_results(tmp_path: Path) -> None:
    results = fake_results({"librispeech": None, "ami": None}, [("ami", 0, "failed")])
    with pytest.raises(ExportError, match="no completed runs"):
        choose_winner(results, tmp_path)


# ---------------------------------------------------------------------------------------------
# the exported model
# ---------------------------------------------------------------------------------------------


def test_export_returns_its_entry_and_leaves_results_json_alone(exported: tuple[Path, dict]) -> None:
    root, entry = exported
    assert (root / "model.onnx").is_file()
    results = read_json(root / "results.json")
    assert results["onnx"] is None  # the export returns its entry; only vfreport.pipeline writes results.json
    assert entry["path"] == "model.onnx"
    assert (entry["arm"], entry["seed"], entry["epoch"]) == ("ami", 1, 9)
    assert entry["val_acc"] == pytest.approx(0.81)
    assert entry["parity_ok"] is True
    assert 0 <= entry["max_abs_diff"] <= entry["tolerance"] == PARITY_TOLERANCE
    assert entry["opset"] == 18
    assert entry["export_seconds"] > 0
    assert entry["checked_shapes"] == [list(s) for s in CHECK_SHAPES]
    for b, s in entry["checked_shapes"]:
        assert b != EXAMPLE_SHAPE[0] and s != EXAMPLE_SHAPE[1]
    assert set(entry) >= {"path", "arm", "seed", "epoch", "val_acc", "max_abs_diff", "tolerance", "parity_ok",
                          "export_seconds", "opset", "checked_shapes"}
    json.dumps(entry, allow_nan=False)  # strict JSON


def test_checker_and_dynamic_io(exported: tuple[Path, dict]) -> None:
    path = exported[0] / "model.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("waveform", ["batch", "samples"], "tensor(float)")
    assert (out.name, out.shape) == ("logits", ["batch", "frames", 2])


@pytest.mark.parametrize("shape", [(3, 24_000), (1, 52_000), (4, 17_001)])
def test_parity_with_torch_on_unseen_shapes(exported: tuple[Path, dict], shape: tuple[int, int]) -> None:
    root, _ = exported
    model = FastDiarizationModel.from_checkpoint(ExperimentDir(root).run("ami", 1).best)
    session = ort.InferenceSession(str(root / "model.onnx"), providers=["CPUExecutionProvider"])
    wav = (0.1 * np.random.default_rng(123).standard_normal(shape)).astype(np.float32)
    got = session.run(["logits"], {"waveform": wav})[0]
    with torch.inference_mode():
        ref = model(torch.from_numpy(wav)).numpy()
    assert got.shape == ref.shape == (shape[0], num_frames(shape[1]), 2)
    assert np.abs(got - ref).max() < PARITY_TOLERANCE
    # the exported weights are seed 1's, not another checkpoint's
    other = FastDiarizationModel.from_checkpoint(ExperimentDir(root).run("ami", 0).best)
    with torch.inference_mode():
        assert np.abs(got - other(torch.from_numpy(wav)).numpy()).max() > 10 * PARITY_TOLERANCE


def test_metadata_round_trip(exported: tuple[Path, dict]) -> None:
    meta = read_metadata(exported[0] / "model.onnx")
    keys = ("arm", "seed", "epoch", "val_acc", "sample_rate", "frame_step", "n_fft", "vfreport_version")
    assert {k: meta[k] for k in keys} == {
        "arm": "ami", "seed": 1, "epoch": 9, "val_acc": pytest.approx(0.81), "sample_rate": 16000,
        "frame_step": 256, "n_fft": 400, "vfreport_version": __version__,
    }
    assert meta["model_config"] == asdict(FastDiarizationModel().config)
    assert meta["experiment"] == "exp-test"
    assert meta["window_seconds"] == 2.5  # the training window, for predict


def test_read_metadata_errors(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="not found"):
        read_metadata(tmp_path / "none.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x00\x01 not protobuf at all \xff" * 10)
    with pytest.raises(ExperimentError, match="junk.onnx"):
        read_metadata(tmp_path / "junk.onnx")


def test_perturbed_onnx_fails_parity(exported: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = exported
    proto = onnx.load(str(root / "model.onnx"))
    bias = next(t for t in proto.graph.initializer if tuple(t.dims) == (2,))  # the head's bias
    arr = onnx.numpy_helper.to_array(bias) + np.float32(0.01)
    bias.CopyFrom(onnx.numpy_helper.from_array(arr, bias.name))
    model = FastDiarizationModel.from_checkpoint(ExperimentDir(root).run("ami", 1).best)
    good = verify_parity(model, root / "model.onnx")
    bad = verify_parity(model, proto.SerializeToString())
    assert good.ok and good.max_abs_diff < 1e-4
    assert not bad.ok and bad.max_abs_diff == pytest.approx(0.01, abs=1e-4)


def test_parity_failure_raises_and_is_recorded(exported: tuple[Path, dict], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "exp"
    shutil.copytree(exported[0], root)
    before = (root / "model.onnx").read_bytes()
    real = export_mod.export_onnx
    monkeypatch.setattr(export_step, "export_onnx", lambda *a, **k: real(*a, **{**k, "tolerance": 0.0}))
    with pytest.raises(ExportError, match=r"max abs diff \d\.\d+e-\d+ > tolerance 0e\+00.*\[3, 24000\]") as err:
        export_step.export_experiment(root, read_json(root / "results.json"))
    assert (root / "model.onnx").read_bytes() == before  # the previous good model is not replaced
    entry = err.value.entry
    assert entry["parity_ok"] is False and entry["path"] is None
    assert entry["max_abs_diff"] > 0 and entry["tolerance"] == 0.0
    assert "max abs diff" in entry["error"]


def test_explicit_arm_and_out_path(exported: tuple[Path, dict], tmp_path: Path) -> None:
    """An explicit --out is honoured (outside DIR allowed) and recorded as an absolute path."""
    root = tmp_path / "exp"
    shutil.copytree(exported[0], root)
    target = tmp_path / "elsewhere" / "winner.onnx"
    entry = export_step.export_experiment(root, read_json(root / "results.json"), arm="librispeech", out=target)
    assert entry["path"] == str(target.resolve()) and entry["parity_ok"] is True
    assert (entry["arm"], entry["seed"], entry["epoch"]) == ("librispeech", 0, 3)
    assert read_metadata(target)["arm"] == "librispeech"
    assert (root / "model.onnx").read_bytes() == (exported[0] / "model.onnx").read_bytes()  # untouched
    assert read_json(root / "results.json")["onnx"] is None  # the export writes no results.json (pipeline does)


@pytest.mark.slow
def test_bench_onnx_reports_speed_and_export_time() -> None:
    res = bench_onnx(None, n_runs=3, batch=(2, 16_000))
    assert res["parity_ok"] and 0 < res["export_seconds"] < 120
    for key in ("single_thread", "default_threads"):
        r = res[key]
        assert r["torch_ms"] > 0 and r["onnxruntime_ms"] > 0
        assert r["speedup"] == pytest.approx(r["torch_ms"] / r["onnxruntime_ms"])
