"""The review API (docs/review.md): one experiment directory, loaded once, from the per-meeting DER
table down to the error regions of one (arm, run, meeting) and the audio under them.

    review = Review(DIR)                    # results.json, eval/reference.rttm, eval/reference.uem
    review.meeting_table()                  # arm × run × meeting: DER, confusion, missed, false alarm
    review.baseline_table()                 # the model-free baselines per meeting
    review.paired_differences(a, b)         # per meeting: mean DER over runs of a − that of b
    review.errors(arm, run, uri)            # reference / hypothesis / error annotations (pyannote)
    review.regions(arm, run, uri)           # error regions: kind, start, end, reference, model label
    review.clips(arm, run, uri)             # the longest confusions / missed speech, cut from the audio

Errors come from ``pyannote.metrics``, not re-implemented: the hypothesis labels are mapped to
the reference's with ``DiarizationErrorRate.optimal_mapping`` (the Hungarian mapping DER uses), and
``IdentificationErrorAnalysis.difference`` labels every region correct / confusion / missed
detection / false alarm, under the evaluation's collar, overlap rule and UEM. Per meeting the
regions' durations add up to results.json's components (``tests/test_review.py`` checks).

Audio is read through the data layer exactly as the evaluation read it
(:func:`vfreport.deploy.scoring.open_meetings` on the evaluated arm and split; synthetic
meetings are regenerated deterministically by their source), decoded once per meeting and kept.
Only the keys of results.json's ``evaluation`` block that the evaluation writes are required;
anything missing reads as "not available" with a sentence saying why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vfreport.data.audio import SAMPLE_RATE
from vfreport.data.rttm import Segment, parse_rttm, parse_uem
from vfreport.deploy.scoring import open_meetings
from vfreport.errors import ExperimentError, VfreportError
from vfreport.experiment.layout import ExperimentDir, read_json_object
from vfreport.experiment.records import Experiment, load_experiment

CORRECT = "correct"
CONFUSION = "confusion"
MISSED = "missed detection"
FALSE_ALARM = "false alarm"
ERROR_KINDS = (CONFUSION, MISSED, FALSE_ALARM)
"""pyannote.metrics' error labels (``IdentificationErrorAnalysis``), in the report's order."""
COMPONENT_COLUMNS = {"confusion": CONFUSION, "missed_detection": MISSED, "false_alarm": FALSE_ALARM}
"""results.json's component keys -> the error kind they sum."""
MAX_CLIP_SECONDS = 4.0
"""Longest clip cut from an error region (its first seconds): enough to hear who speaks."""
_EPS = 1e-9


@dataclass(frozen=True)
class ErrorRegion:
    """One maximal region of one error kind with one (reference, model) label pair.

    ``model`` is the model's own label as written in its RTTM (None for missed speech);
    ``mapped_to`` the reference speaker that label is mapped to by the optimal mapping (None when
    it is mapped to nobody)."""

    kind: str
    start: float
    end: float
    reference: str | None
    model: str | None
    mapped_to: str | None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class MeetingErrors:
    """The pyannote annotations of one (arm, run, meeting) and the regions derived from them."""

    arm: str
    run: str
    uri: str
    reference: Any  # pyannote.core.Annotation, reference speakers
    hypothesis: Any  # pyannote.core.Annotation, the model's own labels
    analysis: Any  # pyannote.core.Annotation, labels (kind, reference, mapped model label)
    mapping: dict[str, str]  # model label -> reference speaker
    regions: tuple[ErrorRegion, ...]  # error regions only (no "correct"), longest first
    uem: tuple[tuple[float, float], ...]

    def seconds(self, kind: str) -> float:
        return sum(r.duration for r in self.regions if r.kind == kind)


