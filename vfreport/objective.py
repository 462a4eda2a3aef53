"""Training objectives per label strategy: what ``objective = "auto"`` means and which strategies PIT
applies to. A ground-level leaf: the config checks it, training resolves it."""

from __future__ import annotations

OBJECTIVES = ("auto", "fixed", "pit")
"""``fixed``: the labels as built; ``pit``: permutation-invariant (per window, the better of the two
label assignments, as in pyannote's segmentation); ``auto``: :data:`DEFAULT_OBJECTIVE` per strategy."""

PIT_STRATEGIES = ("two-speaker", "cluster")
"""Label strategies whose label values are arbitrary names of the window's speakers (or groups), so
that swapping 0 and 1 describes the same window: the only ones PIT applies to. ``round-robin`` and
``pairs`` labels carry the task itself (which pseudo-label; same or different speaker)."""

DEFAULT_OBJECTIVE = {"round-robin": "fixed", "pairs": "fixed", "two-speaker": "pit", "cluster": "pit"}
"""What ``objective = "auto"`` resolves to: ``pit`` where it applies. Chosen by comparing both with
``vfreport run-all`` on the demo (the AMI arm's lift over its audio-free baseline under the same
scoring, and its DER on the held-out meetings), and checked on the null corpus (``voice_spread =
0``), where ``pit`` shows no learning; the figures are in docs/performance.md."""


def check_resolved(objective: str) -> str:
    """``objective`` if it is one that training and scoring take (``fixed`` or ``pit``: ``auto``
    already resolved by :func:`resolve_objective`), else ValueError."""
    if objective not in OBJECTIVES or objective == "auto":
        raise ValueError(f"objective must be 'fixed' or 'pit', got {objective!r}")
    return objective


def resolve_objective(label_strategy: str | None, objective: str | None = "auto") -> str:
    """``"fixed"`` or ``"pit"`` for a label strategy; ValueError if PIT does not apply to it.
    An unknown strategy (None) resolves ``auto`` to ``fixed`` and accepts either explicit value."""
    objective = objective or "auto"
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    strategy = label_strategy or None
    if objective == "auto":
        return DEFAULT_OBJECTIVE.get(strategy, "fixed") if strategy else "fixed"
    if objective == "pit" and strategy is not None and strategy not in PIT_STRATEGIES:
        raise ValueError(
            f"objective 'pit' applies to label strategies {PIT_STRATEGIES}, not {strategy!r}: "
            "its labels are the task, swapping them changes the answer")
    return objective
