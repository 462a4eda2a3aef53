"""``run-all --until-decided``: train look by look until the group-sequential design stops
(docs/statistics.md, docs/statistics-der.md). The design, the looks' statistics and
``sequential.json`` are :mod:`vfreport.analysis.sequential`'s; this is the loop that drives training
and analysis between them.

Look by look:

1. train the look's seeds (the trainer gets the config with a longer seed list: completed runs
   are skipped, unfinished ones resume, so this works with every executor);
2. analyse the experiment (the caller's ``analyse``: :func:`vfreport.pipeline.analyse`);
3. decide (:func:`vfreport.analysis.sequential.look_record`);
4. stop, or add seeds up to the next look.

Killing it at any point and running it again continues the design: ``sequential.json`` holds the
design as calibrated, the seed schedule and the looks already decided; a look interrupted in
training is trained again (its runs resume) and analysed. The loop takes the trainer and the
analysis as functions, so it can be tested with fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vfreport.analysis.sequential import (
    Design,
    check_design,
    design_for_config,
    endpoint_for,
    load_design,
    look_record,
    new_state,
    read_state,
    sequential_path,
    write_state,
)
from vfreport.config import ExperimentConfig, read_experiment_config
from vfreport.errors import ConfigError
from vfreport.experiment.layout import ExperimentDir
from vfreport.run.runner import RunAllResult
from vfreport.stats.sequential import DEFAULT_LOOKS, Decision, check_looks
from vfreport.stats.sequential_der import DerSequentialDesign

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


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


def _open_design(cfg: ExperimentConfig, exp: Path, looks: Sequence[int] | None, design: Design | None, echo: Echo,
                 endpoint: str | None) -> tuple[dict[str, Any], Design]:
    """The state and design in ``exp``'s sequential.json, checked against what was asked (ConfigError
    when they differ), or a new design written there."""
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
        echo(f"continuing the sequential design in {sequential_path(exp)} "
             f"({len(state['looks_done'])} of {len(stored.looks)} looks done)")
        return state, stored
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
    return state, design


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
    state, design = _open_design(cfg, exp, looks, design, echo, endpoint)
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


def merge_trained(outcomes: Sequence[Any], exp_dir: Path | str) -> RunAllResult:
    """One training outcome for all looks (the trainer's :class:`~vfreport.run.runner.RunAllResult`):
    runs completed at any look, runs skipped at the first look that found them complete, the
    failures of the last look, the total time."""
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


__all__ = ["SequentialRun", "merge_trained", "run_until_decided"]
