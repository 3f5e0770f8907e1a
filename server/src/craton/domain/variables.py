"""Variables of one resource (GET/PUT/DELETE .../variables) and the ``vars`` list filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import merging, resolution, tenancy, versions
from craton.domain.errors import NotFound, PreconditionFailed
from craton.domain.history import blame as history_blame
from craton.domain.history import recording as history
from craton.domain.history import replay
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.domain.vars_query import Condition
from craton.storage import variables as variable_store
from craton.storage.devices import parent_links
from craton.storage.keyset import RowPredicate
from craton.storage.owners import OwnerRef
from craton.storage.prepared import Write, run_all
from craton.storage.tables import devices, merge_strategies, variable_masks
from craton.storage.tables import variables as variables_table


def owning_row(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, lock: bool = False) -> Row:
    """The owner of the variables; a write locks it, so it cannot vanish under the write (no orphans).

    Variables are read and written with the role that reads their owner (admin for a project's).
    """
    return tenancy.get(conn, principal, kind, row_id, lock=lock)


def read(conn: sa.Connection, kind: Kind, row: Row, resolved: bool) -> dict[str, Any]:
    """Own or resolved variables of a row already read with :func:`owning_row`."""
    return resolution.variables_for(conn, kind.name, [row], resolved)[row["id"]]


def read_with_masks(conn: sa.Connection, kind: Kind, row: Row, resolved: bool) -> tuple[dict[str, Any], list[str]]:
    """Like :func:`read`, with the keys the row itself masks (read in the same query)."""
    inputs = resolution.inputs_for(conn, kind.name, [row], resolved)
    return inputs.resolve(row["id"]), inputs.own_masks(kind.name, row["id"])


def masks(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> list[str]:
    """The keys the object masks."""
    row = owning_row(conn, principal, kind, row_id)
    return variable_store.masks_of(conn, kind.owner(row["id"]))


@dataclass(frozen=True)
class Masked:
    """What a masks write answers: all the object's masks afterwards, and its new version."""

    masks: list[str]
    etag: str


def _locked(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, if_match: str | None) -> Row:
    """The owner, locked and checked against ``If-Match``: no writer can move it in between."""
    row = owning_row(conn, principal, kind, row_id, lock=True)
    if if_match and not versions.matches(kind, row, if_match):
        raise PreconditionFailed(versions.STALE)
    return row


def _claimed(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, if_match: str | None) -> Row:
    """The owner, locked, checked against ``If-Match``, its version moved to the request's time.

    Without ``If-Match``, one ``UPDATE ... RETURNING`` does it all where the database can
    (:func:`tenancy.touch`). With it, the row is read and locked first, since ``If-Match``
    names its version before the write, then updated; MariaDB always takes that way.
    """
    row, bump = _claim(conn, principal, kind, row_id, if_match)
    if bump is not None:
        bump.run(conn)
    return row


def _claim(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, if_match: str | None
) -> tuple[Row, Write | None]:
    """:func:`_claimed`, with the version's move left to the caller when it is a statement of its own.

    The row comes back as it will be (``updated_at`` the request's time); the Write, when
    not None, moves it and must be sent (or carried by the history record) in this transaction.
    """
    if not if_match:
        row = tenancy.touch(conn, principal, kind, row_id)
        if row is not None:
            return row, None
    row = _locked(conn, principal, kind, row_id, if_match)
    return {**row, "updated_at": principal.acted_at}, versions.touch_write(principal, kind, row["id"])


def mask(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, keys: list[str], if_match: str | None = None
) -> Masked:
    """Stop inheritance of ``keys`` at the object: the whole ``PUT .../variables/masks``."""
    row = _claimed(conn, principal, kind, row_id, if_match)
    owner = kind.owner(row["id"])
    before = variable_store.masks_of(conn, owner)
    variable_store.add_masks(
        conn, owner, kind.project_of(row), set(keys) - set(before), principal.username, principal.acted_at
    )
    after = sorted(set(before) | set(keys))
    if after != before:
        history.record(conn, principal, "masks", kind.resource_type, row, old=before, new=after)
    return Masked(after, versions.version_tag(kind, row))


def unmask(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, keys: list[str], if_match: str | None = None
) -> None:
    """Let ``keys`` be inherited again (keys not masked are ignored): the whole ``DELETE .../masks``."""
    row = _claimed(conn, principal, kind, row_id, if_match)
    owner = kind.owner(row["id"])
    before = variable_store.masks_of(conn, owner)
    variable_store.delete_masks(conn, owner, keys)
    after = sorted(set(before) - set(keys))
    if after != before:
        history.record(conn, principal, "masks", kind.resource_type, row, old=before, new=after)


@dataclass(frozen=True)
class Written:
    """What a variables write answers: the owner as it is now, its own variables, its version."""

    row: Row
    variables: dict[str, Any]
    etag: str
    #: The keys it masks (read by :func:`set_variables` only: its answer shows them).
    masks: list[str] = field(default_factory=list)


def set_variables(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row_id: Any,
    values: Mapping[str, Any],
    if_match: str | None = None,
) -> Written:
    """Set the given keys and keep the others: the whole ``PUT .../variables`` in one call.

    The owner locked and its version moved (one ``UPDATE ... RETURNING``; with ``If-Match``
    or on MariaDB a locked read, the version's move going later), its variables and masks
    (one query), then the version's move if still to do, the upsert, the history record and
    its outbox row: on PostgreSQL these last in one statement (three in all), elsewhere one
    each. The answer is computed from what was read and written.
    """
    row, bump = _claim(conn, principal, kind, row_id, if_match)
    before, masks = variable_store.own_with_masks(conn, kind.owner(row["id"]))
    writes = [] if bump is None else [bump]
    if values:
        owner, project = kind.owner(row["id"]), kind.project_of(row)
        writes.append(
            variable_store.upsert_write(
                conn.dialect.name, owner, project, values, principal.username, principal.acted_at
            )
        )
    changed = {key: value for key, value in values.items() if key not in before or before[key] != value}
    if changed:
        old = {key: before[key] for key in changed if key in before}
        # The version's move and the upsert go with the record: one statement on PostgreSQL.
        history.record(conn, principal, "variables", kind.resource_type, row, old=old, new=changed, carried=writes)
    else:
        run_all(conn, writes)
    return Written(row, {**before, **values}, versions.version_tag(kind, row), masks)


def remove_variables(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, keys: list[str], if_match: str | None = None
) -> Written:
    """Delete the listed keys (unknown keys are ignored): the whole ``DELETE .../variables``."""
    row = _claimed(conn, principal, kind, row_id, if_match)
    before = variable_store.load_own(conn, kind.owner(row["id"]))
    variable_store.delete_keys(conn, kind.owner(row["id"]), keys)
    removed = {key: before[key] for key in keys if key in before}
    if removed:
        history.record(conn, principal, "variables", kind.resource_type, row, old=removed, new={})
    after = {key: value for key, value in before.items() if key not in removed}
    return Written(row, after, versions.version_tag(kind, row))


def merge(
    conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Set the given keys, keep the others; returns the owner's own variables afterwards."""
    return set_variables(conn, principal, kind, row_id, values).variables


def remove(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any, keys: list[str]) -> None:
    """Delete the listed keys; keys that do not exist are ignored."""
    remove_variables(conn, principal, kind, row_id, keys)


def owners_matching(
    conn: sa.Connection, principal: Principal, kind: Kind, key: str, condition: Condition | None = None
) -> list[str]:
    """Ids of the objects of ``kind`` whose own variables define ``key`` (and match ``condition``).

    One indexed query on the key; values are matched in Python with the ``vars`` semantics.
    """
    project_filter = principal.scope(variables_table.c.project_id)
    found = variable_store.rows_with_keys(conn, [key], {kind.name}, project_filter)
    return sorted(
        {owner_id for _, _, owner_id, value in found if condition is None or condition.matches(value)}, key=_id_order
    )


def _id_order(owner_id: str) -> tuple[int, str]:
    return (int(owner_id), "") if owner_id.isdigit() else (0, owner_id)


def matcher(
    conn: sa.Connection, principal: Principal, kind: Kind, conditions: list[Condition], resolved: bool
) -> RowPredicate:
    """A row test for ``vars``: each condition must hold for the row's own or resolved value.

    The variables and masks of the conditions' keys, and the projects' strategies
    for them, are read in three queries; each row's value of a key is then
    resolved by :func:`merging.resolve`, exactly as a read of the row would show it.
    """
    keys = {c.key for c in conditions}
    owner_kinds = resolution.owner_kinds_above(kind.name) | {kind.name} if resolved else {kind.name}
    project_filter = principal.scope(variables_table.c.project_id)
    owned: dict[OwnerRef, dict[str, Any]] = {}
    for key, owner_kind, owner_id, value in variable_store.rows_with_keys(conn, keys, owner_kinds, project_filter):
        owned.setdefault((owner_kind, owner_id), {})[key] = value
    masked: Mapping[OwnerRef, set[str]] = {}
    strategies: dict[str, dict[str, str]] = {}
    parents: dict[int, int | None] = {}
    if resolved:
        masked = variable_store.masks_with_keys(conn, keys, owner_kinds, principal.scope(variable_masks.c.project_id))
        strategies = variable_store.strategies_with_keys(conn, keys, principal.scope(merge_strategies.c.project_id))
        if kind.info.nested:
            parents = parent_links(conn, principal.scope(devices.c.project_id))

    memos: dict[str, merging.Memo] = {}

    def matches(row: Mapping[str, Any]) -> bool:
        if resolved:
            project = resolution.project_of(kind.name, row)
            chain = resolution.chain(kind.name, row, parents)
            memo = memos.setdefault(project, {}) if project in strategies or masked else None
            values = merging.resolve(chain, owned, masked, strategies.get(project), memo)
        else:
            values = owned.get(kind.owner(row["id"]), {})
        return all(condition.key in values and condition.matches(values[condition.key]) for condition in conditions)

    return matches


@dataclass(frozen=True)
class VariablesRead:
    """A whole variables read: the values (own or resolved), the keys the object masks, blame if asked.

    A read of now also carries the owner's row and version (ETag); a read as of a past time
    carries that time instead (the object may be deleted since: ``row`` holds its id only).
    """

    row: Row
    variables: dict[str, Any]
    masks: list[str]
    blame: dict[str, dict[str, Any]] | None = None
    etag: str | None = None
    as_of: dt.datetime | None = None


@dataclass(frozen=True)
class VariablesDiff:
    """What changed in the variables between two times (``end`` None: until now)."""

    start: dt.datetime
    end: dt.datetime | None
    changes: dict[str, Any]


def _past_owner(conn: sa.Connection, principal: Principal, kind: Kind, row_id: Any) -> Row:
    """The owner for a point-in-time read: a deleted object is read from its records alone."""
    try:
        return owning_row(conn, principal, kind, row_id)
    except NotFound:
        return {"id": kind.info.parse_id(row_id)}


def read_variables(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row_id: Any,
    *,
    resolved: bool,
    blame: bool = False,
    as_of: str | None = None,
    diff_from: str | None = None,
    diff_to: str | None = None,
) -> VariablesRead | VariablesDiff:
    """The whole ``GET .../variables``: now, as of a past time (``as_of``), or what changed
    between two times (``diff_from``, ``diff_to`` or now); times are ISO 8601 text.
    """
    if as_of is not None or (diff_from is not None and diff_to is not None):
        row = _past_owner(conn, principal, kind, row_id)
    else:
        row = owning_row(conn, principal, kind, row_id)
    if diff_from is not None:
        return _diff(conn, principal, kind, row, resolved, diff_from, diff_to)
    if as_of is not None:
        at = replay.parse_time(as_of, "as_of")
        values, masked = replay.state_as_of(conn, principal, kind, row["id"], at, resolved)
        who = history_blame.blame_as_of(conn, principal, kind, row["id"], at, resolved) if blame else None
        return VariablesRead(row, values, masked, who, as_of=at)
    values, masked = read_with_masks(conn, kind, row, resolved)
    who = history_blame.blame(conn, kind.name, [row], resolved)[row["id"]] if blame else None
    return VariablesRead(row, values, masked, who, etag=versions.version_tag(kind, row))


def _diff(
    conn: sa.Connection,
    principal: Principal,
    kind: Kind,
    row: Row,
    resolved: bool,
    diff_from: str,
    diff_to: str | None,
) -> VariablesDiff:
    start = replay.parse_time(diff_from, "diff_from")
    end = replay.parse_time(diff_to, "diff_to") if diff_to is not None else None
    before = replay.variables_as_of(conn, principal, kind, row["id"], start, resolved)
    if end is not None:
        try:
            after = replay.variables_as_of(conn, principal, kind, row["id"], end, resolved)
        except NotFound:
            after = {}  # deleted by then: every value it had is removed
    else:
        after = read(conn, kind, row, resolved)
    return VariablesDiff(start, end, replay.diff(before, after))