@dataclass(frozen=True)
class Clip:
    """Audio under (the first :data:`MAX_CLIP_SECONDS` of) one error region, 16 kHz mono float.

    ``first_sample``/``stop_sample`` index the meeting's audio: ``samples`` is
    ``audio[first_sample:stop_sample]``."""

    uri: str
    region: ErrorRegion
    first_sample: int
    stop_sample: int
    samples: np.ndarray
    caption: str

    @property
    def seconds(self) -> float:
        return (self.stop_sample - self.first_sample) / SAMPLE_RATE


@dataclass(frozen=True)
class Case:
    """One (arm, run, meeting) worth looking at, and why."""

    arm: str
    run: str
    uri: str
    why: str


# ---------------------------------------------------------------------------------------------
# pure: annotations, mapping, regions, captions
# ---------------------------------------------------------------------------------------------


def annotation(segments: Iterable[Segment], uri: str):  # -> pyannote.core.Annotation
    """Segments as a pyannote Annotation (one track per segment)."""
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    ann = Annotation(uri=uri)
    for i, s in enumerate(segments):
        if s.end > s.start:
            ann[PSegment(s.start, s.end), f"t{i}"] = s.speaker
    return ann


def _timeline(regions: Sequence[tuple[float, float]], uri: str):  # -> pyannote.core.Timeline
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline

    return Timeline([PSegment(a, b) for a, b in regions], uri=uri)


def merge_regions(pieces: Iterable[tuple[float, float, tuple[str, str | None, str | None]]]
                  ) -> list[tuple[float, float, tuple[str, str | None, str | None]]]:
    """Join touching pieces that carry the same label (pyannote splits regions at every boundary of
    either annotation). Sorted by start."""
    by_label: dict[tuple, list[list[float]]] = {}
    for a, b, label in sorted(pieces, key=lambda p: (p[0], p[1])):
        spans = by_label.setdefault(label, [])
        if spans and a <= spans[-1][1] + _EPS:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    out = [(a, b, label) for label, spans in by_label.items() for a, b in spans]
    return sorted(out, key=lambda p: (p[0], p[1], str(p[2])))


def analyse_errors(reference: Sequence[Segment], hypothesis: Sequence[Segment], uem: Sequence[tuple[float, float]],
                   uri: str, collar: float = 0.0, skip_overlap: bool = False,
                   arm: str = "", run: str = "") -> MeetingErrors:
    """Error regions of one meeting with pyannote.metrics (module doc): the optimal mapping of
    ``DiarizationErrorRate``, then ``IdentificationErrorAnalysis.difference``."""
    from pyannote.metrics.diarization import DiarizationErrorRate
    from pyannote.metrics.errors.identification import IdentificationErrorAnalysis

    ref, hyp, uem_tl = annotation(reference, uri), annotation(hypothesis, uri), _timeline(uem, uri)
    der = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    mapping = {str(h): str(r) for h, r in der.optimal_mapping(ref, hyp, uem=uem_tl).items()}
    ref_labels = {str(x) for x in ref.labels()}
    # unmapped model labels keep their name unless it collides with a reference speaker's
    rename = {str(h): mapping.get(str(h), str(h) if str(h) not in ref_labels else f"{h} (model)") for h in hyp.labels()}
    back = {v: k for k, v in rename.items()}
    analysis = IdentificationErrorAnalysis(collar=collar, skip_overlap=skip_overlap).difference(
        ref, hyp.rename_labels(mapping=rename), uem=uem_tl)
    pieces = [(seg.start, seg.end, label) for seg, _, label in analysis.itertracks(yield_label=True)]
    regions = []
    for a, b, (kind, r, h) in merge_regions(pieces):
        if kind == CORRECT:
            continue
        model = back.get(h) if h is not None else None
        regions.append(ErrorRegion(kind, float(a), float(b), None if r is None else str(r), model,
                                   mapping.get(model) if model is not None else None))
    regions.sort(key=lambda x: (-x.duration, x.start))
    return MeetingErrors(arm, run, uri, ref, hyp, analysis, mapping, tuple(regions), tuple(uem))


