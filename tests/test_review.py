"""The review notebook (papermill) and the self-contained HTML report (nbconvert)."""

from __future__ import annotations

import base64
import re

import nbformat
import numpy as np
import pytest
from _data import AMI_DEBUG
from _evaluated import evaluated_experiment
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


# ---------------------------------------------------------------------------------------------
# the drill-down: review API, clips, notebook, HTML (docs/review.md)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ami_evaluated(tmp_path_factory):
    """Real AMI audio (dev00, dev01): the AMI arm's two runs evaluated, the LibriSpeech arm has no
    checkpoint and so no evaluated run."""
    return evaluated_experiment(tmp_path_factory.mktemp("ami-review"), local=True, with_models=("ami",))


def _segments(rows, uri="dev00"):
    from vfreport.data.rttm import Segment

    return [Segment(uri, a, round(b - a, 3), spk) for a, b, spk in rows]


def test_error_regions_add_up_to_the_reported_components(ami_evaluated):
    """pyannote's error analysis, after the optimal mapping, gives per meeting exactly the
    confusion and missed speech that results.json reports (oracle speech: no false alarm)."""
    from vfreport.report.drilldown import CONFUSION, FALSE_ALARM, MISSED, Review

    exp, results = ami_evaluated
    rv = Review(exp)
    assert rv.available and rv.meetings() == ["dev00", "dev01"]
    assert rv.runs("ami") == ["0", "1"] and rv.runs("librispeech") == []
    table = rv.meeting_table()
    assert len(table) == 2 * 2 and set(table["arm"]) == {"ami"}
    checked = 0
    for row in table.itertuples():
        e = rv.errors(row.arm, row.run, row.meeting)
        assert e.seconds(CONFUSION) == pytest.approx(row.confusion * row.speech_seconds, abs=1e-6)
        assert e.seconds(MISSED) == pytest.approx(row.missed_detection * row.speech_seconds, abs=1e-6)
        assert e.seconds(FALSE_ALARM) == 0
        regions = rv.regions(row.arm, row.run, row.meeting)
        assert list(regions["seconds"]) == sorted(regions["seconds"], reverse=True)  # longest first
        assert (regions["end"] > regions["start"]).all()
        conf = regions[regions["kind"] == CONFUSION]
        assert (conf["reference"] != conf["mapped_to"]).all() and conf["model"].notna().all()
        assert regions[regions["kind"] == MISSED]["model"].isna().all()
        checked += 1
    assert checked == 4
    base = rv.baseline_table()
    assert set(base["arm"]) == {"one-speaker", "position"} and len(base) == 4
    ev = results["evaluation"]["baseline_der"]["one-speaker"]["dev00"]["der"]
    assert base[(base["arm"] == "one-speaker") & (base["meeting"] == "dev00")]["der"].item() == ev


def test_clip_boundaries_match_the_rttm_error_regions(ami_evaluated, tmp_path):
    """A hypothesis on dev00 with two planted confusions (3.0–9.5 s of MEE009 labelled as MEE012's
    speaker, 14.0–16.0 s of MEE012 as MEE009's): the clips are cut from the audio the data layer
    loads, at exactly those samples (the longer one capped at 4 s), and equal the WAV file's."""
    import shutil

    from vfreport.data.audio import read_audio_file
    from vfreport.data.rttm import format_rttm, parse_rttm
    from vfreport.report.drilldown import CONFUSION, MAX_CLIP_SECONDS, Review

    exp = tmp_path / "exp"
    shutil.copytree(ami_evaluated[0], exp)
    ref = parse_rttm((AMI_DEBUG / "debug.development.rttm").read_text())["dev00"]
    label = {"MEE009": "0", "MEE012": "1"}
    planted = [(3.0, 9.5, "MEE009"), (14.0, 16.0, "MEE012")]
    rows = []
    for s in ref:
        cuts = sorted({s.start, s.end, *[t for a, b, spk in planted if spk == s.speaker for t in (a, b)
                                         if s.start < t < s.end]})
        for a, b in zip(cuts, cuts[1:], strict=False):
            inside = any(spk == s.speaker and a >= pa and b <= pb for pa, pb, spk in planted)
            other = "MEE012" if s.speaker == "MEE009" else "MEE009"
            rows.append((a, b, label[other] if inside else label[s.speaker]))
    (exp / "ami" / "seed-0" / "eval" / "dev00.rttm").write_text(format_rttm(_segments(rows)))

    rv = Review(exp)
    e = rv.errors("ami", "0", "dev00")
    assert e.mapping == {"0": "MEE009", "1": "MEE012"}
    conf = [(r.start, r.end, r.reference, r.model, r.mapped_to) for r in e.regions if r.kind == CONFUSION]
    assert conf == [(3.0, 9.5, "MEE009", "1", "MEE012"), (14.0, 16.0, "MEE012", "0", "MEE009")]
    clips = rv.clips("ami", "0", "dev00", n_confusions=2, n_missed=0)
    wav = read_audio_file(AMI_DEBUG / "dev00.wav", 16_000)
    assert [(c.first_sample, c.stop_sample) for c in clips] == [(48_000, 48_000 + int(MAX_CLIP_SECONDS * 16_000)),
                                                               (224_000, 256_000)]
    for c in clips:
        np.testing.assert_array_equal(c.samples, wav[c.first_sample:c.stop_sample])
    assert clips[0].caption == ("confusion: reference: speaker MEE009; model: speaker 1 (mapped to MEE012); "
                                "first 4.0 s of 6.5 s at 00:03.0")
    assert clips[1].caption == ("confusion: reference: speaker MEE012; model: speaker 0 (mapped to MEE009); "
                                "2.0 s at 00:14.0")


