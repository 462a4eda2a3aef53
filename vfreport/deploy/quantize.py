"""An int8 ONNX model, judged on the task (docs/deployment.md).

    model.onnx (fp32, verified by :mod:`vfreport.deploy.onnx`)
      --quantize_int8 (onnxruntime.quantization: static QDQ calibrated on training windows,
        or dynamic)--> model.int8.onnx
      --yardstick_der: fp32 and int8 diarize the yardstick's held-out meetings
        (:mod:`vfreport.deploy.scoring`, as the yardstick: same meetings, oracle speech, same scoring)-->
      --judge_int8: accepted when the int8 DER is at most 1 point above the fp32 DER

Parity for int8 is judged by DER, not by an elementwise tolerance: int8 weights and activations
move logits by ~1e-2, far above :data:`vfreport.deploy.onnx.PARITY_TOLERANCE`, and what matters
is whether the diarization gets worse.

Methods (both from ``onnxruntime.quantization``, QDQ format, int8 weights per channel):

- ``static`` (default): activations quantised with ranges calibrated on :data:`CALIBRATION_WINDOWS`
  windows of the winning arm's training split (percentile calibration, 99.999 %: a min/max range
  is stretched by rare peaks). Only Conv and MatMul are quantised; everything else (log-mel,
  normalisations, softmax, GELU) stays fp32: quantising every op type cost DER on the demo.
- ``dynamic``: int8 weights, activation ranges computed per batch at run time; needs no data, but
  ONNX Runtime's ``ConvInteger`` is slower than its fp32 convolution on CPU.

The demo's DER and speed for each method: docs/deployment.md.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.cache import windows_cache_dir
from vfreport.data.windows import prepare_arm
from vfreport.deploy import scoring as E
from vfreport.deploy.onnx import INPUT_NAME
from vfreport.deploy.predict import load_predictor
from vfreport.errors import ExportError, VfreportError
from vfreport.experiment.layout import atomic_write_bytes

METHODS = ("static", "dynamic")
DEFAULT_METHOD = "static"
MAX_DER_INCREASE_POINTS = 1.0
"""The int8 model is accepted when its corpus DER is at most this many points (percent) above fp32's."""
CALIBRATION_WINDOWS = 64
"""Training windows whose activations set the static quantisation ranges (drawn with a fixed seed)."""
CALIBRATION_BATCH = 16
QUANTIZED_OPS = ("Conv", "MatMul")
PERCENTILE = 99.999


def int8_path(fp32_path: Path | str) -> Path:
    """Where the int8 model of ``fp32_path`` goes: ``model.onnx`` -> ``model.int8.onnx``."""
    p = Path(fp32_path)
    return p.with_name(f"{p.stem}.int8{p.suffix or '.onnx'}")


def calibration_windows(windows: np.ndarray, n: int = CALIBRATION_WINDOWS, seed: int = 0) -> np.ndarray:
    """``n`` windows (rows) of ``windows`` drawn without replacement with a fixed seed, in order."""
    idx = np.sort(np.random.default_rng(seed).choice(len(windows), min(n, len(windows)), replace=False))
    return np.ascontiguousarray(np.asarray(windows[idx]), dtype=np.float32)


