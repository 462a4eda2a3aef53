"""Names the config accepts and the experiment directory is built from: the datasets and sources an
arm can name, the one safety check for names that become folder names (arms, experiments, dataset
splits), and a run's ``arm/seed-k`` key.

A ground-level leaf, so that the config (which checks an arm's dataset and source) and the data
layer (whose source registry opens them) read the same lists without the config importing data.
"""

from __future__ import annotations

import re

from vfreport.errors import UnsafePathError

DATASETS = ("librispeech", "ami")
"""What an arm's windows are built from (``ArmConfig.dataset``): single-speaker utterances or meetings."""

SOURCES = ("synthetic", "local", "hub")
"""The names in the source registry (:mod:`vfreport.data.sources`): where an arm's rows come from
(``ArmConfig.source``). The one list: the config accepts exactly these, and the registry refuses an
opener under any other name."""

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is safe as one path component, else raise UnsafePathError.

    Arm and experiment names become folder names: no separators, no ``..``, no absolute paths.
    """
    if not isinstance(name, str) or not SAFE_NAME.match(name) or ".." in name:
        raise UnsafePathError(
            f"invalid {what} {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit (no '/', no '..')"
        )
    return name


def run_key(arm: str, seed: int) -> str:
    """``"<arm>/seed-<k>"``: a run's folder under the experiment directory, and its name in manifests,
    progress lines and reports."""
    return f"{arm}/seed-{int(seed)}"
