"""Data sources: the rows of one split of one arm, in the arm's dataset schema (design.md §3-§4).

:func:`open_split` returns a :class:`RowSource`, a lazy iterator of rows plus what is known about
it (row count, origin). Rows come in the Hugging Face schema of the arm's dataset:

- ``librispeech`` (``openslr/librispeech_asr``): ``audio`` {bytes, path}, ``speaker_id``, ``id``, …
- ``ami`` (``diarizers-community/ami``): ``audio``, ``timestamps_start`` [s], ``timestamps_end`` [s],
  ``speakers`` [str] (one row per meeting), plus ``meeting_id`` where known.

Every row also carries ``_where`` (file and row, or hub id and row) for error messages. ``audio``
is either encoded ``{"bytes", "path"}`` or decoded ``{"array", "sampling_rate"}``; decode it with
:func:`vfreport.data.audio.open_audio` (never through ``datasets``: torchcodec fails here).

Sources (``ArmConfig.source``):

- ``synthetic``: :mod:`vfreport.data.synth`, seeded by ``data_seed``, as many rows as the windows need.
- ``local`` (``path``; a ``{split}`` placeholder in it is replaced by the split name):
  parquet (``<path>``, ``<path>/<split>.parquet``, ``<path>/<dataset>/<split>.parquet``,
  ``<path>/<split>/*.parquet``, ``<path>/<split>-*.parquet``), a ``datasets.save_to_disk`` folder
  (``<path>/dataset_dict.json`` or ``<path>/<split>/state.json``), or WAV + RTTM
  (``<path>/<split>.rttm``, optional ``<split>.uem`` and ``<split>.lst``, audio ``<path>/<uri>.wav``).
- ``hub``: ``datasets.load_dataset(..., streaming=True)`` with ``Audio(decode=False)``, after a
  reachability check that fails in seconds (:func:`check_hub`).

For ``ami`` the readers also accept the strategy document's format (``audio`` {array,
sampling_rate}, ``speaker_segments`` [{speaker, start, end}], ``meeting_id``, ``num_speakers``) and
``edinburghcstr/ami`` utterance rows (``meeting_id``, ``audio_id``, ``begin_time``, ``end_time``,
``speaker_id``, ``audio``), grouped by meeting into turns on one timeline.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from vfreport.config import ArmConfig
from vfreport.data.audio import SAMPLE_RATE, AudioReader, encode_wav, open_audio
from vfreport.data.rttm import check_segments, parse_rttm, parse_uem
from vfreport.errors import AnnotationError, AudioDecodeError, DataError, HubUnavailableError

HUB_DEFAULTS = {"librispeech": ("openslr/librispeech_asr", "clean"), "ami": ("diarizers-community/ami", "ihm")}
EDINBURGH_AMI = "edinburghcstr/ami"
EDINBURGH_REVISION = "refs/convert/parquet"
HUB_TIMEOUT = 3.0

LIBRISPEECH_COLUMNS = ("audio", "speaker_id")
AMI_COLUMNS = ("audio", "timestamps_start", "timestamps_end", "speakers")
STRATEGY_COLUMNS = ("audio", "speaker_segments")
UTTERANCE_COLUMNS = ("meeting_id", "begin_time", "end_time", "speaker_id", "audio")

SYNTH_MEETING_SECONDS = 60.0


@dataclass
class RowSource:
    """Lazy rows of one split. ``n_rows``: rows available (None when unknown, e.g. a stream);
    ``planned_rows``: rows the windows are meant to spread over (synthetic: fewer than ``n_rows``,
    the rest is slack); ``skipped``: rows or utterances dropped on the way (``on_bad_audio="skip"``)."""

    rows: Iterator[dict[str, Any]]
    n_rows: int | None
    origin: str
    planned_rows: int | None = None
    skipped: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.rows

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def synthetic_meetings_needed(
    n_windows: int, window_seconds: float, meeting_seconds: float = SYNTH_MEETING_SECONDS
) -> int:
    """Meetings a synthetic AMI split plans to spread ``n_windows`` over: about 40 % of each meeting
    is covered by windows (12 windows of 2 s per 60 s meeting)."""
    per = max(1, int(0.4 * meeting_seconds / window_seconds))
    return max(1, math.ceil(n_windows / per))


def open_split(arm: ArmConfig, split: str, n_windows: int, window_seconds: float = 2.0) -> RowSource:
    """The rows of ``split`` of ``arm`` (see the module docstring)."""
    if arm.dataset not in ("librispeech", "ami"):
        raise DataError(f"arm {arm.name!r}: unknown dataset {arm.dataset!r}")
    if arm.source == "synthetic":
        return _synthetic(arm, split, n_windows, window_seconds)
    if arm.source == "local":
        return _local(arm, split)
    if arm.source == "hub":
        return _hub(arm, split)
    raise DataError(f"arm {arm.name!r}: unknown source {arm.source!r} (use 'synthetic', 'local' or 'hub')")


def iter_rows(arm: ArmConfig, split: str, n_windows: int, window_seconds: float = 2.0) -> Iterator[dict[str, Any]]:
    """The rows of :func:`open_split`, as a plain iterator."""
    return iter(open_split(arm, split, n_windows, window_seconds))


# ---------------------------------------------------------------------------------------------
# synthetic
# ---------------------------------------------------------------------------------------------


def _synthetic(arm: ArmConfig, split: str, n_windows: int, window_seconds: float) -> RowSource:
    from vfreport.data import synth

    origin = f"synthetic {arm.dataset} {split} (seed {arm.data_seed})"
    if arm.dataset == "librispeech":
        # one window per utterance; a little slack, generated only if needed (rows are lazy)
        n = n_windows + max(4, n_windows // 50)
        rows = synth.librispeech_rows(split, n, seed=arm.data_seed)
        return RowSource(_tag(rows, origin), n, origin, planned_rows=n_windows)
    planned = synthetic_meetings_needed(n_windows, window_seconds)
    n = planned + max(2, math.ceil(0.5 * planned))
    rows = synth.ami_rows(split, n, seed=arm.data_seed, meeting_seconds=SYNTH_MEETING_SECONDS)
    return RowSource(_tag(rows, origin, meeting=True), n, origin, planned_rows=planned)


def _tag(rows: Iterable[dict[str, Any]], origin: str, meeting: bool = False) -> Iterator[dict[str, Any]]:
    for i, row in enumerate(rows):
        row["_where"] = f"{origin} row {i}"
        if meeting:
            row.setdefault("meeting_id", Path(str((row.get("audio") or {}).get("path") or f"row{i}")).stem)
        yield row


# ---------------------------------------------------------------------------------------------
# schema adapters (shared by local and hub rows)
# ---------------------------------------------------------------------------------------------


def _missing(columns: Sequence[str], required: Sequence[str]) -> list[str]:
    return [c for c in required if c not in columns]


def ami_format(columns: Sequence[str], where: str) -> str:
    """Which AMI row format ``columns`` hold: 'diarizers', 'strategy' or 'utterances' (else DataError)."""
    if not _missing(columns, AMI_COLUMNS):
        return "diarizers"
    if not _missing(columns, STRATEGY_COLUMNS):
        return "strategy"
    if not _missing(columns, UTTERANCE_COLUMNS):
        return "utterances"
    missing = _missing(columns, AMI_COLUMNS)
    raise DataError(
        f"{where}: missing column {missing[0]!r} of the AMI schema (needs {', '.join(AMI_COLUMNS)}; or "
        f"{', '.join(STRATEGY_COLUMNS)}; or {', '.join(UTTERANCE_COLUMNS)}); columns present: {', '.join(columns)}"
    )


def check_columns(columns: Sequence[str], dataset: str, where: str) -> str:
    """Check a table's columns against ``dataset``'s schema; return the row format (DataError if not)."""
    if dataset == "librispeech":
        missing = _missing(columns, LIBRISPEECH_COLUMNS)
        if missing:
            raise DataError(
                f"{where}: missing column {missing[0]!r} of the LibriSpeech schema "
                f"(needs {', '.join(LIBRISPEECH_COLUMNS)}); columns present: {', '.join(columns)}"
            )
        return "librispeech"
    return ami_format(columns, where)


def adapt(
    rows: Iterable[tuple[str, dict[str, Any]]], fmt: str, on_bad_audio: str, skipped: list[str]
) -> Iterator[dict[str, Any]]:
    """Turn ``(where, row)`` pairs of format ``fmt`` into rows of the dataset schema."""
    if fmt == "utterances":
        yield from group_utterances(rows, on_bad_audio, skipped)
        return
    for where, row in rows:
        if fmt == "strategy":
            row = strategy_row(row, where)
        elif fmt == "diarizers":
            row.setdefault("meeting_id", Path(str((row.get("audio") or {}).get("path") or where)).stem)
        row["_where"] = where
        yield row


def strategy_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A row of the strategy document's format -> the AMI (diarizers) schema."""
    segs = row.get("speaker_segments") or []
    try:
        starts = [float(s["start"]) for s in segs]
        ends = [float(s["end"]) for s in segs]
        speakers = [str(s["speaker"]) for s in segs]
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{where}: speaker_segments entries need 'speaker', 'start', 'end' ({e})") from e
    return {
        "audio": row["audio"],
        "timestamps_start": starts,
        "timestamps_end": ends,
        "speakers": speakers,
        "meeting_id": str(row.get("meeting_id") or where),
    }


