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
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from craton.domain import kinds
from craton.domain.errors import NotFound
from craton.domain.principal import Principal
from craton.storage import batches
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


class Items:
    """A list of the document that is read while it is written: ``batches()`` yields lists of items.

    ``flat`` items are plain JSON values (networks, devices); the others are dicts whose
    values may be :class:`Items` in turn (a cloud's regions, a region's cells...).
    A document holding Items is read once: each batch is read from the database when a
    writer reaches it.
    """

    def __init__(self, batches: Callable[[], Iterator[list[Any]]], flat: bool = False) -> None:
        self.batches = batches
        self.flat = flat

    @classmethod
    def of(cls, items: list[Any]) -> Items:
        return cls(lambda: iter([items]))


def materialize(value: Any) -> Any:
    """``value`` with every :class:`Items` in it read into a list: the whole document in memory."""
    if isinstance(value, Items):
        if value.flat:
            return [parsed(item) for batch in value.batches() for item in batch]
        return [materialize(item) for batch in value.batches() for item in batch]
    if isinstance(value, dict):
        return {key: materialize(item) for key, item in value.items()}
    return value


def export(conn: sa.Connection, principal: Principal, subtree: Subtree = Subtree()) -> dict[str, Any]:
    """The caller's project (or a subtree of it) as a versioned document keyed by names, in memory."""
    return dict(materialize(open_document(conn, principal, subtree)))


class ReadAhead:
    """Reads a document's next batch on a thread of its own while the writer writes the current one.

    A batch's statements mostly wait for the database (on PostgreSQL, 4.7 s of its CPU for
    100,000 hosts): done while the writer turns the batch before into text (Python, which
    holds the GIL), that wait is hidden. Every read of the document goes through the one
    thread, one at a time and in the request's own connection and transaction, so the
    connection is never used by two threads at once and the whole document still comes
    from one snapshot. :meth:`close` must be called when the document is done with (or
    abandoned): it waits for a read in flight, before the transaction may end.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def submit(self, read: Callable[[], Any]) -> Future[Any]:
        if self._closed:
            raise RuntimeError("the document's reads were closed")
        if self._pool is None:  # started by the first read: a document never written costs no thread
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="craton-export-read")
        return self._pool.submit(read)

    def close(self) -> None:
        """Wait for the read in flight and drop those not started; later reads are refused."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def closing(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks``, then :meth:`close`: also when the consumer stops early (``close()`` on this iterator)."""
        try:
            yield from chunks
        finally:
            self.close()


def read_ahead_for(conn: sa.Connection) -> ReadAhead | None:
    """A :class:`ReadAhead` where the database works in a process of its own; None on SQLite.

    SQLite works in this process and gives the GIL back at every row it steps to: read
    on a second thread, each row then waits for the writer to let go of the GIL, and the
    export took longer, not less (measured: docs/performance.md, fleet export).
    """
    return None if conn.dialect.name == "sqlite" else ReadAhead()


