"""The results document (report.md) rendered from results.json: a pure function of its inputs.

:func:`render_markdown` fills in the strategy document's "Results Summary" table (same columns,
same rows), then gives the verdict, the hypotheses H1–H3 with their tests, the scenario,
production readiness, success metrics, a power analysis, the figures, the runs, data notes, the
ONNX export and what is needed to reproduce the numbers. Every number comes from ``results``;
nothing is computed here beyond formatting (a CI half-width, a count of seeds).

Every user-supplied string (display names, arm names, error messages, paths) goes through
:func:`md_text`: HTML-significant characters become entities and Markdown syntax is
backslash-escaped, so ``<script>`` shows as text and a ``|`` cannot break a table.

The table helpers (:func:`summary_table`, :func:`hypotheses_table`, :func:`runs_table`) return
plain (unescaped) strings so the review notebook can show the same tables as DataFrames.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

from vfreport import format as F
from vfreport.analysis.verdicts import MIN_DATA_FRACTION
from vfreport.experiment.results_schema import Results
from vfreport.format import MARKS, ci_ok, ci_points, num, pct, points, pvalue
from vfreport.format import ok as _ok
from vfreport.report.markup import code, fence, md_text, table
from vfreport.report.sequential import sequential_section
from vfreport.report.yardstick import FIGURE_CAPTION as DER_FIGURE_CAPTION
from vfreport.report.yardstick import FIGURE_NAME as DER_FIGURE
from vfreport.report.yardstick import delta_rows as yardstick_rows
from vfreport.report.yardstick import section as yardstick_section

STRATEGY_ROWS = ("Best Val Acc", "Train Acc (Epoch 10)", "Val Acc Variance", "Training Stability", "Production Ready")
"""The strategy document's Results Summary rows, in its order."""
UNBIASED_ROW = "Unbiased Acc (drives the verdict)"
NOISE_ROW = "Val Acc Noise (detrended)"
SUMMARY_ROWS = ("Best Val Acc (optimistic)", UNBIASED_ROW, "Train Acc (Epoch 10)",
                "Val Acc Variance (± half range, descriptive)", NOISE_ROW, "Training Stability", "Production Ready")
"""The report's rows: the strategy document's, each starting with its name (:data:`STRATEGY_ROWS`),
with the unbiased accuracy after Best Val Acc and the detrended noise after Val Acc Variance."""
DELTA_HEADER = "Δ Improvement"
OK, WARN, NO = MARKS["ok"], MARKS["warn"], MARKS["no"]
SYNTHETIC_PASS = ("passes on synthetic data; not a production claim: evaluate on real meetings with "
                  "`vfreport evaluate`")
READINESS = {
    "ready": (OK, "Yes", "ready for production deployment"),
    "ready-synthetic": (WARN, "Synthetic pass", SYNTHETIC_PASS),
    "poc": (WARN, "PoC", "suitable for a PoC, needs refinement"),
    "uncertain": (WARN, "Uncertain", "the interval straddles the PoC threshold: more runs needed"),
    "not-assessable": (WARN, "Not assessable", "not assessable with one run (no interval)"),
    "insufficient-data": (WARN, "Insufficient data", "too few windows: no readiness verdict"),
    "data-quality": (NO, "No", "data-quality issues"),
}
ORACLE_NOTE = ("The yardstick uses oracle speech activity (speech regions from the reference), so its DERs are "
               "lower than a full system's, which must also detect speech.")
STABILITY = {"high": (OK, "High"), "moderate": (WARN, "Moderate"), "low": (NO, "Low")}
VERDICT_MARK = {"supported": OK, "not supported": NO, "not decidable": WARN, "not testable": WARN}
FIGURE_CAPTIONS = {
    "learning_curves": ("Learning curves",
                        "Train/validation accuracy and loss per epoch: mean over seeds, band = min–max over "
                        "seeds; the loss panels show the chance level ln 2."),
    "val_acc_variability": ("Validation-accuracy variability",
                            "Epoch-to-epoch changes of val acc over epochs 1–10, and each seed's noise ± half "
                            "range once the learning trend is removed, against the stability / H2 threshold."),
    "best_val_acc": ("Best validation accuracy per seed",
                     "Each seed's best val acc, the arm mean with its 95 % CI, and the readiness thresholds."),
    DER_FIGURE: ("DER per held-out meeting", DER_FIGURE_CAPTION),
}


# ---------------------------------------------------------------------------------------------
# cells (numbers through vfreport.format; accuracies are fractions in results.json)
# ---------------------------------------------------------------------------------------------


def mean_ci_pct(summary: Mapping[str, Any] | None, missing: str = "no completed runs") -> str:
    """'61.5 % (95 % CI 55.1–67.9 %, n = 3)' (:func:`vfreport.format.mean_ci_pct`); 'n/a (reason)'."""
    s = summary or {}
    if not _ok(s.get("mean")):
        return f"n/a ({missing})"
    return F.mean_ci_pct(s["mean"], s.get("ci95"), s.get("n", 0))


def half_range_cell(summary: Mapping[str, Any] | None, missing: str) -> str:
    """'±15.0 %' (the strategy document's notation), with the 95 % CI when there is one (its lower
    end shown at 0 at least: a half-range cannot be negative)."""
    s = summary or {}
    if not _ok(s.get("mean")):
        return f"n/a ({missing})"
    n = s.get("n", 0)
    ci = s.get("ci95")
    ci_text = f"95 % CI ±{100 * max(ci[0], 0):.1f}–{100 * ci[1]:.1f}, " if ci_ok(ci) else ""
    return f"±{pct(s['mean'])} ({ci_text}n = {n})"


def delta_cell(delta: Mapping[str, Any] | None, missing: str = "needs both arms") -> str:
    """'+17.0 points (95 % CI +15.4 to +19.0 points)': the Welch t-interval."""
    d = delta or {}
    if not _ok(d.get("value")):
        return f"n/a ({missing})"
    ci = d.get("ci95")
    if ci_ok(ci):
        return f"{points(d['value'])} ({ci_points(ci)})"
    return f"{points(d['value'])} (no CI: needs 2 runs per arm)"


