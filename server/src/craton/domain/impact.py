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

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import resolution
from craton.domain.history.replay import diff as variables_diff
from craton.storage.devices import descendant_ids_query
from craton.storage.rows import as_rows
from craton.storage.tables import devices

BATCH = 2000


@dataclass(frozen=True)
class Device:
    """One device of a snapshot: its kind, name and resolved variables."""

    kind: str
    name: str
    variables: dict[str, Any]


Snapshot = dict[int, Device]


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


def resolved_variables(
    conn: sa.Connection, where: sa.ColumnElement[bool], keys: Collection[str] | None = None
) -> Snapshot:
    """Resolved variables of every device matching ``where``, by id (two or three queries per batch).

    With ``keys``, only those keys are resolved (each key resolves on its own, so their
    values are those of a full resolution): what a write that touches only them can change.
    """
    stmt = sa.select(devices).where(where).order_by(devices.c.id)
    rows = as_rows(conn.execute(stmt))
    snapshot: Snapshot = {}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        inputs = resolution.inputs_for(conn, "device", batch, resolved=True)
        if keys is not None:
            wanted = set(keys)
            inputs.owned = {owner: _only(values, wanted) for owner, values in inputs.owned.items()}
        for row in batch:
            snapshot[row["id"]] = Device(row["kind"], row["name"], inputs.resolve(row["id"]))
    return snapshot


def _only(values: Mapping[str, Any], keys: set[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in keys}


@dataclass(frozen=True)
class DeviceChange:
    """How one device's resolved variables differ between two snapshots."""

    id: int
    kind: str
    name: str
    added: dict[str, Any]
    removed: dict[str, Any]
    changed: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.kind, "id": self.id, "name": self.name, **self.diff()}

    def diff(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[DeviceChange]:
    """Devices present in both snapshots whose resolved variables differ, by id.

    A device missing from ``after`` was deleted (a delete reports counts, not diffs);
    one missing from ``before`` did not exist yet.
    """
    changes = []
    for device_id in sorted(before.keys() & after.keys()):
        old, new = before[device_id], after[device_id]
        if old.variables == new.variables:
            continue
        parts = variables_diff(old.variables, new.variables)
        changes.append(DeviceChange(device_id, new.kind, new.name, **parts))
    return changes


@dataclass
class Impact:
    """The outcome of a preview: every changed device and, for a delete, what it removes."""

    changes: list[DeviceChange]
    deleted: dict[str, int] = field(default_factory=dict)
    result: Any = None

    def page(self, limit: int, marker: int | None) -> tuple[list[DeviceChange], bool]:
        """Changes after ``marker`` (a device id), at most ``limit``, and whether more follow."""
        rest = [change for change in self.changes if marker is None or change.id > marker]
        return rest[:limit], len(rest) > limit


def preview(
    conn: sa.Connection,
    scopes: Iterable[tuple[str, Any]],
    write: Callable[[], Any],
    deleted: bool = False,
    keys: Collection[str] | None = None,
) -> Impact:
    """Run ``write`` (a domain use case) in a savepoint that is rolled back; return what it would change.

    ``scopes`` name the objects written (``(kind, id)``). The snapshot before and after
    is taken in the same transaction, so it is consistent; ``deleted`` asks that the
    write's result (a delete's counts) be reported as what it removes; ``keys`` limits the
    snapshots to the keys a variable or mask write names (nothing else can change).
    """
    where = sa.or_(*(scope(kind, row_id) for kind, row_id in scopes))
    before = resolved_variables(conn, where, keys)
    savepoint = conn.begin_nested()
    try:
        result = write()
        after = resolved_variables(conn, devices.c.id.in_(list(before)), keys) if before else {}
    finally:
        savepoint.rollback()
    counts = result if deleted and isinstance(result, Mapping) else {}
    return Impact(diff_snapshots(before, after), dict(counts), result)
