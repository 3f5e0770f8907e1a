"""Reading a fleet document back into a project: the import of issue 17 (``POST /v1/import``).

The document is the one :func:`craton.domain.fleet.export` writes (docs/import-export.md).
An import runs in three steps, all in the caller's transaction:

1. **Check** the whole document against the format's JSON Schema (:data:`fleet.SCHEMA`)
   and the rules a create through the API would apply (name lengths, addresses, unique
   names, references by name that resolve), and against the project as it is (``create``
   meets an existing object, a device that changes kind). Every problem is collected with
   its place in the document; any problem refuses the whole import (:class:`DocumentRefused`).
2. **Plan**: the project's objects are read with one statement per kind (variables, masks
   and labels likewise) and compared, by name, with the document: what to create, update,
   delete (``sync`` only) and what is unchanged. The counts of the answer come from the plan,
   so ``dry_run`` stops here and writes nothing.
3. **Write**: one set-based statement per kind and step (inserts with ``RETURNING`` of the
   new ids, executemany updates and deletes), never one round trip per object; the change
   history gets the records the same writes through the API would make (create, update,
   variables, labels, masks, delete), written with :func:`recording.record_many`.

Objects are matched by name: a cloud by its name, a region by its cloud's and its own, a
cell, a network or a device by its region's and its own (device names are unique per
region), an interface by its device's and its own. Modes:

- ``create``: every device, network and interface of the document must be new; a cloud,
  region or cell that exists is a problem unless the document only names it (no note,
  variables or masks): then it is just the place of what is created in it.
- ``upsert``: what the document gives is set; what it leaves out is kept (fields,
  variable keys, labels, masks, and objects it does not mention).
- ``sync``: the project becomes exactly the document: fields it leaves out become empty,
  variables, labels and masks it does not list go, and every object it does not mention
  is deleted. Only with an explicit confirmation.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from craton.domain import kinds, merging
from craton.domain.errors import Conflict, InvalidInput
from craton.domain.fleet import FORMAT, FORMAT_VERSION, SCHEMA
from craton.domain.history import recording as history
from craton.domain.principal import Principal
from craton.storage import bulk
from craton.storage import variables as variable_store
from craton.storage.tables import (
    cells,
    clouds,
    devices,
    labels,
    merge_strategies,
    network_interfaces,
    networks,
    projects,
    regions,
    variable_masks,
    variables,
)

MODES = ("create", "upsert", "sync")
#: The kinds an import answers counts for, in the answer's order.
COUNT_KEYS = ("clouds", "regions", "cells", "hosts", "network_devices", "networks", "network_interfaces")
#: At most this many problems are listed (the message still says how many there are).
MAX_LISTED = 1000
SYNC_NEEDS_CONFIRM = (
    "mode=sync deletes every object of the project that the document does not mention; "
    "repeat the request with confirm=true to do that."
)
_CHUNK = 2000
_MAX_VARIABLES = 1000  # per object, as PUT .../variables
_MAX_ITEMS = 1000  # labels or masks per object
Locate = Callable[[str], str]


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the document: where (a JSON Pointer, or a CSV row and column) and what."""

    where: str
    message: str
    #: Another place the message refers to (the first of two objects with the same name).
    also: str | None = None

    def located(self, locate: Locate) -> Problem:
        """The problem with its places as the caller knows them (a CSV row and column)."""
        message = self.message if self.also is None else f"{self.message} (first at {locate(self.also)})"
        return Problem(locate(self.where), message)


class DocumentRefused(InvalidInput):
    """The document has problems; nothing was imported. ``problems`` lists them (the first :data:`MAX_LISTED`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"The document has {len(problems)} problem(s); nothing was imported.")
        self.problems = problems[:MAX_LISTED]


def pointer(*parts: Any) -> str:
    """A JSON Pointer (RFC 6901) to a place in the document; ``/`` is the document itself."""
    if not parts:
        return "/"
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _join(base: str, *parts: Any) -> str:
    return (base if base != "/" else "") + pointer(*parts)


def _shown(value: Any) -> str:
    text = orjson.dumps(value, default=str).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- the schema, checked


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}
_ARTICLE = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer"}


def schema_problems(document: Any) -> list[Problem]:
    """Every place where the document does not follow :data:`fleet.SCHEMA`.

    A small interpreter of the keywords the schema uses (type, const, enum, required,
    properties, additionalProperties, items, uniqueItems, $ref): the jsonschema package
    takes seconds on a fleet of 10,000 hosts; this takes a fraction of one.
    """
    found: list[Problem] = []
    _check(document, SCHEMA, "/", found)
    return found


def _check(value: Any, schema: Mapping[str, Any], where: str, found: list[Problem]) -> None:
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "const" in schema:
        expected = schema["const"]
        if type(value) is not type(expected) or value != expected:
            found.append(Problem(where, f"must be {_shown(expected)}, not {_shown(value)}"))
        return
    if "enum" in schema:
        if not isinstance(value, str) or value not in schema["enum"]:
            found.append(Problem(where, f"{_shown(value)} is not one of {', '.join(schema['enum'])}"))
        return
    kind = schema.get("type")
    if kind is not None and not _TYPES[kind](value):
        found.append(Problem(where, f"must be {_ARTICLE.get(kind, 'a ' + kind)}, not {_shown(value)}"))
        return
    if kind == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                found.append(Problem(where, f"'{name}' is required"))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                quick = _quick(properties[name])
                if quick is None or not quick(item):  # the pointer is built only for a closer look
                    _check(item, properties[name], _join(where, name), found)
            elif extra is False:
                found.append(Problem(_join(where, name), f"'{name}' is not a field of this object"))
            elif isinstance(extra, dict):
                _check(item, extra, _join(where, name), found)
    elif kind == "array":
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                _check(item, items, _join(where, index), found)
        if schema.get("uniqueItems"):
            seen: set[bytes] = set()
            for index, item in enumerate(value):
                token = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
                if token in seen:
                    found.append(Problem(_join(where, index), f"{_shown(item)} is listed twice"))
                seen.add(token)


_QUICK: dict[int, Callable[[Any], bool] | None] = {}


def _quick(schema: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A fast test that a value passes a leaf schema (a plain type, a list of distinct texts), or None."""
    if id(schema) in _QUICK:
        return _QUICK[id(schema)]
    test: Callable[[Any], bool] | None = None
    kind = schema.get("type")
    keywords = set(schema) - {"type"}
    if kind in _TYPES and kind not in ("object", "array") and not keywords:
        test = _TYPES[kind]
    elif kind == "object" and not keywords:
        test = _TYPES["object"]
    elif kind == "array" and keywords <= {"items", "uniqueItems"} and schema.get("items") == {"type": "string"}:

        def test(value: Any) -> bool:
            return (
                isinstance(value, list)
                and all(isinstance(item, str) for item in value)
                and len(set(value)) == len(value)
            )

    _QUICK[id(schema)] = test
    return test


