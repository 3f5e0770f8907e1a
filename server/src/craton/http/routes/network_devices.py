"""/v1/network-devices and /v1/network-devices/{id}/labels"""

from __future__ import annotations

from craton.domain import devices
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.routes import device_common as common

BODY = {
    **common.BODY,
    "model_name": schemas.STRING,
    "os_version": schemas.STRING,
    "vlans": schemas.TEXT,
    # Accepted for compatibility with the original schema, never stored (craton-v1-api.md §4.1).
    "access_secret_id": schemas.INTEGER,
    "interface_id": schemas.INTEGER,
    "network_id": schemas.INTEGER,
}
_IGNORED = ("access_secret_id", "interface_id", "network_id")

RESOURCE = Resource(
    kind=devices.NETWORK_DEVICE,
    shape=Shape("device", common.NETWORK_DEVICE_FIELDS, device=True),
    create_body=schemas.obj(BODY, required=common.REQUIRED),
    update_body=schemas.obj(
        {
            **schemas.pick(BODY, *common.UPDATE_FIELDS, "model_name", "os_version", "vlans"),
            "cell_id": schemas.NULLABLE_ID,
        }
    ),
    update_params=common.UPDATE_PARAMS,
    filters=common.FILTERS,
    filter_columns=common.FILTER_COLUMNS,
    resolves=True,
    details_default=None,
    ip_fields=("ip_address",),
    ignored_fields=_IGNORED,
)

ROUTES = [*routes(RESOURCE), common.labels_route(RESOURCE.path, devices.NETWORK_DEVICE)]
