"""Where a resolved value came from: its owner, when and by whom it was set, what it overrides.

Blame reads the variables of every owner on every chain once, with when and by
whom each value was set, and names the owners in one query per owner kind.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.domain import kinds, resolution
from craton.domain.kinds import Row
from craton.storage import owners as owner_store
from craton.storage import variables as variable_store


def blame(
    conn: sa.Connection, kind: str, rows: list[Row], resolved: bool = True
) -> dict[Any, dict[str, dict[str, Any]]]:
    """Per row and key: the winning value's source, when and by whom it was set, and what it overrode."""
    if not rows:
        return {}
    parents = resolution.parent_map_for(conn, kind, rows) if resolved else {}
    chains = {
        row["id"]: (resolution.chain(kind, row, parents) if resolved else [(kind, str(row["id"]))]) for row in rows
    }
    everyone = {owner for chain in chains.values() for owner in chain}
    detailed = variable_store.load_detailed(conn, everyone)
    described = owner_store.describe(conn, [owner for owner in everyone if owner in detailed], kinds.owner_tables())
    result: dict[Any, dict[str, dict[str, Any]]] = {}
    for row_id, chain in chains.items():
        per_key: dict[str, dict[str, Any]] = {}
        for owner in chain:
            for key, info in detailed.get(owner, {}).items():
                source = described.get(owner, {"type": owner[0], "id": owner[1], "name": None})
                if key not in per_key:
                    per_key[key] = {
                        "value": info["value"],
                        "source": source,
                        "set_at": info["set_at"],
                        "set_by": info["set_by"],
                        "overrides": [],
                    }
                else:
                    per_key[key]["overrides"].append({"source": source, "value": info["value"]})
        result[row_id] = per_key
    return result