# --------------------------------------------------------------------------- the document, read


@dataclass(frozen=True)
class _Sort:
    """A kind of object in the document: its count key, table, schema definition and history name."""

    key: str
    table: sa.Table
    definition: str
    info: kinds.KindInfo

    @property
    def owner_kind(self) -> str:
        return self.info.name

    @property
    def resource_type(self) -> str:
        return self.info.resource_type


_NESTING = {"variables", "masks", "labels", "interfaces", "networks", "devices", "cells", "regions", "kind"}
_LINKS = {"parent", "network"}
CLOUD = _Sort("clouds", clouds, "cloud", kinds.CLOUD)
REGION = _Sort("regions", regions, "region", kinds.REGION)
CELL = _Sort("cells", cells, "cell", kinds.CELL)
HOST = _Sort("hosts", devices, "device", kinds.HOST)
NETWORK_DEVICE = _Sort("network_devices", devices, "device", kinds.NETWORK_DEVICE)
NETWORK = _Sort("networks", networks, "network", kinds.NETWORK)
INTERFACE = _Sort("network_interfaces", network_interfaces, "interface", kinds.NETWORK_INTERFACE)
SORTS = (CLOUD, REGION, CELL, HOST, NETWORK_DEVICE, NETWORK, INTERFACE)
#: The project itself, for its section's variables and masks (not counted).
PROJECT = _Sort("project", projects, "project", kinds.PROJECT)
_DEVICE_SORTS = {kinds.HOST.resource_type: HOST, kinds.NETWORK_DEVICE.resource_type: NETWORK_DEVICE}


def own_fields(definition: str) -> tuple[str, ...]:
    """The columns an object of this schema definition carries itself (not nesting, not links)."""
    properties = SCHEMA["$defs"][definition]["properties"]
    return tuple(name for name in properties if name not in _NESTING | _LINKS)


@dataclass(frozen=True)
class _Rule:
    """What a create through the API accepts for one field."""

    kind: str  # string | text | integer | boolean
    required: bool
    limit: int


def _rules(table: sa.Table, names: Iterable[str]) -> dict[str, _Rule]:
    rules = {}
    for name in names:
        column = table.c[name]
        if isinstance(column.type, sa.Boolean):
            rules[name] = _Rule("boolean", False, 0)
        elif isinstance(column.type, sa.BigInteger):
            rules[name] = _Rule("integer", False, 2**63 - 1)
        elif isinstance(column.type, sa.Integer):
            rules[name] = _Rule("integer", False, 2**31 - 1)
        elif isinstance(column.type, sa.Text):
            rules[name] = _Rule("text", False, 65535)
        else:
            length = getattr(column.type, "length", None) or 255
            rules[name] = _Rule("string", not column.nullable, min(length, 255))
    return rules


_FIELDS = {
    definition: own_fields(definition) for definition in ("cloud", "region", "cell", "network", "device", "interface")
}
_RULES = {sort.key: _rules(sort.table, _FIELDS[sort.definition]) for sort in SORTS}
_ADDRESSES = {"hosts": ("ip_address",), "network_devices": ("ip_address",), "network_interfaces": ("ip_address",)}
_NETWORK_ADDRESSES = ("gateway", "netmask")


_NAME = _Rule("string", True, 255)


def _wrong_text(value: str, rule: _Rule) -> str | None:
    """What is wrong with a text field, or None."""
    if rule.required and not value:
        return "must not be empty"
    if len(value) > rule.limit:
        return f"is longer than {rule.limit} characters"
    if "\x00" in value:
        return "contains a NUL character"
    return None


@dataclass(eq=False)
class Item:
    """One object of the document, checked; ``existing`` and ``id`` are filled in by the plan."""

    sort: _Sort
    key: tuple[str, ...]
    where: str
    given: dict[str, Any]
    variables: dict[str, Any] | None = None
    masks: list[str] | None = None
    labels: list[str] | None = None
    cloud: Item | None = None
    region: Item | None = None
    cell: Item | None = None
    device: Item | None = None
    parent_name: str | None = None
    network_name: str | None = None
    # links resolved by the plan
    parent: Item | None = None
    network: Item | None = None
    existing: dict[str, Any] | None = None
    id: Any = None

    @property
    def name(self) -> str:
        return self.key[-1]

    @property
    def only_named(self) -> bool:
        """A container the document names without saying anything about it."""
        return not self.given.keys() - {"name"} and self.variables is None and self.masks is None


