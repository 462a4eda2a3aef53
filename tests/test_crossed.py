"""ΔDER on the crossed runs × meetings design: known answers, the REML cross-check, and simulated
type-I error, coverage and power at 3 / 5 / 10 runs per arm × 6 / 20 meetings (docs/statistics-der.md)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from vfreport.stats.crossed import (
    compare_crossed,
    compare_crossed_batch,
    operating_characteristics,
    simulate_tables,
)

# Variance components (DER fraction²) near those measured on the demo's 3 + 3 runs × 6 meetings
# (run SD ≈ 1 point, meeting ≈ 8, arm × meeting ≈ 3.2, residual ≈ 4.2), and a run-heavy variant.
DEMO = {"run": 1e-4, "meeting": 0.0064, "arm_x_meeting": 0.001, "residual": 0.0018}
RUN_HEAVY = {"run": 0.0009, "meeting": 0.0064, "arm_x_meeting": 0.0004, "residual": 0.0009}
ALPHA = 0.05
N_SIM = 20_000
COVERAGE_SE = math.sqrt(0.95 * 0.05 / N_SIM)


def _long(target: np.ndarray, other: np.ndarray):
    import pandas as pd

    rows = [{"der": tab[i, j], "arm": a, "run": f"{a}-{i}", "meeting": j, "am": f"{a}-{j}", "g": 1}
            for a, tab in ((1, target), (0, other)) for i in range(tab.shape[0]) for j in range(tab.shape[1])]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 3])
def test_balanced_se_equals_reml_mixed_model(seed):
    """On balanced data with positive ANOVA components the closed form is the REML fit of
    DER ~ arm + (1 | run) + (1 | meeting) + (1 | arm:meeting) (statsmodels MixedLM)."""
    import statsmodels.formula.api as smf

    t, o = simulate_tables({**DEMO, "run": 4e-4}, (4, 4), 8, 1, delta=-0.03, seed=seed)
    t, o = t[0] + 0.35, o[0] + 0.35
    ours = compare_crossed(t, o)
    assert ours.components["run_target"] + ours.components["run_other"] > 0  # not at the boundary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("der ~ arm", _long(t, o), groups="g", re_formula="0",
                          vc_formula={"run": "0 + C(run)", "meeting": "0 + C(meeting)", "am": "0 + C(am)"}
                          ).fit(reml=True)
    assert ours.estimate == pytest.approx(fit.params["arm"], abs=1e-12)
    assert ours.se == pytest.approx(fit.bse["arm"], rel=1e-4)
    vc = dict(zip(fit.model.exog_vc.names, fit.vcomp, strict=True))
    assert ours.components["meeting"] == pytest.approx(vc["meeting"], rel=1e-3)
    assert ours.components["arm_x_meeting"] == pytest.approx(vc["am"], rel=1e-3)
    pooled_residual = (ours.components["residual_target"] + ours.components["residual_other"]) / 2
    assert pooled_residual == pytest.approx(fit.scale, rel=1e-3)


def test_estimate_is_the_difference_of_corpus_ders():
    """With scored speech as weights, Δ̂ is mean corpus DER (Σ error / Σ speech) of the target's runs
    minus the other's, as pyannote.metrics computes a corpus DER."""
    rng = np.random.default_rng(1)
    speech = rng.uniform(100, 900, 6)
    err_t, err_o = rng.uniform(0.1, 0.5, (3, 6)) * speech, rng.uniform(0.1, 0.5, (4, 6)) * speech
    res = compare_crossed(err_t / speech, err_o / speech, weights=speech)
    corpus = (err_t.sum(axis=1) / speech.sum()).mean() - (err_o.sum(axis=1) / speech.sum()).mean()
    assert res.estimate == pytest.approx(corpus, abs=1e-12)
    assert res.effective_meetings < 6
    assert res.ci[0] < res.estimate < res.ci[1]
    assert res.lower_bound > res.ci[0] and res.upper_bound < res.ci[1]


