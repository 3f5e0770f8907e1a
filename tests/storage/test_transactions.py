"""How a request's connection is opened, and filtered keyset scans over several chunks, on every backend."""

from __future__ import annotations

import random

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
