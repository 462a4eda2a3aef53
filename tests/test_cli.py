"""The CLI's own wiring (the long commands are exercised end to end in test_e2e.py)."""

import tomllib

import pyarrow.parquet as pq
from click.testing import CliRunner

from vfreport.cli import cli


def test_config_prints_a_valid_config_that_round_trips(tmp_path):
    out = CliRunner().invoke(cli, ["config", "--preset", "full"])
    assert out.exit_code == 0
    data = tomllib.loads(out.output)
    assert data["experiment"]["epochs"] == 30
    (tmp_path / "c.toml").write_text(out.output)
    again = CliRunner().invoke(cli, ["config", "--config", str(tmp_path / "c.toml")])
    assert tomllib.loads(again.output) == data


def test_data_synth_writes_the_hf_schemas(tmp_path):
    out = CliRunner().invoke(cli, ["data", "synth", "--out", str(tmp_path / "data")])
    assert out.exit_code == 0, out.output
    libri = pq.read_schema(tmp_path / "data/librispeech/validation.parquet")
    assert {"file", "audio", "text", "speaker_id", "chapter_id", "id"} <= set(libri.names)
    ami = pq.read_schema(tmp_path / "data/ami/train.parquet")
    assert {"audio", "timestamps_start", "timestamps_end", "speakers"} <= set(ami.names)


def test_user_errors_are_one_line_with_status_2(tmp_path):
    out = CliRunner().invoke(cli, ["export-onnx", str(tmp_path)])
    assert out.exit_code == 2
    assert out.output.startswith("error: ") and "an experiment directory" in out.output
    out = CliRunner().invoke(cli, ["import", str(tmp_path / "x"), "--history", "nocolons"])
    assert out.exit_code == 2 and "ARM:SEED:FILE" in out.output
