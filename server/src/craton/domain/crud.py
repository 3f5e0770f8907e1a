"""Create, read, update, delete and list, once for every resource kind.

Each resource module declares a :class:`Kind` (its table, its conflict message,
its reference checks); the functions here apply tenancy, keyset pagination,
uniqueness and variable handling the same way for all of them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import history
from craton.domain.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from craton.domain.principal import Principal
from craton.storage import keyset
from craton.storage import variables as variable_store
from craton.storage.keyset import Ordering, Page, RowPredicate

Row = Mapping[str, Any]
ReferenceCheck = Callable[[sa.Connection, Principal, dict[str, Any], Row | None], None]
Deleter = Callable[[sa.Connection, Principal, Any], None]
DEFAULT_SORT = ("created_at", "id")
_HIDDEN_COLUMNS = {"kind", "api_key_hash", "is_root"}


@dataclass(frozen=True)
class Kind:
    """What the generic operations need to know about one resource type."""

    name: str
    table: sa.Table
    conflict_message: str
    device_kind: str | None = None
    check_references: ReferenceCheck | None = None
    sortable: frozenset[str] = field(default=frozenset())

    @property
    def id_column(self) -> sa.Column[Any]:
        return self.table.c.id

    def sort_columns(self) -> frozenset[str]:
        return self.sortable or frozenset(c.name for c in self.table.c if c.name not in _HIDDEN_COLUMNS)

    def project_column(self) -> sa.Column[Any]:
        return self.table.c.id if self.name == "project" else self.table.c.project_id

    def owner(self, row_id: Any) -> tuple[str, str]:
        return (self.name, str(row_id))

    @property
    def resource_type(self) -> str:
        return history.resource_type(self.name, self.device_kind)


@dataclass(frozen=True)
class PageRequest:
    limit: int = 30
    marker: Any = None
    sort_keys: Sequence[str] = DEFAULT_SORT
    sort_dir: str = "asc"


def visible(kind: Kind, principal: Principal) -> sa.Select[Any]:
    """Every row of ``kind`` the caller may see: the start of every query (hard tenancy)."""
    stmt = sa.select(kind.table).where(principal.scope(kind.project_column()))
    if kind.device_kind is not None:
        stmt = stmt.where(kind.table.c.kind == kind.device_kind)
    return stmt


@functools.lru_cache(maxsize=64)
def _by_id(kind: Kind, scoped: bool) -> sa.Select[Any]:
    """Built once per kind: the hottest query of the service skips statement construction."""
    stmt = sa.select(kind.table).where(kind.id_column == sa.bindparam("row_id"))
    if scoped:
        stmt = stmt.where(kind.project_column() == sa.bindparam("scope_project"))
    if kind.device_kind is not None:
        stmt = stmt.where(kind.table.c.kind == kind.device_kind)
    return stmt


def get(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> Row:
    """One row the caller may see, or 404."""
    params = {"row_id": row_id}
    if not principal.is_root:
        params["scope_project"] = principal.project_id
    row = conn.execute(_by_id(kind, not principal.is_root), params).first()
    if row is None:
        raise NotFound()
    return row._mapping


def ordering_for(kind: Kind, sort_keys: Sequence[str], sort_dir: str) -> Ordering:
    allowed = kind.sort_columns()
    names: list[str] = []
    for key in sort_keys:
        if key not in allowed:
            raise InvalidInput(f'"{key}" is an invalid sort key')
        if key not in names:
            names.append(key)
    if "id" not in names:
        names.append("id")
    return Ordering(columns=tuple(kind.table.c[name] for name in names), descending=sort_dir == "desc")


def list_page(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    page: PageRequest,
    where: Sequence[sa.ColumnElement[bool]] = (),
    predicate: RowPredicate | None = None,
) -> Page:
    """One page of ``kind`` matching ``where`` (SQL) and ``predicate`` (Python, for ``vars``)."""
    ordering = ordering_for(kind, page.sort_keys, page.sort_dir)
    stmt = visible(kind, principal).where(*where)
    marker_row = None
    if page.marker is not None:
        marker_row = conn.execute(visible(kind, principal).where(kind.id_column == page.marker)).first()
        if marker_row is None:
            raise InvalidInput(f'Marker "{page.marker}" does not exist')
        marker_row = marker_row._mapping
    return keyset.fetch_page(conn, stmt, ordering, page.limit, marker_row, predicate)


@contextlib.contextmanager
def conflicts_as(message: str) -> Iterator[None]:
    """Turn a constraint violation inside the block into a 409 with ``message``."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise Conflict(message) from exc


