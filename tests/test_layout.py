
import pytest

from vfreport.errors import UnsafePathError
from vfreport.experiment.layout import ExperimentDir, atomic_write_text
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
    assert run.read_status() == {"state": "pending"}
    run.write_status(state="running", last_epoch=1)
    s = run.write_status(last_epoch=2)
    assert s["state"] == "running" and s["last_epoch"] == 2 and s["arm"] == "ami" and s["seed"] == 0


def test_atomic_writes_get_normal_permissions(tmp_path):
    p = atomic_write_text(tmp_path / "report.html", "x")
    assert p.stat().st_mode & 0o644 == 0o644
