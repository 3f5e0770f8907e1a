"""A project's whole fleet as one document keyed by names: the export of issue 17.

The document nests clouds > regions > cells, with networks and devices under the
container they are placed in, and refers to other objects by name (a device's
``parent``, an interface's ``network``), never by id, so that it means the same in
another project or database. Every kind is read with a handful of set-based queries
(variables and masks in chunks of owners), never one query per object.

docs/import-export.md describes the format; :data:`SCHEMA` is its JSON Schema,
served at ``/export-schema.json``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.domain import kinds
from craton.domain.errors import NotFound
from craton.domain.principal import Principal
from craton.storage import variables as variable_store
from craton.storage.owners import OwnerRef
from craton.storage.tables import cells, clouds, devices, labels, network_interfaces, networks, regions

#: The document format's version: bumped on any change an older reader would misread.
FORMAT_VERSION = 1
FORMAT = "craton-fleet"
# Columns a document never carries: ids, links to other objects by id, bookkeeping.
_INTERNAL = {"id", "kind", "project_id", "created_at", "updated_at"}
_CONTAINER_OF = {"cloud_id": clouds, "region_id": regions, "cell_id": cells}


@dataclass(frozen=True)
class Subtree:
    """Which part of the project to export: all of it, or one cloud, region or cell."""

    cloud_id: int | None = None
    region_id: int | None = None
    cell_id: int | None = None


def _fields(table: sa.Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The row's own data: every column but ids, links and bookkeeping, None left out."""
    # str(): column names are a str subclass that orjson refuses as keys.
    return {str(name): row[name] for name in _own_columns(table) if row[name] is not None}


def _own_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.c if c.name not in _INTERNAL and not c.foreign_keys]


def _with_variables(
    item: dict[str, Any], owner: OwnerRef, owned: Mapping[OwnerRef, dict[str, Any]], masks: Mapping[OwnerRef, set[str]]
) -> dict[str, Any]:
    if owned.get(owner):
        item["variables"] = dict(sorted(owned[owner].items()))
    if masks.get(owner):
        item["masks"] = sorted(masks[owner])
    return item


def _select(conn: sa.Connection, table: sa.Table, where: Iterable[sa.ColumnElement[bool]]) -> list[Any]:
    return list(conn.execute(sa.select(table).where(*where).order_by(table.c.id)).mappings())


def export(conn: sa.Connection, principal: Principal, subtree: Subtree = Subtree()) -> dict[str, Any]:
    """The caller's project (or a subtree of it) as a versioned document keyed by names."""
    for info in (kinds.CLOUD, kinds.REGION, kinds.CELL, kinds.HOST, kinds.NETWORK_DEVICE, kinds.NETWORK):
        kinds.authorize(principal, info, "list")
    project_id = principal.project_id
    scope = {column: value for column, value in vars(subtree).items() if value is not None}
    _check_subtree(conn, project_id, scope)

    def where(table: sa.Table) -> list[sa.ColumnElement[bool]]:
        found = [table.c.project_id == project_id]
        for column, value in scope.items():
            if column in table.c:
                found.append(table.c[column] == value)
            elif _CONTAINER_OF[column] is table:
                found.append(table.c.id == value)
            else:  # a container above the subtree: the one on the subtree's path
                below = _CONTAINER_OF[column]
                found.append(table.c.id.in_(sa.select(below.c[f"{table.name[:-1]}_id"]).where(below.c.id == value)))
        return found

    cloud_rows = _select(conn, clouds, where(clouds))
    region_rows = _select(conn, regions, where(regions))
    cell_rows = _select(conn, cells, where(cells))
    network_rows = _select(conn, networks, where(networks))
    device_rows = _select(conn, devices, where(devices))
    device_ids = sa.select(devices.c.id).where(*where(devices))
    interface_rows = list(
        conn.execute(
            sa.select(network_interfaces)
            .where(network_interfaces.c.project_id == project_id, network_interfaces.c.device_id.in_(device_ids))
            .order_by(network_interfaces.c.id)
        ).mappings()
    )
    labels_of: dict[int, list[str]] = defaultdict(list)
    for device_id, label in conn.execute(
        sa.select(labels.c.device_id, labels.c.label).where(labels.c.device_id.in_(device_ids)).order_by(labels.c.label)
    ):
        labels_of[device_id].append(label)

    owners: list[OwnerRef] = [("project", project_id)] if not scope else []
    owners += [("cloud", str(row["id"])) for row in cloud_rows]
    owners += [("region", str(row["id"])) for row in region_rows]
    owners += [("cell", str(row["id"])) for row in cell_rows]
    owners += [("network", str(row["id"])) for row in network_rows]
    owners += [("device", str(row["id"])) for row in device_rows]
    owners += [("network-interface", str(row["id"])) for row in interface_rows]
    owned = variable_store.load(conn, owners)
    masks = variable_store.load_masks(conn, owners)

    device_names = {row["id"]: row["name"] for row in device_rows}
    network_names = {row["id"]: row["name"] for row in network_rows}
    interfaces_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in interface_rows:
        item = _fields(network_interfaces, row)
        if row["network_id"] in network_names:
            item["network"] = network_names[row["network_id"]]
        interfaces_of[row["device_id"]].append(
            _with_variables(item, ("network-interface", str(row["id"])), owned, masks)
        )

    # Devices and networks by the container they are placed in: (region_id, cell_id or None).
    placed: dict[tuple[int, int | None], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"networks": [], "devices": []}
    )
    for row in network_rows:
        item = _with_variables(_fields(networks, row), ("network", str(row["id"])), owned, masks)
        placed[(row["region_id"], row["cell_id"])]["networks"].append(item)
    for row in device_rows:
        item = {"kind": row["kind"], **_fields(devices, row)}
        if row["parent_id"] in device_names:
            item["parent"] = device_names[row["parent_id"]]
        if labels_of.get(row["id"]):
            item["labels"] = labels_of[row["id"]]
        _with_variables(item, ("device", str(row["id"])), owned, masks)
        if interfaces_of.get(row["id"]):
            item["interfaces"] = sorted(interfaces_of[row["id"]], key=lambda i: i["name"])
        placed[(row["region_id"], row["cell_id"])]["devices"].append(item)

    def contents(region_id: int, cell_id: int | None) -> dict[str, Any]:
        found = placed.get((region_id, cell_id), {})
        return {key: sorted(items, key=lambda i: i["name"]) for key, items in found.items() if items}

    cells_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in cell_rows:
        item = _with_variables(_fields(cells, row), ("cell", str(row["id"])), owned, masks)
        cells_of[row["region_id"]].append({**item, **contents(row["region_id"], row["id"])})
    regions_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in region_rows:
        item = _with_variables(_fields(regions, row), ("region", str(row["id"])), owned, masks)
        if "cell_id" not in scope:
            item.update(contents(row["id"], None))
        if cells_of.get(row["id"]):
            item["cells"] = sorted(cells_of[row["id"]], key=lambda i: i["name"])
        regions_of[row["cloud_id"]].append(item)
    cloud_items = []
    for row in cloud_rows:
        item = _with_variables(_fields(clouds, row), ("cloud", str(row["id"])), owned, masks)
        if regions_of.get(row["id"]):
            item["regions"] = sorted(regions_of[row["id"]], key=lambda i: i["name"])
        cloud_items.append(item)

    document: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if not scope:
        project = _with_variables({}, ("project", project_id), owned, masks)
        strategies = variable_store.load_strategies(conn, [project_id]).get(project_id)
        if strategies:
            project["merge_strategies"] = dict(sorted(strategies.items()))
        document["project"] = project
    document["clouds"] = sorted(cloud_items, key=lambda i: i["name"])
    return document


