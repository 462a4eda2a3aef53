"""`vfreport import`: build an experiment directory from training histories produced elsewhere.

The strategy document's runs were trained in Colab tabs; their per-epoch histories (CSV, or JSON as
a list of row objects or a dict of columns) become ``<arm>/seed-<k>/history.csv`` in a regular
experiment directory (docs/experiment-directory.md), so ``vfreport report`` analyses them like any other run.

- Required columns: ``epoch, train_loss, train_acc, val_loss, val_acc``; ``lr`` and
  ``epoch_seconds`` are optional (left empty when absent); other columns are kept. Column names
  are matched case-insensitively, spaces/dashes read as ``_`` and ``*_accuracy`` as ``*_acc``.
- Accuracies may be fractions or percents: if any accuracy in a file is > 1.0 the whole file is
  read as percent and divided by 100. The decision is printed (``echo``) and recorded in the run's
  ``status.json`` under ``"import"``.
- Every value must be a finite number, epochs strictly increasing positive integers; otherwise a
  :class:`~vfreport.errors.HistoryError` names the file, the row and the column. All files are
  checked before anything is written.
- Fewer than 10 epochs is allowed: the analysis reports such runs as thin data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vfreport import __version__
from vfreport.config import ExperimentConfig, load_config, read_experiment_config, validate
from vfreport.errors import ConfigError, ExperimentError, HistoryError, UnsafePathError
from vfreport.experiment.history import HISTORY_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, validate_history
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, now_iso
from vfreport.experiment.manifest import read_manifest, write_manifest
from vfreport.names import check_name, run_key

DEFAULT_PRESET = "demo"


@dataclass(frozen=True)
class ImportItem:
    """One history file to import as run ``<arm>/seed-<seed>``."""

    path: Path
    arm: str
    seed: int


@dataclass
class ParsedHistory:
    """A validated history: ``frame`` has accuracies as fractions and integer epochs."""

    path: Path
    format: str  # "csv" | "json-rows" | "json-columns"
    frame: pd.DataFrame
    units: str  # "percent" | "fraction"
    detection: str  # one sentence: what was detected and why
    renamed: dict[str, str] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The ``"import"`` entry of status.json."""
        return {
            "file": str(self.path),
            "format": self.format,
            "rows": len(self.frame),
            "accuracy_units": self.units,
            "detection": self.detection,
            "columns_renamed": dict(self.renamed),
        }


def parse_history_spec(spec: str) -> ImportItem:
    """``ARM:SEED:FILE`` (the CLI's ``--history``) -> ImportItem; FILE may itself contain ':'."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or not parts[1].strip().isdigit() or not parts[2]:
        raise ConfigError(f"--history {spec!r}: expected ARM:SEED:FILE, e.g. librispeech:0:history.csv")
    return ImportItem(path=Path(parts[2]), arm=check_name(parts[0], "arm name"), seed=int(parts[1]))


# ---------------------------------------------------------------------------------------------
# reading and validating one file
# ---------------------------------------------------------------------------------------------


def _canonical(name: str) -> str:
    c = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return re.sub(r"_accuracy$", "_acc", c)


def _read_raw(path: Path) -> tuple[pd.DataFrame, str, Callable[[int], str]]:
    """The file as a DataFrame of raw values, its format, and how to name data row ``i`` (0-based)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise HistoryError(f"{path}: history file not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise HistoryError(f"{path}: cannot read history file: {e}") from e
    if not text.strip():
        raise HistoryError(f"{path}: history file is empty")
    is_json = path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip()[:1] in "[{")
    if not is_json:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise HistoryError(f"{path}: not a valid CSV history: {e}") from e
        return frame, "csv", lambda i: f"row {i + 1} (line {i + 2})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise HistoryError(f"{path}: not valid JSON: {e}") from e
    if isinstance(data, list):
        for i, row in enumerate(data):
            if not isinstance(row, dict):
                raise HistoryError(f"{path}: row {i + 1}: expected an object of column values, "
                                   f"got {row!r:.60}")
        return pd.DataFrame.from_records(data), "json-rows", lambda i: f"row {i + 1}"
    if isinstance(data, dict):
        lengths = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        scalars = [k for k, v in data.items() if not isinstance(v, list)]
        if scalars:
            raise HistoryError(f"{path}: a dict of columns needs a list per column; "
                               f"{scalars[0]!r} is not a list")
        if len(set(lengths.values())) > 1:
            raise HistoryError(f"{path}: columns have different lengths: {lengths}")
        return pd.DataFrame(data), "json-columns", lambda i: f"row {i + 1} (index {i})"
    raise HistoryError(f"{path}: expected a list of row objects or a dict of columns, "
                       f"got {type(data).__name__}")


