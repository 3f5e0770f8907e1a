"""Column types that behave the same on SQLite, PostgreSQL and MariaDB/MySQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql


def name_type(length: int = 255) -> sa.types.TypeEngine[str]:
    """A string compared byte-wise everywhere, so uniqueness and sorting agree across databases."""
    return (
        sa.String(length)
        .with_variant(mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")
        .with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")
    )


def text_type() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Stored as naive UTC with microseconds; always handed back timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime

    def load_dialect_impl(self, dialect: sa.engine.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.engine.Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.engine.Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class JSONText(sa.types.TypeDecorator[Any]):
    """JSON kept as text and parsed in Python.

    Matching of ``vars`` queries happens in Python, so the database never needs
    to understand the value; text keeps the stored bytes identical on every backend.
    """

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.engine.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: sa.engine.Dialect) -> str:
        return orjson.dumps(value).decode()

    def process_result_value(self, value: str | None, dialect: sa.engine.Dialect) -> Any:
        return None if value is None else orjson.loads(value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
