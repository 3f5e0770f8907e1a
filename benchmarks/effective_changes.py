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

``--per-change``: the pump's cost per change in rounds the size a busy server's pump thread sees:
1,000 hosts and 100 network devices below them (8 cells), ``--writes`` single-host variable
writes (two keys, random hosts, seeded) in groups of ``--group``, each group followed by
``process_pending`` until the outbox is empty, with one webhook filtered to a cell. It gives the
pump's CPU and wall time per change (the pump calls only), the statements per round, Python calls
per change (a second, profiled pass; ``--profile N`` also prints the N costliest functions), and a
digest of what the pump produced (effective changes, their keys, webhook deliveries, without
times and generated ids): two versions of the pump that produce the same digest agree.
``--pumps 2``: two pumps (two engines, as two API workers' threads) start on every group at
once; ``rounds_computed`` counts the rounds either computed, delivered or not.
``--mix``: every group also writes a cell's variables, masks or unmasks a key on a cell, and
every fourth group a region's variables, every eighth a cloud's (the container changes a
round handles besides the hosts' own).

    .venv/bin/python -m benchmarks.effective_changes --per-change --backends sqlite,postgresql

Wall time and this process's CPU time (the server's share; the database's own CPU is not in it),
best of ``--repeat`` for 1 and 2, totals for 3.

    .venv/bin/python -m benchmarks.effective_changes --backends sqlite,postgresql --hosts 10000
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.common import throwaway_database
from benchmarks.generate import generate
from craton.domain import containers, devices, webhooks
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


def digest(engine: sa.Engine) -> str:
    """What the pump produced, without times, generated ids and the project's (random) id.

    The same writes to the same generated fleet give the same digest.
    """
    queries = (
        "SELECT id, change_id, device_type, device_id, device_name, cell_id, region_id,"
        " added, removed, changed FROM effective_changes ORDER BY id",
        "SELECT effective_change_id, key FROM effective_change_keys ORDER BY effective_change_id, key",
        "SELECT webhook_id, event_kind, payload FROM webhook_deliveries ORDER BY id",
    )
    unstable = ("occurred_at", "request_id", "project_id", "user_id")
    hashed = hashlib.sha256()
    with engine.connect() as conn:
        for query in queries:
            for row in conn.execute(sa.text(query)):
                values = [json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row]
                if isinstance(values[-1], dict):
                    values[-1] = {k: v for k, v in values[-1].items() if k not in unstable}
                hashed.update(json.dumps(values, sort_keys=True, default=str).encode())
    return hashed.hexdigest()[:16]


def per_change(url: str, writes: int, group: int, profile: int, mix: bool = False, pumps: int = 1) -> dict[str, Any]:
    """The pump's cost per change in rounds of ``group`` single-host writes (see the module's docstring)."""
    fleet = generate(url, seed=1, hosts=1000, network_devices=100, cells=8)
    project_id = fleet["project_id"]
    low, high = fleet["id_ranges"]["hosts"]
    cell_id = fleet["id_ranges"]["cells"][0]
    cells, regions, clouds = (fleet["id_ranges"][name] for name in ("cells", "regions", "clouds"))
    engine = create_engine(url)
    statements = [0]

    def counted(*_: Any) -> None:
        statements[0] += 1

    others = [create_engine(url) for _ in range(pumps - 1)]
    computed = [0]
    original_take = pump._take

    def take(*args: Any) -> Any:
        taken = original_take(*args)
        computed[0] += taken is not None
        return taken

    figures: dict[str, Any] = {}
    try:
        pump._take = take  # type: ignore[assignment]
        with transaction(engine, writes=True) as conn:
            hook = {"url": "http://127.0.0.1:9/hook", "secret": "s" * 20, "filters": {"cell_ids": [cell_id]}}
            webhooks.create(conn, principal_for(project_id), hook, allow_private=True)
        drain(engine)
        rng = random.Random(1)
        counter = iter(range(10**9))
        groups = iter(range(10**9))

        def write_containers() -> int:
            """``--mix``: the group's container changes; how many."""
            n = next(groups)
            principal = principal_for(project_id)
            values = {"bench_counter": next(counter), "bench_note": f"container {n}"}
            with transaction(engine, writes=True) as conn:
                variable_domain.set_variables(conn, principal, containers.CELL, rng.randint(*cells), values)
            with transaction(engine, writes=True) as conn:
                cell = rng.randint(*cells)
                if n % 2:
                    variable_domain.unmask(conn, principal, containers.CELL, cell, ["region_tag", "bench_note"])
                else:
                    variable_domain.mask(conn, principal, containers.CELL, cell, ["region_tag", "bench_note"])
            made = 2
            for every, kind, ids in ((4, containers.REGION, regions), (8, containers.CLOUD, clouds)):
                if n % every == 0:
                    with transaction(engine, writes=True) as conn:
                        variable_domain.set_variables(conn, principal, kind, rng.randint(*ids), values)
                    made += 1
            return made

        def write_group() -> None:
            for _ in range(group - (write_containers() if mix else 0)):
                with transaction(engine, writes=True) as conn:
                    values = {"bench_counter": next(counter), "bench_note": "written by the benchmark"}
                    variable_domain.set_variables(
                        conn, principal_for(project_id), devices.HOST, rng.randint(low, high), values
                    )

        def together() -> int:
            """Every pump drains the outbox at once, as the API workers' threads do when they wake together."""
            start = threading.Barrier(pumps)
            delivered: list[int] = []

            def run(on: sa.Engine) -> None:
                start.wait()
                while pump.process_pending(on):
                    delivered.append(1)

            threads = [threading.Thread(target=run, args=(on,)) for on in (engine, *others)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return len(delivered)

        def pump_rounds(profiler: cProfile.Profile | None = None) -> tuple[float, float, int]:
            wall, cpu, rounds = 0.0, 0.0, 0
            for _ in range(writes // group):
                write_group()
                sa.event.listen(engine, "before_cursor_execute", counted)
                started, started_cpu = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                if pumps == 1:
                    while pump.process_pending(engine):
                        rounds += 1
                else:
                    rounds += together()
                if profiler is not None:
                    profiler.disable()
                wall += time.perf_counter() - started
                cpu += time.process_time() - started_cpu
                sa.event.remove(engine, "before_cursor_execute", counted)
            return wall, cpu, rounds

        done = writes // group * group
        wall, cpu, rounds = pump_rounds()
        figures["changes"] = done
        figures["pump_wall_ms_per_change"] = 1000 * wall / done
        figures["pump_cpu_ms_per_change"] = 1000 * cpu / done
        figures["statements_per_round"] = statements[0] / max(rounds, 1)
        figures["rounds_delivered"], figures["rounds_computed"] = rounds, computed[0]
        figures["effective_changes"] = count(engine, "effective_changes")
        figures["webhook_deliveries"] = count(engine, "webhook_deliveries")
        figures["digest"] = digest(engine)
        profiler = cProfile.Profile()
        pump_rounds(profiler)
        stats = pstats.Stats(profiler)
        figures["python_calls_per_change"] = stats.total_calls / done  # type: ignore[attr-defined]
        if profile:
            stats.sort_stats("tottime").print_stats(profile)
        return figures
    finally:
        pump._take = original_take  # type: ignore[assignment]
        for other in others:
            other.dispose()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writes", type=int, default=None, help="200, or 2,000 with --per-change")
    parser.add_argument("--per-change", action="store_true", help="the pump's cost per change (see above)")
    parser.add_argument("--group", type=int, default=40, help="--per-change: writes per pump round")
    parser.add_argument("--pumps", type=int, default=1, help="--per-change: pumps at once (see above)")
    parser.add_argument("--mix", action="store_true", help="--per-change: container changes too (see above)")
    parser.add_argument("--profile", type=int, default=0, help="--per-change: print the N costliest functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                if args.per_change:
                    figures = per_change(url, args.writes or 2000, args.group, args.profile, args.mix, args.pumps)
                else:
                    figures = measure(url, args.hosts, args.repeat, args.writes or 200)
            with open("/proc/loadavg") as load:
                figures["loadavg"] = load.read().split()[0]
            shown = ", ".join(
                f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()
            )
            print(f"{backend} ({args.hosts} hosts): {shown}", flush=True)


if __name__ == "__main__":
    main()
