"""Building blocks for the JSON Schemas of request bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# NUL cannot be stored in PostgreSQL text; refuse it everywhere so every backend agrees.
NO_NUL = "^[^\u0000]*$"
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NO_NUL}
STRING: dict[str, Any] = {"type": "string", "maxLength": 255, "pattern": NO_NUL}
TEXT: dict[str, Any] = {"type": "string", "maxLength": 65535, "pattern": NO_NUL}
INTEGER: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
BIG_INTEGER: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
NULLABLE_ID: dict[str, Any] = {"anyOf": [INTEGER, {"type": "null"}]}
VARIABLES: dict[str, Any] = {
    "type": "object",
    "patternProperties": {"^[^\u0000]{1,255}$": {}},
    "additionalProperties": False,
    "maxProperties": 1000,
}
LABELS: dict[str, Any] = {"type": "array", "items": NAME, "maxItems": 1000}
LABELS_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"labels": LABELS},
    "required": ["labels"],
    "additionalProperties": False,
}
VARIABLE_KEYS: dict[str, Any] = {"type": "array", "items": STRING, "maxItems": 1000}
MASK_KEYS: dict[str, Any] = {"type": "array", "items": NAME, "maxItems": 1000}
MERGE_STRATEGIES: dict[str, Any] = {
    "type": "object",
    "patternProperties": {"^[^\u0000]{1,255}$": {"type": "string", "enum": ["replace", "deep", "append", "union"]}},
    "additionalProperties": False,
    "maxProperties": 1000,
}


def obj(properties: Mapping[str, Mapping[str, Any]], required: Iterable[str] = ()) -> dict[str, Any]:
    """An object schema that rejects unknown keys."""
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    required = sorted(required)
    if required:
        schema["required"] = required
    return schema


def pick(properties: Mapping[str, Mapping[str, Any]], *names: str) -> dict[str, Mapping[str, Any]]:
    return {name: properties[name] for name in names}
