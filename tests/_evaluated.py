"""Experiment directories whose held-out evaluation ran (random-weight checkpoints, no training), for
the review tests: ``evaluated_experiment(tmp, ...)`` -> (directory, results dict, written to results.json).

    local=True: the AMI arm reads tests/data/ami-debug (real audio, meetings dev00 and dev01);
    local=False: the demo preset's synthetic AMI test split (six 60-s meetings), the demo's shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from _data import AMI_DEBUG
from _expdir import ami_history, librispeech_history, make_experiment

from vfreport import __version__
from vfreport.analysis import evaluation as E
from vfreport.analysis.results import analyze_experiment
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.network import FastDiarizationModel
from vfreport.pipeline import write_results

AMI_DEBUG_SPLIT = "debug.development"


def write_checkpoint(path: Path, seed: int) -> None:
    """A best.pt with randomly initialised weights (seeded)."""
    torch.manual_seed(seed)
    model = FastDiarizationModel()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "vfreport-checkpoint-1", "model_config": asdict(model.config),
                "model_state": model.state_dict(), "epoch": 1, "vfreport_version": __version__}, path)


def evaluated_experiment(tmp: Path, *, local: bool = True, seeds: Sequence[int] = (0, 1),
                         with_models: Sequence[str] = ("librispeech", "ami"),
                         overrides: dict[str, Any] | None = None) -> tuple[Path, dict[str, Any]]:
    """Both arms with ``seeds``; the arms in ``with_models`` get a best.pt per run (the others
    have no evaluated run); the evaluation's entry is put into results.json."""
    hist = {("librispeech", s): librispeech_history() for s in seeds}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in seeds}
    over: dict[str, Any] = dict(overrides or {})
    if local:
        over["arms"] = {**over.get("arms", {}), "ami": {"source": "local", "path": str(AMI_DEBUG)}}
    exp = make_experiment(tmp, hist, overrides=over)
    for arm, s in hist:
        if arm in with_models:
            write_checkpoint(ExperimentDir(exp).run(arm, s).best, 10 * s + len(arm))
    results = analyze_experiment(exp, n_resamples=200)
    results["evaluation"] = E.evaluate_experiment(exp, split=AMI_DEBUG_SPLIT if local else E.DEFAULT_SPLIT,
                                                  n_resamples=200)
    write_results(exp, results)
    return exp, results
