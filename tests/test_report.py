"""The results document (report.md): the strategy document's table, filled in from results.json."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
from _expdir import ami_history, make_experiment, make_history

from vfreport import format as F
from vfreport.analysis.results import analyze_experiment
from vfreport.experiment.importer import ImportItem, import_histories
from vfreport.experiment.layout import ExperimentDir
from vfreport.pipeline import write_results
from vfreport.report.markdown import NOISE_ROW, STRATEGY_ROWS, SUMMARY_ROWS, UNBIASED_ROW, md_text, render_markdown
from vfreport.report.write import write_report

HEADER = "| Metric | LibriSpeech-like (Pseudo, synthetic) | AMI-like (annotated, synthetic) | Δ Improvement |"


def noisy_history(level: float, jitter: float, seed: int, epochs: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    val = np.clip(level + rng.normal(0, jitter, epochs), 0, 1)
    return make_history(val, np.linspace(0.5, 0.75 + 0.02 * seed, epochs), np.linspace(0.69, 0.4, epochs))


@pytest.fixture(scope="module")
def three_seeds(tmp_path_factory):
    """2 arms x 3 seeds x 12 epochs, analysed (few bootstrap resamples: fast)."""
    tmp = tmp_path_factory.mktemp("three")
    hist = {("librispeech", s): noisy_history(0.55, 0.07, s) for s in range(3)}
    hist |= {("ami", s): ami_history(0.78 + 0.01 * s, seed=s) for s in range(3)}
    exp = make_experiment(tmp, hist)
    results = analyze_experiment(exp, n_resamples=500)
    write_results(exp, results)
    return exp, results


def table_rows(md: str, first_cell: str, section: str = "") -> list[list[str]]:
    """The cells of the first Markdown table (after the heading ``section``) whose header starts
    with ``| first_cell |``."""
    if section:
        md = md.split(f"\n{section}\n", 1)[1]
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_cell} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def pm(summary) -> str:
    lo, hi = summary["ci95"]
    return f"{100 * summary['mean']:.1f} % (95 % CI {100 * lo:.1f}–{100 * hi:.1f} %, n = {summary['n']})"


def test_summary_table_has_the_strategy_documents_columns_rows_and_computed_values(three_seeds):
    _, results = three_seeds
    md = render_markdown(results, {})
    assert HEADER in md.splitlines()
    rows = table_rows(md, "Metric")
    assert rows[0] == ["Metric", "LibriSpeech-like (Pseudo, synthetic)", "AMI-like (annotated, synthetic)",
                       "Δ Improvement"]
    assert rows[1] == ["---"] * 4
    assert [r[0] for r in rows[2:]] == list(SUMMARY_ROWS)
    labels = [r[0] for r in rows[2:]]
    assert [next(x for x in labels if x.startswith(name)) for name in STRATEGY_ROWS]  # every strategy row is there
    body = {r[0]: r[1:] for r in rows[2:]}
    libri, ami = results["arms"]["librispeech"], results["arms"]["ami"]
    assert body["Best Val Acc (optimistic)"][:2] == [pm(libri["best_val_acc"]), pm(ami["best_val_acc"])]
    assert body[UNBIASED_ROW][:2] == [pm(libri["unbiased_acc"]), pm(ami["unbiased_acc"])]
    assert body["Train Acc (Epoch 10)"][:2] == [pm(libri["train_acc_epoch10"]), pm(ami["train_acc_epoch10"])]
    d = results["delta"]["unbiased_acc"]
    assert body[UNBIASED_ROW][2] == (f"{100 * d['value']:+.1f} points (95 % CI {100 * d['ci95'][0]:+.1f} "
                                     f"to {100 * d['ci95'][1]:+.1f} points)")
    variance = body["Val Acc Variance (± half range, descriptive)"]
    assert variance[0].startswith(f"±{100 * libri['val_acc_half_range']['mean']:.1f} %")
    assert body[NOISE_ROW][1].startswith(f"±{100 * ami['val_acc_noise_half_range']['mean']:.1f} %")
    marks = {"high": "✅ High", "moderate": "⚠️ Moderate", "low": "❌ Low"}
    assert body["Training Stability"][:2] == [marks[libri["stability"]], marks[ami["stability"]]]
    ready = {"ready": "✅ Yes", "ready-synthetic": "⚠️ Synthetic pass", "poc": "⚠️ PoC", "data-quality": "❌ No",
             "uncertain": "⚠️ Uncertain"}
    assert body["Production Ready"][:2] == [ready[libri["production_readiness"]], ready[ami["production_readiness"]]]
    assert "[done]" not in md and "[warn]" not in md and "[no]" not in md


def test_numbers_follow_results_not_constants(three_seeds):
    _, results = three_seeds
    r = copy.deepcopy(results)
    r["arms"]["ami"]["unbiased_acc"].update(mean=0.4242, ci95=[0.4000, 0.4484], n=7)
    r["delta"]["unbiased_acc"] = {"value": -0.1234, "ci95": [-0.2, -0.05]}
    r["power"]["effects"][0]["seeds"] = 17
    r["arms"]["librispeech"]["display_name"] = "Colab run A"
    md = render_markdown(r, {})
    body = {row[0]: row[1:] for row in table_rows(md, "Metric")[2:]}
    assert body[UNBIASED_ROW][1] == "42.4 % (95 % CI 40.0–44.8 %, n = 7)"
    assert body[UNBIASED_ROW][2] == "-12.3 points (95 % CI -20.0 to -5.0 points)"
    assert "| Metric | Colab run A | AMI-like (annotated, synthetic) | Δ Improvement |" in md
    assert "| smallest worthwhile Δ (min\\_delta) | +5.0 points |" in md and "| 17 (range" in md


def test_sections_cite_hypotheses_scenario_power_and_runs(three_seeds):
    exp, results = three_seeds
    md = render_markdown(results, {"learning_curves": "figures/learning_curves.png"})
    for key, h in results["hypotheses"].items():
        assert f"### {key}: {h['name']}" in md
        assert md_text(h["reason"]) in md
    h1 = results["hypotheses"]["H1"]
    assert f"| Statistic | {h1['statistic']:.2f} |" in md
    assert f"| df | {h1['df']:.1f} |" in md
    assert f"| p-value | {F.pvalue(h1['p_value'])} |" in md and F.p_text(h1["p_value"]) in md_text(h1["reason"])
    assert md_text(results["scenario"]["title"]) in md
    assert md_text(results["scenario"]["sentence"]) in md.split("## Results Summary")[0]  # the verdict up top
    pw = results["power"]
    assert "## How many seeds?" in md and "observed power only restates the p-value" in md
    assert all(f"| {e['seeds']} (range" in md for e in pw["effects"] if e["seeds"] is not None)
    assert "![Learning curves](figures/learning_curves.png)" in md
    runs = table_rows(md, "Arm")
    assert len(runs) == 2 + 6
    first = results["runs"][0]
    assert any(row[1] == str(first["seed"]) and row[3] == str(first["best_epoch"]) for row in runs[2:])
    assert "✅ its lower end above 75.0 %: ready for production deployment" in md
    assert "## Reproducibility" in md and "```toml" in md and 'display_name = "AMI-like (annotated, synthetic)"' in md


def test_hypothesis_field_tables(three_seeds):
    _, results = three_seeds
    md = render_markdown(results, {})
    h2 = results["hypotheses"]["H2"]
    block = md.split("### H2:")[1].split("### H3:")[0]
    assert f"| Test | {md_text(h2['test'])} |" in block
    assert "| df | — |" in block  # an exact test has none
    assert f"| Effect size | {md_text(h2['effect_size']['name'])} = {h2['effect_size']['value']:.2f} |" in block
    assert f"| One-sided bound | ratio ≤ {h2['one_sided_bound']:.2f} (95 % one-sided) |" in block  # a ratio
    n = h2["n"]
    assert (f"AMI-like (annotated, synthetic): {n['ami']}, LibriSpeech-like (Pseudo, synthetic): {n['librispeech']} "
            "runs") in block
    assert "| Smallest reachable p | 0.05 (not below α: not decidable at this n) |" in block
    h1 = md.split("### H1:")[1].split("### H2:")[0]
    assert "| Bootstrap 95 % CI (secondary) |" in h1 and "unreliable below 8 runs per arm" in h1


STRATEGY_VAL = [50.2, 55.0, 42.0, 61.5, 31.5, 52.0, 45.0, 58.0, 40.0, 55.0]  # percent: best 61.5 at 4, min 31.5
STRATEGY_TRAIN = [45.1, 46.3, 47.0, 47.5, 47.8, 47.9, 48.1, 47.7, 48.2, 48.0]  # 48 % at epoch 10


def strategy_csv(path):
    pd.DataFrame({
        "epoch": range(1, 11),
        "train_loss": [0.6952, 0.6941, 0.6940, 0.6938, 0.6937, 0.6936, 0.6940, 0.6939, 0.6938, 0.6937],
        "train_acc": STRATEGY_TRAIN,
        "val_loss": [0.6931, 0.6925, 0.6940, 0.6890, 0.6950, 0.6920, 0.6935, 0.6930, 0.6945, 0.6930],
        "val_acc": STRATEGY_VAL,
        "lr": [1e-3] * 10,
        "epoch_seconds": [540.0] * 10,
    }).to_csv(path, index=False)
    return path


def test_imported_colab_history_reproduces_the_strategy_documents_librispeech_figures(tmp_path):
    notes: list[str] = []
    exp = import_histories(tmp_path / "colab", [ImportItem(strategy_csv(tmp_path / "libri.csv"), "librispeech", 0)],
                           echo=notes.append)
    assert "percent" in notes[0]
    results = analyze_experiment(exp, n_resamples=200)
    write_results(exp, results)
    run = results["runs"][0]
    assert run["best_val_acc"] == pytest.approx(0.615) and run["best_epoch"] == 4
    assert run["train_acc_epoch10"] == pytest.approx(0.48)
    assert run["val_acc_half_range"] == pytest.approx(0.15)

    paths = write_report(exp, results, html=False)
    md = paths["report.md"].read_text()
    rows = {r[0]: r[1:] for r in table_rows(md, "Metric")[2:]}
    assert rows["Best Val Acc (optimistic)"][0] == "61.5 % (n = 1)"
    assert rows[UNBIASED_ROW][0] == "55.0 % (n = 1)"  # no test split: the final epoch's val acc, said so
    assert "final-epoch val acc (no test split)" in md
    assert rows["Train Acc (Epoch 10)"][0] == "48.0 % (n = 1)"
    assert rows["Val Acc Variance (± half range, descriptive)"][0] == "±15.0 % (n = 1)"
    assert rows["Training Stability"][0] == "❌ Low"
    assert rows["Production Ready"][0] == "⚠️ Not assessable"  # one run: no interval, no readiness label
    # the AMI run has not been imported yet: the strategy document's "TBD", with the reason
    assert all(cell.startswith("n/a (no completed runs") for cell in [r[1] for r in rows.values()])
    assert rows["Best Val Acc (optimistic)"][2] == "n/a (needs both arms)"
    runs = {r[0]: r for r in table_rows(md, "Arm")[2:]}
    assert runs["LibriSpeech-like (Pseudo, synthetic)"][3:7] == ["4", "61.50 %", "55.00 %", "10"]
    # 10 x 540 s from the history's epoch_seconds
    assert runs["LibriSpeech-like (Pseudo, synthetic)"][7] == "1 h 30 min"
    assert "histories imported with vfreport import" in md
    assert md_text(tmp_path / "libri.csv") in md
    data = {r[0]: r[1:] for r in table_rows(md, "Arm", "## Data notes")[2:]}
    assert data["LibriSpeech-like (Pseudo, synthetic)"] == ["import", "round-robin", "unknown", "unknown", "unknown",
                                                           "unknown"]
    for name in ("learning_curves", "val_acc_variability", "best_val_acc"):
        assert f"](figures/{name}.png)" in md
        assert (exp / "figures" / f"{name}.png").is_file()


def test_user_strings_are_escaped(tmp_path):
    hist = {("librispeech", 0): make_history([0.5, 0.6, 0.55]), ("ami", 0): make_history([0.6, 0.7, 0.75])}
    exp = make_experiment(tmp_path, hist, overrides={"arms": {
        "librispeech": {"display_name": "<script>alert(1)</script>"},
        "ami": {"display_name": "AMI | real\nlabels *bold* [x](javascript:alert(2))"}}},
        states={("ami", 1): "failed"})
    results = analyze_experiment(exp, n_resamples=100)
    md = render_markdown(results, {})
    text, toml = md.split("```toml\n")
    assert '"<script>alert(1)</script>"' in toml and toml.rstrip().endswith("```")  # code: shown verbatim
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "javascript:alert(2))" in text and not re.search(r"(?<!\\)\]\(", text)  # no link syntax left
    assert "AMI &#124; real labels \\*bold\\*" in text
    header = table_rows(md, "Metric")[0]
    assert len(header) == 4 and header[2].startswith("AMI &#124; real labels")
    for line in md.splitlines():  # every table row keeps its number of cells
        if line.startswith("| Metric |") or line.startswith("| Best Val Acc"):
            assert len(re.split(r"(?<!\\)\|", line)) - 2 == 4


def test_failed_run_error_is_shown_in_one_table_row(tmp_path):
    hist = {("librispeech", 0): make_history([0.5] * 10), ("ami", 0): make_history([0.7] * 10),
            ("ami", 1): make_history([0.6, 0.62])}
    exp = make_experiment(tmp_path, hist, states={("ami", 1): "failed"}, status_extra={("ami", 1): {
        "error": {"type": "ValueError", "message": "bad | value\nsecond line <b>", "cell": 3}}})
    results = analyze_experiment(exp, n_resamples=100)
    md = render_markdown(results, {})
    rows = table_rows(md, "Arm")
    failed = [r for r in rows if r[2] == "failed"]
    assert len(failed) == 1 and len(failed[0]) == 9
    assert failed[0][8].startswith("ValueError: bad &#124; value second line &lt;b&gt; (cell 3)")
    assert "seed 1: failed: failed: ValueError" in md or "seed 1: failed:" in md  # data notes list it


def test_thin_data_is_reported_not_crashed(tmp_path):
    hist = {("librispeech", 0): make_history([0.5, 0.55, 0.52]), ("ami", 0): make_history([0.6, 0.7, 0.72])}
    exp = make_experiment(tmp_path, hist)
    results = analyze_experiment(exp, n_resamples=100)
    md = render_markdown(results, {})
    rows = {r[0]: r[1:] for r in table_rows(md, "Metric")[2:]}
    assert rows["Train Acc (Epoch 10)"][:2] == ["n/a (no run reached epoch 10)"] * 2
    assert rows["Best Val Acc (optimistic)"][0] == "55.0 % (n = 1)"
    assert rows["Best Val Acc (optimistic)"][2].endswith("(no CI: needs 2 runs per arm)")
    assert "not testable" in md
    assert "cannot be computed" in md  # power analysis says why


def test_onnx_block_only_when_exported(three_seeds):
    _, results = three_seeds
    assert "## ONNX export" not in render_markdown(results, {})
    r = copy.deepcopy(results)
    r["onnx"] = {"path": "model.onnx", "arm": "ami", "seed": 2, "epoch": 11, "val_acc": 0.8123, "max_abs_diff": 3.1e-6,
                 "tolerance": 1e-4, "parity_ok": True, "export_seconds": 2.5, "opset": 18,
                 "checked_shapes": [[1, 32000], [3, 48000]]}
    md = render_markdown(r, {})
    block = md.split("## ONNX export")[1]
    assert "| File | model.onnx |" in block
    assert "AMI-like (annotated, synthetic) seed 2 epoch 11 (val acc 81.23 %)" in block
    assert "✅ parity OK: max &#124;diff&#124; 3.10e-06 vs tolerance 1e-04" in block
    assert "1×32000, 3×48000" in block


def test_write_report_without_html(three_seeds):
    exp, results = three_seeds
    paths = write_report(exp, results, html=False)
    assert set(paths) == {"figure:learning_curves", "figure:val_acc_variability", "figure:best_val_acc", "report.md"}
    md = ExperimentDir(exp).report_md.read_text()
    assert md == paths["report.md"].read_text()
    assert md.startswith("# exp: LibriSpeech-like (Pseudo, synthetic) vs AMI-like (annotated, synthetic)")
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (exp / link).is_file()
    assert not list(exp.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_formatting_helpers():
    from vfreport.report.markdown import duration, mean_ci_pct, pvalue

    assert [duration(x) for x in (12.34, 59.96, 119.7, 5400, None)] == ["12.3 s", "1 min 00 s", "2 min 00 s",
                                                                          "1 h 30 min", "n/a"]
    assert pvalue is F.pvalue  # one formatter for sentences, Markdown and HTML
    assert mean_ci_pct({"mean": 0.615, "ci95": [0.573, 0.657], "n": 3}) == "61.5 % (95 % CI 57.3–65.7 %, n = 3)"
    assert mean_ci_pct({"mean": None, "n": 0}, "no run reached epoch 10") == "n/a (no run reached epoch 10)"
    assert md_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md_text("a|b\nc") == "a&#124;b c"
    assert md_text("p < 0.05 & q > 1") == "p < 0.05 & q > 1"  # nothing that could open a tag: left readable
    assert md_text("&lt;b&gt;") == "&amp;lt;b&amp;gt;"  # an entity stays text
    assert md_text("[x](http://e)") == "\\[x\\](http://e)" and md_text("[done] ok") == "[done] ok"


def test_position_baseline_is_shown_next_to_best_val_acc(three_seeds):
    _, results = three_seeds
    r = copy.deepcopy(results)
    r["data"]["ami"]["position_baseline_val_acc"] = 0.7312
    r["data"]["librispeech"]["position_baseline_val_acc"] = 0.5
    md = render_markdown(r, {})
    best = r["arms"]["ami"]["unbiased_acc"]["mean"]
    assert f"AMI-like (annotated, synthetic) {100 * best:.1f} % vs 73.1 % ({100 * (best - 0.7312):+.1f} points)" in md
    assert "frame position alone predicts 73.1 % of AMI-like (annotated, synthetic)'s validation frames" in md
    data_rows = {row[0]: row[1:] for row in table_rows(md, "Arm", "## Data notes")[2:]}
    assert data_rows["AMI-like (annotated, synthetic)"][-1] == "73.1 %"


def test_rendered_html_shows_no_escape_backslashes(three_seeds):
    """Every string is escaped once: report.md rendered to HTML (nbconvert's Markdown renderer, as
    the HTML report uses) shows no literal backslash before an underscore, in prose or in tables."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    _, results = three_seeds
    results = copy.deepcopy(results)
    for arm, name in (("librispeech", "libri_pseudo"), ("ami", "ami_real")):
        results["arms"][arm]["display_name"] = name
        results["arms"][arm]["lift"] = {"mean": 0.05, "ci95": [0.01, 0.09], "n": 3, "min_lift": 0.05,
                                        "source": "test_acc − audio_free_baseline_test_acc"}
    results["evaluation"] = {"available": True, "meetings": [], "summary": {}, "split": "test", "origin": "ami_test"}
    md = render_markdown(results, {})
    html = markdown2html_mistune(md)
    assert "test_acc − audio_free_baseline_test_acc" in html and "ami_real" in html
    assert not re.search(r"\\_", html), re.findall(r".{30}\\_.{10}", html)[:3]


def test_the_yardstick_method_says_how_the_recorded_pipeline_clustered() -> None:
    """The method paragraph is written from results.json's evaluation.pipeline, not a fixed text:
    the encoder with its threshold, the features with their count, or that nothing was recorded."""
    from vfreport.report.yardstick import pipeline_words

    encoder = pipeline_words({"embedding": "encoder", "threshold": 0.35, "num_speakers": None, "min_cluster_size": 3})
    assert "GE2E" in encoder and "threshold 0.35" in encoder and "at least 3 local speakers" in encoder
    told = pipeline_words({"embedding": "encoder", "threshold": 0.4, "num_speakers": 3, "min_cluster_size": 3})
    assert "into 3 speakers (given)" in told and "threshold" not in told
    features = pipeline_words({"embedding": "features", "threshold": 0.4, "num_speakers": None})
    assert "log-mel" in features and "into 2 speakers" in features and "GE2E" not in features
    assert "not recorded" in pipeline_words(None)
