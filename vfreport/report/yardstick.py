"""The common yardstick in the report: the DER figure, the Δ-table rows (DER, lift) and the
section "Common yardstick" (docs/yardstick.md), all drawn from results.json's ``evaluation`` and
``arms.<arm>.lift`` (:mod:`vfreport.analysis.yardstick`). Numbers print through
:mod:`vfreport.format`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vfreport import format as F
from vfreport.analysis.lift import describe
from vfreport.report.markup import md_text, table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_NAME = "der_per_meeting"
FIGURE_CAPTION = ("DER per held-out meeting: one point per run (arm colour), model-free baselines as black "
                  "markers; oracle speech activity, so false alarm is 0 and the differences are confusion.")
BASELINE_MARKERS = {"one-speaker": ("X", "one speaker for everything"), "position": ("P", "position rule")}


def _arms(results: Mapping[str, Any]) -> list[str]:
    arms = list(results.get("arms") or {})
    first = [results.get("baseline"), results.get("target")]
    return [a for a in first if a in arms] + [a for a in arms if a not in first]


def _display(results: Mapping[str, Any], arm: str) -> str:
    return ((results.get("arms") or {}).get(arm) or {}).get("display_name") or arm



def _name(results: Mapping[str, Any], arm: str) -> str:
    """The display name as a table cell: raw, since :func:`vfreport.report.markup.table` escapes
    every cell once."""
    return _display(results, arm)


def available(results: Mapping[str, Any]) -> bool:
    ev = results.get("evaluation")
    return bool(ev and ev.get("available") and ev.get("der"))


# ---------------------------------------------------------------------------------------------
# figure
# ---------------------------------------------------------------------------------------------


def der_table(results: Mapping[str, Any]):  # -> pandas.DataFrame
    """Long table: arm, display_name, seed, meeting, der (percent); baselines with seed None."""
    import pandas as pd

    ev = results.get("evaluation") or {}
    rows = []
    for arm, runs in (ev.get("der") or {}).items():
        for seed, meetings in runs.items():
            for uri, s in meetings.items():
                rows.append((arm, _display(results, arm), int(seed), uri, 100 * s["der"]))
    for name, meetings in (ev.get("baseline_der") or {}).items():
        for uri, s in meetings.items():
            rows.append((name, name, None, uri, 100 * s["der"]))
    return pd.DataFrame(rows, columns=["arm", "display_name", "seed", "meeting", "der"])


def der_figure(results: Mapping[str, Any]) -> Figure:
    """DER of every run on every meeting (seaborn strip plot, dodged by arm) with the model-free
    baselines per meeting; the title cites each arm's DER with its interval over runs."""
    import seaborn as sns
    from matplotlib.figure import Figure

    ev = results["evaluation"]
    table = der_table(results)
    arms = [a for a in _arms(results) if a in (ev.get("der") or {})]
    meetings = [m["uri"] for m in ev.get("meetings") or []]
    colors = sns.color_palette("colorblind", max(len(arms), 2))
    palette = {_display(results, a): c for a, c in zip(arms, [colors[1], colors[0], *colors[2:]], strict=False)}
    fig = Figure(figsize=(max(7.5, 1.1 * len(meetings) + 3), 4.8), dpi=120, layout="constrained")
    ax = fig.subplots()
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    runs = table[table["seed"].notna()]
    if not runs.empty:
        sns.stripplot(data=runs, x="meeting", y="der", hue="display_name", order=meetings,
                      hue_order=list(palette), palette=palette, dodge=True, jitter=False, size=6, alpha=0.85, ax=ax)
    for name, (marker, label) in BASELINE_MARKERS.items():
        sub = table[(table["arm"] == name) & table["seed"].isna()].set_index("meeting").reindex(meetings)
        if sub["der"].notna().any():
            ax.scatter(range(len(meetings)), sub["der"], marker=marker, color="black", s=55, zorder=4,
                       label=f"model-free: {label}")
    ax.set_xlabel("held-out meeting")
    ax.set_ylabel("DER (%)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False, loc="best")
    parts = []
    for a in arms:
        s = ((ev.get("summary") or {}).get(a) or {}).get("der") or {}
        parts.append(f"{_display(results, a)} {F.mean_ci_pct(s.get('mean'), s.get('ci95'), s.get('n'))}")
    collar = ev.get("collar")
    ax.set_title("DER per meeting and run (oracle speech, collar "
                 f"{F.num(collar, 2)} s total, overlap {'skipped' if ev.get('skip_overlap') else 'scored'})\n"
                 + "; ".join(parts), fontsize=10)
    return fig


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _der_cell(summary: Mapping[str, Any] | None) -> str:
    s = (summary or {}).get("der") or {}
    return F.mean_ci_pct(s.get("mean"), s.get("ci95"), s.get("n")) if s else "not evaluated"


def _lift_cell(lift: Mapping[str, Any] | None) -> str:
    if not lift or lift.get("mean") is None:
        return "no audio-free baseline recorded"

    ci = lift.get("ci95")
    return f"{describe(lift['mean'])} ({F.ci_points(ci) if ci else 'no CI'}, n = {lift.get('n')})"


def delta_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """Rows for the summary's Δ table: DER on held-out meetings and lift over the audio-free baseline,
    in the columns Metric, baseline arm, target arm, Δ."""
    base, tgt = results.get("baseline"), results.get("target")
    arms = results.get("arms") or {}
    ev = results.get("evaluation") or {}
    rows = []
    if available(results):
        summary = ev.get("summary") or {}
        d = (results.get("delta") or {}).get("der") or {}
        delta = (f"{F.points(d.get('value'))} ({F.ci_points(d.get('ci95'))}; lower is better)"
                 if F.ok(d.get("value")) else "needs both arms")
        rows.append(["DER, held-out meetings", _der_cell(summary.get(base)), _der_cell(summary.get(tgt)), delta])
    if any((arms.get(a) or {}).get("lift") for a in (base, tgt)):
        rows.append(["Lift over audio-free baseline", _lift_cell((arms.get(base) or {}).get("lift")),
                     _lift_cell((arms.get(tgt) or {}).get("lift")), "not differenced (different tasks)"])
    return rows


def _comparison_words(c: Mapping[str, Any], other: str) -> str:
    """A comparison in words that agrees with its interval (lower DER is better): 'beats the
    one-speaker baseline by 26.0 points', 'is worse than …', '… is undecided'."""
    lo, hi, est = c.get("lower_bound"), c.get("upper_bound"), c.get("estimate")
    if not (F.ok(lo) and F.ok(hi)):
        return f"no interval for {other}"
    if hi < 0:
        return f"beats {other} by {F.points(-est, signed=False)}"
    if lo > 0:
        return f"is worse than {other} by {F.points(est, signed=False)}"
    return f"undecided against {other}"


def overlap_floor_sentence(floor: Mapping[str, Any] | None) -> str | None:
    """The architecture's floor beside the DERs (results.json ``evaluation.overlap_floor``, computed by
    :func:`vfreport.data.overlap.overlap_floor`): the DER two mutually exclusive labels cannot avoid on
    these meetings even with oracle speech, corpus and per-meeting range. None when not recorded."""
    if not floor or floor.get("corpus") is None:
        return None
    per = [m["floor"] for m in (floor.get("meetings") or {}).values() if m.get("floor") is not None]
    spread = f" (per meeting {F.pct(min(per))} to {F.pct(max(per))})" if per else ""
    return (f"**Overlap floor: {F.pct(floor['corpus'])}**{spread}: the share of reference speech that overlaps "
            "another speaker beyond the first. The model has two mutually exclusive outputs, so even with oracle "
            "speech it misses this much: DER above the floor is what better training could still win; the floor "
            "itself needs another architecture (an overlap-capable, powerset or multi-label output).")


def comparisons_block(results: Mapping[str, Any], real: bool = False) -> list[str]:
    """The crossed ΔDER comparisons (results.json's ``primary``, or its ``real`` entry: the config's
    real recordings): target − baseline arm, and each arm − each model-free baseline, with the 90 %
    interval whose ends are the one-sided 95 % bounds the decisions read, and the 95 % interval."""
    p = results.get("primary") or {}
    if real:
        p = p.get("real") or {}
    elif p.get("endpoint") != "der":
        return []
    tgt, base = results.get("target"), results.get("baseline")
    rows = []

    def row(arm: str, other_label: str, c: Mapping[str, Any]) -> list[str]:
        level = f"{F.pct(1 - 2 * c['alpha'], 0)} CI" if F.ok(c.get("alpha")) else "90 % CI"
        return [f"{_display(results, arm)} − {other_label}", F.points(c.get("estimate")),
                F.ci_points([c.get("lower_bound"), c.get("upper_bound")], level),
                F.ci_points(c.get("ci95"), "95 % CI"), F.pvalue(c.get("p_value")), F.df_text(c.get("df")),
                _comparison_words(c, other_label)]

    if p.get("comparison"):
        rows.append(row(tgt, _display(results, base), p["comparison"]))
    for arm in _arms(results):
        for name, c in ((p.get("vs_baselines") or {}).get(arm) or {}).items():
            rows.append(row(arm, f"model-free {BASELINE_MARKERS.get(name, ('', name))[1]}", c))
    if not rows:
        return []
    return [table(["ΔDER (negative = first better)", "Δ", "one-sided bounds", "two-sided", "p (one-sided)", "df",
                   "in words (lower DER is better)"], rows), "",
            "Crossed comparison: every run of each arm on the same meetings (runs nested in arms, meetings crossed "
            "with arms), closed-form two-way random-effects ANOVA with a Satterthwaite df, meetings weighted by "
            "their scored reference speech (pyannote's corpus DER); a model-free baseline is one row with no run "
            "variance. The 90 % interval's ends are the one-sided 95 % bounds the decisions read; \"beats\" "
            "means its upper end is below 0.", ""]


def pipeline_words(pipeline: Mapping[str, Any] | None) -> str:
    """How predict's pipeline turned the windows' local speakers into speakers, from the settings
    results.json records (``evaluation.pipeline``, :class:`vfreport.deploy.predict.PipelineSettings`)."""
    p = pipeline or {}
    if p.get("embedding") == "features":
        how = "embedded by their mean log-mel and pitch features and clustered by Ward's method"
    elif p.get("embedding") == "encoder":
        how = ("embedded by the pretrained GE2E speaker encoder (Resemblyzer) and clustered by average linkage on "
               "cosine distance")
    else:
        return "clustered across the meeting (the pipeline's settings are not recorded)"
    if p.get("num_speakers") is not None:
        count = f"into {p['num_speakers']} speakers (given)"
    elif p.get("embedding") == "features":
        count = "into 2 speakers"
    else:
        count = (f"the number of speakers estimated by the distance threshold {F.num(p.get('threshold'), 2)} "
                 f"(clusters of at least {p.get('min_cluster_size')} local speakers)")
    return f"{how}, {count}"


def _method_paragraphs(ev: Mapping[str, Any]) -> list[str]:
    """How the held-out meetings were diarized (oracle speech) and scored, with the files to re-score."""
    meetings = ev.get("meetings") or []
    minutes = sum(m.get("seconds") or 0 for m in meetings) / 60
    return [
        f"Every run's best checkpoint diarized the same {len(meetings)} held-out meetings ({minutes:.1f} min, "
        f"split {md_text(ev.get('split'))} of {md_text(ev.get('origin'))}) with `vfreport predict`'s sliding windows "
        f"({F.num(ev.get('window_seconds'), 1)} s, hop half a window), each window's two local speakers "
        f"{pipeline_words(ev.get('pipeline'))}. "
        "**Oracle speech activity**: speech regions are taken from the reference (the model has no non-speech "
        "class), so non-speech is never hypothesised, false alarm is 0 by construction and these DERs are not "
        "comparable to systems that detect speech themselves.", "",
        f"Scoring: `pyannote.metrics` DiarizationErrorRate, collar {F.num(ev.get('collar'), 2)} s "
        "(pyannote's collar is the total width; md-eval/dscore's is per side, half of it), "
        f"overlap {'skipped' if ev.get('skip_overlap') else 'scored'} (skip_overlap = {ev.get('skip_overlap')}), "
        f"UEM = each meeting's whole recording. Files: `{ev.get('reference_rttm')}`, `{ev.get('reference_uem')}`, "
        "`<arm>/seed-<k>/eval/<uri>.rttm`; re-scoring them with these settings gives the numbers below.", ""]


def _der_table(results: Mapping[str, Any], ev: Mapping[str, Any]) -> list[str]:
    """Each arm's DER and its components beside the model-free baselines', the overlap floor and what
    the baselines are."""
    summary = ev.get("summary") or {}
    rows = []
    for arm in _arms(results):
        s = summary.get(arm)
        if not s:
            continue
        rows.append([_name(results, arm), _der_cell(s), F.pct(s["confusion"]["mean"]),
                     F.pct(s["missed_detection"]["mean"]), F.pct(s["false_alarm"]["mean"]), F.pct(s.get("iqm"))])
    for name, b in (ev.get("baselines") or {}).items():
        label = BASELINE_MARKERS.get(name, ("", name))[1]
        rows.append([f"model-free: {label}", F.pct(b.get("der")), F.pct(b.get("confusion")),
                     F.pct(b.get("missed_detection")), F.pct(b.get("false_alarm")), "—"])
    out = [table(["", "DER (mean over runs, 95 % CI)", "confusion", "missed", "false alarm",
                  "IQM (runs × meetings)"], rows), ""]
    floor = overlap_floor_sentence(ev.get("overlap_floor"))
    if floor:
        out.extend([floor, ""])
    described = [f"{BASELINE_MARKERS.get(n, ('', n))[1]}: {b['description']}"
                 for n, b in (ev.get("baselines") or {}).items() if b.get("description")]
    if described:
        out.append("Baselines without the model on the same meetings and speech regions: " + "; ".join(described)
                   + ".")
        out.append("")
    return out


def _real_block(results: Mapping[str, Any], ev: Mapping[str, Any]) -> list[str]:
    """The crossed comparisons on the config's ``[evaluation]`` recordings (empty without them)."""
    real = comparisons_block(results, real=True)
    if not real:
        return []
    meetings = len(((results.get("primary") or {}).get("real") or {}).get("meetings") or [])
    out = [f"### Real recordings ([evaluation], {meetings} recordings)", "",
           "The same comparison on the real recordings the config names; readiness reads these. Each window's "
           f"two local speakers {pipeline_words((ev.get('real') or {}).get('pipeline'))}.", "", *real]
    real_floor = overlap_floor_sentence((ev.get("real") or {}).get("overlap_floor"))
    if real_floor:
        out += [real_floor, ""]
    return out


def _lift_block(results: Mapping[str, Any]) -> list[str]:
    """Each arm's lift over its audio-free baseline (empty when no run recorded one)."""
    lift_rows = []
    for arm in _arms(results):
        lift = ((results.get("arms") or {}).get(arm) or {}).get("lift")
        if lift:
            lift_rows.append([_name(results, arm), _lift_cell(lift), lift.get("source") or "—"])
    if not lift_rows:
        return []
    return ["### Lift over the audio-free baseline", "",
            "Each run's accuracy minus what an audio-free predictor scores on the same windows (one value "
            "per run, Student t-interval over runs). Best and realistic scenarios need the target's lift "
            f"≥ {F.points(results['thresholds']['min_lift'], 0, signed=False)} with an "
            "interval excluding 0; otherwise the accuracy is explained by window structure.", "",
            table(["", "lift", "accuracy − baseline"], lift_rows), ""]


def section(results: Mapping[str, Any], figure: str | None = None) -> str:
    """"## Common yardstick: DER on held-out meetings" (and lift), or a line saying why it is missing.

    User-supplied text (display names, the data's origin, reasons) goes through
    :func:`vfreport.report.markup.md_text`; ``figure`` (a relative path) embeds the DER figure
    (leave it out when the Figures section shows it)."""
    ev = results.get("evaluation")
    out = ["## Common yardstick: DER on held-out meetings", ""]
    if not ev:
        out.append("Not evaluated: the evaluation step did not run for this report.")
        return "\n".join(out) + "\n"
    if not ev.get("available"):
        out.append(f"Not evaluated: {md_text(ev.get('reason', 'unknown reason'))}.")
        return "\n".join(out) + "\n"
    out += _method_paragraphs(ev) + _der_table(results, ev)
    out += comparisons_block(results) + _real_block(results, ev) + _lift_block(results)
    if figure:
        out += [f"![DER per meeting]({figure})", "", f"*{FIGURE_CAPTION}*", ""]
    return "\n".join(out) + "\n"
