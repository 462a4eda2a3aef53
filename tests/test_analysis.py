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

from vfreport.analysis.metrics import run_metrics
from vfreport.analysis.results import analyze_experiment, to_jsonable
from vfreport.errors import ConfigError, ExperimentError, HistoryError
from vfreport.experiment.history import read_history
from vfreport.experiment.layout import ExperimentDir, atomic_write_json
from vfreport.pipeline import analyse, write_results

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
    assert libri["display_name"] == "LibriSpeech-like (Pseudo, synthetic)" and libri["role"] == "baseline"
    ami = r["arms"]["ami"]
    assert ami["n_seeds"] == 3 and ami["production_readiness"] == "ready-synthetic"  # never "ready" on synthetic
    assert ami["readiness"]["accuracy_rule"] == "ready" and ami["readiness"]["evidence"] == "synthetic"
    assert r["baseline"] == "librispeech" and r["target"] == "ami"
    assert ami["unbiased_source"] == ["final-val"] * 3 and r["basis"]["name"].startswith("final-epoch val acc")
    d = r["delta"]["unbiased_acc"]
    assert d["value"] == pytest.approx(ami["unbiased_acc"]["mean"] - libri["unbiased_acc"]["mean"])
    assert d["ci95"][0] <= d["value"] <= d["ci95"][1] and d["ci"]["method"].startswith("Welch t-interval")
    assert not d["bootstrap_ci"]["reliable"]
    h1 = r["hypotheses"]["H1"]
    assert h1["test"] == "Welch two-sample t-test, one-sided" and h1["verdict"] == "supported"
    assert h1["n"] == {"ami": 3, "librispeech": 3} and h1["unit"] == "runs" and h1["ci95"] == d["ci95"]
    # no DER evaluation: H1 is the primary endpoint, tested first at full α (not in Holm)
    assert h1["family"] == "primary" and h1["p_value_holm"] is None
    assert r["primary"]["endpoint"] == "accuracy" and r["primary"]["p_value"] == h1["p_value"]
    assert r["primary"]["decision"] == "worthwhile" and r["schema_version"] >= 2
    assert r["scenario"]["sentence"].startswith("No DER evaluation on held-out meetings")
    h2 = r["hypotheses"]["H2"]
    assert h2["unit"] == "runs" and h2["n"] == {"ami": 3, "librispeech": 3}
    assert h2["verdict"] == "not decidable" and h2["min_p"] == pytest.approx(0.05) and h2["p_value_holm"] is None
    assert r["hypotheses"]["H3"]["verdict"] == "supported"
    # Holm within the secondary family over the tests that can decide: H3 alone (H2 cannot reach α)
    h3 = r["hypotheses"]["H3"]
    assert h3["family"] == "secondary" and h3["p_value_holm"] == pytest.approx(h3["p_value"])
    # after a worthwhile gain the target accuracy is read on its interval's lower end: runs near 80 % reach
    # realistic (lower end ≥ 75 %), not best case (lower end ≥ 80 %)
    assert r["scenario"]["name"] == "realistic"
    sentence = r["scenario"]["sentence"]
    assert "AMI-like (annotated, synthetic)" in sentence and "LibriSpeech-like (Pseudo, synthetic)" in sentence
    effects = {e["name"]: e for e in r["power"]["effects"]}
    assert effects["min_delta"]["delta"] == 0.05 and r["power"]["target_power"] == 0.8
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


