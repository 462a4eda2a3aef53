"""`vfreport bench`: the performance targets of docs/performance.md, measured in one run on one machine.

Every figure is a ratio or a rate with its target; the table says which are met. Nothing here
is asserted by the test suite's timing: tests only check that each figure is computed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vfreport.analysis.results import analyze_experiment
from vfreport.bench import predict_scaling as P
from vfreport.bench.calibration import bench_calibration
from vfreport.bench.figure import Figure, meets
from vfreport.bench.onnx_speed import (
    SessionChoice,
    bench_onnx,
    describe_choice,
    int8_speed,
    ort_windows_per_s,
    share_of_peak,
    tune_session,
)
from vfreport.bench.pipeline_der import bench_pipeline
from vfreport.cache import bench_audio_cache_dir, windows_cache_dir
from vfreport.config import ArmConfig, ExperimentConfig, TrainSettings, load_config
from vfreport.data.synth import write_corpus
from vfreport.data.windows import prepare_arm
from vfreport.deploy.onnx import export_model
from vfreport.deploy.quantize import DEFAULT_METHOD, calibration_windows, int8_path, quantize_int8
from vfreport.experiment.layout import ExperimentDir, atomic_write_json
from vfreport.model.network import FastDiarizationModel
from vfreport.model.train import autocast, epoch_size, masked_loss_and_hits, train_run
from vfreport.pipeline import write_results
from vfreport.report.markdown import render_markdown
from vfreport.report.write import write_report
from vfreport.run.job import job_parameters
from vfreport.run.notebooks import execute_notebook
from vfreport.run.runner import TRAIN_TEMPLATE


def machine() -> dict[str, Any]:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    return info


def matmul_peak_gflops(threads: int | None = None, n: int = 1024, seconds: float = 1.0,
                       clock: Callable[[], float] = time.perf_counter) -> float:
    """fp32 matmul FLOP/s of this machine (best of repeated n x n products), in GFLOP/s; per CPU
    second of this process with ``clock=time.process_time`` (use one thread then)."""
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)
        best = 0.0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = clock()
            for _ in range(4):
                torch.mm(a, b)
            dt = clock() - t0
            best = max(best, 4 * 2 * n**3 / dt / 1e9)
        return best
    finally:
        torch.set_num_threads(old)


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def bench_data_pipeline(work: Path) -> list[Figure]:
    """Cold (decode + window from parquet) and cached throughput, in seconds of audio per second, per core."""
    cfg = load_config()
    corpus = work / "corpus"
    write_corpus(corpus, seed=0)
    figures = []
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for arm in cfg.arms.values():
            local = replace(arm, source="local", path=str(corpus / arm.dataset))
            t0 = time.perf_counter()
            tr, va = prepare_arm(local, cfg.train.window_seconds, cache_dir=work / "cache", progress=False)
            cold = time.perf_counter() - t0
            audio_s = (len(tr) + len(va)) * cfg.train.window_seconds
            decoded_s = float(tr.info.get("seconds_of_audio", audio_s)) + float(va.info.get("seconds_of_audio", 0))
            cached = math.inf
            for _ in range(3):  # best of 3: the first read may still pay for the OS page cache
                t0 = time.perf_counter()
                prepare_arm(local, cfg.train.window_seconds, cache_dir=work / "cache", progress=False)
                cached = min(cached, time.perf_counter() - t0)
            figures.append(Figure(f"data cold ({arm.name}): decode + window", decoded_s / cold, "x real time/core",
                                  ">= 2000", meets(decoded_s / cold, ">=", 2000),
                                  f"{decoded_s:.0f} s of audio decoded in {cold:.2f} s"))
            figures.append(Figure(f"data cached ({arm.name})", audio_s / cached, "x real time/core", ">= 10000",
                                  meets(audio_s / cached, ">=", 10000),
                                  f"{audio_s:.0f} s of windows in {cached:.3f} s"))
    finally:
        torch.set_num_threads(old)
    return figures


def _demo_windows(arm: ArmConfig, cfg: ExperimentConfig) -> tuple[Any, Any]:
    return prepare_arm(arm, cfg.train.window_seconds, cache_dir=windows_cache_dir(), progress=False)


def bench_training(peak_gflops: float, threads: int) -> list[Figure]:
    """Training windows/s on the demo's AMI arm, epoch time, and the share of the matmul peak reached."""
    cfg = load_config()
    arm = cfg.target
    tr, va = _demo_windows(arm, cfg)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with tempfile.TemporaryDirectory() as d:
            spec = replace(cfg.train, seed=0, epochs=2, device="cpu", arm=arm.name)  # the demo's epochs
            hist = train_run(spec, ExperimentDir(d).run(arm.name, 0), tr, va, progress=False)
    finally:
        torch.set_num_threads(old)
    epoch_s = float(hist["epoch_seconds"].iloc[-1])
    # time per epoch includes validation; training windows/s counts a forward+backward (3x forward FLOPs)
    model = FastDiarizationModel()
    flops = model.flops_per_window(tr.audio.shape[1])
    n = epoch_size(len(tr), cfg.train.epoch_windows)  # windows one epoch trains on
    val_cost = len(va) / (3 * n)  # validation is forward only
    wps = n * (1 + val_cost) / epoch_s
    share = 3 * flops * wps / (peak_gflops * 1e9)
    return [
        Figure("training throughput (CPU)", wps, "windows/s", "(rate)", None,
               f"{threads} threads, {tr.audio.shape[1] / 16000:.1f} s windows, batch {cfg.train.batch_size}"),
        Figure("training epoch time (demo AMI arm)", epoch_s, "s", "(rate)", None,
               f"{n} of {len(tr)} train windows + {len(va)} val windows"),
        Figure("training share of fp32 matmul peak", 100 * share, "%", ">= 30", meets(100 * share, ">=", 30),
               f"{flops / 1e6:.0f} MFLOP/window forward, x3 for training; peak {peak_gflops:.0f} GFLOP/s"),
    ]


