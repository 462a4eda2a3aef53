"""Where vfreport keeps what it can rebuild (prepared windows, benchmark audio): one location."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$VFREPORT_CACHE_DIR``, else ``~/.cache/vfreport``."""
    return Path(os.environ.get("VFREPORT_CACHE_DIR", Path.home() / ".cache" / "vfreport"))
