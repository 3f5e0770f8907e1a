"""The kinds of object Craton keeps: one declaration each, and everything derived from them.

A :class:`KindInfo` says what the rest of the service needs to know about a kind: its
table, its public names, the owners above it whose variables it inherits, what it
owns (variables, labels) and who may read it. :data:`KINDS` lists every kind, in the
order the API documents them. Per-kind lists elsewhere (routes, the resolution chains,
the tables of variable owners, the change feed's resource types, subtree deletion) are
derived from it, so adding a kind means declaring it here; docs/architecture.md ("How
to add a kind") lists the few other files a kind needs.

A :class:`Kind` binds a declaration to the domain's checks of references on create and
update; the generic operations (crud, tenancy, versions) take a Kind.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain.errors import InvalidInput, NotFound
from craton.domain.principal import Principal, Role
from craton.storage.owners import OwnerRef, OwnerTable
from craton.storage.rows import Row
from craton.storage.tables import cells, clouds, devices, network_interfaces, networks, projects, regions, users

ReferenceCheck = Callable[[sa.Connection, Principal, dict[str, Any], Row | None], None]
# A whole create: ``(conn, principal, kind, values, variables)`` -> the new row.
Creator = Callable[[sa.Connection, Principal, "Kind", dict[str, Any], dict[str, Any] | None], Row]
# A whole update: ``(conn, principal, kind, row_id, values, with_children)`` -> the row as it is now.
Updater = Callable[[sa.Connection, Principal, "Kind", Any, dict[str, Any], bool], Row]
# A delete: ``(conn, principal, kind, row_id, preview)`` -> how many objects of each kind it
# removes (or, with ``preview``, would remove without writing anything).
Deleter = Callable[[sa.Connection, Principal, "Kind", Any, bool], dict[str, int]]
Parents = tuple[tuple[str, str], ...]
# Never sort keys, whatever a kind declares: internal or secret-derived columns.
_HIDDEN_COLUMNS = {"kind", "api_key_hash", "previous_api_key_hash", "previous_key_expires_at", "is_root"}


def integer_id(raw: Any, label: str, limit: int = 2**31) -> int:
    """An integer id from a URL; anything no column could hold is simply not found (never a 500).

    ``limit`` is one past the largest id of the column (2**31 for INTEGER, 2**63 for BIGINT).
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        if 0 <= raw < limit:
            return raw
        raise NotFound.of(label, raw)
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)) or int(text) >= limit:
        raise NotFound.of(label, raw)
    return int(text)


@dataclass(frozen=True, eq=False)
class KindInfo:
    """One kind of object, as declared once for the whole service (compared by identity)."""

    #: Public name: in the change history, blame sources, the change feed's filter.
    resource_type: str
    table: sa.Table
    #: Plural: the JSON key of lists, the client's manager, ``http/routes/<collection>.py``.
    collection: str
    #: Collection URL.
    path: str
    #: Owner kind of its variables when several kinds share a table ("device").
    owner_kind: str | None = None
    #: Owners whose variables it inherits, nearest first: (owner kind, column holding the id).
    parents: Parents = ()
    #: Nested in objects of its own kind through ``parent_id`` (devices).
    nested: bool = False
    #: Deleted with the object it belongs to: (owner kind, column), e.g. an interface's device.
    part_of: tuple[str, str] | None = None
    name_column: str = "name"
    has_variables: bool = True
    has_labels: bool = False
    #: 409 message when a uniqueness constraint refuses a create or an update.
    conflict_message: str = ""
    #: Sort keys of lists; empty: every column but internal ones.
    sortable: frozenset[str] = field(default=frozenset())
    #: The least role for each action ("list", "get", "create", "update", "delete"); an action
    #: not named needs the role of "get", and "get" (reading an object, its variables and its
    #: history) needs MEMBER unless named. The domain checks it; nothing else does.
    roles: Mapping[str, Role] = field(default_factory=dict)
    #: Ids are UUID text (projects) rather than integers.
    text_ids: bool = False

    @property
    def read_role(self) -> Role:
        """Role needed to read objects of this kind, their variables and their history."""
        return self.roles.get("get", Role.MEMBER)

    def role_for(self, action: str) -> Role:
        return self.roles.get(action, self.read_role)

    @property
    def label(self) -> str:
        """How error details name the kind: ``Host``, ``Network device``, ``Cloud``."""
        return self.resource_type.replace("_", " ").replace("-", " ").capitalize()

    def parse_id(self, raw: Any) -> Any:
        """An id as the database holds it; text that cannot be an id is simply not found."""
        if self.text_ids:
            try:
                return str(uuid.UUID(str(raw)))
            except ValueError:
                raise NotFound.of(self.label, raw) from None
        return integer_id(raw, self.label)

    @property
    def name(self) -> str:
        """The owner kind of its variables: the resource type, or the shared one ("device")."""
        return self.owner_kind or self.resource_type

    @property
    def device_kind(self) -> str | None:
        """The ``kind`` column value telling this kind apart in a shared table."""
        return self.resource_type if self.owner_kind is not None else None


