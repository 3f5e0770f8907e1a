"""Key rotation with a grace period: the previous key and when it stops working.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from craton.storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("previous_api_key_hash", sa.String(length=128), nullable=True))
    op.add_column("users", sa.Column("previous_key_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "previous_key_expires_at")
    op.drop_column("users", "previous_api_key_hash")
