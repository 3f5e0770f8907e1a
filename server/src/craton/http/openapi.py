"""The OpenAPI document, generated from the same schemas that validate requests."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from craton import __version__
from craton.domain import fleet
from craton.http.jsonio import JSONResponse
from craton.http.validation import Param

_ERROR = {
    "type": "object",
    "description": "Every error answer. `message` is the original Craton v1 sentence where the original had one "
    "(clients compare it); `detail`, present when there is more to say, explains what exactly was wrong.",
    "properties": {
        "message": {"type": "string", "description": "The original Craton v1 sentence, e.g. `Not Found`"},
        "status": {"type": "integer", "description": "The HTTP status code again"},
        "detail": {"type": "string", "description": "What exactly was wrong, e.g. `Host 9999 not found`"},
    },
    "required": ["message", "status"],
    "additionalProperties": False,
}


# What a query parameter means wherever its declaration says nothing more specific.
PARAMETER_DESCRIPTIONS = {
    "active": "Only active (true) or inactive (false) devices",
    "blame": "With details: per variable, the object that set it, who and when",
    "cell_id": "Only objects in this cell",
    "cloud_id": "Only objects in this cloud",
    "descendants": "With parent_id: the whole subtree below the parent, not only its children",
    "details": "Include each object's variables",
    "device_id": "Only interfaces of this device",
    "device_type": "Only devices of this type, e.g. server or switch",
    "id": "Only the object with this id",
    "interface_type": "Only interfaces of this type",
    "ip_address": "Only objects with this IP address",
    "limit": "Page size, 10 to 100 (default 30)",
    "name": "Exact name",
    "network_id": "Only interfaces on this network",
    "parent_id": "Only the children of this device",
    "region_id": "Only objects in this region",
    "resolved-values": "Variables resolved through the parents (nearest level wins per key), or own only",
    "resource_type": "Only changes of this kind of object",
    "sort_dir": "Sort direction: asc or desc",
    "sort_keys": "Fields to sort by, comma-separated (id breaks ties)",
}


def _parameter(name: str, param: Param) -> dict[str, Any]:
    schema = dict(param.as_schema())
    if param.default is not None:
        schema["default"] = param.default
    description = param.description or PARAMETER_DESCRIPTIONS.get(name, "")
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _success(schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return {"description": "Success"}
    return {"description": "Success", "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": "Invalid input: the message names what is wrong",
    "401": "Missing or wrong credentials",
    "403": "The caller's role does not allow this",
    "404": "No such object in the caller's tenancy",
    "409": "Conflicts with an existing object or a reference to it",
    "412": "If-Match no longer matches the object's ETag",
    "413": "Request body too large",
    "429": "Rate limit reached; see Retry-After",
    "503": "The database is unavailable or busy; retry",
}
_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_HEADERS = {
    "ETag": {
        "description": "Version of the object (variables and labels changes move it)",
        "schema": {"type": "string"},
    },
    "Location": {"description": "URL of the created object", "schema": {"type": "string"}},
    "x-openstack-request-id": {"description": "Request id, also in the server log", "schema": {"type": "string"}},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Apply only if the object still has this ETag (412 otherwise)",
}
_REASON = {
    "name": "X-Craton-Change-Reason",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 1000},
    "description": "Why: stored with the change in the history",
}
_PUBLIC = {
    "/healthz": ("Liveness: the process answers", "application/json"),
    "/readyz": ("Readiness: the database is reachable (503 otherwise)", "application/json"),
    "/metrics": ("Prometheus metrics", "text/plain"),
}


def _path_id(path: str) -> dict[str, Any]:
    schema: dict[str, Any] = (
        {"type": "string", "format": "uuid"}
        if path.startswith("/v1/projects/")
        else {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    )
    what = path.split("/")[2].replace("-", " ").rstrip("s")
    return {"name": "id", "in": "path", "required": True, "schema": schema, "description": f"Id of the {what}"}


def _operation(path: str, op: Any) -> dict[str, Any]:
    parameters = [_parameter(name, param) for name, param in op.query.items()]
    if "{id}" in path:
        parameters.insert(0, _path_id(path))
    if op.method in ("PUT", "DELETE", "POST"):
        parameters.append(_REASON)
        if "{id}" in path:
            parameters.append(_IF_MATCH)
    success = _success(op.response)
    success["headers"] = {
        name: header
        for name, header in _HEADERS.items()
        if name == "x-openstack-request-id" or (name == "Location" and op.success == 201) or name == "ETag"
    }
    responses = {str(op.success): success}
    responses.update({str(code): _success(dict(schema)) for code, schema in op.other_responses.items()})
    responses.update({code: {"description": text, "content": _ERROR_REF} for code, text in _ERRORS.items()})
    entry: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "tags": [path.split("/")[2]],
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
        "security": [{"project": [], "user": [], "token": []}],
    }
    if op.body is not None:
        responses["415"] = {"description": "The body was not sent as application/json", "content": _ERROR_REF}
        entry["requestBody"] = {"required": not op.body_optional, "content": {"application/json": {"schema": op.body}}}
    if op.raw_body is not None:
        media = ", ".join(op.raw_body.content)
        responses["415"] = {"description": f"The body was not sent as one of {media}", "content": _ERROR_REF}
        entry["requestBody"] = {
            "required": True,
            "content": {name: dict(item) for name, item in op.raw_body.content.items()},
        }
        if op.raw_body.invalid is not None:
            invalid = {"application/json": {"schema": dict(op.raw_body.invalid)}}
            responses["400"] = {"description": _ERRORS["400"], "content": invalid}
    return entry


def document(api_routes: list[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        path: {
            "get": {
                "operationId": path.strip("/"),
                "tags": ["operations"],
                "summary": summary,
                "security": [],
                "responses": {"200": {"description": summary, "content": {media: {}}}},
            }
        }
        for path, (summary, media) in _PUBLIC.items()
    }
    for route in api_routes:
        operations = getattr(route, "operations", None)
        if operations:
            path = route.path  # type: ignore[attr-defined]
            paths[path] = {op.method.lower(): _operation(path, op) for op in operations}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Craton API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "project": {"type": "apiKey", "in": "header", "name": "X-Auth-Project"},
                "user": {"type": "apiKey", "in": "header", "name": "X-Auth-User"},
                "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
            },
        },
    }


# Swagger UI, served from the swagger-ui-bundle package (no CDN): "Authorize" takes the three
# X-Auth-* headers (the security schemes above) and "Try it out" sends real requests.
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Craton API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
_DOCS_INIT = """window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  persistAuthorization: true, tryItOutEnabled: true});
"""


def routes(api_routes: list[BaseRoute]) -> list[BaseRoute]:
    spec = document(api_routes)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def export_schema(request: Request) -> Response:
        return JSONResponse(fleet.SCHEMA)

    async def docs(request: Request) -> Response:
        return HTMLResponse(_DOCS_PAGE)

    async def docs_init(request: Request) -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")

    return [
        Route("/openapi.json", openapi_json),
        Route("/export-schema.json", export_schema),
        Route("/docs", docs),
        Route("/docs/init.js", docs_init),
        Mount("/docs/static", app=StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui"),
    ]
