"""The source-filter synthesiser: syllable plans, excitation, formant filtering in the STFT
domain, background noise, FLAC encoding (vectorised numpy, no per-sample Python loop)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal
import soundfile as sf

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.synth.voices import Voice

N_FFT = 512
HOP = N_FFT // 2
BLOCK = 16  # samples per 1-ms block: the grid of envelopes, F0 and the syllable plan
FREQS = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
_WINDOW = np.sin(np.pi * np.arange(N_FFT) / N_FFT).astype(np.float32)  # sqrt of a periodic Hann

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


@dataclass
class _Plan:
    """The syllable plan of all segments on the 1-ms grid: pieces (consonant, vowel, pause) and, per
    block, its piece's position, kind and syllable."""

    plans: list[dict[str, np.ndarray]]
    seg_blocks: list[int]
    lens: np.ndarray  # blocks per piece
    cons: np.ndarray  # per syllable: consonant index or -1
    vowel: np.ndarray  # per syllable: vowel index
    syl_offsets: np.ndarray  # first syllable of each segment
    pos: np.ndarray  # per block: blocks since its piece started
    plen: np.ndarray  # per block: its piece's length
    pkind: np.ndarray  # per block: its piece's kind
    syl: np.ndarray  # per block: its syllable

    @property
    def n_syl(self) -> int:
        return len(self.vowel)

    @property
    def nb(self) -> int:
        return len(self.pos)


