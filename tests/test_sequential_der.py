"""Adaptive seeds on ΔDER (vfreport.stats.sequential_der): the calibrated design's type-I error on
paths it was not calibrated on, its power and futility rates, the look decisions; the
``run-all --until-decided`` loop on ΔDER with fakes; and the evaluation's re-use of earlier RTTMs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vfreport import pipeline
from vfreport import sequential_run as SR
from vfreport.analysis import sequential as AS
from vfreport.cli import cli
from vfreport.config import load_config
from vfreport.errors import ConfigError
from vfreport.experiment.layout import ExperimentDir, atomic_write_json
from vfreport.report.sequential import sequential_section
from vfreport.run import runner
from vfreport.stats.sequential import Decision, run_procedure
from vfreport.stats.sequential_der import (
    DEMO_COMPONENTS,
    _look_stats,
    _p_gain,
    _p_no_gain,
    decide_der,
    der_design_from_dict,
    design_sequential_der,
    repeated_upper_bound,
)

LOOKS = (3, 5, 8)
N_SIM = 6000
ALPHA = 0.05
SMALL_RUN_SD = {"run": 1e-4, "meeting": 0.0064, "arm_x_meeting": 0.001, "residual": 0.0018}
"""The demo's components as estimated from its first 3 + 3 runs (run SD 1, arm × meeting 3.2,
residual 4.2 DER points)."""


@pytest.fixture(scope="module")
def design6():
    return design_sequential_der(LOOKS, n_meetings=6, alpha=ALPHA, min_der_delta=0.03,
                                 alternatives={"gain_5": 0.05}, components=SMALL_RUN_SD, n_sim=N_SIM, seed=1)


@pytest.fixture(scope="module")
def design20():
    return design_sequential_der(LOOKS, n_meetings=20, alpha=ALPHA, min_der_delta=0.03,
                                 alternatives={"gain_5": 0.05}, components=SMALL_RUN_SD, n_sim=N_SIM, seed=2)


def _rates(design, components, delta, seed, futility=True):
    """Efficacy and futility rates of the design's procedure on fresh paths at true ΔDER ``delta``
    (``futility`` False: the futility boundary ignored, the non-binding worst case)."""
    est, se, df = _look_stats(components, design.looks, design.n_meetings, N_SIM, (seed, 7))
    fut = _p_no_gain(est + delta, se, df, design.min_der_delta) if futility else None
    _, outcome = run_procedure(_p_gain(est + delta, se, df), fut,
                                [b.efficacy_p for b in design.boundaries], [b.futility_p for b in design.boundaries])
    return float(np.mean(outcome == 1)), float(np.mean(outcome == 2))


@pytest.mark.parametrize("components", [
    DEMO_COMPONENTS,
    SMALL_RUN_SD,
    {"run": 1.0, "arm_x_meeting": 1.0, "residual": 1.0},  # a mix the calibration did not see
    {"run": 0.0009, "meeting": 0.0064, "arm_x_meeting": 0.0004, "residual": 0.0009},
], ids=["demo", "demo-3-runs", "balanced", "run-heavy"])
@pytest.mark.parametrize("which", ["design6", "design20"])
def test_type_i_error_on_fresh_paths(which, components, request):
    design = request.getfixturevalue(which)
    mc_se = math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)
    assert design.type_i_error <= ALPHA + 2 * mc_se  # the design's own check (fresh paths, worst mix)
    efficacy, _ = _rates(design, components, 0.0, seed=design.n_meetings, futility=False)
    print(f"\n{which}: type-I {efficacy:.4f}, futility ignored")
    assert efficacy <= ALPHA + 2 * mc_se


def test_power_futility_and_expected_seeds(design6, design20):
    """With 20 meetings and a small run SD a 3-point gain is found about 75 % of the time; with 6 the
    arm × meeting variance caps power (more meetings, not more seeds). A true gain of min_der_delta rarely
    stops for futility (≤ β + MC error); no gain often does."""
    for d in (design6, design20):
        ops = {o.name: o for o in d.operating}
        print(f"\n{d.n_meetings} meetings: " + "; ".join(
            f"{o.name}: efficacy {o.power:.3f}, futility {o.futility:.3f}, seeds {o.expected_seeds:.2f}"
            for o in d.operating))
        assert ops["min_der_delta"].futility <= d.futility_beta + 2 * math.sqrt(0.1 * 0.9 / N_SIM)
        assert ops["null"].futility > ops["min_der_delta"].futility
        assert ops["gain_5"].power > ops["min_der_delta"].power > ops["null"].power
        assert all(LOOKS[0] <= o.expected_seeds <= LOOKS[-1] for o in d.operating)
        assert math.isclose(sum(ops["null"].stop_at_look), 1.0)
    assert {o.name: o.power for o in design20.operating}["min_der_delta"] > 0.7
    assert {o.name: o.power for o in design6.operating}["min_der_delta"] < 0.5


def test_boundaries_spend_alpha_and_round_trip(design6):
    effs = [b.efficacy_p for b in design6.boundaries]
    assert effs == sorted(effs) and effs[-1] < ALPHA
    assert design6.boundaries[-1].futility_p is None
    assert all(b.alpha_spent <= ALPHA + 1e-12 for b in design6.boundaries)
    again = der_design_from_dict(design6.to_dict())
    assert again == design6
    assert design6.to_dict()["endpoint"] == "der"


def test_decide_der(design6):
    b0, last = design6.boundaries[0], len(design6.looks) - 1
    strong = decide_der(design6, 0, -0.20, 0.01, 10.0)
    assert strong.decision is Decision.EFFICACY and strong.p_value <= b0.efficacy_p
    assert repeated_upper_bound(design6, 0, -0.20, 0.01, 10.0) < 0
    none = decide_der(design6, 0, 0.10, 0.01, 10.0)
    assert none.decision is Decision.FUTILITY
    assert decide_der(design6, 0, -0.01, 0.02, 5.0).decision is Decision.CONTINUE
    assert decide_der(design6, 0, -0.01, math.nan, math.nan).decision is Decision.CONTINUE
    assert decide_der(design6, last, -0.01, 0.02, 5.0).decision is Decision.FINAL
    with pytest.raises(IndexError):
        decide_der(design6, 9, 0.0, 1.0, 1.0)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="min_der_delta"):
        design_sequential_der(LOOKS, min_der_delta=0.0, n_sim=1000)
    with pytest.raises(ValueError, match="2 meetings"):
        design_sequential_der(LOOKS, n_meetings=1, n_sim=1000)
    with pytest.raises(ValueError, match="no variance"):
        design_sequential_der(LOOKS, components={"meeting": 1.0}, n_sim=1000)


# ---------------------------------------------------------------------------------------------
# run-all --until-decided on ΔDER, with a fake trainer and a fake evaluation
# ---------------------------------------------------------------------------------------------


MEETINGS = [f"m{j}" for j in range(8)]


class FakeDerTrainer:
    """Trains by writing nothing but a completed status; ``analyse`` returns results.json with an
    evaluation whose per-meeting DERs follow the crossed model (run, meeting, arm × meeting,
    residual), the target's DER lower by ``gain``. Records which seeds each analysis saw."""

    def __init__(self, out: Path, cfg, gain: float, seed: int = 0):
        self.out, self.cfg, self.gain, self.seed, self.calls = out, cfg, gain, seed, []

    def __call__(self, cfg):
        runner.prepare_experiment_dir(cfg, self.out)
        self.calls.append(list(cfg.seeds))
        res = runner.RunAllResult(self.out)
        for arm in cfg.arms:
            for s in cfg.seeds:
                run = ExperimentDir(self.out).run(arm, s)
                if not run.status.exists():
                    run.root.mkdir(parents=True, exist_ok=True)
                    atomic_write_json(run.status, {"state": "completed"})
                    res.completed.append(f"{arm}/seed-{s}")
        return res

    def der(self, arm: str, s: int, j: int) -> float:
        meeting = np.random.default_rng([self.seed, 1, j]).normal(0, 0.08)
        inter = np.random.default_rng([self.seed, 2, j, arm == self.cfg.target.name]).normal(0, 0.02)
        run = np.random.default_rng([self.seed, 3, s, arm == self.cfg.target.name]).normal(0, 0.01)
        res = np.random.default_rng([self.seed, 4, s, j, arm == self.cfg.target.name]).normal(0, 0.03)
        return 0.4 - (self.gain if arm == self.cfg.target.name else 0.0) + meeting + inter + run + res

    def analyse(self):
        der = {run.arm: {} for run in ExperimentDir(self.out).runs()}
        for run in ExperimentDir(self.out).runs():
            der[run.arm][str(run.seed)] = {u: {"der": self.der(run.arm, run.seed, j), "total": 60.0 + 10 * j}
                                           for j, u in enumerate(MEETINGS)}
        return {"runs": [], "evaluation": {"available": True, "meetings": [{"uri": u} for u in MEETINGS],
                                           "der": der}}


