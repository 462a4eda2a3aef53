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

The drill-down (docs/review.md) is drawn by :func:`primary_comparison`, :func:`meeting_table_view`,
:func:`differences_view`, :func:`show_drilldown` (the informative cases, rendered statically with
embedded audio: what report.html carries) and :func:`show_explorer` (ipywidgets controls with a
live kernel), all on one :class:`vfreport.report.drilldown.Review`. ``export_html`` drops widget
outputs (they need a kernel) and fails when the page is over :data:`HTML_BUDGET_BYTES`.
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

import numpy as np
import pandas as pd

from vfreport import format as F
from vfreport.errors import ExperimentError
from vfreport.experiment.layout import ExperimentDir, atomic_write_text
from vfreport.experiment.records import Experiment
from vfreport.experiment.results_schema import Results, read_results
from vfreport.report import markdown as md
from vfreport.report.drilldown import MAX_CLIP_SECONDS, Case, Clip, Review, clock
from vfreport.report.figures import FIGURE_NAMES, png_bytes
from vfreport.report.listen import EMBED_RATE, player, wav_bytes
from vfreport.report.timeline import run_curves_figure, timeline_figure
from vfreport.run.notebooks import execute_notebook, kernel_name, template_path

TEMPLATE = template_path("review.ipynb")
REVIEW_TIMEOUT_S = 600
HTML_BUDGET_BYTES = 8_000_000
"""report.html may not be larger (the demo's is about 2 MB, most of it the drill-down's audio)."""
N_CONFUSIONS = 3
N_MISSED = 1
"""Clips per case: the longest confusions and the longest missed-speech regions."""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
LIVE_NOTEBOOK = "review-live.ipynb"
"""The copy ``vfreport review DIR --open`` opens: parameters injected, not executed, controls on."""
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


def load_results(exp_dir: Path | str) -> Results:
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
# the drill-down (docs/review.md)
# ---------------------------------------------------------------------------------------------


def open_review(experiment: Experiment | Path | str, results: Mapping[str, Any] | None = None) -> Review:
    """The review API on the loaded ``experiment`` or its directory (:class:`vfreport.report.drilldown.Review`)."""
    return Review(experiment, results)


def primary_comparison(results: Mapping[str, Any]) -> str:
    """The primary comparison as Markdown: results.json's ``primary`` block when there is one (its
    sentence, estimate and interval), else the held-out DER hypothesis and gate."""
    out = ["## Primary comparison"]
    primary = results.get("primary")
    if isinstance(primary, Mapping) and primary:
        head = primary.get("sentence") or primary.get("title") or primary.get("name")
        if head:
            out.append(md.md_text(head))
        est, ci = primary.get("estimate"), primary.get("ci95")
        if F.ok(est):
            out.append(f"Estimate {F.points(est)}" + (f", {F.ci_points(ci)}" if F.ci_ok(ci) else "")
                       + (f", {F.p_text(primary.get('p_value'))}" if F.ok(primary.get("p_value")) else "") + ".")
        if primary.get("verdict"):
            out.append(f"**Verdict: {md.md_text(primary['verdict'])}.**")
        return "\n\n".join(out)
    ev = results.get("evaluation")
    ev = ev if isinstance(ev, Mapping) else {}
    if not ev.get("available"):
        out.append("The held-out DER comparison is not available: "
                   f"{md.md_text(ev.get('reason') or 'the evaluation was not run')}.")
    else:
        h, g = ev.get("hypothesis") or {}, ev.get("gate") or {}
        if h:
            out.append(f"**{md.md_text(h.get('name', 'DER hypothesis'))}: {md.md_text(h.get('verdict', 'n/a'))}.** "
                       f"{md.md_text(h.get('reason', ''))}")
        if g.get("sentence"):
            out.append(md.md_text(g["sentence"]) + ".")
    out.append("The tables and the drill-down below show which meetings and runs these numbers come from.")
    return "\n\n".join(out)


