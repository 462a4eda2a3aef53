"""Frame labels and masks for the training task (docs/data.md): pure, vectorised numpy functions.

Frame geometry is :class:`vfreport.data.geometry.FrameGeometry` (the model's grid, torch-free):
a window of S samples has T = 1 + (S - 400) // 256 frames, frame i covering samples
[256 i, 256 i + 400) and centred at (256 i + 200) / 16000 s. A speaker is *active* in a frame when
the frame centre t satisfies ``start <= t < end`` for one of the speaker's turns.

Every builder returns ``labels`` (T,) int64 in {0, 1} and ``mask`` (T,) bool; only frames with
``mask`` True are scored. Masked frames carry label 0, which means nothing.

- LibriSpeech (pseudo-labels): :func:`round_robin_labels` per utterance, :func:`utterance_labels`
  per window;
- AMI ``two-speaker``: :func:`two_speaker_window`;
- AMI ``cluster``: :func:`speaker_groups`, :func:`cluster_labels`, :func:`cluster_window`;
- AMI ``pairs``: :func:`solo_runs` to find single-speaker stretches, :func:`pairs_window` to join two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from vfreport.data.geometry import GEOMETRY, FrameGeometry
from vfreport.objective import check_resolved

MIN_SHARE = 0.10
"""two-speaker: each of the two speakers must speak alone in at least this share of the window's frames."""

MIN_SCORED = 0.50
"""cluster: at least this share of the window's frames must have exactly one active speaker."""



# ---------------------------------------------------------------------------------------------
# LibriSpeech: round-robin pseudo-labels
# ---------------------------------------------------------------------------------------------


def first_appearance_numbers(ids: Sequence) -> np.ndarray:
    """Number each distinct id by the order of its first appearance: [7, 3, 7, 9] -> [0, 1, 0, 2]."""
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"speaker ids must be one-dimensional, got shape {arr.shape}")
    _, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def round_robin_labels(speaker_ids: Sequence) -> np.ndarray:
    """Round-robin pseudo-labels: speakers numbered in order of first appearance, label = number mod 2.

    ``[7, 3, 7, 9, 3, 11]`` -> numbers ``[0, 1, 0, 2, 1, 3]`` -> labels ``[0, 1, 0, 0, 1, 1]``.
    Balanced to within one speaker by construction; the label says nothing about the voice, which
    is what the baseline arm measures (docs/data.md).
    """
    return first_appearance_numbers(speaker_ids) % 2