@pytest.fixture(scope="module")
def cfg():
    return load_config(preset="demo")


@pytest.fixture(scope="module")
def loop_design(cfg):
    return AS.design_for_config(cfg, (3, 5, 8), n_sim=4000, endpoint="der", n_meetings=len(MEETINGS))


def test_large_gain_stops_for_efficacy_at_the_first_look(tmp_path, cfg, loop_design):
    out = tmp_path / "exp"
    fake = FakeDerTrainer(out, cfg, gain=0.15)
    run = SR.run_until_decided(cfg, out, fake, fake.analyse, design=loop_design)
    assert fake.calls == [[0, 1, 2]]
    assert (run.state["decision"], run.state["stopped_at"]) == ("efficacy", 1)
    rec = run.state["looks_done"][0]
    assert rec["endpoint"] == "der" and rec["runs"] == {cfg.target.name: 3, cfg.baseline.name: 3}
    assert rec["DER"]["estimate"] == pytest.approx(-0.15, abs=0.05)
    assert rec["DER"]["repeated_upper_bound"] < 0 and rec["meetings"] == len(MEETINGS)
    entry = AS.sequential_entry(out)
    assert entry["design"]["endpoint"] == "der" and entry["status"] == "stopped"
    text = sequential_section({"sequential": entry})
    assert "ΔDER" in text and "stopped for efficacy" in text and "not adjusted" in text


