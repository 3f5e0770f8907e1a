"""Prometheus metrics: requests and latencies per route and status, and the DB pool.

With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory) so that ``/metrics`` reports the sum over all of them.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

REQUESTS = Counter("craton_http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram(
    "craton_http_request_duration_seconds",
    "Time from request to the last byte of the response",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
POOL_IN_USE = Gauge("craton_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum")
POOL_SIZE = Gauge("craton_db_pool_size", "Database connections kept open", multiprocess_mode="livesum")


def route_of(scope: Scope) -> str:
    """The route template (``/v1/hosts/{id}``), never the raw path, so labels stay few."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def observe(scope: Scope, status: int, seconds: float) -> None:
    route = route_of(scope)
    REQUESTS.labels(scope["method"], route, str(status)).inc()
    LATENCY.labels(scope["method"], route).observe(seconds)


def _pool_figures(engine: sa.Engine) -> None:
    pool = engine.pool
    if isinstance(pool, sa.pool.QueuePool):
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.size())


async def metrics(request: Request) -> Response:
    _pool_figures(request.app.state.engine)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
