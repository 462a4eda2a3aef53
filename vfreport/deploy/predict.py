"""Run a trained model (.onnx via ONNX Runtime, or a .pt checkpoint via torch) over whole audio files.

    audio file --AudioFile: any stretch decoded (and resampled) on demand--> 16 kHz mono float32,
      read block by block by every stage below, never whole (docs/deployment.md)
      --speech detection (vfreport.deploy.speech: Silero VAD by default, energy as the fallback)
        --> which model frames hold speech
      --sliding windows (window_seconds, stride half a window, starts on the frame grid)-->
      per-window frame probabilities (softmax of the logits): who is who *within* each window
      --local speakers: each window's two labels, restricted to speech frames
      --embedded (vfreport.deploy.embed: Resemblyzer's pretrained GE2E encoder by default, hand-made
        log-mel + pitch features as the fallback)
      --clustered (vfreport.deploy.cluster: agglomerative, the speaker count estimated by a
        calibrated distance threshold unless given; bounded memory)--> frames vote
      --> per-frame labels --frames_to_segments--> RTTM segments

The named settings of these stages are :class:`PipelineSettings` (CLI flags of ``vfreport
predict``, docs/pipeline.md); :data:`OLD_PIPELINE` is the pipeline before the learned stages
(energy speech, hand-made features, two speakers).

What the labels mean. The model answers, for each window, which frames are one speaker and which
the other (docs/data.md): labels are relative to a window, not speaker identities. Clustering the
windows' local speakers ties them together across the file, so in the output ``"0"`` is the
cluster heard first, ``"1"`` the next, and so on: the file may have more speakers than the
model's two labels, but at most one is labelled at any instant (overlapped speech is partly
missed: :mod:`vfreport.data.overlap` states that floor). Speech frames come from the caller
(the reference's, for scoring with oracle speech activity) or from the speech detector; other
frames get no label. (Chaining each window to the previous one on their overlap,
:func:`align_windows`, is kept for files too short to cluster: on minutes of audio one wrong flip
swaps every later label.)

Segments shorter than ``min_duration`` (default :data:`MIN_SEGMENT_SECONDS` = 0.1 s, about six
16 ms frames) are dropped: single-frame label flickers are not speaker turns, and human RTTM
references rarely contain turns that short. A flicker inside one speaker's turn is absorbed into
the turn; one between two different speakers leaves a short gap (no label) rather than a guess.
"""


from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.data.audio import AudioFile, AudioSource, as_source
from vfreport.data.geometry import GEOMETRY, FrameGeometry
from vfreport.data.labels import first_appearance_numbers
from vfreport.data.rttm import Segment, format_rttm
from vfreport.deploy.cluster import ClusterSettings, centroids, cluster_embeddings, nearest
from vfreport.deploy.embed import EMBEDDINGS, LocalSpeaker, embed, feature_embeddings
from vfreport.deploy.onnx import INPUT_NAME, OUTPUT_NAME, parse_metadata
from vfreport.deploy.speech import SpeechSettings, detect_speech
from vfreport.errors import ConfigError, DataError, ExperimentError
from vfreport.experiment.layout import atomic_write_text

MIN_SEGMENT_SECONDS = 0.1
MIN_CLUSTER_FRAMES = 8
"""Speech frames (128 ms) a window's label needs to count as a local speaker in clustering."""
DEFAULT_WINDOW_SECONDS = 2.0
"""Window length when the model does not say (an ONNX export records the training window)."""
DEFAULT_THRESHOLD = 0.40
"""Cosine distance (average linkage) under which GE2E clusters are one speaker, on real recordings:
calibrated by ``vfreport bench --only calibration`` (:mod:`vfreport.bench.calibration`) on ten real
AMI excerpts (the test data's ``debug.train``, 1-4 speakers, oracle speech) and checked on four
others never used to choose (``debug.development`` + ``debug.test``): docs/pipeline.md."""
SYNTHETIC_THRESHOLD = 0.35
"""The threshold for synthetic meetings (the demo's yardstick): GE2E puts the synthetic voices closer
together than real ones, and at the real recordings' 0.40 it merges them (the demo's six held-out
meetings: every run near the one-speaker baseline). See docs/pipeline.md for how it was chosen."""
DEFAULT_MIN_CLUSTER_SIZE = 3
"""Local speakers (≈ 1 s each) a cluster needs to count as a speaker."""
DEFAULT_MIN_EMBED_SECONDS = 0.4
"""Speech a local speaker needs to be embedded for clustering (shorter ones join the nearest speaker)."""
BATCH_WINDOWS = 32
"""Windows per forward pass: bounds memory on long meetings (32 x 2 s windows = 4 MB of audio)."""

