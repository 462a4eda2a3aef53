"""`vfreport evaluate` (vfreport.deploy.evaluate, vfreport.data.recordings) on the real AMI excerpts,
its bad inputs, and the config's real-meetings set in the experiment's evaluation."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from _data import AMI_DEBUG
from _expdir import LIBRISPEECH_VAL, make_experiment, make_history
from click.testing import CliRunner

from vfreport import __version__
from vfreport.analysis import evaluation as E
from vfreport.cli import cli
from vfreport.config import load_config
from vfreport.data.recordings import match_recordings, open_recordings, outside
from vfreport.data.rttm import Segment, format_rttm
from vfreport.deploy.evaluate import CONDITIONS, ORACLE_SPEECH, OWN_SPEECH, evaluate, table
from vfreport.deploy.onnx import export_onnx
from vfreport.deploy.predict import predict_file
from vfreport.errors import AnnotationError, ConfigError, DataError
from vfreport.experiment.layout import ExperimentDir
from vfreport.model.network import FastDiarizationModel

RTTM = AMI_DEBUG / "debug.development.rttm"
UEM = AMI_DEBUG / "debug.development.uem"
SPLIT = "debug.development"


def _checkpoint(path: Path, seed: int = 3) -> Path:
    torch.manual_seed(seed)
    model = FastDiarizationModel()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "vfreport-checkpoint-1", "model_config": asdict(model.config),
                "model_state": model.state_dict(), "epoch": 1, "vfreport_version": __version__}, path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    ckpt = _checkpoint(root / "best.pt")
    onnx_path = root / "model.onnx"
    export_onnx(ckpt, onnx_path, {"window_seconds": 2.0})
    return {"pt": ckpt, "onnx": onnx_path}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the AMI excerpts (WAVs, RTTM, UEM)."""
    return Path(shutil.copytree(AMI_DEBUG, tmp_path / "ami"))


def _invoke(*args: object):
    return CliRunner().invoke(cli, ["evaluate", *map(str, args)])


def _annotations(path: Path):
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    out: dict[str, Annotation] = {}
    for i, line in enumerate(path.read_text().splitlines()):
        f = line.split()
        if f:
            out.setdefault(f[1], Annotation(uri=f[1]))[PSegment(float(f[3]), float(f[3]) + float(f[4])), i] = f[7]
    return out


# ---------------------------------------------------------------------------------------------
# the real smoke test: the CLI on the AMI excerpts, re-scored independently
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["onnx", "pt"])
def test_evaluate_rescores_to_pyannote_on_real_meetings(models: dict[str, Path], tmp_path: Path, kind: str) -> None:
    """Per recording, every system's DER equals pyannote.metrics on the RTTM it wrote (to 1e-9), and
    the own-speech hypothesis is exactly what `vfreport predict` writes."""
    from pyannote.core import Annotation, Timeline
    from pyannote.core import Segment as PSegment
    from pyannote.metrics.diarization import DiarizationErrorRate

    out, js = tmp_path / "hyp", tmp_path / "eval.json"
    res = _invoke(models[kind], "--audio", AMI_DEBUG, "--rttm", RTTM, "--uem", UEM, "--json", js, "--out", out)
    assert res.exit_code == 0, res.output
    for condition in CONDITIONS:
        assert f"[{condition}]" in res.output
    result = json.loads(js.read_text())
    assert [r["uri"] for r in result["recordings"]] == ["dev00", "dev01"]
    reference = _annotations(RTTM)
    uem = {line.split()[0]: Timeline([PSegment(float(line.split()[2]), float(line.split()[3]))])
           for line in UEM.read_text().splitlines()}
    checked = 0
    for condition, cond in result["conditions"].items():
        assert set(cond["systems"]) == {"model", "one-speaker", "position"}
        for system, entry in cond["systems"].items():
            for uri, reported in entry["per_recording"].items():
                metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
                hyp = _annotations(out / condition / system / f"{uri}.rttm").get(uri, Annotation(uri=uri))
                d = metric(reference[uri], hyp, uem=uem[uri], detailed=True)
                assert reported["der"] == pytest.approx(d["diarization error rate"], abs=1e-9)
                assert reported["confusion"] * d["total"] == pytest.approx(d["confusion"], abs=1e-9)
                assert reported["missed_detection"] * d["total"] == pytest.approx(d["missed detection"], abs=1e-9)
                assert reported["false_alarm"] * d["total"] == pytest.approx(d["false alarm"], abs=1e-9)
                assert reported["hypothesis_speakers"] == len(hyp.labels())
                assert reported["reference_speakers"] == 2
                checked += 1
            metric_total = sum(s["total"] for s in entry["per_recording"].values())
            errors = sum(s["error"] for s in entry["per_recording"].values())
            assert entry["corpus"]["der"] == pytest.approx(errors / metric_total, abs=1e-12)
    assert checked == 2 * 3 * 2
    oracle = result["conditions"][ORACLE_SPEECH]["systems"]
    assert all(s["false_alarm"] == 0 for e in oracle.values() for s in e["per_recording"].values())
    assert all(s["hypothesis_speakers"] == 1 for s in oracle["one-speaker"]["per_recording"].values())
    for uri in ("dev00", "dev01"):  # the deployed condition is vfreport predict's output
        predicted = format_rttm(predict_file(models[kind], AMI_DEBUG / f"{uri}.wav"))
        assert (out / OWN_SPEECH / "model" / f"{uri}.rttm").read_text() == predicted
    df = table(result)  # the printed table holds the JSON's numbers
    row = df[(df.condition == OWN_SPEECH) & (df.system == "model") & (df.recording == "corpus")].iloc[0]
    assert row["DER %"] == pytest.approx(100 * result["conditions"][OWN_SPEECH]["systems"]["model"]["corpus"]["der"])
    assert f"{row['DER %']:.1f}" in res.output


