"""predict: sliding windows, window-to-window label alignment, segments, RTTM, .pt and .onnx models."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from _data import AMI_DEBUG

from vfreport import __version__
from vfreport.data.audio import read_audio_file
from vfreport.data.rttm import Segment, parse_rttm
from vfreport.deploy.onnx import export_onnx
from vfreport.deploy.predict import (
    MIN_SEGMENT_SECONDS,
    Predictor,
    align_windows,
    cluster_windows,
    frames_to_segments,
    load_predictor,
    predict_audio,
    predict_file,
    predict_files,
    window_bounds,
    write_rttm,
)
from vfreport.errors import AudioDecodeError, ConfigError, DataError, ExperimentError
from vfreport.model.network import FastDiarizationModel

FIXTURES = AMI_DEBUG
DEV00 = FIXTURES / "dev00.wav"
STEP, NFFT, SR = 256, 400, 16_000


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(3)
    model = FastDiarizationModel()
    ckpt = root / "best.pt"
    torch.save({"format": "vfreport-checkpoint-1", "model_config": asdict(model.config),
                "model_state": model.state_dict(), "optimizer_state": {}, "scheduler_state": {},
                "epoch": 4, "history": [], "val_acc": 0.7, "best_val_acc": 0.7, "best_epoch": 4, "arm": "ami",
                "seed": 0, "vfreport_version": __version__, "sample_rate": SR, "frame_step": STEP}, ckpt)
    onnx_path = root / "model.onnx"
    export_onnx(ckpt, onnx_path, {"window_seconds": 2.0})
    return {"pt": ckpt, "onnx": onnx_path}


def n_frames(n: int) -> int:
    return 1 + (n - NFFT) // STEP


# ---------------------------------------------------------------------------------------------
# pure steps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [30 * SR, 30 * SR + 1234, 2 * SR, 2 * SR + 100, 5 * SR + 77])
def test_window_bounds_cover_every_frame_on_the_grid(n: int) -> None:
    window, hop = 2 * SR, SR // STEP * STEP
    bounds = window_bounds(n, window, hop, STEP)
    covered = np.zeros(n_frames(n), bool)
    for a, b in bounds:
        assert a % STEP == 0 and 0 <= a < b <= n
        assert window <= b - a < window + STEP or (a, b) == (0, n)
        covered[a // STEP : a // STEP + n_frames(b - a)] = True
    assert covered.all()
    assert bounds[-1][1] == n
    assert [a for a, _ in bounds] == sorted({a for a, _ in bounds})


def test_window_bounds_short_file_is_one_window() -> None:
    assert window_bounds(20_000, 32_000, 15_872, STEP) == [(0, 20_000)]
    with pytest.raises(ConfigError, match="multiple of the frame step"):
        window_bounds(100_000, 32_000, 16_000, STEP)


def onehot(labels: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    p = np.full((len(labels), 2), 1 - confidence)
    p[np.arange(len(labels)), labels] = confidence
    return p


def test_align_windows_recovers_file_level_labels() -> None:
    """Each window labels 'who spoke first in the window' as 0: the labels of windows starting in
    speaker 1's turn are swapped. Alignment must undo exactly those swaps."""
    rng = np.random.default_rng(0)
    truth = np.repeat(rng.integers(0, 2, 12), rng.integers(15, 40, 12))
    truth[0] = 0  # first window fixes the labels
    n, win, hop = len(truth), 40, 20
    firsts = list(range(0, n - win + 1, hop))
    probs, expected_flips = [], []
    for f in firsts:
        local = truth[f : f + win]
        relative = local if local[0] == 0 else 1 - local  # 0 = the window's first speaker
        probs.append(onehot(relative))
        expected_flips.append(bool(local[0] == 1))
    averaged, flipped = align_windows(probs, firsts, n)
    covered = slice(0, firsts[-1] + win)
    assert (averaged[covered].argmax(1) == truth[covered]).all()
    assert flipped == expected_flips
    assert np.allclose(averaged[covered].sum(1), 1.0)
    assert (averaged[firsts[-1] + win :] == 0).all()


