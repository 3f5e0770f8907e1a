"""Web UI sessions of Keystone users: no Craton user row, so the session keeps name and role.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from craton.storage.types import name_type

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ui_sessions") as batch:
        batch.add_column(sa.Column("username", name_type(), nullable=True))
        batch.add_column(sa.Column("role", sa.Integer(), nullable=True))
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM ui_sessions WHERE user_id IS NULL"))
    with op.batch_alter_table("ui_sessions") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("role")
        batch.drop_column("username")
