#!/usr/bin/env python3
"""Benchmark the Ansible inventory: ``GET /v1/ansible-inventory`` and ``ansible-inventory --list``.

    python benchmarks/inventory.py                                  # 10k and 100k, SQLite and PostgreSQL
    python benchmarks/inventory.py --sizes 10000 --backends sqlite  # a quick run
    python benchmarks/inventory.py --write-docs docs/inventory.md   # refresh the figures in the docs

For each backend and fleet size it generates a fleet with benchmarks/generate.py (variables on
every level: project, cloud, region, cell, host; labels on every host), starts ``craton-api`` as
a subprocess (one worker), and measures:

* server time of ``GET /v1/ansible-inventory`` (from the server's access log, which times the
  whole request including sending the body), cold (first request) and warm (median of
  ``--repeat``), the client's wall time and the response size;
* the same for a revalidation (``If-None-Match`` with the current ETag, answered 304) and for one
  region (``region_id``);
* the server process's peak resident memory (``VmHWM`` in /proc/<pid>/status) after all requests,
  and its resident memory before the first one;
* end to end: ``ansible-inventory --list`` with the plugin (openstack.craton.craton) and with the
  ``craton-inventory`` script, wall time and peak memory of the ansible-inventory process.

PostgreSQL: a throwaway database on ``--postgres-url`` (default postgres@127.0.0.1:5432, trust),
dropped afterwards. Everything runs on loopback. Results go to ``--json-out`` and, with
``--write-docs``, into the marked section of docs/inventory.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import free_port, throwaway_database  # noqa: E402
from benchmarks.generate import generate  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Fleet shapes per host count: a few regions, ~250 hosts per cell, variables on every level.
SHAPES = {
    10_000: {"projects": 1, "clouds": 2, "regions": 4, "cells": 40, "network_devices": 1_000},
    100_000: {"projects": 1, "clouds": 4, "regions": 20, "cells": 400, "network_devices": 10_000},
}
TARGETS = {10_000: 1.0, 100_000: 15.0}  # seconds of server time (issue 6, on SQLite)
MEMORY_TARGET_MB = 1024.0
ACCESS = re.compile(r"\[?(req-[0-9a-f-]+)\]? GET /v1/ansible-inventory (\d{3}) ([0-9.]+)ms")
START_MARK = "<!-- inventory-benchmark:start -->"
END_MARK = "<!-- inventory-benchmark:end -->"


def say(message: str) -> None:
    print(f"inventory-bench: {message}", file=sys.stderr, flush=True)


def shape_for(hosts: int) -> dict[str, int]:
    if hosts in SHAPES:
        return {**SHAPES[hosts], "hosts": hosts}
    regions = max(1, hosts // 5000)
    return {
        "projects": 1,
        "clouds": max(1, regions // 5),
        "regions": regions,
        "cells": max(regions, hosts // 250),
        "network_devices": hosts // 10,
        "hosts": hosts,
    }


def proc_status(pid: int, field: str) -> float:
    """A memory figure of /proc/<pid>/status in MiB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """``craton-api`` as a subprocess on loopback, with its access log in a file."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"craton-api-{self.port}.log"
        self._log = self.log_path.open("wb")
        env = {**os.environ, "CRATON_ACCESS_LOG": "true"}
        self.process = subprocess.Popen(
            [
                str(BIN / "craton-api"),
                "--database-url",
                database_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--log-level",
                "info",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait_ready(self, headers: dict[str, str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"craton-api exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v1/clouds", headers=headers, timeout=5).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("craton-api did not start within 60 s")

    def server_ms(self, request_id: str) -> float | None:
        """The access log's time for one request (it is written when the request ends)."""
        for _ in range(50):
            for match in ACCESS.finditer(self.log_path.read_text(errors="replace")):
                if match.group(1) == request_id:
                    return float(match.group(3))
            time.sleep(0.02)
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


def timed_get(server: Server, client: httpx.Client, **kwargs: Any) -> dict[str, Any]:
    cpu_before = cpu_seconds(server.process.pid)
    started = time.perf_counter()
    response = client.get("/v1/ansible-inventory", **kwargs)
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server.process.pid) - cpu_before
    if response.status_code not in (200, 304):
        raise RuntimeError(f"GET /v1/ansible-inventory answered {response.status_code}: {response.text[:500]}")
    request_id = response.headers.get("x-openstack-request-id", "")
    server_ms = server.server_ms(request_id)
    return {
        "status": response.status_code,
        # The access log's figure; the client's when the log line cannot be found.
        "server_s": server_ms / 1000 if server_ms is not None else wall,
        "client_s": wall,
        "server_cpu_s": cpu,
        "bytes": len(response.content),
        "etag": response.headers.get("ETag"),
        "body": response.content,
    }


