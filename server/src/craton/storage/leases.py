"""Non-blocking leases on a SQLite database: one holder at a time across threads and processes.

PostgreSQL and MariaDB hold a job's lease as a locked ``event_leases`` row for the length of a
transaction (``SELECT ... FOR UPDATE SKIP LOCKED``). SQLite has no row locks, and a job that
computes in a read transaction before it writes (the event pump) holds no lock while it
computes. Here the lease is an exclusive ``flock`` of a file beside the database
(``<database>-lease-<name>``), taken without waiting: a second process finds it held and skips.
The kernel releases it when its holder's file is closed, so a killed process never keeps it.
``flock`` belongs to the open file description, shared by every thread of a process: a thread
lock in front keeps a second thread of the same process out too.

Nothing guarantees the file can be made (a read-only directory): then :meth:`FileLease.hold`
answers ``None`` ("no lease here"), and the caller must be correct without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator

import sqlalchemy as sa

log = logging.getLogger(__name__)


class FileLease:
    """One named lease on one SQLite file; :meth:`hold` tries to take it without waiting."""

    def __init__(self, database: str, name: str) -> None:
        self.path = f"{database}-lease-{name}"
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._warned = False

    def _file(self) -> int | None:
        # Opened lazily and again after a fork: a child sharing its parent's open file
        # description would share its flock too.
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                if not self._warned:
                    log.warning("lease file %s cannot be opened (%s): running without it", self.path, error)
                    self._warned = True
                return None
            self._pid = os.getpid()
        return self._fd

    @contextlib.contextmanager
    def hold(self) -> Iterator[bool | None]:
        """True while this caller holds the lease; False when another thread or process does;
        None when the lease file is unusable (the caller runs without a lease)."""
        if not self._threads.acquire(blocking=False):
            yield False
            return
        try:
            fd = self._file()
            if fd is None:
                yield None
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_leases: weakref.WeakKeyDictionary[sa.Engine, dict[str, FileLease]] = weakref.WeakKeyDictionary()
_made = threading.Lock()


def file_lease(engine: sa.Engine, name: str) -> FileLease | None:
    """The lease ``name`` of a SQLite file's engine (one object per engine and name); None for
    an in-memory database, where one process is the only user."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    with _made:
        named = _leases.setdefault(engine, {})
        if name not in named:
            named[name] = FileLease(os.path.abspath(database), name)
        return named[name]
