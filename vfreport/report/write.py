"""`vfreport report`: figures, the results document, the review notebook and the HTML report.

    write_report(experiment, results)  ->  DIR/figures/*.png, DIR/report.md, DIR/review.ipynb, DIR/report.html

The analysis (results.json) is done before; this module only renders it, with the experiment as
loaded once (:mod:`vfreport.experiment.records`: the histories for the figures, manifest.json for
the reproducibility section). Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from vfreport.errors import ExperimentError
from vfreport.experiment.layout import atomic_write_text
from vfreport.experiment.records import Experiment, as_experiment
from vfreport.experiment.results_schema import Results
from vfreport.report.figures import make_figures
from vfreport.report.markdown import render_markdown
from vfreport.report.review import execute_review, export_html, load_results


def write_report(experiment: Experiment | Path | str, results: Results | None = None,
                 html: bool = True) -> dict[str, Path]:
    """Render an analysed experiment (the loaded one; a path is loaded here).

    ``results`` defaults to DIR/results.json. Writes the figures, ``report.md`` and, with
    ``html``, the executed ``review.ipynb`` and the self-contained ``report.html``. Returns
    {"figure:<name>": path, ..., "report.md": path, "review.ipynb": path, "report.html": path}.
    """
    experiment = as_experiment(experiment)
    exp = experiment.dir
    if results is None:
        results = load_results(exp.root)
    paths: dict[str, Path] = {}
    figures = make_figures(experiment, results)
    paths.update({f"figure:{name}": path for name, path in figures.items()})
    rel = {name: path.relative_to(exp.root).as_posix() for name, path in figures.items()}
    text = render_markdown(results, rel, manifest=experiment.manifest.to_json() if experiment.manifest else None)
    paths["report.md"] = atomic_write_text(exp.report_md, text)
    if html:
        if not exp.results.exists():
            raise ExperimentError(f"{exp.results}: missing; the review notebook reads results.json "
                                  "(vfreport.pipeline.write_results writes it; `vfreport report DIR` runs both)")
        execute_review(exp.root)
        paths["review.ipynb"] = exp.review
        paths["report.html"] = export_html(exp.root, name=str(results.get("experiment", {}).get("name") or ""))
    return paths
