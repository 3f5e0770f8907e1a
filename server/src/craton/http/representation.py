"""Rows out as JSON objects: declared fields only, plus variables, labels and up-links.

Everything a page needs beyond its rows (variables, labels, parent kinds) is
loaded in a fixed number of queries for the whole page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request

from craton.domain import devices as device_domain
from craton.domain import kinds, resolution
from craton.domain.history import blame as history_blame
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


def present(
    request: Request,
    conn: sa.Connection,
    shape: Shape,
    rows: Sequence[Row],
    with_variables: bool = False,
    resolved: bool = False,
    given_variables: Mapping[str, Any] | None = None,
    with_blame: bool = False,
) -> list[dict[str, Any]]:
    """JSON objects for ``rows``; ``given_variables`` skips the read right after a create."""
    if not rows:
        return []
    variables: dict[Any, dict[str, Any]] = {}
    if given_variables is not None:
        variables = {row["id"]: dict(given_variables) for row in rows}
    elif with_variables:
        variables = resolution.variables_for(conn, shape.owner_kind, list(rows), resolved)
    blame = history_blame.blame(conn, shape.owner_kind, list(rows), resolved) if with_blame else {}
    labels: dict[int, list[str]] = {}
    parent_kinds: dict[int, str] = {}
    base = base_url(request)
    if shape.device:
        labels = device_domain.labels_of(conn, [row["id"] for row in rows])
        parent_kinds = device_domain.parent_kinds(conn, rows)
    result = []
    for row in rows:
        item = {name: _field(row[name]) for name in shape.fields}
        if with_variables or given_variables is not None:
            item["variables"] = variables.get(row["id"], {})
        if with_blame:
            item["blame"] = blame.get(row["id"], {})
        if shape.device:
            item["labels"] = labels.get(row["id"], [])
            item["links"] = [up_link(base, row, parent_kinds)]
        result.append(item)
    return result


def present_one(request: Request, conn: sa.Connection, shape: Shape, row: Row, **options: Any) -> dict[str, Any]:
    return present(request, conn, shape, [row], **options)[0]
