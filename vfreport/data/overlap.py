"""The overlap floor: the DER a model with one label per frame cannot avoid (docs/pipeline.md).

vfreport's model has two mutually exclusive outputs per frame, so at most one speaker is labelled
at any instant. Where the reference has ``n > 1`` speakers at once, ``n − 1`` of them are missed
whatever the model learns, even with oracle speech activity. pyannote.metrics' DER counts time
weighted by speakers: its denominator ("total") is the integral of the number of reference
speakers over the scored regions, and its missed detection at an instant is
``max(0, n_ref − n_hyp)``. Hence, per recording,

    floor = ∫ max(0, n(t) − 1) dt / ∫ n(t) dt      over the UEM,

with ``n(t)`` the number of reference turns active at ``t`` (pyannote counts a reference's
labels with multiplicity, ``get_labels(segment, unique=False)``, so a speaker's own overlapping
turns count twice there too). Over a corpus, the floor is the sum of
the numerators over the sum of the denominators (pyannote's ``abs(metric)``, like the corpus DER).
What lies above the floor a better-trained model could still win; the floor itself needs an
overlap-capable output (powerset or multi-label). Method: pyannote.metrics'
``DiarizationErrorRate`` (Bredin 2017, "pyannote.metrics: a toolkit for reproducible evaluation,
diagnostic, and error analysis of speaker diarization systems"); ``tests/test_overlap.py`` checks
the formula against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from vfreport.data.rttm import Segment


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def speaker_count_durations(reference: Iterable[Segment], uem: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """``(∫ n(t) dt, ∫ max(0, n(t) − 1) dt)`` over the UEM: scored reference speech (pyannote's
    DER total) and the part of it that one label per instant must miss (seconds)."""
    regions = _merged([(float(a), float(b)) for a, b in uem if b > a])
    times: list[float] = []
    steps: list[int] = []
    for s in reference:
        for ra, rb in regions:  # clip to the scored regions
            lo, hi = max(s.start, ra), min(s.end, rb)
            if hi > lo:
                times += [lo, hi]
                steps += [1, -1]
    if not times:
        return 0.0, 0.0
    t = np.asarray(times)
    order = np.lexsort((np.asarray(steps), t))  # at equal times, ends (-1) before starts
    t, n = t[order], np.cumsum(np.asarray(steps)[order])
    dt = np.diff(t)
    active = n[:-1]
    return float((active * dt).sum()), float((np.maximum(active - 1, 0) * dt).sum())


def overlap_floor(references: Mapping[str, Sequence[Segment]],
                  uems: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, object]:
    """The overlap floor per recording and over the corpus (see module doc).

    Returns ``{"meetings": {uri: {"floor", "overlap_seconds", "speech_seconds"}}, "corpus": floor,
    "method": ...}``; ``floor`` is a fraction of the scored reference speech (NaN without speech)."""
    meetings: dict[str, dict[str, float]] = {}
    for uri, uem in uems.items():
        total, excess = speaker_count_durations(references.get(uri, ()), uem)
        meetings[uri] = {"floor": excess / total if total > 0 else float("nan"),
                         "overlap_seconds": excess, "speech_seconds": total}
    total = sum(m["speech_seconds"] for m in meetings.values())
    excess = sum(m["overlap_seconds"] for m in meetings.values())
    return {"meetings": meetings, "corpus": excess / total if total > 0 else float("nan"),
            "method": ("DER that one label per instant cannot avoid with oracle speech: speaker-time beyond "
                       "the first speaker in overlapped reference speech over total reference speaker-time, "
                       "within the UEM (pyannote.metrics' DER total and missed detection)")}
