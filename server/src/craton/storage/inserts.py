"""INSERTs that every backend spells differently."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from craton.storage.prepared import Prepared


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
