"""Typed results shared by the statistics modules (in the manner of ``scipy.stats``' result objects).

Every test returns a :class:`TestResult` whose ``method`` names what was computed, and whose
``statistic_name`` says what the statistic is ("t", "Δ mean log SD", …): callers read these
fields, never parse ``method``. A test that cannot run on the data it was given (too few runs,
no variance) returns ``testable=False`` with a ``reason`` instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONFIDENCE = 0.95
"""Default coverage of every two-sided interval (bootstrap, t, clustered)."""
ALPHA = 0.05
"""Default level of a one-sided test and of its matching one-sided bound."""
N_RESAMPLES = 10_000
"""Default bootstrap replicates (percentile, BCa and cluster bootstrap alike)."""


@dataclass(frozen=True)
class Estimate:
    """A named point estimate (an effect size, a mean difference, a ratio)."""

    name: str
    value: float | None


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` with the method that produced it.

    ``reliable`` is False when the method is known to under-cover at this sample size (e.g. a
    percentile bootstrap over fewer than about 8 runs per arm); ``note`` says why.
    """

    low: float | None
    high: float | None
    method: str
    confidence: float = CONFIDENCE
    reliable: bool = True
    note: str = ""

    def as_tuple(self) -> tuple[float | None, float | None]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Bounds:
    """The one-sided ``(1 - alpha)`` confidence bounds that match one-sided tests at level
    ``alpha``: ``lower`` (a test of "greater" rejects exactly when the null value is below it) and
    ``upper`` (a test of "less"); together they are the two-sided ``1 - 2·alpha`` interval (90 % at
    α = 0.05), :attr:`interval`. None where undefined."""

    lower: float | None
    upper: float | None
    alpha: float
    method: str

    @property
    def interval(self) -> Interval:
        """``[lower, upper]`` as a two-sided interval at ``1 - 2·alpha``."""
        return Interval(self.lower, self.upper, f"{self.method}, two-sided {100 * (1 - 2 * self.alpha):g} %",
                        1.0 - 2.0 * self.alpha)


@dataclass(frozen=True)
class TestResult:
    """One significance test.

    ``n`` counts the units (``unit``, normally "runs") in (target, baseline) order, one entry for
    a one-sample test. ``df`` is None for exact/permutation tests. ``min_p`` is the smallest
    p-value the test can reach at this ``n`` (exact tests), or None when it can get arbitrarily
    close to 0. ``decidable`` is False when ``min_p`` is not below the level the caller asked
    for (``alpha``): then no data could make the test significant, and the test should not count
    in a multiplicity correction.
    """

    __test__ = False  # not a pytest class

    method: str
    testable: bool
    reason: str = ""
    statistic_name: str = ""
    statistic: float | None = None
    df: float | None = None
    p_value: float | None = None
    alternative: str = "greater"
    estimate: Estimate | None = None
    ci: Interval | None = None
    effect_size: Estimate | None = None
    n: tuple[int, ...] = ()
    unit: str = "runs"
    min_p: float | None = None
    decidable: bool = True
    bounds: Bounds | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def not_testable(method: str, reason: str, n: tuple[int, ...] = (), unit: str = "runs", **kw: Any) -> TestResult:
    """A result that says why ``method`` could not be run on these data, instead of raising."""
    return TestResult(method=method, testable=False, reason=reason, n=n, unit=unit, **kw)
