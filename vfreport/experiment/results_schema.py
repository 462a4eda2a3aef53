"""results.json's layout: its version, its typed records, its JSON Schema, and the check every
reader of an existing results.json makes (docs/experiment-directory.md, docs/results.schema.json).

:class:`Results` and the records under it are the layout; :func:`vfreport.analysis.results.build_results`
is the one place that builds it, :func:`with_onnx` the one way to replace its ``onnx`` entry after an
export, and :func:`json_schema` (``vfreport schema``) turns the records into a JSON Schema.

``vfreport report DIR`` re-analyses the runs and overwrites results.json, so it reads no old one;
what consumes a results.json as it is (the review notebook, :func:`vfreport.report.review.load_results`)
goes through :func:`read_results`, which refuses another layout with one line that says how to
get the current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired

from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from vfreport.errors import ExperimentError, ResultsSchemaError
from vfreport.experiment.layout import ExperimentDir, read_json_object

SCHEMA_VERSION = 2
"""results.json's layout version: 2 adds ``primary`` (the primary endpoint), ``arms.<arm>.readiness``
and the secondary family (``hypotheses.<key>.family``). A results.json without ``schema_version``
is layout 1."""


# ---------------------------------------------------------------------------------------------
# the typed layout (docs/results.schema.json is generated from it: `vfreport schema`)
# ---------------------------------------------------------------------------------------------
# TypedDicts, not dataclasses: results.json is read back as plain dicts by the report, the review
# notebook and the export, so the records are the very dicts those readers index; pydantic turns
# them into the JSON Schema (:func:`json_schema`). ``__pydantic_config__`` (a plain dict: pydantic
# is imported only to generate the schema) closes a record (``extra: forbid`` →
# ``additionalProperties: false``); OPEN marks the few whose keys come from elsewhere (a test's
# extra statistics, what a run's notebook recorded) and still types the keys they always have.

CLOSED = {"extra": "forbid"}
OPEN = {"extra": "allow"}

Num = float | None
"""A number that may be missing; NaN and ±inf are written as null."""
Pair = list[float | None] | None
"""A two-sided interval as [low, high]."""


class IntervalBlock(TypedDict):
    __pydantic_config__ = CLOSED
    low: Num
    high: Num
    method: str
    confidence: float
    reliable: bool
    note: str | None


class Gate(TypedDict):
    """A scenario gate: passed None when it could not be evaluated."""

    __pydantic_config__ = CLOSED
    name: str
    passed: bool | None
    sentence: str


class ExperimentBlock(TypedDict):
    __pydantic_config__ = CLOSED
    name: str
    dir: str
    config: dict[str, Any]
    generated: str
    vfreport_version: str
    manifest: dict[str, Any] | None
    warnings: list[str]


class Thresholds(TypedDict):
    __pydantic_config__ = CLOSED
    ready: float
    poc: float
    best_case: float
    realistic: float
    max_variance: float
    train_acc_epoch10: float
    alpha: float
    expected_gain: list[float]
    min_delta: float
    min_lift: float
    min_der_delta: float
    ready_der: Num
    min_data_fraction: float


class Comparison(TypedDict):
    """One crossed (runs × meetings) ΔDER comparison."""

    __pydantic_config__ = CLOSED
    estimate: Num
    se: Num
    df: Num
    ci95: Pair
    confidence: float
    upper_bound: Num
    lower_bound: Num
    alpha: float
    p_value: Num
    alternative: str
    statistic: Num
    n: dict[str, Any]
    effective_meetings: Num
    components: dict[str, Num]
    method: str
    lower_is_better: bool


class PrimaryReal(TypedDict):
    __pydantic_config__ = CLOSED
    data: str
    meetings: list[str]
    comparison: Comparison | None
    vs_baselines: dict[str, dict[str, Comparison]]


class FlaggedRun(TypedDict):
    __pydantic_config__ = CLOSED
    seed: int
    value: Num
    robust_z: Num
    reasons: list[str]


class Primary(TypedDict):
    __pydantic_config__ = CLOSED
    endpoint: str
    name: str
    label: str
    testable: bool
    reason: str | None
    estimate: Num
    lower_is_better: bool
    ci95: Pair
    one_sided_bound: Num
    one_sided_bound_kind: str
    one_sided_level: float
    gain: Num
    gain_bound: Num
    gain_upper_95: Num
    threshold: Num
    threshold_name: str
    alpha: float
    df: Num
    se: Num
    statistic: Num
    p_value: Num
    alternative: str
    method: str | None
    n: dict[str, Any]
    variance_components: dict[str, Num] | None
    data: str | None
    decision: str
    decision_words: str
    rules: dict[str, str]
    runs_advice: str | None
    flagged_runs: dict[str, list[FlaggedRun]]
    flag_rule: str
    decision_without_flagged: str | None
    depends_on_flagged: bool | None
    sensitivity: str | None
    sensitivity_h1: str | None
    testing_order: str
    comparison: NotRequired[Comparison | None]
    vs_baselines: NotRequired[dict[str, dict[str, Comparison]]]
    meetings: NotRequired[list[str]]
    real: NotRequired[PrimaryReal]


class RunEntry(TypedDict):
    """One configured (arm, seed) run, included in the statistics or not (``reason``)."""

    __pydantic_config__ = CLOSED
    arm: str
    seed: int
    state: str
    included: bool
    reason: str | None
    error: dict[str, Any] | str | None
    epochs_completed: int | None
    seconds: Num
    unbiased_acc: Num
    unbiased_source: str | None
    test_acc: Num
    best_val_acc: Num
    best_epoch: int | None
    best_after_epoch4: bool | None
    train_acc_epoch10: Num
    val_acc_half_range: Num
    val_acc_jump_std: Num
    val_acc_noise_sd: Num
    val_acc_noise_half_range: Num
    plateau: bool | None
    plateau_epochs: int | None
    final_val_acc: Num
    final_train_acc: Num
    best_val_window_acc: Num
    window_epochs: int | None
    train_frames_epoch10: int | None
    flags: list[str]


class MissingRun(TypedDict):
    __pydantic_config__ = CLOSED
    seed: int
    state: str
    reason: str


class SummaryBlock(TypedDict):
    """Mean, SD and 95 % interval of one metric over an arm's runs."""

    __pydantic_config__ = CLOSED
    mean: Num
    std: Num
    ci95: Pair
    per_seed: list[Num]
    n: int


