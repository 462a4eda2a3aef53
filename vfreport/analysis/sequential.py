"""``run-all --until-decided``: adaptive seeds with a group-sequential design (docs/statistics.md,
docs/statistics-der.md).

The design is fixed before the first look from the experiment's thresholds and the planned
looks, and written to ``<exp>/sequential.json`` with every look done. It decides on one of two
endpoints:

- **ΔDER** (``endpoint="der"``, what ``vfreport run-all --until-decided`` uses by default; the
  primary endpoint): :func:`vfreport.stats.sequential_der.design_sequential_der` (α,
  min_der_delta). At each look the analysis evaluates the look's runs on the held-out meetings
  (only new runs diarize; earlier RTTMs are re-scored) and :func:`evaluate_der_look` reads the
  crossed comparison of the look's seeds from ``results["evaluation"]``: efficacy when ΔDER < 0
  crosses the look's boundary, futility when a gain of min_der_delta is rejected. Without an arm
  whose meetings can be diarized, the design falls back to accuracy and says so.
- **accuracy** (H1): :func:`vfreport.stats.sequential.design_sequential` (α, min_delta,
  expected gain), as follows.

Look by look:

1. train the look's seeds (the trainer gets the config with a longer seed list: completed runs
   are skipped, unfinished ones resume, so this works with every executor);
2. analyse the experiment (:func:`vfreport.pipeline.analyse`) and read the per-run
   selection-unbiased accuracy of the look's seeds from ``results["runs"]`` (ΔDER: the
   evaluation's DER tables);
3. decide (accuracy endpoint): H1 (one-sided Welch t over runs) against the look's efficacy and futility boundaries.
   When results.json's ``hypotheses`` hold a DER yardstick entry (key containing ``DER``, with a
   one-sided p, or a t statistic with its df; else ``evaluation.hypothesis``), its nominal p must
   cross the look's efficacy boundary too before the design stops for efficacy: an
   intersection–union test, each hypothesis at level α, so the joint claim keeps α (Berger
   1982). The boundaries are calibrated for Welch's t over runs. A DER evaluation of other seeds
   than the look's is not used. A hypothesis that
   crossed at an earlier look stays crossed (its first crossing is what the boundaries
   control). Futility reads H1 only;
4. stop, or add seeds up to the next look.

Killing it at any point and running it again continues the design: ``sequential.json`` holds the
design as calibrated, the seed schedule and the looks already decided; a look interrupted in
training is trained again (its runs resume) and analysed.

The loop takes the trainer and the analysis as functions, so it can be tested with fakes.

References
----------
Jennison & Turnbull (2000); Berger, R. L. (1982), "Multiparameter hypothesis testing and
acceptance sampling", Technometrics 24(4) (intersection–union tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scipy import stats as st

from vfreport.analysis.results import to_jsonable
from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.errors import ConfigError, ExperimentError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json, read_json_object
from vfreport.stats.crossed import compare_crossed
from vfreport.stats.intervals import finite
from vfreport.stats.sequential import (
    DEFAULT_LOOKS,
    DEFAULT_N_SIM,
    Decision,
    SequentialDesign,
    check_looks,
    decide_runs,
    design_from_dict,
    design_sequential,
    repeated_lower_bound,
)
from vfreport.stats.sequential_der import (
    DEFAULT_MIN_DER_DELTA,
    DerSequentialDesign,
    decide_der,
    der_design_from_dict,
    design_sequential_der,
    repeated_upper_bound,
)
from vfreport.stats.sequential_der import DEFAULT_N_SIM as DER_N_SIM

SEQUENTIAL_FILE = "sequential.json"
METRIC = "unbiased_acc"
"""The per-run value H1 reads (results.json ``runs[].unbiased_acc``)."""
YARDSTICK_KEY = "DER"
STATES = ("running", "stopped", "halted")
ENDPOINTS = ("der", "accuracy")
"""What the looks decide on: ΔDER on the held-out meetings (the primary endpoint) or H1's accuracy."""
DER_ALTERNATIVES = {"gain_5_points": 0.05}
"""DER gains whose power and expected seeds a DER design reports besides min_der_delta."""