def test_a_meeting_without_errors_and_an_arm_without_evaluation_say_so(ami_evaluated, tmp_path):
    import shutil

    from vfreport.data.rttm import format_rttm, parse_rttm
    from vfreport.report.drilldown import Case, Review
    from vfreport.report.review import show_case, show_drilldown

    exp = tmp_path / "exp"
    shutil.copytree(ami_evaluated[0], exp)
    ref = parse_rttm((AMI_DEBUG / "debug.development.rttm").read_text())["dev00"]
    perfect = [(s.start, s.end, {"MEE009": "0", "MEE012": "1"}[s.speaker]) for s in ref]
    (exp / "ami" / "seed-1" / "eval" / "dev00.rttm").write_text(format_rttm(_segments(perfect)))
    rv = Review(exp)
    shown: list = []
    assert show_case(rv, Case("ami", "1", "dev00", "test"), display=shown.append) == 0
    texts = [getattr(o, "data", "") for o in shown]
    assert any("No errors on dev00" in str(t) for t in texts)
    assert rv.clips("ami", "1", "dev00") == []

    shown.clear()
    n = show_drilldown(rv, None, display=shown.append)
    text = " ".join(str(getattr(o, "data", "")) for o in shown)
    assert "has no evaluated run" in text and rv.display_name("librispeech") in text
    assert f"embeds **{n} audio clip" in text and n > 0
    assert rv.no_evaluation_sentence("ami") is None
    with pytest.raises(ExperimentError, match="has no evaluated run"):
        rv.errors("librispeech", "0", "dev00")
    with pytest.raises(ExperimentError, match="no evaluated meeting"):
        rv.errors("ami", "0", "nope")


def _fake_evaluation(der):
    """results.json's evaluation entry from {arm: {run: {uri: der}}} (confusion only)."""
    uris = sorted({u for runs in der.values() for scores in runs.values() for u in scores})
    score = lambda d: {"der": d, "confusion": d, "missed_detection": 0.0, "false_alarm": 0.0,  # noqa: E731
                       "total": 50.0, "error": 50.0 * d}
    return {"available": True, "meetings": [{"uri": u, "seconds": 60.0} for u in uris],
            "der": {a: {r: {u: score(d) for u, d in s.items()} for r, s in runs.items()} for a, runs in der.items()},
            "baseline_der": {"one-speaker": {u: score(0.5) for u in uris}}}


