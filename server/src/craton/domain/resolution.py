"""Hierarchical variable resolution, set-based.

Every resource that has parents resolves along a chain of owners, nearest
first. How the values of one key along a chain combine is :mod:`craton.domain.merging`:
by default the nearest owner that defines the key wins (docs/decisions.md §9); a project
may declare other strategies per key, and owners may mask keys. Chains are
computed from the rows' own columns plus one ancestor map for nested devices,
and the variables and masks of all owners on a page, with the strategies of
their projects, are read in one query.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import kinds, merging
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


def project_of(kind: str, row: Mapping[str, Any]) -> str:
    return str(row["id"] if kind == "project" else row["project_id"])


def parent_map_for(conn: sa.Connection, kind: str, rows: Iterable[Mapping[str, Any]]) -> dict[int, int | None]:
    """Parents of every ancestor of the given devices (one recursive query, none if unnested)."""
    if not kinds.owner_kind(kind).nested:
        return {}
    starts = {row["parent_id"] for row in rows if row["parent_id"] is not None}
    return load_ancestor_parents(conn, starts) if starts else {}


@dataclass
class Inputs:
    """What resolving a set of rows needs: their chains, and the owners' variables, masks and strategies."""

    chains: dict[Any, list[OwnerRef]]
    projects: dict[Any, str]
    owned: Mapping[OwnerRef, Mapping[str, Any]]
    masks: Mapping[OwnerRef, set[str]]
    strategies: Mapping[str, Mapping[str, str]]

    memos: dict[str, merging.Memo] = field(default_factory=dict)

    def resolve(self, row_id: Any) -> dict[str, Any]:
        project = self.projects[row_id]
        strategies = self.strategies.get(project)
        memo = self.memos.setdefault(project, {}) if strategies or self.masks else None
        return merging.resolve(self.chains[row_id], self.owned, self.masks, strategies, memo)

    def own_masks(self, kind: str, row_id: Any) -> list[str]:
        return sorted(self.masks.get((kind, str(row_id)), ()))


def inputs_for(
    conn: sa.Connection, kind: str, rows: list[Mapping[str, Any]], resolved: bool, keys: Collection[str] | None = None
) -> Inputs:
    """Read what resolving ``rows`` needs (own variables only, unless ``resolved``): one query for a page.

    ``keys``: only those keys (the others' rows are not read; see ``load_for_resolution``).
    """
    parents = parent_map_for(conn, kind, rows) if resolved else {}
    chains = {row["id"]: (chain(kind, row, parents) if resolved else [(kind, str(row["id"]))]) for row in rows}
    projects = {row["id"]: project_of(kind, row) for row in rows}
    owners = {owner for owners in chains.values() for owner in owners}
    owned, masks, strategies = variable_store.load_for_resolution(
        conn, owners, projects.values() if resolved else (), keys
    )
    return Inputs(chains, projects, owned, masks, strategies)


def variables_for(
    conn: sa.Connection, kind: str, rows: list[Mapping[str, Any]], resolved: bool
) -> dict[Any, dict[str, Any]]:
    """Variables of each row by id: own, or resolved along its chain."""
    if not rows:
        return {}
    inputs = inputs_for(conn, kind, rows, resolved)
    return {row["id"]: inputs.resolve(row["id"]) for row in rows}
