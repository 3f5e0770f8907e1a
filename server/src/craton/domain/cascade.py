"""What a delete removes: one subtree enumeration for the preview and for the delete itself.

Deleting a project, cloud, region or cell removes everything below it (decisions
§13); deleting a device removes its interfaces. :func:`subtree` names, per
resource type, the rows such a delete removes, as one ``SELECT`` per type (no
per-row queries at any size). The preview (``DELETE ...?preview=true``) counts
them; the delete locks them, records a ``delete`` history record for every one
of them, then removes them.

Concurrency: the delete locks the object itself first and then its subtree,
top-down, ``FOR UPDATE``; a create below it share-locks every container it is
placed in (:func:`craton.domain.hierarchy.referenced`), and a variables or
labels write locks its owner. Whichever comes second waits and then sees the
other's committed result: the delete removes the new child with its variables,
or the create finds its parent gone (400). No row can be left behind that
belongs to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.domain import kinds
from craton.domain.crud import conflicts_as
from craton.domain.history import recording as history
from craton.domain.principal import Principal, Role
from craton.storage import variables as variable_store
from craton.storage.rows import Row, as_rows
from craton.storage.tables import devices, network_interfaces, networks

# Public resource type -> (table, owner kind of its variables, preview key), in lock order (top-down).
_TYPES: dict[str, tuple[sa.Table, str, str]] = {
    info.resource_type: (info.table, info.name, info.collection) for info in kinds.KINDS
}
# The kinds every preview names, even at 0 (the contract in docs/api.md): a project's inventory.
PREVIEW_KEYS = tuple(info.collection for info in kinds.KINDS if info.read_role is Role.MEMBER)
# Containers, and the column naming the container in the rows below them.
_CHUNK = 2000
_CONTAINER_COLUMN = {owner: column for info in kinds.KINDS for owner, column in info.parents}
# What a container's subtree holds directly (by its column); parts come with their whole.
_BELOW = tuple(info.resource_type for info in kinds.KINDS if info.part_of is None and info is not kinds.PROJECT)
_PARTS = tuple(info for info in kinds.KINDS if info.part_of is not None)


def _where(rtype: str, condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
    info = kinds.by_resource_type(rtype)
    stmt = sa.select(info.table).where(condition)
    if info.device_kind is not None:
        stmt = stmt.where(info.table.c.kind == info.device_kind)
    return stmt


def subtree(root_type: str, root_id: Any) -> dict[str, sa.Select[Any]]:
    """Per resource type, a select of the rows deleting ``root_type`` ``root_id`` removes (the root included).

    ``root_type`` is a public resource type (``region``, ``host``...). The
    selects are ordered top-down, the order in which a delete locks them.
    """
    table = _TYPES[root_type][0]
    found: dict[str, sa.Select[Any]] = {root_type: _where(root_type, table.c.id == root_id)}
    column = _CONTAINER_COLUMN.get(root_type)
    if column is not None:
        for rtype in _BELOW:
            below = _TYPES[rtype][0]
            if rtype != root_type and column in below.c:
                found[rtype] = _where(rtype, below.c[column] == root_id)
    root_kind = _TYPES[root_type][1]
    for part in _PARTS:
        assert part.part_of is not None
        whole, link = part.part_of
        whole_table = kinds.owner_kind(whole).table
        if column is not None and column in whole_table.c:
            whole_ids = sa.select(whole_table.c.id).where(whole_table.c[column] == root_id)
            found[part.resource_type] = _where(part.resource_type, part.table.c[link].in_(whole_ids))
        elif root_kind == whole:
            found[part.resource_type] = _where(part.resource_type, part.table.c[link] == root_id)
    return found


def counts(conn: sa.Connection, root_type: str, root_id: Any) -> dict[str, int]:
    """How many objects of each kind deleting the root removes, the root included (one query)."""
    selects = subtree(root_type, root_id)
    columns = [
        sa.select(sa.func.count()).select_from(stmt.subquery()).scalar_subquery().label(_TYPES[rtype][2])
        for rtype, stmt in selects.items()
    ]
    row = conn.execute(sa.select(*columns)).one()._mapping
    result = dict.fromkeys(PREVIEW_KEYS, 0)
    result.update({str(key): int(value) for key, value in row.items()})
    return result


@dataclass
class Removal:
    """The rows a delete removes, locked, with their variables, ready to be recorded."""

    root_type: str
    root: Row
    rows: dict[str, list[Row]]
    variables: dict[tuple[str, str], dict[str, Any]]

    def counts(self) -> dict[str, int]:
        result = dict.fromkeys(PREVIEW_KEYS, 0)
        result.update({_TYPES[rtype][2]: len(rows) for rtype, rows in self.rows.items()})
        return result

    def owners(self, rtype: str) -> list[str]:
        return [str(row["id"]) for row in self.rows.get(rtype, [])]


def lock(conn: sa.Connection, root_type: str, root: Row) -> Removal:
    """Lock the root's subtree top-down (``FOR UPDATE``) and read it with its variables.

    Each select is its own statement, so on READ COMMITTED a child committed by
    a create that held a share lock on a container before the delete locked it
    is seen by the later selects. Once every row is locked, no other writer can
    add a child or a variable below the root until this transaction ends.
    """
    selects = subtree(root_type, root["id"])
    rows: dict[str, list[Row]] = {}
    for rtype, stmt in selects.items():
        rows[rtype] = [dict(row) for row in conn.execute(stmt.with_for_update()).mappings()]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if _joins_badly(conn):
        owners = [(_TYPES[rtype][1], str(row["id"])) for rtype, listed in rows.items() for row in listed]
        found.update(variable_store.load(conn, owners))
    else:
        for owner_kind, ids in _owner_ids(selects).items():
            found.update(variable_store.load_selected(conn, owner_kind, ids))
    return Removal(root_type, root, rows, found)


def _joins_badly(conn: sa.Connection) -> bool:
    """MariaDB runs ``owner_id IN (SELECT CAST(id AS CHAR) ...)`` as a scan per row (seconds per
    thousand owners): there the ids already read are sent as lists instead."""
    return conn.dialect.name in ("mysql", "mariadb")


def _owner_ids(selects: dict[str, sa.Select[Any]]) -> dict[str, sa.Select[Any]]:
    """Per owner kind of variables, a select of the removed owners' ids as text."""
    by_kind: dict[str, list[sa.Select[Any]]] = {}
    for rtype, stmt in selects.items():
        owner_kind = _TYPES[rtype][1]
        by_kind.setdefault(owner_kind, []).append(sa.select(sa.cast(stmt.subquery().c.id, sa.String(36)).label("id")))
    return {
        kind: stmts[0] if len(stmts) == 1 else sa.select(sa.union_all(*stmts).subquery().c.id)
        for kind, stmts in by_kind.items()
    }


