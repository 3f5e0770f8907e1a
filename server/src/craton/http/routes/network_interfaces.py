"""/v1/network-interfaces"""

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
    "interface_type",
    "vlan_id",
    "vlan",
    "port",
    "duplex",
    "speed",
    "link",
    "cdp",
    "security",
    "ip_address",
    "device_id",
    "network_id",
    "project_id",
)
_BODY = {
    "name": schemas.NAME,
    "device_id": schemas.INTEGER,
    "network_id": schemas.INTEGER,
    "interface_type": schemas.NAME,
    "ip_address": schemas.STRING,
    "vlan_id": schemas.INTEGER,
    "vlan": schemas.STRING,
    "port": schemas.INTEGER,
    "speed": schemas.BIG_INTEGER,
    "duplex": schemas.STRING,
    "link": schemas.STRING,
    "cdp": schemas.STRING,
    "security": schemas.STRING,
    "variables": schemas.VARIABLES,
}


RESOURCE = Resource(
    kind=networks.NETWORK_INTERFACE,
    shape=Shape("network_interface", FIELDS),
    create_body=schemas.obj(_BODY, required=["name", "device_id", "interface_type", "ip_address"]),
    update_body=schemas.obj(
        schemas.pick(_BODY, "name", "interface_type", "vlan", "duplex", "link", "cdp", "security", "port", "speed")
    ),
    filters={
        "id": Param("integer"),
        "name": Param("string"),
        "device_id": Param("integer"),
        "network_id": Param("integer"),
        "ip_address": Param("string"),
        "interface_type": Param("string"),
    },
    filter_columns={
        "id": "id",
        "name": "name",
        "device_id": "device_id",
        "network_id": "network_id",
        "ip_address": "ip_address",
        "interface_type": "interface_type",
    },
    ip_fields=("ip_address",),
)

ROUTES = routes(RESOURCE)