def meeting_table_view(review: Review) -> Any:
    """The per-meeting DER table (percent), worst target meeting first, coloured by DER (white 0 %,
    dark red at the highest DER shown), as a pandas Styler; a Markdown sentence when there is none."""
    from IPython.display import Markdown

    if not review.available:
        return Markdown(f"No per-meeting table: the held-out evaluation is not available "
                        f"({md.md_text(review.reason)}).")
    df = 100 * review.meeting_summary()
    if df.empty:
        return Markdown("No per-meeting table: no run was scored on the held-out meetings.")
    top = float(np.nanmax(df.to_numpy(dtype=float))) if df.size else 100.0
    return (df.style.format("{:.1f}", na_rep="—")
            .background_gradient(cmap="Reds", vmin=0.0, vmax=max(top, 1.0), axis=None)
            .set_caption("DER (%) per held-out meeting: each arm's mean over its runs with the range (min, max) "
                         "over runs, and the model-free baselines; the worst meeting of the target first."))


def differences_view(review: Review) -> Any:
    """Per meeting: the target's DER minus the baseline arm's and minus each model-free baseline's
    (points; negative = the target is better), coloured blue (better) to red (worse)."""
    from IPython.display import Markdown

    if not review.available:
        return Markdown(f"No paired differences: the held-out evaluation is not available "
                        f"({md.md_text(review.reason)}).")
    evaluated = [a for a in review.arms() if review.runs(a)]
    target = review.target_arm()
    if target is None:
        return Markdown("No paired differences: no arm has an evaluated run.")
    others = [a for a in evaluated if a != target] + list(review.baseline_table()["arm"].unique())
    if not others:
        return Markdown("No paired differences: there is nothing to compare the target with.")
    cols = {}
    for other in others:
        label = review.display_name(other) if other in evaluated else f"{other} (model-free)"
        cols[f"{review.display_name(target)} − {label}"] = 100 * review.paired_differences(target, other)["difference"]
    df = pd.DataFrame(cols).reindex(review.paired_differences(target, others[0]).index)
    span = float(np.nanmax(np.abs(df.to_numpy(dtype=float)))) if df.size else 1.0
    return (df.style.format("{:+.1f}", na_rep="—")
            .background_gradient(cmap="RdBu_r", vmin=-max(span, 1.0), vmax=max(span, 1.0), axis=None)
            .set_caption("Paired per-meeting differences in DER (points; negative: the target is better there). "
                         "Arms: mean over runs; meetings are the pairing unit. Largest first."))


def _png(fig: Any) -> Any:
    from IPython.display import Image


    return Image(data=png_bytes(fig))


def _case_sentence(review: Review, case: Case) -> str:
    rows = review.meeting_table()
    row = rows[(rows["arm"] == case.arm) & (rows["run"] == case.run) & (rows["meeting"] == case.uri)]
    errors = review.errors(case.arm, case.run, case.uri)
    mapping = ", ".join(f"{md.md_text(h)} → {md.md_text(r)}" for h, r in sorted(errors.mapping.items())) or "none"
    if row.empty:
        return f"Model labels mapped to reference speakers: {mapping}."
    r = row.iloc[0]
    return (f"DER {F.pct(r['der'])} (confusion {F.pct(r['confusion'])}, missed {F.pct(r['missed_detection'])}, "
            f"false alarm {F.pct(r['false_alarm'])}) on {r['speech_seconds']:.1f} s of reference speech. "
            f"Model labels mapped to reference speakers (pyannote's optimal mapping): {mapping}.")


def _regions_view(review: Review, case: Case, n: int = 8) -> Any:
    """The ``n`` longest error regions as a small table (no index)."""
    every = review.regions(case.arm, case.run, case.uri)
    df = every.head(n)
    out = pd.DataFrame({"kind": df["kind"], "at": [clock(x) for x in df["start"]], "seconds": df["seconds"],
                        "reference": df["reference"].fillna("—"), "model": df["model"].fillna("—"),
                        "model mapped to": df["mapped_to"].fillna("—")})
    return (out.style.format({"seconds": "{:.2f}"}).hide(axis="index")
            .set_caption(f"The {len(out)} longest error regions (of {len(every)})"))


