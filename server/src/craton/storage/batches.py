"""Reading rows for a long list of ids, a fixed-size batch of ids per statement.

An expanding ``IN`` (``column.in_(ids)``) is rendered anew for every execution, at a
cost of microseconds per id that dominates a bulk read of 100,000 devices. Here each
statement has exactly :data:`SIZE` bound parameters, is built once and compiled once
(SQLAlchemy's statement cache), and a short last batch is padded by repeating an id
(``IN`` ignores duplicates).

On PostgreSQL a batch is one array parameter instead (``column = ANY(:ids)``): psycopg
parses a statement's text for its placeholders on every execution when the text is
longer than 4 KiB or has more than 50 parameters (its cache's limits), which with
1,000 placeholders cost about 13 ms per statement (profiled: a third of the server's
CPU in a PostgreSQL export); an index scan serves ``= ANY`` as it serves ``IN``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

_T = TypeVar("_T")

#: Ids per statement: well under every backend's limit on bound parameters.
SIZE = 1000


@functools.cache
def _names() -> list[str]:
    return [f"id_{n}" for n in range(SIZE)]


_statements: dict[tuple[Hashable, bool], sa.Select[Any]] = {}


def in_values(column: sa.ColumnElement[Any], name: str, array: bool) -> sa.ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``: for constant statements that take a list.

    An expanding ``IN``, or with ``array`` (PostgreSQL) ``column = ANY(:name)``, one array
    parameter: an expanding ``IN`` of more than 50 values makes psycopg parse the statement's
    text again on every execution (see above). A caller builds both and picks by dialect.
    """
    if array:
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def by_dialect(build: Callable[[bool], _T]) -> dict[bool, _T]:
    """``build(array)`` for both kinds of list parameter (see :func:`in_values`), keyed by ``array``."""
    return {False: build(False), True: build(True)}


def arrays(conn: sa.Connection) -> bool:
    """Whether lists go as one array parameter on this connection (PostgreSQL)."""
    return conn.dialect.name == "postgresql"


def _statement(
    key: Hashable, build: Callable[[sa.ColumnElement[Any]], sa.Select[Any]], column: Any, array: bool
) -> sa.Select[Any]:
    if (key, array) not in _statements:  # two threads may both build it: the same statement either way
        if array:
            found = in_values(column, "ids", array)
        else:
            found = column.in_([sa.bindparam(name) for name in _names()])
        _statements[(key, array)] = build(found)
    return _statements[(key, array)]


def select_in(
    conn: sa.Connection,
    key: Hashable,
    build: Callable[[sa.ColumnElement[Any]], sa.Select[Any]],
    column: sa.ColumnElement[Any],
    ids: Sequence[Any],
    params: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """Rows of ``build(column IN (a batch of ids))`` for every batch of ``ids``.

    ``key`` names the statement ``build`` makes, which must depend on nothing but the
    criterion it is given (other values go in ``params``, as bound parameters).
    """
    array = arrays(conn)
    statement = _statement(key, build, column, array)
    names = _names()
    for start in range(0, len(ids), SIZE):
        chunk = list(ids[start : start + SIZE])
        if array:
            yield from conn.execute(statement, {**(params or {}), "ids": chunk}).all()
            continue
        chunk += [chunk[0]] * (SIZE - len(chunk))
        yield from conn.execute(statement, {**(params or {}), **dict(zip(names, chunk, strict=True))}).all()