def duration(seconds: Any) -> str:
    if not _ok(seconds):
        return "n/a"
    s = float(seconds)
    if s < 59.95:
        return f"{s:.1f} s"
    if s < 3599.5:
        minutes, secs = divmod(int(round(s)), 60)
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(int(round(s / 60)), 60)
    return f"{hours} h {minutes:02d} min"


# ---------------------------------------------------------------------------------------------
# the results' structure
# ---------------------------------------------------------------------------------------------


def _arms(results: Mapping[str, Any]) -> dict[str, Any]:
    return dict(results.get("arms") or {})


def arm_order(results: Mapping[str, Any]) -> list[str]:
    """Baseline first, target second, then any other arm."""
    arms = _arms(results)
    first = [a for a in (results.get("baseline"), results.get("target")) if a in arms]
    return first + [a for a in arms if a not in first]


def display_name(results: Mapping[str, Any], arm: str | None) -> str:
    if arm is None:
        return "n/a"
    return str(_arms(results).get(arm, {}).get("display_name") or arm)


def _missing_reason(results: Mapping[str, Any], arm: str, metric: str) -> str:
    a = _arms(results).get(arm) or {}
    if not a.get("n_seeds"):
        if a.get("missing"):
            states = sorted({m.get("state", "?") for m in a["missing"]})
            return f"no completed runs; {len(a['missing'])} {'/'.join(states)}"
        return "no completed runs"
    if metric == "train_acc_epoch10":
        return "no run reached epoch 10"
    if metric in ("val_acc_half_range", "val_acc_jump_std"):
        return "needs at least 2 epochs"
    if metric in ("val_acc_noise_half_range", "val_acc_noise_sd"):
        return "needs at least 6 epochs"
    return "not computable"


def _readiness_cell(code: Any, with_words: bool = True) -> str:
    """'❌ No' (table) or '❌ No (data-quality issues)' (text)."""
    if code not in READINESS:
        return "n/a"
    mark, word, words = READINESS[code]
    return f"{mark} {word}" + (f" ({words})" if with_words else "")


def _stability_cell(code: Any) -> str:
    if code not in STABILITY:
        return "n/a"
    mark, word = STABILITY[code]
    return f"{mark} {word}"


def _category_change(before: Any, after: Any, words: Mapping[str, Any], order: Sequence[str]) -> str:
    if before not in words or after not in words:
        return "n/a (needs both arms)"
    b = words[before][1]
    a = words[after][1]
    if before not in order or after not in order:
        return f"{b} → {a}"
    rank = {c: i for i, c in enumerate(order)}
    trend = "better" if rank[after] < rank[before] else "worse" if rank[after] > rank[before] else "same"
    return f"{b} → {a} ({trend})"


def _basis_note(results: Mapping[str, Any]) -> str:
    return str((results.get("basis") or {}).get("name") or "selection-unbiased accuracy")


