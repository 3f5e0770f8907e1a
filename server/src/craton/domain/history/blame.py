"""Where a resolved value came from: its owner, when and by whom it was set, what it overrides.

Blame reads the variables of every owner on every chain once, with when and by
whom each value was set, and names the owners in one query per owner kind.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.domain import kinds, merging, resolution
from craton.domain.kinds import Row
from craton.storage import owners as owner_store
from craton.storage import variables as variable_store
from craton.storage.owners import OwnerRef


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
    owned = {owner: {key: info["value"] for key, info in values.items()} for owner, values in detailed.items()}

    def source(owner: OwnerRef) -> dict[str, Any]:
        return described.get(owner, {"type": owner[0], "id": owner[1], "name": None})

    result: dict[Any, dict[str, dict[str, Any]]] = {}
    for row_id, chain in chains.items():
        declared = merging.merging_only(strategies.get(projects[row_id], {}))
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
        result[row_id] = per_key
    return result