@dataclass
class Document:
    """A checked document: its objects by kind and key, and the project section."""

    items: dict[str, dict[tuple[str, ...], Item]] = field(default_factory=lambda: {sort.key: {} for sort in SORTS})
    project: dict[str, Any] | None = None
    project_where: str = "/project"

    def of(self, sort: _Sort) -> dict[tuple[str, ...], Item]:
        return self.items[sort.key]


class _Reader:
    """Walks a document that passed the schema (or parts of one that did not: every read is type-checked)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.document = Document()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def read(self, document: Any) -> Document:
        if not isinstance(document, dict):
            return self.document
        if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
            return self.document  # the schema problems say why; nothing else can be trusted
        project = document.get("project")
        if isinstance(project, dict):
            self.document.project = {
                "variables": self.variables(project, "/project"),
                "masks": self.names(project, "masks", "/project"),
                "merge_strategies": self.strategies(project),
            }
        for index, cloud in self.objects(document, "clouds", "/"):
            self.cloud(cloud, _join("/", "clouds", index))
        return self.document

    # -- generic pieces

    def objects(self, parent: Mapping[str, Any], name: str, where: str) -> Iterator[tuple[int, dict[str, Any]]]:
        listed = parent.get(name)
        if isinstance(listed, list):
            for index, item in enumerate(listed):
                if isinstance(item, dict):
                    yield index, item

    def fields(self, sort: _Sort, item: Mapping[str, Any], where: str) -> dict[str, Any] | None:
        """The object's own fields, checked as a create through the API checks them; None without a name."""
        given: dict[str, Any] = {}
        for name, rule in _RULES[sort.key].items():
            if name not in item:
                continue
            value = item[name]
            if rule.kind == "boolean":
                if isinstance(value, bool):
                    given[name] = value
            elif rule.kind == "integer":
                if isinstance(value, int) and not isinstance(value, bool):
                    if 0 <= value <= rule.limit:
                        given[name] = value
                    else:
                        self.problem(_join(where, name), f"must be between 0 and {rule.limit}")
            elif isinstance(value, str):
                wrong = _wrong_text(value, rule)
                if wrong is None:
                    given[name] = value
                else:
                    self.problem(_join(where, name), wrong)
        for name in _ADDRESSES.get(sort.key, ()):
            if isinstance(given.get(name), str):
                try:
                    given[name] = str(ipaddress.ip_address(given[name]))
                except ValueError:
                    self.problem(_join(where, name), f"{given[name]!r} is not a valid IPv4 or IPv6 address")
                    del given[name]
        if sort is NETWORK:
            self.network_addresses(given, where)
        if not isinstance(given.get("name"), str):
            return None
        return given

    def network_addresses(self, given: dict[str, Any], where: str) -> None:
        cidr = given.get("cidr")
        if isinstance(cidr, str):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                self.problem(_join(where, "cidr"), f"{cidr!r} is not a valid network in CIDR notation")
        for name in _NETWORK_ADDRESSES:
            value = given.get(name)
            if isinstance(value, str):
                try:
                    ipaddress.ip_address(value)
                except ValueError:
                    self.problem(_join(where, name), f"{value!r} is not a valid IPv4 or IPv6 address")

    def variables(self, item: Mapping[str, Any], where: str) -> dict[str, Any] | None:
        found = item.get("variables")
        if not isinstance(found, dict):
            return None
        if len(found) > _MAX_VARIABLES:
            self.problem(_join(where, "variables"), f"has more than {_MAX_VARIABLES} variables")
        for key in found:
            if not key or len(key) > 255 or "\x00" in key:
                self.problem(
                    _join(where, "variables", key), "a variable's key must have 1 to 255 characters, without NUL"
                )
        return found

    def names(self, item: Mapping[str, Any], name: str, where: str) -> list[str] | None:
        """Labels or masks: a list of names."""
        found = item.get(name)
        if not isinstance(found, list):
            return None
        if len(found) > _MAX_ITEMS:
            self.problem(_join(where, name), f"has more than {_MAX_ITEMS} entries")
        good = []
        for index, value in enumerate(found):
            if isinstance(value, str):
                wrong = _wrong_text(value, _NAME)
                if wrong is None:
                    good.append(value)
                else:
                    self.problem(_join(where, name, index), wrong)
        return sorted(set(good))

    def strategies(self, project: Mapping[str, Any]) -> dict[str, str] | None:
        found = project.get("merge_strategies")
        if not isinstance(found, dict):
            return None
        at = "/project/merge_strategies"
        for key, value in found.items():
            if isinstance(value, str) and value not in merging.STRATEGIES:
                self.problem(_join(at, key), f"{value!r} is not one of {', '.join(merging.STRATEGIES)}")
            if not key or len(key) > 255 or "\x00" in key:
                self.problem(_join(at, key), "a variable's key must have 1 to 255 characters, without NUL")
        return {key: value for key, value in found.items() if isinstance(value, str)}

    def add(self, item: Item) -> Item | None:
        known = self.document.of(item.sort)
        first = known.get(item.key)
        if first is not None:
            what = item.sort.info.label.lower()
            self.problems.append(Problem(item.where, f"{what} '{item.name}' appears twice here", first.where))
            return None
        known[item.key] = item
        return item

    def make(self, sort: _Sort, item: dict[str, Any], where: str, key: tuple[str, ...], **links: Any) -> Item | None:
        given = self.fields(sort, item, where)
        made = Item(
            sort,
            (*key, given["name"]) if given is not None else (*key, ""),
            where,
            given or {},
            variables=self.variables(item, where),
            masks=self.names(item, "masks", where),
            **links,
        )
        if given is None:
            return None
        return self.add(made)

    # -- the nesting

    def cloud(self, item: dict[str, Any], where: str) -> None:
        cloud = self.make(CLOUD, item, where, ())
        if cloud is None:
            return
        for index, region in self.objects(item, "regions", where):
            self.region(region, _join(where, "regions", index), cloud)

    def region(self, item: dict[str, Any], where: str, cloud: Item) -> None:
        region = self.make(REGION, item, where, cloud.key, cloud=cloud)
        if region is None:
            return
        self.placed(item, where, cloud, region, None)
        for index, cell_item in self.objects(item, "cells", where):
            at = _join(where, "cells", index)
            cell = self.make(CELL, cell_item, at, region.key, cloud=cloud, region=region)
            if cell is not None:
                self.placed(cell_item, at, cloud, region, cell)

    def placed(self, item: dict[str, Any], where: str, cloud: Item, region: Item, cell: Item | None) -> None:
        """The networks and devices placed in a region (``cell`` None) or a cell."""
        place = {"cloud": cloud, "region": region, "cell": cell}
        for index, network in self.objects(item, "networks", where):
            self.make(NETWORK, network, _join(where, "networks", index), region.key, **place)
        for index, device_item in self.objects(item, "devices", where):
            at = _join(where, "devices", index)
            kind = device_item.get("kind")
            sort = _DEVICE_SORTS.get(kind) if isinstance(kind, str) else None
            if sort is None:
                continue  # the schema problem names it
            parent = device_item.get("parent")
            device = self.make(
                sort,
                device_item,
                at,
                region.key,
                labels=self.names(device_item, "labels", at),
                parent_name=parent if isinstance(parent, str) else None,
                **place,
            )
            if device is None:
                continue
            for number, interface in self.objects(device_item, "interfaces", at):
                named = interface.get("network")
                self.make(
                    INTERFACE,
                    interface,
                    _join(at, "interfaces", number),
                    device.key,
                    device=device,
                    network_name=named if isinstance(named, str) else None,
                    **place,
                )