def summary_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The strategy document's Results Summary: header and rows as plain text.

    Columns: Metric, baseline display name, target display name, "Δ Improvement". Rows:
    :data:`SUMMARY_ROWS`: the strategy document's ("Best Val Acc" marked optimistic), with
    :data:`UNBIASED_ROW` (what the verdict reads) after "Best Val Acc" and :data:`NOISE_ROW` (what
    stability reads) after "Val Acc Variance".
    """
    b, t = results.get("baseline"), results.get("target")
    arms = _arms(results)
    delta = results.get("delta") or {}
    header = ["Metric", display_name(results, b), display_name(results, t), DELTA_HEADER]
    rows: list[list[str]] = []

    def arm_cells(metric: str, cell: Any) -> list[str]:
        return [cell((arms.get(a) or {}).get(metric), _missing_reason(results, a, metric)) if a in arms
                else "n/a (arm missing)" for a in (b, t)]

    cells = (("best_val_acc", mean_ci_pct), ("unbiased_acc", mean_ci_pct), ("train_acc_epoch10", mean_ci_pct),
             ("val_acc_half_range", half_range_cell), ("val_acc_noise_half_range", half_range_cell))
    for label, (metric, cell) in zip(SUMMARY_ROWS, cells, strict=False):
        rows.append([label, *arm_cells(metric, cell), delta_cell(delta.get(metric))])
    stab = [(arms.get(a) or {}).get("stability") for a in (b, t)]
    rows.append(["Training Stability",
                 *[_stability_cell(s) if s else f"n/a ({_missing_reason(results, a, 'val_acc_noise_half_range')})"
                   for s, a in zip(stab, (b, t), strict=True)],
                 _category_change(stab[0], stab[1], STABILITY, list(STABILITY))])
    ready = [(arms.get(a) or {}).get("production_readiness") for a in (b, t)]
    rows.append(["Production Ready",
                 *[_readiness_cell(r, with_words=False) if r else f"n/a ({_missing_reason(results, a, 'x')})"
                   for r, a in zip(ready, (b, t), strict=True)],
                 _category_change(ready[0], ready[1], READINESS, ("ready", "ready-synthetic", "poc", "data-quality"))])
    rows.extend(yardstick_rows(results))  # DER on held-out meetings, lift over the audio-free baseline
    return header, rows


def _ci_text(key: str, h: Mapping[str, Any]) -> str:
    """The one-sided bound printed beside a one-sided test (H1, H3: lower; H2's ratio: upper)."""
    b = h.get("one_sided_bound")
    if not _ok(b):
        return "n/a"
    level = f"{pct(h['one_sided_level'], 0)} " if _ok(h.get("one_sided_level")) else ""
    if key == "H1":
        return f"Δ ≥ {points(b)} ({level}one-sided, Welch)"
    if key == "H2":
        return f"ratio ≤ {num(b)} ({level}one-sided)"
    return f"mean ≥ {pct(b)} ({level}one-sided)"


def _df_text(df: Any) -> str:
    return F.df_text(df)


def _n_text(results: Mapping[str, Any], h: Mapping[str, Any]) -> str:
    n = h.get("n") or {}
    unit = h.get("unit") or ""
    if not n:
        return "—"
    return ", ".join(f"{display_name(results, a)}: {v}" for a, v in n.items()) + (f" {unit}" if unit else "")


def _effect_text(h: Mapping[str, Any]) -> str:
    es = h.get("effect_size") or {}
    if not es or not _ok(es.get("value")):
        return "n/a"
    return f"{es.get('name', 'effect size')} = {es['value']:.2f}"


def hypotheses_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per hypothesis: claim, test, statistic, df, p, Holm p, effect size, CI, n, verdict."""
    header = ["Hypothesis", "Claim", "Test", "Statistic", "df", "p", "Holm p", "Effect size", "One-sided bound",
              "n", "Verdict"]
    rows = []
    for key, h in (results.get("hypotheses") or {}).items():
        claim = str(h.get("name", "")) + (" (these accuracies measure different tasks: the arms use different label "
                                          "strategies)" if h.get("different_tasks") else "")
        rows.append([key, claim, str(h.get("test", "")), num(h.get("statistic")),
                     _df_text(h.get("df")), pvalue(h.get("p_value")),
                     "primary (full α)" if h.get("family") == "primary" else
                     pvalue(h.get("p_value_holm")) if h.get("in_holm", True) or not h.get("testable") else
                     "not in Holm",
                     _effect_text(h), _ci_text(key, h), _n_text(results, h),
                     f"{VERDICT_MARK.get(h.get('verdict'), '')} {h.get('verdict', 'n/a')}".strip()])
    return header, rows


def runs_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per (arm, seed): state, best epoch, best val acc, unbiased acc, epochs, duration, error/reason."""
    header = ["Arm", "Seed", "State", "Best epoch", "Best val acc", "Unbiased acc", "Epochs", "Duration",
              "Error / note"]
    rows = []
    rank = {a: i for i, a in enumerate(arm_order(results))}
    for r in sorted(results.get("runs") or [], key=lambda r: (rank.get(r.get("arm"), 99), r.get("seed", 0))):
        err = r.get("error")
        note = ""
        if isinstance(err, Mapping):
            note = f"{err.get('type') or 'error'}: {err.get('message') or ''}"
            if err.get("cell") is not None:
                note += f" (cell {err['cell']})"
        elif err:
            note = str(err)
        elif r.get("reason"):
            note = str(r["reason"])
        flags = [f for f in r.get("flags") or [] if f not in note]
        note = "; ".join([x for x in [note, *flags] if x])
        if len(note) > 300:
            note = note[:297] + "…"
        best_epoch = r.get("best_epoch")
        rows.append([display_name(results, r.get("arm")), str(r.get("seed", "")), str(r.get("state", "")),
                     str(best_epoch) if best_epoch is not None else "—", pct(r.get("best_val_acc"), 2),
                     pct(r.get("unbiased_acc"), 2),
                     str(r.get("epochs_completed")) if r.get("epochs_completed") is not None else "—",
                     duration(r.get("seconds")), note or "—"])
    return header, rows


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------


def _min_data_fraction(thresholds: Mapping[str, Any]) -> float:
    """The results' ``min_data_fraction`` (older results.json lack it: the analysis's own)."""
    return thresholds.get("min_data_fraction") or MIN_DATA_FRACTION


def _thresholds(results: Mapping[str, Any]) -> dict[str, Any]:
    return dict(results.get("thresholds") or {})


def _manifest(results: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    if manifest:
        return dict(manifest)
    return dict((results.get("experiment") or {}).get("manifest") or {})


def title_section(results: Mapping[str, Any]) -> str:
    exp = results.get("experiment") or {}
    b, t = results.get("baseline"), results.get("target")
    return f"# {md_text(exp.get('name', 'experiment'))}: {md_text(display_name(results, b))} vs " \
           f"{md_text(display_name(results, t))}"


def verdict_paragraph(results: Mapping[str, Any]) -> str:
    """The one-paragraph verdict: the scenario (its first sentence names the primary endpoint and the
    data it rests on) and readiness with the evidence each arm's rests on."""
    sc = results.get("scenario") or {}
    parts = [f"**Verdict: {md_text(sc.get('title') or sc.get('name') or 'n/a')}.**",
             md_text(sc.get("sentence") or "")]
    ready = []
    for a in arm_order(results):
        arm = _arms(results).get(a) or {}
        code = arm.get("production_readiness")
        ev = (arm.get("readiness") or {}).get("evidence")
        on = f" (on {ev} data)" if ev else ""
        ready.append(f"{md_text(display_name(results, a))} {_readiness_cell(code) if code else 'n/a'}{on}")
    if ready:
        parts.append("Production readiness: " + "; ".join(ready) + ".")
    if (results.get("primary") or {}).get("endpoint") == "der":
        parts.append(ORACLE_NOTE)
    t = results.get("target")
    base = ((results.get("data") or {}).get(t) or {}).get("position_baseline_val_acc") if t else None
    best = ((_arms(results).get(t) or {}).get("unbiased_acc") or {}).get("mean") if t else None
    lift = (_arms(results).get(t) or {}).get("lift") if t else None  # the scenario cites it (yardstick gate)
    if _ok(base) and _ok(best) and not sc.get("position_caveat") and not (lift and _ok(lift.get("mean"))):
        parts.append(f"Note: frame position alone predicts {pct(base)} of {md_text(display_name(results, t))}'s "
                     f"validation frames, so its voices account for {points(best - base)} of its "
                     f"{pct(best)}.")
    return " ".join(p for p in parts if p)


COMPONENT_NAMES = {"run_target": "run (target arm)", "run_other": "run (baseline arm)", "meeting": "meeting",
                   "arm_x_meeting": "arm × meeting", "residual_target": "run × meeting (target arm)",
                   "residual_other": "run × meeting (baseline arm)"}


def primary_section(results: Mapping[str, Any]) -> str:
    """"## Primary endpoint": results.json's ``primary`` block, the bound each decision reads, and
    the testing order."""
    p = results.get("primary") or {}
    if not p:
        return ""
    der = p.get("endpoint") == "der"
    kind = p.get("one_sided_bound_kind") or ("upper" if der else "lower")
    level = pct(p["one_sided_level"], 0) if _ok(p.get("one_sided_level")) else "1 − α"
    thr = points(p.get("threshold"), signed=False)
    rows = [["Endpoint", str(p.get("name") or p.get("endpoint") or "n/a")],
            ["Data", str(p.get("data") or "unknown")]]
    if not p.get("testable"):
        rows.append(["Not testable", str(p.get("reason") or "")])
    rows += [["Estimate" + (" (negative = target better)" if der else ""), points(p.get("estimate"))],
             ["95 % CI (two-sided)", ci_points(p.get("ci95"), "")],
             [f"One-sided {level} {kind} bound", points(p.get("one_sided_bound"))],
             [f"Smallest worthwhile gain ({p.get('threshold_name') or ''})", thr],
             ["df", F.df_text(p.get("df"))], ["SE", points(p.get("se"), 2, signed=False)],
             ["p (one-sided, target better)", pvalue(p.get("p_value"))],
             ["Decision", str(p.get("decision_words") or "n/a")]]
    n = p.get("n") or {}
    if n:
        rows.append(["n", ", ".join(f"{k}: {v if not isinstance(v, float) else num(v, 1)}" for k, v in n.items())])
    comps = p.get("variance_components") or {}
    if comps:
        rows.append(["Variance components (SD, DER points)",
                     "; ".join(f"{COMPONENT_NAMES.get(k, k)} {100 * max(v, 0) ** 0.5:.1f}" for k, v in comps.items()
                               if _ok(v))])
    rows.append(["Method", str(p.get("method") or "n/a")])
    flagged = "; ".join(f"{display_name(results, arm)} seed {f.get('seed')}: {'; '.join(f.get('reasons') or [])}"
                        for arm, fl in (p.get("flagged_runs") or {}).items() for f in fl)
    if flagged:
        rows.append(["Flagged runs", flagged])
        rows.append(["Without the flagged runs", str(p.get("sensitivity") or "n/a")])
        if p.get("sensitivity_h1"):
            rows.append(["H1 sensitivity", str(p["sensitivity_h1"])])
    elif p.get("flag_rule"):
        rows.append(["Flagged runs", f"none ({p['flag_rule']})"])
    if p.get("runs_advice") and p.get("decision") in ("inconclusive", "gain-uncertain"):
        rows.append(["Runs that would decide it", str(p["runs_advice"])])
    out = ["## Primary endpoint", table(["", "Value"], rows)]
    out.append(f"Tested first, at full α = {num(p.get('alpha'), 2)}. Each decision reads one bound: a worthwhile "
               f"improvement when the one-sided {level} bound of the gain clears {thr}; a gain shown, size uncertain, "
               "when it clears 0 only; no worthwhile gain when the two-sided 95 % interval excludes a gain of "
               f"{thr} (a one-sided 97.5 % bound); otherwise not decided. Testing order: "
               f"{md_text(p.get('testing_order') or '')}; the secondary family only qualifies the scenario after a "
               "worthwhile improvement (serial gatekeeping).")
    if der:
        out.append(ORACLE_NOTE)
    return "\n\n".join(out)


def status_line(results: Mapping[str, Any]) -> str:
    exp = results.get("experiment") or {}
    runs = results.get("runs") or []
    states: dict[str, int] = {}
    for r in runs:
        states[r.get("state", "?")] = states.get(r.get("state", "?"), 0) + 1
    counts = ", ".join(f"{v} {md_text(k)}" for k, v in sorted(states.items()))
    version = md_text(exp.get("vfreport_version", "?"))
    return (f"*Generated {md_text(exp.get('generated', 'n/a'))} by vfreport {version} from {len(runs)} runs "
            f"({counts or 'none'}) in {md_text(exp.get('dir', ''))}.*")


def summary_section(results: Mapping[str, Any]) -> str:
    header, rows = summary_table(results)
    th = _thresholds(results)
    notes = ["Mean over completed runs (one per seed) with its 95 % t-interval (accuracies clipped to 0–100 %); "
             f"Δ = {md_text(header[2])} − {md_text(header[1])} in percentage points with the 95 % Welch t-interval."]
    notes.append("Best Val Acc is the strategy document's number: the maximum over epochs of the same validation set "
                 "the epoch is chosen on, so it is optimistic (a model with no skill and 8 points of epoch-to-epoch "
                 f"noise reaches 68 % over 12 epochs). The verdict reads the {UNBIASED_ROW.split(' (')[0].lower()}: "
                 f"{md_text(_basis_note(results))}.")
    if _ok(th.get("max_variance")):
        mv = th["max_variance"]
        notes.append("Val Acc Variance is the strategy document's ± half range of val acc over epochs 1–10: it "
                     "grows with learning as well as with instability (a clean curve rising 50 → 85 % shows ±17.5 %), "
                     "so it is descriptive only. Val Acc Noise removes the learning trend (a cubic in log(epoch) "
                     "fitted over epochs 1–10) and shows the ± half range the remaining epoch-to-epoch noise "
                     f"produces; Training Stability reads it: high if ≤ ±{pct(mv, 0)}, moderate if "
                     f"≤ ±{pct(2 * mv, 0)}, low above.")
    if _ok(th.get("ready")) and _ok(th.get("poc")):
        notes.append(f"Production Ready reads the 95 % interval of the unbiased accuracy: {OK} when it lies above "
                     f"{pct(th['ready'], 0)}, {WARN} PoC when it lies above {pct(th['poc'], 0)}, {NO} when it "
                     f"lies below {pct(th['poc'], 0)}, {WARN} uncertain when it straddles {pct(th['poc'], 0)}, "
                     f"{WARN} insufficient data when an arm got under "
                     f"{pct(_min_data_fraction(th), 0)} of the windows it asked for.")
    baselines = []
    for a in arm_order(results):
        base = ((results.get("data") or {}).get(a) or {}).get("position_baseline_val_acc")
        best = ((_arms(results).get(a) or {}).get("unbiased_acc") or {}).get("mean")
        if _ok(base) and _ok(best):
            baselines.append(f"{md_text(display_name(results, a))} {pct(best)} vs {pct(base)} "
                             f"({points(best - base)})")
    if baselines and not any((_arms(results).get(a) or {}).get("lift") for a in arm_order(results)):  # lift row
        notes.append("Unbiased accuracy vs the position-only baseline (what frame position alone predicts, see Data "
                     "notes): " + "; ".join(baselines) + ".")
    return "## Results Summary\n\n" + table(header, rows) + "\n\n" + " ".join(notes)


def _yes_no(x: Any) -> str:
    return "n/a" if x is None else "yes" if x else "no"


def _interval_text(ci: Any, as_points: bool = True) -> str:
    """An interval entry of results.json ({low, high, method, reliable, note}) in words."""
    if not isinstance(ci, Mapping) or not ci_ok([ci.get("low"), ci.get("high")]):
        return "n/a"
    pair = [ci["low"], ci["high"]]
    text = ci_points(pair, "") if as_points else F.ci_num(pair, label="")
    tail = f"; {ci['note']}" if ci.get("note") else ""
    return f"{text.strip()} ({ci.get('method', '')}{tail})"


def _extra_rows(key: str, h: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    if h.get("unit"):
        rows.append(["Unit", f"{h['unit']} (one value per run)" if h["unit"] == "runs" else str(h["unit"])])
    if _ok(h.get("min_p")):
        rows.append(["Smallest reachable p", f"{h['min_p']:.3g}" + ("" if h.get("decidable", True) else
                                                                     " (not below α: not decidable at this n)")])
    if not h.get("in_holm", True) and h.get("testable"):
        rows.append(["In Holm correction", "no (cannot reach α at this n)"])
    if h.get("family"):
        rows.append(["Family", "primary endpoint (full α)" if h["family"] == "primary" else
                     "secondary (Holm within the family, after the primary endpoint)"])
    if key == "H1":
        if h.get("basis"):
            rows.append(["Accuracy compared", str(h["basis"])])
        if h.get("different_tasks"):
            rows.append(["Different tasks", str(h["different_tasks"])])
        if h.get("ci95"):
            rows.append(["95 % CI (two-sided, Welch)", ci_points(h["ci95"], "")])
        if h.get("bootstrap_ci"):
            rows.append(["Bootstrap 95 % CI (secondary)", _interval_text(h["bootstrap_ci"])])
        eg = h.get("expected_gain")
        if ci_ok(eg):
            rows.append(["Δ in expected range", f"{_yes_no(h.get('in_expected_range'))} (expected "
                                                f"{100 * eg[0]:+.0f} to {100 * eg[1]:+.0f} points)"])
    if key == "H2":
        for k, label in (("target_noise_half_range", "Target noise ± half range (detrended, epochs 1–10)"),
                         ("baseline_noise_half_range", "Baseline noise ± half range (detrended, epochs 1–10)")):
            if k in h:
                rows.append([label, f"±{pct(h[k])}" if _ok(h[k]) else "n/a"])
        if _ok(h.get("max_variance")):
            rows.append([f"Target noise below ±{pct(h['max_variance'], 0)}",
                         _yes_no(h.get("target_below_max_variance"))])
    if key == "H3" and _ok(h.get("threshold")):
        rows.append(["Threshold", f"> {pct(h['threshold'])} train acc at epoch 10"])
    if h.get("caveat"):
        rows.append(["Caveat", str(h["caveat"])])
    return rows


def hypotheses_section(results: Mapping[str, Any]) -> str:
    hyps = results.get("hypotheses") or {}
    if not hyps:
        return "## Hypotheses\n\nNo hypothesis tests in results.json."
    out = ["## Hypotheses (the strategy document's H1–H3)"]
    th = _thresholds(results)
    primary_h1 = (hyps.get("H1") or {}).get("family") == "primary"
    if _ok(th.get("alpha")):
        family = "H2–H3" if primary_h1 else "H1–H3"
        order = ("H1 is the primary endpoint here (no DER evaluation), tested first at full α; " if primary_h1 else
                 "They follow the primary endpoint (ΔDER on the common yardstick, tested first at full α) as the "
                 "secondary family; ")
        out.append(f"{order}{family} are Holm–Bonferroni adjusted within the family, over the tests that ran and can "
                   f"reach α = {th['alpha']:g} at their n. One-sided tests with one value per run (epochs, windows and "
                   "frames of a run are not independent samples); beside each, the matching one-sided "
                   f"{pct(1 - th['alpha'], 0)} bound. A hypothesis is supported when its Holm-adjusted p is "
                   "below α (H2 also needs its thresholds); \"not decidable\" when no outcome could reach α with "
                   "this many runs; \"not testable\" with one run per arm (descriptive only).")
    header, rows = hypotheses_table(results)
    short = [[r[0], r[1], r[10], r[6]] for r in rows]
    out.append(table(["Hypothesis", "Claim", "Verdict", "Holm p"], short))
    for (key, h), row in zip(hyps.items(), rows, strict=True):
        out.append(f"### {md_text(key)}: {md_text(h.get('name', ''))}")
        out.append(f"**{md_text(VERDICT_MARK.get(h.get('verdict'), ''))} {md_text(h.get('verdict', 'n/a'))}.** "
                   f"{md_text(h.get('reason', ''))}")
        fields = [["Test", row[2]], ["Statistic", row[3]], ["df", row[4]], ["p-value", row[5]],
                  ["Holm-adjusted p", row[6]], ["Effect size", row[7]], ["One-sided bound", row[8]], ["n", row[9]],
                  ["Verdict", row[10]], *_extra_rows(key, h)]
        out.append(table(["", "Value"], fields))
    return "\n\n".join(out)


def scenario_section(results: Mapping[str, Any]) -> str:
    sc = results.get("scenario") or {}
    th = _thresholds(results)
    t = results.get("target")
    arms = _arms(results)
    hyps = results.get("hypotheses") or {}
    p = results.get("primary") or {}
    basis = _basis_note(results)
    thr = points(p.get("threshold"), signed=False)
    bound = f"one-sided {pct(p['one_sided_level'], 0)} bound" if _ok(p.get("one_sided_level")) else "bound"
    rows = [[f"Primary: {p.get('label') or p.get('endpoint') or 'n/a'}",
             f"{points(p.get('estimate'))} ({ci_points(p.get('ci95'))}; {bound} {points(p.get('one_sided_bound'))}): "
             f"{p.get('decision_words') or 'n/a'}",
             f"worthwhile when the {bound} of the gain clears {thr}; no worthwhile gain when the 95 % interval "
             f"excludes a gain of {thr}"],
            [f"{display_name(results, t)} {basis}",
             mean_ci_pct((arms.get(t) or {}).get("unbiased_acc"), _missing_reason(results, t, "unbiased_acc")),
             f"after a worthwhile gain, on the 95 % interval's lower end: best case ≥ {pct(th.get('best_case'))} "
             f"with H2; realistic ≥ {pct(th.get('realistic'))}"]]
    for key in ("H1", "H2"):
        if key in hyps and hyps[key].get("family") != "primary":
            rows.append([f"{key} ({hyps[key].get('name', '')})", str(hyps[key].get("verdict", "n/a")),
                         f"secondary family, Holm p {pvalue(hyps[key].get('p_value_holm'))}"])
    for g in sc.get("gates") or []:
        word = "n/a" if g.get("passed") is None else "holds" if g.get("passed") else "fails"
        rows.append([f"Condition: {g.get('name', '')}", word, str(g.get("sentence", ""))])
    return "\n\n".join(["## Scenario",
                        f"**{md_text(sc.get('title') or sc.get('name') or 'n/a')}** "
                        f"(scenario: {md_text(sc.get('name') or 'n/a')}). The numbers behind it, with the rules "
                        "from the experiment config:",
                        table(["Quantity", "Value", "Rule"], rows)])


def readiness_section(results: Mapping[str, Any]) -> str:
    th = _thresholds(results)
    out = ["## Production readiness"]
    if _ok(th.get("ready")) and _ok(th.get("poc")):
        ceiling = (f" An arm whose DER interval does not lie below the ready_der ceiling {pct(th['ready_der'])} is at "
                   "most PoC." if _ok(th.get("ready_der")) else "")
        out.append(f"The strategy document's rule on the 95 % interval of the {md_text(_basis_note(results))} over "
                   "runs (plus the shared test split's own clustered sampling error where the runs recorded it): "
                   f"{OK} its lower end above {pct(th['ready'])}: ready for production deployment; {WARN} its "
                   f"lower end at or above {pct(th['poc'])}: suitable for a PoC, needs refinement; {NO} its upper end "
                   f"below {pct(th['poc'])}: data-quality issues; {WARN} uncertain when it straddles "
                   f"{pct(th['poc'])}; {WARN} not assessable with one run. Capped by the common yardstick: an arm "
                   "whose DER does not beat both model-free baselines (one-sided 95 % bound of each difference below "
                   f"0) is at most PoC.{ceiling} An arm whose evidence is synthetic is never called ready for "
                   f"production: it {SYNTHETIC_PASS}. An arm that got under "
                   f"{pct(_min_data_fraction(th), 0)} of the windows it asked for gets "
                   f"{WARN} insufficient data instead.")
    lines = []
    for a in arm_order(results):
        arm = _arms(results).get(a) or {}
        code = arm.get("production_readiness")
        s = arm.get("unbiased_acc") or {}
        r = arm.get("readiness") or {}
        on = f"on {r['evidence']} data" if r.get("evidence") else "on data of unknown origin"
        if code in READINESS:
            mark, _, words = READINESS[code]
            rule = r.get("accuracy_rule")
            lead = "Capped at PoC" if rule == "ready" and code == "poc" else "Yardstick"
            caps = "".join(f" {lead}: {c}." for c in r.get("caps") or [])
            said = ""
            if rule == "ready" and code != "ready":
                said = f" (its accuracy interval lies above the {pct(th.get('ready'))} ready threshold)"
            elif rule in READINESS and rule != code:
                said = f" (the accuracy rule alone: {READINESS[rule][1]})"
            flags = f" Data: {'; '.join(arm['data_flags'])}." if arm.get("data_flags") else ""
            lines.append(f"- **{md_text(display_name(results, a))}** ({on}): {mark} {words}{said}: "
                         f"{md_text(mean_ci_pct(s))}." + "".join(f" {md_text(x.strip())}" for x in (caps, flags) if x))
        else:
            lines.append(f"- **{md_text(display_name(results, a))}** ({on}): n/a "
                         f"({md_text(_missing_reason(results, a, 'unbiased_acc'))}).")
    out.append("\n".join(lines))
    if (results.get("primary") or {}).get("endpoint") == "der":
        out.append(ORACLE_NOTE)
    return "\n\n".join(out)


def _count(flags: Sequence[Any], what: str, missing: str = "no completed runs") -> str:
    n = sum(bool(f) for f in flags)
    return f"{n} of {len(flags)} seeds {what}" if flags else f"n/a ({missing})"


def success_section(results: Mapping[str, Any]) -> str:
    """The strategy document's Success Metrics, per arm, from the per-seed results."""
    th = _thresholds(results)
    order = arm_order(results)
    arms = _arms(results)
    header = ["Success metric", *[display_name(results, a) for a in order]]
    rows = [
        ["Train loss not stuck at ln 2 ≈ 0.693 (plateau ≥ 3 epochs)",
         *[_count(arms[a].get("plateau") or [], "plateaued", _missing_reason(results, a, "plateau")) for a in order]],
        [f"Train acc at epoch 10 ≥ {pct(th.get('train_acc_epoch10'), 0)}",
         *[mean_ci_pct(arms[a].get("train_acc_epoch10"), _missing_reason(results, a, "train_acc_epoch10"))
           for a in order]],
        [f"Val acc variance < ±{pct(th.get('max_variance'), 0)} (± half range; descriptive)",
         *[half_range_cell(arms[a].get("val_acc_half_range"), _missing_reason(results, a, "val_acc_half_range"))
           for a in order]],
        [f"Val acc noise < ±{pct(th.get('max_variance'), 0)} (detrended)",
         *[half_range_cell(arms[a].get("val_acc_noise_half_range"),
                           _missing_reason(results, a, "val_acc_noise_half_range")) for a in order]],
        ["Best model after epoch 4",
         *[(_count(arms[a].get("best_after_epoch4") or [], "improved after epoch 4",
                   _missing_reason(results, a, "best_epoch")) +
            (f" (best epochs {', '.join(map(str, arms[a].get('best_epoch') or []))})"
             if arms[a].get("best_epoch") else "")) for a in order]],
        [f"Unbiased acc ≥ {pct(th.get('realistic'), 0)} (realistic) / ≥ {pct(th.get('best_case'), 0)} (best case)",
         *[mean_ci_pct(arms[a].get("unbiased_acc"), _missing_reason(results, a, "unbiased_acc")) for a in order]],
    ]
    return "## Success metrics\n\n" + table(header, rows)


def _seeds_cell(e: Mapping[str, Any], max_seeds: Any) -> str:
    top = f"> {max_seeds}" if max_seeds else "more than searched"
    seeds = e.get("seeds")
    lo, hi = (e.get("seeds_range") or [None, None])[:2]
    main = str(seeds) if seeds is not None else top
    rng = f"{lo if lo is not None else top}–{hi if hi is not None else top}"
    return f"{main} (range {rng})"


def power_section(results: Mapping[str, Any]) -> str:
    pw = results.get("power") or {}
    out = ["## How many seeds?"]
    p = results.get("primary") or {}
    if p.get("runs_advice"):
        out.append(f"Primary endpoint ({md_text(p.get('label') or p.get('endpoint'))}): {md_text(p['runs_advice'])}.")
    effects = pw.get("effects") or []
    if not effects:
        why = md_text(pw.get("reason") or "no power analysis in results.json")
        out.append(f"Runs needed cannot be computed: {why}.")
        return "\n\n".join(out)
    names = {"min_delta": "smallest worthwhile Δ (min_delta)", "expected_gain_0": "expected gain, low end",
             "expected_gain_1": "expected gain, high end"}
    n = pw.get("n") or [0, 0]
    power = pct(pw["target_power"], 0) if _ok(pw.get("target_power")) else "80 %"
    rows = [[names.get(e.get("name"), str(e.get("name"))), points(e.get("delta")),
             pct(e.get("power_now"), 0) if _ok(e.get("power_now")) else "n/a",
             _seeds_cell(e, pw.get("max_seeds"))] for e in effects]
    sd_ci = pw.get("sd_ci95")
    sd = points(pw.get("pooled_sd"), signed=False)
    sd_text = f"{sd} (95 % CI {100 * sd_ci[0]:.1f}–{100 * sd_ci[1]:.1f})" if ci_ok(sd_ci) else sd
    out.append(f"H1: power of the one-sided Welch t-test at α = {num(pw.get('alpha'), 3)} (the level it is run at) "
               "for pre-specified differences (not the observed one: observed "
               f"power only restates the p-value), at the current {n[0]} and {n[1]} runs, and the runs per arm that "
               f"reach {power} power. The SD across runs, {sd_text}, is itself uncertain with this many runs; the "
               "range uses the ends of its interval.")
    out.append(table(["Δ", "Value", f"Power now ({n[0]} + {n[1]} runs)", f"Runs per arm for {power}"], rows))
    if pw.get("method"):
        out.append(f"Method: {md_text(pw['method'])}.")
    return "\n\n".join(out)


def figures_section(figures: Mapping[str, str]) -> str:
    if not figures:
        return "## Figures\n\nNo figures: no run has a history yet."
    out = ["## Figures"]
    for name, rel in figures.items():
        title, caption = FIGURE_CAPTIONS.get(name, (name.replace("_", " ").capitalize(), ""))
        href = str(rel).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        out.append(f"![{md_text(title)}]({href})\n\n*{md_text(title)}.* {md_text(caption)}")
    return "\n\n".join(out)


def runs_section(results: Mapping[str, Any]) -> str:
    header, rows = runs_table(results)
    if not rows:
        return "## Runs\n\nNo runs found."
    return "## Runs\n\n" + table(header, rows)


def data_section(results: Mapping[str, Any]) -> str:
    data = results.get("data") or {}
    out = ["## Data notes"]
    if data:
        rows = []
        for a in arm_order(results) + [a for a in data if a not in arm_order(results)]:
            d = data.get(a)
            if d is None:
                continue

            def val(k: str, d: Mapping[str, Any] = d) -> str:
                v = d.get(k)
                if v is None:
                    return "unknown"
                return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)

            base = d.get("position_baseline_val_acc")
            rows.append([display_name(results, a), val("source"), val("label_strategy"), val("train_windows"),
                         val("val_windows"), val("skipped_rows"),
                         pct(base) if isinstance(base, int | float) else "unknown"])
        out.append(table(["Arm", "Source", "Labels", "Train windows", "Val windows", "Skipped rows",
                           "Position-only baseline"], rows))
        out.append("*Position-only baseline*: the validation frame accuracy of the best rule that ignores the audio, "
                   "scored like the model: each frame gets the majority training label at its position in the window; "
                   "under permutation-invariant scoring also the best single speaker change at a fixed frame (which "
                   "includes one label for every frame), if that scores more. Accuracy above it is what the model "
                   "learnt from the audio.")
    notes = []
    for a in arm_order(results):
        arm = _arms(results).get(a) or {}
        for m in arm.get("missing") or []:
            notes.append(f"- {md_text(display_name(results, a))} seed {md_text(m.get('seed'))}: "
                         f"{md_text(m.get('state'))}: {md_text(m.get('reason') or '')} (left out of the statistics)")
    for r in results.get("runs") or []:
        for f in r.get("flags") or []:
            notes.append(f"- {md_text(display_name(results, r.get('arm')))} seed {md_text(r.get('seed'))}: "
                         f"{md_text(f)}")
    for w in (results.get("experiment") or {}).get("warnings") or []:
        notes.append(f"- {md_text(w)}")
    for a in arm_order(results):
        for f in (_arms(results).get(a) or {}).get("data_flags") or []:
            notes.append(f"- {WARN} {md_text(display_name(results, a))} got too few windows: {md_text(f)} (under "
                         f"{pct(_min_data_fraction(_thresholds(results)), 0)} of those asked for: "
                         "insufficient data)")
    out.append("\n".join(notes) if notes else "No runs were left out and no data flags were raised.")
    return "\n\n".join(out)


def onnx_section(results: Mapping[str, Any]) -> str:
    o = results.get("onnx")
    if not o:
        return ""
    tol = o.get("tolerance")
    diff = o.get("max_abs_diff")
    ok = o.get("parity_ok")
    parity = (f"{OK} parity OK" if ok else f"{NO} parity FAILED") if ok is not None else "parity n/a"
    rows = [["File", str(o.get("path") or "not written (parity failed)")],
            ["Model", f"{display_name(results, o.get('arm'))} seed {o.get('seed')} epoch {o.get('epoch')} "
                      f"(val acc {pct(o.get('val_acc'), 2)})"],
            ["ONNX Runtime parity", f"{parity}: max |diff| {diff:.2e} vs tolerance {tol:.0e}"
             if _ok(diff) and _ok(tol) else parity],
            ["Opset", str(o.get("opset", "n/a"))],
            ["Checked input shapes", ", ".join(f"{s[0]}×{s[1]}" for s in o.get("checked_shapes") or []) or "n/a"],
            ["Export time", duration(o.get("export_seconds"))]]
    if o.get("error"):
        rows.append(["Error", str(o["error"])])
    rows.extend(onnx_int8_rows(o.get("int8")))
    return "## ONNX export\n\n" + table(["", "Value"], rows)


def onnx_int8_rows(q: Mapping[str, Any] | None) -> list[list[str]]:
    """The int8 model of ``export-onnx --quantize int8`` (docs/deployment.md): file, size, and its DER
    on the yardstick's meetings beside the fp32 model's, with the 1-point acceptance."""
    if not q:
        return []
    inc, limit = q.get("der_increase_points"), q.get("max_increase_points")
    verdict = (f"{OK} accepted" if q.get("accepted") else f"{NO} REJECTED (not written)") + (
        f": {inc:+.2f} points vs fp32, accepted up to +{limit:g}" if _ok(inc) and _ok(limit) else "")
    size = q.get("size_bytes")
    fp32_size = q.get("fp32_size_bytes")
    return [["int8 model", f"{q.get('path') or 'not written'} ({q.get('method')}, onnxruntime.quantization)"],
            ["int8 size", f"{size / 1e6:.2f} MB vs fp32 {fp32_size / 1e6:.2f} MB"
             if _ok(size) and _ok(fp32_size) else "n/a"],
            ["DER on the yardstick's meetings", f"int8 {pct(q.get('der_int8'), 2)} vs fp32 {pct(q.get('der_fp32'), 2)} "
             f"({len(q.get('meetings') or [])} meetings)"],
            ["int8 verdict (judged by DER)", verdict]] + ([["int8 error", str(q["error"])]] if q.get("error") else [])


def reproducibility_section(results: Mapping[str, Any], manifest: Mapping[str, Any] | None = None) -> str:
    exp = results.get("experiment") or {}
    man = _manifest(results, manifest)
    cfg = exp.get("config") or {}
    out = ["## Reproducibility"]
    rows = [["Experiment directory", str(exp.get("dir", "n/a"))],
            ["Seeds", ", ".join(map(str, (cfg.get("experiment") or {}).get("seeds") or [])) or "n/a"],
            ["vfreport", str(exp.get("vfreport_version") or man.get("vfreport_version") or "n/a")],
            ["Git commit", str(man.get("git_commit") or "unknown")],
            ["Python", str(man.get("python") or "unknown")],
            ["Started / ended", f"{man.get('started') or 'n/a'} / {man.get('ended') or 'n/a'}"]]
    hw = man.get("hardware") or {}
    if hw:
        rows.append(["Hardware", ", ".join(f"{k}: {v}" for k, v in hw.items())])
    pk = man.get("packages") or {}
    if pk:
        rows.append(["Packages", ", ".join(f"{k} {v}" for k, v in pk.items())])
    if man.get("source") == "import" or man.get("imports"):
        rows.append(["Source", "histories imported with vfreport import: the training environment is unknown "
                               "and the [train] settings below are the preset's, not those of the imported runs"])
        for run, info in (man.get("imports") or {}).items():
            rows.append([f"Imported {run}", str((info or {}).get("file", ""))])
    out.append(table(["", "Value"], rows))
    out.append(f"Re-analyse with {code('vfreport report ' + shlex.quote(str(exp.get('dir') or 'DIR')))}; "
               "the resolved experiment "
               "config (experiment.toml):")
    if cfg:
        try:
            toml_text = tomli_w.dumps(cfg)
        except (TypeError, ValueError):
            toml_text = str(cfg)
        out.append(fence(toml_text, "toml"))
    return "\n\n".join(out)


def render_markdown(results: Results, figures: Mapping[str, str],
                    manifest: Mapping[str, Any] | None = None) -> str:
    """The results document for ``results`` (results.json's dict).

    ``figures`` maps figure names to paths relative to the experiment directory (e.g.
    ``figures/learning_curves.png``); ``manifest`` (manifest.json) overrides the copy in
    ``results["experiment"]["manifest"]`` for the reproducibility section.
    """
    sections = [
        title_section(results),
        verdict_paragraph(results),
        status_line(results),
        primary_section(results),
        summary_section(results),
        hypotheses_section(results),
        scenario_section(results),
        yardstick_section(results),
        readiness_section(results),
        success_section(results),
        power_section(results),
        sequential_section(results),
        figures_section(figures),
        runs_section(results),
        data_section(results),
        onnx_section(results),
        reproducibility_section(results, manifest),
    ]
    return "\n\n".join(s for s in sections if s).rstrip() + "\n"
