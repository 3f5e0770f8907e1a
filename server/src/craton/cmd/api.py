"""``craton-api``: serve the REST API with uvicorn, one or several worker processes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import uvicorn

from craton.cmd import listeners
from craton.cmd.common import add_common_options, configure_logging, settings_from
from craton.http import metrics

APP = "craton.app:app_from_environment"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="craton-api", description="Serve the Craton REST API.")
    add_common_options(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1; env CRATON_API_HOST)")
    p.add_argument("--port", type=int, help="listen port (default 7780; env CRATON_API_PORT)")
    p.add_argument("--workers", type=int, help="worker processes (default 1; env CRATON_API_WORKERS)")
    p.add_argument(
        "--threads", type=int, help="database threads per worker process (default 4; env CRATON_API_THREADS)"
    )
    p.add_argument("--log-level", help="debug, info, warning or error (env CRATON_LOG_LEVEL)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    settings = settings_from(
        args,
        p,
        api_host=args.host,
        api_port=args.port,
        workers=args.workers,
        threads=args.threads,
        log_level=args.log_level,
    )
    configure_logging(settings.log_level, settings.log_format)
    # Worker processes rebuild their settings from the environment.
    os.environ["CRATON_DATABASE_URL"] = settings.database_url
    os.environ["CRATON_API_THREADS"] = str(settings.threads)
    os.environ["CRATON_LOG_LEVEL"] = settings.log_level
    if args.config_file:
        os.environ["CRATON_CONFIG_FILE"] = args.config_file
    metrics.clear_directory()  # PROMETHEUS_MULTIPROC_DIR: nothing in it describes a living process yet
    serving: dict[str, Any] = dict(
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.workers,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=30,
        # The supervisor kills a worker that does not answer its ping in time. A worker starting on
        # a busy machine (CI at load 10) can take longer than the default 5 s to get there, and was
        # killed and started again in a loop.
        timeout_worker_healthcheck=30,
        proxy_headers=False,
    )
    if settings.workers > 1 and listeners.supported():
        # A socket per worker, so that connections spread evenly (cmd/listeners.py).
        return listeners.serve(uvicorn.Config(APP, **serving))
    else:
        uvicorn.run(APP, **serving)
        return 0


if __name__ == "__main__":
    sys.exit(main())
