"""Set-based queries over the device tree (``parent_id`` nesting)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from craton.storage import batches
from craton.storage.tables import devices


def load_ancestor_parents(conn: sa.Connection, start_ids: Iterable[int]) -> dict[int, int | None]:
    """``{device id: parent id}`` for the given devices and all their ancestors, in one query."""
    start_ids = sorted(set(start_ids))
    if not start_ids:
        return {}
    statement = _ANCESTORS[batches.arrays(conn)]
    return {row.id: row.parent_id for row in conn.execute(statement, {"start_ids": start_ids}).all()}


def _ancestors_query(array: bool) -> sa.Select[tuple[int, int | None]]:
    # Built once: the statement is constant (the ids go as one list parameter), so
    # SQLAlchemy compiles it once instead of on every call (the event pump calls it often).
    seed = sa.select(devices.c.id, devices.c.parent_id).where(batches.in_values(devices.c.id, "start_ids", array))
    ancestors = seed.cte("ancestors", recursive=True)
    step = sa.select(devices.c.id, devices.c.parent_id).join(ancestors, devices.c.id == ancestors.c.parent_id)
    ancestors = ancestors.union(step)
    return sa.select(ancestors.c.id, ancestors.c.parent_id)


_ANCESTORS = batches.by_dialect(_ancestors_query)


def descendant_ids_query(root_id: int) -> sa.Select[tuple[int]]:
    """A select of the ids of every device below ``root_id`` (not itself)."""
    seed = sa.select(devices.c.id).where(devices.c.parent_id == root_id)
    tree = seed.cte("descendants", recursive=True)
    tree = tree.union(sa.select(devices.c.id).join(tree, devices.c.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def is_descendant(conn: sa.Connection, candidate_id: int, root_id: int) -> bool:
    query = descendant_ids_query(root_id).subquery()
    return conn.execute(sa.select(sa.exists().where(query.c.id == candidate_id))).scalar_one()


def parent_links(conn: sa.Connection, scope: sa.ColumnElement[bool]) -> dict[int, int | None]:
    """Every nested device's parent within ``scope`` (for fleet-wide resolution)."""
    stmt = sa.select(devices.c.id, devices.c.parent_id).where(devices.c.parent_id.is_not(None), scope)
    return {row.id: row.parent_id for row in conn.execute(stmt).all()}
