"""Speaker embeddings of local speakers for ``vfreport predict`` (docs/pipeline.md).

A *local speaker* is the set of speech frames one sliding window gives one of its two labels
(:class:`LocalSpeaker`). Two embedders, named by ``--embedding``:

- ``"encoder"`` (default): Resemblyzer's GE2E speaker encoder (PyPI ``Resemblyzer``, Apache-2.0;
  Wan et al. 2018, "Generalized end-to-end loss for speaker verification"), whose weights
  (``pretrained.pt``, 3-layer LSTM, 256-d output) ship in the wheel. The recording's 40-band mel
  spectrogram (Resemblyzer's own ``wav_to_mel_spectrogram``: 25 ms windows, 10 ms hop, after its
  ``normalize_volume`` raises quiet audio to −30 dBFS, its training level) is computed once; each
  local speaker is the sequence of its mel frames (those whose centre falls in one of its model
  frames), run through the LSTM in batches (ONNX Runtime's LSTM with per-sequence lengths, so
  padding never enters a state, :func:`encoder_session`); its embedding is the encoder's
  L2-normalised output for that sequence.
- ``"features"``: the hand-made fallback, the mean of the model front-end's per-frame log-mel and
  pitch-periodicity features (:func:`vfreport.data.spectral.frame_features`), standardised over
  the recording.

Cost of the encoder: one LSTM step per 10 ms of each local speaker's speech; with 2-s windows at
half-window hops every second of speech is embedded twice (≈ 2 × 100 steps per second of audio),
linear in the recording's length. Memory: the local speakers are embedded block by block, each
10-minute block of the recording (:data:`MEL_BLOCK_FRAMES`) read from its
:class:`~vfreport.data.audio.AudioSource` and turned into mel frames only while its local speakers
(those starting in it) are run, so the mel spectrogram of a long file (58 MB per hour) is never
held whole: O(block) whatever the length.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vfreport.data.audio import AudioSource, as_source
from vfreport.data.geometry import FrameGeometry
from vfreport.data.spectral import frame_features
from vfreport.errors import ConfigError

EMBEDDINGS = ("encoder", "features")
ENCODER_BATCH = 64
"""Local speakers per LSTM call: ONNX Runtime's LSTM holds ≈ 1.7 MB per sequence of 2 s (≈ 450 MB
at 256, ≈ 110 MB at 64, measured), at the same speed on 2 cores; each sequence's output does not
depend on its batch mates (its own length, ``sequence_lens``)."""


@dataclass(frozen=True)
class LocalSpeaker:
    """The speech frames (recording frame indices, sorted) one window gives one label, with the
    window's probability of that label on each (weights of the vote)."""

    frames: np.ndarray
    weights: np.ndarray


@functools.lru_cache(maxsize=1)
def voice_encoder():  # -> resemblyzer.VoiceEncoder
    """Resemblyzer's pretrained GE2E encoder on the CPU, from the installed wheel (loaded once)."""
    import warnings

    with warnings.catch_warnings():  # librosa/webrtcvad import-time deprecation warnings
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

        encoder = VoiceEncoder("cpu", verbose=False)
    return encoder.eval()


MEL_BLOCK_FRAMES = 60_000
"""Mel frames computed at once (10 min of audio): the STFT of a whole 10-hour file would need 6 GB."""
GAIN_BLOCK_SAMPLES = 10_000_000
"""Samples read at once to measure the recording's level (≈ 10 min at 16 kHz)."""


def _mel_geometry(sample_rate: int) -> tuple[int, int]:
    """(n_fft, hop) of Resemblyzer's mel frames at ``sample_rate`` (ConfigError if not its rate)."""
    from resemblyzer import hparams

    if sample_rate != hparams.sampling_rate:
        raise ConfigError(f"the speaker encoder needs {hparams.sampling_rate} Hz audio; the model runs at "
                          f"{sample_rate} Hz (use --embedding features)")
    return sample_rate * hparams.mel_window_length // 1000, sample_rate * hparams.mel_window_step // 1000


def volume_gain(audio: np.ndarray | AudioSource) -> float:
    """Resemblyzer's ``normalize_volume(wav, -30, increase_only=True)`` as a gain: what raises a
    quiet recording's RMS (over all of it, read in blocks) to −30 dBFS, its training level; 1 if
    it is louder."""
    from resemblyzer import hparams

    source = as_source(audio)
    squares = sum(float(np.square(source.read(i, i + GAIN_BLOCK_SAMPLES), dtype=np.float64).sum())
                  for i in range(0, source.n_samples, GAIN_BLOCK_SAMPLES))
    rms_dbfs = 10 * np.log10(squares / max(source.n_samples, 1)) if squares > 0 else -np.inf
    if np.isfinite(rms_dbfs) and rms_dbfs < hparams.audio_norm_target_dBFS:
        return float(10 ** ((hparams.audio_norm_target_dBFS - rms_dbfs) / 20))
    return 1.0


