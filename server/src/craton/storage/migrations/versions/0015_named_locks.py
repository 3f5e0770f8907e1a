"""Named locks: a row per lock a check-then-write takes (storage/locks.py), on MariaDB.

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    named_locks = op.create_table(
        "named_locks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("taken", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_named_locks")),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.bulk_insert(named_locks, [{"name": "project_names", "taken": 0}])


def downgrade() -> None:
    op.drop_table("named_locks")
