"""The experiment read once (vfreport.experiment.records): what the records hold, and that one command
reads each file of the experiment directory once."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _expdir import ami_history, librispeech_history, make_experiment, make_history
from click.testing import CliRunner

from vfreport.cli import cli
from vfreport.errors import ExperimentError, HistoryError
from vfreport.experiment.layout import atomic_write_json
from vfreport.experiment.records import MISSING, Experiment, as_experiment, load_experiment

_OPENED: list[Counter[Path]] = []
"""While :func:`counting_opens` runs: how often each file was opened (sys.audit's ``open`` event)."""


def _audit(event: str, args: tuple) -> None:
    if _OPENED and event == "open" and isinstance(args[0], str | Path):
        _OPENED[-1][Path(args[0]).resolve()] += 1


sys.addaudithook(_audit)  # an audit hook cannot be removed: it counts only inside counting_opens


@contextmanager
def counting_opens() -> Iterator[Counter[Path]]:
    """Count every file opened in this process (by open, pathlib, pandas, tomllib's callers) inside the block."""
    _OPENED.append(Counter())
    try:
        yield _OPENED[-1]
    finally:
        _OPENED.pop()


def _experiment(tmp_path: Path) -> Path:
    hist = {("librispeech", s): librispeech_history() for s in (0, 1)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1)}
    hist[("ami", 2)] = make_history([0.5, 0.55])
    exp = make_experiment(tmp_path, hist, states={("ami", 2): "failed"},
                          params={("ami", 0): {"arm": {"source": "synthetic"}}})
    atomic_write_json(exp / "manifest.json", {"vfreport_version": "test", "runs": {}})
    return exp


def test_the_records_hold_every_configured_run(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    (exp / "ami" / "seed-0" / "checkpoints").mkdir()
    (exp / "ami" / "seed-0" / "checkpoints" / "best.pt").write_bytes(b"not read by the loader")
    (exp / "librispeech" / "seed-7").mkdir()  # a seed folder the config does not name
    e = load_experiment(exp)
    assert e.root == exp and e.config.name == "exp"
    assert e.manifest is not None and e.manifest.vfreport_version == "test" and e.manifest.runs == {}
    keys = [(r.arm, r.seed) for r in e.runs]
    assert keys == [("librispeech", s) for s in (0, 1, 2, 7)] + [("ami", s) for s in (0, 1, 2)]
    assert e.warnings == ("librispeech: seed folder(s) [7] not in experiment.seeds [0, 1, 2]; included",)
    assert e.run("librispeech", 2).state == MISSING and e.run("librispeech", 2).dir is None
    assert e.run("librispeech", 7).state == "pending" and not e.run("librispeech", 7).has_history
    failed = e.run("ami", 2)
    assert failed.state == "failed" and failed.status.error["message"] == "CUDA out of memory"
    assert failed.history is not None and failed.history["epoch"].tolist() == [1, 2]
    assert e.run("ami", 0).params == {"arm": {"source": "synthetic"}}
    assert e.run("ami", 0).history["val_acc"].tolist() == pytest.approx(ami_history(0.8, seed=0)["val_acc"].tolist())
    assert e.run("ami", 0).best == exp / "ami" / "seed-0" / "checkpoints" / "best.pt" and e.run("ami", 1).best is None
    assert e.best_checkpoints() == {"librispeech": {}, "ami": {0: e.run("ami", 0).dir}}
    assert as_experiment(e) is e and isinstance(as_experiment(exp), Experiment)
    with pytest.raises(ExperimentError, match="no run ami/seed-5"):
        e.run("ami", 5)


def test_a_malformed_history_is_kept_and_raised_where_it_is_used(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    (exp / "ami" / "seed-1" / "history.csv").write_text("epoch,train_loss\n1,0.5\n")
    (exp / "manifest.json").write_text("[1, 2]")
    e = load_experiment(exp)  # neither raises here
    run = e.run("ami", 1)
    assert run.history is None and run.has_history and isinstance(run.history_error, HistoryError)
    with pytest.raises(HistoryError, match="missing column"):
        run.require_history()
    assert e.manifest is None and "manifest must be a JSON object" in (e.manifest_error or "")


def test_what_the_loader_refuses(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    (exp / "other" / "seed-0").mkdir(parents=True)
    with pytest.raises(ExperimentError, match="arm.s. other not in experiment.toml"):
        load_experiment(exp)
    (exp / "other" / "seed-0").rmdir()
    atomic_write_json(exp / "ami" / "seed-1" / "status.json", {"state": "exploded"})
    with pytest.raises(ExperimentError, match="state 'exploded' is not one of"):
        load_experiment(exp)
    with pytest.raises(ExperimentError, match="does not exist"):
        load_experiment(tmp_path / "nowhere")


def test_vfreport_report_reads_each_experiment_file_once(tmp_path: Path) -> None:
    """One `vfreport report` (analysis, yardstick with its DER evaluation, lift, figures, report.md):
    experiment.toml, manifest.json and every run's status.json, params.json and history.csv are
    opened exactly once (by the loader), however many stages use them."""
    exp = _experiment(tmp_path).resolve()
    with counting_opens() as opened:
        out = CliRunner().invoke(cli, ["report", str(exp), "--no-html"])
    assert out.exit_code == 0, out.output
    watched = [exp / "experiment.toml", exp / "manifest.json"]
    for run in sorted(p for p in exp.glob("*/seed-*") if p.is_dir()):
        watched += [f for f in (run / "status.json", run / "params.json", run / "history.csv") if f.exists()]
    assert len(watched) == 2 + 5 * 2 + 1  # 5 runs with a status and a history, one params.json
    assert {str(f.relative_to(exp)): opened[f] for f in watched} == {str(f.relative_to(exp)): 1 for f in watched}
    assert (exp / "report.md").exists() and (exp / "results.json").exists()
