"""The common yardstick (vfreport.analysis.evaluation) and lift (vfreport.analysis.lift)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _data import AMI_DEBUG
from _evaluated import write_checkpoint
from _expdir import LIBRISPEECH_VAL, make_experiment, make_history

from vfreport.analysis import evaluation as E
from vfreport.analysis import lift as L
from vfreport.analysis import yardstick as Y
from vfreport.data.rttm import Segment
from vfreport.deploy import scoring as S
from vfreport.deploy.predict import PipelineSettings, predict_audio
from vfreport.experiment.layout import ExperimentDir

SPLIT = "debug.development"


def seg(start: float, end: float, speaker: str, uri: str = "m") -> Segment:
    return Segment(uri, start, end - start, speaker)


# ---------------------------------------------------------------------------------------------
# pure pieces
# ---------------------------------------------------------------------------------------------


def test_speech_regions_merge_and_crop() -> None:
    ref = [seg(0, 2, "A"), seg(1.5, 3, "B"), seg(5, 6, "A")]
    assert S.speech_regions(ref) == [(0, 3), (5, 6)]
    hyp = [seg(0, 4, "0"), seg(4, 10, "1")]
    cropped = S.crop_to_regions(hyp, S.speech_regions(ref))
    assert [(s.start, s.end, s.speaker) for s in cropped] == [(0, 3, "0"), (5, 6, "1")]


def test_one_speaker_baseline_der() -> None:
    """A: 0-6 s, B: 6-10 s; one label for all speech maps to A; B's 4 s are confusion: DER 0.4."""
    ref = [seg(0, 6, "A"), seg(6, 10, "B")]
    s = S.score(ref, S.one_speaker_segments(ref, "m"), [(0, 10)], "m")
    assert s["der"] == pytest.approx(0.4)
    assert s["confusion"] == pytest.approx(0.4)
    assert s["missed_detection"] == 0 and s["false_alarm"] == 0
    assert S.score(ref, [seg(0, 6, "x"), seg(6, 10, "y")], [(0, 10)], "m")["der"] == 0


def test_uem_and_collar_are_applied() -> None:
    ref = [seg(0, 6, "A"), seg(6, 10, "B")]
    hyp = [seg(0, 6.2, "x"), seg(6.2, 10, "y")]
    assert S.score(ref, hyp, [(0, 10)], "m")["der"] == pytest.approx(0.02)
    assert S.score(ref, hyp, [(0, 10)], "m", collar=0.5)["der"] == 0  # total width 0.5 covers ±0.25
    assert S.score(ref, hyp, [(0, 5)], "m")["der"] == 0  # the error lies outside the UEM


def test_position_rule_is_uniform_segmentation_then_clustering() -> None:
    """Through predict's windows (2 s, hop 1 s) and clustering, the position rule's local speakers
    are half windows: on a real meeting its speaker changes all fall on the 1-s grid, and both of
    the two labels are used."""
    from vfreport.data.audio import read_audio_file
    from vfreport.data.rttm import parse_rttm

    audio = read_audio_file(AMI_DEBUG / "dev00.wav", 16_000)
    reference = parse_rttm((AMI_DEBUG / "debug.development.rttm").read_text())["dev00"]
    meeting = S.Meeting("dev00", audio, tuple(reference), ((0.0, len(audio) / 16_000),))
    speech = S.reference_speech(meeting)
    # two speakers asked for: the point is where the changes fall, not how many speakers are found
    segments = predict_audio(S.position_predictor(window_seconds=2.0), audio, "dev00", speech=speech,
                             settings=PipelineSettings(num_speakers=2))
    assert {s.speaker for s in segments} == {"0", "1"}
    frame = 256 / 16_000
    changes = 0
    for a, b in zip(segments, segments[1:], strict=False):
        if a.speaker != b.speaker and b.start - a.end < frame / 2:  # a change inside speech
            at = (b.start * 16_000 - (400 - 256) / 2) / 256  # the frame index of the change
            assert abs(at - 62 * round(at / 62)) <= 1, (a, b)  # hop: 1 s rounded to 62 frames
            changes += 1
    assert changes >= 3


