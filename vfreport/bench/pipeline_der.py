"""predict's pipeline on real recordings (`vfreport bench --pipeline-model MODEL`): DER and time per stage.

For every recording of a folder with a reference (by default the real AMI excerpts of the test
data, ``tests/data/ami-debug``: ``dev00``, ``dev01``, 30 s each), three systems are scored with
pyannote.metrics (collar 0, overlap scored, the UEM passed), each with the model's own speech
detection and with oracle speech (the reference's speech frames; the hypothesis cropped to the
reference's speech, as the yardstick does):

- ``old``: the pipeline before issue 26 (:data:`vfreport.deploy.predict.OLD_PIPELINE`: energy
  speech, hand-made features, two speakers);
- ``new``: predict's defaults (Silero VAD, GE2E encoder, estimated speaker count);
- ``one-speaker``: all detected (or reference) speech labelled as one speaker;
- ``reference clusters``: the new pipeline's local speakers (this model's windows split by its labels,
  on the same speech) each given the reference speaker who speaks most of its frames, then voted and
  segmented as predict does (:func:`reference_clusters`). Not a system: it separates the model's
  segmentation from the clustering. The gap between ``new`` and this row is what better speaker
  embeddings or a better clustering could win with this model; this row minus the floor is the
  segmentation's and the speech detector's share.

Beside them, each recording's overlap floor (:mod:`vfreport.data.overlap`). Time per hour of
audio of each stage (detector, model, encoder, clustering) and predict's real-time factor are
measured on the recordings tiled to :data:`TILED_SECONDS`, after one warm-up call (model loading
is not counted).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.bench.figure import Figure, meets
from vfreport.data.audio import read_audio_file
from vfreport.data.labels import Turns, speaker_activity
from vfreport.data.overlap import overlap_floor
from vfreport.data.rttm import Segment, parse_rttm, parse_uem
from vfreport.deploy.predict import (
    OLD_PIPELINE,
    PipelineSettings,
    frames_to_segments,
    load_predictor,
    local_speakers,
    predict_audio,
    vote,
    window_and_hop,
    window_batches,
)
from vfreport.deploy.scoring import Meeting, crop_to_regions, one_speaker_segments, reference_speech, speech_regions
from vfreport.deploy.scoring import score as der_score
from vfreport.deploy.speech import detect_speech

TILED_SECONDS = 600.0
"""Audio timed per pipeline (the excerpts tiled): long enough that per-call overheads vanish."""


def default_data() -> Path:
    """The real AMI excerpts of the repository's test data."""
    return Path(__file__).resolve().parents[2] / "tests" / "data" / "ami-debug"


@dataclass(frozen=True)
class Recording:
    uri: str
    audio: np.ndarray
    reference: list[Segment]
    uem: list[tuple[float, float]]


def open_recordings(folder: Path) -> list[Recording]:
    """Every ``<uri>.wav`` of ``folder`` that the folder's ``*.rttm`` references (``*.uem`` if present,
    else the whole recording)."""
    refs: dict[str, list[Segment]] = {}
    for f in sorted(folder.glob("*.rttm")):
        refs.update(parse_rttm(f.read_text(), str(f)))
    uems: dict[str, list[tuple[float, float]]] = {}
    for f in sorted(folder.glob("*.uem")):
        uems.update(parse_uem(f.read_text(), str(f)))
    out = []
    for uri in sorted(refs):
        wav = folder / f"{uri}.wav"
        if wav.is_file():
            audio = read_audio_file(wav, 16_000)
            out.append(Recording(uri, audio, refs[uri], uems.get(uri, [(0.0, len(audio) / 16_000)])))
    return out


def reference_clusters(predictor: Any, r: Recording, speech: np.ndarray) -> list[Segment]:
    """Segments of the new pipeline with its clustering replaced by the reference (module doc):
    each local speaker (:func:`vfreport.deploy.predict.local_speakers` of the model's windows on
    ``speech`` frames) takes the reference speaker active on most of its frames (frame centres in a
    turn, :func:`vfreport.data.labels.speaker_activity`); frames vote and become segments as in
    :func:`vfreport.deploy.predict.predict_audio` (default window and hop)."""
    sr, step = predictor.sample_rate, predictor.frame_step
    speakers = [s for probs, firsts in window_batches(predictor, r.audio, *window_and_hop(predictor))
                for s in local_speakers(probs, firsts, speech)]
    if not speakers:
        return []
    turns = Turns.from_lists([s.start for s in r.reference], [s.end for s in r.reference],
                             [s.speaker for s in r.reference])
    active = speaker_activity(turns, 0.0, len(speech), predictor.geometry)
    cluster = np.array([active[s.frames].sum(axis=0).argmax() for s in speakers])
    labels = vote(speakers, cluster, len(speech))
    return frames_to_segments(labels, len(r.audio), r.uri, sr, step, predictor.n_fft)


