"""results.json's layout. An older results.json: readers that consume it as it is refuse it with one
line that says what to re-run; `vfreport report DIR`, which re-analyses and overwrites it, does not.
The JSON Schema generated from the typed records: the committed copy is current, an analysed
results.json follows it, and a wrong type, an unknown or a missing key in a fixed layout fails it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from _expdir import ami_history, librispeech_history, make_experiment
from _results_schema import schema_errors
from click.testing import CliRunner

from vfreport.cli import cli
from vfreport.errors import ExperimentError, ResultsSchemaError
from vfreport.experiment.results_schema import SCHEMA_VERSION, json_schema, read_results, with_onnx
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


# ---------------------------------------------------------------------------------------------
# the JSON Schema generated from the typed records
# ---------------------------------------------------------------------------------------------

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "results.schema.json"


def test_committed_schema_is_the_generated_one_and_vfreport_schema_prints_it():
    printed = CliRunner().invoke(cli, ["schema"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == json_schema()
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema(), (
        "docs/results.schema.json is stale: vfreport schema > docs/results.schema.json")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A results dict as `vfreport report` builds it, yardstick included (a fake evaluation-less one)."""
    from vfreport.analysis import yardstick as Y
    from vfreport.analysis.results import Yardstick, analyze_experiment, to_jsonable
    from vfreport.config import read_experiment_config
    from vfreport.experiment.layout import ExperimentDir

    hist = {("librispeech", s): librispeech_history() for s in (0, 1, 2)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1, 2)}
    exp = make_experiment(tmp_path_factory.mktemp("schema"), hist, states={("ami", 2): "failed"})
    cfg = read_experiment_config(ExperimentDir(exp).config)
    lifts = Y.experiment_lifts(exp)
    ys = Yardstick({"available": False, "reason": "no meetings"}, lifts, Y.gates(cfg, lifts))
    return to_jsonable(analyze_experiment(exp, yardstick=ys, n_resamples=100))


def test_an_analysed_results_json_follows_the_schema(analysed):
    assert schema_errors(analysed) == []
    assert {"evaluation", "yardstick_gates"} <= set(analysed) and "lift" in analysed["arms"]["ami"]
    assert analysed["arms"]["ami"]["missing"][0]["state"] == "failed"


@pytest.mark.parametrize(("where", "value", "complaint"), [
    (("thresholds", "alpha"), "0.05", "is not of type 'number'"),
    (("thresholds", "min_lift"), None, "is not of type 'number'"),
    (("runs", 0, "seed"), "0", "is not of type 'integer'"),
    (("arms", "ami", "readiness", "caps"), "none", "is not of type 'array'"),
    (("arms", "ami", "lift", "mean"), "high", "is not valid under any of the given schemas"),
    (("primary", "testable"), "yes", "is not of type 'boolean'"),
    (("hypotheses", "H1", "p_value"), "small", "is not valid under any of the given schemas"),
    (("delta", "der", "lower_is_better"), 1, "is not of type 'boolean'"),
    (("scenario", "gates"), {}, "is not of type 'array'"),
    (("power", "n"), 3, "is not of type 'array'"),
    (("onnx",), {"path": "model.onnx"}, "is not valid under any of the given schemas"),
    (("evaluation", "available"), "no", "is not valid under any of the given schemas"),
    (("data", "ami", "flags"), "none", "is not of type 'array'"),
    (("experiment", "warnings"), "", "is not of type 'array'"),
    (("schema_version",), "2", "is not of type 'integer'"),
])
def test_a_wrong_type_in_any_block_fails_validation(analysed, where, value, complaint):
    broken = copy.deepcopy(analysed)
    target = broken
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    errors = schema_errors(broken)
    assert errors and any(complaint in e for e in errors), errors


@pytest.mark.parametrize("change", ["unknown top-level key", "unknown run key", "missing block"])
def test_fixed_layouts_refuse_unknown_and_missing_keys(analysed, change):
    broken = copy.deepcopy(analysed)
    if change == "unknown top-level key":
        broken["verdict"] = "fine"
    elif change == "unknown run key":
        broken["runs"][0]["acc"] = 0.9
    else:
        del broken["power"]
    errors = schema_errors(broken)
    expected = "is a required property" if change == "missing block" else "Additional properties are not allowed"
    assert any(expected in e for e in errors), errors


def test_with_onnx_replaces_the_entry_in_a_new_record(analysed):
    entry = {"path": None, "arm": "ami", "seed": 0, "epoch": 3, "val_acc": 0.8, "max_abs_diff": 0.5,
             "tolerance": 1e-3, "parity_ok": False, "export_seconds": 1.0, "opset": 18, "checked_shapes": [[1, 2]],
             "exporter": "dynamo", "fallback_reason": None, "check_seconds": 0.1, "argmax_agreement": 0.9,
             "checkpoint": "ami/seed-0/checkpoints/best.pt", "error": "parity failed"}
    exported = with_onnx(analysed, entry)
    assert exported["onnx"] == entry and analysed["onnx"] is None
    assert list(exported) == list(analysed) and schema_errors(exported) == []


def test_the_suite_validates_what_write_results_writes(tmp_path, analysed):
    """tests/conftest.py's check is wired to the one writer: a broken results dict never reaches disk."""
    from vfreport.pipeline import write_results

    broken = {**analysed, "thresholds": {**analysed["thresholds"], "alpha": "0.05"}}
    with pytest.raises(AssertionError, match="/thresholds/alpha: '0.05' is not of type 'number'"):
        write_results(tmp_path, broken)
    assert not (tmp_path / "results.json").exists()
    assert read_results(write_results(tmp_path, analysed).parent)["primary"] == analysed["primary"]
