"""Experiment-level figures (PNG, seaborn + matplotlib Agg) in ``DIR/figures/``.

- ``learning_curves.png``: train/val accuracy and loss per epoch, one line per arm (mean over
  seeds) with a band spanning the seeds (min–max); the loss panels carry the chance line ln 2,
  the accuracy panels the readiness thresholds.
- ``val_acc_variability.png``: the val-acc epoch-to-epoch changes over epochs 1–10 per arm (box +
  points) and each seed's ± half-range against the ``max_variance`` threshold.
- ``best_val_acc.png``: best val acc per seed with the arm mean and its 95 % CI (from results.json).
- ``der_per_meeting.png``: DER per held-out meeting and run with the audio-free baselines
  (:func:`vfreport.report.yardstick.der_figure`, from results.json's ``evaluation``).

Figures are drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state, no global
backend switch) and written atomically. :func:`load_histories` gives every run's history (as
loaded once: :mod:`vfreport.experiment.records`) as one long DataFrame, which the review notebook
uses too.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vfreport import format as F
from vfreport.analysis.metrics import EARLY_EPOCHS, LN2
from vfreport.experiment.layout import atomic_write_bytes
from vfreport.experiment.records import Experiment, as_experiment
from vfreport.experiment.results_schema import Results
from vfreport.report import yardstick

if TYPE_CHECKING:  # matplotlib and seaborn load only when a figure is drawn (load_histories is light)
    from matplotlib.figure import Figure

DPI = 120
FIGURE_NAMES = ("learning_curves", "val_acc_variability", "best_val_acc", "der_per_meeting")
ID_COLUMNS = ["arm", "display_name", "role", "seed", "state"]


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def load_histories(experiment: Experiment | Path | str) -> pd.DataFrame:
    """Every run's history.csv as one long DataFrame (a path is loaded here:
    :func:`vfreport.experiment.records.load_experiment`).

    Columns: ``arm, display_name, role, seed, state`` (from experiment.toml and status.json), then
    the history columns (``epoch, train_loss, train_acc, val_loss, val_acc, …``). Rows are sorted
    baseline arm first, then by seed and epoch. Runs without a history are absent; an unreadable
    history raises HistoryError naming the file.
    """
    experiment = as_experiment(experiment)
    frames = []
    for run in sorted(experiment.runs, key=lambda r: (r.arm, r.seed)):  # the frame's column order: arm by name
        if not run.has_history:
            continue
        hist = run.require_history()
        arm = experiment.config.arms[run.arm]
        ids = pd.DataFrame({"arm": run.arm, "display_name": arm.display_name, "role": arm.role, "seed": run.seed,
                            "state": run.state}, index=hist.index)
        frames.append(pd.concat([ids, hist], axis=1))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ID_COLUMNS + ["epoch"]})
    out = pd.concat(frames, ignore_index=True)
    role_rank = out["role"].map({"baseline": 0, "target": 1}).fillna(2)
    out = out.assign(_rank=role_rank).sort_values(["_rank", "arm", "seed", "epoch"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def plot_label(text: Any) -> str:
    """A user string made safe for matplotlib text: '$' would start mathtext, a leading '_'
    hides a legend entry."""
    s = " ".join(str(text).split()).replace("$", r"\$")
    return " " + s if s.startswith("_") else s


def _arm_order(results: Mapping[str, Any]) -> list[str]:
    arms = list(results.get("arms", {}))
    first = [results.get("baseline"), results.get("target")]
    return [a for a in first if a in arms] + [a for a in arms if a not in first]


def _palette(arms: list[str]) -> dict[str, Any]:
    import seaborn as sns

    colors = sns.color_palette("colorblind", max(len(arms), 2))
    # baseline orange-ish, target blue: the colorblind palette's 2nd and 1st colours
    ordered = [colors[1], colors[0], *colors[2:]]
    return {arm: ordered[i % len(ordered)] for i, arm in enumerate(arms)}


def _display(results: Mapping[str, Any], arm: str) -> str:
    return plot_label(results.get("arms", {}).get(arm, {}).get("display_name") or arm)


def _completed(hist: pd.DataFrame, results: Mapping[str, Any]) -> pd.DataFrame:
    """The history rows of completed runs (per results.json's runs if given, else status.json)."""
    if hist.empty:
        return hist
    runs = results.get("runs")
    if runs:
        done = {(r["arm"], int(r["seed"])) for r in runs if r.get("state") == "completed"}
        keep = [(a, int(s)) in done for a, s in zip(hist["arm"], hist["seed"], strict=True)]
        return hist[keep]
    return hist[hist["state"] == "completed"]


def new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def _style(ax: Any) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


@contextlib.contextmanager
def _fixed_jitter(seed: int = 0) -> Iterator[None]:
    """seaborn's strip-plot jitter draws from numpy's global RNG: seed it for reproducible PNGs
    and give the caller's RNG state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777")
    ax.set_xticks([])
    ax.set_yticks([])


def _threshold_line(ax: Any, y: float, label: str, color: str = "#666666") -> None:
    ax.axhline(y, color=color, linestyle=":", linewidth=1.1, zorder=1)
    ax.annotate(label, xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(-3, 2),
                textcoords="offset points", ha="right", va="bottom", fontsize=8, color=color)


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def learning_curves_figure(hist: pd.DataFrame, results: Mapping[str, Any]) -> Figure:
    """2 × 2 panels (val acc, train acc, val loss, train loss) per epoch: mean over seeds and a
    min–max band over seeds for each arm."""
    arms = [a for a in _arm_order(results) if a in set(hist["arm"])]
    colors = _palette(_arm_order(results))
    th = results.get("thresholds", {})
    fig = new_figure(11.0, 7.2)
    axes = fig.subplots(2, 2, sharex=True)
    panels = [("val_acc", "Validation accuracy", True), ("train_acc", "Training accuracy", True),
              ("val_loss", "Validation loss", False), ("train_loss", "Training loss", False)]
    for ax, (col, title, is_acc) in zip(axes.flat, panels, strict=True):
        _style(ax)
        ax.set_title(title, fontsize=11, loc="left")
        if col not in hist.columns or hist[col].notna().sum() == 0:
            _no_data(ax, f"no {col} in the histories")
            continue
        for arm in arms:
            sub = hist[(hist["arm"] == arm) & hist[col].notna()]
            if sub.empty:
                continue
            scale = 100.0 if is_acc else 1.0
            g = sub.groupby("epoch")[col].agg(["mean", "min", "max", "count"]) * [scale, scale, scale, 1]
            n_seeds = sub["seed"].nunique()
            label = f"{_display(results, arm)} (n={n_seeds})"
            ax.plot(g.index, g["mean"], color=colors[arm], linewidth=2, marker="o", markersize=3.5,
                    label=label, zorder=3)
            if n_seeds > 1:
                ax.fill_between(g.index, g["min"], g["max"], color=colors[arm], alpha=0.18, linewidth=0,
                                zorder=2)
        if is_acc:
            ax.set_ylabel("frame accuracy (%)")
            ax.axhline(50, color="#999999", linewidth=0.8, zorder=1)
            if col == "val_acc":
                for key, name in (("ready", "ready"), ("poc", "PoC")):
                    if th.get(key) is not None:
                        _threshold_line(ax, 100 * th[key], f"{name} {F.pct(th[key], 0)}")
                for arm in arms:  # what frame position alone predicts, in the arm's colour
                    base = ((results.get("data") or {}).get(arm) or {}).get("position_baseline_val_acc")
                    if isinstance(base, int | float) and math.isfinite(base):
                        ax.axhline(100 * base, color=colors[arm], linestyle="--", linewidth=1.0, alpha=0.8,
                                   zorder=1, label=f"{_display(results, arm)}: position-only baseline")
            elif th.get("train_acc_epoch10") is not None:
                _threshold_line(ax, 100 * th["train_acc_epoch10"], f"H3 target {F.pct(th['train_acc_epoch10'], 0)}")
                if hist["epoch"].max() >= EARLY_EPOCHS:
                    ax.axvline(EARLY_EPOCHS, color="#999999", linestyle="--", linewidth=0.8, zorder=1)
        else:
            ax.set_ylabel("cross-entropy loss")
            _threshold_line(ax, LN2, "chance ln 2 ≈ 0.693", color="#aa3333")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best", frameon=False)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle("Learning curves: mean over seeds, band = min–max over seeds", fontsize=12)
    return fig


def variability_figure(hist: pd.DataFrame, results: Mapping[str, Any]) -> Figure:
    """Left: epoch-to-epoch val-acc changes (points) over epochs 1–10 per arm; right: each
    seed's val-acc ± half-range over epochs 1–10 with the max_variance threshold."""
    import seaborn as sns

    order = _arm_order(results)
    colors = _palette(order)
    fig = new_figure(11.0, 4.4)
    ax_j, ax_h = fig.subplots(1, 2)
    for ax in (ax_j, ax_h):
        _style(ax)

    # epoch-to-epoch changes
    rows = []
    early = hist[(hist["epoch"] <= EARLY_EPOCHS)] if not hist.empty else hist
    for (arm, seed), sub in early.groupby(["arm", "seed"], sort=False) if not early.empty else []:
        changes = np.diff(sub.sort_values("epoch")["val_acc"].to_numpy(dtype=float)) * 100.0
        rows += [{"arm": arm, "seed": seed, "change": c} for c in changes if np.isfinite(c)]
    jumps = pd.DataFrame(rows, columns=["arm", "seed", "change"])
    arms_j = [a for a in order if a in set(jumps["arm"])]
    ax_j.set_title("Val-acc change from the previous epoch (epochs 1–10)", fontsize=11, loc="left")
    if arms_j:
        labels = {a: _display(results, a) for a in arms_j}
        jumps["label"] = jumps["arm"].map(labels)
        pal = {labels[a]: colors[a] for a in arms_j}
        lab_order = [labels[a] for a in arms_j]
        boxes = ax_j.boxplot([jumps.loc[jumps["arm"] == a, "change"].to_numpy() for a in arms_j],
                             positions=range(len(arms_j)), widths=0.5, patch_artist=True, showfliers=False,
                             medianprops={"color": "#333333"}, whiskerprops={"color": "#555555"},
                             capprops={"color": "#555555"})
        for patch, a in zip(boxes["boxes"], arms_j, strict=True):
            patch.set(facecolor=colors[a], alpha=0.35, edgecolor="#555555")
        with _fixed_jitter():
            sns.stripplot(data=jumps, x="label", y="change", hue="label", order=lab_order, hue_order=lab_order,
                          palette=pal, ax=ax_j, size=4.5, jitter=0.12, alpha=0.85, legend=False)
        ax_j.axhline(0, color="#999999", linewidth=0.8)
        ax_j.set_xticks(range(len(arms_j)), lab_order)
        ax_j.set_xlim(-0.6, len(arms_j) - 0.4)
        ax_j.set_xlabel("")
        ax_j.set_ylabel("change in val acc (percentage points)")
        for i, a in enumerate(arms_j):
            sd = results.get("arms", {}).get(a, {}).get("val_acc_jump_std", {}).get("mean")
            if sd is not None:
                ax_j.annotate(f"SD of changes {100 * sd:.1f} pts", xy=(i, 1.0), xycoords=("data", "axes fraction"),
                              ha="center", va="top", fontsize=8, color="#444444")
    else:
        _no_data(ax_j, "needs at least 2 epochs")

    # detrended noise per seed (what stability and H2 read; the ± half range itself also grows with learning)
    ax_h.set_title("Val-acc noise ± half range per seed (trend removed, epochs 1–10)", fontsize=11, loc="left")
    pts = []
    for a in order:
        per_seed = results.get("arms", {}).get(a, {}).get("val_acc_noise_half_range", {}).get("per_seed") or []
        pts += [{"label": _display(results, a), "arm": a, "half_range": 100 * v} for v in per_seed if v is not None]
    hr = pd.DataFrame(pts, columns=["label", "arm", "half_range"])
    if not hr.empty:
        arms_h = [a for a in order if a in set(hr["arm"])]
        lab_order = [_display(results, a) for a in arms_h]
        pal = {_display(results, a): colors[a] for a in arms_h}
        with _fixed_jitter():
            sns.stripplot(data=hr, x="label", y="half_range", hue="label", order=lab_order, hue_order=lab_order,
                          palette=pal, ax=ax_h, size=7, jitter=0.08, legend=False)
        for i, a in enumerate(arms_h):
            m = results["arms"][a]["val_acc_noise_half_range"].get("mean")
            if m is not None:
                ax_h.hlines(100 * m, i - 0.25, i + 0.25, color=colors[a], linewidth=2.5)
        mv = results.get("thresholds", {}).get("max_variance")
        if mv is not None:
            _threshold_line(ax_h, 100 * mv, f"stability / H2 < {F.pct(mv, 0)}", color="#aa3333")
        ax_h.set_ylim(bottom=0)
        ax_h.set_xlabel("")
        ax_h.set_ylabel("± half range of detrended val acc (%)")
    else:
        _no_data(ax_h, "needs at least 6 epochs")
    fig.suptitle("Validation-accuracy variability (line = arm mean)", fontsize=12)
    return fig


def best_val_acc_figure(results: Mapping[str, Any]) -> Figure:
    """Best val acc of every seed (points), the arm mean and its 95 % CI (error bar), and the
    readiness thresholds."""
    order = _arm_order(results)
    colors = _palette(order)
    th = results.get("thresholds", {})
    fig = new_figure(7.5, 4.8)
    ax = fig.subplots()
    _style(ax)
    arms = [a for a in order if any(v is not None for v in
                                    (results["arms"][a].get("best_val_acc", {}).get("per_seed") or []))]
    if not arms:
        _no_data(ax, "no completed runs")
        return fig
    for i, a in enumerate(arms):
        s = results["arms"][a]["best_val_acc"]
        vals = np.array([100 * v for v in s.get("per_seed") or [] if v is not None])
        jitter = np.linspace(-0.08, 0.08, len(vals)) if len(vals) > 1 else np.zeros(len(vals))
        ax.scatter(i - 0.12 + jitter, vals, color=colors[a], s=36, alpha=0.8, zorder=3,
                   label="per seed" if i == 0 else None)
        m = s.get("mean")
        ci = s.get("ci95")
        if m is not None:
            if ci and None not in ci:
                ax.errorbar([i + 0.12], [100 * m], yerr=[[100 * (m - ci[0])], [100 * (ci[1] - m)]], fmt="D",
                            color=colors[a], markersize=7, capsize=6, linewidth=2, zorder=4,
                            label="mean ± 95 % CI" if i == 0 else None)
            else:
                ax.plot([i + 0.12], [100 * m], "D", color=colors[a], markersize=7, zorder=4,
                        label="mean (no CI, n < 2)" if i == 0 else None)
            ax.annotate(F.pct(m), xy=(i + 0.2, 100 * m), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=9)
    for key, name in (("ready", "ready >"), ("poc", "PoC ≥")):
        if th.get(key) is not None:
            _threshold_line(ax, 100 * th[key], f"{name} {F.pct(th[key], 0)}")
    ax.axhline(50, color="#999999", linewidth=0.8, zorder=1)
    ax.set_xticks(range(len(arms)), [f"{_display(results, a)}\n(n={results['arms'][a].get('n_seeds', 0)})"
                                     for a in arms])
    ax.set_xlim(-0.6, len(arms) - 0.4)
    ax.set_ylabel("best validation frame accuracy (%)")
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    delta = (results.get("delta") or {}).get("best_val_acc") or {}
    title = "Best validation accuracy per seed"
    if delta.get("value") is not None:
        ci = delta.get("ci95")
        ci_text = f", 95 % CI {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}" if ci and None not in ci else ""
        title += f"\nΔ = {100 * delta['value']:+.1f} points{ci_text}"
    ax.set_title(title, fontsize=11)
    return fig


def make_figures(experiment: Experiment | Path | str, results: Results) -> dict[str, Path]:
    """Draw the figures of ``results`` (and the runs' histories) into ``DIR/figures/*.png``.

    Returns {name: path} for the figures written: none when no run has a history. Figures that a
    previous report wrote but that have no data now are removed, so the report never shows stale
    pictures. ``experiment`` is the loaded experiment (a path is loaded here).
    """
    experiment = as_experiment(experiment)
    exp = experiment.dir
    hist = _completed(load_histories(experiment), results)
    out: dict[str, Path] = {}
    figs: dict[str, Figure] = {}
    if not hist.empty:
        figs["learning_curves"] = learning_curves_figure(hist, results)
        figs["val_acc_variability"] = variability_figure(hist, results)
    if any((results.get("arms", {}).get(a, {}).get("n_seeds") or 0) > 0 for a in results.get("arms", {})):
        figs["best_val_acc"] = best_val_acc_figure(results)

    if yardstick.available(results):  # DER per held-out meeting and run (the common yardstick)
        figs[yardstick.FIGURE_NAME] = yardstick.der_figure(results)
    for name in FIGURE_NAMES:
        path = exp.figures / f"{name}.png"
        if name in figs:
            out[name] = atomic_write_bytes(path, png_bytes(figs[name]))
        elif path.exists():
            path.unlink()
    return out
