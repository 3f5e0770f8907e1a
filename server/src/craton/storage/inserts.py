"""INSERTs that every backend spells differently."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from craton.storage.prepared import Prepared, Write


def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    """An INSERT that skips rows whose key already exists (a concurrent writer added the same)."""
    return _ignoring_duplicates(conn.dialect.name, table)


@functools.lru_cache(maxsize=64)
def _ignoring_duplicates(dialect: str, table: sa.Table) -> sa.Insert:
    """Built once per dialect and table: a statement made anew per write costs more CPU than running it."""
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(table).prefix_with("IGNORE")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


@functools.lru_cache(maxsize=64)
def prepared_ignoring_duplicates(dialect: str, table: sa.Table, columns: tuple[str, ...]) -> Prepared:
    """:func:`insert_ignoring_duplicates` of ``columns``, compiled once (storage/prepared.py): for hot writes."""
    return Prepared(_ignoring_duplicates(dialect, table), column_keys=columns)


#: Rows sent as one multi-row statement at most (a statement compiled per row count, kept);
#: a larger batch goes by the driver's executemany and is not carried (storage/prepared.py ``Write``).
MAX_ROWS_IN_ONE = 32


def rows_write(
    dialect: str,
    single: Prepared,
    many: Callable[[int], Prepared],
    prefix: str,
    shared: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
) -> Write:
    """Rows of one insert as a :class:`Write`: ``many(len(rows))``'s multi-row ``VALUES`` on PostgreSQL.

    ``many(n)`` must be the same insert of ``n`` rows with the parameters :func:`row_values`
    names (``prefix``). Elsewhere, and for more than :data:`MAX_ROWS_IN_ONE` rows, ``single``
    (one row, ``column_keys``) with every row, by executemany. One statement costs psycopg
    less CPU than its executemany, which sets up a pipeline even for one row, and it can be
    carried by a later statement of the same write.
    """
    if dialect != "postgresql" or len(rows) > MAX_ROWS_IN_ONE:
        return Write(single, rows=[{**shared, **row} for row in rows])
    params = {f"{prefix}{name}": value for name, value in shared.items()}
    for index, row in enumerate(rows):
        params.update({f"{prefix}{name}_{index}": value for name, value in row.items()})
    return Write(many(len(rows)), params)


def row_values(
    table: sa.Table, prefix: str, shared: Sequence[str], per_row: Sequence[str], count: int
) -> list[dict[str, Any]]:
    """``count`` rows of bind parameters for a multi-row ``VALUES`` (see :func:`rows_write`).

    A ``shared`` column takes the parameter ``<prefix><name>`` in every row, a ``per_row`` one
    ``<prefix><name>_<n>`` (a parameter may not be named after a column of the statement).
    """
    shared_binds = {name: sa.bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in shared}
    return [
        {**shared_binds, **{name: sa.bindparam(f"{prefix}{name}_{n}", type_=table.c[name].type) for name in per_row}}
        for n in range(count)
    ]


@functools.lru_cache(maxsize=64)
def _labels_ignoring_duplicates(table: sa.Table, count: int) -> Prepared:
    """PostgreSQL: ``count`` rows of (device_id, label), skipping those already there, compiled once per count."""
    values = row_values(table, "new_", ("device_id",), ("label",), count)
    return Prepared(postgresql.insert(table).values(values).on_conflict_do_nothing())


def labels_write(dialect: str, table: sa.Table, device_id: int, new: Sequence[str]) -> Write:
    """Add ``new`` labels to a device, a label it already carries is skipped: as a :class:`Write`."""
    single = prepared_ignoring_duplicates(dialect, table, ("device_id", "label"))
    many = functools.partial(_labels_ignoring_duplicates, table)
    return rows_write(dialect, single, many, "new_", {"device_id": device_id}, [{"label": label} for label in new])
