"""Hosts and network devices: one table, nested through ``parent_id``, with labels."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from craton.domain import cascade, crud, hierarchy, kinds, placement, tenancy, versions
from craton.domain.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from craton.domain.history import recording as history
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.storage.devices import descendant_ids_query
from craton.storage.inserts import labels_write
from craton.storage.prepared import Prepared
from craton.storage.tables import devices, labels


def _check_device(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    if existing is None:
        hierarchy.check_placement(conn, principal, values)
        hierarchy.check_parent(conn, principal.project_id, None, values.get("parent_id"), values["name"])
    elif "parent_id" in values:
        hierarchy.check_parent(
            conn, existing["project_id"], existing["id"], values["parent_id"], values.get("name", existing["name"])
        )


def _create(
    conn: sa.Connection, principal: Principal, kind: Kind, values: dict[str, Any], variables: dict[str, Any] | None
) -> Row:
    """A device's create: the row, then the ``labels`` given with it."""
    values = dict(values)
    device_labels = values.pop("labels", None)
    return create_device(conn, principal, kind, values, variables, device_labels)


def _delete(conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any, preview: bool) -> dict[str, int]:
    return delete_device(conn, principal, device_id, preview, kind=kind)


_DEVICE_CASES: dict[str, Any] = {"create": _create, "update": placement.update_device, "delete": _delete}
HOST = Kind(kinds.HOST, check_references=_check_device, **_DEVICE_CASES)
NETWORK_DEVICE = Kind(kinds.NETWORK_DEVICE, check_references=_check_device, **_DEVICE_CASES)
ANY_DEVICE = Kind(kinds.ANY_DEVICE, check_references=_check_device)


def label_filter(wanted: str | Sequence[str]) -> sa.ColumnElement[bool]:
    """Devices that carry every one of the ``wanted`` labels (one label: a plain membership test)."""
    names = sorted({wanted} if isinstance(wanted, str) else set(wanted))
    if len(names) == 1:
        return devices.c.id.in_(sa.select(labels.c.device_id).where(labels.c.label == names[0]))
    carrying_all = (
        sa.select(labels.c.device_id)
        .where(labels.c.label.in_(names))
        .group_by(labels.c.device_id)
        .having(sa.func.count() == len(names))
    )
    return devices.c.id.in_(carrying_all)


def ip_address_filter(value: str) -> sa.ColumnElement[bool]:
    """Match an address in its normal form, so '::0001' finds '::1'."""
    try:
        value = str(ipaddress.ip_address(value))
    except ValueError:
        pass  # not an address: compared as given, so it matches nothing stored
    return devices.c.ip_address == value


def descendants_filter(parent_id: int, recursive: bool) -> sa.ColumnElement[bool]:
    if not recursive:
        return devices.c.parent_id == parent_id
    return devices.c.id.in_(descendant_ids_query(parent_id))


_LABELS_OF = (
    sa.select(labels.c.device_id, labels.c.label)
    .where(labels.c.device_id.in_(sa.bindparam("device_ids", expanding=True)))
    .order_by(labels.c.device_id, labels.c.label)
)


# One device's (an object's answer, a labels write): compiled once, on the driver's cursor (storage/prepared.py).
_LABELS_OF_ONE = Prepared(
    sa.select(labels.c.label).where(labels.c.device_id == sa.bindparam("device_id")).order_by(labels.c.label)
)


def labels_of(conn: sa.Connection, device_ids: list[int]) -> dict[int, list[str]]:
    """Sorted labels of each device, one query for a whole page."""
    found: dict[int, list[str]] = {device_id: [] for device_id in device_ids}
    if len(device_ids) == 1:
        found[device_ids[0]] = [label for (label,) in _LABELS_OF_ONE.all(conn, {"device_id": device_ids[0]})]
    elif device_ids:
        for device_id, label in conn.execute(_LABELS_OF, {"device_ids": device_ids}).all():
            found[device_id].append(label)
    return found


def parent_kinds(conn: sa.Connection, rows: Sequence[Row]) -> dict[int, str]:
    """Whether each row's parent is a host or a network device (for ``up`` links), in one query."""
    parent_ids = sorted({row["parent_id"] for row in rows if row["parent_id"] is not None})
    if not parent_ids:
        return {}
    stmt = sa.select(devices.c.id, devices.c.kind).where(devices.c.id.in_(parent_ids))
    return {row.id: row.kind for row in conn.execute(stmt).all()}


def add_labels(
    conn: sa.Connection, principal: Principal, device: Row, new_labels: list[str], current: list[str] | None = None
) -> list[str]:
    """Union with the existing set (the original's PUT semantics); duplicates are ignored.

    ``current``: the device's labels, when the caller read them with the locked device.
    Returns the device's labels afterwards, sorted (byte-wise, as the database sorts them).
    """
    if current is None:
        current = labels_of(conn, [device["id"]])[device["id"]]
    missing = sorted(set(new_labels) - set(current))
    if not missing:
        return current
    # The version moves first, so concurrent label writers queue instead of deadlocking (the
    # label insert's foreign-key check would otherwise share-lock the device first); every
    # caller has locked the device already, so on PostgreSQL the move, the insert and the
    # history record can go in one statement (``carried``; its sub-statements run in no order).
    bump = versions.touch_write(principal, ANY_DEVICE, device["id"])
    # A label another request just added is not an error: the set union is the same.
    insert = labels_write(conn.dialect.name, labels, device["id"], missing)
    after = sorted([*current, *missing])
    history.record(conn, principal, "labels", device["kind"], device, old=current, new=after, carried=(bump, insert))
    return after