def bench_gpu() -> list[Figure]:
    """On CUDA: 2 s windows/s at a device-filling batch with bf16 and the GPU-busy share of an epoch."""
    if not torch.cuda.is_available():
        return [Figure("training throughput (CUDA)", None, "windows/s", ">= 20000 (H100)", None, "no CUDA device here")]
    from torch.profiler import ProfilerActivity, profile


    dev = torch.device("cuda")
    model = FastDiarizationModel().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n, batch = 10_240, 1024
    audio = torch.randn(n, 32000, device=dev)
    frames = model.num_frames(32000)
    labels = torch.randint(0, 2, (n, frames), device=dev)
    mask = torch.ones(n, frames, dtype=torch.bool, device=dev)

    def epoch() -> None:
        for i in range(0, n, batch):
            with autocast(dev):
                out = model(audio[i : i + batch])
            ls, _, s = masked_loss_and_hits(out, labels[i : i + batch], mask[i : i + batch])
            opt.zero_grad(set_to_none=True)
            (ls / s.sum()).backward()
            opt.step()

    epoch()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        epoch()
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    busy_us = sum(e.self_device_time_total for e in prof.key_averages())
    busy = min(1.0, busy_us / 1e6 / wall)
    wps = n / wall
    return [
        Figure("training throughput (CUDA)", wps, "windows/s", ">= 20000 (H100)", meets(wps, ">=", 20000),
               f"{torch.cuda.get_device_name(0)}, batch {batch}, bf16, data on device"),
        Figure("GPU busy share of an epoch", 100 * busy, "%", ">= 90", meets(100 * busy, ">=", 90), ""),
    ]