def open_document(
    conn: sa.Connection, principal: Principal, subtree: Subtree = Subtree(), read_ahead: ReadAhead | None = None
) -> dict[str, Any]:
    """The document of :func:`export`, its networks and devices read as it is written.

    Permissions and the subtree are checked here, before anything is written (a 404 or
    403 is still an error answer). The containers (clouds, regions, cells) and the ids,
    names and placement of networks and devices are read here too: they fix the
    document's order and the names references use. The rest of each network and device
    (its row, labels, interfaces, variables and masks) is read :data:`BATCH` at a time,
    in document order, when a writer (:mod:`craton.domain.fleet_text`) reaches it, so
    the memory used does not grow with what a fleet's devices hold. The caller runs
    every read in one transaction that sees one snapshot of the database. With
    ``read_ahead``, the batches are read on its thread, each while the one before is
    written; the caller closes it before ending the transaction.
    """
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

    cloud_rows = _by_name(_select(conn, clouds, where(clouds)))
    region_rows = _by_name(_select(conn, regions, where(regions)))
    cell_rows = _by_name(_select(conn, cells, where(cells)))
    owners: list[OwnerRef] = [("project", project_id)] if not scope else []
    owners += [("cloud", str(row["id"])) for row in cloud_rows]
    owners += [("region", str(row["id"])) for row in region_rows]
    owners += [("cell", str(row["id"])) for row in cell_rows]
    owned = variable_store.load(conn, owners)
    masks = variable_store.load_masks(conn, owners)

    regions_of: dict[int, list[Any]] = defaultdict(list)
    for row in region_rows:
        regions_of[row["cloud_id"]].append(row)
    cells_of: dict[int, list[Any]] = defaultdict(list)
    for row in cell_rows:
        cells_of[row["region_id"]].append(row)
    # The places networks and devices sit in, (region id, cell id or None), in document order.
    places: list[tuple[int, int | None]] = []
    for cloud in cloud_rows:
        for region in regions_of[cloud["id"]]:
            if "cell_id" not in scope:
                places.append((region["id"], None))
            places.extend((region["id"], cell["id"]) for cell in cells_of[region["id"]])

    network_names, network_order, networks_in = _placement(conn, networks, where(networks), places)
    device_names, device_order, devices_in = _placement(conn, devices, where(devices), places)
    network_reader = _InOrder(network_order, lambda ids: _network_items(conn, ids), read_ahead)
    device_reader = _InOrder(
        device_order, lambda ids: _device_items(conn, project_id, ids, device_names, network_names), read_ahead
    )

    def contents(place: tuple[int, int | None]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if networks_in.get(place):
            found["networks"] = network_reader.items(networks_in[place])
        if devices_in.get(place):
            found["devices"] = device_reader.items(devices_in[place])
        return found

    cloud_items = []
    for cloud in cloud_rows:
        cloud_item = _with_variables(_fields(clouds, cloud), ("cloud", str(cloud["id"])), owned, masks)
        region_items = []
        for region in regions_of[cloud["id"]]:
            item = _with_variables(_fields(regions, region), ("region", str(region["id"])), owned, masks)
            if "cell_id" not in scope:
                item.update(contents((region["id"], None)))
            cell_items = [
                {
                    **_with_variables(_fields(cells, cell), ("cell", str(cell["id"])), owned, masks),
                    **contents((region["id"], cell["id"])),
                }
                for cell in cells_of[region["id"]]
            ]
            if cell_items:
                item["cells"] = Items.of(cell_items)
            region_items.append(item)
        if region_items:
            cloud_item["regions"] = Items.of(region_items)
        cloud_items.append(cloud_item)

    document: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if not scope:
        project = _with_variables({}, ("project", project_id), owned, masks)
        strategies = variable_store.load_strategies(conn, [project_id]).get(project_id)
        if strategies:
            project["merge_strategies"] = dict(sorted(strategies.items()))
        document["project"] = project
    document["clouds"] = Items.of(cloud_items) if cloud_items else []
    return document


def _by_name(rows: list[Any]) -> list[Any]:
    """Rows (read in id order) sorted by name, as every list of the document is."""
    return sorted(rows, key=lambda row: row["name"])


def _placement(
    conn: sa.Connection, table: sa.Table, where: list[sa.ColumnElement[bool]], places: list[tuple[int, int | None]]
) -> tuple[dict[int, str], list[int], dict[tuple[int, int | None], int]]:
    """Names, document order and count per place of the networks or devices ``where`` selects.

    Only ids, names and places are read: a few dozen bytes per object.
    """
    by_place: dict[tuple[int, int | None], list[tuple[str, int]]] = defaultdict(list)
    names: dict[int, str] = {}
    stmt = sa.select(table.c.id, table.c.region_id, table.c.cell_id, table.c.name).where(*where)
    for object_id, region_id, cell_id, name in conn.execute(stmt).all():  # fetchall: one call, not one per row
        names[object_id] = name
        by_place[(region_id, cell_id)].append((name, object_id))
    order: list[int] = []
    counts: dict[tuple[int, int | None], int] = {}
    for place in places:
        found = sorted(by_place.get(place, ()))
        counts[place] = len(found)
        order.extend(object_id for _name, object_id in found)
    return names, order, counts


#: Networks or devices read per batch (each batch: a handful of statements).
BATCH = 2000


class _InOrder:
    """Items of one kind (networks or devices) in document order, read :data:`BATCH` at a time.

    The document's lists of that kind take their items from here one after the other,
    in the order the ids were given, which is the order a writer reaches them. With a
    :class:`ReadAhead`, the next batch is being read while the current one is written.
    """

    def __init__(
        self,
        order: list[int],
        load: Callable[[list[int]], dict[int, dict[str, Any]]],
        read_ahead: ReadAhead | None = None,
    ) -> None:
        self._order = order
        self._load = load
        self._read_ahead = read_ahead
        self._next = 0  # the first id not read yet (nor being read)
        self._ahead: Future[list[dict[str, Any]]] | None = None  # the batch from _next on, being read
        self._loaded: list[dict[str, Any]] = []
        self._taken = 0  # items of _loaded given out

    def items(self, count: int) -> Items:
        return Items(lambda: self._take(count), flat=True)

    def _read(self, ids: list[int]) -> list[dict[str, Any]]:
        found = self._load(ids)
        return [found[object_id] for object_id in ids]

    def _next_batch(self) -> list[dict[str, Any]]:
        if self._read_ahead is None:
            ids = self._order[self._next : self._next + BATCH]
            if not ids:
                raise RuntimeError("the document's lists were read out of order")
            self._next += len(ids)
            return self._read(ids)
        if self._ahead is None:  # the first batch: nothing read ahead yet
            self._ahead = self._submit()
            if self._ahead is None:
                raise RuntimeError("the document's lists were read out of order")
        batch = self._ahead.result()
        self._ahead = self._submit()
        return batch

    def _submit(self) -> Future[list[dict[str, Any]]] | None:
        """Start reading the batch from ``_next`` on (None after the last)."""
        assert self._read_ahead is not None
        ids = self._order[self._next : self._next + BATCH]
        if not ids:
            return None
        self._next += len(ids)
        return self._read_ahead.submit(lambda: self._read(ids))

    def _take(self, count: int) -> Iterator[list[dict[str, Any]]]:
        while count > 0:
            if self._taken == len(self._loaded):
                self._loaded, self._taken = [], 0  # the batch written is let go before the next is waited for
                self._loaded = self._next_batch()
            piece = self._loaded[self._taken : self._taken + count]
            self._taken += len(piece)
            count -= len(piece)
            yield piece


class RawJSON:
    """A JSON value kept as the text the database gave (an object's variables).

    The JSON writer puts the text in as it is; everything else parses it (:func:`parsed`).
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def parsed(value: Any) -> Any:
    """``value`` (an item of the document) with every :class:`RawJSON` in it parsed."""
    return orjson.loads(orjson.dumps(value, default=json_default))


def json_default(value: Any) -> Any:
    """orjson's ``default``: the text of a :class:`RawJSON` goes in unchanged."""
    if isinstance(value, RawJSON):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _with_raw_variables(
    item: dict[str, Any], owner_id: str, owned: Mapping[str, str], masks: Mapping[str, list[str]]
) -> dict[str, Any]:
    if owner_id in owned:
        item["variables"] = RawJSON(owned[owner_id])
    if owner_id in masks:
        item["masks"] = masks[owner_id]
    return item


def _columns_of(table: sa.Table, *extra: str) -> list[sa.Column[Any]]:
    return [table.c[name] for name in (*extra, *_own_columns(table))]


def _network_items(conn: sa.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = batches.select_in_mappings(
        conn, "export-networks", lambda found: sa.select(*_columns_of(networks, "id")).where(found), networks.c.id, ids
    )
    owner_ids = [str(object_id) for object_id in ids]
    owned = variable_store.objects_in_key_order(conn, "network", owner_ids)
    masks = variable_store.masks_in_batches(conn, "network", owner_ids)
    return {row["id"]: _with_raw_variables(_fields(networks, row), str(row["id"]), owned, masks) for row in rows}


def _device_items(
    conn: sa.Connection,
    project_id: str,
    ids: list[int],
    device_names: Mapping[int, str],
    network_names: Mapping[int, str],
) -> dict[int, dict[str, Any]]:
    """The devices' items with labels, interfaces, variables and masks: seven statements or so."""
    rows = list(
        batches.select_in(
            conn,
            "export-devices",
            lambda found: sa.select(*_columns_of(devices, "id", "kind", "parent_id")).where(found),
            devices.c.id,
            ids,
        )
    )
    labels_of = _labels_of(conn, ids)
    interface_rows = list(
        batches.select_in_mappings(
            conn,
            "export-interfaces",
            lambda found: sa.select(*_columns_of(network_interfaces, "id", "device_id", "network_id")).where(
                network_interfaces.c.project_id == sa.bindparam("project_id"), found
            ),
            network_interfaces.c.device_id,
            ids,
            {"project_id": project_id},
        )
    )
    device_owners = [str(object_id) for object_id in ids]
    owned = variable_store.objects_in_key_order(conn, "device", device_owners)
    masks = variable_store.masks_in_batches(conn, "device", device_owners)

    interfaces_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if interface_rows:
        interface_owners = [str(row["id"]) for row in interface_rows]
        interface_owned = variable_store.objects_in_key_order(conn, kinds.NETWORK_INTERFACE.name, interface_owners)
        interface_masks = variable_store.masks_in_batches(conn, kinds.NETWORK_INTERFACE.name, interface_owners)
        for row in interface_rows:
            item = _fields(network_interfaces, row)
            if row["network_id"] in network_names:
                item["network"] = network_names[row["network_id"]]
            interfaces_of[row["device_id"]].append(
                _with_raw_variables(item, str(row["id"]), interface_owned, interface_masks)
            )
    found = {}
    own = [str(name) for name in _own_columns(devices)]  # the row's columns from the fourth on
    for device in rows:
        device_id, kind, parent_id = device[0], device[1], device[2]
        item = {"kind": kind}
        item.update((key, value) for key, value in zip(own, device[3:], strict=True) if value is not None)
        if parent_id in device_names:
            item["parent"] = device_names[parent_id]
        if device_id in labels_of:
            item["labels"] = labels_of[device_id]
        _with_raw_variables(item, str(device_id), owned, masks)
        if device_id in interfaces_of:
            item["interfaces"] = sorted(interfaces_of[device_id], key=lambda i: i["name"])
        found[device_id] = item
    return found


def _labels_of(conn: sa.Connection, ids: list[int]) -> dict[int, list[str]]:
    """Each device's labels, sorted: one row per device where the database can put them in one value.

    Three labels a device make three rows otherwise, each a row object for SQLAlchemy and
    psycopg to build (a third of the Python a batch of devices cost to read on PostgreSQL).
    PostgreSQL gives an array, SQLite a JSON array (parsed, so the labels are exactly the
    stored strings); MariaDB the rows. Sorted here, in code point order, either way.
    """
    dialect = conn.dialect.name
    aggregate: sa.ColumnElement[Any] | None = None
    decode: Callable[[Any], list[str]] = list
    if dialect == "postgresql":
        aggregate = sa.func.array_agg(labels.c.label)
    elif dialect == "sqlite":
        aggregate, decode = sa.func.json_group_array(labels.c.label), orjson.loads
    if aggregate is None:
        found: dict[int, list[str]] = defaultdict(list)
        build = lambda owned: sa.select(labels.c.device_id, labels.c.label).where(owned)  # noqa: E731
        for device_id, label in batches.select_in(conn, "export-labels", build, labels.c.device_id, ids):
            found[device_id].append(label)
        return {device_id: sorted(found_labels) for device_id, found_labels in found.items()}
    grouped = lambda owned: (  # noqa: E731
        sa.select(labels.c.device_id, aggregate).where(owned).group_by(labels.c.device_id)
    )
    rows = batches.select_in(conn, f"export-labels-{dialect}", grouped, labels.c.device_id, ids)
    return {device_id: sorted(decode(value)) for device_id, value in rows}


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
