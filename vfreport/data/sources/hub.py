"""Source ``hub``: ``datasets.load_dataset(..., streaming=True)`` with ``Audio(decode=False)``, after a
reachability check that fails in seconds (:func:`check_hub`)."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

from vfreport.config import ArmConfig
from vfreport.data.sources.base import RowSource, register_source
from vfreport.data.sources.schema import adapt, check_columns
from vfreport.errors import DataError, HubUnavailableError

HUB_DEFAULTS = {"librispeech": ("openslr/librispeech_asr", "clean"), "ami": ("diarizers-community/ami", "ihm")}
EDINBURGH_AMI = "edinburghcstr/ami"
EDINBURGH_REVISION = "refs/convert/parquet"
HUB_TIMEOUT = 3.0



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


def open_hub(arm: ArmConfig, split: str, n_windows: int = 0, window_seconds: float = 2.0,
             load: Callable[..., Any] | None = None) -> RowSource:
    """Rows streamed from the Hugging Face hub, after :func:`check_hub` (see :mod:`vfreport.data.sources`)."""
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


register_source("hub", open_hub)