class Readiness(TypedDict):
    __pydantic_config__ = CLOSED
    code: str | None
    accuracy_rule: str | None
    caps: list[str]
    evidence: str | None
    source: str


class Lift(TypedDict):
    """An arm's accuracy over its audio-free baseline (docs/yardstick.md)."""

    __pydantic_config__ = CLOSED
    mean: Num
    std: Num
    ci95: Pair
    n: int
    per_seed: list[Num]
    seeds: list[int]
    accuracy_per_seed: list[Num]
    baseline_per_seed: list[Num]
    min_lift: float
    above_min_lift: bool | None
    ci_excludes_zero: bool | None
    method: str
    source: str | None


class Arm(TypedDict):
    __pydantic_config__ = CLOSED
    display_name: str
    role: str
    n_seeds: int
    seeds: list[int]
    missing: list[MissingRun]
    unbiased_acc: SummaryBlock
    best_val_acc: SummaryBlock
    final_val_acc: SummaryBlock
    test_acc: SummaryBlock
    train_acc_epoch10: SummaryBlock
    val_acc_half_range: SummaryBlock
    val_acc_jump_std: SummaryBlock
    val_acc_noise_sd: SummaryBlock
    val_acc_noise_half_range: SummaryBlock
    unbiased_source: list[str]
    best_epoch: list[int]
    plateau: list[bool]
    best_after_epoch4: list[bool]
    epochs_completed: list[int]
    stability: str | None
    production_readiness: str | None
    readiness: Readiness
    der_vs_baselines: str | None
    data_flags: list[str]
    lift: NotRequired[Lift]


class Basis(TypedDict):
    __pydantic_config__ = CLOSED
    name: str
    unbiased_sources: dict[str, str]


class DeltaEntry(TypedDict):
    """Target − baseline arm of one metric."""

    __pydantic_config__ = CLOSED
    value: Num
    ci95: Pair
    ci: IntervalBlock | None
    bootstrap_ci: IntervalBlock | None


class DerDelta(TypedDict):
    """Target − baseline corpus DER with the primary endpoint's crossed interval (empty without ΔDER)."""

    __pydantic_config__ = CLOSED
    value: Num
    ci95: Pair
    lower_is_better: bool
    p_value: NotRequired[Num]
    method: NotRequired[str | None]


class LiftDelta(TypedDict):
    """Never differenced: each arm's lift is against its own baseline on its own task."""

    __pydantic_config__ = CLOSED
    value: None
    ci95: None
    note: str


