"""vfreport.analysis.metrics: per-run metrics, the noise around the trend, the selection-unbiased accuracy."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from _expdir import LIBRISPEECH_VAL, librispeech_history, make_experiment, make_history

from vfreport.analysis import verdicts as V
from vfreport.analysis.metrics import (
    arm_split_error,
    expected_range,
    longest_run,
    plateau_epochs_mask,
    run_metrics,
    split_sampling_error,
)
from vfreport.analysis.results import analysis_runs
from vfreport.config import Thresholds
from vfreport.experiment.records import load_experiment
from vfreport.stats.noise import noise_sd


def test_run_metrics_reproduce_the_strategy_documents_librispeech_figures():
    m = run_metrics(librispeech_history())
    assert m.best_val_acc == pytest.approx(0.615) and m.best_epoch == 4 and m.best_after_epoch4 is False
    assert m.train_acc_epoch10 == pytest.approx(0.48)
    assert m.val_acc_half_range == pytest.approx(0.15)  # (0.615 - 0.315) / 2
    assert m.plateau is True and m.window_epochs == 10 and m.flags == ()
    early = LIBRISPEECH_VAL[:10]
    assert m.val_acc_jump_std == pytest.approx(statistics.stdev(np.diff(early)))
    # no test split: the unbiased accuracy is the final epoch's, and says so
    assert m.unbiased_acc == pytest.approx(LIBRISPEECH_VAL[-1]) and m.unbiased_source == "final-val"
    assert m.best_val_acc > m.unbiased_acc


def test_test_accuracy_is_the_unbiased_accuracy_when_the_run_has_one():
    m = run_metrics(librispeech_history(), test_acc=0.52)
    assert m.unbiased_acc == 0.52 and m.unbiased_source == "test" and m.test_acc == 0.52


def test_the_noise_is_read_over_epochs_1_to_10_with_plateau_epochs_at_their_own_level():
    rng = np.random.default_rng(0)
    val = np.concatenate([0.5 + rng.normal(0, 0.01, 4), 0.6 + 0.02 * np.arange(8) + rng.normal(0, 0.02, 8)])
    loss = np.concatenate([[0.80], np.full(3, 0.6935), np.linspace(0.6, 0.3, 8)])
    m = run_metrics(make_history(val, train_loss=loss))
    chance = plateau_epochs_mask(loss)
    assert chance.tolist() == [False, True, True, True] + [False] * 8
    assert m.chance_epochs == 3 and m.window_epochs == 10
    assert m.val_acc_noise_sd == pytest.approx(noise_sd(val[:10], np.arange(1, 11), chance[:10]))
    assert m.val_acc_noise_half_range == pytest.approx(m.val_acc_noise_sd * expected_range(10) / 2)
    assert plateau_epochs_mask([0.6931, 0.6931, 0.5, 0.6931]).tolist() == [False] * 4  # needs 3 in a row


def test_expected_range_is_the_control_chart_d2():
    assert expected_range(2) == pytest.approx(1.128, abs=1e-3)
    assert expected_range(10) == pytest.approx(3.078, abs=1e-3)
    draws = np.random.default_rng(1).standard_normal((200_000, 10))
    assert expected_range(10) == pytest.approx(np.ptp(draws, axis=1).mean(), abs=0.01)


@pytest.mark.parametrize("tau", [None, 0.7, 1.5, 3.0, 5.0])
def test_noise_free_learning_curve_50_to_85_is_high_stability(tau):
    """Regression (b): the ± half range calls a clean 50 → 85 % curve "Low"; the noise measure
    calls it "High" (linear, or saturating with time constant ``tau`` epochs)."""
    e = np.arange(10)
    val = 0.50 + 0.35 * (e / 9 if tau is None else (1 - np.exp(-e / tau)) / (1 - np.exp(-9 / tau)))
    m = run_metrics(make_history(val))
    th = Thresholds()
    assert m.val_acc_half_range == pytest.approx(0.175)
    assert V.stability(m.val_acc_half_range, th) == "low"  # the strategy document's measure punishes learning
    assert m.val_acc_noise_half_range < 0.01 and V.stability(m.val_acc_noise_half_range, th) == "high"


def test_noise_is_measured_as_noise():
    rng = np.random.default_rng(2)
    sds = [run_metrics(make_history(np.clip(0.6 + rng.normal(0, 0.05, 10), 0, 1))).val_acc_noise_sd
           for _ in range(300)]
    # RSS / (n − 1.15·D) over-reads a flat curve's variance by about 10 % (docs/statistics-runs.md)
    assert 1.0 <= np.mean(np.square(sds)) / 0.05**2 <= 1.2


def test_short_histories_give_none_and_a_flag():
    m = run_metrics(make_history([0.5, 0.6, 0.4]))
    assert m.train_acc_epoch10 is None and m.val_acc_noise_sd is None and m.val_acc_half_range == pytest.approx(0.1)
    assert m.flags and "only 3 epochs" in m.flags[0]
    assert run_metrics(make_history([0.5])).val_acc_half_range is None


def test_plateau_needs_three_consecutive_epochs_near_ln2():
    two = make_history([0.5] * 5, train_loss=[0.6931, 0.6931, 0.5, 0.6931, 0.4])
    three = make_history([0.5] * 5, train_loss=[0.6931, 0.694, 0.692, 0.5, 0.4])
    assert run_metrics(two).plateau is False and run_metrics(three).plateau is True
    assert longest_run([True, False, True, True, False]) == 2


def test_the_test_splits_sampling_error_is_carried_from_status_json():
    test = {"acc": 0.8, "split_var": 4e-4, "split_clusters": 12, "frames": 1000}
    var, groups = split_sampling_error(test)
    assert (var, groups) == (4e-4, 12)
    m = run_metrics(librispeech_history(), 0.8, var, groups)
    assert m.test_split_var == 4e-4 and m.test_split_clusters == 12
    assert split_sampling_error({"acc": 0.8}) == (None, None)  # runs scored before the error was recorded
    assert split_sampling_error(None) == (None, None)
    assert run_metrics(librispeech_history(), None, var, groups).test_split_var is None  # no test accuracy


def test_an_arms_split_error_is_the_mean_of_its_runs_and_needs_every_run():
    runs = [run_metrics(librispeech_history(), 0.8, v, g) for v, g in ((4e-4, 12), (2e-4, 10))]
    assert arm_split_error(runs) == (pytest.approx(3e-4), 10)
    assert arm_split_error([*runs, run_metrics(librispeech_history(), 0.8)]) == (None, None)
    assert arm_split_error([]) == (None, None)


def test_the_analysis_reads_each_runs_split_error_from_status_json(tmp_path):
    hist = {(arm, s): librispeech_history() for arm in ("librispeech", "ami") for s in (0, 1)}
    test = {"acc": 0.8, "split_var": 4e-4, "split_clusters": 12}
    exp = make_experiment(tmp_path, hist, status_extra={("ami", 0): {"test": test}})
    runs = analysis_runs(load_experiment(exp))
    by = {(r.arm, r.seed): r.metrics for r in runs}
    assert by[("ami", 0)].test_split_var == 4e-4 and by[("ami", 0)].test_split_clusters == 12
    assert by[("ami", 1)].test_split_var is None  # no test score recorded
