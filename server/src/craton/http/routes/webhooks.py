"""/v1/webhooks: project admins subscribe URLs to their project's events; the secret is shown once."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from craton.domain import webhooks
from craton.domain.principal import Principal
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.urls import base_url
from craton.http.validation import Param

_NAMES = {"type": "array", "items": schemas.STRING, "maxItems": 100}
_IDS = {"type": "array", "items": schemas.INTEGER, "maxItems": 100}
FILTERS = schemas.obj(
    {
        "resource_types": _NAMES,
        "actions": _NAMES,
        "keys": _NAMES,
        "key_prefixes": _NAMES,
        "cell_ids": _IDS,
        "region_ids": _IDS,
        "labels": _NAMES,
    }
)
PROPERTIES: dict[str, Any] = {
    "url": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": schemas.NO_NUL},
    "secret": {"type": "string", "minLength": webhooks.MIN_SECRET, "maxLength": 255, "pattern": schemas.NO_NUL},
    "events": {
        "type": "array",
        "items": {"type": "string", "enum": list(webhooks.EVENT_KINDS)},
        "minItems": 1,
        "maxItems": 2,
    },
    "filters": FILTERS,
    "enabled": schemas.BOOLEAN,
    "project_id": {"type": "string", "maxLength": 64, "pattern": schemas.NO_NUL},
}
CREATE_BODY = schemas.obj(PROPERTIES, required=["url", "secret"])
UPDATE_BODY = schemas.obj({k: v for k, v in PROPERTIES.items() if k != "project_id"})
REDELIVER_BODY = schemas.obj({"delivery_id": schemas.BIG_INTEGER}, required=["delivery_id"])
PAGE = {
    "limit": Param("integer", 100, {"minimum": 1, "maximum": 1000}),
    "marker": Param("integer", description="Last id of the previous page."),
}
DELIVERY_PAGE = {
    **PAGE,
    "status": Param(
        "string",
        schema={"enum": ["pending", "delivering", "succeeded", "failed"]},
        description="Only deliveries in this state.",
    ),
}


def _allow_private(call: Call) -> bool:
    return bool(call.request.app.state.settings.webhooks_allow_private_targets)


def _resolve_timeout(call: Call) -> float:
    """A URL's DNS lookup gets the deliveries' timeout (``[webhooks] timeout_seconds``)."""
    return float(call.request.app.state.settings.webhooks_timeout_seconds)


def _check_url_first(request: Request, principal: Principal, body: dict[str, Any]) -> webhooks.CheckedUrl | None:
    """The URL's DNS lookup, before the request's transaction opens (``Operation.prepare``).

    Only for callers who may manage webhooks: anyone else gets the 403 without a lookup.
    """
    if "url" not in body or not principal.is_admin:
        return None
    settings = request.app.state.settings
    return webhooks.check_url_first(
        body["url"], bool(settings.webhooks_allow_private_targets), float(settings.webhooks_timeout_seconds)
    )


def _page(call: Call, rows: list[Any], limit: int, **query: Any) -> tuple[list[Any], dict[str, str | None]]:
    """The page's rows and its ``links``: ``next`` only when more rows follow (one more was read)."""
    if len(rows) <= limit:
        return rows, {"next": None}
    rows = rows[:limit]
    params = urlencode({**{k: v for k, v in query.items() if v is not None}, "limit": limit, "marker": rows[-1]["id"]})
    return rows, {"next": f"{base_url(call.request)}{call.request.url.path}?{params}"}


def create(call: Call) -> Response:
    row, secret = webhooks.create(
        call.conn, call.principal, call.body, _allow_private(call), _resolve_timeout(call), call.prepared
    )
    item = webhooks.shown(row)
    item["secret"] = secret  # this once only
    location = f"{base_url(call.request)}/v1/webhooks/{row['id']}"
    return JSONResponse(item, status_code=201, headers={"Location": location})


def list_hooks(call: Call) -> Response:
    limit = call.query["limit"]
    rows, links = _page(call, webhooks.list_all(call.conn, call.principal, limit, call.query["marker"]), limit)
    return JSONResponse({"webhooks": [webhooks.shown(r) for r in rows], "links": links})


def show(call: Call) -> Response:
    return JSONResponse(webhooks.shown(webhooks.get(call.conn, call.principal, call.path["id"])))


def update(call: Call) -> Response:
    row = webhooks.update(
        call.conn,
        call.principal,
        call.path["id"],
        call.body,
        _allow_private(call),
        _resolve_timeout(call),
        call.prepared,
    )
    return JSONResponse(webhooks.shown(row))


def delete(call: Call) -> Response:
    webhooks.delete(call.conn, call.principal, call.path["id"])
    return Response(status_code=204)


def deliveries(call: Call) -> Response:
    limit, status = call.query["limit"], call.query["status"]
    found = webhooks.deliveries(call.conn, call.principal, call.path["id"], limit, call.query["marker"], status)
    rows, links = _page(call, found, limit, status=status)
    return JSONResponse({"deliveries": [dict(r) for r in rows], "links": links})


def redeliver(call: Call) -> Response:
    row = webhooks.redeliver(call.conn, call.principal, call.path["id"], call.body["delivery_id"])
    return JSONResponse(dict(row), status_code=202)


ROUTES = [
    build_route(
        "/v1/webhooks",
        [
            Operation(
                "POST", create, body=CREATE_BODY, summary="Create a webhook", success=201, prepare=_check_url_first
            ),
            Operation("GET", list_hooks, query=PAGE, summary="List webhooks"),
        ],
    ),
    build_route(
        "/v1/webhooks/{id}",
        [
            Operation("GET", show, summary="Show a webhook"),
            Operation("PUT", update, body=UPDATE_BODY, summary="Update a webhook", prepare=_check_url_first),
            Operation("DELETE", delete, summary="Delete a webhook", success=204),
        ],
    ),
    build_route(
        "/v1/webhooks/{id}/deliveries",
        [Operation("GET", deliveries, query=DELIVERY_PAGE, summary="A webhook's delivery log")],
    ),
    build_route(
        "/v1/webhooks/{id}/redeliver",
        [
            Operation(
                "POST",
                redeliver,
                body=REDELIVER_BODY,
                summary="Redeliver a failed delivery (same event id)",
                success=202,
            )
        ],
    ),
]
