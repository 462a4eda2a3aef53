"""`vfreport predict` on long recordings: wall time and peak memory at 20 min, 1 h (and, with
``vfreport bench --long``, 3 h and 10 h) of audio (docs/performance.md).

    tests/data/ami-debug/dev00.wav + dev01.wav (60 s of real AMI audio, source checkout)
      --long_recording: tiled to the duration, each copy at its own gain (±3 dB, fixed seed) so no
        two copies are bit-identical; 16-bit WAV, cached under <cache>/bench-audio-->
      --measure_predict: `python -m vfreport.cli predict MODEL AUDIO --out DIR` in a child process,
        launched by a small parent that reports the child's wall time and peak RSS
        (getrusage(RUSAGE_CHILDREN).ru_maxrss: the parent has exactly one child)-->
      --time per hour of audio, wall clock and CPU time (start-up subtracted: the best of 3 runs
        of predict on a 1-minute file), and peak memory

Targets (issue 23): time per hour of audio constant within 1.3x from 1 h to 10 h; peak memory
under 2 GB at 10 h. The public entry point is measured whatever its internals.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import vfreport
from vfreport.errors import DataError

EXCERPTS = ("dev00.wav", "dev01.wav")
DEFAULT_MINUTES = (20, 60)
LONG_MINUTES = (20, 60, 180, 600)
STARTUP_MINUTES = 1
"""A 1-minute file measures what every call pays regardless of length (interpreter, imports, model load)."""
STARTUP_RUNS = 3
"""The start-up is the best of this many runs: one slow run on a busy machine would be subtracted
from every duration."""
TIME_RATIO_TARGET = 1.3
PEAK_TARGET_GB = 2.0
GAIN_DB = 3.0
BLOCK_SECONDS = 600

LAUNCHER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": done.returncode, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024,
                  "stderr_tail": done.stderr.strip().splitlines()[-3:]}))
"""


def excerpt_dir() -> Path:
    """tests/data/ami-debug of the source checkout this package runs from."""
    return Path(vfreport.__file__).resolve().parents[1] / "tests" / "data" / "ami-debug"


def long_recording(minutes: int, cache_dir: Path, source: Path | None = None, seed: int = 0) -> Path:
    """A ``minutes``-long 16 kHz mono 16-bit WAV tiled from the AMI excerpts (cached; module doc).

    Written block by block (:data:`BLOCK_SECONDS`), so making a 10-hour file never holds it whole."""
    import soundfile as sf


    out = cache_dir / f"ami-debug-tiled-{minutes}min.wav"
    if out.is_file():
        return out
    source = source or excerpt_dir()
    paths = [source / name for name in EXCERPTS]
    if not all(p.is_file() for p in paths):
        raise DataError(f"the long-predict bench tiles {', '.join(EXCERPTS)} from {source}: run it from a "
                        "source checkout of vfreport (tests/data/ami-debug)")
    clips = [sf.read(p, dtype="float32", always_2d=True)[0].mean(axis=1) for p in paths]
    rates = {sf.info(p).samplerate for p in paths}
    if rates != {16_000}:
        raise DataError(f"expected 16 kHz excerpts, found {sorted(rates)} Hz")
    unit = np.concatenate(clips)
    n_total = minutes * 60 * 16_000
    rng = np.random.default_rng(seed)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial.wav")
    block = BLOCK_SECONDS * 16_000 // len(unit) * len(unit) or len(unit)
    with sf.SoundFile(tmp, "w", samplerate=16_000, channels=1, subtype="PCM_16") as f:
        written = 0
        while written < n_total:
            n = min(block, n_total - written)
            copies = -(-n // len(unit))
            gains = 10 ** (rng.uniform(-GAIN_DB, GAIN_DB, copies) / 20)
            chunk = (unit[None, :] * gains[:, None].astype(np.float32)).reshape(-1)[:n]
            f.write(np.clip(chunk, -1.0, 1.0))
            written += n
    tmp.replace(out)
    return out


def measure_predict(model: Path | str, audio: Path | str, out_dir: Path | str) -> dict[str, Any]:
    """Wall time, CPU time (user + system, all threads) and peak RSS of ``vfreport predict MODEL
    AUDIO --out OUT_DIR`` in a child process."""
    cmd = [sys.executable, "-m", "vfreport.cli", "predict", str(model), str(audio), "--out", str(out_dir)]
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=True)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    if row["returncode"] != 0:
        raise RuntimeError(f"vfreport predict exited {row['returncode']} on {audio}: {' | '.join(row['stderr_tail'])}")
    return row


def per_hour_seconds(wall_s: float, startup_s: float, minutes: float) -> float:
    """Seconds of predict per hour of audio, the fixed start-up cost taken out."""
    return max(wall_s - startup_s, 0.0) / (minutes / 60)


def bench_predict_long(model: Path | str, cache_dir: Path, work: Path,
                       minutes: Sequence[int] = DEFAULT_MINUTES) -> dict[str, Any]:
    """Predict on each duration of ``minutes`` (after the 1-minute start-up run); returns the rows
    and, where 60 and 600 minutes were both measured, the time-per-hour ratio and the 10-h peak."""
    short = long_recording(STARTUP_MINUTES, cache_dir)
    runs = [measure_predict(model, short, work / "startup") for _ in range(STARTUP_RUNS)]
    startup = {k: min(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_rss_mb")}  # least disturbed
    rows = []
    for m in minutes:
        r = measure_predict(model, long_recording(m, cache_dir), work / f"{m}min")
        rows.append({"minutes": m, **{k: r[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")},
                     "seconds_per_hour": per_hour_seconds(r["wall_s"], startup["wall_s"], m),
                     "cpu_seconds_per_hour": per_hour_seconds(r["cpu_s"], startup["cpu_s"], m),
                     "real_time_factor": r["wall_s"] / (60 * m)})
    out: dict[str, Any] = {"model": str(model), "startup_s": startup["wall_s"], "startup_cpu_s": startup["cpu_s"],
                           "startup_peak_rss_mb": startup["peak_rss_mb"], "rows": rows}
    by = {r["minutes"]: r for r in rows}
    if 60 in by and 600 in by:
        out["time_ratio_10h_vs_1h"] = by[600]["seconds_per_hour"] / by[60]["seconds_per_hour"]
        out["cpu_time_ratio_10h_vs_1h"] = by[600]["cpu_seconds_per_hour"] / by[60]["cpu_seconds_per_hour"]
        out["peak_gb_10h"] = by[600]["peak_rss_mb"] / 1024
    return out