def test_one_run_per_arm_is_descriptive_and_nothing_enters_holm(tmp_path):
    h = {("librispeech", 0): librispeech_history(), ("ami", 0): ami_history(0.8)}
    r = analyze_experiment(make_experiment(tmp_path, h, predictions=True), n_resamples=N_BOOT)
    for key in ("H1", "H2", "H3"):
        hyp = r["hypotheses"][key]
        assert hyp["verdict"] == "not testable" and hyp["p_value"] is None and hyp["p_value_holm"] is None
    assert "one run per arm" in r["hypotheses"]["H1"]["reason"] and "at least 2 runs" in r["hypotheses"]["H1"]["reason"]
    assert r["scenario"]["name"] == "descriptive"
    assert r["delta"]["unbiased_acc"]["ci95"] is None and r["arms"]["ami"]["unbiased_acc"]["ci95"] is None
    assert r["power"]["effects"] == [] and r["power"]["reason"]


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
    # H1 is the primary endpoint (no evaluation): full α, no Holm; the secondary family has no testable member
    assert r["hypotheses"]["H1"]["p_value_holm"] is None and r["primary"]["p_value"] == r["hypotheses"]["H1"]["p_value"]


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
    onnx = {"path": "model.onnx", "arm": "ami", "seed": 0, "epoch": 2, "val_acc": 0.8, "max_abs_diff": 1e-6,
            "tolerance": 1e-3, "parity_ok": True, "export_seconds": 1.0, "opset": 18, "checked_shapes": [[1, 2]],
            "exporter": "dynamo", "fallback_reason": None, "check_seconds": 0.1, "argmax_agreement": 1.0,
            "checkpoint": "ami/seed-0/checkpoints/best.pt"}
    atomic_write_json(ExperimentDir(exp).results, {"onnx": onnx})
    assert analyze_experiment(exp, n_resamples=N_BOOT)["onnx"] is None  # analysis knows nothing of exports
    r = analyse(exp)  # the pipeline carries the previous export's entry
    assert r["onnx"] == onnx
    run = r["runs"][0]  # numpy values, NaN and inf where results.json has numbers, lists and booleans
    run.update(seconds=float("nan"), test_acc=np.float64(np.inf), epochs_completed=np.int64(3),
               included=np.bool_(True))
    r["arms"]["ami"]["seeds"] = np.arange(2)
    r["thresholds"]["expected_gain"] = (0.1, 0.2)
    written = _strict_loads(write_results(exp, r).read_text())
    assert written["onnx"] == onnx
    got = written["runs"][0]
    assert (got["seconds"], got["test_acc"], got["epochs_completed"], got["included"]) == (None, None, 3, True)
    assert written["arms"]["ami"]["seeds"] == [0, 1] and written["thresholds"]["expected_gain"] == [0.1, 0.2]


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


def test_one_run_against_three_is_not_tested(tmp_path):
    h = {("librispeech", s): _libri(0.01 * s) for s in range(3)}
    h.update({("ami", 0): ami_history(0.8, 0), ("ami", 1): None})
    exp = make_experiment(tmp_path, h, states={("ami", 1): "failed"})
    h1 = analyze_experiment(exp, n_resamples=N_BOOT)["hypotheses"]["H1"]
    assert not h1["testable"] and h1["n"] == {"ami": 1, "librispeech": 3} and "excluded" in h1["reason"]


def test_informational_columns_may_be_empty_or_absent_but_not_garbage(tmp_path):
    df = librispeech_history()
    df["lr"] = float("nan")  # an imported history has no lr or timings or frame counts
    df = df.drop(columns=["epoch_seconds"])
    df["train_frames"] = float("nan")
    p = tmp_path / "history.csv"
    df.to_csv(p, index=False)
    hist = read_history(p)
    assert len(hist) == 12
    m = run_metrics(hist)
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


# ---------------------------------------------------------------------------------------------
# regressions from issue 10 (the 0.1.0 verdicts that did not survive a statistician)
# ---------------------------------------------------------------------------------------------


def _ending_at(final: float, seed: int) -> pd.DataFrame:
    """A learning history whose final-epoch val acc is ``final``."""
    rng = np.random.default_rng(seed)
    val = np.clip(final - 0.15 * np.exp(-np.arange(12) / 3.0) + rng.normal(0, 0.004, 12), 0, 1)
    val[-1] = final
    return make_history(val)


