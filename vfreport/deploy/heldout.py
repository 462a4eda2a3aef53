"""The common yardstick's diarization (docs/yardstick.md): every run's model diarizes the same held-out
meetings (and the config's ``[evaluation]`` recordings), scored by DER with ``pyannote.metrics``;
hypothesis, reference and UEM files are written so that anyone can re-score them.

    the AMI arm's held-out split (synthetic by default; local WAV+RTTM / parquet / hub otherwise)
      --open_meetings--> one meeting at a time: 16 kHz audio, reference turns, UEM (the whole recording)
      --diarize: vfreport predict's sliding windows + clustering of the windows' local speakers
        (speech frames from the reference), each run's best.pt, then cropped to the reference's
        speech--> hypothesis segments
      --written as RTTM (3 decimals), read back--> score with DiarizationErrorRate(collar, skip_overlap)
      --per meeting × run: DER, confusion, missed detection, false alarm--> the ``evaluation`` entry's tables

The method (oracle speech, the model-free baselines, the scoring convention) is described in
:mod:`vfreport.analysis.evaluation`, which adds the statistics over runs to what
:func:`score_heldout` returns. The meetings, the diarization of one meeting, the baselines'
segments and the scoring are :mod:`vfreport.deploy.scoring`; the best checkpoints,
:meth:`vfreport.experiment.records.Experiment.best_checkpoints`.

Reuse (``run-all --until-decided``'s looks): a run whose ``<run>/eval/`` RTTMs were made from the
same best.pt, arm, options and vfreport version (:data:`REUSE_FILE`) is re-scored, not diarized again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vfreport import __version__
from vfreport.config import ArmConfig, ExperimentConfig
from vfreport.data.audio import SAMPLE_RATE
from vfreport.data.geometry import GEOMETRY
from vfreport.data.overlap import overlap_floor
from vfreport.data.recordings import RecordingSet, open_recordings, read_recording
from vfreport.data.rttm import Segment, format_uem, parse_rttm, parse_uem
from vfreport.deploy.predict import PipelineSettings, Predictor, load_predictor
from vfreport.deploy.scoring import (
    BASELINES,
    COLLAR,
    DEFAULT_MEETINGS,
    DEFAULT_SPLIT,
    ONE_SPEAKER,
    RTTM_DECIMALS,
    SKIP_OVERLAP,
    Meeting,
    diarize,
    evaluation_arm,
    one_speaker_segments,
    open_meetings,
    position_predictor,
    rttm_round_trip,
    score,
    speech_regions,
    yardstick_settings,
)
from vfreport.errors import ExperimentError, VfreportError
from vfreport.experiment.layout import (
    ExperimentDir,
    RunDir,
    atomic_write_json,
    atomic_write_text,
    read_json_object,
)
from vfreport.experiment.records import Experiment, as_experiment
from vfreport.names import run_key

EVAL_DIR = "eval"
METHOD = ("oracle speech activity: speech regions from the reference (non-speech is never hypothesised, "
          "false alarm is 0 by construction); each run's best checkpoint diarizes every meeting with vfreport "
          "predict's sliding windows (hop half a window); the windows' local speakers (the reference's speech "
          "frames) are embedded by predict's default embedding (Resemblyzer's pretrained GE2E encoder) and "
          "clustered across the meeting, the number of speakers estimated (docs/pipeline.md)")


def _score_written(meeting: Meeting, hypothesis: Sequence[Segment], out: Path, reference: Mapping[str, list[Segment]],
                   uem: Mapping[str, list[tuple[float, float]]], collar: float, skip_overlap: bool) -> dict[str, float]:
    text, back = rttm_round_trip(hypothesis)
    atomic_write_text(out, text)
    return score(reference.get(meeting.uri, []), back, uem[meeting.uri], meeting.uri, collar, skip_overlap)


REUSE_FILE = "eval.json"
"""In ``<run>/eval/``: what the RTTMs there were made from (the run's best.pt, the evaluation arm,
the scoring options, vfreport's version) and for which meetings. A later evaluation with the same
stamp re-scores those RTTMs instead of diarizing again (``run-all --until-decided``'s looks)."""


def _stamp(run: RunDir, arm: ArmConfig, options: Mapping[str, Any]) -> dict[str, Any]:
    best = run.best.stat()
    return {"best": {"size": best.st_size, "mtime_ns": best.st_mtime_ns}, "arm": asdict(arm),
            "options": dict(options), "vfreport": __version__}


def _reusable(run: RunDir, stamp: Mapping[str, Any]) -> bool:
    """True when ``<run>/eval`` holds RTTMs made with ``stamp`` (see :data:`REUSE_FILE`)."""
    path = run.root / EVAL_DIR / REUSE_FILE
    try:
        old = read_json_object(path, "evaluation stamp") if path.is_file() else None
    except VfreportError:
        return False
    return bool(old) and old.get("stamp") == json.loads(json.dumps(dict(stamp))) and all(
        (run.root / EVAL_DIR / f"{u}.rttm").is_file() for u in old.get("uris") or [None])


def _rescore(runs: Mapping[str, Mapping[str, RunDir]], eval_dir: Path, uris: Sequence[str], collar: float,
             skip_overlap: bool) -> dict[str, dict[str, dict[str, dict[str, float]]]] | None:
    """{arm: {seed: {uri: score}}} of reused runs, scored from their RTTMs against this evaluation's
    reference; None when one of them was made for other meetings."""
    reference = parse_rttm((eval_dir / "reference.rttm").read_text(), "reference.rttm")
    uem = parse_uem((eval_dir / "reference.uem").read_text(), "reference.uem")
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for arm_name, seeds in runs.items():
        for seed_, run in seeds.items():
            folder = run.root / EVAL_DIR
            if read_json_object(folder / REUSE_FILE, "evaluation stamp").get("uris") != list(uris):
                return None
            out.setdefault(arm_name, {})[seed_] = {
                u: score(reference.get(u, []), parse_rttm((folder / f"{u}.rttm").read_text(), f"{u}.rttm").get(u, []),
                         uem[u], u, collar, skip_overlap) for u in uris}
    return out


def _clear_rttms(folder: Path) -> None:
    """Remove the RTTM files a previous evaluation left in ``folder`` (its meetings may differ)."""
    if folder.is_dir():
        for f in folder.glob("*.rttm"):
            f.unlink()


@dataclass
class ScoreTables:
    """Scores of every run and model-free baseline on a set of meetings (:func:`_score_meetings`)."""

    der: dict[str, dict[str, dict[str, dict[str, float]]]]  # {arm: {seed: {uri: score}}}
    baselines: dict[str, dict[str, dict[str, float]]]  # {baseline: {uri: score}}
    meta: list[dict[str, Any]]
    overlap_floor: dict[str, Any] | None = None  # vfreport.data.overlap.overlap_floor of the references


def _score_meetings(meetings: Iterable[Meeting], predictors: Mapping[str, Mapping[str, tuple[Predictor, Path]]],
                    eval_dir: Path, subdir: str, window_seconds: float, collar: float,
                    skip_overlap: bool, *, settings: PipelineSettings | None = None) -> ScoreTables:
    """Diarize each meeting with the baselines and every run (oracle speech; predict's ``settings``),
    score them, and write ``<eval_dir>/baselines/<name>/<uri>.rttm``, ``<run>/eval/<subdir>/<uri>.rttm``
    and, when there were meetings, ``<eval_dir>/reference.rttm`` and ``reference.uem`` (earlier RTTMs
    removed first). The tables also hold the references' overlap floor (read back from the RTTM text)."""
    for folder in [eval_dir / "baselines" / b for b in BASELINES] + [
            out / subdir for runs in predictors.values() for _, out in runs.values()]:
        _clear_rttms(folder)
    position = position_predictor(GEOMETRY, window_seconds)
    tables = ScoreTables({a: {s: {} for s in r} for a, r in predictors.items()}, {name: {} for name in BASELINES}, [])
    rttm_parts: list[str] = []
    uem_regions: dict[str, list[tuple[float, float]]] = {}
    references: dict[str, list[Segment]] = {}
    for m in meetings:
        text, back = rttm_round_trip(m.reference)
        rttm_parts.append(text)
        uem_regions[m.uri] = list(m.uem)
        reference, uem = {m.uri: back}, parse_uem(format_uem({m.uri: list(m.uem)}, RTTM_DECIMALS))
        references[m.uri] = back
        for name in BASELINES:
            hyp = (one_speaker_segments(m.reference, m.uri) if name == ONE_SPEAKER
                   else diarize(position, m, settings=settings))
            tables.baselines[name][m.uri] = _score_written(m, hyp, eval_dir / "baselines" / name / f"{m.uri}.rttm",
                                                           reference, uem, collar, skip_overlap)
        for arm_name, runs in predictors.items():
            for seed_, (predictor, out_dir) in runs.items():
                tables.der[arm_name][seed_][m.uri] = _score_written(
                    m, diarize(predictor, m, window_seconds, settings=settings), out_dir / subdir / f"{m.uri}.rttm",
                    reference, uem, collar, skip_overlap)
        tables.meta.append({"uri": m.uri, "seconds": round(m.seconds, 3),
                            "speech_seconds": round(sum(b - a for a, b in speech_regions(m.reference)), 3),
                            "speakers": len({s.speaker for s in m.reference})})
    if tables.meta:
        atomic_write_text(eval_dir / "reference.rttm", "".join(rttm_parts))
        atomic_write_text(eval_dir / "reference.uem", format_uem(uem_regions, RTTM_DECIMALS))
        tables.overlap_floor = overlap_floor(references, uem_regions)
    return tables


REAL_DIR = "real"
"""Sub-folder of ``eval/`` (and of each run's ``eval/``) for the config's real recordings."""


def real_meetings(recordings: RecordingSet) -> Iterator[Meeting]:
    """The ``[evaluation]`` recordings as meetings, decoded one at a time (16 kHz mono)."""
    for r in recordings.recordings:
        yield Meeting(r.uri, read_recording(r, SAMPLE_RATE), r.reference, r.uem)


def score_real(ed: ExperimentDir, cfg: ExperimentConfig,
               predictors: Mapping[str, Mapping[str, tuple[Predictor, Path]]], common: Mapping[str, Any], *,
               settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Every run's best checkpoint on the config's ``[evaluation]`` recordings (docs/evaluate.md):
    the held-out meetings' method and entry shape, with ``data`` "real". Files go to
    ``eval/real/`` and ``<run>/eval/real/``; when the recordings cannot be used the entry says why
    (``available`` False)."""
    ev = cfg.evaluation
    assert ev is not None
    keys = ("method", "collar", "skip_overlap", "convention", "window_seconds", "pipeline")
    entry: dict[str, Any] = {**{k: common[k] for k in keys}, "available": False, "data": "real",
                             "audio": ev.audio, "rttm": ev.rttm, "uem": ev.uem or None}
    entry["convention"] = {**common["convention"],
                           "uem": f"the regions of {ev.uem}" if ev.uem else "each meeting's whole recording"}
    eval_dir = ed.root / EVAL_DIR / REAL_DIR
    try:
        recordings = open_recordings(ev.audio, ev.rttm, ev.uem or None)
        tables = _score_meetings(real_meetings(recordings), predictors, eval_dir, REAL_DIR,
                                 float(common["window_seconds"]), float(common["collar"]), bool(common["skip_overlap"]),
                                 settings=settings)
    except VfreportError as e:
        entry["reason"] = f"cannot evaluate on the [evaluation] recordings: {e}"
        return entry
    entry.update({
        "available": True,
        "notes": recordings.notes(SAMPLE_RATE),
        "meetings": tables.meta,
        "reference_rttm": f"{EVAL_DIR}/{REAL_DIR}/reference.rttm",
        "reference_uem": f"{EVAL_DIR}/{REAL_DIR}/reference.uem",
        "hypothesis_dirs": {a: {k: str((out / REAL_DIR).relative_to(ed.root)) for k, (_, out) in runs.items()}
                            for a, runs in predictors.items()},
        "der": tables.der,
        "baseline_der": tables.baselines,
        "baseline_dirs": {name: f"{EVAL_DIR}/{REAL_DIR}/baselines/{name}" for name in BASELINES},
        "overlap_floor": tables.overlap_floor,
    })
    return entry


def _common_entry(collar: float, skip_overlap: bool, split: str, window_seconds: float,
                  settings: PipelineSettings | None) -> dict[str, Any]:
    """What every ``evaluation`` entry says, available or not: the method and the scoring convention."""
    convention = {"collar": collar, "collar_convention": "total width (pyannote.metrics); md-eval/dscore per side = "
                  "half of it", "skip_overlap": skip_overlap, "uem": "each meeting's whole recording",
                  "metric": "pyannote.metrics.diarization.DiarizationErrorRate", "rttm_decimals": RTTM_DECIMALS}
    return {"available": False, "method": METHOD, "collar": collar, "skip_overlap": skip_overlap,
            "convention": convention, "split": split, "window_seconds": window_seconds,
            "pipeline": asdict(settings or PipelineSettings())}


@dataclass
class _Runs:
    """The completed runs of an evaluation: models to diarize with, runs whose RTTMs are re-scored
    (:data:`REUSE_FILE`), and the runs whose model did not load."""

    predictors: dict[str, dict[str, tuple[Predictor, Path]]]
    reused: dict[str, dict[str, RunDir]]
    failures: list[str]


def _load_runs(experiment: Experiment, arm: ArmConfig, options: Mapping[str, Any]) -> _Runs:
    out = _Runs({}, {}, [])
    for arm_name, runs in experiment.best_checkpoints().items():
        out.predictors[arm_name] = {}
        for seed_, run in runs.items():
            if _reusable(run, _stamp(run, arm, options)):
                out.reused.setdefault(arm_name, {})[str(seed_)] = run
                continue
            try:
                out.predictors[arm_name][str(seed_)] = (load_predictor(run.best), run.root / EVAL_DIR)
            except ExperimentError as e:
                out.failures.append(f"{run_key(arm_name, seed_)}: {e}")
    return out


def _merge_rescored(der: dict[str, dict[str, dict[str, dict[str, float]]]],
                    again: Mapping[str, Mapping[str, dict[str, dict[str, float]]]]) -> None:
    """Add the re-scored runs' tables to ``der``, each arm's runs in seed order."""
    for arm_name, scores in again.items():
        der.setdefault(arm_name, {}).update(scores)
        der[arm_name] = dict(sorted(der[arm_name].items(), key=lambda kv: int(kv[0])))


def _write_stamps(experiment: Experiment, arm: ArmConfig, options: Mapping[str, Any],
                  predictors: Mapping[str, Mapping[str, Any]], uris: Sequence[str]) -> None:
    """:data:`REUSE_FILE` in every diarized run's ``eval/``: what its RTTMs were made from."""
    for arm_name, runs in experiment.best_checkpoints().items():
        for seed_, run in runs.items():
            if str(seed_) in predictors.get(arm_name, {}):
                atomic_write_json(run.root / EVAL_DIR / REUSE_FILE,
                                  {"stamp": _stamp(run, arm, options), "uris": list(uris)})


def _hypothesis_dirs(ed: ExperimentDir, runs: _Runs) -> dict[str, dict[str, str]]:
    dirs = {a: {k: str(out.relative_to(ed.root)) for k, (_, out) in r.items()} for a, r in runs.predictors.items()}
    for arm_name, reused in runs.reused.items():
        dirs.setdefault(arm_name, {}).update(
            {k: str((run.root / EVAL_DIR).relative_to(ed.root)) for k, run in reused.items()})
    return dirs


def score_heldout(experiment: Experiment | Path | str, *, split: str = DEFAULT_SPLIT,
                  n_meetings: int = DEFAULT_MEETINGS, collar: float = COLLAR, skip_overlap: bool = SKIP_OVERLAP,
                  settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Diarize the held-out meetings with every completed run's best.pt and score them (module doc).

    Writes ``<exp>/eval/reference.rttm`` and ``reference.uem``, ``<exp>/eval/baselines/<name>/<uri>.rttm``
    and ``<exp>/<arm>/seed-<k>/eval/<uri>.rttm``; returns results.json's ``evaluation`` entry (it
    does not write results.json), without the statistics over runs
    (:func:`vfreport.analysis.evaluation.evaluate_experiment` adds them). Meetings are decoded one at
    a time and every model runs on each before the next. When the meetings cannot be loaded the entry
    says why, with ``available`` False, instead of raising. With an ``[evaluation]`` set in the
    config, the entry's ``real`` key holds :func:`score_real`'s. A path is loaded here
    (:func:`vfreport.experiment.records.load_experiment`).
    """
    experiment = as_experiment(experiment)
    ed, cfg = experiment.dir, experiment.config
    window_seconds = float(cfg.train.window_seconds)
    arm = evaluation_arm(cfg)
    real_settings = settings  # for the config's real recordings ([evaluation]): predict's, calibrated on real audio
    settings = yardstick_settings(arm, settings)
    entry = _common_entry(collar, skip_overlap, split, window_seconds, settings)
    if arm is None:
        entry["reason"] = "no arm with dataset 'ami' holds meetings to diarize"
        return entry
    options = {"split": split, "n_meetings": n_meetings, "collar": collar, "skip_overlap": skip_overlap,
               "window_seconds": window_seconds, "pipeline": entry["pipeline"]}  # other settings: diarize again
    runs = _load_runs(experiment, arm, options)
    failures = runs.failures
    if not any(runs.predictors.values()) and not runs.reused:
        entry["reason"] = "no completed run has a best checkpoint to evaluate" + (f" ({'; '.join(failures)})"
                                                                                   if failures else "")
        return entry
    if cfg.evaluation is not None:  # the config's real recordings, whatever becomes of the held-out meetings
        entry["real"] = score_real(ed, cfg, runs.predictors, _common_entry(collar, skip_overlap, split,
                                                                           window_seconds, real_settings),
                                   settings=real_settings)
    eval_dir = ed.root / EVAL_DIR
    try:
        meetings, origin = open_meetings(arm, split, n_meetings, window_seconds, failures)
        tables = _score_meetings(meetings, runs.predictors, eval_dir, "", window_seconds, collar, skip_overlap,
                                 settings=settings)
    except VfreportError as e:
        entry["reason"] = f"cannot load the held-out meetings of {arm.name!r} split {split!r}: {e}"
        return entry
    if not tables.meta:
        entry["reason"] = f"{origin}: no meetings in split {split!r} to evaluate on"
        return entry
    uris = [m["uri"] for m in tables.meta]
    again = _rescore(runs.reused, eval_dir, uris, collar, skip_overlap) if runs.reused else {}
    if again is None:  # RTTMs made for other meetings: forget them and diarize every run
        for reused in runs.reused.values():
            for run in reused.values():
                (run.root / EVAL_DIR / REUSE_FILE).unlink(missing_ok=True)
        return score_heldout(experiment, split=split, n_meetings=n_meetings, collar=collar,
                             skip_overlap=skip_overlap, settings=real_settings)
    _merge_rescored(tables.der, again)
    _write_stamps(experiment, arm, options, runs.predictors, uris)
    entry.update({
        "available": True,
        "data": "synthetic" if arm.source == "synthetic" else "real",
        "arm": arm.name,
        "source": arm.source,
        "origin": origin,
        "meetings": tables.meta,
        "reference_rttm": f"{EVAL_DIR}/reference.rttm",
        "reference_uem": f"{EVAL_DIR}/reference.uem",
        "hypothesis_dirs": _hypothesis_dirs(ed, runs),
        "der": tables.der,
        "baseline_der": tables.baselines,
        "baseline_dirs": {name: f"{EVAL_DIR}/baselines/{name}" for name in BASELINES},
        "failures": failures,
        "overlap_floor": tables.overlap_floor,
        "reused": {a: sorted(r, key=int) for a, r in runs.reused.items()},
    })
    return entry