_CONTAINERS: Parents = (("region", "region_id"), ("cloud", "cloud_id"), ("project", "project_id"))
_DEVICE_SORT = frozenset(
    {
        "id",
        "name",
        "created_at",
        "updated_at",
        "ip_address",
        "device_type",
        "active",
        "cell_id",
        "region_id",
        "cloud_id",
        "parent_id",
        "project_id",
        "note",
    }
)
DEVICE_CONFLICT = "A device with the given name already exists."

PROJECT = KindInfo(
    "project",
    projects,
    "projects",
    "/v1/projects",
    conflict_message="A project with the given id already exists.",
    # an admin renames its own project (tenancy makes any other one 404); root renames any
    roles={"list": Role.ROOT, "create": Role.ROOT, "get": Role.ADMIN, "update": Role.ADMIN, "delete": Role.ROOT},
    text_ids=True,
)
USER = KindInfo(
    "user",
    users,
    "users",
    "/v1/users",
    name_column="username",
    has_variables=False,
    conflict_message="A user with the given username already exists in this project.",
    # Only what a user read shows: key hashes and key expiry are secrets, never sort keys.
    sortable=frozenset({"id", "username", "is_admin", "project_id", "created_at", "updated_at"}),
    roles={"list": Role.ADMIN, "get": Role.ADMIN, "create": Role.ADMIN, "update": Role.ADMIN, "delete": Role.ADMIN},
)
CLOUD = KindInfo(
    "cloud",
    clouds,
    "clouds",
    "/v1/clouds",
    parents=(("project", "project_id"),),
    conflict_message="A cloud with the given name already exists.",
)
REGION = KindInfo(
    "region",
    regions,
    "regions",
    "/v1/regions",
    parents=_CONTAINERS[1:],
    conflict_message="A region with the given name already exists.",
)
CELL = KindInfo(
    "cell",
    cells,
    "cells",
    "/v1/cells",
    parents=_CONTAINERS,
    conflict_message="A cell with the given name already exists.",
)
HOST = KindInfo(
    "host",
    devices,
    "hosts",
    "/v1/hosts",
    owner_kind="device",
    parents=(("cell", "cell_id"), *_CONTAINERS),
    nested=True,
    has_labels=True,
    conflict_message=DEVICE_CONFLICT,
    sortable=_DEVICE_SORT,
)
NETWORK_DEVICE = KindInfo(
    "network_device",
    devices,
    "network_devices",
    "/v1/network-devices",
    owner_kind="device",
    parents=(("cell", "cell_id"), *_CONTAINERS),
    nested=True,
    has_labels=True,
    conflict_message=DEVICE_CONFLICT,
    sortable=_DEVICE_SORT | {"model_name", "os_version", "vlans"},
)
NETWORK = KindInfo(
    "network",
    networks,
    "networks",
    "/v1/networks",
    parents=(("cell", "cell_id"), *_CONTAINERS),
    conflict_message="Network with the given name already exists in this region.",
)
NETWORK_INTERFACE = KindInfo(
    "network_interface",
    network_interfaces,
    "network_interfaces",
    "/v1/network-interfaces",
    part_of=("device", "device_id"),
    conflict_message="A network interface with the given name already exists on this device.",
)

#: Every kind, in the order the API documents them.
KINDS: tuple[KindInfo, ...] = (PROJECT, USER, CLOUD, REGION, CELL, HOST, NETWORK_DEVICE, NETWORK, NETWORK_INTERFACE)

#: Hosts and network devices seen together (``/v1/devices``): not a kind of its own.
ANY_DEVICE = KindInfo(
    "device",
    devices,
    "devices",
    "/v1/devices",
    parents=HOST.parents,
    nested=True,
    has_labels=True,
    conflict_message=DEVICE_CONFLICT,
    sortable=_DEVICE_SORT,
)


