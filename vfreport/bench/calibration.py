"""Calibrate predict's clustering threshold on real recordings, and check it on others
(`vfreport bench --only calibration --pipeline-model MODEL`).

    calibration recordings (default: tests/data/ami-debug-train, trn00-09, 1-4 speakers)
    check recordings       (default: tests/data/ami-debug + ami-debug-test: dev00-01, tst00-01)
      per recording and speech condition (own speech detection; oracle speech, as the yardstick):
        predict's stages up to the embeddings, once (:func:`vfreport.deploy.predict.embed_local_speakers`)
        --> for each threshold of the grid: clustering, vote, segments (:func:`label_frames`), DER
      --> corpus DER per threshold (pyannote.metrics, collar 0, overlap scored, UEM)
      --> the threshold with the lowest corpus DER on the calibration recordings with oracle speech
          (:func:`choose_threshold`), then every threshold's DER on the check recordings

Why oracle speech for the choice: the threshold decides the clustering alone; with the detector's
speech its missed speech and false alarm (the same at every threshold) add to every row and a
detector error can move a speaker's turns between clusters. Both conditions are reported.

Method: a grid search of one setting on held-in data, then one look at held-out data, as any
hyper-parameter (e.g. pyannote's pipelines are tuned on a development set and reported on a test
set: Bredin et al., "pyannote.audio 2.1 speaker diarization pipeline", Interspeech 2023).
Nothing is fitted on the check recordings: they only say whether the calibration carries over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.bench.figure import Figure, meets
from vfreport.bench.pipeline_der import Recording, open_recordings
from vfreport.data.audio import as_source
from vfreport.data.rttm import Segment
from vfreport.deploy.predict import (
    EmbeddedSpeakers,
    PipelineSettings,
    Predictor,
    embed_local_speakers,
    frames_to_segments,
    label_frames,
    load_predictor,
    window_and_hop,
)
from vfreport.deploy.scoring import (
    Meeting,
    corpus_der,
    crop_to_regions,
    detection_score,
    one_speaker_segments,
    reference_speech,
    rttm_round_trip,
    score,
    speech_regions,
)
from vfreport.deploy.speech import (
    SILERO_RATE,
    SpeechSettings,
    detect_speech,
    regions_from_probabilities,
    silero_probabilities,
)
from vfreport.errors import DataError

THRESHOLDS = (0.25, 0.30, 0.35, 0.40, 0.45, 0.50)
"""The grid of cosine distances tried (GE2E embeddings: 0 same direction, 1 orthogonal)."""
ONSETS = (0.15, 0.20, 0.25, 0.35, 0.50)
"""Silero speech probabilities tried as the onset (the offset follows: onset − 0.15)."""
PADS = (0.03, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50)
"""Seconds of padding tried on each side of a detected speech region (Silero's own default 0.03)."""
CONDITIONS = ("own", "oracle")
ONE_SPEAKER = "one-speaker"


def data_folders() -> tuple[list[Path], list[Path]]:
    """(calibration, check) folders of the repository's test data (tests/data/README.md)."""
    root = Path(__file__).resolve().parents[2] / "tests" / "data"
    return [root / "ami-debug-train"], [root / "ami-debug", root / "ami-debug-test"]


@dataclass(frozen=True)
class Prepared:
    """One recording in one speech condition, embedded: what every threshold then clusters."""

    recording: Recording
    condition: str
    embedded: EmbeddedSpeakers


def prepare(predictor: Predictor, r: Recording, condition: str, settings: PipelineSettings) -> Prepared:
    """predict's stages up to the embeddings for ``r`` with its own speech detection (``"own"``)
    or the reference's speech (``"oracle"``), as :func:`vfreport.deploy.predict.predict_audio`."""
    window, hop = window_and_hop(predictor)
    if condition == "own":
        speech = detect_speech(r.audio, predictor.geometry, settings.speech)
    else:
        speech = reference_speech(Meeting(r.uri, r.audio, tuple(r.reference), tuple(r.uem)), predictor.geometry)
    embedded = embed_local_speakers(predictor, as_source(r.audio), np.asarray(speech, dtype=bool), window, hop,
                                    settings)
    return Prepared(r, condition, embedded)


def hypothesis(predictor: Predictor, p: Prepared, settings: PipelineSettings) -> list[Segment]:
    """predict's segments for ``p`` with ``settings`` (cropped to the reference's speech with oracle
    speech, as the yardstick does)."""
    labels = label_frames(p.embedded, settings, predictor.sample_rate / predictor.frame_step)
    r = p.recording
    segments = frames_to_segments(labels, len(r.audio), r.uri, predictor.sample_rate, predictor.frame_step,
                                  predictor.n_fft)
    return crop_to_regions(segments, speech_regions(r.reference)) if p.condition == "oracle" else segments


def _one_speaker(predictor: Predictor, p: Prepared) -> list[Segment]:
    """All the speech the pipeline labels (own) or all reference speech (oracle), as one speaker."""
    if p.condition == "oracle":
        return one_speaker_segments(p.recording.reference, p.recording.uri)
    labels = np.where(label_frames(p.embedded, PipelineSettings(num_speakers=1),
                                   predictor.sample_rate / predictor.frame_step) >= 0, 0, -1)
    return frames_to_segments(labels, len(p.recording.audio), p.recording.uri, predictor.sample_rate,
                              predictor.frame_step, predictor.n_fft)


def grid(predictor: Predictor, prepared: Sequence[Prepared], thresholds: Sequence[float],
         settings: PipelineSettings) -> list[dict[str, Any]]:
    """One row per (condition, system): system = a threshold or ``one-speaker``; the corpus DER over
    ``prepared`` and each recording's DER and speaker count."""
    rows = []
    for condition in CONDITIONS:
        group = [p for p in prepared if p.condition == condition]
        systems: list[float | str] = [*thresholds, ONE_SPEAKER]
        for system in systems:
            per = {}
            for p in group:
                if system == ONE_SPEAKER:
                    hyp = _one_speaker(predictor, p)
                else:
                    hyp = hypothesis(predictor, p, replace(settings, threshold=float(system)))
                _, back = rttm_round_trip(hyp)
                s = score(p.recording.reference, back, p.recording.uem, p.recording.uri)
                per[p.recording.uri] = {**s, "speakers": len({b.speaker for b in back})}
            rows.append({"condition": condition, "system": system, "der": corpus_der(per)["der"], "recordings": per})
    return rows


def choose_threshold(ders: Mapping[float, float]) -> float:
    """The threshold with the lowest corpus DER; among thresholds within 1e-9 of it, the largest
    (fewer speakers: the simpler hypothesis when the data cannot tell them apart)."""
    finite = {t: d for t, d in ders.items() if np.isfinite(d)}
    if not finite:
        raise ValueError("no threshold has a finite DER to choose by")
    best = min(finite.values())
    return max(t for t, d in finite.items() if d <= best + 1e-9)


def speech_grid(recordings: Sequence[Recording], onsets: Sequence[float], pads: Sequence[float],
                base: SpeechSettings) -> dict[tuple[float, float], float]:
    """Corpus speech detection error (:func:`vfreport.deploy.scoring.detection_score`, summed over
    ``recordings``) of Silero at every (onset, pad), the other settings as in ``base``. Silero runs
    once per recording."""
    probs = {r.uri: silero_probabilities(r.audio) for r in recordings}
    out = {}
    for onset in onsets:
        for pad in pads:
            settings = replace(base, onset=onset, pad=pad, offset=None)
            scores = [detection_score(r.reference, [(a / SILERO_RATE, b / SILERO_RATE) for a, b in
                                                    regions_from_probabilities(probs[r.uri], len(r.audio), settings)],
                                      r.uem, r.uri) for r in recordings]
            total = sum(x["total"] for x in scores)
            out[(onset, pad)] = sum(x["error"] for x in scores) / total if total > 0 else float("nan")
    return out


def choose_speech(errors: Mapping[tuple[float, float], float]) -> tuple[float, float]:
    """The (onset, pad) with the lowest detection error; among ties (within 1e-9), the largest onset
    then the smallest pad (the detector's own settings changed least)."""
    finite = {k: e for k, e in errors.items() if np.isfinite(e)}
    if not finite:
        raise ValueError("no speech setting has a finite detection error to choose by")
    best = min(finite.values())
    return min((k for k, e in finite.items() if e <= best + 1e-9), key=lambda k: (-k[0], k[1]))


def calibrate(model: Path | str | Predictor, calibration: Sequence[Recording], check: Sequence[Recording],
              thresholds: Sequence[float] = THRESHOLDS, settings: PipelineSettings | None = None
              ) -> dict[str, Any]:
    """The grid on the calibration recordings, the chosen threshold (:func:`choose_threshold` on
    oracle speech), and the same grid on the check recordings (module doc)."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model)
    settings = settings or PipelineSettings()
    out: dict[str, Any] = {"thresholds": list(thresholds), "settings_threshold": settings.threshold}
    for split, recordings in (("calibration", calibration), ("check", check)):
        prepared = [prepare(predictor, r, c, settings) for r in recordings for c in CONDITIONS]
        rows = grid(predictor, prepared, thresholds, settings)
        out[split] = {"recordings": [r.uri for r in recordings], "rows": rows}
    oracle = {row["system"]: row["der"] for row in out["calibration"]["rows"]
              if row["condition"] == "oracle" and row["system"] != ONE_SPEAKER}
    out["chosen"] = choose_threshold(oracle)
    if settings.speech.detector == "silero":
        grids = {split: speech_grid(recordings, ONSETS, PADS, settings.speech)
                 for split, recordings in (("calibration", calibration), ("check", check))}
        chosen_speech = list(choose_speech(grids["calibration"]))
        out["speech"] = {"onsets": list(ONSETS), "pads": list(PADS), "chosen": chosen_speech,
                         "default": [settings.speech.onset, settings.speech.pad],
                         **{split: [{"onset": o, "pad": p, "detection_error": e} for (o, p), e in g.items()]
                            for split, g in grids.items()}}
    return out


def _der(result: Mapping[str, Any], split: str, condition: str, system: float | str) -> float:
    return next(r["der"] for r in result[split]["rows"] if r["condition"] == condition and r["system"] == system)


def markdown(result: Mapping[str, Any]) -> str:
    """Corpus DER (%) per threshold, both splits and conditions; the chosen threshold marked."""
    systems = [*result["thresholds"], ONE_SPEAKER]
    head = ["split", "speech"] + [f"**{s:.2f}**" if s == result["chosen"] else
                                  (f"{s:.2f}" if isinstance(s, float) else str(s)) for s in systems]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for split in ("calibration", "check"):
        for condition in CONDITIONS:
            cells = [f"{100 * _der(result, split, condition, s):.1f}" for s in systems]
            lines.append(f"| {split} ({len(result[split]['recordings'])}) | {condition} | " + " | ".join(cells) + " |")
    if "speech" in result:
        sp = result["speech"]
        lines += ["", "Speech detection error (%, missed + false alarm), calibration / check, onset x pad "
                  "(chosen in bold):", "", "| onset \\ pad | " + " | ".join(f"{p:.2f}" for p in sp["pads"]) + " |",
                  "|---" * (len(sp["pads"]) + 1) + "|"]
        cal = {(r["onset"], r["pad"]): r["detection_error"] for r in sp["calibration"]}
        chk = {(r["onset"], r["pad"]): r["detection_error"] for r in sp["check"]}
        for o in sp["onsets"]:
            cells = []
            for p in sp["pads"]:
                cell = f"{100 * cal[(o, p)]:.1f} / {100 * chk[(o, p)]:.1f}"
                cells.append(f"**{cell}**" if [o, p] == sp["chosen"] else cell)
            lines.append(f"| {o:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _recordings(folders: Sequence[Path]) -> list[Recording]:
    """Every recording of ``folders``; DataError when one holds none (e.g. an installed package,
    whose source checkout's tests/data is not there)."""
    out = []
    for folder in map(Path, folders):
        found = open_recordings(folder) if folder.is_dir() else []
        if not found:
            raise DataError(f"{folder}: no <uri>.wav with a reference in *.rttm to calibrate on (the default "
                            "folders are the source checkout's tests/data: run from a clone of vfreport)")
        out.extend(found)
    return out


def bench_calibration(model: Path | str, calibration_dirs: Sequence[Path] | None = None,
                      check_dirs: Sequence[Path] | None = None) -> tuple[list[Figure], str]:
    """`vfreport bench`'s calibration figures and table (module doc)."""
    default_cal, default_check = data_folders()
    calibration = _recordings(calibration_dirs or default_cal)
    check = _recordings(check_dirs or default_check)
    result = calibrate(model, calibration, check)
    chosen, current = result["chosen"], result["settings_threshold"]
    figs = [Figure("calibrated clustering threshold (oracle speech of the calibration recordings)", chosen, "cosine",
                   f"= default {current:.2f}", meets(abs(chosen - current), "<=", 1e-9),
                   f"grid {', '.join(f'{t:.2f}' for t in result['thresholds'])}")]
    if "speech" in result:
        sp = result["speech"]
        error = {(r["onset"], r["pad"]): r["detection_error"] for r in sp["check"]}
        o, p = sp["chosen"]
        figs.append(Figure("calibrated speech onset, pad (detection error of the calibration recordings)", o, "onset",
                           f"= default {sp['default'][0]:.2f}, {sp['default'][1]:.2f} s",
                           meets(abs(o - sp["default"][0]) + abs(p - sp["default"][1]), "<=", 1e-9),
                           f"pad {p:.2f} s; check recordings' detection error {100 * error[(o, p)]:.1f} % "
                           f"(default {100 * error.get(tuple(sp['default']), float('nan')):.1f} %)"))
    for condition in CONDITIONS:
        der = _der(result, "check", condition, chosen)
        one = _der(result, "check", condition, ONE_SPEAKER)
        figs.append(Figure(f"check recordings' corpus DER at the calibrated threshold, {condition} speech", 100 * der,
                           "%", f"<= one speaker {100 * one:.1f}", meets(der, "<=", one),
                           f"{len(check)} recordings never used to choose"))
    return figs, markdown(result)