def _numeric(values: pd.Series, path: Path, column: str, row_name: Callable[[int], str]) -> pd.Series:
    out = []
    for i, v in enumerate(values.tolist()):
        x: float | None
        if isinstance(v, bool) or v is None:
            x = None
        elif isinstance(v, int | float):
            x = float(v)
        else:
            s = str(v).strip()
            try:
                x = float(s) if s else None
            except ValueError:
                x = None
            if x is None:
                what = "an empty value" if not s else f"non-numeric value {s!r}"
                raise HistoryError(f"{path}: {row_name(i)}: column {column!r} has {what}")
        if x is None or (math.isnan(x) and not isinstance(v, str)):
            raise HistoryError(f"{path}: {row_name(i)}: column {column!r} has a missing value ({v!r})")
        if not math.isfinite(x):
            raise HistoryError(f"{path}: {row_name(i)}: column {column!r} is {x} "
                               "(values must be finite numbers)")
        out.append(x)
    return pd.Series(out, index=values.index, dtype="float64")


def parse_history(path: Path | str) -> ParsedHistory:
    """Read and validate one history file (CSV or JSON); accuracies come back as fractions."""
    path = Path(path)
    raw, fmt, row_name = _read_raw(path)
    if raw.empty or len(raw) == 0:
        raise HistoryError(f"{path}: history has no rows")
    renamed: dict[str, str] = {}
    columns: dict[str, str] = {}
    for col in raw.columns:
        canon = _canonical(col)
        if canon in columns:
            raise HistoryError(f"{path}: columns {columns[canon]!r} and {col!r} both mean {canon!r}")
        columns[canon] = col
        if canon != col:
            renamed[str(col)] = canon
    raw = raw.rename(columns={orig: canon for canon, orig in columns.items()})
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise HistoryError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, raw.columns))}; "
            f"required: {', '.join(REQUIRED_COLUMNS)})"
        )
    frame = pd.DataFrame(index=raw.index)
    numeric_cols = REQUIRED_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in raw.columns]
    acc_cols = [c for c in raw.columns if c.endswith("_acc")]
    for col in dict.fromkeys(numeric_cols + acc_cols):
        frame[col] = _numeric(raw[col], path, col, row_name)
    for col in raw.columns:
        if col not in frame.columns:
            frame[col] = raw[col]

    # epochs: positive integers, strictly increasing
    prev: tuple[int, int] | None = None
    for i, e in enumerate(frame["epoch"].tolist()):
        if e != int(e) or e < 1:
            raise HistoryError(f"{path}: {row_name(i)}: epoch must be a positive integer, got {e:g}")
        if prev is not None and e <= prev[0]:
            kind = "duplicate" if e == prev[0] else "non-increasing"
            raise HistoryError(f"{path}: {row_name(i)}: {kind} epoch {int(e)} after epoch {prev[0]} "
                               f"({row_name(prev[1])}); epochs must increase")
        prev = (int(e), i)
    frame["epoch"] = frame["epoch"].astype("int64")

    for col in ("train_loss", "val_loss"):
        bad = frame.index[frame[col] < 0]
        if len(bad):
            i = int(frame.index.get_loc(bad[0]))
            raise HistoryError(f"{path}: {row_name(i)}: {col} is negative ({frame[col].iloc[i]:g})")

    # accuracy units: any accuracy > 1.0 means the file is in percent
    acc_max = float(frame[acc_cols].to_numpy().max())
    acc_min = float(frame[acc_cols].to_numpy().min())
    if acc_min < 0:
        col, i = next((c, int(j)) for c in acc_cols for j in range(len(frame)) if frame[c].iloc[j] < 0)
        raise HistoryError(f"{path}: {row_name(i)}: {col} is negative ({frame[col].iloc[i]:g})")
    where = max(((c, frame[c].max()) for c in acc_cols), key=lambda t: t[1])[0]
    if acc_max > 1.0:
        units = "percent"
        detection = (f"accuracies read as percent (max {where} = {acc_max:g} > 1.0) and divided by 100")
        for col in acc_cols:
            if frame[col].max() > 100.0:
                i = int((frame[col] > 100.0).to_numpy().argmax())
                raise HistoryError(f"{path}: {row_name(i)}: {col} = {frame[col].iloc[i]:g} is above 100 %")
            frame[col] = (frame[col] / 100.0).round(12)  # 46.3 -> 0.463, not 0.46299999999999997
    else:
        units = "fraction"
        detection = f"accuracies read as fractions (all <= 1.0; max {where} = {acc_max:g})"
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = float("nan")
    ordered = HISTORY_COLUMNS + [c for c in frame.columns if c not in HISTORY_COLUMNS]
    frame = validate_history(frame[ordered].reset_index(drop=True), str(path))  # what analysis will accept
    return ParsedHistory(path=path, format=fmt, frame=frame, units=units,
                         detection=detection, renamed=renamed)


# ---------------------------------------------------------------------------------------------
# the experiment directory
# ---------------------------------------------------------------------------------------------


