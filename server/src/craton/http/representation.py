"""Read models out as JSON objects: declared fields only, plus variables, labels and up-links.

The read use cases (``domain/objects.py``) return the rows with everything a page shows
beyond them (variables, blame, labels, parent kinds: ``domain/readmodel.py``), loaded in
a fixed number of queries for the whole page; this module only shapes them and holds no
database connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from craton.domain import kinds
from craton.domain.readmodel import Details, Item
from craton.http.jsonio import timestamp
from craton.http.urls import base_url

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Shape:
    """The fields of one resource's JSON object; devices also carry labels and an ``up`` link."""

    owner_kind: str
    fields: tuple[str, ...]
    device: bool = False


def _field(value: Any) -> Any:
    return timestamp(value) if isinstance(value, dt.datetime) else value


def up_link(base: str, row: Row, parent_kinds: Mapping[int, str]) -> dict[str, str]:
    if row["parent_id"] is not None:
        parent = kinds.by_resource_type(parent_kinds.get(row["parent_id"], "host"))
        path = f"{parent.path.removeprefix('/v1/')}/{row['parent_id']}"
    elif row["cell_id"] is not None:
        path = f"cells/{row['cell_id']}"
    else:
        path = f"regions/{row['region_id']}"
    return {"href": f"{base}/v1/{path}", "rel": "up"}


def present(request: Request, shape: Shape, rows: Sequence[Row], details: Details) -> list[dict[str, Any]]:
    """JSON objects for ``rows``, with the details the domain loaded for them (no database here)."""
    base = base_url(request)
    result = []
    for row in rows:
        item = {name: _field(row[name]) for name in shape.fields}
        if details.variables is not None:
            item["variables"] = details.variables.get(row["id"], {})
        if details.blame is not None:
            item["blame"] = details.blame.get(row["id"], {})
        if shape.device:
            item["labels"] = (details.labels or {}).get(row["id"], [])
            item["links"] = [up_link(base, row, details.parent_kinds)]
        result.append(item)
    return result


def present_one(request: Request, shape: Shape, item: Item) -> dict[str, Any]:
    """The JSON object of one object's read model."""
    return present(request, shape, [item.row], item.details)[0]
