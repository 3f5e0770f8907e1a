"""JSON in and out: compact, sorted keys, UTC timestamps, bounded nesting."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import orjson
from starlette.responses import Response

from craton.domain.errors import CratonError, InvalidInput

#: Werkzeug's text for a body it could not parse: the original's message for malformed JSON.
BAD_REQUEST = "The browser (or proxy) sent a request that this server could not understand."
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with lone surrogates shown as ``\\udXXX`` escapes, safe to put in a UTF-8 message."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _field(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return printable(key) if not path else f"{path}.{printable(key)}"


def check_structure(value: Any, limit: int) -> None:
    """Refuse what parsed but cannot be stored: nesting deeper than ``limit`` (the body itself is
    level 1), and strings with unpaired UTF-16 surrogates, which are not Unicode text (no database
    encoding can store them); the message names the field."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, level, path = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                where = path or "the request body"
                raise InvalidInput(
                    f'{where}: "{printable(node)[:80]}" contains an unpaired UTF-16 surrogate, which is not '
                    "valid Unicode text."
                )
        elif isinstance(node, dict):
            if level > limit:
                raise InvalidInput(f"The request body nests deeper than {limit} levels.")
            for key, child in node.items():
                if _SURROGATE.search(key):
                    where = f" in {path}" if path else " of the request body"
                    raise InvalidInput(
                        f'The key "{printable(key)[:80]}"{where} contains an unpaired UTF-16 surrogate, which is '
                        "not valid Unicode text."
                    )
                stack.append((child, level + 1, _field(path, key)))
        elif isinstance(node, list):
            if level > limit:
                raise InvalidInput(f"The request body nests deeper than {limit} levels.")
            stack.extend((child, level + 1, _field(path, index)) for index, child in enumerate(node))


MIN_INT, MAX_INT = -(2**63), 2**64 - 1


def _bounded_int(text: str) -> int:
    """Integers must survive storage unchanged: 64-bit at most (a longer one is refused, not rounded)."""
    if len(text) > 21 or not MIN_INT <= (value := int(text)) <= MAX_INT:
        raise ValueError(f"the integer {text[:30]} does not fit in 64 bits")
    return value


def _finite_float(text: str) -> float:
    """A number beyond a double (``1e400``) would be stored as null or infinity: refuse it."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:30]} is beyond the range of a double")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON value")


# The BOM that json.loads would refuse is refused in parse_body first, with a message of its own.
_DECODER = json.JSONDecoder(parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
JSON_MEDIA_TYPES = "application/json (or application/*+json)"


class UnsupportedMediaType(CratonError):
    status = 415


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _not_json(reason: str) -> InvalidInput:
    return InvalidInput(BAD_REQUEST, f"The body is not valid JSON: {reason}.")


def parse_body(raw: bytes, content_type: str, max_depth: int) -> Any:
    """The request body as JSON (UTF-8, RFC 8259), or None when there is none.

    A body sent as anything but JSON is a 415: silently ignoring it would answer 200
    to a write that changed nothing.
    """
    if not raw:
        return None
    if not is_json(content_type):
        shown = printable(content_type)[:100] if content_type else "missing"
        raise UnsupportedMediaType(
            f"The request body must be sent with Content-Type {JSON_MEDIA_TYPES}; the Content-Type was {shown}."
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raise _not_json("it starts with a byte order mark (BOM), which JSON text must not have")
    try:
        # surrogatepass lets encoded surrogates (ED A0 80) through to check_structure, which names the field
        text = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise _not_json(f"it is not UTF-8 (byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)  # json.loads with these hooks, without building a decoder per body
    except (ValueError, RecursionError) as exc:
        raise _not_json(str(exc)) from None
    check_structure(value, max_depth)
    return value
