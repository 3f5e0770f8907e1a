"""What hosts, network devices and the combined device list share on the wire."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from craton.domain import devices as device_domain
from craton.domain.kinds import Kind
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.validation import Param

COMMON_FIELDS = (
    "created_at",
    "updated_at",
    "id",
    "name",
    "note",
    "ip_address",
    "device_type",
    "active",
    "cell_id",
    "region_id",
    "cloud_id",
    "parent_id",
    "project_id",
)
NETWORK_DEVICE_FIELDS = (*COMMON_FIELDS, "model_name", "os_version", "vlans")

BODY = {
    "name": schemas.NAME,
    "cloud_id": schemas.INTEGER,
    "region_id": schemas.INTEGER,
    "cell_id": schemas.INTEGER,
    "parent_id": schemas.NULLABLE_ID,
    "ip_address": schemas.STRING,
    "device_type": schemas.NAME,
    "active": schemas.BOOLEAN,
    "note": schemas.TEXT,
    "labels": schemas.LABELS,
    "variables": schemas.VARIABLES,
}
REQUIRED = ("name", "cloud_id", "region_id", "ip_address", "device_type")

FILTERS = {
    "id": Param("integer"),
    "name": Param("string"),
    "region_id": Param("integer"),
    "cloud_id": Param("integer"),
    "cell_id": Param("integer"),
    "parent_id": Param("integer"),
    "device_type": Param("string"),
    "ip_address": Param("string"),
    "active": Param("boolean"),
    "label": Param(
        "string",
        schema={"maxLength": 255},
        description="Only devices that carry all of these labels: repeat the parameter or separate with commas.",
        repeated=True,
    ),
}
FILTER_COLUMNS = {name: name for name in FILTERS if name not in ("label", "ip_address", "parent_id")}


UPDATE_PARAMS = {
    "with_children": Param(
        "boolean",
        False,
        description="When region_id or cell_id change: move the child devices that share the device's "
        "place along with it (otherwise such a move is refused, naming them).",
    )
}
UPDATE_FIELDS = ("name", "note", "ip_address", "device_type", "active", "parent_id", "region_id", "cell_id")


def labels_route(path: str, kind: Kind) -> Any:
    """GET/PUT/DELETE ``<device>/labels``: PUT adds to the set, DELETE removes the listed labels."""

    def read(call: Call) -> Response:
        return JSONResponse({"labels": device_domain.read_labels(call.conn, call.principal, kind, call.path["id"])})

    def add(call: Call) -> Response:
        if_match = call.request.headers.get("if-match")
        after = device_domain.label(call.conn, call.principal, kind, call.path["id"], call.body["labels"], if_match)
        return JSONResponse({"labels": after})

    def remove(call: Call) -> Response:
        if_match = call.request.headers.get("if-match")
        device_domain.unlabel(call.conn, call.principal, kind, call.path["id"], call.body["labels"], if_match)
        return Response(status_code=204, media_type="application/json")

    return build_route(
        path + "/{id}/labels",
        [
            Operation("GET", read, summary="List labels"),
            Operation("PUT", add, body=schemas.LABELS_BODY, summary="Add labels"),
            Operation("DELETE", remove, body=schemas.LABELS_BODY, summary="Remove labels", success=204),
        ],
    )