def test_summaries_see_a_real_improvement_and_its_absence() -> None:
    """Target DER 10 points below the baseline arm and both model-free baselines on every meeting:
    hypothesis supported, gate passed; identical scores: neither."""
    rng = np.random.default_rng(0)
    uris = [f"m{i}" for i in range(6)]
    base_der = rng.uniform(0.4, 0.6, len(uris))

    def table(offset: float, runs: int, noise: float) -> dict:
        return {str(r): {u: {"der": d + offset + e, "error": 100 * (d + offset + e), "total": 100.0,
                             "confusion": d + offset + e, "missed_detection": 0.0, "false_alarm": 0.0}
                         for u, d, e in zip(uris, base_der, rng.normal(0, noise, len(uris)), strict=True)}
                for r in range(runs)}

    audio_free = {"one-speaker": table(0.0, 1, 0.0)["0"], "position": table(0.01, 1, 0.0)["0"]}
    good = E.summarize_evaluation({"ami": table(-0.10, 3, 0.01), "ls": table(0.0, 3, 0.01)}, audio_free, uris,
                                  "ami", "ls", 0.05, n_resamples=2000)
    assert good["hypothesis"]["verdict"] == "supported"
    assert good["gate"]["passed"] is True
    assert good["comparisons"]["ls"]["probability_of_improvement"] > 0.9
    assert good["summary"]["ami"]["der"]["mean"] == pytest.approx(base_der.mean() - 0.10, abs=0.02)
    same = E.summarize_evaluation({"ami": table(0.0, 3, 0.01), "ls": table(0.0, 3, 0.01)}, audio_free, uris,
                                  "ami", "ls", 0.05, n_resamples=2000)
    assert same["hypothesis"]["verdict"] == "not supported"
    assert same["gate"]["passed"] is False
    assert "does not beat" in same["gate"]["sentence"]


# ---------------------------------------------------------------------------------------------
# lift
# ---------------------------------------------------------------------------------------------


def test_lift_summary_gate_and_wording() -> None:
    high = L.lift_summary([0.90, 0.92, 0.91], [0.80, 0.80, 0.80], [0, 1, 2], min_lift=0.05)
    assert high["mean"] == pytest.approx(0.11)
    assert high["ci95"][0] > 0 and high["ci_excludes_zero"] and high["above_min_lift"]
    assert L.lift_gate(high, "AMI")["passed"] is True
    low = L.lift_summary([0.70, 0.71, 0.69], [0.799, 0.799, 0.799], [0, 1, 2])
    gate = L.lift_gate(low, "AMI")
    assert gate["passed"] is False
    assert gate["sentence"].startswith("AMI is only")
    assert "9.9 points below" in gate["sentence"]
    assert L.describe(-0.096) == "9.6 points below"
    assert L.lift_gate(L.lift_summary([0.9], [None], [0]), "AMI")["passed"] is None


def test_experiment_lifts_read_each_runs_baseline(tmp_path: Path) -> None:
    hist = {("librispeech", s): make_history(LIBRISPEECH_VAL) for s in range(2)}
    hist |= {("ami", s): make_history([0.80 + 0.01 * s] * 12) for s in range(2)}
    extra = {("ami", 0): {"data": {"audio_free_baseline_val_acc": 0.70}},
             ("ami", 1): {"data": {"position_baseline_val_acc": 0.75}},
             ("librispeech", 0): {"data": {"audio_free_baseline_val_acc": 0.5}}}
    exp = make_experiment(tmp_path, hist, status_extra=extra)
    lifts = Y.experiment_lifts(exp)
    assert lifts["ami"]["per_seed"] == pytest.approx([0.10, 0.06])  # final val acc − each run's baseline
    assert lifts["ami"]["seeds"] == [0, 1]
    assert lifts["librispeech"]["per_seed"][0] == pytest.approx(LIBRISPEECH_VAL[-1] - 0.5)
    assert lifts["librispeech"]["per_seed"][1] is None and lifts["librispeech"]["n"] == 1
    assert "audio_free_baseline_val_acc" in lifts["ami"]["source"]


