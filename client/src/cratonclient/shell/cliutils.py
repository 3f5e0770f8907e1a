"""Small parsing helpers shared by every command (values typed on the command line)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from cratonclient.shell.errors import UsageError

_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})
_NULL = frozenset({"null", "none"})


def env(environ: Mapping[str, str], *names: str, default: str = "") -> str:
    """First non-empty environment variable among ``names``: empty values count as unset."""
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return default


def parse_bool(text: str) -> bool:
    """Strict boolean for flags such as ``--active false``; argparse turns the error into exit 2."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (true/false, yes/no, 1/0), got {text!r}")


parse_bool.__name__ = "boolean"  # argparse names the type in its error message


def convert_arg_value(text: str) -> Any:
    """Give ``key=value`` values a JSON type the way the original CLI did.

    ``"7"`` (quoted) stays the string ``7``; otherwise integers, booleans, null and floats are
    recognised, and anything else is a string. Scripts rely on these exact rules.
    """
    if text.startswith('"'):
        return text[1:-1] if len(text) > 1 and text.endswith('"') else text[1:]
    try:
        return int(text)
    except ValueError:
        pass
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if lowered in _NULL:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def parse_assignments(pairs: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Split ``k=v`` arguments into values to set and keys to delete (``k=`` with no value)."""
    updates: dict[str, Any] = {}
    deletions: list[str] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected KEY=VALUE, got {pair!r}")
        if value == "":
            deletions.append(key)
            updates.pop(key, None)
        else:
            updates[key] = convert_arg_value(value)
            if key in deletions:
                deletions.remove(key)
    return updates, deletions


def load_json(text: str, expected: type, what: str) -> Any:
    """Parse JSON read from stdin, insisting on the shape the command needs."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"stdin is not valid JSON ({exc}); expected {what}") from None
    if not isinstance(value, expected):
        raise UsageError(f"stdin holds JSON {type(value).__name__}; expected {what}")
    return value


def split_list(values: Iterable[str] | None) -> list[str]:
    """Accept ``--fields a b``, ``--fields a,b`` and repeated flags alike."""
    result: list[str] = []
    for value in values or ():
        result.extend(part.strip() for part in value.split(",") if part.strip())
    return result


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts such as ``--limit``: 1 or more."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


positive_int.__name__ = "positive integer"  # shown by argparse in "invalid ... value"