def test_no_gain_adds_seeds_and_stops_without_efficacy(tmp_path, cfg, loop_design):
    out = tmp_path / "exp"
    fake = FakeDerTrainer(out, cfg, gain=0.0, seed=3)
    run = SR.run_until_decided(cfg, out, fake, fake.analyse, design=loop_design)
    print("no gain:", [(r["n"], r["DER"]["estimate"], r["DER"]["p_value"], r["decision"])
                       for r in run.state["looks_done"]])
    assert run.state["decision"] in ("futility", "final")
    assert fake.calls == [AS.seed_schedule(cfg.seeds, n) for n in loop_design.looks[:len(fake.calls)]]
    # each look compared exactly its own seeds, though the evaluation held no others
    assert [sum(r["runs"].values()) for r in run.state["looks_done"]] == [2 * r["n"] for r in run.state["looks_done"]]


def test_a_look_without_an_evaluation_decides_nothing(tmp_path, cfg, loop_design):
    out = tmp_path / "exp"
    fake = FakeDerTrainer(out, cfg, gain=0.15)
    run = SR.run_until_decided(cfg, out, fake, lambda: {"runs": [], "evaluation": {"available": False,
                                                                                  "reason": "no meetings"}},
                               design=loop_design)
    assert [r["decision"] for r in run.state["looks_done"]] == ["continue", "continue", "final"]
    assert "no meetings" in run.state["looks_done"][0]["reason"]


def test_endpoint_fallback_and_a_started_design_keeps_its_endpoint(tmp_path, cfg):
    no_ami = load_config(preset="demo",
                         overrides={"arms": {"ami": {"dataset": "librispeech", "label_strategy": "round-robin"}}})
    assert AS.endpoint_for(no_ami, "der")[0] == "accuracy" and "instead of ΔDER" in AS.endpoint_for(no_ami, "der")[1]
    assert AS.endpoint_for(cfg, "der") == ("der", "")
    with pytest.raises(ConfigError, match="endpoint"):
        AS.endpoint_for(cfg, "wer")
    out = tmp_path / "exp"
    fake = FakeDerTrainer(out, cfg, gain=0.15)
    SR.run_until_decided(cfg, out, fake, fake.analyse, looks=(2, 3), endpoint="der")
    assert AS.read_state(out)["design"]["endpoint"] == "der"
    with pytest.raises(ConfigError, match="decides on der"):
        SR.run_until_decided(cfg, out, fake, fake.analyse, endpoint="accuracy")
    with pytest.raises(ConfigError, match="min_der_delta"):
        AS.check_design(design_sequential_der((2, 3), min_der_delta=0.07, n_sim=1000), cfg)


