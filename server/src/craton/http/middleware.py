"""ASGI middleware: request ids and access log (outermost), then authentication.

Authentication runs before routing, so an unauthenticated request to an
unknown URL is a 401, as in the original pipeline.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from craton.domain.errors import CratonError
from craton.domain.principal import Principal
from craton.http.errors import error_response

access_log = logging.getLogger("craton.access")
REQUEST_ID_HEADER = "x-openstack-request-id"

Authenticator = Callable[[Headers], Principal]


class RequestContext:
    """Give every response an ``x-openstack-request-id`` and log one line per request."""

    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log_requests:
                principal = scope.get("state", {}).get("principal")
                access_log.info(
                    "%s %s %s %d %.1fms user=%s project=%s",
                    request_id,
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                    principal.username if principal else "-",
                    principal.project_id if principal else "-",
                )


class Authentication:
    """Resolve the caller before routing; public paths (health, docs) skip it."""

    def __init__(self, app: ASGIApp, authenticate: Authenticator, public_paths: frozenset[str]) -> None:
        self.app = app
        self.authenticate = authenticate
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public_paths:
            await self.app(scope, receive, send)
            return
        try:
            principal = await run_in_threadpool(self.authenticate, Headers(scope=scope))
        except CratonError as exc:
            await error_response(exc.status, exc.message)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