def test_tables_differences_and_informative_cases(tmp_path):
    from vfreport.report.drilldown import Review

    der = {"ls": {"0": {"m1": 0.40, "m2": 0.30, "m3": 0.50}, "1": {"m1": 0.44, "m2": 0.36, "m3": 0.56}},
           "ami": {"0": {"m1": 0.10, "m2": 0.20, "m3": 0.30}, "1": {"m1": 0.20, "m2": 0.40, "m3": 0.30},
                   "2": {"m1": 0.15, "m2": 0.25, "m3": 0.26}},
           "none": {}}
    results = {"arms": {"ls": {"display_name": "LS"}, "ami": {"display_name": "AMI"}, "none": {}},
               "baseline": {"name": "ls"}, "target": {"name": "ami"}, "evaluation": _fake_evaluation(der)}
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "reference.rttm").write_text("")
    rv = Review(tmp_path, results)
    assert rv.arms() == ["ls", "ami", "none"] and rv.target_arm() == "ami"
    assert len(rv.meeting_table()) == 2 * 3 + 3 * 3
    diff = rv.paired_differences("ami", "ls")
    want = {"m1": 0.15 - 0.42, "m2": 0.85 / 3 - 0.33, "m3": 0.86 / 3 - 0.53}
    assert diff["difference"].to_dict() == pytest.approx(want)
    assert list(diff.index) == sorted(want, key=want.get, reverse=True)
    assert rv.paired_differences("ami", "one-speaker")["one-speaker"].tolist() == [0.5] * 3
    with pytest.raises(ExperimentError, match="neither an evaluated arm"):
        rv.paired_differences("ami", "nope")
    summary = rv.meeting_summary()
    assert list(summary.index) == ["m3", "m2", "m1"]  # worst target meeting first (mean over runs)
    assert summary.loc["m2", "AMI: max"] == 0.40 and summary.loc["m1", "one-speaker (model-free)"] == 0.5
    # corpus DER per run (equal speech per meeting): ami 0.2, 0.3, 0.22 -> median run "2"; ls: lower middle
    assert rv.run_der("ami").to_dict() == pytest.approx({"0": 0.2, "1": 0.3, "2": 0.22})
    assert rv.median_run("ami") == "2" and rv.median_run("ls") == "0" and rv.median_run("none") is None
    cases = [(c.arm, c.run, c.uri) for c in rv.informative_cases()]
    assert cases == [("ls", "0", "m3"), ("ls", "0", "m1"), ("ami", "2", "m3"), ("ami", "2", "m2")]
    assert "LS has no evaluated run" not in (rv.no_evaluation_sentence("none") or "")
    assert "none has no evaluated run" in rv.no_evaluation_sentence("none")

    gone = Review(tmp_path, {"arms": {"ami": {}}, "evaluation": {"available": False, "reason": "no model"}})
    assert not gone.available and gone.meetings() == [] and gone.meeting_table().empty
    assert gone.no_evaluation_sentence("ami") == "The held-out evaluation is not available: no model."
    assert Review(tmp_path, {"arms": {}}).reason.startswith("results.json has no held-out evaluation")


def test_clock_caption_and_merge():
    from vfreport.report.drilldown import ErrorRegion, caption, clock, merge_regions, pick_regions

    assert clock(72.43) == "01:12.4" and clock(0) == "00:00.0" and clock(3723.0) == "1:02:03.0"
    r = ErrorRegion("confusion", 72.4, 74.7, "A", "1", "B")
    assert caption(r) == "confusion: reference: speaker A; model: speaker 1 (mapped to B); 2.3 s at 01:12.4"
    missed = ErrorRegion("missed detection", 1.0, 1.5, "A", None, None)
    assert caption(missed) == "missed detection: reference: speaker A; model: no speaker (missed); 0.5 s at 00:01.0"
    label = ("confusion", "A", "B")
    assert merge_regions([(0, 1, label), (1, 2, label), (2.5, 3, label), (1, 2, ("correct", "B", "B"))]) == [
        (0, 2, label), (1, 2, ("correct", "B", "B")), (2.5, 3, label)]
    short = ErrorRegion("confusion", 0, 0.1, "A", "1", "B")
    assert pick_regions([short, missed, r], n_confusions=3, n_missed=1) == [r, missed]


def test_review_notebook_has_the_drilldown_with_audio(ami_evaluated):
    """Executed headless on real audio: no error cell, embedded audio players, timelines; the
    HTML carries them within the budget, says how many clips it embeds, and drops the widget."""
    from vfreport.report.review import HTML_BUDGET_BYTES, WIDGET_MIME

    exp, results = ami_evaluated
    paths = write_report(exp, results, html=True)
    nb = nbformat.read(paths["review.ipynb"], as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if o.output_type == "error"] == []
    audio = [o for o in outputs if "<audio" in str((o.get("data") or {}).get("text/html", ""))]
    assert audio and all("data:audio/wav;base64," in o["data"]["text/html"] for o in audio)
    assert not any(WIDGET_MIME in (o.get("data") or {}) for o in outputs)  # headless: no controls
    assert any("ran headless, so it draws no controls" in str((o.get("data") or {}).get("text/markdown", ""))
               for o in outputs)

    html = paths["report.html"].read_text()
    assert len(html.encode()) <= HTML_BUDGET_BYTES and external_references(html) == []
    n = int(re.search(r"embeds <strong>(\d+) audio clips?</strong>", html).group(1))
    players = re.findall(r'<audio[^>]*>\s*<source src="data:audio/wav;base64,([^"]+)"', html)
    assert n == len(players) == len(audio) > 0
    assert all(base64.b64decode(p)[:4] == b"RIFF" for p in players)
    assert "has no evaluated run" in html and "Primary comparison" in html
    assert WIDGET_MIME not in html
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) > len(figure_paths(exp))
    with pytest.raises(ExperimentError, match="over the 0.0 MB budget"):
        export_html(exp, budget_bytes=1000)


