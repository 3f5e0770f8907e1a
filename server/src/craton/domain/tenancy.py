"""Hard tenancy: which rows a caller may see. Every query of the service starts here.

Only root crosses projects (docs/decisions.md §3); everyone else sees the rows of
their own project and nothing else, so a foreign id is indistinguishable from a
missing one.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from craton.domain.errors import NotFound
from craton.domain.kinds import Kind, Row, authorize
from craton.domain.principal import Principal
from craton.storage.prepared import Prepared
from craton.storage.rows import as_rows


def visible(kind: Kind, principal: Principal) -> sa.Select[Any]:
    """Every row of ``kind`` the caller may see: the start of every query (hard tenancy)."""
    stmt = sa.select(kind.table).where(principal.scope(kind.project_column()))
    if kind.device_kind is not None:
        stmt = stmt.where(kind.table.c.kind == kind.device_kind)
    return stmt


@functools.lru_cache(maxsize=64)
def _by_id(kind: Kind, scoped: bool, lock: bool = False) -> Prepared:
    """Built and compiled once per kind: the hottest query of the service runs on the driver's cursor."""
    stmt = sa.select(kind.table).where(kind.id_column == sa.bindparam("row_id"))
    if scoped:
        stmt = stmt.where(kind.project_column() == sa.bindparam("scope_project"))
    if kind.device_kind is not None:
        stmt = stmt.where(kind.table.c.kind == kind.device_kind)
    return Prepared(stmt.with_for_update() if lock else stmt)


def get(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, lock: bool = False, action: str = "get"
) -> Row:
    """One row the caller may see, or 404; ``lock`` holds it (``FOR UPDATE``) until the transaction ends.

    Every operation on one object starts here: the caller's role must allow ``action`` on
    the kind (403), then ``row_id`` (as given, text included) must name a visible row (404).

    A write that hangs something off the row (variables, labels) or deletes it
    locks it first, so that it either waits for a concurrent delete and then
    finds the row gone (404), or makes that delete wait and see its result.
    """
    authorize(principal, kind.info, action)
    params = {"row_id": kind.info.parse_id(row_id)}
    if not principal.is_root:
        params["scope_project"] = principal.project_id
    row = _by_id(kind, not principal.is_root, lock).first(conn, params)
    if row is None:
        raise NotFound.of(kind.label, row_id)
    return row


@functools.lru_cache(maxsize=64)
def _touch_by_id(kind: Kind, scoped: bool) -> Prepared:
    """Built and compiled once per kind: :func:`_by_id` as an UPDATE of the version that returns the row."""
    table = kind.table
    stmt = sa.update(table).where(kind.id_column == sa.bindparam("row_id"))
    if scoped:
        stmt = stmt.where(kind.project_column() == sa.bindparam("scope_project"))
    if kind.device_kind is not None:
        stmt = stmt.where(table.c.kind == kind.device_kind)
    return Prepared(stmt.values(updated_at=sa.bindparam("at")).returning(*table.c))


def touch(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, action: str = "get") -> Row | None:
    """Like :func:`get` with ``lock``, moving the row's version (``updated_at``) to the request's time.

    One ``UPDATE ... RETURNING`` where the database has it (SQLite, PostgreSQL): the update
    locks the row until the transaction ends, as ``FOR UPDATE`` would, and returns it as
    written. ``None`` where the database cannot (MariaDB): the caller reads, locks and
    updates in two statements instead. Not found or not visible: 404, nothing written.
    """
    if not conn.dialect.update_returning:
        return None
    authorize(principal, kind.info, action)
    params = {"row_id": kind.info.parse_id(row_id), "at": principal.acted_at}
    if not principal.is_root:
        params["scope_project"] = principal.project_id
    row = _touch_by_id(kind, not principal.is_root).first(conn, params)
    if row is None:
        raise NotFound.of(kind.label, row_id)
    return row


def find(conn: sa.Connection, principal: Principal, kind: Kind, *where: sa.ColumnElement[bool]) -> list[Row]:
    """Every visible row matching ``where``, by id: the ``?id=``/``?name=`` lookups answer them all."""
    authorize(principal, kind.info, "list")
    return as_rows(conn.execute(visible(kind, principal).where(*where).order_by(kind.id_column)))