def test_evaluate_an_experiments_runs(tmp_path: Path) -> None:
    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in (0,)}
    exp = make_experiment(tmp_path, hist)
    for arm, s in hist:
        _checkpoint(ExperimentDir(exp).run(arm, s).best, len(arm))
    result = evaluate(exp, AMI_DEBUG, RTTM)
    assert set(result["conditions"][OWN_SPEECH]["systems"]) == {"ami/seed-0", "librispeech/seed-0", "one-speaker",
                                                                "position"}
    assert result["uem"] is None and result["convention"]["uem"] == "each whole recording"
    assert result["window_seconds"] == load_config().train.window_seconds


# ---------------------------------------------------------------------------------------------
# bad input: one clear line each, nothing written
# ---------------------------------------------------------------------------------------------


def _error(models: dict[str, Path], corpus: Path, tmp_path: Path, *, rttm: Path | None = None,
           uem: Path | None = None) -> str:
    """Run the CLI expecting a user error; check it is one line, status 2, and wrote nothing."""
    args = [models["onnx"], "--audio", corpus, "--rttm", rttm or corpus / RTTM.name,
            "--json", tmp_path / "e.json", "--out", tmp_path / "e-out"]
    res = _invoke(*args, *(["--uem", uem] if uem else []))
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not (tmp_path / "e.json").exists() and not (tmp_path / "e-out").exists()
    return lines[0]


def test_recording_without_reference_and_reference_without_recording(models, corpus, tmp_path) -> None:
    sf.write(corpus / "extra.wav", np.zeros(16_000, np.float32), 16_000)
    line = _error(models, corpus, tmp_path)
    assert "recording(s) without a reference" in line and "extra.wav" in line
    (corpus / "extra.wav").unlink()
    (corpus / "dev01.wav").unlink()
    line = _error(models, corpus, tmp_path)
    assert "reference(s) without a recording" in line and "dev01" in line and "extra" not in line


def test_both_mismatches_are_named_in_one_line(tmp_path: Path) -> None:
    audio = {"ES2011a.Mix-Headset": tmp_path / "ES2011a.Mix-Headset.wav"}
    with pytest.raises(DataError) as err:
        match_recordings(audio, ["ES2011a"], tmp_path, tmp_path / "ref.rttm")
    assert "ES2011a.Mix-Headset.wav" in str(err.value) and "without a recording" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (44_100, 1), (16_000, 2)])
