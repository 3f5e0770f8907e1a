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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: Ids per statement: well under every backend's limit on bound parameters.
SIZE = 1000


@functools.cache
def _names() -> list[str]:
    return [f"id_{n}" for n in range(SIZE)]


_statements: dict[tuple[Hashable, bool], sa.Select[Any]] = {}


def _statement(
    key: Hashable, build: Callable[[sa.ColumnElement[Any]], sa.Select[Any]], column: Any, array: bool
) -> sa.Select[Any]:
    if (key, array) not in _statements:  # two threads may both build it: the same statement either way
        if array:
            found = column == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(column.type)))
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
    array = conn.dialect.name == "postgresql"
    statement = _statement(key, build, column, array)
    names = _names()
    for start in range(0, len(ids), SIZE):
        chunk = list(ids[start : start + SIZE])
        if array:
            yield from conn.execute(statement, {**(params or {}), "ids": chunk}).all()
            continue
        chunk += [chunk[0]] * (SIZE - len(chunk))
        yield from conn.execute(statement, {**(params or {}), **dict(zip(names, chunk, strict=True))}).all()
