"""The common yardstick (docs/yardstick.md): every run's model diarizes the same held-out meetings,
scored by diarization error rate (DER) with ``pyannote.metrics``.

    the AMI arm's held-out split (synthetic by default; local WAV+RTTM / parquet / hub otherwise)
      --open_meetings--> one meeting at a time: 16 kHz audio, reference turns, UEM (the whole recording)
      --diarize: vfreport predict's sliding windows + clustering of the windows' local speakers
        (speech frames from the reference), each run's best.pt, then cropped to the reference's
        speech--> hypothesis segments
      --written as RTTM (3 decimals), read back--> score with DiarizationErrorRate(collar, skip_overlap)
      --per meeting × run: DER, confusion, missed detection, false alarm--> the ``evaluation`` entry

Oracle speech activity. The model has no non-speech class (training masks silence), so speech
regions come from the reference: they choose the frames ``vfreport predict`` clusters and labels,
and the hypothesis is cropped to the union of the reference turns. Frames where the reference has no speaker are never
hypothesised, so false alarm is 0 by construction and missed detection is the overlapped speech a
one-label-per-frame output cannot cover (plus turns shorter than the 0.1 s minimum segment);
confusion carries the comparison. DER here is not comparable to systems that detect speech
themselves (pyannote 3.1: 18.8 % on AMI headset-mix, no collar, overlap scored).

Scoring convention (``pyannote.metrics.diarization.DiarizationErrorRate``): ``collar`` is the
*total* width of the no-score zone around each reference boundary (pyannote's convention;
md-eval and dscore give it per side, so pyannote's collar 0.5 equals md-eval's 0.25);
:data:`COLLAR` = 0 scores every boundary. ``skip_overlap`` False (:data:`SKIP_OVERLAP`) scores
overlapped speech. The UEM (``eval/reference.uem``) is always passed: each meeting's whole audio.
Hypothesis RTTMs, the reference RTTM and the UEM are written so that anyone can re-score them
with pyannote.metrics and get the numbers of results.json (``tests/test_evaluation.py`` does).

Audio-free baselines on the same meetings and the same speech regions:

- ``one-speaker``: every speech region is one speaker.
- ``position``: what frame position alone gives through the model's own pipeline. A stand-in
  model labels the first half of every window's frames "0" and the second half "1" (the
  ``two-speaker`` convention "0 = who speaks first", majority label by position), and runs
  through the same sliding windows and clustering as the checkpoints: each half window becomes a
  local speaker, so this is the classic uniform-segmentation-then-clustering diarizer, with the
  same embeddings. A model beats it only by finding where the speaker changes inside a window.

The overlap floor (:mod:`vfreport.data.overlap`): ``overlap_floor`` gives, per meeting and
over the corpus, the DER that one label per instant cannot avoid with oracle speech (overlapped
reference speech beyond the first speaker, as pyannote.metrics counts it), computed from the
reference written to ``eval/reference.rttm`` and the UEM.

Statistics (:mod:`vfreport.stats.bootstrap`): per run, the corpus DER (total error over total
reference speech, pyannote's ``abs(metric)``); per arm, its mean over runs with a t-interval (runs
as units). Comparisons (target − baseline arm; target − each model-free baseline) use the
two-level bootstrap, runs resampled within each arm and meetings resampled once per replicate
(the same meetings for both, paired), with a t reference (see that module), rliable's IQM and
probability of improvement. The hypothesis "the target's DER is lower than the baseline arm's"
is one-sided at ``alpha``. The gate for the best/realistic scenarios: the upper end of the
interval for target − model-free baseline is below 0 for both baselines (one speaker; the position
rule, whose segmentation ignores the audio but whose clustering does not, hence "model-free").

Real recordings. When the config names an ``[evaluation]`` set (a folder of recordings with an
RTTM, docs/evaluate.md), :func:`evaluate_real` scores every run's best checkpoint on it the same
way (oracle speech, same baselines, same statistics) into the entry's ``real`` key, with ``data``
"real"; the held-out meetings' entry says ``data`` "synthetic" when its arm's source is.

The meetings, the diarization of one meeting, the baselines' segments and the scoring are
:mod:`vfreport.deploy.scoring` (shared with ``vfreport evaluate`` and the int8 check); the
best checkpoints, :func:`vfreport.deploy.winner.best_checkpoints`. Everything here but
:func:`evaluate_experiment` (the I/O edge: models, RTTM/UEM files) and its helpers is a pure function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vfreport import format as F
from vfreport.config import ArmConfig, ExperimentConfig
from vfreport.data.audio import SAMPLE_RATE
from vfreport.data.geometry import GEOMETRY
from vfreport.data.overlap import overlap_floor
from vfreport.data.recordings import RecordingSet, read_recording
from vfreport.data.rttm import Segment, format_uem, parse_rttm, parse_uem
from vfreport.deploy.predict import PipelineSettings, Predictor, load_predictor
from vfreport.deploy.scoring import (
    BASELINE_DESCRIPTIONS,
    BASELINES,
    COLLAR,
    COMPONENTS,
    DEFAULT_MEETINGS,
    DEFAULT_SPLIT,
    ONE_SPEAKER,
    RTTM_DECIMALS,
    SKIP_OVERLAP,
    Meeting,
    corpus_der,
    diarize,
    evaluation_arm,
    one_speaker_segments,
    open_meetings,
    position_predictor,
    rttm_round_trip,
    score,
    speech_regions,
)
from vfreport.deploy.winner import best_checkpoints
from vfreport.errors import ExperimentError, VfreportError
from vfreport.experiment.layout import (
    ExperimentDir,
    RunDir,
    atomic_write_json,
    atomic_write_text,
    read_json_object,
)
from vfreport.names import run_key
from vfreport.stats import bootstrap as B
from vfreport.stats.intervals import summarize

EVAL_DIR = "eval"
METHOD = ("oracle speech activity: speech regions from the reference (non-speech is never hypothesised, "
          "false alarm is 0 by construction); each run's best checkpoint diarizes every meeting with vfreport "
          "predict's sliding windows (hop half a window); the windows' local speakers (the reference's speech "
          "frames) are embedded by predict's default embedding (Resemblyzer's pretrained GE2E encoder) and "
          "clustered across the meeting, the number of speakers estimated (docs/pipeline.md)")


# ---------------------------------------------------------------------------------------------
# pure: statistics of a score table
# ---------------------------------------------------------------------------------------------


def _cells(table: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str]) -> np.ndarray:
    """{run: {uri: score}} -> (runs, meetings, 2) [error s, total s]."""
    return np.array([[[table[r][u]["error"], table[r][u]["total"]] for u in uris] for r in table], dtype=float)


def _der_matrix(table: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str]) -> np.ndarray:
    return np.array([[table[r][u]["der"] for u in uris] for r in table], dtype=float)


def t_summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean, SD and Student t-interval over runs (the unit of analysis), clipped to [0, 1]
    (:func:`vfreport.stats.intervals.summarize`)."""
    return summarize(values, bounds=(0.0, 1.0)).to_dict()


