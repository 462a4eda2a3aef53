"""Synthesis speed of the embedded corpora (`vfreport bench`)."""

from __future__ import annotations

import io

import soundfile as sf

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.synth import librispeech_row, speaker_voice, synthesize
from vfreport.data.synth.librispeech import LS_MEAN_EXTRA_SECONDS
from vfreport.data.synth.streams import stream


def realtime_factor(seconds: float = 200.0, seed: int = 0) -> dict[str, float]:
    """Measure synthesis speed on this core: seconds of audio per second of compute.

    ``synth`` times :func:`synthesize` alone; ``rows`` times whole LibriSpeech-like rows
    (synthesis, noise and FLAC encoding).
    """
    import time

    voices = [speaker_voice(seed, "librispeech", 900_000 + k) for k in range(8)]
    rng = stream(seed, 99)
    lengths = [int(SAMPLE_RATE * (2.0 + rng.exponential(LS_MEAN_EXTRA_SECONDS))) for _ in range(4096)]
    t0, done, k = time.perf_counter(), 0, 0
    while done < seconds * SAMPLE_RATE:
        synthesize(voices[k % 8], [lengths[k % len(lengths)]], rng)
        done += lengths[k % len(lengths)]
        k += 1
    synth = done / SAMPLE_RATE / (time.perf_counter() - t0)
    t0, audio_seconds, i = time.perf_counter(), 0.0, 0
    while audio_seconds < seconds:
        row = librispeech_row("bench", i, seed)
        audio_seconds += sf.info(io.BytesIO(row["audio"]["bytes"])).duration
        i += 1
    rows = audio_seconds / (time.perf_counter() - t0)
    return {"synth": synth, "rows": rows}
