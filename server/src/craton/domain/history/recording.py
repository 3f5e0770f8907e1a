"""The change history: every create, update and delete, every variable and label change.

Records are written in the same transaction as the change they describe, so a
request that fails leaves no record and a committed change always has one. Each
record also gets an outbox row in that transaction (see domain/events), so the
events derived from it are never lost to a crash after the commit.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from craton.domain.principal import Principal
from craton.storage import bulk
from craton.storage.prepared import Prepared, Write, can_carry, carries, carrying, run_all
from craton.storage.tables import changes, event_outbox

Row = Mapping[str, Any]
_SECRET_OR_INTERNAL = {"api_key_hash", "previous_api_key_hash", "previous_key_expires_at", "kind", "is_root"}
MAX_REASON = 1000
# Every write runs these: compiled once per dialect, executed on the driver's cursor (storage/prepared.py).
_RECORDED = (
    "project_id", "occurred_at", "request_id", "user_id", "username", "action",
    "resource_type", "resource_id", "resource_name", "reason", "old", "new",
)  # fmt: skip
_INSERT = Prepared(sa.insert(changes), column_keys=_RECORDED)
_OUTBOX_INSERT = Prepared(sa.insert(event_outbox), column_keys=("project_id", "change_id", "created_at"))


def snapshot(row: Row) -> dict[str, Any]:
    """The row as recorded: every column but secrets and internals."""
    return {str(key): value for key, value in row.items() if key not in _SECRET_OR_INTERNAL}


def _values(principal: Principal, action: str, kind: str, row: Row, old: Any, new: Any) -> dict[str, Any]:
    return {
        "project_id": row["id"] if kind == "project" else row["project_id"],
        "occurred_at": principal.acted_at,
        "request_id": principal.request_id,
        "user_id": principal.user_id,
        "username": principal.username,
        "action": action,
        "resource_type": kind,
        "resource_id": str(row["id"]),
        "resource_name": row.get("name", row.get("username")),
        "reason": (principal.reason or None) and principal.reason[:MAX_REASON],
        "old": old,
        "new": new,
    }


def record_many(
    conn: sa.Connection,
    principal: Principal,
    action: str,
    entries: Sequence[tuple[str, Row, Any, Any]],
    cascade_of: int | None = None,
) -> None:
    """Append one change per ``(public type, row, old, new)`` entry, in one statement.

    ``cascade_of`` is the id of the record of the change that caused these (the
    top-level delete of a cascade).
    """
    if principal.record_history and entries:
        rows = [{**_values(principal, action, *entry), "cascade_of": cascade_of} for entry in entries]
        ids = [found[0] for found in bulk.insert_many(conn, changes, rows, ["id"])]
        _to_outbox(conn, principal, [(row["project_id"], change_id) for row, change_id in zip(rows, ids, strict=True)])


def record(
    conn: sa.Connection,
    principal: Principal,
    action: str,
    kind: str,
    row: Row,
    old: Any = None,
    new: Any = None,
    carried: Sequence[Write] = (),
) -> int | None:
    """Append one change made by ``principal`` to ``row`` (of public type ``kind``); returns the record's id.

    ``carried``: the writes of that change not yet sent (a version bump, an upsert ...). They
    run first, whether history is recorded or not; on PostgreSQL they go in the record's own
    statement (data-modifying CTEs, one round trip: storage/prepared.py ``Write``).
    """
    if not principal.record_history:
        run_all(conn, carried)
        return None
    values = _values(principal, action, kind, row, old, new)
    if not can_carry(conn.dialect, carried):  # not PostgreSQL, or an executemany among them
        run_all(conn, carried)
        carried = ()
    if not carries(conn.dialect):
        # The values go as parameters of a constant statement, compiled once; ``.values(...)``
        # would build and compile a new statement for every record. The id: Prepared.insert.
        change_id = _INSERT.insert(conn, values)
        _to_outbox(conn, principal, [(values["project_id"], change_id)])
        return change_id
    # PostgreSQL: the record (and its outbox row) in one statement returning the record's id,
    # with the carried writes as CTEs before it: all of them in one round trip.
    params: dict[str, Any] = {f"change_{name}": value for name, value in values.items()}
    params["outbox_at"] = principal.acted_at
    for write in carried:
        params.update(write.params)
    main = _recorded(principal.queue_events)
    statement = carrying(conn.dialect, main, tuple(write.prepared for write in carried)) if carried else main
    return int(statement.scalar(conn, params))


@functools.cache
def _recorded(queue_events: bool) -> Prepared:
    """PostgreSQL: the change record (and its outbox row) in one statement that returns the record's id.

    ``WITH recorded AS (INSERT INTO changes ... RETURNING id, project_id) INSERT INTO
    event_outbox SELECT ... FROM recorded``: both rows or neither, as with two statements.
    With ``[events] queue = false``, the record's ``INSERT ... RETURNING id`` alone.
    """
    names = [column.name for column in changes.c if column.name not in ("id", "cascade_of")]
    insert = sa.insert(changes).values(
        {name: sa.bindparam(f"change_{name}", type_=changes.c[name].type) for name in names}
    )
    if not queue_events:
        return Prepared(insert.returning(changes.c.id))
    recorded = insert.returning(changes.c.id, changes.c.project_id).cte("recorded")
    at = sa.bindparam("outbox_at", type_=event_outbox.c.created_at.type)
    return Prepared(
        sa.insert(event_outbox)
        .from_select(["project_id", "change_id", "created_at"], sa.select(recorded.c.project_id, recorded.c.id, at))
        .add_cte(recorded)
        .returning(event_outbox.c.change_id)
    )


def _to_outbox(conn: sa.Connection, principal: Principal, entries: Sequence[tuple[str, int]]) -> None:
    """Queue ``(project_id, change_id)`` pairs for the event pump, in the caller's transaction.

    With ``[events] queue = false`` nothing is queued: no process derives events there.
    """
    if not principal.queue_events:
        return
    rows = [
        {"project_id": project_id, "change_id": change_id, "created_at": principal.acted_at}
        for project_id, change_id in entries
    ]
    if len(rows) == 1:
        _OUTBOX_INSERT.run(conn, rows[0])  # one record's row: a constant statement, no batch set-up
    else:
        bulk.insert_many(conn, event_outbox, rows)
