"""The embedded synthetic corpora: determinism, schemas, splits, meetings and voices."""

from __future__ import annotations

import io
import itertools
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from vfreport.bench.synth_speed import realtime_factor
from vfreport.data import synth
from vfreport.data.geometry import SAMPLE_RATE
from vfreport.errors import ConfigError, UnsafePathError

SR = SAMPLE_RATE


def decode(row: dict) -> np.ndarray:
    audio, sr = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="float32", always_2d=True)
    assert sr == SR
    assert audio.shape[1] == 1  # mono
    return audio[:, 0]


def segments(row: dict) -> list[tuple[float, float, str]]:
    return list(zip(row["timestamps_start"], row["timestamps_end"], row["speakers"], strict=True))


# ---------------------------------------------------------------------------------------------
# LibriSpeech-like rows
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ls_rows() -> list[dict]:
    return list(synth.librispeech_rows("train.360", 40, seed=0))


def test_librispeech_rows_are_deterministic_and_seeded(ls_rows):
    again = list(synth.librispeech_rows("train.360", 3, seed=0))
    other = list(synth.librispeech_rows("train.360", 3, seed=1))
    assert again == ls_rows[:3]  # same seed: identical rows, bytes included
    for a, b in zip(ls_rows[:3], other, strict=True):
        assert a["audio"]["bytes"] != b["audio"]["bytes"]
    assert [r["text"] for r in ls_rows[:3]] != [r["text"] for r in other]


def test_librispeech_prefix_property():
    full = list(synth.librispeech_rows("validation", 12, seed=5, n_speakers=4))
    assert list(synth.librispeech_rows("validation", 7, seed=5, n_speakers=4)) == full[:7]
    # the default speaker layout too: row i does not depend on how many rows were asked for
    assert synth.librispeech_row("test", 83, seed=2) == next(
        itertools.islice(synth.librispeech_rows("test", 90, seed=2), 83, None)
    )


def test_librispeech_schema_and_audio(ls_rows):
    durations = []
    for row in ls_rows:
        assert set(row) == {"file", "audio", "text", "speaker_id", "chapter_id", "id"}
        assert isinstance(row["speaker_id"], int) and isinstance(row["chapter_id"], int)
        assert row["id"] == f"{row['speaker_id']}-{row['chapter_id']}-{row['id'].split('-')[2]}"
        assert re.fullmatch(r"\d+-\d+-\d{4}", row["id"])
        assert row["audio"]["path"] == f"{row['id']}.flac"
        assert row["file"].endswith(row["audio"]["path"])
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)*", row["text"])
        assert sf.info(io.BytesIO(row["audio"]["bytes"])).format == "FLAC"
        audio = decode(row)
        assert np.all(np.isfinite(audio)) and np.abs(audio).max() <= 1.0
        assert np.abs(audio).max() > 0.05  # not silent
        durations.append(len(audio) / SR)
    durations = np.array(durations)
    assert durations.min() >= 2.0 and durations.max() <= 15.0
    assert np.mean(durations <= 6.0) >= 0.6  # skewed short on purpose
    assert len({row["id"] for row in ls_rows}) == len(ls_rows)


def test_librispeech_speakers_default_and_explicit(ls_rows):
    # default: cohorts of 8 speakers x 10 utterances; 40 rows come from the first cohort of 8
    assert len({r["speaker_id"] for r in ls_rows}) == 8
    first = [r["speaker_id"] for r in ls_rows[:8]]
    assert len(set(first)) > 2  # interleaved like a shuffled stream, not grouped by speaker
    rows = [
        (r["speaker_id"], r["chapter_id"], r["id"])
        for r in synth.librispeech_rows("train.100", 12, seed=0, n_speakers=6)
    ]
    counts = np.unique([s for s, _, _ in rows], return_counts=True)[1]
    assert len(counts) == 6 and set(counts) == {2}
    for spk, chap, _ in rows:  # chapters belong to their speaker
        assert chap // 10 == spk
    with pytest.raises(ConfigError, match="n_speakers"):
        next(synth.librispeech_rows("train.100", 1, n_speakers=0))


def test_librispeech_splits_are_speaker_disjoint():
    splits = ["train.100", "train.360", "train.500", "validation", "test", "dev-other"]
    bases = sorted(synth.librispeech_speaker_base(s) for s in splits)
    assert all(b - a >= synth.LS_SPLIT_WIDTH for a, b in itertools.pairwise(bases))
    seen: dict[int, str] = {}
    for split in splits:
        for row in synth.librispeech_rows(split, 3, seed=0):
            assert seen.setdefault(row["speaker_id"], split) == split


