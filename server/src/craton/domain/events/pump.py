"""The event pump: turns pending outbox rows into events for the subscribers.

Writers add an outbox row beside every change record (domain/history/recording.py).
The pump takes *all* pending rows, not "ids above a mark": an auto-increment id can
commit after a larger one, and a mark would skip it. It hands them to every subscriber
and deletes them in one transaction, so a crash at any point either delivers a batch
whole or leaves it pending. The lease lets one pump at a time compute a round, across
processes and machines; the others skip the round without reading anything. On PostgreSQL and
MariaDB it is a locked ``event_leases`` row (``SKIP LOCKED``), held by the round's transaction;
on SQLite, whose round is computed in a read transaction and written afterwards, an ``flock`` of
a file beside the database held for the whole round (storage/leases.py). Both end with their
holder: a killed process's transaction is rolled back and its file closed by the kernel.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.domain.events import effective, subscribers
from craton.domain.events import feed as effective_feed
from craton.domain.events.subscribers import Event
from craton.storage import batches, leases
from craton.storage.engine import transaction
from craton.storage.tables import changes, event_leases, event_outbox

log = logging.getLogger(__name__)

LEASE = "pump"
DEFAULT_BATCH = 500
#: Effective changes one round writes at most (a round takes at least one change, however many it makes).
EFFECTS_BUDGET = 20_000
#: SQLite has one write lock, and a round holds it while it computes (about 0.2-0.3 ms of CPU a
#: change): a backlog of 500 changes, or 20,000 effective changes, kept every API writer waiting
#: for 0.1 s to several seconds. Smaller rounds, run back to back, let the writers in between.
#: Under a steady load the pump still costs the writers' p99 (docs/performance.md, "Fast writes").
SQLITE_BATCH = 100
SQLITE_EFFECTS_BUDGET = 2_000


def round_size(backend: str) -> tuple[int, int]:
    """``(batch, effects_budget)`` of one round on ``backend`` (a SQLAlchemy backend name)."""
    if backend == "sqlite":
        return SQLITE_BATCH, SQLITE_EFFECTS_BUDGET
    return DEFAULT_BATCH, EFFECTS_BUDGET


_ANY_PENDING = sa.select(event_outbox.c.id).limit(1)
_CHANGE_COLUMNS = tuple(str(column.name) for column in changes.c)  # plain str: the payload is JSON
#: The oldest pending outbox rows with their change records, in one query (a pruned record: NULLs).
_PENDING = (
    sa.select(event_outbox.c.id, *changes.c)
    .select_from(event_outbox.outerjoin(changes, changes.c.id == event_outbox.c.change_id))
    .order_by(event_outbox.c.change_id, event_outbox.c.id)
    .limit(sa.bindparam("batch"))
)
#: SQLite: how many of a computed round's outbox rows are still there when it is written.
_STILL_PENDING = sa.select(sa.func.count()).where(event_outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
_DELETE_DONE = batches.by_dialect(
    lambda array: sa.delete(event_outbox).where(batches.in_values(event_outbox.c.id, "done", array))
)


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

    A round costs a fixed number of statements however many changes it takes: the pending rows
    with their change records (one query), the effective changes' own (see ``effective.compute``),
    their inserts, one per subscriber and project, and the outbox rows' delete.
    """
    if engine.dialect.name == "sqlite":
        lease = leases.file_lease(engine, LEASE)
        with lease.hold() if lease is not None else contextlib.nullcontext(None) as held:
            if held is False:
                return 0  # another pump (thread or process) has the round: nothing read, nothing computed
            return _sqlite_round(engine, batch, effects_budget, leased=held is True)
    with transaction(engine, writes=False) as conn:
        # A plain read first: an idle round (or one another process just emptied) takes no
        # lock and writes nothing.
        if conn.execute(_ANY_PENDING).first() is None:
            return 0
    with transaction(engine, writes=True) as conn:
        if not take_lease(conn, LEASE):
            return 0  # another process pumps: nothing was computed here
        taken = _take(conn, batch, effects_budget)
        return 0 if taken is None else _deliver(conn, taken, batch)


def _sqlite_round(engine: sa.Engine, batch: int, effects_budget: int, leased: bool) -> int:
    """A SQLite round: read and computed in a read transaction, written under the write lock.

    SQLite has one write lock, and computing under it kept every API writer waiting behind the
    round (docs/performance.md). The read transaction takes no lock, so an idle round costs one
    read. With the lease file held no other pump computes or writes meanwhile; without it (the
    file could not be opened, an in-memory database) the round checks, under the write lock, that
    its outbox rows are still pending, and writes nothing when another pump delivered them.
    """
    with transaction(engine, writes=False) as conn:
        taken = _take(conn, batch, effects_budget)
    if taken is None:
        return 0
    with transaction(engine, writes=True) as conn:
        if not leased and conn.execute(_STILL_PENDING, {"ids": taken.handled}).scalar() != len(taken.handled):
            return 0  # another worker's pump delivered (part of) it meanwhile
        return _deliver(conn, taken, batch)


@dataclass
class _Round:
    """What a round takes from the outbox and what it computed, before anything is written."""

    pending: int
    handled: list[int]
    written: list[dict[str, Any]]
    by_project: dict[str, list[Event]]


def _take(conn: sa.Connection, batch: int, effects_budget: int) -> _Round | None:
    """The oldest pending changes and their effective changes, read and computed on ``conn``."""
    pending = conn.execute(_PENDING, {"batch": batch}).all()
    if not pending:
        return None
    # One dict per record: effective.compute reads it, and it is the "change" event's payload
    # as /v1/changes renders it (timestamps stay datetimes, as the JSON encoder takes them).
    # Nobody changes it.
    records: list[dict[str, Any]] = []
    outbox_of: dict[int, list[int]] = {}
    handled: list[int] = []
    for row in pending:
        outbox_id, change_id = row[0], row[1]
        if change_id is None:
            handled.append(outbox_id)  # its record was pruned while pending
        elif change_id in outbox_of:
            outbox_of[change_id].append(outbox_id)
        else:
            outbox_of[change_id] = [outbox_id]
            records.append(dict(zip(_CHANGE_COLUMNS, row[1:], strict=True)))
    by_project: dict[str, list[Event]] = defaultdict(list)
    written: list[dict[str, Any]] = []
    computed = effective.compute(conn, records)
    for record in records:
        if len(written) >= effects_budget:
            break
        effects = next(computed)
        handled.extend(outbox_of[record["id"]])
        written.extend(effects)
        events = by_project[record["project_id"]]
        events.append(("change", record))
        events.extend(("effective-change", effect) for effect in effects)
    return _Round(len(pending), handled, written, by_project)


def _deliver(conn: sa.Connection, taken: _Round, batch: int) -> int:
    """Write a round: the effective changes, the subscribers' work, the outbox rows' delete."""
    effective_feed.store(conn, taken.written)  # numbers the dicts in place: they are the events' payloads too
    for project_id, events in taken.by_project.items():
        for subscriber in subscribers.SUBSCRIBERS:
            subscriber(conn, project_id, events)
    conn.execute(_DELETE_DONE[batches.arrays(conn)], {"done": taken.handled})
    return len(taken.handled) if len(taken.handled) == taken.pending else batch
