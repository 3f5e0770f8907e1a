"""Migrations build the schema on every backend, go down cleanly, and match the table definitions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from craton.storage import migrate
from craton.storage.engine import create_engine
from craton.storage.tables import metadata
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
