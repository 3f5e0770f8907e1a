"""The effective-change feed: one row per device a change altered, and the keys each names.

Revision ID: 0013
Revises: 0015 (0015 landed first; 0013 was this change's number)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from craton.storage.types import JSONText, UTCDateTime, name_type

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "effective_changes",
        sa.Column("id", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("change_id", _BIG_ID, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("device_type", sa.String(length=30), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("device_name", name_type(), nullable=True),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("added", JSONText(), nullable=False),
        sa.Column("removed", JSONText(), nullable=False),
        sa.Column("changed", JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_effective_changes")),
        **_MYSQL,
    )
    op.create_index("ix_effective_changes_project_id_id", "effective_changes", ["project_id", "id"])
    op.create_index("ix_effective_changes_device_id_id", "effective_changes", ["device_id", "id"])
    op.create_index("ix_effective_changes_occurred_at", "effective_changes", ["occurred_at"])
    op.create_table(
        "effective_change_keys",
        sa.Column("key", name_type(), nullable=False),
        sa.Column("effective_change_id", _BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint("key", "effective_change_id", name=op.f("pk_effective_change_keys")),
        **_MYSQL,
    )
    op.create_index("ix_effective_change_keys_effective_change_id", "effective_change_keys", ["effective_change_id"])


def downgrade() -> None:
    op.drop_table("effective_change_keys")
    op.drop_table("effective_changes")