def show_case(review: Review, case: Case, clips: list[Clip] | None = None, display: Any = None) -> int:
    """Display one (arm, run, meeting): heading, DER sentence, timeline, longest error regions and
    the audio clips (captioned). Returns the number of clips shown."""
    from IPython.display import Markdown

    if display is None:
        from IPython.display import display
    display(Markdown(f"### {md.md_text(review.display_name(case.arm))} · seed {md.md_text(case.run)} · "
                     f"{md.md_text(case.uri)}\n\n*{md.md_text(case.why)}.* {_case_sentence(review, case)}"))
    errors = review.errors(case.arm, case.run, case.uri)
    display(_png(timeline_figure(errors, f"{review.display_name(case.arm)}, seed {case.run}, {case.uri}: "
                                 "reference, model, errors")))
    empty = review.no_errors_sentence(case.arm, case.run, case.uri)
    if empty:
        display(Markdown(empty))
        return 0
    display(_regions_view(review, case))
    clips = review.clips(case.arm, case.run, case.uri, N_CONFUSIONS, N_MISSED) if clips is None else clips
    if not clips:
        display(Markdown("No confusion or missed-speech region is long enough to listen to (≥ 0.2 s)."))
    for clip in clips:
        display(Markdown(f"**Listen**: {md.md_text(clip.caption)}"))
        display(player(clip))
    return len(clips)


def show_drilldown(review: Review, histories: pd.DataFrame | None = None, display: Any = None) -> int:
    """The static drill-down: per arm (the target first), its runs' learning curves (median run highlighted), then the
    worst and the median meeting of its median run with timelines and audio clips. Arms without an
    evaluated run and an unavailable evaluation get a sentence. Returns the number of clips embedded."""
    from IPython.display import Markdown

    if display is None:
        from IPython.display import display
    if not review.available:
        display(Markdown(f"No drill-down: the held-out evaluation is not available ({md.md_text(review.reason)})."))
        return 0
    cases = review.informative_cases()
    planned = [(case, review.clips(case.arm, case.run, case.uri, N_CONFUSIONS, N_MISSED)) for case in cases]
    n_clips = sum(len(c) for _, c in planned)
    kb = sum(wav_bytes(player(clip)) for _, clips in planned for clip in clips) / 1000
    display(Markdown(
        f"This drill-down embeds **{n_clips} audio clip{'s' if n_clips != 1 else ''}** ({kb:.0f} kB of audio): per "
        f"arm, the worst and the median meeting of its median run (by corpus DER), each with its "
        f"{N_CONFUSIONS} longest confusions and its longest missed-speech region, at most "
        f"{MAX_CLIP_SECONDS:.0f} s each, {EMBED_RATE // 1000} kHz 16-bit WAV, peak-normalised. Timelines: reference "
        "speakers, the model's labels (coloured as the reference speaker each is mapped to) and the errors of "
        "pyannote.metrics (confusion red, missed speech orange, false alarm purple)."))
    target = review.target_arm()
    for arm in sorted(review.arms(), key=lambda a: a != target):  # the target (the verdict's subject) first
        missing = review.no_evaluation_sentence(arm)
        if missing:
            display(Markdown(f"#### {md.md_text(review.display_name(arm))}\n\n{missing}"))
            continue
        median = review.median_run(arm)
        display(Markdown(f"#### {md.md_text(review.display_name(arm))}: runs (seed {md.md_text(median)} is the "
                         f"median run by held-out DER, {F.pct(review.run_der(arm).get(median))})"))
        if histories is not None:
            display(_png(run_curves_figure(histories, arm, median, f"{review.display_name(arm)}: val acc per run")))
        for case, clips in planned:
            if case.arm == arm:
                show_case(review, case, clips, display)
    return n_clips