def mel_range(audio: np.ndarray | AudioSource, sample_rate: int, f0: int, f1: int, gain: float) -> np.ndarray:
    """(f1 − f0, 40) Resemblyzer's mel frames ``f0 .. f1 − 1`` of the recording (librosa's centred
    frames, zero padding beyond its ends): the uncentred STFT of samples ``[f0 · hop − n_fft/2,
    (f1 − 1) · hop + n_fft/2)``, the only ones read, times ``gain`` (:func:`volume_gain`)."""
    import librosa
    from resemblyzer import hparams

    n_fft, hop = _mel_geometry(sample_rate)
    source = as_source(audio)
    half = n_fft // 2
    lo, hi = f0 * hop - half, (f1 - 1) * hop + n_fft - half
    seg = np.zeros(hi - lo, dtype=np.float32)
    a, b = max(lo, 0), min(hi, source.n_samples)
    if b > a:
        seg[a - lo : b - lo] = source.read(a, b) * np.float32(gain)
    mel = librosa.feature.melspectrogram(y=seg, sr=sample_rate, n_fft=n_fft, hop_length=hop,
                                         n_mels=hparams.mel_n_channels, center=False)
    return mel.T


def mel_frames(audio: np.ndarray | AudioSource, sample_rate: int, block: int = MEL_BLOCK_FRAMES) -> np.ndarray:
    """(frames, 40) Resemblyzer's mel spectrogram of the whole recording, computed block by block.

    The same as ``wav_to_mel_spectrogram(normalize_volume(audio, -30, increase_only=True))`` (librosa,
    centred frames, zero padding at the edges; tested): the gain comes from the whole recording's
    RMS (:func:`volume_gain`), and each block of frames is :func:`mel_range`. The encoder does not
    hold this whole array (:func:`encoder_embeddings` computes one block at a time)."""
    from resemblyzer import hparams

    _, hop = _mel_geometry(sample_rate)
    source = as_source(audio)
    gain = volume_gain(source)
    n = 1 + source.n_samples // hop  # librosa's centred frame count
    out = np.empty((n, hparams.mel_n_channels), dtype=np.float32)
    for f0 in range(0, n, block):
        f1 = min(n, f0 + block)
        out[f0:f1] = mel_range(source, sample_rate, f0, f1, gain)
    return out


@functools.lru_cache(maxsize=1)
def encoder_session():  # -> (onnxruntime.InferenceSession, linear weight, linear bias)
    """The GE2E encoder's 3-layer LSTM as an ONNX graph run by ONNX Runtime (built once per process
    from the wheel's weights, no export: ONNX's LSTM operator with the gates reordered from torch's
    i, f, g, o to ONNX's i, o, f, c), its ``sequence_lens`` input giving each sequence's last state
    as a packed torch LSTM does. About 5x the CPU throughput of torch's LSTM on 2 cores; the
    final linear layer, ReLU and L2 normalisation run in numpy."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    state = {k: v.detach().numpy() for k, v in voice_encoder().state_dict().items()}
    hidden = state["lstm.weight_hh_l0"].shape[1]

    def iofc(w: np.ndarray) -> np.ndarray:  # torch gate order i, f, g, o -> ONNX i, o, f, c
        i, f, g, o = np.split(w, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    nodes, inits = [], []
    x = "x"
    layers = sum(1 for k in state if k.startswith("lstm.weight_ih_l"))
    for layer in range(layers):
        w = iofc(state[f"lstm.weight_ih_l{layer}"])[None]
        r = iofc(state[f"lstm.weight_hh_l{layer}"])[None]
        bias = np.concatenate([iofc(state[f"lstm.bias_ih_l{layer}"]), iofc(state[f"lstm.bias_hh_l{layer}"])])[None]
        for name, value in (("W", w), ("R", r), ("B", bias)):
            inits.append(numpy_helper.from_array(value.astype(np.float32), f"{name}{layer}"))
        y, y_h = f"y{layer}", ("h" if layer == layers - 1 else f"h{layer}")
        nodes.append(helper.make_node("LSTM", [x, f"W{layer}", f"R{layer}", f"B{layer}", "lens"], [y, y_h],
                                      hidden_size=hidden))
        if layer < layers - 1:  # Y is (T, 1, B, H): drop the direction axis for the next layer
            inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), f"axis{layer}"))
            nodes.append(helper.make_node("Squeeze", [y, f"axis{layer}"], [f"x{layer + 1}"]))
            x = f"x{layer + 1}"
    graph = helper.make_graph(
        nodes, "ge2e_lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", "B", state["lstm.weight_ih_l0"].shape[1]]),
         helper.make_tensor_value_info("lens", TensorProto.INT32, ["B"])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, "B", hidden])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, state["linear.weight"], state["linear.bias"]


MEL_MARGIN = 8
"""Mel frames searched beyond a local speaker's estimated first and last frame (a model frame is 1.6)."""


