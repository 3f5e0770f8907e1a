"""Webhook filters name resource types as events do: ``network-device`` becomes ``network_device``.

The CLI's help suggested ``network-device`` while change records say ``network_device``, so such
a filter never matched. The API now stores the canonical spelling; this rewrites the filters
saved before, so they start matching. Other values are left as they are (an unknown type is
refused on the next update that sends it).

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from craton.storage.types import JSONText

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

_webhooks = sa.table("webhooks", sa.column("id", sa.Integer()), sa.column("filters", JSONText()))


def canonical(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` with each resource type's hyphens read as underscores, without repeats."""
    types = filters.get("resource_types")
    if not isinstance(types, list):
        return filters
    spelled = [value.replace("-", "_") if isinstance(value, str) else value for value in types]
    return {**filters, "resource_types": list(dict.fromkeys(spelled))}


def upgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_webhooks.c.id, _webhooks.c.filters)).all():
        filters = row.filters if isinstance(row.filters, dict) else {}
        fixed = canonical(filters)
        if fixed != filters:
            conn.execute(sa.update(_webhooks).where(_webhooks.c.id == row.id).values(filters=fixed))


def downgrade() -> None:
    """Nothing to undo: the canonical spelling is what the earlier code matched too."""
