"""An outbox nobody pumps: ``[events] queue = false`` keeps writes from filling it, and a backlog
older than ``[events] backlog_warn_seconds`` is warned about in the log, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from craton.domain.events import backlog
from craton.settings import SettingsError, load_settings
from craton.storage.engine import create_engine, transaction
from craton.storage.tables import changes, event_outbox
from tests.api.helpers import expect, run_craton_events_once
from tests.conftest import BACKENDS, LiveServer, running_server, throwaway_database

BACKLOG_LOGGER = "craton.domain.events.backlog"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("db")) as url:
        yield url


def count(server: LiveServer, table: sa.Table) -> int:
    with server.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def outbox_gauge(client: httpx.Client) -> float:
    text = client.get("/metrics").text
    found = re.search(r"^craton_events_outbox_oldest_seconds (\S+)$", text, re.MULTILINE)
    assert found, "the gauge is not in /metrics"
    return float(found.group(1))


def test_with_queue_off_writes_record_history_but_queue_nothing(backend: str, database: str) -> None:
    """Events off everywhere and ``queue = false``: the outbox stays empty, whatever the writes."""
    with running_server(backend, database, events_enabled=False, events_queue=False) as live:
        client = live.client()
        before = count(live, changes)
        cloud = expect(client.post("/v1/clouds", json={"name": "q", "variables": {"ntp": "a"}}), 201)
        region = expect(client.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}), 201)
        host = expect(
            client.post(
                "/v1/hosts",
                json={
                    "name": "h",
                    "cloud_id": cloud["id"],
                    "region_id": region["id"],
                    "ip_address": "10.0.0.1",
                    "device_type": "server",
                },
            ),
            201,
        )
        expect(client.put(f"/v1/hosts/{host['id']}/variables", json={"dns": "b"}), 200)
        expect(client.put(f"/v1/hosts/{host['id']}/labels", json={"labels": ["gpu"]}), 200)
        assert client.delete(f"/v1/regions/{region['id']}").status_code == 204  # a cascade: many records at once
        assert count(live, changes) - before >= 7
        assert count(live, event_outbox) == 0


def test_a_backlog_no_process_pumps_is_warned_about_until_it_is_gone(
    backend: str, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The API pumps nothing (``[events] enabled = false``) and no craton-events runs: the log,
    ``/readyz`` and ``/metrics`` say so within the threshold; once a pump ran, they stop."""
    caplog.set_level(logging.INFO, logger=BACKLOG_LOGGER)
    with running_server(
        backend, database, events_enabled=False, events_backlog_warn_seconds=1.0, events_interval=0.1
    ) as live:
        client = live.client()
        expect(client.post("/v1/clouds", json={"name": "waiting"}), 201)
        assert count(live, event_outbox) >= 1
        deadline = time.monotonic() + 15
        while "warnings" not in (ready := expect(client.get("/readyz"), 200)):
            assert time.monotonic() < deadline, "no warning in /readyz"
            time.sleep(0.1)
        assert ready["status"] == "ready"  # still serving: a hint, not an outage
        (warning,) = ready["warnings"]
        assert "event outbox: the oldest pending change has waited" in warning
        assert "no event pump seems to run" in warning and "[events] queue = false" in warning
        assert outbox_gauge(client) > 1.0
        logged = [r for r in caplog.records if r.name == BACKLOG_LOGGER and r.levelno == logging.WARNING]
        assert len(logged) == 1 and "no event pump seems to run" in logged[0].getMessage()  # once, not every look

        run_craton_events_once(live.database_url)  # what the warning asks for
        assert count(live, event_outbox) == 0
        deadline = time.monotonic() + 15
        while "warnings" in expect(client.get("/readyz"), 200):
            assert time.monotonic() < deadline, "the warning outlived the backlog"
            time.sleep(0.1)
        assert outbox_gauge(client) == 0.0
        assert any("backlog is gone" in r.getMessage() for r in caplog.records if r.name == BACKLOG_LOGGER)


def test_the_watch_tells_a_stuck_pump_from_a_missing_one(
    backend: str, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``Watch`` on its own: an hour-old row, in a process that pumps and in one that does not."""
    caplog.set_level(logging.INFO, logger=BACKLOG_LOGGER)
    engine = create_engine(database)
    try:
        an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        with transaction(engine, writes=True) as conn:
            conn.execute(sa.insert(event_outbox).values(project_id="p", change_id=1, created_at=an_hour_ago))
        pumping, idle, quiet = (
            backlog.Watch(600, pumping_here=True),
            backlog.Watch(600, pumping_here=False),
            backlog.Watch(0, pumping_here=False),
        )
        for watch in (pumping, idle, quiet, pumping):  # the second look of ``pumping`` is not logged again
            assert watch(engine) == 0
        assert pumping.latest is not None and 3590 < pumping.latest.oldest_seconds < 3700
        assert "this process pumps, so the pump is failing or far behind" in (pumping.hint() or "")
        assert "no event pump seems to run" in (idle.hint() or "")
        assert quiet.hint() is None and quiet.every == backlog.WATCH_EVERY  # 0: never warn, still measured
        assert backlog.Watch(2, pumping_here=False).every == 1.0
        warnings = [r.getMessage() for r in caplog.records if r.name == BACKLOG_LOGGER]
        assert len(warnings) == 2
    finally:
        engine.dispose()


def test_settings() -> None:
    settings = load_settings(environ={"CRATON_EVENTS_QUEUE": "false", "CRATON_EVENTS_BACKLOG_WARN_SECONDS": "30"})
    assert settings.events_queue is False and settings.events_backlog_warn_seconds == 30
    assert load_settings(environ={}).events_queue is True
    with pytest.raises(SettingsError, match="backlog_warn_seconds"):
        load_settings(environ={"CRATON_EVENTS_BACKLOG_WARN_SECONDS": "-1"})


def test_the_oldest_pending_change_is_the_oldest_by_time_not_the_smallest_id(backend: str, database: str) -> None:
    """Ids and times disagree (a long request's rows take ids after later, shorter ones'; sequences
    hand out ids out of commit order): the age is that of the oldest ``created_at``, read over its index."""
    engine = create_engine(database)
    now = dt.datetime(2026, 12, 3, 12, 0, 0, tzinfo=dt.UTC)
    rows = [
        {"project_id": "p", "change_id": n, "created_at": now - dt.timedelta(seconds=10 + n % 50)} for n in range(2000)
    ]
    rows.append({"project_id": "p", "change_id": 9999, "created_at": now - dt.timedelta(hours=1)})  # largest id
    try:
        with transaction(engine, writes=True) as conn:
            conn.execute(sa.insert(event_outbox), rows)
        with transaction(engine, writes=False) as conn:
            assert backlog.oldest_pending_age(conn, now) == 3600.0
        with engine.connect() as conn:
            if backend == "sqlite":
                plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + _sql(conn)))
                assert "USING COVERING INDEX ix_event_outbox_created_at" in plan, plan
            elif backend == "postgresql":
                conn.exec_driver_sql("ANALYZE event_outbox")
                plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + _sql(conn)))
                assert "Index Only Scan" in plan and "ix_event_outbox_created_at" in plan, plan
            else:
                conn.exec_driver_sql("ANALYZE TABLE event_outbox")
                extra = [row._mapping["Extra"] for row in conn.exec_driver_sql("EXPLAIN " + _sql(conn))]
                assert extra == ["Select tables optimized away"], extra  # answered from the index's end
    finally:
        engine.dispose()


def _sql(conn: sa.Connection) -> str:
    return str(backlog._OLDEST.compile(conn))
