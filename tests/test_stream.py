"""Streamed reading: AudioFile's stretches equal the whole-file decode, and predict on a file read
block by block gives the same segments as predict on the whole decoded array (docs/deployment.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from _data import AMI_DEBUG
from scipy.signal import resample_poly

from vfreport.data.audio import AudioFile, read_audio_file
from vfreport.data.geometry import GEOMETRY
from vfreport.data.rttm import format_rttm
from vfreport.deploy.embed import encoder_embeddings
from vfreport.deploy.onnx import export_model
from vfreport.deploy.predict import (
    PipelineSettings,
    load_predictor,
    local_speakers,
    predict_audio,
    predict_file,
    window_batches,
)
from vfreport.deploy.speech import SpeechSettings, detect_speech, silero_model, silero_probabilities
from vfreport.errors import AudioDecodeError
from vfreport.model.network import FastDiarizationModel

SR = 16_000


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("model") / "model.onnx"
    export_model(FastDiarizationModel().eval(), path, {"arm": "untrained", "seed": 0, "epoch": 0,
                                                       "window_seconds": 2.0})
    return path


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 s of real AMI audio (dev00 + dev01, then dev00 again at -2 dB) as a 16-bit WAV: six Silero
    blocks, four model batches."""
    a = sf.read(AMI_DEBUG / "dev00.wav", dtype="float32")[0]
    b = sf.read(AMI_DEBUG / "dev01.wav", dtype="float32")[0]
    path = tmp_path_factory.mktemp("tiled") / "tiled.wav"
    sf.write(path, np.concatenate([a, b, a * np.float32(10 ** (-2 / 20)), b[: 10 * SR]]), SR, subtype="PCM_16")
    return path


@pytest.mark.parametrize(("sr", "channels"), [(16_000, 1), (44_100, 2), (8_000, 1), (22_050, 1)])
def test_audio_file_stretches_equal_the_whole_file_decode(tmp_path: Path, sr: int, channels: int) -> None:
    """Consecutive and random stretches, resampled per read, are the whole-file resampling's samples."""
    rng = np.random.default_rng(sr)
    x = (0.1 * rng.standard_normal((3 * sr + 17, channels))).astype(np.float32)
    path = tmp_path / f"noise-{sr}.wav"
    sf.write(path, x, sr, subtype="FLOAT")
    whole = read_audio_file(path, SR)
    with AudioFile(path, SR) as f:
        assert f.n_samples == len(whole)
        blocks = np.concatenate([f.read(a, a + 4_001) for a in range(0, f.n_samples, 4_001)])
        np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-6)
        for start in rng.integers(0, f.n_samples, 5):
            stop = int(start + rng.integers(1, 9_000))
            np.testing.assert_allclose(f.read(int(start), stop), whole[start:stop], rtol=0, atol=1e-6)
        assert len(f.read(f.n_samples - 3, f.n_samples + 50)) == 3  # clipped to the recording


def test_audio_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="missing.wav"):
        AudioFile(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty.wav: empty audio"):
        AudioFile(tmp_path / "empty.wav")
    sf.write(tmp_path / "cut.wav", np.zeros(16_000, np.float32), SR, subtype="PCM_16")
    data = (tmp_path / "cut.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="cut.wav: truncated WAV"):
        AudioFile(tmp_path / "cut.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan] * 500, np.float32), SR, subtype="FLOAT")
    with AudioFile(tmp_path / "nan.wav") as f, pytest.raises(AudioDecodeError, match="nan.wav: .*NaN"):
        f.read(0, 1000)


def test_streamed_silero_is_the_packages_sequence_model(tiled: Path) -> None:
    """The block loop over a file gives Silero's own audio_forward probabilities, bit for bit."""
    audio = read_audio_file(tiled, SR)
    with AudioFile(tiled, SR) as f:
        streamed = silero_probabilities(f)
    assert np.array_equal(streamed, silero_model().audio_forward(audio, SR))
    with AudioFile(tiled, SR) as f:  # and the energy fallback, computed 1000 frames at a time
        energy = detect_speech(f, GEOMETRY, SpeechSettings(detector="energy"))
    assert np.array_equal(energy, detect_speech(audio, GEOMETRY, SpeechSettings(detector="energy")))


def test_encoder_embeddings_do_not_depend_on_the_mel_block(model: Path, tiled: Path) -> None:
    """Embedding the local speakers block by block (blocks of 1000 mel frames = 10 s here, so most
    blocks have speakers crossing into the next) gives the one-block embeddings."""
    predictor = load_predictor(model)
    n_frames = GEOMETRY.num_frames(sf.info(str(tiled)).frames)
    with AudioFile(tiled, SR) as f:
        speech = detect_speech(f, GEOMETRY)
        speakers = [s for probs, firsts in window_batches(predictor, f, 2 * SR, 63 * 256)
                    for s in local_speakers(probs, firsts, speech)]
        assert len(speakers) > 100
        small = encoder_embeddings(f, speakers, GEOMETRY, n_frames, block=1_000)
        whole = encoder_embeddings(f, speakers, GEOMETRY, n_frames, block=10**9)
    np.testing.assert_allclose(small, whole, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["dev00", "dev01", "tiled"])
def test_streamed_predict_gives_the_whole_file_rttm(model: Path, tiled: Path, name: str) -> None:
    """predict_file (read block by block) writes the RTTM predict_audio gives on the decoded array."""
    path = tiled if name == "tiled" else AMI_DEBUG / f"{name}.wav"
    predictor = load_predictor(model)
    streamed = predict_file(predictor, path)
    whole = predict_audio(predictor, read_audio_file(path, SR), name)
    assert streamed and format_rttm(streamed) == format_rttm(whole)


@pytest.mark.parametrize("settings", [PipelineSettings(), PipelineSettings(SpeechSettings(detector="energy"),
                                                                           embedding="features")],
                         ids=["silero-encoder", "energy-features"])
def test_streamed_predict_at_another_rate(model: Path, tmp_path: Path, settings: PipelineSettings) -> None:
    """A stereo 44.1 kHz file, resampled stretch by stretch, gives the RTTM of the whole resampled array."""
    mono = sf.read(AMI_DEBUG / "dev00.wav", dtype="float32")[0]
    up = resample_poly(mono, 441, 160).astype(np.float32)
    path = tmp_path / "dev00.wav"
    sf.write(path, np.stack([up, 0.5 * up], axis=1), 44_100, subtype="FLOAT")
    predictor = load_predictor(model)
    streamed = predict_file(predictor, path, settings=settings)
    whole = predict_audio(predictor, read_audio_file(path, SR), "dev00", settings=settings)
    assert streamed and format_rttm(streamed) == format_rttm(whole)