def authorize(principal: Principal, info: KindInfo, action: str) -> None:
    """403 unless the caller's role allows ``action`` on objects of this kind (the only role check)."""
    principal.require(info.role_for(action))


def by_resource_type(resource_type: str) -> KindInfo:
    return _BY_RESOURCE_TYPE[resource_type]


def owner_kinds() -> dict[str, KindInfo]:
    """Each owner kind of variables ("device" once), with the first kind declaring it."""
    return dict(_OWNER_KINDS)


def owner_kind(name: str) -> KindInfo:
    """The declaration of an owner kind ("device": the first of hosts and network devices)."""
    return _OWNER_KINDS[name]


def parents_of(owner_kind: str) -> Parents:
    """The owners above an owner kind, nearest first (nested devices come before these)."""
    return _OWNER_KINDS[owner_kind].parents


def resource_types_of(owner_kind: str) -> tuple[str, ...]:
    """The public names recorded in the history for an owner kind ("device": hosts and network devices)."""
    return tuple(info.resource_type for info in KINDS if info.name == owner_kind) or (owner_kind,)


def admin_only_resource_types() -> tuple[str, ...]:
    """Kinds whose objects, and so whose history records, only admins may read."""
    return tuple(info.resource_type for info in KINDS if info.read_role >= Role.ADMIN)


def spelled_resource_types(given: Iterable[str], accepted: Sequence[str], message: str, field: str) -> list[str]:
    """``given`` as change records spell resource types, without repeats; anything else is a 400.

    The URLs' hyphen stands for the underscore (``network-device`` is ``network_device``).
    The one reading of a resource type the API accepts: the change feed's ``resource_type``
    and webhooks' ``filters.resource_types`` (which also accept ``device``) both go through it.
    """
    given = list(given)
    canonical = [value.replace("-", "_") for value in given]
    unknown = [value for value, name in zip(given, canonical, strict=True) if name not in accepted]
    if unknown:
        raise InvalidInput(
            message,
            f"{field}: unknown resource type {unknown[0]!r}; accepted: {', '.join(accepted)} "
            "(a hyphen may stand for the underscore, e.g. network-device)",
        )
    return list(dict.fromkeys(canonical))


@functools.cache
def owner_tables() -> dict[str, OwnerTable]:
    """For naming owners (blame): each owner kind's table, name column and type column."""
    return {
        name: OwnerTable(
            table=info.table,
            name_column=info.table.c[info.name_column],
            type_column=info.table.c.kind if info.owner_kind is not None else None,
            text_ids=info.text_ids,
        )
        for name, info in _OWNER_KINDS.items()
    }


_BY_RESOURCE_TYPE = {info.resource_type: info for info in KINDS}
_OWNER_KINDS: dict[str, KindInfo] = {}
for _info in KINDS:
    _OWNER_KINDS.setdefault(_info.name, _info)


@dataclass(frozen=True)
class Kind:
    """A declared kind with the domain's reference checks: what crud, tenancy and versions take."""

    info: KindInfo
    check_references: ReferenceCheck | None = None
    #: The create and update of domain/objects.py when a kind has more to them than one row
    #: (a device's labels and moves, a cell's move, a project's made id); None: the generic ones.
    create: Creator | None = None
    update: Updater | None = None
    #: The delete of the kind's objects (with what goes along); None: not deleted at all.
    delete: Deleter | None = None

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def table(self) -> sa.Table:
        return self.info.table

    @property
    def device_kind(self) -> str | None:
        return self.info.device_kind

    @property
    def conflict_message(self) -> str:
        return self.info.conflict_message

    @property
    def resource_type(self) -> str:
        """The public name of the kind: hosts and network devices are told apart."""
        return self.info.resource_type

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def id_column(self) -> sa.Column[Any]:
        return self.table.c.id

    def sort_columns(self) -> frozenset[str]:
        return (self.info.sortable or frozenset(c.name for c in self.table.c)) - _HIDDEN_COLUMNS

    def project_column(self) -> sa.Column[Any]:
        return self.table.c.id if self.name == "project" else self.table.c.project_id

    def project_of(self, row: Row) -> str:
        """The project a row belongs to (a project belongs to itself)."""
        return str(row["id"] if self.name == "project" else row["project_id"])

    def owner(self, row_id: Any) -> OwnerRef:
        return (self.name, str(row_id))