def test_other_rates_are_resampled_and_stereo_mixed_down_and_said(models, corpus, tmp_path, rate, channels) -> None:
    x, sr = sf.read(AMI_DEBUG / "dev00.wav", dtype="float32")
    from vfreport.data.audio import resample

    y = resample(x, sr, rate)
    sf.write(corpus / "dev00.wav", np.stack([y] * channels, axis=1) if channels > 1 else y, rate, subtype="FLOAT")
    res = _invoke(models["onnx"], "--audio", corpus, "--rttm", RTTM, "--json", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "r.json").read_text())["notes"]
    said = "resampled to 16000 Hz" if rate != 16_000 else "2 channels, mixed down to mono"
    assert len(notes) == 1 and said in notes[0] and notes[0].startswith("dev00.wav")
    assert f"note: {notes[0]}" in res.output
    if channels == 2:  # two equal channels mix down to the mono file: the same numbers
        mono = evaluate(models["onnx"], AMI_DEBUG, RTTM)["conditions"]
        got = json.loads((tmp_path / "r.json").read_text())["conditions"]
        assert got == mono


@pytest.mark.parametrize(("line", "problem"), [
    ("SPEAKER dev00 1 1.0 <NA> <NA> MEE009 <NA> <NA>", "expected 10 fields"),
    ("SPEAKER dev00 1 1.0 0.000 <NA> <NA> MEE009 <NA> <NA>", "duration must be > 0"),
    ("SPEAKER dev00 1 x 1.0 <NA> <NA> MEE009 <NA> <NA>", "onset 'x' is not a number"),
])
def test_malformed_rttm_line_names_file_and_line(models, corpus, tmp_path, line, problem) -> None:
    rttm = corpus / "bad.rttm"
    lines = RTTM.read_text().splitlines()
    rttm.write_text("\n".join([*lines[:2], line, *lines[2:]]) + "\n")
    out = _error(models, corpus, tmp_path, rttm=rttm)
    assert f"{rttm}:3:" in out and problem in out


def test_empty_rttm_and_turn_past_the_audio(models, corpus, tmp_path) -> None:
    empty = corpus / "empty.rttm"
    empty.write_text("# nothing\n\n")
    assert "no SPEAKER lines" in _error(models, corpus, tmp_path, rttm=empty)
    late = corpus / "late.rttm"
    late.write_text(RTTM.read_text() + "SPEAKER dev01 1 29.0 3.0 <NA> <NA> MEE009 <NA> <NA>\n")
    assert "ends at 32.000 s, after the end of the audio (30.000 s)" in _error(models, corpus, tmp_path, rttm=late)


def test_uem_that_does_not_cover_the_reference(models, corpus, tmp_path) -> None:
    uem = corpus / "partial.uem"
    uem.write_text("dev00 NA 0.000 30.000\n")
    line = _error(models, corpus, tmp_path, uem=uem)
    assert "no region for recording 'dev01'" in line and str(uem) in line
    uem.write_text("dev00 NA 0.000 20.000\ndev01 NA 0.000 30.000\n")
    line = _error(models, corpus, tmp_path, uem=uem)
    assert "does not cover the reference of 'dev00'" in line and "MEE009 at 18.201" in line
    uem.write_text("dev00 NA 0.000 30.000\ndev01 NA 0.000 45.000\n")
    assert "after the end of its audio" in _error(models, corpus, tmp_path, uem=uem)


def test_outside_measures_reference_speech_beyond_the_regions() -> None:
    segs = [Segment("m", 1.0, 2.0, "a"), Segment("m", 5.0, 2.0, "b"), Segment("m", 9.0, 1.0, "a")]
    assert outside(segs, [(0.0, 10.0)]) == (0.0, None)
    missing, first = outside(segs, [(0.0, 2.0), (6.0, 9.5)])
    assert missing == pytest.approx(1.0 + 1.0 + 0.5) and first == segs[0]