__all__ = [
    "MIN_SEGMENT_SECONDS",
    "OLD_PIPELINE",
    "DEFAULT_THRESHOLD",
    "SYNTHETIC_THRESHOLD",
    "EmbeddedSpeakers",
    "PipelineSettings",
    "Predictor",
    "Segment",
    "align_windows",
    "cluster_windows",
    "embed_local_speakers",
    "frames_to_segments",
    "label_frames",
    "load_predictor",
    "local_speakers",
    "predict_file",
    "predict_audio",
    "predict_files",
    "vote",
    "window_batches",
    "window_and_hop",
    "window_bounds",
    "write_rttm",
]


# ---------------------------------------------------------------------------------------------
# the model, whichever runtime
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictor:
    """A loaded model: ``logits(batch float32 (B, S)) -> (B, T, 2)`` plus its frame geometry."""

    path: Path
    runtime: str  # "onnxruntime" or "torch"
    sample_rate: int
    frame_step: int
    n_fft: int
    logits: Callable[[np.ndarray], np.ndarray]
    window_seconds: float | None = None  # the training window, when the model file records it

    @property
    def geometry(self) -> FrameGeometry:
        return FrameGeometry(self.sample_rate, self.n_fft, self.frame_step)

    def num_frames(self, n_samples: int) -> int:
        return self.geometry.num_frames(n_samples)


def _load_onnx(path: Path) -> Predictor:
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
        raise ExperimentError(f"cannot load ONNX model {path}: {type(e).__name__}: {e}") from e
    meta = parse_metadata(session.get_modelmeta().custom_metadata_map)
    missing = [k for k in ("sample_rate", "frame_step", "n_fft") if not isinstance(meta.get(k), int)]
    inputs = [i.name for i in session.get_inputs()]
    if missing or INPUT_NAME not in inputs:
        raise ExperimentError(
            f"{path} is not a vfreport ONNX model (metadata lacks {', '.join(missing) or '-'}; inputs {inputs}); "
            "export one with `vfreport export-onnx DIR`"
        )

    def logits(batch: np.ndarray) -> np.ndarray:
        return session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(batch, dtype=np.float32)})[0]

    window = meta.get("window_seconds") if isinstance(meta.get("window_seconds"), float) else None
    return Predictor(path, "onnxruntime", meta["sample_rate"], meta["frame_step"], meta["n_fft"], logits, window)


def _load_torch(path: Path) -> Predictor:
    import torch

    from vfreport.model.network import FastDiarizationModel

    model = FastDiarizationModel.from_checkpoint(path)  # ExperimentError on a bad file

    def logits(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))).float().numpy()

    cfg = model.config
    return Predictor(path, "torch", int(cfg.sample_rate), int(cfg.hop), int(cfg.n_fft), logits)


