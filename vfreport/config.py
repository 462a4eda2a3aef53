"""The experiment config: TOML in, validated dataclasses out (docs/experiment-directory.md).

    [experiment]  name, seeds, epochs, checkpoint_every
    [train]       window_seconds, batch_size, epoch_windows, lr, weight_decay, device, threads
    [thresholds]  ready, poc, best_case, realistic, max_variance, train_acc_epoch10, alpha,
                  expected_gain, min_delta, min_lift, min_der_delta, ready_der (optional)
    [arms.<name>] display_name, role, dataset, source, path, hub_id, hub_config, revision,
                  train_split, val_split, test_split, train_windows, val_windows, test_windows,
                  label_strategy, on_bad_audio
    [evaluation]  audio, rttm, uem (optional: real recordings every run's best checkpoint is also
                  scored on, docs/evaluate.md; paths relative to the config file's folder)

Unknown keys are rejected with the closest valid key suggested; values are range-checked.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from vfreport.errors import ConfigError
from vfreport.names import DATASETS, SOURCES, check_name

ROLES = ("baseline", "target")
LABEL_STRATEGIES = ("round-robin", "two-speaker", "cluster", "pairs")
PRESETS = ("demo", "full")
VOICE_SPREAD_RANGE = (0.0, 4.0)
"""The values ``voice_spread`` may take (0: one voice for every speaker; 1: the drawn traits; above 1
more distinct voices): the config and the synthetic voices check against it."""


@dataclass(frozen=True)
class TrainSettings:
    """How one run trains: the one training-settings type and the one definition of its defaults.

    The config's ``[train]`` table sets the fields of :data:`TRAIN_TABLE`; run-all fills the per-run
    rest for each (arm, seed) with :meth:`for_run`. The training loop
    (:func:`vfreport.model.train.train_run`) takes it, and the training notebook's parameters cell
    is generated from its defaults (:mod:`vfreport.run.parameters`)."""

    window_seconds: float = 2.0
    batch_size: int = 32
    epoch_windows: int = 0  # windows per epoch, drawn afresh from the arm's train_windows each epoch; 0: all
    lr: float = 2e-3
    weight_decay: float = 0.01
    device: str = "auto"
    threads: int = 0  # 0: split the machine's cores between parallel jobs
    # per run (not in [train]): the arm, the seed, [experiment]'s epochs and checkpoint_every, the arm's objective
    arm: str = "arm"
    seed: int = 0
    epochs: int = 12
    checkpoint_every: int = 5
    objective: str = "auto"  # "fixed" | "pit" | "auto" (vfreport.objective.DEFAULT_OBJECTIVE per label strategy)

    def for_run(self, arm: ArmConfig, seed: int, epochs: int, checkpoint_every: int) -> TrainSettings:
        """These settings for one (arm, seed) run of an experiment."""
        return replace(self, arm=arm.name, seed=int(seed), epochs=int(epochs), checkpoint_every=int(checkpoint_every),
                       objective=arm.objective)


TRAIN_TABLE = ("window_seconds", "batch_size", "epoch_windows", "lr", "weight_decay", "device", "threads")
"""The fields of :class:`TrainSettings` the config's ``[train]`` table sets (the others are per run)."""