Design = SequentialDesign | DerSequentialDesign

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def sequential_path(exp_dir: Path | str) -> Path:
    return Path(exp_dir) / SEQUENTIAL_FILE


def min_der_delta(cfg: ExperimentConfig) -> float:
    """The config's ``thresholds.min_der_delta`` (the smallest worthwhile DER gain, a fraction)."""
    return float(getattr(cfg.thresholds, "min_der_delta", DEFAULT_MIN_DER_DELTA))


def endpoint_for(cfg: ExperimentConfig, asked: str) -> tuple[str, str]:
    """The endpoint a design for ``cfg`` can decide on, and a note when it is not the one asked
    for: ΔDER needs an arm whose held-out meetings every run diarizes (dataset ``ami``)."""
    from vfreport.deploy.scoring import evaluation_arm

    if asked not in ENDPOINTS:
        raise ConfigError(f"endpoint must be one of {', '.join(ENDPOINTS)}, got {asked!r}")
    if asked == "der" and evaluation_arm(cfg) is None:
        return "accuracy", ("no arm holds held-out meetings to diarize (dataset 'ami'): the looks decide on H1 "
                            "(accuracy) instead of ΔDER")
    return asked, ""


def design_for_config(cfg: ExperimentConfig, looks: Sequence[int] = DEFAULT_LOOKS, n_sim: int | None = None,
                      spending: str = "obf", futility: str = "beta-spending", sd: float | None = None,
                      seed: int = 0, endpoint: str = "accuracy", components: Mapping[str, float] | None = None,
                      n_meetings: int | None = None) -> Design:
    """The design ``run-all --until-decided`` and ``vfreport design`` use for ``cfg``.

    ``endpoint="accuracy"``: H1 (Welch over runs), α and min_delta from the thresholds; power and
    expected seeds also for each expected gain, at seed-to-seed SD ``sd``. ``endpoint="der"``:
    ΔDER on ``n_meetings`` held-out meetings (default: as the evaluation diarizes), α and
    min_der_delta from the thresholds; operating characteristics under the variance ``components``
    (default: the demo's, :data:`vfreport.stats.sequential_der.DEMO_COMPONENTS`)."""
    from vfreport.deploy.scoring import DEFAULT_MEETINGS

    th = cfg.thresholds
    try:
        if endpoint == "der":
            return design_sequential_der(looks, n_meetings=n_meetings or DEFAULT_MEETINGS, alpha=th.alpha,
                                         spending=spending, futility=futility, min_der_delta=min_der_delta(cfg),
                                         alternatives=DER_ALTERNATIVES, components=components,
                                         n_sim=n_sim or DER_N_SIM, seed=seed)
        if endpoint != "accuracy":
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}")
        gains = {f"expected_gain_{i}": float(g) for i, g in enumerate(th.expected_gain)}
        return design_sequential(looks, alpha=th.alpha, spending=spending, futility=futility,
                                 min_delta=th.min_delta, alternatives=gains, sd=sd, n_sim=n_sim or DEFAULT_N_SIM,
                                 seed=seed)
    except ValueError as e:
        raise ConfigError(f"sequential design: {e}") from None


def load_design(d: Mapping[str, Any]) -> Design:
    """A design as ``to_dict`` wrote it (sequential.json, ``vfreport design --json``), either endpoint."""
    return der_design_from_dict(d) if d.get("endpoint") == "der" else design_from_dict(d)


