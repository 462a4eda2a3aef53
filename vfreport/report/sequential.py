"""The sequential design in words: the report's "Sequential design" section (from results.json's
``sequential`` entry) and the plain-text table ``vfreport design`` prints. Formatting only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vfreport.format import num, ok, points, pvalue
from vfreport.report.markup import md_text, table
from vfreport.report.sequential_der import der_sequential_section
from vfreport.report.sequential_parts import (
    DECISIONS,
    looks_done,
    operating_sentence,
    operating_table,
    p_cell,
    t_cell,
    text_table,
    where_sentence,
)
from vfreport.stats.sequential import SequentialDesign

TRUTH_NAMES = {"null": "no difference (Δ = 0)", "min_delta": "smallest worthwhile Δ (min_delta)",
               "expected_gain_0": "expected gain, low end", "expected_gain_1": "expected gain, high end"}

def design_text(design: SequentialDesign) -> str:
    """What ``vfreport design`` prints: boundaries per look, the simulated type-I error, power and
    expected seeds per assumed truth."""
    d = design
    rows = [[str(b.look), str(b.n), f"{b.information:.2f}", p_cell(b.alpha_spent), p_cell(b.efficacy_p),
             f"{t_cell(b.efficacy_t)} / {t_cell(b.efficacy_t_min_df)}", p_cell(b.futility_p),
             num(b.futility_t, 2) if b.futility_t is not None else "—"] for b in d.boundaries]
    out = [f"Group-sequential design: {d.method}.", "",
           text_table(["look", "seeds/arm", "info", "α spent", "efficacy p ≤", "t needed (df 2n-2 / n-1)",
                        "futility p ≤", "(Δ-min_delta)/SE ≤"], rows), ""]
    ratios = ", ".join(f"{r}: {v:.4f}" for r, v in d.type_i_error_by_sd_ratio.items())
    out.append(f"Simulated type-I error (fresh {d.n_sim:,} null paths per SD ratio, futility ignored): "
               f"{d.type_i_error:.4f} at the worst SD ratio (by ratio {ratios}; "
               f"Monte-Carlo SE {d.monte_carlo_se:.4f}); "
               f"{d.type_i_error_with_futility:.4f} with futility obeyed at equal SDs. Target α = {d.alpha:g}.")
    sd_note = " (= min_delta; set it with --sd)" if d.sd_source == "min_delta" else ""
    out.append(f"Assumed seed-to-seed SD of the per-run accuracy: {points(d.sd, signed=False)}{sd_note}, both arms.")
    out.append("")
    out.append(operating_table(d.operating, TRUTH_NAMES, d.looks, "Δ (points)"))
    return "\n".join(out) + "\n"


def sequential_section(results: Mapping[str, Any]) -> str:
    """The report's "Sequential design" section; empty when the experiment was not sequential."""
    seq = results.get("sequential")
    if not isinstance(seq, Mapping):
        return ""
    if (seq.get("design") or {}).get("endpoint") == "der":
        return der_sequential_section(seq)
    d = seq.get("design") or {}
    done = looks_done(seq)
    looks = d.get("looks") or []
    out = ["## Sequential design"]
    where = where_sentence(seq)
    out.append(f"Seeds were added look by look ({', '.join(map(str, looks))} per arm) under a group-sequential "
               f"design: {md_text(d.get('method') or '')}. {where} With looks, H1 is decided by the boundaries "
               "below, not by the fixed-sample p-value in the hypotheses table: it is supported only if it crossed "
               "an efficacy boundary.")
    rows = []
    bounds = {int(b["look"]): b for b in d.get("boundaries") or []}
    for k in sorted(bounds):
        b, r = bounds[k], done.get(k)
        h1 = (r or {}).get("H1") or {}
        fut = f"p ≤ {p_cell(b.get('futility_p'))}" if b.get("futility_p") is not None else "— (last look)"
        ys = (r or {}).get("yardstick")
        rows.append([
            str(k), str(b.get("n")),
            f"p ≤ {p_cell(b.get('efficacy_p'))} (t ≥ {t_cell(b.get('efficacy_t'))} at df {2 * b['n'] - 2})",
            fut,
            points(h1.get("delta")) if r else "not reached",
            f"{num(h1.get('t'), 2)} ({num(h1.get('df'), 1)})" if r else "",
            pvalue(h1.get("p_value")) if r else "",
            (f"{pvalue(ys.get('p_value'))} ({md_text(ys.get('key'))})" if ys else "—") if r else "",
            DECISIONS.get(r.get("decision"), str(r.get("decision"))) if r else "",
        ])
    out.append(table(["Look", "Seeds per arm", "Efficacy boundary (nominal one-sided p)",
                       "Futility boundary (p of Δ < min_delta)", "Δ unbiased acc", "Welch t (df)", "Nominal p",
                       "DER yardstick p", "Decision"], rows))
    ops = operating_sentence(d, TRUTH_NAMES)
    exp_seeds = d.get("expected_seeds") or {}
    null_seeds = num(exp_seeds.get("null"), 1)
    out.append(f"Design, by simulation: type-I error {num(d.get('type_i_error'), 4)} (target α = {d.get('alpha')}; "
               f"worst of the SD ratios {', '.join(str(r) for r in d.get('sd_ratios') or [])} between the arms, "
               f"Monte-Carlo SE {num(d.get('monte_carlo_se'), 4)}). With a seed-to-seed SD of "
               f"{points(d.get('sd'), signed=False)}"
               f"{' (assumed equal to min_delta)' if d.get('sd_source') == 'min_delta' else ''}: {ops}; "
               f"{null_seeds} seeds per arm expected when there is no difference.")
    last = done.get(max(done)) if done else None
    if last:
        h1 = last.get("H1") or {}
        ci = h1.get("ci95_unadjusted")
        ci_text = (f"{points(ci[0])} to {points(ci[1])}" if isinstance(ci, list | tuple) and len(ci) == 2
                   and all(ok(c) for c in ci) else "n/a")
        lcb = h1.get("repeated_lower_bound")
        out.append(f"Estimates and intervals in this report come from a sequential design and are not adjusted "
                   f"for it: at the stopping look Δ = {points(h1.get('delta'))} with the ordinary Welch 95 % CI "
                   f"{ci_text}; after an early stop for efficacy Δ tends to be overestimated and the CI is "
                   f"not exact. The repeated lower confidence bound for Δ, valid whichever look it is read at "
                   f"(Jennison & Turnbull 2000, ch. 9), is {points(lcb) if ok(lcb) else 'n/a'} at this look.")
    return "\n\n".join(out)


__all__ = ["design_text", "sequential_section"]
