"""`vfreport bench` computes every figure it prints (timings are measured, never asserted)."""

import json

import pytest

from vfreport.bench.benchmarks import print_table, run_benchmarks, synthetic_experiment
from vfreport.bench.figure import Figure, meets


def test_met_compares_against_the_target():
    assert meets(1.05, "<=", 1.10) is True
    assert meets(1.2, "<=", 1.10) is False
    assert meets(2500, ">=", 2000) is True
    assert meets(None, ">=", 1) is None
    assert meets(float("nan"), ">=", 1) is None


def test_table_shows_every_figure_and_its_target(capsys):
    figs = [Figure("a thing", 3.14159, "x", ">= 2", True, "note"), Figure("gpu", None, "w/s", ">= 1", None, "none")]
    print_table(figs, {"processor": "cpu", "cores": 2, "torch": "2", "cuda": None})
    out = capsys.readouterr().out
    assert "a thing" in out and "3.14" in out and ">= 2" in out and "yes" in out
    assert "n/a" in out and "none" in out


def test_synthetic_experiment_has_2_arms_10_seeds_30_epochs(tmp_path):
    from vfreport.experiment.layout import ExperimentDir

    exp = ExperimentDir(synthetic_experiment(tmp_path / "x"))
    runs = list(exp.runs())
    assert len(runs) == 20
    assert all(len(r.history.read_text().splitlines()) == 31 for r in runs)


@pytest.mark.slow
def test_bench_writes_json_with_name_value_unit_target_met(tmp_path, capsys):
    out = tmp_path / "bench.json"
    figures = run_benchmarks(json_out=out, only=["peak", "analysis", "data"])
    rows = json.loads(out.read_text())
    assert len(rows) == len(figures) >= 5
    for row in rows:
        assert {"name", "value", "unit", "target", "met"} <= set(row)
        assert "failed" not in row["name"], row
    names = [r["name"] for r in rows]
    assert any(n.startswith("analysis + Markdown") for n in names)
    assert any(n.startswith("data cold") for n in names) and any(n.startswith("data cached") for n in names)
    peak = next(r for r in rows if r["name"] == "fp32 matmul peak")
    assert peak["value"] > 0.1
    assert "vfreport bench on" in capsys.readouterr().out
