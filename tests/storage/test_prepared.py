"""storage/prepared.py on every backend: the same values, errors and transaction as ``Connection.execute``."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from craton.storage.engine import create_engine, is_transient, transaction
from craton.storage.inserts import MAX_ROWS_IN_ONE, row_values, rows_write
from craton.storage.prepared import Prepared, Write, can_carry, carrying, run_all
from craton.storage.types import JSONText, UTCDateTime, name_type, text_type
from tests.conftest import BACKENDS, throwaway_database

metadata = sa.MetaData()
probe = sa.Table(
    "prepared_probe",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("name", name_type(64), nullable=False, unique=True),
    sa.Column("at", UTCDateTime(), nullable=True),
    sa.Column("doc", JSONText(), nullable=True),
    sa.Column("flag", sa.Boolean, nullable=True),
    sa.Column("ratio", sa.Double(), nullable=True),
    sa.Column("body", text_type(), nullable=True),
    sa.Column("made_at", UTCDateTime(), nullable=False, default=lambda: dt.datetime.now(dt.timezone.utc)),
)
COLUMNS = ("name", "at", "doc", "flag", "ratio", "body", "made_at")
INSERT = Prepared(sa.insert(probe), column_keys=COLUMNS)
BY_NAME = Prepared(sa.select(probe).where(probe.c.name == sa.bindparam("name")))
# The same parameter twice and a literal bound in the statement (positional drivers repeat it).
TWICE = Prepared(
    sa.select(probe.c.name, sa.literal(7).label("seven"))
    .where(sa.or_(probe.c.name == sa.bindparam("name"), probe.c.body == sa.bindparam("name")))
    .order_by(probe.c.name)
)
RENAME = Prepared(sa.update(probe).where(probe.c.name == sa.bindparam("old")).values(name=sa.bindparam("new")))

ROWS = [
    {
        "name": "full",
        "at": dt.datetime(2026, 12, 3, 17, 4, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "doc": {"nested": [1, 2.5, "ünïcode ✓", None, True], "empty": {}},
        "flag": True,
        "ratio": 0.125,
        "body": "line one\nline 'two' with % and %(name)s and ?",
        "made_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    },
    {
        "name": "nulls",
        "at": None,
        "doc": None,
        "flag": None,
        "ratio": None,
        "body": None,
        "made_at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
    },
    {
        "name": "falsy",
        "at": dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.timezone.utc),
        "doc": [],
        "flag": False,
        "ratio": 0.0,
        "body": "",
        "made_at": dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc),
    },
]


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    with throwaway_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def _by_sqlalchemy(conn: sa.Connection, name: str) -> dict:
    return dict(conn.execute(sa.select(probe).where(probe.c.name == name)).one()._mapping)


def test_values_round_trip_as_with_connection_execute(engine):
    """Written by Prepared, read both ways; written by SQLAlchemy, read by Prepared: the same values and types."""
    with transaction(engine, writes=True) as conn:
        INSERT.run_many(conn, ROWS[:2])
        conn.execute(sa.insert(probe), [ROWS[2]])
    with transaction(engine, writes=False) as conn:
        for written in ROWS:
            prepared = BY_NAME.first(conn, {"name": written["name"]})
            assert prepared == _by_sqlalchemy(conn, written["name"])
            assert prepared is not None
            assert {name: prepared[name] for name in COLUMNS} == written
            assert [type(prepared[name]) for name in COLUMNS] == [type(written[name]) for name in COLUMNS]
            if written["at"] is not None:
                assert prepared["at"].tzinfo is not None  # UTCDateTime hands back aware datetimes
        assert BY_NAME.first(conn, {"name": "absent"}) is None


def test_repeated_and_literal_parameters(engine):
    with transaction(engine, writes=True) as conn:
        INSERT.run_many(conn, ROWS)
        assert TWICE.all(conn, {"name": "falsy"}) == [("falsy", 7)]
        assert TWICE.mappings(conn, {"name": "full"}) == [{"name": "full", "seven": 7}]
        assert TWICE.scalar(conn, {"name": "nobody"}) is None


def test_insert_returns_the_generated_key_and_run_the_row_count(engine):
    """Every backend: ``lastrowid`` where the driver reports it, ``RETURNING`` on PostgreSQL (psycopg has none)."""
    with transaction(engine, writes=True) as conn:
        first = INSERT.insert(conn, ROWS[0])
        second = INSERT.insert(conn, ROWS[1])
        assert second == first + 1
        assert BY_NAME.first(conn, {"name": "nulls"})["id"] == second  # type: ignore[index]
        assert RENAME.run(conn, {"old": "nulls", "new": "renamed"}) == 1
        assert RENAME.run(conn, {"old": "nulls", "new": "again"}) == 0


def test_a_prepared_write_belongs_to_the_callers_transaction(engine):
    """Visible to the transaction's other statements, undone with it when the request fails."""
    with pytest.raises(RuntimeError), transaction(engine, writes=True) as conn:
        INSERT.run(conn, ROWS[0])
        assert _by_sqlalchemy(conn, "full")["flag"] is True
        raise RuntimeError("the handler failed after the write")
    with transaction(engine, writes=True) as conn:
        assert BY_NAME.first(conn, {"name": "full"}) is None
        conn.execute(sa.insert(probe), [ROWS[1]])
        RENAME.run(conn, {"old": "nulls", "new": "kept"})
    with transaction(engine, writes=False) as conn:
        assert BY_NAME.first(conn, {"name": "kept"}) is not None