class Delta(TypedDict):
    __pydantic_config__ = CLOSED
    unbiased_acc: DeltaEntry
    best_val_acc: DeltaEntry
    final_val_acc: DeltaEntry
    test_acc: DeltaEntry
    train_acc_epoch10: DeltaEntry
    val_acc_half_range: DeltaEntry
    val_acc_jump_std: DeltaEntry
    val_acc_noise_sd: DeltaEntry
    val_acc_noise_half_range: DeltaEntry
    der: NotRequired[DerDelta]
    lift: NotRequired[LiftDelta]


class NamedValue(TypedDict):
    __pydantic_config__ = CLOSED
    name: str
    value: Num


class Hypothesis(TypedDict):
    """One secondary hypothesis. Open: each test adds its own statistics (``exact``, ``permutations``,
    ``bootstrap_ci``, ...); the keys below are always there or typed when there."""

    __pydantic_config__ = OPEN
    name: str
    test: str
    statistic_name: str | None
    statistic: Num
    df: Num
    p_value: Num
    p_value_holm: Num
    alternative: str | None
    effect_size: NamedValue | None
    estimate: NamedValue | None
    ci95: Pair
    ci: IntervalBlock | None
    n: dict[str, int | None]
    unit: str
    testable: bool
    decidable: bool
    min_p: Num
    in_holm: bool
    verdict: str
    reason: str
    family: str
    bootstrap_ci: NotRequired[IntervalBlock | None]
    one_sided_bound: NotRequired[Num]
    one_sided_level: NotRequired[Num]
    delta: NotRequired[Num]
    in_expected_range: NotRequired[bool | None]
    expected_gain: NotRequired[list[float]]
    basis: NotRequired[str]
    target_noise_half_range: NotRequired[Num]
    baseline_noise_half_range: NotRequired[Num]
    max_variance: NotRequired[float]
    target_below_max_variance: NotRequired[bool | None]


class Hypotheses(TypedDict):
    __pydantic_config__ = CLOSED
    H1: Hypothesis
    H2: Hypothesis
    H3: Hypothesis


class Scenario(TypedDict):
    __pydantic_config__ = CLOSED
    name: str
    title: str
    sentence: str
    primary_decision: str | None
    gates: list[Gate]
    position_caveat: NotRequired[str]


class PowerEffect(TypedDict):
    __pydantic_config__ = CLOSED
    name: str
    delta: Num
    power_now: Num
    seeds: int | None
    seeds_range: list[int | None]


class Power(TypedDict):
    __pydantic_config__ = CLOSED
    method: str
    alpha: float
    target_power: float
    pooled_sd: Num
    sd_ci95: Pair
    df: Num
    n: list[int]
    max_seeds: int
    effects: list[PowerEffect]
    reason: str | None


class Int8Entry(TypedDict):
    """The int8 model beside the fp32 one, judged by DER; a failed quantisation has only method, path,
    accepted and error."""

    __pydantic_config__ = CLOSED
    method: str
    path: str | None
    accepted: bool
    error: NotRequired[str]
    quantized_ops: NotRequired[list[str]]
    calibration_windows: NotRequired[int | None]
    calibration_split: NotRequired[str | None]
    size_bytes: NotRequired[int]
    fp32_size_bytes: NotRequired[int]
    quantize_seconds: NotRequired[float]
    der_fp32: NotRequired[Num]
    der_int8: NotRequired[Num]
    der_increase_points: NotRequired[Num]
    max_increase_points: NotRequired[float]
    meetings: NotRequired[list[str]]
    split: NotRequired[str | None]
    der_origin: NotRequired[str]
    per_meeting_der: NotRequired[dict[str, dict[str, Num]]]


class OnnxEntry(TypedDict):
    """The exported model; a failed parity check has ``path`` None and ``error``."""

    __pydantic_config__ = CLOSED
    path: str | None
    arm: str
    seed: int
    epoch: int | None
    val_acc: Num
    max_abs_diff: Num
    tolerance: float
    parity_ok: bool
    export_seconds: float
    opset: int | None
    checked_shapes: list[list[int]]
    exporter: str
    fallback_reason: str | None
    check_seconds: float
    argmax_agreement: Num
    checkpoint: str
    error: NotRequired[str]
    int8: NotRequired[Int8Entry]


class ArmData(TypedDict):
    """What an arm's runs report about their data. Open: the keys a run's status.json ``data`` holds
    (windows requested and eligible, speakers, baselines, ...)."""

    __pydantic_config__ = OPEN
    source: str
    label_strategy: str
    train_windows: int | None
    val_windows: int | None
    skipped_rows: int | None
    flags: list[str]
    per_seed: NotRequired[dict[str, dict[str, Any]]]


