"""SQLite: ids are never handed out again (AUTOINCREMENT) on every table whose ids the history names.

Without AUTOINCREMENT, SQLite gives a new row the highest id in use plus one, so
after deleting the newest host the next host got its id, and with it the deleted
host's history and point-in-time variables. SQLite can only add AUTOINCREMENT by
rebuilding a table (Alembic's batch mode: copy, drop, rename; migrations run with
foreign keys off, see env.py, so the drop cascades nothing). Each table's counter
then starts above both its highest id and the highest id its history records, so
an id a deleted row had before this migration is not reused either.

PostgreSQL (sequences) and MariaDB 10.2.4+ (InnoDB persists its AUTO_INCREMENT
counter) never reuse ids; nothing to do there.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Table -> the history's resource types whose ids are that table's ids.
TABLES = {
    "users": ("user",),
    "clouds": ("cloud",),
    "regions": ("region",),
    "cells": ("cell",),
    "devices": ("host", "network_device"),
    "networks": ("network",),
    "network_interfaces": ("network_interface",),
    "changes": (),
}


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    for table, types in TABLES.items():
        highest = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()
        if types:
            marks = ", ".join("?" for _ in types)
            recorded = conn.exec_driver_sql(
                f"SELECT COALESCE(MAX(CAST(resource_id AS INTEGER)), 0) FROM changes WHERE resource_type IN ({marks})",
                types,
            ).scalar_one()
            highest = max(highest, recorded)
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, highest))
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    assert not broken, f"foreign keys broken by the table rebuild: {broken[:5]}"


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
