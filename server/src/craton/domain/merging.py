"""How the values of one variable key along a chain of owners combine: the one merge.

Every reader that resolves variables (objects and ``.../variables``, lists with
``details``, ``vars`` queries, blame, ``as_of`` and diffs, the Ansible
inventory) goes through :func:`resolve` or :func:`explain`, so they all agree.

A project declares a strategy per top-level key; keys it does not list use
``replace``, Craton v1's rule:

- ``replace``: the nearest level that sets the key wins.
- ``deep``: dictionaries merge recursively, the nearer level winning per leaf;
  a value that is not a dictionary, at any depth, replaces what is below it.
- ``append``: lists concatenate from the farthest level to the nearest; a value
  that is not a list replaces what is below it (and a list above it starts anew).
- ``union``: like ``append``, without duplicates (equal JSON values), keeping the
  order of first appearance.

A *mask* on an owner stops inheritance of a key there: values set farther up
the chain are dropped for that owner and everything below it. The owner's own
value, and values set below it, still count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from craton.storage.owners import OwnerRef

REPLACE: Final = "replace"
DEEP: Final = "deep"
APPEND: Final = "append"
UNION: Final = "union"
STRATEGIES: Final = (REPLACE, DEEP, APPEND, UNION)

Masks = Mapping[OwnerRef, frozenset[str] | set[str]]
Strategies = Mapping[str, str]


class _Absent:
    """Marks a level that contributes nothing to a merged value."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def merging_only(strategies: Mapping[str, str]) -> dict[str, str]:
    """The keys that do not simply ``replace``: the only ones that need more than a dict update."""
    return {key: strategy for key, strategy in strategies.items() if strategy != REPLACE}


Memo = dict[tuple[OwnerRef, ...], dict[str, Any]]


