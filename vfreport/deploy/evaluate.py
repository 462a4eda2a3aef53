"""`vfreport evaluate`: how a model does on recordings a user brings (docs/evaluate.md).

    MODEL (.onnx / .pt / an experiment folder: every run's best.pt)
    DIR of recordings + RTTM [+ UEM]  --open_recordings (matched by name, checked)-->
      per recording, two conditions:
        own speech     vfreport predict as deployed: the pipeline detects speech itself
        oracle speech  the reference's speech regions (the yardstick's condition, docs/yardstick.md)
      each beside the two model-free baselines (one speaker; the position rule)
      --pyannote.metrics DiarizationErrorRate (collar 0, overlap scored, UEM)--> per recording and corpus
      --> table (stdout), JSON (``--json``), hypothesis RTTMs (``--out``)

Systems and conditions:

- model, *own speech*: :func:`vfreport.deploy.predict.predict_audio` with its own speech detection,
  exactly what ``vfreport predict`` writes.
- model, *oracle speech*: :func:`vfreport.deploy.scoring.diarize`: the reference's speech
  frames are clustered and labelled, the output cropped to the reference's speech (false alarm 0).
- ``position``: the position rule (:func:`vfreport.deploy.scoring.position_predictor`: first
  half of each window one speaker, second half the other) through the same windows, speech frames
  and clustering, in both conditions.
- ``one-speaker``: one label for all speech. Oracle: all reference speech (the yardstick's
  baseline). Own speech: all the speech the pipeline labels (the regions the position rule's
  segments cover, so the same speech detection as the model's), so its missed speech and false
  alarm are the pipeline's, and the model's confusion is what separates them.

Scoring (as pyannote's benchmarks): ``pyannote.metrics.diarization.DiarizationErrorRate`` with
collar 0 (no forgiveness at boundaries) and overlapped speech scored, the UEM given or else each
whole recording. Hypotheses are scored as written to RTTM (millisecond precision), so re-scoring
the ``--out`` files gives the same numbers. Corpus figures are pyannote's corpus DER: the sum of
each error component over the sum of scored reference speech (duration-weighted), per
:func:`vfreport.deploy.scoring.corpus_der`.

Nothing is written until every recording is scored; each file is written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vfreport.data.overlap import overlap_floor
from vfreport.data.recordings import RecordingSet, open_recordings, read_recording
from vfreport.data.rttm import Segment
from vfreport.deploy.predict import (
    DEFAULT_WINDOW_SECONDS,
    PipelineSettings,
    Predictor,
    load_predictor,
    predict_audio,
)
from vfreport.deploy.scoring import (
    BASELINE_DESCRIPTIONS,
    COLLAR,
    COMPONENTS,
    ONE_SPEAKER,
    POSITION,
    RTTM_DECIMALS,
    SKIP_OVERLAP,
    Meeting,
    corpus_der,
    diarize,
    one_speaker_segments,
    position_predictor,
    rttm_round_trip,
    score,
)
from vfreport.errors import ExperimentError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, atomic_write_text
from vfreport.experiment.records import load_experiment
from vfreport.names import run_key

OWN_SPEECH = "own-speech"
ORACLE_SPEECH = "oracle-speech"
CONDITIONS = {
    OWN_SPEECH: "own speech detection: the pipeline detects speech itself (what a user deploys)",
    ORACLE_SPEECH: "oracle speech activity: speech regions from the reference, false alarm 0 by construction "
                   "(what the yardstick uses)",
}
OWN_BASELINES = {
    ONE_SPEAKER: "one speaker for all the speech the pipeline labels (the position rule's speech regions)",
    POSITION: BASELINE_DESCRIPTIONS[POSITION],
}
MODEL = "model"
"""The system name of a single model file (an experiment's runs are named ``<arm>/seed-<k>``)."""


@dataclass
class Evaluation:
    """The numbers (``result``, what ``--json`` holds) and the hypotheses, RTTM text by
    (condition, system, uri), for ``--out``."""

    result: dict[str, Any]
    rttm: dict[tuple[str, str, str], str] = field(default_factory=dict)


def load_models(model: Path | str) -> tuple[dict[str, Predictor], float | None]:
    """``{system name: predictor}`` and the window length to use (None: each model's own).

    A file is one model (``.onnx`` or ``.pt``); an experiment folder gives every completed run's
    best checkpoint, named ``<arm>/seed-<k>``, with the experiment's training window."""
    path = Path(model)
    if not path.is_dir():
        return {MODEL: load_predictor(path)}, None
    ed = ExperimentDir(path)
    if not ed.config.is_file():
        raise ExperimentError(f"{path}: a folder given as MODEL must be an experiment directory "
                              f"(no {ed.config.name}); or give an .onnx or .pt file")
    experiment = load_experiment(path)
    cfg = experiment.config
    models = {run_key(arm, seed): load_predictor(run.best)
              for arm, runs in experiment.best_checkpoints().items() for seed, run in runs.items()}
    if not models:
        raise ExperimentError(f"{path}: no completed run has a best checkpoint (best.pt) to evaluate")
    return models, float(cfg.train.window_seconds)


def _scored(reference: Sequence[Segment], hypothesis: Sequence[Segment], uem: Sequence[tuple[float, float]],
            uri: str) -> tuple[str, dict[str, Any]]:
    """RTTM text of ``hypothesis`` and the score of what it reads back as, with speaker counts."""
    text, back = rttm_round_trip(hypothesis)
    s = score(reference, back, uem, uri, COLLAR, SKIP_OVERLAP)
    s["reference_speakers"] = len({x.speaker for x in reference})
    s["hypothesis_speakers"] = len({x.speaker for x in back})
    return text, s


def evaluate_recordings(models: Mapping[str, Predictor], recordings: RecordingSet,
                        window_seconds: float | None = None, *,
                        settings: PipelineSettings | None = None) -> Evaluation:
    """Score every model and the two model-free baselines on every recording, in both conditions
    (module doc), with predict's pipeline ``settings`` (default: its defaults). Recordings are
    decoded one at a time. The result also holds the references' overlap floor
    (:mod:`vfreport.data.overlap`)."""
    first = next(iter(models.values()))
    if any(p.geometry != first.geometry for p in models.values()):
        raise ExperimentError("the models do not share one frame geometry (sample rate, frame step, n_fft): "
                              "evaluate them one at a time")
    window = window_seconds or first.window_seconds or DEFAULT_WINDOW_SECONDS
    position = position_predictor(first.geometry, window)
    systems = [*models, ONE_SPEAKER, POSITION]
    per: dict[str, dict[str, dict[str, Any]]] = {c: {s: {} for s in systems} for c in CONDITIONS}
    rttm: dict[tuple[str, str, str], str] = {}
    meta = []
    for r in recordings.recordings:
        audio = read_recording(r, first.sample_rate)
        meeting = Meeting(r.uri, audio, r.reference, r.uem)
        position_own = predict_audio(position, audio, r.uri, window, settings=settings)
        hypotheses = {
            OWN_SPEECH: {**{name: predict_audio(p, audio, r.uri, window_seconds, settings=settings)
                            for name, p in models.items()},
                         ONE_SPEAKER: one_speaker_segments(position_own, r.uri), POSITION: position_own},
            ORACLE_SPEECH: {**{name: diarize(p, meeting, window_seconds, settings=settings)
                               for name, p in models.items()},
                            ONE_SPEAKER: one_speaker_segments(r.reference, r.uri),
                            POSITION: diarize(position, meeting, settings=settings)},
        }
        for condition, hyps in hypotheses.items():
            for system, hyp in hyps.items():
                text, per[condition][system][r.uri] = _scored(r.reference, hyp, r.uem, r.uri)
                rttm[(condition, system, r.uri)] = text
        meta.append({"uri": r.uri, "file": r.path.name, "seconds": round(r.seconds, 3),
                     "sample_rate": r.sample_rate, "channels": r.channels,
                     "scored_seconds": round(sum(b - a for a, b in r.uem), 3),
                     "reference_speakers": len({s.speaker for s in r.reference})})
    conditions = {}
    for condition, description in CONDITIONS.items():
        descriptions = {**{name: f"{models[name].path} ({models[name].runtime})" for name in models},
                        **(OWN_BASELINES if condition == OWN_SPEECH else
                           {b: BASELINE_DESCRIPTIONS[b] for b in (ONE_SPEAKER, POSITION)})}
        conditions[condition] = {"description": description, "systems": {
            system: {"description": descriptions[system], "per_recording": scores,
                     "corpus": {**corpus_der(scores), "total": sum(s["total"] for s in scores.values()),
                                "error": sum(s["error"] for s in scores.values())}}
            for system, scores in per[condition].items()}}
    result = {
        "models": {name: {"path": str(p.path), "runtime": p.runtime} for name, p in models.items()},
        "window_seconds": window,
        "audio": str(recordings.audio_dir), "rttm": str(recordings.rttm),
        "uem": str(recordings.uem) if recordings.uem else None,
        "convention": {"metric": "pyannote.metrics.diarization.DiarizationErrorRate", "collar": COLLAR,
                       "skip_overlap": SKIP_OVERLAP, "rttm_decimals": RTTM_DECIMALS,
                       "uem": "the UEM file's regions" if recordings.uem else "each whole recording",
                       "corpus": "sum of each component over the sum of scored reference speech (pyannote's "
                                 "corpus DER, duration-weighted)",
                       "components": "fractions of scored reference speech; der = " + " + ".join(COMPONENTS)},
        "notes": recordings.notes(first.sample_rate),
        "recordings": meta,
        "conditions": conditions,
        "pipeline": asdict(settings or PipelineSettings()),
        "overlap_floor": overlap_floor({r.uri: list(r.reference) for r in recordings.recordings},
                                       {r.uri: list(r.uem) for r in recordings.recordings}),
    }
    return Evaluation(result, rttm)


def write_hypotheses(evaluation: Evaluation, out: Path | str) -> dict[str, dict[str, str]]:
    """``<out>/<condition>/<system>/<uri>.rttm`` for every hypothesis; returns the folders."""
    out = Path(out)
    for (condition, system, uri), text in evaluation.rttm.items():
        atomic_write_text(out / condition / system / f"{uri}.rttm", text)
    return {c: {s: str(out / c / s) for s in cond["systems"]} for c, cond in evaluation.result["conditions"].items()}


def table(result: Mapping[str, Any]):  # -> pandas.DataFrame
    """One row per (condition, system, recording) and a ``corpus`` row per (condition, system);
    DER and components in percent of scored reference speech."""
    import pandas as pd

    rows = []
    for condition, cond in result["conditions"].items():
        for system, entry in cond["systems"].items():
            items = [*entry["per_recording"].items(), ("corpus", entry["corpus"])]
            for uri, s in items:
                rows.append({"condition": condition, "system": system, "recording": uri,
                             "DER %": 100 * s["der"], "missed %": 100 * s["missed_detection"],
                             "false alarm %": 100 * s["false_alarm"], "confusion %": 100 * s["confusion"],
                             "ref spk": s.get("reference_speakers"), "hyp spk": s.get("hypothesis_speakers")})
    return pd.DataFrame(rows)


def format_table(result: Mapping[str, Any]) -> str:
    """The table as text: one block per condition, with what the condition and baselines mean."""
    df = table(result)
    speech = sum(s["total"] for s in result["conditions"][ORACLE_SPEECH]["systems"][ONE_SPEAKER]
                 ["per_recording"].values())
    lines = [f"{len(result['recordings'])} recordings, {sum(r['scored_seconds'] for r in result['recordings']):.1f} s "
             f"scored, {speech:.1f} s of reference speech; pyannote.metrics DER, collar 0, overlap scored, UEM: "
             f"{result['uem'] or 'each whole recording'}; corpus = duration-weighted (pyannote's corpus DER)"]
    for condition, cond in result["conditions"].items():
        lines += ["", f"[{condition}] {cond['description']}"]
        lines += [f"  {system}: {entry['description']}" for system, entry in cond["systems"].items()]
        block = df[df["condition"] == condition].drop(columns="condition").copy()
        for col in ("ref spk", "hyp spk"):
            block[col] = block[col].map(lambda v: "" if v is None or v != v else str(int(v)))
        lines.append(block.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    floor = result.get("overlap_floor")
    if floor:
        per = ", ".join(f"{u} {100 * m['floor']:.1f} %" for u, m in floor["meetings"].items())
        lines += ["", f"overlap floor (DER two mutually exclusive labels cannot avoid, even with oracle speech): "
                      f"{100 * floor['corpus']:.1f} % ({per})"]
    return "\n".join(lines)


def evaluate(model: Path | str, audio_dir: Path | str, rttm: Path | str, uem: Path | str | None = None, *,
             out: Path | str | None = None, json_out: Path | str | None = None,
             window_seconds: float | None = None, settings: PipelineSettings | None = None) -> dict[str, Any]:
    """`vfreport evaluate`: check the inputs, score everything, then write ``--out`` RTTMs and the
    ``--json`` file; returns what the JSON holds."""
    recordings = open_recordings(audio_dir, rttm, uem)  # every input problem before any inference
    models, exp_window = load_models(model)
    evaluation = evaluate_recordings(models, recordings, window_seconds or exp_window, settings=settings)
    result = evaluation.result
    if out is not None:
        result["hypothesis_dirs"] = write_hypotheses(evaluation, out)
    if json_out is not None:
        atomic_write_json(json_out, result)
    return result
