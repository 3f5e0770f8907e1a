"""Hierarchical variable resolution, set-based.

Every resource that has parents resolves along a chain of owners, nearest
first; for each top-level key the nearest owner that defines it wins, with no
deep merge (docs/decisions.md §9). Chains are computed from the rows' own columns plus
one ancestor map for nested devices, and all variables of all owners on a page
are read in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from craton.domain import kinds
from craton.storage import variables as variable_store
from craton.storage.devices import load_ancestor_parents
from craton.storage.owners import OwnerRef


def owner_kinds_above(kind: str) -> set[str]:
    above = {owner for owner, _ in kinds.parents_of(kind)}
    if kinds.owner_kind(kind).nested:
        above.add(kind)
    return above


def chain(kind: str, row: Mapping[str, Any], parents: Mapping[int, int | None]) -> list[OwnerRef]:
    """The owners whose variables ``row`` sees, nearest first, itself included."""
    owners: list[OwnerRef] = [(kind, str(row["id"]))]
    if kinds.owner_kind(kind).nested:
        seen = {row["id"]}
        parent = row["parent_id"]
        while parent is not None and parent not in seen:
            owners.append((kind, str(parent)))
            seen.add(parent)
            parent = parents.get(parent)
    for owner_kind, column in kinds.parents_of(kind):
        value = row[column]
        if value is not None:
            owners.append((owner_kind, str(value)))
    return owners


def merge(chain_owners: Iterable[OwnerRef], owned: Mapping[OwnerRef, Mapping[str, Any]]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for owner in reversed(list(chain_owners)):
        resolved.update(owned.get(owner, {}))
    return resolved


def parent_map_for(conn: sa.Connection, kind: str, rows: Iterable[Mapping[str, Any]]) -> dict[int, int | None]:
    """Parents of every ancestor of the given devices (one recursive query, none if unnested)."""
    if not kinds.owner_kind(kind).nested:
        return {}
    starts = {row["parent_id"] for row in rows if row["parent_id"] is not None}
    return load_ancestor_parents(conn, starts) if starts else {}


def variables_for(
    conn: sa.Connection, kind: str, rows: list[Mapping[str, Any]], resolved: bool
) -> dict[Any, dict[str, Any]]:
    """Variables of each row by id: own, or resolved along its chain."""
    if not rows:
        return {}
    parents = parent_map_for(conn, kind, rows) if resolved else {}
    chains = {row["id"]: (chain(kind, row, parents) if resolved else [(kind, str(row["id"]))]) for row in rows}
    owners = {owner for owners in chains.values() for owner in owners}
    owned = variable_store.load(conn, owners)
    return {row_id: merge(owners, owned) for row_id, owners in chains.items()}