# ---------------------------------------------------------------------------------------------
# synthesiser and voices
# ---------------------------------------------------------------------------------------------


def test_synthesize_fills_each_segment_with_speech():
    voice = synth.speaker_voice(0, "ami", 3)
    lengths = [7_000, 24_013, 40_000]
    rng = np.random.default_rng(0)
    rendered = synth.synthesize(voice, lengths, rng)
    assert rendered.audio.dtype == np.float32 and len(rendered.audio) == sum(lengths)
    assert len(rendered.syllables) == 3 and all(rendered.syllables)
    start = 0
    for n in lengths:
        seg = rendered.audio[start : start + n]
        start += n
        edge = SR // 10
        assert np.sqrt(np.mean(seg[:edge] ** 2)) > 0.01  # speech starts at the segment start
        assert np.sqrt(np.mean(seg[-edge:] ** 2)) > 0.01  # ... and lasts to its end
    again = synth.synthesize(voice, lengths, np.random.default_rng(0)).audio
    np.testing.assert_array_equal(again, rendered.audio)


def test_voice_traits_overlap_between_populations():
    voices = [synth.speaker_voice(0, "librispeech", k) for k in range(400)]
    f0 = np.array([v.f0_hz for v in voices])
    vt = np.array([v.vt_scale for v in voices])
    male = np.array([v.sex == "M" for v in voices])
    assert f0.min() >= 85 and f0.max() <= 260
    assert vt.min() >= 0.85 and vt.max() <= 1.2
    assert 0.35 < male.mean() < 0.65
    assert np.median(f0[~male]) > np.median(f0[male]) * 1.3
    # overlapping populations: no F0 or vocal-tract threshold separates them
    assert f0[male].max() > f0[~male].min() and vt[male].max() > vt[~male].min()
    assert synth.speaker_voice(0, "librispeech", 7) == voices[7]
    assert synth.speaker_voice(1, "librispeech", 7) != voices[7]


def f0_track(x: np.ndarray, frame: int = 640, hop: int = 320) -> np.ndarray:
    """Autocorrelation F0 (70-400 Hz) of the clearly voiced, loud frames of ``x``."""
    n = 1 + (len(x) - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop][:n] * np.hanning(frame)
    energy = (frames**2).sum(axis=1)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * frame, axis=1)) ** 2, axis=1)[:, :frame]
    ac /= ac[:, :1] + 1e-12
    lo, hi = SR // 400, SR // 70
    lag = lo + ac[:, lo:hi].argmax(axis=1)
    voiced = (ac[np.arange(n), lag] > 0.45) & (energy > 0.2 * np.percentile(energy, 85))
    return SR / lag[voiced]


def spectral_centroid(x: np.ndarray) -> float:
    frames = np.lib.stride_tricks.sliding_window_view(x, 512)[::256] * np.hanning(512)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    loud = power.sum(axis=1) > np.median(power.sum(axis=1))
    return float((power[loud] @ np.fft.rfftfreq(512, 1 / SR)).sum() / power[loud].sum())


def test_voices_differ_measurably_but_overlap():
    rows = list(synth.librispeech_rows("validation", 48, seed=3, n_speakers=16))
    spk = np.array([r["speaker_id"] for r in rows])
    audio = [decode(r) for r in rows]
    log_f0 = np.array([np.log(np.median(f0_track(x))) for x in audio])
    centroid = np.array([spectral_centroid(x) for x in audio])
    ids = np.unique(spk)

    def variance_ratio(v: np.ndarray) -> float:
        means = np.array([v[spk == s].mean() for s in ids])
        within = np.mean([v[spk == s].var(ddof=1) for s in ids])
        return float(means.var(ddof=1) / within)

    # learnable: speakers differ in pitch and timbre far more than their utterances vary
    assert variance_ratio(log_f0) > 5.0
    assert variance_ratio(centroid) > 1.5
    # the pitch measured on the audio follows the drawn trait (the synthesiser does what it says)
    traits = np.log([synth.speaker_voice(3, "librispeech", int(s)).f0_hz for s in spk])
    assert np.corrcoef(traits, log_f0)[0, 1] > 0.9
    # ... but not trivially separable: many speaker pairs overlap in measured pitch
    ranges = {s: (log_f0[spk == s].min(), log_f0[spk == s].max()) for s in ids}
    pairs = list(itertools.combinations(ids, 2))
    overlapping = sum(ranges[a][0] <= ranges[b][1] and ranges[b][0] <= ranges[a][1] for a, b in pairs)
    assert 0.05 < overlapping / len(pairs) < 0.9
    assert np.exp(log_f0.max() - log_f0.min()) > 1.6  # the population spans a wide pitch range