def run_ansible(args: list[str], env: dict[str, str], out: Path) -> dict[str, Any]:
    """Wall time, CPU time and peak RSS of one command.

    The peak is VmHWM polled from /proc every 50 ms while the command runs: ``ru_maxrss``
    of a child also counts the memory of this (large) process it was spawned from. VmHWM
    only grows, so the last poll sees the peak unless the command grew in its final 50 ms
    (ansible-inventory spends longer than that freeing its heap).
    """
    started = time.perf_counter()
    with out.open("wb") as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env)
        peak = 0.0
        while True:
            with contextlib.suppress(OSError, KeyError):  # gone, or a zombie without memory
                peak = max(peak, proc_status(process.pid, "VmHWM"))
            done, status, usage = os.wait4(process.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        errors = stderr.read()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}): {errors.decode()[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peak}


def ansible_end_to_end(
    server: Server, facts: dict[str, Any], workdir: Path, script_max_hosts: int, graph: bool
) -> dict[str, Any]:
    source = workdir / "bench.craton.yml"
    source.write_text("plugin: openstack.craton.craton\n")
    home = workdir / "ansible-home"
    home.mkdir(exist_ok=True)
    config = workdir / "ansible.cfg"
    config.touch()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_CONFIG": str(config),
        "CRATON_URL": server.url,
        "OS_PROJECT_ID": facts["project_id"],
        "OS_USERNAME": facts["username"],
        "OS_PASSWORD": facts["api_key"],
        "CRATON_INVENTORY_TIMEOUT": "3600",
    }
    result: dict[str, Any] = {}
    runs = [("plugin", str(source), "--list")]
    if graph:
        runs.append(("plugin_graph", str(source), "--graph"))
    if facts["counts"]["hosts"] <= script_max_hosts:
        runs.append(("script", str(BIN / "craton-inventory"), "--list"))
    for name, inventory, mode in runs:
        out = workdir / f"ansible-{name}.out"
        say(f"ansible-inventory {mode} ({name})")
        try:
            figures = run_ansible([str(BIN / "ansible-inventory"), "-i", inventory, mode], env, out)
        except RuntimeError as exc:  # keep the other figures; say what failed
            say(str(exc)[-1000:])
            result[name] = {"error": str(exc)[-300:]}
            continue
        if mode == "--list":
            with out.open("rb") as handle:
                figures["hosts"] = len(json.load(handle)["_meta"]["hostvars"])
        out.unlink()
        result[name] = figures
    return result


