"""Packaging: every sub-package is listed in pyproject.toml, templates ship as package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

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
