"""Schema adapters shared by the local and hub sources: which Hugging Face schema a table is in,
and rows converted to the arm's dataset schema (strategy-document rows, utterance rows grouped
into meetings)."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.data.audio import SAMPLE_RATE, open_audio
from vfreport.errors import AnnotationError, AudioDecodeError, DataError

LIBRISPEECH_COLUMNS = ("audio", "speaker_id")
AMI_COLUMNS = ("audio", "timestamps_start", "timestamps_end", "speakers")
STRATEGY_COLUMNS = ("audio", "speaker_segments")
UTTERANCE_COLUMNS = ("meeting_id", "begin_time", "end_time", "speaker_id", "audio")


def _missing(columns: Sequence[str], required: Sequence[str]) -> list[str]:
    return [c for c in required if c not in columns]


def ami_format(columns: Sequence[str], where: str) -> str:
    """Which AMI row format ``columns`` hold: 'diarizers', 'strategy' or 'utterances' (else DataError)."""
    if not _missing(columns, AMI_COLUMNS):
        return "diarizers"
    if not _missing(columns, STRATEGY_COLUMNS):
        return "strategy"
    if not _missing(columns, UTTERANCE_COLUMNS):
        return "utterances"
    missing = _missing(columns, AMI_COLUMNS)
    raise DataError(
        f"{where}: missing column {missing[0]!r} of the AMI schema (needs {', '.join(AMI_COLUMNS)}; or "
        f"{', '.join(STRATEGY_COLUMNS)}; or {', '.join(UTTERANCE_COLUMNS)}); columns present: {', '.join(columns)}"
    )


def check_columns(columns: Sequence[str], dataset: str, where: str) -> str:
    """Check a table's columns against ``dataset``'s schema; return the row format (DataError if not)."""
    if dataset == "librispeech":
        missing = _missing(columns, LIBRISPEECH_COLUMNS)
        if missing:
            raise DataError(
                f"{where}: missing column {missing[0]!r} of the LibriSpeech schema "
                f"(needs {', '.join(LIBRISPEECH_COLUMNS)}); columns present: {', '.join(columns)}"
            )
        return "librispeech"
    return ami_format(columns, where)


def adapt(
    rows: Iterable[tuple[str, dict[str, Any]]], fmt: str, on_bad_audio: str, skipped: list[str]
) -> Iterator[dict[str, Any]]:
    """Turn ``(where, row)`` pairs of format ``fmt`` into rows of the dataset schema."""
    if fmt == "utterances":
        yield from group_utterances(rows, on_bad_audio, skipped)
        return
    for where, row in rows:
        if fmt == "strategy":
            row = strategy_row(row, where)
        elif fmt == "diarizers":
            row.setdefault("meeting_id", Path(str((row.get("audio") or {}).get("path") or where)).stem)
        row["_where"] = where
        yield row


def strategy_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A row of the strategy document's format -> the AMI (diarizers) schema."""
    segs = row.get("speaker_segments") or []
    try:
        starts = [float(s["start"]) for s in segs]
        ends = [float(s["end"]) for s in segs]
        speakers = [str(s["speaker"]) for s in segs]
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{where}: speaker_segments entries need 'speaker', 'start', 'end' ({e})") from e
    return {
        "audio": row["audio"],
        "timestamps_start": starts,
        "timestamps_end": ends,
        "speakers": speakers,
        "meeting_id": str(row.get("meeting_id") or where),
    }


def group_utterances(
    rows: Iterable[tuple[str, dict[str, Any]]], on_bad_audio: str = "skip", skipped: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Group ``edinburghcstr/ami`` utterance rows (consecutive rows of one ``meeting_id``) into meetings.

    Each utterance's audio is placed at its ``begin_time`` on a timeline starting at the meeting's
    first utterance and the clips are summed (overlaps add up); each utterance becomes one turn.
    Undecodable utterances are skipped with a warning (``on_bad_audio="skip"``) or raise.
    """
    skipped = [] if skipped is None else skipped
    for meeting, group in itertools.groupby(rows, key=lambda wr: str(wr[1].get("meeting_id"))):
        clips: list[tuple[float, float, str, np.ndarray]] = []
        first_where = None
        for where, row in group:
            first_where = first_where or where
            try:
                begin, end = float(row["begin_time"]), float(row["end_time"])
            except (TypeError, ValueError) as e:
                raise DataError(f"{where}: begin_time/end_time must be numbers ({e})") from e
            if end <= begin:
                raise AnnotationError(f"{where}: end_time {end} is not after begin_time {begin}")
            try:
                with open_audio(row["audio"], where) as reader:
                    clip = reader.read_all()
            except AudioDecodeError as e:
                if on_bad_audio == "error":
                    raise
                warnings.warn(f"skipping utterance: {e}", stacklevel=2)
                skipped.append(where)
                continue
            clips.append((begin, end, str(row["speaker_id"]), clip))
        if not clips:
            continue
        t0 = min(c[0] for c in clips)
        n = max(int(round((c[0] - t0) * SAMPLE_RATE)) + len(c[3]) for c in clips)
        mix = np.zeros(n, dtype=np.float32)
        for begin, _end, _spk, clip in clips:
            k = int(round((begin - t0) * SAMPLE_RATE))
            mix[k : k + len(clip)] += clip
        clips.sort(key=lambda c: c[0])
        yield {
            "audio": {"array": mix, "sampling_rate": SAMPLE_RATE},
            "timestamps_start": [c[0] - t0 for c in clips],
            "timestamps_end": [c[1] - t0 for c in clips],
            "speakers": [c[2] for c in clips],
            "meeting_id": meeting,
            "_where": f"{first_where} (meeting {meeting}, {len(clips)} utterances)",
        }
