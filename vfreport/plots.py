"""Single-run plot used by the training notebook (the experiment-level figures are in figures.py)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


def learning_curve(history: pd.DataFrame, title: str = "") -> plt.Figure:
    """Loss (with the chance level ln 2) and frame accuracy per epoch, train vs validation."""
    sns.set_theme(style="whitegrid", context="notebook")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    long = history.melt(id_vars="epoch", value_vars=["train_loss", "val_loss"], var_name="split", value_name="loss")
    sns.lineplot(data=long, x="epoch", y="loss", hue="split", marker="o", ax=ax_loss)
    ax_loss.axhline(math.log(2), color="grey", ls="--", lw=1, label="chance (ln 2)")
    ax_loss.legend()
    long = history.melt(id_vars="epoch", value_vars=["train_acc", "val_acc"], var_name="split", value_name="acc")
    long["acc"] *= 100
    sns.lineplot(data=long, x="epoch", y="acc", hue="split", marker="o", ax=ax_acc)
    ax_acc.axhline(50, color="grey", ls="--", lw=1)
    ax_acc.set_ylabel("frame accuracy (%)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
