"""The review notebook (``DIR/review.ipynb``) and the self-contained HTML report (``DIR/report.html``).

:func:`execute_review` runs ``templates/review.ipynb`` with papermill (this interpreter's
ipykernel, cwd = DIR) into ``DIR/review.ipynb``; :func:`export_html` converts it with nbconvert,
inputs hidden and images embedded, into one HTML file that needs no other file and no network:
the template's remote scripts (require.js, MathJax, Mermaid, widgets) are dropped and the result
is checked for external ``src``/``href`` references.

The notebook is thin: it calls the helpers below (:func:`load_results`, :func:`summary_frame`,
:func:`hypotheses_frame`, :func:`runs_frame`, :func:`section`, :func:`figure_paths`), which turn
results.json into DataFrames (HTML-escaped by pandas) and Markdown (escaped by
:func:`vfreport.report.markup.md_text`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from vfreport.errors import ExperimentError
from vfreport.experiment.layout import ExperimentDir, atomic_write_text
from vfreport.experiment.results_schema import read_results
from vfreport.report import markdown as md
from vfreport.report.figures import FIGURE_NAMES
from vfreport.run.notebooks import template_path

TEMPLATE = template_path("review.ipynb")
REVIEW_TIMEOUT_S = 600
_HTML_TEMPLATE_NAME = "vfreport_report.html.j2"
# the lab template, minus every script that would be fetched from a CDN
_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
  main { max-width: 1180px; margin: 0 auto; }
  .jp-RenderedHTMLCommon table { font-size: 13px; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { text-align: left !important; }
  .jp-RenderedHTMLCommon thead tr { text-align: left !important; }
  .jp-RenderedImage img { max-width: 100%; height: auto; }
</style>
{%- endblock extra_css -%}
"""
_FETCHED_ATTRS = {"src", "srcset", "poster", "data", "background"}
"""Attributes whose URL a browser fetches when it shows the page, on any element."""
_FETCHED_HREF = {"link", "script", "image", "use", "feimage"}
"""Elements whose ``href`` (or ``xlink:href``) is fetched (a stylesheet, an SVG image); an
``<a href>`` is only followed when clicked."""
_SRCSET_SPLIT = re.compile(r"(?<=\d[wxh]),\s*|,\s+")
_CSS_URL = re.compile(r"""(?:url\(\s*["']?\s*|@import\s+["']\s*)([^"')\s]+)""", re.I)


class _ReferenceFinder(HTMLParser):
    """Collects every URL-valued attribute and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            fetched = name.lower() in _FETCHED_ATTRS or (
                name.lower() in ("href", "xlink:href") and tag.lower() in _FETCHED_HREF)
            if fetched and value:
                if name.lower() == "srcset":  # "url 1x, url 2x" (a data: URL holds commas too)
                    self.urls += [c.split()[0] for c in _SRCSET_SPLIT.split(value.strip()) if c.strip()]
                else:
                    self.urls.append(value.strip())
            if name.lower() == "style" and value:
                self.styles.append(value)
        self._in_style = tag.lower() == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


# ---------------------------------------------------------------------------------------------
# helpers the notebook calls
# ---------------------------------------------------------------------------------------------


def load_results(exp_dir: Path | str) -> dict[str, Any]:
    """results.json of an experiment directory (ExperimentError if missing or invalid,
    ResultsSchemaError if an older layout: :func:`vfreport.experiment.results_schema.read_results`)."""
    return read_results(exp_dir)


def _frame(header: list[str], rows: list[list[str]], index: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=pd.Index(header))
    if index and len(header) > 1:
        df = df.set_index(header[0])
        df.index.name = None
    return df


def summary_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """The Results Summary (the strategy document's Δ table) as a DataFrame indexed by metric."""
    return _frame(*md.summary_table(results))


def hypotheses_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """H1–H3 (columns) by claim, test, statistic, df, p, Holm p, effect size, CI, n, verdict (rows)."""
    return _frame(*md.hypotheses_table(results)).T


def runs_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (arm, seed) run."""
    return _frame(*md.runs_table(results), index=False)


SECTIONS = {
    "verdict": lambda r: "\n\n".join([md.title_section(r), md.verdict_paragraph(r), md.status_line(r)]),
    "summary_notes": lambda r: md.summary_section(r).split("\n\n")[-1],
    "hypotheses": lambda r: "\n\n".join(
        f"**{md.md_text(k)} ({md.md_text(h.get('name', ''))}): {md.md_text(h.get('verdict', 'n/a'))}.** "
        f"{md.md_text(h.get('reason', ''))}" for k, h in (r.get("hypotheses") or {}).items()),
    "scenario": md.scenario_section,
    "yardstick": md.yardstick_section,
    "readiness": md.readiness_section,
    "success": md.success_section,
    "power": md.power_section,
    "sequential": md.sequential_section,
    "data": md.data_section,
    "onnx": md.onnx_section,
    "reproducibility": md.reproducibility_section,
}


def section(results: Mapping[str, Any], name: str) -> str:
    """One part of the results document as Markdown (names: :data:`SECTIONS`)."""
    if name not in SECTIONS:
        raise KeyError(f"unknown section {name!r}; choose one of {', '.join(SECTIONS)}")
    return SECTIONS[name](results)


def figure_paths(exp_dir: Path | str) -> list[Path]:
    """The report's PNG figures present in ``DIR/figures``, in report order."""
    fig_dir = ExperimentDir(exp_dir).figures
    known = [fig_dir / f"{n}.png" for n in FIGURE_NAMES if (fig_dir / f"{n}.png").exists()]
    others = sorted(p for p in fig_dir.glob("*.png") if p not in known) if fig_dir.is_dir() else []
    return known + others


# ---------------------------------------------------------------------------------------------
# execution and export
# ---------------------------------------------------------------------------------------------


def execute_review(exp_dir: Path | str, template: Path | str | None = None,
                   timeout_s: int = REVIEW_TIMEOUT_S) -> Path:
    """Run the review notebook for ``exp_dir`` with papermill into ``DIR/review.ipynb``.

    The kernel is this interpreter's ipykernel (kernel "python3", or ``$VFREPORT_KERNEL``), the
    working directory is DIR. The notebook is executed into a temporary file and renamed into
    place; if a cell fails, the executed notebook (with the error) is kept as ``review.ipynb``
    and ExperimentError names the cell.
    """
    from papermill.exceptions import PapermillExecutionError

    from vfreport.run.notebooks import execute_notebook

    exp = ExperimentDir(Path(exp_dir).resolve())
    if not exp.root.is_dir():
        raise ExperimentError(f"experiment directory {str(exp.root)!r} does not exist")
    load_results(exp.root)  # a clear error before a kernel starts
    template = Path(template) if template else TEMPLATE
    if not template.exists():
        raise ExperimentError(f"review notebook template not found: {template}")
    tmp = exp.root / ".review.tmp.ipynb"
    try:
        execute_notebook(template, tmp, {"experiment_dir": str(exp.root)}, cwd=exp.root, timeout_s=timeout_s)
    except PapermillExecutionError as e:
        if tmp.exists():
            os.replace(tmp, exp.review)
        raise ExperimentError(f"review notebook failed in cell {e.exec_count}: {e.ename}: {e.evalue} "
                              f"(see {exp.review})") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, exp.review)
    return exp.review


