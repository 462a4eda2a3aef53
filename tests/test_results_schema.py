"""An older results.json: readers that consume it as it is refuse it with one line that says what to
re-run; `vfreport report DIR`, which re-analyses and overwrites it, does not."""

from __future__ import annotations

import json

import pytest
from _expdir import ami_history, librispeech_history, make_experiment
from click.testing import CliRunner

from vfreport.cli import cli
from vfreport.errors import ExperimentError, ResultsSchemaError
from vfreport.experiment.results_schema import SCHEMA_VERSION, read_results
from vfreport.report.review import load_results


def _write(exp, results: dict) -> None:
    (exp / "results.json").write_text(json.dumps(results))


@pytest.fixture
def exp(tmp_path):
    hist = {("librispeech", s): librispeech_history() for s in (0, 1)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1)}
    return make_experiment(tmp_path, hist)


@pytest.mark.parametrize(("results", "writer", "found"), [
    ({"experiment": {"vfreport_version": "0.1.0"}, "scenario": {}}, "vfreport 0.1.0", "1"),  # before schema_version
    ({"schema_version": 1, "experiment": {"vfreport_version": "0.1.5"}}, "vfreport 0.1.5", "1"),
    ({"schema_version": SCHEMA_VERSION + 1}, "an unknown vfreport version", str(SCHEMA_VERSION + 1)),
])
def test_another_layout_is_one_clear_line(tmp_path, results, writer, found):
    _write(tmp_path, results)
    expected = (f"{tmp_path / 'results.json'} was written by {writer} (results schema {found}); "
                f"this vfreport reads schema {SCHEMA_VERSION}: re-run `vfreport report {tmp_path}`")
    for reader in (read_results, load_results):
        with pytest.raises(ResultsSchemaError) as e:
            reader(tmp_path)
        assert str(e.value) == expected and "\n" not in str(e.value)


def test_current_layout_reads_and_missing_file_says_so(tmp_path):
    with pytest.raises(ExperimentError, match="results.json: missing; run `vfreport report"):
        read_results(tmp_path)
    _write(tmp_path, {"schema_version": SCHEMA_VERSION, "experiment": {"name": "x"}})
    assert read_results(tmp_path)["experiment"] == {"name": "x"}


def test_review_refuses_but_report_rewrites_an_old_results_json(exp):
    _write(exp, {"experiment": {"vfreport_version": "0.1.0"}, "arms": {}})  # written before schema_version
    review = CliRunner().invoke(cli, ["review", str(exp)])
    assert review.exit_code == 2
    assert review.output.strip().splitlines() == [
        f"error: {exp / 'results.json'} was written by vfreport 0.1.0 (results schema 1); "
        f"this vfreport reads schema {SCHEMA_VERSION}: re-run `vfreport report {exp}`"]
    report = CliRunner().invoke(cli, ["report", "--no-html", str(exp)])
    assert report.exit_code == 0, report.output
    assert read_results(exp)["schema_version"] == SCHEMA_VERSION
