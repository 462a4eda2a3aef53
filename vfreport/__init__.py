"""vfreport: turn a speaker-diarization training experiment into a reproducible report."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vfreport")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
