"""Signing in with the same credentials as the API, and signing out."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from craton.domain import ratelimits, sessions
from craton.domain.errors import CratonError, NotAuthenticated
from craton.domain.ratelimits import RateLimited
from craton.domain.users import authenticate
from craton.http.endpoint import answer_busy
from craton.ui.pipeline import COOKIE, read_form, render

SESSION_LIFETIME = dt.timedelta(hours=12)


def _safe_next(target: str | None) -> str:
    """Only places inside the UI: an absolute or protocol-relative URL would be an open redirect."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/"


async def login_form(request: Request) -> Response:
    return render(request, "login.html", next=_safe_next(request.query_params.get("next")), error=None, form={})


async def login(request: Request) -> Response:
    form = await read_form(request)
    project_id = form.get("project_id", "").strip()
    username = form.get("username", "").strip()
    api_key = form.get("api_key", "")
    target = _safe_next(form.get("next"))
    client = request.client.host if request.client else "-"

    def attempt(conn: sa.Connection) -> None:
        ratelimits.take_sign_in_attempt(conn, client, project_id, username)

    def work(conn: sa.Connection) -> str:
        principal = authenticate(conn, project_id, username, api_key)
        token, _session = sessions.start(conn, principal, SESSION_LIFETIME)
        return token

    def failed(status: int, message: str) -> Response:
        shown = {"project_id": project_id, "username": username}
        return render(request, "login.html", status, next=target, error=message, form=shown)

    run = request.app.state.offload
    engine = request.app.state.engine
    try:
        await run(answer_busy, engine, True, attempt)  # its own transaction: failures count too
        token = await run(answer_busy, engine, True, work)
    except RateLimited as exc:
        return failed(429, f"Too many sign-in attempts; retry after {exc.headers['Retry-After']} s.")
    except NotAuthenticated:
        return failed(401, "The project ID, username or API key is not right.")
    except CratonError as exc:
        return failed(exc.status, exc.message)
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
