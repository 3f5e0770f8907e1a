"""Effective changes: what one committed change did to the resolved variables of each device.

The event pump calls :func:`compute` for the change records of its batch, inside its
transaction and under its lease. Each record is evaluated on its own: the devices it can
reach (:func:`craton.domain.impact.scope`) are resolved twice, once with the *one thing*
the change altered as it was before and once as it was after, everything else as the
fleet is now. So a record says exactly what its change did, whenever the pump gets to it,
and no per-device snapshot is kept. What each action substitutes:

- ``variables``: the owner's values of the written keys (the record's ``old``/``new``);
- ``masks``: the owner's masks of the keys masked or unmasked;
- ``merge_strategies``: the project's strategies of the keys whose strategy changed;
- ``update`` of a device's placement (a move): the device's cell, region, cloud and parent
  (its nested devices follow a new parent, so they count too);
- ``create`` of a device: nothing before; after, what it inherits (its own variables come
  with the ``variables`` record written beside the create);
- ``delete`` of a device: everything it resolved, all ``removed``: its own variables from the
  record, its parents' as they are now or, for parents deleted with it, from their own
  delete records. Masks of deleted owners are not recorded and so not applied.

Only the keys a ``variables``, ``masks`` or ``merge_strategies`` record names are resolved:
nothing else can differ. Everything is set-based: one query for the devices, one for the
ancestors of nested ones, one to three for the variables, masks and strategies.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import impact, kinds, merging, resolution
from craton.domain.diffs import diff
from craton.storage import batches
from craton.storage import variables as variable_store
from craton.storage.devices import descendant_ids_query
from craton.storage.owners import OwnerRef
from craton.storage.rows import Row
from craton.storage.tables import changes, devices

DEVICE = "device"
#: Owner kinds whose variables devices inherit (networks and interfaces resolve for themselves only).
RESOLVING = frozenset({"project", "cloud", "region", "cell", DEVICE})
PLACEMENT = ("parent_id", "cell_id", "region_id", "cloud_id")
_DEVICE_COLUMNS = (
    devices.c.id,
    devices.c.kind,
    devices.c.name,
    devices.c.project_id,
    devices.c.cloud_id,
    devices.c.region_id,
    devices.c.cell_id,
    devices.c.parent_id,
)


@dataclass
class _Plan:
    """One change record's substitution: the devices, their chains and what differs before and after."""

    record: Row
    keys: set[str] | None
    after_rows: list[dict[str, Any]] = field(default_factory=list)
    before_rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Devices that did not exist before (create) or do not after (delete).
    created: bool = False
    deleted: bool = False
    owned_before: dict[OwnerRef, dict[str, Any]] = field(default_factory=dict)
    owned_after: dict[OwnerRef, dict[str, Any]] = field(default_factory=dict)
    masks_before: dict[OwnerRef, set[str]] = field(default_factory=dict)
    masks_after: dict[OwnerRef, set[str]] = field(default_factory=dict)
    strategies_before: dict[str, str] | None = None
    strategies_after: dict[str, str] | None = None
    parent_before: dict[int, int | None] = field(default_factory=dict)
    #: The devices are the round's prefetched rows, placed as they are now: their chains are known.
    prefetched: bool = False


def compute(conn: sa.Connection, records: Sequence[Row]) -> Iterator[list[dict[str, Any]]]:
    """For each change record, in order, its effective changes (rows of ``effective_changes`` without ids).

    Lazily: the pump stops asking once a round has produced enough.
    """
    gone = _deleted_owners(conn, [record for record in records if record["action"] == "delete"])
    cache = _prefetch(conn, records)
    born: dict[int, int] | None = None
    for record in records:
        plan = _plan(conn, record, cache)
        if plan is not None and not plan.created and _reaches_others(plan):
            # Devices made after the change were not there for it. (A device's own change
            # reaching only itself needs no look: it existed when the change was made.)
            born = _created_since(conn, records) if born is None else born
            plan.after_rows = [row for row in plan.after_rows if born.get(row["id"], 0) < record["id"]]
        yield _evaluate(conn, plan, gone, cache) if plan is not None and plan.after_rows else []


