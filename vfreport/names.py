"""Names that become folder names (arms, experiments, dataset splits): one safety check for all."""

from __future__ import annotations

import re

from vfreport.errors import UnsafePathError

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
