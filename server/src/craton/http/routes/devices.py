"""/v1/devices: hosts and network devices in one paginated listing."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain import crud
from craton.domain import devices as device_domain
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.pagination import links, page_request
from craton.http.representation import Shape, present
from craton.http.resources import Resource, boolean, list_where, vars_predicate
from craton.http.routes import device_common as common
from craton.http.validation import Param

_SHAPES = {
    "host": ("hosts", Shape("device", common.COMMON_FIELDS, device=True)),
    "network_device": ("network-devices", Shape("device", common.NETWORK_DEVICE_FIELDS, device=True)),
}
_FILTERS = {name: common.FILTERS[name] for name in ("region_id", "cloud_id", "cell_id", "parent_id", "active", "label")}

RESOURCE = Resource(
    kind=device_domain.ANY_DEVICE,
    path="/v1/devices",
    key="devices",
    shape=_SHAPES["host"][1],
    filters={**_FILTERS, "descendants": boolean(False)},
    filter_columns={name: name for name in ("region_id", "cloud_id", "cell_id", "active")},
    extra_where=common.extra_where,
    resolves=True,
)


def _parent_filter(call: Call) -> list:
    if call.query.get("parent_id") is not None and not call.query.get("descendants"):
        return [device_domain.descendants_filter(call.query["parent_id"], recursive=False)]
    return []


def list_devices(call: Call) -> Response:
    where = [*list_where(RESOURCE, call), *_parent_filter(call)]
    page = crud.list_page(
        call.conn, call.principal, RESOURCE.kind, page_request(call.query), where, vars_predicate(RESOURCE, call)
    )
    grouped = {}
    for device_kind, (key, shape) in _SHAPES.items():
        rows = [row for row in page.rows if row["kind"] == device_kind]
        grouped[key] = present(
            call.request,
            call.conn,
            shape,
            rows,
            with_variables=bool(call.query["details"]),
            resolved=call.query["resolved-values"],
            with_blame=bool(call.query["details"] and call.query.get("blame")),
        )
    return JSONResponse({"devices": grouped, "links": links(call.request, call.query, page)})


PARAMS: dict[str, Param] = RESOURCE.list_params()
ROUTES = [build_route("/v1/devices", [Operation("GET", list_devices, query=PARAMS, summary="List all devices")])]
