"""Seeded random streams: every synthetic draw comes from (seed, tags...), so rows are reproducible
one by one and splits never share a stream."""

from __future__ import annotations

import zlib

import numpy as np


def split_code(split: str) -> int:
    return zlib.crc32(split.encode("utf-8"))


def stream(seed: int, *words: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *(int(w) for w in words)])



# random-stream tags (SeedSequence entropy words): change one and every corpus changes
T_VOICE, T_LS_ROW, T_LS_ORDER, T_CHAPTER, T_AMI_MEETING, T_AMI_LABEL = 11, 12, 13, 14, 15, 16
CORPUS_CODE = {"librispeech": 1, "ami": 2}
