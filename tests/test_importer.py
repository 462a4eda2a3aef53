"""`vfreport import`: histories produced elsewhere (CSV / JSON) become an experiment directory."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from vfreport.config import load_config, read_experiment_config
from vfreport.errors import ConfigError, ExperimentError, HistoryError, UnsafePathError
from vfreport.experiment.history import HISTORY_COLUMNS
from vfreport.experiment.importer import ImportItem, import_histories, parse_history, parse_history_spec
from vfreport.experiment.layout import ExperimentDir, read_json

ROWS = [
    # epoch, train_loss, train_acc, val_loss, val_acc  (percent)
    (1, 0.6952, 45.1, 0.6931, 50.2),
    (2, 0.6941, 46.3, 0.6925, 55.0),
    (3, 0.6940, 47.0, 0.6940, 42.0),
    (4, 0.6938, 47.5, 0.6890, 61.5),
    (5, 0.6937, 47.8, 0.6950, 31.5),
]
COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]


def write_csv(path, rows=ROWS, columns=COLUMNS):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_csv_in_percent_is_detected_converted_and_recorded(tmp_path):
    src = write_csv(tmp_path / "libri.csv")
    lines: list[str] = []
    out = import_histories(tmp_path / "exp", [ImportItem(src, "librispeech", 0)], echo=lines.append)
    exp = ExperimentDir(out)
    run = exp.run("librispeech", 0)
    hist = pd.read_csv(run.history)
    assert list(hist.columns[: len(HISTORY_COLUMNS)]) == HISTORY_COLUMNS
    assert hist["val_acc"].tolist() == pytest.approx([r[4] / 100 for r in ROWS])
    assert hist["train_acc"].tolist() == pytest.approx([r[2] / 100 for r in ROWS])
    assert hist["train_loss"].tolist() == pytest.approx([r[1] for r in ROWS])
    assert hist["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert hist["lr"].isna().all() and hist["epoch_seconds"].isna().all()  # unknown, not invented

    status = run.read_status()
    assert status.state == "completed" and status.source == "import"
    assert status.last_epoch == 5 and status.epochs == 5 and status.seconds is None
    assert status.import_["accuracy_units"] == "percent"
    assert "61.5 > 1.0" in status.import_["detection"]
    assert len(lines) == 1 and "percent" in lines[0] and "librispeech/seed-0" in lines[0]
    assert read_json(run.params)["imported_from"] == str(src.resolve())

    cfg = read_experiment_config(exp.config)
    assert cfg.seeds == [0] and cfg.epochs == 5
    assert cfg.arms["librispeech"].display_name == "LibriSpeech-like (Pseudo, synthetic)"
    manifest = read_json(exp.manifest)
    assert manifest["runs"] == {"librispeech/seed-0": "completed"}
    assert manifest["imports"]["librispeech/seed-0"]["file"] == str(src.resolve())


def test_json_rows_and_columns_in_fractions_with_optional_columns(tmp_path):
    rows = [dict(zip(COLUMNS, (r[0], r[1], r[2] / 100, r[3], r[4] / 100), strict=True)) | {"lr": 1e-3,
            "epoch_seconds": 60.0} for r in ROWS]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    cols = {k: [row[k] for row in rows] for k in rows[0]}
    (tmp_path / "cols.json").write_text(json.dumps(cols))
    out = import_histories(tmp_path / "exp", [ImportItem(tmp_path / "rows.json", "librispeech", 0),
                                               ImportItem(tmp_path / "cols.json", "ami", 1)])
    exp = ExperimentDir(out)
    for arm, seed, fmt in (("librispeech", 0, "json-rows"), ("ami", 1, "json-columns")):
        run = exp.run(arm, seed)
        hist = pd.read_csv(run.history)
        assert hist["val_acc"].tolist() == pytest.approx([r[4] / 100 for r in ROWS])
        assert hist["lr"].tolist() == pytest.approx([1e-3] * 5)
        status = run.read_status()
        assert status.import_["format"] == fmt
        assert status.import_["accuracy_units"] == "fraction"
        assert status.seconds == pytest.approx(300.0)
    assert read_experiment_config(exp.config).seeds == [0, 1]


def test_column_names_are_normalised(tmp_path):
    src = write_csv(tmp_path / "h.csv", columns=["Epoch", "Train Loss", "train_accuracy", "val-loss", "Val Acc"])
    hist = parse_history(src)
    assert list(hist.frame.columns[:5]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert hist.renamed["train_accuracy"] == "train_acc" and hist.renamed["Val Acc"] == "val_acc"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda df: df.drop(columns=["val_loss"]), r"missing column\(s\) val_loss"),
        (lambda df: df.assign(train_acc=df["train_acc"].astype(object).where(df.index != 2, "abc")),
         r"row 3 \(line 4\): column 'train_acc' has non-numeric value 'abc'"),
        (lambda df: df.assign(val_loss=df["val_loss"].where(df.index != 1, float("nan"))),
         r"row 2 \(line 3\): column 'val_loss' has an empty value"),
        (lambda df: df.assign(val_acc=df["val_acc"].where(df.index != 4, math.inf)),
         r"row 5 \(line 6\): column 'val_acc' is inf"),
        (lambda df: df.assign(epoch=[1, 2, 2, 3, 4]), r"row 3 \(line 4\): duplicate epoch 2 after epoch 2"),
        (lambda df: df.assign(epoch=[1, 2, 5, 4, 6]), r"row 4 \(line 5\): non-increasing epoch 4 after epoch 5"),
        (lambda df: df.assign(epoch=[0, 1, 2, 3, 4]), r"row 1 \(line 2\): epoch must be a positive integer"),
        (lambda df: df.assign(epoch=[1, 2, 2.5, 3, 4]), r"epoch must be a positive integer, got 2.5"),
        (lambda df: df.assign(val_acc=df["val_acc"].where(df.index != 3, 150.0)),
         r"row 4 .*val_acc = 150 is above 100"),
        (lambda df: df.assign(train_loss=df["train_loss"].where(df.index != 0, -0.1)),
         r"row 1 .*train_loss is negative"),
    ],
)
def test_malformed_csv_names_file_row_and_column(tmp_path, mutate, expected):
    df = mutate(pd.DataFrame(ROWS, columns=COLUMNS))
    src = tmp_path / "bad.csv"
    df.to_csv(src, index=False)
    with pytest.raises(HistoryError, match=expected) as info:
        import_histories(tmp_path / "exp", [ImportItem(src, "librispeech", 0)])
    assert str(src) in str(info.value)
    assert not (tmp_path / "exp").exists()  # nothing written


def test_malformed_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"epoch": 1, "train_loss": 0.6, "train_acc": 0.5, "val_loss": 0.6, "val_acc": 0.5},
                               {"epoch": 2, "train_loss": 0.6, "train_acc": None, "val_loss": 0.6, "val_acc": 0.5}]))
    with pytest.raises(HistoryError, match=r"bad.json: row 2: column 'train_acc' has a missing value"):
        parse_history(bad)
    bad.write_text(json.dumps({"epoch": [1, 2], "train_loss": [0.6], "train_acc": [0.5, 0.5], "val_loss": [1, 1],
                               "val_acc": [0.5, 0.5]}))
    with pytest.raises(HistoryError, match="different lengths"):
        parse_history(bad)
    bad.write_text("{not json")
    with pytest.raises(HistoryError, match="not valid JSON"):
        parse_history(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(HistoryError, match="empty"):
        parse_history(empty)
    with pytest.raises(HistoryError, match="not found"):
        parse_history(tmp_path / "nope.csv")


def test_all_files_are_checked_before_anything_is_written(tmp_path):
    good = write_csv(tmp_path / "good.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,train_loss\n1,0.5\n")
    with pytest.raises(HistoryError, match="bad.csv"):
        import_histories(tmp_path / "exp", [ImportItem(good, "librispeech", 0), ImportItem(bad, "ami", 0)])
    assert not (tmp_path / "exp").exists()


def test_bad_arms_and_duplicates_are_rejected(tmp_path):
    src = write_csv(tmp_path / "h.csv")
    with pytest.raises(ConfigError, match="arm 'wav2vec' .* not in the experiment config; its arms are: librispeech"):
        import_histories(tmp_path / "exp", [ImportItem(src, "wav2vec", 0)])
    with pytest.raises(UnsafePathError):
        import_histories(tmp_path / "exp", [ImportItem(src, "../evil", 0)])
    with pytest.raises(ConfigError, match="given twice"):
        import_histories(tmp_path / "exp", [ImportItem(src, "ami", 0), ImportItem(src, "ami", 0)])
    with pytest.raises(ConfigError, match="nothing to import"):
        import_histories(tmp_path / "exp", [])


def test_second_import_adds_runs_and_keeps_the_config(tmp_path):
    src = write_csv(tmp_path / "h.csv")
    cfg = load_config(overrides={"arms": {"ami": {"display_name": "AMI (my labels)"}}})
    out = import_histories(tmp_path / "exp", [ImportItem(src, "librispeech", 0)], config=cfg)
    with pytest.raises(ExperimentError, match="already holds a run"):
        import_histories(out, [ImportItem(src, "librispeech", 0)])
    longer = write_csv(tmp_path / "long.csv", rows=[*ROWS, (6, 0.69, 48.0, 0.69, 40.0)])
    import_histories(out, [ImportItem(longer, "ami", 2)])
    cfg2 = read_experiment_config(ExperimentDir(out).config)
    assert cfg2.arms["ami"].display_name == "AMI (my labels)"  # the directory's config is kept
    assert cfg2.seeds == [0, 2] and cfg2.epochs == 6
    import_histories(out, [ImportItem(longer, "librispeech", 0)], overwrite=True)
    assert len(pd.read_csv(ExperimentDir(out).run("librispeech", 0).history)) == 6


def test_parse_history_spec(tmp_path):
    item = parse_history_spec("ami:3:C:/data/run:1.csv")
    assert item.arm == "ami" and item.seed == 3 and str(item.path) == "C:/data/run:1.csv"
    for bad in ("ami:x:file.csv", "ami:0", "ami:0:"):
        with pytest.raises(ConfigError, match="ARM:SEED:FILE"):
            parse_history_spec(bad)


def test_short_import_is_analysable(tmp_path):
    """Fewer than 10 epochs and no lr/epoch_seconds columns: the analysis must accept it (thin data)."""
    from vfreport.analysis.results import analyze_experiment

    out = import_histories(tmp_path / "exp", [ImportItem(write_csv(tmp_path / "h.csv"), "librispeech", 0)])
    results = analyze_experiment(out, n_resamples=200)
    arm = results["arms"]["librispeech"]
    assert arm["best_val_acc"]["mean"] == pytest.approx(0.615)
    assert arm["train_acc_epoch10"]["mean"] is None
    assert results["runs"][0]["best_epoch"] == 4 and results["runs"][0]["seconds"] is None
    assert results["data"]["librispeech"]["source"] == "import"