def test_align_windows_without_overlap_keeps_labels() -> None:
    a, b = onehot(np.zeros(10, int)), onehot(np.ones(10, int))
    averaged, flipped = align_windows([a, b], [0, 10], 20)
    assert flipped == [False, False]
    assert list(averaged.argmax(1)) == [0] * 10 + [1] * 10


def test_frames_to_segments_times_and_merging() -> None:
    # 0 for 50 frames, a 3-frame flicker of 1 (48 ms < 0.1 s), 0 for 30, then 1 for 40 frames
    labels = np.array([0] * 50 + [1] * 3 + [0] * 30 + [1] * 40)
    n_samples = (len(labels) - 1) * STEP + NFFT + 100
    segs = frames_to_segments(labels, n_samples, "rec", SR, STEP, NFFT)
    assert [s.speaker for s in segs] == ["0", "1"]
    edge = (83 * STEP + NFFT / 2 - STEP / 2) / SR  # boundary between frame 82 and 83
    assert segs[0].start == 0.0 and segs[0].end == pytest.approx(edge)
    assert segs[1].start == pytest.approx(edge) and segs[1].end == pytest.approx(n_samples / SR)
    # with no minimum, the flicker is its own segment of exactly 3 frame steps
    fine = frames_to_segments(labels, n_samples, "rec", SR, STEP, NFFT, min_duration=0.0)
    assert [s.speaker for s in fine] == ["0", "1", "0", "1"]
    assert fine[1].duration == pytest.approx(3 * STEP / SR)
    assert frames_to_segments(np.array([], int), 0, "rec", SR, STEP, NFFT) == []


def test_sliding_windows_chain_relative_labels_end_to_end() -> None:
    """A fake model that answers exactly what the real one is trained to answer: per frame, is this
    the window's first speaker (0) or not (1)? The audio encodes the speaker in its sign, and its
    voice in a tone (150 Hz for A, 600 Hz for B) that clustering can tell apart. Whole-file output
    must recover absolute turns, though most windows start in speaker B's turn half the time."""
    turns = [("A", 1.3), ("B", 0.7), ("A", 2.1), ("B", 1.6), ("A", 0.4), ("B", 2.9), ("A", 1.0)]

    def voice(who: str, seconds: float) -> np.ndarray:
        t = np.arange(int(seconds * SR)) / SR
        return (0.5 + 0.3 * np.sin(2 * np.pi * 150 * t) if who == "A" else -0.5 + 0.3 * np.sin(2 * np.pi * 600 * t))

    audio = np.concatenate([voice(who, d) for who, d in turns]).astype(np.float32)

    def relative_logits(batch: np.ndarray) -> np.ndarray:
        centres = np.arange(n_frames(batch.shape[1])) * STEP + NFFT // 2
        speaker_b = batch[:, centres] < 0
        relative = speaker_b ^ speaker_b[:, :1]
        return np.stack([np.where(relative, -4.0, 4.0), np.where(relative, 4.0, -4.0)], axis=-1)

    fake = Predictor(Path("fake"), "fake", SR, STEP, NFFT, relative_logits)
    speech = np.ones(n_frames(len(audio)), dtype=bool)  # steady tones: no silence to detect
    segments = predict_audio(fake, audio, "synthetic", window_seconds=2.0, speech=speech)
    assert [(s.speaker) for s in segments] == ["0", "1", "0", "1", "0", "1", "0"]
    ends = np.cumsum([d for _, d in turns])
    for seg, end in zip(segments, ends, strict=True):
        assert seg.end == pytest.approx(end, abs=STEP / SR)


# ---------------------------------------------------------------------------------------------
# whole files
# ---------------------------------------------------------------------------------------------


def assert_well_formed(segments: list[Segment], uri: str, seconds: float) -> None:
    assert segments, "expected at least one segment"
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    for s in segments:
        assert s.uri == uri and s.speaker in {"0", "1"}
        assert 0.0 <= s.start < s.end <= seconds + 1e-9
        assert s.duration >= MIN_SEGMENT_SECONDS
    for a, b in zip(segments, segments[1:], strict=False):
        assert b.start >= a.end - 1e-9  # one label per frame: no overlap at all
        if a.speaker == b.speaker:
            assert b.start > a.end  # same speaker twice in a row only across a gap


