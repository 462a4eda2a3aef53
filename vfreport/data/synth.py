"""Deterministic synthetic corpora in the Hugging Face schemas (design.md §4-§5).

The embedded default data source: LibriSpeech-like utterances (``openslr/librispeech_asr``
schema) and AMI-like meetings (``diarizers-community/ami`` schema), generated from a seed by a
vectorised source-filter synthesiser, so the adapters that read real data read these unchanged.

Voices. Every speaker gets traits drawn from a seed (:func:`speaker_voice`): F0 median from two
overlapping populations (male-like around 115 Hz, female-like around 190 Hz, 85-260 Hz overall),
intonation (declination and accent ranges), vocal-tract scaling of the formants (0.85-1.2) plus
small per-formant deviations, formant bandwidths, spectral tilt, syllable rate, pause rate,
loudness, breathiness, jitter and shimmer. No single trait separates two random speakers;
together they make voices learnable. Each utterance adds within-speaker variation (F0 and
loudness shifts, rate changes), and each LibriSpeech chapter a channel colouring.

Voice separability (``voice_spread``, an arm setting): every trait's distance from one common
voice (:data:`COMMON_VOICE`) is multiplied by it, and so are an AMI speaker's meeting level and
pitch offset. 1 (default) keeps the populations above; 0 gives every speaker the same voice and
renders an AMI meeting as that one voice talking over the union of the turns, a corpus in which
nothing in the audio tells speakers apart (a null with a known answer); the turns of a meeting do
not depend on it.

Synthesis (:func:`synthesize`). An utterance is a sequence of syllables: an optional consonant
(fricative noise, stop burst, aspiration or voiced sonorant murmur), a vowel nucleus with
Peterson & Barney (1952) formants F1-F3 scaled by the vocal-tract factor, and sometimes a pause.
The excitation (a sawtooth at the speaker's F0 contour with jitter and shimmer, plus breath and
consonant noise) is filtered in the STFT domain (512-point frames, hop 256, sqrt-Hann analysis
and synthesis windows, 50 % overlap-add) by a cascade-formant envelope per frame; all of it is
numpy array work on a 1-ms grid (envelopes, F0, syllable plan) and per sample only for the
excitation and the STFT, with no per-sample Python loop. Background noise (coloured, SNR 10-30 dB
for LibriSpeech, 15-30 dB for AMI) and a small random gain are added at the end. Speed on one
core (:func:`realtime_factor`): the synthesiser ~900-1200x real time; finished LibriSpeech rows
(noise, FLAC) ~500-700x; AMI meetings (mixing, room, FLAC) ~400-600x.

Meetings (:func:`ami_meeting`). 2-4 speakers from the split's pool; turns of 0.4-4 s, 40 % of
them quick replies or back-channels after which the previous speaker usually resumes (so 2-s
windows often hold two speakers, and often A-B-A rather than only A-B), short gaps, some longer
silences, ~20 % of turn changes overlapping by 0.15-0.6 s. Each voice is mixed at its own level,
then a weak room tail and room noise are added.

Determinism. Row ``i`` of :func:`librispeech_rows` and meeting ``i`` of :func:`ami_rows`
depend only on ``(seed, split, i)`` (and ``n_speakers`` / ``pool_size`` when given), so the
first ``k`` rows of a request for ``n`` rows equal a request for ``k`` rows. Splits are
speaker-disjoint: speaker numbers come from ranges derived from the split name.

LibriSpeech-like durations are 2-15 s, skewed short to keep generation cheap: ``2 s +
Exponential(mean 2.2 s)`` capped at 15 s, so ~84 % are under 6 s (the real corpus: mostly
10-16 s).
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft
import scipy.signal
import soundfile as sf

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.errors import ConfigError
from vfreport.experiment.layout import atomic_write_with, check_name

N_FFT = 512
HOP = N_FFT // 2
BLOCK = 16  # samples per 1-ms block: the grid of envelopes, F0 and the syllable plan
FREQS = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
_WINDOW = np.sin(np.pi * np.arange(N_FFT) / N_FFT).astype(np.float32)  # sqrt of a periodic Hann

LS_MIN_SECONDS, LS_MAX_SECONDS, LS_MEAN_EXTRA_SECONDS = 2.0, 15.0, 2.2
LS_COHORT_SPEAKERS, LS_UTTERANCES_PER_SPEAKER = 8, 10
LS_SPLIT_WIDTH = 10_000
LS_SPLIT_BASE = {"train.100": 10_000, "train.360": 20_000, "train.500": 30_000, "validation": 40_000, "test": 50_000}
AMI_POOL_SIZE = 40
AMI_SPLIT_WIDTH = 300
AMI_SPLIT_BASE = {"train": 0, "validation": 400, "test": 700}

# random-stream tags (SeedSequence entropy words): change one and every corpus changes
_T_VOICE, _T_LS_ROW, _T_LS_ORDER, _T_CHAPTER, _T_AMI_MEETING, _T_AMI_LABEL = 11, 12, 13, 14, 15, 16
_CORPUS_CODE = {"librispeech": 1, "ami": 2}

# Peterson & Barney (1952), adult male means: F1, F2, F3 (Hz), and a spelling for the text column.
VOWELS = [
    ("EE", 270, 2290, 3010),
    ("I", 390, 1990, 2550),
    ("E", 530, 1840, 2480),
    ("A", 660, 1720, 2410),
    ("AH", 730, 1090, 2440),
    ("AW", 570, 840, 2410),
    ("OO", 440, 1020, 2240),
    ("U", 300, 870, 2240),
    ("UH", 640, 1190, 2390),
    ("ER", 490, 1350, 1690),
]
_F45 = np.array([3500.0, 4500.0])
_BANDWIDTHS = np.array([70.0, 90.0, 130.0, 180.0, 250.0])

# consonants: spelling, kind, centre (Hz, before vocal-tract scaling), bandwidth (Hz), level,
# duration range (ms). kind: "fric" noise band, "stop" closure + burst, "asp" noise through the
# vowel's formants, "son" voiced murmur (nasal/liquid-like).
CONSONANTS = [
    ("S", "fric", 5800.0, 1800.0, 0.10, (60, 120)),
    ("SH", "fric", 3200.0, 1200.0, 0.12, (60, 120)),
    ("F", "fric", 4500.0, 5000.0, 0.04, (50, 100)),
    ("H", "asp", 1000.0, 1000.0, 0.20, (40, 80)),
    ("T", "stop", 4200.0, 2000.0, 0.25, (25, 55)),
    ("K", "stop", 2200.0, 1000.0, 0.25, (30, 60)),
    ("P", "stop", 1000.0, 1200.0, 0.20, (25, 50)),
    ("M", "son", 250.0, 100.0, 0.45, (40, 90)),
    ("N", "son", 300.0, 120.0, 0.45, (40, 90)),
    ("L", "son", 380.0, 150.0, 0.55, (40, 90)),
]
_C_KIND = np.array([["fric", "stop", "asp", "son"].index(c[1]) for c in CONSONANTS])
_C_CENTRE = np.array([c[2] for c in CONSONANTS])
_C_BW = np.array([c[3] for c in CONSONANTS])
_C_LEVEL = np.array([c[4] for c in CONSONANTS])
_C_DUR = np.array([c[5] for c in CONSONANTS], dtype=float) / 1000.0
_FRIC, _STOP, _ASP, _SON = 0, 1, 2, 3
_PIECE_CONS, _PIECE_VOWEL, _PIECE_PAUSE = 0, 1, 2


def _split_code(split: str) -> int:
    return zlib.crc32(split.encode("utf-8"))


def _rng(seed: int, *words: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *(int(w) for w in words)])


# ---------------------------------------------------------------------------------------------
# voices
# ---------------------------------------------------------------------------------------------


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
    if voice_spread < 0:
        raise ConfigError(f"voice_spread must be >= 0, got {voice_spread}")
    rng = _rng(seed, _T_VOICE, _CORPUS_CODE[corpus], speaker)
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


# ---------------------------------------------------------------------------------------------
# the synthesiser
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """Output of :func:`synthesize`: the waveform and what was said."""

    audio: np.ndarray  # float32, concatenation of the requested segments
    syllables: list[list[tuple[int, int]]]  # per segment: (consonant or -1, vowel) per syllable


def _plan_segment(voice: Voice, n_blocks: int, rate: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Syllables filling exactly ``n_blocks`` 1-ms blocks: pieces (consonant, vowel, pause)."""
    per_s = SAMPLE_RATE / BLOCK
    k = int(n_blocks / per_s * rate * 1.6) + 4
    cons = np.where(rng.random(k) < 0.8, rng.integers(0, len(CONSONANTS), k), -1)
    if rng.random() < 0.5:
        cons[0] = -1
    vowel = rng.integers(0, len(VOWELS), k)
    lo, hi = _C_DUR[np.maximum(cons, 0)].T
    c_len = np.where(cons >= 0, rng.uniform(lo, hi), 0.0)
    v_len = np.clip(rng.lognormal(np.log(0.62 / rate), 0.3, k), 0.06, 0.45)
    pause = np.where(rng.random(k) < voice.pause_prob, rng.uniform(0.08, 0.35, k), rng.uniform(0.0, 0.02, k))
    lens = np.round(np.stack([c_len, v_len, pause], axis=1) * per_s).astype(np.int64).ravel()
    ends = np.cumsum(lens)
    last = int(np.searchsorted(ends, n_blocks))  # first piece reaching the end
    if last >= len(lens):  # (never with the 1.6x margin) end on a pause
        lens = np.append(lens, n_blocks - ends[-1])
        last = len(lens) - 1
    lens = lens[: last + 1].copy()
    lens[last] -= int(lens.sum() - n_blocks)
    kinds = np.tile([_PIECE_CONS, _PIECE_VOWEL, _PIECE_PAUSE], k + 1)[: last + 1]
    if kinds[last] == _PIECE_PAUSE:  # end on speech: stretch the last vowel over the final pause
        lens[last - 1] += lens[last]
        lens[last] = 0
    n_syl = last // 3 + 1
    return {"lens": lens, "kinds": kinds, "cons": cons[:n_syl], "vowel": vowel[:n_syl], "pause": pause[:n_syl]}


