"""Engine construction with the per-dialect settings Craton relies on."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.engine.base import OptionEngine

from craton.storage.prepared import send
from craton.storage.writequeue import WriteQueue

WRITE_OPTION = "craton_writes"
# SQLite engines of a file: the queue their writers line up in (storage/writequeue.py).
_write_queues: weakref.WeakKeyDictionary[sa.Engine, WriteQueue] = weakref.WeakKeyDictionary()
T = TypeVar("T")
log = logging.getLogger("craton.api")


def normalise_url(url: str) -> str:
    """Pick the maintained drivers when the URL names only the database."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextlib.contextmanager
def transaction(engine: sa.Engine, writes: bool, snapshot: bool = False) -> Iterator[sa.Connection]:
    """One transaction; ``writes`` announces writes so SQLite can lock early.

    On PostgreSQL, at READ COMMITTED (each statement its own snapshot), a read-only
    transaction guarantees nothing that autocommit does not: reads run in autocommit
    and save the BEGIN and COMMIT round trips (psycopg switches modes without one).
    SQLite keeps its transaction, which gives every statement of a request the same
    snapshot; MariaDB too, since PyMySQL spends a round trip on each mode switch.

    ``snapshot`` asks for one snapshot for every statement of a long read made of many
    statements (the streamed export): REPEATABLE READ on PostgreSQL and MariaDB (whose
    engines otherwise run at READ COMMITTED); SQLite's transaction already is one.
    """
    # Only what changes something is set: execution options cost SQLAlchemy work on every request.
    # WRITE_OPTION matters to SQLite alone (_SQLiteConnection reads it); without it a BEGIN is deferred.
    options: dict[str, Any] = {}
    dialect = engine.dialect.name
    if snapshot and dialect != "sqlite":
        options["isolation_level"] = "REPEATABLE READ"
    elif not writes and dialect == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    if writes and dialect == "sqlite":
        options[WRITE_OPTION] = True
    queue = _write_queues.get(engine) if writes else None
    with queue.turn() if queue is not None else contextlib.nullcontext(), engine.connect() as conn:
        if options:
            conn.execution_options(**options)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def savepoint(conn: sa.Connection) -> Iterator[None]:
    """Let the enclosed statements fail without aborting the request's transaction.

    A read on PostgreSQL runs in autocommit, where every statement stands alone
    and a SAVEPOINT would be an error; there the block runs as it is.
    """
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        yield
        return
    with conn.begin_nested():
        yield


def is_transient(error: sa.exc.DBAPIError) -> bool:
    """Lock timeouts, deadlocks, serialization failures, dropped connections: worth one more try."""
    return isinstance(error, sa.exc.OperationalError) or error.connection_invalidated


ATTEMPTS = 3


def run_transaction(engine: sa.Engine, writes: bool, work: Callable[[sa.Connection], T]) -> T:
    """``work`` in one transaction; a transient conflict re-runs it from scratch, up to ATTEMPTS times.

    The last transient error is raised when every attempt failed; callers answer it as "busy".
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(engine, writes) as conn:
                return work(conn)
        except sa.exc.DBAPIError as error:
            if not is_transient(error) or attempt == ATTEMPTS:
                raise
            log.warning("transient database error (attempt %d of %d): %s", attempt, ATTEMPTS, type(error.orig).__name__)
            time.sleep(0.05 * attempt * (1 + random.random()))
    raise AssertionError("unreachable: the last attempt returns or raises")


class _SQLiteConnection(sa.Connection):
    """A SQLite connection that sends its own ``BEGIN``: ``BEGIN IMMEDIATE`` when it announced writes.

    pysqlite's own transaction handling defers BEGIN; Craton issues it so that a request's
    writes are one atomic unit. Writers take the write lock up front (IMMEDIATE): a deferred
    transaction that reads and then writes cannot wait for another writer and would fail with
    "database is locked". This used to be a ``begin`` event listener; any connection-event
    listener on the engine turns on SQLAlchemy's event dispatch for every connect, begin,
    commit, execution option and (through storage/prepared.py) statement of every
    request, which cost about 80 Python calls per write transaction. The statement goes
    through :func:`storage.prepared.send`: ``before_cursor_execute`` listeners still see it,
    and a driver error arrives as SQLAlchemy's.
    """

    def _begin_impl(self, transaction: Any) -> None:
        super()._begin_impl(transaction)  # the dialect's do_begin: nothing, pysqlite is in autocommit mode
        immediate = self._execution_options.get(WRITE_OPTION, False)
        cursor = self.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            send(self, cursor, "BEGIN IMMEDIATE" if immediate else "BEGIN", ())
        finally:
            cursor.close()


class _SQLiteOptionEngine(OptionEngine):
    """``engine.execution_options(...)`` of a SQLite engine: its connections send BEGIN too."""

    _connection_cls = _SQLiteConnection


def create_engine(url: str, pool_size: int = 10, max_overflow: int = 20) -> sa.Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys on, pooled servers otherwise."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    # Parameters are request data: keep them out of exception texts and logs.
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if make_url(url).database in (None, "", ":memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
    else:
        # No pre-ping: a connection that went stale fails its query, and the request is
        # retried as a transient error (http/endpoint.py), without a ping on every checkout.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=3600)
    if backend in ("mysql", "mariadb"):
        kwargs["isolation_level"] = "READ COMMITTED"
    engine = sa.create_engine(url, **kwargs)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        database = make_url(url).database
        if database not in (None, "", ":memory:") and not database.startswith("file:"):
            # Writers of transaction() take turns (storage/writequeue.py) before BEGIN IMMEDIATE.
            _write_queues[engine] = WriteQueue(os.path.abspath(database))

        # pysqlite's own transaction handling defers BEGIN; our connections issue it themselves
        # (_SQLiteConnection), so that the engine carries no connection-event listener.
        engine._connection_cls = _SQLiteConnection
        engine._option_cls = _SQLiteOptionEngine

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

    return engine