def resolve(
    chain: Sequence[OwnerRef],
    owned: Mapping[OwnerRef, Mapping[str, Any]],
    masks: Masks | None = None,
    strategies: Strategies | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """The resolved variables of the first owner of ``chain`` (nearest first).

    ``owned`` holds each owner's own variables, ``masks`` the keys each owner
    masks, ``strategies`` the project's declaration (``replace`` entries are
    ignored). Resolution is a fold from the farthest owner to the nearest, each
    owner applied on top of what the owners above it resolve to (every strategy
    is associative), so ``memo``, given by a caller that resolves many rows of
    one project against the same ``owned``/``masks``/``strategies``, keeps what
    each shared tail of owners resolves to: the hosts of one cell merge their
    cell, region, cloud and project once.
    """
    if not masks and not strategies:  # Craton v1: the nearest owner that sets a key wins
        resolved: dict[str, Any] = {}
        for owner in reversed(chain):
            own = owned.get(owner)
            if own:
                resolved.update(own)
        return resolved
    if memo is None:  # one row: nearest-wins in C, then only the merged keys, each over its levels
        return _resolve_once(chain, owned, masks, strategies or {})
    resolved, start = {}, len(chain)
    if memo is not None:
        for index in range(1, len(chain)):
            found = memo.get(tuple(chain[index:]))
            if found is not None:
                resolved, start = found, index
                break
    for index in range(start - 1, -1, -1):
        owner = chain[index]
        resolved = _apply(resolved, owned.get(owner), masks.get(owner) if masks else None, strategies)
        if memo is not None and index:
            memo[tuple(chain[index:])] = resolved
    return resolved if start else dict(resolved)


def _resolve_once(
    chain: Sequence[OwnerRef], owned: Mapping[OwnerRef, Mapping[str, Any]], masks: Masks | None, strategies: Strategies
) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    pending: dict[str, list[Any]] = {}
    merged = [(key, strategy) for key, strategy in strategies.items() if strategy != REPLACE]
    for owner in reversed(chain):
        cut = masks.get(owner) if masks else None
        if cut:
            for key in cut:
                resolved.pop(key, None)
                pending.pop(key, None)
        own = owned.get(owner)
        if own:
            resolved.update(own)
            for key, _ in merged:
                if key in own:
                    pending.setdefault(key, []).append(own[key])
    for key, strategy in merged:
        if key in pending:
            resolved[key] = combine(strategy, pending[key])
    return resolved


def _apply(
    below: Mapping[str, Any], own: Mapping[str, Any] | None, cut: Iterable[str] | None, strategies: Strategies | None
) -> dict[str, Any]:
    """One owner's masks and variables on top of what the owners above it resolve to (a new dict)."""
    resolved = dict(below)
    if cut:
        for key in cut:
            resolved.pop(key, None)
    if own:
        merged = [(key, strategy) for key, strategy in (strategies or {}).items() if strategy != REPLACE and key in own]
        inherited = {key: resolved[key] for key, _ in merged if key in resolved}
        resolved.update(own)
        for key, strategy in merged:
            if key in inherited:
                resolved[key] = combine(strategy, (inherited[key], own[key]))
            elif strategy == UNION:
                resolved[key] = combine(strategy, (own[key],))
    return resolved


def levels(chain: Sequence[OwnerRef], key: str, owned: Mapping[OwnerRef, Mapping[str, Any]], masks: Masks | None):
    """The owners whose value of ``key`` counts, nearest first, and the owner whose mask cut the rest (or None)."""
    found: list[OwnerRef] = []
    for owner in chain:
        own = owned.get(owner)
        if own and key in own:
            found.append(owner)
        if masks and key in masks.get(owner, ()):
            return found, owner
    return found, None


def combine(strategy: str, values: Sequence[Any]) -> Any:
    """One key's values, farthest level first, combined by ``strategy``."""
    if len(values) == 1 and strategy != UNION:
        return values[0]
    if strategy == DEEP:  # the hot case (a host on top of its cell's merged value): pairwise
        result = values[0]
        for value in values[1:]:
            result = deep_merge(result, value)
        return result
    return _fold(strategy, values, False)[0]


def deep_merge(below: Any, above: Any) -> Any:
    """``deep`` for two levels: the step of the fold. :func:`contributions` explains the same fold
    for blame, level by level; tests hold the two to the same results."""
    if not (isinstance(below, dict) and isinstance(above, dict)):
        return above
    merged = dict(below)
    for key, value in above.items():
        merged[key] = deep_merge(merged[key], value) if key in merged else value
    return merged


def contributions(strategy: str, values: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The combined value and, per level (farthest first), the part it contributes or :data:`ABSENT`."""
    result, parts = _fold(strategy, values, True)
    return result, parts  # type: ignore[return-value]


def _fold(strategy: str, values: Sequence[Any], with_parts: bool) -> tuple[Any, list[Any] | None]:
    if strategy == DEEP:
        return _deep(values, with_parts)
    if strategy in (APPEND, UNION):
        return _lists(values, strategy == UNION, with_parts)
    return _nearest(values, with_parts)


def _nearest(values: Sequence[Any], with_parts: bool) -> tuple[Any, list[Any] | None]:
    parts = [ABSENT] * (len(values) - 1) + [values[-1]] if with_parts else None
    return values[-1], parts


def _deep(values: Sequence[Any], with_parts: bool) -> tuple[Any, list[Any] | None]:
    start = len(values) - 1
    while start >= 0 and isinstance(values[start], dict):
        start -= 1
    if start >= len(values) - 2:  # the nearest is not a dict, or only one dict above the last non-dict
        return _nearest(values, with_parts)
    segment = range(start + 1, len(values))
    holders: dict[str, list[int]] = {}
    for index in segment:
        for key in values[index]:
            holders.setdefault(key, []).append(index)
    merged: dict[str, Any] = {}
    parts: list[Any] | None = None
    if with_parts:
        parts = [ABSENT] * len(values)
        for index in segment:
            parts[index] = {}
    for key, indexes in holders.items():
        if len(indexes) == 1:
            merged[key] = values[indexes[0]][key]
            if parts is not None:
                parts[indexes[0]][key] = merged[key]
            continue
        merged[key], below = _deep([values[index][key] for index in indexes], with_parts)
        if parts is not None and below is not None:
            for index, part in zip(indexes, below, strict=True):
                if part is not ABSENT and (part != {} or merged[key] == {}):  # nothing left of it: no part
                    parts[index][key] = part
    return merged, parts


def identity(value: Any) -> Any:
    """What makes two JSON values duplicates for ``union``: their canonical JSON text (strings as is)."""
    return value if type(value) is str else orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _lists(values: Sequence[Any], unique: bool, with_parts: bool) -> tuple[Any, list[Any] | None]:
    start = len(values) - 1
    while start >= 0 and isinstance(values[start], list):
        start -= 1
    if start == len(values) - 1:  # the nearest is not a list: it replaces
        return _nearest(values, with_parts)
    if not with_parts:
        merged = [element for index in range(start + 1, len(values)) for element in values[index]]
        if not unique:
            return merged, None
        if all(type(element) is str for element in merged):  # the common case, kept in C
            return list(dict.fromkeys(merged)), None
    parts: list[Any] | None = [ABSENT] * len(values) if with_parts else None
    merged = []
    seen: set[Any] = set()
    for index in range(start + 1, len(values)):
        if unique:
            mine = []
            for element in values[index]:
                marker = identity(element)
                if marker not in seen:
                    seen.add(marker)
                    merged.append(element)
                    mine.append(element)
        else:
            mine = values[index]
            merged.extend(mine)
        if parts is not None:
            parts[index] = mine
    return merged, parts
