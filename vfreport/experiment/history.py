"""The history schema (history.csv) and its one validator.

Training writes histories, the importer converts foreign ones, analysis and figures read them:
all of them go through :func:`validate_history`, so the columns and their rules live here only.
:func:`history_csv` is the one writer (through :meth:`RunDir.write_history
<vfreport.experiment.layout.RunDir.write_history>`), :func:`read_history` the one reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vfreport.errors import HistoryError

REQUIRED_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
"""What the statistics read: must exist, every cell a finite number."""
OPTIONAL_COLUMNS = ["lr", "epoch_seconds", "train_frames", "val_frames", "val_window_acc"]
"""Informational (the training extras):
may be absent or have empty cells (an imported history has no lr or frame counts), but a value
that is there must be a finite number."""
FRACTION_COLUMNS = ["train_acc", "val_acc", "val_window_acc"]
COUNT_COLUMNS = ["train_frames", "val_frames"]
HISTORY_COLUMNS = REQUIRED_COLUMNS + ["lr", "epoch_seconds"]
"""The leading columns of a written history.csv, in order (:func:`history_csv`)."""


def validate_history(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check a history table and return it with its known columns as numbers.

    Required (:data:`REQUIRED_COLUMNS`): present, at least one row, every cell a finite
    number (NaN, empty cells, inf and text are errors), epochs exactly 1, 2, …, n. Optional
    (:data:`OPTIONAL_COLUMNS`): empty cells allowed, inf and text are errors. Accuracies
    in [0, 1], frame counts >= 0. Messages name ``where`` and the CSV line (header = line 1).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise HistoryError(
            f"{where}: missing column(s) {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED_COLUMNS)})"
        )
    if len(df) == 0:
        raise HistoryError(f"{where}: no epochs (the file has a header but no rows)")
    num: dict[str, np.ndarray] = {}
    for col in REQUIRED_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in df.columns]:
        raw = df[col]
        if raw.dtype.kind in "fiu":
            vals = raw.to_numpy(dtype=float)
        else:  # text, empty cells: coerce and report the first bad cell
            vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        if col in REQUIRED_COLUMNS:
            bad = ~np.isfinite(vals)
        else:  # empty is fine, anything else must be a finite number
            bad = np.isinf(vals) | (np.isnan(vals) & raw.notna().to_numpy())
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise HistoryError(
                f"{where}: line {i + 2}, column {col!r}: {raw.iloc[i]!r} is not a finite number"
            )
        num[col] = vals
    wrong = np.flatnonzero(num["epoch"] != np.arange(1, len(df) + 1))
    if len(wrong):
        i = int(wrong[0])
        raise HistoryError(
            f"{where}: line {i + 2}, column 'epoch': {df['epoch'].iloc[i]!r} where {i + 1} was "
            "expected (epochs must be 1, 2, 3, … without gaps or repeats)"
        )
    for col in FRACTION_COLUMNS:
        if col in num:
            bad = (num[col] < 0) | (num[col] > 1)  # NaN (empty optional cell) compares False
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise HistoryError(
                    f"{where}: line {i + 2}, column {col!r}: {num[col][i]!r} is not a fraction "
                    "in [0, 1] (accuracies are fractions, not percent)"
                )
    for col in COUNT_COLUMNS:
        if col in num:
            bad = num[col] < 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise HistoryError(
                    f"{where}: line {i + 2}, column {col!r}: negative frame count {num[col][i]!r}"
                )
    num["epoch"] = num["epoch"].astype(int)
    return df.assign(**num)


def history_csv(history: pd.DataFrame, where: str) -> str:
    """The text of a history.csv: :data:`HISTORY_COLUMNS` first (empty where a table lacks ``lr`` or
    ``epoch_seconds``), then the table's other columns in their order; validated first
    (:func:`validate_history`, errors naming ``where``), so what is written is what the analysis accepts."""
    frame = validate_history(history, where)
    frame = frame.reindex(columns=HISTORY_COLUMNS + [c for c in frame.columns if c not in HISTORY_COLUMNS])
    return frame.to_csv(index=False)


def read_history(path: Path | str) -> pd.DataFrame:
    """Read and validate one history.csv (:func:`validate_history`)."""
    p = Path(path)
    try:
        df = pd.read_csv(p)
    except FileNotFoundError as e:
        raise HistoryError(f"{p}: file not found") from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise HistoryError(f"{p}: not a readable CSV file: {e}") from e
    return validate_history(df, str(p))
