"""Error clips as embedded audio players (docs/review.md).

A clip (:class:`vfreport.report.drilldown.Clip`, 16 kHz mono, at most 4 s) is downsampled to
:data:`EMBED_RATE` (8 kHz, telephone band: enough to hear who speaks, half the bytes) with a
polyphase filter (``scipy.signal.resample_poly``), peak-normalised and encoded as a 16-bit PCM WAV
by ``IPython.display.Audio``, embedded as a ``data:`` URI: the executed notebook and the HTML
report play it with no file and no network. One 4-s clip is 64 kB of WAV, about 85 kB in base64.
"""

from __future__ import annotations

import numpy as np

from vfreport.data.audio import SAMPLE_RATE
from vfreport.report.drilldown import Clip

EMBED_RATE = 8000
"""Sample rate of embedded clips (Hz)."""


def embed_samples(clip: Clip, rate: int = EMBED_RATE) -> np.ndarray:
    """The clip's samples at ``rate`` (polyphase resampling from 16 kHz)."""
    from math import gcd

    from scipy.signal import resample_poly

    x = np.asarray(clip.samples, dtype=np.float64)
    if rate == SAMPLE_RATE or len(x) == 0:
        return x
    g = gcd(rate, SAMPLE_RATE)
    return resample_poly(x, rate // g, SAMPLE_RATE // g)


def player(clip: Clip, rate: int = EMBED_RATE):  # -> IPython.display.Audio
    """An embedded audio player for ``clip`` (16-bit WAV at ``rate``, peak-normalised)."""
    from IPython.display import Audio

    x = embed_samples(clip, rate)
    if len(x) == 0 or not np.any(x):
        x = np.zeros(max(len(x), 1))  # silence: IPython cannot normalise all-zero audio
        return Audio(data=x, rate=rate, normalize=False)
    return Audio(data=x, rate=rate)


def wav_bytes(player_: object) -> int:
    """Size of a player's embedded WAV (bytes, before base64)."""
    data = getattr(player_, "data", None)
    return len(data) if isinstance(data, bytes | bytearray) else 0


__all__ = ["EMBED_RATE", "embed_samples", "player", "wav_bytes"]
