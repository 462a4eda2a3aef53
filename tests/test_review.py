"""The review notebook (papermill) and the self-contained HTML report (nbconvert)."""

from __future__ import annotations

import base64
import re

import nbformat
import pytest
from _expdir import ami_history, librispeech_history, make_experiment
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from vfreport.analysis.results import analyze_experiment
from vfreport.errors import ExperimentError
from vfreport.pipeline import write_results
from vfreport.report.markdown import SUMMARY_ROWS, hypotheses_table, summary_table
from vfreport.report.review import (
    SECTIONS,
    TEMPLATE,
    execute_review,
    export_html,
    external_references,
    figure_paths,
    hypotheses_frame,
    load_results,
    render_html,
    runs_frame,
    section,
    summary_frame,
)
from vfreport.report.write import write_report

EVIL = "<script>document.title='pwned'</script>"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    hist = {("librispeech", s): librispeech_history() for s in (0, 1)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1)}
    exp = make_experiment(tmp, hist, overrides={"arms": {"librispeech": {"display_name": EVIL}}})
    results = analyze_experiment(exp, n_resamples=200)
    write_results(exp, results)
    return exp, results


def test_frames_match_the_markdown_tables(experiment):
    _, results = experiment
    df = summary_frame(results)
    header, rows = summary_table(results)
    assert list(df.index) == list(SUMMARY_ROWS)
    assert list(df.columns) == [EVIL, "AMI-like (annotated, synthetic)", "Δ Improvement"]
    assert df.loc[SUMMARY_ROWS[0]].tolist() == rows[0][1:]
    hyp = hypotheses_frame(results)
    assert list(hyp.columns) == ["H1", "H2", "H3"]
    assert hyp.loc["Verdict"].tolist() == [r[-1] for r in hypotheses_table(results)[1]]
    runs = runs_frame(results)
    assert len(runs) == len(results["runs"]) and runs.columns[0] == "Arm"
    assert "&lt;script&gt;" in section(results, "verdict") and "<script>" not in section(results, "verdict")
    with pytest.raises(KeyError, match="unknown section"):
        section(results, "nope")


def test_external_references():
    html = """<html><head><script src="https://cdn.example/x.js"></script>
    <link rel="stylesheet" href="//cdn.example/a.css"><style>@import url("https://f.example/f.css");
    .a { background: url(data:image/png;base64,AAAA) }</style></head>
    <body><img src="figures/a.png"><img src="data:image/png;base64,iVBOR"><a href="#h1">h1</a>
    <p>&lt;img src="https://shown.as/text.png"&gt;</p></body></html>"""
    assert external_references(html) == ["https://cdn.example/x.js", "//cdn.example/a.css", "figures/a.png",
                                          "https://f.example/f.css"]
    assert external_references('<img src="data:image/png;base64,AA"><a href="#x">x</a>') == []


def _tiny_png() -> bytes:
    from vfreport.report.figures import new_figure, png_bytes

    fig = new_figure(1, 1)
    fig.subplots().plot([0, 1], [0, 1])
    return png_bytes(fig)


def test_render_html_hides_inputs_embeds_images_and_loads_nothing():
    png = _tiny_png()
    cell = new_code_cell("SECRET_SOURCE_TEXT = 1", outputs=[
        new_output("display_data", data={"image/png": base64.b64encode(png).decode()}),
        new_output("display_data", data={"text/markdown": "**bold** &lt;script&gt;x&lt;/script&gt;"}),
    ])
    nb = new_notebook(cells=[new_markdown_cell("## A heading"), cell])
    html = render_html(nb, title="t <i>x</i>")
    assert "SECRET_SOURCE_TEXT" not in html
    assert external_references(html) == []
    assert "<title>t &lt;i&gt;x&lt;/i&gt;</title>" in html
    srcs = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', html)
    assert len(srcs) == 1 and base64.b64decode(srcs[0]) == png
    assert "<strong>bold</strong>" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" not in html


def test_review_notebook_executes_and_html_is_self_contained(experiment):
    exp, results = experiment
    paths = write_report(exp, results, html=True)
    nb = nbformat.read(paths["review.ipynb"], as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert nb.cells[1].metadata.get("tags") == ["injected-parameters"]
    assert str(exp.resolve()) in nb.cells[1].source

    html = paths["report.html"].read_text()
    assert external_references(html) == []
    assert "def " not in html and "review.section(" not in html  # inputs hidden
    assert re.search(r"<table[^>]*>", html)
    for name in SUMMARY_ROWS:
        assert re.search(rf"<th>{re.escape(name)}</th>", html), name
    assert "Verdict:" in html and results["scenario"]["title"] in html
    for key in ("H1", "H2", "H3"):
        assert f"<th>{key}</th>" in html
    imgs = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', html)
    assert len(imgs) == len(figure_paths(exp)) == 3
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in imgs)
    assert EVIL not in html and "&lt;script&gt;document.title=" in html
    assert list(exp.glob(".review*")) == []


def test_failing_review_notebook_is_kept_and_reported(experiment, tmp_path):
    exp, _ = experiment
    tpl = new_notebook(cells=[new_code_cell('experiment_dir = ""'), new_code_cell("raise ValueError('boom')")])
    tpl.cells[0].metadata["tags"] = ["parameters"]
    tpl.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(tpl, tmp_path / "bad.ipynb")
    with pytest.raises(ExperimentError, match=r"review notebook failed in cell .*ValueError: boom"):
        execute_review(exp, template=tmp_path / "bad.ipynb")
    kept = nbformat.read(exp / "review.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))


def test_missing_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ExperimentError, match="results.json: missing"):
        load_results(tmp_path)
    with pytest.raises(ExperimentError, match="review.ipynb: missing"):
        export_html(tmp_path)
    with pytest.raises(ExperimentError, match="does not exist"):
        execute_review(tmp_path / "nope")


def test_template_is_thin_and_has_a_parameters_cell():
    nb = nbformat.read(TEMPLATE, as_version=4)
    nbformat.validate(nb)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and 'experiment_dir = ""' in params[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(len(c.source.splitlines()) <= 15 for c in code)
    assert not any("def " in c.source or "class " in c.source for c in code)  # logic lives in vfreport
    assert all(not c.get("outputs") for c in code)


def test_review_template_shows_every_section():
    """Every section of the results document that the review module knows is displayed by the template
    (the HTML report is the executed template: a section left out would be missing from it)."""
    import json

    cells = json.loads(TEMPLATE.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    shown = set(re.findall(r'review\.section\(results, "([a-z_]+)"\)', code))
    assert shown == set(SECTIONS)
    assert {"yardstick", "sequential"} <= shown