# ---------------------------------------------------------------------------------------------
# end to end on the real AMI excerpts: files written, re-scored independently
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("eval")
    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in range(2)}
    exp = make_experiment(tmp, hist, overrides={"arms": {"ami": {"source": "local", "path": str(AMI_DEBUG)}}})
    for arm, s in hist:
        write_checkpoint(ExperimentDir(exp).run(arm, s).best, 10 * s + len(arm))
    return exp, E.evaluate_experiment(exp, split=SPLIT, n_resamples=500)


def _read_rttm(path: Path):
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    out: dict[str, Annotation] = {}
    for i, line in enumerate(path.read_text().splitlines()):
        f = line.split()
        if not f:
            continue
        ann = out.setdefault(f[1], Annotation(uri=f[1]))
        ann[PSegment(float(f[3]), float(f[3]) + float(f[4])), i] = f[7]
    return out


def test_written_rttms_rescore_to_the_reported_numbers(evaluated: tuple[Path, dict]) -> None:
    """Anyone re-scoring the files with pyannote.metrics and results.json's convention gets its numbers."""
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    exp, ev = evaluated
    assert ev["available"] and [m["uri"] for m in ev["meetings"]] == ["dev00", "dev01"]
    ref = _read_rttm(exp / ev["reference_rttm"])
    uem = {}
    for line in (exp / ev["reference_uem"]).read_text().splitlines():
        f = line.split()
        uem.setdefault(f[0], []).append(PSegment(float(f[2]), float(f[3])))
    metric = DiarizationErrorRate(collar=ev["collar"], skip_overlap=ev["skip_overlap"])
    checked = 0
    for arm, runs in ev["der"].items():
        for seed, meetings in runs.items():
            folder = exp / ev["hypothesis_dirs"][arm][seed]
            for uri, reported in meetings.items():
                hyp = _read_rttm(folder / f"{uri}.rttm").get(uri)
                from pyannote.core import Annotation

                der = metric(ref[uri], hyp if hyp is not None else Annotation(uri=uri), uem=Timeline(uem[uri]))
                assert der == pytest.approx(reported["der"], abs=1e-12)
                assert reported["false_alarm"] == 0  # oracle speech: non-speech is never hypothesised
                checked += 1
    assert checked == 2 * 2 * 2
    for name, scores in ev["baseline_der"].items():
        for uri, reported in scores.items():
            hyp = _read_rttm(exp / ev["baseline_dirs"][name] / f"{uri}.rttm")[uri]
            assert metric(ref[uri], hyp, uem=Timeline(uem[uri])) == pytest.approx(reported["der"], abs=1e-12)
    # the overlap floor: what pyannote.metrics gives the reference reduced to one speaker per instant
    from pyannote.core import Annotation

    floor = ev["overlap_floor"]
    assert set(floor["meetings"]) == set(ref)
    missed = total = 0.0
    for uri, annotation in ref.items():
        one = Annotation(uri=uri)
        for i, seg in enumerate(annotation.get_timeline().segmentation()):
            one[seg, i] = sorted(annotation.crop(seg, mode="intersection").labels())[0]
        d = metric(annotation, one, uem=Timeline(uem[uri]), detailed=True)
        assert floor["meetings"][uri]["floor"] == pytest.approx(d["missed detection"] / d["total"], abs=1e-9)
        assert d["confusion"] == pytest.approx(0.0, abs=1e-9)
        missed += d["missed detection"]
        total += d["total"]
    assert 0 < floor["corpus"] < 0.2
    # ... and the report states it beside the DERs, with the number computed here from eval/reference.rttm
    from vfreport import format as F
    from vfreport.report.yardstick import section

    text = section({"evaluation": ev, "arms": {}})
    assert f"**Overlap floor: {F.pct(missed / total)}**" in text


def test_evaluation_entry_summaries(evaluated: tuple[Path, dict]) -> None:
    exp, ev = evaluated
    assert ev["convention"]["collar_convention"].startswith("total width")
    assert set(ev["summary"]) == {"ami", "librispeech"}
    s = ev["summary"]["ami"]["der"]
    assert s["n"] == 2 and s["ci95"][0] <= s["mean"] <= s["ci95"][1]
    per_run = [S.corpus_der(ev["der"]["ami"][k])["der"] for k in ("0", "1")]
    assert s["per_seed"] == pytest.approx(per_run)
    assert set(ev["comparisons"]) == {"librispeech", "one-speaker", "position"}
    assert ev["hypothesis"]["verdict"] in ("supported", "not supported")
    assert ev["gate"]["passed"] in (True, False)
    # one speaker on a two-speaker meeting is wrong on the minority speaker's speech
    assert 0 < ev["baselines"]["one-speaker"]["der"] < 0.6


