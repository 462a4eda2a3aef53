"""The review's figures (docs/review.md), drawn on :class:`matplotlib.figure.Figure` objects.

- :func:`timeline_figure`: one (arm, run, meeting) as three rows over time: the reference (one
  lane per speaker), the hypothesis (one lane per model label, coloured as the reference speaker
  it is mapped to, so matching colours mean agreement) and the errors of pyannote.metrics
  (confusion, missed detection, false alarm).
- :func:`run_curves_figure`: validation accuracy per epoch of every run of one arm, the selected
  run drawn thick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from vfreport.report.drilldown import CONFUSION, ERROR_KINDS, FALSE_ALARM, MISSED, MeetingErrors
from vfreport.report.figures import new_figure, plot_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ERROR_COLORS = {CONFUSION: "#d62728", MISSED: "#ff7f0e", FALSE_ALARM: "#9467bd"}
_GREY = "#9a9a9a"


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="x", color="#e4e4e4")
    ax.set_axisbelow(True)


def _speaker_colors(labels: list[str]) -> dict[str, Any]:
    import seaborn as sns

    palette = sns.color_palette("tab10", 10) + sns.color_palette("pastel", 10)
    return {lab: palette[i % len(palette)] for i, lab in enumerate(labels)}


def _spans(annotation: Any, label: Any) -> list[tuple[float, float]]:
    return [(s.start, s.duration) for s in annotation.label_timeline(label)]


def timeline_figure(errors: MeetingErrors, title: str = "", width: float = 11.0) -> Figure:
    """Reference / hypothesis / error rows of one meeting (module doc)."""
    ref_labels = sorted(str(x) for x in errors.reference.labels())
    hyp_labels = sorted((str(x) for x in errors.hypothesis.labels()), key=lambda s: (len(s), s))
    colors = _speaker_colors(ref_labels)
    lanes: list[tuple[str, str, Any]] = []  # (row group, lane label, draw spec)
    lanes += [("reference", lab, lab) for lab in ref_labels]
    lanes += [("model", lab, lab) for lab in hyp_labels]
    lanes += [("errors", kind, kind) for kind in ERROR_KINDS]
    height = 1.1 + 0.22 * len(lanes)
    fig = new_figure(width, height)
    ax = fig.subplots()
    _style(ax)
    end = max((b for _, b in errors.uem), default=0.0)
    y_ticks, y_labels = [], []
    for i, (group, lab, _) in enumerate(lanes):
        y = len(lanes) - 1 - i
        if group == "reference":
            spans, color, text = _spans(errors.reference, lab), colors[lab], f"ref {lab}"
        elif group == "model":
            target = errors.mapping.get(lab)
            spans, color = _spans(errors.hypothesis, lab), colors.get(target, _GREY) if target else _GREY
            text = f"model {lab} → {target}" if target else f"model {lab} (unmapped)"
        else:
            spans = [(r.start, r.duration) for r in errors.regions if r.kind == lab]
            color, text = ERROR_COLORS[lab], lab
        if spans:
            ax.broken_barh(spans, (y - 0.38, 0.76), facecolors=color, linewidth=0)
        y_ticks.append(y)
        y_labels.append(plot_label(text))
    for boundary in (len(ref_labels), len(ref_labels) + len(hyp_labels)):
        ax.axhline(len(lanes) - boundary - 0.5, color="#555555", linewidth=0.8)
    ax.set_yticks(y_ticks, y_labels, fontsize=8)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, end if end > 0 else 1)
    ax.set_xlabel("time (s)")
    if title:
        ax.set_title(plot_label(title), fontsize=10, loc="left")
    return fig


def run_curves_figure(histories: pd.DataFrame, arm: str, selected: str | int | None = None,
                      title: str = "", width: float = 6.0) -> Figure:
    """Validation accuracy per epoch, one line per run of ``arm``; ``selected`` (a seed) thick."""
    fig = new_figure(width, 2.6)
    ax = fig.subplots()
    _style(ax)
    ax.grid(True, axis="y", color="#e4e4e4")
    rows = histories[histories["arm"] == arm] if "arm" in histories.columns else histories.iloc[0:0]
    if rows.empty or "val_acc" not in rows.columns:
        ax.text(0.5, 0.5, "no history for this arm", ha="center", va="center", transform=ax.transAxes)
        return fig
    for seed, run in rows.groupby("seed", sort=True):
        chosen = selected is not None and str(seed) == str(selected)
        ax.plot(run["epoch"], 100 * run["val_acc"], color="#1f77b4" if chosen else "#b9b9b9",
                linewidth=2.6 if chosen else 1.0, zorder=3 if chosen else 2,
                label=f"seed {seed}" + (" (selected)" if chosen else ""))
    ax.set_xlabel("epoch")
    ax.set_ylabel("val acc (%)")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    if title:
        ax.set_title(plot_label(title), fontsize=10, loc="left")
    return fig


__all__ = ["ERROR_COLORS", "run_curves_figure", "timeline_figure"]