def test_variance_is_unbiased_and_covers_with_unequal_weights():
    """Brute force: over simulated tables with meetings weighted 1 : 8, the mean of V̂ is the
    simulated variance of Δ̂ (within Monte-Carlo error), and the interval covers."""
    weights = np.geomspace(1, 8, 12)
    t, o = simulate_tables(DEMO, (5, 5), 12, N_SIM, seed=2)
    res = compare_crossed_batch(t, o, weights)
    true_var = res.estimate.var()
    assert np.mean(res.se**2) == pytest.approx(true_var, rel=0.05)
    assert res.effective_meetings < 12
    from scipy import stats as st

    cover = np.mean(np.abs(res.estimate) <= st.t.isf(0.025, res.df) * res.se)
    assert 0.93 - 2 * COVERAGE_SE <= cover <= 0.97 + 2 * COVERAGE_SE


def test_model_free_baseline_has_no_run_variance():
    t, o = simulate_tables(DEMO, (3, 1), 6, 1, delta=-0.05, seed=4)
    res = compare_crossed(t[0] + 0.3, o[0] + 0.4)
    assert res.n_runs == (3, 1)
    assert res.components["run_other"] == 0.0 and res.components["residual_other"] == 0.0
    assert math.isfinite(res.se) and res.df > 0
    assert "model-free baseline" in res.method


def test_undefined_cases_and_input_errors():
    one_meeting = compare_crossed(np.full((3, 1), 0.3), np.full((3, 1), 0.4))
    assert one_meeting.estimate == pytest.approx(-0.1) and math.isnan(one_meeting.se)
    assert math.isnan(one_meeting.p_value) and math.isnan(one_meeting.upper_bound)
    one_run = compare_crossed(np.full((1, 5), 0.3), np.full((1, 5), 0.4))
    assert math.isnan(one_run.se)
    with pytest.raises(ValueError, match="same meetings"):
        compare_crossed(np.zeros((3, 5)), np.zeros((3, 6)))
    with pytest.raises(ValueError, match="NaN"):
        compare_crossed(np.full((3, 5), np.nan), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="one value per meeting"):
        compare_crossed(np.zeros((3, 5)), np.zeros((3, 5)), weights=np.ones(4))


@pytest.mark.parametrize("baseline_runs", ["arm", "model-free"])
@pytest.mark.parametrize("meetings", [6, 20])
@pytest.mark.parametrize("runs", [3, 5, 10])
def test_type_i_error_coverage_and_power(runs, meetings, baseline_runs):
    """Demo-like components: one-sided type-I error ≤ α + 2 MC SE; two-sided 95 % coverage in
    93–97 % (± 2 MC SE); power at a true 5-point gain printed (``pytest -s``) and above α. The
    full table: scripts/simulate_crossed.py."""
    r_o = runs if baseline_runs == "arm" else 1
    oc = operating_characteristics(DEMO, (runs, r_o), meetings, effect=0.05, alpha=ALPHA, n_sim=N_SIM,
                                   seed=runs * 100 + meetings)
    print(f"\n{runs} vs {r_o} runs × {meetings} meetings: type-I {oc.type_i:.4f}, coverage {oc.coverage:.4f}, "
          f"power at ΔDER = −5 points {oc.power:.3f}")
    assert oc.type_i <= ALPHA + 2 * oc.mc_se
    assert 0.93 - 2 * COVERAGE_SE <= oc.coverage <= 0.97 + 2 * COVERAGE_SE
    assert ALPHA < oc.power <= 1.0


@pytest.mark.parametrize("baseline_runs", ["arm", "model-free"])
@pytest.mark.parametrize("meetings", [6, 20])
@pytest.mark.parametrize("runs", [3, 5, 10])
def test_run_heavy_components(runs, meetings, baseline_runs):
    """Run SD 3 points, larger than the meeting-level terms: the 2-df run term dominates at 3 runs,
    where the plug-in Satterthwaite df is slightly liberal against a model-free baseline over many
    meetings (measured 5.8 % at 3 runs × 20 meetings; as Welch's test is at very unequal n). The
    bound asserted there is 6.5 %; elsewhere α + 2 MC SE, and coverage 92–97 %."""
    r_o = runs if baseline_runs == "arm" else 1
    oc = operating_characteristics(RUN_HEAVY, (runs, r_o), meetings, effect=0.05, alpha=ALPHA, n_sim=N_SIM,
                                   seed=runs * 100 + meetings + 1)
    print(f"\n{runs} vs {r_o} runs × {meetings} meetings: type-I {oc.type_i:.4f}, coverage {oc.coverage:.4f}, "
          f"power at ΔDER = −5 points {oc.power:.3f}")
    liberal = runs == 3 and r_o == 1 and meetings == 20
    assert oc.type_i <= (0.065 if liberal else ALPHA + 2 * oc.mc_se)
    assert 0.92 <= oc.coverage <= 0.97 + 2 * COVERAGE_SE
    assert ALPHA < oc.power <= 1.0


