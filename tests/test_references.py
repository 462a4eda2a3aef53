"""Docstrings and docs point at things that exist: every ``:func:``/``:class:``/``:mod:``/``:meth:``
role in the package's docstrings resolves, every ``docs/*.md`` file they name is in the repository,
and nothing in the repository points outside it (``design.md``, ``strategy.md``, ``../shared``)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vfreport"
ROLE = re.compile(r":(?:func|class|mod|meth|data|attr):`~?([A-Za-z_][\w.]*)`")
DOC_FILE = re.compile(r"\bdocs/[\w./-]+\.md")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _docstrings(path: Path) -> list[tuple[int, str, str]]:
    """(line, qualified scope, docstring) of the module, its classes and functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    doc = ast.get_docstring(tree)
    if doc:
        out.append((1, "", doc))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node)
            if doc:
                out.append((node.lineno, node.name, doc))
    return out


def _walk(obj: object, attrs: list[str]) -> bool:
    for attr in attrs:
        fields = {f.name for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(obj) else set()
        if attr in fields and not hasattr(obj, attr):
            return True  # a dataclass field without a default: no class attribute
        if not hasattr(obj, attr):
            return False
        obj = getattr(obj, attr)
    return True


def _absolute(target: str) -> bool | None:
    """Whether an importable dotted path resolves; None when no prefix of it is a module."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        return _walk(obj, parts[i:])
    return None


def _resolves(target: str, module: str) -> bool:
    """``target`` names something importable: an absolute dotted path (``vfreport.x.f``,
    ``scipy.signal.resample_poly``), or a name relative to ``module``: one of its attributes, an
    attribute of one of its classes (a method named from its class), or a sibling module's."""
    found = _absolute(target)
    if found is not None:
        return found
    mod = importlib.import_module(module)
    head, *rest = target.split(".")
    if hasattr(mod, head):
        return _walk(getattr(mod, head), rest)
    if any(isinstance(v, type) and v.__module__ == module and hasattr(v, head) for v in vars(mod).values()):
        return True
    package = module if PACKAGE.joinpath(*module.split(".")[1:], "__init__.py").exists() else module.rpartition(".")[0]
    return bool(_absolute(f"{package}.{target}"))


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_docstring_references_resolve(path):
    module = _module_name(path)
    broken = []
    for line, scope, doc in _docstrings(path):
        for target in ROLE.findall(doc):
            if not _resolves(target, module):
                broken.append(f"{path.name}:{line} {scope}: {target}")
        for doc_file in DOC_FILE.findall(doc):
            if not (ROOT / doc_file).is_file():
                broken.append(f"{path.name}:{line} {scope}: {doc_file} is missing")
    assert not broken, "\n".join(broken)


def test_nothing_points_outside_the_repository():
    texts = [*_sources(), *ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md"), *(ROOT / "templates").glob("*.ipynb"),
             *(ROOT / "tests").glob("*.py"), *(ROOT / "scripts").glob("*")]
    outside = re.compile(r"design\.md|strategy\.md|\.\./shared|VFREPORT_SHARED")
    here = Path(__file__).resolve()
    hits = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in texts if p.is_file() and p.resolve() != here
            for m in outside.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert not hits, "\n".join(hits)
