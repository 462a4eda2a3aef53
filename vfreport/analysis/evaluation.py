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

Everything but :func:`open_meetings` (data), :func:`evaluate_experiment` (the I/O edge: models,
RTTM/UEM files) and its helpers is a pure function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vfreport.config import ArmConfig, ExperimentConfig
from vfreport.data.audio import SAMPLE_RATE
from vfreport.data.geometry import GEOMETRY, FrameGeometry
from vfreport.data.recordings import RecordingSet, read_recording
from vfreport.data.rttm import Segment, format_rttm, format_uem, parse_rttm, parse_uem
from vfreport.deploy.predict import Predictor, load_predictor, predict_audio
from vfreport.errors import AudioDecodeError, ExperimentError, VfreportError
from vfreport.experiment.layout import (
    ExperimentDir,
    RunDir,
    atomic_write_json,
    atomic_write_text,
    read_json_object,
)
from vfreport.report import format as F
from vfreport.stats import bootstrap as B
from vfreport.stats.intervals import summarize

DEFAULT_SPLIT = "test"
"""The held-out split the meetings come from (synthetic AMI: speakers disjoint from train/validation)."""
DEFAULT_MEETINGS = 6
"""Meetings evaluated (at most): 6 synthetic 60-s meetings ≈ 2 s of inference per run on 2 cores."""
COLLAR = 0.0
"""pyannote.metrics collar, total width in seconds (md-eval's per-side collar is half of it)."""
SKIP_OVERLAP = False
RTTM_DECIMALS = 3
EVAL_DIR = "eval"
ONE_SPEAKER = "one-speaker"
POSITION = "position"
BASELINES = (ONE_SPEAKER, POSITION)
BASELINE_DESCRIPTIONS = {
    ONE_SPEAKER: "one speaker for all reference speech",
    POSITION: ("no model: frame position stands in for it (first half of each window '0', second half '1') "
               "through the same sliding windows and clustering, i.e. uniform 1-s segments clustered by their "
               "features"),
}
COMPONENTS = ("confusion", "missed_detection", "false_alarm")
_PYANNOTE_KEYS = {"confusion": "confusion", "missed_detection": "missed detection", "false_alarm": "false alarm"}
METHOD = ("oracle speech activity: speech regions from the reference (non-speech is never hypothesised, "
          "false alarm is 0 by construction); each run's best checkpoint diarizes every meeting with vfreport "
          "predict's sliding windows (hop half a window); the windows' local speakers are clustered across the "
          "meeting (Ward, mean log-mel and pitch features of the reference's speech frames)")


@dataclass(frozen=True)
class Meeting:
    """One held-out recording: 16 kHz mono audio, reference turns and its UEM (scored regions)."""

    uri: str
    audio: np.ndarray
    reference: tuple[Segment, ...]
    uem: tuple[tuple[float, float], ...]

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


# ---------------------------------------------------------------------------------------------
# pure: segments
# ---------------------------------------------------------------------------------------------