def clock(seconds: float) -> str:
    """72.43 -> '01:12.4' (minutes:seconds, tenths); hours when needed ('1:02:03.0')."""
    tenths = int(round(seconds * 10))
    h, rest = divmod(tenths, 36000)
    m, t = divmod(rest, 600)
    return f"{h}:{m:02d}:{t / 10:04.1f}" if h else f"{m:02d}:{t / 10:04.1f}"


def caption(region: ErrorRegion, clip_seconds: float | None = None) -> str:
    """'reference: speaker A; model: speaker 1 (mapped to B); 2.3 s at 01:12.4' (a clip shorter
    than its region says so: 'first 4.0 s of 6.2 s at …')."""
    ref = f"speaker {region.reference}" if region.reference is not None else "no speaker"
    if region.model is None:
        model = "no speaker (missed)"
    else:
        model = f"speaker {region.model}" + (f" (mapped to {region.mapped_to})" if region.mapped_to
                                               else " (mapped to no reference speaker)")
    length = f"{region.duration:.1f} s"
    if clip_seconds is not None and clip_seconds < region.duration - 0.05:
        length = f"first {clip_seconds:.1f} s of {length}"
    return f"{region.kind}: reference: {ref}; model: {model}; {length} at {clock(region.start)}"


def cut_clip(audio: np.ndarray, uri: str, region: ErrorRegion, max_seconds: float = MAX_CLIP_SECONDS,
             sample_rate: int = SAMPLE_RATE) -> Clip:
    """The samples under ``region`` (its first ``max_seconds``): sample indices are the region's
    times rounded to the nearest sample, clipped to the audio."""
    first = min(max(int(round(region.start * sample_rate)), 0), len(audio))
    stop = min(int(round(min(region.end, region.start + max_seconds) * sample_rate)), len(audio))
    stop = max(stop, first)
    return Clip(uri, region, first, stop, np.asarray(audio[first:stop]), caption(region, (stop - first) / sample_rate))


def pick_regions(regions: Sequence[ErrorRegion], n_confusions: int = 3, n_missed: int = 1,
                 min_seconds: float = 0.2) -> list[ErrorRegion]:
    """The ``n_confusions`` longest confusions, then the ``n_missed`` longest missed-speech regions
    (each at least ``min_seconds`` long: shorter ones are too short to hear)."""
    longest = sorted(regions, key=lambda r: (-r.duration, r.start))
    conf = [r for r in longest if r.kind == CONFUSION and r.duration >= min_seconds][:n_confusions]
    missed = [r for r in longest if r.kind == MISSED and r.duration >= min_seconds][:n_missed]
    return conf + missed


