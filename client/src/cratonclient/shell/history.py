"""How the CLI shows provenance: change records, blame and variable diffs as rows.

Shared by ``<resource>-history``, ``changes``, ``<resource>-vars-get --blame/--as-of/--diff-*``
and ``<resource>-list --blame KEY``. Every view is a list of flat rows, so each output format
works: tables get a ``display`` rewrite (typed values, one override per line), machine
formats get the data itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cratonclient.formatters.base import variable_text

if TYPE_CHECKING:  # the library (and requests) load only when a command talks to the server
    import datetime as dt

    from cratonclient.shell.commands import Context
    from cratonclient.v1.history import Change
    from cratonclient.v1.variables import Blame, VariablesDiff

#: Columns of ``<resource>-history``; ``summary`` is worked out by the CLI from old and new.
CHANGE_FIELDS = ("id", "occurred_at", "username", "action", "reason", "summary")
#: Columns of ``changes``, which mixes objects.
FEED_FIELDS = (
    "id",
    "occurred_at",
    "username",
    "action",
    "resource_type",
    "resource_id",
    "resource_name",
    "reason",
    "summary",
)
CHANGE_DETAIL_FIELDS = (
    "resource_type",
    "resource_id",
    "resource_name",
    "request_id",
    "user_id",
    "project_id",
    "old",
    "new",
)
BLAME_FIELDS = (
    "key",
    "value",
    "source_type",
    "source_id",
    "source_name",
    "set_by",
    "set_at",
    "overrides",
    "contributions",
)
#: ``<resource>-list --blame KEY``: one row per object, for one key.
BLAME_LIST_FIELDS = ("id", "name", *BLAME_FIELDS[1:])
DIFF_FIELDS = ("key", "change", "from", "to")

_UNSET = "(unset)"
_CHANGE_REFERENCE = re.compile(r"^(before|after):(\d+)$")


# --- change records ---------------------------------------------------------------------------


def change_rows(changes: Iterable[Any]) -> list[dict[str, Any]]:
    """Change records (objects or dicts) as rows: the record plus a one-line ``summary``."""
    rows = []
    for change in changes:
        record = change.to_dict() if hasattr(change, "to_dict") else dict(change)
        rows.append({**record, "summary": summary(record)})
    return rows


def summary(record: Mapping[str, Any]) -> str:
    """What a record changed, in one line: ``ntp: "a" -> "b"``, ``+web -db``, ``created``."""
    action, old, new = record.get("action"), record.get("old"), record.get("new")
    if action == "create":
        return "created"
    if action == "delete":
        return "deleted"
    if action == "rotate_key":
        return "API key rotated"
    if action in ("labels", "masks"):
        old_labels, new_labels = set(old or ()), set(new or ())
        changes = [f"+{label}" for label in sorted(new_labels - old_labels)]
        changes += [f"-{label}" for label in sorted(old_labels - new_labels)]
        prefix = "masks " if action == "masks" else ""
        return prefix + " ".join(changes) if changes else f"{action} unchanged"
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        parts = []
        for key in sorted(old.keys() | new.keys()):
            before = _compact(old[key]) if key in old else _UNSET
            after = _compact(new[key]) if key in new else _UNSET
            if before != after:
                parts.append(f"{key}: {before} -> {after}")
        return "; ".join(parts) or "nothing changed"
    return str(action or "")


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


# --- blame --------------------------------------------------------------------------------------


def blame_row(blame: Blame) -> dict[str, Any]:
    return {
        "key": blame.key,
        "value": blame.value,
        "source_type": blame.source.type,
        "source_id": blame.source.id,
        "source_name": blame.source.name,
        "set_by": blame.set_by,
        "set_at": blame.set_at,
        "overrides": [
            {"source_type": o.source.type, "source_id": o.source.id, "source_name": o.source.name, "value": o.value}
            for o in blame.overrides
        ],
        **(
            {
                "strategy": blame.strategy,
                "contributions": [
                    {
                        "source_type": c.source.type,
                        "source_id": c.source.id,
                        "source_name": c.source.name,
                        "part": c.part,
                        "value": c.value,
                    }
                    for c in blame.contributions
                ],
            }
            if blame.strategy is not None
            else {}
        ),
        **({"masked_at": str(blame.masked_at)} if blame.masked_at is not None else {}),
    }


def blame_rows(blame: Mapping[str, Blame]) -> list[dict[str, Any]]:
    """One row per variable, sorted by key."""
    return [blame_row(blame[key]) for key in sorted(blame)]


def blame_list_rows(items: Iterable[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per object for ``key``: where its value comes from (blank: the key is unset)."""
    from cratonclient.v1.variables import parse_blame

    rows = []
    for item in items:
        found = parse_blame(item.get("blame")).get(key)
        row = blame_row(found) if found is not None else {"key": key}
        rows.append({"id": item.get("id"), "name": item.get("name"), **row})
    return rows


