"""Data sources: the rows of one split of one arm, in the arm's dataset schema (docs/architecture.md, docs/data.md).

:func:`open_split` (a registry lookup, :mod:`.base`) returns a :class:`RowSource`, a lazy iterator of
rows plus what is known about it (row count, origin). Rows come in the Hugging Face schema of the arm's dataset:

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

from vfreport.data.sources import hub, local, synthetic  # noqa: F401 - each registers its source
from vfreport.data.sources.base import OPENERS, RowSource, open_reader, open_split, register_source
from vfreport.data.sources.hub import check_hub, hub_location
from vfreport.data.sources.synthetic import synthetic_meetings_needed

__all__ = ["OPENERS", "RowSource", "check_hub", "hub_location", "open_reader", "open_split", "register_source",
           "synthetic_meetings_needed"]
