"""Speaker voices: traits drawn from a seed, and the voice-separability knob (``voice_spread``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vfreport.config import VOICE_SPREAD_RANGE
from vfreport.data.synth.streams import CORPUS_CODE, T_VOICE, stream
from vfreport.errors import ConfigError


@dataclass(frozen=True)
class Voice:
    """The traits of one synthetic speaker (see the module docstring for their populations)."""

    speaker: int
    sex: str  # "M" / "F": which of the two overlapping populations the traits come from
    f0_hz: float
    declination_st: float  # F0 fall over a phrase, semitones
    accent_st: float  # spread of per-syllable pitch accents, semitones
    vt_scale: float  # formant scaling (vocal-tract length), 0.85-1.2
    formant_dev: tuple[float, float, float]  # speaker-specific F1-F3 deviations (factors)
    bandwidth_scale: float
    tilt_db_per_octave: float
    syllable_rate: float  # syllables per second
    pause_prob: float
    loudness_db: float
    breathiness: float
    jitter: float
    shimmer: float
    n_chapters: int


COMMON_VOICE = {
    "f0_hz": 150.0, "declination_st": 3.0, "accent_st": 1.75, "vt_scale": 1.0, "formant_dev": (1.0, 1.0, 1.0),
    "bandwidth_scale": 1.15, "tilt_db_per_octave": 0.0, "syllable_rate": 4.6, "pause_prob": 0.19,
    "loudness_db": 0.0, "breathiness": 0.19, "jitter": 0.012, "shimmer": 0.075,
}
"""The voice every speaker has with ``voice_spread = 0``: the middle of the trait populations."""

VOICE_SPREAD = 1.0
"""Default voice separability: the trait populations of the module docstring."""


def _spread_trait(name: str, drawn: Any, spread: float) -> Any:
    """Move a drawn trait towards :data:`COMMON_VOICE` (``spread`` < 1) or away from it (> 1); F0
    on a log scale. Results stay inside the physical ranges of the synthesiser."""
    ref = COMMON_VOICE[name]
    if name == "formant_dev":
        return tuple(float(np.clip(r + spread * (d - r), 0.8, 1.2)) for d, r in zip(drawn, ref, strict=True))
    if name == "f0_hz":
        return float(np.clip(ref * (drawn / ref) ** spread, 60.0, 380.0))
    value = ref + spread * (drawn - ref)
    lo, hi = {"vt_scale": (0.7, 1.4), "bandwidth_scale": (0.5, 2.5), "syllable_rate": (2.0, 8.0),
              "pause_prob": (0.0, 0.6), "breathiness": (0.0, 0.6), "jitter": (0.0, 0.05), "shimmer": (0.0, 0.3),
              "declination_st": (0.0, 8.0), "accent_st": (0.0, 5.0)}.get(name, (-np.inf, np.inf))
    return float(np.clip(value, lo, hi))


def speaker_voice(seed: int, corpus: str, speaker: int, voice_spread: float = VOICE_SPREAD) -> Voice:
    """Draw the traits of speaker number ``speaker`` of ``corpus`` ("librispeech" or "ami").

    ``voice_spread`` scales every trait's distance from :data:`COMMON_VOICE`: 1 keeps the drawn
    populations, 0 gives every speaker the same voice (nothing but the words and the within-
    speaker variation differs), values above 1 make voices more distinct.
    """
    lo, hi = VOICE_SPREAD_RANGE
    if not lo <= voice_spread <= hi:
        raise ConfigError(f"voice_spread must be in [{lo:g}, {hi:g}], got {voice_spread}")
    rng = stream(seed, T_VOICE, CORPUS_CODE[corpus], speaker)
    female = bool(rng.random() < 0.5)
    if female:
        f0 = float(np.exp(rng.normal(np.log(190.0), 0.16)))
        vt = rng.normal(1.08, 0.05)
    else:
        f0 = float(np.exp(rng.normal(np.log(115.0), 0.18)))
        vt = rng.normal(0.95, 0.05)
    f0 = float(np.clip(f0, 85.0, 260.0))
    vt = float(np.clip(vt + 0.06 * np.log(f0 / 150.0), 0.85, 1.2))
    dev = np.clip(rng.normal(1.0, 0.04, 3), 0.9, 1.1)
    voice = Voice(
        speaker=int(speaker),
        sex="F" if female else "M",
        f0_hz=f0,
        declination_st=float(rng.uniform(1.0, 5.0)),
        accent_st=float(rng.uniform(0.5, 3.0)),
        vt_scale=vt,
        formant_dev=(float(dev[0]), float(dev[1]), float(dev[2])),
        bandwidth_scale=float(rng.uniform(0.8, 1.5)),
        tilt_db_per_octave=float(rng.uniform(-3.0, 3.0)),
        syllable_rate=float(rng.uniform(3.2, 6.0)),
        pause_prob=float(rng.uniform(0.08, 0.3)),
        loudness_db=float(rng.normal(0.0, 2.5)),
        breathiness=float(rng.uniform(0.03, 0.3) + (0.05 if female else 0.0)),
        jitter=float(rng.uniform(0.004, 0.02)),
        shimmer=float(rng.uniform(0.03, 0.12)),
        n_chapters=int(rng.integers(1, 4)),
    )
    if voice_spread == 1.0:
        return voice
    return replace(voice, **{k: _spread_trait(k, getattr(voice, k), voice_spread) for k in COMMON_VOICE})
