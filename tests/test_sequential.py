"""Adaptive seeds: the group-sequential design (vfreport.stats.sequential) and the
``run-all --until-decided`` loop (vfreport.analysis.sequential), with fake trainers.

The type-I error is checked on the whole procedure, by an independent simulation (its own Welch
statistics from raw draws, not the calibration's paths) under nulls with unequal variances and
seed-to-seed heterogeneity; the rates are printed (``pytest -s``) and in the assertion messages.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from _expdir import make_history
from _results_schema import assert_valid_results
from _tiny import tiny_toml
from click.testing import CliRunner
from scipy import stats as st

from vfreport import pipeline
from vfreport import sequential_run as SR
from vfreport.analysis import sequential as AS
from vfreport.cli import cli
from vfreport.config import load_config, read_experiment_config
from vfreport.errors import ConfigError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json
from vfreport.report.markdown import render_markdown
from vfreport.run import runner
from vfreport.stats import sequential as S

N_CHECK = 40_000


@pytest.fixture(scope="module")
def cfg():
    return load_config(preset="demo")


@pytest.fixture(scope="module")
def design(cfg):
    """The default design run-all --until-decided uses for the demo config."""
    return AS.design_for_config(cfg)


# ---------------------------------------------------------------------------------------------
# an independent simulation of the whole procedure
# ---------------------------------------------------------------------------------------------


def _welch_at_looks(a: np.ndarray, b: np.ndarray, looks, shift: float = 0.0):
    """Welch t, df and SE at every look from raw (n_sim, n_max) draws, written out plainly."""
    ts, dfs, ses = [], [], []
    for n in looks:
        x, y = a[:, :n] + shift, b[:, :n]
        qa, qb = x.var(axis=1, ddof=1) / n, y.var(axis=1, ddof=1) / n
        se = np.sqrt(qa + qb)
        ts.append((x.mean(axis=1) - y.mean(axis=1)) / se)
        dfs.append((qa + qb) ** 2 / (qa**2 / (n - 1) + qb**2 / (n - 1)))
        ses.append(se)
    return np.stack(ts, 1), np.stack(dfs, 1), np.stack(ses, 1)


def _procedure(design, t, df, se, futility: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Outcome ("efficacy" / "futility" / "final") and stopping look of every path."""
    n_sim = t.shape[0]
    outcome = np.full(n_sim, "final", dtype=object)
    look = np.full(n_sim, len(design.looks) - 1)
    alive = np.ones(n_sim, dtype=bool)
    for k, b in enumerate(design.boundaries):
        eff = alive & (st.t.sf(t[:, k], df[:, k]) <= b.efficacy_p)
        outcome[eff], look[eff] = "efficacy", k
        alive &= ~eff
        if futility and b.futility_p is not None:
            fut = alive & (st.t.cdf(t[:, k] - design.min_delta / se[:, k], df[:, k]) <= b.futility_p)
            outcome[fut], look[fut] = "futility", k
            alive &= ~fut
    return outcome, look


def _tolerance(design, n: int) -> float:
    """Three Monte-Carlo SEs: of this check and of the calibration."""
    a = design.alpha
    return 3 * math.sqrt(a * (1 - a) / n + design.monte_carlo_se**2)


NULLS = {
    "equal SDs": lambda rng, shape: (rng.normal(0, 0.03, shape), rng.normal(0, 0.03, shape)),
    "target SD 3x baseline": lambda rng, shape: (rng.normal(0, 0.06, shape), rng.normal(0, 0.02, shape)),
    "baseline SD 6x target": lambda rng, shape: (rng.normal(0, 0.01, shape), rng.normal(0, 0.06, shape)),
    "per-seed SDs (lognormal, σ_log 0.6)": lambda rng, shape: (
        rng.normal(0, 1, shape) * 0.03 * rng.lognormal(0, 0.6, shape),
        rng.normal(0, 1, shape) * 0.03 * rng.lognormal(0, 0.6, shape)),
}


@pytest.mark.parametrize("name", list(NULLS))
def test_whole_procedure_type_one_error_at_most_alpha(design, name):
    rng = np.random.default_rng([2026, list(NULLS).index(name)])
    a, b = NULLS[name](rng, (N_CHECK, design.max_seeds))
    t, df, se = _welch_at_looks(a, b, design.looks)
    nonbinding, _ = _procedure(design, t, df, se, futility=False)
    binding, look = _procedure(design, t, df, se, futility=True)
    rate, rate_f = np.mean(nonbinding == "efficacy"), np.mean(binding == "efficacy")
    seeds = np.asarray(design.looks)[look].mean()
    msg = (f"{name}: type-I error {rate:.4f} (futility ignored), {rate_f:.4f} (futility obeyed), "
           f"futility {np.mean(binding == 'futility'):.3f}, expected seeds {seeds:.2f}; "
           f"α = {design.alpha}, tolerance {_tolerance(design, N_CHECK):.4f}, n = {N_CHECK}")
    print(msg)
    assert rate <= design.alpha + _tolerance(design, N_CHECK), msg
    assert rate_f <= rate, msg


