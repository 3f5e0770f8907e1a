"""How a request's connection is opened, and filtered keyset scans over several chunks, on every backend."""

from __future__ import annotations

import cProfile
import pstats
import random
import sqlite3

import pytest
import sqlalchemy as sa

from craton.storage import keyset
from craton.storage.engine import create_engine, savepoint, transaction
from tests.conftest import BACKENDS, throwaway_database


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    with throwaway_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _autocommit(conn: sa.Connection) -> bool:
    """Whether the driver connection is outside any transaction (asked after a statement ran)."""
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        return bool(driver.autocommit)
    if conn.dialect.name == "sqlite":
        return not driver.in_transaction
    return bool(driver.get_autocommit())


def test_reads_on_postgresql_run_in_autocommit_and_writes_in_a_transaction(engine):
    with transaction(engine, writes=False) as conn:
        conn.execute(sa.text("SELECT 1"))
        assert _autocommit(conn) is (engine.dialect.name == "postgresql")
    with transaction(engine, writes=True) as conn:
        conn.execute(sa.text("SELECT 1"))
        assert _autocommit(conn) is False
    # the pool hands the connection back in its default mode
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT 1"))
        assert _autocommit(conn) is False


def test_a_write_transaction_rolls_back_on_error(engine):
    table = sa.Table("probe_rollback", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    table.create(engine)
    with pytest.raises(RuntimeError), transaction(engine, writes=True) as conn:
        conn.execute(table.insert().values(id=1))
        raise RuntimeError("handler failed")
    with transaction(engine, writes=False) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_filtered_pages_cross_scan_chunks_in_both_directions(engine, monkeypatch):
    """A predicate that rejects most rows makes each page read several chunks, forward and for ``prev``."""
    monkeypatch.setattr(keyset, "_SCAN_CHUNK", 3)
    table = sa.Table(
        "probe_items",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(20), nullable=True),
    )
    table.create(engine)
    rng = random.Random(5)
    rows = [{"id": i, "name": rng.choice([None, "a", "b", "c"])} for i in range(1, 61)]
    with transaction(engine, writes=True) as conn:
        conn.execute(table.insert(), rows)
    keep = lambda row: row["id"] % 5 == 0  # noqa: E731
    for descending in (False, True):
        ordering = keyset.Ordering((table.c.name, table.c.id), descending)
        expected = sorted(
            (r for r in rows if keep(r)),
            key=lambda r: (r["name"] is not None, r["name"] or "", r["id"]),
            reverse=descending,
        )
        seen, marker, pages = [], None, []
        while True:
            with transaction(engine, writes=False) as conn:
                page = keyset.fetch_page(conn, sa.select(table), ordering, 4, marker, keep)
            pages.append(page)
            seen.extend(dict(r) for r in page.rows)
            if not page.has_next:
                break
            marker = page.rows[-1]
        assert seen == expected
        assert len(pages) == 3
        # prev of the third page is the first page's marker position: the page before starts at the top
        assert pages[1].prev_marker_row is None
        assert dict(pages[2].prev_marker_row) == expected[3]


def test_a_failed_statement_inside_a_savepoint_leaves_the_request_usable(engine):
    """The Keystone first-use insert: losing a race to a concurrent insert must not abort the request."""
    table = sa.Table("probe_unique", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    table.create(engine)
    with transaction(engine, writes=True) as conn:
        conn.execute(table.insert().values(id=1))
    for writes in (False, True):
        with transaction(engine, writes=writes) as conn:
            with pytest.raises(sa.exc.IntegrityError), savepoint(conn):
                conn.execute(table.insert().values(id=1))
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1


def _sqlite_file(engine: sa.Engine) -> str:
    return engine.url.database


def _another_writer_is_refused(engine: sa.Engine) -> bool:
    """Whether a second SQLite connection (no busy wait) finds the write lock taken."""
    other = sqlite3.connect(_sqlite_file(engine), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        other.close()


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "sqlite"])
def test_sqlite_transactions_send_their_own_begin_without_engine_events(backend, tmp_path):
    """A write transaction holds the write lock from its BEGIN (IMMEDIATE), before any statement; a read
    transaction and a plain ``engine.begin()`` (also through ``execution_options``) begin deferred; the
    BEGIN passes ``before_cursor_execute`` listeners; and the engine carries no connection-event
    listener, whose dispatch SQLAlchemy would otherwise run on every connect, begin, commit and
    statement (a ``begin`` listener did this until session 7)."""
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            assert not engine._has_events and not engine.dispatch.begin
            with transaction(engine, writes=True) as conn:
                assert conn.connection.driver_connection.in_transaction
                assert _another_writer_is_refused(engine)
            assert not _another_writer_is_refused(engine)
            for opened in (
                lambda: transaction(engine, writes=False),
                engine.begin,
                engine.execution_options(logging_token="probe").begin,
            ):
                with opened() as conn:
                    assert conn.connection.driver_connection.in_transaction  # BEGIN sent, deferred
                    assert not _another_writer_is_refused(engine)
            seen: list[str] = []
            record = lambda _c, _cur, statement, *_args: seen.append(statement)  # noqa: E731
            sa.event.listen(engine, "before_cursor_execute", record)
            try:
                with transaction(engine, writes=True):
                    pass
                with transaction(engine, writes=False):
                    pass
            finally:
                sa.event.remove(engine, "before_cursor_execute", record)
            assert seen == ["BEGIN IMMEDIATE", "BEGIN"]
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b in ("sqlite", "postgresql")])
def test_the_transaction_machinery_costs_few_python_calls(backend, tmp_path):
    """Python calls of one empty write transaction (queue turn, check-out, BEGIN, COMMIT, check-in), counted
    by cProfile: SQLite 198 and PostgreSQL 109 before session 7, 124 and 106 after (docs/performance.md).
    The bound leaves room for a SQLAlchemy patch release, not for the event dispatch coming back."""
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            for _ in range(20):
                with transaction(engine, writes=True):
                    pass
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(100):
                with transaction(engine, writes=True):
                    pass
            profile.disable()
            calls = pstats.Stats(profile).total_calls / 100  # type: ignore[attr-defined]
        finally:
            engine.dispose()
    assert calls <= {"sqlite": 140, "postgresql": 115}[backend], calls