def bench_papermill_overhead(threads: int) -> list[Figure]:
    """One demo run through papermill vs the same training called directly from a Python process.

    Both start a fresh interpreter (the kernel / ``python -c``) and import the same packages, and
    both find the data cache warm, so the ratio is what papermill itself adds (kernel start-up,
    cell messaging, writing the executed notebook, the notebook's learning-curve figure).
    """
    cfg = load_config()
    arm = cfg.target
    _demo_windows(arm, cfg)  # warm cache for both
    with tempfile.TemporaryDirectory() as d:
        params = job_parameters(Path(d) / "direct", arm, 0, cfg.epochs, cfg.checkpoint_every, cfg.train, threads)
        params["progress"] = False
        code = f"from vfreport.run.job import run_job; run_job(**{params!r})"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        direct = time.perf_counter() - t0
        params["experiment_dir"] = str(Path(d) / "papermill")
        out = Path(d) / "papermill" / arm.name / "seed-0"
        out.mkdir(parents=True)
        t0 = time.perf_counter()
        execute_notebook(TRAIN_TEMPLATE, out / "train.ipynb", params, cwd=out)
        via_pm = time.perf_counter() - t0
    ratio = via_pm / direct
    return [Figure("papermill overhead (papermill / direct)", ratio, "x", "<= 1.10", meets(ratio, "<=", 1.10),
                   f"direct {direct:.1f} s, papermill {via_pm:.1f} s, {cfg.epochs} epochs, {threads} threads")]


def bench_run_all() -> list[Figure]:
    """`vfreport run-all` (demo preset, no report) wall time with --jobs 1 and --jobs 2, warm data cache."""
    times = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vfreport.cli", "run-all", "--no-report", "--jobs", str(jobs),
                            "--out", str(Path(d) / "demo")], check=True, capture_output=True)
            times[jobs] = time.perf_counter() - t0
    speedup = times[1] / times[2]
    return [
        Figure("run-all demo, --jobs 2 (training only)", times[2] / 60, "min", "<= 3", meets(times[2] / 60, "<=", 3),
               f"{times[2]:.0f} s"),
        Figure("run-all demo, --jobs 1 (training only)", times[1] / 60, "min", "(reference)", None,
               f"{times[1]:.0f} s"),
        Figure("run-all speed-up, 2 jobs vs 1", speedup, "x", ">= 1.6", meets(speedup, ">=", 1.6), ""),
    ]


EXECUTOR_BENCH_CONFIG = """
[experiment]
name = "executors"
seeds = [0, 1]
epochs = 6
"""
"""The demo's arms and windows, 2 seeds x 6 epochs: 4 runs for 2 workers."""


def bench_executor_overhead() -> list[Figure]:
    """`vfreport run-all --no-report` on :data:`EXECUTOR_BENCH_CONFIG` with ``--executor dask``
    (a LocalCluster of 2 worker processes, started and closed by run-all) vs the local executor
    (``--jobs 2``), warm data cache: the ratio is what dask adds."""
    cfg = load_config()
    for arm in cfg.arms.values():  # warm cache for both
        prepare_arm(arm, cfg.train.window_seconds, windows_cache_dir())
    times = {}
    with tempfile.TemporaryDirectory() as d:
        config = Path(d) / "executors.toml"
        config.write_text(EXECUTOR_BENCH_CONFIG)
        for name, options in (("local", ["--jobs", "2"]), ("dask", ["--executor", "dask", "--workers", "2"])):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "vfreport.cli", "run-all", "--no-report", "--config",
                                   str(config), "--out", str(Path(d) / name), *options], capture_output=True, text=True)
            times[name] = time.perf_counter() - t0
            if done.returncode != 0:
                raise RuntimeError(f"run-all --executor {name} exited {done.returncode}: "
                                   f"{(done.stderr.strip().splitlines() or [''])[-1]}")
    ratio = times["dask"] / times["local"]
    return [Figure("executor overhead (dask LocalCluster / local, 2 workers)", ratio, "x", "<= 1.15",
                   meets(ratio, "<=", 1.15), f"local {times['local']:.1f} s, dask {times['dask']:.1f} s "
                   f"({times['dask'] - times['local']:+.1f} s), 4 runs x 6 epochs")]