def test_unavailable_meetings_are_reported_not_raised(tmp_path: Path) -> None:
    hist = {(arm, 0): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami")}
    exp = make_experiment(tmp_path, hist, overrides={"arms": {"ami": {"source": "local", "path": str(tmp_path)}}})
    ev = E.evaluate_experiment(exp, split="nothing-here", n_resamples=10)
    assert ev["available"] is False and "best checkpoint" in ev["reason"]  # no model: no meetings loaded
    write_checkpoint(ExperimentDir(exp).run("ami", 0).best, 0)
    ev = E.evaluate_experiment(exp, split="nothing-here", n_resamples=10)
    assert ev["available"] is False and "nothing-here" in ev["reason"]


# ---------------------------------------------------------------------------------------------
# the yardstick in results.json, the verdict's gates and the report
# ---------------------------------------------------------------------------------------------


def _fake_evaluation(offsets: dict[str, float], runs: int = 3) -> dict:
    """An evaluation entry from score tables: each arm's DER is the baselines' plus its offset."""
    uris = ["m0", "m1", "m2", "m3"]
    base_der = [0.5, 0.55, 0.45, 0.6]

    def table(offset: float, runs: int) -> dict:
        return {str(r): {u: {"der": d + offset + 0.005 * r * (-1) ** k, "error": 60 * (d + offset + 0.005 * r),
                             "total": 60.0, "confusion": d + offset + 0.005 * r, "missed_detection": 0.0,
                             "false_alarm": 0.0}
                         for k, (u, d) in enumerate(zip(uris, base_der, strict=True))} for r in range(runs)}

    der = {arm: table(off, runs) for arm, off in offsets.items()}
    audio_free = {"one-speaker": table(0.0, 1)["0"], "position": table(0.02, 1)["0"]}
    return {"available": True, "collar": 0.0, "skip_overlap": False, "split": "test", "origin": "synthetic",
            "source": "synthetic", "window_seconds": 2.0, "meetings": [{"uri": u, "seconds": 60.0} for u in uris],
            "der": der, "baseline_der": audio_free, "reference_rttm": "eval/reference.rttm",
            "reference_uem": "eval/reference.uem",
            **E.summarize_evaluation(der, audio_free, uris, "ami", "librispeech", 0.05, n_resamples=1000)}


def _fake_results(tmp_path: Path, target_offset: float, lift_values: list[float]) -> dict:
    """An analysed results dict with a fake evaluation (target DER offset vs the rest) and given lifts."""
    from vfreport.analysis import yardstick as Y
    from vfreport.analysis.results import analyze_experiment
    from vfreport.config import read_experiment_config

    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in range(3)}
    exp = make_experiment(tmp_path, hist, name=f"fake{target_offset}{lift_values[0]}")
    cfg = read_experiment_config(ExperimentDir(exp).config)
    ev = _fake_evaluation({"ami": target_offset, "librispeech": 0.0})
    lifts = {"ami": L.lift_summary([0.8 + v for v in lift_values], [0.8] * len(lift_values),
                                   list(range(len(lift_values))), cfg.thresholds.min_lift)}
    ys = Y.Yardstick(ev, lifts, Y.gates(cfg, lifts))
    return analyze_experiment(exp, yardstick=ys, n_resamples=100)


def test_gates_follow_der_and_lift(tmp_path: Path) -> None:
    good = _fake_results(tmp_path, -0.15, [0.12, 0.11, 0.13])
    gates = {g["name"]: g for g in good["scenario"]["gates"]}
    assert gates[L.GATE_NAME]["passed"] is True and gates[E.GATE_NAME]["passed"] is True
    assert good["delta"]["der"]["value"] == pytest.approx(-0.15, abs=1e-9)
    assert good["primary"]["endpoint"] == "der" and good["primary"]["estimate"] == pytest.approx(-0.15, abs=1e-9)
    assert good["arms"]["ami"]["lift"]["mean"] == pytest.approx(0.12)
    bad = _fake_results(tmp_path, 0.0, [0.01, -0.01, 0.0])
    gates = {g["name"]: g for g in bad["scenario"]["gates"]}
    assert gates[L.GATE_NAME]["passed"] is False and gates[E.GATE_NAME]["passed"] is False
    assert "is only" in gates[L.GATE_NAME]["sentence"]
    assert "undecided" in gates[E.GATE_NAME]["sentence"] or "worse" in gates[E.GATE_NAME]["sentence"]