def measure(backend: str, hosts: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    shape = shape_for(hosts)
    with throwaway_database(backend, workdir, args.postgres_url, prefix="craton_bench_inventory") as url:
        say(f"{backend}: generating {hosts} hosts {shape}")
        facts = generate(url, progress=say, strategies=args.strategies, **shape)
        headers = {
            "X-Auth-Project": facts["project_id"],
            "X-Auth-User": facts["username"],
            "X-Auth-Token": facts["api_key"],
        }
        server = Server(url, workdir)
        try:
            server.wait_ready(headers)
            rss_idle = proc_status(server.process.pid, "VmRSS")
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
                say(f"{backend}/{hosts}: first request")
                cold = timed_get(server, client)
                inventory = json.loads(cold["body"])
                assert len(inventory["_meta"]["hostvars"]) == hosts, "every host must be in the inventory"
                warm = [timed_get(server, client) for _ in range(args.repeat)]
                revalidate = [
                    timed_get(server, client, headers={"If-None-Match": cold["etag"]}) for _ in range(args.repeat)
                ]
                assert all(r["status"] == 304 for r in revalidate), "an unchanged inventory must answer 304"
                region = timed_get(server, client, params={"region_id": facts["id_ranges"]["regions"][0]})
            peak = proc_status(server.process.pid, "VmHWM")
            say(
                f"{backend}/{hosts}: server cold {cold['server_s']:.2f} s (CPU {cold['server_cpu_s']:.2f} s), "
                f"warm {[round(r['server_s'], 2) for r in warm]} s, "
                f"304 {[round(r['server_s'], 3) for r in revalidate]} s, "
                f"one region {region['server_s']:.2f} s, peak RSS {peak:.0f} MiB, {cold['bytes']} bytes"
            )
            ansible = (
                ansible_end_to_end(server, facts, workdir, args.script_max_hosts, not args.no_graph)
                if hosts <= args.ansible_max_hosts
                else None
            )
        finally:
            server.stop()
    variables = facts["counts"]["variables"]
    return {
        "backend": backend,
        "hosts": hosts,
        "shape": shape,
        "variables": variables,
        "labels": facts["counts"]["labels"],
        "generate_s": facts["seconds"],
        "cold": {k: v for k, v in cold.items() if k not in ("body", "etag")},
        "warm_median_server_s": statistics.median(r["server_s"] for r in warm),
        "warm_median_client_s": statistics.median(r["client_s"] for r in warm),
        "warm_median_server_cpu_s": statistics.median(r["server_cpu_s"] for r in warm),
        "revalidate_median_server_s": statistics.median(r["server_s"] for r in revalidate),
        "one_region": {
            "server_s": region["server_s"],
            "bytes": region["bytes"],
            "hosts": len(json.loads(region["body"])["_meta"]["hostvars"]),
        },
        "server_rss_idle_mb": rss_idle,
        "server_peak_rss_mb": peak,
        "ansible": ansible,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | hosts | variables | response | server, cold | server, warm (CPU) | 304 | one region "
        "| server peak RSS | `ansible-inventory --list`, plugin (CPU), peak RSS | `--graph`, plugin "
        "| `--list`, script |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def e2e(figures: dict[str, Any] | None) -> str:
        if not figures:
            return "not run"
        if "error" in figures:
            return "failed"
        return f"{figures['wall_s']:.1f} s ({figures['cpu_s']:.1f} s), {figures['peak_rss_mb']:.0f} MiB"

    for r in results:
        ansible = r["ansible"] or {}
        lines.append(
            f"| {r['backend']} | {r['hosts']:,} | {r['variables']:,} | {r['cold']['bytes'] / 2**20:.1f} MiB "
            f"| {r['cold']['server_s']:.2f} s | {r['warm_median_server_s']:.2f} s "
            f"({r['warm_median_server_cpu_s']:.2f} s) "
            f"| {r['revalidate_median_server_s'] * 1000:.0f} ms "
            f"| {r['one_region']['server_s']:.2f} s ({r['one_region']['hosts']:,} hosts) "
            f"| {r['server_peak_rss_mb']:.0f} MiB | {e2e(ansible.get('plugin'))} | {e2e(ansible.get('plugin_graph'))} "
            f"| {e2e(ansible.get('script'))} |"
        )
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        target = TARGETS.get(r["hosts"])
        if target is None:
            continue
        worst = max(r["cold"]["server_s"], r["warm_median_server_s"])
        line = f"{r['backend']}, {r['hosts']:,} hosts: server {worst:.2f} s (target < {target:g} s"
        if r["hosts"] == 100_000:
            line += f"), peak RSS {r['server_peak_rss_mb']:.0f} MiB (target < {MEMORY_TARGET_MB:.0f} MiB"
            ok = worst < target and r["server_peak_rss_mb"] < MEMORY_TARGET_MB
        else:
            ok = worst < target
        out.append(f"{line}): {'met' if ok else 'MISSED'}")
    return out


def write_docs(path: Path, results: list[dict[str, Any]]) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    block = "\n".join(
        [
            START_MARK,
            f"Measured {dt.date.today().isoformat()} by `python benchmarks/inventory.py` ({machine}; "
            "one craton-api worker; client, server and database on one machine).",
            "",
            table(results),
            "",
            *[f"- {line}" for line in verdicts(results)],
            END_MARK,
        ]
    )
    text = path.read_text()
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        _, tail = rest.split(END_MARK, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark the Ansible inventory endpoint, plugin and script.")
    p.add_argument("--sizes", default="10000,100000", help="host counts, comma-separated (default 10000,100000)")
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    p.add_argument("--postgres-url", default=os.environ.get("CRATON_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    p.add_argument("--repeat", type=int, default=3, help="warm requests per measurement (default 3)")
    p.add_argument(
        "--ansible-max-hosts",
        type=int,
        default=100_000,
        help="skip the ansible-inventory runs above this many hosts (default 100000)",
    )
    p.add_argument("--no-graph", action="store_true", help="skip the ansible-inventory --graph run")
    p.add_argument(
        "--script-max-hosts",
        type=int,
        default=10_000,
        help="skip the script's ansible-inventory run above this many hosts (default 10000)",
    )
    p.add_argument(
        "--strategies",
        choices=("none", "shaped", "declared"),
        default="none",
        help="merge strategies (issue 16): shaped = 3 keys hold dictionaries and 2 lists, all replace; "
        "declared = the same data with those keys declared deep and union",
    )
    p.add_argument("--json-out", type=Path, help="write all figures as JSON here")
    p.add_argument("--write-docs", type=Path, help="replace the figures section of this Markdown file")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="craton-inventory-bench-") as tmp:
        for backend in backends:
            for hosts in sizes:
                result = measure(backend, hosts, args, Path(tmp))
                say(json.dumps(result))
                results.append(result)
    print(table(results))
    for line in verdicts(results):
        print(f"- {line}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")
    if args.write_docs:
        write_docs(args.write_docs, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
