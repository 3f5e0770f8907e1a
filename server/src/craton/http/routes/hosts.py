"""/v1/hosts and /v1/hosts/{id}/labels"""

from __future__ import annotations

from craton.domain import devices
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.routes import device_common as common

RESOURCE = Resource(
    kind=devices.HOST,
    shape=Shape("device", common.COMMON_FIELDS, device=True),
    create_body=schemas.obj(common.BODY, required=common.REQUIRED),
    update_body=schemas.obj({**schemas.pick(common.BODY, *common.UPDATE_FIELDS), "cell_id": schemas.NULLABLE_ID}),
    update_params=common.UPDATE_PARAMS,
    filters=common.FILTERS,
    filter_columns=common.FILTER_COLUMNS,
    resolves=True,
    variables_resolve=True,
    details_default=None,
    ip_fields=("ip_address",),
)

ROUTES = [*routes(RESOURCE), common.labels_route(RESOURCE.path, devices.HOST)]
