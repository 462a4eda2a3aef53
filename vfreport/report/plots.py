"""Single-run plot used by the training notebook (the experiment-level figures are in figures.py).

Plain matplotlib: the notebook runs once per (arm, seed), so it skips seaborn's import.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def learning_curve(history: pd.DataFrame, title: str = "") -> plt.Figure:
    """Loss (with the chance level ln 2) and frame accuracy per epoch, train vs validation."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for split in ("train", "val"):
        ax_loss.plot(history["epoch"], history[f"{split}_loss"], marker="o", label=split)
        ax_acc.plot(history["epoch"], 100 * history[f"{split}_acc"], marker="o", label=split)
    ax_loss.axhline(math.log(2), color="grey", ls="--", lw=1, label="chance (ln 2)")
    ax_acc.axhline(50, color="grey", ls="--", lw=1, label="chance")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy")
    ax_acc.set(xlabel="epoch", ylabel="frame accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
