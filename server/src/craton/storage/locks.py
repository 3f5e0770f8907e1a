"""Transaction-scoped named locks, for a check-then-write that must not interleave with itself.

A rename checks that no other project has the new name, then writes it; two renames to one
name must not both pass the check. Each backend holds the lock until the transaction ends
(commit or rollback), so the second holder's check sees the first holder's write:

- PostgreSQL: an advisory transaction lock on a 64-bit hash of the lock's name and key, so
  only writes of the same key (the same new name) wait for each other;
- MariaDB/MySQL: the lock's row in ``named_locks`` (made by migration 0015), updated: an
  exclusive row lock for the whole lock, whatever the key. An update rather than
  ``SELECT ... FOR UPDATE`` because on a Galera cluster only writes are certified: two
  nodes' holders conflict at commit and one is retried (a transient error), then sees the
  other's write;
- SQLite: nothing; its writers already run one at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from craton.storage.tables import named_locks

#: Renames of projects (the key: the new name).
PROJECT_NAMES = "project_names"
LOCKS = (PROJECT_NAMES,)

_TAKE = sa.update(named_locks).where(named_locks.c.name == sa.bindparam("lock")).values(taken=named_locks.c.taken + 1)


def advisory_key(lock: str, key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock``, the same in every process."""
    digest = hashlib.sha256(f"{lock}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def hold(conn: sa.Connection, lock: str, key: str) -> None:
    """Take ``lock`` (for ``key``) until the transaction ends; waits while another transaction holds it."""
    if lock not in LOCKS:
        raise ValueError(f"unknown lock {lock!r}")
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_key(lock, key))))
    elif dialect in ("mysql", "mariadb"):
        if conn.execute(_TAKE, {"lock": lock}).rowcount != 1:
            raise RuntimeError(f"the row of lock {lock!r} is missing: run craton-dbsync upgrade")
