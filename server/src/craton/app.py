"""Application factory: routes, middleware and error handlers around one engine."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from craton import logs
from craton.domain.events import backlog, runner
from craton.http import metrics, openapi
from craton.http.auth import authenticator_for
from craton.http.errors import EXCEPTION_HANDLERS, error_response
from craton.http.jsonio import JSONResponse
from craton.http.middleware import RequestContext
from craton.http.offload import Offload
from craton.http.ratelimit import SharedRateLimiter
from craton.http.routes import api_routes
from craton.http.routing import IndexedRouter
from craton.http.urls import TrustedHosts, allowed_hosts
from craton.settings import Settings, load_settings
from craton.storage.engine import create_engine
from craton.ui import routes as ui_routes

log = logging.getLogger("craton.api")

API_ROUTES: list[BaseRoute] = api_routes()


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    def ping() -> None:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await request.app.state.offload(ping)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return error_response(503, "The database is not reachable.")
    # A stale event backlog does not make the service unready (requests are served), but says so.
    watch: backlog.Watch | None = getattr(request.app.state, "outbox_watch", None)
    hint = watch.hint() if watch is not None else None
    return JSONResponse({"status": "ready", "warnings": [hint]} if hint else {"status": "ready"})


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None) -> ASGIApp:
    """The whole service as an ASGI app; the engine is disposed when the app shuts down."""
    settings = settings or load_settings()
    engine = engine or create_engine(settings.database_url, settings.db_pool_size, settings.db_max_overflow)
    metrics.pool_figures(engine)  # every living worker reports its pool from the start

    offload = Offload(settings.threads)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Background jobs (the event pump, webhook delivery and pruning): one loop in one thread per
        # worker; the pump's lease and the deliveries' claims keep workers from doing the same work.
        # The loop gets its own small pool, so it never takes a connection a request waits for.
        # It always runs: with the pump and delivery elsewhere it still watches the outbox.
        jobs = runner.jobs(settings, pump_events=settings.events_enabled)
        app.state.outbox_watch = runner.outbox_watch(jobs)
        jobs_engine = create_engine(settings.database_url, pool_size=1, max_overflow=1)
        thread, stop = runner.start_thread(jobs_engine, settings.events_interval, jobs)
        yield
        stop.set()
        thread.join(timeout=settings.webhooks_timeout_seconds + 30)
        jobs_engine.dispose()
        offload.shutdown()
        engine.dispose()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.metrics),
        *openapi.routes(API_ROUTES),
        *API_ROUTES,
        *ui_routes.ROUTES,
    ]
    app = Starlette(exception_handlers=EXCEPTION_HANDLERS)
    app.router = IndexedRouter(routes, redirect_slashes=False, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.offload = offload
    app.state.authenticator = authenticator_for(settings)
    app.state.rate_limiter = (
        SharedRateLimiter(settings.rate_limit, settings.rate_limit_burst) if settings.rate_limit > 0 else None
    )
    hosts = allowed_hosts(settings.allowed_hosts)
    inner: ASGIApp = app if hosts == ["*"] else TrustedHosts(app, hosts)
    return RequestContext(inner, log_requests=settings.access_log)


def tune_garbage_collector() -> None:
    """Fewer, cheaper cycle collections for a long-running server process.

    Objects alive after start-up (modules, tables, compiled schemas) are moved out
    of the collector's sight, and a collection starts after 10,000 net allocations
    instead of 700. A 10,000-host inventory allocates a few hundred thousand
    containers, and the default thresholds spent about a third of its time
    collecting (docs/performance.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def app_from_environment() -> ASGIApp:
    """Factory for worker processes: settings come from CRATON_* variables set by ``craton-api``."""
    settings = load_settings(config_file=os.environ.get("CRATON_CONFIG_FILE") or None)
    logs.configure(settings.log_level, settings.log_format)  # worker processes start with bare logging
    metrics.forget_dead_workers()  # a worker replacing a dead one: its gauges no longer count
    app = create_app(settings)
    tune_garbage_collector()
    return app
