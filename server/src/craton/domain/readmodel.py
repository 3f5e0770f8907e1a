"""What a read answers: rows plus what is shown with them, loaded for a whole page at once.

The read use cases (``objects.read``, ``objects.read_page``, ``objects.lookup``, and the
writes that answer with the object: ``objects.create_item``/``update_item``) return these
read models; HTTP and the web UI turn them into their own shapes without touching the
database. Variables (own or resolved), blame, labels and the kinds of parent devices are
each read in a fixed number of queries for all the rows, so a page of 100 costs what a
page of 5 does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import devices, resolution
from craton.domain.history import blame as history_blame
from craton.domain.kinds import Kind, Row
from craton.storage.keyset import Page


@dataclass(frozen=True)
class Show:
    """What a read shows beyond the rows; each part costs a fixed number of queries per page.

    ``resolved``: variables (and blame, and a list's ``vars`` expression) along the chain of
    owners rather than the object's own. ``labels`` and ``links`` apply to devices only:
    their labels, and the kind of each parent device (which an ``up`` link names).
    """

    variables: bool = False
    resolved: bool = False
    blame: bool = False
    labels: bool = True
    links: bool = True


@dataclass(frozen=True)
class Details:
    """Per row id: what is shown with it. ``None``: that part is not shown at all."""

    variables: dict[Any, dict[str, Any]] | None = None
    blame: dict[Any, dict[str, dict[str, Any]]] | None = None
    labels: dict[int, list[str]] | None = None
    parent_kinds: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One object as a read (or a write's answer) shows it: its row, details and version (ETag)."""

    row: Row
    details: Details
    etag: str


@dataclass(frozen=True)
class Listing:
    """One page of a list: the rows, where the pages around it start, and the rows' details."""

    page: Page
    details: Details

    @property
    def rows(self) -> list[Row]:
        return self.page.rows


def load(
    conn: sa.Connection,
    kind: Kind,
    rows: Sequence[Row],
    show: Show,
    given_variables: Mapping[str, Any] | None = None,
) -> Details:
    """The details of ``rows`` (for the read use cases; ``given_variables`` skips the read after a create)."""
    if not rows:
        return Details()
    variables = None
    if given_variables is not None:
        variables = {row["id"]: dict(given_variables) for row in rows}
    elif show.variables:
        variables = resolution.variables_for(conn, kind.name, list(rows), show.resolved)
    blame = history_blame.blame(conn, kind.name, list(rows), show.resolved) if show.blame else None
    if not kind.info.has_labels:
        return Details(variables, blame)
    labels = devices.labels_of(conn, [row["id"] for row in rows]) if show.labels else None
    parents = devices.parent_kinds(conn, rows) if show.links else {}
    return Details(variables, blame, labels, parents)
