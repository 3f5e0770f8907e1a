"""How long ``POST /v1/import`` of a whole fleet takes on a real server (issue 17 §1).

A document of ``--hosts`` hosts (``--variables`` variables and ``--labels`` labels each,
spread over ``--cells`` cells of one region, with a few network devices as parents) is
generated, then sent to ``craton-api`` running as its own process on a fresh database:

1. ``dry_run=true`` into the empty project (check and count, nothing written);
2. ``mode=create`` into the empty project (everything created);
3. the same document again (``upsert``: everything unchanged, nothing written);
4. the document with ``active`` flipped on every host (``upsert``: every host updated, one
   column; on MariaDB these updates were one round trip each).

For each: wall time of the request, CPU time of the server processes (and, on PostgreSQL,
of the database backends) during it, and the load average; ``--py-spy DIR`` records the
server's stacks during the create (collapsed, flamegraph input).

    .venv/bin/python -m benchmarks.fleet_import --backends sqlite,postgresql --hosts 10000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.common import throwaway_database
from benchmarks.run import ADMIN_URLS, CpuWindow, profiling, running_server
from craton.domain.bootstrap import bootstrap
from craton.storage import migrate
from craton.storage.engine import create_engine

COUNT_KEYS = ("clouds", "regions", "cells", "hosts", "network_devices", "networks", "network_interfaces")


def document(hosts: int, variables: int, labels: int, cells: int, flipped: bool = False) -> dict[str, Any]:
    """One cloud, one region, ``cells`` cells; one switch per cell is the parent of its hosts.

    ``flipped``: every host's ``active`` the other way round.
    """
    per_cell: list[dict[str, Any]] = [
        {
            "name": f"cell-{c}",
            "variables": {"cell_no": c},
            "devices": [
                {
                    "kind": "network_device",
                    "name": f"sw-{c}",
                    "device_type": "switch",
                    "ip_address": f"10.{c // 256}.{c % 256}.1",
                    "active": True,
                    "labels": ["tor"],
                }
            ],
        }
        for c in range(cells)
    ]
    for n in range(hosts):
        cell = per_cell[n % cells]
        host: dict[str, Any] = {
            "kind": "host",
            "name": f"host-{n:06d}",
            "device_type": "server",
            "ip_address": f"172.{16 + n // 65536}.{n // 256 % 256}.{n % 256}",
            "active": (n % 7 != 0) != flipped,
            "parent": cell["devices"][0]["name"],
            "labels": sorted(f"label-{(n + k) % 20}" for k in range(labels)),
            "variables": {
                f"var_{k:02d}": (n * k if k % 3 else {"nested": [n, k], "text": f"value-{k}"}) for k in range(variables)
            },
        }
        cell["devices"].append(host)
    return {
        "format": "craton-fleet",
        "version": 1,
        "project": {"variables": {"owner": "bench"}},
        "clouds": [
            {"name": "cloud-bench", "regions": [{"name": "region-1", "variables": {"dc": "x"}, "cells": per_cell}]}
        ],
    }


def _post(
    server: Any, headers: dict[str, str], body: bytes, params: dict[str, str]
) -> tuple[dict[str, Any], CpuWindow]:
    load = os.getloadavg()[0]
    with (
        httpx.Client(base_url=server.url, headers=headers, timeout=600) as client,
        server.cpu_window().measure() as cpu,
    ):
        response = client.post("/v1/import", content=body, params=params, headers={"content-type": "application/json"})
    if response.status_code != 200:
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:1000]}")
    answer = response.json()["import"]
    answer["load"] = load
    return answer, cpu


def measure(backend: str, url: str, args: argparse.Namespace, work_dir: Path) -> list[str]:
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        creds = bootstrap(conn)
    engine.dispose()
    headers = {"X-Auth-Project": creds.project_id, "X-Auth-User": creds.username, "X-Auth-Token": creds.api_key or ""}
    body = orjson.dumps(document(args.hosts, args.variables, args.labels, args.cells))
    flipped = orjson.dumps(document(args.hosts, args.variables, args.labels, args.cells, flipped=True))
    lines = []
    with running_server(url, 1, work_dir, headers) as server:
        steps = [
            ("dry_run into an empty project", {"dry_run": "true"}, False, body),
            ("create into an empty project", {"mode": "create"}, True, body),
            ("the same document again (upsert, unchanged)", {}, False, body),
            ("every host's active flipped (upsert, all updated)", {}, False, flipped),
        ]
        for name, params, profiled, sent in steps:
            output = args.py_spy / f"fleet-import-{backend}.txt" if args.py_spy and profiled else None
            with profiling(server, output, 120) if output else contextlib.nullcontext():
                answer, cpu = _post(server, headers, sent, params)
            done = {key: value for key, value in answer["created"].items() if value}
            updated = {key: value for key, value in answer["updated"].items() if value}
            unchanged = {key: value for key, value in answer["unchanged"].items() if value}
            db = f", database CPU {cpu.db:.2f} s" if cpu.db is not None else ""
            lines.append(
                f"{backend}: {name}: wall {cpu.wall:.2f} s, server CPU {cpu.server:.2f} s{db}, "
                f"load {answer['load']:.2f}; created {done or 0}, updated {updated or 0}, unchanged {unchanged or 0}"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--variables", type=int, default=10)
    parser.add_argument("--labels", type=int, default=3)
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--py-spy", type=Path, default=None, help="directory for py-spy profiles of the create")
    args = parser.parse_args()
    if args.py_spy:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    size = len(orjson.dumps(document(args.hosts, args.variables, args.labels, args.cells)))
    print(f"document: {args.hosts} hosts, {args.variables} variables and {args.labels} labels each, {size:,} bytes")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"started {started}, {os.cpu_count()} CPUs", file=sys.stderr)
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                measure(backend, url, args, Path(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
