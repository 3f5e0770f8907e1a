"""Moving devices and cells to another region or cell of the same cloud.

A move checks what a create checks (the region is in the object's cloud, the
cell in the region, the names are free there) and keeps three things
consistent:

- Child devices that share a device's placement move with it
  (``with_children``), or the move is refused with a message naming them.
  Children placed elsewhere stay where they are: a parent may be in another
  region or cell, as on create.
- A cell takes its devices and networks along to the new region.
- A network interface links a device and a network of the same region, so a
  move that would split one is refused with a message naming it.

Every row that moves gets a history record of its old and new placement, in
the same transaction, so point-in-time reads resolve through the placement an
object had at that time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from craton.domain import crud, hierarchy
from craton.domain.errors import Conflict, InvalidInput, NotFound
from craton.domain.history import recording as history
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.storage.devices import descendant_ids_query
from craton.storage.rows import as_row
from craton.storage.tables import cells, devices, network_interfaces, networks, regions

PLACEMENT = ("region_id", "cell_id")
SHOWN = 10  # objects named in one message


class _Named(NamedTuple):
    id: int
    name: str


def _locked(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> Row:
    """The row, locked until the end of the transaction (concurrent moves of it queue), or 404."""
    row_id = crud.get(conn, principal, kind, row_id, action="update")["id"]
    row = conn.execute(sa.select(kind.table).where(kind.id_column == row_id).with_for_update()).first()
    if row is None:
        raise NotFound.of(kind.label, row_id)
    return as_row(row)


def _names(rows: Sequence[Any], label: str = "name") -> str:
    shown = ", ".join(f"{row.id} ('{getattr(row, label)}')" for row in rows[:SHOWN])
    return shown + (f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else "")


def _region(conn: sa.Connection, project_id: str, region_id: Any, cloud_id: int, what: str) -> Row:
    region = conn.execute(
        sa.select(regions).where(regions.c.id == region_id, regions.c.project_id == project_id)
    ).first()
    if region is None:
        raise InvalidInput(f"Region {region_id} does not exist in this project.")
    if region.cloud_id != cloud_id:
        raise InvalidInput(
            f"Region {region.id} belongs to cloud {region.cloud_id}, but {what} is in cloud {cloud_id}; "
            "moves stay within a cloud."
        )
    return as_row(region)


def _cell(conn: sa.Connection, project_id: str, cell_id: Any) -> Row:
    # With a share lock: a cell moving to another region at the same time waits for us, or we for it.
    return hierarchy.referenced(conn, project_id, cells, cell_id, "Cell", share=True)


def target_placement(conn: sa.Connection, existing: Row, values: Mapping[str, Any]) -> tuple[int, int | None]:
    """The (region, cell) a device update asks for, checked like a create.

    ``cell_id`` alone moves to that cell and its region; ``region_id`` alone keeps the cell only
    if it belongs to the new region (otherwise the caller must say which cell, or null).
    """
    what = f"device {existing['id']}"
    project_id = existing["project_id"]
    cell_id = values["cell_id"] if "cell_id" in values else existing["cell_id"]
    cell = _cell(conn, project_id, cell_id) if cell_id is not None else None
    if "region_id" in values:
        region_id = values["region_id"]
    elif cell is not None and "cell_id" in values:
        region_id = cell["region_id"]
    else:
        region_id = existing["region_id"]
    if region_id != existing["region_id"]:
        _region(conn, project_id, region_id, existing["cloud_id"], what)
    if cell is not None and cell["region_id"] != region_id:
        if "cell_id" in values:
            raise InvalidInput(f"Cell {cell['id']} belongs to region {cell['region_id']}, not to region {region_id}.")
        raise InvalidInput(
            f"Device {existing['id']} is in cell {cell['id']} of region {cell['region_id']}; "
            f"to move it to region {region_id}, also give the cell_id there (or null for none)."
        )
    return region_id, cell_id


def _same_placement(row: Row) -> list[sa.ColumnElement[bool]]:
    return [devices.c.region_id == row["region_id"], devices.c.cell_id.is_not_distinct_from(row["cell_id"])]


def children_in_place(conn: sa.Connection, device: Row) -> list[Any]:
    """Descendants of ``device`` that share its current placement (they would be left behind)."""
    stmt = (
        sa.select(devices.c.id, devices.c.name, devices.c.kind, devices.c.project_id, *_placement_columns(devices))
        .where(devices.c.id.in_(descendant_ids_query(device["id"])), *_same_placement(device))
        .order_by(devices.c.id)
    )
    return list(conn.execute(stmt).all())


def _name_clashes(conn: sa.Connection, table: sa.Table, region_id: int, moving: Sequence[Any], what: str) -> None:
    """A clear 409 when a moving object's name is taken in the target region (before the constraint says so)."""
    if not moving:
        return
    ids = [row.id for row in moving]
    taken = conn.execute(
        sa.select(table.c.id, table.c.name)
        .where(
            table.c.region_id == region_id,
            table.c.name.in_(sorted({row.name for row in moving})),
            table.c.id.not_in(ids),
        )
        .order_by(table.c.id)
    ).all()
    if taken:
        raise Conflict(f"Region {region_id} already has {what} named {', '.join(repr(r.name) for r in taken[:SHOWN])}.")