def speech_regions(segments: Iterable[Segment]) -> list[tuple[float, float]]:
    """The union of the segments' spans, sorted and merged (touching spans join)."""
    spans = sorted((s.start, s.end) for s in segments if s.end > s.start)
    out: list[tuple[float, float]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _quantize(x: float) -> float:
    return round(x, RTTM_DECIMALS)


def crop_to_regions(segments: Iterable[Segment], regions: Sequence[tuple[float, float]]) -> list[Segment]:
    """Each segment intersected with each region; boundaries rounded to the RTTM's millisecond,
    pieces that round to nothing dropped. Sorted by start."""
    out: list[Segment] = []
    for s in segments:
        for a, b in regions:
            lo, hi = _quantize(max(s.start, a)), _quantize(min(s.end, b))
            if hi > lo:
                out.append(Segment(s.uri, lo, _quantize(hi - lo), s.speaker))
    return sorted(out, key=lambda s: (s.start, s.speaker))


def one_speaker_segments(reference: Iterable[Segment], uri: str, label: str = "0") -> list[Segment]:
    """The one-speaker baseline: every reference speech region is speaker ``label``."""
    return crop_to_regions([Segment(uri, 0.0, math.inf, label)], speech_regions(reference))


def position_profile(n_frames: int, switch: float = 0.5) -> np.ndarray:
    """(T, 2) log-probabilities of the position rule: frames before ``switch`` of the window are
    "0", the rest "1" (certain: probabilities 1 and 0, softened to avoid log 0)."""
    first = np.arange(n_frames) < switch * n_frames
    p1 = np.where(first, 1e-6, 1 - 1e-6)
    return np.log(np.stack([1 - p1, p1], axis=-1))


def position_predictor(geometry: FrameGeometry = GEOMETRY, window_seconds: float | None = None,
                       switch: float = 0.5) -> Predictor:
    """A stand-in :class:`Predictor` that ignores the audio and answers :func:`position_profile`,
    so the position baseline goes through exactly the windows and alignment of the checkpoints."""

    def logits(batch: np.ndarray) -> np.ndarray:
        t = geometry.num_frames(batch.shape[1])
        return np.broadcast_to(position_profile(t, switch), (batch.shape[0], t, 2)).astype(np.float32)

    return Predictor(Path("<position rule>"), "audio-free", geometry.sample_rate, geometry.hop, geometry.n_fft,
                     logits, window_seconds)


def reference_speech(meeting: Meeting, geometry: FrameGeometry = GEOMETRY) -> np.ndarray:
    """(frames,) bool: frames whose centre lies in one of the reference's turns (oracle speech)."""
    from vfreport.data.labels import Turns, speaker_activity

    n = geometry.num_frames(len(meeting.audio))
    if not meeting.reference:
        return np.zeros(max(n, 0), dtype=bool)
    turns = Turns.from_segments([(s.start, s.end, s.speaker) for s in meeting.reference])
    return speaker_activity(turns, 0.0, n, geometry).any(axis=1)


def diarize(predictor: Predictor, meeting: Meeting, window_seconds: float | None = None) -> list[Segment]:
    """vfreport predict's segments of ``meeting`` with the reference's speech frames (oracle speech:
    they pick the frames that are clustered and labelled), cropped to the reference's speech."""
    speech = reference_speech(meeting, predictor.geometry)
    segments = predict_audio(predictor, meeting.audio, meeting.uri, window_seconds, speech=speech)
    return crop_to_regions(segments, speech_regions(meeting.reference))


# ---------------------------------------------------------------------------------------------
# pure: scoring
# ---------------------------------------------------------------------------------------------


def _annotation(segments: Iterable[Segment], uri: str):  # -> pyannote.core.Annotation
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    ann = Annotation(uri=uri)
    for i, s in enumerate(segments):
        ann[PSegment(s.start, s.end), f"t{i}"] = s.speaker
    return ann


def _timeline(regions: Sequence[tuple[float, float]], uri: str):  # -> pyannote.core.Timeline
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline

    return Timeline([PSegment(a, b) for a, b in regions], uri=uri)


def score(reference: Sequence[Segment], hypothesis: Sequence[Segment], uem: Sequence[tuple[float, float]],
          uri: str, collar: float = COLLAR, skip_overlap: bool = SKIP_OVERLAP) -> dict[str, float]:
    """DER of one meeting with ``pyannote.metrics.diarization.DiarizationErrorRate`` (UEM passed).

    Returns ``der`` and the components as fractions of the scored reference speech
    (``der = confusion + missed_detection + false_alarm``), plus ``total`` and ``error`` in seconds.
    """
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    d = metric(_annotation(reference, uri), _annotation(hypothesis, uri), uem=_timeline(uem, uri), detailed=True)
    total = float(d["total"])
    error = sum(float(d[_PYANNOTE_KEYS[c]]) for c in COMPONENTS)
    rate = (lambda x: x / total) if total > 0 else (lambda x: float("nan"))
    return {"der": float(d["diarization error rate"]), **{c: rate(float(d[_PYANNOTE_KEYS[c]])) for c in COMPONENTS},
            "total": total, "error": error}


def rttm_round_trip(segments: Sequence[Segment]) -> tuple[str, list[Segment]]:
    """The RTTM text of ``segments`` and the segments read back from it: scoring the read-back
    segments gives exactly what re-scoring the file gives."""
    text = format_rttm(segments, RTTM_DECIMALS)
    back = [s for segs in parse_rttm(text).values() for s in segs]
    return text, back


# ---------------------------------------------------------------------------------------------
# pure: statistics of a score table
# ---------------------------------------------------------------------------------------------


def _cells(table: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str]) -> np.ndarray:
    """{run: {uri: score}} -> (runs, meetings, 2) [error s, total s]."""
    return np.array([[[table[r][u]["error"], table[r][u]["total"]] for u in uris] for r in table], dtype=float)


