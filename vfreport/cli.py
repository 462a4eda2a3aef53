"""The `vfreport` command line (click). Each command is a thin shell over one package function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from vfreport import __version__
from vfreport.deploy.options import pipeline_options
from vfreport.errors import ExportError, VfreportError


class _Group(click.Group):
    """Turns a VfreportError into one ``error: ...`` line and exit status 2."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except VfreportError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vfreport")
def cli() -> None:
    """Train, analyse and report a speaker-diarization experiment (pseudo vs real labels)."""


def _show_report(results: dict, paths: dict[str, Path]) -> None:
    for name, path in paths.items():
        click.echo(f"  {name}: {path}")
    click.echo(f"scenario: {results['scenario']['sentence']}")


@cli.command("run-all")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Experiment config (TOML); overrides the preset's values.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Experiment directory [default: runs/<experiment name>].")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True,
              help="Runs trained in parallel (torch threads are split between them).")
@click.option("--preset", type=click.Choice(["demo", "full"]), default="demo", show_default=True)
@click.option("--no-report", is_flag=True, help="Train only; skip analysis, report and ONNX export.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the runs' notebooks execute: threads here, or dask tasks (needs vfreport[dask]).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask: a running scheduler (tcp://host:8786) [default: a LocalCluster of --workers processes].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="dask: worker processes of the LocalCluster [default: --jobs].")
@click.option("--resources", default=None, metavar="NAME=N[,..]",
              help="dask: resources each LocalCluster worker declares, e.g. GPU=1 (runs on cuda ask for GPU=1).")
@click.option("--until-decided", is_flag=True,
              help="Add seeds look by look (group-sequential design) until the endpoint (--endpoint) "
                   "crosses a boundary (see `vfreport design`).")
@click.option("--looks", default=None, metavar="N1,N2,..",
              help="Seeds per arm at each look of --until-decided [default: 3,5,8,12].")
@click.option("--design", "design_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="--until-decided with this design (`vfreport design --json FILE`) instead of the default one.")
@click.option("--endpoint", type=click.Choice(["der", "accuracy"]), default="der", show_default=True,
              help="What --until-decided's looks decide on: ΔDER on the held-out meetings (the primary endpoint; "
                   "accuracy when no arm has meetings) or H1's accuracy.")
def run_all_cmd(config_file: Path | None, out: Path | None, jobs: int, preset: str, no_report: bool,
                executor: str, scheduler: str | None, workers: int | None, resources: str | None,
                until_decided: bool, looks: str | None, design_file: Path | None, endpoint: str) -> None:
    """Train every (arm, seed) with papermill, then analyse, report and export the winner to ONNX."""
    from vfreport.config import load_config
    from vfreport.pipeline import run_all

    cfg = load_config(config_file, preset=preset)
    out = out or Path("runs") / cfg.name
    executor_options: dict = {"executor": executor}
    if executor == "dask":
        executor_options.update(scheduler=scheduler, resources=resources)
    elif scheduler or workers or resources:
        raise click.UsageError("--scheduler, --workers and --resources go with --executor dask")
    sequential = _sequential_options(until_decided, looks, design_file, endpoint)
    click.echo(f"vfreport run-all: {len(cfg.arms)} arms x {len(cfg.seeds)} seeds x {cfg.epochs} epochs -> {out}"
               + (" (seeds added look by look until decided)" if until_decided else ""))
    try:
        trained, outcome = run_all(cfg, out, jobs=workers or jobs,
                                   config_file=str(config_file) if config_file else None,
                                   report_after=not no_report, echo=click.echo, **executor_options,
                                   **sequential)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished epochs are checkpointed; resume with the same command "
                   f"(vfreport run-all --out {out}{' --config ' + str(config_file) if config_file else ''} "
                   f"--preset {preset}{' --until-decided' if until_decided else ''}"
                   f"{' --looks ' + looks if looks else ''}{' --endpoint ' + endpoint if until_decided else ''})",
                   err=True)
        sys.exit(130)
    if outcome is not None:
        _show_report(outcome.results, outcome.paths)
        if outcome.export_error is not None:
            click.echo(f"ONNX export failed: {outcome.export_error}", err=True)
            sys.exit(1)
    if trained.failed:
        for key, err in trained.failed.items():
            click.echo(f"failed: {key}: {err.get('type')}: {err.get('message')} (see {out / key / 'train.ipynb'})",
                       err=True)
        sys.exit(1)


def _sequential_options(until_decided: bool, looks: str | None, design_file: Path | None, endpoint: str) -> dict:
    if (looks or design_file) and not until_decided:
        raise click.UsageError("--looks and --design go with --until-decided")
    if looks and design_file:
        raise click.UsageError("--looks and --design exclude each other (the design fixes its looks)")
    if not until_decided:
        return {}
    from vfreport.analysis.sequential import load_design  # scipy: only when asked for
    from vfreport.experiment.layout import read_json_object
    from vfreport.stats.sequential import parse_looks

    try:
        planned = parse_looks(looks) if looks else None
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--looks") from None
    design = None
    if design_file is not None:
        try:
            design = load_design(read_json_object(design_file, "sequential design"))
        except (KeyError, TypeError, ValueError) as e:
            raise click.BadParameter(f"{design_file}: not a design written by `vfreport design --json` ({e})",
                                     param_hint="--design") from None
    return {"until_decided": True, "looks": planned, "design": design, "endpoint": endpoint}


@cli.command("design")
@click.option("--endpoint", type=click.Choice(["der", "accuracy"]), default="der", show_default=True,
              help="ΔDER on the held-out meetings (the primary endpoint) or H1's accuracy (Welch over runs).")
@click.option("--looks", default="3,5,8,12", show_default=True, metavar="N1,N2,..", help="Seeds per arm at each look.")
@click.option("--alpha", type=click.FloatRange(0, 0.5, min_open=True, max_open=True), default=None,
              help="One-sided level of the whole procedure [default: the config's thresholds.alpha].")
@click.option("--simulate", "n_sim", type=click.IntRange(min=1000), default=None,
              help="Simulated paths per SD ratio (accuracy) or variance mix (der) [default: as run-all "
                   "--until-decided uses].")
@click.option("--sd", type=click.FloatRange(0, min_open=True), default=None,
              help="accuracy: seed-to-seed SD of the per-run accuracy (fraction) for power and expected seeds "
                   "[default: min_delta].")
@click.option("--components", default=None, metavar="NAME=SD[,..]",
              help="der: SDs in DER points of run, arm_x_meeting and residual (or run_target, run_other, "
                   "residual_target, residual_other) for power and expected seeds [default: the demo's].")
@click.option("--meetings", type=click.IntRange(min=2), default=None,
              help="der: held-out meetings every run diarizes [default: as the evaluation uses].")
@click.option("--spending", type=click.Choice(["obf", "hp"]), default="obf", show_default=True,
              help="Lan–DeMets O'Brien–Fleming or Haybittle–Peto boundaries.")
@click.option("--futility", type=click.Choice(["beta-spending", "none"]), default="beta-spending", show_default=True)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Experiment config: alpha, min_delta / min_der_delta and expected gain come from its thresholds.")
@click.option("--preset", type=click.Choice(["demo", "full"]), default="demo", show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the design (boundaries, type_i_error, power, expected_seeds) as JSON.")
def design_cmd(endpoint: str, looks: str, alpha: float | None, n_sim: int | None, sd: float | None,
               components: str | None, meetings: int | None, spending: str, futility: str, config_file: Path | None,
               preset: str, json_out: Path | None) -> None:
    """Group-sequential design for adaptive seeds: boundaries, simulated type-I error, power, expected seeds."""
    from dataclasses import replace

    from vfreport.analysis.sequential import design_for_config, endpoint_for
    from vfreport.config import load_config
    from vfreport.experiment.layout import atomic_write_json
    from vfreport.report.sequential import design_text
    from vfreport.report.sequential_der import der_design_text
    from vfreport.stats.sequential import parse_looks

    try:
        planned = parse_looks(looks)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--looks") from None
    cfg = load_config(config_file, preset=preset)
    if alpha is not None:
        cfg = replace(cfg, thresholds=replace(cfg.thresholds, alpha=alpha))
    endpoint, note = endpoint_for(cfg, endpoint)
    if endpoint == "der" and sd is not None:
        raise click.UsageError("--sd goes with --endpoint accuracy (ΔDER designs take --components)")
    if endpoint == "accuracy" and (components or meetings):
        raise click.UsageError("--components and --meetings go with --endpoint der")
    if note:
        click.echo(note)
    design = design_for_config(cfg, planned, n_sim=n_sim, spending=spending, futility=futility, sd=sd,
                               endpoint=endpoint, components=_components(components), n_meetings=meetings)
    click.echo(der_design_text(design) if endpoint == "der" else design_text(design), nl=False)
    if json_out is not None:
        atomic_write_json(json_out, design.to_dict())
        click.echo(f"design: {json_out}")


def _components(text: str | None) -> dict[str, float] | None:
    """``"run=1,arm_x_meeting=3.2,residual=4.2"`` (SDs in DER points) → variances (DER fraction²)."""
    if not text:
        return None
    from vfreport.stats.crossed import COMPONENTS

    known = set(COMPONENTS) | {"run", "residual"}
    out = {}
    for part in text.replace(" ", "").split(","):
        name, _, value = part.partition("=")
        try:
            sd = float(value)
        except ValueError:
            sd = -1.0
        if name not in known or not sd >= 0:
            raise click.BadParameter(f"{part!r}: expected NAME=SD with NAME one of {', '.join(sorted(known))} and "
                                     "SD >= 0 in DER points", param_hint="--components")
        out[name] = (sd / 100) ** 2
    return out


@cli.command("report")
@click.argument("exp_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-html", is_flag=True, help="Skip the review notebook and the HTML report.")
def report_cmd(exp_dir: Path, no_html: bool) -> None:
    """Analyse an experiment directory: results.json, report.md, figures, review.ipynb, report.html."""
    from vfreport.experiment.records import load_experiment
    from vfreport.pipeline import analyse, report

    experiment = load_experiment(exp_dir)
    results = analyse(experiment)
    _show_report(results, report(experiment, results, html=not no_html))


@cli.command("review")
@click.argument("exp_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--open", "open_", is_flag=True, help="Start Jupyter on the review notebook (needs [jupyter]).")
def review_cmd(exp_dir: Path, open_: bool) -> None:
    """(Re)execute the review notebook of an experiment directory."""
    from vfreport.report.review import (
        execute_review,
        open_in_jupyter,
        prepare_live_notebook,
        require_jupyter,
        widgets_available,
    )

    if open_:
        require_jupyter()  # before the notebook runs: say how to install it
    path = execute_review(exp_dir)
    click.echo(f"review notebook: {path}")
    if open_:
        if not widgets_available():
            click.echo("note: the drill-down's controls need ipywidgets: pip install 'vfreport[jupyter]'")
        live = prepare_live_notebook(exp_dir)
        click.echo(f"opening {live}: Run All draws the drill-down's controls (arm, seed, meeting)")
        open_in_jupyter(live)


@cli.command("export-onnx")
@click.argument("exp_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--arm", default=None, help="Export this arm instead of the winner.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file [default: DIR/model.onnx].")
@click.option("--quantize", type=click.Choice(["int8"]), default=None,
              help="Also write an int8 model beside it (model.int8.onnx), accepted when its DER on the "
                   "yardstick's meetings is within 1 point of the fp32 model's.")
@click.option("--int8-method", type=click.Choice(["static", "dynamic"]), default="static", show_default=True,
              help="onnxruntime quantisation: static (calibrated on training windows) or dynamic.")
def export_cmd(exp_dir: Path, arm: str | None, out: Path | None, quantize: str | None, int8_method: str) -> None:
    """Export the winning arm's best checkpoint to ONNX and check parity with ONNX Runtime."""
    from vfreport.experiment.records import load_experiment
    from vfreport.experiment.results_schema import with_onnx
    from vfreport.pipeline import analyse, export, write_results

    experiment = load_experiment(exp_dir)
    results = analyse(experiment)
    try:
        info = export(experiment, results, arm=arm, out=out, int8=int8_method if quantize else None)
    except ExportError as e:
        write_results(exp_dir, with_onnx(results, e.entry))
        raise
    write_results(exp_dir, with_onnx(results, info))
    click.echo(f"{exp_dir / info['path']}: {info['arm']} seed {info['seed']} epoch {info['epoch']} "
               f"(val acc {info['val_acc']:.4f}); parity max |diff| {info['max_abs_diff']:.2e} "
               f"<= {info['tolerance']:.0e}; exported in {info['export_seconds']:.2f} s")
    q = info.get("int8")
    if q is not None:
        ders = (f"DER int8 {100 * q['der_int8']:.2f} % vs fp32 {100 * q['der_fp32']:.2f} % "
                f"({q['der_increase_points']:+.2f} points, accepted up to +{q['max_increase_points']:g}) "
                f"on {len(q['meetings'])} yardstick meetings")
        if not q["accepted"]:
            raise ExportError(f"int8 model rejected: {ders}; not written (results.json records both DERs)")
        click.echo(f"{exp_dir / q['path']}: int8 {q['method']}, {q['size_bytes'] / 1e6:.2f} MB "
                   f"(fp32 {q['fp32_size_bytes'] / 1e6:.2f} MB); {ders}")


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of results.json (docs/results.schema.json), generated from its typed records."""
    import json

    from vfreport.experiment.results_schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@cli.command("predict")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("audio", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for <file>.rttm outputs [default: print RTTM to stdout].")
@pipeline_options
def predict_cmd(model: Path, audio: tuple[Path, ...], out: Path | None, **pipeline: Any) -> None:
    """Run a model (.onnx or .pt checkpoint) over audio files and write RTTM segments.

    Speech is found by Silero VAD, the windows' local speakers are embedded by a pretrained speaker
    encoder and clustered, the number of speakers estimated (docs/pipeline.md)."""
    from vfreport.data.rttm import format_rttm
    from vfreport.deploy.options import settings_from_options
    from vfreport.deploy.predict import predict_files

    results = predict_files(model, list(audio), out, settings=settings_from_options(**pipeline))
    if out is None:
        for segments in results.values():
            click.echo(format_rttm(segments), nl=False)
    else:
        for path, segments in results.items():
            click.echo(f"{path}: {len(segments)} segments -> {out / (Path(path).stem + '.rttm')}")


@cli.command("evaluate")
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.option("--audio", "audio_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder of recordings (.wav/.flac/.ogg), named by their RTTM uri.")
@click.option("--rttm", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Reference diarization of the recordings.")
@click.option("--uem", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Scored regions [default: each whole recording].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the numbers of the table (and more) as JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the hypothesis RTTMs: OUT/<condition>/<system>/<uri>.rttm.")
@pipeline_options
def evaluate_cmd(model: Path, audio_dir: Path, rttm: Path, uem: Path | None, json_out: Path | None,
                 out: Path | None, **pipeline: Any) -> None:
    """Score a model (.onnx, .pt or an experiment's runs) on recordings with a reference: DER (pyannote.metrics,
    collar 0, overlap scored) with its own speech detection and with oracle speech, beside the model-free
    baselines."""
    from vfreport.deploy.evaluate import evaluate, format_table
    from vfreport.deploy.options import settings_from_options

    result = evaluate(model, audio_dir, rttm, uem, out=out, json_out=json_out,
                      settings=settings_from_options(**pipeline))
    for note in result["notes"]:
        click.echo(f"note: {note}", err=True)
    click.echo(format_table(result))
    if out is not None:
        click.echo(f"hypothesis RTTMs: {out}/<condition>/<system>/<uri>.rttm")
    if json_out is not None:
        click.echo(f"json: {json_out}")


@cli.command("import")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--history", "histories", multiple=True, required=True, metavar="ARM:SEED:FILE",
              help="A per-epoch CSV/JSON history for one run; repeat for more runs.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Experiment config for display names and thresholds [default: the demo preset's].")
@click.option("--overwrite", is_flag=True, help="Replace runs already imported into OUT_DIR.")
def import_cmd(out_dir: Path, histories: tuple[str, ...], config_file: Path | None, overwrite: bool) -> None:
    """Build an experiment directory from histories produced elsewhere (e.g. Colab runs)."""
    from vfreport.config import load_config
    from vfreport.experiment.importer import import_histories, parse_history_spec

    items = [parse_history_spec(spec) for spec in histories]
    cfg = load_config(config_file) if config_file else None
    path = import_histories(out_dir, items, cfg, overwrite=overwrite, echo=click.echo)
    click.echo(f"imported {len(items)} histories into {path}; now run: vfreport report {path}")


@cli.group("data")
def data_group() -> None:
    """Datasets: the embedded synthetic corpora."""


@data_group.command("synth")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
def synth_cmd(out: Path, seed: int) -> None:
    """Write the synthetic LibriSpeech-like and AMI-like corpora as parquet in the HF schemas."""
    from vfreport.data.synth import write_corpus

    for name, path in write_corpus(out, seed=seed).items():
        click.echo(f"{name}: {path}")


@cli.command("config")
@click.option("--preset", type=click.Choice(["demo", "full"]), default="demo", show_default=True)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
def config_cmd(preset: str, config_file: Path | None) -> None:
    """Print the resolved experiment config as TOML (a starting point for --config)."""
    from vfreport.config import load_config

    click.echo(load_config(config_file, preset=preset).to_toml(), nl=False)


@cli.command("bench")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures as a JSON list.")
@click.option("--scaling", is_flag=True, help="Also measure time and memory at 1x, 4x, 16x the demo's windows.")
@click.option("--quick", is_flag=True, help="Skip the slow end-to-end figures (run-all timings).")
@click.option("--long", "long_", is_flag=True,
              help="Also time predict on 3 h and 10 h of audio (minutes, and a 1.2 GB WAV in the cache).")
@click.option("--pipeline-model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Also score predict's pipelines (old, new, one speaker) with this model on real recordings; "
                   "the predict timings use it too.")
@click.option("--pipeline-data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of <uri>.wav with *.rttm (and *.uem) [default: the test data's AMI excerpts].")
@click.option("--only", multiple=True, help="Run only these benchmark steps (e.g. --only pipeline).")
def bench_cmd(json_out: Path | None, scaling: bool, quick: bool, long_: bool, pipeline_model: Path | None,
              pipeline_data: Path | None, only: tuple[str, ...]) -> None:
    """Measure the performance targets (docs/performance.md) on this machine."""
    from vfreport.bench.benchmarks import run_benchmarks

    run_benchmarks(json_out=json_out, scaling=scaling, quick=quick, long=long_, only=list(only) or None,
                   pipeline_model=pipeline_model, pipeline_data=pipeline_data)


def main() -> None:
    cli(prog_name="vfreport")


if __name__ == "__main__":  # pragma: no cover
    main()
