"""Whole use cases on one object: create, update and delete, whoever asks (API, web UI, import, preview).

Each function does the complete operation in the caller's transaction: the role check,
the version check (``If-Match``), the per-kind rules (a device's labels and moves, a
cell's move, a project's id) and the history records. The callers hand over plain
values and get back the row as it is now; they never dispatch on the kind themselves.
What is per kind is declared once, on the kind (``Kind.create``/``update``/``delete``), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from craton.domain import crud, versions
from craton.domain.errors import InvalidInput
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal


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