def read_document(document: Any, problems: list[Problem]) -> Document:
    """The document's objects, checked against the schema and the API's rules (problems appended)."""
    problems.extend(schema_problems(document))
    return _Reader(problems).read(document)


# --------------------------------------------------------------------------- the project, read


@dataclass
class _Existing:
    """The project's objects, keyed like the document's, with their variables, masks and labels."""

    rows: dict[str, dict[tuple[str, ...], dict[str, Any]]]
    variables: dict[tuple[str, str], dict[str, Any]]
    masks: dict[tuple[str, str], set[str]]
    labels: dict[int, list[str]]
    strategies: dict[str, str]


def _read_project(conn: sa.Connection, project_id: str) -> _Existing:
    """One statement per kind, one for labels, variables, masks and strategies each."""

    def rows(table: sa.Table) -> list[dict[str, Any]]:
        stmt = sa.select(table).where(table.c.project_id == project_id).order_by(table.c.id)
        return [dict(row) for row in conn.execute(stmt).mappings()]

    cloud_rows, region_rows, cell_rows = rows(clouds), rows(regions), rows(cells)
    network_rows, device_rows, interface_rows = rows(networks), rows(devices), rows(network_interfaces)
    cloud_name = {row["id"]: row["name"] for row in cloud_rows}
    region_key = {row["id"]: (cloud_name[row["cloud_id"]], row["name"]) for row in region_rows}
    device_key = {row["id"]: (*region_key[row["region_id"]], row["name"]) for row in device_rows}
    keyed: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {sort.key: {} for sort in SORTS}
    keyed["clouds"] = {(row["name"],): row for row in cloud_rows}
    keyed["regions"] = {region_key[row["id"]]: row for row in region_rows}
    keyed["cells"] = {(*region_key[row["region_id"]], row["name"]): row for row in cell_rows}
    keyed["networks"] = {(*region_key[row["region_id"]], row["name"]): row for row in network_rows}
    for row in device_rows:
        keyed[_DEVICE_SORTS[row["kind"]].key][device_key[row["id"]]] = row
    keyed["network_interfaces"] = {(*device_key[row["device_id"]], row["name"]): row for row in interface_rows}

    device_ids = sa.select(devices.c.id).where(devices.c.project_id == project_id)
    found_labels: dict[int, list[str]] = defaultdict(list)
    for device_id, label in conn.execute(
        sa.select(labels.c.device_id, labels.c.label).where(labels.c.device_id.in_(device_ids)).order_by(labels.c.label)
    ):
        found_labels[device_id].append(label)
    owned: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for kind, owner_id, key, value in conn.execute(
        sa.select(variables.c.owner_kind, variables.c.owner_id, variables.c.key, variables.c.value).where(
            variables.c.project_id == project_id
        )
    ):
        owned[(kind, owner_id)][key] = value
    masked: dict[tuple[str, str], set[str]] = defaultdict(set)
    for kind, owner_id, key in conn.execute(
        sa.select(variable_masks.c.owner_kind, variable_masks.c.owner_id, variable_masks.c.key).where(
            variable_masks.c.project_id == project_id
        )
    ):
        masked[(kind, owner_id)].add(key)
    strategies = dict(
        conn.execute(
            sa.select(merge_strategies.c.key, merge_strategies.c.strategy).where(
                merge_strategies.c.project_id == project_id
            )
        ).all()
    )
    return _Existing(keyed, owned, masked, found_labels, strategies)


# --------------------------------------------------------------------------- the plan


