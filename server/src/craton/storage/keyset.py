"""Keyset (marker) pagination that needs no OFFSET and handles NULLs the same everywhere.

Order is ascending with NULLs first (descending reverses it exactly), and the
primary key always ends the sort so every position is unique.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.storage.rows import as_rows

RowPredicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Ordering:
    columns: tuple[sa.Column[Any], ...]
    descending: bool

    def order_by(self, reverse: bool = False) -> list[sa.ColumnElement[Any]]:
        descending = self.descending != reverse
        clauses: list[sa.ColumnElement[Any]] = []
        for column in self.columns:
            if column.nullable:
                null_rank = sa.case((column.is_(None), 0), else_=1)
                clauses.append(null_rank.desc() if descending else null_rank.asc())
            clauses.append(column.desc() if descending else column.asc())
        return clauses

    def after(self, marker: Sequence[Any], reverse: bool = False) -> sa.ColumnElement[bool]:
        """Rows strictly after ``marker`` (its sort values) in this order, or before it if ``reverse``."""
        descending = self.descending != reverse
        alternatives = []
        for index, column in enumerate(self.columns):
            equal_prefix = [_equal(c, v) for c, v in zip(self.columns[:index], marker[:index], strict=True)]
            alternatives.append(sa.and_(*equal_prefix, _beyond(column, marker[index], descending)))
        condition = sa.or_(*alternatives)
        first = self.columns[0]
        if not first.nullable and marker[0] is not None:
            # Redundant for the result, but it gives every database an index range to scan
            # instead of filtering from the start of the index on each page.
            bound = _param(first, marker[0])
            condition = sa.and_(first <= bound if descending else first >= bound, condition)
        return condition

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column.name] for column in self.columns)


def _param(column: sa.Column[Any], value: Any) -> sa.BindParameter[Any]:
    """The marker's value as a bound parameter of the column's type.

    SQLAlchemy refuses ``<`` and ``>`` against the Python constants True and False, so a
    boolean sort key (``active``, ``is_admin``) needs an explicit parameter; every database
    orders booleans false < true.
    """
    return sa.bindparam(None, value, type_=column.type)


def _equal(column: sa.Column[Any], value: Any) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == _param(column, value)


def _beyond(column: sa.Column[Any], value: Any, descending: bool) -> sa.ColumnElement[bool]:
    # NULL sorts below every value.
    if not descending:
        return column.is_not(None) if value is None else column > _param(column, value)
    if value is None:
        return sa.false()
    below = column < _param(column, value)
    return sa.or_(below, column.is_(None)) if column.nullable else below


_SCAN_CHUNK = 500


def _scan(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    ordering: Ordering,
    wanted: int,
    predicate: RowPredicate | None,
    reverse: bool = False,
) -> list[Mapping[str, Any]]:
    """The first ``wanted`` rows of ``stmt`` (already ordered) that pass ``predicate``.

    Filtered scans read the rows in keyset chunks rather than through a server-side
    cursor: those need a transaction, and reads on PostgreSQL run in autocommit
    (storage/engine.py).
    """
    if predicate is None:
        return as_rows(conn.execute(stmt.limit(wanted)).all())
    found: list[Mapping[str, Any]] = []
    chunk_stmt = stmt
    while True:
        rows = as_rows(conn.execute(chunk_stmt.limit(_SCAN_CHUNK)).all())
        for row in rows:
            if predicate(row):
                found.append(row)
                if len(found) >= wanted:
                    return found
        if len(rows) < _SCAN_CHUNK:
            return found
        chunk_stmt = stmt.where(ordering.after(ordering.values(rows[-1]), reverse=reverse))


@dataclass
class Page:
    rows: list[Mapping[str, Any]]
    has_next: bool
    prev_marker_row: Mapping[str, Any] | None


def fetch_page(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    ordering: Ordering,
    limit: int,
    marker: Mapping[str, Any] | None,
    predicate: RowPredicate | None = None,
) -> Page:
    """One page after ``marker``, plus what the ``next`` and ``prev`` links need.

    ``limit + 1`` rows are read to know whether a next page exists. The previous
    page is the ``limit`` rows ending with the marker row itself, so its own
    marker is the ``limit``-th row before the marker; with fewer rows before it,
    the previous page is the first page.
    """
    forward = stmt.order_by(*ordering.order_by())
    if marker is not None:
        forward = forward.where(ordering.after(ordering.values(marker)))
    rows = _scan(conn, forward, ordering, limit + 1, predicate)
    prev_row = None
    if marker is not None:
        backward = stmt.where(ordering.after(ordering.values(marker), reverse=True)).order_by(
            *ordering.order_by(reverse=True)
        )
        before = _scan(conn, backward, ordering, limit, predicate, reverse=True)
        prev_row = before[limit - 1] if len(before) == limit else None
    return Page(rows=rows[:limit], has_next=len(rows) > limit, prev_marker_row=prev_row)
