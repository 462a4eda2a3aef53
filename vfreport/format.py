"""The one number formatter: verdict sentences, Markdown and HTML all print numbers through it,
so a p-value, a percentage or an interval reads the same everywhere.

Accuracies and their differences are fractions in results.json; here they become percent
("61.5 %") and percentage points ("+23.7 points"). None, NaN and non-numbers print as "n/a".
"""

from __future__ import annotations

import math
from typing import Any

MARKS = {"ok": "✅", "warn": "⚠️", "no": "❌"}
"""Status marks as the strategy document writes them."""


def ok(x: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def ci_ok(ci: Any) -> bool:
    """True for a pair of finite numbers."""
    return isinstance(ci, list | tuple) and len(ci) == 2 and all(ok(v) for v in ci)


def pct(x: Any, digits: int = 1) -> str:
    """0.615 → '61.5 %'."""
    return f"{100 * x:.{digits}f} %" if ok(x) else "n/a"


def points(x: Any, digits: int = 1, signed: bool = True) -> str:
    """0.17 → '+17.0 points' (unsigned: '17.0 points')."""
    if not ok(x):
        return "n/a"
    return f"{100 * x:+.{digits}f} points" if signed else f"{100 * x:.{digits}f} points"


def pvalue(p: Any) -> str:
    """The p-value alone: '0.004', '0.070', '< 0.001'."""
    if not ok(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_text(p: Any, label: str = "p") -> str:
    """The p-value in a sentence: 'p = 0.004', 'p < 0.001', 'p n/a'."""
    s = pvalue(p)
    if s == "n/a":
        return f"{label} n/a"
    return f"{label} {s}" if s.startswith("<") else f"{label} = {s}"


def num(x: Any, digits: int = 2) -> str:
    """A plain number: 2.3383 → '2.34'."""
    return f"{x:.{digits}f}" if ok(x) else "n/a"


def df_text(df: Any) -> str:
    """Degrees of freedom: '2.1'; '—' when there are none (exact tests)."""
    return f"{df:.1f}" if ok(df) else "—"


def ci_pct(ci: Any, label: str = "95 % CI") -> str:
    """(0.741, 0.825) → '95 % CI 74.1–82.5 %'."""
    if not ci_ok(ci):
        return "no CI"
    return f"{label} {100 * ci[0]:.1f}–{100 * ci[1]:.1f} %"


def ci_points(ci: Any, label: str = "95 % CI") -> str:
    """(-0.18, 0.66) → '95 % CI -18.2 to +65.6 points'."""
    if not ci_ok(ci):
        return "no CI"
    return f"{label} {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f} points"


def ci_num(ci: Any, digits: int = 2, label: str = "95 % CI") -> str:
    """A CI of a plain number (a ratio): '95 % CI 0.14–0.32'."""
    if not ci_ok(ci):
        return "no CI"
    return f"{label} {ci[0]:.{digits}f}–{ci[1]:.{digits}f}"


def mean_ci_pct(mean: Any, ci: Any, n: Any) -> str:
    """'61.5 % (95 % CI 55.1–67.9 %, n = 3)'; without a CI '61.5 % (n = 1)'."""
    if not ok(mean):
        return "n/a"
    return f"{pct(mean)} ({ci_pct(ci)}, n = {n})" if ci_ok(ci) else f"{pct(mean)} (n = {n})"
