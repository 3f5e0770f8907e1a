"""/docs is Swagger UI from the swagger-ui-bundle package, served by the API itself (no CDN)."""

from __future__ import annotations

from typing import Any

import httpx


def test_docs_serve_swagger_ui_without_credentials(server: Any) -> None:
    with httpx.Client(base_url=str(server.url), timeout=30) as anonymous:
        page = anonymous.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/docs/static/swagger-ui-bundle.js" in page.text and "//cdn" not in page.text
        bundle = anonymous.get("/docs/static/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
        assert anonymous.get("/docs/static/swagger-ui.css").status_code == 200
        init = anonymous.get("/docs/init.js")
        assert init.status_code == 200 and "'/openapi.json'" in init.text
        schemes = anonymous.get("/openapi.json").json()["components"]["securitySchemes"]
        assert {scheme["name"] for scheme in schemes.values()} == {"X-Auth-Project", "X-Auth-User", "X-Auth-Token"}
