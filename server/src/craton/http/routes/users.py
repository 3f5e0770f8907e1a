"""/v1/users: admins manage their project's users; the API key is shown once, on create."""

from __future__ import annotations

from starlette.responses import Response

from craton.domain import users
from craton.domain.readmodel import Details
from craton.http import schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.representation import Shape, present
from craton.http.resources import Resource, routes
from craton.http.urls import base_url
from craton.http.validation import Param

FIELDS = ("created_at", "updated_at", "id", "username", "is_admin", "project_id")
SHAPE = Shape("user", FIELDS)
CREATE_BODY = schemas.obj(
    {
        "username": schemas.NAME,
        "project_id": {"type": "string", "maxLength": 64, "pattern": schemas.NO_NUL},
        "is_admin": schemas.BOOLEAN,
        # Accepted as the original did; roles are not stored and a key is always generated.
        "roles": {"type": "array", "items": schemas.STRING},
        "api_key": schemas.STRING,
    },
    required=["username", "project_id"],
)


def _with_key(call: Call, created: users.NewUser, status: int) -> Response:
    item = present(call.request, SHAPE, [created.row], Details())[0]  # a user shows its fields only
    item["api_key"] = created.api_key
    headers = {"Location": f"{base_url(call.request)}/v1/users/{created.row['id']}"}
    return JSONResponse(item, status_code=status, headers=headers if status == 201 else None)


def create_user(call: Call) -> Response:
    body = call.body
    created = users.create_user(
        call.conn, call.principal, body["username"], body["project_id"], is_admin=body.get("is_admin", False)
    )
    return _with_key(call, created, 201)


def rotate_key(call: Call) -> Response:
    user_id = call.path["id"]
    created = users.rotate_key(call.conn, call.principal, user_id, call.query["grace_seconds"])
    return _with_key(call, created, 200)


ROTATE_PARAMS = {
    "grace_seconds": Param(
        "integer", 0, {"minimum": 0, "maximum": 604800}, "How long the previous key keeps working (default 0)."
    )
}


RESOURCE = Resource(
    kind=users.KIND,
    shape=SHAPE,
    filters={"id": Param("integer"), "name": Param("string")},
    filter_columns={"id": "id", "name": "username"},
)

ROUTES = [
    *routes(RESOURCE, create=Operation("POST", create_user, body=CREATE_BODY, summary="Create a user", success=201)),
    build_route(
        "/v1/users/{id}/api-key",
        [Operation("POST", rotate_key, query=ROTATE_PARAMS, summary="Issue a new API key")],
    ),
]