def test_design_reports_its_simulated_error_and_spends_alpha(design):
    b = design.boundaries
    spend = S.obf_spending(np.array([x.information for x in b]), design.alpha)
    print(f"default design: type-I error {design.type_i_error:.4f} by SD ratio {design.type_i_error_by_sd_ratio}; "
          f"power {design.power}; expected seeds {design.expected_seeds}")
    assert all(x.alpha_spent <= s + 1e-12 for x, s in zip(b, spend, strict=True))
    assert [x.efficacy_p for x in b] == sorted(x.efficacy_p for x in b)  # later looks are easier
    assert b[-1].futility_p is None and all(x.futility_p is not None for x in b[:-1])
    assert design.type_i_error <= design.alpha + 3 * design.monte_carlo_se * math.sqrt(2)
    assert design.type_i_error_with_futility <= design.type_i_error
    # Welch at 3 runs per arm is far from normal: the first look needs a t well above z
    assert b[0].efficacy_t > st.norm.isf(b[0].alpha_spent)
    assert design.power["expected_gain_0"] > design.power["min_delta"] > design.alpha
    assert design.expected_seeds["expected_gain_0"] < design.max_seeds


def test_haybittle_peto_interim_looks_use_the_fixed_threshold():
    d = S.design_sequential((3, 6), spending="hp", n_sim=20_000)
    assert d.boundaries[0].efficacy_p == S.HP_INTERIM_P
    assert S.HP_INTERIM_P < d.boundaries[1].efficacy_p < d.alpha
    assert d.type_i_error <= d.alpha + 3 * math.sqrt(d.alpha * (1 - d.alpha) / d.n_sim) * math.sqrt(2)


def test_design_is_deterministic_and_round_trips_through_json(design, cfg):
    small = AS.design_for_config(cfg, (2, 4), n_sim=5000)
    assert small == AS.design_for_config(cfg, (2, 4), n_sim=5000)
    back = S.design_from_dict(json.loads(json.dumps(design.to_dict(), allow_nan=False)))
    assert back.boundaries == design.boundaries and back.operating == design.operating


