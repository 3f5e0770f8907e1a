"""INSERTs that every backend spells differently."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite


def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    """An INSERT that skips rows whose key already exists (a concurrent writer added the same)."""
    dialect = conn.dialect.name
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(table).prefix_with("IGNORE")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
