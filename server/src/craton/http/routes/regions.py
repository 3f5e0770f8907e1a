"""/v1/regions"""

from __future__ import annotations

from craton.domain import containers
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "name", "note", "cloud_id", "project_id")
_BODY = {"name": schemas.NAME, "cloud_id": schemas.INTEGER, "note": schemas.TEXT, "variables": schemas.VARIABLES}


RESOURCE = Resource(
    kind=containers.REGION,
    shape=Shape("region", FIELDS),
    create_body=schemas.obj(_BODY, required=["name", "cloud_id"]),
    update_body=schemas.obj(schemas.pick(_BODY, "name", "note")),
    filters={"name": Param("string"), "id": Param("integer"), "cloud_id": Param("integer")},
    filter_columns={"cloud_id": "cloud_id"},
    resolves=True,
    details_default=None,
    single_lookup=True,
)

ROUTES = routes(RESOURCE)
