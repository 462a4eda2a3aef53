"""Recordings a user brings with their reference: a folder of audio files, an RTTM and optionally a
UEM, matched by name and checked before any model runs (docs/evaluate.md).

    DIR/<uri>.wav|.flac|.ogg  +  FILE.rttm  [+ FILE.uem]
      --open_recordings: file stems matched to the RTTM's uris, audio headers read, the reference
        checked against the audio and the UEM--> RecordingSet (with notes: resampled, mixed down)
      --read_recording(recording, sample_rate)--> float32 mono at the model's rate

Every mismatch a user will meet is one :class:`~vfreport.errors.DataError` line naming the file:
a recording without reference turns or reference turns without a recording (both sides said in
one line), a reference turn past the end of its audio, a recording the UEM does not score, and
reference speech outside the UEM (the UEM does not cover the reference). RTTM and UEM syntax errors
name the file and line (:mod:`vfreport.data.rttm`). Audio at another sample rate is resampled
(:func:`vfreport.data.audio.resample`, polyphase) and audio with several channels is mixed down to
their mean, as ``vfreport predict`` does; both are said in :attr:`RecordingSet.notes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vfreport.data.audio import read_audio_file
from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.rttm import Segment, check_segments, read_rttm, read_uem
from vfreport.errors import AnnotationError, AudioDecodeError, DataError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
"""Files of the audio folder that are recordings (case-insensitive); others are ignored."""
END_TOLERANCE = 0.05
"""Seconds a reference turn or UEM region may run past the end of its audio (rounding in RTTMs)."""
UEM_TOLERANCE = 0.01
"""Seconds of reference speech outside the UEM tolerated per recording (millisecond rounding)."""


@dataclass(frozen=True)
class Recording:
    """One audio file with its reference turns and scored regions (UEM)."""

    uri: str
    path: Path
    sample_rate: int
    channels: int
    seconds: float
    reference: tuple[Segment, ...]
    uem: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RecordingSet:
    audio_dir: Path
    rttm: Path
    uem: Path | None
    recordings: tuple[Recording, ...]

    def notes(self, sample_rate: int = SAMPLE_RATE) -> list[str]:
        """What reading the audio at ``sample_rate`` changes: resampling, mixing channels down."""
        out = []
        for r in self.recordings:
            if r.sample_rate != sample_rate:
                out.append(f"{r.path.name}: {r.sample_rate} Hz, resampled to {sample_rate} Hz "
                           "(scipy.signal.resample_poly)")
            if r.channels > 1:
                out.append(f"{r.path.name}: {r.channels} channels, mixed down to mono (their mean)")
        return out


def recording_uri(path: Path) -> str:
    """The RTTM uri of an audio file: its stem, whitespace replaced by '_' (as ``vfreport predict`` writes)."""
    return "_".join(path.stem.split()) or "audio"


def _names(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def match_recordings(audio: Mapping[str, Path], reference_uris: Sequence[str], audio_dir: Path, rttm: Path) -> None:
    """Every recording has reference turns and every reference uri a recording; else one DataError
    line saying which recordings lack a reference and which references lack a recording."""
    no_reference = [audio[u].name for u in audio if u not in set(reference_uris)]
    no_recording = [u for u in reference_uris if u not in audio]
    problems = []
    if no_reference:
        problems.append(f"recording(s) without a reference in {rttm}: {_names(no_reference)}")
    if no_recording:
        problems.append(f"reference(s) without a recording in {audio_dir}: {_names(no_recording)} "
                        f"(expected e.g. {no_recording[0]}.wav)")
    if problems:
        raise DataError("; ".join(problems) + " (recordings are matched to RTTM uris by file name)")


def outside(segments: Sequence[Segment], regions: Sequence[tuple[float, float]]) -> tuple[float, Segment | None]:
    """Seconds of ``segments`` outside the union of ``regions`` and the first segment that has some."""
    total, first = 0.0, None
    for s in segments:
        covered = sum(max(0.0, min(s.end, b) - max(s.start, a)) for a, b in regions)
        if s.duration - covered > 1e-9:
            total += s.duration - covered
            first = first or s
    return total, first


def check_uem(reference: Mapping[str, Sequence[Segment]], uem: Mapping[str, Sequence[tuple[float, float]]],
              seconds: Mapping[str, float], uem_path: Path) -> None:
    """The UEM scores every recording, covers its reference speech (to :data:`UEM_TOLERANCE`) and
    ends within :data:`END_TOLERANCE` of the audio; else DataError naming the recording."""
    for uri, segs in reference.items():
        regions = uem.get(uri)
        if not regions:
            raise AnnotationError(f"{uem_path}: no region for recording {uri!r}: the UEM does not cover its reference")
        if regions[-1][1] > seconds[uri] + END_TOLERANCE:
            raise AnnotationError(f"{uem_path}: region of {uri!r} ends at {regions[-1][1]:.3f} s, after the end of "
                                  f"its audio ({seconds[uri]:.3f} s)")
        missing, first = outside(segs, regions)
        if missing > UEM_TOLERANCE and first is not None:
            raise AnnotationError(
                f"{uem_path}: the UEM does not cover the reference of {uri!r}: {missing:.3f} s of reference speech "
                f"lie outside its regions (first: {first.speaker} at {first.start:.3f}-{first.end:.3f} s)")


def _info(path: Path) -> Any:  # soundfile's info object
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioDecodeError(f"{path}: cannot read audio header ({e})") from e
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioDecodeError(f"{path}: empty audio (no samples)")
    return info


def open_recordings(audio_dir: Path | str, rttm: Path | str, uem: Path | str | None = None) -> RecordingSet:
    """Match and check a folder of recordings against its RTTM (and UEM); reads headers, not audio.

    Without ``uem`` every recording is scored whole, from 0 to the end of its audio.
    """
    audio_dir, rttm_path = Path(audio_dir), Path(rttm)
    uem_path = Path(uem) if uem is not None else None
    if not audio_dir.is_dir():
        raise DataError(f"{audio_dir}: not a folder of recordings")
    audio: dict[str, Path] = {}
    for p in sorted(audio_dir.iterdir()):
        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES:
            uri = recording_uri(p)
            if uri in audio:
                raise DataError(f"{audio[uri]} and {p} are both recording {uri!r}: keep one")
            audio[uri] = p
    if not audio:
        raise DataError(f"{audio_dir}: no recordings ({', '.join(AUDIO_SUFFIXES)} files)")
    reference = read_rttm(rttm_path)
    if not reference:
        raise AnnotationError(f"{rttm_path}: no SPEAKER lines: the reference is empty")
    match_recordings(audio, list(reference), audio_dir, rttm_path)
    infos = {uri: _info(p) for uri, p in audio.items()}
    seconds = {uri: i.frames / i.samplerate for uri, i in infos.items()}
    check_segments(reference, seconds, str(rttm_path), END_TOLERANCE)
    if uem_path is not None:
        regions = read_uem(uem_path)
        check_uem(reference, regions, seconds, uem_path)
    else:
        regions = {uri: [(0.0, seconds[uri])] for uri in audio}
    recordings = tuple(
        Recording(uri, audio[uri], infos[uri].samplerate, infos[uri].channels, seconds[uri],
                  tuple(reference[uri]), tuple(regions[uri]))
        for uri in audio)
    return RecordingSet(audio_dir, rttm_path, uem_path, recordings)


def read_recording(recording: Recording, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The recording as float32 mono at ``sample_rate`` (mixed down and resampled as the notes say)."""
    return read_audio_file(recording.path, sample_rate)
