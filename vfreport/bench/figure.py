"""One measured figure of `vfreport bench` beside its target (docs/performance.md), and whether it is met."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Figure:
    """A measured value, its unit, the target as written in docs/performance.md, ``met`` (None: not judged)."""

    name: str
    value: float | None
    unit: str
    target: str
    met: bool | None
    note: str = ""


def meets(value: float | None, op: str, bound: float) -> bool | None:
    """``value <= bound`` or ``value >= bound`` (``op``); None when there is no finite value."""
    if value is None or not math.isfinite(value):
        return None
    return value <= bound if op == "<=" else value >= bound
