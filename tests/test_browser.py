"""report.html in a real browser: headless Chromium loads it from file:// with the network off,
runs its scripts, and we read the rendered DOM and a screenshot.

Needs ``/usr/bin/chromium`` (Debian: ``apt-get install chromium``). Skipped when it is absent,
except under CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _expdir import ami_history, librispeech_history, make_experiment

from vfreport.analysis.results import analyze_experiment
from vfreport.pipeline import write_results
from vfreport.report.markdown import SUMMARY_ROWS
from vfreport.report.write import write_report

pytestmark = pytest.mark.browser

EVIL = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but headless Chromium is not installed (/usr/bin/chromium): apt-get install chromium")
        pytest.skip("headless Chromium not found at /usr/bin/chromium (apt-get install chromium); not in CI")
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    hist = {("librispeech", s): librispeech_history() for s in (0, 1)}
    hist |= {("ami", s): ami_history(0.8, seed=s) for s in (0, 1)}
    exp = make_experiment(tmp, hist, overrides={"arms": {"librispeech": {"display_name": EVIL}}})
    results = analyze_experiment(exp, n_resamples=200)
    write_results(exp, results)
    return write_report(exp, results, html=True)["report.html"]


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)


class DomReader(HTMLParser):
    """Cell texts, <img> sources, <script> bodies and root attributes of a rendered DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.root_attrs: dict[str, str | None] = {}
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.root_attrs = dict(attrs)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        if tag in ("td", "th"):
            self.cells.append("")
        if tag == "script":
            self.scripts.append("")
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        inside = set(self._stack)
        if "script" in inside:
            self.scripts[-1] += data
            return
        if "style" in inside:
            return
        if inside & {"td", "th"}:
            self.cells[-1] += data
        self.text.append(data)


def test_rendered_report_shows_tables_figures_and_escaped_names(chromium, report, tmp_path):
    result = run_chromium(chromium, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = DomReader()
    dom.feed(result.stdout)
    cells = [" ".join(c.split()) for c in dom.cells]
    for name in SUMMARY_ROWS:  # the Δ table, as an HTML table
        assert name in cells, name
    assert "Δ Improvement" in cells and "AMI-like (annotated, synthetic)" in cells
    for key in ("H1", "H2", "H3"):
        assert key in cells

    pngs = [src for src in dom.images if src.startswith("data:image/png;base64,")]
    assert len(pngs) == 3 and len(pngs) == len(dom.images)
    for src in pngs:
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 600 and height >= 400

    text = " ".join(" ".join(dom.text).split())
    assert EVIL in cells  # the display name is a table header's text ...
    assert EVIL in text
    assert not any("data-pwned" in s for s in dom.scripts)  # ... never a <script> element
    assert "data-pwned" not in dom.root_attrs  # and it did not run
    assert "Verdict:" in text


def test_screenshot(chromium, report, tmp_path):
    shot = tmp_path / "report.png"
    result = run_chromium(chromium, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,2000",
                          f"--screenshot={shot}", report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2000)
    assert len(data) > 50_000  # a rendered page, not a blank one
    if os.environ.get("VFREPORT_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["VFREPORT_KEEP_SCREENSHOT"])


# ---------------------------------------------------------------------------------------------
# the drill-down: audio that plays, timelines, a screenshot (docs/review.md)
# ---------------------------------------------------------------------------------------------

PROBE = """<script>
document.querySelectorAll('audio').forEach(a => {
  a.addEventListener('loadedmetadata', () => a.setAttribute('data-duration', String(a.duration)));
  a.addEventListener('error', () => a.setAttribute('data-failed', '1'));
  a.load();
});
</script>"""
"""Appended to a copy of report.html: records each player's decoded duration in the DOM."""
TO_DRILLDOWN = """<script>
const h = [...document.querySelectorAll('h2')].find(h => h.textContent.includes('Drill-down'));
let cell = h.closest('.jp-Cell');
while (cell && cell.previousElementSibling) cell.previousElementSibling.remove();
</script>"""
"""Appended to a copy of report.html: drops everything above the drill-down, for its screenshot."""


@pytest.fixture(scope="module")
def drilldown_report(tmp_path_factory) -> Path:
    from _evaluated import evaluated_experiment

    exp, results = evaluated_experiment(tmp_path_factory.mktemp("drilldown"), local=True, with_models=("ami",))
    return write_report(exp, results, html=True)["report.html"]


class MediaReader(HTMLParser):
    """Attributes of every <audio> element and the sources of every <img>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.audio: list[dict[str, str | None]] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "audio":
            self.audio.append(dict(attrs))
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_data(self, data):
        self.text.append(data)


def _with_script(report: Path, script: str, out: Path) -> Path:
    out.write_text(report.read_text().replace("</body>", script + "</body>"))
    return out


def test_drilldown_audio_has_a_duration_and_timelines_render(chromium, drilldown_report, tmp_path):
    import re

    page = _with_script(drilldown_report, PROBE, tmp_path / "probe.html")
    result = run_chromium(chromium, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = MediaReader()
    dom.feed(result.stdout)
    text = " ".join(" ".join(dom.text).split())
    stated = int(re.search(r"embeds (\d+) audio clips?", text).group(1))
    assert stated == len(dom.audio) > 0
    assert not any("data-failed" in a for a in dom.audio)
    durations = [float(a.get("data-duration") or 0) for a in dom.audio]
    assert all(0 < d <= 4.01 for d in durations), durations  # every clip decodes, none over the 4-s cap

    sizes = []
    for src in dom.images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1])
        sizes.append(struct.unpack(">II", data[16:24]))
    timelines = [wh for wh in sizes if wh[0] >= 1300]  # 11-inch timelines at 120 dpi (report figures are narrower)
    assert len(timelines) >= 2  # the worst and the median meeting of the evaluated arm's median run
    assert "has no evaluated run" in text  # the arm without a checkpoint: a sentence, not an exception


def test_drilldown_screenshot(chromium, drilldown_report, tmp_path):
    page = _with_script(drilldown_report, TO_DRILLDOWN, tmp_path / "drilldown.html")
    shot = tmp_path / "drilldown.png"
    result = run_chromium(chromium, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,2400",
                          "--virtual-time-budget=5000", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1280, 2400)
    assert len(data) > 100_000  # timelines, tables and players, not a blank page
    if os.environ.get("VFREPORT_KEEP_DRILLDOWN_SCREENSHOT"):
        shutil.copy(shot, os.environ["VFREPORT_KEEP_DRILLDOWN_SCREENSHOT"])
