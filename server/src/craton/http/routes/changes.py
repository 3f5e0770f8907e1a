"""/v1/changes: the project's change feed, read with a cursor."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain.history import feed as history_feed
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.resources import change_item
from craton.http.validation import Param

PARAMS = {
    "since": Param("integer", 0, {"minimum": 0}, "Cursor: the last record id already seen (0: from the start)."),
    "limit": Param("integer", 100, {"minimum": 1, "maximum": 1000}),
    "resource_type": Param(
        "string",
        schema={"maxLength": 64, "pattern": schemas.NO_NUL},
        description="Only changes of this kind of object: "
        + ", ".join(history_feed.RESOURCE_TYPES)
        + " (a hyphen may stand for the underscore: network-device).",
    ),
    "user": Param("string", description="Only changes made by this username."),
}


def change_feed(call: Call) -> Response:
    query = call.query
    rows = history_feed.feed(
        call.conn, call.principal, query["since"], query["limit"], query["resource_type"], query["user"]
    )
    next_since = rows[-1]["id"] if rows else query["since"]
    return JSONResponse({"changes": [change_item(row) for row in rows], "next_since": next_since})


ROUTES = [build_route("/v1/changes", [Operation("GET", change_feed, query=PARAMS, summary="Change feed")])]
