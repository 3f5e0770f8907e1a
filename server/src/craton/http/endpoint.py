"""From an HTTP request to one domain call inside one database transaction.

An :class:`Operation` declares its query parameters and body schema; the
route built here validates both before any permission check or database work
(the original's order), then runs the handler in a worker thread with a
connection whose transaction commits only if the handler returns normally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from craton.domain.errors import CratonError, InvalidInput
from craton.domain.principal import Principal
from craton.http.auth import identify, limits_apply
from craton.http.jsonio import parse_body
from craton.http.validation import Param, check, parse_query
from craton.settings import Settings
from craton.storage.engine import is_transient, run_transaction

log = logging.getLogger("craton.api")
T = TypeVar("T")


class PayloadTooLarge(CratonError):
    status = 413


@dataclass
class Call:
    """Everything a handler may use: validated input, the caller, and the open transaction."""

    request: Request
    principal: Principal
    conn: sa.Connection
    query: dict[str, Any]
    body: Any
    path: dict[str, Any]


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class RawBody:
    """A body the operation reads itself: media types besides JSON, and a size limit of its own.

    ``parse(raw, content_type, settings)`` runs on a worker thread before the transaction
    and hands the handler what it returns as ``Call.body``; a :class:`CratonError` it
    raises is answered once the caller is authenticated, as a schema violation is.
    """

    parse: Callable[[bytes, str, Settings], Any]
    limit: Callable[[Settings], int]
    #: OpenAPI: the media types accepted, each with its schema.
    content: Mapping[str, Mapping[str, Any]]
    #: OpenAPI: the schema of the 400 answer, when it says more than the usual error.
    invalid: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    handler: Handler
    query: Mapping[str, Param] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    body_optional: bool = False
    summary: str = ""
    success: int = 200
    response: Mapping[str, Any] | None = None
    # Other success answers, by status code: their JSON schemas (e.g. a delete's 200 preview).
    other_responses: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    #: A body read and parsed by the operation itself (``body`` stays None then).
    raw_body: RawBody | None = None


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidInput("The client disconnected before sending the whole request body.") from None
    return b"".join(chunks)


def build_route(path: str, operations: list[Operation], name: str | None = None) -> Route:
    by_method = {op.method: op for op in operations}
    if "GET" in by_method:
        by_method.setdefault("HEAD", by_method["GET"])

    async def endpoint(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        engine: sa.Engine = request.app.state.engine
        op = by_method[request.method]
        query: dict[str, Any] = {}
        body = None
        invalid: CratonError | None = None
        try:
            query = parse_query(op.query, request.query_params.multi_items())
            if op.raw_body is not None:
                raw = await read_body(request, op.raw_body.limit(settings))
                content_type = request.headers.get("content-type", "")
                body = await request.app.state.offload(op.raw_body.parse, raw, content_type, settings)
            elif op.body is not None:
                raw = await read_body(request, settings.max_body_bytes)
                body = parse_body(raw, request.headers.get("content-type", ""), settings.max_json_depth)
                if body is None and op.body_optional:
                    body = {}
                check(op.body, body)
        except CratonError as exc:
            invalid = exc  # reported after authentication, as the original pipeline did
        offload = request.app.state.offload
        response = await offload(_run_in_transaction, engine, op.handler, request, query, body, invalid)
        if request.method == "HEAD":
            response.body = b""
        return response

    route = Route(path, endpoint, methods=list(by_method), name=name)
    route.operations = operations  # type: ignore[attr-defined]  # read by the OpenAPI generator
    return route


class DatabaseBusy(CratonError):
    status = 503


def _run_in_transaction(
    engine: sa.Engine,
    handler: Handler,
    request: Request,
    query: dict[str, Any],
    body: Any,
    invalid: CratonError | None,
) -> Response:
    """Run the handler in one transaction; transient database conflicts re-run it from scratch."""
    limited: Principal | None = None
    if limits_apply(request):
        # Authenticate and take a rate-limit token in a short transaction of their own: the
        # bucket's row is locked for a moment, not for the whole request (docs/operations.md).
        limited = answer_busy(engine, True, lambda conn: identify(conn, request))

    def work(conn: sa.Connection) -> Response:
        principal = limited or identify(conn, request)
        if invalid is not None:
            raise invalid
        return handler(Call(request, principal, conn, query, body, dict(request.path_params)))

    return answer_busy(engine, request.method not in ("GET", "HEAD"), work)


def answer_busy(engine: sa.Engine, writes: bool, work: Callable[[sa.Connection], T]) -> T:
    """:func:`run_transaction`, with a transient failure that outlasted the retries as 503."""
    try:
        return run_transaction(engine, writes, work)
    except sa.exc.DBAPIError as error:
        if is_transient(error):
            raise DatabaseBusy("The database is busy; retry the request.") from None
        raise