def record(conn: sa.Connection, principal: Principal, removal: Removal) -> int | None:
    """One ``delete`` record per removed object, the root's first; the others point at it (``cascade_of``)."""
    root_owner = (_TYPES[removal.root_type][1], str(removal.root["id"]))
    top = history.record(
        conn,
        principal,
        "delete",
        removal.root_type,
        removal.root,
        old={**history.snapshot(removal.root), "variables": removal.variables.get(root_owner, {})},
    )
    cascaded = [
        (
            rtype,
            row,
            {**history.snapshot(row), "variables": removal.variables.get((_TYPES[rtype][1], str(row["id"])), {})},
            None,
        )
        for rtype, found in removal.rows.items()
        for row in found
        if (_TYPES[rtype][1], str(row["id"])) != root_owner
    ]
    history.record_many(conn, principal, "delete", cascaded, cascade_of=top)
    return top


def remove_variables(conn: sa.Connection, removal: Removal) -> None:
    """Drop the variables of every removed object (one statement per owner kind, before the rows go)."""
    if removal.root_type == "project":
        variable_store.delete_project(conn, str(removal.root["id"]))
        return
    if _joins_badly(conn):
        by_kind: dict[str, list[str]] = {}
        for rtype in removal.rows:
            by_kind.setdefault(_TYPES[rtype][1], []).extend(removal.owners(rtype))
        for owner_kind, listed in by_kind.items():
            for start in range(0, len(listed), _CHUNK):
                variable_store.delete_owned_by(conn, owner_kind, listed[start : start + _CHUNK])
        return
    for owner_kind, ids in _owner_ids(subtree(removal.root_type, removal.root["id"])).items():
        variable_store.delete_owned_by(conn, owner_kind, ids)


def delete(
    conn: sa.Connection, principal: Principal, root_type: str, root: Row, in_use_message: str, preview: bool = False
) -> dict[str, int]:
    """Delete ``root`` (already read, locked unless previewing) with its subtree; returns the counts.

    With ``preview`` nothing is written: the counts are those the delete would remove.
    """
    if preview:
        return counts(conn, root_type, root["id"])
    removal = lock(conn, root_type, root)
    top = record(conn, principal, removal)
    _cut_links(conn, principal, removal, top)
    # Every row below is locked: nobody can add a variable to them any more.
    remove_variables(conn, removal)
    table = _TYPES[root_type][0]
    with conflicts_as(in_use_message):
        conn.execute(sa.delete(table).where(table.c.id == root["id"]))
    return removal.counts()


def _cut_links(conn: sa.Connection, principal: Principal, removal: Removal, top: int | None) -> None:
    """Unlink device nesting inside a container's subtree and interfaces from its networks.

    The database cascade can then remove the rows in any order. An interface
    outside the subtree that used a removed network keeps existing without it:
    that is an update, recorded as one. (A device or network delete has
    nothing to cut: it is refused while children or interfaces use it.)
    """
    column = _CONTAINER_COLUMN.get(removal.root_type)
    if column is None:
        return
    root_id = removal.root["id"]
    in_subtree = devices.c[column] == root_id
    conn.execute(sa.update(devices).where(in_subtree, devices.c.parent_id.is_not(None)).values(parent_id=None))
    if not removal.rows.get("network"):
        return
    using = network_interfaces.c.network_id.in_(sa.select(networks.c.id).where(networks.c[column] == root_id))
    outside = sa.select(network_interfaces).where(
        using, network_interfaces.c.device_id.not_in(sa.select(devices.c.id).where(in_subtree))
    )
    updated = as_rows(conn.execute(outside.with_for_update()).all())
    conn.execute(sa.update(network_interfaces).where(using).values(network_id=None))
    if updated:
        conn.execute(
            sa.update(network_interfaces)
            .where(network_interfaces.c.id.in_([row["id"] for row in updated]))
            .values(updated_at=principal.acted_at)
        )
    history.record_many(
        conn,
        principal,
        "update",
        [("network_interface", row, {"network_id": row["network_id"]}, {"network_id": None}) for row in updated],
        cascade_of=top,
    )
