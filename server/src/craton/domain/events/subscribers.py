"""Who hears about committed changes.

The event pump calls every callable in ``SUBSCRIBERS`` inside its own transaction,
once per project per batch, as ``subscriber(conn, project_id, events)``. ``events``
is a sequence of ``(kind, payload)`` pairs, oldest first: kind ``"change"`` with the
change record as ``/v1/changes`` renders it, or ``"effective-change"`` with the
record as ``/v1/effective-changes`` renders it. A subscriber writes what it needs
(e.g. webhook deliveries) with ``conn``; if it raises, the batch rolls back and is
tried again, so a subscriber must not have side effects outside the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from craton.domain import webhooks

Event = tuple[str, dict[str, Any]]
Subscriber = Callable[[sa.Connection, str, Sequence[Event]], None]

SUBSCRIBERS: list[Subscriber] = [webhooks.enqueue_deliveries]
