#!/usr/bin/env python3
"""Single-object writes against a real craton-api: variables PUT, object PUT, labels PUT.

    .venv/bin/python benchmarks/writes.py --backends sqlite,postgresql --history on,off
    .venv/bin/python benchmarks/writes.py --backends sqlite --py-spy /tmp/spy --writes variables
    .venv/bin/python benchmarks/writes.py --backends sqlite --pump events   # pump in craton-events

The fleet is generated once per backend (``benchmarks/generate.py``); for each history
setting a fresh ``craton-api`` (``--workers``, default 2) is started with
``CRATON_HISTORY_ENABLED`` set accordingly, and each write runs at each concurrency:

* ``PUT /v1/hosts/<id>/variables`` with two keys (a counter and a fixed note);
* ``PUT /v1/hosts/<id>`` with a new ``note`` (every request changes the row);
* ``PUT /v1/hosts/<id>/labels`` adding one new label (every request adds one).

Hosts are picked at random. Besides req/s and latencies, each figure carries the CPU
the server processes used per request (from /proc), which other load on the machine
changes far less than the wall-clock figures; the load average is printed with it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.run import ADMIN_URLS, RequestMaker, _process_cpu, run_load, running_server  # noqa: E402

WRITES = ("variables", "object", "labels")


def request_makers(low: int, high: int) -> dict[str, tuple[str, RequestMaker]]:
    counter = itertools.count()

    def variables(rng: random.Random) -> tuple[str, str, bytes]:
        body = {"bench_counter": next(counter), "bench_note": "written by benchmarks/writes.py"}
        return "PUT", f"/v1/hosts/{rng.randint(low, high)}/variables", json.dumps(body).encode()

    def obj(rng: random.Random) -> tuple[str, str, bytes]:
        body = {"note": f"bench {next(counter)}"}
        return "PUT", f"/v1/hosts/{rng.randint(low, high)}", json.dumps(body).encode()

    def labels(rng: random.Random) -> tuple[str, str, bytes]:
        body = {"labels": [f"bench-{next(counter)}"]}
        return "PUT", f"/v1/hosts/{rng.randint(low, high)}/labels", json.dumps(body).encode()

    return {
        "variables": ("PUT /v1/hosts/<id>/variables", variables),
        "object": ("PUT /v1/hosts/<id>", obj),
        "labels": ("PUT /v1/hosts/<id>/labels", labels),
    }


@contextlib.contextmanager
def separate_pump(database_url: str, where: str) -> Iterator[subprocess.Popen[bytes] | None]:
    """``--pump events``: the event pump in a ``craton-events`` process of its own, beside the API."""
    if where != "events":
        yield None
        return
    command = [str(Path(sys.executable).with_name("craton-events")), "--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def per_request(row: dict[str, Any], seconds_key: str) -> str:
    """CPU milliseconds per request from a phase's CPU seconds, or "-" when not measured."""
    seconds = row.get(seconds_key)
    return "-" if seconds is None or not row["requests"] else f"{1000 * seconds / row['requests']:.2f}"


def bench(backend: str, args: argparse.Namespace, work_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with throwaway_database(backend, work_dir, ADMIN_URLS.get(backend)) as url:
        fleet = generate(url, seed=1, hosts=args.hosts, network_devices=args.hosts // 10, cells=8)
        headers = {
            "X-Auth-Project": fleet["project_id"],
            "X-Auth-User": fleet["username"],
            "X-Auth-Token": fleet["api_key"],
        }
        low, high = fleet["id_ranges"]["hosts"]
        makers = request_makers(low, high)
        for history in args.history:
            os.environ["CRATON_HISTORY_ENABLED"] = "true" if history == "on" else "false"
            if args.pump != "api":
                os.environ["CRATON_EVENTS_ENABLED"] = "false"
            with running_server(url, args.workers, work_dir, headers) as server, separate_pump(url, args.pump) as pump:
                for write in args.writes:
                    name, make = makers[write]
                    for concurrency in args.concurrency:
                        profile = None
                        if args.py_spy is not None:
                            args.py_spy.mkdir(parents=True, exist_ok=True)
                            profile = args.py_spy / f"{backend}-{write}-history-{history}-c{concurrency}.txt"
                        pump_cpu = _process_cpu(pump.pid) if pump else 0.0
                        load = run_load(
                            server,
                            headers,
                            name,
                            make,
                            concurrency,
                            args.requests,
                            args.duration,
                            "raw",
                            args.warmup,
                            profile_to=profile,
                        )
                        row = {"backend": backend, "history": history, "pump": args.pump, **load.row()}
                        row["loadavg"] = os.getloadavg()
                        if pump:
                            row["pump_cpu_s"] = _process_cpu(pump.pid) - pump_cpu
                        rows.append(row)
                        print(
                            f"{backend:10} history {history:3} {name:30} c={concurrency:<2} "
                            f"{row['rps']:7.0f} req/s  p50 {row['p50_ms']:6.1f}  p99 {row['p99_ms']:6.1f} ms  "
                            f"server CPU {row['server_cpu_ms_per_request']:.2f} ms/req  "
                            f"(switches {row['server_switches'] / max(row['requests'], 1):.1f}/req)  "
                            f"(client {per_request(row, 'client_cpu_s')}, database {per_request(row, 'db_cpu_s')}, "
                            f"craton-events {per_request(row, 'pump_cpu_s')})  "
                            f"errors {row['errors']}  "
                            f"connections per worker {'/'.join(map(str, row['connections_per_worker']))}  "
                            f"load {os.getloadavg()[0]:.2f}",
                            flush=True,
                        )
                        if row["errors"]:
                            print(f"  first error: {row['first_error']}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--hosts", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", default="1,8")
    p.add_argument("--history", default="on,off", help="on, off or both (default on,off)")
    p.add_argument("--writes", default=",".join(WRITES), help=f"any of {', '.join(WRITES)}")
    p.add_argument("--duration", type=float, default=8.0, help="seconds per figure (default 8)")
    p.add_argument("--requests", type=int, default=20_000, help="max requests per figure")
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument(
        "--pump",
        choices=("api", "events", "off"),
        default="api",
        help="where the event pump runs: in the API workers (default), in a craton-events process, nowhere",
    )
    p.add_argument("--py-spy", type=Path, metavar="DIR", help="collapsed py-spy stacks of the server per figure")
    p.add_argument("--json-out", type=Path)
    args = p.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.history = [h.strip() for h in args.history.split(",")]
    args.writes = [w.strip() for w in args.writes.split(",")]
    if set(args.writes) - set(WRITES) or set(args.history) - {"on", "off"}:
        p.error("unknown --writes or --history value")
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="craton-writes-") as work:
        for backend in args.backends.split(","):
            rows.extend(bench(backend.strip(), args, Path(work)))
    print(f"load average after: {os.getloadavg()}", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