def _check_subtree(conn: sa.Connection, project_id: str, scope: Mapping[str, Any]) -> None:
    """404 for a cloud, region or cell that is not the caller's project's (or does not exist)."""
    for column, table, info in (
        ("cloud_id", clouds, kinds.CLOUD),
        ("region_id", regions, kinds.REGION),
        ("cell_id", cells, kinds.CELL),
    ):
        if column in scope:
            found = conn.execute(
                sa.select(table.c.id).where(table.c.id == scope[column], table.c.project_id == project_id)
            ).first()
            if found is None:
                raise NotFound.of(info.label, scope[column])


def _object(properties: dict[str, Any], required: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": False,
        "properties": {
            **properties,
            "variables": {"type": "object"},
            "masks": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
    }


def _columns(table: sa.Table) -> dict[str, Any]:
    """JSON Schema of a table's own columns (as :func:`_fields` writes them)."""
    types = {int: "integer", bool: "boolean", str: "string"}
    found = {}
    for name in _own_columns(table):
        column = table.c[name]
        try:
            json_type = types.get(column.type.python_type, "string")
        except NotImplementedError:
            json_type = "string"
        found[str(column.name)] = {"type": json_type}
    return found


_NETWORK = _object(_columns(networks))
_INTERFACE = _object(
    {**_columns(network_interfaces), "network": {"type": "string"}}, ("name", "interface_type", "ip_address")
)
_DEVICE = _object(
    {
        **_columns(devices),
        "kind": {"enum": [kinds.HOST.resource_type, kinds.NETWORK_DEVICE.resource_type]},
        "parent": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "interfaces": {"type": "array", "items": {"$ref": "#/$defs/interface"}},
    },
    ("kind", "name", "device_type", "ip_address"),
)
_PLACED = {
    "networks": {"type": "array", "items": {"$ref": "#/$defs/network"}},
    "devices": {"type": "array", "items": {"$ref": "#/$defs/device"}},
}
_CELL = _object({**_columns(cells), **_PLACED})
_REGION = _object({**_columns(regions), **_PLACED, "cells": {"type": "array", "items": {"$ref": "#/$defs/cell"}}})
_CLOUD = _object({**_columns(clouds), "regions": {"type": "array", "items": {"$ref": "#/$defs/region"}}})

#: JSON Schema (2020-12) of the document :func:`export` writes.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/export-schema.json",
    "title": f"Craton fleet document, version {FORMAT_VERSION}",
    "type": "object",
    "required": ["format", "version", "clouds"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": FORMAT_VERSION},
        "project": _object(
            {"merge_strategies": {"type": "object", "additionalProperties": {"type": "string"}}}, required=()
        ),
        "clouds": {"type": "array", "items": {"$ref": "#/$defs/cloud"}},
    },
    "$defs": {
        "cloud": _CLOUD,
        "region": _REGION,
        "cell": _CELL,
        "network": _NETWORK,
        "device": _DEVICE,
        "interface": _INTERFACE,
    },
}
