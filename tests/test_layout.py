
import pandas as pd
import pytest

from vfreport.config import load_config, read_experiment_config
from vfreport.errors import ExperimentError, HistoryError, UnsafePathError
from vfreport.experiment.history import HISTORY_COLUMNS, read_history
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, atomic_write_text, read_json
from vfreport.experiment.manifest import read_manifest, write_manifest
from vfreport.experiment.status import RunStatus
from vfreport.names import check_name


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "results.json"
    atomic_write_text(p, "old")

    class Boom(Exception):
        pass

    from vfreport.experiment.layout import atomic_write_with

    def writer(f):
        f.write(b"half-")
        raise Boom

    with pytest.raises(Boom):
        atomic_write_with(p, writer)
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/b", "..", "", ".hidden", "x" * 65])
def test_check_name_rejects_unsafe(bad):
    with pytest.raises(UnsafePathError):
        check_name(bad)


def test_runs_are_listed_sorted(tmp_path):
    exp = ExperimentDir(tmp_path)
    for arm, seed in [("b", 2), ("a", 10), ("a", 2)]:
        exp.run(arm, seed).root.mkdir(parents=True)
    (tmp_path / "figures").mkdir()
    assert [(r.arm, r.seed) for r in exp.runs()] == [("a", 2), ("a", 10), ("b", 2)]


def test_status_merge(tmp_path):
    run = ExperimentDir(tmp_path).run("ami", 0)
    assert run.read_status() == RunStatus("ami", 0, "pending")
    run.write_status(state="running", last_epoch=1)
    s = run.write_status(last_epoch=2)
    assert (s.state, s.last_epoch, s.arm, s.seed) == ("running", 2, "ami", 0)
    assert run.read_status() == s


def test_status_round_trip_keeps_every_field_and_foreign_keys(tmp_path):
    run = ExperimentDir(tmp_path).run("ami", 3)
    written = run.write_status(state="completed", epochs=12, last_epoch=12, started="t0", ended="t1",
                               seconds=1.5, error=None, pid=7, host="h", hardware={"cuda": False},
                               data={"train_windows": 10}, data_seconds=0.2, test={"acc": 0.7},
                               source="import", imported="t2", import_={"rows": 12})
    on_disk = read_json(run.status)
    assert on_disk["import"] == {"rows": 12} and "import_" not in on_disk and "error" not in on_disk
    assert run.read_status() == written
    atomic_write_json(run.status, {**on_disk, "value": 0.5})  # a key another tool wrote
    assert run.read_status().extra == {"value": 0.5}
    run.write_status(last_epoch=12)
    assert read_json(run.status)["value"] == 0.5  # and written back


def test_status_fresh_write_forgets_the_old_run(tmp_path):
    run = ExperimentDir(tmp_path).run("ami", 0)
    run.write_status(state="failed", error={"type": "X", "message": "m", "cell": 1}, pid=9)
    s = run.write_status(fresh=True, state="completed", epochs=3)
    assert s == RunStatus("ami", 0, "completed", epochs=3) == run.read_status()


def test_status_rejects_unknown_fields_and_states(tmp_path):
    run = ExperimentDir(tmp_path).run("ami", 0)
    with pytest.raises(TypeError):
        run.write_status(stat="completed")  # a misspelt field is not a new key
    atomic_write_json(run.status, {"state": "done"})
    with pytest.raises(ExperimentError, match="state 'done' is not one of pending, running, completed, failed"):
        run.read_status()
    run.status.write_text("{not json")
    with pytest.raises(ExperimentError, match="status.json"):
        run.read_status()


def test_history_round_trip_orders_columns_and_validates(tmp_path):
    run = ExperimentDir(tmp_path).run("ami", 0)
    hist = pd.DataFrame({"val_acc": [0.6, 0.7], "extra": [1.0, 2.0], "epoch": [1, 2], "train_loss": [0.7, 0.6],
                         "train_acc": [0.55, 0.65], "val_loss": [0.69, 0.68]})
    run.write_history(hist)
    back = read_history(run.history)
    assert list(back.columns) == HISTORY_COLUMNS + ["extra"]
    pd.testing.assert_frame_equal(back[list(hist.columns)], hist.astype({"epoch": int}), check_dtype=False)
    assert back["lr"].isna().all()
    with pytest.raises(HistoryError, match="history.csv"):
        run.write_history(hist.assign(val_acc=[0.6, float("nan")]))


def test_config_round_trip(tmp_path):
    exp = ExperimentDir(tmp_path)
    cfg = load_config(preset="demo")
    exp.write_config(cfg)
    assert read_experiment_config(exp.config) == cfg


def test_manifest_round_trip_recounts_runs(tmp_path):
    exp = ExperimentDir(tmp_path)
    exp.run("ami", 0).write_status(state="completed")
    exp.run("ami", 1).root.mkdir(parents=True)
    first = write_manifest(exp, experiment="demo", started="t0", executor={"name": "local", "jobs": 1})
    assert first.runs == {"ami/seed-0": "completed", "ami/seed-1": "pending"}
    assert read_manifest(exp) == first
    exp.run("ami", 1).write_status(state="failed")
    second = write_manifest(exp, ended="t1", seconds=2.0)
    assert (second.started, second.ended, second.experiment) == ("t0", "t1", "demo")
    assert second.runs["ami/seed-1"] == "failed" and read_manifest(exp) == second
    assert "source" not in read_json(exp.manifest) and "imports" not in read_json(exp.manifest)


def test_atomic_writes_get_normal_permissions(tmp_path):
    p = atomic_write_text(tmp_path / "report.html", "x")
    assert p.stat().st_mode & 0o644 == 0o644