def label_grid(segments: list[Segment], seconds: float, step: float = 0.01) -> np.ndarray:
    grid = np.full(int(seconds / step), -1)
    for s in segments:
        grid[int(round(s.start / step)) : int(round(s.end / step))] = int(s.speaker)
    return grid


@pytest.mark.parametrize("kind", ["pt", "onnx"])
def test_predict_real_meeting_and_rttm(models: dict[str, Path], kind: str, tmp_path: Path) -> None:
    segments = predict_file(models[kind], DEV00)
    seconds = sf.info(str(DEV00)).frames / SR  # 30 s and one sample
    assert_well_formed(segments, "dev00", seconds)
    covered = sum(s.duration for s in segments)
    # every frame gets a label; only sub-0.1 s flickers are left out (an untrained model flickers a lot)
    assert 20.0 < covered <= seconds
    out = write_rttm(segments, tmp_path / "dev00.rttm")
    parsed = parse_rttm(out.read_text(), str(out))
    assert list(parsed) == ["dev00"] and len(parsed["dev00"]) == len(segments)
    for got, want in zip(parsed["dev00"], segments, strict=True):
        assert got.speaker == want.speaker
        assert got.start == pytest.approx(want.start, abs=5e-4 + 1e-9)  # 3 decimals: half a unit, rounding
        assert got.duration == pytest.approx(want.duration, abs=1e-3)
    assert out.read_text().splitlines()[0].split()[0::5] == ["SPEAKER", "<NA>"]


def test_onnx_and_checkpoint_give_the_same_segments(models: dict[str, Path]) -> None:
    a = label_grid(predict_file(models["pt"], DEV00), 30.0)
    b = label_grid(predict_file(models["onnx"], DEV00), 30.0)
    assert (a == b).mean() > 0.99


def test_predictor_geometry(models: dict[str, Path]) -> None:
    for kind, runtime, window in (("pt", "torch", None), ("onnx", "onnxruntime", 2.0)):
        p = load_predictor(models[kind])
        assert (p.runtime, p.sample_rate, p.frame_step, p.n_fft) == (runtime, SR, STEP, NFFT)
        assert p.window_seconds == window
        assert p.logits(np.zeros((2, 8000), np.float32) + 0.01).shape == (2, n_frames(8000), 2)


def test_stereo_44k_is_mixed_down_and_resampled(models: dict[str, Path], tmp_path: Path) -> None:
    from scipy.signal import resample_poly

    mono, sr = sf.read(DEV00, dtype="float32")
    clip = mono[: 8 * sr]
    up = resample_poly(clip, 441, 160).astype(np.float32)
    path = tmp_path / "meeting 44k.wav"
    sf.write(path, np.stack([up, 0.5 * up], axis=1), 44_100, subtype="FLOAT")
    segments = predict_file(models["onnx"], path)
    assert_well_formed(segments, "meeting_44k", 8.0)
    # the same as the 16 kHz mono clip itself: resampling keeps the timing
    sf.write(tmp_path / "mono.wav", clip, sr)
    same = label_grid(predict_file(models["onnx"], tmp_path / "mono.wav"), 8.0)
    # where speech is found agrees (which label an untrained model gives it may not: it is chaotic)
    assert ((label_grid(segments, 8.0) >= 0) == (same >= 0)).mean() > 0.85


def test_short_audio(models: dict[str, Path], tmp_path: Path) -> None:
    mono, sr = sf.read(DEV00, dtype="float32")
    sf.write(tmp_path / "short.wav", mono[2 * sr : int(3.2 * sr)], sr)  # shorter than one 2 s window (speech)
    assert_well_formed(predict_file(models["onnx"], tmp_path / "short.wav"), "short", 1.2)
    sf.write(tmp_path / "tiny.wav", mono[:500], sr)  # one model frame: nothing to say
    assert predict_file(models["onnx"], tmp_path / "tiny.wav") == []


