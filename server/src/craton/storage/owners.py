"""Which table holds each owner kind of variables, and their display names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from craton.storage.tables import cells, clouds, devices, network_interfaces, networks, projects, regions, users

# One owner of variables: its kind ("project", "cloud", ..., "device") and its id as text.
OwnerRef = tuple[str, str]
OWNER_TABLES: dict[str, sa.Table] = {
    "project": projects,
    "cloud": clouds,
    "region": regions,
    "cell": cells,
    "device": devices,
    "network": networks,
    "network_interface": network_interfaces,
    "user": users,
}


def describe(conn: sa.Connection, owners: Iterable[OwnerRef]) -> dict[OwnerRef, dict[str, Any]]:
    """``{"type", "id", "name"}`` of each owner: one query per owner kind present."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, owner_id in set(owners):
        by_kind[kind].append(owner_id)
    described: dict[OwnerRef, dict[str, Any]] = {}
    for kind, ids in by_kind.items():
        table = OWNER_TABLES[kind]
        name = table.c.username if kind == "user" else table.c.name
        kind_column = table.c.kind if kind == "device" else sa.literal(kind)
        keys = ids if kind == "project" else [int(i) for i in ids]
        stmt = sa.select(table.c.id, name.label("name"), kind_column.label("type")).where(table.c.id.in_(keys))
        for row in conn.execute(stmt).all():
            described[(kind, str(row.id))] = {"type": row.type, "id": row.id, "name": row.name}
    return described
