"""Absolute URLs in responses (``Location``, pagination and ``up`` links) and which ``Host`` to trust.

By default links are built from the request, ``Host`` header included, which is right for a
client talking to the service directly. A client can put anything in ``Host``, though, and a
cache or proxy in front may keep the answer for others: in a deployment set ``public_url``
(the address clients use, e.g. ``https://craton.example.net``) so that no header reaches a link,
and/or ``allowed_hosts`` so that requests for other host names are refused (docs/deployment.md).
"""

from __future__ import annotations

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from craton.http.errors import error_response


def base_url(request: Request) -> str:
    """Scheme, host and prefix that links start with, without a trailing slash."""
    public: str = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    return str(request.base_url).rstrip("/")


def path_url(request: Request, query: str = "") -> str:
    """The URL of the current request's path (and ``query``) under :func:`base_url`."""
    prefix = request.base_url.path.rstrip("/")
    path = request.url.path.removeprefix(prefix)
    return f"{base_url(request)}{path}" + (f"?{query}" if query else "")


# Probes and scrapes come by IP address (Kubernetes, Prometheus) and echo nothing.
UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_PASSED = "craton.trusted_host"


class TrustedHosts:
    """Starlette's TrustedHostMiddleware, answering a refused host with the JSON error body."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts=allowed_hosts, www_redirect=False)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNCHECKED_PATHS:
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_or_hold(message: Message) -> None:
            nonlocal refused
            if scope.get(_PASSED):
                await send(message)
            else:
                refused = True  # Starlette's plain-text refusal: replaced by the JSON error below

        await self.check(scope, receive, send_or_hold)
        if refused:
            message = "The Host header names a host this service does not answer for (see allowed_hosts)."
            await error_response(400, message)(scope, receive, send)


def allowed_hosts(setting: str) -> list[str]:
    return [host.strip() for host in setting.split(",") if host.strip()] or ["*"]
