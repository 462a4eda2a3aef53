from pathlib import Path

import pytest

from vfreport.config import load_config, read_experiment_config
from vfreport.errors import ConfigError, UnsafePathError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "exp.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_preset_matches_strategy_document():
    cfg = load_config()
    assert cfg.baseline.display_name == "LibriSpeech-like (Pseudo, synthetic)"  # synthetic corpora say so
    assert cfg.target.display_name == "AMI-like (annotated, synthetic)"
    assert len(cfg.seeds) >= 3 and cfg.epochs >= 12 and cfg.checkpoint_every == 5
    th = cfg.thresholds
    assert (th.ready, th.poc, th.best_case, th.realistic, th.max_variance, th.train_acc_epoch10) == (
        0.75, 0.65, 0.80, 0.75, 0.05, 0.70)
    assert th.expected_gain == [0.15, 0.25]


def test_full_preset_uses_strategy_sizes():
    cfg = load_config(preset="full")
    assert cfg.epochs == 30
    assert (cfg.baseline.train_windows, cfg.baseline.val_windows) == (10_000, 1_000)
    assert (cfg.target.train_windows, cfg.target.val_windows) == (5_000, 500)


def test_toml_round_trip(tmp_path):
    cfg = load_config(overrides={"experiment": {"seeds": [3, 4], "name": "rt"}})
    p = tmp_path / "experiment.toml"
    p.write_text(cfg.to_toml())
    assert read_experiment_config(p) == cfg


def test_user_file_overrides_preset(tmp_path):
    p = write(tmp_path, '[experiment]\nepochs = 3\n[arms.ami]\nlabel_strategy = "cluster"\n'
                        '[arms.librispeech]\ntrain_windows = 10\n')
    cfg = load_config(p)
    assert cfg.epochs == 3
    assert cfg.arms["ami"].label_strategy == "cluster"
    assert cfg.arms["ami"].display_name == "AMI-like (annotated, synthetic)"
    assert cfg.arms["librispeech"].train_windows == 10


def test_default_display_names_follow_the_source_and_never_call_synthetic_data_real(tmp_path):
    real = load_config(overrides={"arms": {"ami": {"source": "hub", "hub_id": "x"},
                                           "librispeech": {"source": "hub", "hub_id": "y"}}})
    assert (real.target.display_name, real.baseline.display_name) == ("AMI Corpus (Real)", "LibriSpeech (Pseudo)")
    for cfg in (load_config(), load_config(preset="full")):
        assert all("Real" not in a.display_name and "synthetic" in a.display_name for a in cfg.arms.values())
    named = load_config(overrides={"arms": {"ami": {"display_name": "Mine"}}})
    assert named.target.display_name == "Mine"


def test_min_der_delta_and_the_optional_ready_der(tmp_path):
    cfg = load_config()
    assert cfg.thresholds.min_der_delta == 0.03 and cfg.thresholds.ready_der is None
    assert "ready_der" not in cfg.to_toml()  # off: left out of the TOML
    on = load_config(overrides={"thresholds": {"ready_der": 0.2}})
    p = tmp_path / "experiment.toml"
    p.write_text(on.to_toml())
    assert read_experiment_config(p).thresholds.ready_der == 0.2
    with pytest.raises(ConfigError, match="ready_der"):
        load_config(overrides={"thresholds": {"ready_der": 1.5}})


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[experiment]\nepocs = 3\n", "did you mean 'epochs'"),
        ("[train]\nbatchsize = 3\n", "did you mean 'batch_size'"),
        ("[arms.ami]\nlabel_strategie = 'cluster'\n", "did you mean 'label_strategy'"),
        ("[thresholds]\nready = 75\n", "thresholds.ready must be a fraction"),
        ("[experiment]\nepochs = 0\n", "experiment.epochs"),
        ("[train]\nlr = 'fast'\n", "train.lr must be a number"),
        ("[arms.ami]\nlabel_strategy = 'magic'\n", "label_strategy must be one of"),
        ("[arms.ami]\nsource = 'local'\n", "arms.ami.path is required"),
        ("[experiment]\nseeds = [1, 1]\n", "duplicates"),
        ("[experiment\n", "invalid TOML"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        load_config(write(tmp_path, text))
    assert fragment in str(info.value)
    assert "exp.toml" in str(info.value)


def test_arm_names_cannot_escape_the_directory(tmp_path):
    with pytest.raises(UnsafePathError):
        load_config(write(tmp_path, '[arms."../evil"]\nrole = "target"\n'))
    with pytest.raises(UnsafePathError):
        load_config(write(tmp_path, '[experiment]\nname = "/etc"\n'))


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config(preset="huge")


def test_local_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    p = tmp_path / "cfg" / "exp.toml"
    p.write_text('[arms.ami]\nsource = "local"\npath = "../data/ami"\n')
    monkeypatch.chdir("/")
    assert load_config(p).arms["ami"].path == str((tmp_path / "data" / "ami").resolve())


def test_the_config_accepts_exactly_the_source_registrys_names():
    """One list of sources and datasets (vfreport.names): the config and the registry both read it,
    so a source registered in vfreport.data.sources is one the config accepts, and no other is."""
    from vfreport import config, names
    from vfreport.data.sources import OPENERS
    from vfreport.data.sources.base import register_source

    assert config.SOURCES is names.SOURCES and config.DATASETS is names.DATASETS  # not a second copy
    assert sorted(OPENERS) == sorted(names.SOURCES)
    for source in OPENERS:
        extra = {"path": "x"} if source == "local" else {"hub_id": "x"} if source == "hub" else {}
        cfg = load_config(overrides={"arms": {"ami": {"source": source, **extra}}})
        assert cfg.arms["ami"].source == source
    with pytest.raises(ConfigError, match="source must be one of"):
        load_config(overrides={"arms": {"ami": {"source": "ftp"}}})
    with pytest.raises(ValueError, match="not in vfreport.names.SOURCES"):
        register_source("ftp", OPENERS["synthetic"])
    assert "ftp" not in OPENERS


def test_voice_spread_range_is_the_one_the_voices_accept():
    from vfreport.config import VOICE_SPREAD_RANGE
    from vfreport.data.synth import speaker_voice

    lo, hi = VOICE_SPREAD_RANGE
    for v in (lo, hi):
        assert load_config(overrides={"arms": {"ami": {"voice_spread": v}}}).arms["ami"].voice_spread == v
        speaker_voice(0, "ami", 1, voice_spread=v)
    for v in (lo - 0.5, hi + 0.5):
        with pytest.raises(ConfigError, match="voice_spread must be in"):
            load_config(overrides={"arms": {"ami": {"voice_spread": v}}})
        with pytest.raises(ConfigError, match="voice_spread must be in"):
            speaker_voice(0, "ami", 1, voice_spread=v)
