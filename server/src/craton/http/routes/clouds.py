"""/v1/clouds"""

from __future__ import annotations

from craton.domain import containers
from craton.http import schemas
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "name", "note", "project_id")
_BODY = {"name": schemas.NAME, "note": schemas.TEXT, "variables": schemas.VARIABLES}


RESOURCE = Resource(
    kind=containers.CLOUD,
    shape=Shape("cloud", FIELDS),
    create_body=schemas.obj(_BODY, required=["name"]),
    update_body=schemas.obj(schemas.pick(_BODY, "name", "note")),
    filters={"name": Param("string"), "id": Param("integer")},
    single_lookup=True,
)

ROUTES = routes(RESOURCE)