def show_explorer(review: Review, histories: pd.DataFrame | None = None, interactive: bool = True) -> Any:
    """With ipywidgets (the ``jupyter`` extra) and a live kernel: arm / run / meeting controls that
    redraw the run curves, timeline, error regions and clips. Headless (``interactive`` False) or
    without ipywidgets: a sentence saying how to get them. Returns the widget (or None)."""
    from IPython.display import Markdown, display

    if not interactive:
        display(Markdown("This copy ran headless, so it draws no controls; the informative cases are shown above. "
                         "For controls (arm, seed, meeting): `vfreport review DIR --open`, or run "
                         "`review.show_explorer(rv, histories)` in Jupyter."))
        return None
    try:
        import ipywidgets as W
    except ImportError:
        display(Markdown("Interactive controls need ipywidgets: `pip install 'vfreport[jupyter]'`, then run this "
                         "notebook in Jupyter (`vfreport review DIR --open`). The informative cases are shown above."))
        return None
    arms = [a for a in review.arms() if review.runs(a)]
    if not arms:
        display(Markdown("Nothing to explore: no arm has an evaluated run."))
        return None
    target = review.target_arm() or arms[-1]
    arm_w = W.Dropdown(options=[(review.display_name(a), a) for a in arms], value=target, description="arm")
    run_w = W.Dropdown(options=review.runs(target), value=review.median_run(target), description="seed")
    meet_w = W.Dropdown(options=review.meetings(), description="meeting")
    out = W.Output()

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            from vfreport.report.timeline import run_curves_figure

            if histories is not None:
                display(_png(run_curves_figure(histories, arm_w.value, run_w.value,
                                               f"{review.display_name(arm_w.value)}: val acc per run")))
            show_case(review, Case(arm_w.value, str(run_w.value), meet_w.value, "chosen with the controls"))

    def arm_changed(change: Any) -> None:
        run_w.unobserve(redraw, names="value")
        run_w.options = review.runs(change["new"])
        run_w.value = review.median_run(change["new"])
        run_w.observe(redraw, names="value")
        redraw()

    arm_w.observe(arm_changed, names="value")
    run_w.observe(redraw, names="value")
    meet_w.observe(redraw, names="value")
    box = W.VBox([W.HBox([arm_w, run_w, meet_w]), out])
    display(box)
    redraw()
    return box


# ---------------------------------------------------------------------------------------------
# execution and export
# ---------------------------------------------------------------------------------------------


def execute_review(exp_dir: Path | str, template: Path | str | None = None,
                   timeout_s: int = REVIEW_TIMEOUT_S) -> Path:
    """Run the review notebook for ``exp_dir`` with papermill into ``DIR/review.ipynb``.

    The kernel is this interpreter's ipykernel (kernel "python3", or ``$VFREPORT_KERNEL``), the
    working directory is DIR. It runs headless (``interactive = False``): no ipywidgets are
    created, because nbclient can block on widget messages (jupyter/nbclient#312);
    :func:`prepare_live_notebook` makes the copy with controls. The notebook is executed into a
    temporary file and renamed into place; if a cell fails, the executed notebook (with the error)
    is kept as ``review.ipynb`` and ExperimentError names the cell.
    """
    from papermill.exceptions import PapermillExecutionError

    exp = ExperimentDir(Path(exp_dir).resolve())
    if not exp.root.is_dir():
        raise ExperimentError(f"experiment directory {str(exp.root)!r} does not exist")
    load_results(exp.root)  # a clear error before a kernel starts
    template = Path(template) if template else TEMPLATE
    if not template.exists():
        raise ExperimentError(f"review notebook template not found: {template}")
    tmp = exp.root / ".review.tmp.ipynb"
    try:
        execute_notebook(template, tmp, {"experiment_dir": str(exp.root), "interactive": False}, cwd=exp.root,
                         timeout_s=timeout_s)
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
    notebook = without_widgets(notebook)
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook)
    return body


