"""Deletes caused by a cascade point at the top-level delete's record.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "changes", sa.Column("cascade_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("cascade_of")