def check_design(design: Design, cfg: ExperimentConfig) -> None:
    """A given design must test at the config's α and against its smallest worthwhile effect."""
    th = cfg.thresholds
    if isinstance(design, DerSequentialDesign):
        mine, theirs, name = design.min_der_delta, min_der_delta(cfg), "min_der_delta"
    else:
        mine, theirs, name = design.min_delta, th.min_delta, "min_delta"
    if not (math.isclose(design.alpha, th.alpha) and math.isclose(mine, theirs)):
        raise ConfigError(
            f"the sequential design was made for alpha = {design.alpha:g}, {name} = {mine:g}; "
            f"the experiment's thresholds say alpha = {th.alpha:g}, {name} = {theirs:g} "
            "(make the design with `vfreport design --config` on the same config)")


def seed_schedule(seeds: Sequence[int], n: int) -> list[int]:
    """The first ``n`` seeds: the config's, then the next integers above its largest."""
    out = list(dict.fromkeys(int(s) for s in seeds))[:n]
    nxt = max(out, default=-1) + 1
    while len(out) < n:
        out.append(nxt)
        nxt += 1
    return out


# ---------------------------------------------------------------------------------------------
# reading results
# ---------------------------------------------------------------------------------------------


def per_run_values(results: Mapping[str, Any], arm: str, seeds: Sequence[int],
                   metric: str = METRIC) -> dict[int, float]:
    """``{seed: value}`` of ``metric`` for the included runs of ``arm`` among ``seeds``."""
    wanted = set(seeds)
    out: dict[int, float] = {}
    for r in results.get("runs") or []:
        v = r.get(metric)
        if r.get("arm") == arm and r.get("included") and r.get("seed") in wanted and isinstance(v, int | float) \
                and math.isfinite(v):
            out[int(r["seed"])] = float(v)
    return out


