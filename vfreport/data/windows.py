"""Model-ready windows: audio (N, S) float32, frame labels (N, T) int64, frame mask (N, T) bool.

:func:`prepare_arm` builds the training and validation windows of one arm (docs/architecture.md, docs/data.md) or
loads them from the cache; :func:`build_windows` builds one split.

- LibriSpeech (``round-robin``): one window per utterance, in stream order: a random crop of
  ``window_seconds`` (shorter utterances are zero-padded at the end and the padded frames masked);
  every frame carries its utterance's round-robin pseudo-label (:func:`labels.round_robin_labels`,
  speakers numbered in order of first appearance in this split's stream).
- AMI: windows from each meeting per ``label_strategy`` (:mod:`vfreport.data.labels`), spread over
  meetings: a meeting contributes up to ceil(windows still needed / planned meetings not yet
  read), from window starts drawn at random on a grid of stride T/4 (T frames a window), at least
  half a window apart, or on short recordings every eligible grid position (``two-speaker``,
  ``cluster``; ``info["windows_eligible"]`` counts them), or from random single-speaker stretches
  (``pairs``, same/different speaker exactly 50/50 over the split). Rows are read only until
  enough windows are built.

Windows are deterministic given ``data_seed`` and the split: random positions come from a numpy
Generator seeded from (data_seed, split, train/val). The cache (``cache_dir``) holds one folder of
``.npy`` files per split, named by a hash of everything that determines its content
(:func:`cache_key`) and written atomically; a later call loads it without touching the source.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.config import ArmConfig
from vfreport.data import labels as L
from vfreport.data.audio import AudioReader
from vfreport.data.geometry import GEOMETRY as _CFG
from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.sources import RowSource, hub_location, open_reader, open_split
from vfreport.errors import AudioDecodeError, DataError

CACHE_VERSION = 1
_ARRAYS = ("audio", "labels", "mask", "row", "start")


@dataclass
class Windows:
    """Model-ready windows of one split.

    ``audio`` (N, S) float32 at 16 kHz; ``labels`` (N, T) int64 in {0, 1}; ``mask`` (N, T) bool
    (True = scored frame); ``info``: JSON-serialisable facts (source, origin, dataset, split,
    label_strategy, windows, rows_read, rows_used, skipped_rows, seconds_of_audio, speakers,
    scored_fraction, label1_fraction, build_seconds, cache, …). Provenance: ``row`` (N,) index of
    the source row in the split's stream and ``start`` (N,) first sample of the window (of its
    first half for ``pairs``) in that row's audio.
    """

    audio: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    row: np.ndarray | None = None
    start: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.audio.shape[0]
        if self.labels.shape[0] != n or self.mask.shape != self.labels.shape:
            raise ValueError(
                f"inconsistent shapes: audio {self.audio.shape}, labels {self.labels.shape}, mask {self.mask.shape}"
            )
        if self.row is None:
            self.row = np.full(n, -1, dtype=np.int64)
        if self.start is None:
            self.start = np.full(n, -1, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.audio.shape[0])


class _Builder:
    """Preallocated output arrays, filled one window at a time (audio decoded in place)."""

    def __init__(self, n: int, n_samples: int) -> None:
        self.n, self.n_samples = n, n_samples
        self.n_frames = _CFG.num_frames(n_samples)
        self.audio = np.zeros((n, n_samples), dtype=np.float32)
        self.labels = np.zeros((n, self.n_frames), dtype=np.int64)
        self.mask = np.zeros((n, self.n_frames), dtype=bool)
        self.row = np.full(n, -1, dtype=np.int64)
        self.start = np.full(n, -1, dtype=np.int64)
        self.count = 0

    @property
    def full(self) -> bool:
        return self.count >= self.n

    def next_audio(self) -> np.ndarray:
        """The audio row of the next window, to decode into."""
        return self.audio[self.count]

    def commit(self, labels: Any, mask: Any, row: int, start: int) -> None:
        """Finish the next window (its audio already written)."""
        i = self.count
        self.labels[i], self.mask[i], self.row[i], self.start[i] = labels, mask, row, start
        self.count += 1

    def windows(self, info: dict[str, Any]) -> Windows:
        k = self.count
        return Windows(self.audio[:k], self.labels[:k], self.mask[:k], info, self.row[:k], self.start[:k])


def split_rng(data_seed: int, split: str, role: str) -> np.random.Generator:
    """The Generator of window positions of one split (``role``: 'train' or 'val')."""
    words = [int(data_seed) & 0xFFFFFFFF, zlib.crc32(split.encode("utf-8")), 0 if role == "train" else 1]
    return np.random.default_rng(np.random.SeedSequence(words))


# ---------------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------------


@dataclass
class _Stats:
    rows_read: int = 0
    rows_used: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    speakers: set[str] = field(default_factory=set)
    eligible: int = 0  # two-speaker / cluster: eligible window positions on the grid of the rows read


def build_windows(
    arm: ArmConfig,
    split: str,
    n_windows: int,
    window_seconds: float,
    role: str = "train",
    progress: bool = False,
    source: RowSource | None = None,
) -> Windows:
    """Build ``n_windows`` windows of ``split`` of ``arm`` (fewer, with a warning and
    ``info["short"] = True``, only if the source runs dry). ``source`` overrides :func:`open_split`."""
    n_samples = int(round(window_seconds * SAMPLE_RATE))
    if _CFG.num_frames(n_samples) < 1:
        raise DataError(f"window_seconds = {window_seconds} is shorter than one model frame")
    t0 = time.perf_counter()
    rng = split_rng(arm.data_seed, split, role)
    src = source if source is not None else open_split(arm, split, n_windows, window_seconds)
    out = _Builder(n_windows, n_samples)
    stats = _Stats()
    bar = _progress(progress, n_windows, f"{arm.name} {split}")
    try:
        if arm.dataset == "librispeech":
            _librispeech(src, out, rng, arm.on_bad_audio, stats, bar)
        else:
            _ami(src, out, rng, arm, n_windows, stats, bar)
    finally:
        src.close()
        if bar is not None:
            bar.close()
    skipped = list(src.skipped) + stats.skipped
    info: dict[str, Any] = {
        "source": arm.source,
        "origin": src.origin,
        "dataset": arm.dataset,
        "split": split,
        "role": role,
        "label_strategy": arm.label_strategy,
        "data_seed": int(arm.data_seed),
        "voice_spread": float(arm.voice_spread) if arm.source == "synthetic" else None,
        "window_seconds": float(window_seconds),
        "window_samples": n_samples,
        "frames_per_window": out.n_frames,
        "requested_windows": int(n_windows),
        "windows": int(out.count),
        "short": out.count < n_windows,
        # two-speaker / cluster: eligible window positions (grid stride T/4) in the rows read
        "windows_eligible": int(stats.eligible) if arm.dataset == "ami" and arm.label_strategy != "pairs" else None,
        "rows_read": stats.rows_read,
        "rows_used": stats.rows_used,
        "skipped_rows": len(skipped),
        "skipped": skipped[:20],
        "seconds_of_audio": round(stats.seconds, 3),
        "seconds_of_windows": round(out.count * n_samples / SAMPLE_RATE, 3),
        "speakers": len(stats.speakers),
    }
    w = out.windows(info)
    scored = int(w.mask.sum())
    info["scored_frames"] = scored
    info["scored_fraction"] = round(scored / max(1, w.mask.size), 4)
    info["label1_fraction"] = round(float(w.labels[w.mask].mean()), 4) if scored else None
    info["build_seconds"] = round(time.perf_counter() - t0, 4)
    info["cache"] = "off"
    if info["short"]:
        warnings.warn(
            f"arm {arm.name!r} split {split!r}: the source ran dry after {out.count} of {n_windows} windows "
            f"({stats.rows_read} rows read from {src.origin})",
            stacklevel=2,
        )
    return w


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="win", leave=False)


def _bad(e: AudioDecodeError, policy: str, stats: _Stats) -> None:
    """on_bad_audio: 'error' re-raises, 'skip' warns and records the row."""
    if policy == "error":
        raise e
    warnings.warn(f"skipping row with bad audio ({len(stats.skipped) + 1} so far): {e}", stacklevel=3)
    stats.skipped.append(str(e))


def _librispeech(src: RowSource, out: _Builder, rng: np.random.Generator, policy: str, stats: _Stats,
                 bar: Any) -> None:
    speaker_ids: list[Any] = []
    s = out.n_samples
    for row in src:
        if out.full:
            break
        index = stats.rows_read
        stats.rows_read += 1
        where = row.get("_where", f"row {index}")
        if "speaker_id" not in row:
            raise DataError(f"{where}: missing column 'speaker_id'")
        dest = out.next_audio()
        try:
            with open_reader(row) as reader:
                n = reader.n_samples
                offset = int(rng.integers(0, n - s + 1)) if n >= s else 0
                reader.read(offset, min(n, s), out=dest[: min(n, s)])
        except AudioDecodeError as e:
            dest[:] = 0.0
            _bad(e, policy, stats)
            continue
        stats.seconds += n / SAMPLE_RATE
        stats.rows_used += 1
        speaker_ids.append(row["speaker_id"])
        mask = True if n >= s else L.utterance_labels(0, s, n)[1]
        out.commit(0, mask, index, offset)  # labels set below, once the stream order is known
        if bar is not None:
            bar.update(1)
    if speaker_ids:
        out.labels[: out.count] = L.round_robin_labels(speaker_ids)[:, None]
        stats.speakers = {str(x) for x in speaker_ids}


def meeting_turns(row: dict[str, Any]) -> L.Turns:
    """The speaker turns of an AMI-schema row (DataError if malformed)."""
    where = row.get("_where", "row")
    for c in ("timestamps_start", "timestamps_end", "speakers"):
        if c not in row:
            raise DataError(f"{where}: missing column {c!r}")
    try:
        turns = L.Turns.from_lists(row["timestamps_start"] or [], row["timestamps_end"] or [], row["speakers"] or [])
    except (TypeError, ValueError) as e:
        raise DataError(f"{where}: bad timestamps/speakers: {e}") from e
    if len(turns) and not (np.all(np.isfinite(turns.start)) and np.all(np.isfinite(turns.end))):
        raise DataError(f"{where}: timestamps must be finite numbers")
    return turns


def _ami(src: RowSource, out: _Builder, rng: np.random.Generator, arm: ArmConfig, n_windows: int,
         stats: _Stats, bar: Any) -> None:
    planned = src.planned_rows or src.n_rows
    strategy = arm.label_strategy or "two-speaker"
    if strategy not in ("two-speaker", "cluster", "pairs"):
        raise DataError(f"arm {arm.name!r}: label_strategy {strategy!r} does not apply to AMI data")
    # pairs: same-speaker / different-speaker flags, exactly balanced over the split
    flags = rng.permutation(np.arange(n_windows) % 2 == 0)
    for row in src:
        if out.full:
            break
        index = stats.rows_read
        stats.rows_read += 1
        turns = meeting_turns(row)
        remaining = out.n - out.count
        rows_left = planned - stats.rows_used if planned else 0
        if rows_left > 0:
            quota = math.ceil(remaining / rows_left)
        else:  # past the plan: take what the meeting offers; unknown length: spread over >= 8 meetings
            quota = remaining if planned else min(remaining, max(1, math.ceil(n_windows / 8)))
        before = out.count
        try:
            with open_reader(row) as reader:
                if strategy == "pairs":
                    _pairs_windows(reader, turns, out, rng, quota, flags, index)
                else:
                    _grid_windows(reader, turns, out, rng, quota, strategy, index, stats)
                length = reader.n_samples
        except AudioDecodeError as e:
            _bad(e, arm.on_bad_audio, stats)
            continue
        stats.rows_used += 1
        stats.seconds += length / SAMPLE_RATE
        stats.speakers.update(turns.names)
        if bar is not None:
            bar.update(out.count - before)


def _window_starts(n_meeting_frames: int, t: int, rng: np.random.Generator) -> np.ndarray:
    """Candidate start frames of windows of ``t`` frames: a grid of stride t/4 with a random phase,
    in random order."""
    last = n_meeting_frames - t
    if last < 0:
        return np.zeros(0, dtype=np.int64)
    stride = max(1, t // 4)
    return rng.permutation(np.arange(int(rng.integers(0, stride)), last + 1, stride))


def _spread(starts: np.ndarray, min_gap: int, quota: int) -> list[int]:
    """Greedily keep starts (in the given order) at least ``min_gap`` frames from every kept one."""
    kept: list[int] = []
    for k in starts.tolist():
        if len(kept) >= quota:
            break
        if all(abs(k - j) >= min_gap for j in kept):
            kept.append(k)
    return kept


def _grid_windows(reader: AudioReader, turns: L.Turns, out: _Builder, rng: np.random.Generator, quota: int,
                  strategy: str, index: int, stats: _Stats) -> None:
    """two-speaker / cluster windows of one meeting. The meeting's frame activity is computed once;
    a window starting at frame k (sample 256 k) sees meeting frames k .. k + T - 1.

    Candidates lie on a grid of stride T/4 (:func:`_window_starts`); of the eligible ones, up to
    ``quota`` are kept at least T/2 apart, and when the meeting is too short for that (a 30-s
    excerpt), every eligible window on the grid is taken, overlapping by up to 3/4, before the
    shortfall passes to the next meetings. ``stats.eligible`` counts the eligible candidates."""
    t, hop, s = out.n_frames, _CFG.hop, out.n_samples
    n_frames = _CFG.num_frames(reader.n_samples)
    activity = L.speaker_activity(turns, 0.0, n_frames)
    starts = _window_starts(n_frames, t, rng)
    starts = starts[starts * hop + s <= reader.n_samples]
    if len(starts) == 0 or activity.shape[1] == 0:
        return
    solo = activity & (activity.sum(axis=1) == 1)[:, None]
    zero = np.zeros((1, activity.shape[1]), dtype=np.int32)
    c_act = np.concatenate([zero, np.cumsum(activity, axis=0, dtype=np.int32)])
    c_solo = np.concatenate([zero, np.cumsum(solo, axis=0, dtype=np.int32)])
    act_w = c_act[starts + t] - c_act[starts]  # (candidates, speakers): active frames per window
    solo_w = c_solo[starts + t] - c_solo[starts]
    if strategy == "two-speaker":  # the rule of labels.two_speaker_window, for all candidates at once
        ok = ((act_w > 0).sum(axis=1) == 2) & np.where(act_w > 0, solo_w >= L.MIN_SHARE * t, True).all(axis=1)
        groups = None
    else:  # labels.cluster_window
        ok = solo_w.sum(axis=1) >= L.MIN_SCORED * t
        groups = L.speaker_groups(turns.names)
    eligible = starts[ok]
    stats.eligible += len(eligible)
    want = min(quota, out.n - out.count)
    kept = _spread(eligible, max(1, t // 2), want)
    if len(kept) < want:  # a short recording: take every eligible window on the grid (overlapping more)
        taken = set(kept)
        kept += [k for k in eligible.tolist() if k not in taken][: want - len(kept)]
    for k in sorted(kept):
        act = activity[k : k + t]
        built = L.two_speaker_window(act) if groups is None else L.cluster_window(act, groups)
        if built is None:  # cannot happen: same rule as above
            continue
        reader.read(k * hop, s, out=out.next_audio())  # increasing starts: forward reads
        out.commit(built[0], built[1], index, k * hop)


def _pairs_windows(reader: AudioReader, turns: L.Turns, out: _Builder, rng: np.random.Generator, quota: int,
                   flags: np.ndarray, index: int) -> None:
    """pairs windows of one meeting: halves cut from single-speaker stretches (frame resolution)."""
    hop, centre = _CFG.hop, _CFG.n_fft // 2
    half = out.n_samples // 2
    rest = out.n_samples - half
    activity = L.speaker_activity(turns, 0.0, _CFG.num_frames(reader.n_samples))
    spk, a, b = L.solo_runs(activity, min_frames=math.ceil(rest / hop) + 1)
    if len(spk) == 0:
        return
    lo, hi = a * hop + centre, (b - 1) * hop + centre  # samples between the first and last solo frame centre
    speakers = np.unique(spk)
    made = failures = 0
    while made < quota and not out.full and failures < 8:
        same = bool(flags[out.count])
        x = int(rng.choice(speakers))
        first = _piece(rng, lo[spk == x], hi[spk == x], half)
        if same:
            second = None if first is None else _piece(rng, lo[spk == x], hi[spk == x], rest, first, half)
        else:
            others = speakers[speakers != x]
            y = int(rng.choice(others)) if len(others) else None
            second = None if y is None else _piece(rng, lo[spk == y], hi[spk == y], rest)
        if first is None or second is None:
            failures += 1
            continue
        audio, labels, mask = L.pairs_window(reader.read(first, half), reader.read(second, rest), same)
        out.next_audio()[:] = audio
        out.commit(labels, mask, index, first)
        made += 1


def _piece(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, n: int, avoid: int | None = None,
           avoid_len: int = 0) -> int | None:
    """A random start of ``n`` samples inside one of the spans [lo, hi], not overlapping
    [avoid, avoid + avoid_len); None after 8 failed draws."""
    fits = np.flatnonzero(hi - lo >= n)
    if len(fits) == 0:
        return None
    for _ in range(8):
        j = int(rng.choice(fits))
        start = int(rng.integers(lo[j], hi[j] - n + 1))
        if avoid is None or start + n <= avoid or start >= avoid + avoid_len:
            return start
    return None


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------


DATA_ROOT = Path(__file__).resolve().parent


def code_fingerprint(root: Path = DATA_ROOT) -> str:
    """Hash of the *content* of every Python file of the data layer (``vfreport/data/``, sources and
    synth included): any change to the code that makes windows makes a new cache entry, whatever
    the files are called or wherever they move inside ``data/``."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _data_fingerprint(arm: ArmConfig, split: str) -> str | None:
    """Hash of names, sizes and modification times of the local files behind ``arm.path``."""
    if arm.source != "local" or not arm.path:
        return None
    p = Path(arm.path.replace("{split}", split)).expanduser()
    if not p.exists():
        return None
    files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
    h = hashlib.sha256()
    for q in files[:100_000]:
        st = q.stat()
        h.update(f"{q.relative_to(p) if q != p else q.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def cache_key(arm: ArmConfig, split: str, n_windows: int, window_seconds: float, role: str) -> str:
    """SHA-256 of everything that determines the windows of one split: dataset, source, path (and
    its files' sizes and times), hub id/config/revision, split and role, count, label strategy,
    data seed, on_bad_audio, window length, the model's frame geometry, the label rules,
    :data:`CACHE_VERSION` and the source code of the data modules."""
    path = str(Path(arm.path).expanduser().resolve()) if arm.source == "local" and arm.path else ""
    facts = {
        "cache_version": CACHE_VERSION,
        "code": code_fingerprint(),
        "dataset": arm.dataset,
        "source": arm.source,
        "path": path,
        "data": _data_fingerprint(arm, split),
        "hub": list(hub_location(arm)) if arm.source == "hub" else None,
        "split": split,
        "role": role,
        "n_windows": int(n_windows),
        "label_strategy": arm.label_strategy,
        "data_seed": int(arm.data_seed),
        "voice_spread": float(arm.voice_spread) if arm.source == "synthetic" else None,
        "on_bad_audio": arm.on_bad_audio,
        "window_seconds": float(window_seconds),
        "model_geometry": [_CFG.sample_rate, _CFG.n_fft, _CFG.hop],
        "label_rules": [L.MIN_SHARE, L.MIN_SCORED],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def cache_path(cache_dir: Path | str, arm: ArmConfig, split: str, key: str) -> Path:
    """The cache entry (a folder of .npy files) of one split."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in split)
    return Path(cache_dir) / f"{arm.dataset}-{safe}-{key[:24]}"


def save_windows(path: Path | str, w: Windows) -> Path:
    """Write ``w`` as ``path/{audio,labels,mask,row,start}.npy`` + ``info.json``, atomically: the
    files go to a temporary sibling folder that is renamed onto ``path`` (no fsync: a cache)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(w, name), allow_pickle=False)
        (tmp / "info.json").write_text(json.dumps(w.info, allow_nan=False), encoding="utf-8")
        try:
            os.replace(tmp, path)
        except OSError:  # ``path`` exists: another process finished first; keep a complete copy
            if not (path / "info.json").is_file():
                shutil.rmtree(path, ignore_errors=True)
                os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def load_windows(path: Path | str) -> Windows:
    """Read a cache entry written by :func:`save_windows`."""
    path = Path(path)
    info = json.loads((path / "info.json").read_text(encoding="utf-8"))
    arrays = {name: np.load(path / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
    return Windows(arrays["audio"], arrays["labels"], arrays["mask"], info, arrays["row"], arrays["start"])


def _cached_split(arm: ArmConfig, split: str, n: int, window_seconds: float, role: str,
                  cache_dir: Path | str | None, progress: bool) -> Windows:
    if cache_dir is None:
        return build_windows(arm, split, n, window_seconds, role, progress)
    key = cache_key(arm, split, n, window_seconds, role)
    path = cache_path(cache_dir, arm, split, key)
    if (path / "info.json").is_file():
        t0 = time.perf_counter()
        try:
            w = load_windows(path)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
            warnings.warn(f"ignoring unreadable window cache {path}: {e}", stacklevel=3)
        else:
            w.info.update(cache="hit", cache_file=str(path), load_seconds=round(time.perf_counter() - t0, 4))
            return w
    w = build_windows(arm, split, n, window_seconds, role, progress)
    w.info.update(cache="miss", cache_file=str(path), cache_key=key)
    save_windows(path, w)
    return w


def prepare_split(arm: ArmConfig, split: str, n_windows: int, window_seconds: float, role: str,
                  cache_dir: Path | str | None = None, progress: bool = False) -> Windows:
    """``n_windows`` windows of one ``split`` of ``arm`` (``role``: "train", "val" or "test"),
    from the cache when there, else built and cached (used for the held-out test split)."""
    w = _cached_split(arm, split, n_windows, window_seconds, role, cache_dir, progress)
    w.info["arm"] = arm.name
    return w


def prepare_arm(
    arm: ArmConfig, window_seconds: float, cache_dir: Path | str | None = None, progress: bool = False
) -> tuple[Windows, Windows]:
    """The (train, val) windows of ``arm``: ``arm.train_windows`` windows of ``arm.train_split`` and
    ``arm.val_windows`` of ``arm.val_split`` (fewer only if the source runs dry: warned, and
    ``info["short"]`` is True), loaded from ``cache_dir`` when cached there, else built and cached."""
    if arm.train_split == arm.val_split:
        warnings.warn(
            f"arm {arm.name!r}: train_split and val_split are both {arm.train_split!r}: the validation "
            "windows come from the training data",
            stacklevel=2,
        )
    train = _cached_split(arm, arm.train_split, arm.train_windows, window_seconds, "train", cache_dir, progress)
    val = _cached_split(arm, arm.val_split, arm.val_windows, window_seconds, "val", cache_dir, progress)
    train.info["arm"] = val.info["arm"] = arm.name
    return train, val