def _same(a: Any, b: Any) -> bool:
    """JSON values compared as JSON (``1`` is not ``true``, ``1.0`` is not ``1``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
    return bool(a == b)


@dataclass
class _Change:
    """What the plan does to one object that exists or will."""

    item: Item | None  # None: a deletion of an object the document does not mention
    sort: _Sort
    row: dict[str, Any]  # the row as it will be (or, for a deletion, as it is)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # column -> (old, new)
    set_variables: dict[str, Any] = field(default_factory=dict)
    old_variables: dict[str, Any] = field(default_factory=dict)  # the previous values of changed keys
    removed_variables: dict[str, Any] = field(default_factory=dict)
    masks: tuple[list[str], list[str]] | None = None  # (before, after)
    labels: tuple[list[str], list[str]] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.set_variables or self.removed_variables or self.masks or self.labels)


@dataclass
class Plan:
    """Everything the import will do, and its counts."""

    mode: str
    created: list[_Change] = field(default_factory=list)
    updated: list[_Change] = field(default_factory=list)
    deleted: list[_Change] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    project: _Change | None = None
    strategies: tuple[dict[str, str], dict[str, str]] | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        result = {name: dict.fromkeys(COUNT_KEYS, 0) for name in ("created", "updated", "deleted")}
        for name, changes in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted)):
            for change in changes:
                result[name][change.sort.key] += 1
        return {**result, "unchanged": dict(self.unchanged)}


def _owner(sort: _Sort, row_id: Any) -> tuple[str, str]:
    return (sort.owner_kind, str(row_id))


class _Planner:
    def __init__(self, document: Document, existing: _Existing, mode: str, problems: list[Problem]) -> None:
        self.document = document
        self.existing = existing
        self.mode = mode
        self.problems = problems
        self.plan = Plan(mode)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def run(self, project_id: str) -> Plan:
        self.match()
        self.links()
        if self.problems:
            return self.plan
        for sort in SORTS:
            for item in self.document.of(sort).values():
                self.compare(item, project_id)
        if self.mode == "sync":
            for sort in SORTS:
                mentioned = self.document.of(sort)
                for key, row in self.existing.rows[sort.key].items():
                    if key not in mentioned:
                        self.plan.deleted.append(self.deletion(sort, row))
        self.project_section(project_id)
        return self.plan

    def match(self) -> None:
        """Pair each object of the document with the project's object of the same name, if any."""
        for sort in SORTS:
            found = self.existing.rows[sort.key]
            for item in self.document.of(sort).values():
                row = found.get(item.key)
                if row is None and sort in (HOST, NETWORK_DEVICE):
                    other = NETWORK_DEVICE if sort is HOST else HOST
                    if item.key in self.existing.rows[other.key]:
                        self.problem(
                            item.where,
                            f"'{item.name}' is a {other.info.label.lower()} in the project; "
                            f"a device cannot become a {sort.info.label.lower()}",
                        )
                        continue
                if row is None:
                    continue
                if self.mode == "create" and not (sort in (CLOUD, REGION, CELL) and item.only_named):
                    self.problem(
                        item.where, f"{sort.info.label.lower()} '{item.name}' exists already (mode=create adds only)"
                    )
                item.existing = row
                item.id = row["id"]

    def links(self) -> None:
        """Resolve ``parent`` and ``network`` names within the object's region: in the document or the project."""
        mentioned = {sort.key: self.document.of(sort) for sort in SORTS}
        for sort in (HOST, NETWORK_DEVICE):
            for item in mentioned[sort.key].values():
                if item.parent_name is None:
                    continue
                key = (*item.key[:-1], item.parent_name)
                item.parent = mentioned["hosts"].get(key) or mentioned["network_devices"].get(key)
                if item.parent is None:
                    row = self.existing.rows["hosts"].get(key) or self.existing.rows["network_devices"].get(key)
                    if row is not None and self.mode != "sync":
                        item.parent = Item(
                            HOST if row["kind"] == "host" else NETWORK_DEVICE, key, "", {}, existing=row, id=row["id"]
                        )
                    else:
                        self.problem(
                            _join(item.where, "parent"),
                            f"no device '{item.parent_name}' in region '{item.key[1]}'"
                            + (" of the document (mode=sync deletes the others)" if row is not None else ""),
                        )
                elif item.parent is item:
                    self.problem(_join(item.where, "parent"), "a device cannot be its own parent")
                    item.parent = None
        self.cycles(mentioned)
        for item in mentioned["network_interfaces"].values():
            if item.network_name is None:
                continue
            key = (*item.key[:2], item.network_name)
            item.network = mentioned["networks"].get(key)
            if item.network is None:
                row = self.existing.rows["networks"].get(key)
                if row is not None and self.mode != "sync":
                    item.network = Item(NETWORK, key, "", {}, existing=row, id=row["id"])
                else:
                    self.problem(
                        _join(item.where, "network"),
                        f"no network '{item.network_name}' in region '{item.key[1]}'"
                        + (" of the document (mode=sync deletes the others)" if row is not None else ""),
                    )

    def cycles(self, mentioned: Mapping[str, Mapping[tuple[str, ...], Item]]) -> None:
        """No device may become its own ancestor, counting the parents of devices the document leaves alone."""
        existing = {**self.existing.rows["hosts"], **self.existing.rows["network_devices"]}
        key_of = {row["id"]: key for key, row in existing.items()}
        parent_of: dict[tuple[str, ...], tuple[str, ...] | None] = {}
        if self.mode != "sync":  # devices keep their parents unless the document names another
            parent_of = {key: key_of.get(row["parent_id"]) for key, row in existing.items()}
        items: dict[tuple[str, ...], Item] = {}
        for sort in ("hosts", "network_devices"):
            for item in mentioned[sort].values():
                items[item.key] = item
                if item.parent is not None:
                    parent_of[item.key] = item.parent.key
                elif item.parent_name is not None or self.mode == "sync" or item.existing is None:
                    parent_of[item.key] = None
        done: set[tuple[str, ...]] = set()
        for start in items:
            path: list[tuple[str, ...]] = []
            node: tuple[str, ...] | None = start
            while node is not None and node not in done:
                if node in path:
                    # The project's own parents never form a cycle: one of the document's does.
                    culprit = next(key for key in path[path.index(node) :] if items.get(key) and items[key].parent)
                    item = items[culprit]
                    self.problem(
                        _join(item.where, "parent"), f"'{item.name}' would be its own ancestor (a cycle of parents)"
                    )
                    item.parent = None
                    parent_of[culprit] = None
                    break
                path.append(node)
                node = parent_of.get(node)
            done.update(path)

    # -- comparing one object

    def target(self, item: Item, project_id: str) -> dict[str, Any]:
        """The row's own columns as they are to be: given fields over existing ones (sync: over nothing)."""
        columns = _FIELDS[item.sort.definition]
        if item.existing is not None and self.mode != "sync":
            base = {name: item.existing[name] for name in columns}
        else:
            base = dict.fromkeys(columns)
            if "active" in base:
                base["active"] = True
        base.update(item.given)
        return base

    def placement(self, item: Item) -> dict[str, Any]:
        sort = item.sort
        if sort is CLOUD:
            return {}
        if sort is REGION:
            return {"cloud_id": item.cloud}
        if sort is INTERFACE:
            return {"device_id": item.device, "network_id": item.network}
        place = {"cloud_id": item.cloud, "region_id": item.region}
        if sort is CELL:
            return place
        place["cell_id"] = item.cell
        if sort in (HOST, NETWORK_DEVICE):
            place["parent_id"] = item.parent
        return place

    def compare(self, item: Item, project_id: str) -> None:
        sort = item.sort
        values = self.target(item, project_id)
        links = self.placement(item)
        existing = item.existing
        if existing is None:
            change = _Change(item, sort, {**values, "project_id": project_id})
            change.set_variables = dict(item.variables or {})
            if item.masks:
                change.masks = ([], list(item.masks))
            if item.labels:
                change.labels = ([], list(item.labels))
            item_links = {column: target for column, target in links.items() if target is not None}
            change.row["_links"] = item_links
            self.plan.created.append(change)
            return
        change = _Change(item, sort, dict(existing))
        for name, value in values.items():
            if not _same(existing[name], value) and not (existing[name] is None and value is None):
                change.fields[name] = (existing[name], value)
        for column, target in links.items():
            if target is None and column in ("parent_id", "network_id") and self.mode != "sync":
                continue  # upsert keeps a parent or network the document does not name
            if target is not None and target.existing is None:  # a new object: its id comes later
                change.fields[column] = (existing[column], target)
            elif existing[column] != (target.id if target is not None else None):
                change.fields[column] = (existing[column], target)
        owner = _owner(sort, existing["id"])
        before = self.existing.variables.get(owner, {})
        wanted = item.variables or {}
        change.set_variables = {k: v for k, v in wanted.items() if k not in before or not _same(before[k], v)}
        change.old_variables = {k: before[k] for k in change.set_variables if k in before}
        if self.mode == "sync":
            change.removed_variables = {k: v for k, v in before.items() if k not in wanted}
        masks_before = sorted(self.existing.masks.get(owner, ()))
        masks_after = self.merged(masks_before, item.masks)
        if masks_after != masks_before:
            change.masks = (masks_before, masks_after)
        if sort in (HOST, NETWORK_DEVICE):
            labels_before = self.existing.labels.get(existing["id"], [])
            labels_after = self.merged(labels_before, item.labels)
            if labels_after != labels_before:
                change.labels = (labels_before, labels_after)
        if change.changed:
            self.plan.updated.append(change)
        else:
            self.plan.unchanged[sort.key] += 1

    def merged(self, before: list[str], given: list[str] | None) -> list[str]:
        if self.mode == "sync":
            return sorted(given or [])
        return sorted(set(before) | set(given or []))

    def deletion(self, sort: _Sort, row: dict[str, Any]) -> _Change:
        change = _Change(None, sort, row)
        change.removed_variables = self.existing.variables.get(_owner(sort, row["id"]), {})
        return change

    def project_section(self, project_id: str) -> None:
        section = self.document.project
        if section is None:
            return
        owner = ("project", project_id)
        before = self.existing.variables.get(owner, {})
        wanted = section["variables"] or {}
        change = _Change(None, PROJECT, {"id": project_id})
        change.set_variables = {k: v for k, v in wanted.items() if k not in before or not _same(before[k], v)}
        change.old_variables = {k: before[k] for k in change.set_variables if k in before}
        if self.mode == "sync":
            change.removed_variables = {k: v for k, v in before.items() if k not in wanted}
        masks_before = sorted(self.existing.masks.get(owner, ()))
        masks_after = self.merged(masks_before, section["masks"])
        if masks_after != masks_before:
            change.masks = (masks_before, masks_after)
        if change.changed:
            self.plan.project = change
        strategies = section["merge_strategies"]
        before_strategies = self.existing.strategies
        after = dict(strategies or {}) if self.mode == "sync" else {**before_strategies, **(strategies or {})}
        if after != before_strategies:
            self.plan.strategies = (dict(before_strategies), dict(sorted(after.items())))


