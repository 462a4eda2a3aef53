"""int8 export judged by DER: the acceptance rule, and `vfreport export-onnx --quantize int8` on a
tiny experiment (untrained checkpoints, the demo's synthetic held-out meetings), accepted and rejected
(marked slow: each runs the experiment's evaluation, an export and two more diarizations, ~30 s).

The acceptance limit is patched in the CLI tests: an untrained model's int8 DER may land either
side of 1 point, so each test sets the limit that makes its outcome certain and checks the
mechanics (file written or not, both DERs stored, the exit status). The real model's figures come
from the demo (docs/deployment.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from _expdir import make_experiment, make_history
from click.testing import CliRunner
from test_export import save_checkpoint

from vfreport.cli import cli
from vfreport.deploy import quantize as Q
from vfreport.experiment.layout import ExperimentDir, read_json

SMALL_ARMS = {"arms": {arm: {"train_windows": 16, "val_windows": 8} for arm in ("librispeech", "ami")}}


def test_judge_accepts_within_one_point_and_rejects_beyond() -> None:
    assert Q.judge_int8(0.300, 0.305)["accepted"]
    assert Q.judge_int8(0.300, 0.250)["accepted"]  # better is fine
    at_limit = Q.judge_int8(0.25, 0.26)  # +1 point, the limit (0.26 - 0.25 is 0.010000000000000009 in floats)
    assert at_limit["accepted"] and at_limit["der_increase_points"] == pytest.approx(1.0)
    worse = Q.judge_int8(0.300, 0.3101)
    assert not worse["accepted"] and worse["der_increase_points"] == pytest.approx(1.01)
    assert not Q.judge_int8(0.3, float("nan"))["accepted"]
    assert not Q.judge_int8(0.3, 0.35, max_increase_points=2.0)["accepted"]


def test_int8_path_and_calibration_draw() -> None:
    assert Q.int8_path(Path("/x/model.onnx")) == Path("/x/model.int8.onnx")
    windows = np.arange(200 * 4, dtype=np.float32).reshape(200, 4)
    cal = Q.calibration_windows(windows, 64, seed=0)
    assert cal.shape == (64, 4) and cal.dtype == np.float32
    assert np.all(np.diff(cal[:, 0]) > 0)  # distinct rows, in order
    np.testing.assert_array_equal(cal, Q.calibration_windows(windows, 64, seed=0))


@pytest.fixture()
def tiny_experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VFREPORT_CACHE_DIR", str(tmp_path / "cache"))
    hist = {("ami", 0): make_history([0.6, 0.7, 0.8]), ("librispeech", 0): make_history([0.5, 0.55, 0.6])}
    exp = make_experiment(tmp_path, hist, overrides=SMALL_ARMS)
    save_checkpoint(ExperimentDir(exp).run("ami", 0).best, "ami", 0, 0.8, 3, torch_seed=1)
    save_checkpoint(ExperimentDir(exp).run("librispeech", 0).best, "librispeech", 0, 0.6, 3, torch_seed=2)
    return exp


@pytest.mark.slow
def test_cli_writes_an_accepted_int8_model_and_records_both_ders(tiny_experiment: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Q, "MAX_DER_INCREASE_POINTS", 100.0)  # accept whatever the untrained model gives
    out = CliRunner().invoke(cli, ["export-onnx", str(tiny_experiment), "--quantize", "int8"])
    assert out.exit_code == 0, out.output
    fp32, int8 = tiny_experiment / "model.onnx", tiny_experiment / "model.int8.onnx"
    assert int8.stat().st_size < 0.5 * fp32.stat().st_size
    assert "int8 static" in out.output and "DER int8" in out.output
    q = read_json(tiny_experiment / "results.json")["onnx"]["int8"]
    assert q["accepted"] is True and q["path"] == "model.int8.onnx" and q["method"] == "static"
    assert q["size_bytes"] == int8.stat().st_size and q["fp32_size_bytes"] == fp32.stat().st_size
    assert 0 <= q["der_fp32"] <= 1 and 0 <= q["der_int8"] <= 1
    assert q["der_increase_points"] == pytest.approx(100 * (q["der_int8"] - q["der_fp32"]))
    assert len(q["meetings"]) >= 1 and set(q["per_meeting_der"]) == {"fp32", "int8"}
    assert q["calibration_windows"] == 16 and q["calibration_split"] == "ami train"
    # the fp32 ONNX model's DER is the yardstick's: the evaluation scored the same checkpoint (torch) on
    # the same meetings; kernels differ in summation order only
    evaluation = read_json(tiny_experiment / "results.json")["evaluation"]
    per_meeting = evaluation["der"]["ami"]["0"]
    assert sorted(per_meeting) == q["meetings"]
    for uri, der in q["per_meeting_der"]["fp32"].items():
        assert der == pytest.approx(per_meeting[uri]["der"], abs=0.01)
    model = onnx.load(str(int8))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["arm"] == "ami" and props["quantization"].startswith("int8 static")
    assert {n.op_type for n in model.graph.node} >= {"QuantizeLinear", "DequantizeLinear"}


@pytest.mark.slow
def test_cli_reports_a_rejected_int8_model_and_does_not_write_it(tiny_experiment: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tiny_experiment / "model.int8.onnx"
    stale.write_bytes(b"an earlier int8 model")
    monkeypatch.setattr(Q, "MAX_DER_INCREASE_POINTS", -100.0)  # int8 would have to be 100 points better
    out = CliRunner().invoke(cli, ["export-onnx", str(tiny_experiment), "--quantize", "int8", "--int8-method",
                                   "dynamic"])
    assert out.exit_code != 0
    assert "int8 model rejected" in out.output
    assert not stale.exists() and (tiny_experiment / "model.onnx").is_file()
    entry = read_json(tiny_experiment / "results.json")["onnx"]
    q = entry["int8"]
    assert entry["parity_ok"] is True and entry["path"] == "model.onnx"
    assert q["accepted"] is False and q["path"] is None and q["method"] == "dynamic"
    assert math.isfinite(q["der_fp32"]) and math.isfinite(q["der_int8"]) and "not written" in q["error"]
    from vfreport.report.markdown import onnx_section

    section = onnx_section(read_json(tiny_experiment / "results.json"))
    assert "REJECTED" in section and "int8" in section


def test_unknown_method_is_an_export_error(tmp_path: Path) -> None:
    from vfreport.errors import ExportError

    with pytest.raises(ExportError, match="unknown int8 method"):
        Q.quantize_int8(tmp_path / "m.onnx", tmp_path / "q.onnx", "fp4")
    with pytest.raises(ExportError, match="calibration"):
        Q.quantize_int8(tmp_path / "m.onnx", tmp_path / "q.onnx", "static", None)


@pytest.mark.slow
def test_int8_without_the_experiment_config_keeps_the_fp32_entry(tmp_path: Path) -> None:
    from test_export import make_experiment as experiment_without_config

    from vfreport.deploy.export import export_experiment
    from vfreport.errors import ExportError

    root = experiment_without_config(tmp_path)
    with pytest.raises(ExportError, match="experiment's config") as err:
        export_experiment(root, read_json(root / "results.json"), int8="static")
    entry = err.value.entry
    assert entry["parity_ok"] is True and entry["path"] == "model.onnx" and (root / "model.onnx").is_file()
    assert entry["int8"]["accepted"] is False and entry["int8"]["path"] is None
    assert "experiment's config" in entry["int8"]["error"]


def test_report_rows_show_both_ders_sizes_and_the_verdict() -> None:
    from vfreport.report.markdown import onnx_int8_rows

    q = {"path": "model.int8.onnx", "method": "static", "size_bytes": 508_807, "fp32_size_bytes": 1_955_017,
         "der_fp32": 0.3560, "der_int8": 0.3572, "der_increase_points": 0.12, "max_increase_points": 1.0,
         "accepted": True, "meetings": ["a", "b", "c"]}
    text = "\n".join(" | ".join(r) for r in onnx_int8_rows(q))
    assert "model.int8.onnx (static" in text and "0.51 MB vs fp32 1.96 MB" in text
    assert "int8 35.72 % vs fp32 35.60 % (3 meetings)" in text and "accepted: +0.12 points" in text
    assert onnx_int8_rows(None) == []
    rejected = "\n".join(" | ".join(r) for r in onnx_int8_rows({**q, "accepted": False, "path": None,
                                                                "der_increase_points": 1.4, "error": "too far"}))
    assert "REJECTED" in rejected and "+1.40 points" in rejected and "too far" in rejected
