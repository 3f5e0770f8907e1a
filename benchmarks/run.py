#!/usr/bin/env python3
"""Benchmark a real craton-api on generated fleets; figures out as Markdown.

    .venv/bin/python benchmarks/run.py                      # SQLite and PostgreSQL, default sizes
    .venv/bin/python benchmarks/run.py --quick              # small sizes, short loads (a smoke run)
    .venv/bin/python benchmarks/run.py --backends sqlite,postgresql,mariadb --markdown-out /tmp/bench.md

For each backend: a throwaway database is created and filled by
``benchmarks/generate.py``; ``craton-api`` is started as a subprocess on a free
loopback port with ``--workers 2``; then, one phase after the other:

1. the full host listing with resolved variables
   (``GET /v1/hosts?details=true&limit=100``, following ``next`` to the end),
   and the same without ``details`` for comparison;
2. requests per second of ``GET /v1/hosts/<id>`` and
   ``GET /v1/hosts/<id>/variables?resolved-values=true`` at each concurrency;
3. a fleet-wide ``vars`` query on a variable set on one region, resolved,
   following ``next`` to the end (the answer is checked against the generator);
4. write throughput of ``PUT /v1/hosts/<id>/variables`` at each concurrency.

Every load loop stops after ``--requests`` requests or ``--duration`` seconds,
whichever comes first; all traffic is to 127.0.0.1. Besides client-side
figures, each phase reports the CPU the server processes used per request (read
from /proc), and how busy the whole machine was, since other processes on a
small machine change the figures.

The load client (``--client``) is either ``raw``, a minimal asyncio HTTP/1.1
keep-alive client, one connection per concurrent request, which leaves the most
CPU to the server on a small machine (the default), or ``httpx``, one
``httpx.Client`` per thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RawClient, free_port, throwaway_database  # noqa: E402
from benchmarks.generate import DEFAULT_SIZES, generate  # noqa: E402

ADMIN_URLS = {
    "postgresql": os.environ.get("CRATON_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("CRATON_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mariadb": "MariaDB"}
QUICK_SIZES = {"clouds": 2, "regions": 4, "cells": 8, "hosts": 500, "network_devices": 50}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- CPU accounting (/proc)


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _process_switches(pid: int) -> int:
    """Voluntary context switches of every thread of one process (a thread waking to find nothing to do,
    a lock or GIL hand-off): unlike CPU seconds, the count hardly moves with other load on the machine."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    return total


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


class DatabaseBackends:
    """The PostgreSQL backend processes serving one database, for their CPU time (None elsewhere)."""

    def __init__(self, database_url: str) -> None:
        self.engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        self.conn = self.engine.connect()  # one connection, so that watching opens none
        self.lock = threading.Lock()

    def _query(self, sql: str) -> list[Any]:
        with self.lock:
            return list(self.conn.exec_driver_sql(sql).scalars())

    def pids(self) -> list[int]:
        return self._query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    @contextlib.contextmanager
    def cpu(self) -> Iterator[dict[str, float]]:
        """CPU seconds of the backends during the block, and how many appeared; polled every 0.2 s."""
        baseline = {pid: _process_cpu(pid) for pid in self.pids()}
        latest: dict[int, float] = dict(baseline)
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.2):
                with contextlib.suppress(Exception):
                    for pid in self.pids():
                        latest[pid] = _process_cpu(pid) or latest.get(pid, 0.0)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        figures: dict[str, float] = {}
        try:
            yield figures
        finally:
            stop.set()
            poller.join(timeout=5)
            for pid in self.pids():
                latest[pid] = _process_cpu(pid) or latest.get(pid, 0.0)
            figures["cpu"] = sum(cpu - baseline.get(pid, 0.0) for pid, cpu in latest.items())
            figures["new_connections"] = len(set(latest) - set(baseline))

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


