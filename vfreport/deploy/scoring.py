"""Scoring diarization with ``pyannote.metrics`` on meetings with a reference (docs/yardstick.md,
docs/evaluate.md): the held-out meetings of the config's AMI arm, a model's oracle-speech
hypothesis (vfreport predict's windows and clustering on the reference's speech frames), the two
model-free baselines (one speaker; the position rule), DER per meeting and over a corpus.

Shared by the yardstick (:mod:`vfreport.analysis.evaluation`), ``vfreport evaluate``
(:mod:`vfreport.deploy.evaluate`) and the int8 check (:mod:`vfreport.deploy.quantize`). Scoring
convention, baselines and oracle speech: see :mod:`vfreport.analysis.evaluation`. Everything but
:func:`open_meetings` (data) is a pure function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.config import ArmConfig, ExperimentConfig
from vfreport.data.audio import SAMPLE_RATE
from vfreport.data.geometry import GEOMETRY, FrameGeometry
from vfreport.data.labels import Turns, speaker_activity
from vfreport.data.rttm import Segment, format_rttm, parse_rttm
from vfreport.data.sources import open_reader, open_split
from vfreport.data.windows import meeting_turns
from vfreport.deploy.predict import SYNTHETIC_THRESHOLD, PipelineSettings, Predictor, predict_audio
from vfreport.errors import AudioDecodeError

DEFAULT_SPLIT = "test"
"""The held-out split the meetings come from (synthetic AMI: speakers disjoint from train/validation)."""
DEFAULT_MEETINGS = 6
"""Meetings evaluated (at most): 6 synthetic 60-s meetings ≈ 2 s of inference per run on 2 cores."""
COLLAR = 0.0
"""pyannote.metrics collar, total width in seconds (md-eval's per-side collar is half of it)."""
SKIP_OVERLAP = False
RTTM_DECIMALS = 3
ONE_SPEAKER = "one-speaker"
POSITION = "position"
BASELINES = (ONE_SPEAKER, POSITION)
BASELINE_DESCRIPTIONS = {
    ONE_SPEAKER: "one speaker for all reference speech",
    POSITION: ("no model: frame position stands in for it (first half of each window '0', second half '1') "
               "through the same sliding windows and clustering, i.e. uniform 1-s segments clustered by their "
               "features"),
}
COMPONENTS = ("confusion", "missed_detection", "false_alarm")
_PYANNOTE_KEYS = {"confusion": "confusion", "missed_detection": "missed detection", "false_alarm": "false alarm"}


@dataclass(frozen=True)
class Meeting:
    """One held-out recording: 16 kHz mono audio, reference turns and its UEM (scored regions)."""

    uri: str
    audio: np.ndarray
    reference: tuple[Segment, ...]
    uem: tuple[tuple[float, float], ...]

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


# ---------------------------------------------------------------------------------------------
# pure: segments
# ---------------------------------------------------------------------------------------------


def speech_regions(segments: Iterable[Segment]) -> list[tuple[float, float]]:
    """The union of the segments' spans, sorted and merged (touching spans join)."""
    spans = sorted((s.start, s.end) for s in segments if s.end > s.start)
    out: list[tuple[float, float]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _quantize(x: float) -> float:
    return round(x, RTTM_DECIMALS)


def crop_to_regions(segments: Iterable[Segment], regions: Sequence[tuple[float, float]]) -> list[Segment]:
    """Each segment intersected with each region; boundaries rounded to the RTTM's millisecond,
    pieces that round to nothing dropped. Sorted by start."""
    out: list[Segment] = []
    for s in segments:
        for a, b in regions:
            lo, hi = _quantize(max(s.start, a)), _quantize(min(s.end, b))
            if hi > lo:
                out.append(Segment(s.uri, lo, _quantize(hi - lo), s.speaker))
    return sorted(out, key=lambda s: (s.start, s.speaker))


def one_speaker_segments(reference: Iterable[Segment], uri: str, label: str = "0") -> list[Segment]:
    """The one-speaker baseline: every reference speech region is speaker ``label``."""
    return crop_to_regions([Segment(uri, 0.0, math.inf, label)], speech_regions(reference))


def position_profile(n_frames: int, switch: float = 0.5) -> np.ndarray:
    """(T, 2) log-probabilities of the position rule: frames before ``switch`` of the window are
    "0", the rest "1" (certain: probabilities 1 and 0, softened to avoid log 0)."""
    first = np.arange(n_frames) < switch * n_frames
    p1 = np.where(first, 1e-6, 1 - 1e-6)
    return np.log(np.stack([1 - p1, p1], axis=-1))


def position_predictor(geometry: FrameGeometry = GEOMETRY, window_seconds: float | None = None,
                       switch: float = 0.5) -> Predictor:
    """A stand-in :class:`Predictor` that ignores the audio and answers :func:`position_profile`,
    so the position baseline goes through exactly the windows and alignment of the checkpoints."""

    def logits(batch: np.ndarray) -> np.ndarray:
        t = geometry.num_frames(batch.shape[1])
        return np.broadcast_to(position_profile(t, switch), (batch.shape[0], t, 2)).astype(np.float32)

    return Predictor(Path("<position rule>"), "audio-free", geometry.sample_rate, geometry.hop, geometry.n_fft,
                     logits, window_seconds)


def reference_speech(meeting: Meeting, geometry: FrameGeometry = GEOMETRY) -> np.ndarray:
    """(frames,) bool: frames whose centre lies in one of the reference's turns (oracle speech)."""
    n = geometry.num_frames(len(meeting.audio))
    if not meeting.reference:
        return np.zeros(max(n, 0), dtype=bool)
    turns = Turns.from_segments([(s.start, s.end, s.speaker) for s in meeting.reference])
    return speaker_activity(turns, 0.0, n, geometry).any(axis=1)


def diarize(predictor: Predictor, meeting: Meeting, window_seconds: float | None = None, *,
            settings: PipelineSettings | None = None) -> list[Segment]:
    """vfreport predict's segments of ``meeting`` with the reference's speech frames (oracle speech:
    they pick the frames that are clustered and labelled), cropped to the reference's speech.
    ``settings``: predict's pipeline settings (default: its defaults)."""
    speech = reference_speech(meeting, predictor.geometry)
    segments = predict_audio(predictor, meeting.audio, meeting.uri, window_seconds, speech=speech, settings=settings)
    return crop_to_regions(segments, speech_regions(meeting.reference))


# ---------------------------------------------------------------------------------------------
# pure: scoring
# ---------------------------------------------------------------------------------------------


def _annotation(segments: Iterable[Segment], uri: str):  # -> pyannote.core.Annotation
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    ann = Annotation(uri=uri)
    for i, s in enumerate(segments):
        ann[PSegment(s.start, s.end), f"t{i}"] = s.speaker
    return ann


def _timeline(regions: Sequence[tuple[float, float]], uri: str):  # -> pyannote.core.Timeline
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline

    return Timeline([PSegment(a, b) for a, b in regions], uri=uri)


def score(reference: Sequence[Segment], hypothesis: Sequence[Segment], uem: Sequence[tuple[float, float]],
          uri: str, collar: float = COLLAR, skip_overlap: bool = SKIP_OVERLAP) -> dict[str, float]:
    """DER of one meeting with ``pyannote.metrics.diarization.DiarizationErrorRate`` (UEM passed).

    Returns ``der`` and the components as fractions of the scored reference speech
    (``der = confusion + missed_detection + false_alarm``), plus ``total`` and ``error`` in seconds.
    """
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    d = metric(_annotation(reference, uri), _annotation(hypothesis, uri), uem=_timeline(uem, uri), detailed=True)
    total = float(d["total"])
    error = sum(float(d[_PYANNOTE_KEYS[c]]) for c in COMPONENTS)
    rate = (lambda x: x / total) if total > 0 else (lambda x: float("nan"))
    return {"der": float(d["diarization error rate"]), **{c: rate(float(d[_PYANNOTE_KEYS[c]])) for c in COMPONENTS},
            "total": total, "error": error}


def detection_score(reference: Sequence[Segment], regions: Sequence[tuple[float, float]],
                    uem: Sequence[tuple[float, float]], uri: str) -> dict[str, float]:
    """Speech detection error of ``regions`` (seconds) against the reference's speech, with
    ``pyannote.metrics.detection.DetectionErrorRate`` (collar 0, the UEM passed): ``error`` (missed +
    false alarm) and ``total`` (reference speech) in seconds."""
    from pyannote.metrics.detection import DetectionErrorRate

    hypothesis = [Segment(uri, a, b - a, "speech") for a, b in regions]
    d = DetectionErrorRate(collar=0.0, skip_overlap=False)(_annotation(reference, uri), _annotation(hypothesis, uri),
                                                          uem=_timeline(uem, uri), detailed=True)
    return {"error": float(d["miss"] + d["false alarm"]), "total": float(d["total"])}


def rttm_round_trip(segments: Sequence[Segment]) -> tuple[str, list[Segment]]:
    """The RTTM text of ``segments`` and the segments read back from it: scoring the read-back
    segments gives exactly what re-scoring the file gives."""
    text = format_rttm(segments, RTTM_DECIMALS)
    back = [s for segs in parse_rttm(text).values() for s in segs]
    return text, back


def corpus_der(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Total error over total reference speech across meetings (pyannote's ``abs(metric)``), with
    the components on the same denominator."""
    total = sum(s["total"] for s in scores.values())
    if total <= 0:
        return {"der": float("nan"), **{c: float("nan") for c in COMPONENTS}}
    out = {"der": sum(s["error"] for s in scores.values()) / total}
    out.update({c: sum(s[c] * s["total"] for s in scores.values()) / total for c in COMPONENTS})
    return out


# ---------------------------------------------------------------------------------------------
# the held-out meetings
# ---------------------------------------------------------------------------------------------


def evaluation_arm(cfg: ExperimentConfig) -> ArmConfig | None:
    """The arm whose data holds the held-out meetings: the AMI arm (the target when both are)."""
    amis = [a for a in cfg.arms.values() if a.dataset == "ami"]
    return next((a for a in amis if a.role == "target"), amis[0] if amis else None)


def yardstick_settings(arm: ArmConfig | None, settings: PipelineSettings | None = None) -> PipelineSettings | None:
    """predict's settings for the held-out meetings of ``arm``: ``settings`` when given; else, for
    synthetic meetings, predict's defaults with :data:`vfreport.deploy.predict.SYNTHETIC_THRESHOLD`
    (the real recordings' calibrated threshold merges the synthetic voices); else None (predict's defaults)."""
    if settings is None and arm is not None and arm.source == "synthetic":
        return PipelineSettings(threshold=SYNTHETIC_THRESHOLD)
    return settings


def _uri(raw: Any, i: int, seen: set[str]) -> str:
    uri = "_".join(str(raw or f"meeting{i}").split()) or f"meeting{i}"
    while uri in seen:
        uri = f"{uri}_{i}"
    seen.add(uri)
    return uri


def open_meetings(arm: ArmConfig, split: str = DEFAULT_SPLIT, n_meetings: int = DEFAULT_MEETINGS,
                  window_seconds: float = 2.0, skipped: list[str] | None = None) -> tuple[Iterator[Meeting], str]:
    """The first ``n_meetings`` recordings of ``split`` of ``arm`` (any source), decoded one at a
    time (memory holds one meeting), and the source's origin. A recording whose audio cannot be
    decoded is skipped and named in ``skipped`` when ``arm.on_bad_audio`` is "skip"."""
    src = open_split(arm, split, n_windows=64 * n_meetings, window_seconds=window_seconds)

    def meetings() -> Iterator[Meeting]:
        seen: set[str] = set()
        try:
            for i, row in enumerate(src):
                if len(seen) >= n_meetings:
                    break
                turns = meeting_turns(row)
                try:
                    with open_reader(row) as reader:
                        audio = reader.read_all()
                except AudioDecodeError as e:
                    if arm.on_bad_audio != "skip" or skipped is None:
                        raise
                    skipped.append(str(e))
                    continue
                uri = _uri(row.get("meeting_id") or row.get("uri"), i, seen)
                seconds = len(audio) / SAMPLE_RATE
                ref = [Segment(uri, _quantize(float(a)), _quantize(min(float(b), seconds) - float(a)), turns.names[k])
                       for a, b, k in zip(turns.start, turns.end, turns.speaker, strict=True)
                       if _quantize(min(float(b), seconds)) > _quantize(float(a))]
                yield Meeting(uri, audio, tuple(ref), ((0.0, _quantize(seconds)),))
        finally:
            src.close()

    return meetings(), src.origin
