"""ONNX export time and ONNX Runtime vs torch eager inference speed (`vfreport bench`)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.deploy.onnx import INPUT_NAME, checkpoint_metadata, export_model
from vfreport.deploy.winner import read_checkpoint


def _median_seconds(fn: Any, n_runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n_runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_onnx(
    checkpoint: Path | str | None = None,
    n_runs: int = 20,
    batch: tuple[int, int] = (8, 32_000),
) -> dict[str, Any]:
    """Export time and ONNX Runtime vs torch eager CPU inference speed on one batch.

    ``checkpoint`` None benchmarks an untrained default model (speed does not depend on the
    weights). Times are medians of ``n_runs`` after 3 warm-up runs, torch under
    ``inference_mode``; first with 1 thread in both runtimes, then with the default thread count
    (torch's ``get_num_threads()`` for both). Torch runs before ONNX Runtime at each setting so
    ORT's spinning worker threads never compete with it. ``speedup`` = torch / ORT time, also
    given flat as ``speedup_single_thread`` and ``speedup_default_threads``.
    """
    import onnxruntime as ort
    import torch

    from vfreport.model.network import FastDiarizationModel

    if checkpoint is None:
        torch.manual_seed(0)
        model = FastDiarizationModel().eval()
        meta: dict[str, Any] = {"arm": "untrained", "seed": 0, "epoch": 0}
    else:
        model = FastDiarizationModel.from_checkpoint(checkpoint)
        meta = checkpoint_metadata(read_checkpoint(Path(checkpoint)), model)
    wav = (0.1 * np.random.default_rng(0).standard_normal(batch)).astype(np.float32)
    x = torch.from_numpy(wav)
    default_threads = torch.get_num_threads()
    out: dict[str, Any] = {"batch": list(batch), "n_runs": int(n_runs), "checkpoint": str(checkpoint)}
    with tempfile.TemporaryDirectory(prefix="vfreport-bench-") as tmp:
        path = Path(tmp) / "model.onnx"
        info = export_model(model, path, meta)
        out.update(export_seconds=info.export_seconds, exporter=info.exporter, check_seconds=info.check_seconds,
                   max_abs_diff=info.max_abs_diff, parity_ok=info.parity_ok)
        try:
            for label, threads in (("single_thread", 1), ("default_threads", default_threads)):
                torch.set_num_threads(threads)
                with torch.inference_mode():
                    t_torch = _median_seconds(lambda: model(x), n_runs)
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                t_ort = _median_seconds(lambda s=session: s.run(None, {INPUT_NAME: wav}), n_runs)
                del session
                out[label] = {"threads": threads, "torch_ms": 1000 * t_torch, "onnxruntime_ms": 1000 * t_ort,
                              "speedup": t_torch / t_ort,
                              "windows_per_s_onnxruntime": batch[0] / t_ort, "windows_per_s_torch": batch[0] / t_torch}
                out[f"speedup_{label}"] = t_torch / t_ort  # flat keys for `vfreport bench`
        finally:
            torch.set_num_threads(default_threads)
    out["target_speedup"] = 1.5
    out["target_export_seconds"] = 10.0
    out["meets_speedup_target"] = out["default_threads"]["speedup"] >= 1.5
    out["meets_export_target"] = out["export_seconds"] <= 10.0
    out["torch_version"], out["onnxruntime_version"] = torch.__version__, ort.__version__
    out["cpu_count"] = os.cpu_count()
    return out