def blame_display(row: Mapping[str, Any]) -> dict[str, Any]:
    """A blame row for a table: typed values, one overridden value per line."""
    shown = dict(row)
    if "value" in row:
        shown["value"] = variable_text(row["value"])
    shown["overrides"] = "\n".join(
        f"{_source_label(o)}: {variable_text(o['value'])}" for o in row.get("overrides") or ()
    )
    if row.get("strategy") is not None:  # merged, not replaced: each level's part of the value
        shown["contributions"] = f"({row['strategy']})\n" + "\n".join(
            f"{_source_label(c)}: {variable_text(c['part'])}" for c in row.get("contributions") or ()
        )
    else:
        shown["contributions"] = ""
    return shown


def _source_label(row: Mapping[str, Any]) -> str:
    label = f"{row.get('source_type')} {row.get('source_id')}"
    return f"{label} ({row['source_name']})" if row.get("source_name") else label


# --- diffs --------------------------------------------------------------------------------------


def diff_rows(diff: VariablesDiff) -> list[dict[str, Any]]:
    """One row per key that differs; a side a key is missing from is left out of its row."""
    rows: dict[str, dict[str, Any]] = {}
    for key, value in diff.added.items():
        rows[key] = {"key": key, "change": "added", "to": value}
    for key, value in diff.removed.items():
        rows[key] = {"key": key, "change": "removed", "from": value}
    for key, pair in diff.changed.items():
        rows[key] = {"key": key, "change": "changed", "from": pair.before, "to": pair.after}
    return [rows[key] for key in sorted(rows)]


def diff_display(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, **{side: variable_text(row[side]) for side in ("from", "to") if side in row}}


def diff_message(diff: VariablesDiff) -> str:
    verdict = "Changes" if diff else "No changes"
    return f"{verdict} from {diff.since} to {diff.until or 'now'}:"


# --- times --------------------------------------------------------------------------------------


def time_arg(text: str) -> str:
    """Validate a TIME option: an ISO 8601 timestamp, ``before:ID`` or ``after:ID``."""
    if not _CHANGE_REFERENCE.match(text):
        from cratonclient.v1.history import parse_time

        parse_time(text)  # ValueError: argparse reports it as a usage error
    return text


time_arg.__name__ = "time (ISO 8601, before:ID or after:ID)"

TIME_HELP = (
    "TIME is an ISO 8601 timestamp (UTC unless it has an offset, e.g. 2026-11-26T18:35:27Z), "
    "or before:ID / after:ID: the moment just before or just after change ID (an id from "
    "*-history or changes)."
)


def resolve_time(ctx: Context, text: str) -> dt.datetime | str:
    """A TIME option as the library takes it: ``before:ID``/``after:ID`` become moments."""
    match = _CHANGE_REFERENCE.match(text)
    if match is None:
        return text
    change: Change = ctx.client.changes.get(int(match.group(2)))
    return change.time_before if match.group(1) == "before" else change.time
