"""Alembic environment: runs migrations on the engine Craton itself would build."""

from __future__ import annotations

from alembic import context

from craton.storage.engine import create_engine
from craton.storage.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "craton.storage.migrate always sets sqlalchemy.url"
engine = create_engine(url)
try:
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A table rebuild (Alembic batch mode) drops the old table: with foreign keys on,
            # SQLite would first delete its rows and cascade that to every table referring to
            # it. The pragma is ignored inside a transaction, so it goes to the driver first.
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
