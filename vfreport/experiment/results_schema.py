"""results.json's layout version, and the check every reader of an existing results.json makes.

``vfreport report DIR`` re-analyses the runs and overwrites results.json, so it reads no old one;
what consumes a results.json as it is (the review notebook, :func:`vfreport.report.review.load_results`)
goes through :func:`read_results`, which refuses another layout with one line that says how to
get the current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vfreport.errors import ExperimentError, ResultsSchemaError
from vfreport.experiment.layout import ExperimentDir, read_json_object

SCHEMA_VERSION = 2
"""results.json's layout version: 2 adds ``primary`` (the primary endpoint), ``arms.<arm>.readiness``
and the secondary family (``hypotheses.<key>.family``). A results.json without ``schema_version``
is layout 1."""


def check_schema(results: Mapping[str, Any], path: Path | str, exp_dir: Path | str) -> None:
    """ResultsSchemaError unless ``results`` (read from ``path``) has layout :data:`SCHEMA_VERSION`."""
    found = results.get("schema_version", 1)
    if found == SCHEMA_VERSION and not isinstance(found, bool):
        return
    experiment = results.get("experiment")
    version = experiment.get("vfreport_version") if isinstance(experiment, Mapping) else None
    writer = f"vfreport {version}" if version else "an unknown vfreport version"
    raise ResultsSchemaError(f"{path} was written by {writer} (results schema {found}); this vfreport reads "
                             f"schema {SCHEMA_VERSION}: re-run `vfreport report {exp_dir}`")


def read_results(exp_dir: Path | str) -> dict[str, Any]:
    """``<exp_dir>/results.json`` as written by this vfreport's layout; ExperimentError when it is
    missing or unreadable, ResultsSchemaError when another layout wrote it."""
    path = ExperimentDir(exp_dir).results
    if not path.exists():
        raise ExperimentError(f"{path}: missing; run `vfreport report {exp_dir}` first")
    results = read_json_object(path, "results")
    check_schema(results, path, exp_dir)
    return results