def der_table(model: Path | str, recordings: list[Recording]) -> list[dict[str, Any]]:
    """One row per recording x system x speech condition: DER and its components, the speaker
    count found, the recording's overlap floor."""
    predictor = load_predictor(model)
    rows = []
    for r in recordings:
        floor = overlap_floor({r.uri: r.reference}, {r.uri: r.uem})["meetings"][r.uri]["floor"]
        oracle = reference_speech(Meeting(r.uri, r.audio, tuple(r.reference), tuple(r.uem)), predictor.geometry)
        regions = speech_regions(r.reference)
        detected = detect_speech(r.audio, predictor.geometry)
        centres = predictor.geometry.frame_centers(len(detected))
        for condition in ("own", "oracle"):
            hyps: dict[str, list[Segment]] = {}
            for name, settings in (("old", OLD_PIPELINE), ("new", PipelineSettings())):
                if condition == "own":
                    hyps[name] = predict_audio(predictor, r.audio, r.uri, settings=settings)
                else:
                    hyps[name] = crop_to_regions(
                        predict_audio(predictor, r.audio, r.uri, speech=oracle, settings=settings), regions)
            if condition == "own":  # the new pipeline's detected speech, as one speaker
                hyps["one-speaker"] = _runs(detected, centres, r.uri)
                hyps["reference clusters"] = reference_clusters(predictor, r, detected)
            else:
                hyps["one-speaker"] = one_speaker_segments(r.reference, r.uri)
                hyps["reference clusters"] = crop_to_regions(reference_clusters(predictor, r, oracle), regions)
            for name, hyp in hyps.items():
                s = der_score(r.reference, hyp, r.uem, r.uri)
                rows.append({"uri": r.uri, "system": name, "speech": condition, "der": s["der"],
                             "confusion": s["confusion"], "missed_detection": s["missed_detection"],
                             "false_alarm": s["false_alarm"], "speakers": len({h.speaker for h in hyp}),
                             "overlap_floor": floor})
    return rows


def _runs(mask: np.ndarray, centres: np.ndarray, uri: str) -> list[Segment]:
    """Runs of True frames as one-speaker segments (frame ``j`` spans its centre ± half a step)."""
    if not mask.any():
        return []
    half = (centres[1] - centres[0]) / 2 if len(centres) > 1 else 0.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [Segment(uri, float(max(0.0, centres[a] - half)), float(centres[b - 1] - centres[a] + 2 * half), "0")
            for a, b in zip(edges[::2], edges[1::2], strict=True)]


def stage_times(model: Path | str, recordings: list[Recording], seconds: float = TILED_SECONDS
                ) -> dict[str, dict[str, float]]:
    """Seconds per hour of audio of each stage, and predict's real-time factor, for the old and the
    new pipeline on the recordings tiled to ``seconds`` (one warm-up call first)."""
    predictor = load_predictor(model)
    joined = np.concatenate([r.audio for r in recordings])
    tiled = np.tile(joined, int(np.ceil(seconds * 16_000 / len(joined))))[: int(seconds * 16_000)]
    hours = len(tiled) / 16_000 / 3600
    out: dict[str, dict[str, float]] = {}
    for name, settings in (("old", OLD_PIPELINE), ("new", PipelineSettings())):
        predict_audio(predictor, recordings[0].audio, "warmup", settings=settings)
        timings: dict[str, float] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        predict_audio(predictor, tiled, "tiled", settings=settings, timings=timings)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        out[name] = {f"{k}_s_per_hour": v / hours for k, v in timings.items()}
        out[name]["total_s_per_hour"] = wall / hours
        out[name]["cpu_s_per_hour"] = cpu / hours
        out[name]["real_time_factor"] = len(tiled) / 16_000 / wall
    return out


def markdown(rows: list[dict[str, Any]], times: dict[str, dict[str, float]], threads: int) -> str:
    """The DER table (percent) and the time table, as Markdown."""
    lines = ["| recording | speech | system | DER | confusion | missed | false alarm | speakers | overlap floor |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['uri']} | {r['speech']} | {r['system']} | {100 * r['der']:.1f} % | "
                     f"{100 * r['confusion']:.1f} | {100 * r['missed_detection']:.1f} | {100 * r['false_alarm']:.1f} | "
                     f"{r['speakers']} | {100 * r['overlap_floor']:.1f} % |")
    stages = ["detector", "model", "encoder", "clustering", "total"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += ["", f"Wall-clock seconds per hour of audio ({threads} torch threads, {os.cpu_count()} cores, "
              f"load average {load:.1f} at the end):", "",
              "| pipeline | " + " | ".join(stages) + " | CPU s (all threads) | real-time factor |",
              "|---" * (len(stages) + 3) + "|"]
    for name, t in times.items():
        cells = [f"{t.get(f'{s}_s_per_hour', 0.0):.1f}" for s in stages]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {t.get('cpu_s_per_hour', float('nan')):.1f} | "
                     f"{t['real_time_factor']:.0f}x |")
    return "\n".join(lines)


def bench_pipeline(model: Path | str, data: Path | None = None) -> tuple[list[Any], str]:
    """The pipeline's figures for `vfreport bench` and the Markdown tables (module doc)."""
    import torch

    recordings = open_recordings(Path(data) if data else default_data())
    rows = der_table(model, recordings)
    times = stage_times(model, recordings)
    figs = []
    for r in recordings:
        own = {x["system"]: x["der"] for x in rows if x["uri"] == r.uri and x["speech"] == "own"}
        figs.append(Figure(f"DER {r.uri}, new pipeline, own speech detection", 100 * own["new"], "%",
                           f"< old {100 * own['old']:.1f}", meets(own["new"], "<=", own["old"] - 1e-9),
                           f"old = energy + features + 2 speakers, this version's segments; "
                           f"one speaker {100 * own['one-speaker']:.1f} %"))
    rtf = times["new"]["real_time_factor"]
    figs.append(Figure("predict real-time factor (new pipeline)", rtf, "x real time", ">= 50", meets(rtf, ">=", 50),
                       f"old pipeline {times['old']['real_time_factor']:.0f}x"))
    return figs, markdown(rows, times, torch.get_num_threads())
