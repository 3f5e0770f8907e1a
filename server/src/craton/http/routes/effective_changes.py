"""/v1/effective-changes: per device, what each change did to its resolved variables, read with a cursor."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain.events import feed as effective_feed
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.validation import Param

_TEXT = {"maxLength": 255, "pattern": schemas.NO_NUL}
PARAMS = {
    "since": Param(
        "integer", 0, {"minimum": 0}, "Cursor: the last effective-change id already seen (0: from the start)."
    ),
    "limit": Param("integer", 100, {"minimum": 1, "maximum": 1000}),
    "device_id": Param("integer", description="Only changes of this device (host or network device)."),
    "cell_id": Param("integer", description="Only devices that were in this cell when the change was made."),
    "region_id": Param("integer", description="Only devices that were in this region when the change was made."),
    "label": Param("string", schema=_TEXT, description="Only devices that carry this label now."),
    "key": Param("string", schema=_TEXT, description="Only changes that add, remove or change this variable key."),
}


def effective_change_feed(call: Call) -> Response:
    query = call.query
    rows = effective_feed.feed(
        call.conn,
        call.principal,
        query["since"],
        query["limit"],
        device_id=query["device_id"],
        cell_id=query["cell_id"],
        region_id=query["region_id"],
        label=query["label"],
        key=query["key"],
    )
    next_since = rows[-1]["id"] if rows else query["since"]
    return JSONResponse({"effective_changes": [dict(row) for row in rows], "next_since": next_since})


ROUTES = [
    build_route(
        "/v1/effective-changes",
        [Operation("GET", effective_change_feed, query=PARAMS, summary="Effective-change feed")],
    )
]
