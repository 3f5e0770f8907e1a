#!/usr/bin/env python3
"""Mixed-load test of a real craton-api: throughput, latency percentiles and errors.

    .venv/bin/python benchmarks/load.py                          # PostgreSQL, 2 workers, 60 s
    .venv/bin/python benchmarks/load.py --backend sqlite --duration 20 --concurrency 8
    .venv/bin/python benchmarks/load.py --json-out /tmp/load.json

A throwaway database is created (PostgreSQL/MariaDB through the same admin URLs as the
tests: CRATON_TEST_POSTGRES_URL / CRATON_TEST_MARIADB_URL; SQLite in a temporary
directory), migrated and bootstrapped; ``craton-api --workers N`` runs as a subprocess
on a free loopback port with its access log on (written to a file), as in production.
The API is then seeded through HTTP with a small fleet: one cloud, regions, cells, a
switch per cell and hosts nested under them, variables at every level.

The load is a fixed mix, chosen at random per request from a seeded generator:

| share | request |
|---|---|
| 35 % | ``GET /v1/hosts/<id>`` (host with resolved variables) |
| 15 % | ``GET /v1/hosts/<id>/variables`` (resolved) |
| 10 % | ``GET /v1/cells/<id>`` |
| 15 % | ``GET /v1/hosts?cell_id=<c>&details=true&limit=30`` (list, resolved) |
|  5 % | ``GET /v1/devices?region_id=<r>&limit=30`` |
| 20 % | ``PUT /v1/hosts/<id>/variables`` (merge two keys) |

``--concurrency`` keep-alive connections each send one request at a time for
``--duration`` seconds after ``--warmup`` seconds (warm-up requests are not counted). Any
status >= 400 or transport error counts as an error; the exit status is 1 if there was one.
All traffic goes to 127.0.0.1, and every loop is bounded by time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from benchmarks.common import free_port  # noqa: E402  (also imported from here by the tests)

ADMIN_URLS = {
    "postgresql": os.environ.get("CRATON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("CRATON_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
MIX = [
    ("get_host", 35),
    ("host_variables", 15),
    ("get_cell", 10),
    ("list_hosts", 15),
    ("list_devices", 5),
    ("put_variables", 20),
]


# --- a craton-api subprocess ------------------------------------------------------------------------


class ServerProcess:
    """``craton-api`` in its own process group: start, wait until ready, find, kill and stop workers."""

    def __init__(
        self,
        database_url: str,
        workers: int = 2,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        port: int | None = None,
        ready_path: str = "/readyz",
    ) -> None:
        self.database_url = database_url
        self.ready_path = ready_path
        self.workers = workers
        self.port = port or free_port()
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="craton-api-", suffix=".log")[1])
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        command = [
            str(Path(sys.executable).with_name("craton-api")),
            "--database-url",
            self.database_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "info",
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"craton-api exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response,
            ):
                if response.status == 200 and (self.workers == 1 or len(self.worker_pids()) == self.workers):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"craton-api did not become ready in {timeout} s:\n{self.output()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The worker processes under the uvicorn supervisor (not multiprocessing's helpers)."""
        assert self.proc is not None
        pids = []
        with contextlib.suppress(FileNotFoundError):
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            for pid in map(int, children):
                with contextlib.suppress(FileNotFoundError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
                    if b"resource_tracker" not in cmdline and state != "Z":
                        pids.append(pid)
        return sorted(pids)

    def kill_worker(self, pid: int) -> None:
        assert pid in self.worker_pids(), pid
        os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to the supervisor and every worker at once (a machine-crash stand-in for the app)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):  # stray workers of a supervisor that died first
            os.killpg(self.proc.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- databases ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(backend: str) -> Iterator[str]:
    """A new, migrated database; dropped afterwards."""
    from craton.storage import migrate

    with (
        tempfile.TemporaryDirectory(prefix="craton-load-") as tmp,
        common.throwaway_database(backend, Path(tmp), ADMIN_URLS.get(backend), prefix="craton_load") as url,
    ):
        migrate.upgrade(url)
        yield url


def bootstrap_credentials(database_url: str) -> dict[str, str]:
    """Root's three X-Auth headers for a fresh database."""
    from craton.domain.bootstrap import bootstrap
    from craton.storage.engine import create_engine

    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            creds = bootstrap(conn)
    finally:
        engine.dispose()
    return {"X-Auth-Project": creds.project_id, "X-Auth-User": creds.username, "X-Auth-Token": creds.api_key or ""}


# --- the fleet and the load --------------------------------------------------------------------------


@dataclass
class Fleet:
    cloud: int = 0
    regions: list[int] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    hosts: list[int] = field(default_factory=list)


def seed(url: str, headers: dict[str, str], hosts: int, regions: int = 2, cells_per_region: int = 4) -> Fleet:
    """A small fleet through the API, with variables on every level (synchronous, keep-alive)."""
    import httpx

    fleet = Fleet()
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body)
            if response.status_code != 201:
                raise RuntimeError(f"seeding {path}: {response.status_code} {response.text[:300]}")
            return response.json()

        project = headers["X-Auth-Project"]
        client.put(f"/v1/projects/{project}/variables", json={"ntp": ["0.pool", "1.pool"], "dns": "10.0.0.53"})
        cloud = post("/v1/clouds", {"name": f"load-{uuid.uuid4().hex[:6]}", "variables": {"cloud": "prod", "tier": 1}})
        fleet.cloud = cloud["id"]
        switches = []
        for r in range(regions):
            region = post(
                "/v1/regions",
                {
                    "name": f"region-{r}",
                    "cloud_id": cloud["id"],
                    "variables": {"region": r, "az": [f"az-{r}a", f"az-{r}b"]},
                },
            )
            fleet.regions.append(region["id"])
            for c in range(cells_per_region):
                cell = post(
                    "/v1/cells",
                    {
                        "name": f"cell-{r}-{c}",
                        "cloud_id": cloud["id"],
                        "region_id": region["id"],
                        "variables": {"cell": c, "rack": {"row": c, "power": "A"}},
                    },
                )
                fleet.cells.append(cell["id"])
                switches.append(
                    post(
                        "/v1/network-devices",
                        {
                            "name": f"sw-{r}-{c}",
                            "cloud_id": cloud["id"],
                            "region_id": region["id"],
                            "cell_id": cell["id"],
                            "ip_address": f"10.{r}.{c}.1",
                            "device_type": "switch",
                            "variables": {"uplink": f"sw-{r}"},
                        },
                    )
                )
        for h in range(hosts):
            switch = switches[h % len(switches)]
            host = post(
                "/v1/hosts",
                {
                    "name": f"host-{h}",
                    "cloud_id": cloud["id"],
                    "region_id": switch["region_id"],
                    "cell_id": switch["cell_id"],
                    "parent_id": switch["id"],
                    "ip_address": f"10.100.{h // 250}.{h % 250 + 1}",
                    "device_type": "server",
                    "labels": ["compute" if h % 3 else "storage"],
                    "variables": {"serial": f"SN{h:06d}", "role": "compute", "disks": h % 4 + 1},
                },
            )
            fleet.hosts.append(host["id"])
    return fleet


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0