@dataclass
class Thresholds:
    ready: float = 0.75
    poc: float = 0.65
    best_case: float = 0.80
    realistic: float = 0.75
    max_variance: float = 0.05
    train_acc_epoch10: float = 0.70
    alpha: float = 0.05
    expected_gain: list[float] = field(default_factory=lambda: [0.15, 0.25])
    min_delta: float = 0.05
    min_lift: float = 0.05  # smallest accuracy gain over the audio-free baseline that counts (lift)
    min_der_delta: float = 0.03
    """Smallest worthwhile DER improvement on the common yardstick (the primary endpoint), as a
    fraction (0.03 = 3 DER points). Why 3: on AMI, pyannote 3.1's per-meeting DER spans 11.0–28.5 %
    (SD about 5 points across meetings), so 3 points is a little over half a meeting-to-meeting SD,
    a gain a user notices on most meetings; it is larger than the step between successive pyannote
    releases (18.8 → 17.0 %, 1.8 points) and smaller than the step to the current best systems
    (18.8 → 13.9–15 %, 4–5 points). Smaller values need many more runs to decide
    (docs/statistics.md)."""
    ready_der: float | None = None
    """Optional DER ceiling for "ready" (a fraction): an arm whose DER interval does not lie below it
    is at most PoC. Off (None) by default: the yardstick's oracle speech activity makes its DERs
    lower than a full system's, so a published figure such as pyannote 3.1's 18.8 % on AMI is not
    the same scale; set it from a reference system scored the same way."""


@dataclass
class ArmConfig:
    name: str
    display_name: str
    role: str
    dataset: str
    source: str = "synthetic"
    path: str = ""
    hub_id: str = ""
    hub_config: str = ""
    revision: str = ""
    train_split: str = "train"
    val_split: str = "validation"
    train_windows: int = 512
    val_windows: int = 160
    test_split: str = "test"
    test_windows: int = 0  # held-out windows the best checkpoint (chosen on val) is scored on; 0: none
    label_strategy: str = ""
    on_bad_audio: str = "skip"  # "skip" (warn and count) or "error"
    data_seed: int = 0  # seed of the synthetic corpus (fixed across run seeds)
    objective: str = "auto"  # "fixed" | "pit" | "auto" (vfreport.objective.DEFAULT_OBJECTIVE)
    voice_spread: float = 1.0  # synthetic corpora: 0 = every speaker has one voice, 1 = default traits


@dataclass
class EvaluationSet:
    """Real recordings with a reference (``[evaluation]``): a folder of audio files named by RTTM uri,
    the RTTM and optionally a UEM (default: each whole recording)."""

    audio: str
    rttm: str
    uem: str = ""


EVALUATION_TABLE = ("audio", "rttm", "uem")


