"""One exception type per kind of user mistake.

Every error vfreport raises on purpose derives from :class:`VfreportError`; the CLI prints
``error: <message>`` on one line and exits with status 2 for these, so messages must name the
file, row or key at fault.
"""

from __future__ import annotations


class VfreportError(Exception):
    """Base class: a problem the user can fix (bad input, bad config, missing files)."""


class ConfigError(VfreportError):
    """The experiment config (TOML) or a notebook parameter is invalid."""


class DataError(VfreportError):
    """A dataset row, column or file does not fit the expected schema."""


class AudioDecodeError(DataError):
    """Audio bytes could not be decoded (corrupt, truncated, empty)."""


class AnnotationError(DataError):
    """An RTTM/UEM file or a segment list is malformed or inconsistent with its audio."""


class HubUnavailableError(DataError):
    """The Hugging Face hub (or any remote source) cannot be reached."""


class HistoryError(VfreportError):
    """A training history (CSV/JSON) is malformed: missing columns, NaN, bad epochs."""


class ExperimentError(VfreportError):
    """The experiment directory is missing, incomplete or locked by another process."""


class ResultsSchemaError(ExperimentError):
    """results.json was written with another layout (``schema_version``) than this vfreport reads."""


class ExperimentLockedError(ExperimentError):
    """Another vfreport process holds the experiment directory's lock."""


class UnsafePathError(VfreportError):
    """A name or path would make a write escape the experiment directory."""


class ExportError(VfreportError):
    """ONNX export failed its checks (checker or torch/ONNX Runtime parity).

    ``entry``: what results.json records about the failed attempt, when the export got that far."""

    entry: dict | None = None
