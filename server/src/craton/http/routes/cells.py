"""/v1/cells"""

from __future__ import annotations

from craton.domain import containers
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "name", "note", "region_id", "cloud_id", "project_id")
_BODY = {
    "name": schemas.NAME,
    "region_id": schemas.INTEGER,
    "cloud_id": schemas.INTEGER,
    "note": schemas.TEXT,
    "variables": schemas.VARIABLES,
}


RESOURCE = Resource(
    kind=containers.CELL,
    shape=Shape("cell", FIELDS),
    create_body=schemas.obj(_BODY, required=["name", "region_id", "cloud_id"]),
    update_body=schemas.obj(schemas.pick(_BODY, "name", "note", "region_id")),
    filters={
        "id": Param("integer"),
        "name": Param("string"),
        "region_id": Param("integer"),
        "cloud_id": Param("integer"),
    },
    filter_columns={"id": "id", "name": "name", "region_id": "region_id", "cloud_id": "cloud_id"},
    resolves=True,
    details_default=None,
)

ROUTES = routes(RESOURCE)