async def _worker(
    index: int,
    port: int,
    headers: dict[str, str],
    fleet: Fleet,
    start: float,
    warm_until: float,
    stop_at: float,
    result: Result,
    seed_value: int,
) -> None:
    rng = random.Random(seed_value * 1000 + index)
    names, weights = zip(*MIX, strict=True)
    connection = common.RawClient("127.0.0.1", port, headers)
    counter = 0
    try:
        while (now := time.perf_counter()) < stop_at:
            op = rng.choices(names, weights)[0]
            host = rng.choice(fleet.hosts)
            body = None
            if op == "get_host":
                method, path = "GET", f"/v1/hosts/{host}"
            elif op == "host_variables":
                method, path = "GET", f"/v1/hosts/{host}/variables"
            elif op == "get_cell":
                method, path = "GET", f"/v1/cells/{rng.choice(fleet.cells)}"
            elif op == "list_hosts":
                method, path = "GET", f"/v1/hosts?cell_id={rng.choice(fleet.cells)}&details=true&limit=30"
            elif op == "list_devices":
                method, path = "GET", f"/v1/devices?region_id={rng.choice(fleet.regions)}&limit=30"
            else:
                counter += 1
                method, path = "PUT", f"/v1/hosts/{host}/variables"
                body = json.dumps({f"load-{index}": counter, "last-writer": index}).encode()
            began = time.perf_counter()
            try:
                status, _ = await connection.request(method, path, body)
                error = None if status < 400 else str(status)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                error = type(exc).__name__
            took = time.perf_counter() - began
            if now >= warm_until:
                if error is None:
                    result.latencies[op].append(took)
                else:
                    result.errors[f"{op}:{error}"] += 1
    finally:
        await connection.close()