@dataclass
class ExperimentConfig:
    name: str = "demo"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = TrainSettings.epochs
    checkpoint_every: int = TrainSettings.checkpoint_every
    train: TrainSettings = field(default_factory=TrainSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    arms: dict[str, ArmConfig] = field(default_factory=dict)
    evaluation: EvaluationSet | None = None

    @property
    def baseline(self) -> ArmConfig:
        return next(a for a in self.arms.values() if a.role == "baseline")

    @property
    def target(self) -> ArmConfig:
        return next(a for a in self.arms.values() if a.role == "target")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        exp = {k: d.pop(k) for k in ("name", "seeds", "epochs", "checkpoint_every")}
        arms = {name: {k: v for k, v in arm.items() if k != "name"} for name, arm in d.pop("arms").items()}
        train = {k: d["train"][k] for k in TRAIN_TABLE}
        thresholds = {k: v for k, v in d["thresholds"].items() if v is not None}  # TOML has no null: left out = off
        out = {"experiment": exp, "train": train, "thresholds": thresholds, "arms": arms}
        if self.evaluation is not None:  # TOML has no null: an absent table is no real set
            out["evaluation"] = {k: v for k, v in d["evaluation"].items() if v}
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


# ---------------------------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------------------------


DISPLAY_NAMES = {
    ("librispeech", False): "LibriSpeech (Pseudo)",
    ("ami", False): "AMI Corpus (Real)",
    ("librispeech", True): "LibriSpeech-like (Pseudo, synthetic)",
    ("ami", True): "AMI-like (annotated, synthetic)",
}
"""Default display names by (dataset, synthetic source): the strategy document's names for real
corpora; synthetic corpora say so and are never called "Real"."""


def default_display_name(dataset: str, source: str) -> str:
    """The display name an arm gets when its config names none (:data:`DISPLAY_NAMES`)."""
    return DISPLAY_NAMES.get((dataset, source == "synthetic"), dataset)


def _default_arms(train_libri: int, val_libri: int, train_ami: int, val_ami: int) -> dict[str, dict]:
    return {
        "librispeech": {
            "role": "baseline",
            "dataset": "librispeech",
            "source": "synthetic",
            "train_split": "train.360",
            "val_split": "validation",
            "train_windows": train_libri,
            "val_windows": val_libri,
            "test_split": "test",  # new speakers
            "test_windows": val_libri,
            "label_strategy": "round-robin",
        },
        "ami": {
            "role": "target",
            "dataset": "ami",
            "source": "synthetic",
            "train_split": "train",
            "val_split": "validation",
            "train_windows": train_ami,
            "val_windows": val_ami,
            "test_split": "test",  # new meetings
            "test_windows": val_ami,
            "label_strategy": "two-speaker",
        },
    }


PRESET_VALUES: dict[str, dict[str, Any]] = {
    # ~3 minutes on 2 CPU cores for 2 arms x 3 seeds x 12 epochs (vfreport bench measures it): each epoch
    # trains on 384 windows drawn afresh from 1,536 (more distinct windows, same compute as 384 x 12)
    "demo": {
        "experiment": {"name": "demo", "seeds": [0, 1, 2], "epochs": 12, "checkpoint_every": 5},
        "train": {"window_seconds": 2.0, "batch_size": 32, "epoch_windows": 384, "lr": 2e-3},
        "arms": _default_arms(1536, 128, 1536, 128),
    },
    # the strategy document's sizes
    "full": {
        "experiment": {"name": "full", "seeds": [0, 1, 2], "epochs": 30, "checkpoint_every": 5},
        "train": {"window_seconds": 2.0, "batch_size": 64, "lr": 1e-3},
        "arms": _default_arms(10_000, 1_000, 5_000, 500),
    },
}


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _reject_unknown(table: dict[str, Any], allowed: list[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (valid: {', '.join(allowed)})"
            raise ConfigError(f"unknown key {where}.{key}{hint}")


def _only(table: Any, allowed: tuple[str, ...], where: str) -> Any:
    if isinstance(table, dict):
        _reject_unknown(table, list(allowed), where)
    return table


def _build(cls: type, table: dict[str, Any], where: str, **extra: Any) -> Any:
    names = [f.name for f in fields(cls) if f.name not in extra]
    _reject_unknown(table, names, where)
    kwargs = dict(extra)
    for f in fields(cls):
        if f.name in table:
            kwargs[f.name] = _coerce(table[f.name], f, f"{where}.{f.name}")
    return cls(**kwargs)


def _coerce(value: Any, f: Any, where: str) -> Any:
    typ = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if typ in ("float", "float | None"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if typ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if typ == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if typ.startswith("list"):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return list(value)
    return value


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Range-check every value; raise ConfigError naming the key."""
    check_name(cfg.name, "experiment.name")
    _check(len(cfg.seeds) >= 1, "experiment.seeds must list at least one seed")
    _check(all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in cfg.seeds),
           f"experiment.seeds must be non-negative integers, got {cfg.seeds!r}")
    _check(len(set(cfg.seeds)) == len(cfg.seeds), f"experiment.seeds has duplicates: {cfg.seeds!r}")
    _check(1 <= cfg.epochs <= 10_000, f"experiment.epochs must be in 1..10000, got {cfg.epochs}")
    _check(cfg.checkpoint_every >= 1, "experiment.checkpoint_every must be >= 1")
    t = cfg.train
    _check(0.5 <= t.window_seconds <= 30, f"train.window_seconds must be in 0.5..30, got {t.window_seconds}")
    _check(1 <= t.batch_size <= 65536, f"train.batch_size must be in 1..65536, got {t.batch_size}")
    _check(0 <= t.epoch_windows <= 10_000_000, f"train.epoch_windows must be >= 0 (0: all), got {t.epoch_windows}")
    _check(0 < t.lr < 1, f"train.lr must be in (0, 1), got {t.lr}")
    _check(0 <= t.weight_decay < 1, f"train.weight_decay must be in [0, 1), got {t.weight_decay}")
    _check(t.device == "auto" or t.device == "cpu" or t.device.startswith("cuda"),
           f"train.device must be 'auto', 'cpu' or 'cuda[:N]', got {t.device!r}")
    _check(t.threads >= 0, "train.threads must be >= 0")
    th = cfg.thresholds
    for key in ("ready", "poc", "best_case", "realistic", "max_variance", "train_acc_epoch10", "min_delta",
                "min_lift", "min_der_delta"):
        v = getattr(th, key)
        _check(0 <= v <= 1, f"thresholds.{key} must be a fraction in [0, 1], got {v}")
    _check(th.ready_der is None or (isinstance(th.ready_der, float) and 0 < th.ready_der <= 1),
           f"thresholds.ready_der must be a fraction in (0, 1] or left out, got {th.ready_der!r}")
    _check(0 < th.alpha < 0.5, f"thresholds.alpha must be in (0, 0.5), got {th.alpha}")
    _check(th.poc <= th.ready, "thresholds.poc must not exceed thresholds.ready")
    _check(th.realistic <= th.best_case, "thresholds.realistic must not exceed thresholds.best_case")
    _check(len(th.expected_gain) == 2 and th.expected_gain[0] <= th.expected_gain[1],
           "thresholds.expected_gain must be [low, high] with low <= high")
    _check(len(cfg.arms) == 2, f"exactly two arms are compared, got {len(cfg.arms)}: {list(cfg.arms)}")
    roles = sorted(a.role for a in cfg.arms.values())
    _check(roles == ["baseline", "target"], f"the arms need one role 'baseline' and one 'target', got {roles}")
    for a in cfg.arms.values():
        w = f"arms.{a.name}"
        check_name(a.name, "arm name")
        _check(a.dataset in DATASETS, f"{w}.dataset must be one of {DATASETS}, got {a.dataset!r}")
        _check(a.source in SOURCES, f"{w}.source must be one of {SOURCES}, got {a.source!r}")
        _check(a.role in ROLES, f"{w}.role must be one of {ROLES}, got {a.role!r}")
        _check(a.label_strategy in LABEL_STRATEGIES,
               f"{w}.label_strategy must be one of {LABEL_STRATEGIES}, got {a.label_strategy!r}")
        if a.dataset == "librispeech":
            _check(a.label_strategy == "round-robin", f"{w}.label_strategy must be 'round-robin' for librispeech")
        else:
            _check(a.label_strategy != "round-robin", f"{w}.label_strategy 'round-robin' is for librispeech only")
        _check(a.source != "local" or bool(a.path), f"{w}.path is required when source = 'local'")
        _check(1 <= a.train_windows <= 10_000_000, f"{w}.train_windows must be >= 1, got {a.train_windows}")
        _check(1 <= a.val_windows <= 10_000_000, f"{w}.val_windows must be >= 1, got {a.val_windows}")
        _check(0 <= a.test_windows <= 10_000_000, f"{w}.test_windows must be >= 0, got {a.test_windows}")
        _check(a.on_bad_audio in ("skip", "error"), f"{w}.on_bad_audio must be 'skip' or 'error'")
        lo, hi = VOICE_SPREAD_RANGE
        _check(lo <= a.voice_spread <= hi, f"{w}.voice_spread must be in [{lo:g}, {hi:g}], got {a.voice_spread}")
        try:
            from vfreport.objective import resolve_objective

            resolve_objective(a.label_strategy, a.objective)
        except ValueError as e:
            raise ConfigError(f"{w}.objective: {e}") from e
        _check(bool(a.display_name.strip()), f"{w}.display_name must not be empty")
    if cfg.evaluation is not None:
        _check(bool(cfg.evaluation.audio) and bool(cfg.evaluation.rttm),
               "[evaluation] needs audio (a folder of recordings) and rttm (their reference); uem is optional")
    return cfg


def from_dict(data: dict[str, Any]) -> ExperimentConfig:
    """Build and validate a config from a TOML-shaped dict."""
    _reject_unknown(data, ["experiment", "train", "thresholds", "arms", "evaluation"], "config")
    exp_table = dict(data.get("experiment", {}))
    _reject_unknown(exp_table, ["name", "seeds", "epochs", "checkpoint_every"], "experiment")
    exp_fields = {f.name: f for f in fields(ExperimentConfig)}
    kwargs = {k: _coerce(v, exp_fields[k], f"experiment.{k}") for k, v in exp_table.items()}
    arms_table = data.get("arms", {})
    if not isinstance(arms_table, dict):
        raise ConfigError("[arms] must be a table of [arms.<name>] tables")
    arms = {}
    for name, table in arms_table.items():
        if not isinstance(table, dict):
            raise ConfigError(f"arms.{name} must be a table")
        check_name(name, "arm name")
        arms[name] = _build(ArmConfig, table, f"arms.{name}", name=name)
    cfg = ExperimentConfig(
        **kwargs,
        train=_build(TrainSettings, _only(data.get("train", {}), TRAIN_TABLE, "train"), "train"),
        thresholds=_build(Thresholds, data.get("thresholds", {}), "thresholds"),
        arms=arms,
        evaluation=_evaluation_set(data.get("evaluation")),
    )
    return validate(cfg)


def _evaluation_set(table: Any) -> EvaluationSet | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("[evaluation] must be a table (audio, rttm, uem)")
    missing = [k for k in ("audio", "rttm") if k not in table]
    if missing:
        raise ConfigError(f"[evaluation] needs {' and '.join(missing)}: audio = a folder of recordings, "
                          "rttm = their reference (uem optional)")
    return _build(EvaluationSet, table, "evaluation")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(
    path: Path | str | None = None, preset: str = "demo", overrides: dict | None = None
) -> ExperimentConfig:
    """The preset's values, updated by the TOML file at ``path`` (if any) and ``overrides``."""
    if preset not in PRESET_VALUES:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    data = copy.deepcopy(PRESET_VALUES[preset])
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config {str(p)!r}: {e.strerror}") from e
        try:
            user = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: invalid TOML: {e}") from e
        if "arms" in user and isinstance(user["arms"], dict) and not set(user["arms"]) <= set(data["arms"]):
            # a config that names arms of its own replaces the preset's arms (same names still merge)
            data["arms"] = {name: data["arms"][name] for name in user["arms"] if name in data["arms"]}
        data = _merge(data, user)
    if overrides:
        data = _merge(data, overrides)
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    for arm in data.get("arms", {}).values():  # local data paths are relative to the config file
        if isinstance(arm, dict) and isinstance(arm.get("path"), str) and arm["path"]:
            arm["path"] = str((base / Path(arm["path"]).expanduser()).resolve())
        if isinstance(arm, dict) and "display_name" not in arm:  # named for its data (never "Real" if synthetic)
            arm["display_name"] = default_display_name(str(arm.get("dataset", "")), str(arm.get("source", "synthetic")))
    evaluation = data.get("evaluation")
    if isinstance(evaluation, dict):  # so are the real recordings'
        for key in EVALUATION_TABLE:
            if isinstance(evaluation.get(key), str) and evaluation[key]:
                evaluation[key] = str((base / Path(evaluation[key]).expanduser()).resolve())
    try:
        return from_dict(data)
    except ConfigError as e:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(f"{where}{e}") from e


def read_experiment_config(path: Path | str) -> ExperimentConfig:
    """Read an experiment.toml written by :meth:`ExperimentConfig.to_toml` (no preset merge)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read experiment config {str(p)!r}: {e}") from e
    try:
        return from_dict(data)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from e
