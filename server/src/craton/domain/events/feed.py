"""The effective-change feed: writing it (the pump, under its lease), reading it, pruning it.

Ids are numbered by the pump, ``max(id) + 1`` onwards, while it holds its lease: one
writer at a time, and every round's rows commit together, so a reader following
``since`` never sees id N+1 before N (an auto-increment id would give no such promise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from craton.domain.events.effective import keys_of
from craton.domain.principal import Principal
from craton.storage import bulk
from craton.storage.rows import Row, as_rows
from craton.storage.tables import effective_change_keys, effective_changes, labels

#: Rows per INSERT statement (parameters stay well below every driver's limit).
CHUNK = 1000
COLUMNS = (
    "id",
    "occurred_at",
    "change_id",
    "project_id",
    "device_type",
    "device_id",
    "device_name",
    "cell_id",
    "region_id",
    "added",
    "removed",
    "changed",
)


_NEWEST = sa.select(effective_changes.c.id).order_by(effective_changes.c.id.desc()).limit(1)
_NEWEST_LOCKED = _NEWEST.with_for_update()


def _newest_id(conn: sa.Connection) -> int:
    """The newest id written, locked where the database can (a pump's successor waits for it)."""
    return int(conn.execute(_NEWEST if conn.dialect.name == "sqlite" else _NEWEST_LOCKED).scalar() or 0)


def store(conn: sa.Connection, effects: Sequence[dict[str, Any]]) -> int:
    """Number ``effects`` (in place: each gets its ``id``) after the newest one and write them; returns how many.

    The caller holds the pump's lease: no one else numbers at the same time.
    """
    if not effects:
        return 0
    next_id = _newest_id(conn) + 1
    keys: list[dict[str, Any]] = []
    for offset, effect in enumerate(effects):
        effect["id"] = next_id + offset
        keys.extend({"key": key, "effective_change_id": effect["id"]} for key in sorted(keys_of(effect)))
    # storage.bulk: on PostgreSQL one array per column in one statement (psycopg's executemany
    # costs about as much CPU per row as computing the row did); executemany elsewhere.
    for start in range(0, len(effects), CHUNK):
        bulk.insert_many(conn, effective_changes, effects[start : start + CHUNK])
    for start in range(0, len(keys), CHUNK):
        bulk.insert_many(conn, effective_change_keys, keys[start : start + CHUNK])
    return len(effects)


def feed(
    conn: sa.Connection,
    principal: Principal,
    since: int,
    limit: int,
    device_id: int | None = None,
    cell_id: int | None = None,
    region_id: int | None = None,
    label: str | None = None,
    key: str | None = None,
) -> list[Row]:
    """The effective changes after cursor ``since``, oldest first, within the caller's tenancy.

    ``cell_id`` and ``region_id`` match where the device was when the change was made;
    ``label`` matches the device's labels now; ``key`` a key added, removed or changed.
    """
    table = effective_changes
    stmt = sa.select(*(table.c[name] for name in COLUMNS)).where(
        table.c.id > since, principal.scope(table.c.project_id)
    )
    if device_id is not None:
        stmt = stmt.where(table.c.device_id == device_id)
    if cell_id is not None:
        stmt = stmt.where(table.c.cell_id == cell_id)
    if region_id is not None:
        stmt = stmt.where(table.c.region_id == region_id)
    if label is not None:
        stmt = stmt.where(table.c.device_id.in_(sa.select(labels.c.device_id).where(labels.c.label == label)))
    if key is not None:
        named = sa.select(effective_change_keys.c.effective_change_id).where(
            effective_change_keys.c.key == key, effective_change_keys.c.effective_change_id > since
        )
        stmt = stmt.where(table.c.id.in_(named))
    return as_rows(conn.execute(stmt.order_by(table.c.id).limit(limit)).all())


def prune(conn: sa.Connection, older_than: dt.datetime) -> int:
    """Delete effective changes older than the retention window; returns how many went.

    The newest one always stays: the next ids continue after it, so a cursor never sees an id again.
    """
    newest = _newest_id(conn)
    doomed = sa.and_(effective_changes.c.occurred_at < older_than, effective_changes.c.id < newest)
    last = conn.execute(sa.select(sa.func.max(effective_changes.c.id)).where(doomed)).scalar()
    if last is None:
        return 0
    conn.execute(sa.delete(effective_change_keys).where(effective_change_keys.c.effective_change_id <= last))
    return conn.execute(sa.delete(effective_changes).where(effective_changes.c.id <= last)).rowcount
