"""The pipeline's named settings as command-line options (``vfreport predict``; reusable by any
command that runs predict's pipeline): one decorator, one builder (docs/pipeline.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from vfreport.deploy.embed import EMBEDDINGS
from vfreport.deploy.predict import DEFAULT_THRESHOLD, PipelineSettings
from vfreport.deploy.speech import DEFAULT_ONSET, DEFAULT_PAD, DETECTORS, SpeechSettings

_OPTIONS = [
    click.option("--vad", type=click.Choice(DETECTORS), default="silero", show_default=True,
                 help="Speech detector: Silero VAD (learned, offline) or the energy-threshold fallback."),
    click.option("--vad-onset", type=float, default=DEFAULT_ONSET, show_default=True,
                 help="Silero speech probability at which speech starts."),
    click.option("--vad-offset", type=float, default=None,
                 help="Silero probability below which speech ends [default: onset - 0.15]."),
    click.option("--min-speech", type=float, default=0.25, show_default=True,
                 help="Shortest speech region kept by the detector (s)."),
    click.option("--min-silence", type=float, default=0.1, show_default=True,
                 help="Shortest pause that ends a speech region (s)."),
    click.option("--vad-pad", type=float, default=DEFAULT_PAD, show_default=True,
                 help="Seconds added on each side of a detected speech region."),
    click.option("--embedding", type=click.Choice(EMBEDDINGS), default="encoder", show_default=True,
                 help="Local-speaker embedding: the pretrained GE2E encoder or hand-made features."),
    click.option("--threshold", "cluster_threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
                 help="Clustering distance (cosine, average linkage) under which two speakers are one (calibrated on "
                      "real AMI excerpts: docs/pipeline.md)."),
    click.option("--num-speakers", type=click.IntRange(min=1), default=None,
                 help="Number of speakers, when known [default: estimated]."),
    click.option("--min-speakers", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Lower bound on the estimated number of speakers."),
    click.option("--max-speakers", type=click.IntRange(min=1), default=None,
                 help="Upper bound on the estimated number of speakers."),
]


def pipeline_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the pipeline's options to a click command (its function receives them as keywords)."""
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def settings_from_options(vad: str, vad_onset: float, vad_offset: float | None, min_speech: float,
                          min_silence: float, vad_pad: float, embedding: str, cluster_threshold: float,
                          num_speakers: int | None, min_speakers: int, max_speakers: int | None) -> PipelineSettings:
    """:class:`PipelineSettings` from the options of :func:`pipeline_options` (ConfigError when invalid)."""
    speech = SpeechSettings(detector=vad, onset=vad_onset, offset=vad_offset, min_speech=min_speech,
                            min_silence=min_silence, pad=vad_pad)
    return PipelineSettings(speech=speech, embedding=embedding, threshold=cluster_threshold,
                            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers)
