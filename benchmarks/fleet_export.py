#!/usr/bin/env python3
"""Benchmark the streamed fleet export: ``GET /v1/export`` of 100,000 hosts, JSON and YAML.

    python benchmarks/fleet_export.py                                   # 100k hosts, SQLite and PostgreSQL
    python benchmarks/fleet_export.py --backends sqlite --hosts 10000   # a quick run
    python benchmarks/fleet_export.py --database-url sqlite:///bench.sqlite --credentials cred.json

For each backend it generates a fleet with benchmarks/generate.py (bulk SQL: variables on every
level, labels on every device; network devices as parents of hosts), or uses ``--database-url``
with the credentials JSON ``generate.py --credentials-out`` wrote. It starts ``craton-api`` as a
subprocess (one worker) on loopback and streams the export with httpx, reading the body as it
arrives and keeping none of it (only its size, and, with ``--check``, the document parsed after
the timing), and reports per format:

* wall time of the whole request and time to the first byte (client side), bytes received;
* the server's CPU time for the request (user + system, /proc/<pid>/stat, before and after),
  and on PostgreSQL that of the database backends serving it (benchmarks/run.py CpuWindow);
* the server's resident memory before the first export and its peak (``VmHWM``) after each one;
* the load average when the request started (the machine is shared, so CPU beside wall time).

Targets (issue 17): 100,000 hosts in 10 s or less, the server under 512 MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from benchmarks.inventory import proc_status  # noqa: E402
from benchmarks.run import Server, running_server  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_S = 10.0
TARGET_MB = 512.0


def say(message: str) -> None:
    print(f"[fleet_export] {message}", file=sys.stderr, flush=True)


def shape_for(hosts: int) -> dict[str, int]:
    """One project, ~250 hosts per cell, a network device for every 20 hosts."""
    cells = max(1, hosts // 250)
    return {
        "projects": 1,
        "clouds": 2,
        "regions": max(2, cells // 10),
        "cells": cells,
        "hosts": hosts,
        "network_devices": max(1, hosts // 20),
    }


def stream_export(server: Server, client: httpx.Client, params: dict[str, Any], keep: bool) -> dict[str, Any]:
    load = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    first_byte = None
    size = 0
    kept: list[bytes] = []
    with server.cpu_window().measure() as cpu:
        with client.stream("GET", "/v1/export", params=params) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                if keep:
                    kept.append(chunk)
        wall = time.perf_counter() - started
        time.sleep(0.2)  # the server finishes its bookkeeping after the last byte
    return {
        "format": params.get("format", "json"),
        "wall_s": round(wall, 2),
        "first_byte_s": round(first_byte or 0.0, 3),
        "bytes": size,
        "server_cpu_s": round(cpu.server, 2),
        "database_cpu_s": None if cpu.db is None else round(cpu.db, 2),
        "server_peak_rss_mb": round(max(proc_status(pid, "VmHWM") for pid in server.pids), 1),
        "loadavg": " ".join(load),
        "body": b"".join(kept) if keep else None,
    }


def count_hosts(body: bytes, format: str) -> int:
    if format == "yaml":
        import yaml

        document = yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    else:
        document = json.loads(body)
    return sum(
        1
        for cloud in document["clouds"]
        for region in cloud.get("regions", [])
        for place in [region, *region.get("cells", [])]
        for device in place.get("devices", [])
        if device["kind"] == "host"
    )


def measure(
    url: str, facts: dict[str, Any], backend: str, args: argparse.Namespace, workdir: Path
) -> list[dict[str, Any]]:
    headers = {
        "X-Auth-Project": facts["project_id"],
        "X-Auth-User": facts["username"],
        "X-Auth-Token": facts["api_key"],
    }
    results = []
    with running_server(url, 1, workdir, headers) as server:
        rss_idle = max(proc_status(pid, "VmRSS") for pid in server.pids)
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
            for format in args.formats.split(","):
                figures = stream_export(server, client, {"format": format}, keep=args.check)
                body = figures.pop("body")
                if body is not None:
                    figures["hosts_in_document"] = count_hosts(body, format)
                figures.update(backend=backend, hosts=facts["sizes"]["hosts"], server_rss_idle_mb=round(rss_idle, 1))
                say(json.dumps(figures))
                results.append(figures)
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | hosts | format | wall s | 1st byte s | server CPU s | db CPU s | bytes | RSS MiB | load |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['hosts']:,} | {r['format']} | {r['wall_s']:.2f} | {r['first_byte_s']:.2f} "
            f"| {r['server_cpu_s']:.2f} | {r['database_cpu_s'] if r['database_cpu_s'] is not None else '-'} "
            f"| {r['bytes']:,} | {r['server_rss_idle_mb']:.0f} / "
            f"{r['server_peak_rss_mb']:.0f} | {r['loadavg']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark the streamed fleet export.")
    p.add_argument("--hosts", type=int, default=100_000)
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    p.add_argument("--postgres-url", default=os.environ.get("CRATON_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    p.add_argument("--database-url", help="use this generated database instead (with --credentials)")
    p.add_argument("--credentials", type=Path, help="the JSON generate.py --credentials-out wrote")
    p.add_argument("--formats", default="json,yaml")
    p.add_argument("--check", action="store_true", help="also parse each document and count its hosts")
    p.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    args = p.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="craton-export-bench-") as tmp:
        workdir = Path(tmp)
        if args.database_url:
            if args.credentials is None:
                p.error("--database-url needs --credentials")
            facts = json.loads(args.credentials.read_text())
            backend = httpx.URL(args.database_url.replace("+", "-", 1)).scheme.split("-")[0] or "database"
            results += measure(args.database_url, facts, backend, args, workdir)
        else:
            for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
                with throwaway_database(backend, workdir, args.postgres_url, prefix="craton_bench_export") as url:
                    say(f"{backend}: generating {args.hosts} hosts")
                    facts = generate(url, progress=say, **shape_for(args.hosts))
                    with contextlib.suppress(KeyError):
                        say(f"{backend}: generated in {facts['seconds']} s")
                    results += measure(url, facts, backend, args, workdir)
    print(table(results))
    for r in results:
        verdict = "met" if r["wall_s"] <= TARGET_S and r["server_peak_rss_mb"] <= TARGET_MB else "NOT met"
        print(f"- {r['backend']} {r['format']}: target ({TARGET_S:.0f} s, {TARGET_MB:.0f} MiB) {verdict}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