@dataclass
class CpuWindow:
    """CPU used during a phase: by the server processes, by this client, by the machine.

    With ``database`` (PostgreSQL), also by the backends serving the benchmark
    database: those alive at the start, plus those started during the phase.
    """

    server_pids: list[int]
    database: DatabaseBackends | None = None
    wall: float = 0.0
    server: float = 0.0
    server_switches: int = 0
    client: float = 0.0
    db: float | None = None
    new_connections: float | None = None
    machine_busy: float = 0.0
    machine_total: float = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[CpuWindow]:
        with self.database.cpu() if self.database else contextlib.nullcontext({}) as db:
            with self._measure():
                yield self
        if self.database:
            self.db, self.new_connections = db["cpu"], db["new_connections"]

    @contextlib.contextmanager
    def _measure(self) -> Iterator[CpuWindow]:
        server0 = sum(_process_cpu(pid) for pid in self.server_pids)
        switches0 = sum(_process_switches(pid) for pid in self.server_pids)
        client0 = time.process_time()
        busy0, total0 = _machine_cpu()
        wall0 = time.perf_counter()
        try:
            yield self
        finally:
            self.wall = time.perf_counter() - wall0
            self.server = sum(_process_cpu(pid) for pid in self.server_pids) - server0
            self.server_switches = sum(_process_switches(pid) for pid in self.server_pids) - switches0
            self.client = time.process_time() - client0
            busy1, total1 = _machine_cpu()
            self.machine_busy, self.machine_total = busy1 - busy0, total1 - total0

    @property
    def others(self) -> float:
        """CPU seconds used by every other process (databases included) in the window."""
        return max(0.0, self.machine_busy - self.server - self.client - (self.db or 0.0))

    def summary(self) -> dict[str, float]:
        cores = os.cpu_count() or 1
        return {
            "server_cpu_s": round(self.server, 3),
            "server_switches": self.server_switches,
            "client_cpu_s": round(self.client, 3),
            "db_cpu_s": None if self.db is None else round(self.db, 3),  # type: ignore[dict-item]
            "db_new_connections": self.new_connections,  # type: ignore[dict-item]
            "other_cpu_s": round(self.others, 3),
            "machine_busy_pct": round(100 * self.machine_busy / self.machine_total, 1) if self.machine_total else 0.0,
            "cores": cores,
        }


# --------------------------------------------------------------------------- the server under test


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    database: DatabaseBackends | None = None

    @property
    def pids(self) -> list[int]:
        return _descendants(self.process.pid)

    def cpu_window(self) -> CpuWindow:
        return CpuWindow(self.pids, self.database)


@contextlib.contextmanager
def running_server(database_url: str, workers: int, log_dir: Path, headers: dict[str, str]) -> Iterator[Server]:
    """``craton-api`` as a subprocess in its own process group; stopped (by its pid) on exit."""
    port = free_port()
    executable = Path(sys.executable).with_name("craton-api")
    command = [
        str(executable),
        "--database-url",
        database_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "CRATON_ACCESS_LOG": "false", "CRATON_RATE_LIMIT": "0"}
    log_path = log_dir / f"craton-api-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    if sa.engine.make_url(database_url).get_backend_name() == "postgresql":
        server.database = DatabaseBackends(database_url)
    try:
        _wait_ready(server, workers, headers)
        yield server
    finally:
        _stop(process)
        if server.database:
            server.database.close()


def _wait_ready(server: Server, workers: int, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=5) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"craton-api exited early:\n{server.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"craton-api did not answer within {timeout}s:\n{server.log_path.read_text()[-3000:]}"
                )
            time.sleep(0.1)
        # Every worker must have imported the app before anything is timed.
        while len(server.pids) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        for _ in range(20 * workers):
            response = client.get("/v1/hosts?limit=10", headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"craton-api answered {response.status_code}: {response.text[:500]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group this script created for it
            process.wait(timeout=10)


# --------------------------------------------------------------------------- throwaway databases


def database_version(url: str) -> str:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar_one()
            return str(conn.exec_driver_sql("select version()").scalar_one()).split(" on ")[0]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- load generation


@dataclass
class LoadResult:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float] = field(default_factory=dict)
    first_error: str = ""
    connections: list[int] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(0.5), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "server_cpu_ms_per_request": round(1000 * self.cpu.get("server_cpu_s", 0) / self.requests, 2)
            if self.requests
            else None,
            **self.cpu,
            "first_error": self.first_error,
            "connections_per_worker": self.connections,
        }


RequestMaker = Callable[[random.Random], tuple[str, str, bytes | None]]


