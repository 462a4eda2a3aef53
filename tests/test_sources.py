"""Data sources: WAV + RTTM (real AMI excerpt), local parquet, save_to_disk, other AMI row formats,
the hub path (offline: a fast, clear error; with a stand-in loader: the real adapter code)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from _data import AMI_DEBUG

from vfreport.config import ArmConfig
from vfreport.data import sources, synth
from vfreport.data.audio import decode_audio, encode_wav
from vfreport.data.rttm import parse_rttm
from vfreport.data.sources import check_hub, hub_location, open_split
from vfreport.errors import AnnotationError, DataError, HubUnavailableError

FIXTURE = AMI_DEBUG
AUDIO = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def arm(dataset: str = "ami", source: str = "local", path: str = "", **kw) -> ArmConfig:
    strategy = "round-robin" if dataset == "librispeech" else "two-speaker"
    return ArmConfig(name=dataset, display_name=dataset, role="target", dataset=dataset, source=source,
                     path=path, label_strategy=kw.pop("label_strategy", strategy), **kw)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    synth.write_corpus(out, seed=3, librispeech={"train.360": 6, "validation": 3}, ami={"train": 2})
    return out


# ---------------------------------------------------------------------------------------------
# WAV + RTTM
# ---------------------------------------------------------------------------------------------


def test_rttm_folder_gives_one_ami_row_per_recording():
    src = open_split(arm(path=str(FIXTURE)), "debug.development", 10)
    rows = list(src)
    assert src.n_rows == 2 and [r["meeting_id"] for r in rows] == ["dev00", "dev01"]
    segs = parse_rttm((FIXTURE / "debug.development.rttm").read_text(), "rttm")
    for row in rows:
        want = segs[row["meeting_id"]]
        assert row["timestamps_start"] == pytest.approx([s.start for s in want])
        assert row["timestamps_end"] == pytest.approx([s.end for s in want])
        assert row["speakers"] == [s.speaker for s in want]
        audio = decode_audio(row["audio"]["bytes"], row["_where"])
        assert len(audio) == pytest.approx(30 * 16_000, abs=16)
        assert "dev0" in row["_where"]


def test_rttm_uem_crops_audio_and_turns(tmp_path):
    for name in ("dev00.wav", "dev01.wav", "debug.development.rttm"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "debug.development.uem").write_text("dev00 NA 5.0 20.0\ndev00 NA 22.0 26.0\n")
    (tmp_path / "debug.development.lst").write_text("dev00\n")
    rows = list(open_split(arm(path=str(tmp_path)), "debug.development", 10))
    assert len(rows) == 2  # two UEM regions of dev00; dev01 not listed
    full = decode_audio((FIXTURE / "dev00.wav").read_bytes(), "dev00")
    first = decode_audio(rows[0]["audio"]["bytes"], "crop")
    assert len(first) == 15 * 16_000
    np.testing.assert_allclose(first, full[5 * 16_000 : 20 * 16_000], atol=1e-6)
    # dev00 turns: MEE009 1.44-13.312 is clipped to 5-13.312 and shifted by -5
    assert rows[0]["timestamps_start"][0] == pytest.approx(0.0)
    assert rows[0]["timestamps_end"][0] == pytest.approx(8.312)
    assert rows[0]["speakers"][0] == "MEE009"
    assert max(rows[1]["timestamps_end"]) <= 4.0 + 1e-9 and rows[1]["meeting_id"] == "dev00@22.000"


def test_rttm_errors(tmp_path):
    shutil.copy(FIXTURE / "dev00.wav", tmp_path / "dev00.wav")
    (tmp_path / "s.rttm").write_text("SPEAKER dev00 1 0.0 1.0 <NA> <NA> A <NA> <NA>\n"
                                     "SPEAKER ghost 1 0.0 1.0 <NA> <NA> B <NA> <NA>\n")
    with pytest.raises(AnnotationError, match=r"s\.rttm: unknown recording 'ghost'"):
        open_split(arm(path=str(tmp_path)), "s", 4)
    (tmp_path / "s.rttm").write_text("SPEAKER dev00 1 29.0 5.0 <NA> <NA> A <NA> <NA>\n")
    with pytest.raises(AnnotationError, match=r"ends at 34\.000 s, after the end of the audio"):
        open_split(arm(path=str(tmp_path)), "s", 4)
    (tmp_path / "s.rttm").write_text("SPEAKER dev00 1 1.0 <NA> <NA> A <NA> <NA>\n")
    with pytest.raises(AnnotationError, match=r"s\.rttm:1: expected 10 fields"):
        open_split(arm(path=str(tmp_path)), "s", 4)


# ---------------------------------------------------------------------------------------------
# local parquet and save_to_disk
# ---------------------------------------------------------------------------------------------


def test_local_parquet_layouts(corpus, tmp_path):
    # <path>/<dataset>/<split>.parquet (synth.write_corpus layout)
    src = open_split(arm("librispeech", path=str(corpus)), "train.360", 4)
    rows = list(src)
    assert src.n_rows == 6 and len(rows) == 6
    assert rows == [dict(r, _where=r["_where"]) for r in rows]
    expected = list(synth.librispeech_rows("train.360", 6, seed=3))
    assert [r["speaker_id"] for r in rows] == [r["speaker_id"] for r in expected]
    assert rows[2]["audio"]["bytes"] == expected[2]["audio"]["bytes"]
    assert rows[2]["_where"].endswith("train.360.parquet row 2")
    # <path>/<split>/*.parquet and a {split} placeholder
    (tmp_path / "train.360").mkdir()
    shutil.copy(corpus / "librispeech" / "train.360.parquet", tmp_path / "train.360" / "part-0.parquet")
    assert len(list(open_split(arm("librispeech", path=str(tmp_path)), "train.360", 4))) == 6
    placeholder = str(corpus / "librispeech" / "{split}.parquet")
    assert len(list(open_split(arm("librispeech", path=placeholder), "validation", 4))) == 3
    with pytest.raises(DataError, match="no data for split 'test'"):
        open_split(arm("librispeech", path=str(corpus)), "test", 4)


def test_missing_column_names_column_and_file(corpus, tmp_path):
    table = pq.read_table(corpus / "ami" / "train.parquet").drop_columns(["speakers"])
    pq.write_table(table, tmp_path / "train.parquet")
    with pytest.raises(DataError, match=r"train\.parquet: missing column 'speakers'"):
        open_split(arm(path=str(tmp_path)), "train", 4)
    table = pq.read_table(corpus / "librispeech" / "validation.parquet").drop_columns(["speaker_id"])
    pq.write_table(table, tmp_path / "validation.parquet")
    with pytest.raises(DataError, match=r"validation\.parquet: missing column 'speaker_id'"):
        open_split(arm("librispeech", path=str(tmp_path)), "validation", 4)


def test_save_to_disk_folder(corpus, tmp_path):
    import datasets

    parts = {split: datasets.Dataset(pq.read_table(corpus / "librispeech" / f"{split}.parquet"))
             for split in ("train.360", "validation")}
    dd = datasets.DatasetDict({k: v.cast_column("audio", datasets.Audio(decode=False)) for k, v in parts.items()})
    dd.save_to_disk(str(tmp_path / "ls"))
    src = open_split(arm("librispeech", path=str(tmp_path / "ls")), "validation", 3)
    rows = list(src)
    assert src.n_rows == 3 and len(rows) == 3
    expected = pq.read_table(corpus / "librispeech" / "validation.parquet").to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert rows[0]["audio"]["bytes"] == expected[0]["audio"]["bytes"]
    with pytest.raises(DataError, match="no split 'test'"):
        open_split(arm("librispeech", path=str(tmp_path / "ls")), "test", 3)


def test_strategy_document_format(tmp_path):
    x = (np.random.default_rng(0).standard_normal(16_000 * 3) * 0.1).astype(np.float32)
    rows = [{"audio": {"array": x.tolist(), "sampling_rate": 16_000},
             "speaker_segments": [{"speaker": "A", "start": 0.0, "end": 2.5},
                                  {"speaker": "B", "start": 2.3, "end": 3.0}],
             "meeting_id": "ES2002a", "num_speakers": 2}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    (row,) = list(open_split(arm(path=str(tmp_path)), "train", 4))
    assert row["timestamps_start"] == [0.0, 2.3] and row["timestamps_end"] == [2.5, 3.0]
    assert row["speakers"] == ["A", "B"] and row["meeting_id"] == "ES2002a"
    reader = sources.open_reader(row)
    np.testing.assert_allclose(reader.read_all(), x, atol=1e-7)


def test_edinburgh_utterances_grouped_into_meetings(tmp_path):
    rng = np.random.default_rng(1)
    clips = {k: (rng.standard_normal(16_000) * 0.1).astype(np.float32) for k in range(3)}
    rows = [
        {"meeting_id": "EN2001a", "audio_id": "u0", "text": "hi", "begin_time": 10.0, "end_time": 11.0,
         "microphone_id": "H00", "speaker_id": "MEE068", "audio": {"bytes": encode_wav(clips[0]), "path": "u0.wav"}},
        {"meeting_id": "EN2001a", "audio_id": "u1", "text": "yo", "begin_time": 10.5, "end_time": 11.5,
         "microphone_id": "H01", "speaker_id": "FEO066", "audio": {"bytes": encode_wav(clips[1]), "path": "u1.wav"}},
        {"meeting_id": "EN2002b", "audio_id": "u2", "text": "ok", "begin_time": 3.0, "end_time": 4.0,
         "microphone_id": "H00", "speaker_id": "MEE070", "audio": {"bytes": encode_wav(clips[2]), "path": "u2.wav"}},
    ]
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("meeting_id", pa.string()), ("audio_id", pa.string()), ("text", pa.string()),
        ("begin_time", pa.float64()), ("end_time", pa.float64()), ("microphone_id", pa.string()),
        ("speaker_id", pa.string()), ("audio", AUDIO)]))
    pq.write_table(table, tmp_path / "train.parquet")
    meetings = list(open_split(arm(path=str(tmp_path)), "train", 4))
    assert [m["meeting_id"] for m in meetings] == ["EN2001a", "EN2002b"]
    m = meetings[0]
    assert m["timestamps_start"] == [0.0, 0.5] and m["timestamps_end"] == [1.0, 1.5]
    assert m["speakers"] == ["MEE068", "FEO066"]
    mix = m["audio"]["array"]
    assert len(mix) == 24_000
    np.testing.assert_allclose(mix[:8000], clips[0][:8000], atol=1e-6)
    np.testing.assert_allclose(mix[8000:16_000], clips[0][8000:] + clips[1][:8000], atol=1e-6)
    np.testing.assert_allclose(mix[16_000:], clips[1][8000:], atol=1e-6)


# ---------------------------------------------------------------------------------------------
# synthetic and hub
# ---------------------------------------------------------------------------------------------


def test_synthetic_rows_are_lazy_and_seeded():
    a = arm("librispeech", source="synthetic", data_seed=5)
    src = open_split(a, "validation", 3)
    first = next(iter(src))
    src.close()
    assert src.planned_rows == 3 and src.n_rows >= 3
    assert first["audio"]["bytes"] == synth.librispeech_row("validation", 0, seed=5)["audio"]["bytes"]
    ami = open_split(arm("ami", source="synthetic"), "train", 24, 2.0)
    assert ami.planned_rows == sources.synthetic_meetings_needed(24, 2.0) == 2


def _timed_hub_error(monkeypatch, endpoint: str | None) -> tuple[float, str]:
    if endpoint is not None:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
    t0 = time.perf_counter()
    with pytest.raises(HubUnavailableError) as err:
        open_split(arm("librispeech", source="hub"), "train.360", 10)
    return time.perf_counter() - t0, str(err.value)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9", "https://10.255.255.1", "https://no-such-host.invalid"])
def test_hub_unreachable_fails_fast(monkeypatch, endpoint):
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    seconds, message = _timed_hub_error(monkeypatch, endpoint)
    assert seconds < 10
    assert message.startswith("cannot reach the Hugging Face hub (")
    assert "use source = 'local' or 'synthetic'" in message


def test_hub_offline_mode_is_immediate(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    seconds, message = _timed_hub_error(monkeypatch, None)
    assert seconds < 1 and "HF_HUB_OFFLINE" in message


def test_hub_default_endpoint_here_is_fast_either_way(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    t0 = time.perf_counter()
    try:
        check_hub()
    except HubUnavailableError as e:
        assert "huggingface.co" in str(e)
    assert time.perf_counter() - t0 < 10


def test_hub_locations():
    assert hub_location(arm("librispeech", source="hub")) == ("openslr/librispeech_asr", "clean", None)
    assert hub_location(arm("ami", source="hub")) == ("diarizers-community/ami", "ihm", None)
    assert hub_location(arm("ami", source="hub", hub_id="edinburghcstr/ami")) == (
        "edinburghcstr/ami", "ihm", "refs/convert/parquet")
    assert hub_location(arm("ami", source="hub", hub_id="x/y", hub_config="c", revision="r")) == ("x/y", "c", "r")


def test_hub_path_with_a_stand_in_loader(monkeypatch, corpus):
    """The hub code (streaming dataset, Audio(decode=False), adapters) on a local stand-in."""
    import datasets

    calls = []

    def fake_load(hub_id, config, split, streaming, revision):
        calls.append((hub_id, config, split, streaming, revision))
        ds = datasets.Dataset(pq.read_table(corpus / "ami" / "train.parquet"))
        ds = ds.cast_column("audio", datasets.Audio(sampling_rate=16_000))  # decoding on: must be turned off
        return ds.to_iterable_dataset()

    monkeypatch.setattr(sources.hub, "check_hub", lambda *a, **k: None)
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    rows = list(open_split(arm("ami", source="hub"), "train", 4))
    assert calls == [("diarizers-community/ami", "ihm", "train", True, None)]
    expected = pq.read_table(corpus / "ami" / "train.parquet").to_pylist()
    assert len(rows) == 2
    assert rows[1]["audio"]["bytes"] == expected[1]["audio"]["bytes"]  # raw bytes: never decoded by datasets
    assert rows[1]["speakers"] == expected[1]["speakers"]
    assert rows[0]["_where"].startswith("hub diarizers-community/ami (ihm) train")
    open_split(arm("ami", source="hub", hub_id="edinburghcstr/ami"), "train", 4)
    assert calls[-1][4] == "refs/convert/parquet" and calls[-1][1] == "ihm"


def test_wav_subtype_preserved_on_crop(tmp_path):
    """Cropping 16-bit WAV to a UEM region re-encodes it losslessly as 16-bit."""
    x = (np.random.default_rng(2).integers(-2000, 2000, 16_000 * 4) / 32768).astype(np.float32)
    sf.write(tmp_path / "m.wav", x, 16_000, subtype="PCM_16")
    (tmp_path / "d.rttm").write_text("SPEAKER m 1 0.5 2.0 <NA> <NA> A <NA> <NA>\n")
    (tmp_path / "d.uem").write_text("m NA 1.0 3.0\n")
    (row,) = list(open_split(arm(path=str(tmp_path)), "d", 4))
    np.testing.assert_array_equal(decode_audio(row["audio"]["bytes"], "m"), x[16_000:48_000])
    assert row["timestamps_start"] == [0.0] and row["timestamps_end"] == [1.5]