def without_widgets(notebook: Any) -> Any:
    """A copy of an executed notebook without ipywidgets outputs and widget state: a widget needs a
    live kernel, so a static page shows nothing useful for it (the static drill-down stands in)."""
    import copy

    nb = copy.deepcopy(notebook)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if WIDGET_MIME not in (o.get("data") or {})]
    return nb


def export_html(exp_dir: Path | str, budget_bytes: int = HTML_BUDGET_BYTES, name: str | None = None) -> Path:
    """``DIR/review.ipynb`` -> ``DIR/report.html`` (atomic), self-contained, titled after the
    experiment's ``name`` (default: the one in DIR/results.json).

    Raises ExperimentError if the review notebook is missing, if the page would still load
    anything from the network, or if it is larger than ``budget_bytes``.
    """
    import nbformat

    exp = ExperimentDir(exp_dir)
    if not exp.review.exists():
        raise ExperimentError(f"{exp.review}: missing; run `vfreport review {exp.root}` first")
    nb = nbformat.read(exp.review, as_version=4)
    if name is None and exp.results.exists():
        try:
            name = str(load_results(exp.root).get("experiment", {}).get("name") or "")
        except ExperimentError:
            pass
    name = name or "experiment"
    html = render_html(nb, title=f"vfreport: {name}")
    external = external_references(html)
    if external:
        raise ExperimentError(f"{exp.report_html}: the HTML is not self-contained, it references {external[:3]}")
    size = len(html.encode("utf-8"))
    if size > budget_bytes:
        raise ExperimentError(f"{exp.report_html}: {size / 1e6:.1f} MB is over the {budget_bytes / 1e6:.1f} MB budget "
                              "(the drill-down's figures and clips); see docs/review.md")
    return atomic_write_text(exp.report_html, html)


def require_jupyter() -> None:
    """Raise ExperimentError, saying how to install it, when JupyterLab (the ``jupyter`` extra) is missing."""
    from importlib.util import find_spec

    if find_spec("jupyterlab") is None:
        raise ExperimentError("opening the notebook needs JupyterLab: pip install 'vfreport[jupyter]' "
                              "(JupyterLab and ipywidgets for the drill-down's controls)")


def widgets_available() -> bool:
    """Whether ipywidgets is importable (the drill-down's live controls; the ``jupyter`` extra)."""
    from importlib.util import find_spec

    return find_spec("ipywidgets") is not None


def prepare_live_notebook(exp_dir: Path | str, template: Path | str | None = None) -> Path:
    """``DIR/review-live.ipynb``: the review template with DIR and ``interactive = True`` injected
    (papermill, not executed), for Jupyter: Run All draws the drill-down's controls."""
    import papermill as pm


    exp = ExperimentDir(Path(exp_dir).resolve())
    out = exp.root / LIVE_NOTEBOOK
    pm.execute_notebook(str(Path(template or TEMPLATE).resolve()), str(out), prepare_only=True, progress_bar=False,
                        parameters={"experiment_dir": str(exp.root), "interactive": True}, kernel_name=kernel_name())
    return out


def open_in_jupyter(path: Path | str) -> None:
    """Open a notebook in JupyterLab (the optional ``jupyter`` extra); blocks until it exits."""
    require_jupyter()
    subprocess.run([sys.executable, "-m", "jupyterlab", str(path)], check=False)


__all__ = [
    "HTML_BUDGET_BYTES",
    "differences_view",
    "execute_review",
    "export_html",
    "external_references",
    "figure_paths",
    "hypotheses_frame",
    "load_results",
    "meeting_table_view",
    "open_in_jupyter",
    "open_review",
    "prepare_live_notebook",
    "require_jupyter",
    "primary_comparison",
    "render_html",
    "runs_frame",
    "section",
    "show_case",
    "show_drilldown",
    "show_explorer",
    "summary_frame",
    "widgets_available",
    "without_widgets",
]
