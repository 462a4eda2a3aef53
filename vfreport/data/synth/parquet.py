"""The synthetic corpora written as parquet in the Hugging Face schemas (``vfreport data synth``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vfreport.data.geometry import SAMPLE_RATE
from vfreport.data.synth.ami import ami_rows
from vfreport.data.synth.librispeech import librispeech_rows
from vfreport.errors import ConfigError
from vfreport.experiment.layout import atomic_write_with
from vfreport.names import check_name

_AUDIO_FEATURE = {"sampling_rate": SAMPLE_RATE, "decode": True, "_type": "Audio"}
LIBRISPEECH_FEATURES = {
    "file": {"dtype": "string", "_type": "Value"},
    "audio": _AUDIO_FEATURE,
    "text": {"dtype": "string", "_type": "Value"},
    "speaker_id": {"dtype": "int64", "_type": "Value"},
    "chapter_id": {"dtype": "int64", "_type": "Value"},
    "id": {"dtype": "string", "_type": "Value"},
}
AMI_FEATURES = {
    "audio": _AUDIO_FEATURE,
    "timestamps_start": {"feature": {"dtype": "float64", "_type": "Value"}, "_type": "List"},
    "timestamps_end": {"feature": {"dtype": "float64", "_type": "Value"}, "_type": "List"},
    "speakers": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
}


def arrow_schema(dataset: str):  # -> pyarrow.Schema
    """The pyarrow schema of a LibriSpeech or AMI parquet file, with the HF features metadata."""
    import pyarrow as pa

    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    if dataset == "librispeech":
        fields = [
            ("file", pa.string()),
            ("audio", audio),
            ("text", pa.string()),
            ("speaker_id", pa.int64()),
            ("chapter_id", pa.int64()),
            ("id", pa.string()),
        ]
        features = LIBRISPEECH_FEATURES
    elif dataset == "ami":
        fields = [
            ("audio", audio),
            ("timestamps_start", pa.list_(pa.float64())),
            ("timestamps_end", pa.list_(pa.float64())),
            ("speakers", pa.list_(pa.string())),
        ]
        features = AMI_FEATURES
    else:
        raise ConfigError(f"unknown dataset {dataset!r}: use 'librispeech' or 'ami'")
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=meta)


def write_parquet(path: Path | str, rows: Iterable[dict[str, Any]], dataset: str, rows_per_group: int = 64) -> Path:
    """Stream ``rows`` into a parquet file (atomically), ``rows_per_group`` rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(dataset)

    def write(f) -> None:
        with pq.ParquetWriter(f, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= rows_per_group:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))

    return atomic_write_with(path, write)


# enough rows for the demo preset's windows (1,536 train / 128 val / 128 test per arm; ~12 windows per meeting)
DEFAULT_LIBRISPEECH = {"train.360": 1560, "validation": 130, "test": 130}  # test: new speakers
DEFAULT_AMI = {"train": 132, "validation": 14, "test": 14}  # test: new meetings


def write_corpus(
    out: Path | str,
    seed: int = 0,
    librispeech: dict[str, int] | None = None,
    ami: dict[str, int] | None = None,
    *,
    meeting_seconds: float = 60.0,
) -> dict[str, Path]:
    """Write ``<out>/librispeech/<split>.parquet`` and ``<out>/ami/<split>.parquet``.

    ``librispeech`` maps split -> utterances (default :data:`DEFAULT_LIBRISPEECH`), ``ami`` maps
    split -> meetings of ``meeting_seconds`` (default :data:`DEFAULT_AMI`); pass ``{}`` to skip a
    corpus. Each file is streamed (bounded memory) and written atomically. Returns
    ``{"librispeech/<split>": path, ..., "ami/<split>": path, ...}``.
    """
    out = Path(out)
    jobs = [
        ("librispeech", DEFAULT_LIBRISPEECH if librispeech is None else librispeech),
        ("ami", DEFAULT_AMI if ami is None else ami),
    ]
    for dataset, splits in jobs:
        for split, count in splits.items():
            check_name(split, f"{dataset} split name")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigError(f"synthetic {dataset} split {split!r}: count must be an integer >= 0, got {count!r}")
    paths: dict[str, Path] = {}
    for split, count in jobs[0][1].items():
        rows = librispeech_rows(split, count, seed)
        paths[f"librispeech/{split}"] = write_parquet(out / "librispeech" / f"{split}.parquet", rows, "librispeech")
    for split, count in jobs[1][1].items():
        rows = ami_rows(split, count, seed, meeting_seconds)
        paths[f"ami/{split}"] = write_parquet(out / "ami" / f"{split}.parquet", rows, "ami", rows_per_group=8)
    return paths
