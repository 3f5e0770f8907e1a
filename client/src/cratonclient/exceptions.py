"""Every error cratonclient raises, in one tree.

::

    ClientException
    ├── UnableToAuthenticate            no usable credentials
    ├── Timeout                         the server did not answer in time
    ├── CommandError                    the craton CLI refused its arguments
    ├── NoUniqueMatch                   ``find(name)`` matched several objects
    ├── InvalidResponse                 a 2xx answer the client cannot read
    └── HTTPError                       anything that happened on the wire
        ├── ConnectionFailed            no connection, or it dropped without an answer
        ├── HTTPClientError             any 4xx without its own class
        │   ├── BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404,
        │   ├── MethodNotAllowed 405, NotAcceptable 406, ProxyAuthenticationRequired 407,
        │   ├── Conflict 409, Gone 410, LengthRequired 411, PreconditionFailed 412,
        │   ├── RequestEntityTooLarge 413, RequestUriTooLong 414, UnsupportedMediaType 415,
        │   └── RequestedRangeNotSatisfiable 416, UnprocessableEntity 422, TooManyRequests 429
        └── HTTPServerError             any 5xx without its own class
            └── InternalServerError 500, BadGateway 502, ServiceUnavailable 503,
                GatewayTimeout 504

Any other status (an unexpected 1xx or 3xx, say) becomes a plain ``HTTPError``: an unknown
code never crashes the client. Each exception carries ``status_code``, the server's
``message`` (the original Craton sentence, e.g. ``Not Found``), its ``detail`` when the server
says more (``Host 9999 not found``), the ``url`` of the request and the ``request_id`` from
the ``x-openstack-request-id`` header, so a report to an operator can point at the exact
server log line. ``str(error)`` shows ``message: detail (HTTP 404, request req-...)``. When the
server lists several problems (a refused import), ``errors`` holds them, each as
``{"where": ..., "message": ...}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

REQUEST_ID_HEADER = "x-openstack-request-id"
_MAX_TEXT_MESSAGE = 500


class ClientException(Exception):
    """Base of every cratonclient error; catch this to catch them all."""

    #: Fallback text when neither the caller nor the server says anything more useful.
    message: str | None = None
    status_code: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: requests.Response | None = None,
        original_exception: BaseException | None = None,
        exception: BaseException | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        detail: str | None = None,
        url: str | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        self.response = response
        # ``exception=`` is the keyword the original client used; keep both spellings.
        self.original_exception = original_exception or exception
        if status_code is None and response is not None:
            status_code = response.status_code
        if status_code is not None:
            self.status_code = status_code
        if request_id is None and response is not None:
            request_id = response.headers.get(REQUEST_ID_HEADER)
        self.request_id = request_id
        if message is None and response is not None:
            message = server_message(response)
        if detail is None and response is not None:
            detail = server_detail(response)
        if url is None and response is not None and response.request is not None:
            url = response.request.url
        self.message = message or type(self).message or type(self).__name__
        #: The server's explanation beside its ``message``, when it gave one.
        self.detail = detail
        #: The URL of the request that failed, when there was one.
        self.url = url
        #: Every problem the server listed (``POST /v1/import`` lists each problem of a
        #: document as ``{"where": ..., "message": ...}``); empty when it listed none.
        self.errors = errors if errors is not None else (server_errors(response) if response is not None else [])
        super().__init__(self.message)

    @property
    def explanation(self) -> str:
        """``message: detail``, or the message alone when the server said nothing more."""
        message = str(self.message)
        return f"{message}: {self.detail}" if self.detail else message

    def __str__(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        message = self.explanation
        return f"{message} ({', '.join(details)})" if details else message


class UnableToAuthenticate(ClientException):
    message = "No usable credentials: a token (API key or Keystone password) is required."


class Timeout(ClientException):
    message = "The Craton server did not answer in time."


class CommandError(ClientException):
    message = "The command could not be run."


class NoUniqueMatch(ClientException):
    """Several objects have the name given to ``find``; ``candidates`` holds them all."""

    message = "Several objects have this name; give an id instead."

    def __init__(self, message: str | None = None, *, candidates: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.candidates = list(candidates or [])


class InvalidResponse(ClientException):
    message = "The Craton server sent a response the client could not understand."


class HTTPError(ClientException):
    message = "The Craton server answered with an error."


class ConnectionFailed(HTTPError):
    message = "Could not connect to the Craton server."


class HTTPClientError(HTTPError):
    message = "The request was rejected by the Craton server."


class HTTPServerError(HTTPError):
    message = "The Craton server failed to handle the request."


class BadRequest(HTTPClientError):
    status_code = 400
    message = "The request was malformed or invalid."


class Unauthorized(HTTPClientError):
    status_code = 401
    message = "The credentials were missing or not accepted."


class Forbidden(HTTPClientError):
    status_code = 403
    message = "The credentials do not allow this action."


class NotFound(HTTPClientError):
    status_code = 404
    message = "The requested resource was not found."


class MethodNotAllowed(HTTPClientError):
    status_code = 405
    message = "The resource does not support this method."


class NotAcceptable(HTTPClientError):
    status_code = 406
    message = "The server cannot produce an acceptable representation."


class ProxyAuthenticationRequired(HTTPClientError):
    status_code = 407
    message = "A proxy between client and server needs credentials."


class Conflict(HTTPClientError):
    status_code = 409
    message = "The request conflicts with the current state of the resource."


class Gone(HTTPClientError):
    status_code = 410
    message = "The resource is permanently gone."


class LengthRequired(HTTPClientError):
    status_code = 411
    message = "The server requires a Content-Length header."


class PreconditionFailed(HTTPClientError):
    status_code = 412
    message = "A precondition of the request was not met."


class RequestEntityTooLarge(HTTPClientError):
    status_code = 413
    message = "The request body is larger than the server accepts."


class RequestUriTooLong(HTTPClientError):
    status_code = 414
    message = "The request URI is longer than the server accepts."


class UnsupportedMediaType(HTTPClientError):
    status_code = 415
    message = "The server does not accept the request's media type."


class RequestedRangeNotSatisfiable(HTTPClientError):
    status_code = 416
    message = "The requested range cannot be satisfied."


class UnprocessableEntity(HTTPClientError):
    status_code = 422
    message = "The request was well formed but could not be processed."


class TooManyRequests(HTTPClientError):
    status_code = 429
    message = "Too many requests; slow down and try again later."


class InternalServerError(HTTPServerError):
    status_code = 500
    message = "The server hit an internal error it could not recover from."


class BadGateway(HTTPServerError):
    status_code = 502
    message = "A gateway in front of the server got a bad answer from it."


class ServiceUnavailable(HTTPServerError):
    status_code = 503
    message = "The server is temporarily unavailable."


class GatewayTimeout(HTTPServerError):
    status_code = 504
    message = "A gateway in front of the server timed out waiting for it."


# The one status -> class table, derived from the classes above so a code lives in one place.
_BY_STATUS: dict[int, type[HTTPError]] = {
    cls.status_code: cls
    for base in (HTTPClientError, HTTPServerError)
    for cls in base.__subclasses__()
    if cls.status_code is not None
}


def error_class_for(status: int) -> type[HTTPError]:
    """Pick the most specific class for ``status``; unknown codes fall back to a base class."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return HTTPClientError
    if 500 <= status < 600:
        return HTTPServerError
    return HTTPError