def _reader(windows: np.ndarray, batch: int) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[np.ndarray] = iter([windows[i : i + batch] for i in range(0, len(windows), batch)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._batches, None)
            return None if x is None else {INPUT_NAME: x}

    return Reader()


def quantize_int8(fp32_path: Path | str, out: Path | str, method: str = DEFAULT_METHOD,
                  calibration: np.ndarray | None = None) -> Path:
    """Write the int8 version of the fp32 ONNX model at ``fp32_path`` to ``out`` (module doc).

    ``calibration`` (windows, samples) float32 is required for ``static``. The model's
    metadata_props are carried over, with ``quantization`` added. Raises ExportError.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in METHODS:
        raise ExportError(f"unknown int8 method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "static" and (calibration is None or len(calibration) == 0):
        raise ExportError("static int8 quantisation needs calibration windows")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="vfreport-int8-") as tmp:
        pre, q = Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        try:
            # symbolic shape inference cannot follow the window-length formula; ONNX's own suffices
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
            if method == "static":
                reader = _reader(np.asarray(calibration, np.float32), CALIBRATION_BATCH)
                with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints its progress
                    quantize_static(str(pre), str(q), reader, quant_format=QuantFormat.QDQ,
                                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                                    op_types_to_quantize=list(QUANTIZED_OPS),
                                    calibrate_method=CalibrationMethod.Percentile,
                                    extra_options={"CalibPercentile": PERCENTILE})
            else:
                quantize_dynamic(str(pre), str(q), weight_type=QuantType.QInt8, per_channel=True,
                                 op_types_to_quantize=list(QUANTIZED_OPS))
        except Exception as e:  # noqa: BLE001 - onnxruntime.quantization raises many types
            raise ExportError(f"int8 quantisation ({method}) of {fp32_path} failed: {type(e).__name__}: {e}") from e
        proto = onnx.load(str(q))
        props = {p.key: p.value for p in onnx.load(str(fp32_path), load_external_data=False).metadata_props}
        props["quantization"] = f"int8 {method} (onnxruntime {_ort_version()}); ops {', '.join(QUANTIZED_OPS)}"
        onnx.helper.set_model_props(proto, props)
        atomic_write_bytes(out, proto.SerializeToString())
    return out


def _ort_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


def judge_int8(fp32_der: float, int8_der: float,
               max_increase_points: float = MAX_DER_INCREASE_POINTS) -> dict[str, Any]:
    """Accept the int8 model when its DER (a fraction) exceeds fp32's by at most ``max_increase_points``
    percentage points (the limit included, up to float rounding: 1e-9 points). A non-finite DER (no
    scored speech) is never accepted."""
    increase = 100 * (int8_der - fp32_der)
    ok = math.isfinite(increase) and increase <= max_increase_points + 1e-9
    return {"der_fp32": fp32_der, "der_int8": int8_der, "der_increase_points": increase,
            "max_increase_points": float(max_increase_points), "accepted": bool(ok)}


def yardstick_der(models: Mapping[str, Path | str], cfg: Any, split: str | None = None) -> dict[str, Any]:
    """Corpus DER of each ONNX model in ``models`` ({name: path}) on the yardstick's held-out meetings
    (the config's AMI arm, ``split`` — default :data:`vfreport.deploy.scoring.DEFAULT_SPLIT` —,
    the evaluation's meeting count and scoring), with per-meeting scores. Raises ExportError when
    no meeting loads."""
    arm = E.evaluation_arm(cfg)
    if arm is None:
        raise ExportError("cannot judge the int8 model: no arm with dataset 'ami' holds the yardstick's meetings")
    split = split or E.DEFAULT_SPLIT
    window_seconds = float(cfg.train.window_seconds)
    predictors = {name: load_predictor(path) for name, path in models.items()}
    scores: dict[str, dict[str, dict[str, float]]] = {name: {} for name in models}
    try:
        meetings, origin = E.open_meetings(arm, split, E.DEFAULT_MEETINGS, window_seconds)
    except VfreportError as e:
        raise ExportError(f"cannot judge the int8 model: the yardstick's meetings ({arm.name}, split {split!r}) "
                          f"do not load: {e}") from e
    settings = E.yardstick_settings(arm)
    for m in meetings:
        for name, predictor in predictors.items():
            scores[name][m.uri] = E.score(m.reference, E.diarize(predictor, m, window_seconds, settings=settings),
                                          m.uem, m.uri)
    if not any(scores.values()):
        raise ExportError(f"cannot judge the int8 model: {origin} has no meetings in split {split!r}")
    return {"origin": origin, "split": split, "meetings": sorted(next(iter(scores.values()))),
            "corpus": {name: E.corpus_der(s) for name, s in scores.items()},
            "per_meeting": {name: {u: s["der"] for u, s in table.items()} for name, table in scores.items()}}


def export_int8(fp32_path: Path | str, cfg: Any, arm: str, method: str = DEFAULT_METHOD,
                out: Path | str | None = None, split: str | None = None) -> tuple[dict[str, Any], Path | None]:
    """Quantise the verified fp32 model, score both on the yardstick's meetings (``split``: the one
    the experiment's evaluation used, as :func:`vfreport.deploy.export.export_experiment` passes it)
    and judge the int8 one (:data:`MAX_DER_INCREASE_POINTS`).

    Calibration windows come from ``arm``'s training split (the data cache). The int8 model is
    written to ``out`` (default :func:`int8_path`) only when accepted; a rejected one is removed
    and the entry says why. Returns (the ``int8`` entry of results.json's ``onnx``, the written path).
    """
    fp32_path = Path(fp32_path)
    target = int8_path(fp32_path) if out is None else Path(out)
    calibration = None
    if method == "static":
        if arm not in cfg.arms:
            raise ExportError(f"cannot calibrate int8: arm {arm!r} is not in the experiment's config")
        train, _ = prepare_arm(cfg.arms[arm], cfg.train.window_seconds, cache_dir=windows_cache_dir(),
                               progress=False)
        calibration = calibration_windows(train.audio)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vfreport-int8-") as tmp:
        candidate = quantize_int8(fp32_path, Path(tmp) / target.name, method, calibration)
        quantize_seconds = time.perf_counter() - t0
        der = yardstick_der({"fp32": fp32_path, "int8": candidate}, cfg, split)
        max_increase_points = MAX_DER_INCREASE_POINTS
        verdict = judge_int8(der["corpus"]["fp32"]["der"], der["corpus"]["int8"]["der"], max_increase_points)
        size = candidate.stat().st_size
        written: Path | None = None
        if verdict["accepted"]:
            atomic_write_bytes(target, candidate.read_bytes())
            written = target
        elif target.exists():
            target.unlink()  # an earlier accepted int8 file no longer describes this model
    entry = {
        "method": method,
        "quantized_ops": list(QUANTIZED_OPS),
        "calibration_windows": None if calibration is None else len(calibration),
        "calibration_split": None if calibration is None else f"{arm} train",
        "size_bytes": size,
        "fp32_size_bytes": fp32_path.stat().st_size,
        "quantize_seconds": round(quantize_seconds, 3),
        **verdict,
        "meetings": der["meetings"],
        "split": der["split"],
        "der_origin": der["origin"],
        "per_meeting_der": der["per_meeting"],
    }
    if not verdict["accepted"]:
        entry["error"] = (f"int8 DER {100 * verdict['der_int8']:.2f} % is {verdict['der_increase_points']:+.2f} points "
                          f"from fp32's {100 * verdict['der_fp32']:.2f} % (accepted up to +{max_increase_points:g}); "
                          "the int8 model was not written")
    return entry, written
