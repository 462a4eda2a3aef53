"""The training notebook's parameters: name, type, default and help of each, from one definition.

Types and defaults come from the config's dataclasses: :class:`~vfreport.config.TrainSettings`
for how the run trains, :class:`~vfreport.config.ArmConfig` (the demo preset's target arm: an arm
has no default dataset) for its data. ``templates/train.ipynb``'s ``parameters`` cell is generated
from here, one annotated line per parameter (``seed: int = 0  # ...``), so that
``papermill --help-notebook`` documents every parameter; ``tests/test_notebook_params.py`` checks
that the template and this module agree. After changing a setting, regenerate the cell with::

    python -m vfreport.run.parameters templates/train.ipynb

Torch-free: the CLI and the tests read it without loading the model.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vfreport.config import ArmConfig, TrainSettings, load_config
from vfreport.errors import ConfigError

RUN = ("experiment_dir", "arm", "seed", "epochs", "checkpoint_every", "progress")
"""Which run this is (the first lines of the cell)."""
DATA = tuple(f.name for f in fields(ArmConfig) if f.name not in ("name", "display_name", "role"))
"""The arm's data settings (:class:`ArmConfig`)."""
TRAIN = tuple(f.name for f in fields(TrainSettings) if f.name not in RUN and f.name not in DATA)
"""How the run trains (:class:`TrainSettings`, less what :data:`RUN` and :data:`DATA` already name)."""
PARAMETERS = [*RUN, *DATA, *TRAIN]
"""Every parameter the training notebook accepts, in the cell's order (anything else is an error)."""

HELP = {
    "experiment_dir": "the experiment directory; the run writes to <experiment_dir>/<arm>/seed-<seed>/",
    "arm": "arm name: the run's folder and its label in the report",
    "seed": "seeds initialisation, batch order and dropout",
    "epochs": "epochs to train (a resumed run continues from last.pt up to this)",
    "checkpoint_every": "keep epoch-XXXX.pt every this many epochs (last.pt and best.pt every epoch)",
    "progress": "show progress bars while preparing data and training",
    "dataset": "dataset schema of the rows: librispeech or ami",
    "source": "where the rows come from: synthetic, local or hub",
    "path": "local source: parquet, save_to_disk folder or WAV + RTTM ({split} is replaced)",
    "hub_id": "hub source: the Hugging Face dataset id",
    "hub_config": "hub source: the dataset's configuration name",
    "revision": "hub source: the dataset revision (commit, tag or branch)",
    "train_split": "split the training windows are cut from",
    "val_split": "split the validation windows are cut from",
    "train_windows": "training windows to cut",
    "val_windows": "validation windows to cut",
    "test_split": "held-out split the best checkpoint (chosen on validation) is scored on",
    "test_windows": "test windows to cut (0: no test split; the report then reads the final-epoch val acc)",
    "label_strategy": "frame labels: round-robin, two-speaker, cluster or pairs",
    "on_bad_audio": "undecodable audio: skip (warn and count) or error",
    "data_seed": "seed of the synthetic corpus and of window sampling (fixed across run seeds)",
    "objective": "loss: fixed (labels as given), pit (permutation-invariant) or auto (per label strategy)",
    "voice_spread": "synthetic corpora: 0 gives every speaker one voice, 1 the default traits",
    "window_seconds": "window length in seconds",
    "batch_size": "windows per training batch",
    "epoch_windows": "training windows per epoch, drawn afresh each epoch from train_windows (0: all of them)",
    "lr": "peak learning rate (5 % warm-up, then cosine decay to 10 %)",
    "weight_decay": "AdamW weight decay on weight matrices",
    "device": "auto, cpu, or cuda[:N]",
    "threads": "torch threads (0: torch's default)",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    help: str

    def line(self) -> str:
        if "=" in self.help:  # papermill's parser drops a parameter whose comment holds "="
            raise ValueError(f"help of notebook parameter {self.name!r} must not contain '=': {self.help!r}")
        return f"{self.name}: {self.type} = {self.default!r}  # {self.help}"


def _types() -> dict[str, str]:
    types = {"experiment_dir": "str", "progress": "bool"}
    for cls in (ArmConfig, TrainSettings):
        for f in fields(cls):
            types.setdefault(f.name, f.type if isinstance(f.type, str) else f.type.__name__)
    return types


def _defaults() -> dict[str, Any]:
    arm = load_config(preset="demo").target
    train = TrainSettings()
    out: dict[str, Any] = {"experiment_dir": "runs/notebook", "progress": True}
    out.update({f.name: getattr(train, f.name) for f in fields(TrainSettings)})
    out.update({name: getattr(arm, name) for name in DATA})
    out["arm"] = arm.name
    return out


def notebook_parameters() -> list[Parameter]:
    """Every parameter with its type, default and help (KeyError names a parameter without help)."""
    types, defaults = _types(), _defaults()
    missing = [name for name in PARAMETERS if name not in HELP]
    if missing:
        raise KeyError(f"no help text for notebook parameter(s) {', '.join(missing)}: add them to HELP")
    return [Parameter(name, types[name], defaults[name], HELP[name]) for name in PARAMETERS]


HEADER = "# Parameters (papermill injects the runner's values below this cell). Generated from\n" \
         "# vfreport.run.parameters: python -m vfreport.run.parameters templates/train.ipynb"


def parameters_cell() -> str:
    """The source of the training notebook's ``parameters`` cell."""
    return "\n".join([HEADER, *(p.line() for p in notebook_parameters())])


def write_parameters_cell(notebook: Path | str) -> Path:
    """Replace the ``parameters`` cell of ``notebook`` with :func:`parameters_cell`."""
    import nbformat

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    cell.source = parameters_cell()
    nbformat.write(nb, path)
    return path


def job_parameters(exp_dir: Path | str, arm: ArmConfig, seed: int, epochs: int, checkpoint_every: int,
                   train: TrainSettings, threads: int) -> dict[str, Any]:
    """The notebook parameters for one run (all JSON-serialisable scalars)."""
    settings = replace(train.for_run(arm, seed, epochs, checkpoint_every), threads=int(threads))
    arm_d = asdict(arm)
    params: dict[str, Any] = {"experiment_dir": str(exp_dir), "progress": True}
    params.update(asdict(settings))
    params.update({k: arm_d[k] for k in DATA})
    return {k: params[k] for k in PARAMETERS}


def check_parameters(params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(f"unknown notebook parameter(s): {', '.join(unknown)} (accepted: {', '.join(PARAMETERS)})")


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for arg in sys.argv[1:]:
        print(write_parameters_cell(arg))
