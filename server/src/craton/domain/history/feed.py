"""Reading the change history: per resource, as a project feed, and pruning it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from craton.domain import crud, kinds
from craton.domain.crud import Page, PageRequest
from craton.domain.errors import NotFound
from craton.domain.kinds import Kind, KindInfo, Row
from craton.domain.principal import Principal
from craton.storage.rows import as_rows
from craton.storage.tables import changes

ADMIN_ONLY = kinds.admin_only_resource_types()
#: What the feed's ``resource_type`` accepts (``network-device`` too, read as ``network_device``).
RESOURCE_TYPES = tuple(info.resource_type for info in kinds.KINDS)
CHANGES = Kind(KindInfo("change", changes, "changes", "/v1/changes", sortable=frozenset({"id", "occurred_at"})))


def entries_for(conn: sa.Connection, principal: Principal, kind: Kind, resource_id: Any, page: PageRequest) -> Page:
    """One resource's records, keyset-paginated by record id; deleted resources keep theirs.

    A history shows what the object shows, so it needs the role that reads the object.
    """
    kinds.authorize(principal, kind.info, "get")
    resource_id = kind.info.parse_id(resource_id)
    where = [changes.c.resource_type == kind.resource_type, changes.c.resource_id == str(resource_id)]
    result = crud.list_page(conn, principal, CHANGES, page, where)
    if not result.rows and page.marker is None:
        raise NotFound.of(kind.label, resource_id)
    return result


def feed(
    conn: sa.Connection,
    principal: Principal,
    since: int,
    limit: int,
    resource_type: str | None = None,
    username: str | None = None,
) -> list[Row]:
    """The change feed after cursor ``since`` (a record id), oldest first, within the caller's tenancy.

    ``resource_type`` is spelled as records spell it or as URLs do (``network-device``).
    """
    if resource_type is not None:
        spelled = kinds.spelled_resource_types([resource_type], RESOURCE_TYPES, "Invalid query", "resource_type")
        resource_type = spelled[0]
    stmt = sa.select(changes).where(changes.c.id > since, principal.scope(changes.c.project_id))
    if not principal.is_admin:  # project variables and users are admin-only to read, so are their records
        stmt = stmt.where(changes.c.resource_type.not_in(ADMIN_ONLY))
    if resource_type is not None:
        stmt = stmt.where(changes.c.resource_type == resource_type)
    if username is not None:
        stmt = stmt.where(changes.c.username == username)
    return as_rows(conn.execute(stmt.order_by(changes.c.id).limit(limit)).all())


def latest(conn: sa.Connection, principal: Principal, limit: int) -> list[Row]:
    """The newest records the caller may read, newest first (the UI's overview)."""
    stmt = sa.select(changes).where(principal.scope(changes.c.project_id))
    if not principal.is_admin:
        stmt = stmt.where(changes.c.resource_type.not_in(ADMIN_ONLY))
    return as_rows(conn.execute(stmt.order_by(changes.c.id.desc()).limit(limit)).all())


def prune(conn: sa.Connection, older_than: dt.datetime) -> int:
    """Delete records older than the retention window; returns how many went."""
    return conn.execute(sa.delete(changes).where(changes.c.occurred_at < older_than)).rowcount