async def _raw_load(
    base_url: str,
    headers: dict[str, str],
    make: RequestMaker,
    concurrency: int,
    max_requests: int,
    duration: float,
    seed: int,
) -> tuple[int, int, float, list[float], str]:
    parts = urlsplit(base_url)
    clients = [RawClient(parts.hostname or "127.0.0.1", parts.port or 80, headers) for _ in range(concurrency)]
    latencies: list[float] = []
    state = {"issued": 0, "errors": 0, "first_error": ""}
    deadline = time.perf_counter() + duration

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = clients[index]
        while state["issued"] < max_requests and time.perf_counter() < deadline:
            state["issued"] += 1
            method, target, body = make(rng)
            started = time.perf_counter()
            try:
                status, payload = await client.request(method, target, body)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, payload = 0, repr(exc).encode()  # the client has closed its connection
            latencies.append(time.perf_counter() - started)
            if status >= 300 or status == 0:
                state["errors"] += 1
                state["first_error"] = state["first_error"] or f"{status} {payload[:200]!r}"

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()
    return len(latencies), state["errors"], elapsed, latencies, state["first_error"]


def _httpx_load(
    base_url: str,
    headers: dict[str, str],
    make: RequestMaker,
    concurrency: int,
    max_requests: int,
    duration: float,
    seed: int,
) -> tuple[int, int, float, list[float], str]:
    lock = threading.Lock()
    latencies: list[float] = []
    state = {"issued": 0, "errors": 0, "first_error": ""}
    # One client (thread-safe, pooled) made before the clock starts: building one costs up to 0.3 s.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.Client(base_url=base_url, headers=headers, timeout=60, limits=limits)
    deadline = time.perf_counter() + duration

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        while True:
            with lock:
                if state["issued"] >= max_requests or time.perf_counter() >= deadline:
                    return
                state["issued"] += 1
            method, target, body = make(rng)
            started = time.perf_counter()
            try:
                response = client.request(
                    method,
                    target,
                    content=body,
                    headers={"Content-Type": "application/json"} if body is not None else None,
                )
                status, text = response.status_code, response.text[:200]
            except httpx.HTTPError as exc:
                status, text = 0, repr(exc)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status >= 300 or status == 0:
                    state["errors"] += 1
                    state["first_error"] = state["first_error"] or f"{status} {text}"

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 120)
    elapsed = time.perf_counter() - started
    client.close()
    return len(latencies), state["errors"], elapsed, latencies, state["first_error"]


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections to local ``port`` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    return inodes


def connections_held(port: int, pids: list[int]) -> dict[int, int]:
    """How many established connections to local ``port`` each of ``pids`` holds open."""
    inodes = _established_inodes(port)
    held: dict[int, int] = {}
    for pid in pids:
        held[pid] = 0
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    held[pid] += link.startswith("socket:[") and link[8:-1] in inodes
    return held


def connections_per_worker(server: Server) -> list[int]:
    """How many client connections each worker process holds: the kernel, not the server, spreads them."""
    workers = []
    for pid in server.pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"resource_tracker" in cmdline.read():
                continue
        if pid == server.process.pid and len(server.pids) > 1:
            continue  # the supervisor holds none
        workers.append(pid)
    held = connections_held(urlsplit(server.url).port or 80, workers)
    return sorted(held.values(), reverse=True)


def run_load(
    server: Server,
    headers: dict[str, str],
    name: str,
    make: RequestMaker,
    concurrency: int,
    max_requests: int,
    duration: float,
    client: str,
    warmup: int,
    seed: int = 7,
    profile_to: Path | None = None,
) -> LoadResult:
    """One load figure; with ``profile_to``, py-spy samples the server (GIL holders) meanwhile."""
    engine = _raw_load if client == "raw" else _httpx_load

    def go(requests: int, seconds: float) -> tuple[int, int, float, list[float], str]:
        if client == "raw":
            return asyncio.run(engine(server.url, headers, make, concurrency, requests, seconds, seed))  # type: ignore[arg-type]
        return engine(server.url, headers, make, concurrency, requests, seconds, seed)  # type: ignore[return-value]

    if warmup:
        go(warmup, 10)
    window = server.cpu_window()
    split: list[int] = []
    sampler = threading.Timer(0.3, lambda: split.extend(connections_per_worker(server)))
    with profiling(server, profile_to, duration), window.measure():
        sampler.start()
        requests, errors, seconds, latencies, first_error = go(max_requests, duration)
        sampler.cancel()
    return LoadResult(name, concurrency, requests, errors, seconds, latencies, window.summary(), first_error, split)