def compare(x: Mapping[str, Mapping[str, Mapping[str, float]]], y: Mapping[str, Mapping[str, Mapping[str, float]]],
            uris: Sequence[str], n_resamples: int = B.N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """DER of ``x`` − DER of ``y`` (corpus DER over runs and meetings) with the two-level bootstrap,
    its one-sided p for "x lower", rliable's probability of improvement (x lower) and each side's IQM."""
    result = B.bootstrap([_cells(x, uris), _cells(y, uris)], B.difference_of_ratios, n_resamples, seed)
    dx, dy = _der_matrix(x, uris), _der_matrix(y, uris)
    return {
        "estimate": result.estimate,
        "ci95": list(result.ci95),
        "percentile_ci95": list(result.percentile_ci95),
        "se": result.se,
        "df": result.df,
        "p_value": result.p_less,
        "alternative": "less",
        "n": {"runs": [len(x), len(y)], "meetings": len(uris)},
        "probability_of_improvement": B.probability_of_improvement(dx, dy, lower_is_better=True),
        "iqm": [B.iqm(dx), B.iqm(dy)],
        "method": result.method,
    }


def summarize_evaluation(der: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]],
                         baselines: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str],
                         target: str, baseline: str, alpha: float, n_resamples: int = B.N_RESAMPLES,
                         seed: int = 0, target_name: str | None = None) -> dict[str, Any]:
    """Per-arm summaries, model-free baselines' corpus DER, comparisons, the hypothesis and the gate.

    ``der``: {arm: {seed: {uri: score}}}; ``baselines``: {name: {uri: score}} (scores of :func:`score`).
    """
    summary: dict[str, Any] = {}
    for arm, runs in der.items():
        per_run = {seed_: corpus_der(scores) for seed_, scores in runs.items()}
        entry = {k: t_summary([per_run[s][k] for s in runs]) for k in ("der", *COMPONENTS)}
        entry["seeds"] = [int(s) for s in runs]
        entry["iqm"] = B.iqm(_der_matrix(runs, uris)) if runs else None
        summary[arm] = entry
    base_out = {name: {"description": BASELINE_DESCRIPTIONS[name], **corpus_der(scores)}
                for name, scores in baselines.items()}
    comparisons: dict[str, Any] = {}
    have_t, have_b = bool(der.get(target)), bool(der.get(baseline))
    if have_t and have_b:
        comparisons[baseline] = compare(der[target], der[baseline], uris, n_resamples, seed)
    if have_t:
        for i, name in enumerate(baselines):
            comparisons[name] = compare(der[target], {"-": baselines[name]}, uris, n_resamples, seed + 1 + i)
    return {"summary": summary, "baselines": base_out, "comparisons": comparisons,
            "hypothesis": der_hypothesis(comparisons.get(baseline), alpha),
            "gate": der_gate(comparisons, baselines, target_name or target)}


