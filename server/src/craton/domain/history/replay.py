"""What variables were at an earlier time (as of), and what changed between two times.

Point-in-time reads replay the change history: the resource's own record gives
its placement at that moment (so a device that was since moved resolves through
its old parents), and the variable records of every owner on that chain give
their values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from craton.domain import diffs, kinds, merging, resolution
from craton.domain.errors import InvalidInput, NotFound
from craton.domain.principal import Principal
from craton.storage.owners import OwnerRef
from craton.storage.tables import changes
from craton.storage.types import utcnow

MAX_DEPTH = 64


def parse_time(text: str, name: str) -> dt.datetime:
    """An ISO 8601 timestamp; without an offset it is taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not an ISO 8601 timestamp, e.g. 2026-11-26T18:35:27Z.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        # In UTC, as the history is stored; 0001-01-01T00:00:00+00:01 is in year 0 there.
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidInput(f"{name}: {text!r} is outside the years 1 to 9999 once converted to UTC.") from None


def _replay_states(
    conn: sa.Connection, principal: Principal, types: tuple[str, ...], ids: list[str], at: dt.datetime
) -> dict[str, dict[str, Any] | None]:
    """Each resource's recorded fields as of ``at`` (None: absent then)."""
    stmt = (
        sa.select(changes.c.resource_id, changes.c.action, changes.c.new)
        .where(
            changes.c.resource_type.in_(types),
            changes.c.resource_id.in_(ids),
            changes.c.action.in_(("create", "update", "delete")),
            changes.c.occurred_at <= at,
            principal.scope(changes.c.project_id),
        )
        .order_by(changes.c.id)
    )
    states: dict[str, dict[str, Any] | None] = {}
    for resource_id, action, new in conn.execute(stmt).all():
        if action == "create":
            states[resource_id] = dict(new)
        elif action == "update" and states.get(resource_id) is not None:
            states[resource_id].update(new)  # type: ignore[union-attr]
        elif action == "delete":
            states[resource_id] = None
    return states


def _variables_at(
    conn: sa.Connection, principal: Principal, owners: list[OwnerRef], at: dt.datetime
) -> tuple[dict[OwnerRef, dict[str, Any]], dict[OwnerRef, set[str]]]:
    """Every owner's own variables and masks as of ``at``, replayed from its records (one query)."""
    detailed, masks = detailed_variables_at(conn, principal, owners, at)
    return {owner: {key: info["value"] for key, info in keys.items()} for owner, keys in detailed.items()}, masks


def detailed_variables_at(
    conn: sa.Connection, principal: Principal, owners: list[OwnerRef], at: dt.datetime
) -> tuple[dict[OwnerRef, dict[str, dict[str, Any]]], dict[OwnerRef, set[str]]]:
    """Like ``_variables_at``, with when and by whom each value was set (what blame needs)."""
    pairs = sorted({(rtype, owner_id) for kind, owner_id in owners for rtype in kinds.resource_types_of(kind)})
    stmt = (
        sa.select(
            changes.c.resource_type,
            changes.c.resource_id,
            changes.c.action,
            changes.c.old,
            changes.c.new,
            changes.c.occurred_at,
            changes.c.username,
        )
        .where(
            sa.tuple_(changes.c.resource_type, changes.c.resource_id).in_(pairs),
            changes.c.action.in_(("variables", "masks", "delete")),
            changes.c.occurred_at <= at,
            principal.scope(changes.c.project_id),
        )
        .order_by(changes.c.id)
    )
    kind_of = {info.resource_type: info.name for info in kinds.KINDS}
    values: dict[OwnerRef, dict[str, dict[str, Any]]] = {}
    masks: dict[OwnerRef, set[str]] = {}
    for rtype, owner_id, action, old, new, occurred_at, username in conn.execute(stmt).all():
        owner = (kind_of.get(rtype, rtype), owner_id)
        if action == "masks":  # each record holds the owner's whole list of masks afterwards
            masks[owner] = set(new or ())
            continue
        current = values.setdefault(owner, {})
        if action == "delete":  # the owner was deleted: its variables and masks went with it
            current.clear()
            masks.pop(owner, None)
            continue
        for key in old or {}:
            if key not in new:
                current.pop(key, None)
        for key, value in (new or {}).items():
            current[key] = {"value": value, "set_at": occurred_at, "set_by": username}
    return values, masks


def placement_as_of(
    conn: sa.Connection, principal: Principal, kind: kinds.Kind, row_id: Any, at: dt.datetime
) -> tuple[dict[str, Any], dict[int, int | None]]:
    """One resource's recorded fields at ``at`` and its parents then (NotFound: it did not exist)."""
    if at > utcnow():
        raise InvalidInput("as_of is in the future.")
    types = kinds.resource_types_of(kind.name)
    state = _replay_states(conn, principal, types, [str(row_id)], at).get(str(row_id))
    if state is None:
        raise NotFound(detail=f"{kind.label} {row_id} has no recorded state at {at.isoformat()}.")
    parents: dict[int, int | None] = {}
    parent = state.get("parent_id") if kind.info.nested else None
    for _ in range(MAX_DEPTH):
        if parent is None or parent in parents:
            break
        parent_state = _replay_states(conn, principal, types, [str(parent)], at).get(str(parent))
        parents[parent] = parent_state.get("parent_id") if parent_state else None
        parent = parents[parent]
    return state, parents


def strategies_at(conn: sa.Connection, principal: Principal, project_id: str, at: dt.datetime) -> dict[str, str]:
    """The project's merge strategies as of ``at``: the last declaration recorded by then."""
    stmt = (
        sa.select(changes.c.new)
        .where(
            changes.c.resource_type == "project",
            changes.c.resource_id == project_id,
            changes.c.action == "merge_strategies",
            changes.c.occurred_at <= at,
            principal.scope(changes.c.project_id),
        )
        .order_by(changes.c.id.desc())
        .limit(1)
    )
    return dict(conn.execute(stmt).scalar() or {})


def state_as_of(
    conn: sa.Connection, principal: Principal, kind: kinds.Kind, row_id: Any, at: dt.datetime, resolved: bool
) -> tuple[dict[str, Any], list[str]]:
    """Own or resolved variables of one resource as they were at ``at``, and the keys it masked then."""
    state, parents = placement_as_of(conn, principal, kind, row_id, at)
    chain = resolution.chain(kind.name, state, parents) if resolved else [(kind.name, str(row_id))]
    values, masks = _variables_at(conn, principal, chain, at)
    strategies = strategies_at(conn, principal, resolution.project_of(kind.name, state), at) if resolved else {}
    own_masks = sorted(masks.get((kind.name, str(row_id)), ()))
    return merging.resolve(chain, values, masks, strategies), own_masks


def variables_as_of(
    conn: sa.Connection, principal: Principal, kind: kinds.Kind, row_id: Any, at: dt.datetime, resolved: bool
) -> dict[str, Any]:
    """Own or resolved variables of one resource as they were at ``at``."""
    return state_as_of(conn, principal, kind, row_id, at, resolved)[0]


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Keys added, removed and changed (``{"from": ..., "to": ...}``) between two variable sets."""
    return diffs.diff(before, after, "from", "to")
