"""Create, read, update, delete and list, once for every resource kind.

Each resource module declares a :class:`~craton.domain.kinds.Kind` (its table, its
conflict message, its reference checks); the functions here apply keyset
pagination, uniqueness, history records and initial variables the same way for
all of them. Which rows a caller may touch is :mod:`craton.domain.tenancy`'s
decision; row versions (ETags) are :mod:`craton.domain.versions`'.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.domain import vars_query
from craton.domain.errors import Conflict, InvalidInput
from craton.domain.history import recording as history
from craton.domain.kinds import Kind, Row, authorize
from craton.domain.principal import Principal
from craton.domain.tenancy import get, visible
from craton.domain.variables import matcher
from craton.storage import keyset
from craton.storage import variables as variable_store
from craton.storage.keyset import Ordering, Page, RowPredicate
from craton.storage.prepared import Prepared
from craton.storage.rows import as_row

# ``Page`` is the domain's answer to a list request; HTTP takes it from here, not from storage.
__all__ = ["Page", "PageRequest", "conflicts_as", "create", "delete_row", "get", "list_page", "update"]

DEFAULT_SORT = ("created_at", "id")


@dataclass(frozen=True)
class PageRequest:
    limit: int = 30
    marker: Any = None
    sort_keys: Sequence[str] = DEFAULT_SORT
    sort_dir: str = "asc"


def name_contains(kind: Kind, text: str) -> sa.ColumnElement[bool]:
    """Names (user names for users) containing ``text``, ignoring case; ``%`` and ``_`` are literal."""
    return kind.table.c[kind.info.name_column].icontains(text, autoescape=True)


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
    vars_expression: str | None = None,
    resolved: bool = False,
) -> Page:
    """One page of ``kind`` matching ``where`` (SQL) and ``predicate`` or ``vars_expression`` (Python).

    The caller's role for listing the kind is checked first: a caller who may not list
    it learns nothing else, not even whether the ``vars`` expression parses.
    """
    authorize(principal, kind.info, "list")
    if vars_expression:
        predicate = matcher(conn, principal, kind, vars_query.parse(vars_expression), resolved)
    ordering = ordering_for(kind, page.sort_keys, page.sort_dir)
    stmt = visible(kind, principal).where(*where)
    marker_row = None
    if page.marker is not None:
        found = conn.execute(visible(kind, principal).where(kind.id_column == page.marker)).first()
        if found is None:
            raise InvalidInput(f'Marker "{page.marker}" does not exist')
        marker_row = as_row(found)
    return keyset.fetch_page(conn, stmt, ordering, page.limit, marker_row, predicate)


def inserted_id(result: sa.CursorResult[Any]) -> Any:
    key = result.inserted_primary_key
    assert key is not None, "an INSERT always reports its primary key"
    return key[0]


@contextlib.contextmanager
def conflicts_as(message: str) -> Iterator[None]:
    """Turn a uniqueness violation inside the block into a 409 with ``message``.

    A foreign-key violation is not a name clash: it means a referenced object
    vanished under the request (a concurrent delete), a 400.
    """
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if is_missing_reference(exc):
            raise InvalidInput("An object this request refers to does not exist (any more).") from exc
        raise Conflict(message) from exc


def is_missing_reference(exc: sa.exc.IntegrityError) -> bool:
    """Whether an insert or update pointed at a row that does not exist.

    (A delete refused because something still refers to the row is a
    foreign-key violation too, but a 409: the row is in use.)
    """
    if str(exc.statement or "").lstrip()[:6].upper() not in ("INSERT", "UPDATE"):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23503":  # PostgreSQL foreign_key_violation
        return True
    args = getattr(orig, "args", ())
    if args and args[0] == 1452:  # MariaDB: cannot add or update a child row
        return True
    return "FOREIGN KEY constraint failed" in str(orig)  # SQLite


def create(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    values: dict[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> Row:
    """Insert a row in the caller's project, with its initial variables, in one transaction."""
    authorize(principal, kind.info, "create")
    values = dict(values)
    if kind.name != "project":
        values["project_id"] = principal.project_id
    if kind.device_kind is not None:
        values["kind"] = kind.device_kind
    if kind.check_references is not None:
        kind.check_references(conn, principal, values, None)
    with conflicts_as(kind.conflict_message):
        result = conn.execute(sa.insert(kind.table).values(**values))
    row_id = values.get("id", None) or inserted_id(result)
    row = get(conn, principal, kind, row_id)
    history.record(conn, principal, "create", kind.resource_type, row, new=history.snapshot(row))
    if variables:
        project_id = values["id"] if kind.name == "project" else principal.project_id
        variable_store.upsert(conn, kind.owner(row_id), project_id, variables, principal.username, principal.acted_at)
        history.record(conn, principal, "variables", kind.resource_type, row, old={}, new=dict(variables))
    return row


def update(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: dict[str, Any]) -> Row:
    existing = get(conn, principal, kind, row_id, action="update")
    if not values:
        return existing
    if kind.check_references is not None:
        kind.check_references(conn, principal, values, existing)
    # The row as written comes back with the UPDATE where the database can (SQLite, PostgreSQL):
    # one statement instead of a second read. MariaDB has no UPDATE ... RETURNING.
    returning = conn.dialect.update_returning
    stmt = _update_statement(kind.table, tuple(sorted(values)), returning)
    params = {f"new_{name}": value for name, value in values.items()}
    with conflicts_as(kind.conflict_message):
        params = {**params, "row_id": existing["id"], "at": principal.acted_at}
        found = stmt.first(conn, params) if returning else None
        if not returning:
            stmt.run(conn, params)
    # No row back: deleted by a concurrent transaction since the read above; get() says 404.
    row = found if found is not None else get(conn, principal, kind, row_id)
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


@functools.lru_cache(maxsize=256)
def _update_statement(table: sa.Table, names: tuple[str, ...], returning: bool) -> Prepared:
    """Built and compiled once per table and set of changed columns, run with the values as parameters.

    An ``UPDATE`` with the values written in (``.values(**values)``) is a new statement on
    every request, and building it and its cache key cost about as much CPU as running it;
    compiled once (storage/prepared.py), it also skips ``Connection.execute``'s set-up.
    """
    columns = {name: sa.bindparam(f"new_{name}", type_=table.c[name].type) for name in names}
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({**columns, "updated_at": sa.bindparam("at", type_=table.c.updated_at.type)})
    )
    return Prepared(stmt.returning(*table.c) if returning else stmt)


def delete_row(conn: sa.Connection, principal: Principal, kind: Kind, row: Row, in_use_message: str) -> None:
    """Delete one row and its variables; a remaining reference to it is a 409."""
    owned = variable_store.load_own(conn, kind.owner(row["id"]))
    with conflicts_as(in_use_message):
        conn.execute(sa.delete(kind.table).where(kind.id_column == row["id"]))
    variable_store.delete_owned_by(conn, kind.name, [str(row["id"])])
    history.record(
        conn, principal, "delete", kind.resource_type, row, old={**history.snapshot(row), "variables": owned}
    )
