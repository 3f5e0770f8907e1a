"""Every error leaves as ``{"message", "status", "detail"?}``; anything unexpected is a logged 500.

``message`` is the original Craton v1 sentence wherever the original had one (clients and
the original functional suite compare it); ``detail``, present when there is more to say,
explains what exactly was wrong.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from craton.domain.errors import CratonError
from craton.http.auth import identify_standalone
from craton.http.jsonio import JSONResponse
from craton.storage.engine import is_transient

log = logging.getLogger("craton.api")

_HTTP_MESSAGES = {
    404: "The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again.",
    405: "The method is not allowed for the requested URL.",
}


def error_body(status: int, message: str, detail: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"message": message, "status": status}
    if detail:
        body["detail"] = detail
    return body


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, detail: str | None = None
) -> Response:
    return JSONResponse(error_body(status, message, detail), status_code=status, headers=headers)


async def craton_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CratonError)
    problems = getattr(exc, "problems", None)
    if problems is not None:  # a refused import document: every problem with its place
        body = error_body(exc.status, exc.message, exc.detail)
        body["errors"] = [{"where": problem.where, "message": problem.message} for problem in problems]
        return JSONResponse(body, status_code=exc.status)
    return error_response(exc.status, exc.message, getattr(exc, "headers", None), exc.detail)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if "principal" not in request.scope.get("state", {}):
        try:
            await identify_standalone(request)
        except CratonError as auth_error:
            return error_response(
                auth_error.status, auth_error.message, getattr(auth_error, "headers", None), auth_error.detail
            )
        except sa.exc.DBAPIError as db_error:  # an unknown URL while the database is down: 503 like the rest
            return await database_error(request, db_error)
    message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, message, headers, _http_detail(exc.status_code, headers))


def _http_detail(status: int, headers: dict[str, str]) -> str | None:
    if status == 404:
        return "No API route has this path; /openapi.json lists them all."
    if status == 405 and headers.get("Allow"):
        return f"This path allows {', '.join(sorted(m.strip() for m in headers['Allow'].split(',')))}."
    return None


async def database_error(request: Request, exc: Exception) -> Response:
    """A database that is down or overloaded is a 503 wherever it is noticed; other database errors are bugs."""
    assert isinstance(exc, sa.exc.DBAPIError)
    if not is_transient(exc):
        return await unexpected_error(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
    return error_response(503, "The database is busy; retry the request.")


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "An unknown exception occurred")


EXCEPTION_HANDLERS = {
    CratonError: craton_error,
    HTTPException: http_error,
    sa.exc.DBAPIError: database_error,
    Exception: unexpected_error,
}