def test_predict_files_writes_one_rttm_per_file(models: dict[str, Path], tmp_path: Path) -> None:
    paths = [DEV00, FIXTURES / "dev01.wav"]
    results = predict_files(models["onnx"], paths, tmp_path / "out", window_seconds=3.0)
    assert list(results) == paths
    for p in paths:
        parsed = parse_rttm((tmp_path / "out" / f"{p.stem}.rttm").read_text())
        assert list(parsed) == [p.stem] and len(parsed[p.stem]) == len(results[p])
        assert_well_formed(results[p], p.stem, sf.info(str(p)).frames / SR)


def test_errors(models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DataError, match="same name 'dev00'"):
        predict_files(models["onnx"], [DEV00, tmp_path / "dev00.flac"])
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(ExperimentError, match="unknown model type"):
        load_predictor(tmp_path / "m.bin")
    with pytest.raises(ExperimentError, match="not found"):
        load_predictor(tmp_path / "missing.onnx")
    (tmp_path / "bad.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(AudioDecodeError, match="bad.wav"):
        predict_file(models["onnx"], tmp_path / "bad.wav")
    with pytest.raises(ConfigError, match="hop_seconds"):
        predict_file(models["onnx"], DEV00, window_seconds=2.0, hop_seconds=3.0)
    with pytest.raises(ConfigError, match="window_seconds"):
        predict_file(models["onnx"], DEV00, window_seconds=0.01)


def test_clustering_does_not_let_one_wrong_window_swap_the_rest() -> None:
    """Two speakers with distinct features; window 3 answers with its labels swapped. Chaining
    sequentially keeps every window consistent with the previous one, so a window that also has
    its overlap frames wrong swaps everything after it; clustering by features does not care."""
    t, hop, n = 10, 5, 60
    truth = (np.arange(n) // 7) % 2  # turns of 7 frames
    features = np.where(truth[:, None] == 0, 1.0, -1.0) * np.ones((n, 3)) + 0.1 * np.random.default_rng(0).normal(
        size=(n, 3))
    firsts = list(range(0, n - t + 1, hop))
    probs = []
    for i, f in enumerate(firsts):
        local = truth[f : f + t] ^ truth[f]  # relative: the window's first speaker is 0
        p = np.stack([1.0 - local, local], axis=1) * 0.9 + 0.05
        probs.append(p[:, ::-1] if i == 3 else p)  # a window whose relative labels are swapped
    labels = cluster_windows(probs, firsts, n, features, np.ones(n, dtype=bool), min_frames=2)
    agree = (labels == truth).mean()
    assert max(agree, 1 - agree) == 1.0
    assert labels[0] == 0  # numbered by first appearance


def test_energy_speech_finds_the_reference_speech_of_a_real_meeting() -> None:
    from vfreport.data.rttm import parse_rttm
    from vfreport.data.spectral import energy_speech, frame_features

    audio = read_audio_file(DEV00, SR)
    _, energy = frame_features(audio)
    detected = energy_speech(energy)
    reference = parse_rttm((FIXTURES / "debug.development.rttm").read_text())["dev00"]
    centres = (np.arange(len(detected)) * STEP + NFFT / 2) / SR
    spoken = np.zeros(len(detected), dtype=bool)
    for s in reference:
        spoken |= (centres >= s.start) & (centres < s.end)
    assert detected[spoken].mean() > 0.75  # most reference speech is detected
    assert detected[~spoken].mean() < detected[spoken].mean()  # and silence less often


def test_frame_features_are_the_model_front_end_in_numpy() -> None:
    from vfreport.data.spectral import frame_features
    from vfreport.model.network import LogMel, ModelConfig

    audio = read_audio_file(DEV00, SR)[: 2 * SR]
    features, _ = frame_features(audio)
    front = LogMel(ModelConfig(band_norm=False))
    with torch.no_grad():
        power_view = front(torch.from_numpy(audio)[None])[0].numpy().T
    n_mels = ModelConfig().n_mels
    # the periodicity view is identical up to the r(0) regulariser (recording vs window mean)
    assert np.abs(features[:, n_mels:] - power_view[:, n_mels:]).max() < 0.05
    # the log-mel view is the same up to the model's per-window standardisation
    z = (features[:, :n_mels] - features[:, :n_mels].mean()) / features[:, :n_mels].std(ddof=1)
    assert np.abs(z - power_view[:, :n_mels]).max() < 0.01