def _is_safe_name(name: str) -> bool:
    try:
        check_name(name)
    except UnsafePathError:
        return False
    return True


def _resolve_config(exp: ExperimentDir, items: list[ImportItem], histories: list[ParsedHistory],
                    config: ExperimentConfig | None) -> ExperimentConfig:
    """The config to write: given, or the one in the directory, or the preset's; seeds and epochs
    cover the runs already in the directory and the imported ones."""
    previous = read_experiment_config(exp.config) if exp.config.exists() else None
    if config is None:
        config = previous
    if config is None:
        name = exp.root.name if _is_safe_name(exp.root.name) else "imported"
        config = load_config(preset=DEFAULT_PRESET, overrides={"experiment": {"name": name}})
    for item in items:
        if item.arm not in config.arms:
            raise ConfigError(f"arm {item.arm!r} ({item.path}) is not in the experiment config; "
                              f"its arms are: {', '.join(config.arms)}")
    on_disk = {r.seed for r in exp.runs() if r.arm in config.arms and r.history.exists()}
    epochs = [int(h.frame["epoch"].max()) for h in histories] + ([previous.epochs] if previous else [])
    return validate(dataclasses.replace(config, seeds=sorted(on_disk | {int(i.seed) for i in items}),
                                        epochs=max(epochs)))


def import_histories(out_dir: Path | str, items: list[ImportItem], config: ExperimentConfig | None = None,
                     overwrite: bool = False, echo: Callable[[str], Any] | None = None) -> Path:
    """Write an experiment directory at ``out_dir`` holding the given histories as completed runs.

    ``config`` gives arms, display names and thresholds (default: the experiment.toml already in
    ``out_dir``, else the demo preset's arms); its seeds and epochs are set from the histories. An
    existing run is replaced only with ``overwrite=True``. ``echo`` receives one line per file
    stating how its accuracies were read. Returns ``out_dir``.
    """
    if not items:
        raise ConfigError("nothing to import: give at least one ARM:SEED:FILE history")
    exp = ExperimentDir(out_dir)
    if exp.root.exists() and not exp.root.is_dir():
        raise ExperimentError(f"{exp.root} exists and is not a directory")
    seen: dict[tuple[str, int], Path] = {}
    for item in items:
        check_name(item.arm, "arm name")
        if int(item.seed) < 0:
            raise ConfigError(f"seed must be >= 0, got {item.seed} for {item.path}")
        key = (item.arm, int(item.seed))
        if key in seen:
            raise ConfigError(f"run {run_key(item.arm, item.seed)} given twice: {seen[key]} and {item.path}")
        seen[key] = Path(item.path)
    histories = [parse_history(item.path) for item in items]  # validate everything before writing
    cfg = _resolve_config(exp, items, histories, config)
    runs = [exp.run(item.arm, item.seed) for item in items]
    if not overwrite:
        for run in runs:
            if run.history.exists() or run.status.exists():
                raise ExperimentError(f"{run.root} already holds a run; pass overwrite=True (--overwrite) "
                                      "to replace it")

    exp.root.mkdir(parents=True, exist_ok=True)
    exp.write_config(cfg)
    now = now_iso()
    for item, hist, run in zip(items, histories, runs, strict=True):
        run.root.mkdir(parents=True, exist_ok=True)
        run.write_history(hist.frame)
        atomic_write_json(run.params, {"imported_from": str(Path(item.path).resolve()), "arm": item.arm,
                                       "seed": int(item.seed)})
        secs = hist.frame["epoch_seconds"]
        seconds = float(secs.sum()) if secs.notna().all() else None
        last_epoch = int(hist.frame["epoch"].iloc[-1])
        run.write_status(fresh=True, state="completed", seconds=seconds, last_epoch=last_epoch,
                         epochs=len(hist.frame), source="import", imported=now, import_=hist.info(),
                         # what the analysis reports as the run's data: unknown for a run trained elsewhere
                         data={"source": "import", "train_windows": None, "val_windows": None, "skipped_rows": None})
        if echo is not None:
            echo(f"{run_key(item.arm, item.seed)}: {hist.path} ({hist.format}, {len(hist.frame)} epochs): "
                 f"{hist.detection}")
    _record_imports(exp, cfg, items, now)
    return exp.root


def _record_imports(exp: ExperimentDir, cfg: ExperimentConfig, items: list[ImportItem], now: str) -> None:
    """manifest.json of an imported experiment: the training environment is unknown (left empty
    unless run-all trained other runs here), the imported files are listed under ``imports``."""
    previous = read_manifest(exp)
    imports = dict((previous.imports if previous else None) or {})
    for item in items:
        imports[run_key(item.arm, item.seed)] = {
            "file": str(Path(item.path).resolve()), "imported": now, "vfreport_version": __version__}
    write_manifest(exp, experiment=cfg.name, started=(previous.started if previous else None) or now, ended=now,
                   config_file="experiment.toml", source="import", imports=imports)
