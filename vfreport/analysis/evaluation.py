"""The statistics of the common yardstick (docs/yardstick.md): every run's model diarizes the same
held-out meetings, scored by diarization error rate (DER) with ``pyannote.metrics``; the diarizing,
the files and the scores are :mod:`vfreport.deploy.heldout`'s (its module docstring draws the
pipeline), the tables it returns are summarised here.

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
RTTM, docs/evaluate.md), :func:`vfreport.deploy.heldout.score_real` scores every run's best checkpoint on it the same
way (oracle speech, same baselines, same statistics) into the entry's ``real`` key, with ``data``
"real"; the held-out meetings' entry says ``data`` "synthetic" when its arm's source is.

The diarization and scoring of every run (models, RTTM/UEM files) is :mod:`vfreport.deploy.heldout`
(the meetings, one meeting's diarization, the baselines' segments and the scoring:
:mod:`vfreport.deploy.scoring`, shared with ``vfreport evaluate`` and the int8 check). Everything
here is a pure function over its DER tables but :func:`evaluate_experiment`, which calls it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vfreport import format as F
from vfreport.config import ExperimentConfig
from vfreport.deploy.heldout import score_heldout
from vfreport.deploy.predict import PipelineSettings
from vfreport.deploy.scoring import (
    BASELINE_DESCRIPTIONS,
    COLLAR,
    COMPONENTS,
    DEFAULT_MEETINGS,
    DEFAULT_SPLIT,
    SKIP_OVERLAP,
    corpus_der,
)
from vfreport.experiment.records import Experiment, as_experiment
from vfreport.stats import bootstrap as B
from vfreport.stats.intervals import summarize
from vfreport.stats.results import N_RESAMPLES

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
            uris: Sequence[str], n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
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
                         target: str, baseline: str, alpha: float, n_resamples: int = N_RESAMPLES,
                         seed: int = 0, target_name: str | None = None) -> dict[str, Any]:
    """Per-arm summaries, model-free baselines' corpus DER, comparisons, the hypothesis and the gate.

    ``der``: {arm: {seed: {uri: score}}}; ``baselines``: {name: {uri: score}} (scores of
    :func:`vfreport.deploy.scoring.score`).
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


def add_statistics(entry: dict[str, Any], cfg: ExperimentConfig, n_resamples: int = N_RESAMPLES,
                   seed: int = 0) -> dict[str, Any]:
    """An available ``evaluation`` entry (or its ``real`` one) with :func:`summarize_evaluation` of its
    DER tables merged in; an unavailable one as it is."""
    if entry.get("available"):
        uris = [m["uri"] for m in entry["meetings"]]
        entry.update(summarize_evaluation(entry["der"], entry["baseline_der"], uris, cfg.target.name,
                                          cfg.baseline.name, cfg.thresholds.alpha, n_resamples, seed,
                                          cfg.target.display_name))
    return entry


def evaluate_experiment(experiment: Experiment | Path | str, *, split: str = DEFAULT_SPLIT,
                        n_meetings: int = DEFAULT_MEETINGS, collar: float = COLLAR,
                        skip_overlap: bool = SKIP_OVERLAP, n_resamples: int = N_RESAMPLES,
                        seed: int = 0, settings: PipelineSettings | None = None) -> dict[str, Any]:
    """results.json's ``evaluation`` entry: the held-out meetings diarized and scored by every completed
    run's best.pt (:func:`vfreport.deploy.heldout.score_heldout`, which writes the RTTM and UEM files),
    with the statistics over runs (:func:`summarize_evaluation`) for them and for the config's
    ``[evaluation]`` recordings (``real``). When the meetings cannot be loaded the entry says why, with
    ``available`` False, instead of raising. A path is loaded here
    (:func:`vfreport.experiment.records.load_experiment`)."""
    experiment = as_experiment(experiment)
    cfg = experiment.config
    entry = score_heldout(experiment, split=split, n_meetings=n_meetings, collar=collar,
                          skip_overlap=skip_overlap, settings=settings)
    if "real" in entry:
        add_statistics(entry["real"], cfg, n_resamples, seed)
    return add_statistics(entry, cfg, n_resamples, seed)
