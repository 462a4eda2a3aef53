"""Packaging: every sub-package is listed in pyproject.toml, templates ship as package data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

from vfreport.data.windows import DATA_ROOT, code_fingerprint
from vfreport.run.notebooks import template_path

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_lists_every_subpackage():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {p for p in find_packages(str(ROOT), include=["vfreport*"])} | {"vfreport.templates"}
    assert listed == found


def test_templates_are_found_through_the_package():
    for name in ("train.ipynb", "review.ipynb"):
        path = template_path(name)
        assert path.is_file() and path.read_bytes() == (ROOT / "templates" / name).read_bytes()


def test_data_layer_imports_no_torch():
    code = ("import sys, vfreport.data.windows, vfreport.data.sources, vfreport.data.labels, vfreport.data.synth; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_window_cache_key_follows_the_content_of_every_data_module(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(DATA_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_fingerprint(root)
    assert before == code_fingerprint(DATA_ROOT)
    nested = root / "sources" / "local.py"  # a module in a sub-package counts too
    nested.write_text(nested.read_text() + "\n# changed\n")
    changed = code_fingerprint(root)
    assert changed != before
    (root / "sources" / "extra.py").write_text("X = 1\n")  # a new module counts
    assert code_fingerprint(root) != changed


def test_version_has_one_source():
    """pyproject.toml sets the version; the package, results.json and the report read it from the
    installed metadata (a stale install would show here), and CHANGELOG.md has its section."""
    from importlib.metadata import version

    import vfreport

    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert vfreport.__version__ == version("vfreport") == declared
    assert f"## {declared}" in (root / "CHANGELOG.md").read_text()