def _split_interfaces(
    conn: sa.Connection,
    region_id: int,
    moving_devices: sa.ColumnElement[bool],
    moving_networks: sa.ColumnElement[bool] | None = None,
) -> None:
    """Refuse a move after which an interface would link a device and a network of different regions."""
    device_region = sa.case((moving_devices, region_id), else_=devices.c.region_id)
    network_region: Any = networks.c.region_id
    involved = moving_devices
    if moving_networks is not None:
        network_region = sa.case((moving_networks, region_id), else_=networks.c.region_id)
        involved = sa.or_(moving_devices, moving_networks)
    stmt = (
        sa.select(
            network_interfaces.c.id,
            network_interfaces.c.name,
            network_interfaces.c.device_id,
            network_interfaces.c.network_id,
        )
        .join(devices, devices.c.id == network_interfaces.c.device_id)
        .join(networks, networks.c.id == network_interfaces.c.network_id)
        .where(involved, device_region != network_region)
        .order_by(network_interfaces.c.id)
        .limit(SHOWN + 1)
    )
    split = conn.execute(stmt).all()
    if split:
        listed = ", ".join(
            f"{row.id} ('{row.name}', device {row.device_id}, network {row.network_id})" for row in split[:SHOWN]
        )
        raise InvalidInput(
            "The move would leave network interfaces linking a device and a network of different regions: "
            f"{listed}{' and more' if len(split) > SHOWN else ''}. Detach or move them first."
        )


def _move_rows(
    conn: sa.Connection,
    principal: Principal,
    table: sa.Table,
    rows: Sequence[Any],
    where: sa.ColumnElement[bool],
    placement: Mapping[str, Any],
    resource_type: Any,
) -> None:
    """Set ``placement`` on ``rows`` (selected by ``where``) in one statement; a history entry for each."""
    if not rows:
        return
    with crud.conflicts_as("A moving object's name is already taken in the target region."):
        conn.execute(sa.update(table).where(where).values(**placement, updated_at=principal.acted_at))
    records = []
    for row in rows:
        old = {name: getattr(row, name) for name in placement if getattr(row, name) != placement[name]}
        if old:
            new = {name: placement[name] for name in old}
            records.append((resource_type(row), as_row(row), old, new))
    history.record_many(conn, principal, "update", records)


def update_device(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: dict[str, Any], with_children: bool
) -> Row:
    """A device's PUT: its own fields, and a move when ``region_id``/``cell_id`` change."""
    if not any(name in values for name in PLACEMENT):
        return crud.update(conn, principal, kind, row_id, values)
    existing = _locked(conn, principal, kind, row_id)
    region_id, cell_id = target_placement(conn, existing, values)
    values = {**values, "region_id": region_id, "cell_id": cell_id}
    if (region_id, cell_id) == (existing["region_id"], existing["cell_id"]):
        return crud.update(conn, principal, kind, row_id, values)
    movers = children_in_place(conn, existing)
    if movers and not with_children:
        raise InvalidInput(
            f"Device {existing['id']} ('{existing['name']}') has child devices in the same place: "
            f"{_names(movers)}. Move them together with ?with_children=true, or re-parent them first."
        )
    moving_ids = [existing["id"], *(row.id for row in movers)]
    if region_id != existing["region_id"]:
        itself = _Named(existing["id"], str(values.get("name", existing["name"])))
        _name_clashes(conn, devices, region_id, [*movers, itself], "a device")
        _split_interfaces(conn, region_id, devices.c.id.in_(moving_ids))
    row = crud.update(conn, principal, kind, row_id, values)
    _move_rows(
        conn,
        principal,
        devices,
        movers,
        devices.c.id.in_([mover.id for mover in movers]),
        {"region_id": region_id, "cell_id": cell_id},
        lambda mover: mover.kind,  # a device's public type is its kind: host or network_device
    )
    return row


def _placement_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [table.c.region_id, table.c.cell_id]


def _rows_in_cell(conn: sa.Connection, table: sa.Table, cell_id: int) -> list[Any]:
    columns = [table.c.id, table.c.name, table.c.project_id, *_placement_columns(table)]
    if "kind" in table.c:
        columns.append(table.c.kind)
    return list(conn.execute(sa.select(*columns).where(table.c.cell_id == cell_id).order_by(table.c.id)).all())


def update_cell(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: dict[str, Any]) -> Row:
    """A cell's PUT: with a new ``region_id`` (same cloud), its devices and networks move along."""
    if "region_id" not in values:
        return crud.update(conn, principal, kind, row_id, values)
    existing = _locked(conn, principal, kind, row_id)
    region_id = values["region_id"]
    if region_id == existing["region_id"]:
        return crud.update(conn, principal, kind, row_id, values)
    _region(conn, existing["project_id"], region_id, existing["cloud_id"], f"cell {existing['id']}")
    cell_devices = _rows_in_cell(conn, devices, existing["id"])
    cell_networks = _rows_in_cell(conn, networks, existing["id"])
    _name_clashes(conn, devices, region_id, cell_devices, "a device")
    _name_clashes(conn, networks, region_id, cell_networks, "a network")
    _split_interfaces(conn, region_id, devices.c.cell_id == existing["id"], networks.c.cell_id == existing["id"])
    row = crud.update(conn, principal, kind, row_id, values)
    moved = {"region_id": region_id}
    _move_rows(
        conn, principal, devices, cell_devices, devices.c.cell_id == existing["id"], moved, lambda device: device.kind
    )
    _move_rows(
        conn, principal, networks, cell_networks, networks.c.cell_id == existing["id"], moved, lambda _: "network"
    )
    return row
