"""Result rows as read-only mappings by column name, the shape every layer passes around."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import sqlalchemy as sa

Row = Mapping[str, Any]


def as_row(row: sa.Row[Any]) -> Row:
    """SQLAlchemy types ``_mapping`` as keyed by column objects too; Craton only reads by name."""
    return cast(Row, row._mapping)


def as_rows(rows: Iterable[sa.Row[Any]]) -> list[Row]:
    return [cast(Row, row._mapping) for row in rows]
