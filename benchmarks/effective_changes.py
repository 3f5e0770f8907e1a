"""The effective-change feed's costs (issue 15 §2): write time, pump (catch-up) time, single-host overhead.

A fleet of one region with ``--hosts`` hosts in 10 cells (10 to 20 variables on every level) is
generated in bulk (benchmarks/generate.py, as benchmarks/preview.py does). Then, the way the API
and the event pump run them (the domain use case in one write transaction; the pump's round):

1. **region write**: ``PUT /v1/regions/<id>/variables`` of two keys, committed. Only the change
   record and its outbox row are written with it;
2. **catch-up**: the pump rounds that compute and write the region write's effective changes,
   from the commit until all of them are readable (``process_pending`` until the outbox is empty;
   the server's thread adds at most its ``[events] interval`` of waiting, 1 s by default);
3. **single host write**: ``--writes`` host variable writes, each followed by the pump round that
   handles it, with the effective changes computed (after) and without (before: the pump as it was,
   the ``change`` events only). The write alone is also given: its statements did not change.
   ``batched``: the same number of writes to different hosts, then the pump: rounds of many
   changes, as a busy server's pump thread sees them (one round a second).

Wall time and this process's CPU time (the server's share; the database's own CPU is not in it),
best of ``--repeat`` for 1 and 2, totals for 3.

    .venv/bin/python -m benchmarks.effective_changes --backends sqlite,postgresql --hosts 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.common import throwaway_database
from benchmarks.generate import generate
from craton.domain import containers, devices
from craton.domain import variables as variable_domain
from craton.domain.events import effective, pump
from craton.domain.principal import Principal, Role
from craton.storage.engine import create_engine, transaction

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
}


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def drain(engine: sa.Engine) -> int:
    total = 0
    while done := pump.process_pending(engine):
        total += done
    return total


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())  # noqa: S608 - constant


def principal_for(project_id: str) -> Principal:
    return Principal(project_id=project_id, username="bench", role=Role.ADMIN, request_id="req-bench")


def measure(url: str, hosts: int, repeat: int, writes: int) -> dict[str, Any]:
    fleet = generate(url, projects=1, clouds=1, regions=1, cells=10, hosts=hosts, network_devices=0)
    project_id = fleet["project_ids"][0]
    region_id = fleet["id_ranges"]["regions"][0]
    host_id = fleet["id_ranges"]["hosts"][0]
    engine = create_engine(url)
    figures: dict[str, Any] = {}
    try:
        drain(engine)
        write_best = [float("inf"), float("inf")]
        pump_best = [float("inf"), float("inf")]
        for n in range(repeat):
            before = count(engine, "effective_changes")

            def write(n: int = n) -> None:
                with transaction(engine, writes=True) as conn:
                    variable_domain.set_variables(
                        conn, principal_for(project_id), containers.REGION, region_id, {"bench_key": n, "ntp": f"x{n}"}
                    )

            wall, cpu, _ = timed(write)
            write_best = [min(write_best[0], wall), min(write_best[1], cpu)]
            wall, cpu, _ = timed(lambda: drain(engine))
            pump_best = [min(pump_best[0], wall), min(pump_best[1], cpu)]
            figures["effective_changes_per_write"] = count(engine, "effective_changes") - before
        figures["region_write_wall_s"], figures["region_write_cpu_s"] = write_best
        figures["catch_up_wall_s"], figures["catch_up_cpu_s"] = pump_best

        def host_writes(label: str) -> None:
            def work() -> None:
                for n in range(writes):
                    with transaction(engine, writes=True) as conn:
                        variable_domain.set_variables(
                            conn, principal_for(project_id), devices.HOST, host_id, {"bench_key": f"{label}{n}"}
                        )
                    pump.process_pending(engine)

            wall, cpu, _ = timed(work)
            figures[f"host_writes_{label}_wall_s"], figures[f"host_writes_{label}_cpu_s"] = wall, cpu

        def host_writes_alone() -> None:
            for n in range(writes):
                with transaction(engine, writes=True) as conn:
                    variable_domain.set_variables(
                        conn, principal_for(project_id), devices.HOST, host_id, {"bench_key": f"alone{n}"}
                    )

        wall, cpu, _ = timed(host_writes_alone)
        figures["host_writes_alone_wall_s"], figures["host_writes_alone_cpu_s"] = wall, cpu
        drain(engine)
        original = effective.compute

        def nothing(conn: sa.Connection, records: Any) -> Iterator[list[dict[str, Any]]]:
            return iter([[] for _ in records])

        def batched_writes(label: str) -> None:
            """Writes to ``writes`` different hosts, then the pump: rounds of many changes, as in a busy server."""

            def work() -> None:
                for n in range(writes):
                    with transaction(engine, writes=True) as conn:
                        variable_domain.set_variables(
                            conn, principal_for(project_id), devices.HOST, host_id + n, {"bench_key": f"{label}{n}"}
                        )
                drain(engine)

            wall, cpu, _ = timed(work)
            figures[f"batched_{label}_wall_s"], figures[f"batched_{label}_cpu_s"] = wall, cpu

        for label in ("before", "after", "before2", "after2"):
            effective.compute = nothing if label.startswith("before") else original  # type: ignore[assignment]
            try:
                host_writes(label)
                batched_writes(label)
            finally:
                effective.compute = original  # type: ignore[assignment]
        return figures
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                figures = measure(url, args.hosts, args.repeat, args.writes)
            with open("/proc/loadavg") as load:
                figures["loadavg"] = load.read().split()[0]
            shown = ", ".join(
                f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()
            )
            print(f"{backend} ({args.hosts} hosts): {shown}", flush=True)


if __name__ == "__main__":
    main()
