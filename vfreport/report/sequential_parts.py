"""What the accuracy and the ΔDER sequential designs say alike (:mod:`vfreport.report.sequential`,
:mod:`vfreport.report.sequential_der`): decision names, p and t cells, plain-text tables, the
"where the design stands" sentence and the operating characteristics. Formatting only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vfreport.format import num, ok, pct
from vfreport.report.markup import md_text

DECISIONS = {
    "efficacy": "stopped for efficacy",
    "futility": "stopped for futility",
    "final": "reached the last look without crossing the efficacy boundary",
    "continue": "continue",
}


def p_cell(x: Any) -> str:
    """A boundary's nominal p: 2 significant digits below 0.001, else 4 decimals; "—" when missing."""
    return "—" if not ok(x) else (f"{x:.2g}" if x < 0.001 else f"{x:.4f}")


def t_cell(x: Any) -> str:
    """A t boundary with 2 decimals; "∞" when there is none."""
    return num(x, 2) if ok(x) else "∞"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned plain-text columns (what ``vfreport design`` prints)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), *(line(r) for r in rows)])


def operating_table(operating: Sequence[Any], truth_names: Mapping[str, str], looks: Sequence[int],
                    delta_label: str) -> str:
    """The operating characteristics per assumed truth (a design's ``operating`` entries) as text."""
    rows = [[truth_names.get(o.name, o.name), f"{100 * o.delta:+.1f}", f"{o.power:.3f}", f"{o.futility:.3f}",
             f"{o.final:.3f}", f"{o.expected_seeds:.2f}", " / ".join(f"{p:.2f}" for p in o.stop_at_look)]
            for o in operating]
    return text_table(["truth", delta_label, "P(efficacy)", "P(futility)", "P(last look, no decision)",
                       "expected seeds/arm", f"P(stop at {'/'.join(str(n) for n in looks)})"], rows)


def looks_done(seq: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    """results.json's ``sequential.looks_done`` by look number."""
    return {int(r["look"]): r for r in seq.get("looks_done") or [] if isinstance(r, Mapping) and "look" in r}


def where_sentence(seq: Mapping[str, Any]) -> str:
    """Where the design stands: stopped (at which look, why), halted, or still looking."""
    looks = (seq.get("design") or {}).get("looks") or []
    status, decision = seq.get("status"), seq.get("decision")
    if status == "stopped":
        return (f"It stopped at look {seq.get('stopped_at')} of {len(looks)} ({seq.get('seeds_per_arm')} of at most "
                f"{seq.get('max_seeds_per_arm')} seeds per arm), {DECISIONS.get(decision, decision)}: "
                f"{md_text(seq.get('reason') or '')}.")
    if status == "halted":
        return f"It is halted without a decision: {md_text(seq.get('reason') or '')}."
    return f"It has not decided yet ({len(looks_done(seq))} of {len(looks)} looks done)."


def operating_sentence(design: Mapping[str, Any], truth_names: Mapping[str, str]) -> str:
    """"<truth>: power P, N seeds per arm expected; ..." of results.json's design entry."""
    power, exp_seeds = design.get("power") or {}, design.get("expected_seeds") or {}
    return "; ".join(f"{truth_names.get(k, k)}: power {pct(v, 0)}, {num(exp_seeds.get(k), 1)} seeds per arm expected"
                     for k, v in power.items())
