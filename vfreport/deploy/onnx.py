"""Export the winning model to ONNX and prove that ONNX Runtime computes what torch computes.

    results.json  --choose_winner-->  <arm>/seed-<k>/checkpoints/best.pt
                  --export_onnx-->    model.onnx  (metadata, checker, ORT-vs-torch parity)
                  --vfreport.deploy.export.export_experiment--> the results.json["onnx"] entry
                  (--quantize int8: + model.int8.onnx judged by DER, vfreport.deploy.quantize)

Sessions: :func:`inference_session` is the one place ONNX Runtime sessions are made, with the
options ``vfreport bench`` chose by measurement (docs/deployment.md).

The exported graph takes ``waveform`` float32 (batch, samples) at 16 kHz and returns ``logits``
float32 (batch, frames, 2), with batch and samples dynamic (frames = 1 + (samples - n_fft) // hop).
Labels are relative to the input window: 0 = the speaker who speaks first in it (docs/data.md).

Every export is verified before it is written: ``onnx.checker.check_model(full_check=True)``
(structure + strict shape inference), then ONNX Runtime against torch eager on inputs whose batch
size *and* length differ from the export example, because a graph specialised to the example
shape (or a mis-exported op) can still agree on the example itself (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vfreport import __version__
from vfreport.deploy.winner import read_checkpoint
from vfreport.errors import ExperimentError, ExportError
from vfreport.experiment.layout import (
    atomic_write_bytes,
)

INPUT_NAME = "waveform"
OUTPUT_NAME = "logits"
DEFAULT_OPSET = 18
EXAMPLE_SHAPE = (2, 32_000)
"""Batch and length of the tracing example (2 windows of 2 s)."""
CHECK_SHAPES: tuple[tuple[int, int], ...] = ((3, 24_000), (1, 52_000))
"""Parity inputs: batch and length both differ from :data:`EXAMPLE_SHAPE`, one shorter and one longer."""

PARITY_TOLERANCE = 1e-3
"""Max |ONNX Runtime - torch| on logits. Both run the same fp32 graph; they differ only in kernel
choice and summation order (oneDNN vs MLAS GEMM/conv, fused vs unfused attention, LayerNorm and
GELU fusions), which moves logits by ~1e-6..1e-5 (we measure 2-3e-6 for this model). A wrongly
exported op (a shape specialised to the example, a dropped normalisation, a mis-ordered gate) moves
them by 1e-2..1e0. 1e-3 sits two orders of magnitude above the numerical noise and two below a real
bug, and a 1e-3 shift in a logit can only flip a frame's argmax when its two logits were already
within 1e-3 of each other — a coin toss either way."""

_INT_KEYS = {"seed", "epoch", "sample_rate", "frame_step", "n_fft"}
_FLOAT_KEYS = {"val_acc", "window_seconds"}
_JSON_KEYS = {"model_config"}


@dataclass(frozen=True)
class ParityReport:
    """ONNX Runtime vs torch eager on the checked shapes."""

    max_abs_diff: float
    tolerance: float
    checked_shapes: list[list[int]]
    per_shape: list[dict[str, Any]]  # {"shape", "max_abs_diff", "argmax_agreement"}

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.max_abs_diff) and self.max_abs_diff <= self.tolerance)


@dataclass(frozen=True)
class ExportInfo:
    """What :func:`export_onnx` did and measured."""

    path: Path
    opset: int
    exporter: str  # "dynamo" or "torchscript" (fallback)
    export_seconds: float  # torch -> ONNX conversion, checks excluded
    check_seconds: float  # onnx.checker + parity
    parity: ParityReport
    metadata: dict[str, Any]
    fallback_reason: str | None = None
    example_shape: list[int] = field(default_factory=lambda: list(EXAMPLE_SHAPE))

    @property
    def max_abs_diff(self) -> float:
        return self.parity.max_abs_diff

    @property
    def parity_ok(self) -> bool:
        return self.parity.ok


# ---------------------------------------------------------------------------------------------
# ONNX Runtime sessions
# ---------------------------------------------------------------------------------------------

GRAPH_OPTIMIZATION = "all"
"""ONNX Runtime graph optimisation level ("basic", "extended", "all"): "all" adds the layout
transformations of the CPU provider; the three measured within noise of each other here."""
ALLOW_SPINNING = False
"""Whether ONNX Runtime's intra-op threads busy-wait for work. Off: predict does NumPy work between
batches (features, clustering) that spinning threads would steal cycles from, and on a shared
machine spinning threads lose to other processes. ``vfreport bench`` measures both
(docs/deployment.md, docs/performance.md)."""


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, else ``os.cpu_count()``)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def session_options(threads: int | None = None, *, optimization: str = GRAPH_OPTIMIZATION,
                    parallel: bool = False, spinning: bool = ALLOW_SPINNING) -> Any:
    """``onnxruntime.SessionOptions`` as vfreport runs its models (chosen by ``vfreport bench``'s
    sweep, docs/deployment.md): ``threads`` intra-op threads (default: :func:`available_cores`),
    sequential execution (the graph is one chain: parallel execution only adds scheduling),
    graph optimisation :data:`GRAPH_OPTIMIZATION`, spinning :data:`ALLOW_SPINNING`."""
    import onnxruntime as ort

    levels = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    opts = ort.SessionOptions()
    n = int(threads or available_cores())
    opts.intra_op_num_threads = n
    opts.inter_op_num_threads = n if parallel else 1
    opts.execution_mode = ort.ExecutionMode.ORT_PARALLEL if parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = levels[optimization]
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return opts


def inference_session(model: Path | str | bytes, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU provider with :func:`session_options`: the one
    place predict, export checks and the bench create their sessions."""
    import onnxruntime as ort

    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, session_options(threads), providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------------------------------------