def test_regression_a_a_large_but_uncertain_gain_is_inconclusive_not_worst(tmp_path):
    h = {("ami", s): _ending_at(v, s) for s, v in enumerate([0.95, 0.64, 0.93])}
    h |= {("librispeech", s): _ending_at(v, 10 + s) for s, v in enumerate([0.60, 0.63, 0.58])}
    r = analyze_experiment(make_experiment(tmp_path, h), n_resamples=N_BOOT)
    h1 = r["hypotheses"]["H1"]
    assert h1["p_value"] == pytest.approx(0.0696, abs=1e-3) and h1["verdict"] == "not supported"
    assert r["scenario"]["name"] == "inconclusive"  # 0.1.0: "worst: architecture limits"
    assert r["delta"]["unbiased_acc"]["ci95"][1] > r["thresholds"]["min_delta"]
    assert r["arms"]["ami"]["unbiased_acc"]["ci95"][1] <= 1.0  # no "127.1 %"
    assert r["arms"]["ami"]["production_readiness"] == "uncertain"  # 0.1.0 called it ready


def test_regression_c_a_noise_only_arm_is_not_poc(tmp_path):
    """True accuracy 55 %, 8 points of epoch noise, 30 epochs: best val acc looks like PoC, the
    final-epoch accuracy does not."""
    rng = np.random.default_rng(5)
    h = {(arm, s): make_history(np.clip(0.55 + rng.normal(0, 0.08, 30), 0, 1)) for arm in ("ami", "librispeech")
         for s in range(3)}
    r = analyze_experiment(make_experiment(tmp_path, h), n_resamples=N_BOOT)
    ami = r["arms"]["ami"]
    assert ami["best_val_acc"]["mean"] >= 0.65  # the optimistic number 0.1.0 judged
    assert ami["production_readiness"] not in ("ready", "poc")
    assert r["scenario"]["name"] not in ("best", "realistic")


def test_regression_d_copying_a_seed_adds_no_evidence(tmp_path):
    one = {("ami", 0): ami_history(0.8, 0), ("librispeech", 0): librispeech_history()}
    alone = analyze_experiment(make_experiment(tmp_path, one, name="alone"), n_resamples=N_BOOT)
    copies = {(arm, s): hist for (arm, _), hist in one.items() for s in range(3)}
    copied = analyze_experiment(make_experiment(tmp_path, copies, name="copied"), n_resamples=N_BOOT)
    assert alone["hypotheses"]["H2"]["p_value"] is None  # one run per arm: not tested
    h2 = copied["hypotheses"]["H2"]
    # three identical copies: the most extreme split of 20, p = 0.05, which cannot reach α
    assert h2["p_value"] >= copied["thresholds"]["alpha"] and h2["verdict"] == "not decidable"
    assert not copied["hypotheses"]["H1"]["testable"]  # copies have no spread to test with


def test_regression_e_an_arm_with_8_of_240_windows_is_flagged(tmp_path):
    h = {("ami", s): ami_history(0.85, seed=s) for s in range(3)}
    h |= {("librispeech", s): _libri(0.01 * s) for s in range(3)}
    extra = {("ami", s): {"data": {"train_windows": 8, "val_windows": 4}} for s in range(3)}
    over = {"arms": {"ami": {"train_windows": 240, "val_windows": 50}}}
    r = analyze_experiment(make_experiment(tmp_path, h, over, status_extra=extra), n_resamples=N_BOOT)
    ami = r["arms"]["ami"]
    assert ami["production_readiness"] == "insufficient-data"
    assert ami["data_flags"] == ["seed 0: train: 8 of 240 windows (3 %); val: 4 of 50 windows (8 %)",
                                 "seed 1: train: 8 of 240 windows (3 %); val: 4 of 50 windows (8 %)",
                                 "seed 2: train: 8 of 240 windows (3 %); val: 4 of 50 windows (8 %)"]
    assert r["scenario"]["name"] == "not-confirmed" and "too few windows" in r["scenario"]["sentence"]
    assert r["data"]["ami"]["flags"] == ami["data_flags"]


