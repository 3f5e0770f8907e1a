"""The compiled checker that lets valid bodies skip jsonschema agrees with jsonschema on every API schema."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from typing import Any

import jsonschema
import pytest

from craton.app import API_ROUTES
from craton.domain.errors import InvalidInput
from craton.http.validation import cached_query_schema, check, compile_checker

SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    1.0,
    0.5,
    -0.0,
    "",
    "a",
    "x" * 255,
    "x" * 256,
    "nul\x00inside",
    "replace",
    "deep",
    "union",
    "host",
    "true",
    "1",
]


def declared_schemas() -> list[tuple[str, Mapping[str, Any]]]:
    schemas: dict[int, tuple[str, Mapping[str, Any]]] = {}
    for route in API_ROUTES:
        for op in getattr(route, "operations", []):
            where = f"{op.method} {route.path}"  # type: ignore[attr-defined]
            if op.body is not None:
                schemas.setdefault(id(op.body), (f"{where} body", op.body))
            query = cached_query_schema(op.query)
            schemas.setdefault(id(query), (f"{where} query", query))
    return sorted(schemas.values(), key=lambda pair: pair[0])


def names_in(schema: Any, found: set[str]) -> set[str]:
    """Every property name a schema mentions, so generated objects hit its properties."""
    if isinstance(schema, dict):
        found.update(schema.get("properties", {}))
        for value in schema.values():
            names_in(value, found)
    elif isinstance(schema, list):
        for value in schema:
            names_in(value, found)
    return found


def value(rng: random.Random, names: list[str], depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(SCALARS)
    if roll < 0.6:
        return [value(rng, names, depth + 1) for _ in range(rng.choice((0, 1, 2, 3)))]
    keys = rng.sample(names, min(len(names), rng.randint(0, 4)))
    if rng.random() < 0.2:
        keys.append(rng.choice(["", "unknown", "x" * 256, "k\x00"]))
    return {key: value(rng, names, depth + 1) for key in keys}


@functools.cache
def _accepted(schema_id: int) -> list[Any]:
    validator = jsonschema.Draft4Validator(_BY_ID[schema_id])
    return [v for v in [*SCALARS, [], ["a", "b"], {}] if validator.is_valid(v)]


_BY_ID: dict[int, Mapping[str, Any]] = {}


def accepted(schema: Mapping[str, Any]) -> list[Any]:
    """The sample values a (sub)schema accepts."""
    _BY_ID[id(schema)] = schema
    return _accepted(id(schema))


def near_valid(rng: random.Random, schema: Mapping[str, Any], names: list[str]) -> Any:
    """An object whose properties each got a value their own schema accepts, more or less."""
    properties = schema.get("properties", {})
    chosen: dict[str, Any] = {}
    for name, sub in properties.items():
        if rng.random() < 0.7 or name in schema.get("required", []):
            candidates = accepted(sub)
            chosen[name] = rng.choice(candidates) if candidates and rng.random() < 0.9 else value(rng, names)
    return chosen


SCHEMAS = declared_schemas()


@pytest.mark.parametrize("schema", [s for _, s in SCHEMAS], ids=[name for name, _ in SCHEMAS])
def test_the_checker_agrees_with_jsonschema(schema: Mapping[str, Any]) -> None:
    checker = compile_checker(schema)
    assert checker is not None, "a schema the API declares uses a keyword the checker does not know"
    validator = jsonschema.Draft4Validator(schema)
    names = sorted(names_in(schema, set())) + ["note", "labels", "a"]
    rng = random.Random(17)
    for _ in range(1000):
        instance = value(rng, names) if rng.random() < 0.5 else near_valid(rng, schema, names)
        assert checker(instance) == validator.is_valid(instance), instance


def test_unknown_keywords_leave_the_schema_to_jsonschema() -> None:
    assert compile_checker({"type": "object", "$ref": "#/definitions/x"}) is None
    assert compile_checker({"type": "integer", "exclusiveMinimum": True, "minimum": 0}) is None
    assert compile_checker({"enum": [1, True]}) is None
    assert compile_checker({"type": "array", "items": [{"type": "string"}]}) is None


def test_messages_still_come_from_jsonschema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}, "additionalProperties": False}
    check(schema, {"n": 3})
    with pytest.raises(InvalidInput) as raised:
        check(schema, {"n": 4, "x": True})
    assert raised.value.message == (
        "The request included the following errors:\n"
        "- 4 is greater than the maximum of 3\n"
        "- Additional properties are not allowed ('x' was unexpected)"
    )
