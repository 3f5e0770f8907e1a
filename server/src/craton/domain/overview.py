"""A project at a glance: its clouds, regions and cells with device counts, in three queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain.principal import Principal
from craton.storage.tables import cells, clouds, devices, regions

# Enough for any real project's tree on one page; beyond it the page says how many are left out.
MAX_CONTAINERS = 2000


@dataclass
class Node:
    row: Any
    devices: int = 0
    children: list[Node] = field(default_factory=list)


def fleet_tree(conn: sa.Connection, principal: Principal) -> tuple[list[Node], int]:
    """Clouds > regions > cells the caller may see, each with its device count; and the total."""
    per_cell: dict[Any, int] = {}
    per_region: dict[Any, int] = {}
    counted = (
        sa.select(devices.c.region_id, devices.c.cell_id, sa.func.count())
        .where(principal.scope(devices.c.project_id))
        .group_by(devices.c.region_id, devices.c.cell_id)
    )
    for region_id, cell_id, count in conn.execute(counted):
        per_region[region_id] = per_region.get(region_id, 0) + count
        if cell_id is not None:
            per_cell[cell_id] = per_cell.get(cell_id, 0) + count

    def rows(table: sa.Table) -> list[Any]:
        stmt = sa.select(table).where(principal.scope(table.c.project_id))
        return list(conn.execute(stmt.order_by(table.c.name, table.c.id).limit(MAX_CONTAINERS)))

    cell_nodes: dict[Any, list[Node]] = {}
    for cell in rows(cells):
        cell_nodes.setdefault(cell.region_id, []).append(Node(cell, per_cell.get(cell.id, 0)))
    region_nodes: dict[Any, list[Node]] = {}
    for region in rows(regions):
        node = Node(region, per_region.get(region.id, 0), cell_nodes.get(region.id, []))
        region_nodes.setdefault(region.cloud_id, []).append(node)
    tree = [Node(cloud, 0, region_nodes.get(cloud.id, [])) for cloud in rows(clouds)]
    for node in tree:
        node.devices = sum(region.devices for region in node.children)
    return tree, sum(per_region.values())