@contextlib.contextmanager
def profiling(server: Server, output: Path | None, duration: float) -> Iterator[None]:
    """``py-spy record`` of every server process for the block, as collapsed stacks (flamegraph input)."""
    if output is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(spy),
        "record",
        "--pid",
        str(server.process.pid),
        "--subprocesses",
        "--gil",
        "--nonblocking",
        "--rate",
        "200",
        "--duration",
        str(int(duration) + 1),
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attach before the clock starts
    try:
        yield
    finally:
        try:
            process.wait(timeout=duration + 60)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)


# --------------------------------------------------------------------------- paged walks


@dataclass
class Walk:
    name: str
    seconds: list[float]
    items: int
    pages: int
    cpu: dict[str, float]
    expected: int | None = None

    @property
    def best(self) -> float:
        return min(self.seconds)

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": [round(s, 3) for s in self.seconds],
            "best": round(self.best, 3),
            "items": self.items,
            "pages": self.pages,
            "expected": self.expected,
            **self.cpu,
        }


def walk(
    server: Server,
    headers: dict[str, str],
    name: str,
    path: str,
    key: str,
    repeats: int,
    time_limit: float,
    check: Callable[[dict[str, Any]], None] | None = None,
    expected: int | None = None,
) -> Walk:
    """GET ``path`` and every ``next`` link after it; ``repeats`` times, each bounded by ``time_limit``."""
    timings: list[float] = []
    items = pages = 0
    window = server.cpu_window()
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client, window.measure():
        for _ in range(repeats):
            url: str | None = path
            items = pages = 0
            started = time.perf_counter()
            while url is not None:
                if time.perf_counter() - started > time_limit:
                    raise RuntimeError(f"{name}: gave up after {time_limit}s ({pages} pages)")
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:500]}")
                body = response.json()
                pages += 1
                items += len(body[key])
                if check is not None:
                    for item in body[key]:
                        check(item)
                url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            timings.append(time.perf_counter() - started)
            if expected is not None and items != expected:
                raise RuntimeError(f"{name}: got {items} items, expected {expected}")
    return Walk(name, timings, items, pages, window.summary(), expected)


# --------------------------------------------------------------------------- one backend


def _profile_path(args: argparse.Namespace, backend: str, name: str, concurrency: int) -> Path | None:
    if args.py_spy is None:
        return None
    args.py_spy.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in name.split("?")[0].replace("<id>", "id")).strip("-").lower()
    return args.py_spy / f"{backend}-{slug}{'-resolved' if '?' in name else ''}-c{concurrency}.txt"


def bench_backend(backend: str, args: argparse.Namespace, sizes: dict[str, int], work_dir: Path) -> dict[str, Any]:
    def say(message: str) -> None:
        print(f"[{backend}] {message}", file=sys.stderr, flush=True)

    result: dict[str, Any] = {"backend": backend, "load_before": os.getloadavg()}
    with throwaway_database(backend, work_dir, ADMIN_URLS.get(backend), keep=args.keep_databases) as url:
        result["database_version"] = database_version(url)
        say(f"generating {sizes['hosts']} hosts into {sa.engine.make_url(url).render_as_string()}")
        fleet = generate(
            url, seed=args.seed, progress=lambda m: say(f"generate: {m}"), strategies=args.strategies, **sizes
        )
        result["fleet"] = {k: fleet[k] for k in ("counts", "seconds", "vars_probe", "sizes")}
        headers = {
            "X-Auth-Project": fleet["project_id"],
            "X-Auth-User": fleet["username"],
            "X-Auth-Token": fleet["api_key"],
        }
        low, high = fleet["id_ranges"]["hosts"]
        with running_server(url, args.workers, work_dir, headers) as server:
            say(f"craton-api on {server.url}, pids {server.pids}")

            def has_variables(item: dict[str, Any]) -> None:
                if not item.get("variables"):
                    raise RuntimeError(f"host {item.get('id')} came back without variables")

            walks = []
            say("listing all hosts with resolved variables")
            walks.append(
                walk(
                    server,
                    headers,
                    "list_hosts_details",
                    "/v1/hosts?details=true&limit=100",
                    "hosts",
                    args.list_repeats,
                    args.walk_limit,
                    has_variables,
                    sizes["hosts"],
                )
            )
            say("listing all hosts without variables")
            walks.append(
                walk(
                    server,
                    headers,
                    "list_hosts_plain",
                    "/v1/hosts?limit=100",
                    "hosts",
                    1,
                    args.walk_limit,
                    None,
                    sizes["hosts"],
                )
            )
            probe = fleet["vars_probe"]
            say(f"vars query {probe['query']}")
            walks.append(
                walk(
                    server,
                    headers,
                    "vars_query_hosts",
                    f"/v1/hosts?vars={quote(probe['query'])}&limit=100",
                    "hosts",
                    args.list_repeats,
                    args.walk_limit,
                    None,
                    probe["hosts"],
                )
            )
            result["walks"] = [w.row() for w in walks]

            def get_host(rng: random.Random) -> tuple[str, str, None]:
                return "GET", f"/v1/hosts/{rng.randint(low, high)}", None

            def get_host_variables(rng: random.Random) -> tuple[str, str, None]:
                return "GET", f"/v1/hosts/{rng.randint(low, high)}/variables?resolved-values=true", None

            counter = iter(range(10**9))

            def put_host_variables(rng: random.Random) -> tuple[str, str, bytes]:
                body = json.dumps({"bench_counter": next(counter), "bench_note": "written by benchmarks/run.py"})
                return "PUT", f"/v1/hosts/{rng.randint(low, high)}/variables", body.encode()

            loads = []
            for name, make in (
                ("GET /v1/hosts/<id>", get_host),
                ("GET /v1/hosts/<id>/variables?resolved-values=true", get_host_variables),
                ("PUT /v1/hosts/<id>/variables", put_host_variables),
            ):
                for concurrency in args.concurrency:
                    say(f"{name} at concurrency {concurrency}")
                    loads.append(
                        run_load(
                            server,
                            headers,
                            name,
                            make,
                            concurrency,
                            args.requests,
                            args.duration,
                            args.client,
                            args.warmup,
                            profile_to=_profile_path(args, backend, name, concurrency),
                        )
                    )
                    say(f"  {loads[-1].rps:.0f} req/s, {loads[-1].errors} errors")
            result["loads"] = [load.row() for load in loads]
    result["load_after"] = os.getloadavg()
    return result


