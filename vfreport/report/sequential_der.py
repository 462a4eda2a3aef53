"""A ΔDER sequential design in words: the plain-text table ``vfreport design --endpoint der``
prints and the report's "Sequential design" section for such a design (results.json's
``sequential`` entry with ``design.endpoint == "der"``). Formatting only."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from vfreport.format import num, ok, points, pvalue
from vfreport.report.markup import md_text, table
from vfreport.report.sequential_parts import (
    DECISIONS,
    looks_done,
    operating_sentence,
    operating_table,
    p_cell,
    text_table,
    where_sentence,
)
from vfreport.stats.sequential_der import DerSequentialDesign

TRUTH_NAMES = {"null": "no difference (ΔDER = 0)", "min_der_delta": "smallest worthwhile gain (min_der_delta)",
               "gain_5_points": "a 5-point DER gain"}


def _sd_points(components: Mapping[str, float]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {100 * math.sqrt(v):.1f}" for k, v in components.items()
                     if k != "meeting")


def der_design_text(design: DerSequentialDesign) -> str:
    """What ``vfreport design --endpoint der`` prints: boundaries per look, the simulated type-I
    error, power and expected seeds per assumed truth."""
    d = design
    rows = [[str(b.look), str(b.n), f"{b.information:.2f}", p_cell(b.alpha_spent), p_cell(b.efficacy_p),
             p_cell(b.futility_p)] for b in d.boundaries]
    out = [f"Group-sequential design: {d.method}.", "",
           text_table(["look", "seeds/arm", "info", "α spent", "efficacy p ≤ (ΔDER < 0)",
                        "futility p ≤ (ΔDER > -min_der_delta)"], rows), ""]
    mixes = ", ".join(f"{k}: {v:.4f}" for k, v in d.type_i_error_by_mix.items())
    out.append(f"Simulated type-I error (fresh {d.n_sim:,} null paths per variance mix, futility ignored): "
               f"{d.type_i_error:.4f} at the worst mix (by mix {mixes}; Monte-Carlo SE {d.monte_carlo_se:.4f}); "
               f"{d.type_i_error_with_futility:.4f} with futility obeyed under the assumed components. "
               f"Target α = {d.alpha:g}.")
    source = " (the demo's estimates; set them with --components)" if d.components_source == "demo" else ""
    out.append(f"Assumed variance components, as SDs in DER points: {_sd_points(d.components)}{source}; "
               f"{d.n_meetings} meetings scored by every run.")
    out.append("")
    out.append(operating_table(d.operating, TRUTH_NAMES, d.looks, "ΔDER (points)"))
    return "\n".join(out) + "\n"


def der_sequential_section(seq: Mapping[str, Any]) -> str:
    """The report's "Sequential design" section for a ΔDER design (``seq``: results.json's
    ``sequential`` entry)."""
    d = seq.get("design") or {}
    done = looks_done(seq)
    looks = d.get("looks") or []
    where = where_sentence(seq)
    out = ["## Sequential design",
           f"Seeds were added look by look ({', '.join(map(str, looks))} per arm) under a group-sequential design "
           f"on the primary endpoint: {md_text(d.get('method') or '')}. {where} Each look evaluated its runs on "
           "the held-out meetings; ΔDER is decided by the boundaries below, not by the fixed-sample p-value."]
    rows = []
    for b in d.get("boundaries") or []:
        r = done.get(int(b["look"]))
        x = (r or {}).get("DER") or {}
        fut = f"p ≤ {p_cell(b.get('futility_p'))}" if b.get("futility_p") is not None else "— (last look)"
        rows.append([str(b["look"]), str(b.get("n")), f"p ≤ {p_cell(b.get('efficacy_p'))}", fut,
                     points(x.get("estimate")) if r else "not reached",
                     f"{points(x.get('se'), signed=False)} ({num(x.get('df'), 1)})" if r else "",
                     pvalue(x.get("p_value")) if r else "", pvalue(x.get("p_futility")) if r else "",
                     DECISIONS.get(r.get("decision"), str(r.get("decision"))) if r else ""])
    out.append(table(["Look", "Seeds per arm", "Efficacy boundary (p of ΔDER < 0)",
                      "Futility boundary (p of ΔDER > −min_der_delta)", "ΔDER", "SE (df)", "Nominal p",
                      "Futility p", "Decision"], rows))
    ops, exp_seeds = operating_sentence(d, TRUTH_NAMES), d.get("expected_seeds") or {}
    out.append(f"Design, by simulation: type-I error {num(d.get('type_i_error'), 4)} (target α = {d.get('alpha')}; "
               f"worst of the variance mixes {', '.join(d.get('mixes') or [])}, Monte-Carlo SE "
               f"{num(d.get('monte_carlo_se'), 4)}). Under the assumed components "
               f"({_sd_points(d.get('components') or {})} DER points) on {d.get('n_meetings')} meetings: {ops}; "
               f"{num(exp_seeds.get('null'), 1)} seeds per arm expected when there is no difference.")
    last = done.get(max(done)) if done else None
    x = (last or {}).get("DER") or {}
    if x:
        ci = x.get("ci95_unadjusted")
        ci_text = f"{points(ci[0])} to {points(ci[1])}" if isinstance(ci, list) and len(ci) == 2 and all(
            ok(c) for c in ci) else "n/a"
        ub = x.get("repeated_upper_bound")
        out.append(f"Estimates and intervals come from a sequential design and are not adjusted for it: at the "
                   f"stopping look ΔDER = {points(x.get('estimate'))} with the ordinary 95 % CI {ci_text}; after an "
                   f"early stop for efficacy the gain tends to be overestimated. The repeated upper confidence bound "
                   f"for ΔDER, valid whichever look it is read at (Jennison & Turnbull 2000, ch. 9), is "
                   f"{points(ub) if ok(ub) else 'n/a'} at this look.")
    return "\n\n".join(out)


__all__ = ["der_design_text", "der_sequential_section"]
