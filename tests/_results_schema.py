"""Validate a results.json against the JSON Schema generated from its typed records
(docs/results.schema.json, :func:`vfreport.experiment.results_schema.json_schema`), with the
``jsonschema`` library. tests/conftest.py applies it to every results.json the suite writes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jsonschema

from vfreport.experiment.results_schema import json_schema


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(results: Mapping[str, Any]) -> list[str]:
    """Each place where ``results`` breaks the schema, as 'path: message' (empty when valid)."""
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator().iter_errors(results), key=lambda e: list(map(str, e.absolute_path)))]


def assert_valid_results(results: Mapping[str, Any]) -> None:
    errors = schema_errors(results)
    assert not errors, "results.json does not follow docs/results.schema.json:\n" + "\n".join(errors[:20])
