"""Prometheus metrics: requests and latencies per route and status, and the DB pool.

With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory) so that ``/metrics`` reports the sum over all of them. ``craton-api``
empties it at start, and the live gauges of workers that died (killed, OOM) are
dropped with prometheus_client's ``mark_process_dead`` when a worker starts and
before every scrape, so the pool gauges count only living workers.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

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

from craton.domain.events import backlog

REQUESTS = Counter("craton_http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram(
    "craton_http_request_duration_seconds",
    "Time from request to the last byte of the response",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
POOL_IN_USE = Gauge("craton_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum")
POOL_SIZE = Gauge("craton_db_pool_size", "Database connections kept open", multiprocess_mode="livesum")
# Set by every worker's outbox watch (domain/events/backlog.py) once a minute; workers read the
# same table, so the largest living reading is the answer.
OUTBOX_OLDEST = Gauge(
    "craton_events_outbox_oldest_seconds",
    "Seconds the oldest change waiting for the event pump has waited (0: none)",
    multiprocess_mode="livemax",
)
backlog.REPORTERS.append(OUTBOX_OLDEST.set)


def route_of(scope: Scope) -> str:
    """The route template (``/v1/hosts/{id}``), never the raw path, so labels stay few."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


#: The labelled counter and histogram of each (method, route, status) seen: ``labels()`` takes a lock
#: and rebuilds its key on every call; these children are the same objects it would return.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(scope: Scope, status: int, seconds: float) -> None:
    key = (scope["method"], route_of(scope), status)
    children = _CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(key[0], key[1], str(status)), LATENCY.labels(key[0], key[1]))
        _CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def pool_figures(engine: sa.Engine) -> None:
    """Set at start and refreshed at each scrape, so every living worker reports its pool."""
    pool = engine.pool
    if isinstance(pool, sa.pool.QueuePool):
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.size())


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def _is_live_sibling(pid: int) -> bool:
    """Is ``pid`` this process, or a running worker of the same supervisor?

    A pid whose process is gone, is a zombie waiting for its parent, or was reused by some
    other process (another parent) no longer speaks for a worker.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not one of ours
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc (not Linux): the signal check is all there is
    state, parent = fields[0], int(fields[1])
    return state != "Z" and parent == os.getppid()


def forget_dead_workers(directory: str | None = None) -> list[int]:
    """Drop the live gauges of worker processes that are gone; returns their pids."""
    directory = directory or os.environ.get(MULTIPROC_ENV)
    if not directory:
        return []
    dead = set()
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(directory):
            match = _LIVE_GAUGE_FILE.match(name)
            if match and not _is_live_sibling(int(match.group(1))):
                dead.add(int(match.group(1)))
    for pid in sorted(dead):
        multiprocess.mark_process_dead(pid, directory)
    return sorted(dead)


def clear_directory(directory: str | None = None) -> None:
    """Empty the multiprocess directory at start: files of an earlier run describe no living process."""
    directory = directory or os.environ.get(MULTIPROC_ENV)
    if directory and os.path.isdir(directory):
        for path in Path(directory).glob("*.db"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


async def metrics(request: Request) -> Response:
    pool_figures(request.app.state.engine)
    watch: backlog.Watch | None = getattr(request.app.state, "outbox_watch", None)
    if watch is not None and watch.latest is not None:  # this app's own reading, when several share a process
        OUTBOX_OLDEST.set(watch.latest.oldest_seconds)
    if os.environ.get(MULTIPROC_ENV):
        forget_dead_workers()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