def test_decide_runs_is_the_simulated_procedure(design):
    """Path by path, the function run-all calls gives the vectorised procedure's outcome."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.03, 0.04, (300, design.max_seeds)), rng.normal(0, 0.02, (300, design.max_seeds))
    t, df, se = _welch_at_looks(a, b, design.looks)
    outcome, look = _procedure(design, t, df, se)
    for i in range(len(a)):
        for k, n in enumerate(design.looks):
            _, d = S.decide_runs(design, k, a[i, :n], b[i, :n])
            if d.decision is not S.Decision.CONTINUE:
                assert (d.decision.value, k) == (outcome[i], look[i]), i
                break


def test_null_stops_for_futility_or_at_the_last_look(design):
    rng = np.random.default_rng(11)
    a, b = rng.normal(0.7, 0.03, (N_CHECK, 12)), rng.normal(0.7, 0.03, (N_CHECK, 12))
    outcome, look = _procedure(design, *_welch_at_looks(a, b, design.looks))
    rates = {k: float(np.mean(outcome == k)) for k in ("efficacy", "futility", "final")}
    print(f"null, SD 3 points: {rates}; stop at looks {np.bincount(look, minlength=4) / N_CHECK}")
    assert rates["efficacy"] <= design.alpha + _tolerance(design, N_CHECK)
    assert rates["futility"] + rates["final"] >= 1 - design.alpha - _tolerance(design, N_CHECK)
    assert not np.any((outcome == "final") & (look != len(design.looks) - 1))


def test_decide_edges(design):
    last = len(design.looks) - 1
    assert S.decide(design, 0, math.nan).decision is S.Decision.CONTINUE  # undefined t never stops early
    assert S.decide(design, last, math.nan).decision is S.Decision.FINAL
    assert S.decide(design, last, 10.0, 22.0).decision is S.Decision.EFFICACY
    assert S.decide(design, 1, -1.0, 8.0, t_futility=-40.0).decision is S.Decision.FUTILITY
    assert S.decide(design, 1, -1.0, 8.0).decision is S.Decision.CONTINUE  # no futility t: not checked
    # without df the smallest Welch df is used: never easier than the real df
    t = design.boundaries[2].efficacy_t
    assert S.decide(design, 2, t * 1.01, 14.0).decision is S.Decision.EFFICACY
    assert S.decide(design, 2, t * 1.01).decision is S.Decision.CONTINUE
    with pytest.raises(IndexError):
        S.decide(design, len(design.looks), 1.0)
    with pytest.raises(ValueError, match="increasing"):
        S.parse_looks("3,3,5")
    with pytest.raises(ValueError, match="at least 2"):
        S.check_looks([1, 4])


def test_repeated_lower_bound_is_positive_exactly_when_efficacy(design):
    rng = np.random.default_rng(3)
    for _ in range(50):
        a, b = rng.normal(0.1, 0.05, 8), rng.normal(0, 0.05, 8)
        s, d = S.decide_runs(design, 2, a, b)
        assert (S.repeated_lower_bound(design, 2, s) > 0) == (d.decision is S.Decision.EFFICACY)


# ---------------------------------------------------------------------------------------------
# the run-all loop, with fake trainers
# ---------------------------------------------------------------------------------------------


class FakeTrainer:
    """Trains by writing a value per (arm, seed); refuses another config like the real runner."""

    def __init__(self, out: Path, value, fail_at_call: int | None = None):
        self.out, self.value, self.fail_at_call, self.calls = out, value, fail_at_call, []

    def __call__(self, cfg):
        runner.prepare_experiment_dir(cfg, self.out)
        self.calls.append(list(cfg.seeds))
        if self.fail_at_call == len(self.calls):
            raise KeyboardInterrupt
        res = runner.RunAllResult(self.out)
        for arm in cfg.arms:
            for s in cfg.seeds:
                run = ExperimentDir(self.out).run(arm, s)
                if run.status.exists():
                    res.skipped.append(f"{arm}/seed-{s}")
                    continue
                run.root.mkdir(parents=True, exist_ok=True)
                atomic_write_json(run.status, {"state": "completed", "value": self.value(arm, s)})
                res.completed.append(f"{arm}/seed-{s}")
        return res

    def analyse(self):
        runs = []
        for run in ExperimentDir(self.out).runs():
            runs.append({"arm": run.arm, "seed": run.seed, "included": True,
                         AS.METRIC: json.loads(run.status.read_text())["value"]})
        return {"runs": runs, "hypotheses": {}}


def _normal_values(cfg, target_mean, sd, seed=0):
    def value(arm, s):
        rng = np.random.default_rng([seed, s, arm == cfg.target.name])
        return float((target_mean if arm == cfg.target.name else 0.6) + rng.normal(0, sd))
    return value


def test_large_effect_stops_at_the_first_look(tmp_path, cfg, design):
    out = tmp_path / "exp"
    fake = FakeTrainer(out, _normal_values(cfg, 0.9, 0.005))
    run = SR.run_until_decided(cfg, out, fake, fake.analyse, design=design)
    assert fake.calls == [[0, 1, 2]]
    assert (run.state["status"], run.state["decision"], run.state["stopped_at"]) == ("stopped", "efficacy", 1)
    assert run.state["looks_done"][0]["H1"]["repeated_lower_bound"] > 0


def test_null_experiment_adds_seeds_and_stops_without_efficacy(tmp_path, cfg, design):
    out = tmp_path / "exp"
    fake = FakeTrainer(out, _normal_values(cfg, 0.6, 0.01, seed=5))
    run = SR.run_until_decided(cfg, out, fake, fake.analyse, design=design)
    print("null experiment:", [(r["n"], r["H1"]["p_value"], r["decision"]) for r in run.state["looks_done"]])
    assert run.state["decision"] in ("futility", "final")
    assert fake.calls == [AS.seed_schedule(cfg.seeds, n) for n in design.looks[:len(fake.calls)]]
    assert read_experiment_config(ExperimentDir(out).config).seeds == fake.calls[-1]


def test_runs_without_variance_never_stop_early(tmp_path, cfg):
    out = tmp_path / "exp"
    fake = FakeTrainer(out, lambda arm, s: 0.8 if arm == cfg.target.name else 0.6)
    run = SR.run_until_decided(cfg, out, fake, fake.analyse, looks=(2, 3))
    assert [r["decision"] for r in run.state["looks_done"]] == ["continue", "final"]
    assert run.state["looks_done"][0]["H1"]["t"] is None  # undefined, stored as null
    assert "undefined" in run.state["reason"]


def test_killed_mid_look_continues_the_design(tmp_path, cfg):
    out = tmp_path / "exp"
    looks = (2, 3, 5)
    value = _normal_values(cfg, 0.62, 0.02, seed=1)
    killed = FakeTrainer(out, value, fail_at_call=2)
    with pytest.raises(KeyboardInterrupt):
        SR.run_until_decided(cfg, out, killed, killed.analyse, looks=looks)
    state = AS.read_state(out)
    assert len(state["looks_done"]) == 1 and state["status"] == "running"
    with pytest.raises(ConfigError, match="cannot change"):
        SR.run_until_decided(cfg, out, killed, killed.analyse, looks=(2, 4))
    again = FakeTrainer(out, value)
    run = SR.run_until_decided(cfg, out, again, again.analyse, looks=looks)
    assert again.calls[0] == [0, 1, 2]  # look 2 again, not look 1
    assert run.state["looks_done"][0] == state["looks_done"][0]
    assert run.state["status"] == "stopped"
    assert run.design.boundaries == S.design_from_dict(state["design"]).boundaries


def test_der_yardstick_must_cross_too(design):
    results = {"runs": [{"arm": arm, "seed": s, "included": True, AS.METRIC: v + 0.001 * s}
                        for s in range(5) for arm, v in (("ami", 0.9), ("librispeech", 0.6))],
               "hypotheses": {"H1_DER": {"statistic": -2.0, "df": 4.0, "alternative": "less", "testable": True}}}
    rec = AS.evaluate_look(design, 0, results, "ami", "librispeech", [0, 1, 2])
    assert rec["H1"]["decision"] == "efficacy" and rec["yardstick"]["t"] == 2.0
    assert rec["yardstick"]["p_value"] == pytest.approx(st.t.sf(2.0, 4.0))
    assert rec["decision"] == "continue"  # the yardstick has not crossed
    results["hypotheses"]["H1_DER"]["statistic"] = -400.0
    later = AS.evaluate_look(design, 1, results, "ami", "librispeech", [0, 1, 2, 3, 4], crossed=rec["crossed"])
    assert later["decision"] == "efficacy" and later["crossed"] == {"H1": 1, "H1_DER": 2}
    # the evaluation's hypothesis (one-sided p in the target's favour) serves when hypotheses has none
    ev = {"runs": results["runs"], "evaluation": {"hypothesis": {"p_value": 0.2, "df": 3.0, "alternative": "less"}}}
    assert AS.yardstick(ev) == {"key": "evaluation.hypothesis", "p_value": 0.2, "t": None, "df": 3.0}
    assert AS.evaluate_look(design, 0, ev, "ami", "librispeech", [0, 1, 2])["decision"] == "continue"
    assert AS.yardstick({"runs": []}) is None
    # an evaluation of other seeds (kept from an earlier look) does not decide this one
    ev["evaluation"].update(available=True, summary={"ami": {"seeds": [0, 1]}, "librispeech": {"seeds": [0, 1]}})
    stale = AS.evaluate_look(design, 0, ev, "ami", "librispeech", [0, 1, 2])
    assert stale["yardstick"] is None and "not this look's" in stale["yardstick_note"]
    assert stale["decision"] == "efficacy"


def test_design_command_matches_what_run_all_uses(tmp_path, monkeypatch, cfg):
    looks = "2,4"
    res = CliRunner().invoke(cli, ["design", "--endpoint", "accuracy", "--looks", looks,
                                   "--json", str(tmp_path / "d.json")])
    assert res.exit_code == 0, res.output
    assert "Simulated type-I error" in res.output and "expected seeds/arm" in res.output
    printed = json.loads((tmp_path / "d.json").read_text())
    assert {"boundaries", "type_i_error", "power", "expected_seeds", "method"} <= set(printed)

    out = tmp_path / "exp"
    fake = FakeTrainer(out, _normal_values(cfg, 0.61, 0.02))
    monkeypatch.setattr(runner, "run_all", lambda c, o, **kw: fake(c))
    monkeypatch.setattr(pipeline, "analyse", lambda exp_dir, **kw: fake.analyse())
    trained, outcome = pipeline.run_all(cfg, out, until_decided=True, looks=S.parse_looks(looks), report_after=False)
    assert outcome is None and not trained.failed
    assert AS.read_state(out)["design"]["boundaries"] == printed["boundaries"]


def test_run_all_takes_a_design_file(tmp_path, monkeypatch, cfg):
    runner_cli = CliRunner()
    d = tmp_path / "hp.json"
    res = runner_cli.invoke(cli, ["design", "--endpoint", "accuracy", "--looks", "2,3", "--spending", "hp",
                                  "--simulate", "5000", "--json", str(d)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "exp"
    fake = FakeTrainer(out, _normal_values(cfg, 0.61, 0.02))
    monkeypatch.setattr(runner, "run_all", lambda c, o, **kw: fake(c))
    monkeypatch.setattr(pipeline, "analyse", lambda exp_dir, **kw: fake.analyse())
    res = runner_cli.invoke(cli, ["run-all", "--out", str(out), "--no-report", "--until-decided", "--design", str(d)])
    assert res.exit_code == 0, res.output
    assert "look 1 of 2: 2 seeds per arm" in res.output
    assert AS.read_state(out)["design"] == json.loads(d.read_text())
    other = tmp_path / "alpha.json"
    runner_cli.invoke(cli, ["design", "--endpoint", "accuracy", "--looks", "2,3", "--alpha", "0.01", "--simulate",
                            "5000", "--json", str(other)])
    res = runner_cli.invoke(cli, ["run-all", "--out", str(tmp_path / "b"), "--no-report", "--until-decided",
                                  "--design", str(other)])
    assert res.exit_code == 2 and "alpha = 0.01" in res.output
    res = runner_cli.invoke(cli, ["run-all", "--until-decided", "--design", str(d), "--looks", "2,3"])
    assert res.exit_code == 2 and "exclude each other" in res.output


def test_loop_reads_the_analysis_and_the_report_shows_the_design(tmp_path, cfg):
    """Real analysis (no test split: unbiased acc = final-epoch val acc) of fake histories."""
    out = tmp_path / "exp"
    epochs = 4
    c = load_config(preset="demo", overrides={"experiment": {"epochs": epochs}})

    def train(cfg_k):
        runner.prepare_experiment_dir(cfg_k, out)
        res = runner.RunAllResult(out)
        for arm in cfg_k.arms:
            for s in cfg_k.seeds:
                run = ExperimentDir(out).run(arm, s)
                if run.history.exists():
                    continue
                run.root.mkdir(parents=True, exist_ok=True)
                level = (0.85 if arm == c.target.name else 0.6) + 0.004 * ((s * 7) % 5)
                make_history(np.linspace(level - 0.1, level, epochs)).to_csv(run.history, index=False)
                atomic_write_json(run.status, {"state": "completed", "epochs": epochs, "last_epoch": epochs})
                res.completed.append(f"{arm}/seed-{s}")
        return res

    trained = pipeline.train_until_decided(c, out, train, looks=(2, 3))  # what run-all --until-decided calls
    assert not trained.failed and len(trained.completed) >= 4
    rec = AS.read_state(out)["looks_done"][0]
    assert rec["runs"] == {c.target.name: 2, c.baseline.name: 2}
    assert rec["H1"]["delta"] == pytest.approx(0.25, abs=1e-9)
    results = pipeline.analyse(out)
    assert results["sequential"]["status"] == "stopped"
    assert_valid_results(results)  # the sequential entry follows docs/results.schema.json
    text = render_markdown(results, {})
    assert "## Sequential design" in text and "not adjusted" in text
    assert "## Sequential design" not in render_markdown({**results, "sequential": None}, {})


# ---------------------------------------------------------------------------------------------
# end to end (slow): the real CLI, papermill, a tiny config
# ---------------------------------------------------------------------------------------------

TINY = tiny_toml(name="tiny-seq", seeds=(0, 1))


@pytest.mark.slow
def test_run_all_until_decided_end_to_end(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "tiny.toml").write_text(TINY)
    env = {**os.environ, "VFREPORT_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "vfreport.cli", "run-all", "--config", "tiny.toml", "--out", "exp",
           "--until-decided", "--looks", "2,3"]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode in (0, 1), out.stdout + out.stderr  # 1: the ONNX export may fail; runs must not
    assert "look 1 of 2: 2 seeds per arm" in out.stdout, out.stdout
    state = json.loads((tmp_path / "exp" / AS.SEQUENTIAL_FILE).read_text())
    assert state["status"] == "stopped" and state["decision"] in ("efficacy", "futility", "final")
    n = state["looks_done"][-1]["n"]
    assert read_experiment_config(tmp_path / "exp" / "experiment.toml").seeds == list(range(n))
    results = json.loads((tmp_path / "exp" / "results.json").read_text())
    assert results["sequential"]["stopped_at"] == state["stopped_at"]
    assert "## Sequential design" in (tmp_path / "exp" / "report.md").read_text()
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert "already decided" in again.stdout, again.stdout + again.stderr
