"""The route index picks exactly the route Starlette's linear match picks, for every kind of path."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from starlette.routing import Mount, Route, Router

from craton.app import create_app
from craton.http.routing import IndexedRouter, path_key, route_key
from craton.settings import Settings


def app_routes(tmp_path: Any) -> list[Any]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'routes.sqlite'}"))
    while not hasattr(app, "router"):
        app = app.app  # type: ignore[attr-defined]
    return list(app.router.routes)  # type: ignore[attr-defined]


def sample_paths(routes: list[Any]) -> list[str]:
    paths = {"/", "", "/v1", "/v1/", "/v1/nothing", "/v1/hosts/", "/V1/hosts", "//v1/hosts", "/v1//hosts", "/x/y/z"}
    for route in routes:
        path = route.path
        for value in ("1", "abc", "1/2", ""):
            concrete = path.replace("{id}", value)
            for suffix in ("", "/", "/x", "/variables", "/labels"):
                paths.add(concrete + suffix)
        if isinstance(route, Mount):
            paths.update({path, path + "/", path + "/a/b.js", path + "x"})
    return sorted(paths)


def chosen(router: Router, method: str, path: str) -> tuple[Any, ...]:
    """Which route handles the request (or the 404 default), with its path parameters."""
    picked: list[tuple[Any, ...]] = []

    async def handle(self: Any, scope: Any, receive: Any, send: Any) -> None:
        picked.append((id(self), dict(scope.get("path_params", {})), id(scope.get("route"))))

    async def default(scope: Any, receive: Any, send: Any) -> None:
        picked.append(("default",))

    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}
    with (
        mock.patch.object(Route, "handle", handle),
        mock.patch.object(Mount, "handle", handle),
        mock.patch.object(router, "default", default),
    ):
        running = router.app(scope, None, None)  # type: ignore[arg-type]
        with pytest.raises(StopIteration):  # nothing here waits: one step runs it to the end
            running.send(None)
    assert len(picked) == 1
    return picked[0]


def test_every_path_and_method_reaches_the_route_starlette_would_choose(tmp_path: Any) -> None:
    routes = app_routes(tmp_path)
    plain = Router(routes, redirect_slashes=False)
    indexed = IndexedRouter(routes, redirect_slashes=False)
    checked = 0
    for path in sample_paths(routes):
        for method in ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            assert chosen(indexed, method, path) == chosen(plain, method, path), (method, path)
            checked += 1
    assert checked > 1000


def test_keys() -> None:
    assert route_key(Route("/v1/hosts/{id}/labels", lambda r: None)) == ("v1", "hosts")
    assert route_key(Route("/v1/hosts", lambda r: None)) == ("v1", "hosts")
    assert route_key(Route("/healthz", lambda r: None)) == ("healthz",)
    assert route_key(Route("/v1/{kind}/x", lambda r: None)) is None
    assert route_key(Route("/v1/ho{st}", lambda r: None)) is None
    assert route_key(Mount("/docs/static", app=lambda s, r, se: None)) == ("docs", "static")
    assert route_key(Mount("/ui", app=lambda s, r, se: None)) is None
    assert path_key("/v1/hosts/5/variables") == ("v1", "hosts")
    assert path_key("/healthz") == ("healthz",)
    assert path_key("/") == ("",)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_routes_added_later_are_found(method: str) -> None:
    router = IndexedRouter([Route("/a/b", lambda r: None, methods=["GET"])], redirect_slashes=False)
    assert chosen(router, method, "/c/d") == ("default",)
    router.add_route("/c/d", lambda r: None, methods=["GET", "PUT"])
    assert chosen(router, method, "/c/d")[0] == id(router.routes[1])