def remove_labels(conn: sa.Connection, principal: Principal, device: Row, old_labels: list[str]) -> None:
    current = labels_of(conn, [device["id"]])[device["id"]]
    present = set(old_labels) & set(current)
    if present:
        versions.touch(conn, principal, ANY_DEVICE, device["id"])
        conn.execute(sa.delete(labels).where(labels.c.device_id == device["id"], labels.c.label.in_(sorted(present))))
        after = [label for label in current if label not in present]
        history.record(conn, principal, "labels", device["kind"], device, old=current, new=after)


def read_labels(conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any) -> list[str]:
    """The device's labels (``GET .../labels``)."""
    row = crud.get(conn, principal, kind, device_id)
    return labels_of(conn, [row["id"]])[row["id"]]


def _locked_device(conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any, if_match: str | None) -> Row:
    """The device, checked against ``If-Match`` and locked: a concurrent delete cannot leave labels behind."""
    if if_match:
        return versions.check_version(conn, principal, kind, device_id, if_match)
    return crud.get(conn, principal, kind, device_id, lock=True)


@functools.lru_cache(maxsize=16)
def _with_labels(kind: Kind, scoped: bool) -> Prepared:
    """Built and compiled once per kind: the device (locked) and its labels, a row per label (one, NULL, for none)."""
    stmt = (
        sa.select(devices, labels.c.label.label("carried_label"))
        .select_from(devices.outerjoin(labels, labels.c.device_id == devices.c.id))
        .where(devices.c.id == sa.bindparam("row_id"))
    )
    if scoped:
        stmt = stmt.where(devices.c.project_id == sa.bindparam("scope_project"))
    if kind.device_kind is not None:
        stmt = stmt.where(devices.c.kind == kind.device_kind)
    # PostgreSQL locks the device only (OF); MariaDB, which has no OF, the labels read too.
    return Prepared(stmt.order_by(labels.c.label).with_for_update(of=devices))


def _locked_with_labels(
    conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any, action: str
) -> tuple[Row, list[str]]:
    """:func:`tenancy.get` with ``lock``, and the device's labels, in one query."""
    kinds.authorize(principal, kind.info, action)
    params = {"row_id": kind.info.parse_id(device_id)}
    if not principal.is_root:
        params["scope_project"] = principal.project_id
    found = _with_labels(kind, not principal.is_root).mappings(conn, params)
    if not found:
        raise NotFound.of(kind.label, device_id)
    row = {name: value for name, value in found[0].items() if name != "carried_label"}
    return row, [entry["carried_label"] for entry in found if entry["carried_label"] is not None]


def label(
    conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any, new: list[str], if_match: str | None = None
) -> list[str]:
    """Add to the device's labels (the whole ``PUT .../labels``); all its labels afterwards.

    The device, locked, and its labels are one query (``If-Match`` is compared with that
    row); it stays locked to the end of the transaction, so the answer is computed from
    them, not read again.
    """
    row, current = _locked_with_labels(conn, principal, kind, device_id, "update" if if_match else "get")
    if if_match and not versions.matches(kind, row, if_match):
        raise PreconditionFailed(versions.STALE)
    return add_labels(conn, principal, row, new, current)


def unlabel(
    conn: sa.Connection, principal: Principal, kind: Kind, device_id: Any, old: list[str], if_match: str | None = None
) -> None:
    """Remove the listed labels (the whole ``DELETE .../labels``); labels it does not carry are ignored."""
    remove_labels(conn, principal, _locked_device(conn, principal, kind, device_id, if_match), old)


def set_labels(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    device_id: Any,
    wanted: list[str],
    if_match: str | None = None,
) -> None:
    """Make the device carry exactly ``wanted`` (the web UI's labels form)."""
    row = _locked_device(conn, principal, kind, device_id, if_match)
    current = labels_of(conn, [row["id"]])[row["id"]]
    remove_labels(conn, principal, row, [existing for existing in current if existing not in wanted])
    add_labels(conn, principal, row, wanted)


def create_device(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    values: dict[str, Any],
    variables: dict[str, Any] | None,
    device_labels: list[str] | None,
) -> Row:
    row = crud.create(conn, principal, kind, values, variables)
    if device_labels:
        add_labels(conn, principal, row, device_labels)
    return row


def delete_device(
    conn: sa.Connection, principal: Principal, device_id: Any, preview: bool = False, *, kind: Kind
) -> dict[str, int]:
    """Delete a device without children, with its labels, interfaces and their variables."""
    row = crud.get(conn, principal, kind, device_id, lock=not preview, action="delete")
    has_children = conn.execute(sa.select(devices.c.id).where(devices.c.parent_id == row["id"]).limit(1)).first()
    if has_children is not None:
        raise Conflict(f"Device {row['id']} ('{row['name']}') has child devices; delete or re-parent them first.")
    return cascade.delete(conn, principal, row["kind"], row, f"Device {row['id']} is still referenced.", preview)


def require_parent_visible(conn: sa.Connection, principal: Principal, parent_id: int) -> None:
    """An unknown or foreign ``parent_id`` filter is a 400, not an empty list that hides the typo."""
    found = conn.execute(tenancy.visible(ANY_DEVICE, principal).where(devices.c.id == parent_id)).first()
    if found is None:
        raise InvalidInput(f"Parent device {parent_id} does not exist.")
