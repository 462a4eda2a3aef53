"""How often the verdict says each thing under known truths (docs/verdicts.md): the verdict's own
entry point (:func:`vfreport.analysis.verdicts.scenario` on the primary endpoint built as
:func:`vfreport.analysis.compute.compute` builds it) on simulated experiments.

- Accuracy endpoint (no evaluation: H1 is the primary): per-run accuracies, true Δ ∈ {0,
  min_delta / 2, min_delta, 2 · min_delta} × runs ∈ {3, 10} per arm × seed SD ∈ {2.5, 5} points.
- DER endpoint: run × meeting DER tables from the crossed model
  (:func:`vfreport.stats.crossed.simulate_tables`), true ΔDER ∈ {0, min_der_delta / 2,
  min_der_delta, 2 · min_der_delta} gain × runs ∈ {3, 10} × run SD ∈ {2.5, 5} DER points, 6 meetings.

Asserted in every cell: a worthwhile gain claimed at a true gain ≤ threshold / 2 at most 5 % of
the time; "no worthwhile gain" at a true gain = threshold at most 2.5 % (+ 2 Monte-Carlo SE); never
"no worthwhile gain" while the gain's one-sided bound clears the threshold. Fixed seeds, small
loops; run with ``-s`` to see the table.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from vfreport.analysis import primary as P
from vfreport.analysis import verdicts as V
from vfreport.analysis.hypotheses import h1_test
from vfreport.config import Thresholds
from vfreport.stats.crossed import compare_crossed, simulate_tables
from vfreport.stats.intervals import summarize

TH = Thresholds()
REPS = 800
GAINS = (0.0, 0.5, 1.0, 2.0)  # × the threshold
RUNS = (3, 10)
SEED_SD = (0.025, 0.05)
CLAIMS = ("best", "realistic", "high-but-unstable", "below-realistic", "not-confirmed", "explained-by-structure")
"""Scenarios reached only after a worthwhile gain on the primary endpoint."""
TARGET_ACC = summarize([0.90, 0.91, 0.92], (0.0, 1.0))
BASELINE_ACC = summarize([0.60, 0.61, 0.62], (0.0, 1.0))


def mc_bound(rate: float, reps: int) -> float:
    return rate + 2 * math.sqrt(rate * (1 - rate) / reps)


def accuracy_verdicts(gain: float, runs: int, sd: float, rng: np.random.Generator) -> list[V.Scenario]:
    out = []
    for _ in range(REPS):
        t = 0.80 + gain + rng.normal(0, sd, runs)
        b = 0.80 + rng.normal(0, sd, runs)
        primary = P.accuracy_primary(h1_test(t, b, n_resamples=10, alpha=TH.alpha), TH, "test acc", "synthetic")
        out.append(V.scenario(primary, summarize(t, (0, 1)), summarize(b, (0, 1)), {}, TH, "T", "B", "test acc"))
    return out


def der_verdicts(gain: float, runs: int, sd: float, seed: int) -> list[V.Scenario]:
    components = {"run": sd**2, "residual": 0.04**2, "meeting": 0.08**2, "arm_x_meeting": 0.02**2}
    target, other = simulate_tables(components, (runs, runs), 6, REPS, -gain, seed)
    uris = tuple(f"m{j}" for j in range(6))
    out = []
    for t, o in zip(target, other, strict=True):
        ys = P.YardstickStats(uris, compare_crossed(t, o, alpha=TH.alpha))
        out.append(V.scenario(P.der_primary(ys, TH, "synthetic"), TARGET_ACC, BASELINE_ACC, {}, TH, "T", "B",
                              "test acc"))
    return out


def check(cells: dict, threshold: float, label: str) -> None:
    names = ("worst", "inconclusive", "gain-uncertain", *CLAIMS, "descriptive")
    print(f"\n{label}: rate of each scenario ({REPS} experiments per cell); claimed = a worthwhile gain")
    print("gain/thr runs sd   " + " ".join(f"{n[:12]:>12}" for n in names))
    for (g, r, sd), scen in cells.items():
        counts = Counter(s.name for s in scen)
        print(f"{g:>8} {r:>4} {100 * sd:>4.1f} " + " ".join(f"{counts[n] / REPS:>12.3f}" for n in names))
    for (g, r, sd), scen in cells.items():
        claimed = sum(s.name in CLAIMS for s in scen) / REPS
        worst = sum(s.name == "worst" for s in scen) / REPS
        if g <= 0.5:
            assert claimed <= 0.05, (label, g, r, sd, claimed)
        if g == 1.0:
            assert worst <= mc_bound(0.025, REPS), (label, g, r, sd, worst)
        assert all(s.decision != V.NO_WORTHWHILE_GAIN or s.name == "worst" for s in scen)


@pytest.mark.parametrize("endpoint", ["accuracy", "der"])
def test_the_verdict_claims_gains_and_no_gains_at_the_advertised_rates(endpoint):
    rng = np.random.default_rng(2026)
    thr = TH.min_delta if endpoint == "accuracy" else TH.min_der_delta
    cells = {}
    for i, (g, r, sd) in enumerate((g, r, sd) for g in GAINS for r in RUNS for sd in SEED_SD):
        cells[(g, r, sd)] = (accuracy_verdicts(g * thr, r, sd, rng) if endpoint == "accuracy"
                             else der_verdicts(g * thr, r, sd, 100 + i))
    check(cells, thr, f"{endpoint} endpoint (threshold {100 * thr:.0f} points)")


def test_no_worthwhile_gain_is_never_said_while_the_gain_bound_clears_the_threshold():
    """By construction of the decision: the gain's one-sided bound above the threshold is read first."""
    p = V.Primary("der", "ΔDER", 0.03, 0.05, True, estimate=-0.10, ci95=(-0.2, 0.05), gain=0.10, gain_bound=0.04,
                  gain_upper=0.02)  # inconsistent on purpose: a bound above the threshold and an upper end below it
    assert V.primary_decision(p) == V.WORTHWHILE
