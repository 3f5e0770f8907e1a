"""Row versions: what HTTP shows as ETags and checks with If-Match.

A row's version is its last change time. Writes to what hangs off a row
(variables, labels) move the row's ``updated_at`` too, so one version covers
the object as a whole.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import sqlalchemy as sa

from craton.domain.errors import PreconditionFailed
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.domain.tenancy import get
from craton.storage.prepared import Prepared, Write

STALE = "The resource changed since it was read: its ETag no longer matches If-Match."


def version_tag(kind: Kind, row: Row) -> str:
    """An ETag for the row's current version; variables and labels changes move it too."""
    stamp = row["updated_at"] or row["created_at"]
    digest = hashlib.sha256(f"{kind.name}:{row['id']}:{stamp.isoformat()}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def matches(kind: Kind, row: Row, if_match: str) -> bool:
    """Whether ``If-Match`` names the row's current version (or is ``*``)."""
    tags = {tag.strip() for tag in if_match.split(",")}
    return "*" in tags or version_tag(kind, row) in tags


def check_version(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, if_match: str, action: str = "update"
) -> Row:
    """Honour ``If-Match``: 412 unless the row is still at one of the given versions; the row.

    The row is read and locked (``FOR UPDATE``) until the transaction ends, so no other
    writer can move its version between this comparison and the caller's write: two
    writers holding the same ETag cannot both pass. (A conditional ``UPDATE`` of the
    version did the same with one statement more; the caller's write moves it anyway.)
    """
    row = get(conn, principal, kind, row_id, lock=True, action=action)
    if not matches(kind, row, if_match):
        raise PreconditionFailed(STALE)
    return row


def touch(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> None:
    """Record that something hanging off the row (variables, labels) changed."""
    touch_write(principal, kind, row_id).run(conn)


def touch_write(principal: Principal, kind: Kind, row_id: Any) -> Write:
    """:func:`touch` not yet sent: the write's history record may carry it (storage/prepared.py ``Write``)."""
    return Write(_touch_statement(kind.table), {"row_id": row_id, "at": principal.acted_at})


@functools.lru_cache(maxsize=64)
def _touch_statement(table: sa.Table) -> Prepared:
    """Built and compiled once per table: a statement made anew per write costs more CPU than running it."""
    return Prepared(sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(updated_at=sa.bindparam("at")))
