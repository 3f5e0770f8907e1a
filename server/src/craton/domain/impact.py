"""What a write does to devices' resolved variables: snapshots, their diff, and the preview.

A *snapshot* is the resolved variables of a set of devices, read set-based
through the one resolution path (:func:`craton.domain.resolution.variables_for`)
in batches, so a preview agrees with what ``GET ...?resolved-values=true``
answers after the write. A preview runs the real domain use case inside a
savepoint that is rolled back, snapshotting the devices the write can reach
before and after it: the same validation, authorisation and locks as the
real write, and nothing written (no data, history or events).
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import sqlalchemy as sa

from craton.domain import kinds, resolution
from craton.domain.diffs import diff
from craton.storage import variables as variable_store
from craton.storage.devices import descendant_ids_query
from craton.storage.owners import OwnerRef
from craton.storage.rows import as_row
from craton.storage.tables import devices

BATCH = 2000

#: What a snapshot reads of a device: its name and what its chain of owners needs.
_COLUMNS = (
    devices.c.id,
    devices.c.kind,
    devices.c.name,
    devices.c.parent_id,
    devices.c.project_id,
    devices.c.cloud_id,
    devices.c.region_id,
    devices.c.cell_id,
)


class Device(NamedTuple):
    """One device of a snapshot: its kind, name and resolved variables."""

    kind: str
    name: str
    variables: dict[str, Any]


Snapshot = dict[int, Device]
#: A row of :func:`device_rows`: an ``sa.Row`` of :data:`_COLUMNS` (read by attribute and position).
DeviceRow = Any


def scope(kind: str, row_id: Any) -> sa.ColumnElement[bool]:
    """The devices whose resolved variables a write to ``kind`` ``row_id`` can change.

    Containers reach the devices they hold; a device reaches itself and every device
    nested below it. Labels take no part in resolution, so they widen nothing.
    """
    columns = {"project": devices.c.project_id, "cloud": devices.c.cloud_id, "region": devices.c.region_id}
    columns["cell"] = devices.c.cell_id
    if kind in columns:
        return columns[kind] == row_id
    return sa.or_(devices.c.id == row_id, devices.c.id.in_(descendant_ids_query(int(row_id))))


def device_rows(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[DeviceRow]:
    """The devices matching ``where``, by id: only the columns a snapshot needs (:data:`_COLUMNS`)."""
    return list(conn.execute(sa.select(*_COLUMNS).where(where).order_by(devices.c.id)).all())


def resolved_variables(
    conn: sa.Connection, where: sa.ColumnElement[bool], keys: Collection[str] | None = None
) -> Snapshot:
    """Resolved variables of every device matching ``where``, by id (two or three queries per batch).

    With ``keys``, only those keys are resolved (each key resolves on its own, so their
    values are those of a full resolution): what a write that touches only them can change.
    The database filters the keys: the other keys' rows are never read.
    """
    shared = snapshot_of(conn, device_rows(conn, where), keys)
    return {device_id: device._replace(variables=dict(device.variables)) for device_id, device in shared.items()}


#: Where the containers of a device are in a :func:`device_rows` row, nearest first, and their owner kinds.
_TAIL = tuple(
    (owner_kind, [column.name for column in _COLUMNS].index(name)) for owner_kind, name in kinds.parents_of("device")
)
_TAIL_OF = operator.itemgetter(*(index for _, index in _TAIL))


def snapshot_of(conn: sa.Connection, rows: Sequence[DeviceRow], keys: Collection[str] | None = None) -> Snapshot:
    """Resolved variables of the given device rows (of :func:`device_rows`), by id.

    Set-based per level: a device that is not nested and has no variable or mask of its
    own (of ``keys``) resolves to what its containers resolve to, so those are resolved
    once per distinct cell (or region) and that one dict is shared by all such devices (do
    not change it). Only nested devices and those with values or masks of their own go
    through their whole chain. The values are those of :func:`resolution.variables_for`.
    """
    resolved = _resolve(_read(conn, rows, keys))
    return {row.id: Device(row.kind, row.name, resolved[row.id]) for row in rows}


@dataclass
class _Batch:
    """What resolving a batch of device rows needs, read once (see :func:`snapshot_of`).

    ``entries``: per device its id, its own owner ref and, for a device that is not nested,
    the ids of its containers (its cell's resolution is all it can share).
    """

    entries: list[tuple[int, OwnerRef, tuple[Any, ...] | None]]
    inputs: resolution.Inputs


def _read(conn: sa.Connection, rows: Sequence[DeviceRow], keys: Collection[str] | None) -> list[_Batch]:
    batches = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        own: list[OwnerRef] = [("device", str(row.id)) for row in batch]
        tails: dict[tuple[Any, ...], list[OwnerRef]] = {}
        for row in batch:
            values = _TAIL_OF(row)
            if values not in tails:
                tails[values] = [
                    (kind, str(value)) for (kind, _), value in zip(_TAIL, values, strict=True) if value is not None
                ]
        nested = [as_row(row) for row in batch if row.parent_id is not None]
        parents = resolution.parent_map_for(conn, "device", nested)
        chains: dict[Any, list[OwnerRef]] = {row["id"]: resolution.chain("device", row, parents) for row in nested}
        owners = set(own).union(*tails.values(), *chains.values())
        projects: dict[Any, str] = {row.id: str(row.project_id) for row in batch}
        projects.update((("tail", values), str(values[-1])) for values in tails)  # the project is the farthest
        owned, masks, strategies = variable_store.load_for_resolution(conn, owners, projects.values(), keys)
        chains.update((("tail", values), chain) for values, chain in tails.items())
        entries: list[tuple[int, OwnerRef, tuple[Any, ...] | None]] = []
        for row, owner in zip(batch, own, strict=True):
            if row.parent_id is None:
                tail = _TAIL_OF(row)
                chains[row.id] = [owner, *tails[tail]]
                entries.append((row.id, owner, tail))
            else:
                entries.append((row.id, owner, None))
        batches.append(_Batch(entries, resolution.Inputs(chains, projects, owned, masks, strategies)))
    return batches


def _resolve(batches: list[_Batch]) -> dict[int, dict[str, Any]]:
    """Each device's resolved variables, by id (devices of one cell without values or masks
    of their own share one dict: do not change it)."""
    resolved: dict[int, dict[str, Any]] = {}
    for batch in batches:
        inputs = batch.inputs
        inputs.memos = {}  # the inputs may have changed since the last resolution (see preview)
        owned, masks = inputs.owned, inputs.masks
        by_tail: dict[tuple[Any, ...], dict[str, Any]] = {}
        for device_id, owner, tail in batch.entries:
            if tail is not None and owner not in owned and owner not in masks:
                variables = by_tail.get(tail)
                if variables is None:
                    variables = by_tail[tail] = inputs.resolve(("tail", tail))
            else:
                variables = inputs.resolve(device_id)
            resolved[device_id] = variables
    return resolved


def _rewritten(batches: list[_Batch], conn: sa.Connection, owner: OwnerRef, keys: Collection[str]) -> None:
    """Read ``owner``'s values and masks of ``keys`` again (after a write to them) into the batches."""
    owned, masks, _ = variable_store.load_for_resolution(conn, [owner], (), keys)
    for batch in batches:
        inputs = batch.inputs
        inputs.owned = {**{ref: own for ref, own in inputs.owned.items() if ref != owner}, **owned}
        inputs.masks = {**{ref: cut for ref, cut in inputs.masks.items() if ref != owner}, **masks}


