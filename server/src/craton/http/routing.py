"""Starlette's router with an index in front of its linear match.

Starlette tries every route's pattern in order until one matches: about 35 regular
expressions for a request to ``/v1/hosts/<id>/variables``. :class:`IndexedRouter` keys
each route by the literal path segments its pattern starts with, and tries only the routes
whose key the request's first two segments name, plus the routes it cannot key (a parameter
in the first two segments, a mount at a one-segment path), in their original order. A route left out could not
have matched, so the first full match, the 405 of a partial match (path found, method not
allowed), path parameters and ``scope["route"]`` are exactly Starlette's; URL building and
the OpenAPI document still read ``router.routes`` as before.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

#: How many leading path segments key the index (``/v1/hosts``).
DEPTH = 2


def route_key(route: BaseRoute) -> tuple[str, ...] | None:
    """The leading segments every path this route matches must have, or None if it has no such key.

    A pattern's text before its first ``{parameter}`` is matched literally from the start of
    the path; its complete segments (those followed by ``/``) are a fixed prefix. A pattern
    without parameters matches one path only, so all its segments count.
    """
    if type(route) is Route:
        pattern = route.path
    elif type(route) is Mount:
        pattern = route.path + "/{path:path}"  # what Mount compiles: everything under its path
    else:  # hosts, websockets, subclasses: always tried
        return None
    literal, brace, _ = pattern.partition("{")
    segments = literal.split("/")[1:]
    if brace:
        segments = segments[:-1]  # the text just before the parameter is only part of a segment
        if len(segments) < DEPTH:
            return None
    return tuple(segments[:DEPTH])


def path_key(path: str) -> tuple[str, ...]:
    """The key a request path is looked up with: its first ``DEPTH`` segments."""
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


class IndexedRouter(Router):
    """A :class:`Router` that tries only the routes that can match the path's first segments.

    The index is rebuilt when ``routes`` is replaced or grows (``add_route``, ``mount``).
    """

    _indexed: list[BaseRoute] | None = None
    _indexed_length = -1
    _by_key: dict[tuple[str, ...], list[BaseRoute]]
    _unkeyed: list[BaseRoute]

    def _candidates(self, key: tuple[str, ...]) -> list[BaseRoute]:
        if self._indexed is not self.routes or self._indexed_length != len(self.routes):
            keys = [route_key(route) for route in self.routes]
            self._by_key = {
                wanted: [route for route, its in zip(self.routes, keys, strict=True) if its is None or its == wanted]
                for wanted in set(keys)
                if wanted is not None
            }
            self._unkeyed = [route for route, its in zip(self.routes, keys, strict=True) if its is None]
            self._indexed, self._indexed_length = self.routes, len(self.routes)
        return self._by_key.get(key, self._unkeyed)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's ``Router.app`` over the candidate routes; lifespan and websockets go to it unchanged."""
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        partial = None
        partial_scope: Scope = {}
        for route in self._candidates(path_key(get_route_path(scope))):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial = route
                partial_scope = child_scope
        if partial is not None:
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        if self.redirect_slashes:
            await super().app(scope, receive, send)  # Starlette's slash redirect looks at every route
            return
        await self.default(scope, receive, send)