def test_no_recordings_and_two_files_of_one_recording(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(DataError, match="no recordings"):
        open_recordings(tmp_path / "a", RTTM)
    for name in ("dev00.wav", "dev00.flac"):
        sf.write(tmp_path / "a" / name, np.zeros(1600, np.float32), 16_000)
    with pytest.raises(DataError, match="are both recording 'dev00'"):
        open_recordings(tmp_path / "a", RTTM)


def test_rttm_file_that_is_not_text(tmp_path: Path) -> None:
    bad = tmp_path / "bin.rttm"
    bad.write_bytes(b"\xff\xfe\x00SPEAKER")
    with pytest.raises(AnnotationError, match=r"bin\.rttm: RTTM file is not UTF-8"):
        open_recordings(AMI_DEBUG, bad)


# ---------------------------------------------------------------------------------------------
# [evaluation] in the experiment: evaluation.real
# ---------------------------------------------------------------------------------------------


def test_evaluation_config_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    cfg_file = tmp_path / "sub" / "c.toml"
    cfg_file.parent.mkdir()
    cfg_file.write_text('[evaluation]\naudio = "../ami"\nrttm = "../ami/x.rttm"\n')
    ev = load_config(cfg_file).evaluation
    assert ev is not None and ev.audio == str(tmp_path / "ami") and ev.uem == ""
    assert load_config().evaluation is None and "evaluation" not in load_config().to_dict()
    cfg_file.write_text('[evaluation]\naudio = "../ami"\n')
    with pytest.raises(ConfigError, match="needs rttm"):
        load_config(cfg_file)
    cfg_file.write_text('[evaluation]\naudio = "a"\nrttm = "b"\nuen = "c"\n')
    with pytest.raises(ConfigError, match="did you mean 'uem'"):
        load_config(cfg_file)


def test_experiment_scores_its_runs_on_the_real_set(tmp_path: Path) -> None:
    """The [evaluation] recordings get the held-out meetings' table and statistics under
    ``evaluation.real``; on the same recordings the numbers are the same."""
    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in (0, 1)}
    real = {"audio": str(AMI_DEBUG), "rttm": str(RTTM), "uem": str(UEM)}
    exp = make_experiment(tmp_path, hist, overrides={"arms": {"ami": {"source": "local", "path": str(AMI_DEBUG)}},
                                                     "evaluation": real})
    for arm, s in hist:
        _checkpoint(ExperimentDir(exp).run(arm, s).best, 10 * s + len(arm))
    ev = E.evaluate_experiment(exp, split=SPLIT, n_resamples=200)
    assert ev["available"] and ev["data"] == "real"  # a local arm's held-out meetings are not synthetic
    r = ev["real"]
    assert r["available"] and r["data"] == "real" and r["method"] == ev["method"]
    assert [m["uri"] for m in r["meetings"]] == ["dev00", "dev01"]
    assert r["der"] == ev["der"] and r["baseline_der"] == ev["baseline_der"]
    assert set(r["summary"]) == {"ami", "librispeech"} and set(r["comparisons"]) == set(ev["comparisons"])
    assert r["gate"]["passed"] in (True, False)
    for arm, runs in r["hypothesis_dirs"].items():
        for seed, folder in runs.items():
            assert folder == f"{arm}/seed-{seed}/eval/real"
            assert sorted(p.name for p in (exp / folder).glob("*.rttm")) == ["dev00.rttm", "dev01.rttm"]
    assert (exp / r["reference_rttm"]).read_text() == (exp / ev["reference_rttm"]).read_text()


def test_unusable_real_set_is_reported_not_raised(tmp_path: Path) -> None:
    hist = {(arm, 0): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami")}
    real = {"audio": str(tmp_path), "rttm": str(RTTM)}
    exp = make_experiment(tmp_path, hist, overrides={"arms": {"ami": {"source": "local", "path": str(AMI_DEBUG)}},
                                                     "evaluation": real})
    _checkpoint(ExperimentDir(exp).run("ami", 0).best)
    ev = E.evaluate_experiment(exp, split=SPLIT, n_resamples=50)
    assert ev["available"] and ev["real"]["available"] is False
    assert "no recordings" in ev["real"]["reason"] and ev["real"]["data"] == "real"
