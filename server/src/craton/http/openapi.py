"""The OpenAPI document, generated from the same schemas that validate requests."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from craton import __version__
from craton.http.jsonio import JSONResponse
from craton.http.validation import Param

_ERROR = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["message", "status"],
}


def _parameter(name: str, param: Param) -> dict[str, Any]:
    schema = dict(param.as_schema())
    if param.default is not None:
        schema["default"] = param.default
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": param.description}


def _success(schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return {"description": "Success"}
    return {"description": "Success", "content": {"application/json": {"schema": schema}}}


def document(api_routes: list[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in api_routes:
        operations = getattr(route, "operations", None)
        if not operations:
            continue
        item: dict[str, Any] = {}
        for op in operations:
            parameters = [_parameter(name, param) for name, param in op.query.items()]
            if "{id}" in route.path:  # type: ignore[attr-defined]
                parameters.insert(0, {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}})
            entry: dict[str, Any] = {
                "summary": op.summary,
                "parameters": parameters,
                "responses": {
                    str(op.success): _success(op.response),
                    "default": {
                        "description": "Error",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                },
                "security": [{"craton": []}],
            }
            if op.body is not None:
                entry["requestBody"] = {
                    "required": not op.body_optional,
                    "content": {"application/json": {"schema": op.body}},
                }
            item[op.method.lower()] = entry
        paths[route.path] = item  # type: ignore[attr-defined]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Craton API", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "craton": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Auth-Token",
                    "description": "Also send X-Auth-Project and X-Auth-User.",
                }
            }
        },
    }


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Craton API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}
code{background:#f3f3f3;padding:0 .2rem}details{margin:.3rem 0}summary{cursor:pointer}
.m{display:inline-block;width:4.5rem;font-weight:bold}</style></head>
<body><h1>Craton API</h1>
<p>The machine-readable description is <a href="/openapi.json">/openapi.json</a>.
Authenticate with the <code>X-Auth-Project</code>, <code>X-Auth-User</code> and <code>X-Auth-Token</code> headers.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const box = document.getElementById('ops'); box.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      s.innerHTML = '<span class="m"></span><code></code> ';
      s.children[0].textContent = method.toUpperCase(); s.children[1].textContent = path;
      s.append(op.summary || '');
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify({parameters: op.parameters, requestBody: op.requestBody}, null, 2);
      d.append(s, pre); box.append(d);
    }
  }
});
</script></body></html>
"""


def routes(api_routes: list[BaseRoute]) -> list[BaseRoute]:
    spec = document(api_routes)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def docs(request: Request) -> Response:
        return HTMLResponse(_DOCS_PAGE)

    return [Route("/openapi.json", openapi_json), Route("/docs", docs)]
