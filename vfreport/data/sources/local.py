"""Source ``local``: parquet files, ``datasets.save_to_disk`` folders, or WAV + RTTM (+ UEM) folders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from vfreport.config import ArmConfig
from vfreport.data.audio import encode_wav
from vfreport.data.rttm import check_segments, read_rttm, read_text, read_uem
from vfreport.data.sources.base import RowSource, register_source
from vfreport.data.sources.schema import AMI_COLUMNS, STRATEGY_COLUMNS, UTTERANCE_COLUMNS, adapt, check_columns
from vfreport.errors import AnnotationError, AudioDecodeError, DataError


def open_local(arm: ArmConfig, split: str, n_windows: int = 0, window_seconds: float = 2.0) -> RowSource:
    """Rows of a local parquet / save_to_disk / WAV+RTTM split (see :mod:`vfreport.data.sources`)."""
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
    segments = read_rttm(rttm_path)
    uem_path, lst_path = folder / f"{split}.uem", folder / f"{split}.lst"
    uem = read_uem(uem_path) if uem_path.is_file() else None
    if lst_path.is_file():
        uris = [line.strip() for line in read_text(lst_path, "recording list").splitlines() if line.strip()]
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


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise AudioDecodeError(f"{path}: cannot read audio file: {e.strerror}") from e


register_source("local", open_local)
