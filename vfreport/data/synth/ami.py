"""AMI-like meetings (``diarizers-community/ami`` schema): 2-4 speakers, turns, overlaps, silences."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.fft
import scipy.signal

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.synth.render import background_noise, db, encode_flac, finish_audio, rms, synthesize
from vfreport.data.synth.streams import T_AMI_LABEL, T_AMI_MEETING, split_code, stream
from vfreport.data.synth.voices import VOICE_SPREAD, speaker_voice
from vfreport.errors import ConfigError

AMI_POOL_SIZE = 40
AMI_SPLIT_WIDTH = 300
AMI_SPLIT_BASE = {"train": 0, "validation": 400, "test": 700}



def ami_speaker_base(split: str) -> int:
    """First speaker number of ``split``; splits get disjoint ranges of :data:`AMI_SPLIT_WIDTH`."""
    if split in AMI_SPLIT_BASE:
        return AMI_SPLIT_BASE[split]
    return 1000 * (1 + split_code(split) % 99_000)


def ami_speaker_label(seed: int, number: int) -> str:
    """AMI-style label of speaker ``number``, e.g. "MEE068" (first letter: the voice's population)."""
    voice = speaker_voice(seed, "ami", number)
    letters = stream(seed, T_AMI_LABEL, number).choice(["E", "O"], 2)
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
    common voice speaking from start to end, with its own pauses, whatever the turns: the audio is
    independent of the labels, so it tells neither who holds the floor nor when the floor changes
    (a turn change, a gap or an overlap in the reference is not heard). That is the null of a
    known-answer test: a model can gain nothing over the audio-free baselines on it."""
    if not 5.0 <= meeting_seconds <= 3600.0:
        raise ConfigError(f"synthetic AMI: meeting_seconds must be in 5..3600, got {meeting_seconds}")
    if not 2 <= pool_size <= AMI_SPLIT_WIDTH:
        raise ConfigError(f"synthetic AMI: pool_size must be in 2..{AMI_SPLIT_WIDTH}, got {pool_size}")
    rng = stream(seed, T_AMI_MEETING, split_code(split), i)
    n_spk = int(rng.choice([2, 3, 4], p=[0.25, 0.35, 0.4])) if pool_size >= 4 else min(pool_size, 3)
    members = ami_speaker_base(split) + np.sort(rng.choice(pool_size, n_spk, replace=False))
    voices = [speaker_voice(seed, "ami", int(m), voice_spread) for m in members]
    labels = [ami_speaker_label(seed, int(m)) for m in members]
    n = int(round(meeting_seconds * SAMPLE_RATE))
    turns = _turns(n / SAMPLE_RATE, n_spk, rng)

    mix = np.zeros(n, dtype=np.float32)
    bounds = [(int(round(s * SAMPLE_RATE)), int(round(e * SAMPLE_RATE))) for _, s, e in turns]
    # voice_spread 0: one talker speaks throughout, so the audio says nothing about who holds the floor
    # or when it changes (the union of the turns would still mark a change by its gap); labels keep the turns
    streams = [(voices[0], [(0, n)])] if voice_spread == 0 else [
        (voice, [b for (spk, _, _), b in zip(turns, bounds, strict=True) if spk == k])
        for k, voice in enumerate(voices)]
    for voice, mine in streams:
        if not mine:
            continue
        shift = voice_spread * rng.normal(0.0, 0.5)
        rendered = synthesize(voice, [e - s for s, e in mine], rng, f0_shift_st=shift)
        gain = np.float32(db(voice.loudness_db + voice_spread * rng.uniform(-3.0, 2.0)))  # level and distance
        offset = 0
        for s, e in mine:
            mix[s:e] += rendered.audio[offset : offset + e - s] * gain
            offset += e - s
    mix += scipy.signal.oaconvolve(mix, _room_tail(int(0.3 * SAMPLE_RATE), rng))[:n]
    active = np.zeros(n, dtype=bool)
    for s, e in bounds:
        active[s:e] = True
    speech_rms = rms(mix[active]) if active.any() else 0.01
    mix += background_noise(n, rng) * np.float32(speech_rms * db(-rng.uniform(15.0, 30.0)))
    mix = finish_audio(mix, rng)

    order = np.argsort([s for _, s, _ in turns], kind="stable")
    meeting = f"SYN{split_code(split) % 10_000:04d}{i:05d}"
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
