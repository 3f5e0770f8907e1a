"""JSON in and out: compact, sorted keys, UTC timestamps, bounded nesting."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
from starlette.responses import Response

from craton.domain.errors import InvalidInput

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_default, option=_OPTIONS)


def timestamp(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds, e.g. ``2026-11-26T18:35:27.416790+00:00``."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping early once past ``limit``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            if level > limit:
                return level
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


MIN_INT, MAX_INT = -(2**63), 2**64 - 1


def _bounded_int(text: str) -> int:
    """Integers must survive storage unchanged: 64-bit at most (a longer one is refused, not rounded)."""
    if len(text) > 21 or not MIN_INT <= (value := int(text)) <= MAX_INT:
        raise ValueError(f"the integer {text[:30]} does not fit in 64 bits")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON value")


def parse_body(raw: bytes, content_type: str, max_depth: int) -> Any:
    """The request body as JSON, or None when it is absent or not declared as JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not raw or not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        return None
    try:
        value = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(
            "The browser (or proxy) sent a request that this server could not understand. "
            f"The body is not valid JSON: {exc}."
        ) from None
    if depth(value, max_depth) > max_depth:
        raise InvalidInput(f"The request body nests deeper than {max_depth} levels.")
    return value