# --------------------------------------------------------------------------- report


def machine_facts() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    versions = {}
    for package in ("starlette", "uvicorn", "SQLAlchemy", "psycopg", "PyMySQL", "httpx"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    return {
        "cpu": f"{os.cpu_count()} cores, {model}",
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def server_revision() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "server"], capture_output=True, text=True, timeout=10
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"commit {commit}" + (f" with uncommitted changes in {len(dirty)} files under server/" if dirty else "")


def _fmt_load(load: dict[str, Any]) -> str:
    return f"{load['rps']:,.0f}"


def markdown(results: list[dict[str, Any]], args: argparse.Namespace, sizes: dict[str, int], command: str) -> str:
    facts = machine_facts()
    names = [BACKEND_NAMES[r["backend"]] for r in results]
    out = [
        f"## Craton benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        f"- Machine: {facts['cpu']}, {facts['memory']} RAM, {facts['os']}, Python {facts['python']}",
        f"- Packages: {facts['packages']}",
        "- Databases: " + "; ".join(f"{BACKEND_NAMES[r['backend']]}: {r['database_version']}" for r in results),
        f"- Server code: {server_revision()}",
        f"- Server: `craton-api --workers {args.workers} --log-level warning` (access log off), "
        f"load client `{args.client}` in one process on the same machine, loopback only",
        f"- Fleet: {sizes['projects']} project, {sizes['clouds']} clouds, {sizes['regions']} regions, "
        f"{sizes['cells']} cells, {sizes['hosts']:,} hosts, {sizes['network_devices']:,} network devices "
        f"nested under hosts, {sizes['vars_min']}-{sizes['vars_max']} variables per object on every level, "
        f"{sizes['labels']} labels per device; merge strategies: {args.strategies}",
        f"- Loads: at most {args.requests:,} requests or {args.duration:g} s per figure, after "
        f"{args.warmup} warm-up requests; host ids uniformly random",
        "- Load average (1 min) before/after each backend: "
        + "; ".join(
            f"{BACKEND_NAMES[r['backend']]} {r['load_before'][0]:.1f}/{r['load_after'][0]:.1f}" for r in results
        ),
        "",
        "| Measurement | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def walk_of(result: dict[str, Any], name: str) -> dict[str, Any]:
        return next(w for w in result["walks"] if w["name"] == name)

    def load_of(result: dict[str, Any], name: str, concurrency: int) -> dict[str, Any]:
        return next(x for x in result["loads"] if x["name"] == name and x["concurrency"] == concurrency)

    out.append("| Generate the fleet (s) | " + " | ".join(f"{r['fleet']['seconds']:.1f}" for r in results) + " |")
    first = results[0]
    hosts_walk = walk_of(first, "list_hosts_details")
    out.append(
        f"| List all {hosts_walk['items']:,} hosts, `details=true` (resolved), {hosts_walk['pages']} pages: "
        f"best of {len(hosts_walk['seconds'])} (s) | "
        + " | ".join(f"**{walk_of(r, 'list_hosts_details')['best']:.2f}**" for r in results)
        + " |"
    )
    out.append(
        "| the same, every run (s) | "
        + " | ".join(", ".join(f"{s:.2f}" for s in walk_of(r, "list_hosts_details")["seconds"]) for r in results)
        + " |"
    )

    def critical_path(w: dict[str, Any]) -> str:
        spent = w["server_cpu_s"] + (w["db_cpu_s"] or 0.0) + w["client_cpu_s"]
        return f"{spent / len(w['seconds']):.2f}"

    out.append(
        "| the same, CPU spent per run by server + database + client, i.e. the time on an idle machine "
        "(s; database not measurable on MariaDB) | "
        + " | ".join(critical_path(walk_of(r, "list_hosts_details")) for r in results)
        + " |"
    )
    out.append(
        "| List all hosts without `details` (s) | "
        + " | ".join(f"{walk_of(r, 'list_hosts_plain')['best']:.2f}" for r in results)
        + " |"
    )
    vars_walk = walk_of(first, "vars_query_hosts")
    probe = first["fleet"]["vars_probe"]
    out.append(
        f"| `vars={probe['query']}` (resolved; {vars_walk['items']:,} of {sizes['hosts']:,} hosts, "
        f"{vars_walk['pages']} pages): best (s) | "
        + " | ".join(f"{walk_of(r, 'vars_query_hosts')['best']:.2f}" for r in results)
        + " |"
    )
    for name in (
        "GET /v1/hosts/<id>",
        "GET /v1/hosts/<id>/variables?resolved-values=true",
        "PUT /v1/hosts/<id>/variables",
    ):
        for concurrency in args.concurrency:
            cells = []
            for r in results:
                load = load_of(r, name, concurrency)
                text = f"{_fmt_load(load)} (p50 {load['p50_ms']:.1f} / p95 {load['p95_ms']:.1f} ms"
                split = load.get("connections_per_worker") or []
                text += f"; connections per worker {'/'.join(map(str, split))})" if len(split) > 1 else ")"
                if load["errors"]:
                    text += f", {load['errors']} errors"
                cells.append(
                    f"**{text}**"
                    if concurrency == max(args.concurrency)
                    and name.startswith("GET /v1/hosts/<id>")
                    and "variables" not in name
                    else text
                )
            out.append(f"| `{name}` req/s, concurrency {concurrency} | " + " | ".join(cells) + " |")
    for name in ("GET /v1/hosts/<id>", "GET /v1/hosts/<id>/variables?resolved-values=true"):
        cells = []
        for r in results:
            load = load_of(r, name, max(args.concurrency))
            spent = load["server_cpu_s"] + (load["db_cpu_s"] or 0.0) + load["client_cpu_s"]
            ceiling = load["cores"] * load["requests"] / spent if spent else 0.0
            cells.append(f"{ceiling:,.0f}" if r["backend"] != "mariadb" else f"< {ceiling:,.0f}")
        out.append(
            f"| `{name}`: CPU-bound ceiling on {results[0]['loads'][0]['cores']} otherwise idle cores, "
            "from CPU per request (req/s) | " + " | ".join(cells) + " |"
        )
    out += [
        "",
        "Where the CPU went in each phase, per request (server = the craton-api processes; "
        "database = the PostgreSQL backends serving the benchmark database, not measurable for the "
        "in-process SQLite or the single-process MariaDB; client = this script; others = everything else "
        "on the machine, other users included, in CPU seconds over the phase):",
        "",
        "| Phase | Backend | Requests | Server CPU ms/req | Database CPU ms/req | Client CPU ms/req "
        "| Others CPU s | Machine busy |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def per(value: float | None, count: int) -> str:
        return "n/a" if value is None else f"{1000 * value / count:.2f}"

    for r in results:
        backend = BACKEND_NAMES[r["backend"]]
        for w in r["walks"]:
            count = w["pages"] * len(w["seconds"])
            out.append(
                f"| {w['name']} | {backend} | {count} pages | {per(w['server_cpu_s'], count)} | "
                f"{per(w['db_cpu_s'], count)} | {per(w['client_cpu_s'], count)} | "
                f"{w['other_cpu_s']:.1f} | {w['machine_busy_pct']:.0f}% |"
            )
        for x in r["loads"]:
            count = max(1, x["requests"])
            out.append(
                f"| `{x['name']}` c={x['concurrency']} | {backend} | {x['requests']} | "
                f"{per(x['server_cpu_s'], count)} | {per(x['db_cpu_s'], count)} | "
                f"{per(x['client_cpu_s'], count)} | {x['other_cpu_s']:.1f} | {x['machine_busy_pct']:.0f}% |"
            )
    out += ["", "Targets (issue 3):", ""]
    for r in results:
        listing = walk_of(r, "list_hosts_details")["best"]
        reads = load_of(r, "GET /v1/hosts/<id>", max(args.concurrency))["rps"]
        variables = load_of(r, "GET /v1/hosts/<id>/variables?resolved-values=true", max(args.concurrency))["rps"]
        out.append(
            f"- {BACKEND_NAMES[r['backend']]}: full resolved listing under 5 s: "
            f"**{'met' if listing < 5 else 'missed'}** ({listing:.2f} s); "
            f">= 1,000 resolved single-host reads/s at concurrency {max(args.concurrency)}: "
            f"**{'met' if reads >= 1000 else 'missed'}** ({reads:,.0f} req/s on `GET /v1/hosts/<id>`, "
            f"{variables:,.0f} on `.../variables`)"
        )
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- command line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Benchmark craton-api on generated fleets (loopback only).")
    p.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql, mariadb (default sqlite,postgresql)",
    )
    p.add_argument(
        "--quick", action="store_true", help="small fleet (500 hosts), short loads: a smoke run, not figures to quote"
    )
    for name, default in DEFAULT_SIZES.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help=f"fleet size (default {default})")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2, help="craton-api worker processes (default 2)")
    p.add_argument("--concurrency", default="1,16", help="comma-separated concurrency levels (default 1,16)")
    p.add_argument("--requests", type=int, default=None, help="max requests per load figure (default 20000)")
    p.add_argument("--duration", type=float, default=None, help="max seconds per load figure (default 15)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up requests before each load (default 1000)")
    p.add_argument("--list-repeats", type=int, default=None, help="runs of each paged walk (default 3)")
    p.add_argument("--walk-limit", type=float, default=600, help="give up a paged walk after this many seconds")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load client (default raw asyncio)")
    p.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="profile the server during each load figure with py-spy (pip install py-spy) into DIR, "
        "as collapsed stacks; the profiler's overhead lowers the figures",
    )
    p.add_argument(
        "--strategies",
        choices=("none", "shaped", "declared"),
        default="none",
        help="merge strategies (issue 16): shaped = 3 keys hold dictionaries and 2 lists, all replace "
        "(the baseline); declared = the same data with those keys declared deep and union",
    )
    p.add_argument("--markdown-out", type=Path, help="also write the Markdown here")
    p.add_argument("--json-out", type=Path, help="write every figure as JSON here")
    p.add_argument("--keep-databases", action="store_true", help="do not drop the generated databases")
    p.add_argument("--work-dir", type=Path, help="for SQLite files and server logs (default: a temporary directory)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKEND_NAMES)
    if unknown:
        parser().error(f"unknown backends: {', '.join(sorted(unknown))}")
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",")})
    sizes = dict(DEFAULT_SIZES)
    if args.quick:
        sizes.update(QUICK_SIZES)
    for name in DEFAULT_SIZES:
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    defaults = {"requests": (20_000, 500), "duration": (15.0, 2.0), "warmup": (1000, 20), "list_repeats": (3, 1)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    command = "python benchmarks/run.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )

    results = []
    with contextlib.ExitStack() as stack:
        work_dir = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="craton-bench-")))
        work_dir.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            try:
                results.append(bench_backend(backend, args, sizes, work_dir))
            except sa.exc.OperationalError as exc:
                print(f"[{backend}] skipped: database not reachable ({exc.orig})", file=sys.stderr)
    if not results:
        print("no backend could be benchmarked", file=sys.stderr)
        return 1
    text = markdown(results, args, sizes, command.strip())
    print(text)
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps({"sizes": sizes, "results": results}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