def synthetic_experiment(root: Path, seeds: int = 10, epochs: int = 30) -> Path:
    """A 2 arms x ``seeds`` x ``epochs`` experiment directory with made-up but plausible histories."""
    cfg = load_config(overrides={"experiment": {"seeds": list(range(seeds)), "epochs": epochs, "name": "bench"}})
    exp = ExperimentDir(root)
    root.mkdir(parents=True, exist_ok=True)
    exp.write_config(cfg)
    rng = np.random.default_rng(0)
    for arm, (top, noise) in {"librispeech": (0.55, 0.08), "ami": (0.8, 0.02)}.items():
        for seed in range(seeds):
            ep = np.arange(1, epochs + 1)
            curve = 0.5 + (top - 0.5) * (1 - np.exp(-ep / 5))
            hist = pd.DataFrame({
                "epoch": ep,
                "train_loss": 0.69 - 0.3 * (1 - np.exp(-ep / 6)) + rng.normal(0, 0.01, epochs),
                "train_acc": np.clip(curve + 0.05 + rng.normal(0, 0.01, epochs), 0, 1),
                "val_loss": 0.69 - 0.2 * (1 - np.exp(-ep / 6)) + rng.normal(0, 0.02, epochs),
                "val_acc": np.clip(curve + rng.normal(0, noise, epochs), 0, 1),
                "lr": 1e-3, "epoch_seconds": 1.0, "train_frames": 100_000, "val_frames": 10_000,
                "val_window_acc": np.clip(curve + rng.normal(0, noise, epochs), 0, 1),
            })
            run = exp.run(arm, seed)
            run.root.mkdir(parents=True, exist_ok=True)
            run.write_history(hist)
            run.write_status(state="completed", epochs=epochs, last_epoch=epochs, seconds=epochs * 1.0)
    return root


def bench_analysis(work: Path) -> list[Figure]:
    """Analysis + Markdown for 2 arms x 10 seeds x 30 epochs; HTML report separately."""
    exp = synthetic_experiment(work / "analysis")
    t0 = time.perf_counter()
    results = analyze_experiment(exp)
    write_results(exp, results)
    render_markdown(results, {})
    dt = time.perf_counter() - t0
    figs = [Figure("analysis + Markdown (2 x 10 seeds x 30 epochs)", dt, "s", "<= 2", meets(dt, "<=", 2), "")]

    t0 = time.perf_counter()
    write_report(exp, results, html=True)
    dt = time.perf_counter() - t0
    figs.append(Figure("full report incl. figures, review notebook, HTML", dt, "s", "<= 30", meets(dt, "<=", 30), ""))
    return figs


