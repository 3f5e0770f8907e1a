"""/v1/projects: root lists, creates and deletes; an admin reads and renames its own project (domain/kinds.py)."""

from __future__ import annotations

from typing import Any

from craton.domain import projects
from craton.http import schemas
from craton.http.endpoint import Call
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "name")


def _create(call: Call, values: dict[str, Any], variables: dict[str, Any] | None) -> Any:
    return projects.create_project(call.conn, call.principal, values["name"], variables)


RESOURCE = Resource(
    kind=projects.KIND,
    shape=Shape("project", FIELDS),
    create_body=schemas.obj({"name": schemas.NAME, "variables": schemas.VARIABLES}, required=["name"]),
    update_body=schemas.obj({"name": schemas.NAME}),
    filters={"name": Param("string")},
    filter_columns={"name": "name"},
    create=_create,
    delete=projects.delete_project,
)

ROUTES = routes(RESOURCE)
