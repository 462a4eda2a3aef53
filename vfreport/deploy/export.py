"""The experiment-level export (``vfreport export``): the winning run's model to ONNX, checked, and
optionally its int8 twin judged by DER, as results.json's ``onnx`` entry (docs/deployment.md).

    results.json  --choose_winner-->  <arm>/seed-<k>/checkpoints/best.pt
                  --vfreport.deploy.onnx.export_onnx-->  model.onnx  (metadata, checker, parity)
                  --vfreport.deploy.quantize.export_int8 (int8 given)-->  model.int8.onnx or the reason not
                  --> the results.json["onnx"] entry (pipeline writes it)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vfreport.deploy.onnx import ExportInfo, export_onnx
from vfreport.deploy.quantize import export_int8
from vfreport.deploy.winner import Selection, choose_winner
from vfreport.errors import ExportError
from vfreport.experiment.layout import ExperimentDir
from vfreport.experiment.records import Experiment, load_experiment


def _entry(info: ExportInfo, sel: Selection, exp_root: Path, written: bool) -> dict[str, Any]:
    return {
        "path": _relative(info.path, exp_root) if written else None,
        "arm": sel.arm,
        "seed": sel.seed,
        "epoch": sel.epoch,
        "val_acc": sel.val_acc,
        "max_abs_diff": info.max_abs_diff if math.isfinite(info.max_abs_diff) else None,
        "tolerance": info.parity.tolerance,
        "parity_ok": info.parity_ok,
        "export_seconds": round(info.export_seconds, 3),
        "opset": info.opset,
        "checked_shapes": info.parity.checked_shapes,
        "exporter": info.exporter,
        "fallback_reason": info.fallback_reason,
        "check_seconds": round(info.check_seconds, 3),
        "argmax_agreement": min(p["argmax_agreement"] for p in info.parity.per_shape),
        "checkpoint": str(sel.checkpoint.resolve().relative_to(exp_root.resolve())),
    }


def export_experiment(experiment: Experiment | Path | str, results: Mapping[str, Any], arm: str | None = None,
                      out: Path | str | None = None, int8: str | None = None) -> dict[str, Any]:
    """Export the winning checkpoint of an analysed experiment; return its results.json ``onnx`` entry.

    ``results`` is the experiment's analysis (it picks the winner). ``out`` defaults to
    DIR/model.onnx; an explicit ``out`` is the user's choice and may lie anywhere (a relative one is
    taken from the current directory). On a parity failure ExportError is raised with ``entry`` set
    (``parity_ok: false``, ``path: null``, ``error``) so the caller can record the attempt.

    ``int8`` (a method of :mod:`vfreport.deploy.quantize`, e.g. "static") also writes the int8
    model beside the fp32 one, judged by DER on the yardstick's meetings: the entry's ``int8``
    holds both DERs and whether it was accepted (a rejected model is not written, and the caller
    decides what to do: the CLI exits with an error). ``experiment`` is the loaded experiment, or its
    directory (which needs no experiment.toml but for ``int8``: the config is then loaded here).
    """
    exp = experiment.dir if isinstance(experiment, Experiment) else ExperimentDir(experiment)
    sel = choose_winner(dict(results), exp.root, arm)
    target = exp.onnx if out is None else Path(out)
    meta: dict[str, Any] = {"arm": sel.arm, "seed": sel.seed, "epoch": sel.epoch, "val_acc": sel.val_acc,
                            "experiment": str((results.get("experiment") or {}).get("name") or exp.root.name)}
    train_cfg = ((results.get("experiment") or {}).get("config") or {}).get("train") or {}
    if isinstance(train_cfg.get("window_seconds"), int | float):
        meta["window_seconds"] = float(train_cfg["window_seconds"])  # predict's default window
    try:
        info = export_onnx(sel.checkpoint, target, meta)
    except ExportError as e:
        info = getattr(e, "info", None)
        if info is not None:
            e.entry = {**_entry(info, sel, exp.root, written=False), "error": str(e)}
        raise
    entry = _entry(info, sel, exp.root, written=True)
    if int8 is not None:
        try:
            entry["int8"] = _int8_entry(experiment, target, sel.arm, int8,
                                        (results.get("evaluation") or {}).get("split"))
        except ExportError as e:  # the fp32 model stands; the int8 attempt is recorded beside it
            e.entry = {**entry, "int8": {"method": int8, "path": None, "accepted": False, "error": str(e)}}
            raise
    return entry


def _int8_entry(experiment: Experiment | Path | str, fp32_path: Path, arm: str, method: str,
                split: str | None) -> dict[str, Any]:
    """The int8 model judged by DER on the yardstick meetings the experiment's config names."""
    if not isinstance(experiment, Experiment):
        exp = ExperimentDir(experiment)
        if not exp.config.is_file():
            raise ExportError(f"cannot judge an int8 model without the experiment's config ({exp.config} is "
                              "missing): its DER is measured on the yardstick meetings the config names")
        experiment = load_experiment(exp.root)
    entry, written = export_int8(fp32_path, experiment.config, arm, method, split=split)
    entry["path"] = None if written is None else _relative(written, experiment.root)
    return entry


def _relative(path: Path, root: Path) -> str:
    p = path.resolve()
    try:
        return str(p.relative_to(root.resolve()))
    except ValueError:
        return str(p)
