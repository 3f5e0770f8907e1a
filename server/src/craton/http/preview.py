"""``?preview=true`` on any write that can change devices' resolved variables.

One wrapper for every such operation: without ``preview`` the operation runs as
it is; with it, the same handler (so the same validation and authorisation) runs
inside :func:`craton.domain.impact.preview`, which rolls it back and reports how
each device's resolved variables would change (``changed``: ``{key: {"old", "new"}}``; a
device a delete removes is listed with ``deleted`` true), paginated by device id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from starlette.responses import Response

from craton.domain import impact
from craton.domain.kinds import Kind
from craton.http.endpoint import Call, Operation
from craton.http.jsonio import JSONResponse
from craton.http.pagination import MAX_LIMIT
from craton.http.urls import path_url
from craton.http.validation import Param

CONTAINERS = frozenset({"project", "cloud", "region", "cell"})

PARAMS = {
    "preview": Param(
        "boolean",
        False,
        description="Answer 200 with how devices' resolved variables would change (and what a delete removes); "
        "write nothing",
    ),
    "limit": Param("integer", 30, {"minimum": 1, "maximum": MAX_LIMIT}, "Devices per preview page"),
    "marker": Param("integer", description="Preview: id of the last device of the previous page"),
}

_DIFF = {"type": "object"}
RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "preview": {
            "type": "object",
            "properties": {
                "devices_affected": {"type": "integer"},
                "devices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string"},
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "added": _DIFF,
                            "removed": _DIFF,
                            "changed": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "properties": {"old": {}, "new": {}},
                                    "required": ["old", "new"],
                                },
                            },
                            "deleted": {"type": "boolean", "description": "The write removes this device"},
                        },
                    },
                },
                "deleted": {"type": "object", "additionalProperties": {"type": "integer"}},
                "links": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def reaches_devices(kind: Kind) -> bool:
    """Whether writes to ``kind`` can change any device's resolved variables."""
    return kind.name in CONTAINERS or kind.info.table.name == "devices"


def previewable(
    op: Operation,
    kind: Kind,
    write: Callable[[Call], Any] | None = None,
    deletes: bool = False,
    keyed: bool = False,
    count: Callable[[Call], Mapping[str, int]] | None = None,
    keys_of: Callable[[Call], Collection[str] | None] | None = None,
) -> Operation:
    """``op`` with ``?preview=true``; ``write`` is the use case to run (default: the handler itself).

    ``keyed``: the body names the only variable keys the write can change (an object's keys
    or a list of them), so the snapshots resolve those keys alone. ``count``: a delete's own
    preview (its counts); then the delete is not run at all (see ``impact.preview_delete``).
    ``keys_of``: the only keys the write can change, worked out from the request (None: any).
    """
    if not reaches_devices(kind):
        return op
    run = write or op.handler

    def handler(call: Call) -> Response:
        if not call.query.get("preview"):
            return cast(Response, op.handler(call))  # a write: never a Streamed answer
        keys = list(call.body) if keyed and isinstance(call.body, (dict, list)) else None
        if keys_of is not None:
            found = keys_of(call)
            keys = None if found is None else sorted(found)
        target = [(kind.name, kind.info.parse_id(call.path["id"]))]
        if count is not None:
            outcome = impact.preview_delete(call.conn, target, lambda: count(call))
        else:
            own = keyed and keys is not None
            outcome = impact.preview(call.conn, target, lambda: run(call), deletes, keys, own_rows_only=own)
        return JSONResponse({"preview": body(call, outcome, deletes)})

    other = {**op.other_responses, 200: RESPONSE}
    return dataclasses.replace(op, handler=handler, query={**op.query, **PARAMS}, other_responses=other)


def body(call: Call, outcome: impact.Impact, deletes: bool) -> dict[str, Any]:
    limit, marker = call.query["limit"], call.query["marker"]
    page, more = outcome.page(limit, marker)
    answer: dict[str, Any] = {
        "devices_affected": len(outcome.changes),
        "devices": [change.as_json() for change in page],
    }
    if deletes:
        answer["deleted"] = outcome.deleted
    base = [
        (name, str(value).lower() if isinstance(value, bool) else str(value))
        for name, value in call.query.items()
        if value is not None and name != "marker"
    ]
    links = [
        {"rel": "self", "href": path_url(call.request, urlencode(base + ([("marker", str(marker))] if marker else [])))}
    ]
    if more and page:
        links.append({"rel": "next", "href": path_url(call.request, urlencode([*base, ("marker", str(page[-1].id))]))})
    answer["links"] = links
    return answer