def der_hypothesis(comparison: Mapping[str, Any] | None, alpha: float) -> dict[str, Any]:
    """"The target's DER is lower than the baseline arm's" from :func:`compare`'s entry."""
    name = "Real labels → lower DER on held-out meetings"
    if comparison is None:
        return {"name": name, "verdict": "not testable", "reason": "an arm has no evaluated run", "p_value": None}
    p, ci = comparison["p_value"], comparison["ci95"]
    testable = p is not None and math.isfinite(p)
    verdict = "not testable" if not testable else ("supported" if p < alpha else "not supported")
    return {"name": name, "test": "two-level bootstrap (runs, meetings), one-sided t reference",
            "estimate": comparison["estimate"], "ci95": ci, "p_value": p if testable else None,
            "df": comparison["df"], "alpha": alpha, "n": comparison["n"], "unit": "runs × meetings",
            "verdict": verdict,
            "reason": (f"ΔDER (target − baseline) = {F.points(comparison['estimate'])}, {F.ci_points(ci)}, "
                       f"{F.p_text(p)}") if testable
            else "fewer than two runs or meetings: no interval"}


GATE_NAME = "DER below the model-free baselines"
"""The DER gate's name: one speaker, and the position rule in the model's place (same clustering)."""


def der_gate(comparisons: Mapping[str, Any], baselines: Iterable[str],
             target_name: str = "the target") -> dict[str, Any]:
    """The best/realistic condition: the target's DER beats every model-free baseline, i.e. the upper
    end of the interval for (target − baseline) is below 0. ``passed`` None when not evaluated."""
    parts, passed = [], True
    for name in baselines:
        c = comparisons.get(name)
        if c is None or c["ci95"][1] is None or not math.isfinite(c["ci95"][1]):
            return {"name": GATE_NAME, "passed": None,
                    "sentence": f"DER against the {name} baseline could not be evaluated"}
        ok = c["ci95"][1] < 0
        passed = passed and ok
        parts.append(f"{'below' if c['estimate'] < 0 else 'above'} the {name} baseline by "
                     f"{F.points(abs(c['estimate']), signed=False)} ({F.ci_points(c['ci95'])})")
    what = "beats" if passed else "does not beat"
    return {"name": GATE_NAME, "passed": passed,
            "sentence": f"{target_name}'s DER {what} the model-free baselines: " + "; ".join(parts)}