@pytest.mark.slow
def test_demo_shaped_report_stays_within_the_budget(tmp_path):
    """The demo's shape (synthetic AMI test split, six 60-s meetings, both arms evaluated): the
    HTML embeds at most 4 clips per case and 2 cases per arm and stays under the 8-MB budget."""
    from vfreport.report.review import HTML_BUDGET_BYTES, N_CONFUSIONS, N_MISSED

    exp, results = evaluated_experiment(tmp_path, local=False, seeds=(0,))
    assert len(results["evaluation"]["meetings"]) == 6
    html = write_report(exp, results, html=True)["report.html"].read_text()
    n = int(re.search(r"embeds <strong>(\d+) audio clips?</strong>", html).group(1))
    assert 0 < n == html.count("<audio") <= 2 * 2 * (N_CONFUSIONS + N_MISSED)
    assert len(html.encode()) <= HTML_BUDGET_BYTES


def test_review_open_without_jupyterlab_says_how_to_install_it(experiment, monkeypatch):
    """`vfreport review DIR --open` checks for JupyterLab before it runs the notebook."""
    import importlib.util

    from click.testing import CliRunner

    from vfreport.cli import cli

    exp, _ = experiment
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name, *a))
    before = (exp / "review.ipynb").stat().st_mtime_ns if (exp / "review.ipynb").exists() else None
    out = CliRunner().invoke(cli, ["review", str(exp), "--open"])
    assert out.exit_code == 2 and out.output.startswith("error: ")
    assert "pip install 'vfreport[jupyter]'" in out.output
    after = (exp / "review.ipynb").stat().st_mtime_ns if (exp / "review.ipynb").exists() else None
    assert after == before  # nothing was executed


def test_primary_comparison_reads_the_primary_block_or_the_yardstick():
    from vfreport.report.review import primary_comparison

    primary = {"sentence": "AMI <b>beats</b> LibriSpeech on held-out DER", "estimate": -0.05,
               "ci95": [-0.08, -0.02], "p_value": 0.01, "verdict": "supported"}
    text = primary_comparison({"primary": primary, "evaluation": {"available": False, "reason": "unused"}})
    assert "AMI &lt;b&gt;beats&lt;/b&gt; LibriSpeech" in text
    assert "Estimate -5.0 points, 95 % CI -8.0 to -2.0 points" in text
    assert "p = 0.010" in text and "**Verdict: supported.**" in text and "unused" not in text
    ev = {"available": True, "hypothesis": {"name": "Real labels → lower DER", "verdict": "not supported",
                                            "reason": "ΔDER = +1.0 points"},
          "gate": {"sentence": "AMI's DER does not beat the model-free baselines"}}
    text = primary_comparison({"evaluation": ev})
    assert "**Real labels → lower DER: not supported.** ΔDER = +1.0 points" in text
    assert "does not beat the model-free baselines." in text
    assert "not available: no model" in primary_comparison({"evaluation": {"available": False, "reason": "no model"}})


def test_explorer_controls_redraw(ami_evaluated, monkeypatch):
    """The ipywidgets controls: choosing a seed or a meeting redraws that case (its clips are cut)."""
    pytest.importorskip("ipywidgets")
    from vfreport.report import review as R
    from vfreport.report.drilldown import Review

    rv = Review(ami_evaluated[0])
    shown: list = []
    real_show_case = R.show_case
    monkeypatch.setattr(R, "show_case", lambda review, case, *a, **k: shown.append(case) or real_show_case(
        review, case, *a, display=lambda obj: None))
    box = R.show_explorer(rv, None)
    arm, seed, meeting = box.children[0].children
    assert arm.value == "ami" and list(seed.options) == ["0", "1"] and seed.value == rv.median_run("ami")
    meeting.value = "dev01"
    seed.value = "1" if seed.value == "0" else "0"
    assert [(c.arm, c.uri) for c in shown] == [("ami", "dev00"), ("ami", "dev01"), ("ami", "dev01")]
    assert shown[-1].run == seed.value


def test_live_notebook_has_controls_on_and_no_outputs(experiment):
    from vfreport.report.review import LIVE_NOTEBOOK, prepare_live_notebook

    exp, _ = experiment
    path = prepare_live_notebook(exp)
    assert path == exp.resolve() / LIVE_NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "interactive = True" in injected[0].source
    assert str(exp.resolve()) in injected[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
