"""storage/bulk.update_many on every backend: each row gets its own values, in a fixed number of statements."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from craton.storage import bulk
from craton.storage.engine import create_engine, transaction
from craton.storage.types import JSONText, UTCDateTime, name_type
from tests.conftest import BACKENDS, QueryCounter, throwaway_database

metadata = sa.MetaData()
probe = sa.Table(
    "bulk_probe",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", name_type(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("parent_id", sa.Integer, nullable=True),
    sa.Column("doc", JSONText(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=True),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
)
ROWS = 2500  # MariaDB: more than two statements' worth
AT = dt.datetime(2026, 12, 3, 20, 15, 1, 123456, tzinfo=dt.timezone.utc)


def _updates_sent(conn: sa.Connection) -> int:
    """UPDATE statements this MariaDB session has run: what the server received, one per round trip."""
    counters = conn.exec_driver_sql("SHOW SESSION STATUS WHERE Variable_name IN ('Com_update', 'Com_update_multi')")
    return sum(int(value) for _, value in counters)


@pytest.mark.parametrize("backend", BACKENDS)
def test_update_many_sets_each_rows_values_in_a_few_statements(backend: str, tmp_path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            metadata.create_all(engine)
            with transaction(engine, writes=True) as conn:
                conn.execute(
                    sa.insert(probe),
                    [{"id": n, "name": f"row-{n}", "active": True, "parent_id": None} for n in range(ROWS + 10)],
                )
            # Every other row flips; the first row's values are NULL and short, later ones are not.
            changes = [
                {
                    "id": n,
                    "name": f"ünïcode ✓ 'quoted' %s %(x)s ? row {n}" if n else "x",
                    "active": n % 2 == 1,
                    "parent_id": None if n % 3 == 0 else n * 7,
                    "doc": None if n == 0 else {"n": n, "list": [n, "a"]},
                }
                for n in range(ROWS)
            ]
            changes.append({"id": 10**6, "name": "gone", "active": False, "parent_id": 1, "doc": None})
            with transaction(engine, writes=True) as conn, QueryCounter(engine) as counted:
                before = _updates_sent(conn) if backend == "mariadb" else 0
                bulk.update_many(conn, probe, changes, {"updated_at": AT})
                sent = _updates_sent(conn) - before if backend == "mariadb" else None
            with engine.connect() as conn:
                found = {row.id: row for row in conn.execute(sa.select(probe).order_by(probe.c.id))}
            assert len(found) == ROWS + 10
            for change in changes[:-1]:
                row = found[change["id"]]
                got = {"id": row.id, "name": row.name, "active": row.active, "parent_id": row.parent_id, "doc": row.doc}
                assert got == change and row.updated_at == AT
            for n in range(ROWS, ROWS + 10):  # not named: untouched
                assert (found[n].name, found[n].active, found[n].updated_at) == (f"row-{n}", True, None)
            updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
            if backend == "mariadb":
                # Counted by the server: PyMySQL's executemany sent one UPDATE per row (2,501).
                assert sent == len(updates) == math.ceil((ROWS + 1) / 1000) == 3, (sent, updates)
            else:
                assert len(updates) == 1  # PostgreSQL: one statement; SQLite: one executemany in process
        finally:
            metadata.drop_all(engine)
            engine.dispose()
