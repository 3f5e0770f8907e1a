"""/v1/devices: hosts and network devices in one paginated listing."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain import devices as device_domain
from craton.domain import kinds
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.pagination import links
from craton.http.resources import Resource, boolean, detail_options, list_page, shown
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
    extra_where=common.extra_where,
    resolves=True,
)


def list_devices(call: Call) -> Response:
    page = list_page(RESOURCE, call)
    grouped = {
        key: shown(call, shape, [row for row in page.rows if row["kind"] == kind], **detail_options(call))
        for kind, (key, shape) in _SHAPES.items()
    }
    return JSONResponse({"devices": grouped, "links": links(call.request, call.query, page)})


PARAMS: dict[str, Param] = RESOURCE.list_params()
ROUTES = [build_route("/v1/devices", [Operation("GET", list_devices, query=PARAMS, summary="List all devices")])]
