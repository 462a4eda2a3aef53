"""vfreport.analysis.metrics: per-run metrics, the detrended noise, the selection-unbiased accuracy."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import statsmodels.api as sm
from _expdir import LIBRISPEECH_VAL, librispeech_history, make_history

from vfreport.analysis import verdicts as V
from vfreport.analysis.metrics import detrended_sd, expected_range, longest_run, run_metrics
from vfreport.config import Thresholds


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


def test_detrended_sd_matches_the_residual_scale_of_an_ols_cubic_in_log_epoch():
    rng = np.random.default_rng(0)
    x = np.log(np.arange(1, 11.0))
    y = 0.5 + 0.15 * x + rng.normal(0, 0.03, 10)
    fit = sm.OLS(y, np.column_stack([np.ones(10), x, x**2, x**3])).fit()
    assert detrended_sd(y) == pytest.approx(np.sqrt(fit.mse_resid))
    assert detrended_sd(y[:5]) is None  # needs 6 epochs


def test_expected_range_is_the_control_chart_d2():
    assert expected_range(2) == pytest.approx(1.128, abs=1e-3)
    assert expected_range(10) == pytest.approx(3.078, abs=1e-3)
    draws = np.random.default_rng(1).standard_normal((200_000, 10))
    assert expected_range(10) == pytest.approx(np.ptp(draws, axis=1).mean(), abs=0.01)


@pytest.mark.parametrize("tau", [None, 0.7, 1.5, 3.0, 5.0])
def test_noise_free_learning_curve_50_to_85_is_high_stability(tau):
    """Regression (b): the ± half range calls a clean 50 → 85 % curve "Low"; the detrended
    measure calls it "High" (linear, or saturating with time constant ``tau`` epochs)."""
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
    assert np.mean(np.square(sds)) == pytest.approx(0.05**2, rel=0.1)  # unbiased residual variance


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
