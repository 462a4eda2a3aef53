"""The overlap floor (vfreport.data.overlap) against pyannote.metrics, computed independently."""

from __future__ import annotations

import numpy as np
import pytest
from pyannote.core import Annotation, Timeline
from pyannote.core import Segment as PSegment
from pyannote.metrics.diarization import DiarizationErrorRate

from vfreport.data.overlap import overlap_floor, speaker_count_durations
from vfreport.data.rttm import Segment


def test_two_overlapping_speakers_by_hand() -> None:
    ref = [Segment("m", 0.0, 10.0, "A"), Segment("m", 5.0, 10.0, "B")]
    assert speaker_count_durations(ref, [(0.0, 20.0)]) == pytest.approx((20.0, 5.0))
    assert speaker_count_durations(ref, [(0.0, 6.0), (9.0, 12.0)]) == pytest.approx((6.0 + 1 + 4, 1.0 + 1.0))
    # a speaker's own overlapping turns count twice, as pyannote.metrics counts them
    assert speaker_count_durations([*ref, Segment("m", 0.0, 1.0, "A")], [(0.0, 20.0)]) == pytest.approx((21.0, 6.0))
    out = overlap_floor({"m": ref, "n": [Segment("n", 0.0, 4.0, "A")]}, {"m": [(0.0, 20.0)], "n": [(0.0, 4.0)]})
    assert out["meetings"]["m"]["floor"] == pytest.approx(0.25)
    assert out["meetings"]["n"]["floor"] == 0.0
    assert out["corpus"] == pytest.approx(5.0 / 24.0)
    assert np.isnan(overlap_floor({}, {"x": [(0.0, 1.0)]})["corpus"])


def _random_reference(rng: np.random.Generator, uri: str) -> list[Segment]:
    n = rng.integers(1, 12)
    starts = rng.uniform(0, 60, n).round(3)
    durations = rng.uniform(0.2, 8, n).round(3)
    speakers = rng.integers(0, 4, n)
    return [Segment(uri, float(a), float(d), f"s{k}") for a, d, k in zip(starts, durations, speakers, strict=True)]


def _one_label_per_instant(reference: Annotation) -> Annotation:
    """The reference with every overlap reduced to one of its speakers (the best a one-label model can do)."""
    hyp = Annotation(uri=reference.uri)
    for i, seg in enumerate(reference.get_timeline().segmentation()):
        labels = sorted(reference.crop(seg, mode="intersection").labels())
        if labels:
            hyp[seg, i] = labels[0]
    return hyp


def test_floor_is_what_pyannote_scores_for_the_best_one_label_hypothesis() -> None:
    rng = np.random.default_rng(7)
    refs, uems = {}, {}
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    for i in range(25):
        uri = f"m{i}"
        refs[uri] = _random_reference(rng, uri)
        lo = float(rng.uniform(0, 5))
        uems[uri] = [(lo, float(rng.uniform(30, 70)))]
        ann = Annotation(uri=uri)
        for j, s in enumerate(refs[uri]):
            ann[PSegment(s.start, s.end), j] = s.speaker
        uem = Timeline([PSegment(*uems[uri][0])], uri=uri)
        detail = metric(ann, _one_label_per_instant(ann), uem=uem, detailed=True)
        got = overlap_floor({uri: refs[uri]}, {uri: uems[uri]})["meetings"][uri]
        assert got["speech_seconds"] == pytest.approx(detail["total"], abs=1e-6)
        assert got["overlap_seconds"] == pytest.approx(detail["missed detection"], abs=1e-6)
        assert detail["confusion"] == pytest.approx(0.0, abs=1e-6) and detail["false alarm"] == pytest.approx(0.0)
    corpus = overlap_floor(refs, uems)["corpus"]
    assert corpus == pytest.approx(abs(metric), abs=1e-9)
    assert 0.0 < corpus < 1.0
