"""An index on the outbox's ``created_at``: the watch reads the oldest pending change by time.

The smallest id is not always the oldest row: ``created_at`` is the request's time, and a long
request (a fleet import) or one that commits late takes its ids after shorter ones that started
later; PostgreSQL sequences hand out ids out of commit order too. ``MIN(created_at)`` over this
index is one step down it on every backend, whatever the backlog.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_outbox_created_at", "event_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_event_outbox_created_at", table_name="event_outbox")
