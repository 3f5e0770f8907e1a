"""Whole use cases on objects of every kind, whoever asks (API, web UI, import, preview).

Writes (create, update, delete) do the complete operation in the caller's transaction: the
role check, the version check (``If-Match``), the per-kind rules (a device's labels and
moves, a cell's move, a project's id) and the history records. The callers hand over plain
values and get back the row as it is now; they never dispatch on the kind themselves.
What is per kind is declared once, on the kind (``Kind.create``/``update``/``delete``), not here.

Reads (read, read_page, lookup) and the writes that answer with the object
(create_item, update_item) return read models (``domain/readmodel.py``): the rows with
everything their representation shows (variables, blame, labels, parent kinds, the
version), each part loaded in a fixed number of queries for a whole page. HTTP and the
web UI render those without a database connection of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import crud, devices, readmodel, tenancy, vars_query, versions
from craton.domain import variables as variable_domain
from craton.domain.crud import Page, PageRequest
from craton.domain.errors import InvalidInput, NotFound
from craton.domain.kinds import Kind, Row, authorize
from craton.domain.principal import Principal
from craton.domain.readmodel import Item, Listing, Show

#: A read of the object's fields (and a device's labels and up link) only.
FIELDS_ONLY = Show()
#: The rows alone: nothing loaded beside them.
ROWS_ONLY = Show(labels=False, links=False)
#: A read with the object's own variables.
OWN_VARIABLES = Show(variables=True)


def create(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    values: Mapping[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> Row:
    """Create one object with its initial variables (and, for devices, its ``labels``)."""
    given = dict(variables) if variables is not None else None
    if kind.create is not None:
        return kind.create(conn, principal, kind, dict(values), given)
    return crud.create(conn, principal, kind, dict(values), given)


def update(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row_id: Any,
    values: Mapping[str, Any],
    if_match: str | None = None,
    *,
    with_children: bool = False,
) -> Row:
    """Change fields of one object; a new place moves it (and, for a cell, what is in it).

    ``if_match``: the versions the caller read; any other current version is a 412 and
    nothing changes. ``with_children``: a device's move takes the child devices sharing
    its place along (otherwise such a move is refused).
    """
    if if_match:
        versions.check_version(conn, principal, kind, row_id, if_match)
    if kind.update is not None:
        return kind.update(conn, principal, kind, row_id, dict(values), with_children)
    return crud.update(conn, principal, kind, row_id, dict(values))


def delete(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row_id: Any,
    if_match: str | None = None,
    *,
    preview: bool = False,
) -> dict[str, int]:
    """Delete one object and what goes with it; how many of each kind went.

    ``preview``: count what would go and write nothing (``if_match`` is not checked then).
    """
    if kind.delete is None:
        raise InvalidInput(f"Objects of kind {kind.resource_type} cannot be deleted.")
    if if_match and not preview:
        versions.check_version(conn, principal, kind, row_id, if_match, "delete")
    return kind.delete(conn, principal, kind, row_id, preview)


def create_item(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    values: Mapping[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> Item:
    """:func:`create`, answered as a read shows the new object (its variables are the given ones)."""
    given = dict(variables or {})
    row = create(conn, principal, kind, values, given)
    return _item(conn, kind, row, FIELDS_ONLY, given)


def update_item(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row_id: Any,
    values: Mapping[str, Any],
    if_match: str | None = None,
    *,
    with_children: bool = False,
) -> Item:
    """:func:`update`, answered as a read shows the object (without its variables)."""
    row = update(conn, principal, kind, row_id, values, if_match, with_children=with_children)
    return _item(conn, kind, row, FIELDS_ONLY)


def read(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, show: Show = OWN_VARIABLES) -> Item:
    """One object the caller may read (404 otherwise), with what ``show`` asks for and its version."""
    return _item(conn, kind, tenancy.get(conn, principal, kind, row_id), show)


def _item(
    conn: sa.Connection, kind: Kind, row: Row, show: Show, given_variables: Mapping[str, Any] | None = None
) -> Item:
    details = readmodel.load(conn, kind, [row], show, given_variables)
    return Item(row, details, versions.version_tag(kind, row))


#: How many objects defining a searched variable key a search page considers, at most.
MATCHING_OWNERS = 400


@dataclass(frozen=True)
class Matching:
    """A search: objects whose name contains ``text``, whose address is ``text``, that carry it as
    a label, or whose own variables define ``key`` (with a value matching ``condition``, if given).
    """

    text: str
    key: str = ""
    condition: vars_query.Condition | None = None

    @classmethod
    def parse(cls, text: str) -> Matching:
        """``key`` or ``key=value`` (the value as JSON, else as a string); a bad one is a 400."""
        if "=" not in text:
            return cls(text, text)
        key, _, value = (part.strip() for part in text.partition("="))
        try:
            json.loads(value)
            literal = value
        except ValueError:
            literal = json.dumps(value)
        return cls(text, key, vars_query.parse(f"{key}:{literal}")[0])


@dataclass(frozen=True)
class ListQuery:
    """One list request of any kind, in the domain's terms: which rows, which page, what shown.

    ``vars`` is matched against resolved values when ``show.resolved`` (as the variables
    shown are). The device filters (``labels``, ``ip_address``, ``parent_id``) apply to
    kinds with labels (hosts, network devices, all devices) only.
    """

    page: PageRequest = PageRequest()
    #: column name -> value the column must equal
    equal: Mapping[str, Any] = field(default_factory=dict)
    #: names (user names for users) containing this text, ignoring case
    name_contains: str | None = None
    vars: str | None = None
    #: devices carrying every one of these labels
    labels: Sequence[str] = ()
    #: devices with this address, compared in normal form ('::0001' finds '::1')
    ip_address: str | None = None
    #: devices whose parent is this one, or with ``descendants`` its whole subtree (which must exist)
    parent_id: int | None = None
    descendants: bool = False
    #: a search (the web UI's search box), in any of the ways :class:`Matching` says
    matching: Matching | None = None
    show: Show = Show()


def read_page(conn: sa.Connection, principal: Principal, kind: Kind, query: ListQuery) -> Listing:
    """One page of ``kind`` the caller may list: filters, ``vars``, keyset pagination, details.

    Every kind the same way, hosts and network devices together too (``devices.ANY_DEVICE``).
    """
    authorize(principal, kind.info, "list")
    page = crud.list_page(
        conn,
        principal,
        kind,
        query.page,
        _where(conn, principal, kind, query),
        vars_expression=query.vars,
        resolved=query.show.resolved,
    )
    return Listing(page, readmodel.load(conn, kind, page.rows, query.show))


def _where(conn: sa.Connection, principal: Principal, kind: Kind, query: ListQuery) -> list[sa.ColumnElement[bool]]:
    table = kind.table
    where = [table.c[column] == value for column, value in query.equal.items()]
    if query.name_contains:
        where.append(crud.name_contains(kind, query.name_contains))
    device_filters = query.labels or query.ip_address is not None or query.parent_id is not None
    if device_filters and not kind.info.has_labels:
        raise InvalidInput(f"Objects of kind {kind.resource_type} have no labels, addresses or parents to filter on.")
    if query.labels:
        where.append(devices.label_filter(query.labels))
    if query.ip_address is not None:
        where.append(devices.ip_address_filter(query.ip_address))
    if query.parent_id is not None:
        if query.descendants:
            devices.require_parent_visible(conn, principal, query.parent_id)
        where.append(devices.descendants_filter(query.parent_id, recursive=query.descendants))
    if query.matching is not None:
        where.append(_matching(conn, principal, kind, query.matching))
    return where


def _matching(conn: sa.Connection, principal: Principal, kind: Kind, matching: Matching) -> sa.ColumnElement[bool]:
    table = kind.table
    options: list[sa.ColumnElement[bool]] = [crud.name_contains(kind, matching.text)]
    if "ip_address" in table.c:
        options.append(table.c.ip_address == matching.text)
    if kind.info.has_labels:
        options.append(devices.label_filter(matching.text))
    if matching.key and kind.info.has_variables:
        owners = variable_domain.owners_matching(conn, principal, kind, matching.key, matching.condition)
        if owners:
            options.append(table.c.id.in_([kind.info.parse_id(owner) for owner in owners[:MATCHING_OWNERS]]))
    return sa.or_(*options)


def lookup(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    *,
    row_id: Any = None,
    name: str | None = None,
    name_contains: str | None = None,
    show: Show = FIELDS_ONLY,
) -> Listing:
    """Every visible object with this id (else this exact name), by id: the ``?id=``/``?name=`` lookups.

    None found is a 404 naming what was looked for. One page holds them all.
    """
    table = kind.table
    if row_id is not None:
        where = [table.c.id == row_id]
        missing = f"{kind.label} {row_id} not found"
    else:
        where = [table.c[kind.info.name_column] == name]
        missing = f"No {kind.label.lower()} named {name!r}"
    if name_contains:
        where.append(crud.name_contains(kind, name_contains))
    rows = tenancy.find(conn, principal, kind, *where)
    if not rows:
        raise NotFound(detail=missing)
    return Listing(Page(rows, False, None), readmodel.load(conn, kind, rows, show))
