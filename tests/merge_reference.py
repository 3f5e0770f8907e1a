"""The reference semantics of merge strategies and masks, written independently of the server.

Tests compare every endpoint that resolves variables against :func:`reference_resolve`. It is
written the slow, obvious way (one key at a time, a fold over the levels from the farthest to
the nearest) so that it can be checked by eye against docs/variables.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _deep(below: Any, above: Any) -> Any:
    if isinstance(below, dict) and isinstance(above, dict):
        merged = dict(below)
        for key, value in above.items():
            merged[key] = _deep(below[key], value) if key in below else value
        return merged
    return above


def fold(strategy: str, values: Sequence[Any]) -> Any:
    """Combine one key's values, farthest level first."""
    result = values[0]
    if strategy == "union" and isinstance(result, list):
        result = _unique(result)
    for value in values[1:]:
        if strategy == "deep":
            result = _deep(result, value)
        elif strategy in ("append", "union") and isinstance(result, list) and isinstance(value, list):
            result = result + value
            if strategy == "union":
                result = _unique(result)
        elif strategy == "union" and isinstance(value, list):
            result = _unique(value)
        else:
            result = value
    return result


def _unique(items: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if not any(_same(item, seen) for seen in kept):
            kept.append(item)
    return kept


def reference_resolve(
    levels: Sequence[tuple[Mapping[str, Any], set[str] | frozenset[str]]], strategies: Mapping[str, str]
) -> dict[str, Any]:
    """``levels``: (own variables, own masks) of each owner, nearest first."""
    keys = {key for own, _ in levels for key in own}
    resolved: dict[str, Any] = {}
    for key in keys:
        values: list[Any] = []
        for own, masks in levels:  # nearest first, stopping at the first mask of the key
            if key in own:
                values.append(own[key])
            if key in masks:
                break
        if values:
            resolved[key] = fold(strategies.get(key, "replace"), list(reversed(values)))
    return resolved