def bench_onnx_figures(work: Path, peak_gflops: float, threads: int) -> list[Figure]:
    """ONNX export time and speed vs torch eager; ONNX Runtime's share of the fp32 matmul peak with
    vfreport's session options and with the best the sweep finds
    (:func:`vfreport.bench.onnx_speed.tune_session`), and in CPU time at 1 thread; the int8 model
    (:mod:`vfreport.deploy.quantize`, static, calibrated on the demo's training windows): its
    speed-up over fp32 (wall clock with the sweep's options; CPU time at 1 thread) and both sizes."""
    cfg = load_config()
    arm = cfg.target
    tr, va = _demo_windows(arm, cfg)
    run = ExperimentDir(work / "onnx").run(arm.name, 0)
    train_run(TrainSettings(seed=0, epochs=1, device="cpu", arm=arm.name), run, tr, va, progress=False)
    fp32 = work / "onnx" / "model.onnx"
    info = bench_onnx(run.best, keep_as=fp32)
    out = [Figure("ONNX export time", info["export_seconds"], "s", "<= 10",
                  meets(info["export_seconds"], "<=", 10), "")]
    for key, value in info.items():
        if key.startswith("speedup"):
            out.append(Figure(f"ONNX Runtime vs torch eager ({key.removeprefix('speedup').strip('_') or 'CPU'})",
                              value, "x", ">= 1.5", meets(value, ">=", 1.5), ""))
    samples = tr.audio.shape[1]
    flops = FastDiarizationModel.from_checkpoint(run.best).flops_per_window(samples)
    tuned = tune_session(fp32, threads, samples)
    for t in tuned["trials"]:
        choice = SessionChoice(**{k: v for k, v in t.items() if k != "windows_per_s"})
        print(f"[bench] onnx sweep: {t['windows_per_s']:7.1f} windows/s  {describe_choice(choice)}", file=sys.stderr)
    for label, key in (("vfreport's session options", "default"), ("best options of the sweep", "best")):
        wps, choice = tuned[f"{key}_windows_per_s"], tuned[key]
        # the peak at the configuration's thread count, measured again right after the sweep: on a
        # shared machine the larger of the two measurements is the fairer reference
        n = int(choice["threads"])
        peak = max(peak_gflops if n == threads else 0.0, matmul_peak_gflops(threads=n))
        share = 100 * share_of_peak(wps, flops, peak)
        opts = describe_choice(SessionChoice(**choice))
        busy = " OVER 100 %: the machine was busier while the peak was measured; see the CPU-time figure;" \
            if share > 100 else ""
        out.append(Figure(f"ONNX Runtime share of fp32 peak ({label})", share, "%", ">= 50", meets(share, ">=", 50),
                          f"{wps:.0f} windows/s x {flops / 1e6:.0f} MFLOP / {peak:.0f} GFLOP/s ({n} threads);{busy} "
                          f"{opts}"))
    # CPU time of one thread: what a window costs whatever else a shared machine runs
    one = SessionChoice(threads=1, batch=int(tuned["best"]["batch"]))
    cpu_wps = ort_windows_per_s(fp32, one, samples, clock=time.process_time)
    cpu_peak = matmul_peak_gflops(threads=1, clock=time.process_time)
    cpu_share = 100 * share_of_peak(cpu_wps, flops, cpu_peak)
    out.append(Figure("ONNX Runtime share of fp32 peak (CPU time, 1 thread)", cpu_share, "%", ">= 50",
                      meets(cpu_share, ">=", 50), f"{cpu_wps:.0f} windows per CPU-second x {flops / 1e6:.0f} MFLOP / "
                      f"{cpu_peak:.0f} GFLOP per CPU-second; {describe_choice(one)}"))
    int8 = quantize_int8(fp32, int8_path(fp32), DEFAULT_METHOD, calibration_windows(tr.audio))
    for label, choice, clock in (("wall clock, best options of the sweep", SessionChoice(**tuned["best"]),
                                  time.perf_counter), ("CPU time, 1 thread", one, time.process_time)):
        speed = int8_speed(fp32, int8, choice, samples, clock=clock)
        out.append(Figure(f"ONNX int8 vs fp32 speed-up ({label})", speed["speedup"], "x", "(rate)", None,
                          f"{DEFAULT_METHOD}; {speed['int8_windows_per_s']:.0f} vs {speed['fp32_windows_per_s']:.0f} "
                          "windows/s; DER judged by export-onnx --quantize int8"))
    out.append(Figure("ONNX model size fp32", speed["fp32_bytes"] / 1e6, "MB", "(size)", None, ""))
    out.append(Figure("ONNX model size int8", speed["int8_bytes"] / 1e6, "MB", "(size)", None,
                      f"{speed['int8_bytes'] / speed['fp32_bytes']:.2f} of fp32"))
    return out


def _bench_model(work: Path) -> Path:
    """The ONNX model the onnx step exported (1 epoch on the demo), else an untrained one."""
    path = work / "onnx" / "model.onnx"
    if not path.is_file():
        torch.manual_seed(0)
        path.parent.mkdir(parents=True, exist_ok=True)
        export_model(FastDiarizationModel().eval(), path, {"arm": "untrained", "seed": 0, "epoch": 0})
    return path


