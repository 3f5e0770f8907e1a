"""Change history and who last set each variable.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from craton.storage.types import JSONText, UTCDateTime, name_type, text_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("variables", sa.Column("updated_by", name_type(), nullable=True))
    op.create_table(
        "changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", name_type(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("resource_type", sa.String(length=30), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("resource_name", name_type(), nullable=True),
        sa.Column("reason", text_type(), nullable=True),
        sa.Column("old", JSONText(), nullable=True),
        sa.Column("new", JSONText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_changes_resource", "changes", ["resource_type", "resource_id", "id"])
    op.create_index("ix_changes_project_id_id", "changes", ["project_id", "id"])
    op.create_index("ix_changes_occurred_at", "changes", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_column("variables", "updated_by")