@dataclass
class _Prefetched:
    """A round's variables, masks and merge strategies changes, and its device creates and deletes, read together.

    Many writes in one round would otherwise cost two or three queries each (the devices they
    reach, their nested ancestors, their chains' inputs); read together they cost one for the
    devices the round's device-level changes reach, one for those its containers' changes reach,
    one for the nested devices' ancestors and one for the inputs, for the whole round. A create or
    delete resolves all the keys of its device's chain: one more query reads them for all of the
    round's creates and deletes.
    """

    reach: dict[int, list[dict[str, Any]]]
    #: The devices each container (project, cloud, region, cell) of the round's changes holds.
    contained: dict[OwnerRef, list[dict[str, Any]]]
    #: Every prefetched device's chain, computed once for the round (before and after alike: not moved).
    chains: dict[int, list[OwnerRef]]
    owners: set[OwnerRef]
    keys: set[str]
    #: The parent of every prefetched device's ancestor (closed: an ancestor's ancestors are in it).
    parents: Mapping[int, int | None]
    owned: Mapping[OwnerRef, Mapping[str, Any]]
    masks: Mapping[OwnerRef, set[str]]
    strategies: Mapping[str, Mapping[str, str]]
    #: The chains' owners of the round's created and deleted devices, and (``whole``) all their
    #: values and masks and their projects' strategies, as now.
    whole_owners: set[OwnerRef] = field(default_factory=set)
    whole: tuple[Mapping[OwnerRef, Mapping[str, Any]], Mapping[OwnerRef, set[str]], Mapping[str, Mapping[str, str]]] = (
        {},
        {},
        {},
    )

    def whole_inputs(
        self, owners: set[OwnerRef], project_id: str
    ) -> tuple[dict[OwnerRef, Mapping[str, Any]], dict[OwnerRef, set[str]], dict[str, str]]:
        """All the owners' values and masks and the project's strategies (what ``_load`` reads without keys)."""
        owned, masks, strategies = self.whole
        return (
            {owner: owned[owner] for owner in owners if owner in owned},
            {owner: masks[owner] for owner in owners if owner in masks},
            dict(strategies.get(project_id, {})),
        )

    def inputs(
        self, owners: set[OwnerRef], project_id: str, keys: set[str]
    ) -> tuple[dict[OwnerRef, Mapping[str, Any]], dict[OwnerRef, set[str]], dict[str, str]]:
        """The owners' values and masks of the round's keys, the project's strategies of ``keys``.

        Values and masks are not narrowed to ``keys``: each key resolves on its own, and the
        plan substitutes only ``keys``, so the round's other keys resolve alike before and
        after and never reach a diff (narrowing them cost more than resolving them).
        """
        owned, masks = self.owned, self.masks
        return (
            {owner: owned[owner] for owner in owners if owner in owned},
            {owner: masks[owner] for owner in owners if owner in masks},
            _only(self.strategies.get(project_id, {}), keys),
        )


def _named_keys(record: Row) -> tuple[tuple[str, str], set[str]] | None:
    """The owner and the keys a ``variables``, ``masks`` or ``merge_strategies`` record names
    (None: another kind of record)."""
    owner = _owner_of(record)
    if owner is None:
        return None
    keys = _changed_keys(record["action"], owner[0], _or_empty(record["old"]), _or_empty(record["new"]))
    return None if keys is None else (owner, keys)


def _or_empty(recorded: Any) -> Any:
    return {} if recorded is None else recorded


def _changed_keys(action: str, kind: str, old: Any, new: Any) -> set[str] | None:
    """The keys whose values, masks or merge strategies the record changes (None: another kind of record).

    The one reading of them: the round's prefetch (:func:`_named_keys`) and each record's
    plan (:func:`_plan`) must agree on them.
    """
    if action == "variables" and isinstance(old, dict) and isinstance(new, dict):
        return {key for key in {*old, *new} if (key in old) != (key in new) or old.get(key) != new.get(key)}
    if action == "masks" and isinstance(old, list) and isinstance(new, list):
        return set(old) ^ set(new)
    if action == "merge_strategies" and kind == "project" and isinstance(old, dict) and isinstance(new, dict):
        replace = merging.REPLACE
        return {key for key in {*old, *new} if old.get(key, replace) != new.get(key, replace)}
    return None


def _snapshot(record: Row) -> dict[str, Any] | None:
    """The device row a device's ``create`` or ``delete`` record holds (None: another kind of record)."""
    owner = _owner_of(record)
    if owner is None or owner[0] != DEVICE:
        return None
    recorded = {"create": record["new"], "delete": record["old"]}.get(record["action"])
    return _snapshot_row(record, recorded) if isinstance(recorded, dict) and "id" in recorded else None