def _plan(voice: Voice, segment_samples: Sequence[int], rate: float, rng: np.random.Generator) -> _Plan:
    seg_blocks = [max(1, -(-int(n) // BLOCK)) for n in segment_samples]
    plans = [_plan_segment(voice, nb, rate, rng) for nb in seg_blocks]
    lens = np.concatenate([p["lens"] for p in plans])
    kinds = np.concatenate([p["kinds"] for p in plans])
    syl_offsets = np.cumsum([0] + [len(p["vowel"]) for p in plans])
    piece_syl = np.concatenate([np.arange(len(p["kinds"])) // 3 + o for p, o in zip(plans, syl_offsets, strict=False)])
    nb = int(lens.sum())
    piece = np.repeat(np.arange(len(lens)), lens)
    pos = np.arange(nb, dtype=np.float32) - (np.cumsum(lens) - lens)[piece].astype(np.float32)
    plen = np.maximum(lens, 1).astype(np.float32)[piece]
    return _Plan(plans, seg_blocks, lens, np.concatenate([p["cons"] for p in plans]),
                 np.concatenate([p["vowel"] for p in plans]), syl_offsets, pos, plen, kinds[piece], piece_syl[piece])


@dataclass
class _Envelopes:
    """Amplitude envelopes on the 1-ms grid (per block) and the per-syllable stress and consonant kind."""

    a_vow: np.ndarray
    a_son: np.ndarray
    a_noise: np.ndarray
    shimmer: np.ndarray
    stress: np.ndarray
    ckind: np.ndarray


def _envelopes(voice: Voice, p: _Plan, rng: np.random.Generator) -> _Envelopes:
    pos, plen, pkind, syl, cons = p.pos, p.plen, p.pkind, p.syl, p.cons
    ckind = np.where(cons >= 0, _C_KIND[np.maximum(cons, 0)], -1)
    bkind = np.where(pkind == _PIECE_CONS, ckind[syl], -1)
    stress = np.clip(rng.normal(0.0, 1.0, p.n_syl), -2.0, 2.0)
    syl_amp = np.exp(0.2 * stress + voice.shimmer * rng.normal(0.0, 1.0, p.n_syl)).astype(np.float32)
    ms = SAMPLE_RATE / BLOCK / 1000.0  # blocks per millisecond
    smooth_env = _ramp(pos / np.minimum(0.3 * plen, 20 * ms)) * _ramp((plen - pos) / np.minimum(0.4 * plen, 40 * ms))
    frac = pos / plen
    fric_env = _ramp(np.minimum(frac, 1.0 - frac) * 4.0)
    stop_env = np.where(frac > 0.6, np.exp(-(frac - 0.6) * plen / (12 * ms)), 0.0).astype(np.float32)
    con_level = np.where(cons >= 0, _C_LEVEL[np.maximum(cons, 0)], 0.0).astype(np.float32)[syl]
    a_vow = np.where(pkind == _PIECE_VOWEL, smooth_env, 0.0) * syl_amp[syl]
    a_son = np.where(bkind == _SON, smooth_env, 0.0) * con_level
    a_noise = np.select([bkind == _FRIC, bkind == _STOP, bkind == _ASP], [fric_env, stop_env, fric_env], 0.0)
    a_noise = a_noise * con_level
    shimmer = 1.0 + voice.shimmer * 0.5 * np.repeat(rng.normal(0.0, 1.0, p.nb // 5 + 1), 5)[:p.nb]
    return _Envelopes(a_vow, a_son, a_noise, shimmer, stress, ckind)


def _f0(voice: Voice, p: _Plan, stress: np.ndarray, f0_shift_st: float, rng: np.random.Generator) -> np.ndarray:
    """F0 per block: phrase declination + pitch accents + slow wander, jitter every 5 ms."""
    nb, n_syl = p.nb, p.n_syl
    phrase_end = np.concatenate([q["pause"] for q in p.plans]) > 0.08
    phrase_end[p.syl_offsets[1:] - 1] = True
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
    st_frame = _smooth(st_syl[p.syl[centres]], 7) + _smooth(rng.normal(0.0, 0.6, n_frames), 15)
    f0_frame = np.clip(voice.f0_hz * 2.0 ** ((st_frame + f0_shift_st) / 12.0), 55.0, 420.0)
    f0 = np.interp(np.arange(nb), centres, f0_frame)
    f0 *= np.repeat(1.0 + voice.jitter * rng.normal(0.0, 1.0, nb // 5 + 1), 5)[:nb]
    return f0


def _excitation(voice: Voice, f0: np.ndarray, env: _Envelopes, rng: np.random.Generator) -> np.ndarray:
    """Per sample: a sawtooth at F0 (phase continuous) + noise, in a buffer padded by :data:`HOP` for the STFT."""
    nb = len(f0)
    n = nb * BLOCK
    start_phase = np.cumsum(f0 * (BLOCK / SAMPLE_RATE)) - f0 * (BLOCK / SAMPLE_RATE)
    start_phase = (start_phase - np.floor(start_phase)).astype(np.float32)
    step = (f0 / SAMPLE_RATE).astype(np.float32)
    saw = start_phase[:, None] + step[:, None] * np.arange(BLOCK, dtype=np.float32)
    np.subtract(saw, 1.0, out=saw, where=saw >= 1.0)
    saw *= 2.0
    saw -= 1.0
    noise = rng.random((nb, BLOCK), dtype=np.float32)
    noise -= 0.5
    voiced_gain = (env.a_vow * env.shimmer + env.a_son).astype(np.float32)
    noise_gain = ((env.a_vow * (voice.breathiness * 2.0) + env.a_noise) * np.sqrt(12.0)).astype(np.float32)
    buffer = np.zeros(n + 2 * HOP + (-n) % HOP, dtype=np.float32)
    exc = buffer[HOP : HOP + n].reshape(nb, BLOCK)
    np.multiply(saw, voiced_gain[:, None], out=exc)
    noise *= noise_gain[:, None]
    exc += noise
    return buffer


def _spectra(voice: Voice, p: _Plan, ckind: np.ndarray, eq: np.ndarray | None,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-syllable spectral envelopes on :data:`FREQS` (cascade formants; consonant bands): the
    vowel's and the consonant's minus the vowel's."""
    vt, n_syl, cons = voice.vt_scale, p.n_syl, p.cons
    table = np.array([v[1:] for v in VOWELS], dtype=float)[p.vowel]  # (n_syl, 3)
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
    return h_vow, (h_con * shape).astype(np.float32) - h_vow


def _filter(buffer: np.ndarray, p: _Plan, env: _Envelopes, h_vow: np.ndarray, h_diff: np.ndarray) -> np.ndarray:
    """STFT-domain filtering of the excitation: each frame's envelope is the vowel/consonant mix at
    its centre; overlap-added back to ``nb`` blocks of samples."""
    nb, syl = p.nb, p.syl
    per_frame = HOP // BLOCK
    n_frames = (len(buffer) - N_FFT) // HOP + 1
    frames = np.lib.stride_tricks.sliding_window_view(buffer, N_FFT)[::HOP] * _WINDOW
    spectrum = scipy.fft.rfft(frames, axis=1)
    at = np.minimum(np.arange(n_frames) * per_frame, nb - 1)
    voiced_power = env.a_vow[at] ** 2
    other_power = (env.a_son[at] + env.a_noise[at]) ** 2
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
    return ola.ravel()[HOP : HOP + nb * BLOCK]


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
    an RMS of 0.1 (-20 dBFS); callers apply the speaker's loudness. Steps, in the order they draw
    from ``rng``: the syllable plan, envelopes, F0, excitation, spectral envelopes; then filtering.
    """
    p = _plan(voice, segment_samples, voice.syllable_rate * rate_factor, rng)
    env = _envelopes(voice, p, rng)
    f0 = _f0(voice, p, env.stress, f0_shift_st, rng)
    buffer = _excitation(voice, f0, env, rng)
    h_vow, h_diff = _spectra(voice, p, env.ckind, eq, rng)
    audio = _filter(buffer, p, env, h_vow, h_diff)
    if len(p.plans) == 1:
        audio = audio[: int(segment_samples[0])]
    else:
        starts = np.cumsum([0, *p.seg_blocks[:-1]]) * BLOCK
        audio = np.concatenate([audio[s : s + int(m)] for s, m in zip(starts, segment_samples, strict=True)])
    audio = audio * np.float32(0.1 / (rms(audio) + 1e-9))
    syllables = [[(int(c), int(v)) for c, v in zip(q["cons"], q["vowel"], strict=True)] for q in p.plans]
    return Rendered(audio=audio, syllables=syllables)


def background_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS coloured noise: uniform white noise through a random one-pole low-pass."""
    pole = np.float32(rng.uniform(0.0, 0.97))
    white = rng.random(n, dtype=np.float32)
    white -= 0.5
    noise = scipy.signal.lfilter(np.float32([1.0]), np.float32([1.0, -pole]), white)
    return noise * np.float32(1.0 / (rms(noise) + 1e-12))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(float(np.dot(x, x)) / max(len(x), 1)))


def db(x: float) -> float:
    return float(10.0 ** (x / 20.0))


def finish_audio(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply a small random gain and keep the peak below full scale."""
    audio = audio * np.float32(db(rng.uniform(-4.0, 2.0)))
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.99:
        audio = audio * np.float32(0.99 / peak)
    return audio.astype(np.float32, copy=False)


def spelling(syllables: Iterable[tuple[int, int]], rng: np.random.Generator) -> str:
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