def _der_matrix(table: Mapping[str, Mapping[str, Mapping[str, float]]], uris: Sequence[str]) -> np.ndarray:
    return np.array([[table[r][u]["der"] for u in uris] for r in table], dtype=float)


def corpus_der(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Total error over total reference speech across meetings (pyannote's ``abs(metric)``), with
    the components on the same denominator."""
    total = sum(s["total"] for s in scores.values())
    if total <= 0:
        return {"der": float("nan"), **{c: float("nan") for c in COMPONENTS}}
    out = {"der": sum(s["error"] for s in scores.values()) / total}
    out.update({c: sum(s[c] * s["total"] for s in scores.values()) / total for c in COMPONENTS})
    return out


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


def evaluation_arm(cfg: ExperimentConfig) -> ArmConfig | None:
    """The arm whose data holds the held-out meetings: the AMI arm (the target when both are)."""
    amis = [a for a in cfg.arms.values() if a.dataset == "ami"]
    return next((a for a in amis if a.role == "target"), amis[0] if amis else None)


def _uri(raw: Any, i: int, seen: set[str]) -> str:
    uri = "_".join(str(raw or f"meeting{i}").split()) or f"meeting{i}"
    while uri in seen:
        uri = f"{uri}_{i}"
    seen.add(uri)
    return uri


def open_meetings(arm: ArmConfig, split: str = DEFAULT_SPLIT, n_meetings: int = DEFAULT_MEETINGS,
                  window_seconds: float = 2.0, skipped: list[str] | None = None) -> tuple[Iterator[Meeting], str]:
    """The first ``n_meetings`` recordings of ``split`` of ``arm`` (any source), decoded one at a
    time (memory holds one meeting), and the source's origin. A recording whose audio cannot be
    decoded is skipped and named in ``skipped`` when ``arm.on_bad_audio`` is "skip"."""
    from vfreport.data.sources import open_reader, open_split
    from vfreport.data.windows import meeting_turns

    src = open_split(arm, split, n_windows=64 * n_meetings, window_seconds=window_seconds)

    def meetings() -> Iterator[Meeting]:
        seen: set[str] = set()
        try:
            for i, row in enumerate(src):
                if len(seen) >= n_meetings:
                    break
                turns = meeting_turns(row)
                try:
                    with open_reader(row) as reader:
                        audio = reader.read_all()
                except AudioDecodeError as e:
                    if arm.on_bad_audio != "skip" or skipped is None:
                        raise
                    skipped.append(str(e))
                    continue
                uri = _uri(row.get("meeting_id") or row.get("uri"), i, seen)
                seconds = len(audio) / SAMPLE_RATE
                ref = [Segment(uri, _quantize(float(a)), _quantize(min(float(b), seconds) - float(a)), turns.names[k])
                       for a, b, k in zip(turns.start, turns.end, turns.speaker, strict=True)
                       if _quantize(min(float(b), seconds)) > _quantize(float(a))]
                yield Meeting(uri, audio, tuple(ref), ((0.0, _quantize(seconds)),))
        finally:
            src.close()

    return meetings(), src.origin


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


def _best_checkpoints(ed: ExperimentDir, cfg: ExperimentConfig) -> dict[str, dict[int, RunDir]]:
    """{arm: {seed: run}} of completed runs that have a best.pt."""
    out: dict[str, dict[int, RunDir]] = {arm: {} for arm in cfg.arms}
    for run in ed.runs():
        if run.arm not in out:
            continue
        try:
            state = run.read_status().get("state")
        except (OSError, ValueError, VfreportError):  # unreadable status.json: not a usable run
            continue
        if state == "completed" and run.best.is_file():
            out[run.arm][run.seed] = run
    return {arm: dict(sorted(runs.items())) for arm, runs in out.items()}


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


def _score_meetings(meetings: Iterable[Meeting], predictors: Mapping[str, Mapping[str, tuple[Predictor, Path]]],
                    eval_dir: Path, subdir: str, window_seconds: float, collar: float,
                    skip_overlap: bool) -> ScoreTables:
    """Diarize each meeting with the baselines and every run (oracle speech), score them, and write
    ``<eval_dir>/baselines/<name>/<uri>.rttm``, ``<run>/eval/<subdir>/<uri>.rttm`` and, when there
    were meetings, ``<eval_dir>/reference.rttm`` and ``reference.uem`` (earlier RTTMs removed first)."""
    for folder in [eval_dir / "baselines" / b for b in BASELINES] + [
            out / subdir for runs in predictors.values() for _, out in runs.values()]:
        _clear_rttms(folder)
    position = position_predictor(GEOMETRY, window_seconds)
    tables = ScoreTables({a: {s: {} for s in r} for a, r in predictors.items()}, {name: {} for name in BASELINES}, [])
    rttm_parts: list[str] = []
    uem_regions: dict[str, list[tuple[float, float]]] = {}
    for m in meetings:
        text, back = rttm_round_trip(m.reference)
        rttm_parts.append(text)
        uem_regions[m.uri] = list(m.uem)
        reference, uem = {m.uri: back}, parse_uem(format_uem({m.uri: list(m.uem)}, RTTM_DECIMALS))
        for name in BASELINES:
            hyp = one_speaker_segments(m.reference, m.uri) if name == ONE_SPEAKER else diarize(position, m)
            tables.baselines[name][m.uri] = _score_written(m, hyp, eval_dir / "baselines" / name / f"{m.uri}.rttm",
                                                           reference, uem, collar, skip_overlap)
        for arm_name, runs in predictors.items():
            for seed_, (predictor, out_dir) in runs.items():
                tables.der[arm_name][seed_][m.uri] = _score_written(
                    m, diarize(predictor, m, window_seconds), out_dir / subdir / f"{m.uri}.rttm", reference, uem,
                    collar, skip_overlap)
        tables.meta.append({"uri": m.uri, "seconds": round(m.seconds, 3),
                            "speech_seconds": round(sum(b - a for a, b in speech_regions(m.reference)), 3),
                            "speakers": len({s.speaker for s in m.reference})})
    if tables.meta:
        atomic_write_text(eval_dir / "reference.rttm", "".join(rttm_parts))
        atomic_write_text(eval_dir / "reference.uem", format_uem(uem_regions, RTTM_DECIMALS))
    return tables


REAL_DIR = "real"
"""Sub-folder of ``eval/`` (and of each run's ``eval/``) for the config's real recordings."""


def real_meetings(recordings: RecordingSet) -> Iterator[Meeting]:
    """The ``[evaluation]`` recordings as meetings, decoded one at a time (16 kHz mono)."""
    for r in recordings.recordings:
        yield Meeting(r.uri, read_recording(r, SAMPLE_RATE), r.reference, r.uem)


def evaluate_real(ed: ExperimentDir, cfg: ExperimentConfig,
                  predictors: Mapping[str, Mapping[str, tuple[Predictor, Path]]], common: Mapping[str, Any], *,
                  n_resamples: int = B.N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Every run's best checkpoint on the config's ``[evaluation]`` recordings (docs/evaluate.md):
    the held-out meetings' method, entry shape and statistics, with ``data`` "real". Files go to
    ``eval/real/`` and ``<run>/eval/real/``; when the recordings cannot be used the entry says why
    (``available`` False)."""
    from vfreport.data.recordings import open_recordings

    ev = cfg.evaluation
    assert ev is not None
    keys = ("method", "collar", "skip_overlap", "convention", "window_seconds")
    entry: dict[str, Any] = {**{k: common[k] for k in keys}, "available": False, "data": "real",
                             "audio": ev.audio, "rttm": ev.rttm, "uem": ev.uem or None}
    entry["convention"] = {**common["convention"],
                           "uem": f"the regions of {ev.uem}" if ev.uem else "each meeting's whole recording"}
    eval_dir = ed.root / EVAL_DIR / REAL_DIR
    try:
        recordings = open_recordings(ev.audio, ev.rttm, ev.uem or None)
        tables = _score_meetings(real_meetings(recordings), predictors, eval_dir, REAL_DIR,
                                 float(common["window_seconds"]), float(common["collar"]), bool(common["skip_overlap"]))
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
        **summarize_evaluation(tables.der, tables.baselines, uris, cfg.target.name, cfg.baseline.name,
                               cfg.thresholds.alpha, n_resamples, seed, cfg.target.display_name),
    })
    return entry


def evaluate_experiment(exp_dir: Path | str, cfg: ExperimentConfig | None = None, *, split: str = DEFAULT_SPLIT,
                        n_meetings: int = DEFAULT_MEETINGS, collar: float = COLLAR,
                        skip_overlap: bool = SKIP_OVERLAP, n_resamples: int = B.N_RESAMPLES,
                        seed: int = 0) -> dict[str, Any]:
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
                             "convention": convention, "split": split, "window_seconds": window_seconds}
    arm = evaluation_arm(cfg)
    if arm is None:
        entry["reason"] = "no arm with dataset 'ami' holds meetings to diarize"
        return entry
    failures: list[str] = []
    predictors: dict[str, dict[str, tuple[Predictor, Path]]] = {}
    options = {"split": split, "n_meetings": n_meetings, "collar": collar, "skip_overlap": skip_overlap,
               "window_seconds": window_seconds}
    reused: dict[str, dict[str, RunDir]] = {}  # runs whose RTTMs are re-scored, not diarized again
    for arm_name, runs in _best_checkpoints(ed, cfg).items():
        predictors[arm_name] = {}
        for seed_, run in runs.items():
            if _reusable(run, _stamp(run, arm, options)):
                reused.setdefault(arm_name, {})[str(seed_)] = run
                continue
            try:
                predictors[arm_name][str(seed_)] = (load_predictor(run.best), run.root / EVAL_DIR)
            except ExperimentError as e:
                failures.append(f"{arm_name}/seed-{seed_}: {e}")
    if not any(predictors.values()) and not reused:
        entry["reason"] = "no completed run has a best checkpoint to evaluate" + (f" ({'; '.join(failures)})"
                                                                                   if failures else "")
        return entry
    if cfg.evaluation is not None:  # the config's real recordings, whatever becomes of the held-out meetings
        entry["real"] = evaluate_real(ed, cfg, predictors, entry, n_resamples=n_resamples, seed=seed)
    eval_dir = ed.root / EVAL_DIR
    try:
        meetings, origin = open_meetings(arm, split, n_meetings, window_seconds, failures)
        tables = _score_meetings(meetings, predictors, eval_dir, "", window_seconds, collar, skip_overlap)
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
    for arm_name, runs in _best_checkpoints(ed, cfg).items():
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
        **stats,
    })
    for arm_name, runs in reused.items():
        entry["hypothesis_dirs"].setdefault(arm_name, {}).update(
            {k: str((run.root / EVAL_DIR).relative_to(ed.root)) for k, run in runs.items()})
    entry["reused"] = {a: sorted(runs, key=int) for a, runs in reused.items()}
    return entry