def test_verdict_gates_block_best_and_realistic() -> None:
    from vfreport.analysis import verdicts as V
    from vfreport.analysis import yardstick as Y

    gates = Y.Yardstick(None, {}, [{"name": "lift", "passed": False, "sentence": "x"}]).verdict_gates()
    assert isinstance(gates[0], V.Gate) and gates[0].passed is False


def test_report_rows_section_and_figure(tmp_path: Path) -> None:
    from vfreport.report import yardstick as R

    results = _fake_results(tmp_path, -0.15, [0.12, 0.11, 0.13])
    rows = R.delta_rows(results)
    assert rows[0][0].startswith("DER") and "-15.0 points" in rows[0][3]
    assert rows[1][2].startswith("12.0 points above")
    text = R.section(results, "figures/der_per_meeting.png")
    assert "Oracle speech activity" in text and "total width" in text
    assert "beats model-free one speaker for everything by 15.0 points" in text  # lower DER is better, in words
    assert "beats LibriSpeech-like (Pseudo, synthetic) by 15.0 points" in text and "figures/der_per_meeting.png" in text
    fig = R.der_figure(results)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "DER (%)" and len(ax.collections) >= 4  # 2 arms' strips + 2 baselines
    assert "n = 3" in ax.get_title()
    below = _fake_results(tmp_path, 0.0, [-0.1, -0.09, -0.11])
    assert "below" in R.delta_rows(below)[1][2]


@pytest.mark.parametrize(("audio_free", "evaluated", "expected"), [
    (0.84, False, "explained-by-structure"),  # 2 points of lift: position explains the accuracy
    (0.50, True, "not-confirmed"),  # real lift and a worthwhile ΔDER, but DER no better than one speaker
])
def test_scenario_reads_the_yardstick(tmp_path: Path, audio_free: float, evaluated: bool, expected: str) -> None:
    from vfreport.analysis import yardstick as Y
    from vfreport.analysis.results import analyze_experiment
    from vfreport.config import read_experiment_config

    rng = np.random.default_rng(1)
    hist = {("librispeech", s): make_history(list(0.55 + rng.normal(0, 0.01, 12))) for s in range(3)}
    hist |= {("ami", s): make_history(list(np.linspace(0.80, 0.86 + 0.002 * s, 12))) for s in range(3)}
    extra = {("ami", s): {"data": {"audio_free_baseline_val_acc": audio_free}} for s in range(3)}
    exp = make_experiment(tmp_path, hist, status_extra=extra)
    cfg = read_experiment_config(ExperimentDir(exp).config)
    lifts = Y.experiment_lifts(exp)
    ev = _fake_evaluation({"ami": 0.0, "librispeech": 0.2}) if evaluated else None
    ys = Y.Yardstick(ev, lifts, Y.gates(cfg, lifts))
    results = analyze_experiment(exp, yardstick=ys)
    assert results["hypotheses"]["H1"]["verdict"] == "supported"
    assert results["primary"]["endpoint"] == ("der" if evaluated else "accuracy")
    assert results["primary"]["decision"] == "worthwhile"
    assert results["scenario"]["name"] == expected
    if expected == "explained-by-structure":
        assert results["scenario"]["sentence"].count("Inconclusive: accuracy explained by window structure") == 1
        assert L.describe(lifts["ami"]["mean"]) in results["scenario"]["sentence"]
        assert lifts["ami"]["mean"] == pytest.approx(np.mean([0.86 + 0.002 * s for s in range(3)]) - 0.84)
    else:
        assert "does not beat both model-free baselines" in results["scenario"]["sentence"]
        assert results["arms"]["ami"]["production_readiness"] != "ready"
    assert results["arms"]["ami"]["lift"]["n"] == 3


