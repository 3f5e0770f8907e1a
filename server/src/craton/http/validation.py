"""Request validation with JSON Schema (draft 4), as the original did.

Query strings are coerced to the declared types first (lenient booleans, first
value of a repeated parameter, except for parameters declared ``repeated``,
which collect every value and split each on commas); every violation is
reported, sorted, in one 400 message that starts like the original's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from craton.domain.errors import InvalidInput

PREFIX = "The request included the following errors:\n- "
_FALSE = {"n", "no", "false", "0", ""}
MAX_REPEATED = 100


@dataclass(frozen=True)
class Param:
    """One query parameter: JSON Schema type, default, and extra schema keywords."""

    type: str = "string"
    default: Any = None
    schema: Mapping[str, Any] | None = None
    description: str = ""
    # Every occurrence counts (``?label=a&label=b``), and each is split on commas (``label=a,b``).
    repeated: bool = False

    def as_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.type == "integer":  # ids are 32-bit columns; PostgreSQL casts parameters to them
            schema.update(minimum=-(2**31), maximum=2**31 - 1)
        schema.update(self.schema or {})
        if self.repeated:
            return {"type": "array", "items": schema, "maxItems": MAX_REPEATED}
        return schema


_VALIDATORS: dict[int, tuple[Mapping[str, Any], jsonschema.Draft4Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft4Validator:
    """Validators are built once per schema object (schemas are module-level constants)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, jsonschema.Draft4Validator(schema))
        _VALIDATORS[id(schema)] = cached
    return cached[1]


# jsonschema 2.x, which the original ran, worded these without the special cases later
# versions added for 0 and 1 ("... is expected to be empty", "... should be non-empty").
_ORIGINAL_WORDING = {
    "maxProperties": "{!r} has too many properties",
    "minProperties": "{!r} does not have enough properties",
    "maxItems": "{!r} is too long",
    "minItems": "{!r} is too short",
    "maxLength": "{!r} is too long",
    "minLength": "{!r} is too short",
}


def _message(error: jsonschema.ValidationError) -> str:
    wording = _ORIGINAL_WORDING.get(str(error.validator))
    return wording.format(error.instance) if wording else error.message


def check(schema: Mapping[str, Any], value: Any) -> None:
    validator = _validator(schema)
    messages = sorted(_message(error) for error in validator.iter_errors(value))
    if messages:
        raise InvalidInput(PREFIX + "\n- ".join(messages))


def _coerce(param: Param, raw: str) -> Any:
    if param.type == "integer":
        try:
            return int(raw, 10)
        except ValueError:
            return raw  # left as text so the schema reports the wrong type
    if param.type == "boolean":
        return raw.strip().lower() not in _FALSE
    return raw


_QUERY_SCHEMAS: dict[int, tuple[Mapping[str, Param], dict[str, Any]]] = {}


def cached_query_schema(params: Mapping[str, Param]) -> dict[str, Any]:
    cached = _QUERY_SCHEMAS.get(id(params))
    if cached is None or cached[0] is not params:
        cached = (params, query_schema(params))
        _QUERY_SCHEMAS[id(params)] = cached
    return cached[1]


def query_schema(params: Mapping[str, Param]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: param.as_schema() for name, param in params.items()},
    }
    if not params:  # the original's "no-params" schemas (§1.4) also carried maxProperties: 0
        schema["maxProperties"] = 0
    return schema


def parse_query(params: Mapping[str, Param], items: list[tuple[str, str]]) -> dict[str, Any]:
    """Validated query parameters in declaration order, with defaults filled in."""
    given: dict[str, Any] = {}
    for name, raw in items:
        if "\x00" in name or "\x00" in raw:
            raise InvalidInput(f"Query parameter {name!r} contains a NUL character.")
        param = params.get(name)
        if param is not None and param.repeated:
            values = given.setdefault(name, [])
            values.extend(_coerce(param, part.strip()) for part in raw.split(",") if part.strip())
            continue
        if name in given:
            continue
        given[name] = _coerce(param, raw) if param is not None else raw
    for name, param in params.items():
        if param.repeated and name in given and not given[name]:
            del given[name]  # ``label=`` alone filters nothing, as an empty single value did
    check(cached_query_schema(params), given)
    return {name: given.get(name, param.default) for name, param in params.items()}
