"""/v1/projects: root lists, creates and deletes; an admin reads and renames its own project (domain/kinds.py)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from craton.domain import projects
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.preview import previewable
from craton.http.representation import Shape
from craton.http.resources import Resource, routes
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "name")


RESOURCE = Resource(
    kind=projects.KIND,
    shape=Shape("project", FIELDS),
    create_body=schemas.obj({"name": schemas.NAME, "variables": schemas.VARIABLES}, required=["name"]),
    update_body=schemas.obj({"name": schemas.NAME}),
    filters={"name": Param("string")},
    filter_columns={"name": "name"},
)

STRATEGIES_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {"merge_strategies": schemas.MERGE_STRATEGIES},
    "required": ["merge_strategies"],
}


def changed_strategy_keys(call: Call) -> set[str] | None:
    """The keys whose strategy a declaration would change (``replace`` when not declared):
    the only keys whose resolved values it can change (None: the body is not a declaration)."""
    if not isinstance(call.body, dict):
        return None
    return projects.changed_strategy_keys(call.conn, call.path["id"], call.body)


def read_strategies(call: Call) -> Response:
    strategies = projects.merge_strategies(call.conn, call.principal, call.path["id"])
    return JSONResponse({"merge_strategies": strategies})


def write_strategies(call: Call) -> Response:
    if_match = call.request.headers.get("if-match")
    strategies = projects.set_merge_strategies(call.conn, call.principal, call.path["id"], call.body, if_match)
    return JSONResponse({"merge_strategies": strategies})


ROUTES = [
    *routes(RESOURCE),
    build_route(
        "/v1/projects/{id}/merge-strategies",
        [
            Operation(
                "GET",
                read_strategies,
                summary="How each variable key merges along the chain (keys not listed: replace)",
                response=STRATEGIES_RESPONSE,
            ),
            previewable(
                Operation(
                    "PUT",
                    write_strategies,
                    body=schemas.MERGE_STRATEGIES,
                    summary="Declare the merge strategy of each variable key (replaces the whole declaration)",
                    response=STRATEGIES_RESPONSE,
                ),
                RESOURCE.kind,
                keys_of=changed_strategy_keys,
            ),
        ],
        name="projects_merge_strategies",
    ),
]
