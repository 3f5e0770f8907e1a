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

The statements run as :class:`~craton.storage.prepared.Prepared` ones, on the driver's
cursor: ``Connection.execute`` spent, per statement, about a millisecond of Python on
the 1,000 parameters (``construct_params``) and then built a ``Row`` for every row of the
answer, about as much as SQLite's own work on a batch of device rows (profiled, fleet
export). Types, events (statement counts) and errors are as with ``Connection.execute``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from craton.storage.prepared import _MISSING, Prepared

_T = TypeVar("_T")

#: Ids per statement: well under every backend's limit on bound parameters.
SIZE = 1000


@functools.cache
def _names() -> list[str]:
    return [f"id_{n}" for n in range(SIZE)]


_statements: dict[tuple[Hashable, bool], Prepared] = {}


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
) -> Prepared:
    if (key, array) not in _statements:  # two threads may both build it: the same statement either way
        if array:
            found = in_values(column, "ids", array)
        else:
            found = column.in_([sa.bindparam(name) for name in _names()])
        _statements[(key, array)] = Prepared(build(found))
    return _statements[(key, array)]


def select_in(
    conn: sa.Connection,
    key: Hashable,
    build: Callable[[sa.ColumnElement[Any]], sa.Select[Any]],
    column: sa.ColumnElement[Any],
    ids: Sequence[Any],
    params: dict[str, Any] | None = None,
) -> Iterator[Sequence[Any]]:
    """Rows of ``build(column IN (a batch of ids))`` for every batch of ``ids``, as sequences in column order.

    ``key`` names the statement ``build`` makes, which must depend on nothing but the
    criterion it is given (other values go in ``params``, as bound parameters).
    """
    array = arrays(conn)
    statement = _statement(key, build, column, array)
    around = None if array else _ids_in_place(statement, conn.dialect)
    names = _names()
    for start in range(0, len(ids), SIZE):
        chunk = list(ids[start : start + SIZE])
        if array:
            yield from statement.all(conn, {**(params or {}), "ids": chunk})
            continue
        chunk += [chunk[0]] * (SIZE - len(chunk))
        if around is None:
            yield from statement.all(conn, {**(params or {}), **dict(zip(names, chunk, strict=True))})
            continue
        before, after = around
        given = params or {}
        values = [_param(given, key, default) for key, default in before]
        values += chunk
        values += [_param(given, key, default) for key, default in after]
        yield from statement.all_sent(conn, tuple(values))


def _param(given: dict[str, Any], key: str, default: Any) -> Any:
    """The value of one of a statement's other parameters: the caller's, else the statement's own (a literal)."""
    value = given.get(key, default)
    if value is _MISSING:
        raise sa.exc.ArgumentError(f"a value is required for the bind parameter {key!r}")
    return value


def _ids_in_place(
    statement: Prepared, dialect: sa.Dialect
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]] | None:
    """Where a positional driver takes the ids, between the other parameters: (key, default) of those before, after.

    None where the parameters are not one run of the ids among others, all without a bind
    processor (the others: the caller's, or literals of the statement with their own value);
    then :meth:`Prepared.all` builds them, a bind at a time: about a millisecond of Python
    for 1,000 ids.
    """
    plan = statement.plan(dialect)
    names = _names()
    keys = [bind[0] for bind in plan.binds]
    if not plan.positional or any(bind[2] is not None for bind in plan.binds) or names[0] not in keys:
        return None
    first = keys.index(names[0])
    if keys[first : first + SIZE] != names:
        return None
    others = [(key, default) for key, _driver_key, _processor, default in plan.binds]
    before, after = others[:first], others[first + SIZE :]
    if any(key in names for key, _default in before + after):
        return None
    return before, after


def select_in_mappings(
    conn: sa.Connection,
    key: Hashable,
    build: Callable[[sa.ColumnElement[Any]], sa.Select[Any]],
    column: sa.ColumnElement[Any],
    ids: Sequence[Any],
    params: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """:func:`select_in`'s rows as dicts keyed by column name."""
    keys = _statement(key, build, column, arrays(conn)).plan(conn.dialect).keys
    for row in select_in(conn, key, build, column, ids, params):
        yield dict(zip(keys, row, strict=True))