def create(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    values: dict[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> Row:
    """Insert a row in the caller's project, with its initial variables, in one transaction."""
    values = dict(values)
    if kind.name != "project":
        values["project_id"] = principal.project_id
    if kind.device_kind is not None:
        values["kind"] = kind.device_kind
    if kind.check_references is not None:
        kind.check_references(conn, principal, values, None)
    with conflicts_as(kind.conflict_message):
        result = conn.execute(sa.insert(kind.table).values(**values))
    row_id = values.get("id", None) or result.inserted_primary_key[0]
    row = get(conn, principal, kind, row_id)
    history.record(conn, principal, "create", kind.resource_type, row, new=history.snapshot(row))
    if variables:
        project_id = values["id"] if kind.name == "project" else principal.project_id
        variable_store.upsert(conn, kind.owner(row_id), project_id, variables, principal.username, principal.acted_at)
        history.record(conn, principal, "variables", kind.resource_type, row, old={}, new=dict(variables))
    return row


def update(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: dict[str, Any]) -> Row:
    existing = get(conn, principal, kind, row_id)
    if not values:
        return existing
    if kind.check_references is not None:
        kind.check_references(conn, principal, values, existing)
    with conflicts_as(kind.conflict_message):
        conn.execute(
            sa.update(kind.table)
            .where(kind.id_column == existing["id"])
            .values(**values, updated_at=principal.acted_at)
        )
    row = get(conn, principal, kind, row_id)
    changed = {name for name in values if existing[name] != row[name]}
    if changed:
        history.record(
            conn,
            principal,
            "update",
            kind.resource_type,
            row,
            old={str(name): existing[name] for name in sorted(changed)},
            new={str(name): row[name] for name in sorted(changed)},
        )
    return row


def version_tag(kind: Kind, row: Row) -> str:
    """An ETag for the row's current version; variables and labels changes move it too."""
    stamp = row["updated_at"] or row["created_at"]
    digest = hashlib.sha256(f"{kind.name}:{row['id']}:{stamp.isoformat()}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def check_version(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, if_match: str) -> None:
    """Honour ``If-Match``: 412 unless the row is still at one of the given versions.

    The comparison and a version bump happen in one conditional UPDATE, so two
    writers holding the same ETag cannot both pass.
    """
    row = get(conn, principal, kind, row_id)
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" in tags:
        return
    if version_tag(kind, row) not in tags:
        raise PreconditionFailed("The resource changed since it was read: its ETag no longer matches If-Match.")
    table = kind.table
    stamp = row["updated_at"] or row["created_at"]
    claimed = conn.execute(
        sa.update(table)
        .where(kind.id_column == row["id"], sa.func.coalesce(table.c.updated_at, table.c.created_at) == stamp)
        .values(updated_at=principal.acted_at)
    )
    if claimed.rowcount != 1:
        raise PreconditionFailed("The resource changed since it was read: its ETag no longer matches If-Match.")


def touch(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> None:
    """Record that something hanging off the row (variables, labels) changed."""
    conn.execute(sa.update(kind.table).where(kind.id_column == row_id).values(updated_at=principal.acted_at))


def delete_row(conn: sa.Connection, principal: Principal, kind: Kind, row: Row, in_use_message: str) -> None:
    """Delete one row and its variables; a remaining reference to it is a 409."""
    owned = variable_store.load_own(conn, kind.owner(row["id"]))
    with conflicts_as(in_use_message):
        conn.execute(sa.delete(kind.table).where(kind.id_column == row["id"]))
    variable_store.delete_owned_by(conn, kind.name, [str(row["id"])])
    history.record(
        conn, principal, "delete", kind.resource_type, row, old={**history.snapshot(row), "variables": owned}
    )
