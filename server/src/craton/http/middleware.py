"""ASGI middleware: request ids and the access log, outermost so errors get them too."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from craton.http import metrics
from craton.http.errors import error_response
from craton.logs import REQUEST_ID, printable

access_log = logging.getLogger("craton.access")
REQUEST_ID_HEADER = "x-openstack-request-id"


def logged_path(scope: Scope) -> str:
    """The path as the client sent it, still percent-encoded (``%0a`` stays ``%0a``, a space ``%20``),
    without the query string; escaped in case a server hands over raw control characters."""
    raw = scope.get("raw_path")
    return printable(raw.decode("latin-1") if raw else scope["path"])


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
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Starlette has already answered 500 (and logged it) when the response started;
            # swallowing the re-raise keeps the connection usable and the log to one entry.
            if not response_started:
                access_log.exception("unhandled error before the response started")
                await error_response(500, "An unknown exception occurred")(scope, receive, send_with_id)
        finally:
            metrics.observe(scope, status, time.perf_counter() - started)
            if self.log_requests:
                principal = scope.get("state", {}).get("principal")
                # Escaped here as well as by the text formatter: these values come from the client
                # (a path with %0a, a user name with a line break) and must stay on one line
                # whatever handler an operator attaches.
                access_log.info(
                    "%s %s %d %.1fms user=%s project=%s",
                    printable(scope["method"]),
                    logged_path(scope),
                    status,
                    (time.perf_counter() - started) * 1000,
                    printable(principal.username) if principal else "-",
                    printable(str(principal.project_id)) if principal else "-",
                )
            REQUEST_ID.reset(token)
