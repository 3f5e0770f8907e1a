#!/usr/bin/env python3
"""Requests through the ASGI app in this process: Python calls and CPU per request, no network.

    .venv/bin/python -m benchmarks.inprocess                      # SQLite, the three writes and a GET
    .venv/bin/python -m benchmarks.inprocess --backend postgresql --history off
    .venv/bin/python -m benchmarks.inprocess --requests variables --top 30   # the busiest functions

A fleet is generated (``benchmarks/generate.py``, ``--hosts``), the app is built by
``craton.app.create_app`` as ``craton-api`` builds it (access log and event pump off, as in the
load benchmarks), and each request is sent straight to the ASGI callable on an event loop
(uvloop when installed) with one body message, the way uvicorn hands it over. Database work
runs on the app's own ``Offload`` pool, as in the server.

Per request it reports, after ``--warmup`` requests:

* **loop calls**: Python function calls on the event-loop thread (routing, middleware,
  validation, response, the hand-off), counted by cProfile, which in CPython 3.11 sees only
  the thread it runs in, so deterministic from run to run;
* **pool calls**: function calls in the offloaded work (authentication, the handler, SQLAlchemy),
  counted by a cProfile per pool thread around each call;
* **loop CPU** and **process CPU** in ms (``time.thread_time`` of the loop thread, and
  ``time.process_time``), measured in a separate pass without the profilers. These depend on
  the machine's load; the call counts do not.

``--top N`` prints the N functions with the most own time on the loop thread (``--top-pool``
for the pool threads) for each request kind; ``--sort calls`` orders them by call count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.run import ADMIN_URLS  # noqa: E402
from benchmarks.writes import request_makers  # noqa: E402

KINDS = ("variables", "object", "labels", "get")


class ProfiledOffload:
    """Wraps the app's Offload: each call runs under the cProfile of its pool thread."""

    def __init__(self, offload: Any) -> None:
        self.offload = offload
        self.profiles: dict[int, cProfile.Profile] = {}
        self.enabled = False
        self._lock = threading.Lock()

    def _profiled(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return function(*args, **kwargs)
            ident = threading.get_ident()
            with self._lock:
                profile = self.profiles.setdefault(ident, cProfile.Profile())
            profile.enable()
            try:
                return function(*args, **kwargs)
            finally:
                profile.disable()

        return run

    async def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await self.offload(self._profiled(function), *args, **kwargs)

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.offload.submit(self._profiled(function), *args, **kwargs)

    def shutdown(self) -> None:
        self.offload.shutdown()

    def stats(self) -> pstats.Stats | None:
        profiles = list(self.profiles.values())
        if not profiles:
            return None
        stats = pstats.Stats(profiles[0])
        for other in profiles[1:]:
            stats.add(other)
        return stats


def scope_for(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it."""
    path, _, query = path.partition("?")
    raw_headers = [(b"host", b"127.0.0.1:7780"), (b"user-agent", b"benchmarks-inprocess")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if body:
        raw_headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 7780),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": raw_headers,
        "state": {},
    }


async def call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app; the status and the body."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # http.disconnect only if the client leaves
        return {"type": "http.disconnect"}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope_for(method, path, headers, body), receive, send)
    return status, b"".join(chunks)


Maker = Callable[[random.Random], tuple[str, str, bytes]]


def makers(low: int, high: int) -> dict[str, tuple[str, Maker]]:
    made = dict(request_makers(low, high))

    def get(rng: random.Random) -> tuple[str, str, bytes]:
        return "GET", f"/v1/hosts/{rng.randint(low, high)}", b""

    made["get"] = ("GET /v1/hosts/<id>", get)
    return made


async def measure(
    app: Any, offload: ProfiledOffload, headers: dict[str, str], make: Maker, args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(7)

    async def run(count: int) -> None:
        requests = [make(rng) for _ in range(count)]  # made before the clock and the profiler start
        for method, path, body in requests:
            status, answer = await call(app, method, path, headers, body)
            if status >= 400:
                raise RuntimeError(f"{method} {path} answered {status}: {answer[:300]!r}")

    await run(args.warmup)
    # CPU pass, no profiler.
    loop_started, process_started = time.thread_time(), time.process_time()
    await run(args.count)
    loop_cpu = (time.thread_time() - loop_started) / args.count * 1000
    process_cpu = (time.process_time() - process_started) / args.count * 1000
    # Call-count pass.
    offload.profiles.clear()
    offload.enabled = True
    loop_profile = cProfile.Profile()
    loop_profile.enable()
    try:
        await run(args.count)
    finally:
        loop_profile.disable()
        offload.enabled = False
    loop_stats = pstats.Stats(loop_profile)
    pool_stats = offload.stats()
    row = {
        "loop_calls": loop_stats.total_calls / args.count,  # type: ignore[attr-defined]
        "pool_calls": (pool_stats.total_calls if pool_stats else 0) / args.count,  # type: ignore[attr-defined]
        "loop_cpu_ms": loop_cpu,
        "process_cpu_ms": process_cpu,
    }
    if args.top:
        print(f"--- loop thread, top {args.top} by own time ({args.count} requests)")
        loop_stats.sort_stats(args.sort).print_stats(args.top)
    if args.top_pool and pool_stats:
        print(f"--- pool threads, top {args.top_pool} by own time ({args.count} requests)")
        pool_stats.sort_stats(args.sort).print_stats(args.top_pool)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "mariadb"))
    p.add_argument("--hosts", type=int, default=200)
    p.add_argument("--history", default="on", choices=("on", "off"))
    p.add_argument("--requests", default=",".join(KINDS), help=f"any of {', '.join(KINDS)}")
    p.add_argument("--count", type=int, default=300, help="measured requests per kind and pass (default 300)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--top", type=int, default=0, metavar="N", help="print the N costliest loop-thread functions")
    p.add_argument("--top-pool", type=int, default=0, metavar="N", help="the same for the pool threads")
    p.add_argument("--sort", default="tottime", help="pstats order of --top: tottime (default), calls, cumulative")
    p.add_argument("--json-out", type=Path)
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.requests.split(",")]
    if set(kinds) - set(KINDS):
        p.error("unknown --requests value")

    # The app reads no environment here: settings are passed in, as craton-api's factory would build them.
    from craton.app import create_app
    from craton.settings import Settings

    rows: list[dict[str, Any]] = []
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="craton-inprocess-") as work:
        with throwaway_database(args.backend, Path(work), ADMIN_URLS.get(args.backend)) as url:
            fleet = generate(url, seed=1, hosts=args.hosts, network_devices=max(1, args.hosts // 10), cells=4)
            headers = {
                "X-Auth-Project": fleet["project_id"],
                "X-Auth-User": fleet["username"],
                "X-Auth-Token": fleet["api_key"],
            }
            settings = Settings(
                database_url=url,
                access_log=False,
                events_enabled=False,
                history_enabled=args.history == "on",
                log_level="warning",
            )
            app = create_app(settings)
            starlette_app = app
            while not hasattr(starlette_app, "state"):  # through the middleware to the Starlette app
                starlette_app = starlette_app.app  # type: ignore[attr-defined]
            offload = ProfiledOffload(starlette_app.state.offload)
            starlette_app.state.offload = offload
            low, high = fleet["id_ranges"]["hosts"]
            made = makers(low, high)
            try:
                loop_policy: Any = None
                with contextlib.suppress(ImportError):
                    import uvloop

                    loop_policy = uvloop.EventLoopPolicy()
                if loop_policy is not None:
                    asyncio.set_event_loop_policy(loop_policy)
                for kind in kinds:
                    name, make = made[kind]
                    row = asyncio.run(measure(app, offload, headers, make, args))
                    row = {"backend": args.backend, "history": args.history, "request": name, **row}
                    rows.append(row)
                    print(
                        f"{args.backend:10} history {args.history:3} {name:30} loop calls {row['loop_calls']:7.1f}  "
                        f"pool calls {row['pool_calls']:7.1f}  loop CPU {row['loop_cpu_ms']:.3f} ms  "
                        f"process CPU {row['process_cpu_ms']:.3f} ms  load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
            finally:
                offload.shutdown()
                starlette_app.state.engine.dispose()
    print(f"load average after: {os.getloadavg()}", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
