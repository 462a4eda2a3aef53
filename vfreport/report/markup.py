"""Markdown markup for the report: user text made inert, tables, code spans and fences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_~$])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?]|$)")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINK = re.compile(r"\]\s*[(\[:]")


def md_text(value: Any) -> str:
    r"""A user string as inert Markdown text, safe inside a table cell.

    - whitespace (newlines included) collapses to single spaces, so a table row stays one line;
    - ``|`` becomes ``&#124;``, so it cannot split a table cell;
    - HTML: if the text holds anything that could open a tag (``<`` before a letter, ``/``, ``!``,
      ``?`` or at the end), every ``<`` and ``>`` becomes ``&lt;``/``&gt;``; an ``&`` that would
      start an entity becomes ``&amp;``; so ``<script>`` is shown, never run. A lone ``p < 0.05``
      stays readable;
    - Markdown: ``\ ` * _ ~ $`` are backslash-escaped; brackets too when they could form a link or
      image (``](``, ``][``, ``]:``).
    """
    s = " ".join(str(value).split())
    s = _ENTITY.sub("&amp;", s)
    if _TAG_START.search(s):
        s = s.replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    if _LINK.search(s):
        s = s.replace("[", "\\[").replace("]", "\\]")
    return s.replace("|", "&#124;")


def cell(value: Any) -> str:
    """Format text we generated ourselves for a table cell (it may contain user strings)."""
    return md_text(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; every cell through :func:`cell`."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str) -> str:
    """An inline code span holding ``text`` verbatim (no escaping needed inside; not for tables)."""
    s = " ".join(str(text).split())
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def fence(text: str, lang: str = "") -> str:
    """A fenced code block that the content cannot close (fence longer than any backtick run)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"
