"""storage/batches.py on every backend: fixed-size batches give what one ``Connection.execute`` would."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from craton.storage import batches
from craton.storage.engine import create_engine, transaction
from craton.storage.types import JSONText, UTCDateTime, name_type
from tests.conftest import BACKENDS, QueryCounter, throwaway_database

metadata = sa.MetaData()
probe = sa.Table(
    "batches_probe",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("owner", name_type(36), nullable=False),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("doc", JSONText(), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
)
COUNT = 2500


def _build(found: sa.ColumnElement[bool]) -> sa.Select[tuple[int, int, str, bool, object, dt.datetime]]:
    # A literal (a parameter with its own value) before the ids, the caller's parameter after them.
    return sa.select(
        probe.c.id, (probe.c.id + sa.literal(1000)).label("later"), probe.c.owner, probe.c.flag, probe.c.doc, probe.c.at
    ).where(found, probe.c.owner != sa.bindparam("not_owner"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_batches_read_typed_rows_and_mappings_in_one_statement_per_batch(backend, tmp_path):
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            metadata.create_all(engine)
            at = dt.datetime(2026, 12, 3, 20, 0, 1, 250000, tzinfo=dt.timezone.utc)
            with engine.begin() as conn:
                conn.execute(
                    sa.insert(probe),
                    [
                        {"id": n, "owner": f"o{n % 7}", "flag": n % 2 == 0, "doc": {"n": n, "l": [n, None]}, "at": at}
                        for n in range(COUNT)
                    ],
                )
            # Every third id, ids that are not there, and owner o3 left out by the extra parameter.
            wanted = [*range(0, COUNT, 3), COUNT + 1, COUNT + 2]
            expected_stmt = _build(probe.c.id.in_(wanted))
            params = {"not_owner": "o3"}
            with transaction(engine, writes=False, snapshot=True) as conn:
                expected = sorted(tuple(row) for row in conn.execute(expected_stmt, params))
                with QueryCounter(engine) as counter:
                    found = sorted(
                        tuple(row) for row in batches.select_in(conn, "probe", _build, probe.c.id, wanted, params)
                    )
                assert counter.count == -(-len(wanted) // batches.SIZE)
                mapped = list(batches.select_in_mappings(conn, "probe", _build, probe.c.id, wanted[:5], params))
            assert found == expected
            assert len(found) == len([n for n in range(0, COUNT, 3) if n % 7 != 3])
            first = found[0]
            assert first == (0, 1000, "o0", True, {"n": 0, "l": [0, None]}, at)
            assert type(first[3]) is bool and first[5].tzinfo is not None
            by_id = {row["id"]: row for row in mapped}
            assert by_id[0] == {
                "id": 0,
                "later": 1000,
                "owner": "o0",
                "flag": True,
                "doc": {"n": 0, "l": [0, None]},
                "at": at,
            }
            assert sorted(by_id) == [n for n in wanted[:5] if n % 7 != 3]
        finally:
            metadata.drop_all(engine)
            engine.dispose()