# ---------------------------------------------------------------------------------------------
# power and runs needed (vfreport.stats.power.der_*)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("components", "runs", "meetings"),
                         [(DEMO, (3, 3), 6), (DEMO, (3, 1), 20), (RUN_HEAVY, (5, 5), 20), (RUN_HEAVY, (10, 1), 6)])
def test_der_power_matches_simulated_tables(components, runs, meetings):
    """The chi-square shortcut of der_power against full simulated tables (operating_characteristics)."""
    from vfreport.stats.power import der_power

    oc = operating_characteristics(components, runs, meetings, effect=0.05, n_sim=N_SIM, seed=11)
    fast_power = der_power(components, runs, meetings, -0.05, n_sim=N_SIM, seed=11)
    fast_null = der_power(components, runs, meetings, 0.0, n_sim=N_SIM, seed=12)
    se = math.sqrt(2 * 0.25 / N_SIM)
    assert fast_power == pytest.approx(oc.power, abs=3 * se)
    assert fast_null == pytest.approx(oc.type_i, abs=3 * math.sqrt(2 * 0.05 * 0.95 / N_SIM))


def test_der_runs_needed_reaches_power_and_levels_off_with_few_meetings():
    from vfreport.stats.power import der_power, der_runs_needed

    r = der_runs_needed(DEMO, 20, 0.05, alpha=0.05, power=0.8)
    assert r is not None and r >= 2
    assert der_power(DEMO, (r, r), 20, -0.05) >= 0.8
    if r > 2:
        assert der_power(DEMO, (r - 1, r - 1), 20, -0.05) < 0.8
    assert der_runs_needed(DEMO, 20, 0.05, baseline_runs=1) <= r  # no run variance on the other side
    assert der_runs_needed(DEMO, 20, 0.03) > r  # a smaller gain needs more runs
    assert der_runs_needed(DEMO, 20, 0.05, margin=0.02) > r  # a worthwhile gain needs more than "some gain"
    assert der_runs_needed(DEMO, 20, 0.05, alpha=0.01) > r
    # 6 meetings: the arm × meeting variance does not shrink with runs; power levels off near 70 %
    assert der_runs_needed(DEMO, 6, 0.05, max_runs=200) is None
    assert der_runs_needed(DEMO, 20, 0.01) is None
    assert der_runs_needed(DEMO, 20, 0.0) is None and der_runs_needed(DEMO, 20, 0.02, margin=0.02) is None


def test_der_runs_no_gain():
    from vfreport.stats.power import der_power, der_runs_no_gain

    r = der_runs_no_gain(RUN_HEAVY, 20, 0.03)
    assert r is not None
    assert der_power(RUN_HEAVY, (r, r), 20, 0.0, -0.03, "lower") >= 0.8
    assert der_power(RUN_HEAVY, (r - 1, r - 1), 20, 0.0, -0.03, "lower") < 0.8
    assert der_runs_no_gain(RUN_HEAVY, 20, 0.05) < r
    assert der_runs_no_gain(DEMO, 6, 0.02) is None  # meeting-limited
    assert der_runs_no_gain(DEMO, 20, 0.05, true_delta=-0.05) is None


def test_der_runs_range_spans_the_estimate():
    from vfreport.stats.power import der_runs_needed, der_runs_range

    fewest, most = der_runs_range(RUN_HEAVY, 20, 0.05, df=12.0)
    r = der_runs_needed(RUN_HEAVY, 20, 0.05)
    assert fewest is not None and most is not None and fewest <= r <= most and fewest < most
    assert der_runs_range(DEMO, 20, 0.05, df=float("nan")) == (None, None)