def test_pipeline_analyse_wires_the_yardstick(tmp_path: Path) -> None:
    """run-all and `vfreport report` go through pipeline.analyse: evaluation, lifts and gates land in results."""
    from vfreport.pipeline import analyse

    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in range(2)}
    extra = {("ami", s): {"data": {"audio_free_baseline_val_acc": 0.5}} for s in range(2)}
    exp = make_experiment(tmp_path, hist, status_extra=extra)
    results = analyse(exp)
    assert results["evaluation"]["available"] is False  # fake runs: no checkpoint to diarize with
    assert "best checkpoint" in results["evaluation"]["reason"]
    assert results["arms"]["ami"]["lift"]["per_seed"] == pytest.approx([LIBRISPEECH_VAL[-1] - 0.5] * 2)
    names = [g["name"] for g in results["scenario"]["gates"]]
    assert L.GATE_NAME in names and E.GATE_NAME in names and "model-free" in E.GATE_NAME
    assert "der" in results["delta"]


def test_the_report_leads_with_the_der_primary_endpoint_and_names_the_data(tmp_path: Path) -> None:
    from vfreport.report.markdown import render_markdown

    results = _fake_results(tmp_path, -0.15, [0.12, 0.11, 0.13])
    md = render_markdown(results, {})
    verdict = md.split("**Verdict: ")[1]
    first = verdict.split(".** ", 1)[1].split(". ")[0]
    assert first.startswith("On synthetic data, ΔDER on 4 held-out meetings (AMI-like (annotated, synthetic) − ")
    assert "= -15.0 points (95 % CI" in first and "one-sided 95 % upper bound" in first
    assert "## Primary endpoint" in md and "| Decision | worthwhile improvement |" in md
    assert "| Variance components (SD, DER points) |" in md and "oracle speech activity" in md
    readiness = md.split("## Production readiness")[1].split("\n## ")[0]
    lines = [line for line in readiness.splitlines() if line.startswith("- **")]
    assert len(lines) == 2 and all("(on synthetic data)" in line for line in lines)
    assert "ready for production deployment:" not in readiness.replace("never called ready for production", "")
    assert results["primary"]["variance_components"] and results["primary"]["df"] > 0


def test_readiness_reads_the_real_recordings_when_the_config_names_them(tmp_path: Path) -> None:
    """Synthetic evidence is never "ready"; with [evaluation] recordings on which the target beats both
    model-free baselines, readiness reads them (evidence: real), and the report shows them beside."""
    from vfreport.analysis.results import analyze_experiment
    from vfreport.report.markdown import render_markdown

    hist = {("librispeech", s): make_history([0.55 + 0.01 * s] * 12) for s in range(3)}
    hist |= {("ami", s): make_history(list(np.linspace(0.85, 0.95 + 0.002 * s, 12))) for s in range(3)}
    exp = make_experiment(tmp_path, hist)
    ev = _fake_evaluation({"ami": -0.15, "librispeech": 0.0})
    synthetic = analyze_experiment(exp, evaluation=ev, n_resamples=100)
    assert synthetic["arms"]["ami"]["production_readiness"] == "ready-synthetic"
    ev["real"] = {**_fake_evaluation({"ami": -0.10, "librispeech": 0.0}), "data": "real"}
    real = analyze_experiment(exp, evaluation=ev, n_resamples=100)
    ready = real["arms"]["ami"]["readiness"]
    assert ready["code"] == "ready" and ready["evidence"] == "real" and not ready["caps"]
    assert real["primary"]["real"]["comparison"]["estimate"] == pytest.approx(-0.10, abs=1e-9)
    md = render_markdown({**real, "evaluation": ev}, {})
    assert "### Real recordings ([evaluation], 4 recordings)" in md and "(on real data)" in md
    ev["real"] = {**_fake_evaluation({"ami": 0.0, "librispeech": 0.0}), "data": "real"}
    worse = analyze_experiment(exp, evaluation=ev, n_resamples=100)["arms"]["ami"]["readiness"]
    assert worse["code"] == "poc" and worse["caps"][0].startswith("on the 4 real recordings,")
