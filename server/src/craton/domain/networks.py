"""Networks and network interfaces."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.domain import cascade, crud, hierarchy, kinds
from craton.domain.errors import Conflict, InvalidInput
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.storage.tables import devices, network_interfaces, networks


def _check_network(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    if existing is None:
        hierarchy.check_placement(conn, principal, values)


def _check_interface(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    if existing is None:
        device = hierarchy.referenced(conn, principal.project_id, devices, values["device_id"], "Device")
        if values.get("network_id") is not None:
            network = hierarchy.referenced(conn, principal.project_id, networks, values["network_id"], "Network")
            if network["region_id"] != device["region_id"]:
                raise InvalidInput(
                    f"Network {network['id']} is in region {network['region_id']}, "
                    f"but device {device['id']} is in region {device['region_id']}."
                )


def _delete_network(conn: sa.Connection, principal: Principal, _: Kind, row_id: Any, preview: bool) -> dict[str, int]:
    return delete_network(conn, principal, row_id, preview)


def _delete_interface(conn: sa.Connection, principal: Principal, _: Kind, row_id: Any, preview: bool) -> dict[str, int]:
    return delete_interface(conn, principal, row_id, preview)


NETWORK = Kind(kinds.NETWORK, check_references=_check_network, delete=_delete_network)
NETWORK_INTERFACE = Kind(kinds.NETWORK_INTERFACE, check_references=_check_interface, delete=_delete_interface)


def delete_network(conn: sa.Connection, principal: Principal, network_id: Any, preview: bool = False) -> dict[str, int]:
    row = crud.get(conn, principal, NETWORK, network_id, lock=not preview, action="delete")
    used = conn.execute(
        sa.select(sa.func.count()).select_from(network_interfaces).where(network_interfaces.c.network_id == row["id"])
    ).scalar_one()
    if used:
        raise Conflict(f"Network {row['id']} is used by {used} network interface(s); remove them first.")
    return cascade.delete(conn, principal, "network", row, f"Network {row['id']} is still referenced.", preview)


def delete_interface(
    conn: sa.Connection, principal: Principal, interface_id: Any, preview: bool = False
) -> dict[str, int]:
    row = crud.get(conn, principal, NETWORK_INTERFACE, interface_id, lock=not preview, action="delete")
    message = f"Network interface {row['id']} is still referenced."
    return cascade.delete(conn, principal, "network_interface", row, message, preview)
