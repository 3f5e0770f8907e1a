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

from craton.domain.events import effective, subscribers
from craton.domain.events import feed as effective_feed
from craton.domain.events.subscribers import Event
from craton.storage.engine import transaction
from craton.storage.rows import Row, as_rows
from craton.storage.tables import changes, event_leases, event_outbox

log = logging.getLogger(__name__)

LEASE = "pump"
DEFAULT_BATCH = 500
#: Effective changes one round writes at most (a round takes at least one change, however many it makes).
EFFECTS_BUDGET = 20_000


_ANY_PENDING = sa.select(event_outbox.c.id).limit(1)


def take_lease(conn: sa.Connection, name: str) -> bool:
    """Lock job ``name``'s lease row for this transaction; False when another process holds it.

    SQLite's writers already run one at a time (BEGIN IMMEDIATE), so there the row is read plainly.
    """
    stmt = sa.select(event_leases.c.name).where(event_leases.c.name == name)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).first() is not None


def process_pending(engine: sa.Engine, batch: int = DEFAULT_BATCH, effects_budget: int = EFFECTS_BUDGET) -> int:
    """Deliver up to ``batch`` pending changes, oldest change first; returns how many were processed.

    The per-device effective changes of the batch are computed and written first, in the same
    transaction; a round stops taking further changes once it has written ``effects_budget``
    of them (and then answers ``batch``, so that the runner comes back at once).
    """
    with transaction(engine, writes=False) as conn:
        # A plain read first: an idle round (or one another process just emptied) takes no
        # write lock, so on SQLite it never makes the API's writers wait.
        if conn.execute(_ANY_PENDING).first() is None:
            return 0
    with transaction(engine, writes=True) as conn:
        if not take_lease(conn, LEASE):
            return 0  # another process pumps: nothing was computed here
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
        written: list[dict[str, Any]] = []
        handled = {row.change_id for row in pending} - {record["id"] for record in records}  # pruned while pending
        computed = effective.compute(conn, records)
        for record in records:
            if len(written) >= effects_budget:
                break
            effects = next(computed)
            handled.add(record["id"])
            written.extend(effects)
            events = by_project[record["project_id"]]
            events.append(("change", _rendered(record)))
            events.extend(("effective-change", effect) for effect in effects)
        effective_feed.store(conn, written)  # numbers the dicts in place: they are the events' payloads too
        done = [row.id for row in pending if row.change_id in handled]
        for project_id, events in by_project.items():
            for subscriber in subscribers.SUBSCRIBERS:
                subscriber(conn, project_id, events)
        conn.execute(sa.delete(event_outbox).where(event_outbox.c.id.in_(done)))
        return len(done) if len(done) == len(pending) else batch


def _rendered(record: Row) -> dict[str, Any]:
    """The record as ``/v1/changes`` renders it (timestamps stay datetimes, as the JSON encoder takes them)."""
    return {str(key): value for key, value in record.items()}
