"""Adaptive seeds on ΔDER (vfreport.stats.sequential_der): the calibrated design's type-I error on
paths it was not calibrated on, its power and futility rates, and the look decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfreport.stats.sequential import Decision, _run_procedure
from vfreport.stats.sequential_der import (
    DEMO_COMPONENTS,
    _look_stats,
    _p_gain,
    _p_no_gain,
    decide_der,
    der_design_from_dict,
    design_sequential_der,
    repeated_upper_bound,
)

LOOKS = (3, 5, 8)
N_SIM = 6000
ALPHA = 0.05


@pytest.fixture(scope="module")
def design6():
    return design_sequential_der(LOOKS, n_meetings=6, alpha=ALPHA, min_der_delta=0.03,
                                 alternatives={"gain_5": 0.05}, n_sim=N_SIM, seed=1)


@pytest.fixture(scope="module")
def design20():
    return design_sequential_der(LOOKS, n_meetings=20, alpha=ALPHA, min_der_delta=0.03,
                                 alternatives={"gain_5": 0.05}, n_sim=N_SIM, seed=2)


def _rates(design, components, delta, seed, futility=True):
    """Efficacy and futility rates of the design's procedure on fresh paths at true ΔDER ``delta``
    (``futility`` False: the futility boundary ignored, the non-binding worst case)."""
    est, se, df = _look_stats(components, design.looks, design.n_meetings, N_SIM, (seed, 7))
    fut = _p_no_gain(est + delta, se, df, design.min_der_delta) if futility else None
    _, outcome = _run_procedure(_p_gain(est + delta, se, df), fut,
                                [b.efficacy_p for b in design.boundaries], [b.futility_p for b in design.boundaries])
    return float(np.mean(outcome == 1)), float(np.mean(outcome == 2))


@pytest.mark.parametrize("components", [
    DEMO_COMPONENTS,
    {"run": 1.0, "arm_x_meeting": 1.0, "residual": 1.0},  # a mix the calibration did not see
    {"run": 0.0009, "meeting": 0.0064, "arm_x_meeting": 0.0004, "residual": 0.0009},
], ids=["demo", "balanced", "run-heavy"])
@pytest.mark.parametrize("which", ["design6", "design20"])
def test_type_i_error_on_fresh_paths(which, components, request):
    design = request.getfixturevalue(which)
    mc_se = math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)
    assert design.type_i_error <= ALPHA + 2 * mc_se  # the design's own check (fresh paths, worst mix)
    efficacy, _ = _rates(design, components, 0.0, seed=design.n_meetings, futility=False)
    print(f"\n{which}: type-I {efficacy:.4f}, futility ignored")
    assert efficacy <= ALPHA + 2 * mc_se


def test_power_futility_and_expected_seeds(design6, design20):
    """With 20 meetings a 3-point gain is found about 80 % of the time; with 6 the arm × meeting
    variance caps power (more meetings, not more seeds). A true gain of min_der_delta rarely
    stops for futility (≤ β + MC error); no gain often does."""
    for d in (design6, design20):
        ops = {o.name: o for o in d.operating}
        print(f"\n{d.n_meetings} meetings: " + "; ".join(
            f"{o.name}: efficacy {o.power:.3f}, futility {o.futility:.3f}, seeds {o.expected_seeds:.2f}"
            for o in d.operating))
        assert ops["min_der_delta"].futility <= d.futility_beta + 2 * math.sqrt(0.1 * 0.9 / N_SIM)
        assert ops["null"].futility > ops["min_der_delta"].futility
        assert ops["gain_5"].power > ops["min_der_delta"].power > ops["null"].power
        assert all(LOOKS[0] <= o.expected_seeds <= LOOKS[-1] for o in d.operating)
        assert math.isclose(sum(ops["null"].stop_at_look), 1.0)
    assert {o.name: o.power for o in design20.operating}["min_der_delta"] > 0.7
    assert {o.name: o.power for o in design6.operating}["min_der_delta"] < 0.5


def test_boundaries_spend_alpha_and_round_trip(design6):
    effs = [b.efficacy_p for b in design6.boundaries]
    assert effs == sorted(effs) and effs[-1] < ALPHA
    assert design6.boundaries[-1].futility_p is None
    assert all(b.alpha_spent <= ALPHA + 1e-12 for b in design6.boundaries)
    again = der_design_from_dict(design6.to_dict())
    assert again == design6
    assert design6.to_dict()["endpoint"] == "der"


def test_decide_der(design6):
    b0, last = design6.boundaries[0], len(design6.looks) - 1
    strong = decide_der(design6, 0, -0.20, 0.01, 10.0)
    assert strong.decision is Decision.EFFICACY and strong.p_value <= b0.efficacy_p
    assert repeated_upper_bound(design6, 0, -0.20, 0.01, 10.0) < 0
    none = decide_der(design6, 0, 0.10, 0.01, 10.0)
    assert none.decision is Decision.FUTILITY
    assert decide_der(design6, 0, -0.01, 0.02, 5.0).decision is Decision.CONTINUE
    assert decide_der(design6, 0, -0.01, math.nan, math.nan).decision is Decision.CONTINUE
    assert decide_der(design6, last, -0.01, 0.02, 5.0).decision is Decision.FINAL
    with pytest.raises(IndexError):
        decide_der(design6, 9, 0.0, 1.0, 1.0)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="min_der_delta"):
        design_sequential_der(LOOKS, min_der_delta=0.0, n_sim=1000)
    with pytest.raises(ValueError, match="2 meetings"):
        design_sequential_der(LOOKS, n_meetings=1, n_sim=1000)
    with pytest.raises(ValueError, match="no variance"):
        design_sequential_der(LOOKS, components={"meeting": 1.0}, n_sim=1000)
