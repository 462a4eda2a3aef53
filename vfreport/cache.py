"""Where vfreport keeps what it can rebuild (prepared windows, benchmark audio): one location."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$VFREPORT_CACHE_DIR``, else ``~/.cache/vfreport``."""
    return Path(os.environ.get("VFREPORT_CACHE_DIR", Path.home() / ".cache" / "vfreport"))


def windows_cache_dir() -> Path:
    """Prepared windows (:func:`vfreport.data.windows.prepare_arm`): ``<cache>/windows``."""
    return default_cache_dir() / "windows"


def bench_audio_cache_dir() -> Path:
    """Long test audio the benchmarks tile once and keep: ``<cache>/bench-audio``."""
    return default_cache_dir() / "bench-audio"
