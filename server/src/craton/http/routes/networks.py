"""/v1/networks"""

from __future__ import annotations

from craton.domain import networks
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = (
    "created_at",
    "updated_at",
    "id",
    "name",
    "cidr",
    "gateway",
    "netmask",
    "ip_block_type",
    "nss",
    "cloud_id",
    "region_id",
    "cell_id",
    "project_id",
)
_BODY = {
    "name": schemas.NAME,
    "cidr": schemas.STRING,
    "gateway": schemas.STRING,
    "netmask": schemas.STRING,
    "ip_block_type": schemas.STRING,
    "nss": schemas.STRING,
    "cloud_id": schemas.INTEGER,
    "region_id": schemas.INTEGER,
    "cell_id": schemas.INTEGER,
    "variables": schemas.VARIABLES,
}


RESOURCE = Resource(
    kind=networks.NETWORK,
    shape=Shape("network", FIELDS),
    create_body=schemas.obj(_BODY, required=["name", "cidr", "gateway", "netmask", "cloud_id", "region_id"]),
    update_body=schemas.obj(schemas.pick(_BODY, "name", "cidr", "gateway", "netmask", "ip_block_type", "nss")),
    filters={
        "id": Param("integer"),
        "name": Param("string"),
        "region_id": Param("integer"),
        "cell_id": Param("integer"),
        "cloud_id": Param("integer"),
    },
    filter_columns={"id": "id", "name": "name", "region_id": "region_id", "cell_id": "cell_id", "cloud_id": "cloud_id"},
)

ROUTES = routes(RESOURCE)