def error_from(response: requests.Response) -> HTTPError:
    """Turn an error response into the matching exception (returned, not raised)."""
    return error_class_for(response.status_code)(response=response)


def server_message(response: requests.Response) -> str | None:
    """The server's own explanation: ``message`` of the JSON error body, else its text."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    text = (response.text or "").strip()
    if text:
        return text[:_MAX_TEXT_MESSAGE]
    return response.reason or None


def server_errors(response: requests.Response) -> list[dict[str, str]]:
    """The ``errors`` list of a JSON error body, each problem as ``{"where", "message"}``."""
    try:
        body = response.json()
    except ValueError:
        return []
    found = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(found, list):
        return []
    return [
        {"where": str(item.get("where", "")), "message": str(item.get("message", ""))}
        for item in found
        if isinstance(item, dict)
    ]


def server_detail(response: requests.Response) -> str | None:
    """The ``detail`` of a JSON error body: what exactly was wrong, when the server says."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"]:
        return str(body["detail"])
    return None


__all__ = [
    "REQUEST_ID_HEADER",
    "BadGateway",
    "BadRequest",
    "ClientException",
    "CommandError",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "GatewayTimeout",
    "Gone",
    "HTTPClientError",
    "HTTPError",
    "HTTPServerError",
    "InternalServerError",
    "InvalidResponse",
    "LengthRequired",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PreconditionFailed",
    "ProxyAuthenticationRequired",
    "RequestEntityTooLarge",
    "RequestUriTooLong",
    "RequestedRangeNotSatisfiable",
    "ServiceUnavailable",
    "Timeout",
    "TooManyRequests",
    "UnableToAuthenticate",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "error_class_for",
    "error_from",
    "server_detail",
    "server_errors",
    "server_message",
]
