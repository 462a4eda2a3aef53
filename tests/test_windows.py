"""Windows: labels checked against the real AMI excerpt's RTTM, synthetic arms, determinism, the
cache (a hit never touches the source), bad rows, short sources, padding, pairs balance."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _data import AMI_DEBUG

from vfreport.config import ArmConfig
from vfreport.data import labels as L
from vfreport.data import synth, windows
from vfreport.data.audio import encode_wav, read_audio_file
from vfreport.data.geometry import GEOMETRY
from vfreport.data.rttm import parse_rttm
from vfreport.data.windows import Windows, build_windows, cache_key, prepare_arm
from vfreport.errors import AudioDecodeError

num_frames, frame_centers = GEOMETRY.num_frames, GEOMETRY.frame_centers

FIXTURE = AMI_DEBUG
SPLIT = "debug.development"


def arm(dataset: str = "ami", source: str = "synthetic", **kw) -> ArmConfig:
    defaults = {
        "librispeech": {"label_strategy": "round-robin", "train_split": "train.360"},
        "ami": {"label_strategy": "two-speaker", "train_split": "train"},
    }[dataset]
    return ArmConfig(name=dataset, display_name=dataset, role="target", dataset=dataset, source=source,
                     **{**defaults, **kw})


def fixture_arm(strategy: str = "two-speaker") -> ArmConfig:
    return arm(source="local", path=str(FIXTURE), label_strategy=strategy, train_split=SPLIT, val_split=SPLIT)


def _rttm_activity(uri: str, start_sample: int, n_frames: int) -> tuple[np.ndarray, list[str]]:
    """Per-frame activity straight from the RTTM text, one frame at a time (independent of labels.py)."""
    segs = parse_rttm((FIXTURE / f"{SPLIT}.rttm").read_text(), "rttm")[uri]
    names = sorted({s.speaker for s in segs})
    centres = start_sample / 16_000 + frame_centers(n_frames)
    act = np.zeros((n_frames, len(names)), bool)
    for i, t in enumerate(centres):
        for s in segs:
            if s.start <= t < s.end:
                act[i, names.index(s.speaker)] = True
    return act, names


def test_two_speaker_windows_on_real_ami_match_the_rttm():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two 30 s excerpts hold fewer windows than asked
        w = build_windows(fixture_arm(), SPLIT, 40, 2.0)
    assert 6 <= len(w) <= 40 and w.info["rows_read"] == 2
    audio = {uri: read_audio_file(FIXTURE / f"{uri}.wav") for uri in ("dev00", "dev01")}
    t = num_frames(32_000)
    for i in range(len(w)):
        uri = ["dev00", "dev01"][w.row[i]]
        start = int(w.start[i])
        np.testing.assert_array_equal(w.audio[i], audio[uri][start : start + 32_000])  # the real audio
        act, _ = _rttm_activity(uri, start, t)
        active = np.flatnonzero(act.any(axis=0))
        assert len(active) == 2  # exactly two speakers in every window
        solo = act.sum(axis=1) == 1
        np.testing.assert_array_equal(w.mask[i], solo)  # silence and overlap masked
        onsets = [int(np.argmax(act[:, c])) for c in active]
        first = active[int(np.argmin(onsets))] if onsets[0] != onsets[1] else None
        who = np.argmax(act, axis=1)
        if first is not None:
            np.testing.assert_array_equal(w.labels[i][solo], (who[solo] != first).astype(np.int64))
        assert (act[:, active] & solo[:, None]).sum(axis=0).min() >= L.MIN_SHARE * t
    assert 0.2 < w.info["label1_fraction"] < 0.8


@pytest.mark.parametrize("strategy", ["two-speaker", "cluster"])
def test_short_recordings_give_every_eligible_window_on_the_grid(strategy):
    """Two 30-s excerpts, 240 windows asked: all eligible positions of the T/4 grid are taken
    (overlapping when needed), and the shortfall is recorded, not hidden."""
    with pytest.warns(UserWarning, match=r"ran dry after \d+ of 240 windows"):
        w = build_windows(fixture_arm(strategy), SPLIT, 240, 2.0)
    t = num_frames(32_000)
    assert len(w) >= 20  # dozens from one minute of audio (the first release found 11 two-speaker windows)
    assert w.info["short"] is True and w.info["requested_windows"] == 240 and w.info["windows"] == len(w)
    assert w.info["windows_eligible"] == len(w)  # nothing eligible was left behind
    for row in (0, 1):
        starts = np.sort(w.start[w.row == row]) // GEOMETRY.hop
        assert len(np.unique(starts)) == len(starts)
        assert len({int(k) % (t // 4) for k in starts}) == 1  # one grid of stride T/4 per recording
    rule = L.two_speaker_window if strategy == "two-speaker" else None
    for i in range(len(w)):  # every window satisfies its strategy's rule against the RTTM
        uri = ["dev00", "dev01"][w.row[i]]
        act, names = _rttm_activity(uri, int(w.start[i]), t)
        built = rule(act) if rule else L.cluster_window(act, L.speaker_groups(names))
        assert built is not None
        np.testing.assert_array_equal(w.labels[i], built[0])
        np.testing.assert_array_equal(w.mask[i], built[1])


def test_long_meetings_keep_windows_half_a_window_apart():
    w = build_windows(arm("ami", train_windows=24), "train", 24, 2.0)
    t = num_frames(32_000)
    assert len(w) == 24 and w.info["windows_eligible"] >= 24
    for row in np.unique(w.row):
        starts = np.sort(w.start[w.row == row]) // GEOMETRY.hop
        assert (np.diff(starts) >= t // 2).all()


def test_cluster_and_pairs_on_real_ami():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = build_windows(fixture_arm("cluster"), SPLIT, 20, 2.0)
    t = num_frames(32_000)
    for i in range(len(w)):
        uri = ["dev00", "dev01"][w.row[i]]
        act, names = _rttm_activity(uri, int(w.start[i]), t)
        groups = L.speaker_groups(names)  # MEE009 -> 0, MEE012 -> 1
        solo = act.sum(axis=1) == 1
        np.testing.assert_array_equal(w.mask[i], solo)
        np.testing.assert_array_equal(w.labels[i][solo], groups[np.argmax(act, axis=1)][solo])
    p = build_windows(fixture_arm("pairs"), SPLIT, 20, 2.0)
    assert len(p) == 20
    for i in range(len(p)):  # the first half is single-speaker speech in the RTTM
        act, _ = _rttm_activity(["dev00", "dev01"][p.row[i]], int(p.start[i]), num_frames(16_000))
        assert (act.sum(axis=1) == 1).all() and len(np.flatnonzero(act.any(axis=0))) == 1
    second_half_one = (p.labels[:, -1] == 1) & p.mask[:, -1]
    assert second_half_one.sum() == 10  # different-speaker pairs: exactly half
    assert (p.labels[:, :60] == 0).all() and p.mask[:, :61].all()


def test_synthetic_arms_exact_counts_and_deterministic():
    for a in (arm("librispeech", train_windows=20, val_windows=6), arm("ami", train_windows=20, val_windows=6)):
        tr, va = prepare_arm(a, 2.0)
        assert (len(tr), len(va)) == (20, 6)
        assert tr.audio.shape == (20, 32_000) and tr.audio.dtype == np.float32
        assert tr.labels.shape == (20, 124) and tr.labels.dtype == np.int64 and tr.mask.dtype == bool
        assert set(np.unique(tr.labels[tr.mask]).tolist()) == {0, 1}
        assert not tr.info["short"] and tr.info["skipped_rows"] == 0
        json.dumps(tr.info, allow_nan=False)
        tr2, _ = prepare_arm(a, 2.0)
        np.testing.assert_array_equal(tr.audio, tr2.audio)
        np.testing.assert_array_equal(tr.labels, tr2.labels)
        np.testing.assert_array_equal(tr.mask, tr2.mask)
    other, _ = prepare_arm(arm("ami", train_windows=20, val_windows=6, data_seed=1), 2.0)
    assert not np.array_equal(other.audio, tr.audio)


def test_librispeech_round_robin_in_stream_order():
    a = arm("librispeech", train_windows=12, val_windows=4)
    w = build_windows(a, "train.360", 12, 2.0)
    rows = list(synth.librispeech_rows("train.360", 12, seed=0))
    expected = L.round_robin_labels([r["speaker_id"] for r in rows])
    np.testing.assert_array_equal(w.labels, np.repeat(expected[:, None], w.labels.shape[1], axis=1))
    assert w.mask.all() and w.row.tolist() == list(range(12))
    assert w.info["speakers"] == len({r["speaker_id"] for r in rows})


def _librispeech_parquet(path: Path, items: list[tuple[int, bytes]]) -> None:
    schema = synth.arrow_schema("librispeech")
    rows = [{"file": f"{i}.flac", "audio": {"bytes": data, "path": f"{i}.flac"}, "text": "", "speaker_id": spk,
             "chapter_id": 1, "id": f"{spk}-1-{i:04d}"} for i, (spk, data) in enumerate(items)]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def test_short_utterance_is_padded_and_masked(tmp_path):
    x = (np.random.default_rng(0).standard_normal(16_000) * 0.1).astype(np.float32)  # 1 s
    long = (np.random.default_rng(1).standard_normal(48_000) * 0.1).astype(np.float32)
    _librispeech_parquet(tmp_path / "train.parquet", [(5, encode_wav(x)), (9, encode_wav(long))])
    w = build_windows(arm("librispeech", source="local", path=str(tmp_path)), "train", 2, 2.0)
    np.testing.assert_array_equal(w.audio[0, :16_000], x)
    assert (w.audio[0, 16_000:] == 0).all()
    assert w.mask[0].sum() == num_frames(16_000) and w.mask[0, : num_frames(16_000)].all()
    assert w.mask[1].all() and w.labels[:, 0].tolist() == [0, 1]
    s = int(w.start[1])
    np.testing.assert_array_equal(w.audio[1], long[s : s + 32_000])


def test_bad_audio_skip_and_error(tmp_path):
    good = encode_wav((np.random.default_rng(0).standard_normal(40_000) * 0.1).astype(np.float32))
    _librispeech_parquet(tmp_path / "train.parquet", [(1, good), (2, b"garbage bytes" * 20), (3, good), (4, good)])
    a = arm("librispeech", source="local", path=str(tmp_path))
    with pytest.warns(UserWarning, match=r"train\.parquet row 1"):
        w = build_windows(a, "train", 3, 2.0)
    assert len(w) == 3 and w.info["skipped_rows"] == 1 and w.info["rows_read"] == 4
    assert "row 1" in w.info["skipped"][0]
    assert w.row.tolist() == [0, 2, 3]
    assert w.labels[:, 0].tolist() == [0, 1, 0]  # speakers 1, 3, 4 in stream order
    a.on_bad_audio = "error"
    with pytest.raises(AudioDecodeError, match=r"train\.parquet row 1"):
        build_windows(a, "train", 3, 2.0)


def test_source_running_dry_warns(tmp_path):
    good = encode_wav(np.zeros(40_000, np.float32))
    _librispeech_parquet(tmp_path / "train.parquet", [(1, good), (2, good)])
    with pytest.warns(UserWarning, match=r"ran dry after 2 of 5 windows"):
        w = build_windows(arm("librispeech", source="local", path=str(tmp_path)), "train", 5, 2.0)
    assert len(w) == 2 and w.info["short"] is True and w.info["requested_windows"] == 5


def test_cache_hit_does_not_touch_the_source(tmp_path, monkeypatch):
    a = arm("librispeech", train_windows=6, val_windows=3)
    tr, va = prepare_arm(a, 2.0, cache_dir=tmp_path)
    assert tr.info["cache"] == "miss" and va.info["cache"] == "miss"
    assert len(list(tmp_path.iterdir())) == 2

    def boom(*args, **kwargs):
        raise AssertionError("the source was opened on a cache hit")

    monkeypatch.setattr(windows, "open_split", boom)
    tr2, va2 = prepare_arm(a, 2.0, cache_dir=tmp_path)
    assert tr2.info["cache"] == "hit" and va2.info["cache"] == "hit"
    for x, y in ((tr, tr2), (va, va2)):
        np.testing.assert_array_equal(x.audio, y.audio)
        np.testing.assert_array_equal(x.labels, y.labels)
        np.testing.assert_array_equal(x.mask, y.mask)
        np.testing.assert_array_equal(x.start, y.start)
    with pytest.raises(AssertionError, match="cache hit"):
        prepare_arm(arm("librispeech", train_windows=7, val_windows=3), 2.0, cache_dir=tmp_path)


def test_cache_key_covers_what_determines_windows():
    a = arm("ami", train_windows=10)
    base = cache_key(a, "train", 10, 2.0, "train")
    assert base == cache_key(arm("ami", train_windows=10), "train", 10, 2.0, "train")
    changed = [
        cache_key(a, "train", 11, 2.0, "train"),
        cache_key(a, "train", 10, 3.0, "train"),
        cache_key(a, "validation", 10, 2.0, "train"),
        cache_key(a, "train", 10, 2.0, "val"),
        cache_key(arm("ami", label_strategy="pairs"), "train", 10, 2.0, "train"),
        cache_key(arm("ami", data_seed=1), "train", 10, 2.0, "train"),
        cache_key(arm("ami", source="hub"), "train", 10, 2.0, "train"),
        cache_key(arm("ami", source="hub", hub_config="sdm"), "train", 10, 2.0, "train"),
        cache_key(arm("ami", on_bad_audio="error"), "train", 10, 2.0, "train"),
        cache_key(arm("ami", voice_spread=0.0), "train", 10, 2.0, "train"),
    ]
    assert len(set(changed + [base])) == len(changed) + 1


def test_cache_key_follows_local_files(tmp_path):
    good = encode_wav(np.zeros(40_000, np.float32))
    _librispeech_parquet(tmp_path / "train.parquet", [(1, good)])
    a = arm("librispeech", source="local", path=str(tmp_path))
    before = cache_key(a, "train", 1, 2.0, "train")
    _librispeech_parquet(tmp_path / "train.parquet", [(1, good), (2, good)])
    assert cache_key(a, "train", 1, 2.0, "train") != before


def test_unreadable_cache_entry_is_rebuilt(tmp_path):
    a = arm("librispeech", train_windows=4, val_windows=2)
    tr, _ = prepare_arm(a, 2.0, cache_dir=tmp_path)
    entry = Path(tr.info["cache_file"])
    (entry / "audio.npy").write_bytes(b"not numpy")
    with pytest.warns(UserWarning, match="unreadable window cache"):
        tr2, _ = prepare_arm(a, 2.0, cache_dir=tmp_path)
    assert tr2.info["cache"] == "miss"
    np.testing.assert_array_equal(tr.audio, tr2.audio)


def test_windows_shape_check():
    with pytest.raises(ValueError, match="inconsistent shapes"):
        Windows(np.zeros((2, 400), np.float32), np.zeros((3, 1), np.int64), np.zeros((3, 1), bool))
    w = Windows(np.zeros((2, 400), np.float32), np.zeros((2, 1), np.int64), np.ones((2, 1), bool))
    assert len(w) == 2 and w.row.tolist() == [-1, -1]


def test_pairs_strategy_balanced_on_synthetic():
    w = build_windows(arm("ami", label_strategy="pairs"), "train", 16, 2.0)
    assert len(w) == 16
    different = (w.labels[:, -1] == 1).sum()
    assert different == 8
    assert w.info["label1_fraction"] == pytest.approx(0.25, abs=0.01)