# ---------------------------------------------------------------------------------------------
# AMI-like meetings
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meetings() -> list[dict]:
    return list(synth.ami_rows("train", 6, seed=0, meeting_seconds=30.0))


def test_ami_rows_deterministic_prefix_and_seeded(meetings):
    assert list(synth.ami_rows("train", 2, seed=0, meeting_seconds=30.0)) == meetings[:2]
    other = synth.ami_meeting("train", 0, seed=1, meeting_seconds=30.0)
    assert other["audio"]["bytes"] != meetings[0]["audio"]["bytes"]
    with pytest.raises(ConfigError, match="meeting_seconds"):
        synth.ami_meeting("train", 0, meeting_seconds=0.0)


def test_ami_schema_segments_and_speakers(meetings):
    for row in meetings:
        assert set(row) == {"audio", "timestamps_start", "timestamps_end", "speakers"}
        assert re.fullmatch(r"SYN\d{9}\.flac", row["audio"]["path"])
        audio = decode(row)
        assert len(audio) == 30 * SR and np.abs(audio).max() <= 1.0
        segs = segments(row)
        starts = [s for s, _, _ in segs]
        assert starts == sorted(starts)
        assert all(0.0 <= s < e <= len(audio) / SR for s, e, _ in segs)
        assert all(0.3 <= e - s <= 4.0 + 1e-9 for s, e, _ in segs)
        assert all(re.fullmatch(r"[MF][EO][EO]\d{3}", label) for _, _, label in segs)
        assert 2 <= len({label for _, _, label in segs}) <= 4
        for label in {label for _, _, label in segs}:  # nobody overlaps themselves
            own = sorted((s, e) for s, e, lab in segs if lab == label)
            assert all(b[0] >= a[1] for a, b in itertools.pairwise(own))


