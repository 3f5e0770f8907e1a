"""How long deleting a cell with N hosts takes, preview and delete, in process (no HTTP).

Each host has ``--variables`` variables, a label and an interface; the cell
delete removes them all and (since issue #21) writes a history record for each.
The fleet is inserted in bulk through Core, then the cell is previewed and
deleted through the domain functions the API calls, in one write transaction
each, as a request would.

    .venv/bin/python benchmarks/cascade_delete.py --backends sqlite,postgresql,mariadb --hosts 10000
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from benchmarks.common import throwaway_database
from craton.domain import containers
from craton.domain.principal import Principal, Role
from craton.storage import migrate
from craton.storage.engine import create_engine, transaction
from craton.storage.tables import cells, changes, clouds, devices, labels, network_interfaces, projects, regions
from craton.storage.tables import variables as variables_table

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
}


def fill(engine: sa.Engine, hosts: int, per_host: int) -> tuple[str, int]:
    project_id = str(uuid.uuid4())
    now = sa.func.now()
    with engine.begin() as conn:
        conn.execute(sa.insert(projects).values(id=project_id, name="bench", created_at=now))
        cloud = conn.execute(sa.insert(clouds).values(project_id=project_id, name="c", created_at=now))
        cloud_id = cloud.inserted_primary_key[0]
        region = conn.execute(
            sa.insert(regions).values(project_id=project_id, cloud_id=cloud_id, name="r", created_at=now)
        )
        region_id = region.inserted_primary_key[0]
        cell = conn.execute(
            sa.insert(cells).values(
                project_id=project_id, cloud_id=cloud_id, region_id=region_id, name="cell", created_at=now
            )
        )
        cell_id = cell.inserted_primary_key[0]
        stamp = conn.execute(sa.select(sa.func.now())).scalar_one()
        rows = [
            {
                "kind": "host",
                "project_id": project_id,
                "cloud_id": cloud_id,
                "region_id": region_id,
                "cell_id": cell_id,
                "name": f"host-{n}",
                "device_type": "server",
                "ip_address": "10.0.0.1",
                "active": True,
                "created_at": stamp,
            }
            for n in range(hosts)
        ]
        conn.execute(sa.insert(devices), rows)
        ids = [row.id for row in conn.execute(sa.select(devices.c.id).where(devices.c.cell_id == cell_id))]
        conn.execute(sa.insert(labels), [{"device_id": i, "label": "gpu"} for i in ids])
        conn.execute(
            sa.insert(network_interfaces),
            [
                {
                    "project_id": project_id,
                    "device_id": i,
                    "name": "eth0",
                    "interface_type": "ethernet",
                    "ip_address": "10.0.0.2",
                    "created_at": stamp,
                }
                for i in ids
            ],
        )
        conn.execute(
            sa.insert(variables_table),
            [
                {
                    "owner_kind": "device",
                    "owner_id": str(i),
                    "key": f"key{k}",
                    "value": {"n": k, "text": "some value"},
                    "project_id": project_id,
                    "created_at": stamp,
                }
                for i in ids
                for k in range(per_host)
            ],
        )
    return project_id, cell_id


def measure(backend: str, url: str, hosts: int, per_host: int) -> dict[str, float]:
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        project_id, cell_id = fill(engine, hosts, per_host)
        principal = Principal(project_id=project_id, username="bench", role=Role.ADMIN, request_id="req-bench")
        if hasattr(containers.CELL, "delete"):  # the domain's whole delete (domain/objects.py)
            from craton.domain import objects

            def delete(conn: sa.Connection, principal: Principal, row_id: int, preview: bool) -> dict[str, int]:
                return objects.delete(conn, principal, containers.CELL, row_id, preview=preview)

            previews = True
        else:  # older trees, for A/B runs
            delete = containers.container_deleter(containers.CELL)  # type: ignore[attr-defined]
            previews = "preview" in inspect.signature(containers.delete_container).parameters
        figures: dict[str, float] = {}
        if previews:
            start = time.perf_counter()
            with transaction(engine, writes=True) as conn:
                delete(conn, principal, cell_id, True)  # type: ignore[call-arg]
            figures["preview_s"] = time.perf_counter() - start
        start = time.perf_counter()
        with transaction(engine, writes=True) as conn:
            if previews:
                delete(conn, principal, cell_id, False)  # type: ignore[call-arg]
            else:
                delete(conn, principal, cell_id)  # type: ignore[call-arg]
        figures["delete_s"] = time.perf_counter() - start
        with engine.connect() as conn:
            figures["records"] = conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar_one()
            figures["devices_left"] = conn.execute(sa.select(sa.func.count()).select_from(devices)).scalar_one()
            figures["variables_left"] = conn.execute(
                sa.select(sa.func.count()).select_from(variables_table)
            ).scalar_one()
        return figures
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--variables", type=int, default=10, help="variables per host (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                figures = measure(backend, url, args.hosts, args.variables)
            shown = ", ".join(
                f"{key} {value:.2f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()
            )
            print(f"{backend}: {args.hosts} hosts x {args.variables} variables: {shown}", flush=True)


if __name__ == "__main__":
    main()