#: The columns of the devices a container holds (``impact.scope``), by the container's owner kind.
_CONTAINER_COLUMNS = {"project": "projects", "cloud": "clouds", "region": "regions", "cell": "cells"}


def _prefetch(conn: sa.Connection, records: Sequence[Row]) -> _Prefetched | None:
    """Read together what a round's variables, masks and strategies changes, creates and deletes need.

    Only when there are two or more of either: one alone costs what its own queries cost.
    """
    keys: set[str] = set()
    ids: set[int] = set()
    containers: dict[str, set[Any]] = {name: set() for name in _CONTAINER_COLUMNS.values()}
    snapshots: list[dict[str, Any]] = []
    for record in records:
        named = _named_keys(record)
        if named is not None:
            (kind, owner_id), named_keys = named
            if not named_keys:
                continue
            keys.update(named_keys)
            if kind == DEVICE:
                ids.add(int(owner_id))
            else:
                containers[_CONTAINER_COLUMNS[kind]].add(owner_id if kind == "project" else int(owner_id))
        elif (snapshot := _snapshot(record)) is not None:
            snapshots.append(snapshot)
    held = sum(len(owners) for owners in containers.values())
    if len(ids) + held < 2 and len(snapshots) < 2:
        return None
    array = batches.arrays(conn)
    listed = sorted(ids)
    rows = _dicts(conn.execute(_REACHED_MANY[array], {"ids": listed, "seeds": listed})) if ids else []
    by_id = {row["id"]: row for row in rows}
    reach: dict[int, list[dict[str, Any]]] = {device_id: [] for device_id in listed}
    for row in rows:  # each device reaches itself and every device below it
        if row["id"] in reach:
            reach[row["id"]].append(row)
        parent, seen = row["parent_id"], {row["id"]}
        while parent in by_id and parent not in seen:
            if parent in reach:
                reach[parent].append(row)
            seen.add(parent)
            parent = by_id[parent]["parent_id"]
    for listed_rows in reach.values():
        if len(listed_rows) > 1:
            listed_rows.sort(key=lambda row: row["id"])
    contained: dict[OwnerRef, list[dict[str, Any]]] = {}
    if held:
        params = {name: sorted(owners) for name, owners in containers.items()}
        for kind, name in _CONTAINER_COLUMNS.items():
            for owner_id in params[name]:
                contained[(kind, str(owner_id))] = []
        for row in _dicts(conn.execute(_CONTAINED[array], params)):  # by id: each owner's list is in order
            row = by_id.setdefault(row["id"], row)  # one dict per device: its chain is computed once
            for kind in _CONTAINER_COLUMNS:
                found = contained.get((kind, str(row[f"{kind}_id"])))
                if found is not None:
                    found.append(row)
    rows = list(by_id.values())
    parents = resolution.parent_map_for(conn, DEVICE, [*rows, *snapshots])
    chains = {row["id"]: resolution.chain(DEVICE, row, parents) for row in rows}
    owners = {owner for chain in chains.values() for owner in chain}
    projects = {str(row["project_id"]) for row in rows}
    owned, masks, strategies = variable_store.load_for_resolution(conn, owners, projects, keys=keys)
    cache = _Prefetched(reach, contained, chains, owners, keys, parents, owned, masks, strategies)
    if snapshots:
        cache.whole_owners = {owner for row in snapshots for owner in resolution.chain(DEVICE, row, parents)}
        whole_projects = {str(row["project_id"]) for row in snapshots}
        cache.whole = variable_store.load_for_resolution(conn, cache.whole_owners, whole_projects)
    return cache


def _reaches_others(plan: _Plan) -> bool:
    owner = _owner_of(plan.record)
    return owner is None or owner[0] != DEVICE or any(str(row["id"]) != owner[1] for row in plan.after_rows)


def _created_since(conn: sa.Connection, records: Sequence[Row]) -> dict[int, int]:
    """The devices created by a change after the first of ``records``: their create record's id.

    One query per round; when the pump keeps up it finds only the round's own creates.
    """
    if not records:
        return {}
    params = {
        "projects": sorted({str(record["project_id"]) for record in records}),
        "after": min(record["id"] for record in records),
    }
    stmt = _CREATED_SINCE
    return {int(resource_id): int(change_id) for resource_id, change_id in conn.execute(stmt, params).all()}