def _resonance(f: np.ndarray, centre: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Magnitude response of a two-pole resonator with unit gain at 0 Hz (Klatt 1980)."""
    c, b = centre[..., None], (bw[..., None] / 2.0)
    return (c * c + b * b) / np.sqrt(((f - c) ** 2 + b * b) * ((f + c) ** 2 + b * b))


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average with a Hann kernel of ``width`` points, edges held."""
    if width <= 1 or len(x) < 2:
        return x
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    pad = width // 2
    return np.convolve(np.pad(x, pad, mode="edge"), kernel, mode="same")[pad : pad + len(x)]


def _ramp(x: np.ndarray) -> np.ndarray:
    """Smoothstep of ``x`` clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def synthesize(
    voice: Voice,
    segment_samples: Sequence[int],
    rng: np.random.Generator,
    *,
    f0_shift_st: float = 0.0,
    rate_factor: float = 1.0,
    eq: np.ndarray | None = None,
) -> Rendered:
    """Speech of ``voice`` filling each segment (lengths in samples), concatenated.

    Each segment starts and ends on speech, with pauses inside. Envelopes, F0 and the syllable
    plan live on a 1-ms grid (:data:`BLOCK` samples); only the excitation and the STFT are
    per-sample. ``eq`` is an optional channel magnitude response on :data:`FREQS`. The result has
    an RMS of 0.1 (-20 dBFS); callers apply the speaker's loudness.
    """
    sr = SAMPLE_RATE
    rate = voice.syllable_rate * rate_factor
    seg_blocks = [max(1, -(-int(n) // BLOCK)) for n in segment_samples]
    plans = [_plan_segment(voice, nb, rate, rng) for nb in seg_blocks]
    lens = np.concatenate([p["lens"] for p in plans])
    kinds = np.concatenate([p["kinds"] for p in plans])
    syl_offsets = np.cumsum([0] + [len(p["vowel"]) for p in plans])
    piece_syl = np.concatenate([np.arange(len(p["kinds"])) // 3 + o for p, o in zip(plans, syl_offsets, strict=False)])
    cons = np.concatenate([p["cons"] for p in plans])
    vowel = np.concatenate([p["vowel"] for p in plans])
    n_syl = len(vowel)
    nb = int(lens.sum())
    n = nb * BLOCK

    # --- amplitude envelopes on the 1-ms grid ---
    piece = np.repeat(np.arange(len(lens)), lens)
    pos = np.arange(nb, dtype=np.float32) - (np.cumsum(lens) - lens)[piece].astype(np.float32)
    plen = np.maximum(lens, 1).astype(np.float32)[piece]
    pkind = kinds[piece]
    syl = piece_syl[piece]
    ckind = np.where(cons >= 0, _C_KIND[np.maximum(cons, 0)], -1)
    bkind = np.where(pkind == _PIECE_CONS, ckind[syl], -1)
    stress = np.clip(rng.normal(0.0, 1.0, n_syl), -2.0, 2.0)
    syl_amp = np.exp(0.2 * stress + voice.shimmer * rng.normal(0.0, 1.0, n_syl)).astype(np.float32)
    ms = sr / BLOCK / 1000.0  # blocks per millisecond
    smooth_env = _ramp(pos / np.minimum(0.3 * plen, 20 * ms)) * _ramp((plen - pos) / np.minimum(0.4 * plen, 40 * ms))
    frac = pos / plen
    fric_env = _ramp(np.minimum(frac, 1.0 - frac) * 4.0)
    stop_env = np.where(frac > 0.6, np.exp(-(frac - 0.6) * plen / (12 * ms)), 0.0).astype(np.float32)
    con_level = np.where(cons >= 0, _C_LEVEL[np.maximum(cons, 0)], 0.0).astype(np.float32)[syl]
    a_vow = np.where(pkind == _PIECE_VOWEL, smooth_env, 0.0) * syl_amp[syl]
    a_son = np.where(bkind == _SON, smooth_env, 0.0) * con_level
    a_noise = np.select([bkind == _FRIC, bkind == _STOP, bkind == _ASP], [fric_env, stop_env, fric_env], 0.0)
    a_noise = a_noise * con_level
    shimmer = 1.0 + voice.shimmer * 0.5 * np.repeat(rng.normal(0.0, 1.0, nb // 5 + 1), 5)[:nb]

    # --- F0: phrase declination + pitch accents + slow wander, jitter every 5 ms ---
    phrase_end = np.concatenate([p["pause"] for p in plans]) > 0.08
    phrase_end[syl_offsets[1:] - 1] = True
    phrase = np.concatenate([[0], np.cumsum(phrase_end[:-1])])
    first = np.searchsorted(phrase, phrase)  # index of the phrase's first syllable
    count = np.bincount(phrase)[phrase]
    where = (np.arange(n_syl) - first) / np.maximum(count - 1, 1)
    st_syl = voice.declination_st * (0.5 - where) + voice.accent_st * 0.6 * stress
    st_syl += rng.normal(0.0, 1.0, phrase.max() + 1)[phrase]
    rise = (rng.random(phrase.max() + 1) < 0.12)[phrase] & (where == 1.0)
    st_syl += np.where(rise, voice.declination_st + 2.0, 0.0)
    per_frame = HOP // BLOCK
    n_frames = nb // per_frame + 2
    centres = np.minimum(np.arange(n_frames) * per_frame, nb - 1)  # frame centres, in blocks
    st_frame = _smooth(st_syl[syl[centres]], 7) + _smooth(rng.normal(0.0, 0.6, n_frames), 15)
    f0_frame = np.clip(voice.f0_hz * 2.0 ** ((st_frame + f0_shift_st) / 12.0), 55.0, 420.0)
    f0 = np.interp(np.arange(nb), centres, f0_frame)
    f0 *= np.repeat(1.0 + voice.jitter * rng.normal(0.0, 1.0, nb // 5 + 1), 5)[:nb]
    start_phase = np.cumsum(f0 * (BLOCK / sr)) - f0 * (BLOCK / sr)
    start_phase = (start_phase - np.floor(start_phase)).astype(np.float32)

    # --- excitation, per sample: sawtooth at F0 (phase continuous) + noise ---
    step = (f0 / sr).astype(np.float32)
    saw = start_phase[:, None] + step[:, None] * np.arange(BLOCK, dtype=np.float32)
    np.subtract(saw, 1.0, out=saw, where=saw >= 1.0)
    saw *= 2.0
    saw -= 1.0
    noise = rng.random((nb, BLOCK), dtype=np.float32)
    noise -= 0.5
    voiced_gain = (a_vow * shimmer + a_son).astype(np.float32)
    noise_gain = ((a_vow * (voice.breathiness * 2.0) + a_noise) * np.sqrt(12.0)).astype(np.float32)
    buffer = np.zeros(n + 2 * HOP + (-n) % HOP, dtype=np.float32)
    exc = buffer[HOP : HOP + n].reshape(nb, BLOCK)
    np.multiply(saw, voiced_gain[:, None], out=exc)
    noise *= noise_gain[:, None]
    exc += noise

    # --- per-syllable spectral envelopes (cascade formants; consonant bands) ---
    vt = voice.vt_scale
    table = np.array([v[1:] for v in VOWELS], dtype=float)[vowel]  # (n_syl, 3)
    f123 = table * vt * np.array(voice.formant_dev) * rng.normal(1.0, 0.03, (n_syl, 3))
    formants = np.concatenate([f123, np.broadcast_to(_F45 * vt, (n_syl, 2))], axis=1)
    bws = _BANDWIDTHS * voice.bandwidth_scale * rng.uniform(0.9, 1.1, (n_syl, 5))
    h_vow = np.prod(_resonance(FREQS, formants, bws), axis=1) / 8.0  # (n_syl, bins)
    safe = np.maximum(cons, 0)
    band = _resonance(FREQS, _C_CENTRE[safe] * vt * rng.uniform(0.9, 1.1, n_syl), _C_BW[safe]) ** 2
    band /= band.max(axis=1, keepdims=True)
    h_con = np.where((ckind == _ASP)[:, None], h_vow, band)
    tilt = (np.maximum(FREQS, 60.0) / 500.0) ** (voice.tilt_db_per_octave / 6.02)
    shape = tilt if eq is None else tilt * eq
    h_vow = (h_vow * shape).astype(np.float32)
    h_diff = (h_con * shape).astype(np.float32) - h_vow

    # --- STFT-domain filtering: frame envelope = vowel/consonant mix at the frame centre ---
    n_frames = (len(buffer) - N_FFT) // HOP + 1
    frames = np.lib.stride_tricks.sliding_window_view(buffer, N_FFT)[::HOP] * _WINDOW
    spectrum = scipy.fft.rfft(frames, axis=1)
    at = np.minimum(np.arange(n_frames) * per_frame, nb - 1)
    voiced_power = a_vow[at] ** 2
    other_power = (a_son[at] + a_noise[at]) ** 2
    mix = np.where(voiced_power + other_power > 0, other_power / (voiced_power + other_power + 1e-12), 0.0)
    fs = syl[at]
    envelope = h_diff[fs]
    envelope *= mix.astype(np.float32)[:, None]
    envelope += h_vow[fs]
    spectrum *= envelope
    out = scipy.fft.irfft(spectrum, n=N_FFT, axis=1)
    out *= _WINDOW
    ola = np.zeros((n_frames + 1, HOP), dtype=np.float32)
    ola[:-1] += out[:, :HOP]
    ola[1:] += out[:, HOP:]
    audio = ola.ravel()[HOP : HOP + n]
    if len(plans) == 1:
        audio = audio[: int(segment_samples[0])]
    else:
        starts = np.cumsum([0, *seg_blocks[:-1]]) * BLOCK
        audio = np.concatenate([audio[s : s + int(m)] for s, m in zip(starts, segment_samples, strict=True)])
    audio = audio * np.float32(0.1 / (_rms(audio) + 1e-9))

    syllables = [[(int(c), int(v)) for c, v in zip(p["cons"], p["vowel"], strict=True)] for p in plans]
    return Rendered(audio=audio, syllables=syllables)


def _background(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS coloured noise: uniform white noise through a random one-pole low-pass."""
    pole = np.float32(rng.uniform(0.0, 0.97))
    white = rng.random(n, dtype=np.float32)
    white -= 0.5
    noise = scipy.signal.lfilter(np.float32([1.0]), np.float32([1.0, -pole]), white)
    return noise * np.float32(1.0 / (_rms(noise) + 1e-12))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(float(np.dot(x, x)) / max(len(x), 1)))