def test_test_accuracy_drives_h1_and_readiness_when_runs_have_it(tmp_path):
    h = {("ami", s): ami_history(0.85, seed=s) for s in range(3)}
    h |= {("librispeech", s): _libri(0.01 * s) for s in range(3)}
    tests = {("ami", s): {"test": {"acc": a, "epoch": 12}} for s, a in enumerate([0.70, 0.72, 0.71])}
    r = analyze_experiment(make_experiment(tmp_path, h, status_extra=tests), n_resamples=N_BOOT)
    ami = r["arms"]["ami"]
    assert ami["unbiased_source"] == ["test"] * 3 and ami["unbiased_acc"]["mean"] == pytest.approx(0.71)
    assert ami["best_val_acc"]["mean"] > 0.84 and ami["production_readiness"] == "poc"
    assert r["basis"]["name"] == "selection-unbiased acc (test where the run has it, else final-epoch val)"
    run = next(x for x in r["runs"] if x["arm"] == "ami" and x["seed"] == 0)
    assert run["test_acc"] == 0.70 and run["unbiased_acc"] == 0.70


def test_a_run_whose_test_split_failed_falls_back_to_final_val_and_says_so(tmp_path):
    h = {("ami", s): ami_history(0.85, seed=s) for s in range(2)}
    h |= {("librispeech", s): _libri(0.01 * s) for s in range(2)}
    extra = {("ami", 0): {"test": {"acc": 0.8, "windows": 128}},
             ("ami", 1): {"test": {"error": "no data for split 'test'", "split": "test"}}}
    r = analyze_experiment(make_experiment(tmp_path, h, status_extra=extra), n_resamples=N_BOOT)
    assert r["arms"]["ami"]["unbiased_source"] == ["test", "final-val"]
    run = next(x for x in r["runs"] if x["arm"] == "ami" and x["seed"] == 1)
    assert any("no test score" in f and "final-epoch val acc used" in f for f in run["flags"])
    assert r["basis"]["name"].startswith("selection-unbiased acc (test where the run has it")


def test_a_measured_lift_supersedes_the_position_caveat(tmp_path):
    from vfreport.analysis.lift import GATE_NAME
    from vfreport.analysis.verdicts import Gate

    h = {("librispeech", s): librispeech_history() for s in range(2)}
    h |= {("ami", s): ami_history(seed=s) for s in range(2)}
    extra = {("ami", s): {"data": {"position_baseline_val_acc": 0.99}} for s in range(2)}
    exp = make_experiment(tmp_path, h, status_extra=extra)
    lift = Gate(GATE_NAME, False, "AMI-like (annotated, synthetic) is only 1.0 points above its audio-free baseline")
    results = analyze_experiment(exp, n_resamples=N_BOOT, gates=[lift])
    assert "position_caveat" not in results["scenario"]
    assert "position-only baseline" not in results["scenario"]["sentence"]
    assert "audio-free baseline" in results["scenario"]["sentence"]


def test_a_run_that_never_left_chance_is_flagged_and_the_verdict_says_whether_the_decision_depends_on_it(tmp_path):
    """Four target runs, one stuck at chance the whole time: flagged; the primary decision (H1, no
    evaluation) is recomputed without it and the scenario says whether it changes."""
    stuck = make_history([0.5] * 12, [0.5] * 12, [math.log(2)] * 12)
    h = {("librispeech", s): _libri(0.005 * s) for s in range(4)}
    h |= {("ami", s): ami_history(0.80, seed=s) for s in range(3)} | {("ami", 3): stuck}
    r = analyze_experiment(make_experiment(tmp_path, h), n_resamples=N_BOOT)
    p = r["primary"]
    assert [f["seed"] for f in p["flagged_runs"]["ami"]] == [3] and p["flagged_runs"]["librispeech"] == []
    assert any("never left chance" in why for why in p["flagged_runs"]["ami"][0]["reasons"])
    assert p["decision_without_flagged"] is not None and p["sensitivity"].startswith("Flagged runs (AMI-like")
    assert p["sensitivity"] in r["scenario"]["sentence"]
    assert ("depends on the flagged runs" in p["sensitivity"]) == p["depends_on_flagged"]
    assert p["decision"] != p["decision_without_flagged"] or not p["depends_on_flagged"]
    assert "Yuen" in p["sensitivity_h1"]