#: The owner kind of each resource type whose variables devices resolve (a dict: asked thrice per change).
_RESOLVING_TYPES = {info.resource_type: info.name for info in kinds.KINDS if info.name in RESOLVING}


def _owner_of(record: Row) -> tuple[str, str] | None:
    name = _RESOLVING_TYPES.get(record["resource_type"])
    return None if name is None else (name, str(record["resource_id"]))


def _plan(conn: sa.Connection, record: Row, cache: _Prefetched | None = None) -> _Plan | None:
    owner = _owner_of(record)
    if owner is None:
        return None
    action = record["action"]
    old, new = _or_empty(record["old"]), _or_empty(record["new"])
    kind, owner_id = owner
    keys = _changed_keys(action, kind, old, new)
    if keys is not None:
        if action == "variables":
            plan = _Plan(record, keys, owned_before={owner: dict(old)}, owned_after={owner: dict(new)})
        elif action == "masks":
            plan = _Plan(record, keys, masks_before={owner: set(old)}, masks_after={owner: set(new)})
        else:
            plan = _Plan(record, keys, strategies_before=dict(old), strategies_after=dict(new))
        return _reach(conn, plan, kind, owner_id, cache)
    if kind != DEVICE:
        return None  # a container's create, update or delete: its devices have records of their own
    device_id = int(owner_id)
    if action == "update" and isinstance(old, dict) and any(name in old for name in PLACEMENT):
        plan = _Plan(record, None)
        moved = {name: old[name] for name in PLACEMENT if name in old}
        if "parent_id" in moved:  # the devices nested below follow it
            _reach(conn, plan, DEVICE, owner_id)
            plan.parent_before[device_id] = moved["parent_id"]
        else:
            plan.after_rows = _devices(conn, devices.c.id == device_id)
        for row in plan.after_rows:
            if row["id"] == device_id:
                row.update({name: new[name] for name in PLACEMENT if name in new})
                plan.before_rows[device_id] = {**row, **moved}
        return plan
    snapshot = _snapshot(record)
    if snapshot is None:
        return None
    if action == "create":
        return _Plan(
            record, None, after_rows=[snapshot], created=True, owned_after={owner: {}}, masks_after={owner: set()}
        )
    if action == "delete":
        recorded = old.get("variables")
        variables: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
        return _Plan(
            record,
            None,
            after_rows=[snapshot],
            deleted=True,
            owned_before={owner: variables},
            masks_before={owner: set()},
        )
    return None


def _snapshot_row(record: Row, recorded: Mapping[str, Any]) -> dict[str, Any]:
    row = {column.name: recorded.get(column.name) for column in _DEVICE_COLUMNS}
    row.update(kind=record["resource_type"], id=int(recorded["id"]), project_id=record["project_id"])
    return row