def external_references(html: str) -> list[str]:
    """What a browser would fetch to show ``html``, other than ``data:`` URIs and ``#fragments``
    (remote URLs and relative file paths alike): ``src`` (and ``srcset``, ``poster``, ``data``)
    of any element, ``href`` of ``<link>``/``<script>`` (and SVG images), CSS ``url(...)`` and
    ``@import``. Links (``<a href>``) and text are not fetched, so a URL shown in an error message
    is no reference. An empty list means self-contained."""
    finder = _ReferenceFinder()
    finder.feed(html)
    finder.close()
    urls = list(finder.urls)
    for css in finder.styles:
        urls += [m.group(1) for m in _CSS_URL.finditer(css)]
    return [url for url in urls if not url.lower().startswith(("data:", "#"))]


def render_html(notebook: Any, title: str = "vfreport report") -> str:
    """An executed notebook (nbformat node) as one self-contained HTML page: inputs and prompts
    hidden, images embedded as data: URIs, no script or stylesheet from another host."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({_HTML_TEMPLATE_NAME: _HTML_TEMPLATE})],
        template_file=_HTML_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        exclude_anchor_links=True,
    )
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook)
    return body


def export_html(exp_dir: Path | str) -> Path:
    """``DIR/review.ipynb`` -> ``DIR/report.html`` (atomic), self-contained.

    Raises ExperimentError if the review notebook is missing or if the page would still load
    anything from the network.
    """
    import nbformat

    exp = ExperimentDir(exp_dir)
    if not exp.review.exists():
        raise ExperimentError(f"{exp.review}: missing; run `vfreport review {exp.root}` first")
    nb = nbformat.read(exp.review, as_version=4)
    name = "experiment"
    if exp.results.exists():
        try:
            name = str(load_results(exp.root).get("experiment", {}).get("name") or name)
        except ExperimentError:
            pass
    html = render_html(nb, title=f"vfreport: {name}")
    external = external_references(html)
    if external:
        raise ExperimentError(f"{exp.report_html}: the HTML is not self-contained, it references {external[:3]}")
    return atomic_write_text(exp.report_html, html)


def open_in_jupyter(path: Path | str) -> None:
    """Open a notebook in JupyterLab (the optional ``jupyter`` extra); blocks until it exits."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError as e:
        raise ExperimentError("opening the notebook needs JupyterLab: pip install 'vfreport[jupyter]'") from e
    subprocess.run([sys.executable, "-m", "jupyterlab", str(path)], check=False)


__all__ = [
    "execute_review",
    "export_html",
    "external_references",
    "figure_paths",
    "hypotheses_frame",
    "load_results",
    "open_in_jupyter",
    "render_html",
    "runs_frame",
    "section",
    "summary_frame",
]