class Evaluation(TypedDict):
    """DER on held-out meetings (docs/yardstick.md); ``available`` False with ``reason`` when it could
    not run. ``real`` holds the same entry for the config's [evaluation] recordings (which adds
    ``audio``, ``rttm``, ``uem`` and ``notes``)."""

    __pydantic_config__ = CLOSED
    available: bool
    reason: NotRequired[str]
    method: NotRequired[str]
    collar: NotRequired[float]
    skip_overlap: NotRequired[bool]
    convention: NotRequired[dict[str, Any]]
    split: NotRequired[str | None]
    window_seconds: NotRequired[float]
    pipeline: NotRequired[dict[str, Any]]
    data: NotRequired[str]
    arm: NotRequired[str]
    source: NotRequired[str]
    origin: NotRequired[str]
    audio: NotRequired[str]
    rttm: NotRequired[str]
    uem: NotRequired[str | None]
    notes: NotRequired[list[str]]
    meetings: NotRequired[list[dict[str, Any]]]
    reference_rttm: NotRequired[str]
    reference_uem: NotRequired[str]
    hypothesis_dirs: NotRequired[dict[str, dict[str, str]]]
    der: NotRequired[dict[str, dict[str, dict[str, dict[str, Num]]]]]
    baseline_der: NotRequired[dict[str, dict[str, dict[str, Num]]]]
    baseline_dirs: NotRequired[dict[str, str]]
    failures: NotRequired[list[str]]
    overlap_floor: NotRequired[dict[str, Any] | None]
    summary: NotRequired[dict[str, dict[str, Any]]]
    baselines: NotRequired[dict[str, dict[str, Any]]]
    comparisons: NotRequired[dict[str, dict[str, Any]]]
    hypothesis: NotRequired[dict[str, Any]]
    gate: NotRequired[Gate]
    reused: NotRequired[dict[str, list[str]]]
    real: NotRequired[Evaluation]


class Sequential(TypedDict):
    """run-all --until-decided: the design, the looks done, where it stopped and why."""

    __pydantic_config__ = CLOSED
    design: dict[str, Any]
    looks_done: list[dict[str, Any]]
    status: str | None
    decision: str | None
    stopped_at: int | None
    seeds_per_arm: int | None
    max_seeds_per_arm: int | None
    reason: str | None
    note: str


class Results(TypedDict):
    """results.json (docs/experiment-directory.md). ``evaluation``, ``yardstick_gates`` and the arms'
    ``lift`` come with the yardstick (`vfreport report`, run-all); ``sequential`` with --until-decided."""

    __pydantic_config__ = CLOSED
    schema_version: int
    experiment: ExperimentBlock
    thresholds: Thresholds
    primary: Primary
    runs: list[RunEntry]
    arms: dict[str, Arm]
    baseline: str
    target: str
    basis: Basis
    delta: Delta
    hypotheses: Hypotheses
    scenario: Scenario
    power: Power
    onnx: OnnxEntry | None
    data: dict[str, ArmData]
    evaluation: NotRequired[Evaluation | None]
    yardstick_gates: NotRequired[list[Gate]]
    sequential: NotRequired[Sequential]


def with_onnx(results: Results, entry: OnnxEntry | None) -> Results:
    """``results`` with its ``onnx`` entry replaced by an export's (a new record; ``results`` is unchanged)."""
    return {**results, "onnx": entry}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`Results`, generated by pydantic from the records above."""
    from pydantic import TypeAdapter

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **TypeAdapter(Results).json_schema()}


def check_schema(results: Mapping[str, Any], path: Path | str, exp_dir: Path | str) -> None:
    """ResultsSchemaError unless ``results`` (read from ``path``) has layout :data:`SCHEMA_VERSION`."""
    found = results.get("schema_version", 1)
    if found == SCHEMA_VERSION and not isinstance(found, bool):
        return
    experiment = results.get("experiment")
    version = experiment.get("vfreport_version") if isinstance(experiment, Mapping) else None
    writer = f"vfreport {version}" if version else "an unknown vfreport version"
    raise ResultsSchemaError(f"{path} was written by {writer} (results schema {found}); this vfreport reads "
                             f"schema {SCHEMA_VERSION}: re-run `vfreport report {exp_dir}`")


def read_results(exp_dir: Path | str) -> Results:
    """``<exp_dir>/results.json`` as written by this vfreport's layout; ExperimentError when it is
    missing or unreadable, ResultsSchemaError when another layout wrote it."""
    path = ExperimentDir(exp_dir).results
    if not path.exists():
        raise ExperimentError(f"{path}: missing; run `vfreport report {exp_dir}` first")
    results = read_json_object(path, "results")
    check_schema(results, path, exp_dir)
    return results  # type: ignore[return-value]  # its version says it has this layout