# --------------------------------------------------------------------------- the writes


def _insert(conn: sa.Connection, sort: _Sort, changes: list[_Change], acted_at: Any) -> None:
    """Insert new rows of one kind (one executemany with RETURNING) and give each its id."""
    if not changes:
        return
    table = sort.table
    rows = []
    for change in changes:
        row = {name: value for name, value in change.row.items() if name != "_links"}
        for column, target in change.row["_links"].items():
            row[column] = target.id
        if table is devices:
            row["kind"] = sort.resource_type
        row["created_at"] = acted_at
        rows.append(row)
    natural = (
        "device_id" if sort is INTERFACE else "region_id" if sort is not CLOUD and sort is not REGION else "cloud_id"
    )
    key_columns = ["id", "name"] + ([natural] if sort is not CLOUD else [])
    columns = sorted({name for row in rows for name in row})
    params = [{name: row.get(name) for name in columns} for row in rows]
    ids = {tuple(found[1:]): found[0] for found in bulk.insert_many(conn, table, params, key_columns)}
    for change, row in zip(changes, rows, strict=True):
        natural_key = (row["name"],) if sort is CLOUD else (row["name"], row[natural])
        row["id"] = ids[natural_key]
        assert change.item is not None
        change.item.id = row["id"]
        change.row = {**row, "updated_at": None}