# export + verification
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's chatter (torchvision-op registration notices, FutureWarnings)."""
    names = ["torch.onnx", "torch.onnx._internal.exporter._registration", "torch.export", "torch._dynamo"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _to_onnx_proto(model: Any, opset: int) -> tuple[Any, str, str | None]:
    """torch -> ModelProto with dynamic batch and samples; returns (proto, exporter, fallback_reason).

    The dynamo exporter (torch.export + onnxscript) is the supported path. Design.md §7 measured it
    at minutes for recurrent layers; this model has none (conv + attention) and exports in ~3-5 s
    on 2 CPU cores. Should torch.export still fail on a future model change (an untraceable
    op, a data-dependent shape), we fall back to the TorchScript exporter (deprecated, but it
    traces this graph in < 1 s) and record why: parity is checked either way.
    """
    import torch

    example = torch.randn(*EXAMPLE_SHAPE, generator=torch.Generator().manual_seed(0)) * 0.1
    n_fft = int(model.config.n_fft)
    try:
        batch = torch.export.Dim("batch", min=1)
        samples = torch.export.Dim("samples", min=n_fft)
        with _quiet_exporter(), torch.no_grad():
            program = torch.onnx.export(
                model,
                (example,),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"wav": {0: batch, 1: samples}},
                opset_version=opset,
                dynamo=True,
                optimize=True,
                verbose=False,
                report=False,
            )
        return program.model_proto, "dynamo", None
    except Exception as e:  # noqa: BLE001 - any exporter failure triggers the fallback
        reason = f"dynamo exporter failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    import io

    import onnx

    buf = io.BytesIO()
    try:
        with _quiet_exporter(), torch.no_grad():
            torch.onnx.export(
                model,
                (example,),
                buf,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch", 1: "samples"}, OUTPUT_NAME: {0: "batch", 1: "frames"}},
                opset_version=opset,
                dynamo=False,
            )
    except Exception as e:  # noqa: BLE001
        raise ExportError(
            f"ONNX export failed with both exporters ({reason}; torchscript: {type(e).__name__}: {e})"
        ) from e
    return onnx.load_from_string(buf.getvalue()), "torchscript", reason


def _name_output_dims(proto: Any) -> None:
    """Give the output's dims readable names: (batch, frames, 2) instead of a shape formula."""
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    if len(dims) == 3:
        if not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
        if not dims[1].HasField("dim_value"):
            dims[1].dim_param = "frames"


