"""Request validation with JSON Schema (draft 4), as the original did.

Query strings are coerced to the declared types first (lenient booleans, first
value of a repeated parameter, except for parameters declared ``repeated``,
which collect every value and split each on commas); every violation is
reported, sorted, in one 400 message that starts like the original's.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
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


Checker = Callable[[Any], bool]
_VALIDATORS: dict[int, tuple[Mapping[str, Any], jsonschema.Draft4Validator, Checker | None]] = {}


def _validator(schema: Mapping[str, Any]) -> tuple[jsonschema.Draft4Validator, Checker | None]:
    """Validators are built once per schema object (schemas are module-level constants)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, jsonschema.Draft4Validator(schema), compile_checker(schema))
        _VALIDATORS[id(schema)] = cached
    return cached[1], cached[2]


# Draft 4's types as jsonschema's Draft4Validator tells them apart (a bool is no integer, 1.0 is no integer).
_TYPES: dict[str, Checker] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, numbers.Number) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}
_SUPPORTED = frozenset(
    {"type", "properties", "patternProperties", "additionalProperties", "required", "maxProperties"}
    | {"minProperties", "items", "maxItems", "minItems", "maxLength", "minLength", "minimum", "maximum"}
    | {"pattern", "enum", "anyOf", "description", "title", "default"}
)


def compile_checker(schema: Any) -> Checker | None:
    """A function that answers whether a value is valid under ``schema``, as Draft4Validator would.

    It only says yes or no, and costs a few calls where jsonschema's ``iter_errors`` walks its
    keyword functions, resolver and child validators; the messages still come from jsonschema
    (see :func:`check`). None when the schema uses a keyword (or a form of one) this does not
    know: such a schema is checked by jsonschema alone. ``tests/unit/test_validation_checker.py``
    compares both on every schema the API declares.
    """
    if not isinstance(schema, dict) or not set(schema) <= _SUPPORTED:
        return None
    checks: list[Checker] = []
    # A single type that a structural check below tests anyway is folded into that check.
    folded = schema.get("type") if schema.get("type") in ("object", "array", "string", "integer") else None
    if "type" in schema and folded is None:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not all(isinstance(name, str) and name in _TYPES for name in names):
            return None
        checks.append(_any_of([_TYPES[name] for name in names]))
    if "enum" in schema:
        if not isinstance(schema["enum"], list) or not all(isinstance(each, str) for each in schema["enum"]):
            return None  # jsonschema's equality of non-strings (1 vs True vs 1.0) is not repeated here
        allowed = frozenset(schema["enum"])
        checks.append(lambda value: isinstance(value, str) and value in allowed)
    if "anyOf" in schema:
        options = [compile_checker(option) for option in schema["anyOf"]]
        if not options or None in options:
            return None
        checks.append(_any_of(options))  # type: ignore[arg-type]
    for check_of in (_object_checks, _array_checks, _string_checks, _number_checks):
        more = check_of(schema, folded)
        if more is None:
            return None
        checks.extend(more)
    return _all_of(checks)


def _all_of(checks: list[Checker]) -> Checker:
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]

    def valid(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True

    return valid


def _any_of(checks: list[Checker]) -> Checker:
    if len(checks) == 1:
        return checks[0]

    def valid(value: Any) -> bool:
        for check in checks:
            if check(value):
                return True
        return False

    return valid


def _object_checks(schema: dict[str, Any], folded: str | None) -> list[Checker] | None:
    keys = {"properties", "patternProperties", "additionalProperties", "required", "maxProperties", "minProperties"}
    typed = folded == "object"  # a value that is no object is invalid, not skipped
    if not keys & set(schema):
        return [_TYPES["object"]] if typed else []
    properties = {name: compile_checker(sub) for name, sub in schema.get("properties", {}).items()}
    patterns = [
        (re.compile(pattern).search, compile_checker(sub))
        for pattern, sub in schema.get("patternProperties", {}).items()
    ]
    additional: Any = schema.get("additionalProperties", True)
    if isinstance(additional, dict):
        additional = compile_checker(additional)
    elif not isinstance(additional, bool):
        return None
    if additional is None or None in properties.values() or any(sub is None for _, sub in patterns):
        return None
    # jsonschema finds the additional properties with one search of the patterns joined by "|".
    joined = "|".join(schema.get("patternProperties", {}))
    matches_a_pattern = re.compile(joined).search if joined else None
    required = list(schema.get("required", []))
    most, least = schema.get("maxProperties"), schema.get("minProperties")

    def valid(value: Any) -> bool:
        if not isinstance(value, dict):
            return not typed
        if most is not None and len(value) > most or least is not None and len(value) < least:
            return False
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            test = properties.get(name)
            if test is not None:
                if not test(item):
                    return False
            elif additional is not True and not (matches_a_pattern and matches_a_pattern(name)):
                if additional is False or not additional(item):
                    return False
            for search, sub in patterns:
                if search(name) and not sub(item):  # type: ignore[misc]
                    return False
        return True

    return [valid]


def _array_checks(schema: dict[str, Any], folded: str | None) -> list[Checker] | None:
    typed = folded == "array"
    if not {"items", "maxItems", "minItems"} & set(schema):
        return [_TYPES["array"]] if typed else []
    items = schema.get("items", {})
    if not isinstance(items, dict):
        return None  # the tuple form
    item = compile_checker(items)
    if item is None:
        return None
    most, least = schema.get("maxItems"), schema.get("minItems")

    def valid(value: Any) -> bool:
        if not isinstance(value, list):
            return not typed
        if most is not None and len(value) > most or least is not None and len(value) < least:
            return False
        for each in value:
            if not item(each):
                return False
        return True

    return [valid]


def _string_checks(schema: dict[str, Any], folded: str | None) -> list[Checker] | None:
    typed = folded == "string"
    if not {"maxLength", "minLength", "pattern"} & set(schema):
        return [_TYPES["string"]] if typed else []
    most, least = schema.get("maxLength"), schema.get("minLength")
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None

    def valid(value: Any) -> bool:
        if not isinstance(value, str):
            return not typed
        if most is not None and len(value) > most or least is not None and len(value) < least:
            return False
        return search is None or search(value) is not None

    return [valid]


def _number_checks(schema: dict[str, Any], folded: str | None) -> list[Checker] | None:
    typed = folded == "integer"
    if not {"minimum", "maximum"} & set(schema):
        return [_TYPES["integer"]] if typed else []
    low, high = schema.get("minimum"), schema.get("maximum")
    is_number, is_integer = _TYPES["number"], _TYPES["integer"]

    def valid(value: Any) -> bool:
        if typed and not is_integer(value):
            return False
        if not is_number(value):
            return True
        return (low is None or value >= low) and (high is None or value <= high)

    return [valid]


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
    """Raise :class:`InvalidInput` listing every violation; a valid value costs only the compiled check."""
    validator, fast = _validator(schema)
    if fast is not None and fast(value):
        return
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
