"""Every error leaves as ``{"message": ..., "status": ...}``; anything unexpected is a logged 500."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from craton.domain.errors import CratonError
from craton.http.auth import identify_standalone
from craton.http.jsonio import JSONResponse

log = logging.getLogger("craton.api")

_HTTP_MESSAGES = {
    404: "The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again.",
    405: "The method is not allowed for the requested URL.",
}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"message": message, "status": status}, status_code=status, headers=headers)


async def craton_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CratonError)
    return error_response(exc.status, exc.message, getattr(exc, "headers", None))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if "principal" not in request.scope.get("state", {}):
        try:
            await identify_standalone(request)
        except CratonError as auth_error:
            return error_response(auth_error.status, auth_error.message)
    message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    return error_response(exc.status_code, message, dict(exc.headers or {}))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "An unknown exception occurred")


EXCEPTION_HANDLERS = {CratonError: craton_error, HTTPException: http_error, Exception: unexpected_error}