_CONTAINERS = frozenset({"project", "cloud", "region", "cell"})


@dataclass(frozen=True)
class DeviceChange:
    """How one device's resolved variables differ between two snapshots (``deleted``: it goes)."""

    id: int
    kind: str
    name: str
    added: dict[str, Any]
    removed: dict[str, Any]
    changed: dict[str, Any]
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"type": self.kind, "id": self.id, "name": self.name, **self.diff(), "deleted": self.deleted}

    def diff(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[DeviceChange]:
    """Devices present in both snapshots whose resolved variables differ, by id.

    A device missing from ``after`` was deleted (see :class:`Changes` for those);
    one missing from ``before`` did not exist yet.
    """
    changes = []
    for device_id in sorted(before.keys() & after.keys()):
        old, new = before[device_id], after[device_id]
        if old.variables == new.variables:
            continue
        changes.append(DeviceChange(device_id, new.kind, new.name, **diff(old.variables, new.variables)))
    return changes


class Changes(Sequence[DeviceChange]):
    """Every affected device of a preview, by id, each diffed only when it is looked at.

    ``ids`` are the affected devices (their count is the answer's ``devices_affected``);
    ``before`` and ``after`` their resolved variables by id, ``names`` anything with the
    device's ``kind`` and ``name`` (a :class:`Device` or a row). A device missing from
    ``after`` is deleted: all its resolved variables are removed. ``before_of`` resolves the
    "before" variables of the given devices when the preview did not (a delete, once rolled
    back: the same transaction, the same state).
    """

    def __init__(
        self,
        ids: list[int],
        before: Mapping[int, Mapping[str, Any]],
        after: Mapping[int, Mapping[str, Any]],
        names: Mapping[int, Any],
        before_of: Callable[[list[int]], Snapshot] | None = None,
    ) -> None:
        self.ids, self.after, self.names, self.before_of = ids, after, names, before_of
        self.before = dict(before)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> DeviceChange: ...

    @overload
    def __getitem__(self, index: slice) -> list[DeviceChange]: ...

    def __getitem__(self, index: int | slice) -> DeviceChange | list[DeviceChange]:
        if isinstance(index, slice):
            return self.details(self.ids[index])
        return self.details([self.ids[index]])[0]

    def after_marker(self, marker: int | None) -> int:
        """The position of the first affected device whose id is above ``marker``."""
        return 0 if marker is None else bisect.bisect_right(self.ids, marker)

    def details(self, ids: list[int]) -> list[DeviceChange]:
        missing = [device_id for device_id in ids if device_id not in self.before]
        if missing and self.before_of is not None:
            self.before.update((device_id, device.variables) for device_id, device in self.before_of(missing).items())
        changes = []
        for device_id in ids:
            old, new, named = self.before[device_id], self.after.get(device_id), self.names[device_id]
            if new is None:
                changes.append(DeviceChange(device_id, named.kind, named.name, {}, dict(old), {}, True))
            else:
                changes.append(DeviceChange(device_id, named.kind, named.name, **diff(old, new)))
        return changes


@dataclass
class Impact:
    """The outcome of a preview: every affected device and, for a delete, what it removes."""

    changes: Sequence[DeviceChange]
    deleted: dict[str, int] = field(default_factory=dict)
    result: Any = None

    def page(self, limit: int, marker: int | None) -> tuple[list[DeviceChange], bool]:
        """Changes after ``marker`` (a device id), at most ``limit``, and whether more follow."""
        if isinstance(self.changes, Changes):
            start = self.changes.after_marker(marker)
            return self.changes[start : start + limit], len(self.changes) - start > limit
        rest = [change for change in self.changes if marker is None or change.id > marker]
        return rest[:limit], len(rest) > limit


def preview(
    conn: sa.Connection,
    scopes: Iterable[tuple[str, Any]],
    write: Callable[[], Any],
    deleted: bool = False,
    keys: Collection[str] | None = None,
    *,
    own_rows_only: bool = False,
) -> Impact:
    """Run ``write`` (a domain use case) in a savepoint that is rolled back; return what it would change.

    ``scopes`` name the objects written (``(kind, id)``). The snapshot before and after
    is taken in the same transaction, so it is consistent; ``deleted`` asks that the
    write's result (a delete's counts) be reported as what it removes; ``keys`` limits the
    snapshots to the only keys the write can change (a variables or masks write names them;
    a merge-strategies write changes the keys whose strategy differs), and then no device
    moves or goes. ``own_rows_only`` (a variables or masks write on the one object of
    ``scopes``): the write changes nothing but that object's variables or masks of ``keys``,
    so only those rows are read again after it.

    Only the devices' resolved values are compared for all of them (that is the count);
    a device's diff is built when its page asks for it. A delete snapshots no "before"
    for the devices it removes: after the rollback their variables are resolved for the
    page alone.
    """
    scopes = list(scopes)
    where = sa.or_(*(scope(kind, row_id) for kind, row_id in scopes))
    rows = device_rows(conn, where)
    if not rows:
        savepoint = conn.begin_nested()
        try:
            result = write()
        finally:
            savepoint.rollback()
        return Impact(Changes([], {}, {}, {}), _counts(result, deleted), result)
    if own_rows_only and keys is not None and len(scopes) == 1 and not deleted:
        # A variables or masks write: it changes the written object's values or masks of
        # ``keys`` and nothing else, and no device moves or goes. So every device's inputs
        # are read once; after the write only that object's rows are read again.
        kind, row_id = scopes[0]
        owner: OwnerRef = (kind if kind in _CONTAINERS else "device", str(row_id))
        batches = _read(conn, rows, keys)
        values_before = _resolve(batches)
        savepoint = conn.begin_nested()
        try:
            result = write()
            _rewritten(batches, conn, owner, keys)
        finally:
            savepoint.rollback()
        values_after = _resolve(batches)
        ids = [device_id for device_id, values in values_before.items() if values != values_after[device_id]]
        by_id = {row.id: row for row in rows}
        return Impact(Changes(ids, values_before, values_after, by_id), _counts(result, deleted), result)
    before = {} if deleted else snapshot_of(conn, rows, keys)
    savepoint = conn.begin_nested()
    try:
        result = write()
        if keys is not None:  # a variables or masks write: no device moves or goes
            after = snapshot_of(conn, rows, keys)
        else:
            after = snapshot_of(conn, device_rows(conn, where))
            gone = [row.id for row in rows if row.id not in after]
            for start in range(0, len(gone), BATCH):  # moved out of the scope, or deleted
                moved = device_rows(conn, devices.c.id.in_(gone[start : start + BATCH]))
                after.update(snapshot_of(conn, moved))
    finally:
        savepoint.rollback()
    if deleted:  # the state before the write again: resolve the survivors to compare them
        before = snapshot_of(conn, [row for row in rows if row.id in after], keys)
    ids = [row.id for row in rows if row.id not in after or before[row.id].variables != after[row.id].variables]
    by_id = {row.id: row for row in rows}

    def before_of(missing: list[int]) -> Snapshot:
        return snapshot_of(conn, [by_id[device_id] for device_id in missing], keys)

    old = {device_id: device.variables for device_id, device in before.items()}
    new = {device_id: device.variables for device_id, device in after.items()}
    names = {**by_id, **after}  # the name after the write (a rename)
    return Impact(Changes(ids, old, new, names, before_of), _counts(result, deleted), result)


def preview_delete(
    conn: sa.Connection, scopes: Iterable[tuple[str, Any]], count: Callable[[], Mapping[str, int]]
) -> Impact:
    """What deleting the objects ``scopes`` name does to devices, without running the delete.

    ``count`` is the delete's own preview (the use case with ``preview=True``: the same
    authorisation, 404 and 409 as the delete, and the counts of what would go). A delete
    removes every device in its scope and changes no other device's variables (a container
    takes exactly the devices it holds; a device with devices nested below it cannot be
    deleted), so every device in scope is listed as deleted, its variables resolved for the
    page alone. The test suite holds this to what the real delete does, as for :func:`preview`.
    """
    counts = dict(count())
    where = sa.or_(*(scope(kind, row_id) for kind, row_id in scopes))
    rows = device_rows(conn, where)
    by_id = {row.id: row for row in rows}

    def before_of(missing: list[int]) -> Snapshot:
        return snapshot_of(conn, [by_id[device_id] for device_id in missing])

    return Impact(Changes([row.id for row in rows], {}, {}, by_id, before_of), counts, counts)


def _counts(result: Any, deleted: bool) -> dict[str, int]:
    return dict(result) if deleted and isinstance(result, Mapping) else {}
