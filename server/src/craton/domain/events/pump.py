"""The event pump: turns pending outbox rows into events for the subscribers.

Writers add an outbox row beside every change record (domain/history/recording.py).
The pump takes *all* pending rows, not "ids above a mark": an auto-increment id can
commit after a larger one, and a mark would skip it. It hands them to every subscriber
and deletes them in one transaction, so a crash at any point either delivers a batch
whole or leaves it pending. The lease (a locked ``event_leases`` row) lets one process
at a time pump, across processes and machines; the others skip the round.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from craton.domain.events import subscribers
from craton.domain.events.subscribers import Event
from craton.storage.engine import transaction
from craton.storage.rows import Row, as_rows
from craton.storage.tables import changes, event_leases, event_outbox

log = logging.getLogger(__name__)

LEASE = "pump"
DEFAULT_BATCH = 500


def take_lease(conn: sa.Connection, name: str) -> bool:
    """Lock job ``name``'s lease row for this transaction; False when another process holds it.

    SQLite's writers already run one at a time (BEGIN IMMEDIATE), so there the row is read plainly.
    """
    stmt = sa.select(event_leases.c.name).where(event_leases.c.name == name)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).first() is not None


def process_pending(engine: sa.Engine, batch: int = DEFAULT_BATCH) -> int:
    """Deliver up to ``batch`` pending changes, oldest change first; returns how many were processed."""
    with transaction(engine, writes=True) as conn:
        if not take_lease(conn, LEASE):
            return 0
        pending = conn.execute(
            sa.select(event_outbox.c.id, event_outbox.c.change_id).order_by(event_outbox.c.change_id).limit(batch)
        ).all()
        if not pending:
            return 0
        records = as_rows(
            conn.execute(
                sa.select(changes).where(changes.c.id.in_([row.change_id for row in pending])).order_by(changes.c.id)
            ).all()
        )
        by_project: dict[str, list[Event]] = defaultdict(list)
        for record in records:  # a record pruned while pending has nothing left to tell
            by_project[record["project_id"]].append(("change", _rendered(record)))
        for project_id, events in by_project.items():
            for subscriber in subscribers.SUBSCRIBERS:
                subscriber(conn, project_id, events)
        conn.execute(sa.delete(event_outbox).where(event_outbox.c.id.in_([row.id for row in pending])))
        return len(pending)


def _rendered(record: Row) -> dict[str, Any]:
    """The record as ``/v1/changes`` renders it (timestamps stay datetimes, as the JSON encoder takes them)."""
    return {str(key): value for key, value in record.items()}