def yardstick(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The DER yardstick hypothesis ("the target's DER is lower") as ``{key, p_value, t, df}``:
    from ``hypotheses.<key containing DER>`` or else ``evaluation.hypothesis``. ``p_value`` is
    one-sided in the direction that favours the target; taken from the entry's ``p_value``, or
    from its t ``statistic`` and ``df`` (negated when ``alternative`` is ``"less"``). None when
    results.json has no such entry or it is not testable."""
    candidates = [(str(k), h) for k, h in (results.get("hypotheses") or {}).items() if YARDSTICK_KEY in str(k).upper()]
    ev = results.get("evaluation")
    if isinstance(ev, Mapping) and isinstance(ev.get("hypothesis"), Mapping):
        candidates.append(("evaluation.hypothesis", ev["hypothesis"]))
    for key, h in candidates:
        if not isinstance(h, Mapping) or h.get("testable") is False:
            continue
        p, t, df = finite(h.get("p_value")), finite(h.get("statistic")), finite(h.get("df"))
        if t is not None and h.get("alternative") == "less":
            t = -t
        if p is None and t is not None and df is not None:
            p = float(st.t.sf(t, df))
        if p is not None:
            return {"key": key, "p_value": p, "t": t, "df": df}
    return None


def _stale_evaluation(results: Mapping[str, Any], arms: Sequence[str], seeds: Sequence[int]) -> str:
    """Why results.json's DER evaluation does not describe this look's runs ("" when it does, or
    when there is none). run-all's looks keep the previous evaluation instead of re-evaluating,
    so an evaluation of other seeds must not decide a look."""
    ev = results.get("evaluation")
    if not isinstance(ev, Mapping) or not ev.get("available"):
        return ""
    summary = ev.get("summary") or {}
    for arm in arms:
        got = sorted(int(s) for s in ((summary.get(arm) or {}).get("seeds") or []))
        if got != sorted(int(s) for s in seeds):
            return f"the DER evaluation covers {arm} seeds {got}, not this look's {sorted(seeds)}"
    return ""


# ---------------------------------------------------------------------------------------------
# one look
# ---------------------------------------------------------------------------------------------


def evaluate_look(design: SequentialDesign, look_index: int, results: Mapping[str, Any], target: str,
                  baseline: str, seeds: Sequence[int], crossed: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The record of one look (JSON-able): H1's Welch statistics on the look's runs, the DER
    yardstick where present, each one's decision, and the design's decision.

    ``crossed`` maps a hypothesis to the look (1-based) at which it first crossed its efficacy
    boundary at an earlier look."""
    crossed = dict(crossed or {})
    n = design.looks[look_index]
    t_vals, b_vals = per_run_values(results, target, seeds), per_run_values(results, baseline, seeds)
    stats, h1 = decide_runs(design, look_index, list(t_vals.values()), list(b_vals.values()))
    lcb = repeated_lower_bound(design, look_index, stats)
    ci = None
    if math.isfinite(stats.df) and math.isfinite(stats.se):
        half = float(st.t.ppf(0.975, stats.df) * stats.se)
        ci = [stats.delta - half, stats.delta + half]
    record: dict[str, Any] = {
        "look": look_index + 1,
        "n": n,
        "seeds": list(seeds),
        "runs": {target: len(t_vals), baseline: len(b_vals)},
        "metric": METRIC,
        "H1": {
            "delta": stats.delta, "se": stats.se, "t": stats.t, "df": stats.df, "t_futility": stats.t_futility,
            "p_value": h1.p_value, "p_futility": h1.p_futility, "efficacy_p": h1.efficacy_p,
            "futility_p": h1.futility_p, "decision": h1.decision.value, "reason": h1.reason,
            "ci95_unadjusted": ci, "repeated_lower_bound": lcb,
        },
        "yardstick": None,
    }
    last = look_index == len(design.looks) - 1
    short = [f"{name}: {len(v)} of {n} runs" for name, v in ((target, t_vals), (baseline, b_vals)) if len(v) < n]
    counts = not short or last  # a look short of runs decides nothing before the last one
    if counts and h1.decision is Decision.EFFICACY:
        crossed.setdefault("H1", look_index + 1)
    ys = yardstick(results)
    stale = _stale_evaluation(results, (target, baseline), seeds)
    if ys is not None and stale:
        record["yardstick_note"] = f"{ys['key']} not used at this look: {stale}"
        ys = None
    if ys is not None:
        a = design.boundaries[look_index].efficacy_p
        hit = ys["p_value"] <= a
        record["yardstick"] = {**ys, "efficacy_p": a, "decision": "efficacy" if hit else "not crossed",
                               "reason": f"nominal one-sided p {ys['p_value']:.3g} {'≤' if hit else '>'} {a:.3g}"}
        if counts and hit:
            crossed.setdefault(ys["key"], look_index + 1)
    needed = ["H1"] + ([ys["key"]] if ys else [])
    if not counts:
        decision, reason = Decision.CONTINUE, f"runs missing ({'; '.join(short)}): no decision at this look"
    elif all(k in crossed for k in needed):
        decision = Decision.EFFICACY
        reason = "; ".join(f"{k} crossed the efficacy boundary at look {crossed[k]}" for k in needed)
    elif h1.decision is Decision.FUTILITY:
        decision, reason = Decision.FUTILITY, f"H1: {h1.reason}"
    elif last:
        missing = [k for k in needed if k not in crossed]
        decision = Decision.FINAL
        reason = f"last look, {' and '.join(missing)} did not cross the efficacy boundary ({h1.reason})"
    else:
        decision = Decision.CONTINUE
        waiting = [k for k in needed if k not in crossed]
        reason = f"{' and '.join(waiting)} between the boundaries"
    record.update(decision=decision.value, reason=reason, crossed=crossed,
                  analysed=datetime.now(UTC).isoformat(timespec="seconds"))
    return to_jsonable(record)  # NaN (Welch's t undefined: no variance, too few runs) -> None


def der_tables(evaluation: Mapping[str, Any], target: str, baseline: str,
               seeds: Sequence[int]) -> tuple[Any, Any, Any, list[str]]:
    """The look's runs × meetings DER tables (target, baseline; runs in seed order, only ``seeds``),
    the meetings' scored reference speech (pyannote's corpus-DER weights; None when not recorded)
    and the meeting URIs, from results.json's ``evaluation``."""
    import numpy as np

    uris = [str(m["uri"]) for m in evaluation.get("meetings") or []]
    wanted = {str(s) for s in seeds}
    tables, weights = [], None
    for arm in (target, baseline):
        runs = (evaluation.get("der") or {}).get(arm) or {}
        keep = sorted((s for s in runs if str(s) in wanted and all(u in runs[s] for u in uris)), key=int)
        tables.append(np.array([[runs[s][u]["der"] for u in uris] for s in keep], dtype=float).reshape(len(keep),
                                                                                                      len(uris)))
        if keep and weights is None and all(isinstance(runs[keep[0]][u].get("total"), int | float) for u in uris):
            weights = np.array([runs[keep[0]][u]["total"] for u in uris], dtype=float)
    if weights is not None and not (np.all(weights >= 0) and weights.sum() > 0):
        weights = None
    return tables[0], tables[1], weights, uris


def evaluate_der_look(design: DerSequentialDesign, look_index: int, results: Mapping[str, Any], target: str,
                      baseline: str, seeds: Sequence[int]) -> dict[str, Any]:
    """The record of one look of a ΔDER design (JSON-able): the crossed comparison
    (:func:`vfreport.stats.crossed.compare_crossed`) of the look's runs on the evaluation's
    meetings, weighted by scored speech, and the design's decision (:func:`vfreport.stats.sequential_der.decide_der`).
    A look without an evaluation of its runs, or short of runs, decides nothing before the last."""
    n = design.looks[look_index]
    last = look_index == len(design.looks) - 1
    ev = results.get("evaluation")
    record: dict[str, Any] = {"look": look_index + 1, "n": n, "seeds": list(seeds), "endpoint": "der",
                              "runs": {target: 0, baseline: 0}, "DER": None}
    if not (isinstance(ev, Mapping) and ev.get("available") and ev.get("der")):
        why = (ev or {}).get("reason") if isinstance(ev, Mapping) else None
        missing = f"no DER evaluation of this look's runs ({why or 'the evaluation did not run'})"
        decision = Decision.FINAL if last else Decision.CONTINUE
        record.update(decision=decision.value, reason=missing, crossed={},
                      analysed=datetime.now(UTC).isoformat(timespec="seconds"))
        return to_jsonable(record)
    t_tab, b_tab, weights, uris = der_tables(ev, target, baseline, seeds)
    record["runs"] = {target: int(t_tab.shape[0]), baseline: int(b_tab.shape[0])}
    record["meetings"] = len(uris)
    short = [f"{name}: {k} of {n} runs evaluated" for name, k in record["runs"].items() if k < n]
    c = compare_crossed(t_tab, b_tab, weights, alpha=design.alpha) if min(t_tab.shape[0], b_tab.shape[0]) >= 1 \
        and len(uris) >= 1 else None
    if c is not None and b_tab.shape[0] < 2:  # an arm of trained models with one run: its run variance is unknown
        c = None
    d = decide_der(design, look_index, c.estimate, c.se, c.df) if c is not None else \
        decide_der(design, look_index, math.nan, math.nan, math.nan)
    record["DER"] = {
        "estimate": c.estimate if c else None, "se": c.se if c else None, "df": c.df if c else None,
        "ci95_unadjusted": list(c.ci) if c else None, "p_value": d.p_value, "p_futility": d.p_futility,
        "efficacy_p": d.efficacy_p, "futility_p": d.futility_p, "decision": d.decision.value, "reason": d.reason,
        "repeated_upper_bound": repeated_upper_bound(design, look_index, c.estimate, c.se, c.df) if c else None,
        "components": dict(c.components) if c else None, "method": c.method if c else None,
    }
    if len(uris) != design.n_meetings:
        record["note"] = (f"the design assumed {design.n_meetings} meetings, the evaluation has {len(uris)}: "
                          "its boundaries still apply, its power and expected seeds do not")
    if short and not last:
        decision, reason = Decision.CONTINUE, f"runs missing ({'; '.join(short)}): no decision at this look"
    else:
        decision, reason = d.decision, f"ΔDER: {d.reason}"
    crossed = {"DER": look_index + 1} if decision is Decision.EFFICACY else {}
    record.update(decision=decision.value, reason=reason, crossed=crossed,
                  analysed=datetime.now(UTC).isoformat(timespec="seconds"))
    return to_jsonable(record)


def look_record(design: Design, look_index: int, results: Mapping[str, Any], target: str, baseline: str,
                seeds: Sequence[int], crossed: Mapping[str, int] | None = None) -> dict[str, Any]:
    """:func:`evaluate_der_look` or :func:`evaluate_look`, as the design's endpoint asks."""
    if isinstance(design, DerSequentialDesign):
        return evaluate_der_look(design, look_index, results, target, baseline, seeds)
    return evaluate_look(design, look_index, results, target, baseline, seeds, crossed)


# ---------------------------------------------------------------------------------------------
# state
# ---------------------------------------------------------------------------------------------


def read_state(exp_dir: Path | str) -> dict[str, Any] | None:
    """sequential.json, or None when the experiment is not sequential."""
    path = sequential_path(exp_dir)
    return read_json_object(path, "sequential design") if path.is_file() else None


def write_state(exp_dir: Path | str, state: Mapping[str, Any]) -> Path:
    return atomic_write_json(sequential_path(exp_dir), dict(state))


def new_state(design: Design, cfg: ExperimentConfig) -> dict[str, Any]:
    return {
        "design": design.to_dict(),
        "seed_schedule": seed_schedule(cfg.seeds, design.max_seeds),
        "looks_done": [],
        "status": "running",
        "decision": None,
        "stopped_at": None,
        "reason": None,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _extend_seeds(exp_dir: Path, cfg_k: ExperimentConfig) -> None:
    """Let the experiment's seed list grow to the look's: rewrite experiment.toml when it differs
    from ``cfg_k`` only in its seeds and those are a prefix of the look's. Anything else is left
    to the trainer, which refuses a directory holding another config."""
    exp = ExperimentDir(exp_dir)
    if not exp.config.is_file():
        return
    old = read_experiment_config(exp.config)
    same = replace(old, seeds=list(cfg_k.seeds)).to_dict() == cfg_k.to_dict()
    if same and list(cfg_k.seeds[:len(old.seeds)]) == list(old.seeds) and old.seeds != cfg_k.seeds:
        exp.write_config(cfg_k)


def _look_line(rec: Mapping[str, Any]) -> str:
    def fmt(x: Any, spec: str, scale: float = 1.0) -> str:
        return format(scale * x, spec) if isinstance(x, int | float) else "n/a"

    if rec.get("endpoint") == "der":
        d = rec.get("DER") or {}
        return (f"ΔDER = {fmt(d.get('estimate'), '+.1f', 100)} points (SE {fmt(d.get('se'), '.1f', 100)}, "
                f"df {fmt(d.get('df'), '.1f')}), nominal p = {fmt(d.get('p_value'), '.3g')} vs efficacy boundary "
                f"{fmt(d.get('efficacy_p'), '.3g')} -> {rec['decision']}: {rec['reason']}")
    h1 = rec["H1"]

    return (f"Δ = {fmt(h1['delta'], '+.1f', 100)} points, Welch t = {fmt(h1['t'], '.2f')} (df {fmt(h1['df'], '.1f')}), "
            f"nominal p = {fmt(h1['p_value'], '.3g')} vs efficacy boundary {fmt(h1['efficacy_p'], '.3g')} -> "
            f"{rec['decision']}: {rec['reason']}")


@dataclass
class SequentialRun:
    """What the loop did: the state written to sequential.json and the trainer's outcomes."""

    state: dict[str, Any]
    trained: list[Any] = field(default_factory=list)

    @property
    def design(self) -> Design:
        return load_design(self.state["design"])


def run_until_decided(
    cfg: ExperimentConfig,
    exp_dir: Path | str,
    train: Callable[[ExperimentConfig], Any],
    analyse: Callable[[], Mapping[str, Any]],
    looks: Sequence[int] | None = None,
    design: Design | None = None,
    echo: Echo = _quiet,
    endpoint: str | None = None,
) -> SequentialRun:
    """Train look by look until the design stops (see the module docstring).

    ``train(cfg_k)`` trains every run of ``cfg_k`` (skipping completed ones) and returns an object
    with a ``failed`` mapping; ``analyse()`` returns results.json's dict for the experiment (with
    a ΔDER design it must evaluate the look's runs on the held-out meetings). A new design is
    ``design`` or the config's for ``endpoint`` (``"der"`` or ``"accuracy"``, the default; ΔDER
    falls back to accuracy, said so, when no arm has meetings to diarize). A design already in
    ``exp_dir`` is continued as written; ``looks``, ``design`` or ``endpoint`` that disagree with
    it raise ConfigError. Failed runs halt the loop (status ``halted``) without a decision:
    running it again retries them and goes on.
    """
    exp = Path(exp_dir)
    state = read_state(exp)
    note = ""
    if design is None and endpoint is not None:
        endpoint, note = endpoint_for(cfg, endpoint)
    if state is not None:
        stored = load_design(state["design"])
        asked = check_looks(looks) if looks else (design.looks if design else None)
        if asked is not None and tuple(asked) != stored.looks:
            raise ConfigError(
                f"{sequential_path(exp)} fixes the looks at {', '.join(map(str, stored.looks))} seeds per arm; "
                f"a design cannot change once started (asked: {', '.join(map(str, asked))}); use another --out")
        kind = "der" if isinstance(stored, DerSequentialDesign) else "accuracy"
        if endpoint is not None and design is None and endpoint != kind:
            raise ConfigError(f"{sequential_path(exp)} decides on {kind}; a design cannot change once started "
                              f"(asked: --endpoint {endpoint}); use another --out")
        design = stored
        echo(f"continuing the sequential design in {sequential_path(exp)} "
             f"({len(state['looks_done'])} of {len(design.looks)} looks done)")
    else:
        if note:
            echo(note)
        if design is None:
            design = design_for_config(cfg, check_looks(looks) if looks else DEFAULT_LOOKS,
                                       endpoint=endpoint or "accuracy")
        check_design(design, cfg)
        state = new_state(design, cfg)
        exp.mkdir(parents=True, exist_ok=True)
        write_state(exp, state)
        echo(f"sequential design: looks at {', '.join(map(str, design.looks))} seeds per arm; {design.method}")
    out = SequentialRun(state)
    if state["status"] == "stopped":
        echo(f"already decided at look {state['stopped_at']}: {state['decision']} ({state['reason']})")
        return out
    crossed: dict[str, int] = {}
    for rec in state["looks_done"]:
        for k, v in (rec.get("crossed") or {}).items():
            crossed.setdefault(k, int(v))
    for k in range(len(state["looks_done"]), len(design.looks)):
        n = design.looks[k]
        seeds = state["seed_schedule"][:n]
        cfg_k = replace(cfg, seeds=list(seeds))
        _extend_seeds(exp, cfg_k)
        echo(f"look {k + 1} of {len(design.looks)}: {n} seeds per arm ({', '.join(map(str, seeds))})")
        trained = train(cfg_k)
        out.trained.append(trained)
        if getattr(trained, "failed", None):
            state.update(status="halted", reason=f"{len(trained.failed)} run(s) failed at look {k + 1}; "
                                                 "run the same command again to retry them")
            write_state(exp, state)
            echo(f"look {k + 1}: {state['reason']}")
            return out
        results = analyse()
        rec = look_record(design, k, results, cfg.target.name, cfg.baseline.name, seeds, crossed)
        crossed = dict(rec["crossed"])
        state["looks_done"].append(rec)
        echo(f"look {k + 1}: {_look_line(rec)}")
        if rec["decision"] != Decision.CONTINUE.value:
            state.update(status="stopped", decision=rec["decision"], stopped_at=k + 1, reason=rec["reason"])
            write_state(exp, state)
            return out
        state.update(status="running", reason=None)
        write_state(exp, state)
    return out  # pragma: no cover - the last look always decides


def merge_trained(outcomes: Sequence[Any], exp_dir: Path | str) -> Any:
    """One training outcome for all looks (the trainer's :class:`~vfreport.run.runner.RunAllResult`):
    runs completed at any look, runs skipped at the first look that found them complete, the
    failures of the last look, the total time."""
    from vfreport.run.runner import RunAllResult

    merged = RunAllResult(Path(exp_dir).resolve())
    done: set[str] = set()
    for o in outcomes:
        merged.completed += [k for k in o.completed if k not in done]
        done.update(o.completed)
        merged.skipped += [k for k in o.skipped if k not in done]
        done.update(o.skipped)
        merged.seconds += o.seconds
    if outcomes:
        merged.failed = dict(outcomes[-1].failed)
    return merged


# ---------------------------------------------------------------------------------------------
# results.json
# ---------------------------------------------------------------------------------------------


def sequential_entry(exp_dir: Path | str) -> dict[str, Any] | None:
    """results.json's ``sequential`` entry from sequential.json (None when not sequential):
    the design (looks, boundaries, simulated type-I error, power, expected seeds, method), the
    looks done, where it stopped and why."""
    try:
        state = read_state(exp_dir)
    except ExperimentError:
        return None
    if state is None:
        return None
    d = state.get("design") or {}
    if d.get("endpoint") == "der":
        keys: tuple[str, ...] = (
            "endpoint", "looks", "alpha", "spending", "futility", "futility_beta", "min_der_delta", "n_meetings",
            "components", "components_source", "mixes", "n_sim", "seed", "boundaries", "type_i_error",
            "type_i_error_by_mix", "type_i_error_with_futility", "monte_carlo_se", "power", "expected_seeds",
            "method", "references")
    else:
        keys = ("looks", "alpha", "spending", "futility", "futility_beta", "min_delta", "sd", "sd_source", "sd_ratios",
                "n_sim", "seed", "boundaries", "type_i_error", "type_i_error_by_sd_ratio",
                "type_i_error_with_futility", "monte_carlo_se", "power", "expected_seeds", "method", "references")
    return {
        "design": {k: d.get(k) for k in keys},
        "looks_done": state.get("looks_done") or [],
        "status": state.get("status"),
        "decision": state.get("decision"),
        "stopped_at": state.get("stopped_at"),
        "seeds_per_arm": (state["looks_done"][-1]["n"] if state.get("looks_done") else None),
        "max_seeds_per_arm": (d.get("looks") or [None])[-1],
        "reason": state.get("reason"),
        "note": ("Estimates and CIs elsewhere in this report are the ordinary (fixed-sample) ones at the "
                 "stopping look: not adjusted for the sequential design, so after an early stop for efficacy "
                 "Δ tends to be overestimated. The repeated lower confidence bound holds over all looks."),
    }


__all__ = ["ENDPOINTS", "METRIC", "SEQUENTIAL_FILE", "SequentialRun", "check_design", "der_tables",
           "design_for_config", "endpoint_for", "evaluate_der_look", "evaluate_look", "load_design", "look_record",
           "merge_trained", "min_der_delta", "per_run_values", "read_state", "run_until_decided", "seed_schedule",
           "sequential_entry", "sequential_path", "yardstick"]
