"""Migrations build the schema on every backend, go down cleanly, and match the table definitions."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from craton.storage import migrate
from craton.storage import variables as variable_store
from craton.storage.engine import create_engine
from craton.storage.tables import metadata, projects, webhooks
from tests.conftest import BACKENDS, throwaway_database


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_downgrade_upgrade_and_no_drift(backend, tmp_path):
    with throwaway_database(backend, tmp_path) as url:
        assert migrate.version(url) == migrate.head_revision()
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
            assert diff == []
            migrate.downgrade(url, "base")
            assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
            migrate.upgrade(url)
            assert {"projects", "devices", "variables", "labels"} <= set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_sqlite_upgrade_keeps_rows_and_never_reuses_a_recorded_id(tmp_path):
    """0007 rebuilds SQLite tables with AUTOINCREMENT: rows, labels and links survive, and the
    next id is above every id in use and every id the history names (a deleted newest host)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0006")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in (
                "INSERT INTO projects (id, name, created_at) VALUES ('p', 'p', '2026-01-01 00:00:00')",
                "INSERT INTO clouds (id, project_id, name, created_at) VALUES (1, 'p', 'c', '2026-01-01 00:00:00')",
                "INSERT INTO regions (id, project_id, cloud_id, name, created_at) "
                "VALUES (1, 'p', 1, 'r', '2026-01-01 00:00:00')",
                "INSERT INTO devices (id, kind, project_id, cloud_id, region_id, name, device_type, ip_address, "
                "active, created_at) VALUES (3, 'host', 'p', 1, 1, 'h', 'server', '10.0.0.1', 1, '2026-01-01')",
                "INSERT INTO labels (device_id, label) VALUES (3, 'gpu')",
                # Host 7 existed and was deleted: only its history remembers it.
                "INSERT INTO changes (project_id, occurred_at, action, resource_type, resource_id) "
                "VALUES ('p', '2026-01-01 00:00:00', 'delete', 'host', '7')",
            ):
                conn.exec_driver_sql(statement)
        engine.dispose()
        migrate.upgrade(url)
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT label FROM labels WHERE device_id = 3").scalar_one() == "gpu"
            conn.exec_driver_sql(
                "INSERT INTO devices (kind, project_id, cloud_id, region_id, name, device_type, ip_address, "
                "active, created_at) VALUES ('host', 'p', 1, 1, 'new', 'server', '10.0.0.2', 1, '2026-01-02')"
            )
            assert conn.exec_driver_sql("SELECT id FROM devices WHERE name = 'new'").scalar_one() == 8
            conn.exec_driver_sql("DELETE FROM devices WHERE name = 'new'")
            conn.exec_driver_sql(
                "INSERT INTO devices (kind, project_id, cloud_id, region_id, name, device_type, ip_address, "
                "active, created_at) VALUES ('host', 'p', 1, 1, 'newer', 'server', '10.0.0.3', 1, '2026-01-03')"
            )
            assert conn.exec_driver_sql("SELECT id FROM devices WHERE name = 'newer'").scalar_one() == 9
            # Foreign keys are enforced again and still point at the rebuilt tables.
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            with pytest.raises(sa.exc.IntegrityError):
                conn.exec_driver_sql("INSERT INTO labels (device_id, label) VALUES (999, 'x')")
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0016_rewrites_hyphenated_resource_types_of_saved_webhooks(backend, tmp_path):
    """Filters saved with ``network-device`` (the CLI's old help) now name ``network_device``."""
    with throwaway_database(backend, tmp_path) as url:
        migrate.downgrade(url, "0013")
        engine = create_engine(url)
        saved = [
            {"resource_types": ["network-device", "host", "network_device"], "actions": ["update"]},
            {"resource_types": ["cell"]},
            {"keys": ["ntp"]},
        ]
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(projects).values(id="p", name="p", created_at=dt.datetime(2026, 1, 1)))
                for filters in saved:
                    conn.execute(
                        sa.insert(webhooks).values(
                            project_id="p",
                            url="http://127.0.0.1/",
                            secret="s" * 16,
                            events=["change"],
                            filters=filters,
                            enabled=True,
                            consecutive_failures=0,
                            created_at=dt.datetime(2026, 1, 1),
                        )
                    )
            migrate.upgrade(url)
            with engine.connect() as conn:
                stored = list(conn.execute(sa.select(webhooks.c.filters).order_by(webhooks.c.id)).scalars())
            assert stored == [
                {"resource_types": ["network_device", "host"], "actions": ["update"]},
                {"resource_types": ["cell"]},
                {"keys": ["ntp"]},
            ]
        finally:
            engine.dispose()


def _variables_sql(conn: sa.Connection) -> str:
    return str(conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'variables'").scalar_one())


def test_0018_stores_sqlite_variables_in_primary_key_order_and_keeps_them(tmp_path):
    """0018 rebuilds SQLite's variables WITHOUT ROWID: the rows, the indexes and the upsert survive; down undoes it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0017")
    engine = create_engine(url)
    rows = [("device", "7", "b", "[1,2]"), ("device", "7", "a", '"x"'), ("cell", "3", "ntp", "null")]
    try:
        with engine.begin() as conn:
            assert "WITHOUT ROWID" not in _variables_sql(conn)
            for kind, owner_id, key, value in rows:
                conn.exec_driver_sql(
                    "INSERT INTO variables (owner_kind, owner_id, key, value, project_id, created_at) "
                    "VALUES (?, ?, ?, ?, 'p', '2026-01-01 00:00:00')",
                    (kind, owner_id, key, value),
                )
        engine.dispose()
        migrate.upgrade(url)
        with engine.begin() as conn:
            assert "WITHOUT ROWID" in _variables_sql(conn)
            kept = conn.exec_driver_sql("SELECT owner_kind, owner_id, key, value FROM variables").all()
            # In primary-key order as stored, whatever order they were written in.
            assert [tuple(row) for row in kept] == sorted(rows)
            indexes = {row[1] for row in conn.exec_driver_sql("PRAGMA index_list('variables')")}
            assert {"ix_variables_key_owner_kind", "ix_variables_project_id"} <= indexes
            variable_store.upsert(conn, ("device", "7"), "p", {"a": {"y": 1}, "c": True})
            assert variable_store.load_own(conn, ("device", "7")) == {"a": {"y": 1}, "b": [1, 2], "c": True}
        engine.dispose()
        migrate.downgrade(url, "0017")
        with engine.begin() as conn:
            assert "WITHOUT ROWID" not in _variables_sql(conn)
            assert conn.exec_driver_sql("SELECT count(*) FROM variables").scalar_one() == 4
    finally:
        engine.dispose()
