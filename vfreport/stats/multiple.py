"""Multiplicity: Holm's step-down adjustment."""

from __future__ import annotations

from collections.abc import Sequence


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni step-down adjusted p-values.

    Sort ascending, multiply the i-th smallest (1-based) by ``m - i + 1``, take the running
    maximum, cap at 1. None entries (tests that did not run) are skipped and do not count in m.
    Same numbers as ``statsmodels.stats.multitest.multipletests(method="holm")``.

    References
    ----------
    Holm, S. (1979), "A simple sequentially rejective multiple test procedure", Scandinavian
    Journal of Statistics 6(2).
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        out[i] = running
    return out