# ---------------------------------------------------------------------------------------------
# I/O: meetings, runs, files
# ---------------------------------------------------------------------------------------------


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
    from dataclasses import asdict

    from vfreport import __version__

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


def evaluate_real(ed: ExperimentDir, cfg: ExperimentConfig,
                  predictors: Mapping[str, Mapping[str, tuple[Predictor, Path]]], common: Mapping[str, Any], *,
                  n_resamples: int = B.N_RESAMPLES, seed: int = 0,
                  settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Every run's best checkpoint on the config's ``[evaluation]`` recordings (docs/evaluate.md):
    the held-out meetings' method, entry shape and statistics, with ``data`` "real". Files go to
    ``eval/real/`` and ``<run>/eval/real/``; when the recordings cannot be used the entry says why
    (``available`` False)."""
    from vfreport.data.recordings import open_recordings

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
    uris = [m["uri"] for m in tables.meta]
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
        **summarize_evaluation(tables.der, tables.baselines, uris, cfg.target.name, cfg.baseline.name,
                               cfg.thresholds.alpha, n_resamples, seed, cfg.target.display_name),
    })
    return entry


def evaluate_experiment(exp_dir: Path | str, cfg: ExperimentConfig | None = None, *, split: str = DEFAULT_SPLIT,
                        n_meetings: int = DEFAULT_MEETINGS, collar: float = COLLAR,
                        skip_overlap: bool = SKIP_OVERLAP, n_resamples: int = B.N_RESAMPLES,
                        seed: int = 0, settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Diarize the held-out meetings with every completed run's best.pt and score them (module doc).

    Writes ``<exp>/eval/reference.rttm`` and ``reference.uem``, ``<exp>/eval/baselines/<name>/<uri>.rttm``
    and ``<exp>/<arm>/seed-<k>/eval/<uri>.rttm``; returns results.json's ``evaluation`` entry (it
    does not write results.json). Meetings are decoded one at a time and every model runs on each
    before the next. When the meetings cannot be loaded the entry says why, with ``available``
    False, instead of raising. With an ``[evaluation]`` set in the config, the entry's ``real`` key
    holds :func:`evaluate_real`'s.
    """
    from vfreport.config import read_experiment_config

    ed = ExperimentDir(exp_dir)
    cfg = cfg or read_experiment_config(ed.config)
    window_seconds = float(cfg.train.window_seconds)
    convention = {"collar": collar, "collar_convention": "total width (pyannote.metrics); md-eval/dscore per side = "
                  "half of it", "skip_overlap": skip_overlap, "uem": "each meeting's whole recording",
                  "metric": "pyannote.metrics.diarization.DiarizationErrorRate", "rttm_decimals": RTTM_DECIMALS}
    entry: dict[str, Any] = {"available": False, "method": METHOD, "collar": collar, "skip_overlap": skip_overlap,
                             "convention": convention, "split": split, "window_seconds": window_seconds,
                             "pipeline": asdict(settings or PipelineSettings())}
    arm = evaluation_arm(cfg)
    if arm is None:
        entry["reason"] = "no arm with dataset 'ami' holds meetings to diarize"
        return entry
    failures: list[str] = []
    predictors: dict[str, dict[str, tuple[Predictor, Path]]] = {}
    options = {"split": split, "n_meetings": n_meetings, "collar": collar, "skip_overlap": skip_overlap,
               "window_seconds": window_seconds}
    reused: dict[str, dict[str, RunDir]] = {}  # runs whose RTTMs are re-scored, not diarized again
    for arm_name, runs in best_checkpoints(ed, cfg).items():
        predictors[arm_name] = {}
        for seed_, run in runs.items():
            if _reusable(run, _stamp(run, arm, options)):
                reused.setdefault(arm_name, {})[str(seed_)] = run
                continue
            try:
                predictors[arm_name][str(seed_)] = (load_predictor(run.best), run.root / EVAL_DIR)
            except ExperimentError as e:
                failures.append(f"{run_key(arm_name, seed_)}: {e}")
    if not any(predictors.values()) and not reused:
        entry["reason"] = "no completed run has a best checkpoint to evaluate" + (f" ({'; '.join(failures)})"
                                                                                   if failures else "")
        return entry
    if cfg.evaluation is not None:  # the config's real recordings, whatever becomes of the held-out meetings
        entry["real"] = evaluate_real(ed, cfg, predictors, entry, n_resamples=n_resamples, seed=seed,
                                      settings=settings)
    eval_dir = ed.root / EVAL_DIR
    try:
        meetings, origin = open_meetings(arm, split, n_meetings, window_seconds, failures)
        tables = _score_meetings(meetings, predictors, eval_dir, "", window_seconds, collar, skip_overlap,
                                 settings=settings)
    except VfreportError as e:
        entry["reason"] = f"cannot load the held-out meetings of {arm.name!r} split {split!r}: {e}"
        return entry
    der, baselines, meta = tables.der, tables.baselines, tables.meta
    if not meta:
        entry["reason"] = f"{origin}: no meetings in split {split!r} to evaluate on"
        return entry
    uris = [m["uri"] for m in meta]
    th = cfg.thresholds
    again = _rescore(reused, eval_dir, uris, collar, skip_overlap) if reused else {}
    if again is None:  # RTTMs made for other meetings: forget them and diarize every run
        for runs in reused.values():
            for run in runs.values():
                (run.root / EVAL_DIR / REUSE_FILE).unlink(missing_ok=True)
        return evaluate_experiment(exp_dir, cfg, split=split, n_meetings=n_meetings, collar=collar,
                                   skip_overlap=skip_overlap, n_resamples=n_resamples, seed=seed)
    for arm_name, scores in again.items():
        der.setdefault(arm_name, {}).update(scores)
        der[arm_name] = dict(sorted(der[arm_name].items(), key=lambda kv: int(kv[0])))
    for arm_name, runs in best_checkpoints(ed, cfg).items():
        for seed_, run in runs.items():
            if str(seed_) in predictors.get(arm_name, {}):
                atomic_write_json(run.root / EVAL_DIR / REUSE_FILE,
                                  {"stamp": _stamp(run, arm, options), "uris": list(uris)})
    stats = summarize_evaluation(der, baselines, uris, cfg.target.name, cfg.baseline.name, th.alpha, n_resamples, seed,
                                 cfg.target.display_name)
    entry.update({
        "available": True,
        "data": "synthetic" if arm.source == "synthetic" else "real",
        "arm": arm.name,
        "source": arm.source,
        "origin": origin,
        "meetings": meta,
        "reference_rttm": f"{EVAL_DIR}/reference.rttm",
        "reference_uem": f"{EVAL_DIR}/reference.uem",
        "hypothesis_dirs": {a: {k: str(out.relative_to(ed.root)) for k, (_, out) in runs.items()}
                            for a, runs in predictors.items()},
        "der": der,
        "baseline_der": baselines,
        "baseline_dirs": {name: f"{EVAL_DIR}/baselines/{name}" for name in BASELINES},
        "failures": failures,
        "overlap_floor": tables.overlap_floor,
        **stats,
    })
    for arm_name, runs in reused.items():
        entry["hypothesis_dirs"].setdefault(arm_name, {}).update(
            {k: str((run.root / EVAL_DIR).relative_to(ed.root)) for k, run in runs.items()})
    entry["reused"] = {a: sorted(runs, key=int) for a, runs in reused.items()}
    return entry
