"""How long the impact preview of a region variable change over N hosts takes (issue 15 §1).

A fleet of one region with ``--hosts`` hosts (10 to 20 variables on every level) is
generated in bulk (benchmarks/generate.py); then ``PUT /v1/regions/<id>/variables?preview=true``
of two keys (``bench_key``, new everywhere, and ``timezone``, which about a third of the hosts and
cells set themselves) is run the way the API runs it: the preview wrapper around the real use case in one write
transaction, and the first page (30 devices) turned into the JSON body. Wall time and this
process's CPU time (the server's share; the database's own CPU is not in it) are printed,
best of ``--repeat``. Then the same for ``DELETE /v1/regions/<id>?preview=true`` (every host
listed as deleted; ``delete_*``).

    .venv/bin/python benchmarks/preview.py --backends sqlite,postgresql --hosts 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from benchmarks.common import throwaway_database
from benchmarks.generate import generate
from craton.domain import containers, impact, objects
from craton.domain import variables as variable_domain
from craton.domain.principal import Principal, Role
from craton.storage.engine import create_engine, transaction

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
}


def measure(url: str, hosts: int, repeat: int) -> dict[str, float]:
    fleet = generate(url, projects=1, clouds=1, regions=1, cells=10, hosts=hosts, network_devices=0)
    project_id = fleet["project_ids"][0]
    region_id = fleet["id_ranges"]["regions"][0]
    principal = Principal(project_id=project_id, username="bench", role=Role.ADMIN, request_id="req-bench")
    engine = create_engine(url)
    best = {"wall_s": float("inf"), "cpu_s": float("inf")}
    try:
        for n in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            with transaction(engine, writes=True) as conn:
                outcome = impact.preview(
                    conn,
                    [("region", region_id)],
                    lambda n=n: variable_domain.set_variables(
                        conn, principal, containers.REGION, region_id, {"bench_key": n, "timezone": f"tz-{n}"}
                    ),
                    keys=["bench_key", "timezone"],
                    own_rows_only=True,
                )
                page, _ = outcome.page(30, None)
                orjson.dumps({"devices_affected": len(outcome.changes), "devices": [c.as_json() for c in page]})
            best["wall_s"] = min(best["wall_s"], time.perf_counter() - wall)
            best["cpu_s"] = min(best["cpu_s"], time.process_time() - cpu)
            best["affected"] = len(outcome.changes)
        best["loadavg_1min"] = float(Path("/proc/loadavg").read_text().split()[0])
        for _ in range(repeat):  # the preview of deleting the whole region: every host listed as deleted
            wall, cpu = time.perf_counter(), time.process_time()
            with transaction(engine, writes=True) as conn:
                gone = impact.preview_delete(
                    conn,
                    [("region", region_id)],
                    lambda: objects.delete(conn, principal, containers.REGION, region_id, preview=True),
                )
                page, _ = gone.page(30, None)
                orjson.dumps({"devices_affected": len(gone.changes), "devices": [c.as_json() for c in page]})
            best["delete_wall_s"] = min(best.get("delete_wall_s", float("inf")), time.perf_counter() - wall)
            best["delete_cpu_s"] = min(best.get("delete_cpu_s", float("inf")), time.process_time() - cpu)
            best["delete_affected"] = len(gone.changes)
        with engine.connect() as conn:  # the preview wrote nothing
            written = conn.execute(sa.text("SELECT COUNT(*) FROM changes")).scalar_one()
        best["changes_written"] = written
        return best
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                figures = measure(url, args.hosts, args.repeat)
            shown = ", ".join(
                f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()
            )
            print(f"{backend}: region variable preview over {args.hosts} hosts: {shown}", flush=True)


if __name__ == "__main__":
    main()
