#!/usr/bin/env python3
"""Behaviour-unchanged check: do two experiment directories hold the same results.json and report.md?

    python scripts/same-results.py DIR_BEFORE DIR_AFTER

Compares results.json recursively, leaving out what a re-run legitimately changes: the time it was
generated and measured durations (keys named ``generated`` or ending in ``seconds``/``_s``, except
the configured ``window_seconds`` and the meetings' ``seconds``/``speech_seconds``, which are data),
and report.md line by line with the same durations masked; each directory's own path reads <dir>.
Floats are compared exactly: a refactor must not change a number. Prints "same", or each difference and exits 1.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DATA_KEYS = {"window_seconds", "seconds", "speech_seconds"}
TIMING = re.compile(r"(^generated$|_seconds$|_s$|^timings?$|^wall|^elapsed)")
MASK = re.compile(r"\d+(\.\d+)?\s*(s|ms|min)\b|\d{4}-\d\d-\d\dT[\d:+.]+")


def _timing(key: str, parent: str) -> bool:
    if key in DATA_KEYS:
        return key == "seconds" and parent == "runs"  # a run's training time, not data
    return bool(TIMING.search(key))


def diff(a: Any, b: Any, path: str = "", parent: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if _timing(k, parent):
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'after' if k in b else 'before'}")
                continue
            out += diff(a[k], b[k], f"{path}/{k}", k)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items before, {len(b)} after"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]", parent)]
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]


def _text(d: Path, name: str) -> str:
    """The file's text with its own directory's path written as <dir> (the copy lives elsewhere)."""
    return (d / name).read_text().replace(str(d.resolve()), "<dir>").replace(str(d), "<dir>")


def report_diff(a: Path, b: Path) -> list[str]:
    la = [MASK.sub("<t>", x) for x in _text(a, "report.md").splitlines()]
    lb = [MASK.sub("<t>", x) for x in _text(b, "report.md").splitlines()]
    if la == lb:
        return []
    import difflib

    return ["report.md: " + d for d in difflib.unified_diff(la, lb, "before", "after", n=0, lineterm="")]


def main(before: str, after: str) -> int:
    a, b = Path(before), Path(after)
    problems = diff(json.loads(_text(a, "results.json")), json.loads(_text(b, "results.json")))
    problems += report_diff(a, b)
    if problems:
        print("\n".join(problems))
        return 1
    print("same")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
