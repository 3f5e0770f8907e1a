"""Owners of variables: how they are referred to, and their display names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# One owner of variables: its kind ("project", "cloud", ..., "device") and its id as text.
OwnerRef = tuple[str, str]


@dataclass(frozen=True)
class OwnerTable:
    """Where the owners of one kind live: the domain's kind registry supplies these."""

    table: sa.Table
    name_column: sa.Column[Any]
    #: The column telling kinds apart in a shared table; None: the owner kind is the type.
    type_column: sa.Column[Any] | None = None
    #: Whether ids are text (project UUIDs) rather than integers.
    text_ids: bool = False


def describe(
    conn: sa.Connection, owners: Iterable[OwnerRef], tables: Mapping[str, OwnerTable]
) -> dict[OwnerRef, dict[str, Any]]:
    """``{"type", "id", "name"}`` of each owner: one query per owner kind present."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, owner_id in set(owners):
        by_kind[kind].append(owner_id)
    described: dict[OwnerRef, dict[str, Any]] = {}
    for kind, ids in by_kind.items():
        where = tables[kind]
        table = where.table
        kind_column = where.type_column if where.type_column is not None else sa.literal(kind)
        keys = ids if where.text_ids else [int(i) for i in ids]
        stmt = sa.select(table.c.id, where.name_column.label("name"), kind_column.label("type")).where(
            table.c.id.in_(keys)
        )
        for row in conn.execute(stmt).all():
            described[(kind, str(row.id))] = {"type": row.type, "id": row.id, "name": row.name}
    return described
