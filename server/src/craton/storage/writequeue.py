"""SQLite writers wait their turn in a queue instead of in SQLite's busy back-off.

SQLite has one write lock per database file. A writer that finds it taken calls
the busy handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries: under load,
writes mostly sleep, and a writer can lose the race many times in a row (the
p99 of half a second in docs/performance.md). Here writers line up before they
ask SQLite: within a process in arrival order (a ticket queue of threads), and
between the worker processes on an exclusive ``flock`` of a file beside the
database, where the kernel wakes a waiter the moment the lock is free. The one
writer at the front then finds SQLite's lock free, and the busy timeout is left
for writers outside Craton (``craton-dbsync``, migrations, a shell).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import deque
from collections.abc import Iterator


class _Turns:
    """A lock that threads get in the order they asked for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the writer before us: the lock is handed over, never free

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


class WriteQueue:
    """One per engine of a SQLite file: :meth:`turn` holds the database's write turn."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-writers"
        self._turns = _Turns()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # Opened lazily and again after a fork: flock belongs to the open file description.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        self._turns.acquire()
        try:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._turns.release()