def load_predictor(model_path: Path | str) -> Predictor:
    """Load an ``.onnx`` model (ONNX Runtime, CPU) or a ``.pt`` vfreport checkpoint (torch)."""
    path = Path(model_path)
    if not path.is_file():
        raise ExperimentError(f"model file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return _load_onnx(path)
    if suffix in (".pt", ".pth"):
        return _load_torch(path)
    raise ExperimentError(f"{path}: unknown model type {suffix!r}: give an .onnx model or a .pt checkpoint")


# ---------------------------------------------------------------------------------------------
# pure steps
# ---------------------------------------------------------------------------------------------


def window_bounds(n_samples: int, window: int, hop: int, frame_step: int) -> list[tuple[int, int]]:
    """Sample ranges ``[start, stop)`` of the sliding windows over a recording.

    Starts are multiples of ``frame_step`` (``hop`` must be one), so every window's frames fall on
    the recording's frame grid. The last window is moved back to end at the recording's end (and
    stretched by < 1 frame step to reach it), so every frame of the recording is covered. A
    recording shorter than one window is one window.
    """
    if hop <= 0 or hop % frame_step:
        raise ConfigError(f"hop {hop} samples must be a positive multiple of the frame step {frame_step}")
    if n_samples <= window:
        return [(0, n_samples)]
    bounds = [(s, s + window) for s in range(0, n_samples - window + 1, hop)]
    if bounds[-1][1] < n_samples:
        last = ((n_samples - window) // frame_step) * frame_step
        if last > bounds[-1][0]:
            bounds.append((last, n_samples))
        else:
            bounds[-1] = (bounds[-1][0], n_samples)
    return bounds


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def align_windows(
    window_probs: Sequence[np.ndarray], first_frames: Sequence[int], n_frames: int
) -> tuple[np.ndarray, list[bool]]:
    """Chain per-window relative labels into file-level labels and average overlapping frames.

    Windows are taken in order. Each window's (T, 2) probabilities are compared with the running
    average of the windows before it on the frames they share: if swapping its two columns gives a
    larger agreement ``sum_t p_t . q_t`` (the expected number of frames on which both say the same
    label), the window is swapped. The first window fixes the labels. A window sharing no frame
    with the earlier ones is kept as it is. Returns the (n_frames, 2) averaged probabilities
    (rows with no window stay 0) and which windows were flipped.
    """
    acc = np.zeros((n_frames, 2), dtype=np.float64)
    count = np.zeros(n_frames, dtype=np.int64)
    flipped: list[bool] = []
    for p, first in zip(window_probs, first_frames, strict=True):
        p = np.asarray(p, dtype=np.float64)
        sl = slice(first, first + len(p))
        if sl.stop > n_frames:
            raise ValueError(f"window at frame {first} with {len(p)} frames runs past {n_frames} frames")
        seen = count[sl] > 0
        flip = False
        if seen.any():
            q = acc[sl][seen] / count[sl][seen, None]
            keep_score = float((p[seen] * q).sum())
            flip_score = float((p[seen][:, ::-1] * q).sum())
            flip = flip_score > keep_score
        if flip:
            p = p[:, ::-1]
        acc[sl] += p
        count[sl] += 1
        flipped.append(flip)
    out = np.divide(acc, count[:, None], out=np.zeros_like(acc), where=count[:, None] > 0)
    return out, flipped


def frames_to_segments(
    labels: np.ndarray,
    n_samples: int,
    uri: str,
    sample_rate: int,
    frame_step: int,
    n_fft: int,
    min_duration: float = MIN_SEGMENT_SECONDS,
) -> list[Segment]:
    """Runs of equal frame labels -> segments (speaker ``str(label)``), sorted by start; frames
    labelled -1 (no speech) make no segment.

    Frame ``j`` is centred at ``(j * frame_step + n_fft / 2) / sample_rate`` and covers half a
    step on each side; the first frame's span is extended to 0 s and the last one's to the end of
    the audio. Runs shorter than ``min_duration`` seconds are dropped; two kept runs of the same
    speaker with only dropped runs between them become one segment (a 50 ms flicker inside a
    turn does not split the turn), unless a non-speech run of at least ``min_duration`` lies
    between them: a pause is never labelled. Runs of different speakers never overlap.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n == 0:
        return []
    edges = (np.arange(n + 1) * frame_step + n_fft / 2 - frame_step / 2) / sample_rate
    edges[0], edges[-1] = 0.0, n_samples / sample_rate
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [n]])
    kept: list[tuple[float, float, str]] = []
    pause = False  # a non-speech run of at least min_duration since the last kept run
    for a, b in zip(starts, stops, strict=True):
        start, end, speaker = float(edges[a]), float(edges[b]), str(int(labels[a]))
        if labels[a] < 0 or end - start < min_duration:  # -1: no speech, no segment
            pause = pause or (labels[a] < 0 and end - start >= min_duration)
            continue
        if kept and kept[-1][2] == speaker and not pause:  # only dropped flickers lay between: one turn
            start = kept.pop()[0]
        kept.append((start, end, speaker))
        pause = False
    return [Segment(uri, start, end - start, speaker) for start, end, speaker in kept]


def _uri(path: Path) -> str:
    """RTTM uri: the file stem, whitespace replaced by '_' (RTTM fields are space-separated)."""
    return "_".join(path.stem.split()) or "audio"


# ---------------------------------------------------------------------------------------------
# the pipeline around the model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineSettings:
    """The named settings of predict's pipeline around the model (docs/pipeline.md).

    ``speech``: the speech detector and its thresholds (:class:`SpeechSettings`; ignored when the
    caller passes speech frames). ``embedding``: ``"encoder"`` (Resemblyzer's pretrained GE2E) or
    ``"features"`` (hand-made log-mel + pitch features). ``threshold``: the cosine distance
    (average linkage) under which two local speakers' clusters are one speaker, for the encoder;
    the features' Ward distances are not calibrated, so with ``"features"`` the count is
    ``num_speakers`` (default 2, the pipeline before the encoder). ``num_speakers`` fixes the count;
    ``min_speakers`` / ``max_speakers`` bound the estimate (pyannote's pipeline options).
    ``min_cluster_size``: local speakers a cluster needs to count as a speaker. ``min_embed_seconds``:
    speech a local speaker needs to be embedded for clustering; shorter ones join the nearest speaker."""

    speech: SpeechSettings = field(default_factory=SpeechSettings)
    embedding: str = "encoder"
    threshold: float = DEFAULT_THRESHOLD
    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int | None = None
    min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE
    min_embed_seconds: float = DEFAULT_MIN_EMBED_SECONDS

    def __post_init__(self) -> None:
        if self.embedding not in EMBEDDINGS:
            raise ConfigError(f"unknown embedding {self.embedding!r}: choose one of {', '.join(EMBEDDINGS)}")
        if not 0.0 < self.threshold < 2.0:
            raise ConfigError(f"clustering threshold {self.threshold} must be a cosine distance in (0, 2)")
        if self.min_cluster_size < 1 or self.min_embed_seconds < 0:
            raise ConfigError(f"min_cluster_size {self.min_cluster_size} must be >= 1 and min_embed_seconds "
                              f"{self.min_embed_seconds} >= 0")
        self.cluster_settings()  # range checks of the speaker counts

    def cluster_settings(self) -> ClusterSettings:
        """The clustering these settings imply: Ward with a fixed count for the features, average
        linkage on cosine distance with the count estimated for the encoder."""
        if self.embedding == "features":
            return ClusterSettings(None, self.num_speakers, self.min_speakers, self.max_speakers, 1, "euclidean")
        return ClusterSettings(self.threshold, self.num_speakers, self.min_speakers, self.max_speakers,
                               self.min_cluster_size, "cosine")


OLD_PIPELINE = PipelineSettings(SpeechSettings(detector="energy"), embedding="features", num_speakers=2,
                                min_embed_seconds=0.0)
"""The pipeline before the learned detector and encoder: energy speech, hand-made features, two speakers."""


class _Clock:
    """Adds the seconds spent in each named stage to ``timings`` (when given)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            if self.timings is not None:
                self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0


def window_batches(predictor: Predictor, audio: np.ndarray | AudioSource, window: int, hop: int
                   ) -> Iterator[tuple[list[np.ndarray], list[int]]]:
    """The model's (T, 2) frame probabilities for the sliding windows (:func:`window_bounds`), and
    each window's first frame, a batch at a time: up to :data:`BATCH_WINDOWS` consecutive windows of
    equal length, whose stretch of audio is read once from ``audio``. Memory O(batch)."""
    source = as_source(audio)
    bounds = window_bounds(source.n_samples, window, hop, predictor.frame_step)
    i = 0
    while i < len(bounds):
        length = bounds[i][1] - bounds[i][0]
        j = i
        while j < len(bounds) and j - i < BATCH_WINDOWS and bounds[j][1] - bounds[j][0] == length:
            j += 1
        a0 = bounds[i][0]
        span = source.read(a0, bounds[j - 1][1])
        batch = np.stack([span[a - a0 : b - a0] for a, b in bounds[i:j]])
        yield list(softmax(predictor.logits(batch).astype(np.float64))), [a // predictor.frame_step
                                                                          for a, _ in bounds[i:j]]
        i = j


def window_and_hop(predictor: Predictor, window_seconds: float | None = None, hop_seconds: float | None = None
                   ) -> tuple[int, int]:
    """predict's sliding windows in samples: ``window_seconds`` (default: the model's training window,
    else :data:`DEFAULT_WINDOW_SECONDS`) and ``hop_seconds`` (default half a window) rounded to the
    frame step. ConfigError when the window is shorter than two frames or the hop is not in (0, window]."""
    sr, step = predictor.sample_rate, predictor.frame_step
    if window_seconds is None:
        window_seconds = predictor.window_seconds or DEFAULT_WINDOW_SECONDS
    window = int(round(window_seconds * sr))
    if window < predictor.n_fft + step:
        raise ConfigError(f"window_seconds={window_seconds} is shorter than two model frames "
                          f"({(predictor.n_fft + step) / sr:.3f} s)")
    hop_s = window_seconds / 2 if hop_seconds is None else hop_seconds
    hop = max(step, int(round(hop_s * sr / step)) * step)
    if hop_s <= 0 or hop > window:
        raise ConfigError(f"hop_seconds={hop_seconds} must be > 0 and at most window_seconds={window_seconds}")
    return window, hop


def predict_audio(
    predictor: Predictor,
    audio: np.ndarray | AudioSource,
    uri: str,
    window_seconds: float | None = None,
    hop_seconds: float | None = None,
    min_duration: float = MIN_SEGMENT_SECONDS,
    speech: np.ndarray | None = None,
    *,
    settings: PipelineSettings | None = None,
    timings: dict[str, float] | None = None,
) -> list[Segment]:
    """Segments for one recording at ``predictor.sample_rate`` (see module doc): a 1-D float32 array,
    or an :class:`~vfreport.data.audio.AudioSource` (e.g. an :class:`~vfreport.data.audio.AudioFile`)
    that every stage reads block by block, so memory does not grow with the recording beyond the
    per-frame labels, the local speakers and their embeddings (docs/deployment.md).

    ``speech``: which of the recording's frames hold speech (e.g. the reference's, for scoring with
    oracle speech activity); by default ``settings.speech``'s detector (:mod:`vfreport.deploy.speech`).
    ``settings``: the pipeline's named settings (:class:`PipelineSettings`; default: Silero VAD,
    GE2E encoder, estimated speaker count). ``timings``: if given, seconds per stage are added to it
    (``detector``, ``model``, ``encoder``, ``clustering``)."""
    settings = settings or PipelineSettings()
    clock = _Clock(timings)
    sr, step = predictor.sample_rate, predictor.frame_step
    window, hop = window_and_hop(predictor, window_seconds, hop_seconds)
    source = as_source(audio)
    n = source.n_samples
    n_frames = predictor.num_frames(n)
    if n_frames < 2:  # the model normalises features over a window's frames: one frame is undefined
        return []
    if speech is None:
        with clock("detector"):
            speech = detect_speech(source, predictor.geometry, settings.speech)
    elif len(speech) != n_frames:
        raise ConfigError(f"speech mask has {len(speech)} frames, the recording {n_frames}")
    embedded = embed_local_speakers(predictor, source, np.asarray(speech, dtype=bool), window, hop, settings, clock)
    labels = label_frames(embedded, settings, sr / step, clock)
    return frames_to_segments(labels, n, uri, sr, step, predictor.n_fft, min_duration)


@dataclass(frozen=True)
class EmbeddedSpeakers:
    """What predict's pipeline holds before clustering: the local speakers, their embeddings
    (None when fewer than two were found) and, then, the frame labels the chained windows give
    instead (:func:`align_windows`). Everything after this depends only on the clustering
    settings, so a calibration (:mod:`vfreport.bench.calibration`) embeds once and clusters many
    times."""

    speakers: list[LocalSpeaker]
    x: np.ndarray | None
    fallback: np.ndarray | None
    n_frames: int


def embed_local_speakers(predictor: Predictor, source: AudioSource, speech: np.ndarray, window: int, hop: int,
                         settings: PipelineSettings, clock: Callable[[str], Any] | None = None) -> EmbeddedSpeakers:
    """predict's stages up to the embeddings (module doc): the model's sliding windows split into
    local speakers on the ``speech`` frames, each embedded by ``settings.embedding``."""
    clock = clock or _Clock(None)
    n_frames = len(speech)
    speakers: list[LocalSpeaker] = []
    probs: list[np.ndarray] = []  # every window's, kept only while fewer than 2 local speakers are found
    firsts: list[int] = []
    batches = window_batches(predictor, source, window, hop)
    while True:
        with clock("model"):
            batch = next(batches, None)
        if batch is None:
            break
        speakers.extend(local_speakers(*batch, speech))
        if len(speakers) < 2:
            probs.extend(batch[0])
            firsts.extend(batch[1])
        else:
            probs, firsts = [], []
    if len(speakers) < 2:
        averaged, _ = align_windows(probs, firsts, n_frames)
        return EmbeddedSpeakers(speakers, None, np.where(speech, averaged.argmax(axis=1), -1), n_frames)
    with clock("encoder"):
        x = embed(settings.embedding, source, speakers, predictor.geometry, n_frames)
    return EmbeddedSpeakers(speakers, x, None, n_frames)


def label_frames(embedded: EmbeddedSpeakers, settings: PipelineSettings, frames_per_second: float,
                 clock: Callable[[str], Any] | None = None) -> np.ndarray:
    """Per-frame labels (−1: none) from the embedded local speakers: the ones with at least
    ``settings.min_embed_seconds`` of speech are clustered (:func:`cluster_embeddings`), the others
    join the nearest cluster, and frames vote (:func:`vote`)."""
    if embedded.x is None:
        assert embedded.fallback is not None
        return embedded.fallback
    clock = clock or _Clock(None)
    speakers, x = embedded.speakers, embedded.x
    min_frames = int(round(settings.min_embed_seconds * frames_per_second))
    long_enough = np.array([len(s.frames) >= min_frames for s in speakers])
    if long_enough.sum() < 2:
        long_enough[:] = True
    with clock("clustering"):
        cs = settings.cluster_settings()
        cluster = np.zeros(len(speakers), dtype=np.int64)
        cluster[long_enough] = cluster_embeddings(x[long_enough], cs)
        if not long_enough.all():
            means = centroids(x[long_enough], cluster[long_enough], int(cluster.max()) + 1, cs.metric)
            cluster[~long_enough] = nearest(x[~long_enough], means, cs.metric)
    return vote(speakers, cluster, embedded.n_frames)


def local_speakers(window_probs: Sequence[np.ndarray], first_frames: Sequence[int], speech: np.ndarray,
                   min_frames: int = MIN_CLUSTER_FRAMES) -> list[LocalSpeaker]:
    """Each window's speech frames split by its argmax label; a part with at least ``min_frames``
    frames is a local speaker (frames in recording indices, weights = the label's probability)."""
    speech = np.asarray(speech, dtype=bool)
    out: list[LocalSpeaker] = []
    for p, first in zip(window_probs, first_frames, strict=True):
        p = np.asarray(p, dtype=np.float64)
        local = p.argmax(axis=1)
        for c in (0, 1):
            frames = np.flatnonzero((local == c) & speech[first : first + len(p)])
            if len(frames) >= min_frames:
                out.append(LocalSpeaker(first + frames, p[frames, c]))
    return out


def vote(speakers: Sequence[LocalSpeaker], cluster: np.ndarray, n_frames: int) -> np.ndarray:
    """Per-frame labels: each frame takes the cluster with the most weight from the local speakers
    covering it, numbered by first appearance ("0" speaks first); frames no local speaker covers are -1."""
    k = int(np.max(cluster)) + 1 if len(cluster) else 0
    votes = np.zeros((n_frames, max(k, 1)))
    for s, c in zip(speakers, cluster, strict=True):
        votes[s.frames, c] += s.weights
    voted = votes.sum(axis=1) > 0
    labels = np.full(n_frames, -1, dtype=np.int64)
    labels[voted] = first_appearance_numbers(votes[voted].argmax(axis=1))
    return labels


def cluster_windows(
    window_probs: Sequence[np.ndarray], first_frames: Sequence[int], n_frames: int, features: np.ndarray,
    speech: np.ndarray, n_speakers: int = 2, min_frames: int = MIN_CLUSTER_FRAMES,
) -> np.ndarray:
    """File-level labels (n_frames,) from per-window relative labels by clustering hand-made
    embeddings into ``n_speakers`` (the ``"features"`` embedding of :class:`PipelineSettings`).

    Each window's frames are split by its argmax label (:func:`local_speakers`); each local speaker
    is embedded as the mean of ``features`` (standardised over the recording: log-mel energies and
    pitch periodicity, :func:`vfreport.data.spectral.frame_features`) over its speech frames; Ward agglomerative
    clustering (:func:`vfreport.deploy.cluster.cluster_embeddings`, bounded memory) groups them into
    ``n_speakers``; every frame takes the cluster with the most weight (:func:`vote`). With fewer
    than two local speakers, :func:`align_windows` chains the windows instead.

    Why not chaining alone: one wrong flip between two windows swaps every later label, so on
    minutes of audio the chained labels drift towards chance (the demo's held-out meetings:
    docs/performance.md); clustering does not propagate errors.
    """
    speech = np.asarray(speech, dtype=bool)
    speakers = local_speakers(window_probs, first_frames, speech, min_frames)
    if len(speakers) < 2:
        averaged, _ = align_windows(window_probs, first_frames, n_frames)
        return np.where(speech, averaged.argmax(axis=1), -1)
    x = feature_embeddings(np.zeros(0, np.float32), speakers, GEOMETRY, n_frames, features)
    cluster = cluster_embeddings(x, ClusterSettings(num_speakers=n_speakers, metric="euclidean"))
    return vote(speakers, cluster, n_frames)


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def predict_file(
    model_path: Path | str | Predictor,
    audio_path: Path | str,
    window_seconds: float | None = None,
    hop_seconds: float | None = None,
    *,
    min_duration: float = MIN_SEGMENT_SECONDS,
    settings: PipelineSettings | None = None,
    timings: dict[str, float] | None = None,
) -> list[Segment]:
    """Speaker segments of a whole audio file (uri = file stem; speakers "0", "1", ..., see module doc).

    ``model_path``: an ``.onnx`` model, a ``.pt`` checkpoint, or a loaded :class:`Predictor`.
    The file is read block by block (:class:`~vfreport.data.audio.AudioFile`: mixed down to mono,
    resampled to the model's rate per block, never held whole); windows of
    ``window_seconds`` (default: the training window recorded in an ONNX export, else 2 s) slide by
    ``hop_seconds`` (default half a window, rounded to the frame step).
    """
    predictor = model_path if isinstance(model_path, Predictor) else load_predictor(model_path)
    audio_path = Path(audio_path)
    with AudioFile(audio_path, predictor.sample_rate) as audio:  # AudioDecodeError names the file
        return predict_audio(predictor, audio, _uri(audio_path), window_seconds, hop_seconds, min_duration,
                             settings=settings, timings=timings)


def write_rttm(segments: Sequence[Segment], out: Path | str) -> Path:
    """Write ``segments`` as RTTM lines (``SPEAKER <uri> 1 <onset> <dur> <NA> <NA> <speaker> <NA> <NA>``)
    to ``out`` atomically; an empty list writes an empty file."""
    return atomic_write_text(out, format_rttm(segments))


def predict_files(
    model: Path | str,
    audio_paths: Sequence[Path | str],
    out_dir: Path | str | None = None,
    window_seconds: float | None = None,
    hop_seconds: float | None = None,
    *,
    settings: PipelineSettings | None = None,
) -> dict[Path, list[Segment]]:
    """Predict every file with one loaded model; with ``out_dir`` also write ``<stem>.rttm`` per file.

    Two inputs with the same stem would share a uri and an output file: DataError before any work.
    """
    paths = [Path(p) for p in audio_paths]
    seen: dict[str, Path] = {}
    for p in paths:
        if _uri(p) in seen:
            raise DataError(f"{seen[_uri(p)]} and {p} have the same name {_uri(p)!r}: RTTM uris and "
                            "output files must be unique; rename one")
        seen[_uri(p)] = p
    predictor = load_predictor(model)
    results: dict[Path, list[Segment]] = {}
    for p in paths:
        segments = predict_file(predictor, p, window_seconds, hop_seconds, settings=settings)
        results[p] = segments
        if out_dir is not None:
            write_rttm(segments, Path(out_dir) / f"{p.stem}.rttm")
    return results
