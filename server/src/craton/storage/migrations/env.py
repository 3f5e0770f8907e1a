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
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
