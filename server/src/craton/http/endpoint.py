"""From an HTTP request to one domain call inside one database transaction.

An :class:`Operation` declares its query parameters and body schema; the
route built here validates both before any permission check or database work
(the original's order), then runs the handler in a worker thread with a
connection whose transaction commits only if the handler returns normally.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from craton.domain.errors import CratonError, InvalidInput
from craton.domain.principal import Principal
from craton.http.auth import identify, limits_apply
from craton.http.jsonio import parse_body
from craton.http.offload import Offload
from craton.http.validation import Param, check, parse_query
from craton.settings import Settings
from craton.storage.engine import ATTEMPTS, is_transient, run_transaction, transaction

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
    #: What the operation's ``prepare`` returned (None without one).
    prepared: Any = None


@dataclass
class Streamed:
    """A handler's answer that is written while it is still being read from the database.

    Returned by the handler of an ``Operation(streams=True)``. ``chunks`` runs in the
    request's transaction, which sees one snapshot of the database and stays open until
    the last chunk is sent or the client hangs up. Errors a handler can foresee (403,
    404...) must be raised by the handler itself, before it returns; the first chunk is
    also read before the status line is sent, so that its failure is still an error answer.
    """

    chunks: Iterator[bytes]
    media_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


#: A handler answers a Response; that of an ``Operation(streams=True)`` may answer a Streamed.
Handler = Callable[[Call], "Response | Streamed"]


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
    # The handler may return a Streamed answer (a GET without a body only).
    streams: bool = False
    #: Slow work outside the database that the handler needs (a webhook URL's DNS lookup):
    #: ``prepare(request, principal, body)`` runs once the caller is authenticated (in a short
    #: transaction of its own) and the input is valid, before the request's transaction opens,
    #: so a slow lookup holds no transaction and no lock (SQLite's write lock); its answer is
    #: ``Call.prepared``. Errors it foresees belong in that answer, for the handler to raise
    #: where it always did (after its own permission checks).
    prepare: Callable[[Request, Principal, Any], Any] | None = None


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
            # Most writes come without a query string: no parsing of an empty one.
            items = request.query_params.multi_items() if request.scope["query_string"] else []
            query = parse_query(op.query, items)
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
        if op.streams:
            return await _streamed(offload, engine, op.handler, request, query, invalid)
        response = await offload(_run_in_transaction, engine, op, request, query, body, invalid)
        if request.method == "HEAD":
            response.body = b""
        return response

    route = Route(path, _Endpoint(endpoint), methods=list(by_method), name=name)
    route.operations = operations  # type: ignore[attr-defined]  # read by the OpenAPI generator
    return route


class _Endpoint:
    """The ASGI app of a route: Starlette's ``request_response`` without its second exception wrapper.

    ``request_response`` wraps every endpoint in the same exception handlers that the
    application's ExceptionMiddleware already runs around the router (and so wraps ``send``
    once more); an error raised here reaches those handlers one layer further out, with the
    same scope, and gets the same answer.
    """

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


class DatabaseBusy(CratonError):
    status = 503


def _run_in_transaction(
    engine: sa.Engine,
    op: Operation,
    request: Request,
    query: dict[str, Any],
    body: Any,
    invalid: CratonError | None,
) -> Response:
    """Run the handler in one transaction; transient database conflicts re-run it from scratch."""
    handler = op.handler
    limited: Principal | None = None
    if limits_apply(request) or op.prepare is not None:
        # Authenticate and take a rate-limit token in a short transaction of their own: the
        # bucket's row is locked for a moment, not for the whole request (docs/operations.md);
        # and before ``prepare``, which runs outside any transaction.
        limited = answer_busy(engine, limits_apply(request), lambda conn: identify(conn, request))
    prepared = None
    if op.prepare is not None and limited is not None and invalid is None:
        prepared = op.prepare(request, limited, body)

    def work(conn: sa.Connection) -> Response:
        principal = limited or identify(conn, request)
        if invalid is not None:
            raise invalid
        call = Call(request, principal, conn, query, body, dict(request.path_params), prepared)
        answer = handler(call)
        if not isinstance(answer, Response):
            raise TypeError(f"{handler.__qualname__} answered {type(answer).__name__} without Operation(streams=True)")
        return answer

    return answer_busy(engine, request.method not in ("GET", "HEAD"), work)


class _OpenStream:
    """A :class:`Streamed` answer and the transaction its chunks are read in.

    Chunks are read on the offload pool, one call at a time under a lock; :meth:`close`
    (also on the pool) waits for a read in flight, then ends the transaction.
    """

    def __init__(self, streamed: Streamed, first: bytes | None, transaction: contextlib.ExitStack) -> None:
        self.streamed = streamed
        self._first = first
        self._transaction: contextlib.ExitStack | None = transaction
        self._lock = threading.Lock()

    def read(self) -> bytes | None:
        """The next chunk, or None at the end (the transaction is then over)."""
        with self._lock:
            if self._transaction is None:
                return None
            if self._first is not None:
                chunk, self._first = self._first, None
                return chunk
            try:
                return next(self.streamed.chunks)
            except StopIteration:
                self._close()
                return None
            except BaseException:
                self._close()
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._transaction is not None:
            getattr(self.streamed.chunks, "close", lambda: None)()
            self._transaction.close()
            self._transaction = None


async def _streamed(
    offload: Offload,
    engine: sa.Engine,
    handler: Handler,
    request: Request,
    query: dict[str, Any],
    invalid: CratonError | None,
) -> Response:
    opened = await offload(_open_stream, engine, handler, request, query, invalid)
    if isinstance(opened, Response):
        return opened
    answer = opened.streamed
    if request.method == "HEAD":
        await offload(opened.close)
        return Response(b"", media_type=answer.media_type, headers=dict(answer.headers))

    async def body() -> AsyncIterator[bytes]:
        try:
            while (chunk := await offload(opened.read)) is not None:
                yield chunk
        finally:
            # Also when the client hung up mid-way: a read may still be running on the pool.
            offload.submit(opened.close)

    return StreamingResponse(body(), media_type=answer.media_type, headers=dict(answer.headers))


def _open_stream(
    engine: sa.Engine, handler: Handler, request: Request, query: dict[str, Any], invalid: CratonError | None
) -> Response | _OpenStream:
    """Run the handler in a snapshot transaction that stays open when it returns a :class:`Streamed`."""
    limited: Principal | None = None
    if limits_apply(request):
        limited = answer_busy(engine, True, lambda conn: identify(conn, request))
    for attempt in range(1, ATTEMPTS + 1):
        stack = contextlib.ExitStack()
        try:
            conn = stack.enter_context(transaction(engine, False, snapshot=True))
            principal = limited or identify(conn, request)
            if invalid is not None:
                raise invalid
            answer = handler(Call(request, principal, conn, query, None, dict(request.path_params)))
            if not isinstance(answer, Streamed):
                stack.close()
                return answer
            return _OpenStream(answer, next(answer.chunks, None), stack)
        except BaseException as error:
            stack.__exit__(type(error), error, error.__traceback__)
            if not (isinstance(error, sa.exc.DBAPIError) and is_transient(error)):
                raise
            if attempt == ATTEMPTS:
                raise DatabaseBusy("The database is busy; retry the request.") from None
            log.warning("transient database error (attempt %d of %d): %s", attempt, ATTEMPTS, type(error.orig).__name__)
            time.sleep(0.05 * attempt * (1 + random.random()))
    raise AssertionError("unreachable: the last attempt returns or raises")


def answer_busy(engine: sa.Engine, writes: bool, work: Callable[[sa.Connection], T]) -> T:
    """:func:`run_transaction`, with a transient failure that outlasted the retries as 503."""
    try:
        return run_transaction(engine, writes, work)
    except sa.exc.DBAPIError as error:
        if is_transient(error):
            raise DatabaseBusy("The database is busy; retry the request.") from None
        raise
