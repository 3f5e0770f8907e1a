"""Inserting many rows in one go: bulk imports, history records of large changes.

SQLite and MariaDB get SQLAlchemy's executemany (batched by the drivers or by
SQLAlchemy's "insertmanyvalues"); updates on MariaDB join a derived table of the rows
(PyMySQL batches only INSERTs). On PostgreSQL the rows travel as one array per
column in a single short statement, ``INSERT ... SELECT ... FROM unnest(...)``: psycopg
otherwise rewrites the placeholders of each 1,000-row ``VALUES`` batch with regular
expressions, which cost more CPU than the database spent storing the rows (profiled:
10,000 hosts with 10 variables each, 3 s of 7 s).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from craton.storage.prepared import Prepared

_ARRAY_TYPES = {str: "text", int: "bigint", bool: "boolean", float: "float8", dt.datetime: "timestamp"}


def insert_many(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
    on_conflict: str = "",
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (all with the same keys); the ``returning`` columns of each, in the rows' order.

    ``on_conflict``: PostgreSQL's ``ON CONFLICT ...`` clause, for callers that built the
    same statement for the other databases themselves (see storage/variables.upsert_many).
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    if conn.dialect.name != "postgresql":
        assert not on_conflict, "ON CONFLICT is spelled per database: build the statement for the others"
        statement = sa.insert(table)
        if returning:
            found = conn.execute(statement.returning(*(table.c[name] for name in returning)), list(rows))
            return [tuple(row) for row in found]
        prepared = _insert_statement(table, columns)
        if prepared is None:
            conn.execute(statement, list(rows))
        else:
            prepared.run_many(conn, rows)
        return []
    params: dict[str, list[Any]] = {}
    for index, name in enumerate(columns):
        process = table.c[name].type._cached_bind_processor(conn.dialect)
        values = [row[name] for row in rows]
        params[f"c{index}"] = [process(value) for value in values] if process else values
    # A constant statement per table and columns, compiled once (storage/prepared.py): the
    # single-object writes take this way too (a variables PUT's upsert, one round trip).
    unnest = _unnest_statement(table, columns, tuple(returning), on_conflict)
    if not returning:
        unnest.run(conn, params)
        return []
    inserted = [tuple(row) for row in unnest.all(conn, params)]
    return sorted(inserted, key=lambda row: row[0]) if returning[0] == "id" else inserted


@functools.lru_cache(maxsize=64)
def _insert_statement(table: sa.Table, columns: tuple[str, ...]) -> Prepared | None:
    """The table's ``INSERT`` of ``columns``, compiled once (storage/prepared.py): the driver's
    executemany without SQLAlchemy's per-row parameter set-up (the event pump's feed rows).

    None when a column left out has a Python-side default, which only ``Connection.execute`` fills in.
    """
    if any(column.default is not None for column in table.c if column.name not in columns):
        return None
    return Prepared(sa.insert(table), column_keys=columns)


@functools.lru_cache(maxsize=64)
def _unnest_statement(
    table: sa.Table, columns: tuple[str, ...], returning: tuple[str, ...], on_conflict: str
) -> Prepared:
    quote = _quote
    arrays = ", ".join(f"CAST(:c{index} AS {_array_type(table.c[name])}[])" for index, name in enumerate(columns))
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
        f"SELECT {', '.join(f'u.c{index}' for index in range(len(columns)))} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, n) ORDER BY u.n"
    )
    if on_conflict:
        sql += f" {on_conflict}"
    if returning:
        sql += f" RETURNING {', '.join(quote(name) for name in returning)}"
    return Prepared(sa.text(sql))


#: Rows per MariaDB ``UPDATE ... JOIN``: a few hundred KB of statement at most.
MARIADB_UPDATE_ROWS = 1000


def update_many(
    conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], also: Mapping[str, Any]
) -> None:
    """Set each row's values (all rows with the same keys, ``id`` among them) and ``also`` on every row.

    PostgreSQL: one ``UPDATE ... FROM unnest(...)``. MariaDB: one ``UPDATE ... JOIN`` on a derived
    table of the rows per :data:`MARIADB_UPDATE_ROWS` (PyMySQL's executemany sends an ``UPDATE``
    one row at a time: a round trip each). SQLite: an executemany by id, run in process.
    """
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values({**{name: sa.bindparam(f"_{name}") for name in columns}, **also})
        )
        conn.execute(statement, [{"_id": row["id"], **{f"_{name}": row[name] for name in columns}} for row in rows])
        return
    processors = [table.c[name].type._cached_bind_processor(conn.dialect) for name in ["id", *columns]]
    params: dict[str, Any] = {}
    for index, (name, value) in enumerate(also.items()):
        process = table.c[name].type._cached_bind_processor(conn.dialect)
        params[f"a{index}"] = process(value) if process else value
    if dialect != "postgresql":
        for start in range(0, len(rows), MARIADB_UPDATE_ROWS):
            chunk = rows[start : start + MARIADB_UPDATE_ROWS]
            bound = dict(params)
            for number, row in enumerate(chunk):
                for index, (name, process) in enumerate(zip(["id", *columns], processors, strict=True)):
                    bound[f"r{number}_{index}"] = process(row[name]) if process else row[name]
            conn.execute(_join_update_statement(table, tuple(columns), tuple(also), len(chunk)), bound)
        return
    for index, (name, process) in enumerate(zip(["id", *columns], processors, strict=True)):
        values = [row[name] for row in rows]
        params[f"c{index}"] = [process(value) for value in values] if process else values
    conn.execute(_update_statement(table, tuple(columns), tuple(also)), params)


@functools.lru_cache(maxsize=64)
def _join_update_statement(
    table: sa.Table, columns: tuple[str, ...], also: tuple[str, ...], count: int
) -> sa.TextClause:
    """MariaDB: ``UPDATE t JOIN (SELECT :r0_0 AS c0, ... UNION ALL SELECT :r1_0, ...) AS u ON t.id = u.c0 SET ...``.

    The derived table's column types come from all of its rows' values, which are bound and
    escaped by the driver like any parameter; a row whose id is gone changes nothing.
    """
    width = len(columns) + 1
    first = ", ".join(f":r0_{index} AS c{index}" for index in range(width))
    rest = [", ".join(f":r{number}_{index}" for index in range(width)) for number in range(1, count)]
    derived = " UNION ALL ".join([f"SELECT {first}", *(f"SELECT {values}" for values in rest)])
    assignments = [f"t.{_quote_mariadb(name)} = u.c{index + 1}" for index, name in enumerate(columns)]
    assignments += [f"t.{_quote_mariadb(name)} = :a{index}" for index, name in enumerate(also)]
    return sa.text(
        f"UPDATE {_quote_mariadb(table.name)} AS t JOIN ({derived}) AS u ON t.id = u.c0 SET {', '.join(assignments)}"
    )


def _quote_mariadb(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@functools.lru_cache(maxsize=64)
def _update_statement(table: sa.Table, columns: tuple[str, ...], also: tuple[str, ...]) -> sa.TextClause:
    everything = ("id", *columns)
    arrays = ", ".join(f"CAST(:c{index} AS {_array_type(table.c[name])}[])" for index, name in enumerate(everything))
    aliases = ", ".join(f"c{index}" for index in range(len(everything)))
    assignments = [f"{_quote(name)} = u.c{index + 1}" for index, name in enumerate(columns)]
    assignments += [f"{_quote(name)} = :a{index}" for index, name in enumerate(also)]
    return sa.text(
        f"UPDATE {_quote(table.name)} AS t SET {', '.join(assignments)} "
        f"FROM unnest({arrays}) AS u({aliases}) WHERE t.id = u.c0"
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _array_type(column: sa.Column[Any]) -> str:
    """The PostgreSQL element type an array of the column's bound values has."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    if isinstance(column.type, sa.types.TypeDecorator):  # bound as its implementation's values
        python_type = column.type.impl_instance.python_type
    return _ARRAY_TYPES.get(python_type, "text")
