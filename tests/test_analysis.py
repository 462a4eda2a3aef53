"""vfreport.analysis.results on fake experiment directories (tests/_expdir.py): the strategy document's
LibriSpeech figures come back out, thin data is reported instead of crashing, bad files are named."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from _expdir import (
    LIBRISPEECH_LOSS,
    LIBRISPEECH_TRAIN,
    LIBRISPEECH_VAL,
    ami_history,
    librispeech_history,
    make_experiment,
    make_history,
    make_predictions,
)

from vfreport.analysis.results import analyze_experiment, to_jsonable
from vfreport.errors import ConfigError, ExperimentError, HistoryError
from vfreport.experiment.history import read_history
from vfreport.experiment.layout import ExperimentDir, atomic_write_json
from vfreport.pipeline import analyse, write_results
from vfreport.stats import tests as S

N_BOOT = 2000  # fewer resamples keep the tests fast; the statistics are the same


def _libri(shift: float = 0.0) -> pd.DataFrame:
    return make_history(np.clip(np.array(LIBRISPEECH_VAL) + shift, 0, 1), LIBRISPEECH_TRAIN, LIBRISPEECH_LOSS)


def _three_seed_dir(tmp_path, **kw):
    h = {
        ("librispeech", 0): librispeech_history(),
        ("librispeech", 1): _libri(0.01),
        ("librispeech", 2): _libri(-0.01),
    }
    h.update({("ami", s): ami_history(0.81 + 0.01 * s, seed=s) for s in range(3)})
    return make_experiment(tmp_path, h, **kw)


def _strict_loads(text: str):
    def bad(token):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=bad)


def test_full_analysis_reproduces_the_strategy_documents_librispeech_figures(tmp_path):
    exp = _three_seed_dir(tmp_path)
    r = analyze_experiment(exp, n_resamples=N_BOOT)
    run0 = next(x for x in r["runs"] if x["arm"] == "librispeech" and x["seed"] == 0)
    assert run0["best_val_acc"] == pytest.approx(0.615)
    assert run0["best_epoch"] == 4 and run0["best_after_epoch4"] is False
    assert run0["train_acc_epoch10"] == pytest.approx(0.48)
    assert run0["val_acc_half_range"] == pytest.approx(0.15)
    assert run0["plateau"] is True
    libri = r["arms"]["librispeech"]
    assert libri["best_val_acc"]["per_seed"] == pytest.approx([0.615, 0.625, 0.605])
    assert libri["best_val_acc"]["mean"] == pytest.approx(0.615)
    assert libri["val_acc_half_range"]["mean"] == pytest.approx(0.15)
    assert libri["train_acc_epoch10"]["mean"] == pytest.approx(0.48)
    assert libri["best_epoch"] == [4, 4, 4] and libri["plateau"] == [True, True, True]
    assert libri["production_readiness"] == "data-quality" and libri["stability"] == "low"
    assert libri["display_name"] == "LibriSpeech (Pseudo)" and libri["role"] == "baseline"
    ami = r["arms"]["ami"]
    assert ami["n_seeds"] == 3 and ami["production_readiness"] == "ready"
    assert r["baseline"] == "librispeech" and r["target"] == "ami"
    d = r["delta"]["best_val_acc"]
    assert d["value"] == pytest.approx(ami["best_val_acc"]["mean"] - 0.615)
    assert d["ci95"][0] <= d["value"] <= d["ci95"][1]
    h1 = r["hypotheses"]["H1"]
    assert h1["test"] == "one-sided Welch t-test" and h1["verdict"] == "supported"
    assert h1["n"] == {"ami": 3, "librispeech": 3} and h1["ci95"] == d["ci95"]
    assert h1["p_value"] <= h1["p_value_holm"] <= 1
    assert (
        r["hypotheses"]["H2"]["unit"] == "epoch-to-epoch changes" and r["hypotheses"]["H2"]["n"]["ami"] == 27
    )
    assert r["hypotheses"]["H3"]["verdict"] == "supported"
    # Holm over the three testable p-values
    ps = [r["hypotheses"][k]["p_value"] for k in ("H1", "H2", "H3")]
    smallest = int(np.argmin(ps))
    assert r["hypotheses"][f"H{smallest + 1}"]["p_value_holm"] == pytest.approx(min(1.0, 3 * ps[smallest]))
    assert r["scenario"]["name"] in {"best", "high-but-unstable", "realistic"}
    assert (
        "AMI Corpus (Real) reached" in r["scenario"]["sentence"]
        and "LibriSpeech (Pseudo)" in r["scenario"]["sentence"]
    )
    assert r["power"]["seeds_for_5_points"] >= 2 and r["power"]["target_power"] == 0.8
    assert r["thresholds"]["ready"] == 0.75 and r["thresholds"]["expected_gain"] == [0.15, 0.25]
    assert r["experiment"]["config"]["experiment"]["seeds"] == [0, 1, 2]
    path = write_results(exp, r)
    assert path == ExperimentDir(exp).results
    assert _strict_loads(path.read_text())["arms"]["librispeech"]["best_val_acc"]["mean"] == pytest.approx(
        0.615
    )


def test_analysis_is_deterministic(tmp_path):
    exp = _three_seed_dir(tmp_path)
    a, b = analyze_experiment(exp, n_resamples=N_BOOT), analyze_experiment(exp, n_resamples=N_BOOT)
    a["experiment"].pop("generated"), b["experiment"].pop("generated")
    assert a == b


def test_one_seed_uses_the_window_level_test_when_predictions_exist(tmp_path):
    h = {("librispeech", 0): librispeech_history(), ("ami", 0): ami_history(0.8)}
    with_preds = analyze_experiment(
        make_experiment(tmp_path, h, predictions=True, name="p"), n_resamples=N_BOOT
    )
    h1 = with_preds["hypotheses"]["H1"]
    assert h1["testable"] and h1["unit"] == "windows" and h1["n"] == {"ami": 20, "librispeech": 20}
    assert "permutation" in h1["test"] and 0 < h1["p_value"] <= 1 and h1["caveat"]
    assert h1["delta"] == pytest.approx(with_preds["delta"]["best_val_acc"]["value"], abs=1e-3)
    # H3 with one seed: exact binomial test on the scored frames of epoch 10
    h3 = with_preds["hypotheses"]["H3"]
    assert h3["testable"] and "binomial" in h3["test"] and h3["n"] == {"ami": 4000}
    # no predictions: H1 cannot be tested, with the reason
    without = analyze_experiment(make_experiment(tmp_path, h, name="np"), n_resamples=N_BOOT)
    h1 = without["hypotheses"]["H1"]
    assert h1["verdict"] == "not testable" and h1["p_value"] is None and h1["p_value_holm"] is None
    assert "2 seeds" in h1["reason"] and "val_predictions" in h1["reason"]
    assert without["power"]["seeds_for_5_points"] is None and without["power"]["reason"]
    assert without["delta"]["best_val_acc"]["ci95"] is None
    assert without["arms"]["ami"]["best_val_acc"]["ci95"] is None


def test_six_epochs_make_h2_and_h3_not_testable_without_crashing(tmp_path):
    h = {("librispeech", s): librispeech_history().head(6) for s in range(2)}
    h.update({("ami", s): ami_history(0.8, seed=s, epochs=6) for s in range(2)})
    r = analyze_experiment(make_experiment(tmp_path, h), n_resamples=N_BOOT)
    for key in ("H2", "H3"):
        assert r["hypotheses"][key]["verdict"] == "not testable"
        assert "10 epochs" in r["hypotheses"][key]["reason"]
    assert r["hypotheses"]["H1"]["testable"]
    assert r["arms"]["ami"]["train_acc_epoch10"]["mean"] is None
    assert r["arms"]["ami"]["train_acc_epoch10"]["per_seed"] == [None, None]
    run = r["runs"][0]
    assert run["train_acc_epoch10"] is None and run["window_epochs"] == 6 and run["flags"]
    # Holm adjusts over the one testable hypothesis only
    assert r["hypotheses"]["H1"]["p_value_holm"] == pytest.approx(r["hypotheses"]["H1"]["p_value"])


def test_failed_and_running_runs_are_listed_and_excluded(tmp_path):
    h = {("librispeech", s): _libri(0.01 * s) for s in range(3)}
    h.update({("ami", 0): ami_history(0.8, 0), ("ami", 1): ami_history(0.8, 1).head(3), ("ami", 2): None})
    states = {("ami", 1): "failed", ("ami", 2): "running"}
    r = analyze_experiment(make_experiment(tmp_path, h, states=states), n_resamples=N_BOOT)
    ami = r["arms"]["ami"]
    assert ami["n_seeds"] == 1 and ami["seeds"] == [0]
    missing = {m["seed"]: m for m in ami["missing"]}
    assert missing[1]["state"] == "failed" and "CUDA out of memory" in missing[1]["reason"]
    assert missing[2]["state"] == "running" and "running" in missing[2]["reason"]
    h1 = r["hypotheses"]["H1"]
    assert (
        h1["verdict"] == "not testable"
        and "excluded" in h1["reason"]
        and "CUDA out of memory" in h1["reason"]
    )
    failed_run = next(x for x in r["runs"] if x["arm"] == "ami" and x["seed"] == 1)
    assert failed_run["included"] is False and failed_run["error"]["type"] == "RuntimeError"
    assert failed_run["epochs_completed"] == 3  # partial history shown, not used


def test_all_target_runs_failed_gives_incomplete_scenario(tmp_path):
    h = {("librispeech", 0): librispeech_history(), ("ami", 0): ami_history()}
    r = analyze_experiment(make_experiment(tmp_path, h, states={("ami", 0): "failed"}), n_resamples=N_BOOT)
    assert all(r["hypotheses"][k]["verdict"] == "not testable" for k in ("H1", "H2", "H3"))
    assert r["scenario"]["name"] == "incomplete"
    assert (
        r["arms"]["ami"]["best_val_acc"]["mean"] is None and r["arms"]["ami"]["production_readiness"] is None
    )
    _strict_loads(json.dumps(to_jsonable(r), allow_nan=False))


def test_a_diverged_failed_run_with_nan_does_not_block_the_report(tmp_path):
    bad = ami_history(0.8, 1)
    bad.loc[5, "train_loss"] = float("nan")
    h = {
        ("librispeech", 0): librispeech_history(),
        ("librispeech", 1): _libri(0.01),
        ("ami", 0): ami_history(0.8, 0),
        ("ami", 1): bad,
    }
    r = analyze_experiment(make_experiment(tmp_path, h, states={("ami", 1): "failed"}), n_resamples=N_BOOT)
    run = next(x for x in r["runs"] if x["arm"] == "ami" and x["seed"] == 1)
    assert run["best_val_acc"] is None and any("not usable" in f for f in run["flags"])


@pytest.mark.parametrize(
    "mutate, words",
    [
        (
            lambda df: df.assign(val_acc=df["val_acc"].where(df["epoch"] != 3, float("nan"))),
            ["line 4", "'val_acc'"],
        ),
        (
            lambda df: df.assign(train_loss=df["train_loss"].where(df["epoch"] != 2, float("inf"))),
            ["line 3", "'train_loss'"],
        ),
        (lambda df: df.drop(columns=["val_loss"]), ["missing column", "val_loss"]),
        (lambda df: df.assign(epoch=[1, 2, 4] + list(range(5, len(df) + 2))), ["line 4", "'epoch'"]),
        (lambda df: df.assign(val_acc=df["val_acc"] * 100), ["fraction", "'val_acc'"]),
        (lambda df: df.head(0), ["no epochs"]),
    ],
)
def test_malformed_histories_raise_history_error_naming_file_line_and_column(tmp_path, mutate, words):
    h = {("librispeech", 0): mutate(librispeech_history()), ("ami", 0): ami_history()}
    exp = make_experiment(tmp_path, h)
    with pytest.raises(HistoryError) as e:
        analyze_experiment(exp, n_resamples=N_BOOT)
    msg = str(e.value)
    assert "librispeech/seed-0/history.csv" in msg
    for w in words:
        assert w in msg


def test_text_in_a_numeric_column_is_named(tmp_path):
    p = tmp_path / "history.csv"
    df = librispeech_history()
    df["lr"] = df["lr"].astype(object)
    df.loc[1, "lr"] = "oops"
    df.to_csv(p, index=False)
    with pytest.raises(HistoryError, match=r"line 3, column 'lr': 'oops'"):
        read_history(p)


def test_directory_problems(tmp_path):
    with pytest.raises(ExperimentError, match="does not exist"):
        analyze_experiment(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExperimentError, match="experiment.toml"):
        analyze_experiment(tmp_path / "empty")
    exp = make_experiment(tmp_path, {("librispeech", 0): librispeech_history(), ("ami", 0): ami_history()})
    stray = ExperimentDir(exp).run("voxceleb", 0)
    stray.root.mkdir(parents=True)
    with pytest.raises(ExperimentError, match="voxceleb"):
        analyze_experiment(exp)
    stray.root.rmdir()
    stray.root.parent.rmdir()
    ExperimentDir(exp).run("ami", 0).status.write_text("{not json")
    with pytest.raises(ExperimentError, match="status.json"):
        analyze_experiment(exp)
    ExperimentDir(exp).config.write_text("[experiment]\nname = 3\n")
    with pytest.raises(ConfigError):
        analyze_experiment(exp)


def test_missing_seed_folder_is_listed(tmp_path):
    h = {
        ("librispeech", 0): librispeech_history(),
        ("librispeech", 1): _libri(0.01),
        ("ami", 0): ami_history(),
    }
    r = analyze_experiment(make_experiment(tmp_path, h), n_resamples=N_BOOT)
    assert r["arms"]["ami"]["missing"] == [
        {"seed": 1, "state": "missing", "reason": "no run folder ami/seed-1"}
    ]


def test_analyse_keeps_an_existing_onnx_entry_and_write_results_writes_strict_json(tmp_path):
    exp = make_experiment(tmp_path, {("librispeech", 0): librispeech_history(), ("ami", 0): ami_history()})
    onnx = {"path": "model.onnx", "arm": "ami", "seed": 0, "parity_ok": True, "max_abs_diff": 1e-6}
    atomic_write_json(ExperimentDir(exp).results, {"onnx": onnx})
    assert analyze_experiment(exp, n_resamples=N_BOOT)["onnx"] is None  # analysis knows nothing of exports
    r = analyse(exp)  # the pipeline carries the previous export's entry
    assert r["onnx"] == onnx
    r["extra"] = {
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "int": np.int64(3),
        "arr": np.arange(2),
        "tuple": (1, 2),
        "bool": np.bool_(True),
    }
    written = _strict_loads(write_results(exp, r).read_text())
    assert written["onnx"] == onnx
    assert written["extra"] == {
        "nan": None,
        "inf": None,
        "int": 3,
        "arr": [0, 1],
        "tuple": [1, 2],
        "bool": True,
    }


def test_data_info_from_params_and_status(tmp_path):
    h = {
        ("librispeech", 0): librispeech_history(),
        ("ami", 0): ami_history(),
        ("ami", 1): ami_history(seed=1),
    }
    exp = make_experiment(
        tmp_path,
        h,
        status_extra={
            ("ami", 0): {"data": {"skipped_rows": 2, "train_windows": 380}},
            ("ami", 1): {"data": {"skipped_rows": 2, "train_windows": 380}},
        },
        params={("librispeech", 0): {"seed": 0, "source": "local", "val_windows": 100}},
    )
    data = analyze_experiment(exp, n_resamples=N_BOOT)["data"]
    assert data["ami"]["skipped_rows"] == 2 and data["ami"]["train_windows"] == 380
    assert data["ami"]["label_strategy"] == "two-speaker" and "per_seed" not in data["ami"]
    assert data["librispeech"]["source"] == "local" and data["librispeech"]["val_windows"] == 100
    assert data["librispeech"]["skipped_rows"] is None


def test_predictions_are_consistent_with_the_history_they_came_from():
    # guards the helper the window-level tests rely on
    hist = ami_history()
    preds = make_predictions(hist)
    acc = preds.groupby("epoch").apply(lambda g: g["frames_correct"].sum() / g["frames_scored"].sum())
    assert np.allclose(acc.to_numpy(), hist["val_acc"].to_numpy(), atol=1e-3)


def test_ten_seeds_thirty_epochs_is_analysed(tmp_path):
    h = {
        ("librispeech", s): make_history(np.clip(0.55 + 0.08 * np.sin(np.arange(30) + s), 0, 1))
        for s in range(10)
    }
    h.update({("ami", s): ami_history(0.8 + 0.005 * s, seed=s, epochs=30) for s in range(10)})
    r = analyze_experiment(make_experiment(tmp_path, h))
    assert r["arms"]["ami"]["n_seeds"] == 10 and r["hypotheses"]["H1"]["n"] == {"ami": 10, "librispeech": 10}
    assert all(math.isfinite(r["hypotheses"][k]["p_value"]) for k in ("H1", "H2", "H3"))


def test_one_seed_against_three_pools_the_baseline_windows_by_window_id(tmp_path):
    h = {("librispeech", s): _libri(0.01 * s) for s in range(3)}
    h.update({("ami", 0): ami_history(0.8, 0), ("ami", 1): None})
    exp = make_experiment(tmp_path, h, states={("ami", 1): "failed"}, predictions=True)
    h1 = analyze_experiment(exp, n_resamples=N_BOOT)["hypotheses"]["H1"]
    assert h1["testable"] and h1["unit"] == "windows"
    assert h1["n"] == {"ami": 20, "librispeech": 20} and h1["seeds"] == {"ami": 1, "librispeech": 3}


def test_predictions_without_the_best_epoch_make_h1_not_testable_with_a_warning(tmp_path):
    libri, ami = librispeech_history(), ami_history(0.8)
    preds = {
        ("librispeech", 0): make_predictions(libri).query("epoch == 1"),
        ("ami", 0): make_predictions(ami),
    }
    exp = make_experiment(tmp_path, {("librispeech", 0): libri, ("ami", 0): ami}, predictions=preds)
    r = analyze_experiment(exp, n_resamples=N_BOOT)
    assert r["hypotheses"]["H1"]["verdict"] == "not testable"
    assert any("no rows for the best epoch 4" in w for w in r["experiment"]["warnings"])


def test_informational_columns_may_be_empty_or_absent_but_not_garbage(tmp_path):
    df = librispeech_history()
    df["lr"] = float("nan")  # an imported history has no lr or timings or frame counts
    df = df.drop(columns=["epoch_seconds"])
    df["train_frames"] = float("nan")
    p = tmp_path / "history.csv"
    df.to_csv(p, index=False)
    hist = read_history(p)
    assert len(hist) == 12
    m = S.run_metrics(hist)
    assert m.train_frames_epoch10 is None and m.best_val_acc == pytest.approx(0.615)
    df["lr"] = df["lr"].astype(object)
    df.loc[2, "lr"] = "fast"
    df.to_csv(p, index=False)
    with pytest.raises(HistoryError, match=r"line 4, column 'lr': 'fast'"):
        read_history(p)
    df["lr"] = float("inf")
    df.to_csv(p, index=False)
    with pytest.raises(HistoryError, match=r"line 2, column 'lr'"):
        read_history(p)


@pytest.mark.parametrize("baseline, caveat", [(0.99, True), (0.5, False)])
def test_scenario_warns_when_accuracy_is_mostly_position(tmp_path, baseline, caveat):
    h = {("librispeech", s): librispeech_history() for s in range(2)}
    h |= {("ami", s): ami_history(seed=s) for s in range(2)}
    extra = {("ami", s): {"data": {"position_baseline_val_acc": baseline}} for s in range(2)}
    results = analyze_experiment(make_experiment(tmp_path, h, status_extra=extra), n_resamples=N_BOOT)
    assert results["data"]["ami"]["position_baseline_val_acc"] == baseline
    sentence = results["scenario"]["sentence"]
    assert ("position-only baseline" in sentence) is caveat
    assert ("position_caveat" in results["scenario"]) is caveat
