"""Audio decoding with soundfile only: encoded bytes (FLAC, WAV, OGG) -> float32 mono at 16 kHz.

``datasets`` >= 4 decodes audio through torchcodec, which does not load on our stack (docs/data.md),
so every audio column is read with ``Audio(decode=False)`` and its bytes are decoded here.

- :func:`decode_audio` decodes a whole recording (mixing channels down, resampling other rates
  with :func:`scipy.signal.resample_poly`);
- :class:`AudioReader` gives random access to a recording, seeking in the encoded stream when its
  rate is already the target rate, so a 2 s crop of a 15 s FLAC utterance or of a 40 min meeting
  decodes 2 s, not the whole file;
- :func:`read_audio_file` reads a file from disk;
- :class:`AudioFile` reads any stretch of a file on disk without decoding the rest (resampled per
  read with enough context that the samples equal the whole-file resampling), so a pass over a
  10-hour recording holds one block, not 2.3 GB (docs/deployment.md).

Every failure (corrupt, truncated, empty or unrecognised audio) raises
:class:`~vfreport.errors.AudioDecodeError` naming ``where`` (the file and row).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.errors import AudioDecodeError

SKIP_INSTEAD_OF_SEEK = 12_000
"""Forward jumps up to this many samples are decoded and dropped instead of sought."""
_INT16_SUBTYPES = ("PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW")


def resample(x: np.ndarray, sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resample float audio ``x`` (samples along axis 0) from ``sr`` to ``target_sr``.

    Polyphase filtering (:func:`scipy.signal.resample_poly`, Kaiser window) with the rational
    factor ``target_sr / sr`` reduced by their gcd; returns float32.
    """
    if sr == target_sr:
        return np.asarray(x, dtype=np.float32)
    g = math.gcd(int(sr), int(target_sr))
    return resample_poly(x, target_sr // g, sr // g, axis=0).astype(np.float32)


def _mono(x: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) -> (n,) float32, channels averaged."""
    if x.ndim == 2:
        x = x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]
    return np.ascontiguousarray(x, dtype=np.float32)


def _wav_truncation(data: bytes, total: int | None = None) -> str | None:
    """If ``data`` is a RIFF/WAVE file whose 'data' chunk is shorter than its header says, say so.

    ``data`` may be the file's first bytes only, ``total`` its full size (default ``len(data)``).
    libsndfile silently shortens such files; the header check makes truncation an error.
    """
    total = len(data) if total is None else total
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"data":
            have = total - pos - 8
            if size not in (0, 0xFFFFFFFF) and have < size:
                return f"truncated WAV: the header announces {size} bytes of samples, the file holds {have}"
            return None
        pos += 8 + size + (size & 1)
    return None


def _open(data: bytes, where: str) -> sf.SoundFile:
    if not data:
        raise AudioDecodeError(f"{where}: empty audio (0 bytes)")
    problem = _wav_truncation(data)
    if problem:
        raise AudioDecodeError(f"{where}: {problem}")
    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioDecodeError(f"{where}: cannot decode audio ({_reason(e)})") from e
    if f.frames <= 0 or f.samplerate <= 0:
        f.close()
        raise AudioDecodeError(f"{where}: empty audio (no samples)")
    return f


def _reason(e: BaseException) -> str:
    msg = str(e)
    # libsndfile names the Python file object ("<_io.BytesIO object at 0x..>"): drop that noise
    if "Error opening" in msg and ":" in msg:
        msg = msg.rsplit(":", 1)[1].strip()
    return msg.strip() or type(e).__name__


def _read(f: sf.SoundFile, n: int, where: str) -> np.ndarray:
    try:
        x = f.read(n, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioDecodeError(f"{where}: corrupt or truncated audio ({_reason(e)})") from e
    if len(x) < n:
        raise AudioDecodeError(f"{where}: truncated audio: expected {n} samples, decoded {len(x)}")
    return x


def decode_audio(data: bytes, where: str, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a whole encoded recording to float32 mono at ``target_sr``.

    Channels are averaged; other sample rates are resampled (:func:`resample`). Raises
    AudioDecodeError naming ``where`` for empty, corrupt, truncated or unrecognised audio.
    """
    with _open(data, where) as f:
        x = _read(f, f.frames, where)
        sr = f.samplerate
    x = _mono(x)
    if not np.all(np.isfinite(x)):
        raise AudioDecodeError(f"{where}: audio contains NaN or infinite samples")
    return resample(x, sr, target_sr)


def read_audio_file(path: Path | str, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read and decode an audio file from disk (see :func:`decode_audio`)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise AudioDecodeError(f"{p}: cannot read audio file: {e.strerror}") from e
    return decode_audio(data, str(p), target_sr)


class AudioSource(Protocol):
    """A recording as float32 mono samples at a fixed rate, read by stretches: an in-memory array
    (:class:`ArrayAudio`) or a file on disk (:class:`AudioFile`)."""

    n_samples: int

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` (clipped to the recording) as float32."""
        ...


class ArrayAudio:
    """An :class:`AudioSource` over a 1-D array already at the wanted rate."""

    def __init__(self, audio: np.ndarray) -> None:
        self.audio = np.asarray(audio, dtype=np.float32)
        self.n_samples = len(self.audio)

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.audio[max(start, 0) : max(stop, 0)]


def as_source(audio: np.ndarray | AudioSource) -> AudioSource:
    """``audio`` as an :class:`AudioSource` (arrays are wrapped, sources returned as they are)."""
    return ArrayAudio(audio) if isinstance(audio, np.ndarray) else audio


HEADER_BYTES = 1 << 16
"""Bytes of a file's start searched for a WAV header's 'data' chunk (truncation check)."""


class AudioFile:
    """An :class:`AudioSource` over an audio file on disk: float32 mono at ``target_sr``, any stretch
    decoded on demand, so memory is the stretch read, not the file.

    Channels are averaged; another sample rate is resampled per read by the same polyphase filter
    as :func:`resample` (rational factor ``up / down``, Kaiser window, ``10 · max(up, down)`` taps
    on each side of the centre). A read of output samples ``[start, stop)`` decodes the input from a
    multiple of ``down`` at least the filter's half-length (in input samples) before ``start`` to as
    far after ``stop``, resamples that and slices: the filter sees exactly the input the whole-file
    resampling sees (zeros beyond the file's ends), so the samples equal :func:`read_audio_file`'s
    (float tolerance; tested). Errors (missing, empty, corrupt, truncated audio, NaN samples) raise
    AudioDecodeError naming the file.
    """

    def __init__(self, path: Path | str, target_sr: int = SAMPLE_RATE) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        try:
            size = self.path.stat().st_size
            with self.path.open("rb") as fh:
                head = fh.read(HEADER_BYTES)
        except OSError as e:
            raise AudioDecodeError(f"{self.path}: cannot read audio file: {e.strerror}") from e
        if size == 0:
            raise AudioDecodeError(f"{self.where}: empty audio (0 bytes)")
        problem = _wav_truncation(head, size)
        if problem:
            raise AudioDecodeError(f"{self.where}: {problem}")
        try:
            self._file = sf.SoundFile(self.path)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
            raise AudioDecodeError(f"{self.where}: cannot decode audio ({_reason(e)})") from e
        if self._file.frames <= 0 or self._file.samplerate <= 0:
            self._file.close()
            raise AudioDecodeError(f"{self.where}: empty audio (no samples)")
        self.sample_rate = int(self._file.samplerate)
        self.target_sr = target_sr
        g = math.gcd(self.sample_rate, int(target_sr))
        self._up, self._down = int(target_sr) // g, self.sample_rate // g
        self._n_in = int(self._file.frames)
        n_out = self._n_in * self._up
        self.n_samples = n_out // self._down + bool(n_out % self._down)  # resample_poly's output length
        self._margin = -(-10 * max(self._up, self._down) // self._up) + 1  # filter half-length, input samples

    @property
    def seconds(self) -> float:
        return self.n_samples / self.target_sr

    def _decode(self, a: int, b: int) -> np.ndarray:
        """Input samples ``[a, b)`` mixed down to mono."""
        try:
            self._file.seek(a)
            x = self._file.read(b - a, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioDecodeError(f"{self.where}: corrupt or truncated audio ({_reason(e)})") from e
        if len(x) < b - a:
            raise AudioDecodeError(f"{self.where}: truncated audio: expected {b - a} samples from {a}, "
                                   f"decoded {len(x)}")
        x = _mono(x)
        if not np.all(np.isfinite(x)):
            raise AudioDecodeError(f"{self.where}: audio contains NaN or infinite samples")
        return x

    def read(self, start: int, stop: int) -> np.ndarray:
        """Output samples ``[start, stop)`` (clipped to the recording) as float32 (see class doc)."""
        start, stop = max(start, 0), min(stop, self.n_samples)
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        if self._up == self._down:
            return self._decode(start, stop)
        up, down = self._up, self._down
        a = max(0, (start * down // up - self._margin) // down * down)  # a multiple of down: on the output grid
        b = min(self._n_in, -(-stop * down // up) + self._margin + 1)
        y = resample_poly(self._decode(a, b), up, down).astype(np.float32)
        offset = a * up // down
        return y[start - offset : stop - offset]

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_wav(x: np.ndarray, sr: int = SAMPLE_RATE, subtype: str = "FLOAT") -> bytes:
    """Encode float audio as WAV bytes (``subtype`` 'FLOAT' is lossless for float32 input)."""
    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, dtype=np.float32), sr, format="WAV", subtype=subtype)
    return buf.getvalue()


class AudioReader:
    """Random access to one recording as float32 mono at ``target_sr``.

    Built from encoded ``data`` (bytes) or from a decoded ``array`` with its ``sampling_rate``.
    When the encoded audio is mono at the target rate, :meth:`read` seeks in the stream and decodes
    only the requested samples, as 16-bit integers when the file holds 16-bit PCM (a truncated file
    is then detected only if a read reaches the missing part); otherwise the whole recording is
    decoded, mixed down and resampled when the reader is made.
    """

    def __init__(
        self,
        data: bytes | None = None,
        *,
        where: str,
        array: np.ndarray | None = None,
        sampling_rate: int | None = None,
        target_sr: int = SAMPLE_RATE,
    ) -> None:
        self.where = where
        self.target_sr = target_sr
        self._file: sf.SoundFile | None = None
        self._array: np.ndarray | None = None
        if array is not None:
            if not sampling_rate or sampling_rate <= 0:
                raise AudioDecodeError(f"{where}: audio array without a valid sampling_rate")
            a = np.asarray(array, dtype=np.float32)
            if a.ndim == 2 and a.shape[0] < a.shape[1] and a.shape[0] <= 8:  # (channels, n)
                a = a.T
            a = _mono(a)
            if a.size == 0:
                raise AudioDecodeError(f"{where}: empty audio (no samples)")
            if not np.all(np.isfinite(a)):
                raise AudioDecodeError(f"{where}: audio contains NaN or infinite samples")
            self._array = resample(a, int(sampling_rate), target_sr)
            self.n_samples = len(self._array)
            return
        if data is None:
            raise AudioDecodeError(f"{where}: no audio (neither bytes nor an array)")
        f = _open(data, where)
        if f.samplerate == target_sr and f.channels == 1 and f.seekable():
            self._file = f
            self.n_samples = f.frames
            self._pos = 0
            self._int16 = f.subtype in _INT16_SUBTYPES
        else:
            with f:
                x = _read(f, f.frames, where)
                sr = f.samplerate
            self._array = resample(_mono(x), sr, target_sr)
            self.n_samples = len(self._array)

    @property
    def seconds(self) -> float:
        return self.n_samples / self.target_sr

    def read(self, start: int, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """Samples ``[start, start + n)`` (at ``target_sr``) as float32, written into ``out`` if given.

        Raises AudioDecodeError outside the recording. A short forward jump is decoded and dropped
        rather than sought: a seek in a FLAC stream costs about as much as decoding ~0.75 s.
        """
        if start < 0 or n < 0 or start + n > self.n_samples:
            raise AudioDecodeError(
                f"{self.where}: read of samples [{start}, {start + n}) outside the recording "
                f"(0..{self.n_samples})"
            )
        if out is None:
            out = np.empty(n, dtype=np.float32)
        if self._array is not None:
            out[:] = self._array[start : start + n]
            return out
        f = self._file
        assert f is not None
        try:
            skip = start - self._pos
            if self._pos >= 0 and 0 <= skip <= SKIP_INSTEAD_OF_SEEK:
                if skip:
                    f.buffer_read(skip, dtype="int16")
            else:
                f.seek(start)
            buf = f.buffer_read(n, dtype="int16" if self._int16 else "float32")
        except (sf.LibsndfileError, RuntimeError) as e:
            self._pos = -1  # unknown position: seek next time
            raise AudioDecodeError(f"{self.where}: corrupt or truncated audio ({_reason(e)})") from e
        if self._int16:
            got = len(buf) // 2
            if got == n:
                np.multiply(np.frombuffer(buf, dtype=np.int16), np.float32(1 / 32768), out=out)
        else:
            got = len(buf) // 4
            if got == n:
                out[:] = np.frombuffer(buf, dtype=np.float32)
        if got < n:
            self._pos = -1
            raise AudioDecodeError(f"{self.where}: truncated audio: expected {n} samples from {start}, decoded {got}")
        self._pos = start + n
        return out

    def read_all(self) -> np.ndarray:
        return self.read(0, self.n_samples)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_audio(value: Any, where: str, target_sr: int = SAMPLE_RATE) -> AudioReader:
    """An :class:`AudioReader` for one dataset cell: ``{"bytes", "path"}`` (read from ``path`` when
    ``bytes`` is empty), ``{"array", "sampling_rate"}``, raw bytes, or a file path."""
    if isinstance(value, bytes | bytearray | memoryview):
        return AudioReader(bytes(value), where=where, target_sr=target_sr)
    if isinstance(value, str | Path):
        return AudioReader(_read_path(value, where), where=f"{where} ({value})", target_sr=target_sr)
    if isinstance(value, Mapping):
        if value.get("array") is not None:
            return AudioReader(
                where=where, array=value["array"], sampling_rate=value.get("sampling_rate"), target_sr=target_sr
            )
        data = value.get("bytes")
        if data:
            return AudioReader(bytes(data), where=where, target_sr=target_sr)
        path = value.get("path")
        if path:
            return AudioReader(_read_path(path, where), where=f"{where} ({path})", target_sr=target_sr)
        raise AudioDecodeError(f"{where}: empty audio (no bytes, no array, no path)")
    raise AudioDecodeError(f"{where}: unsupported audio value of type {type(value).__name__}")


def _read_path(path: str | Path, where: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise AudioDecodeError(f"{where}: cannot read audio file {str(path)!r}: {e.strerror}") from e
