#!/usr/bin/env python3
"""Craton on the 3-node Galera cluster of deploy/galera/cluster.sh: fault test and throughput.

    deploy/galera/cluster.sh start
    .venv/bin/python benchmarks/galera.py fault                 # kill -9 the writer node under load
    .venv/bin/python benchmarks/galera.py throughput            # one node vs HAProxy over three
    .venv/bin/python benchmarks/galera.py fault --hosts 10000 --duration 60 --json-out /tmp/fault.json

Both create a throwaway database on the cluster (through HAProxy), load a generated fleet
(benchmarks/generate.py, ``--hosts``), and start ``--api-processes`` separate ``craton-api``
processes on loopback, each with its own connection pool.

``fault``: ``--clients`` threads, each with its own keep-alive connection to one of the API
processes, send a mixed load for ``--duration`` seconds through HAProxy's writer port: 30 %
create a host, 20 % replace a variable of a host this client created (with an increasing
sequence number), 50 % read (a host of the fleet with its resolved variables, or a page of
hosts). At ``--kill-at`` seconds the node HAProxy is writing to gets ``kill -9``; at
``--restart-at`` it is started again and rejoins (IST). Afterwards, on every node directly:
every host acknowledged with 201 exists with its name, and every variable holds at least the
last acknowledged sequence number (a request whose answer was lost may have committed a later
one). The verdict fails on a lost write, on any status other than 2xx and 503, on a 503
without a message, on a transport error, or when errors go on for more than ``--max-error-window``
seconds after the kill.

``throughput``: the same mix without faults, ``--duration`` seconds per layout: every API
process on node 1 directly, on HAProxy's writer port, on HAProxy's balanced port (round-robin
over three nodes), and each API process on a different node directly.

All traffic goes to 127.0.0.1; every loop is bounded by time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.load import ServerProcess  # noqa: E402

CLUSTER = ROOT / "deploy" / "galera" / "cluster.sh"
NODES = (1, 2, 3)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cluster(*args: str, check: bool = True) -> str:
    """Run deploy/galera/cluster.sh with ``args``; its standard output."""
    done = subprocess.run([str(CLUSTER), *args], capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise RuntimeError(f"cluster.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def url_for(target: str, database: str) -> str:
    """The SQLAlchemy URL of ``database`` through ``target`` (writer, balanced, or a node number)."""
    return sa.engine.make_url(cluster("url", target).strip()).set(database=database).render_as_string(False)


# --- the fleet and the API processes ------------------------------------------------------------------


@dataclass
class Setup:
    database: str
    headers: dict[str, str]
    cloud: int
    region: int
    cell: int
    fleet_hosts: tuple[int, int]
    fleet_seconds: float


@contextlib.contextmanager
def database_with_fleet(hosts: int, work_dir: Path) -> Iterator[Setup]:
    with common.throwaway_database(
        "mariadb", work_dir, cluster("url", "writer").strip(), prefix="craton_galera"
    ) as url:
        database = sa.engine.make_url(url).database or ""
        say(f"generating a fleet of {hosts} hosts in {database} through HAProxy")
        fleet = generate(url, hosts=hosts, cells=max(4, hosts // 250), network_devices=max(4, hosts // 50))
        say(f"fleet generated in {fleet['seconds']:.1f}s")
        headers = {
            "X-Auth-Project": fleet["project_id"],
            "X-Auth-User": fleet["username"],
            "X-Auth-Token": fleet["api_key"],
        }
        ranges = fleet["id_ranges"]
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            cell = conn.execute(
                sa.text("SELECT id, region_id, cloud_id FROM cells WHERE id = :id"), {"id": ranges["cells"][0]}
            ).one()
        engine.dispose()
        yield Setup(database, headers, cell.cloud_id, cell.region_id, cell.id, tuple(ranges["hosts"]), fleet["seconds"])


@contextlib.contextmanager
def api_processes(urls: list[str], work_dir: Path, threads: int = 4) -> Iterator[list[ServerProcess]]:
    servers: list[ServerProcess] = []
    try:
        for i, url in enumerate(urls):
            server = ServerProcess(
                url, workers=1, log_path=work_dir / f"api-{i}.log", env={"CRATON_API_THREADS": str(threads)}
            )
            servers.append(server.start())
        yield servers
    finally:
        for server in servers:
            server.stop()


def retries_logged(servers: list[ServerProcess]) -> dict[str, int]:
    """How often the API processes retried a transient database error, by error class."""
    counts: Counter[str] = Counter()
    for server in servers:
        for line in server.output().splitlines():
            if "transient database error" in line:
                counts[line.rsplit(":", 1)[-1].strip()] += 1
    return dict(counts)


def tracebacks(servers: list[ServerProcess]) -> list[str]:
    """The last line of every traceback in the API logs (the exception), with the log line before it."""
    found = []
    for server in servers:
        lines = server.output().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()), i)
                found.append(f"{lines[i - 1][:200] if i else ''} -> {lines[end][:300]}")
    return found


# --- the load -----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    at: float  # seconds since the load started
    op: str
    status: int  # 0: transport error
    seconds: float
    message: str = ""


@dataclass
class ClientState:
    created: dict[int, str] = field(default_factory=dict)  # host id -> name, acknowledged with 201
    acked_seq: dict[int, int] = field(default_factory=dict)  # host id -> last acknowledged "seq"
    outcomes: list[Outcome] = field(default_factory=list)


def run_clients(
    servers: list[ServerProcess], setup: Setup, clients: int, duration: float, seed: int = 7
) -> tuple[list[ClientState], float]:
    """``clients`` threads of mixed requests for ``duration`` seconds; their states and the start time."""
    states = [ClientState() for _ in range(clients)]
    start = time.monotonic()
    deadline = start + duration
    first, last = setup.fleet_hosts

    def worker(index: int) -> None:
        state = states[index]
        rng = random.Random(seed * 1000 + index)
        server = servers[index % len(servers)]
        sequence = 0
        with httpx.Client(base_url=server.url, headers=setup.headers, timeout=60) as client:
            while time.monotonic() < deadline:
                roll = rng.random()
                body: Any = None
                if roll < 0.3 or not state.created:
                    op, method = "create_host", "POST"
                    name = f"g-{index}-{uuid.uuid4().hex[:10]}"
                    path = "/v1/hosts"
                    body = {
                        "name": name,
                        "cloud_id": setup.cloud,
                        "region_id": setup.region,
                        "cell_id": setup.cell,
                        "ip_address": f"10.{200 + index % 50}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                        "device_type": "server",
                        "variables": {"seq": 0},
                    }
                elif roll < 0.5:
                    op, method = "put_variable", "PUT"
                    host = rng.choice(list(state.created))
                    sequence += 1
                    path = f"/v1/hosts/{host}/variables"
                    body = {"seq": sequence}
                elif roll < 0.85:
                    op, method = "get_host", "GET"
                    path = f"/v1/hosts/{rng.randint(first, last)}"
                else:
                    op, method = "list_hosts", "GET"
                    path = f"/v1/hosts?cell_id={setup.cell}&limit=20"
                sent = time.monotonic()
                try:
                    response = client.request(method, path, json=body)
                    status, text = response.status_code, response.text
                except httpx.HTTPError as exc:
                    status, text = 0, f"{type(exc).__name__}: {exc}"
                done = time.monotonic()
                message = ""
                if status >= 300 or status == 0:
                    message = text[:300]
                elif op == "create_host":
                    state.created[response.json()["id"]] = body["name"]
                elif op == "put_variable":
                    state.acked_seq[host] = max(state.acked_seq.get(host, 0), sequence)
                state.outcomes.append(Outcome(sent - start, op, status, done - sent, message))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 120)
    return states, start


def summarise(outcomes: list[Outcome], duration: float) -> dict[str, Any]:
    latencies = sorted(o.seconds for o in outcomes if 200 <= o.status < 300)
    ok = len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1) if latencies else 0.0

    return {
        "requests": len(outcomes),
        "ok": ok,
        "rps": round(ok / duration, 1),
        "writes_rps": round(
            sum(1 for o in outcomes if 200 <= o.status < 300 and o.op in ("create_host", "put_variable")) / duration, 1
        ),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": round(max((o.seconds for o in outcomes), default=0) * 1000, 1),
        "statuses": dict(sorted(Counter(str(o.status) for o in outcomes).items())),
    }


# --- checking every node ------------------------------------------------------------------------------


def check_nodes(database: str, states: list[ClientState]) -> dict[str, Any]:
    """Every acknowledged write, looked up on every node directly."""
    created = {host: name for state in states for host, name in state.created.items()}
    acked = {host: seq for state in states for host, seq in state.acked_seq.items()}
    result: dict[str, Any] = {"acknowledged_hosts": len(created), "acknowledged_variable_writes": len(acked)}
    for node in NODES:
        engine = sa.create_engine(url_for(str(node), database), poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            names: dict[int, str] = {}
            ids = list(created)
            for i in range(0, len(ids), 1000):
                chunk = ids[i : i + 1000]
                rows = conn.execute(
                    sa.text("SELECT id, name FROM devices WHERE id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": chunk},
                )
                names.update({row.id: row.name for row in rows})
            values: dict[int, int] = {}
            hosts = [str(h) for h in acked]
            for i in range(0, len(hosts), 1000):
                rows = conn.execute(
                    sa.text(
                        "SELECT owner_id, value FROM variables WHERE owner_kind = 'device' AND `key` = 'seq' "
                        "AND owner_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": hosts[i : i + 1000]},
                )
                values.update({int(row.owner_id): json.loads(row.value) for row in rows})
            total_hosts = conn.execute(sa.text("SELECT COUNT(*) FROM devices")).scalar_one()
            total_changes = conn.execute(sa.text("SELECT COUNT(*) FROM changes")).scalar_one()
        engine.dispose()
        lost_hosts = [h for h, name in created.items() if names.get(h) != name]
        lost_values = [h for h, seq in acked.items() if values.get(h, -1) < seq]
        result[f"node{node}"] = {
            "lost_hosts": len(lost_hosts),
            "lost_variable_writes": len(lost_values),
            "devices": total_hosts,
            "changes": total_changes,
            "examples": (lost_hosts + lost_values)[:5],
        }
    return result


# --- fault --------------------------------------------------------------------------------------------


def writer_node() -> int:
    """The node HAProxy's writer port sends connections to now."""
    engine = sa.create_engine(cluster("url", "writer").strip(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        port = conn.execute(sa.text("SELECT @@port")).scalar_one()
    engine.dispose()
    base = sa.engine.make_url(cluster("url", "1").strip()).port - 1
    return int(port) - base


def fault(args: argparse.Namespace, work_dir: Path) -> dict[str, Any]:
    events: dict[str, float] = {}
    with database_with_fleet(args.hosts, work_dir) as setup:
        urls = [url_for(args.target, setup.database)] * args.api_processes
        with api_processes(urls, work_dir) as servers:
            victim = writer_node()
            say(f"{args.api_processes} API processes on HAProxy ({args.target}); the writer is node{victim}")
            result: dict[str, Any] = {}

            def controller(start: float) -> None:
                time.sleep(max(0.0, start + args.kill_at - time.monotonic()))
                events["kill"] = time.monotonic() - start
                say(f"kill -9 node{victim}")
                cluster("kill", str(victim))
                time.sleep(max(0.0, start + args.restart_at - time.monotonic()))
                events["restart"] = time.monotonic() - start
                say(f"restarting node{victim}")
                began = time.monotonic()
                cluster("restart", str(victim))
                events["rejoined"] = time.monotonic() - start
                result["rejoin_seconds"] = round(time.monotonic() - began, 1)
                say(f"node{victim} rejoined in {result['rejoin_seconds']} s")

            start_box: dict[str, float] = {}
            load_started = threading.Event()

            def load() -> None:
                start_box["start"] = time.monotonic()
                load_started.set()
                result["states"], _ = run_clients(servers, setup, args.clients, args.duration)

            load_thread = threading.Thread(target=load)
            load_thread.start()
            load_started.wait()
            control = threading.Thread(target=controller, args=(start_box["start"],))
            control.start()
            load_thread.join()
            control.join(timeout=300)
            states: list[ClientState] = result.pop("states")
            retries = retries_logged(servers)
            traces = tracebacks(servers)
        # Still inside the throwaway database's block: every node is checked before it is dropped.
        cluster("wait-synced", "120")
        checks = check_nodes(setup.database, states)
    outcomes = sorted((o for s in states for o in s.outcomes), key=lambda o: o.at)
    errors = [o for o in outcomes if not 200 <= o.status < 300]
    kill_at = events.get("kill", args.kill_at)
    bad = [o for o in errors if o.status != 503 or not o.message or '"message"' not in o.message]
    after_kill = [o for o in errors if o.at >= kill_at - 1]
    error_window = round(max(o.at + o.seconds for o in after_kill) - kill_at, 2) if after_kill else 0.0
    slow = [o for o in outcomes if kill_at - 1 <= o.at <= kill_at + 30]
    stall = round(max((o.seconds for o in slow), default=0.0), 2)
    first_ok_write_after_kill = next(
        (
            o.at + o.seconds
            for o in outcomes
            if o.at >= kill_at and 200 <= o.status < 300 and o.op != "get_host" and o.op != "list_hosts"
        ),
        None,
    )
    lost = sum(checks[f"node{n}"]["lost_hosts"] + checks[f"node{n}"]["lost_variable_writes"] for n in NODES)
    summary = {
        "mode": "fault",
        "target": args.target,
        "hosts_in_fleet": args.hosts,
        "fleet_seconds": setup.fleet_seconds,
        "api_processes": args.api_processes,
        "clients": args.clients,
        "duration": args.duration,
        "killed": f"node{victim}",
        "events": {k: round(v, 2) for k, v in events.items()},
        "rejoin_seconds": result.get("rejoin_seconds"),
        "load": summarise(outcomes, args.duration),
        "errors": len(errors),
        "errors_other_than_503": len(bad),
        "error_examples": [f"{o.at:.2f}s {o.op} {o.status} {o.message[:160]}" for o in (bad or errors)[:5]],
        "error_window_seconds": error_window,
        "longest_request_around_kill_seconds": stall,
        "first_acknowledged_write_after_kill_seconds": round(first_ok_write_after_kill - kill_at, 2)
        if first_ok_write_after_kill is not None
        else None,
        "retries_logged": retries,
        "server_tracebacks": traces,
        "checks": checks,
        "lost_acknowledged_writes": lost,
    }
    failures = []
    if lost:
        failures.append(f"{lost} acknowledged writes missing on some node")
    if bad:
        failures.append(f"{len(bad)} errors other than a 503 with a message")
    if error_window > args.max_error_window:
        failures.append(f"errors went on for {error_window} s after the kill (limit {args.max_error_window} s)")
    # SQLAlchemy logs a traceback when it cannot roll back a connection it takes back into the
    # pool because the node just died; the request itself had already been answered.
    unexpected = [t for t in traces if "Exception during reset or similar" not in t]
    if unexpected:
        failures.append(f"{len(unexpected)} unexpected tracebacks in the API logs")
    if not checks["acknowledged_hosts"]:
        failures.append("no write was acknowledged")
    summary["verdict"] = "PASS" if not failures else "FAIL: " + "; ".join(failures)
    return summary


# --- throughput ---------------------------------------------------------------------------------------


def throughput(args: argparse.Namespace, work_dir: Path) -> dict[str, Any]:
    layouts = {
        "node1 directly": lambda i: "1",
        "HAProxy writer (one node, two standbys)": lambda i: "writer",
        "HAProxy balanced (round-robin over 3)": lambda i: "balanced",
        "each API process on its own node": lambda i: str(NODES[i % len(NODES)]),
    }
    results: dict[str, Any] = {
        "mode": "throughput",
        "api_processes": args.api_processes,
        "clients": args.clients,
        "duration": args.duration,
        "hosts_in_fleet": args.hosts,
        "layouts": {},
    }
    with database_with_fleet(args.hosts, work_dir) as setup:
        results["fleet_seconds"] = setup.fleet_seconds
        for number, (name, target) in enumerate(layouts.items()):
            urls = [url_for(target(i), setup.database) for i in range(args.api_processes)]
            layout_dir = work_dir / f"layout-{number}"
            layout_dir.mkdir()
            with api_processes(urls, layout_dir) as servers:
                run_clients(servers, setup, args.clients, 3)  # warm-up: pools, caches
                before = retries_logged(servers)
                states, _ = run_clients(servers, setup, args.clients, args.duration)
                after = retries_logged(servers)
                traces = tracebacks(servers)
            outcomes = [o for s in states for o in s.outcomes]
            summary = summarise(outcomes, args.duration)
            summary["retries"] = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
            summary["server_tracebacks"] = traces
            results["layouts"][name] = summary
            say(
                f"{name}: {summary['rps']} req/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
                f"statuses {summary['statuses']}, retries {summary['retries']}"
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("fault", "throughput"))
    parser.add_argument("--hosts", type=int, default=10_000, help="hosts in the generated fleet (default 10000)")
    parser.add_argument("--api-processes", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=45, help="seconds of load (per layout for throughput)")
    parser.add_argument("--kill-at", type=float, default=12)
    parser.add_argument("--restart-at", type=float, default=25)
    parser.add_argument("--target", default="writer", choices=("writer", "balanced"), help="HAProxy port (fault)")
    parser.add_argument("--max-error-window", type=float, default=10.0)
    parser.add_argument("--no-start", action="store_true", help="do not run cluster.sh start first")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--log-dir", type=Path, help="keep the API processes' logs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.mode == "fault" and not 0 < args.kill_at < args.restart_at < args.duration:
        parser.error("need 0 < --kill-at < --restart-at < --duration")
    if not args.no_start:
        cluster("start")
    cluster("wait-synced", "120")
    with tempfile.TemporaryDirectory(prefix="craton-galera-") as tmp:
        work_dir = args.log_dir or Path(tmp)
        work_dir.mkdir(parents=True, exist_ok=True)
        summary = fault(args, work_dir) if args.mode == "fault" else throughput(args, work_dir)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    return 0 if summary.get("verdict", "PASS") == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