def utterance_labels(
    label: int, n_samples: int, n_valid: int, cfg: FrameGeometry = GEOMETRY
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and mask of a window of ``n_samples`` whose first ``n_valid`` samples are one utterance.

    Every frame carries ``label``; frames that reach into the zero padding after ``n_valid``
    samples (any of their 400 samples) are masked.
    """
    t = cfg.num_frames(n_samples)
    labels = np.full(t, int(label), dtype=np.int64)
    mask = np.arange(t) < cfg.num_frames(min(n_valid, n_samples))
    return labels, mask


# ---------------------------------------------------------------------------------------------
# AMI: speaker turns -> frame activity
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turns:
    """A recording's speaker turns as arrays: turn k is ``names[speaker[k]]`` from ``start[k]`` to
    ``end[k]`` seconds. ``names`` are the recording's speaker labels, sorted."""

    start: np.ndarray
    end: np.ndarray
    speaker: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def from_lists(cls, starts: Sequence[float], ends: Sequence[float], speakers: Sequence) -> Turns:
        s = np.asarray(starts, dtype=np.float64).reshape(-1)
        e = np.asarray(ends, dtype=np.float64).reshape(-1)
        labels = [str(x) for x in speakers]
        if not (len(s) == len(e) == len(labels)):
            raise ValueError(f"turn lists differ in length: {len(s)} starts, {len(e)} ends, {len(labels)} speakers")
        names = tuple(sorted(set(labels)))
        index = {n: i for i, n in enumerate(names)}
        spk = np.fromiter((index[x] for x in labels), dtype=np.int64, count=len(labels))
        return cls(s, e, spk, names)

    @classmethod
    def from_segments(cls, segments: Iterable[tuple[float, float, object]]) -> Turns:
        """From ``(start, end, speaker)`` tuples."""
        rows = list(segments)
        return cls.from_lists([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    def __len__(self) -> int:
        return len(self.start)


def speaker_activity(
    segments: Turns | Iterable[tuple[float, float, object]],
    window_start: float,
    n_frames: int,
    cfg: FrameGeometry = GEOMETRY,
) -> np.ndarray:
    """(n_frames, n_speakers) bool: is speaker s active at the centre of frame i of a window that
    starts ``window_start`` seconds into the recording?

    Columns follow the sorted speaker labels (:attr:`Turns.names`). Frame i is centred at
    ``window_start + frame_centers(n_frames)[i]``; a turn [start, end) covers the frames whose
    centre lies in it. Cost O(turns + frames x speakers) (a difference array, no per-frame loop).
    """
    turns = segments if isinstance(segments, Turns) else Turns.from_segments(segments)
    n_spk = len(turns.names)
    if n_frames <= 0 or n_spk == 0:
        return np.zeros((max(n_frames, 0), n_spk), dtype=bool)
    t = window_start + cfg.frame_centers(n_frames)
    i0 = np.searchsorted(t, turns.start, side="left")  # first frame with centre >= start
    i1 = np.searchsorted(t, turns.end, side="left")  # first frame with centre >= end
    keep = i1 > i0
    diff = np.zeros((n_spk, n_frames + 1), dtype=np.int32)
    np.add.at(diff, (turns.speaker[keep], i0[keep]), 1)
    np.add.at(diff, (turns.speaker[keep], i1[keep]), -1)
    return (np.cumsum(diff[:, :-1], axis=1) > 0).T


# ---------------------------------------------------------------------------------------------
# AMI two-speaker
# ---------------------------------------------------------------------------------------------


def first_speaker(activity: np.ndarray, columns: Sequence[int]) -> int:
    """Of the speaker ``columns``, the one who speaks first: earliest active frame, ties broken by
    the earliest frame in which they speak alone, then by column order."""
    cols = np.asarray(columns, dtype=np.int64)
    on = np.asarray(activity, dtype=bool)[:, cols]
    alone = on & (activity.sum(axis=1) == 1)[:, None]
    n = on.shape[0]
    onset = np.where(on.any(axis=0), on.argmax(axis=0), n)
    first_alone = np.where(alone.any(axis=0), alone.argmax(axis=0), n)
    return int(cols[np.lexsort((cols, first_alone, onset))[0]])


def two_speaker_window(activity: np.ndarray, min_share: float = MIN_SHARE) -> tuple[np.ndarray, np.ndarray] | None:
    """Labels for the ``two-speaker`` strategy, or None if the window does not qualify.

    ``activity`` is (T, n_speakers) bool (:func:`speaker_activity`). The window qualifies when
    exactly two speakers are active somewhere in it and each of them speaks alone in at least
    ``min_share`` of its T frames (default 10 %: both voices are heard, so the first-speaker
    question has an answer). Label 0 = the speaker who speaks first (:func:`first_speaker`), 1 = the
    other; frames of silence or overlap are masked.
    """
    activity = np.asarray(activity, dtype=bool)
    t = activity.shape[0]
    active = np.flatnonzero(activity.any(axis=0))
    if len(active) != 2 or t == 0:
        return None
    solo = activity.sum(axis=1) == 1
    alone = activity[:, active] & solo[:, None]  # (T, 2)
    if alone.sum(axis=0).min() < min_share * t:
        return None
    second = active[1] if first_speaker(activity, active) == active[0] else active[0]
    labels = (activity[:, second] & solo).astype(np.int64)
    return labels, solo


# ---------------------------------------------------------------------------------------------
# AMI cluster
# ---------------------------------------------------------------------------------------------


def speaker_groups(speakers: Sequence[str]) -> np.ndarray:
    """Split a meeting's speakers into two fixed groups: the first half of the *sorted* labels ->
    group 0, the rest -> group 1 (A+B vs C+D, as in the strategy document; with an odd count the
    first group has one more). Returned in the order of ``speakers``."""
    labels = [str(s) for s in speakers]
    ordered = sorted(set(labels))
    half = (len(ordered) + 1) // 2
    group = {name: int(i >= half) for i, name in enumerate(ordered)}
    return np.array([group[s] for s in labels], dtype=np.int64)


def cluster_labels(activity: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels for the ``cluster`` strategy: the group (``groups[s]``, 0/1) of the single active
    speaker; frames of silence or overlap (even within one group) are masked."""
    activity = np.asarray(activity, dtype=bool)
    solo = activity.sum(axis=1) == 1
    who = np.argmax(activity, axis=1)
    labels = np.where(solo, np.asarray(groups, dtype=np.int64)[who] if activity.shape[1] else 0, 0)
    return labels.astype(np.int64), solo


def cluster_window(
    activity: np.ndarray, groups: np.ndarray, min_scored: float = MIN_SCORED
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`cluster_labels` if at least ``min_scored`` of the frames are scored, else None."""
    labels, mask = cluster_labels(activity, groups)
    if len(mask) == 0 or mask.mean() < min_scored:
        return None
    return labels, mask


# ---------------------------------------------------------------------------------------------
# AMI pairs
# ---------------------------------------------------------------------------------------------


def solo_runs(activity: np.ndarray, min_frames: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of frames in which exactly one speaker is active, at least ``min_frames`` long.

    Returns ``(speaker, start, stop)`` int64 arrays: speaker column, first frame, one past the last.
    """
    activity = np.asarray(activity, dtype=bool)
    solo = activity.sum(axis=1) == 1
    code = np.where(solo, np.argmax(activity, axis=1), -1) if activity.shape[1] else np.full(len(solo), -1)
    if len(code) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(code)]])
    spk = code[starts]
    keep = (spk >= 0) & (stops - starts >= min_frames)
    return spk[keep].astype(np.int64), starts[keep].astype(np.int64), stops[keep].astype(np.int64)


def pairs_window(
    first: np.ndarray, second: np.ndarray, same: bool, cfg: FrameGeometry = GEOMETRY
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``pairs`` window: audio ``first`` then ``second`` (two stretches of single-speaker speech).

    Returns ``(audio, labels, mask)``. Frames lying wholly in ``first`` are labelled 0; frames lying
    wholly in ``second`` are labelled 0 if ``same`` (the same speaker) else 1 (another speaker of the
    meeting); the frames whose 400 samples straddle the junction are masked. With same/different
    pairs drawn 50/50 the pair labels are balanced; note that frame labels are then 3/4 zeros, since
    the first half is always 0.
    """
    audio = np.concatenate([np.asarray(first, np.float32), np.asarray(second, np.float32)])
    t = cfg.num_frames(len(audio))
    lo = np.arange(t) * cfg.hop
    in_first = lo + cfg.n_fft <= len(first)
    in_second = lo >= len(first)
    labels = np.where(in_second, 0 if same else 1, 0).astype(np.int64)
    return audio, labels, in_first | in_second


def position_baseline_accuracy(
    train_labels: np.ndarray, train_mask: np.ndarray, val_labels: np.ndarray, val_mask: np.ndarray
) -> float:
    """Validation frame accuracy of a predictor that ignores the audio: each frame gets the
    majority training label at its position in the window (ties -> 0).

    It measures how much of a task's accuracy the frame position alone explains: 0.5 for
    LibriSpeech round-robin labels (every frame of a window shares one label), well above 0.5
    for ``two-speaker`` windows, where the first speaker is label 0 by definition. A model's
    accuracy above this baseline is what it learnt from the voices.
    """
    prediction = position_rule(train_labels, train_mask)
    n = val_mask.sum()
    if n == 0:
        return float("nan")
    return float(((val_labels.astype(bool) == prediction[None, :]) & val_mask).sum() / n)


# ---------------------------------------------------------------------------------------------
# audio-free baselines
# ---------------------------------------------------------------------------------------------

def window_hits(pred: np.ndarray, labels: np.ndarray, mask: np.ndarray, objective: str = "fixed") -> np.ndarray:
    """Correct scored frames per window (N,) of binary predictions ``pred`` (N, T) or (T,).

    ``pit``: per window, the better of the two assignments of the predicted labels to the true
    ones, i.e. ``max(hits, scored - hits)`` (the score pyannote's segmentation uses).
    """
    labels = np.asarray(labels).astype(bool)
    mask = np.asarray(mask, dtype=bool)
    pred = np.broadcast_to(np.asarray(pred).astype(bool), labels.shape)
    hits = ((pred == labels) & mask).sum(axis=-1)
    if check_resolved(objective) == "pit":
        return np.maximum(hits, mask.sum(axis=-1) - hits)
    return hits


def audio_free_baseline_accuracy(
    objective: str, train_labels: np.ndarray, train_mask: np.ndarray, eval_labels: np.ndarray, eval_mask: np.ndarray
) -> float:
    """Frame accuracy on the ``eval`` windows of the best predictor that ignores the audio, scored
    like the model (``objective``: ``fixed`` or ``pit``); nan if nothing is scored.

    - ``fixed``: :func:`position_baseline_accuracy` (the majority training label at each frame
      position).
    - ``pit``: the best, on the eval windows, of the audio-free rules scored permutation-
      invariantly: the position rule above, and every "one change at frame c" rule (label 0 before
      frame c, 1 from it; c = 0 is one label for every frame, which scores each window's majority-
      speaker share), :func:`best_change_point_rule`. Taking the best on the eval windows
      themselves makes the baseline, if anything, too high: a lift over it is not flattered.

    A model's lift is its accuracy minus this, on the same windows and the same scoring.
    """
    eval_labels = np.asarray(eval_labels)
    eval_mask = np.asarray(eval_mask, dtype=bool)
    n = int(eval_mask.sum())
    if n == 0:
        return float("nan")
    if check_resolved(objective) == "fixed":
        return position_baseline_accuracy(train_labels, train_mask, eval_labels, eval_mask)
    _, change = best_change_point_rule(eval_labels, eval_mask)
    position = window_hits(position_rule(train_labels, train_mask), eval_labels, eval_mask, "pit").sum()
    return float(max(change, position) / n)


def best_change_point_rule(labels: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """The audio-free rule "label 0 before frame c, 1 from frame c on" that scores the most frames
    on these windows under permutation-invariant scoring: ``(c, frames correct)``. c = 0 is one
    label for every frame. All T + 1 rules at once from cumulative counts, O(N T)."""
    labels = np.atleast_2d(np.asarray(labels)).astype(bool)
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))

    def before(x: np.ndarray) -> np.ndarray:  # (N, T + 1): count of x in frames 0 .. c - 1
        return np.pad(np.cumsum(x, axis=1), ((0, 0), (1, 0)))

    ones = mask & labels
    hits = before(mask & ~labels) + ones.sum(axis=1, keepdims=True) - before(ones)  # 0s before c, 1s from c
    total = np.maximum(hits, mask.sum(axis=1, keepdims=True) - hits).sum(axis=0)
    c = int(np.argmax(total))
    return c, int(total[c])


def position_rule(train_labels: np.ndarray, train_mask: np.ndarray) -> np.ndarray:
    """(T,) bool: the majority training label at each frame position (ties -> 0)."""
    train_mask = np.asarray(train_mask, dtype=bool)
    scored = train_mask.sum(axis=0)
    ones = (np.asarray(train_labels).astype(bool) & train_mask).sum(axis=0)
    return ones * 2 > scored
