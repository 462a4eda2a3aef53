"""The training notebook's parameters cell: generated from the one training-settings definition,
typed and documented for `papermill --help-notebook`."""

from dataclasses import fields

import nbformat
import papermill

from vfreport.config import TRAIN_TABLE, ArmConfig, TrainSettings, load_config
from vfreport.run.job import job_parameters, split_parameters
from vfreport.run.notebooks import template_path
from vfreport.run.parameters import PARAMETERS, parameters_cell

TEMPLATE = template_path("train.ipynb")


def test_the_template_cell_is_the_one_generated_from_the_settings():
    nb = nbformat.read(TEMPLATE, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameters_cell(), "regenerate: python -m vfreport.run.parameters templates/train.ipynb"


def test_papermill_finds_a_type_and_help_for_every_parameter():
    inferred = papermill.inspect_notebook(str(TEMPLATE))
    assert list(inferred) == PARAMETERS
    for name, p in inferred.items():
        assert p["inferred_type_name"] not in ("None", "", None), name
        assert p["help"].strip(), name


def test_the_notebook_defaults_are_the_settings_defaults():
    inferred = papermill.inspect_notebook(str(TEMPLATE))
    defaults = TrainSettings()
    for f in fields(TrainSettings):
        if f.name == "arm":  # the demo's target arm, whose data settings follow
            continue
        assert inferred[f.name]["default"] == repr(getattr(defaults, f.name)), f.name
        assert inferred[f.name]["inferred_type_name"] == f.type, f.name
    target = load_config().target
    assert inferred["arm"]["default"] == repr(target.name)
    for f in fields(ArmConfig):
        if f.name in inferred and f.name != "arm":
            assert inferred[f.name]["default"] == repr(getattr(target, f.name)), f.name


def test_run_all_passes_exactly_the_notebook_parameters_and_they_round_trip():
    cfg = load_config(overrides={"train": {"batch_size": 8, "lr": 1e-3}, "experiment": {"epochs": 3}})
    params = job_parameters("/exp", cfg.target, 2, cfg.epochs, cfg.checkpoint_every, cfg.train, threads=4)
    assert list(params) == PARAMETERS
    arm, settings = split_parameters(params)
    assert arm.name == cfg.target.name and arm.label_strategy == cfg.target.label_strategy
    assert settings == TrainSettings(**{k: getattr(cfg.train, k) for k in TRAIN_TABLE if k != "threads"},
                                     threads=4, arm=cfg.target.name, seed=2, epochs=3,
                                     checkpoint_every=cfg.checkpoint_every, objective=cfg.target.objective)