def encoder_embeddings(audio: np.ndarray | AudioSource, speakers: Sequence[LocalSpeaker], geometry: FrameGeometry,
                       n_frames: int, block: int = MEL_BLOCK_FRAMES) -> np.ndarray:
    """(len(speakers), 256) L2-normalised GE2E embeddings of the local speakers (see module doc).

    Each local speaker belongs to the ``block``-frame stretch of mel frames where it starts; a
    stretch's mel frames (widened to its speakers' ends) are computed, its speakers run through the
    encoder (longest first, :data:`ENCODER_BATCH` at a time) and the mel frames dropped. Each
    speaker's sequence is the mel frames whose centre lies under one of its model frames."""
    session, weight, bias = encoder_session()  # imports resemblyzer, its import-time warnings silenced
    from resemblyzer import hparams

    out = np.zeros((len(speakers), hparams.model_embedding_size), dtype=np.float32)
    if not speakers:
        return out
    source = as_source(audio)
    _, mel_hop = _mel_geometry(geometry.sample_rate)
    gain = volume_gain(source)
    n_mel = 1 + source.n_samples // mel_hop  # librosa's centred frame count

    def under(i: np.ndarray) -> np.ndarray:  # the model frame under each mel frame's centre (at sample i * hop)
        return np.clip(np.round((i * mel_hop - geometry.n_fft / 2) / geometry.hop), 0, n_frames - 1).astype(np.int64)

    firsts = np.array([s.frames[0] for s in speakers])
    lasts = np.array([s.frames[-1] for s in speakers])
    est_lo = (firsts * geometry.hop + geometry.n_fft // 2) // mel_hop  # ≈ the first mel frame under each
    est_hi = (lasts * geometry.hop + geometry.n_fft // 2) // mel_hop + 1
    group = np.clip(est_lo, 0, n_mel - 1) // block
    for g in np.unique(group):
        members = np.flatnonzero(group == g)  # in the caller's order
        e0 = max(0, min(int(g) * block, int(est_lo[members].min()) - MEL_MARGIN))
        e1 = min(n_mel, max(int(g + 1) * block, int(est_hi[members].max()) + MEL_MARGIN))
        if lasts[members].max() >= n_frames - 1:  # the last model frame lies under every mel frame to the end
            e1 = n_mel
        mel = mel_range(source, geometry.sample_rate, e0, e1, gain)
        below = under(np.arange(e0, e1))
        order = members[np.argsort([-len(speakers[j].frames) for j in members], kind="stable")]
        for i in range(0, len(order), ENCODER_BATCH):
            batch = order[i : i + ENCODER_BATCH]
            seqs = []
            for j in batch:
                frames = speakers[j].frames
                lo = np.searchsorted(below, frames[0], "left")
                hi = np.searchsorted(below, frames[-1], "right")
                cand = np.arange(lo, hi)
                keep = cand[np.isin(below[cand], frames)]
                seqs.append(mel[keep] if len(keep) else mel[lo : lo + 1])
            lengths = np.array([len(q) for q in seqs], dtype=np.int32)
            x = np.zeros((int(lengths.max()), len(seqs), mel.shape[1]), dtype=np.float32)  # (T, B, 40), zero-padded
            for k, q in enumerate(seqs):
                x[: len(q), k] = q
            (h,) = session.run(["h"], {"x": x, "lens": lengths})
            raw = np.maximum(h[0] @ weight.T + bias, 0.0)
            out[batch] = raw / (np.linalg.norm(raw, axis=1, keepdims=True) + 1e-12)
    return out


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)


def feature_embeddings(audio: np.ndarray | AudioSource, speakers: Sequence[LocalSpeaker], geometry: FrameGeometry,
                       n_frames: int, features: np.ndarray | None = None) -> np.ndarray:
    """Mean standardised hand-made frame features of each local speaker, standardised again across
    the local speakers (for Ward clustering; see module doc);
    ``features``: precomputed (n_frames, d) frame features, else :func:`frame_features` of ``audio``
    (read whole: this fallback is not streamed; its (n_frames, 88) features are standardised over
    the recording)."""
    if features is None:
        source = as_source(audio)
        features, _ = frame_features(source.read(0, source.n_samples), geometry)
    feats = _z(np.asarray(features, dtype=np.float64)[:n_frames])
    return _z(np.array([feats[s.frames].mean(axis=0) for s in speakers]).reshape(len(speakers), feats.shape[1]))


def embed(kind: str, audio: np.ndarray | AudioSource, speakers: Sequence[LocalSpeaker], geometry: FrameGeometry,
          n_frames: int) -> np.ndarray:
    """Embeddings of ``speakers`` by the named embedder (``"encoder"`` or ``"features"``)."""
    if kind == "encoder":
        return encoder_embeddings(audio, speakers, geometry, n_frames)
    if kind == "features":
        return feature_embeddings(audio, speakers, geometry, n_frames)
    raise ConfigError(f"unknown embedding {kind!r}: choose one of {', '.join(EMBEDDINGS)}")
