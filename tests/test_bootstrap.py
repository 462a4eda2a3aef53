"""The two-level bootstrap (vfreport.stats.bootstrap): proved by simulation, plus rliable's aggregates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfreport.stats.bootstrap import (
    bootstrap,
    difference_of_ratios,
    hierarchical_bootstrap,
    iqm,
    mean_statistic,
    probability_of_improvement,
    units,
)


def difference_of_means(groups):
    """Mean of the first group minus mean of the second (over runs and items): the simulations' statistic."""
    return mean_statistic(groups[:1]) - mean_statistic(groups[1:2])

N_SIM = 300
ALPHA = 0.05


def _simulate(rng: np.random.Generator, n_runs: int, n_items: int, delta: float, sd_run: float, sd_item: float,
              sd_arm_item: float, sd_noise: float) -> list[np.ndarray]:
    """Two arms scored on the same items: score = mean + run effect + item effect (shared) +
    arm × item interaction + noise. The true difference of the arms' means is ``delta``."""
    item = rng.normal(0.0, sd_item, n_items)
    arms = []
    for mean in (0.3 + delta, 0.3):
        run = rng.normal(0.0, sd_run, (n_runs, 1))
        inter = rng.normal(0.0, sd_arm_item, (1, n_items))
        arms.append(mean + run + item + inter + rng.normal(0.0, sd_noise, (n_runs, n_items)))
    return arms


# run-to-run heterogeneity dominant; arm × meeting interaction dominant
DESIGNS = [(0.05, 0.10, 0.01, 0.02), (0.01, 0.10, 0.05, 0.02)]


@pytest.mark.parametrize("n_runs", [3, 10])
@pytest.mark.parametrize("design", DESIGNS)
def test_coverage_and_type_one_error_under_the_null(n_runs: int, design: tuple[float, ...]) -> None:
    """95 % interval covers the true Δ = 0 at least 93 % of the time; the one-sided test rejects a
    true null at most α + 2 Monte-Carlo SE, with seed heterogeneity (docs/statistics.md)."""
    rng = np.random.default_rng(1234 + n_runs)
    cover = reject = 0
    for i in range(N_SIM):
        arms = _simulate(rng, n_runs, 6, 0.0, *design)
        r = bootstrap(arms, difference_of_means, n_resamples=1000, seed=i)
        cover += r.ci95[0] <= 0.0 <= r.ci95[1]
        reject += r.p_less < ALPHA
    mc = math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)
    assert cover / N_SIM >= 0.93
    assert reject / N_SIM <= ALPHA + 2 * mc


def test_percentile_interval_alone_undercovers_at_three_runs() -> None:
    """Why the t reference: with run heterogeneity and 3 runs the plain percentile interval misses."""
    rng = np.random.default_rng(7)
    cover_pct = cover_t = 0
    n = 200
    for i in range(n):
        arms = _simulate(rng, 3, 6, 0.0, 0.05, 0.0, 0.0, 0.005)
        r = bootstrap(arms, difference_of_means, n_resamples=1000, seed=i)
        cover_pct += r.percentile_ci95[0] <= 0.0 <= r.percentile_ci95[1]
        cover_t += r.ci95[0] <= 0.0 <= r.ci95[1]
    assert cover_pct / n < 0.85
    assert cover_t / n >= 0.93


def test_power_against_a_real_difference() -> None:
    """A 10-point difference with small spread is found (the test is not merely conservative)."""
    rng = np.random.default_rng(3)
    hits = sum(bootstrap(_simulate(rng, 3, 8, -0.10, 0.01, 0.05, 0.01, 0.01), difference_of_means,
                         n_resamples=1000, seed=i).p_less < ALPHA for i in range(50))
    assert hits >= 45


def test_crossed_draws_share_items_across_groups() -> None:
    """Crossed: a statistic that compares item columns of two groups sees the same items."""
    items = np.arange(5.0)[None, :]
    a, b = np.repeat(items, 3, axis=0), np.repeat(items, 2, axis=0)

    def same_items(groups):
        return (groups[0][:, 0, :] == groups[1][:, 0, :]).all(axis=1).astype(float)

    assert hierarchical_bootstrap([a, b], same_items, 200, seed=0).min() == 1.0
    assert hierarchical_bootstrap([a, b], same_items, 200, seed=0, crossed=False).mean() < 0.1


def test_seeded_and_ratio_statistic() -> None:
    rng = np.random.default_rng(0)
    err = rng.uniform(0, 10, (3, 4))
    tot = np.full((3, 4), 20.0)
    g1 = np.stack([err, tot], axis=-1)
    g2 = np.stack([err + 2.0, tot], axis=-1)
    r1 = bootstrap([g1, g2], difference_of_ratios, 500, seed=5)
    r2 = bootstrap([g1, g2], difference_of_ratios, 500, seed=5)
    assert r1 == r2
    assert r1.estimate == pytest.approx(-0.1)
    assert r1.ci95[0] <= r1.estimate <= r1.ci95[1]


def test_units_and_degenerate_cases() -> None:
    assert units([np.zeros((3, 8)), np.zeros((1, 8))]) == 3
    assert units([np.zeros((10, 4)), np.zeros((10, 4))]) == 4
    assert units([np.zeros((1, 6)), np.zeros((1, 6))]) == 6
    r = bootstrap([np.ones((1, 1))], mean_statistic, 100)
    assert r.df == 0 and math.isnan(r.ci95[0])
    with pytest.raises(ValueError, match="same items"):
        hierarchical_bootstrap([np.zeros((2, 3)), np.zeros((2, 4))], difference_of_means, 10)


def test_iqm_and_probability_of_improvement() -> None:
    assert iqm(np.array([0.0, 1.0, 2.0, 3.0, 100.0, -100.0, 1.5, 2.5])) == pytest.approx(1.75)
    x = np.array([[0.1, 0.2], [0.1, 0.2]])
    y = np.array([[0.3, 0.2]])
    # item 1: both runs of x lower (1.0); item 2: ties (0.5) -> mean 0.75
    assert probability_of_improvement(x, y) == pytest.approx(0.75)
    assert probability_of_improvement(x, y, lower_is_better=False) == pytest.approx(0.25)
