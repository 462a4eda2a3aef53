"""Audio decoding with soundfile: formats, resampling, channel mix-down, bad input, random access."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from _data import AMI_DEBUG

from vfreport.data.audio import AudioReader, decode_audio, encode_wav, open_audio, read_audio_file, resample
from vfreport.errors import AudioDecodeError

FIXTURE = AMI_DEBUG


def _encode(x: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def _tone(seconds: float, sr: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)])


def test_flac_16k_round_trip():
    x = _tone(1.0, 16_000)
    y = decode_audio(_encode(x, 16_000, "FLAC", "PCM_16"), "tone.flac")
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7  # 16-bit quantisation only


def test_wav_float_is_lossless():
    x = np.random.default_rng(0).uniform(-0.9, 0.9, 8000).astype(np.float32)
    np.testing.assert_array_equal(decode_audio(encode_wav(x), "x.wav"), x)


def test_ogg_decodes():
    x = _tone(1.0, 16_000)
    y = decode_audio(_encode(x, 16_000, "OGG", "VORBIS"), "tone.ogg")
    assert abs(len(y) - len(x)) < 400 and _peak_hz(y, 16_000) == pytest.approx(440, abs=2)


def test_44k_stereo_is_mixed_down_and_resampled():
    left = _tone(1.0, 44_100, 440.0)
    right = _tone(1.0, 44_100, 440.0, amp=0.25)
    y = decode_audio(_encode(np.stack([left, right], axis=1), 44_100, "WAV", "FLOAT"), "stereo.wav")
    assert len(y) == 16_000
    assert _peak_hz(y, 16_000) == pytest.approx(440, abs=2)
    # mean of the channels: amplitude (0.5 + 0.25) / 2 away from the edges of the filter
    assert np.max(np.abs(y[1000:-1000])) == pytest.approx(0.375, abs=0.01)


def test_opposite_channels_cancel():
    x = _tone(0.5, 16_000)
    y = decode_audio(_encode(np.stack([x, -x], axis=1), 16_000, "WAV", "FLOAT"), "anti.wav")
    assert np.max(np.abs(y)) < 1e-6


def test_resample_lengths():
    assert len(resample(np.zeros(48_000, np.float32), 48_000)) == 16_000
    assert len(resample(np.zeros(8_000, np.float32), 8_000)) == 16_000


@pytest.mark.parametrize("fmt", ["FLAC", "WAV"])
def test_truncated_audio_is_an_error(fmt):
    data = _encode(_tone(2.0, 16_000), 16_000, fmt, "PCM_16")
    with pytest.raises(AudioDecodeError, match=r"train\.parquet row 7.*truncated"):
        decode_audio(data[: len(data) // 2], "train.parquet row 7")


def test_corrupt_empty_and_garbage():
    with pytest.raises(AudioDecodeError, match=r"row 3: empty audio"):
        decode_audio(b"", "row 3")
    with pytest.raises(AudioDecodeError, match=r"row 4: cannot decode audio"):
        decode_audio(b"this is not audio at all" * 10, "row 4")
    flac = bytearray(_encode(_tone(2.0, 16_000), 16_000, "FLAC", "PCM_16"))
    flac[len(flac) // 2 : len(flac) // 2 + 300] = bytes(300)
    with pytest.raises(AudioDecodeError, match=r"row 5: corrupt or truncated"):
        decode_audio(bytes(flac), "row 5")
    # a WAV header with no samples
    with pytest.raises(AudioDecodeError, match=r"row 6: empty audio"):
        decode_audio(_encode(np.zeros(0, np.float32), 16_000, "WAV", "PCM_16"), "row 6")


def test_reader_random_access_matches_full_decode():
    x = (np.random.default_rng(1).standard_normal(16_000 * 5) * 0.1).astype(np.float32)
    data = _encode(x, 16_000, "FLAC", "PCM_16")
    full = decode_audio(data, "x")
    with AudioReader(data, where="x") as r:
        assert r.n_samples == len(x) and r.seconds == pytest.approx(5.0)
        # a seek backwards, a short forward skip (decoded, not sought), a long jump, reading in place
        for start, n in [(40_000, 3000), (100, 500), (700, 16_000), (30_000, 1), (79_000, 1000)]:
            np.testing.assert_array_equal(r.read(start, n), full[start : start + n])
        out = np.zeros(2000, np.float32)
        assert r.read(5, 2000, out=out) is out
        np.testing.assert_array_equal(out, full[5:2005])
        with pytest.raises(AudioDecodeError, match="outside the recording"):
            r.read(79_500, 1000)


def test_reader_from_array_and_other_rates():
    x = _tone(1.0, 8_000)
    r = AudioReader(where="arr", array=x, sampling_rate=8_000)
    assert r.n_samples == 16_000
    np.testing.assert_allclose(r.read_all(), resample(x, 8_000), atol=1e-6)
    r2 = AudioReader(_encode(x, 8_000, "WAV", "FLOAT"), where="wav8k")
    np.testing.assert_allclose(r2.read_all(), r.read_all(), atol=1e-5)
    with pytest.raises(AudioDecodeError, match="sampling_rate"):
        AudioReader(where="arr", array=x, sampling_rate=None)


def test_open_audio_cell_forms(tmp_path):
    x = _tone(0.5, 16_000)
    data = encode_wav(x)
    (tmp_path / "a.wav").write_bytes(data)
    for cell in (data, {"bytes": data, "path": "a.wav"}, {"bytes": None, "path": str(tmp_path / "a.wav")},
                 {"array": x, "sampling_rate": 16_000}, tmp_path / "a.wav"):
        np.testing.assert_array_equal(open_audio(cell, "cell").read_all(), x)
    with pytest.raises(AudioDecodeError, match="cell: empty audio"):
        open_audio({"bytes": None, "path": None}, "cell")
    with pytest.raises(AudioDecodeError, match="cannot read audio file"):
        open_audio({"bytes": b"", "path": str(tmp_path / "missing.wav")}, "cell")


def test_read_real_wav_file():
    y = read_audio_file(FIXTURE / "dev00.wav")
    assert y.dtype == np.float32 and len(y) == pytest.approx(30 * 16_000, abs=16)
    assert 0.001 < float(np.sqrt(np.mean(y**2))) < 0.5  # real speech, not silence
    with pytest.raises(AudioDecodeError, match="missing.wav"):
        read_audio_file(FIXTURE / "missing.wav")
