"""Source ``synthetic``: the embedded corpora of :mod:`vfreport.data.synth`, seeded by ``data_seed``,
as many rows as the windows need (generated lazily)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vfreport.config import ArmConfig
from vfreport.data import synth
from vfreport.data.sources.base import RowSource, register_source

SYNTH_MEETING_SECONDS = 60.0


def synthetic_meetings_needed(
    n_windows: int, window_seconds: float, meeting_seconds: float = SYNTH_MEETING_SECONDS
) -> int:
    """Meetings a synthetic AMI split plans to spread ``n_windows`` over: about 40 % of each meeting
    is covered by windows (12 windows of 2 s per 60 s meeting)."""
    per = max(1, int(0.4 * meeting_seconds / window_seconds))
    return max(1, math.ceil(n_windows / per))


def open_synthetic(arm: ArmConfig, split: str, n_windows: int, window_seconds: float) -> RowSource:
    spread = "" if arm.voice_spread == synth.VOICE_SPREAD else f", voice_spread {arm.voice_spread:g}"
    origin = f"synthetic {arm.dataset} {split} (seed {arm.data_seed}{spread})"
    if arm.dataset == "librispeech":
        # one window per utterance; a little slack, generated only if needed (rows are lazy)
        n = n_windows + max(4, n_windows // 50)
        rows = synth.librispeech_rows(split, n, seed=arm.data_seed, voice_spread=arm.voice_spread)
        return RowSource(tag_rows(rows, origin), n, origin, planned_rows=n_windows)
    planned = synthetic_meetings_needed(n_windows, window_seconds)
    n = planned + max(2, math.ceil(0.5 * planned))
    rows = synth.ami_rows(split, n, seed=arm.data_seed, meeting_seconds=SYNTH_MEETING_SECONDS,
                          voice_spread=arm.voice_spread)
    return RowSource(tag_rows(rows, origin, meeting=True), n, origin, planned_rows=planned)


def tag_rows(rows: Iterable[dict[str, Any]], origin: str, meeting: bool = False) -> Iterator[dict[str, Any]]:
    for i, row in enumerate(rows):
        row["_where"] = f"{origin} row {i}"
        if meeting:
            row.setdefault("meeting_id", Path(str((row.get("audio") or {}).get("path") or f"row{i}")).stem)
        yield row


register_source("synthetic", open_synthetic)