def _level(change: _Change) -> int:
    depth = 0
    node = change.item.parent if change.item is not None else None
    while node is not None and node.existing is None and node.where:
        depth += 1
        node = node.parent
    return depth


def _update(conn: sa.Connection, sort: _Sort, changes: list[_Change], acted_at: Any) -> None:
    """Write changed fields (one statement per set of changed columns) and move every changed row's version."""
    table = sort.table
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        values = {}
        for name, (_, new) in change.fields.items():
            value = new.id if isinstance(new, Item) else new
            values[name] = value
            change.row[name] = value
        change.row["updated_at"] = acted_at
        by_columns[tuple(sorted(values))].append({"id": change.row["id"], **values})
    for rows in by_columns.values():
        bulk.update_many(
            conn, table, [{name: row[name] for name in sorted(row)} for row in rows], {"updated_at": acted_at}
        )


def _variable_writes(conn: sa.Connection, principal: Principal, changes: list[tuple[tuple[str, str], _Change]]) -> None:
    """Set and remove variables, masks and labels of many owners: a few executemany statements."""
    project_id = principal.project_id
    set_rows = [
        {
            "owner_kind": owner[0],
            "owner_id": owner[1],
            "key": key,
            "value": value,
            "project_id": project_id,
            "created_at": principal.acted_at,
            "updated_by": principal.username,
        }
        for owner, change in changes
        for key, value in change.set_variables.items()
    ]
    variable_store.upsert_many(conn, set_rows)
    removals = [({"owner_kind": owner[0]}, owner[1], change.removed_variables) for owner, change in changes]
    _delete_sets(conn, variables, "owner_id", "key", removals)
    added_masks: list[dict[str, Any]] = []
    removed_masks: list[tuple[dict[str, Any], Any, Iterable[str]]] = []
    for owner, change in changes:
        if change.masks is None:
            continue
        before, after = change.masks
        for key in sorted(set(after) - set(before)):
            added_masks.append(
                {
                    "owner_kind": owner[0],
                    "owner_id": owner[1],
                    "key": key,
                    "project_id": project_id,
                    "created_at": principal.acted_at,
                    "updated_by": principal.username,
                }
            )
        removed_masks.append(({"owner_kind": owner[0]}, owner[1], set(before) - set(after)))
    bulk.insert_many(conn, variable_masks, added_masks)
    _delete_sets(conn, variable_masks, "owner_id", "key", removed_masks)
    added_labels: list[dict[str, Any]] = []
    removed_labels: list[tuple[dict[str, Any], Any, Iterable[str]]] = []
    for _, change in changes:
        if change.labels is None:
            continue
        before, after = change.labels
        device_id = change.row["id"]
        added_labels += [{"device_id": device_id, "label": label} for label in sorted(set(after) - set(before))]
        removed_labels.append(({}, device_id, set(before) - set(after)))
    bulk.insert_many(conn, labels, added_labels)
    _delete_sets(conn, labels, "device_id", "label", removed_labels)


def _delete_sets(
    conn: sa.Connection,
    table: sa.Table,
    id_column: str,
    key_column: str,
    removals: Iterable[tuple[Mapping[str, Any], Any, Iterable[str]]],
) -> None:
    """For each ``(fixed column values, id, keys)``, delete the id's rows with those keys.

    Owners that lose the same keys share statements (``key IN (...) AND id IN (...)``,
    a chunk of ids at a time): a sync that drops one variable from 10,000 hosts is five
    statements, not 10,000.
    """
    groups: dict[tuple[tuple[tuple[str, Any], ...], tuple[str, ...]], list[Any]] = defaultdict(list)
    for fixed, row_id, keys in removals:
        wanted = tuple(sorted(keys))
        if wanted:
            groups[(tuple(sorted(fixed.items())), wanted)].append(row_id)
    for (pinned, keys), ids in groups.items():
        for chunk in _chunks(ids):
            conn.execute(
                sa.delete(table).where(
                    *(table.c[name] == value for name, value in pinned),
                    table.c[key_column].in_(keys),
                    table.c[id_column].in_(chunk),
                )
            )


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _delete(conn: sa.Connection, principal: Principal, changes: list[_Change]) -> None:
    """Remove what ``sync`` deletes: links first, then parts before wholes (the database cascades nothing we keep)."""
    by_sort: dict[str, list[Any]] = defaultdict(list)
    for change in changes:
        by_sort[change.sort.key].append(change.row["id"])
    device_ids = by_sort["hosts"] + by_sort["network_devices"]
    for chunk in _chunks(device_ids):
        conn.execute(sa.update(devices).where(devices.c.id.in_(chunk)).values(parent_id=None))
    for sort in (INTERFACE, HOST, NETWORK_DEVICE, NETWORK, CELL, REGION, CLOUD):
        ids = by_sort[sort.key]
        for chunk in _chunks(ids):
            variable_store.delete_owned_by(conn, sort.owner_kind, [str(row_id) for row_id in chunk])
            conn.execute(sa.delete(sort.table).where(sort.table.c.id.in_(chunk)))