def test_a_connection_without_a_transaction_begins_one(engine):
    with engine.connect() as conn:
        INSERT.run(conn, ROWS[0])
        assert conn.in_transaction()
        conn.rollback()
        assert BY_NAME.first(conn, {"name": "full"}) is None


def test_errors_are_wrapped_as_sqlalchemy_does_without_parameters(engine):
    secret = "secret-value-that-must-not-appear"
    with transaction(engine, writes=True) as conn:
        INSERT.run(conn, {**ROWS[0], "body": secret})
    with pytest.raises(sa.exc.IntegrityError) as raised, transaction(engine, writes=True) as conn:
        INSERT.run(conn, {**ROWS[0], "body": secret})
    assert secret not in str(raised.value)
    assert "INSERT INTO prepared_probe" in str(raised.value)
    assert not is_transient(raised.value)
    with pytest.raises(sa.exc.StatementError) as raised, transaction(engine, writes=True) as conn:
        INSERT.run(conn, {**ROWS[0], "name": "bad json", "doc": {1j}})  # the bind processor fails
    assert isinstance(raised.value.orig, TypeError)


def test_events_see_prepared_statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with transaction(engine, writes=True) as conn:
            INSERT.run(conn, ROWS[0])
            BY_NAME.first(conn, {"name": "full"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    prepared = [statement for statement in seen if "prepared_probe" in statement]
    assert len(prepared) == 2
    assert (engine.dialect.name == "sqlite") is any(statement.startswith("BEGIN") for statement in seen)


def test_a_dropped_connection_is_invalidated_and_transient(engine):
    """The server ends the session: the error reports the invalidated connection, so the request is retried."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no server connections to drop")
    with transaction(engine, writes=True) as conn:
        INSERT.run(conn, ROWS[0])
    with engine.connect() as victim:
        victim.begin()
        if engine.dialect.name == "postgresql":
            pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            kill = f"SELECT pg_terminate_backend({pid})"
        else:
            pid = victim.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one()
            kill = f"KILL {pid}"
        victim.rollback()
        killer = threading.Thread(target=lambda: _run_elsewhere(engine, kill))
        killer.start()
        killer.join()
        with pytest.raises(sa.exc.DBAPIError) as raised:
            BY_NAME.first(victim, {"name": "full"})
        assert raised.value.connection_invalidated
        assert is_transient(raised.value)
        assert victim.invalidated


def _run_elsewhere(engine: sa.Engine, sql: str) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
        conn.commit()


def test_statements_that_cannot_be_prepared_are_refused(engine):
    expanding = Prepared(sa.select(probe.c.id).where(probe.c.name.in_(sa.bindparam("names", expanding=True))))
    defaulted = Prepared(sa.insert(probe), column_keys=("name",))  # made_at has a Python-side default
    with transaction(engine, writes=False) as conn:
        with pytest.raises(ValueError, match="expanding"):
            expanding.all(conn, {"names": ["a"]})
        with pytest.raises(ValueError, match="Python-side default"):
            defaulted.run(conn, {"name": "x"})


def test_a_text_statement_takes_its_column_names_from_the_driver(engine):
    both = Prepared(sa.text("SELECT name AS found, body FROM prepared_probe WHERE name = :name"))
    with transaction(engine, writes=True) as conn:
        INSERT.run(conn, ROWS[2])
        assert both.mappings(conn, {"name": "falsy"}) == [{"found": "falsy", "body": ""}]
        assert both.first(conn, {"name": "falsy"}) == {"found": "falsy", "body": ""}


def test_a_statement_without_parameters_keeps_its_percent_signs(engine):
    """The compiler writes a literal ``%`` as ``%%`` for pyformat drivers, which undo it only when given parameters."""
    like = Prepared(sa.select(probe.c.name).where(probe.c.body.like(sa.literal_column("'line%'"))))
    with transaction(engine, writes=True) as conn:
        INSERT.run_many(conn, ROWS)
        assert like.all(conn, {}) == [("full",)]


# ---------------------------------------------------------------- writes carried by a later statement

BUMP = Prepared(sa.update(probe).where(probe.c.name == sa.bindparam("bumped")).values(ratio=sa.bindparam("to")))
NAMED = Prepared(
    sa.insert(probe).values(name=sa.bindparam("named"), made_at=sa.bindparam("named_at", type_=UTCDateTime()))
)
AT = dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc)


def _many(count: int) -> Prepared:
    return Prepared(sa.insert(probe).values(row_values(probe, "p_", ("made_at",), ("name",), count)))


def _counted(engine: sa.Engine, work) -> list[str]:
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [statement for statement in sent if not statement.startswith("BEGIN")]


def test_writes_carried_by_a_statement_are_one_statement_on_postgresql(engine):
    """PostgreSQL: ``WITH carried_0 AS (UPDATE ...), carried_1 AS (INSERT ...) INSERT ...``, one round trip."""
    with transaction(engine, writes=True) as conn:
        INSERT.run(conn, ROWS[0])
    carried = [Write(BUMP, {"bumped": "full", "to": 0.5}), Write(NAMED, {"named": "second", "named_at": AT})]
    main = Prepared(
        sa.insert(probe).values(name=sa.bindparam("main"), made_at=sa.bindparam("main_at", type_=UTCDateTime()))
    )
    params = {"main": "third", "main_at": AT, "bumped": "full", "to": 0.5, "named": "second", "named_at": AT}

    def work():
        with transaction(engine, writes=True) as conn:
            if can_carry(conn.dialect, carried):
                assert carrying(conn.dialect, main, tuple(w.prepared for w in carried)).run(conn, params) == 1
            else:
                run_all(conn, carried)
                main.run(conn, params)

    sent = _counted(engine, work)
    assert len(sent) == (1 if engine.dialect.name == "postgresql" else 3)
    with transaction(engine, writes=False) as conn:
        assert BY_NAME.first(conn, {"name": "full"})["ratio"] == 0.5  # type: ignore[index]
        assert BY_NAME.first(conn, {"name": "second"})["made_at"] == AT  # type: ignore[index]
        assert BY_NAME.first(conn, {"name": "third"}) is not None


def test_a_failing_part_undoes_the_whole_carrying_statement(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL carries writes")
    with transaction(engine, writes=True) as conn:
        INSERT.run(conn, ROWS[0])
    main = Prepared(
        sa.insert(probe).values(name=sa.bindparam("main"), made_at=sa.bindparam("main_at", type_=UTCDateTime()))
    )
    with pytest.raises(sa.exc.IntegrityError), transaction(engine, writes=True) as conn:
        statement = carrying(conn.dialect, main, (BUMP, NAMED))
        statement.run(conn, {"main": "full", "main_at": AT, "bumped": "full", "to": 0.5, "named": "x", "named_at": AT})
    with transaction(engine, writes=False) as conn:
        assert BY_NAME.first(conn, {"name": "full"})["ratio"] == ROWS[0]["ratio"]  # type: ignore[index]
        assert BY_NAME.first(conn, {"name": "x"}) is None


def test_carrying_refuses_shared_parameters_and_column_keys(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL carries writes")
    again = Prepared(
        sa.update(probe).where(probe.c.name == sa.bindparam("bumped")).values(body=sa.bindparam("body_to"))
    )
    with pytest.raises(ValueError, match="share"):
        carrying(engine.dialect, NAMED, (BUMP, again))
    with pytest.raises(ValueError, match="column_keys"):
        carrying(engine.dialect, NAMED, (INSERT,))


@pytest.mark.parametrize("count", [1, 3, MAX_ROWS_IN_ONE, MAX_ROWS_IN_ONE + 1])
def test_rows_write_is_one_carriable_statement_on_postgresql_up_to_its_limit(engine, count):
    rows = [{"name": f"row-{n}"} for n in range(count)]
    single = Prepared(sa.insert(probe), column_keys=("name", "made_at"))
    write = rows_write(engine.dialect.name, single, _many, "p_", {"made_at": AT}, rows)
    one = engine.dialect.name == "postgresql" and count <= MAX_ROWS_IN_ONE
    assert can_carry(engine.dialect, [write]) is one

    def work():
        with transaction(engine, writes=True) as conn:
            write.run(conn)

    sent = _counted(engine, work)
    assert len(sent) == 1  # one statement, or one executemany
    with transaction(engine, writes=False) as conn:
        names = conn.execute(sa.select(probe.c.name, probe.c.made_at).order_by(probe.c.id)).all()
    assert [tuple(row) for row in names] == [(row["name"], AT) for row in rows]
