"""/v1/devices: hosts and network devices in one paginated listing."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain import devices as device_domain
from craton.domain import kinds, objects
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.pagination import links
from craton.http.representation import present
from craton.http.resources import Resource, boolean, list_query
from craton.http.routes import device_common as common
from craton.http.routes import kind_module
from craton.http.validation import Param

# Each device kind's items under its own key, shaped as its own routes shape them.
_SHAPES = {
    info.resource_type: (info.path.removeprefix("/v1/"), kind_module(info).RESOURCE.shape)
    for info in kinds.KINDS
    if info.owner_kind == kinds.ANY_DEVICE.name
}
_FILTERS = {name: common.FILTERS[name] for name in ("region_id", "cloud_id", "cell_id", "parent_id", "active", "label")}

RESOURCE = Resource(
    kind=device_domain.ANY_DEVICE,
    shape=_SHAPES["host"][1],
    filters={**_FILTERS, "descendants": boolean(False)},
    filter_columns={name: name for name in ("region_id", "cloud_id", "cell_id", "active")},
    resolves=True,
)


def list_devices(call: Call) -> Response:
    listing = objects.read_page(call.conn, call.principal, RESOURCE.kind, list_query(RESOURCE, call))
    grouped = {
        key: present(call.request, shape, [row for row in listing.rows if row["kind"] == kind], listing.details)
        for kind, (key, shape) in _SHAPES.items()
    }
    return JSONResponse({"devices": grouped, "links": links(call.request, call.query, listing.page)})


PARAMS: dict[str, Param] = RESOURCE.list_params()
ROUTES = [build_route("/v1/devices", [Operation("GET", list_devices, query=PARAMS, summary="List all devices")])]