async def _drive(
    port: int, headers: dict[str, str], fleet: Fleet, duration: float, warmup: float, concurrency: int, seed_value: int
) -> Result:
    result = Result()
    start = time.perf_counter()
    warm_until = start + warmup
    stop_at = warm_until + duration
    await asyncio.gather(
        *(_worker(i, port, headers, fleet, start, warm_until, stop_at, result, seed_value) for i in range(concurrency))
    )
    result.elapsed = time.perf_counter() - warm_until
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summarise(result: Result) -> dict[str, Any]:
    every = [value for values in result.latencies.values() for value in values]
    per_op = {
        op: {"requests": len(values), "p50_ms": percentile(values, 50) * 1000, "p99_ms": percentile(values, 99) * 1000}
        for op, values in sorted(result.latencies.items())
    }
    errors = sum(result.errors.values())
    return {
        "seconds": round(result.elapsed, 2),
        "requests": len(every),
        "errors": errors,
        "error_kinds": dict(result.errors),
        "throughput_rps": len(every) / result.elapsed if result.elapsed else 0.0,
        "p50_ms": percentile(every, 50) * 1000,
        "p90_ms": percentile(every, 90) * 1000,
        "p99_ms": percentile(every, 99) * 1000,
        "mean_ms": statistics.fmean(every) * 1000 if every else float("nan"),
        "per_operation": per_op,
    }


def run(
    database_url: str,
    *,
    workers: int = 2,
    duration: float = 60,
    warmup: float = 3,
    concurrency: int = 16,
    hosts: int = 500,
    seed_value: int = 7,
    log_path: Path | None = None,
) -> dict[str, Any]:
    """Bootstrap, start craton-api, seed, load, stop; the summary as a dict."""
    headers = bootstrap_credentials(database_url)
    load_before = os.getloadavg()[0]
    with ServerProcess(database_url, workers=workers, log_path=log_path) as server:
        seeded = time.perf_counter()
        fleet = seed(server.url, headers, hosts)
        seeding = time.perf_counter() - seeded
        result = asyncio.run(_drive(server.port, headers, fleet, duration, warmup, concurrency, seed_value))
        alive = server.proc is not None and server.proc.poll() is None
    summary = summarise(result)
    summary.update(
        workers=workers,
        concurrency=concurrency,
        hosts=hosts,
        seed_seconds=round(seeding, 2),
        server_survived=alive,
        cores=os.cpu_count(),
        load_average=[round(load_before, 1), round(os.getloadavg()[0], 1)],
    )
    return summary


def markdown(summary: dict[str, Any], backend: str) -> str:
    lines = [
        (
            f"{backend}, {summary['workers']} workers, {summary['concurrency']} connections, {summary['hosts']} hosts, "
            f"{summary['seconds']} s measured on {summary['cores']} cores "
            f"(1-minute load average {summary['load_average'][0]} before, {summary['load_average'][1]} after):"
        ),
        "",
        "| requests | errors | throughput | p50 | p90 | p99 |",
        "|---|---|---|---|---|---|",
        (
            f"| {summary['requests']} | {summary['errors']} | {summary['throughput_rps']:.0f} req/s | "
            f"{summary['p50_ms']:.1f} ms | {summary['p90_ms']:.1f} ms | {summary['p99_ms']:.1f} ms |"
        ),
        "",
        "| operation | requests | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for op, figures in summary["per_operation"].items():
        lines.append(f"| {op} | {figures['requests']} | {figures['p50_ms']:.1f} ms | {figures['p99_ms']:.1f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="postgresql", choices=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    with throwaway_database(args.backend) as url:
        summary = run(
            url,
            workers=args.workers,
            duration=args.duration,
            warmup=args.warmup,
            concurrency=args.concurrency,
            hosts=args.hosts,
            seed_value=args.seed,
        )
    summary["backend"] = args.backend
    print(markdown(summary, args.backend))
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0 if summary["errors"] == 0 and summary["server_survived"] else 1


if __name__ == "__main__":
    sys.exit(main())
