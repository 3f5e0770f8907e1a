"""Who is calling: the seam between HTTP headers and an authentication strategy.

Authentication shares the handler's worker thread and database transaction,
so an authenticated request costs one thread hand-off and one connection.
The original pipeline authenticated before anything else; that order is kept:
a validation error is only reported once the caller is known, and unknown URLs
(404/405) authenticate first too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sqlalchemy as sa
from starlette.datastructures import Headers
from starlette.requests import Request

from craton.domain.principal import Principal
from craton.domain.users import authenticate
from craton.settings import Settings
from craton.storage.engine import transaction

Authenticator = Callable[[sa.Connection, Headers], Principal]
REASON_HEADER = "x-craton-change-reason"


def local_keys(conn: sa.Connection, headers: Headers) -> Principal:
    """Craton's own API keys: X-Auth-Project, X-Auth-User, X-Auth-Token."""
    return authenticate(conn, headers.get("x-auth-project"), headers.get("x-auth-user"), headers.get("x-auth-token"))


def _utf8(value: str | None) -> str | None:
    """Header values arrive decoded as Latin-1; clients send UTF-8."""
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def authenticator_for(settings: Settings) -> Authenticator:
    """The authenticator ``[api] auth_strategy`` selects: local keys, or Keystone tokens."""
    if settings.auth_strategy == "keystone":
        # Imported only in Keystone mode: keystonemiddleware is the optional ``keystone`` extra.
        from craton.http.keystone import keystone_authenticator

        return keystone_authenticator(settings)
    return local_keys


def identify(conn: sa.Connection, request: Request) -> Principal:
    """Authenticate ``request`` on ``conn`` and remember the caller for the access log."""
    principal: Principal = request.app.state.authenticator(conn, request.headers)
    principal = dataclasses.replace(
        principal,
        request_id=request.scope.get("state", {}).get("request_id"),
        reason=_utf8(request.headers.get(REASON_HEADER)),
        record_history=request.app.state.settings.history_enabled,
        queue_events=request.app.state.settings.events_queue,
    )
    request.scope.setdefault("state", {})["principal"] = principal
    limiter = request.app.state.rate_limiter
    if limiter is not None:
        limiter.check(conn, principal)
    return principal


def limits_apply(request: Request) -> bool:
    return request.app.state.rate_limiter is not None


async def identify_standalone(request: Request) -> Principal:
    """For requests that reach no endpoint (404, 405): authenticate in its own transaction."""

    def run() -> Principal:
        with transaction(request.app.state.engine, writes=limits_apply(request)) as conn:
            return identify(conn, request)

    return await request.app.state.offload(run)
