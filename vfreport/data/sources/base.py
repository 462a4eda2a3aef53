"""The source registry: ``ArmConfig.source`` names an opener that returns a :class:`RowSource`.

Each source module (:mod:`.synthetic`, :mod:`.local`, :mod:`.hub`) registers itself with
:func:`register_source`; :func:`open_split` looks the arm's source up (papermill's ``iorw``/``engines``
registries are the model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vfreport.config import ArmConfig
from vfreport.data.audio import AudioReader, open_audio
from vfreport.errors import DataError
from vfreport.names import DATASETS, SOURCES


@dataclass
class RowSource:
    """Lazy rows of one split. ``n_rows``: rows available (None when unknown, e.g. a stream);
    ``planned_rows``: rows the windows are meant to spread over (synthetic: fewer than ``n_rows``,
    the rest is slack); ``skipped``: rows or utterances dropped on the way (``on_bad_audio="skip"``)."""

    rows: Iterator[dict[str, Any]]
    n_rows: int | None
    origin: str
    planned_rows: int | None = None
    skipped: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.rows

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


Opener = Callable[[ArmConfig, str, int, float], RowSource]
"""``(arm, split, n_windows, window_seconds) -> RowSource``."""

OPENERS: dict[str, Opener] = {}
"""The registry: source name (one of :data:`vfreport.names.SOURCES`) -> its opener."""


def register_source(name: str, opener: Opener) -> Opener:
    """Register ``opener`` as source ``name`` (``ArmConfig.source``); ValueError for a name that is not
    in :data:`vfreport.names.SOURCES`, the list the config checks arms against."""
    if name not in SOURCES:
        raise ValueError(f"source {name!r} is not in vfreport.names.SOURCES {SOURCES}: add it there, "
                         "so that the config accepts it")
    OPENERS[name] = opener
    return opener


def open_split(arm: ArmConfig, split: str, n_windows: int, window_seconds: float = 2.0) -> RowSource:
    """The rows of ``split`` of ``arm`` (see :mod:`vfreport.data.sources`)."""
    if arm.dataset not in DATASETS:
        raise DataError(f"arm {arm.name!r}: unknown dataset {arm.dataset!r}")
    opener = OPENERS.get(arm.source)
    if opener is None:
        raise DataError(f"arm {arm.name!r}: unknown source {arm.source!r} (use {', '.join(map(repr, OPENERS))})")
    return opener(arm, split, n_windows, window_seconds)


def open_reader(row: dict[str, Any]) -> AudioReader:
    """An :class:`AudioReader` for a row's ``audio`` cell (DataError if the row has none)."""
    where = row.get("_where", "row")
    if "audio" not in row:
        raise DataError(f"{where}: missing column 'audio'")
    return open_audio(row["audio"], where)
