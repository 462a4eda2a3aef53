"""Speech detection for ``vfreport predict`` (docs/pipeline.md): which model frames hold speech.

Two detectors, named by :attr:`SpeechSettings.detector`:

- ``"silero"`` (default): Silero VAD v6 (PyPI ``silero-vad``, MIT), a learned detector whose ONNX
  weights ship inside the wheel. It is run offline through the package's torch-free *sequence*
  ONNX front-end (``silero_vad.sequence_vad.SileroVADSequence``: one ONNX Runtime call per ~16 s
  block, bit-exact with the streaming model), one speech probability per 32 ms; the package's own
  hysteresis (``get_speech_timestamps_from_probs``: onset, offset, minimum speech and silence
  durations, padding) turns them into speech regions. No torchaudio, no download.
- ``"energy"``: the fallback, :func:`vfreport.data.spectral.energy_speech` (frames 6 dB above the
  recording's quietest tenth), kept for comparison with the pipeline before the learned detector.

Why Silero rather than pyannote's segmentation or webrtcvad: its weights ship in a registry wheel
(nothing fetched at run time), it runs ≈ 170× faster than real time on one core, and it is a
maintained, widely used model; webrtcvad is a GMM from 2011. Its thresholds default to the
package's rule (offset = onset − 0.15) but the onset is :data:`DEFAULT_ONSET` (0.25, the
package says 0.5): on the quiet AMI excerpts of the test data (≈ −41 dBFS) a lower onset recovers
missed speech (docs/pipeline.md gives the calibration and its check).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from vfreport.data.audio import AudioSource, as_source
from vfreport.data.geometry import FrameGeometry
from vfreport.data.spectral import energy_speech, power_frames
from vfreport.errors import ConfigError

DETECTORS = ("silero", "energy")
SILERO_RATE = 16_000
DEFAULT_ONSET = 0.25
"""Silero probability at which speech starts (the package's default is 0.5). With
:data:`DEFAULT_PAD`, the pair with the lowest speech detection error (missed + false alarm) on ten
real AMI excerpts, checked on four others (``vfreport bench --only calibration``, docs/pipeline.md)."""
DEFAULT_PAD = 0.3
"""Seconds added on each side of a speech region (the package's default is 0.03): Silero's regions
clip the quiet onsets and ends of words on the AMI excerpts (≈ −41 dBFS), and the references' turns
run on through short pauses. Calibrated with :data:`DEFAULT_ONSET` (detection error 11.0 % on the
calibration recordings, 9.7 % on the check recordings, against 13.3 % and 14.9 % at the earlier
0.1 s; docs/pipeline.md)."""


@dataclass(frozen=True)
class SpeechSettings:
    """Named settings of the speech detector (CLI: ``--vad``, ``--vad-onset``, ...).

    ``onset``: probability at which speech starts; ``offset``: below which it ends (None: onset −
    0.15, Silero's rule); ``min_speech`` / ``min_silence``: shortest kept speech region and shortest
    pause that ends one (seconds); ``pad``: seconds added on each side of a region. ``energy_margin_db``
    applies to the energy fallback only."""

    detector: str = "silero"
    onset: float = DEFAULT_ONSET
    offset: float | None = None
    min_speech: float = 0.25
    min_silence: float = 0.1
    pad: float = DEFAULT_PAD
    energy_margin_db: float = 6.0

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ConfigError(f"unknown speech detector {self.detector!r}: choose one of {', '.join(DETECTORS)}")
        if not 0.0 < self.onset < 1.0:
            raise ConfigError(f"vad onset {self.onset} must be in (0, 1)")
        if self.offset is not None and not 0.0 < self.offset <= self.onset:
            raise ConfigError(f"vad offset {self.offset} must be in (0, onset={self.onset}]")
        if min(self.min_speech, self.min_silence, self.pad) < 0:
            raise ConfigError("vad durations (min speech, min silence, pad) must be >= 0 seconds")


@functools.lru_cache(maxsize=1)
def silero_model():  # -> silero_vad.sequence_vad.SileroVADSequence
    """Silero VAD's sequence ONNX model from the installed wheel (loaded once per process).

    ``import silero_vad`` calls ``torch.set_num_threads(1)`` as a side effect; the previous thread
    count is restored so the diarization model keeps its threads."""
    import warnings

    import torch

    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad
    finally:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():  # its importlib.resources.path() deprecation warning
        warnings.simplefilter("ignore", DeprecationWarning)
        return load_silero_vad(sequence=True)


SILERO_FRAME, SILERO_CONTEXT = 512, 64
"""Samples per Silero probability at 16 kHz, and the previous frame's tail each frame is prefixed with."""
SILERO_BLOCK_FRAMES = 512
"""Frames per ONNX call (≈ 16 s), the package's own block (``silero_vad.sequence_vad.DEFAULT_MAX_FRAMES``)."""


def silero_probabilities(audio: np.ndarray | AudioSource) -> np.ndarray:
    """Silero's speech probability for every 512-sample (32 ms) frame of 16 kHz ``audio``.

    The package's ``SileroVADSequence.audio_forward`` loop (frames prefixed with the previous
    frame's last 64 samples, the LSTM state carried from block to block, the last frame
    zero-padded), reading one ≈ 16-s block at a time from ``audio``: the same ONNX calls on the
    same inputs, so the same probabilities, in memory O(block) whatever the length."""
    source = as_source(audio)
    n_frames = -(-source.n_samples // SILERO_FRAME)
    session = silero_model().session
    hidden = np.zeros((1, 1, 128), dtype=np.float32)
    cell = np.zeros((1, 1, 128), dtype=np.float32)
    context = np.zeros(SILERO_CONTEXT, dtype=np.float32)
    out = np.empty(n_frames, dtype=np.float32)
    for f0 in range(0, n_frames, SILERO_BLOCK_FRAMES):
        k = min(SILERO_BLOCK_FRAMES, n_frames - f0)
        samples = source.read(f0 * SILERO_FRAME, (f0 + k) * SILERO_FRAME)
        frames = np.zeros((k, SILERO_FRAME), dtype=np.float32)
        frames.reshape(-1)[: len(samples)] = samples
        contexts = np.empty((k, SILERO_CONTEXT), dtype=np.float32)
        contexts[0] = context
        contexts[1:] = frames[:-1, -SILERO_CONTEXT:]
        context = frames[-1, -SILERO_CONTEXT:].copy()
        values, hidden, cell = session.run(["speech_probs", "hn", "cn"],
                                           {"input": np.concatenate((contexts, frames), axis=1), "h": hidden,
                                            "c": cell})
        out[f0 : f0 + k] = np.asarray(values).reshape(-1)
    return out


def regions_from_probabilities(probs: np.ndarray, n_samples: int, settings: SpeechSettings) -> list[tuple[int, int]]:
    """Speech regions ``[start, stop)`` in samples from Silero's per-frame probabilities, by the
    package's own hysteresis rule (``silero_vad.utils_vad.get_speech_timestamps_from_probs``)."""
    from silero_vad.utils_vad import get_speech_timestamps_from_probs

    stamps = get_speech_timestamps_from_probs(
        [float(p) for p in probs], sampling_rate=SILERO_RATE, threshold=settings.onset,
        neg_threshold=settings.offset, min_speech_duration_ms=int(round(settings.min_speech * 1000)),
        min_silence_duration_ms=int(round(settings.min_silence * 1000)),
        speech_pad_ms=int(round(settings.pad * 1000)), audio_length_samples=n_samples)
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def regions_to_frames(regions: list[tuple[int, int]], n_frames: int, geometry: FrameGeometry) -> np.ndarray:
    """Boolean mask of the model frames whose centre lies in a region (sample coordinates)."""
    centres = np.arange(n_frames) * geometry.hop + geometry.n_fft / 2
    mask = np.zeros(n_frames, dtype=bool)
    for a, b in regions:
        mask[np.searchsorted(centres, a, "left") : np.searchsorted(centres, b, "left")] = True
    return mask


ENERGY_BLOCK_FRAMES = 65_536
"""Model frames whose energies are computed at once (≈ 17 min at 16 ms)."""


def frame_energy_db(audio: np.ndarray | AudioSource, geometry: FrameGeometry,
                    block: int = ENERGY_BLOCK_FRAMES) -> np.ndarray:
    """Energy (dB) of every model frame, computed ``block`` frames at a time from ``audio``."""
    source = as_source(audio)
    n_frames = geometry.num_frames(source.n_samples)
    out = np.empty(n_frames)
    for f0 in range(0, n_frames, block):
        f1 = min(n_frames, f0 + block)
        power = power_frames(source.read(f0 * geometry.hop, (f1 - 1) * geometry.hop + geometry.n_fft), geometry)
        out[f0:f1] = 10 * np.log10(power.sum(axis=1) + 1e-10)
    return out


def detect_speech(audio: np.ndarray | AudioSource, geometry: FrameGeometry,
                  settings: SpeechSettings | None = None) -> np.ndarray:
    """Which of the recording's model frames hold speech, by ``settings.detector`` (see module doc).

    ``audio``: an array, or an :class:`~vfreport.data.audio.AudioSource` read block by block."""
    settings = settings or SpeechSettings()
    source = as_source(audio)
    n_frames = geometry.num_frames(source.n_samples)
    if settings.detector == "energy":
        return energy_speech(frame_energy_db(source, geometry), settings.energy_margin_db)
    if geometry.sample_rate != SILERO_RATE:
        raise ConfigError(f"the silero detector needs 16 kHz audio; the model runs at {geometry.sample_rate} Hz "
                          "(use --vad energy)")
    regions = regions_from_probabilities(silero_probabilities(source), source.n_samples, settings)
    return regions_to_frames(regions, n_frames, geometry)
