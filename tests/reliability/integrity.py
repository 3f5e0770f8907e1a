"""An integrity checker that scans the whole database behind a server.

It reads every table straight from the database (not through the API, which
could hide what it cannot show) and lists each violation as a sentence:

- the device tree has no cycle, and a parent is in its child's project;
- no orphans: every variable has an owner, every label a device, every
  interface a device and an existing network (or none);
- placement agrees: a device's, network's or cell's region is in its cloud, its
  cell in its region, all in one project;
- the history agrees with the data: an object that exists has no ``delete``
  record after its last ``create``; an object recorded as created that no longer
  exists has a ``delete`` record (cascades included, issue #21); and each live
  object's variables equal what replaying its variable records gives.

Objects written outside the API (the bootstrap project and user) have no records
and are skipped by the history checks.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

# Public resource type -> (table, owner kind of its variables).
TYPES = {
    "project": ("projects", "project"),
    "user": ("users", None),
    "cloud": ("clouds", "cloud"),
    "region": ("regions", "region"),
    "cell": ("cells", "cell"),
    "host": ("devices", "device"),
    "network_device": ("devices", "device"),
    "network": ("networks", "network"),
    "network_interface": ("network_interfaces", "network_interface"),
}
OWNER_TABLES = {
    "project": "projects",
    "cloud": "clouds",
    "region": "regions",
    "cell": "cells",
    "device": "devices",
    "network": "networks",
    "network_interface": "network_interfaces",
}


def _rows(conn: sa.Connection, sql: str) -> list[Any]:
    return list(conn.exec_driver_sql(sql).all())


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def violations(engine: sa.Engine) -> list[str]:
    """Every integrity violation found in the database, as sentences (empty: all is well)."""
    found: list[str] = []
    with engine.connect() as conn:
        devices = {row.id: row for row in _rows(conn, "SELECT * FROM devices")}
        cells = {row.id: row for row in _rows(conn, "SELECT * FROM cells")}
        regions = {row.id: row for row in _rows(conn, "SELECT * FROM regions")}
        clouds = {row.id: row for row in _rows(conn, "SELECT * FROM clouds")}
        networks = {row.id: row for row in _rows(conn, "SELECT * FROM networks")}
        interfaces = {row.id: row for row in _rows(conn, "SELECT * FROM network_interfaces")}
        projects = {row.id for row in _rows(conn, "SELECT id FROM projects")}
        users = {row.id for row in _rows(conn, "SELECT id FROM users")}
        labels = _rows(conn, "SELECT device_id, label FROM labels")
        variables = _rows(conn, "SELECT owner_kind, owner_id, " + _key(conn) + ", value FROM variables")
        changes = _rows(conn, "SELECT id, action, resource_type, resource_id, old, new FROM changes ORDER BY id")

    found += _tree(devices)
    ids = {
        "project": {str(p) for p in projects},
        "cloud": {str(i) for i in clouds},
        "region": {str(i) for i in regions},
        "cell": {str(i) for i in cells},
        "device": {str(i) for i in devices},
        "network": {str(i) for i in networks},
        "network_interface": {str(i) for i in interfaces},
    }
    for kind, owner_id, key, _value in variables:
        if owner_id not in ids.get(kind, set()):
            found.append(f"orphan variable {key!r} of {kind} {owner_id}")
    for device_id, label in labels:
        if device_id not in devices:
            found.append(f"orphan label {label!r} of device {device_id}")
    for iface in interfaces.values():
        if iface.device_id not in devices:
            found.append(f"orphan interface {iface.id} of device {iface.device_id}")
        if iface.network_id is not None and iface.network_id not in networks:
            found.append(f"interface {iface.id} uses missing network {iface.network_id}")
    found += _placement(devices, cells, regions, clouds, networks)

    live = {
        "project": ids["project"],
        "user": {str(u) for u in users},
        "cloud": ids["cloud"],
        "region": ids["region"],
        "cell": ids["cell"],
        "host": {str(i) for i, d in devices.items() if d.kind == "host"},
        "network_device": {str(i) for i, d in devices.items() if d.kind == "network_device"},
        "network": ids["network"],
        "network_interface": ids["network_interface"],
    }
    found += _history(changes, live, variables)
    return found


def _key(conn: sa.Connection) -> str:
    return "`key`" if conn.dialect.name in ("mysql", "mariadb") else '"key"'


def _tree(devices: dict[int, Any]) -> list[str]:
    found = []
    for start in devices:
        seen = {start}
        node = devices[start].parent_id
        while node is not None:
            if node in seen:
                found.append(f"device {start} is on a parent cycle")
                break
            if node not in devices:
                found.append(f"device {start} has a missing ancestor {node}")
                break
            seen.add(node)
            node = devices[node].parent_id
        parent = devices[start].parent_id
        if parent in devices and devices[parent].project_id != devices[start].project_id:
            found.append(f"device {start}'s parent {parent} is in another project")
    return found


def _placement(
    devices: dict[int, Any], cells: dict[int, Any], regions: dict[int, Any], clouds: dict[int, Any], networks: dict
) -> list[str]:
    found = []
    for label, table in (("device", devices), ("network", networks), ("cell", cells)):
        for row in table.values():
            region = regions.get(row.region_id)
            if region is None:
                found.append(f"{label} {row.id} is in missing region {row.region_id}")
                continue
            if region.cloud_id != row.cloud_id or row.cloud_id not in clouds:
                found.append(f"{label} {row.id}: region {row.region_id} is not in cloud {row.cloud_id}")
            if region.project_id != row.project_id:
                found.append(f"{label} {row.id} and its region {row.region_id} are in different projects")
            cell_id = getattr(row, "cell_id", None) if label != "cell" else None
            if cell_id is not None:
                cell = cells.get(cell_id)
                if cell is None:
                    found.append(f"{label} {row.id} is in missing cell {cell_id}")
                elif cell.region_id != row.region_id:
                    found.append(f"{label} {row.id}: cell {cell_id} is in region {cell.region_id}, not {row.region_id}")
    return found


def _history(changes: list[Any], live: dict[str, set[str]], variables: list[Any]) -> list[str]:
    found = []
    state: dict[tuple[str, str], str] = {}
    replayed: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for _id, action, rtype, rid, old, new in changes:
        key = (rtype, rid)
        if action in ("create", "delete"):
            state[key] = action
        if action == "create":
            replayed[key] = {}
        elif action == "delete":
            replayed.pop(key, None)
        elif action == "variables":
            values = replayed[key]
            new = _json(new) or {}
            for name in _json(old) or {}:
                if name not in new:
                    values.pop(name, None)
            values.update(new)
    for (rtype, rid), last in state.items():
        exists = rid in live.get(rtype, set())
        if exists and last == "delete":
            found.append(f"{rtype} {rid} exists but its history ends with a delete")
        if not exists and last == "create":
            found.append(f"{rtype} {rid} is gone but its history has no delete")
    actual: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for kind, owner_id, key, value in variables:
        actual[(kind, owner_id)][key] = _json(value)
    for (rtype, rid), values in replayed.items():
        owner_kind = TYPES.get(rtype, (None, None))[1]
        if owner_kind is None or state.get((rtype, rid)) != "create" or rid not in live.get(rtype, set()):
            continue
        if actual.get((owner_kind, rid), {}) != values:
            found.append(
                f"{rtype} {rid}: variables {actual.get((owner_kind, rid), {})} differ from their history {values}"
            )
    return found