def bench_predict_figures(work: Path, long: bool = False, model: Path | None = None) -> list[Figure]:
    """`vfreport predict` at 20 min and 1 h of tiled AMI audio (with ``long`` also 3 h and 10 h):
    time per hour of audio and peak memory (:mod:`vfreport.bench.predict_scaling`), with ``model``
    (a trained model.onnx: the count of speakers it finds sets the clustering's work) or else
    :func:`_bench_model`'s."""
    minutes = P.LONG_MINUTES if long else P.DEFAULT_MINUTES
    res = P.bench_predict_long(model or _bench_model(work), bench_audio_cache_dir(), work / "predict", minutes)
    figs = []
    for r in res["rows"]:
        label = f"{r['minutes'] // 60} h" if r["minutes"] % 60 == 0 else f"{r['minutes']} min"
        figs.append(Figure(f"predict {label}: time per hour of audio", r["seconds_per_hour"], "s/h", "(rate)", None,
                           f"wall {r['wall_s']:.1f} s incl. {res['startup_s']:.1f} s start-up, real-time factor "
                           f"{r['real_time_factor']:.4f}, {os.cpu_count()} cores"))
        figs.append(Figure(f"predict {label}: CPU time per hour of audio", r["cpu_seconds_per_hour"], "CPU-s/h",
                           "(rate)", None, f"{r['cpu_s']:.1f} CPU-s incl. {res['startup_cpu_s']:.1f} at start-up"))
        at_10h = r["minutes"] == 600
        figs.append(Figure(f"predict {label}: peak memory", r["peak_rss_mb"] / 1024, "GB",
                           f"< {P.PEAK_TARGET_GB:g} at 10 h" if at_10h else "(size)",
                           meets(r["peak_rss_mb"] / 1024, "<=", P.PEAK_TARGET_GB) if at_10h else None, ""))
    if "time_ratio_10h_vs_1h" in res:
        ratio = res["time_ratio_10h_vs_1h"]
        figs.append(Figure("predict time per hour, 10 h vs 1 h", ratio, "x", f"<= {P.TIME_RATIO_TARGET}",
                           meets(ratio, "<=", P.TIME_RATIO_TARGET),
                           f"start-up subtracted; in CPU time {res['cpu_time_ratio_10h_vs_1h']:.2f}x"))
    return figs


SCALING_SCRIPT = r"""
import json, resource, sys, time, tempfile, dataclasses
from pathlib import Path
import torch
from vfreport.config import load_config
from vfreport.data.windows import prepare_arm
from vfreport.config import TrainSettings
from vfreport.model.train import train_run
from vfreport.experiment.layout import ExperimentDir
factor = int(sys.argv[1]); cache = Path(sys.argv[2])
cfg = load_config(); arm = cfg.target
arm = dataclasses.replace(arm, train_windows=arm.train_windows * factor)
t0 = time.perf_counter()
tr, va = prepare_arm(arm, cfg.train.window_seconds, cache_dir=cache, progress=False)
prep = time.perf_counter() - t0
with tempfile.TemporaryDirectory() as d:
    spec = TrainSettings(seed=0, epochs=1, device="cpu", arm=arm.name)
    h = train_run(spec, ExperimentDir(d).run(arm.name, 0), tr, va, progress=False)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"factor": factor, "windows": len(tr), "prepare_s": prep, "epoch_s": float(h["epoch_seconds"][0]),
                  "peak_rss_mb": rss}))
"""