def _metadata_strings(metadata: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in metadata.items():
        if value is None:
            continue
        out[str(key)] = json.dumps(value, sort_keys=True) if key in _JSON_KEYS else str(value)
    return out


def read_metadata(onnx_path: Path | str) -> dict[str, Any]:
    """The model's metadata_props, typed back: ints (seed, epoch, sample_rate, frame_step, n_fft),
    floats (val_acc, window_seconds), dict (model_config), strings for everything else."""
    import onnx

    try:
        proto = onnx.load(str(onnx_path), load_external_data=False)
    except FileNotFoundError as e:
        raise ExperimentError(f"ONNX model not found: {onnx_path}") from e
    except Exception as e:  # noqa: BLE001 - protobuf decode errors have many types
        raise ExperimentError(f"{onnx_path} is not an ONNX model: {type(e).__name__}: {e}") from e
    return parse_metadata({p.key: p.value for p in proto.metadata_props})


def parse_metadata(props: dict[str, str]) -> dict[str, Any]:
    """Type the string metadata_props written by :func:`export_onnx` (unknown keys stay strings)."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        try:
            if key in _INT_KEYS:
                out[key] = int(value)
            elif key in _FLOAT_KEYS:
                out[key] = float(value)
            elif key in _JSON_KEYS:
                out[key] = json.loads(value)
            else:
                out[key] = value
        except (ValueError, json.JSONDecodeError):
            out[key] = value
    return out


def verify_parity(
    model: Any,
    onnx_model: bytes | str | Path,
    shapes: Sequence[Sequence[int]] = CHECK_SHAPES,
    tolerance: float = PARITY_TOLERANCE,
    seed: int = 0,
) -> ParityReport:
    """Run ONNX Runtime and torch eager on the same random inputs of each ``shapes`` entry.

    Inputs are Gaussian noise at speech-like level (std 0.1) with a silent stretch in the middle,
    so the log-mel normalisation sees both loud and near-silent frames. Returns the max |diff| over
    all logits; does not raise (callers decide).
    """
    import torch

    session = inference_session(onnx_model if isinstance(onnx_model, bytes) else Path(onnx_model))
    rng = np.random.default_rng(seed)
    per_shape, worst = [], 0.0
    for shape in shapes:
        b, s = (int(v) for v in shape)
        wav = (0.1 * rng.standard_normal((b, s))).astype(np.float32)
        wav[:, s // 3 : s // 3 + s // 8] *= 1e-3
        with torch.inference_mode():
            ref = model(torch.from_numpy(wav)).float().numpy()
        got = session.run([OUTPUT_NAME], {INPUT_NAME: wav})[0]
        if got.shape != ref.shape:
            diff = math.inf
            agree = 0.0
        else:
            d = np.abs(got.astype(np.float64) - ref)
            diff = float(d.max()) if np.isfinite(d).all() else math.inf
            agree = float((got.argmax(-1) == ref.argmax(-1)).mean())
        per_shape.append({"shape": [b, s], "output_shape": list(got.shape), "max_abs_diff": diff,
                          "argmax_agreement": agree})
        worst = max(worst, diff)
    return ParityReport(worst, float(tolerance), [list(map(int, s)) for s in shapes], per_shape)


def checkpoint_metadata(ckpt: dict[str, Any], model: Any) -> dict[str, Any]:
    cfg = model.config
    return {
        "arm": ckpt.get("arm"),
        "seed": ckpt.get("seed"),
        "epoch": ckpt.get("best_epoch", ckpt.get("epoch")),
        "val_acc": ckpt.get("best_val_acc", ckpt.get("val_acc")),
        "vfreport_version": __version__,
        "sample_rate": int(cfg.sample_rate),
        "frame_step": int(cfg.hop),
        "n_fft": int(cfg.n_fft),
    }


def export_model(
    model: Any,
    out: Path | str,
    metadata: dict[str, Any],
    opset: int = DEFAULT_OPSET,
    tolerance: float = PARITY_TOLERANCE,
    check_shapes: Sequence[Sequence[int]] = CHECK_SHAPES,
) -> ExportInfo:
    """Export an in-memory FastDiarizationModel (eval mode) to ``out``; see :func:`export_onnx`."""
    import onnx


    model.eval()
    cfg = model.config
    meta = dict(metadata)
    # Frame geometry always comes from the model itself, never from the caller.
    meta.update(sample_rate=int(cfg.sample_rate), frame_step=int(cfg.hop), n_fft=int(cfg.n_fft),
                model_config=asdict(cfg), input=f"{INPUT_NAME} float32 (batch, samples) at {cfg.sample_rate} Hz",
                output=f"{OUTPUT_NAME} float32 (batch, frames, 2); frames = 1 + (samples - {cfg.n_fft}) // {cfg.hop}",
                labels="per window: 0 = the speaker who speaks first in the window, 1 = the other")
    meta.setdefault("vfreport_version", __version__)

    t0 = time.perf_counter()
    proto, exporter, fallback_reason = _to_onnx_proto(model, opset)
    export_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    _name_output_dims(proto)
    onnx.helper.set_model_props(proto, _metadata_strings(meta))
    proto.doc_string = "vfreport FastDiarizationModel: waveform (batch, samples) -> logits (batch, frames, 2)"
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # noqa: BLE001 - ValidationError and shape-inference errors
        raise ExportError(f"onnx.checker rejected the exported model for {out}: {type(e).__name__}: {e}") from e
    data = proto.SerializeToString()
    parity = verify_parity(model, data, check_shapes, tolerance)
    check_seconds = time.perf_counter() - t1
    info = ExportInfo(Path(out), opset, exporter, export_seconds, check_seconds, parity,
                      parse_metadata(_metadata_strings(meta)), fallback_reason)
    if not parity.ok:
        detail = "; ".join(f"{p['shape']}: {p['max_abs_diff']:.3e}" for p in parity.per_shape)
        err = ExportError(
            f"ONNX Runtime disagrees with torch for {out}: max abs diff {parity.max_abs_diff:.3e} > tolerance "
            f"{parity.tolerance:.0e} on logits ({detail}); the model was not written"
        )
        err.info = info  # type: ignore[attr-defined]
        raise err
    atomic_write_bytes(out, data)  # only a verified model reaches its final path
    return info


def export_onnx(
    checkpoint: Path | str,
    out: Path | str,
    metadata: dict[str, Any] | None = None,
    opset: int = DEFAULT_OPSET,
    *,
    tolerance: float = PARITY_TOLERANCE,
    check_shapes: Sequence[Sequence[int]] = CHECK_SHAPES,
) -> ExportInfo:
    """Export a vfreport checkpoint to ONNX at ``out`` and verify it.

    Loads with ``FastDiarizationModel.from_checkpoint``; exports ``waveform`` (batch, samples) ->
    ``logits`` (batch, frames, 2) with dynamic batch and samples; stores metadata_props (arm, seed,
    epoch, val_acc, sample_rate, frame_step, n_fft, vfreport_version, model_config; the checkpoint
    supplies defaults, ``metadata`` overrides them, the model's geometry overrides both); runs
    ``onnx.checker.check_model(full_check=True)`` and ONNX Runtime vs torch parity on
    ``check_shapes``. Raises ExportError (with the numbers) on failure, leaving ``out`` untouched;
    on success writes ``out`` atomically.
    """
    from vfreport.model.network import FastDiarizationModel

    checkpoint = Path(checkpoint)
    ckpt = read_checkpoint(checkpoint)
    try:
        model = FastDiarizationModel.from_checkpoint(checkpoint)
    except ExperimentError as e:
        raise ExportError(str(e)) from e
    except Exception as e:  # noqa: BLE001 - config/state mismatch
        raise ExportError(f"cannot rebuild the model from {checkpoint}: {type(e).__name__}: {e}") from e
    meta = {**checkpoint_metadata(ckpt, model), **(metadata or {})}
    return export_model(model, out, meta, opset, tolerance, check_shapes)
