"""Experiment figures: histories in one DataFrame, PNGs that exist, decode and have a sensible size."""

from __future__ import annotations

import copy
import struct

import pandas as pd
import pytest
from _expdir import ami_history, librispeech_history, make_experiment, make_history

from vfreport.analysis.results import analyze_experiment
from vfreport.report.figures import (
    FIGURE_NAMES,
    best_val_acc_figure,
    learning_curves_figure,
    load_histories,
    make_figures,
    plot_label,
    png_bytes,
    variability_figure,
)
from vfreport.report.yardstick import FIGURE_NAME as DER_FIGURE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; asserts the signature and chunk type."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figs")
    hist = {("librispeech", s): librispeech_history() for s in (0, 1)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1, 2)}
    hist[("ami", 3)] = make_history([0.3, 0.2])  # a failed run: drawn nowhere
    exp = make_experiment(tmp, hist, states={("ami", 3): "failed"})
    return exp, analyze_experiment(exp, n_resamples=200)


def test_load_histories_is_one_long_frame(experiment):
    exp, _ = experiment
    df = load_histories(exp)
    assert list(df.columns[:6]) == ["arm", "display_name", "role", "seed", "state", "epoch"]
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr"} <= set(df.columns)
    assert len(df) == 2 * 12 + 3 * 12 + 2
    assert df["arm"].iloc[0] == "librispeech"  # baseline first
    assert df["arm"].tolist() == sorted(df["arm"].tolist(), key=lambda a: a != "librispeech")
    libri = df[(df["arm"] == "librispeech") & (df["seed"] == 0)]
    assert libri["epoch"].tolist() == list(range(1, 13))
    assert libri["val_acc"].max() == pytest.approx(0.615)
    assert set(df["display_name"]) == {"LibriSpeech-like (Pseudo, synthetic)", "AMI-like (annotated, synthetic)"}
    assert df.loc[df["seed"] == 3, "state"].unique().tolist() == ["failed"]


def test_load_histories_of_an_experiment_without_histories(tmp_path):
    exp = make_experiment(tmp_path, {("librispeech", 0): None, ("ami", 0): None},
                          states={("librispeech", 0): "pending", ("ami", 0): "pending"})
    df = load_histories(exp)
    assert df.empty and {"arm", "display_name", "seed", "epoch"} <= set(df.columns)


def test_make_figures_writes_valid_pngs(experiment):
    exp, results = experiment
    paths = make_figures(exp, results)
    assert list(paths) == [n for n in FIGURE_NAMES if n != DER_FIGURE]  # DER needs results.json's evaluation
    for name, path in paths.items():
        assert path == exp / "figures" / f"{name}.png"
        data = path.read_bytes()
        width, height = png_size(data)
        assert 600 <= width <= 2000 and 400 <= height <= 1200, (name, width, height)
        assert len(data) > 20_000  # not an empty canvas
    assert not [p for p in (exp / "figures").iterdir() if p.suffix != ".png"]  # no temporary files left


def test_figures_differ_when_the_data_differ(experiment):
    _, results = experiment
    before = png_bytes(best_val_acc_figure(results))
    r = copy.deepcopy(results)
    r["arms"]["ami"]["best_val_acc"]["per_seed"] = [0.5, 0.55, 0.6]
    assert png_bytes(best_val_acc_figure(r)) != before
    assert png_bytes(best_val_acc_figure(copy.deepcopy(results))) == before  # deterministic


def test_figures_are_reproducible(experiment):
    exp, results = experiment
    hist = load_histories(exp)
    hist = hist[hist["state"] == "completed"]
    first = png_bytes(variability_figure(hist, results))
    assert png_bytes(variability_figure(hist, results)) == first  # jitter is seeded


def test_no_history_no_figures_and_stale_ones_removed(tmp_path):
    exp = make_experiment(tmp_path, {("librispeech", 0): None, ("ami", 0): None},
                          states={("librispeech", 0): "failed", ("ami", 0): "failed"})
    stale = exp / "figures" / "learning_curves.png"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    results = analyze_experiment(exp, n_resamples=100)
    assert make_figures(exp, results) == {}
    assert not stale.exists()


def test_odd_display_names_and_one_short_run(tmp_path):
    hist = {("librispeech", 0): make_history([0.5, 0.6]), ("ami", 0): make_history([0.6, 0.65, 0.7])}
    exp = make_experiment(tmp_path, hist, overrides={"arms": {"librispeech": {"display_name": "_cost $5 | <b>"},
                                                              "ami": {"display_name": "$x^2$ mathtext"}}})
    paths = make_figures(exp, analyze_experiment(exp, n_resamples=100))
    assert set(paths) == set(FIGURE_NAMES) - {DER_FIGURE}
    for path in paths.values():
        png_size(path.read_bytes())


def test_plot_label():
    assert plot_label("cost $5") == r"cost \$5"
    assert plot_label("_hidden") == " _hidden"
    assert plot_label("a\nb") == "a b"


def test_histories_frame_types(experiment):
    exp, _ = experiment
    df = load_histories(exp)
    assert pd.api.types.is_integer_dtype(df["seed"]) and pd.api.types.is_integer_dtype(df["epoch"])


def test_learning_curves_draw_each_arms_position_only_baseline(experiment):
    exp, results = experiment
    hist = load_histories(exp)
    r = copy.deepcopy(results)
    r["data"]["ami"]["position_baseline_val_acc"] = 0.798
    fig = learning_curves_figure(hist, r)
    val_ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in val_ax.get_lines()}
    line = lines["AMI-like (annotated, synthetic): position-only baseline"]
    assert list(line.get_ydata()) == pytest.approx([79.8, 79.8])
    # no value, no line
    assert not any("LibriSpeech-like (Pseudo, synthetic): position-only" in label for label in lines)