def bench_scaling(work: Path, factors: tuple[int, ...] = (1, 4, 16)) -> list[Figure]:
    """Time and peak memory (separate processes) at 1x, 4x, 16x the demo's training windows."""
    figs = []
    rows = []
    for f in factors:
        out = subprocess.run([sys.executable, "-c", SCALING_SCRIPT, str(f), str(work / "scaling-cache")],
                             check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]
    for r in rows:
        figs.append(Figure(f"scaling {r['factor']}x ({r['windows']} windows): epoch time", r["epoch_s"], "s",
                           f"~{r['factor']}x of 1x", None,
                           f"{r['epoch_s'] / base['epoch_s']:.1f}x; data prep {r['prepare_s']:.1f} s"))
        figs.append(Figure(f"scaling {r['factor']}x: peak memory", r["peak_rss_mb"], "MiB", "bounded by the cache",
                           None, f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x of 1x"))
    return figs


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------


def print_table(figures: list[Figure], info: dict[str, Any]) -> None:
    print(f"vfreport bench on {info['processor']} ({info['cores']} cores), torch {info['torch']}, "
          f"CUDA: {info['cuda'] or 'none'}")
    w = max(len(f.name) for f in figures)
    print(f"{'figure':<{w}}  {'value':>10}  {'unit':<18} {'target':<22} met")
    for f in figures:
        val = "n/a" if f.value is None else (f"{f.value:,.2f}" if abs(f.value) < 1e4 else f"{f.value:,.0f}")
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        print(f"{f.name:<{w}}  {val:>10}  {f.unit:<18} {f.target:<22} {met}  {f.note}")


def _has_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def run_benchmarks(json_out: Path | None = None, scaling: bool = False, quick: bool = False,
                   only: list[str] | None = None, long: bool = False, pipeline_model: Path | None = None,
                   pipeline_data: Path | None = None) -> list[Figure]:
    info = machine()
    cores = os.cpu_count() or 1
    steps: list[tuple[str, Callable[[], list[Figure]]]] = []
    work = Path(tempfile.mkdtemp(prefix="vfreport-bench-"))
    peak = matmul_peak_gflops(threads=cores)
    steps.append(("peak", lambda: [Figure("fp32 matmul peak", peak, "GFLOP/s", "(reference)", None,
                                          f"{cores} threads, 1024x1024")]))
    steps.append(("data", lambda: bench_data_pipeline(work)))
    steps.append(("training", lambda: bench_training(peak, cores)))
    steps.append(("gpu", bench_gpu))
    steps.append(("analysis", lambda: bench_analysis(work)))
    steps.append(("onnx", lambda: bench_onnx_figures(work, peak, cores)))
    steps.append(("predict", lambda: bench_predict_figures(work, long, pipeline_model)))
    if not quick:
        # as run-all executes the demo: 2 jobs, the cores split between them
        steps.append(("papermill", lambda: bench_papermill_overhead(max(1, cores // 2))))
        steps.append(("run-all", bench_run_all))
        if _has_dask():
            steps.append(("executors", bench_executor_overhead))
    if scaling:
        steps.append(("scaling", lambda: bench_scaling(work)))
    tables: list[str] = []
    if pipeline_model is not None:
        def pipeline() -> list[Figure]:
            figs, table = bench_pipeline(pipeline_model, pipeline_data)
            tables.append(table)
            return figs

        steps.append(("pipeline", pipeline))

        def calibration() -> list[Figure]:
            figs, table = bench_calibration(pipeline_model)
            tables.append(table)
            return figs

        steps.append(("calibration", calibration))
    figures: list[Figure] = []
    for name, step in steps:
        if only and name not in only:
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            figures.extend(step())
        except Exception as e:  # noqa: BLE001 - a broken figure is reported, the others still run
            figures.append(Figure(f"{name} (failed)", None, "", "", False, f"{type(e).__name__}: {e}"))
    print_table(figures, info)
    for table in tables:
        print()
        print(table)
    if json_out is not None:
        atomic_write_json(json_out, [
            {k: v for k, v in asdict(f).items()} | {"machine": info} for f in figures
        ])
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_rss:.0f} MiB", file=sys.stderr)
    return figures
