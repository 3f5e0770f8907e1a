#!/usr/bin/env python3
"""Benchmark the web UI's pages: server time per page on a generated fleet.

    python benchmarks/ui_pages.py                                   # 10,000 hosts, SQLite and PostgreSQL
    python benchmarks/ui_pages.py --hosts 2000 --backends sqlite --repeat 5   # a quick run

Generates a fleet with benchmarks/generate.py, starts ``craton-api`` (one worker) with its access
log on, signs in to the UI as the fleet's root user, then requests every main page ``--repeat``
times and reports the median and 95th percentile of the server's own time for each (the access
log times the whole request, template rendering included). Target (issue 14): p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.inventory import DEFAULT_POSTGRES, SHAPES, Server  # noqa: E402

TARGET_MS = 100.0


def pages(fleet: dict[str, Any]) -> dict[str, str]:
    """One path per kind of page, aimed at objects in the middle of the fleet."""
    ranges = fleet["id_ranges"]

    def middle(table: str) -> int:
        first, last = ranges[table]
        return (first + last) // 2

    host = middle("hosts")
    region = middle("regions")
    return {
        "overview": "/ui/",
        "hosts list": "/ui/hosts",
        "hosts list, vars filter": f"/ui/hosts?vars={fleet['vars_probe']['query']}",
        "host": f"/ui/hosts/{host}",
        "host history": f"/ui/hosts/{host}/history",
        "region": f"/ui/regions/{region}",
        "cell": f"/ui/cells/{middle('cells')}",
        "variables editor": f"/ui/regions/{region}/variables",
        "search by name": "/ui/search?q=host-1",
        "search key=value": f"/ui/search?q={fleet['vars_probe']['key']}={fleet['vars_probe']['value']}",
    }


ANY_REQUEST = re.compile(r"\[?(req-[0-9a-f-]+)\]? [A-Z]+ \S+ (\d{3}) ([0-9.]+)ms")


def server_times(log: str) -> dict[str, float]:
    return {match.group(1): float(match.group(3)) for match in ANY_REQUEST.finditer(log)}


def run(backend: str, hosts: int, repeat: int, postgres_url: str) -> dict[str, Any]:
    shape = SHAPES.get(hosts, {"projects": 1, "clouds": 1, "regions": 2, "cells": max(hosts // 250, 1)})
    with (
        tempfile.TemporaryDirectory() as tmp,
        throwaway_database(backend, Path(tmp), postgres_url if backend == "postgresql" else None) as url,
    ):
        fleet = generate(url, hosts=hosts, **shape)
        server = Server(url, Path(tmp))
        headers = {"X-Auth-Project": fleet["project_id"], "X-Auth-User": fleet["username"]}
        headers["X-Auth-Token"] = fleet["api_key"]
        try:
            server.wait_ready(headers)
            browser = httpx.Client(base_url=server.url, follow_redirects=False, timeout=120)
            signed_in = browser.post(
                "/ui/login",
                data={"project_id": fleet["project_id"], "username": fleet["username"], "api_key": fleet["api_key"]},
            )
            assert signed_in.status_code == 303, signed_in.text
            requested: dict[str, list[str]] = {}
            for name, path in pages(fleet).items():
                browser.get(path, follow_redirects=True)  # warm-up
                for _ in range(repeat):
                    response = browser.get(path, follow_redirects=True)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
                    ids = [r.headers.get("x-openstack-request-id", "") for r in [*response.history, response]]
                    requested.setdefault(name, []).append(ids[-1])
            browser.close()
        finally:
            server.stop()
        times = server_times(server.log_path.read_text(errors="replace"))
    result: dict[str, Any] = {"backend": backend, "hosts": hosts, "repeat": repeat, "pages": {}}
    for name, ids in requested.items():
        ms = sorted(times[i] for i in ids if i in times)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        result["pages"][name] = {"median_ms": statistics.median(ms), "p95_ms": p95}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        result = run(backend, args.hosts, args.repeat, args.postgres_url)
        results.append(result)
        print(f"\n{backend}, {args.hosts:,} hosts, {args.repeat} requests per page (server time, ms)")
        print(f"{'page':<26} {'median':>8} {'p95':>8}")
        for name, figures in result["pages"].items():
            flag = "" if figures["p95_ms"] <= TARGET_MS else "  over target"
            print(f"{name:<26} {figures['median_ms']:8.1f} {figures['p95_ms']:8.1f}{flag}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
