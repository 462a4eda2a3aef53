"""Every results.json the suite writes is validated against the JSON Schema of its typed records
(docs/results.schema.json) before it is written: vfreport.pipeline.write_results is the package's
only writer of it, and writes through the module's ``atomic_write_json``, wrapped here (so a test
that imported ``write_results`` by name is covered too). Tests that run vfreport in a subprocess
validate what it wrote themselves (tests/test_e2e.py)."""

from __future__ import annotations

import pytest
from _results_schema import assert_valid_results

import vfreport.pipeline


@pytest.fixture(autouse=True)
def _validate_results_json(monkeypatch):
    write = vfreport.pipeline.atomic_write_json

    def validated(path, data):
        assert_valid_results(data)  # the strict-JSON copy write_results is about to write
        return write(path, data)

    monkeypatch.setattr(vfreport.pipeline, "atomic_write_json", validated)