def activity(row: dict, step: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Per 10-ms frame: number of active speakers, and the speakers x frames activity matrix."""
    t = np.arange(0, len(decode(row)) / SR, step)
    labels = sorted(set(row["speakers"]))
    act = np.zeros((len(labels), len(t)), dtype=bool)
    for s, e, label in segments(row):
        act[labels.index(label), (t >= s) & (t < e)] = True
    return act.sum(axis=0), act


def test_ami_meetings_have_turn_taking_overlaps_and_silences(meetings):
    overlap = silence = two_speaker = alternating = windows = 0
    for row in meetings:
        n_active, act = activity(row)
        assert n_active.max() <= 2  # at most two people at once
        overlap += int((n_active == 2).sum())
        # silences between turns (not only before the first and after the last)
        inner = n_active[np.argmax(n_active > 0) : len(n_active) - np.argmax(n_active[::-1] > 0)]
        silence += int((inner == 0).sum())
        for w in range(0, act.shape[1] - 200, 50):  # 2-s windows every 0.5 s
            windows += 1
            window = act[:, w : w + 200]
            who = np.flatnonzero(window.any(axis=1))
            if len(who) == 2:
                two_speaker += 1
                alone = window[:, window.sum(axis=0) == 1]
                alternating += int(np.count_nonzero(np.diff(alone[who[0]].astype(int))) >= 2)  # A-B-A
    assert overlap > 0 and silence > 0
    assert 0.05 < silence / sum(len(activity(r)[0]) for r in meetings) < 0.4
    assert two_speaker / windows > 0.4  # many 2-s windows hold exactly two speakers
    assert alternating / two_speaker > 0.1  # quick exchanges: who speaks is not just "first half, second half"


def test_ami_audio_follows_the_segments(meetings):
    for row in meetings:
        audio = decode(row)
        n_active, _ = activity(row)
        frames = audio[: len(n_active) * 160].reshape(-1, 160)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        speech, quiet = rms[n_active[: len(rms)] > 0], rms[n_active[: len(rms)] == 0]
        assert np.median(speech) > 2.5 * np.median(quiet)  # speech where labelled, noise between


def test_ami_splits_are_speaker_disjoint():
    labels = {}
    for split in ["train", "validation", "test"]:
        found = {lab for row in synth.ami_rows(split, 3, seed=0, meeting_seconds=8.0) for lab in row["speakers"]}
        labels[split] = {int(lab[3:]) for lab in found}
    assert not (labels["train"] & labels["validation"]) and not (labels["train"] & labels["test"])
    assert not (labels["validation"] & labels["test"])
    bases = sorted(synth.ami_speaker_base(s) for s in ["train", "validation", "test", "dev"])
    assert all(b - a >= synth.AMI_SPLIT_WIDTH for a, b in itertools.pairwise(bases))


# ---------------------------------------------------------------------------------------------
# parquet files
# ---------------------------------------------------------------------------------------------


def test_write_corpus_parquet_schema_and_datasets(tmp_path):
    paths = synth.write_corpus(
        tmp_path, seed=0, librispeech={"train.360": 5, "validation": 3}, ami={"train": 2}, meeting_seconds=12.0
    )
    assert set(paths) == {"librispeech/train.360", "librispeech/validation", "ami/train"}
    assert paths["librispeech/train.360"] == tmp_path / "librispeech" / "train.360.parquet"
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporaries

    audio_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    ls = pq.read_table(paths["librispeech/train.360"])
    assert ls.schema.field("audio").type == audio_type
    assert ls.schema.field("speaker_id").type == pa.int64() and ls.schema.field("chapter_id").type == pa.int64()
    assert ls.column_names == ["file", "audio", "text", "speaker_id", "chapter_id", "id"]
    assert ls.num_rows == 5
    assert ls.to_pylist() == list(synth.librispeech_rows("train.360", 5, seed=0))
    ami = pq.read_table(paths["ami/train"])
    assert ami.column_names == ["audio", "timestamps_start", "timestamps_end", "speakers"]
    assert ami.schema.field("timestamps_start").type == pa.list_(pa.float64())
    assert ami.schema.field("speakers").type == pa.list_(pa.string())
    assert ami.to_pylist() == list(synth.ami_rows("train", 2, seed=0, meeting_seconds=12.0))

    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("parquet", data_files={"validation": str(paths["librispeech/validation"])})
    ds = ds["validation"].cast_column("audio", datasets.Audio(decode=False))
    assert ds.features["speaker_id"].dtype == "int64"
    expected = synth.librispeech_row("validation", 0, seed=0)
    assert ds[0]["id"] == expected["id"] and ds[0]["audio"] == expected["audio"]
    assert len(decode(ds[0])) / SR >= 2.0
    ds = datasets.load_dataset("parquet", data_files=str(paths["ami/train"]), split="train")
    ds = ds.cast_column("audio", datasets.Audio(decode=False))
    assert ds[1]["speakers"] == ami.to_pylist()[1]["speakers"]
    assert len(decode(ds[1])) == 12 * SR


def test_write_corpus_rejects_bad_split_names_and_counts(tmp_path):
    with pytest.raises(UnsafePathError):
        synth.write_corpus(tmp_path, librispeech={"../evil": 1}, ami={})
    with pytest.raises(ConfigError, match="count"):
        synth.write_corpus(tmp_path, librispeech={"train.100": -1}, ami={})
    assert not any(tmp_path.iterdir())


def test_generation_is_vectorised():
    """A loose floor (docs/performance.md sets the real target, measured by the benchmark): a per-sample
    Python loop would run near 1x real time, the vectorised synthesiser runs at hundreds."""
    speed = realtime_factor(seconds=20.0)
    assert speed["synth"] > 30.0 and speed["rows"] > 20.0


def test_voice_spread_scales_the_speaker_differences():
    fields = list(synth.COMMON_VOICE)
    default = [synth.speaker_voice(0, "ami", k) for k in range(12)]
    assert [synth.speaker_voice(0, "ami", k, voice_spread=1.0) for k in range(12)] == default
    same = [synth.speaker_voice(0, "ami", k, voice_spread=0.0) for k in range(12)]
    for v in same:  # one voice for everybody: the common voice
        for f in fields:
            assert np.asarray(getattr(v, f)) == pytest.approx(np.asarray(synth.COMMON_VOICE[f])), f
    half = [synth.speaker_voice(0, "ami", k, voice_spread=0.5) for k in range(12)]
    spread_f0 = [np.std(np.log([v.f0_hz for v in vs])) for vs in (same, half, default)]
    assert spread_f0[0] < 1e-12 and spread_f0[1] == pytest.approx(spread_f0[2] / 2, rel=0.05)
    with pytest.raises(ConfigError):
        synth.speaker_voice(0, "ami", 1, voice_spread=-1.0)


def test_voice_spread_keeps_the_turns_and_changes_only_the_voices():
    a = synth.ami_meeting("train", 0, seed=0, meeting_seconds=8.0)
    b = synth.ami_meeting("train", 0, seed=0, meeting_seconds=8.0, voice_spread=0.0)
    assert {k: a[k] for k in ("timestamps_start", "timestamps_end", "speakers")} == {
        k: b[k] for k in ("timestamps_start", "timestamps_end", "speakers")}
    assert a["audio"]["bytes"] != b["audio"]["bytes"]
