"""RTTM and UEM: strict parsers and writers (pure functions on text).

RTTM (NIST Rich Transcription Time Marked), one speaker turn per line, 10 space-separated fields::

    SPEAKER <uri> <channel> <onset s> <duration s> <NA> <NA> <speaker> <NA> <NA>

UEM (un-partitioned evaluation map), one scored region per line::

    <uri> <channel> <start s> <end s>

Blank lines and comment lines (starting with ``#`` or ``;;``) are skipped. Anything else that does
not fit raises :class:`~vfreport.errors.AnnotationError` naming the file and the 1-based line number
(and quoting the line when its fields do not fit). Labels (uri, speaker) may be any non-whitespace
Unicode text. :func:`read_rttm` and :func:`read_uem` read a file (UTF-8) and name it in every error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vfreport.errors import AnnotationError

RTTM_FIELDS = 10
UEM_FIELDS = 4


@dataclass(frozen=True)
class Segment:
    """One speaker turn: ``speaker`` speaks in recording ``uri`` from ``start`` for ``duration`` s."""

    uri: str
    start: float
    duration: float
    speaker: str

    @property
    def end(self) -> float:
        return self.start + self.duration


def _lines(text: str) -> Iterable[tuple[int, list[str], str]]:
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith(";;"):
            continue
        yield lineno, stripped.split(), stripped


def _quoted(line: str, limit: int = 80) -> str:
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")


def _number(value: str, what: str, where: str, lineno: int) -> float:
    try:
        x = float(value)
    except ValueError:
        raise AnnotationError(f"{where}:{lineno}: {what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise AnnotationError(f"{where}:{lineno}: {what} {value!r} is not a finite number")
    return x


def parse_rttm(text: str, where: str = "<rttm>") -> dict[str, list[Segment]]:
    """Parse RTTM text into ``{uri: [Segment, ...]}`` (file order kept, uris in first-seen order).

    Strict: every non-comment line must have 10 fields, type ``SPEAKER``, a numeric onset >= 0 and a
    numeric duration > 0; otherwise AnnotationError ``"<where>:<line>: <problem>"``.
    """
    out: dict[str, list[Segment]] = {}
    for lineno, f, line in _lines(text):
        if len(f) != RTTM_FIELDS:
            raise AnnotationError(
                f"{where}:{lineno}: expected {RTTM_FIELDS} fields "
                f"(SPEAKER uri channel onset duration <NA> <NA> speaker <NA> <NA>), got {len(f)}: {_quoted(line)}"
            )
        if f[0] != "SPEAKER":
            raise AnnotationError(f"{where}:{lineno}: expected record type 'SPEAKER', got {f[0]!r}")
        onset = _number(f[3], "onset", where, lineno)
        duration = _number(f[4], "duration", where, lineno)
        if onset < 0:
            raise AnnotationError(f"{where}:{lineno}: negative onset {f[3]}")
        if duration <= 0:
            raise AnnotationError(f"{where}:{lineno}: duration must be > 0, got {f[4]}")
        out.setdefault(f[1], []).append(Segment(f[1], onset, duration, f[7]))
    return out


def parse_uem(text: str, where: str = "<uem>") -> dict[str, list[tuple[float, float]]]:
    """Parse UEM text into ``{uri: [(start, end), ...]}``, regions sorted by start.

    Strict: 4 fields per line, numeric start >= 0, end > start, and no two regions of one uri may
    overlap; otherwise AnnotationError naming ``where`` and the line number.
    """
    out: dict[str, list[tuple[float, float, int]]] = {}
    for lineno, f, line in _lines(text):
        if len(f) != UEM_FIELDS:
            raise AnnotationError(
                f"{where}:{lineno}: expected {UEM_FIELDS} fields (uri channel start end), got {len(f)}: {_quoted(line)}"
            )
        start = _number(f[2], "start", where, lineno)
        end = _number(f[3], "end", where, lineno)
        if start < 0:
            raise AnnotationError(f"{where}:{lineno}: negative start {f[2]}")
        if end <= start:
            raise AnnotationError(f"{where}:{lineno}: end {f[3]} must be after start {f[2]}")
        out.setdefault(f[0], []).append((start, end, lineno))
    result: dict[str, list[tuple[float, float]]] = {}
    for uri, regions in out.items():
        regions.sort()
        for (s0, e0, l0), (s1, _e1, l1) in zip(regions, regions[1:], strict=False):
            if s1 < e0:
                raise AnnotationError(
                    f"{where}:{max(l0, l1)}: region of {uri!r} starting at {s1:g} overlaps the region "
                    f"{s0:g}-{e0:g} of line {min(l0, l1)}"
                )
        result[uri] = [(s, e) for s, e, _ in regions]
    return result


def read_text(path: Path | str, what: str) -> str:
    """An annotation file's text (RTTM, UEM, a list of URIs), or AnnotationError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as e:
        raise AnnotationError(f"{p}: cannot read {what} file: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise AnnotationError(f"{p}: {what} file is not UTF-8 text ({e.reason} at byte {e.start})") from e


def read_rttm(path: Path | str) -> dict[str, list[Segment]]:
    """:func:`parse_rttm` of a file; errors name the file (and the line)."""
    return parse_rttm(read_text(path, "RTTM"), str(path))


def read_uem(path: Path | str) -> dict[str, list[tuple[float, float]]]:
    """:func:`parse_uem` of a file; errors name the file (and the line)."""
    return parse_uem(read_text(path, "UEM"), str(path))


def _fmt(x: float, precision: int) -> str:
    return f"{x:.{precision}f}"


def _check_label(label: str, what: str) -> None:
    if not label or any(c.isspace() for c in label):
        raise AnnotationError(f"cannot write {what} {label!r} to RTTM/UEM: it is empty or contains whitespace")


def format_rttm(segments: Iterable[Segment], precision: int = 3) -> str:
    """RTTM text for ``segments`` (one line each, in the given order), times to ``precision`` decimals.

    Raises AnnotationError for labels with whitespace and for durations that round to zero.
    """
    lines = []
    for s in segments:
        _check_label(s.uri, "uri")
        _check_label(s.speaker, "speaker")
        start, dur = _fmt(s.start, precision), _fmt(s.duration, precision)
        if float(dur) <= 0 or float(start) < 0:
            raise AnnotationError(f"segment {s} has a non-positive duration or negative onset at {precision} decimals")
        lines.append(f"SPEAKER {s.uri} 1 {start} {dur} <NA> <NA> {s.speaker} <NA> <NA>\n")
    return "".join(lines)


def format_uem(regions: Mapping[str, Sequence[tuple[float, float]]], precision: int = 3) -> str:
    """UEM text for ``{uri: [(start, end), ...]}``."""
    lines = []
    for uri, spans in regions.items():
        _check_label(uri, "uri")
        for start, end in spans:
            lines.append(f"{uri} NA {_fmt(start, precision)} {_fmt(end, precision)}\n")
    return "".join(lines)


def check_segments(
    segments: Mapping[str, Sequence[Segment]],
    audio_seconds: Mapping[str, float],
    where: str,
    tolerance: float = 0.05,
) -> None:
    """Check an annotation against its recordings.

    Raises AnnotationError when a uri of ``segments`` has no recording in ``audio_seconds`` (an RTTM
    line for a missing WAV) or when a segment ends more than ``tolerance`` seconds after the end of
    its recording.
    """
    for uri, segs in segments.items():
        if uri not in audio_seconds:
            known = ", ".join(sorted(audio_seconds)[:5]) or "none"
            raise AnnotationError(f"{where}: unknown recording {uri!r}: no audio for it (recordings: {known})")
        length = audio_seconds[uri]
        for s in segs:
            if s.end > length + tolerance:
                raise AnnotationError(
                    f"{where}: segment of {s.speaker!r} in {uri!r} ends at {s.end:.3f} s, after the end of "
                    f"the audio ({length:.3f} s)"
                )
