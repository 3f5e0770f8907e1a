"""Clouds, regions and cells: the containers of the inventory tree."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.domain import cascade, crud, hierarchy, kinds, placement
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.storage.tables import clouds


def _check_cloud(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    if existing is None:
        hierarchy.referenced(conn, principal.project_id, clouds, values["cloud_id"], "Cloud")


def _check_region(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    if existing is None:
        hierarchy.check_placement(conn, principal, values)


def delete_container(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, preview: bool = False
) -> dict[str, int]:
    """Delete a cloud, region or cell with everything below it, variables included (docs/decisions.md §13)."""
    row = crud.get(conn, principal, kind, row_id, lock=not preview, action="delete")
    return cascade.delete(
        conn,
        principal,
        kind.name,
        row,
        f"The {kind.name} is still referenced by devices or networks outside it; move them first.",
        preview,
    )


CLOUD = Kind(kinds.CLOUD, delete=delete_container)
REGION = Kind(kinds.REGION, check_references=_check_cloud, delete=delete_container)


def _update_cell(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: dict[str, Any], with_children: bool
) -> Row:
    """A cell's update: a new region moves its devices and networks along (always: ``with_children`` is moot)."""
    return placement.update_cell(conn, principal, kind, row_id, values)


CELL = Kind(kinds.CELL, check_references=_check_region, update=_update_cell, delete=delete_container)
