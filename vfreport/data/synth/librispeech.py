"""LibriSpeech-like utterances (``openslr/librispeech_asr`` schema), speaker-disjoint splits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.synth.render import FREQS, background_noise, db, encode_flac, finish_audio, rms, spelling, synthesize
from vfreport.data.synth.streams import T_CHAPTER, T_LS_ORDER, T_LS_ROW, split_code, stream
from vfreport.data.synth.voices import VOICE_SPREAD, speaker_voice
from vfreport.errors import ConfigError

LS_MIN_SECONDS, LS_MAX_SECONDS, LS_MEAN_EXTRA_SECONDS = 2.0, 15.0, 2.2
LS_COHORT_SPEAKERS, LS_UTTERANCES_PER_SPEAKER = 8, 10
LS_SPLIT_WIDTH = 10_000
LS_SPLIT_BASE = {"train.100": 10_000, "train.360": 20_000, "train.500": 30_000, "validation": 40_000, "test": 50_000}


def librispeech_speaker_base(split: str) -> int:
    """First speaker id of ``split``; splits get disjoint ranges of :data:`LS_SPLIT_WIDTH` ids."""
    if split in LS_SPLIT_BASE:
        return LS_SPLIT_BASE[split]
    return 100_000 + (split_code(split) % 90_000) * LS_SPLIT_WIDTH


def _ls_slot(split: str, i: int, seed: int, n_speakers: int | None) -> tuple[int, int]:
    """(speaker index within the split, utterance number of that speaker) of row ``i``.

    Default: cohorts of 8 new speakers own 80 consecutive rows (10 utterances each, shuffled),
    so a request for n rows has 8 * ceil(n / 80) speakers, about max(8, n // 10), and row i never
    depends on n. With ``n_speakers`` given: rounds of a fresh permutation of all speakers.
    """
    code = split_code(split)
    if n_speakers is None:
        size = LS_COHORT_SPEAKERS * LS_UTTERANCES_PER_SPEAKER
        cohort, j = divmod(i, size)
        slot = int(stream(seed, T_LS_ORDER, code, 0, cohort).permutation(size)[j])
        spk, utt = divmod(slot, LS_UTTERANCES_PER_SPEAKER)
        return cohort * LS_COHORT_SPEAKERS + spk, utt
    rnd, j = divmod(i, n_speakers)
    return int(stream(seed, T_LS_ORDER, code, n_speakers, rnd).permutation(n_speakers)[j]), rnd


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
    chapter = stream(seed, T_CHAPTER, chapter_id)
    eq = (np.maximum(FREQS, 60.0) / 1000.0) ** (chapter.uniform(-1.5, 1.5) / 6.02)
    chapter_snr = chapter.uniform(12.0, 28.0)

    rng = stream(seed, T_LS_ROW, split_code(split), i)
    seconds = min(LS_MIN_SECONDS + rng.exponential(LS_MEAN_EXTRA_SECONDS), LS_MAX_SECONDS)
    n = int(round(seconds * SAMPLE_RATE))
    lead, trail = (int(x) for x in rng.uniform(0.1, 0.35, 2) * SAMPLE_RATE)
    rendered = synthesize(
        voice, [n - lead - trail], rng, f0_shift_st=rng.normal(0.0, 1.0), rate_factor=rng.uniform(0.9, 1.1), eq=eq
    )
    speech = rendered.audio * np.float32(db(voice.loudness_db + rng.normal(0.0, 1.5)))
    audio = np.zeros(n, dtype=np.float32)
    audio[lead : n - trail] = speech
    speech_rms = rms(speech)
    snr = float(np.clip(chapter_snr + rng.normal(0.0, 3.0), 10.0, 30.0))
    audio += background_noise(n, rng) * np.float32(speech_rms * db(-snr))
    audio = finish_audio(audio, rng)

    utt_id = f"{speaker_id}-{chapter_id}-{utt_no // voice.n_chapters:04d}"
    return {
        "file": f"{speaker_id}/{chapter_id}/{utt_id}.flac",
        "audio": {"bytes": encode_flac(audio), "path": f"{utt_id}.flac"},
        "text": spelling(rendered.syllables[0], rng),
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