def group_utterances(
    rows: Iterable[tuple[str, dict[str, Any]]], on_bad_audio: str = "skip", skipped: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Group ``edinburghcstr/ami`` utterance rows (consecutive rows of one ``meeting_id``) into meetings.

    Each utterance's audio is placed at its ``begin_time`` on a timeline starting at the meeting's
    first utterance and the clips are summed (overlaps add up); each utterance becomes one turn.
    Undecodable utterances are skipped with a warning (``on_bad_audio="skip"``) or raise.
    """
    skipped = [] if skipped is None else skipped
    for meeting, group in itertools.groupby(rows, key=lambda wr: str(wr[1].get("meeting_id"))):
        clips: list[tuple[float, float, str, np.ndarray]] = []
        first_where = None
        for where, row in group:
            first_where = first_where or where
            try:
                begin, end = float(row["begin_time"]), float(row["end_time"])
            except (TypeError, ValueError) as e:
                raise DataError(f"{where}: begin_time/end_time must be numbers ({e})") from e
            if end <= begin:
                raise AnnotationError(f"{where}: end_time {end} is not after begin_time {begin}")
            try:
                with open_audio(row["audio"], where) as reader:
                    clip = reader.read_all()
            except AudioDecodeError as e:
                if on_bad_audio == "error":
                    raise
                warnings.warn(f"skipping utterance: {e}", stacklevel=2)
                skipped.append(where)
                continue
            clips.append((begin, end, str(row["speaker_id"]), clip))
        if not clips:
            continue
        t0 = min(c[0] for c in clips)
        n = max(int(round((c[0] - t0) * SAMPLE_RATE)) + len(c[3]) for c in clips)
        mix = np.zeros(n, dtype=np.float32)
        for begin, _end, _spk, clip in clips:
            k = int(round((begin - t0) * SAMPLE_RATE))
            mix[k : k + len(clip)] += clip
        clips.sort(key=lambda c: c[0])
        yield {
            "audio": {"array": mix, "sampling_rate": SAMPLE_RATE},
            "timestamps_start": [c[0] - t0 for c in clips],
            "timestamps_end": [c[1] - t0 for c in clips],
            "speakers": [c[2] for c in clips],
            "meeting_id": meeting,
            "_where": f"{first_where} (meeting {meeting}, {len(clips)} utterances)",
        }


# ---------------------------------------------------------------------------------------------
# local
# ---------------------------------------------------------------------------------------------


def _local(arm: ArmConfig, split: str) -> RowSource:
    if not arm.path:
        raise DataError(f"arm {arm.name!r}: source = 'local' needs a path")
    raw = arm.path.replace("{split}", split)
    p = Path(raw).expanduser()
    if not p.exists():
        raise DataError(f"arm {arm.name!r}: local path {str(p)!r} does not exist")
    kind, target = resolve_local(p, split, arm.dataset)
    if kind == "parquet":
        return parquet_source(target, arm.dataset, arm.on_bad_audio)
    if kind == "disk":
        return disk_source(target, split, arm.dataset, arm.on_bad_audio)
    if arm.dataset != "ami":
        raise DataError(f"{target}: WAV + RTTM data is for dataset 'ami', not {arm.dataset!r}")
    return rttm_source(p if p.is_dir() else p.parent, split)


def resolve_local(p: Path, split: str, dataset: str) -> tuple[str, Any]:
    """Find ``split`` under local path ``p``: ('parquet', [files]) | ('disk', folder) | ('rttm', file)."""
    if p.is_file():
        if p.suffix == ".parquet":
            return "parquet", [p]
        if p.suffix == ".rttm":
            return "rttm", p
        raise DataError(f"{p}: not a parquet file, an RTTM file or a folder")
    candidates = [p / f"{split}.parquet", p / dataset / f"{split}.parquet"]
    for c in candidates:
        if c.is_file():
            return "parquet", [c]
    sub = p / split
    if sub.is_dir():
        files = sorted(sub.glob("*.parquet"))
        if files:
            return "parquet", files
        if (sub / "state.json").is_file():
            return "disk", sub
    if (p / "dataset_dict.json").is_file():
        return "disk", p
    if (p / f"{split}.rttm").is_file():
        return "rttm", p / f"{split}.rttm"
    shards = sorted(p.glob(f"{split}-*.parquet")) or sorted(p.glob(f"*/{split}-*.parquet"))
    if shards:
        return "parquet", shards
    if (p / dataset / "dataset_dict.json").is_file():
        return "disk", p / dataset
    raise DataError(
        f"{p}: no data for split {split!r}: looked for {split}.parquet, {dataset}/{split}.parquet, "
        f"{split}/*.parquet, {split}-*.parquet, a save_to_disk folder (dataset_dict.json or "
        f"{split}/state.json) and {split}.rttm with <uri>.wav files"
    )


def parquet_source(files: Sequence[Path], dataset: str, on_bad_audio: str = "skip") -> RowSource:
    """Rows of parquet files, read lazily a few rows at a time (only the needed columns)."""
    import pyarrow.parquet as pq

    formats, n_rows = [], 0
    for f in files:
        try:
            pf = pq.ParquetFile(f)
        except Exception as e:  # pyarrow raises several types for a non-parquet file
            raise DataError(f"{f}: cannot read parquet file: {e}") from e
        formats.append(check_columns(pf.schema_arrow.names, dataset, str(f)))
        n_rows += pf.metadata.num_rows
    if len(set(formats)) > 1:
        raise DataError(f"{files[0].parent}: parquet files of one split mix row formats: {sorted(set(formats))}")
    fmt = formats[0]
    skipped: list[str] = []

    def pairs() -> Iterator[tuple[str, dict[str, Any]]]:
        for f in files:
            pf = pq.ParquetFile(f)
            names = pf.schema_arrow.names
            cols = _wanted(names, fmt)
            i = 0
            batch_size = 16 if fmt == "librispeech" else 1
            for batch in pf.iter_batches(batch_size=batch_size, columns=cols):
                for row in batch.to_pylist():
                    yield f"{f} row {i}", row
                    i += 1

    origin = str(files[0]) if len(files) == 1 else f"{files[0].parent} ({len(files)} parquet files)"
    rows = adapt(pairs(), fmt, on_bad_audio, skipped)
    return RowSource(rows, None if fmt == "utterances" else n_rows, origin, skipped=skipped)


def _wanted(names: Sequence[str], fmt: str) -> list[str]:
    want = {
        "librispeech": ("audio", "speaker_id", "id", "chapter_id", "file"),
        "diarizers": (*AMI_COLUMNS, "meeting_id", "uri"),
        "strategy": (*STRATEGY_COLUMNS, "meeting_id", "num_speakers"),
        "utterances": (*UTTERANCE_COLUMNS, "audio_id"),
    }[fmt]
    return [c for c in names if c in want]


def disk_source(folder: Path, split: str, dataset: str, on_bad_audio: str = "skip") -> RowSource:
    """Rows of a ``datasets.save_to_disk`` folder (a DatasetDict or one Dataset), without decoding."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as e:
        raise DataError(f"{folder}: cannot load the save_to_disk dataset: {e}") from e
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise DataError(f"{folder}: no split {split!r} in the saved dataset (splits: {', '.join(loaded)})")
        ds, where = loaded[split], f"{folder}[{split}]"
    else:
        ds, where = loaded, str(folder)
    fmt = check_columns(ds.column_names, dataset, where)
    if isinstance(ds.features.get("audio"), datasets.Audio):
        ds = ds.cast_column("audio", datasets.Audio(decode=False))
    ds = ds.select_columns(_wanted(ds.column_names, fmt))
    skipped: list[str] = []

    def pairs() -> Iterator[tuple[str, dict[str, Any]]]:
        table = ds.with_format("arrow")
        step = 16 if fmt == "librispeech" else 1
        for lo in range(0, len(ds), step):
            for j, row in enumerate(table[lo : lo + step].to_pylist()):
                yield f"{where} row {lo + j}", row

    return RowSource(adapt(pairs(), fmt, on_bad_audio, skipped), None if fmt == "utterances" else len(ds), where,
                     skipped=skipped)


def rttm_source(folder: Path, split: str) -> RowSource:
    """AMI rows from ``<folder>/<split>.rttm`` and ``<folder>/<uri>.wav`` (one row per recording, or
    per UEM region when ``<split>.uem`` gives several).

    ``<split>.lst`` (optional) lists the recordings to use; otherwise the RTTM's. With a UEM, audio
    is cropped to each region and turns are clipped to it (times relative to the region start).
    RTTM lines for a recording without a WAV, and turns past the end of the audio, are errors.
    """
    import soundfile as sf

    rttm_path = folder / f"{split}.rttm"
    segments = parse_rttm(_read_text(rttm_path), str(rttm_path))
    uem_path, lst_path = folder / f"{split}.uem", folder / f"{split}.lst"
    uem = parse_uem(_read_text(uem_path), str(uem_path)) if uem_path.is_file() else None
    if lst_path.is_file():
        uris = [line.strip() for line in _read_text(lst_path).splitlines() if line.strip()]
        segments = {u: s for u, s in segments.items() if u in set(uris)}
    else:
        uris = list(segments)
    if not uris:
        raise DataError(f"{rttm_path}: no recordings (empty RTTM and no {lst_path.name})")
    infos: dict[str, Any] = {}
    for uri in uris:
        wav = folder / f"{uri}.wav"
        if wav.is_file():
            try:
                infos[uri] = sf.info(str(wav))
            except (sf.LibsndfileError, RuntimeError) as e:
                raise AudioDecodeError(f"{wav}: cannot read audio header ({e})") from e
        elif uri not in segments:
            raise DataError(f"{lst_path}: recording {uri!r} has no audio file {wav.name} in {folder}")
    seconds = {u: i.frames / i.samplerate for u, i in infos.items()}
    check_segments(segments, seconds, str(rttm_path))
    if uem is not None:
        for uri in uris:
            for _s, e in uem.get(uri, []):
                if e > seconds[uri] + 0.05:
                    raise AnnotationError(f"{uem_path}: region of {uri!r} ends at {e:.3f} s, after the end of "
                                          f"the audio ({seconds[uri]:.3f} s)")
    plan: list[tuple[str, float, float | None]] = []
    for uri in uris:
        regions = uem.get(uri) if uem is not None else None
        if uem is not None and not regions:
            continue  # a UEM that does not score a recording excludes it
        plan += [(uri, s, e) for s, e in regions] if regions else [(uri, 0.0, None)]

    def rows() -> Iterator[dict[str, Any]]:
        for uri, start, end in plan:
            wav = folder / f"{uri}.wav"
            info = infos[uri]
            length = seconds[uri]
            end_s = length if end is None else min(end, length)
            whole = start <= 0.01 and end_s >= length - 0.01  # within 10 ms of the file: no re-encoding
            where = f"{wav} ({rttm_path.name} recording {uri}" + ("" if whole else f" {start:.3f}-{end_s:.3f} s") + ")"
            if whole:
                audio = {"bytes": _read_bytes(wav), "path": wav.name}
            else:
                lo, hi = int(round(start * info.samplerate)), int(round(end_s * info.samplerate))
                data, sr = sf.read(str(wav), start=lo, stop=hi, dtype="float32", always_2d=True)
                subtype = info.subtype if info.subtype in ("PCM_16", "PCM_24", "PCM_32", "FLOAT") else "FLOAT"
                audio = {"bytes": encode_wav(data, sr, subtype), "path": wav.name}
            ts, te, spk = [], [], []
            for s in segments.get(uri, []):
                a, b = max(s.start, start), min(s.end, end_s)
                if b > a:
                    ts.append(a - start)
                    te.append(b - start)
                    spk.append(s.speaker)
            yield {"audio": audio, "timestamps_start": ts, "timestamps_end": te, "speakers": spk,
                   "meeting_id": uri if len(plan) == len(uris) else f"{uri}@{start:.3f}", "_where": where}

    return RowSource(rows(), len(plan), str(rttm_path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise AnnotationError(f"{path}: not UTF-8 text ({e})") from e


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise AudioDecodeError(f"{path}: cannot read audio file: {e.strerror}") from e


# ---------------------------------------------------------------------------------------------
# hub
# ---------------------------------------------------------------------------------------------


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def check_hub(endpoint: str | None = None, timeout: float = HUB_TIMEOUT) -> None:
    """Raise HubUnavailableError within about ``timeout`` seconds unless the hub answers an HTTP
    request (``HEAD`` of ``HF_ENDPOINT``, default https://huggingface.co; any HTTP status counts as
    an answer). urllib honours the usual proxy variables. The request runs in a daemon thread, so
    a hanging name lookup, connection or TLS handshake cannot stall the caller; ``HF_HUB_OFFLINE``
    or ``HF_DATASETS_OFFLINE`` fail at once.
    """
    endpoint = endpoint or hub_endpoint()
    hint = "use source = 'local' or 'synthetic'"
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if _truthy(var):
            raise HubUnavailableError(f"cannot reach the Hugging Face hub ({endpoint}): {var} is set; {hint}")
    url = endpoint if "://" in endpoint else f"https://{endpoint}"
    if not urlparse(url).hostname:
        raise HubUnavailableError(f"cannot reach the Hugging Face hub ({endpoint}): invalid endpoint; {hint}")
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        request = urllib.request.Request(url.rstrip("/") + "/", method="HEAD", headers={"User-Agent": "vfreport"})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
            outcome.append(None)
        except urllib.error.HTTPError:  # the server answered (401, 404, 5xx...): reachable
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - reported to the caller below
            outcome.append(e)

    thread = threading.Thread(target=attempt, daemon=True, name="vfreport-hub-check")
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise HubUnavailableError(f"cannot reach the Hugging Face hub ({endpoint}): no answer in {timeout:g} s; {hint}")
    if outcome[0] is not None:
        e = outcome[0]
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise HubUnavailableError(f"cannot reach the Hugging Face hub ({endpoint}): {reason}; {hint}")


def hub_location(arm: ArmConfig) -> tuple[str, str, str | None]:
    """(hub id, config, revision) of an arm, with the defaults filled in."""
    default_id, default_config = HUB_DEFAULTS[arm.dataset]
    hub_id = arm.hub_id or default_id
    config = arm.hub_config or ("ihm" if hub_id == EDINBURGH_AMI else default_config if hub_id == default_id else "")
    revision = arm.revision or (EDINBURGH_REVISION if hub_id == EDINBURGH_AMI else None)
    return hub_id, config, revision


def _hub(arm: ArmConfig, split: str, load: Callable[..., Any] | None = None) -> RowSource:
    check_hub()
    import datasets

    hub_id, config, revision = hub_location(arm)
    origin = f"hub {hub_id}" + (f" ({config})" if config else "") + f" {split}" + (f" @ {revision}" if revision else "")
    load = load or datasets.load_dataset
    try:
        ds = load(hub_id, config or None, split=split, streaming=True, revision=revision)
    except Exception as e:
        raise DataError(f"{origin}: cannot open the dataset: {type(e).__name__}: {e}") from e
    columns = list(ds.column_names or (ds.features or {}).keys())
    fmt = check_columns(columns, arm.dataset, origin)
    if "audio" in (ds.features or {}):
        ds = ds.cast_column("audio", datasets.Audio(decode=False))
    n_rows = None
    try:
        n_rows = int(ds.info.splits[split].num_examples) or None
    except Exception:  # noqa: BLE001 - the count is optional
        n_rows = None
    skipped: list[str] = []

    def pairs() -> Iterator[tuple[str, dict[str, Any]]]:
        for i, row in enumerate(ds):
            yield f"{origin} row {i}", dict(row)

    return RowSource(adapt(pairs(), fmt, arm.on_bad_audio, skipped), None if fmt == "utterances" else n_rows,
                     origin, skipped=skipped)


def open_reader(row: dict[str, Any]) -> AudioReader:
    """An :class:`AudioReader` for a row's ``audio`` cell (DataError if the row has none)."""
    where = row.get("_where", "row")
    if "audio" not in row:
        raise DataError(f"{where}: missing column 'audio'")
    return open_audio(row["audio"], where)