def test_design_command_and_run_all_default_to_der(tmp_path, monkeypatch, cfg):
    runner_cli = CliRunner()
    d = tmp_path / "d.json"
    res = runner_cli.invoke(cli, ["design", "--looks", "2,3", "--simulate", "2000", "--meetings", "8",
                                  "--components", "run=2,arm_x_meeting=3,residual=4", "--json", str(d)])
    assert res.exit_code == 0, res.output
    assert "ΔDER" in res.output and "Simulated type-I error" in res.output and "expected seeds/arm" in res.output
    written = json.loads(d.read_text())
    assert written["endpoint"] == "der" and written["n_meetings"] == 8
    assert written["components"]["run_target"] == pytest.approx(0.02**2)
    bad = runner_cli.invoke(cli, ["design", "--components", "runs=2"])
    assert bad.exit_code == 2 and "--components" in bad.output
    assert runner_cli.invoke(cli, ["design", "--sd", "0.02"]).exit_code == 2
    assert runner_cli.invoke(cli, ["design", "--endpoint", "accuracy", "--meetings", "4"]).exit_code == 2

    out = tmp_path / "exp"
    fake = FakeDerTrainer(out, cfg, gain=0.15)
    monkeypatch.setattr(runner, "run_all", lambda c, o, **kw: fake(c))
    monkeypatch.setattr(pipeline, "analyse", lambda exp_dir, **kw: fake.analyse())
    res = runner_cli.invoke(cli, ["run-all", "--out", str(out), "--no-report", "--until-decided", "--design", str(d)])
    assert res.exit_code == 0, res.output
    assert "ΔDER = " in res.output and AS.read_state(out)["decision"] == "efficacy"
    plain = tmp_path / "plain"
    fake.out = plain
    res = runner_cli.invoke(cli, ["run-all", "--out", str(plain), "--no-report", "--until-decided", "--looks", "2,3"])
    assert res.exit_code == 0, res.output
    assert AS.read_state(plain)["design"]["endpoint"] == "der"


# ---------------------------------------------------------------------------------------------
# the evaluation at each look: only new runs diarize, earlier RTTMs are re-scored
# ---------------------------------------------------------------------------------------------


def _checkpoint(path: Path, seed: int) -> None:
    from _evaluated import write_checkpoint  # imports torch: only the tests that write checkpoints pay for it

    write_checkpoint(path, seed)


def test_evaluation_rescores_unchanged_runs_and_diarizes_new_ones(tmp_path):
    from dataclasses import replace

    from _data import AMI_DEBUG
    from _expdir import LIBRISPEECH_VAL, make_experiment, make_history

    from vfreport.analysis import evaluation as E
    from vfreport.config import read_experiment_config
    from vfreport.experiment.layout import atomic_write_text

    hist = {(arm, s): make_history(LIBRISPEECH_VAL) for arm in ("librispeech", "ami") for s in range(2)}
    exp = make_experiment(tmp_path, {k: v for k, v in hist.items() if k[1] == 0},
                          overrides={"arms": {"ami": {"source": "local", "path": str(AMI_DEBUG)}}})
    ed = ExperimentDir(exp)
    for arm in ("librispeech", "ami"):
        _checkpoint(ed.run(arm, 0).best, len(arm))
    first = E.evaluate_experiment(exp, split="debug.development", n_resamples=50)
    assert first["available"] and first["reused"] == {}
    # a look adds seed 1 to both arms: only it diarizes; seed 0's RTTMs are re-scored to the same DERs
    cfg = read_experiment_config(ed.config)
    atomic_write_text(ed.config, replace(cfg, seeds=[0, 1]).to_toml())
    for arm in ("librispeech", "ami"):
        run = ed.run(arm, 1)
        run.root.mkdir(parents=True, exist_ok=True)
        hist[(arm, 1)].to_csv(run.history, index=False)
        atomic_write_json(run.status, {"state": "completed", "epochs": 12, "last_epoch": 12})
        _checkpoint(run.best, 100 + len(arm))
    second = E.evaluate_experiment(exp, split="debug.development", n_resamples=50)
    assert second["reused"] == {"librispeech": ["0"], "ami": ["0"]}
    for arm in ("librispeech", "ami"):
        assert second["der"][arm]["0"] == first["der"][arm]["0"]
        assert set(second["der"][arm]) == {"0", "1"}
        assert second["hypothesis_dirs"][arm]["0"] == first["hypothesis_dirs"][arm]["0"]
    # a new best.pt (training went on) is diarized again
    _checkpoint(ed.run("ami", 0).best, 7)
    third = E.evaluate_experiment(exp, split="debug.development", n_resamples=50)
    assert third["reused"] == {"librispeech": ["0", "1"], "ami": ["1"]}
    assert third["der"]["ami"]["1"] == second["der"]["ami"]["1"]
    # other pipeline settings (a clustering threshold) make other RTTMs: nothing is re-scored
    from vfreport.deploy.predict import PipelineSettings

    fourth = E.evaluate_experiment(exp, split="debug.development", n_resamples=50,
                                   settings=PipelineSettings(threshold=0.2))
    assert fourth["reused"] == {}
    assert fourth["pipeline"]["threshold"] == 0.2