def median_index(values: Sequence[float]) -> int:
    """Index of the median value (the lower one of the middle two; ties: the first)."""
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    return order[(len(values) - 1) // 2]


# ---------------------------------------------------------------------------------------------
# the experiment
# ---------------------------------------------------------------------------------------------


def _num(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else float("nan")


class Review:
    """An experiment directory opened for review (module doc). Reads results.json and the
    evaluation's reference RTTM/UEM on construction; hypothesis RTTMs and audio on demand, once.
    ``experiment`` is the loaded experiment, or its path: the config (which the audio needs) is then
    loaded on the first :meth:`load_audio`."""

    def __init__(self, experiment: Experiment | Path | str, results: Mapping[str, Any] | None = None) -> None:
        self._experiment = experiment if isinstance(experiment, Experiment) else None
        root = experiment.root if isinstance(experiment, Experiment) else Path(experiment)
        self.exp = ExperimentDir(root.resolve())
        if results is None:
            if not self.exp.results.exists():
                raise ExperimentError(f"{self.exp.results}: missing; run `vfreport report {self.exp.root}` first")
            results = read_json_object(self.exp.results, "results")
        self.results = results
        ev = results.get("evaluation")
        self.evaluation: Mapping[str, Any] = ev if isinstance(ev, Mapping) else {}
        self.collar = _num(self.evaluation.get("collar", 0.0))
        self.skip_overlap = bool(self.evaluation.get("skip_overlap", False))
        self.reason = self._unavailable_reason()
        self.reference: dict[str, list[Segment]] = {}
        self.uem: dict[str, list[tuple[float, float]]] = {}
        if self.reason is None:
            self._read_reference()
        self._errors: dict[tuple[str, str, str], MeetingErrors] = {}
        self._audio: dict[str, np.ndarray] = {}

    # -- what there is ----------------------------------------------------------------------

    def _unavailable_reason(self) -> str | None:
        ev = self.evaluation
        if not ev:
            return "results.json has no held-out evaluation (the DER yardstick was not run)"
        if not ev.get("available"):
            return str(ev.get("reason") or "the held-out evaluation is marked unavailable")
        if not isinstance(ev.get("der"), Mapping) or not ev.get("meetings"):
            return "the held-out evaluation lists no scored meetings"
        return None

    @property
    def available(self) -> bool:
        return self.reason is None

    def _read_reference(self) -> None:
        rttm = self.exp.root / str(self.evaluation.get("reference_rttm") or "eval/reference.rttm")
        uem = self.exp.root / str(self.evaluation.get("reference_uem") or "eval/reference.uem")
        try:
            self.reference = parse_rttm(rttm.read_text(encoding="utf-8"), str(rttm))
            self.uem = parse_uem(uem.read_text(encoding="utf-8"), str(uem)) if uem.exists() else {}
        except OSError as e:
            self.reason = f"cannot read the evaluation's reference ({e})"

    def display_name(self, arm: str) -> str:
        info = (self.results.get("arms") or {}).get(arm) or {}
        return str(info.get("display_name") or arm)

    def arms(self) -> list[str]:
        """Every arm of the experiment (results.json's ``arms``), baseline first, evaluated or not."""
        arms = dict(self.results.get("arms") or {})
        order = [(self.results.get(k) or {}).get("name") if isinstance(self.results.get(k), Mapping) else None
                 for k in ("baseline", "target")]
        first = [a for a in order if a in arms]
        rest = [a for a in arms if a not in first] + [a for a in self._der() if a not in arms]
        return first + rest

    def _der(self) -> Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]:
        der = self.evaluation.get("der") if self.available else None
        return der if isinstance(der, Mapping) else {}

    def runs(self, arm: str) -> list[str]:
        """The evaluated runs (seeds, as strings) of ``arm``, in numeric order; [] if none."""
        runs = self._der().get(arm) or {}
        return sorted((str(k) for k, v in runs.items() if v), key=lambda s: (len(s), s))

    def no_evaluation_sentence(self, arm: str) -> str | None:
        """None when ``arm`` has evaluated runs; otherwise a sentence saying it has none and why."""
        if not self.available:
            return f"The held-out evaluation is not available: {self.reason}."
        if self.runs(arm):
            return None
        return (f"{self.display_name(arm)} has no evaluated run: no completed run of this arm had a best "
                "checkpoint scored on the held-out meetings, so there is nothing to drill into.")

    def meetings(self) -> list[str]:
        """URIs of the evaluated meetings, in evaluation order."""
        if not self.available:
            return []
        return [str(m.get("uri")) for m in self.evaluation.get("meetings") or [] if isinstance(m, Mapping)]

    # -- tables -----------------------------------------------------------------------------

    def meeting_table(self) -> pd.DataFrame:
        """One row per (arm, run, meeting): ``arm, display_name, run, meeting, der, confusion,
        missed_detection, false_alarm, speech_seconds`` (fractions of the scored reference speech,
        as in results.json)."""
        rows = []
        for arm, runs in self._der().items():
            for run in self.runs(arm):
                for uri, s in (runs.get(run) or {}).items():
                    rows.append({"arm": arm, "display_name": self.display_name(arm), "run": run, "meeting": uri,
                                 "der": _num(s.get("der")), **{c: _num(s.get(c)) for c in COMPONENT_COLUMNS},
                                 "speech_seconds": _num(s.get("total"))})
        cols = ["arm", "display_name", "run", "meeting", "der", *COMPONENT_COLUMNS, "speech_seconds"]
        return pd.DataFrame(rows, columns=pd.Index(cols))

    def baseline_table(self) -> pd.DataFrame:
        """One row per (model-free baseline, meeting), same columns as :meth:`meeting_table`
        (``arm`` is the baseline's name, ``run`` is "—")."""
        rows = []
        base = self.evaluation.get("baseline_der") if self.available else None
        for name, scores in (base if isinstance(base, Mapping) else {}).items():
            for uri, s in (scores or {}).items():
                rows.append({"arm": name, "display_name": f"{name} (model-free)", "run": "—", "meeting": uri,
                             "der": _num(s.get("der")), **{c: _num(s.get(c)) for c in COMPONENT_COLUMNS},
                             "speech_seconds": _num(s.get("total"))})
        cols = ["arm", "display_name", "run", "meeting", "der", *COMPONENT_COLUMNS, "speech_seconds"]
        return pd.DataFrame(rows, columns=pd.Index(cols))

    def meeting_summary(self) -> pd.DataFrame:
        """Per meeting (rows, worst target DER first): each arm's mean DER over its runs with the
        range over runs, and each model-free baseline's DER, as fractions."""
        table, base = self.meeting_table(), self.baseline_table()
        out = pd.DataFrame(index=pd.Index(self.meetings(), name="meeting"))
        for arm in self.arms():
            rows = table[table["arm"] == arm]
            if rows.empty:
                continue
            g = rows.groupby("meeting")["der"]
            name = self.display_name(arm)
            out[f"{name}: mean DER"] = g.mean()
            out[f"{name}: min"] = g.min()
            out[f"{name}: max"] = g.max()
        for name, rows in base.groupby("arm", sort=False):
            out[f"{name} (model-free)"] = rows.set_index("meeting")["der"]
        target = self.target_arm()
        key = f"{self.display_name(target)}: mean DER" if target else None
        if key in out.columns:
            out = out.sort_values(key, ascending=False, kind="stable")
        return out

    def target_arm(self) -> str | None:
        """results.json's target arm when it was evaluated, else the last evaluated arm."""
        t = self.results.get("target")
        name = t.get("name") if isinstance(t, Mapping) else None
        if name in self._der():
            return str(name)
        evaluated = [a for a in self.arms() if self.runs(a)]
        return evaluated[-1] if evaluated else None

    def _per_meeting(self, system: str) -> pd.Series:
        """Per-meeting DER of an arm (mean over its runs) or of a model-free baseline."""
        table = self.meeting_table()
        rows = table[table["arm"] == system]
        if not rows.empty:
            return rows.groupby("meeting")["der"].mean()
        base = self.baseline_table()
        rows = base[base["arm"] == system]
        if rows.empty:
            known = [a for a in self.arms() if self.runs(a)] + list(base["arm"].unique())
            raise ExperimentError(f"{system!r} is neither an evaluated arm nor a model-free baseline; "
                                  f"choose from {', '.join(known)}")
        return rows.set_index("meeting")["der"]

    def paired_differences(self, a: str, b: str) -> pd.DataFrame:
        """Per meeting: DER of ``a`` and of ``b`` (an arm: the mean over its runs; a model-free
        baseline: its DER) and ``difference`` = a − b (negative: ``a`` is better there), largest
        difference first. Meetings are the pairing unit; runs of different arms are not paired."""
        x, y = self._per_meeting(a), self._per_meeting(b)
        uris = [u for u in self.meetings() if u in x.index and u in y.index]
        out = pd.DataFrame({a: x.reindex(uris), b: y.reindex(uris)}, index=pd.Index(uris, name="meeting"))
        out["difference"] = out[a] - out[b]
        return out.sort_values("difference", ascending=False, kind="stable")

    def run_der(self, arm: str) -> pd.Series:
        """Corpus DER of each evaluated run of ``arm`` (total error / total reference speech)."""
        out = {}
        for run in self.runs(arm):
            scores = self._der()[arm][run]
            total = sum(_num(s.get("total")) for s in scores.values())
            error = sum(_num(s.get("der")) * _num(s.get("total")) for s in scores.values())
            out[run] = error / total if total > 0 else float("nan")
        return pd.Series(out, name="der", dtype=float)

    def median_run(self, arm: str) -> str | None:
        """The run whose corpus DER is the median of ``arm``'s runs (lower middle for an even count)."""
        der = self.run_der(arm)
        return str(der.index[median_index(list(der.values))]) if len(der) else None

    def informative_cases(self) -> list[Case]:
        """Per evaluated arm: the worst and the median meeting of its median run (one case when
        they coincide)."""
        cases = []
        for arm in self.arms():
            run = self.median_run(arm)
            if run is None:
                continue
            scores = self._der()[arm][run]
            uris = [u for u in self.meetings() if u in scores]
            if not uris:
                continue
            der = [_num(scores[u].get("der")) for u in uris]
            worst = max(range(len(uris)), key=lambda i: (der[i] if math.isfinite(der[i]) else -1, -i))
            median = median_index(der)
            what = f"of {self.display_name(arm)}'s median run (seed {run})"
            cases.append(Case(arm, run, uris[worst], f"worst meeting {what}"))
            if median != worst:
                cases.append(Case(arm, run, uris[median], f"median meeting {what}"))
        return cases

    # -- one (arm, run, meeting) ------------------------------------------------------------

    def _check(self, arm: str, run: str, uri: str) -> None:
        if not self.available:
            raise ExperimentError(f"the held-out evaluation is not available: {self.reason}")
        if not self.runs(arm):
            raise ExperimentError(self.no_evaluation_sentence(arm) or f"unknown arm {arm!r}")
        if str(run) not in self.runs(arm):
            raise ExperimentError(f"{arm!r} has no evaluated run {run!r}; runs: {', '.join(self.runs(arm))}")
        if uri not in self.meetings():
            raise ExperimentError(f"no evaluated meeting {uri!r}; meetings: {', '.join(self.meetings())}")

    def hypothesis_path(self, arm: str, run: str, uri: str) -> Path:
        dirs = self.evaluation.get("hypothesis_dirs") or {}
        rel = (dirs.get(arm) or {}).get(str(run)) if isinstance(dirs, Mapping) else None
        folder = self.exp.root / rel if rel else self.exp.run(arm, int(run)).root / "eval"
        return folder / f"{uri}.rttm"

    def hypothesis(self, arm: str, run: str, uri: str) -> list[Segment]:
        """The run's hypothesis segments for ``uri`` as written by the evaluation (an empty file:
        no segments; a missing file: ExperimentError)."""
        path = self.hypothesis_path(arm, run, uri)
        if not path.exists():
            raise ExperimentError(f"{path}: missing; the evaluation writes it (re-run `vfreport report`)")
        return parse_rttm(path.read_text(encoding="utf-8"), str(path)).get(uri, [])

    def errors(self, arm: str, run: str, uri: str) -> MeetingErrors:
        """Reference, hypothesis and pyannote's error analysis of one (arm, run, meeting), cached."""
        run = str(run)
        key = (arm, run, uri)
        if key not in self._errors:
            self._check(arm, run, uri)
            uem = self.uem.get(uri) or [(0.0, max((s.end for s in self.reference.get(uri, [])), default=0.0))]
            self._errors[key] = analyse_errors(self.reference.get(uri, []), self.hypothesis(arm, run, uri), uem, uri,
                                               self.collar, self.skip_overlap, arm, run)
        return self._errors[key]

    def regions(self, arm: str, run: str, uri: str, kind: str | None = None) -> pd.DataFrame:
        """Error regions (longest first): ``kind, start, end, seconds, reference, model, mapped_to``."""
        regions = [r for r in self.errors(arm, run, uri).regions if kind is None or r.kind == kind]
        return pd.DataFrame([{"kind": r.kind, "start": r.start, "end": r.end, "seconds": r.duration,
                              "reference": r.reference, "model": r.model, "mapped_to": r.mapped_to}
                             for r in regions],
                            columns=pd.Index(["kind", "start", "end", "seconds", "reference", "model", "mapped_to"]))

    def no_errors_sentence(self, arm: str, run: str, uri: str) -> str | None:
        """None when the meeting has error regions; otherwise a sentence saying there are none."""
        e = self.errors(arm, run, uri)
        if e.regions:
            return None
        return (f"No errors on {uri} for {self.display_name(arm)} seed {run}: every scored second of reference "
                "speech is attributed to the right (mapped) speaker, so there is nothing to listen to.")

    # -- audio ------------------------------------------------------------------------------

    def load_audio(self, uris: Iterable[str]) -> dict[str, np.ndarray]:
        """The 16 kHz audio of ``uris``, read through the data layer as the evaluation read it
        (one pass over the evaluated split; decoded meetings are kept)."""
        want = [u for u in dict.fromkeys(uris) if u not in self._audio]
        if want:
            ev = self.evaluation
            if self._experiment is None:
                self._experiment = load_experiment(self.exp.root)
            arm = self._experiment.config.arms.get(str(ev.get("arm")))
            if arm is None:
                raise ExperimentError(f"the evaluated arm {ev.get('arm')!r} is not in {self.exp.config}")
            expected = {str(m.get("uri")): _num(m.get("seconds")) for m in ev.get("meetings") or []}
            try:
                meetings, _ = open_meetings(arm, str(ev.get("split") or "test"), len(expected),
                                            _num(ev.get("window_seconds", 2.0)), [])
                for m in meetings:
                    if m.uri in want:
                        if math.isfinite(expected.get(m.uri, math.nan)) and abs(m.seconds - expected[m.uri]) > 1e-3:
                            raise ExperimentError(f"{m.uri}: the source now gives {m.seconds:.3f} s of audio, the "
                                                  f"evaluation scored {expected[m.uri]:.3f} s; re-run the evaluation")
                        self._audio[m.uri] = m.audio
                    if all(u in self._audio for u in want):
                        break
            except ExperimentError:
                raise
            except VfreportError as e:
                raise ExperimentError(f"cannot load the held-out meetings' audio: {e}") from e
            missing = [u for u in want if u not in self._audio]
            if missing:
                raise ExperimentError(f"the data source no longer has the evaluated meeting(s) {', '.join(missing)}")
        return {u: self._audio[u] for u in uris}

    def audio(self, uri: str) -> np.ndarray:
        return self.load_audio([uri])[uri]

    def clips(self, arm: str, run: str, uri: str, n_confusions: int = 3, n_missed: int = 1,
              max_seconds: float = MAX_CLIP_SECONDS) -> list[Clip]:
        """Clips of the longest confusions and missed-speech regions (:func:`pick_regions`) of one
        (arm, run, meeting), each at most ``max_seconds`` long."""
        picked = pick_regions(self.errors(arm, run, uri).regions, n_confusions, n_missed)
        if not picked:
            return []
        audio = self.audio(uri)
        return [cut_clip(audio, uri, r, max_seconds) for r in picked]


__all__ = [
    "CONFUSION",
    "ERROR_KINDS",
    "FALSE_ALARM",
    "MAX_CLIP_SECONDS",
    "MISSED",
    "Case",
    "Clip",
    "ErrorRegion",
    "MeetingErrors",
    "Review",
    "analyse_errors",
    "annotation",
    "caption",
    "clock",
    "cut_clip",
    "median_index",
    "merge_regions",
    "pick_regions",
]