def _db(x: float) -> float:
    return float(10.0 ** (x / 20.0))


def _finish(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply a small random gain and keep the peak below full scale."""
    audio = audio * np.float32(_db(rng.uniform(-4.0, 2.0)))
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.99:
        audio = audio * np.float32(0.99 / peak)
    return audio.astype(np.float32, copy=False)


def _text(syllables: Iterable[tuple[int, int]], rng: np.random.Generator) -> str:
    """Pseudo words spelled from the synthesised syllables (1-3 syllables a word)."""
    spelled = [(CONSONANTS[c][0] if c >= 0 else "") + VOWELS[v][0] for c, v in syllables]
    words, i = [], 0
    while i < len(spelled):
        k = int(rng.integers(1, 4))
        words.append("".join(spelled[i : i + k]))
        i += k
    return " ".join(words)


def encode_flac(audio: np.ndarray) -> bytes:
    """FLAC bytes (16 kHz, mono, PCM_16) of a float waveform in [-1, 1]."""
    buf = io.BytesIO()
    sf.write(buf, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# LibriSpeech-like rows
# ---------------------------------------------------------------------------------------------


def librispeech_speaker_base(split: str) -> int:
    """First speaker id of ``split``; splits get disjoint ranges of :data:`LS_SPLIT_WIDTH` ids."""
    if split in LS_SPLIT_BASE:
        return LS_SPLIT_BASE[split]
    return 100_000 + (_split_code(split) % 90_000) * LS_SPLIT_WIDTH


def _ls_slot(split: str, i: int, seed: int, n_speakers: int | None) -> tuple[int, int]:
    """(speaker index within the split, utterance number of that speaker) of row ``i``.

    Default: cohorts of 8 new speakers own 80 consecutive rows (10 utterances each, shuffled),
    so a request for n rows has 8 * ceil(n / 80) speakers, about max(8, n // 10), and row i never
    depends on n. With ``n_speakers`` given: rounds of a fresh permutation of all speakers.
    """
    code = _split_code(split)
    if n_speakers is None:
        size = LS_COHORT_SPEAKERS * LS_UTTERANCES_PER_SPEAKER
        cohort, j = divmod(i, size)
        slot = int(_rng(seed, _T_LS_ORDER, code, 0, cohort).permutation(size)[j])
        spk, utt = divmod(slot, LS_UTTERANCES_PER_SPEAKER)
        return cohort * LS_COHORT_SPEAKERS + spk, utt
    rnd, j = divmod(i, n_speakers)
    return int(_rng(seed, _T_LS_ORDER, code, n_speakers, rnd).permutation(n_speakers)[j]), rnd


def librispeech_row(split: str, i: int, seed: int = 0, n_speakers: int | None = None,
                    voice_spread: float = VOICE_SPREAD) -> dict[str, Any]:
    """Row ``i`` of the LibriSpeech-like ``split`` (schema of ``openslr/librispeech_asr``);
    ``voice_spread``: see :func:`speaker_voice`."""
    if n_speakers is not None and not 1 <= n_speakers <= LS_SPLIT_WIDTH:
        raise ConfigError(f"synthetic LibriSpeech: n_speakers must be in 1..{LS_SPLIT_WIDTH}, got {n_speakers}")
    spk_index, utt_no = _ls_slot(split, i, seed, n_speakers)
    if spk_index >= LS_SPLIT_WIDTH:
        raise ConfigError(f"synthetic LibriSpeech split {split!r}: more than {LS_SPLIT_WIDTH} speakers requested")
    speaker_id = librispeech_speaker_base(split) + spk_index
    voice = speaker_voice(seed, "librispeech", speaker_id, voice_spread)
    chapter_id = speaker_id * 10 + utt_no % voice.n_chapters
    chapter = _rng(seed, _T_CHAPTER, chapter_id)
    eq = (np.maximum(FREQS, 60.0) / 1000.0) ** (chapter.uniform(-1.5, 1.5) / 6.02)
    chapter_snr = chapter.uniform(12.0, 28.0)

    rng = _rng(seed, _T_LS_ROW, _split_code(split), i)
    seconds = min(LS_MIN_SECONDS + rng.exponential(LS_MEAN_EXTRA_SECONDS), LS_MAX_SECONDS)
    n = int(round(seconds * SAMPLE_RATE))
    lead, trail = (int(x) for x in rng.uniform(0.1, 0.35, 2) * SAMPLE_RATE)
    rendered = synthesize(
        voice, [n - lead - trail], rng, f0_shift_st=rng.normal(0.0, 1.0), rate_factor=rng.uniform(0.9, 1.1), eq=eq
    )
    speech = rendered.audio * np.float32(_db(voice.loudness_db + rng.normal(0.0, 1.5)))
    audio = np.zeros(n, dtype=np.float32)
    audio[lead : n - trail] = speech
    speech_rms = _rms(speech)
    snr = float(np.clip(chapter_snr + rng.normal(0.0, 3.0), 10.0, 30.0))
    audio += _background(n, rng) * np.float32(speech_rms * _db(-snr))
    audio = _finish(audio, rng)

    utt_id = f"{speaker_id}-{chapter_id}-{utt_no // voice.n_chapters:04d}"
    return {
        "file": f"{speaker_id}/{chapter_id}/{utt_id}.flac",
        "audio": {"bytes": encode_flac(audio), "path": f"{utt_id}.flac"},
        "text": _text(rendered.syllables[0], rng),
        "speaker_id": speaker_id,
        "chapter_id": chapter_id,
        "id": utt_id,
    }


def librispeech_rows(
    split: str, n_utterances: int, seed: int = 0, n_speakers: int | None = None, voice_spread: float = VOICE_SPREAD
) -> Iterator[dict[str, Any]]:
    """Lazily yield ``n_utterances`` LibriSpeech-like rows of ``split``.

    Row i depends only on (seed, split, i) and, when given, ``n_speakers``. By default a split
    of n rows has 8 * ceil(n / 80) speakers (~max(8, n // 10), 10 utterances each); pass
    ``n_speakers`` for a fixed pool with balanced, interleaved utterances.
    """
    for i in range(int(n_utterances)):
        yield librispeech_row(split, i, seed, n_speakers, voice_spread)


# ---------------------------------------------------------------------------------------------
# AMI-like meetings
# ---------------------------------------------------------------------------------------------


def ami_speaker_base(split: str) -> int:
    """First speaker number of ``split``; splits get disjoint ranges of :data:`AMI_SPLIT_WIDTH`."""
    if split in AMI_SPLIT_BASE:
        return AMI_SPLIT_BASE[split]
    return 1000 * (1 + _split_code(split) % 99_000)


def ami_speaker_label(seed: int, number: int) -> str:
    """AMI-style label of speaker ``number``, e.g. "MEE068" (first letter: the voice's population)."""
    voice = speaker_voice(seed, "ami", number)
    letters = _rng(seed, _T_AMI_LABEL, number).choice(["E", "O"], 2)
    return f"{voice.sex}{letters[0]}{letters[1]}{number:03d}"


def _turns(duration: float, n_spk: int, rng: np.random.Generator) -> list[tuple[int, float, float]]:
    """Turn-taking: (speaker index, start, end) sorted by start.

    Turns last 0.4-4 s: 40 % are quick replies or back-channels (0.4-0.9 s) after which the
    previous speaker usually (70 %) takes the floor back, the rest are log-normal (median 1.6 s).
    The next turn starts after a short gap (70 %), a longer silence (10 %) or overlapping the end
    of the current turn (20 %). Speakers talk in proportion to Dirichlet weights; at most two
    people speak at once and nobody overlaps themselves.
    """
    weights = rng.dirichlet(np.full(n_spk, 2.0))
    busy = np.zeros(n_spk)
    turns: list[tuple[int, float, float]] = []
    t = float(rng.uniform(0.2, 1.0))
    current, previous = int(rng.choice(n_spk, p=weights)), -1
    while True:
        short = rng.random() < 0.4
        dur = rng.uniform(0.4, 0.9) if short else np.clip(rng.lognormal(np.log(1.6), 0.5), 0.4, 4.0)
        end = min(t + float(dur), duration - 0.05, t + 0.4 * duration if not turns else duration)
        if end - t < 0.3:
            break
        turns.append((current, t, end))
        busy[current] = end
        r = rng.random()
        if short and previous >= 0 and previous != current and rng.random() < 0.7:
            nxt = previous
        elif rng.random() < 0.9 or len(turns) == 1:  # the second turn always brings a second voice
            w = weights.copy()
            w[current] = 0.0
            nxt = int(rng.choice(n_spk, p=w / w.sum()))
        else:
            nxt = current
        if r < 0.2 and nxt != current:
            start = end - float(rng.uniform(0.15, min(0.6, 0.5 * (end - t))))
        elif r < 0.9:
            start = end + float(rng.uniform(0.05, 0.4))
        else:
            start = end + float(rng.uniform(0.6, 2.0))
        others = [b for s, b in enumerate(busy) if s not in (current, nxt)]
        start = max(start, busy[nxt] + 0.05, *(others or [0.0]))
        previous, current, t = current, nxt, start
    return turns


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching [start, end) spans, sorted."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _room_tail(n_taps: int, rng: np.random.Generator) -> np.ndarray:
    """The reverberant tail of a small room (RT60 0.15-0.4 s, 3-10 % of the direct level)."""
    rt60 = rng.uniform(0.15, 0.4)
    t = np.arange(n_taps) / SAMPLE_RATE
    tail = rng.standard_normal(n_taps) * np.exp(-6.9 * t / rt60)
    tail[: int(0.003 * SAMPLE_RATE)] = 0.0
    return (tail * rng.uniform(0.03, 0.1) / np.sqrt(np.sum(tail**2) + 1e-12)).astype(np.float32)


def ami_meeting(
    split: str, i: int, seed: int = 0, meeting_seconds: float = 60.0, pool_size: int = AMI_POOL_SIZE,
    voice_spread: float = VOICE_SPREAD,
) -> dict[str, Any]:
    """Meeting ``i`` of the AMI-like ``split`` (schema of ``diarizers-community/ami``).

    ``voice_spread`` (see :func:`speaker_voice`) also scales the per-speaker differences of the
    meeting itself (level/distance and pitch offset). With 0 the meeting is one talker with the
    common voice speaking over the union of everybody's turns (an overlap is heard as one voice,
    a turn change as a phrase boundary): nothing in the audio tells the speakers apart."""
    if not 5.0 <= meeting_seconds <= 3600.0:
        raise ConfigError(f"synthetic AMI: meeting_seconds must be in 5..3600, got {meeting_seconds}")
    if not 2 <= pool_size <= AMI_SPLIT_WIDTH:
        raise ConfigError(f"synthetic AMI: pool_size must be in 2..{AMI_SPLIT_WIDTH}, got {pool_size}")
    rng = _rng(seed, _T_AMI_MEETING, _split_code(split), i)
    n_spk = int(rng.choice([2, 3, 4], p=[0.25, 0.35, 0.4])) if pool_size >= 4 else min(pool_size, 3)
    members = ami_speaker_base(split) + np.sort(rng.choice(pool_size, n_spk, replace=False))
    voices = [speaker_voice(seed, "ami", int(m), voice_spread) for m in members]
    labels = [ami_speaker_label(seed, int(m)) for m in members]
    n = int(round(meeting_seconds * SAMPLE_RATE))
    turns = _turns(n / SAMPLE_RATE, n_spk, rng)

    mix = np.zeros(n, dtype=np.float32)
    bounds = [(int(round(s * SAMPLE_RATE)), int(round(e * SAMPLE_RATE))) for _, s, e in turns]
    # voice_spread 0: one talker speaks wherever anybody does (overlaps and turn changes included),
    # so the audio says nothing about who holds the floor; the labels keep the turns
    streams = [(voices[0], _union(bounds))] if voice_spread == 0 else [
        (voice, [b for (spk, _, _), b in zip(turns, bounds, strict=True) if spk == k])
        for k, voice in enumerate(voices)]
    for voice, mine in streams:
        if not mine:
            continue
        shift = voice_spread * rng.normal(0.0, 0.5)
        rendered = synthesize(voice, [e - s for s, e in mine], rng, f0_shift_st=shift)
        gain = np.float32(_db(voice.loudness_db + voice_spread * rng.uniform(-3.0, 2.0)))  # level and distance
        offset = 0
        for s, e in mine:
            mix[s:e] += rendered.audio[offset : offset + e - s] * gain
            offset += e - s
    mix += scipy.signal.oaconvolve(mix, _room_tail(int(0.3 * SAMPLE_RATE), rng))[:n]
    active = np.zeros(n, dtype=bool)
    for s, e in bounds:
        active[s:e] = True
    speech_rms = _rms(mix[active]) if active.any() else 0.01
    mix += _background(n, rng) * np.float32(speech_rms * _db(-rng.uniform(15.0, 30.0)))
    mix = _finish(mix, rng)

    order = np.argsort([s for _, s, _ in turns], kind="stable")
    meeting = f"SYN{_split_code(split) % 10_000:04d}{i:05d}"
    return {
        "audio": {"bytes": encode_flac(mix), "path": f"{meeting}.flac"},
        "timestamps_start": [round(turns[j][1], 3) for j in order],
        "timestamps_end": [round(turns[j][2], 3) for j in order],
        "speakers": [labels[turns[j][0]] for j in order],
    }


def ami_rows(
    split: str, n_meetings: int, seed: int = 0, meeting_seconds: float = 60.0, pool_size: int = AMI_POOL_SIZE,
    voice_spread: float = VOICE_SPREAD,
) -> Iterator[dict[str, Any]]:
    """Lazily yield ``n_meetings`` AMI-like meetings (one row per meeting) of ``split``.

    Meeting i depends only on (seed, split, i, meeting_seconds, pool_size): 2-4 speakers drawn
    from the split's pool of ``pool_size`` speakers, turn-taking with short overlaps and silences.
    """
    for i in range(int(n_meetings)):
        yield ami_meeting(split, i, seed, meeting_seconds, pool_size, voice_spread)


# ---------------------------------------------------------------------------------------------
# parquet files
# ---------------------------------------------------------------------------------------------

_AUDIO_FEATURE = {"sampling_rate": SAMPLE_RATE, "decode": True, "_type": "Audio"}
LIBRISPEECH_FEATURES = {
    "file": {"dtype": "string", "_type": "Value"},
    "audio": _AUDIO_FEATURE,
    "text": {"dtype": "string", "_type": "Value"},
    "speaker_id": {"dtype": "int64", "_type": "Value"},
    "chapter_id": {"dtype": "int64", "_type": "Value"},
    "id": {"dtype": "string", "_type": "Value"},
}
AMI_FEATURES = {
    "audio": _AUDIO_FEATURE,
    "timestamps_start": {"feature": {"dtype": "float64", "_type": "Value"}, "_type": "List"},
    "timestamps_end": {"feature": {"dtype": "float64", "_type": "Value"}, "_type": "List"},
    "speakers": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
}


def arrow_schema(dataset: str):  # -> pyarrow.Schema
    """The pyarrow schema of a LibriSpeech or AMI parquet file, with the HF features metadata."""
    import pyarrow as pa

    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    if dataset == "librispeech":
        fields = [
            ("file", pa.string()),
            ("audio", audio),
            ("text", pa.string()),
            ("speaker_id", pa.int64()),
            ("chapter_id", pa.int64()),
            ("id", pa.string()),
        ]
        features = LIBRISPEECH_FEATURES
    elif dataset == "ami":
        fields = [
            ("audio", audio),
            ("timestamps_start", pa.list_(pa.float64())),
            ("timestamps_end", pa.list_(pa.float64())),
            ("speakers", pa.list_(pa.string())),
        ]
        features = AMI_FEATURES
    else:
        raise ConfigError(f"unknown dataset {dataset!r}: use 'librispeech' or 'ami'")
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=meta)


def write_parquet(path: Path | str, rows: Iterable[dict[str, Any]], dataset: str, rows_per_group: int = 64) -> Path:
    """Stream ``rows`` into a parquet file (atomically), ``rows_per_group`` rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(dataset)

    def write(f) -> None:
        with pq.ParquetWriter(f, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= rows_per_group:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))

    return atomic_write_with(path, write)


# enough rows for the demo preset's windows (384 train / 128 val per arm; ~12 windows per meeting)
DEFAULT_LIBRISPEECH = {"train.360": 400, "validation": 130, "test": 130}  # test: new speakers
DEFAULT_AMI = {"train": 36, "validation": 14, "test": 14}  # test: new meetings


def write_corpus(
    out: Path | str,
    seed: int = 0,
    librispeech: dict[str, int] | None = None,
    ami: dict[str, int] | None = None,
    *,
    meeting_seconds: float = 60.0,
) -> dict[str, Path]:
    """Write ``<out>/librispeech/<split>.parquet`` and ``<out>/ami/<split>.parquet``.

    ``librispeech`` maps split -> utterances (default :data:`DEFAULT_LIBRISPEECH`), ``ami`` maps
    split -> meetings of ``meeting_seconds`` (default :data:`DEFAULT_AMI`); pass ``{}`` to skip a
    corpus. Each file is streamed (bounded memory) and written atomically. Returns
    ``{"librispeech/<split>": path, ..., "ami/<split>": path, ...}``.
    """
    out = Path(out)
    jobs = [
        ("librispeech", DEFAULT_LIBRISPEECH if librispeech is None else librispeech),
        ("ami", DEFAULT_AMI if ami is None else ami),
    ]
    for dataset, splits in jobs:
        for split, count in splits.items():
            check_name(split, f"{dataset} split name")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigError(f"synthetic {dataset} split {split!r}: count must be an integer >= 0, got {count!r}")
    paths: dict[str, Path] = {}
    for split, count in jobs[0][1].items():
        rows = librispeech_rows(split, count, seed)
        paths[f"librispeech/{split}"] = write_parquet(out / "librispeech" / f"{split}.parquet", rows, "librispeech")
    for split, count in jobs[1][1].items():
        rows = ami_rows(split, count, seed, meeting_seconds)
        paths[f"ami/{split}"] = write_parquet(out / "ami" / f"{split}.parquet", rows, "ami", rows_per_group=8)
    return paths


def realtime_factor(seconds: float = 200.0, seed: int = 0) -> dict[str, float]:
    """Measure synthesis speed on this core: seconds of audio per second of compute.

    ``synth`` times :func:`synthesize` alone; ``rows`` times whole LibriSpeech-like rows
    (synthesis, noise and FLAC encoding).
    """
    import time

    voices = [speaker_voice(seed, "librispeech", 900_000 + k) for k in range(8)]
    rng = _rng(seed, 99)
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
