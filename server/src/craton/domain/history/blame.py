"""Where a resolved value came from: its owner, when and by whom it was set, what it overrides.

Blame reads the variables of every owner on every chain once, with when and by
whom each value was set, and names the owners in one query per owner kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from craton.domain import kinds, merging, resolution
from craton.domain.history import replay
from craton.domain.kinds import Row
from craton.domain.principal import Principal
from craton.storage import owners as owner_store
from craton.storage import variables as variable_store
from craton.storage.owners import OwnerRef
from craton.storage.tables import changes


def blame(
    conn: sa.Connection, kind: str, rows: list[Row], resolved: bool = True
) -> dict[Any, dict[str, dict[str, Any]]]:
    """Per row and key: where the resolved value comes from, when and by whom it was set, what it overrode.

    A key merged by a strategy other than ``replace`` also lists every contributing
    level, nearest first, with the part of the result each contributes; a key whose
    inheritance a mask cut names the owner of that mask in ``masked_at``.
    """
    if not rows:
        return {}
    parents = resolution.parent_map_for(conn, kind, rows) if resolved else {}
    chains = {
        row["id"]: (resolution.chain(kind, row, parents) if resolved else [(kind, str(row["id"]))]) for row in rows
    }
    everyone = {owner for chain in chains.values() for owner in chain}
    detailed = variable_store.load_detailed(conn, everyone)
    masks = variable_store.load_masks(conn, everyone) if resolved else {}
    projects = {row["id"]: resolution.project_of(kind, row) for row in rows}
    strategies = variable_store.load_strategies(conn, projects.values()) if resolved else {}
    described = owner_store.describe(
        conn, [owner for owner in everyone if owner in detailed or owner in masks], kinds.owner_tables()
    )

    def source(owner: OwnerRef) -> dict[str, Any]:
        return described.get(owner, {"type": owner[0], "id": owner[1], "name": None})

    return {
        row_id: explain(chain, detailed, masks, strategies.get(projects[row_id], {}), source)
        for row_id, chain in chains.items()
    }


def blame_as_of(
    conn: sa.Connection, principal: Principal, kind: kinds.Kind, row_id: Any, at: dt.datetime, resolved: bool
) -> dict[str, dict[str, Any]]:
    """Blame as it was at ``at``, replayed from the records: works for an object deleted since.

    ``set_at``/``set_by`` are those of the record that set each value; owners deleted
    since are named by the name their last record carries.
    """
    state, parents = replay.placement_as_of(conn, principal, kind, row_id, at)
    chain = resolution.chain(kind.name, state, parents) if resolved else [(kind.name, str(row_id))]
    detailed, masks = replay.detailed_variables_at(conn, principal, chain, at)
    if not resolved:
        masks = {}
    strategies = replay.strategies_at(conn, principal, resolution.project_of(kind.name, state), at) if resolved else {}
    wanted = [owner for owner in chain if owner in detailed or owner in masks]
    described = owner_store.describe(conn, wanted, kinds.owner_tables())
    described.update(_recorded(conn, principal, [owner for owner in wanted if owner not in described], at))

    def source(owner: OwnerRef) -> dict[str, Any]:
        return described.get(owner, {"type": owner[0], "id": owner[1], "name": None})

    return explain(chain, detailed, masks, strategies, source)


def _recorded(
    conn: sa.Connection, principal: Principal, owners: list[OwnerRef], at: dt.datetime
) -> dict[OwnerRef, dict[str, Any]]:
    """Owners deleted since, described from their records up to ``at`` as ``describe`` would (one query)."""
    if not owners:
        return {}
    tables = kinds.owner_tables()
    owner_of = {(rtype, owner[1]): owner for owner in owners for rtype in kinds.resource_types_of(owner[0])}
    pairs = sorted(owner_of)
    stmt = (
        sa.select(changes.c.resource_type, changes.c.resource_id, changes.c.resource_name)
        .where(
            sa.tuple_(changes.c.resource_type, changes.c.resource_id).in_(pairs),
            changes.c.occurred_at <= at,
            principal.scope(changes.c.project_id),
        )
        .order_by(changes.c.id)
    )
    described: dict[OwnerRef, dict[str, Any]] = {}
    for rtype, rid, name in conn.execute(stmt).all():
        owner = owner_of[(rtype, rid)]
        shown_id: Any = rid if tables[owner[0]].text_ids else int(rid)
        previous = described.get(owner, {}).get("name")
        described[owner] = {"type": rtype, "id": shown_id, "name": name if name is not None else previous}
    return described


def explain(
    chain: list[OwnerRef],
    detailed: Mapping[OwnerRef, Mapping[str, Mapping[str, Any]]],
    masks: Mapping[OwnerRef, set[str]],
    strategies: Mapping[str, str],
    source: Callable[[OwnerRef], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Per key of one chain: value, nearest source, when/by whom, overrides, contributions, mask."""
    owned = {owner: {key: info["value"] for key, info in values.items()} for owner, values in detailed.items()}
    declared = merging.merging_only(dict(strategies))
    keys = {key for owner in chain for key in detailed.get(owner, {})}
    per_key: dict[str, dict[str, Any]] = {}
    for key in sorted(keys):
        holders, cut = merging.levels(chain, key, owned, masks)
        if not holders:
            continue  # masked above every owner that sets it
        strategy = declared.get(key, merging.REPLACE)
        values = [owned[owner][key] for owner in reversed(holders)]
        value, parts = merging.contributions(strategy, values)
        parts.reverse()  # nearest first, like ``holders``
        counted = [i for i, part in enumerate(parts) if part is not merging.ABSENT and part != {}] or [0]
        nearest = holders[counted[0]]
        entry: dict[str, Any] = {
            "value": value,
            "source": source(nearest),
            "set_at": detailed[nearest][key]["set_at"],
            "set_by": detailed[nearest][key]["set_by"],
            "overrides": [
                {"source": source(owner), "value": owned[owner][key]}
                for i, owner in enumerate(holders)
                if i not in counted
            ],
        }
        if strategy != merging.REPLACE:
            entry["strategy"] = strategy
            entry["contributions"] = [
                {
                    "source": source(holders[i]),
                    "value": owned[holders[i]][key],
                    "part": parts[i],
                    "set_at": detailed[holders[i]][key]["set_at"],
                    "set_by": detailed[holders[i]][key]["set_by"],
                }
                for i in counted
            ]
        if cut is not None:
            entry["masked_at"] = source(cut)
        per_key[key] = entry
    return per_key