def _history(conn: sa.Connection, principal: Principal, plan: Plan, project_row: Mapping[str, Any]) -> None:
    """The records the same writes through the API would make, one statement per action."""
    records: dict[str, list[tuple[str, Any, Any, Any]]] = defaultdict(list)
    for change in plan.created:
        rtype, row = change.sort.resource_type, change.row
        records["create"].append((rtype, row, None, history.snapshot(row)))
        if change.set_variables:
            records["variables"].append((rtype, row, {}, change.set_variables))
        if change.labels:
            records["labels"].append((rtype, row, [], change.labels[1]))
        if change.masks:
            records["masks"].append((rtype, row, [], change.masks[1]))
    updates = list(plan.updated)
    for change in updates:
        rtype, row = change.sort.resource_type, change.row
        if change.fields:
            old = {name: old for name, (old, _) in sorted(change.fields.items())}
            records["update"].append((rtype, row, old, {name: row[name] for name in sorted(change.fields)}))
        _attached(records, rtype, row, change)
    if plan.project is not None:
        _attached(records, "project", project_row, plan.project)
    if plan.strategies is not None:
        records["merge_strategies"].append(("project", project_row, *plan.strategies))
    for change in plan.deleted:
        rtype, row = change.sort.resource_type, change.row
        records["delete"].append((rtype, row, {**history.snapshot(row), "variables": change.removed_variables}, None))
    for action, entries in records.items():
        history.record_many(conn, principal, action, entries)


def _attached(records: dict[str, list[Any]], rtype: str, row: Mapping[str, Any], change: _Change) -> None:
    if change.set_variables:
        records["variables"].append((rtype, row, change.old_variables, change.set_variables))
    if change.removed_variables:
        records["variables"].append((rtype, row, change.removed_variables, {}))
    if change.labels:
        records["labels"].append((rtype, row, *change.labels))
    if change.masks:
        records["masks"].append((rtype, row, *change.masks))


def _execute(conn: sa.Connection, principal: Principal, plan: Plan, project_row: Mapping[str, Any]) -> None:
    at = principal.acted_at
    created: dict[str, list[_Change]] = defaultdict(list)
    for change in plan.created:
        created[change.sort.key].append(change)
    for sort in (CLOUD, REGION, CELL, NETWORK):
        _insert(conn, sort, created[sort.key], at)
    # Devices whose parent is created too come after it: one insert per level of nesting.
    levels: dict[int, dict[str, list[_Change]]] = defaultdict(lambda: defaultdict(list))
    for sort in (HOST, NETWORK_DEVICE):
        for change in created[sort.key]:
            levels[_level(change)][sort.key].append(change)
    for depth in sorted(levels):
        for sort in (HOST, NETWORK_DEVICE):
            _insert(conn, sort, levels[depth][sort.key], at)
    _insert(conn, INTERFACE, created[INTERFACE.key], at)
    updated: dict[str, list[_Change]] = defaultdict(list)
    for change in plan.updated:
        updated[change.sort.key].append(change)
    for sort in SORTS:
        _update(conn, sort, updated[sort.key], at)
    owned = [(_owner(change.sort, change.row["id"]), change) for change in [*plan.created, *plan.updated]]
    if plan.project is not None:
        owned.append((("project", principal.project_id), plan.project))
    _variable_writes(conn, principal, owned)
    if plan.project is not None or plan.strategies is not None:
        conn.execute(sa.update(projects).where(projects.c.id == principal.project_id).values(updated_at=at))
    if plan.strategies is not None:
        variable_store.replace_strategies(conn, principal.project_id, plan.strategies[1], principal.username, at)
    _history(conn, principal, plan, project_row)
    _delete(conn, principal, plan.deleted)


# --------------------------------------------------------------------------- the use case


@dataclass(frozen=True)
class Options:
    mode: str = "upsert"
    dry_run: bool = False
    confirm: bool = False


def _authorize(principal: Principal, plan: Plan) -> None:
    """The roles the same writes through the API need: per kind and action; the project's own for its section."""
    for action, changes in (("create", plan.created), ("update", plan.updated), ("delete", plan.deleted)):
        for info in {id(change.sort): change.sort.info for change in changes}.values():
            kinds.authorize(principal, info, action)
    if plan.project is not None or plan.strategies is not None:
        kinds.authorize(principal, kinds.PROJECT, "update")


def run(
    conn: sa.Connection,
    principal: Principal,
    document: Any,
    options: Options,
    problems: list[Problem] | None = None,
    locate: Locate | None = None,
) -> dict[str, Any]:
    """Import ``document`` into the caller's project; the answer's ``import`` object.

    ``problems``: those found before (reading a CSV file); ``locate`` turns a JSON Pointer
    into the place the caller knows (a CSV row and column).
    """
    if options.mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {options.mode!r}.")
    if options.mode == "sync" and not options.confirm:
        raise InvalidInput(SYNC_NEEDS_CONFIRM)
    for info in (kinds.CLOUD, kinds.REGION, kinds.CELL, kinds.HOST, kinds.NETWORK_DEVICE, kinds.NETWORK):
        kinds.authorize(principal, info, "list")
    found: list[Problem] = []
    read = read_document(document, found)
    # The project's row, locked: imports into one project queue instead of interleaving.
    project_row = (
        conn.execute(sa.select(projects).where(projects.c.id == principal.project_id).with_for_update())
        .mappings()
        .one()
    )
    plan = _Planner(read, _read_project(conn, principal.project_id), options.mode, found).run(principal.project_id)
    if found or problems:
        where = locate or (lambda place: place)
        raise DocumentRefused([*(problems or []), *(problem.located(where) for problem in found)])
    _authorize(principal, plan)
    if not options.dry_run:
        try:
            _execute(conn, principal, plan, dict(project_row))
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "The project changed while the document was imported; nothing was imported.",
                "Another request created or deleted an object the import also touches; try again.",
            ) from exc
    return {"mode": options.mode, "dry_run": options.dry_run, **plan.counts()}
