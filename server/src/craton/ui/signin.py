"""Signing in with the same credentials as the API, and signing out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from craton.domain import ratelimits, sessions
from craton.domain.errors import CratonError, NotAuthenticated
from craton.domain.principal import Principal
from craton.domain.ratelimits import RateLimited
from craton.domain.users import authenticate
from craton.http.endpoint import answer_busy
from craton.ui.pipeline import COOKIE, read_form, render

SESSION_LIFETIME = dt.timedelta(hours=12)
BAD_KEY = "The project ID, username or API key is not right."


def _safe_next(target: str | None) -> str:
    """Only places inside the UI: an absolute or protocol-relative URL would be an open redirect."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/"


def _keystone(request: Request) -> bool:
    return bool(request.app.state.settings.auth_strategy == "keystone")


async def login_form(request: Request) -> Response:
    target = _safe_next(request.query_params.get("next"))
    return render(request, "login.html", next=target, error=None, form={}, keystone=_keystone(request))


def _opener(request: Request, form: dict[str, str]) -> Callable[[sa.Connection], tuple[Principal, Any]]:
    """How this deployment checks who signs in: Craton's API keys, or Keystone (token or password)."""
    if not _keystone(request):

        def local(conn: sa.Connection) -> tuple[Principal, Any]:
            return authenticate(
                conn, form.get("project_id", "").strip(), form.get("username", "").strip(), form.get("api_key", "")
            ), None

        return local
    keystone = request.app.state.authenticator

    def with_keystone(conn: sa.Connection) -> tuple[Principal, Any]:
        token = form.get("token", "").strip()
        if not token:
            token = keystone.password_token(
                form.get("username", "").strip(),
                form.get("password", ""),
                form.get("project_name", "").strip(),
                form.get("domain", "").strip() or "Default",
            )
        principal, expires = keystone.with_expiry(conn, token)
        return principal, expires

    return with_keystone


async def login(request: Request) -> Response:
    form = await read_form(request)
    project = (form.get("project_id") or form.get("project_name") or "").strip()
    username = form.get("username", "").strip()
    target = _safe_next(form.get("next"))
    client = request.client.host if request.client else "-"
    opener = _opener(request, form)

    def failure(conn: sa.Connection) -> None:
        ratelimits.count_failed_sign_in(conn, client, project, username)

    def work(conn: sa.Connection) -> str:
        ratelimits.check_sign_in_allowed(conn, client, project, username)
        principal, token_expires = opener(conn)
        token, _session = sessions.start(conn, principal, SESSION_LIFETIME, token_expires)
        return token

    def failed(status: int, message: str) -> Response:
        shown = {key: form.get(key, "") for key in ("project_id", "username", "project_name", "domain")}
        return render(
            request, "login.html", status, next=target, error=message, form=shown, keystone=_keystone(request)
        )

    run = request.app.state.offload
    engine = request.app.state.engine
    try:
        token = await run(answer_busy, engine, True, work)
    except RateLimited as exc:
        return failed(429, f"Too many failed sign-ins; retry after {exc.headers['Retry-After']} s.")
    except NotAuthenticated:
        try:  # in its own transaction: the failed attempt's has been rolled back
            await run(answer_busy, engine, True, failure)
        except RateLimited as exc:
            return failed(429, f"Too many failed sign-ins; retry after {exc.headers['Retry-After']} s.")
        return failed(401, "These credentials are not right." if _keystone(request) else BAD_KEY)
    except CratonError as exc:
        return failed(exc.status, str(exc))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    """Ends the session in the database, so the cookie is worthless even if it was copied."""
    form = await read_form(request)
    token = request.cookies.get(COOKIE)

    def work(conn: sa.Connection) -> None:
        try:
            session = sessions.resume(conn, token)
        except NotAuthenticated:
            return
        if sessions.csrf_matches(session, form.get("csrf_token")):
            sessions.end(conn, token)

    await request.app.state.offload(answer_busy, request.app.state.engine, True, work)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response