def _reached(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(*_DEVICE_COLUMNS).where(where).order_by(devices.c.id)


# Constant statements, built and compiled once: the pump runs them for every change.
_OWNER: sa.BindParameter[Any] = sa.bindparam("owner")
_REACHED = {
    **{kind: _reached(impact.scope(kind, _OWNER)) for kind in ("project", "cloud", "region", "cell")},
    DEVICE: _reached(sa.or_(devices.c.id == _OWNER, devices.c.id.in_(descendant_ids_query(_OWNER)))),  # type: ignore[arg-type]
}


def _reached_many(array: bool) -> sa.Select[Any]:
    """The devices ``ids`` and every device below ``seeds`` (the same list: two names for two uses)."""
    below = (
        sa.select(devices.c.id)
        .where(batches.in_values(devices.c.parent_id, "seeds", array))
        .cte("below_any", recursive=True)
    )
    below = below.union(sa.select(devices.c.id).join(below, devices.c.parent_id == below.c.id))
    return _reached(sa.or_(batches.in_values(devices.c.id, "ids", array), devices.c.id.in_(sa.select(below.c.id))))


_REACHED_MANY = batches.by_dialect(_reached_many)
#: The devices of the containers listed (any list may be empty): what their changes reach.
_CONTAINED = batches.by_dialect(
    lambda array: _reached(
        sa.or_(
            batches.in_values(devices.c.project_id, "projects", array),
            batches.in_values(devices.c.cloud_id, "clouds", array),
            batches.in_values(devices.c.region_id, "regions", array),
            batches.in_values(devices.c.cell_id, "cells", array),
        )
    )
)
_CREATED_SINCE = sa.select(changes.c.resource_id, changes.c.id).where(
    changes.c.project_id.in_(sa.bindparam("projects", expanding=True)),
    changes.c.id > sa.bindparam("after"),
    changes.c.action == "create",
    changes.c.resource_type.in_(kinds.resource_types_of(DEVICE)),
)


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    """The result's rows as dicts of their own (a plan may change its copies)."""
    names = tuple(str(name) for name in result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def _devices(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    return _dicts(conn.execute(sa.select(*_DEVICE_COLUMNS).where(where).order_by(devices.c.id)))


def _reach(conn: sa.Connection, plan: _Plan, kind: str, owner_id: str, cache: _Prefetched | None = None) -> _Plan:
    """The devices the owner's values reach, as they are placed now."""
    if plan.keys is not None and not plan.keys:
        return plan
    if cache is not None:
        found = cache.reach.get(int(owner_id)) if kind == DEVICE else cache.contained.get((kind, owner_id))
        if found is not None:
            plan.after_rows = list(found)  # the rows are shared: read, never changed
            plan.prefetched = True
            return plan
    owner: Any = owner_id if kind == "project" else int(owner_id)
    plan.after_rows = _dicts(conn.execute(_REACHED[kind if kind in _REACHED else DEVICE], {"owner": owner}))
    return plan


def _deleted_owners(conn: sa.Connection, deletes: Sequence[Row]) -> dict[OwnerRef, dict[str, Any]]:
    """The last recorded variables of owners that deleted devices inherited from and that are gone.

    Only owners with a ``delete`` record count (ids are never reused, so one means it is gone).
    """
    wanted: dict[str, set[str]] = {}
    for record in deletes:
        owner = _owner_of(record)
        old = record["old"]
        if owner is None or owner[0] != DEVICE or not isinstance(old, dict):
            continue
        for owner_kind, column in (("device", "parent_id"), *kinds.parents_of(DEVICE)):
            if old.get(column) is not None:
                for resource_type in kinds.resource_types_of(owner_kind):
                    wanted.setdefault(resource_type, set()).add(str(old[column]))
    if not wanted:
        return {}
    clauses = [
        sa.and_(changes.c.resource_type == resource_type, changes.c.resource_id.in_(sorted(ids)))
        for resource_type, ids in wanted.items()
    ]
    stmt = (
        sa.select(changes.c.resource_type, changes.c.resource_id, changes.c.old)
        .where(changes.c.action == "delete", sa.or_(*clauses))
        .order_by(changes.c.id)
    )
    found: dict[OwnerRef, dict[str, Any]] = {}
    for resource_type, resource_id, old in conn.execute(stmt).all():
        recorded = old.get("variables") if isinstance(old, dict) else None
        found[(kinds.by_resource_type(resource_type).name, resource_id)] = (
            recorded if isinstance(recorded, dict) else {}
        )
    return found


def _evaluate(
    conn: sa.Connection, plan: _Plan, gone: Mapping[OwnerRef, dict[str, Any]], cache: _Prefetched | None = None
) -> list[dict[str, Any]]:
    record = plan.record
    project_id = str(record["project_id"])
    rows = plan.after_rows
    if cache is not None and plan.prefetched:  # rows the round read, placed as now: chains computed once
        chains_after = chains_before = {row["id"]: cache.chains[row["id"]] for row in rows}
    else:
        if (
            cache is not None
            and not plan.parent_before
            and all(row["parent_id"] is None or row["parent_id"] in cache.parents for row in rows)
        ):
            parents_after: Mapping[int, int | None] = cache.parents  # every ancestor of these rows: no query
        else:
            parents_after = resolution.parent_map_for(
                conn, DEVICE, [*rows, *({"parent_id": parent} for parent in plan.parent_before.values())]
            )
        parents_before = {**parents_after, **plan.parent_before} if plan.parent_before else parents_after
        chains_after = {row["id"]: resolution.chain(DEVICE, row, parents_after) for row in rows}
        chains_before = {
            row["id"]: resolution.chain(DEVICE, plan.before_rows.get(row["id"], row), parents_before) for row in rows
        }
    chains = (
        chains_after.values() if chains_before is chains_after else [*chains_after.values(), *chains_before.values()]
    )
    owners = {owner for chain in chains for owner in chain}
    if cache is not None and plan.keys is not None and owners <= cache.owners and plan.keys <= cache.keys:
        owned, masks, strategies = cache.inputs(owners, project_id, plan.keys)
    elif cache is not None and plan.keys is None and owners <= cache.whole_owners:
        owned, masks, strategies = cache.whole_inputs(owners, project_id)
    else:
        owned, masks, strategies = _load(conn, owners, project_id, plan.keys)
    for owner, values in gone.items():
        if owner in owners and owner not in owned:
            owned[owner] = _only(values, plan.keys)
    # What the plan does not substitute is the same before and after: computed once.
    owned_before = _substituted(owned, plan.owned_before, plan.keys)
    owned_after = (
        _substituted(owned, plan.owned_after, plan.keys) if plan.owned_before or plan.owned_after else owned_before
    )
    masks_before = _masked(masks, plan.masks_before, plan.keys)
    masks_after = _masked(masks, plan.masks_after, plan.keys) if plan.masks_before or plan.masks_after else masks_before
    strategies_before = _strategies(strategies, plan.strategies_before, plan.keys)
    strategies_after = (
        _strategies(strategies, plan.strategies_after, plan.keys)
        if plan.strategies_before is not None or plan.strategies_after is not None
        else strategies_before
    )
    memo_before: merging.Memo = {}
    memo_after: merging.Memo = {}
    effects = []
    for row in rows:
        device_id = row["id"]
        before = (
            {}
            if plan.created
            else merging.resolve(chains_before[device_id], owned_before, masks_before, strategies_before, memo_before)
        )
        after = (
            {}
            if plan.deleted
            else merging.resolve(chains_after[device_id], owned_after, masks_after, strategies_after, memo_after)
        )
        if before == after:
            continue
        effects.append(
            {
                "project_id": project_id,
                "change_id": record["id"],
                "occurred_at": record["occurred_at"],
                "device_type": row["kind"],
                "device_id": device_id,
                "device_name": row["name"],
                "cell_id": row["cell_id"],
                "region_id": row["region_id"],
                **diff(before, after),
            }
        )
    return effects


def _load(
    conn: sa.Connection, owners: set[OwnerRef], project_id: str, keys: set[str] | None
) -> tuple[dict[OwnerRef, Mapping[str, Any]], dict[OwnerRef, set[str]], dict[str, str]]:
    """The owners' variables and masks and the project's strategies, only of ``keys`` when given: one query."""
    owned, masks, by_project = variable_store.load_for_resolution(conn, owners, [project_id], keys=keys)
    return dict(owned), dict(masks), dict(by_project.get(project_id, {}))


def _only(values: Mapping[str, Any], keys: Collection[str] | None) -> dict[str, Any]:
    return dict(values) if keys is None else {key: value for key, value in values.items() if key in keys}


def _substituted(
    owned: Mapping[OwnerRef, Mapping[str, Any]], replaced: Mapping[OwnerRef, dict[str, Any]], keys: set[str] | None
) -> dict[OwnerRef, Mapping[str, Any]]:
    """``owned`` with each replaced owner's values of ``keys`` (all, when None) as the plan says."""
    result = dict(owned)
    for owner, values in replaced.items():
        kept = {} if keys is None else {k: v for k, v in owned.get(owner, {}).items() if k not in keys}
        result[owner] = {**kept, **_only(values, keys)}
    return result


def _masked(
    masks: Mapping[OwnerRef, set[str]], replaced: Mapping[OwnerRef, set[str]], keys: set[str] | None
) -> dict[OwnerRef, set[str]]:
    result = {owner: set(cut) for owner, cut in masks.items() if cut}
    for owner, cut in replaced.items():
        kept = set() if keys is None else result.get(owner, set()) - keys
        result[owner] = kept | (set(cut) if keys is None else set(cut) & keys)
    return {owner: cut for owner, cut in result.items() if cut}


def _strategies(
    current: Mapping[str, str], replaced: Mapping[str, str] | None, keys: set[str] | None
) -> dict[str, str]:
    if replaced is None:
        return merging.merging_only(current)
    kept = {} if keys is None else {k: v for k, v in current.items() if k not in keys}
    return merging.merging_only({**kept, **_only(replaced, keys)})


def keys_of(effect: Mapping[str, Any]) -> set[str]:
    """The keys one effective change names."""
    return {*effect["added"], *effect["removed"], *effect["changed"]}
