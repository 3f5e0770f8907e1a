"""The ``vars`` query language: parsing, and matching with MySQL 5.7 JSON semantics.

``vars=<path>:<json>[,<path>:<json>...]`` (craton-v1-api.md §6.5). Matching runs in
Python rather than in SQL, so SQLite, PostgreSQL and MariaDB give identical
answers; the database only narrows rows by variable key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from craton.domain.errors import InvalidInput

INVALID_PATH = "The query contains an invalid JSON Path expression."
INVALID_VALUE = "An invalid JSON value was specified."
MAX_CONDITIONS = 20

# A step is ("member", name) | ("index", n) | ("members",) | ("elements",)
Step = tuple[Any, ...]

_FIRST_BARE = re.compile(r"[A-Za-z_@][A-Za-z0-9_@-]*")
_LATER_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SELECTOR = re.compile(r"\[(?:(\*)|(\d+))\]")
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    """One ``path:value`` term: variable ``key``, a path inside its value, the wanted value."""

    key: str
    steps: tuple[Step, ...]
    value: Any

    @property
    def has_wildcard(self) -> bool:
        return any(step[0] in ("members", "elements") for step in self.steps)

    def matches(self, stored: Any) -> bool:
        """``JSON_CONTAINS(JSON_EXTRACT(stored, path), value)`` as MySQL 5.7 defines it."""
        nodes = [stored]
        for step in self.steps:
            nodes = [child for node in nodes for child in _children(node, step)]
            if not nodes:
                return False
        target = nodes if self.has_wildcard else nodes[0]
        return contains(target, self.value)


def _children(node: Any, step: Step) -> list[Any]:
    kind = step[0]
    if kind == "member":
        return [node[step[1]]] if isinstance(node, dict) and step[1] in node else []
    if kind == "index":
        return [node[step[1]]] if isinstance(node, list) and step[1] < len(node) else []
    if kind == "elements":
        return list(node) if isinstance(node, list) else []
    return list(node.values()) if isinstance(node, dict) else []


def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


def contains(target: Any, candidate: Any) -> bool:
    """MySQL's JSON_CONTAINS: is ``candidate`` contained in ``target``?"""
    if isinstance(target, list):
        if isinstance(candidate, list):
            return all(contains(target, element) for element in candidate)
        return any(contains(element, candidate) for element in target)
    if isinstance(candidate, list):
        return False
    if isinstance(target, dict):
        return isinstance(candidate, dict) and all(
            key in target and contains(target[key], value) for key, value in candidate.items()
        )
    if isinstance(candidate, dict):
        return False
    return _scalar_equal(target, candidate)


def _path_error(path: str, position: int, reason: str) -> InvalidInput:
    return InvalidInput(INVALID_PATH, f"In {path!r} at position {position}: {reason}.")


def _quoted(path: str, pos: int, quotes: str) -> tuple[str, int]:
    quote = path[pos]
    if quote not in quotes:
        raise _path_error(path, pos, "expected a quoted name")
    end = path.find(quote, pos + 1)
    if end == -1:
        raise _path_error(path, pos, "unterminated quoted name")
    name = path[pos + 1 : end]
    if not name:
        raise _path_error(path, pos, "empty quoted name")
    return name, end + 1


def _selectors(path: str, pos: int, steps: list[Step]) -> int:
    while pos < len(path) and path[pos] == "[":
        found = _SELECTOR.match(path, pos)
        if not found:
            raise _path_error(path, pos, "an array selector must be [N] or [*]")
        steps.append(("elements",) if found.group(1) else ("index", int(found.group(2))))
        pos = found.end()
    return pos


def parse_path(path: str) -> tuple[str, tuple[Step, ...]]:
    """Split ``path`` into the variable key and the steps inside its value."""
    if not path:
        raise _path_error(path, 0, "the path is empty")
    if path[0] in "\"'":
        key, pos = _quoted(path, 0, "\"'")
    else:
        found = _FIRST_BARE.match(path)
        if not found:
            raise _path_error(path, 0, "the first part must be a variable name (quote names that start with a digit)")
        key, pos = found.group(0), found.end()
    steps: list[Step] = []
    pos = _selectors(path, pos, steps)
    while pos < len(path):
        if path[pos] != ".":
            raise _path_error(path, pos, f"unexpected {path[pos]!r}")
        pos += 1
        if pos >= len(path):
            raise _path_error(path, pos, "a name must follow '.'")
        if path[pos] == "*":
            steps.append(("members",))
            pos += 1
        elif path[pos] == '"':
            name, pos = _quoted(path, pos, '"')
            steps.append(("member", name))
        else:
            found = _LATER_BARE.match(path, pos)
            if not found:
                raise _path_error(path, pos, "names after the first must be identifiers or double-quoted")
            steps.append(("member", found.group(0)))
            pos = found.end()
            if pos < len(path) and path[pos] not in ".[":
                raise _path_error(path, pos, f"unexpected {path[pos]!r} (quote names with other characters)")
        pos = _selectors(path, pos, steps)
    return key, tuple(steps)


def parse_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(INVALID_VALUE, f'{text!r} is not JSON; strings need double quotes, e.g. "value".') from None


def parse(query: str) -> list[Condition]:
    """Parse a whole ``vars`` expression; the same path given twice keeps the last value."""
    by_path: dict[str, Condition] = {}
    parts = split_conditions(query)
    if len(parts) > MAX_CONDITIONS:
        raise InvalidInput(f"A vars query may have at most {MAX_CONDITIONS} conditions; this one has {len(parts)}.")
    for part in parts:
        path, colon, value = part.partition(":")
        if not colon:
            raise InvalidInput(INVALID_PATH, f"{part!r} has no ':'; each condition is <path>:<json-value>.")
        key, steps = parse_path(path)
        by_path[path] = Condition(key=key, steps=steps, value=parse_value(value))
    return list(by_path.values())


def split_conditions(query: str) -> list[str]:
    """Split a ``vars`` expression at the commas between conditions.

    A comma inside a double-quoted string (``"a,b"``, with JSON's backslash escapes) or
    inside ``[...]``/``{...}`` belongs to its condition, so ``motd:"hello, world"`` and
    ``tags:["a","b"]`` are one condition each. Every expression that was valid when the
    server split at every comma (v1) splits the same way: a valid condition has no comma.
    """
    parts: list[str] = []
    start = depth = 0
    quoted = escaped = False
    for pos, char in enumerate(query):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(query[start:pos])
            start = pos + 1
    parts.append(query[start:])
    return parts
