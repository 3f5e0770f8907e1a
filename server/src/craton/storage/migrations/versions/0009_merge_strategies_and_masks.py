"""Merge strategies per project and variable key; masks that stop an inherited key.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from craton.storage.types import UTCDateTime, name_type

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table(
        "variable_masks",
        sa.Column("owner_kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("key", name_type(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", name_type(), nullable=True),
        sa.PrimaryKeyConstraint("owner_kind", "owner_id", "key", name=op.f("pk_variable_masks")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_variable_masks_project_id"), "variable_masks", ["project_id"], unique=False)
    op.create_table(
        "merge_strategies",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("key", name_type(), nullable=False),
        sa.Column("strategy", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", name_type(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_merge_strategies_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "key", name=op.f("pk_merge_strategies")),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("merge_strategies")
    op.drop_index(op.f("ix_variable_masks_project_id"), table_name="variable_masks")
    op.drop_table("variable_masks")
