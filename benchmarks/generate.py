#!/usr/bin/env python3
"""Generate a Craton fleet of a chosen size, fast, for benchmarks.

    python benchmarks/generate.py --database-url sqlite:///bench.sqlite --hosts 100000

Runs the migrations and bootstrap, then writes every row with SQLAlchemy Core
bulk inserts against ``craton.storage.tables`` (``executemany`` of the compiled
``insert(table)``; ``COPY`` on PostgreSQL): no API calls, no ORM. Ids are
assigned here (after the highest existing id, so a second run appends),
``created_at`` increases by one millisecond per object in id order, PostgreSQL
sequences are moved past the new ids so that the API can keep creating rows,
and PostgreSQL and MariaDB get ``ANALYZE`` at the end. 10,000 hosts take
seconds; 100,000 hosts about a minute and a half on a loaded 2-core machine.

The shape, all counts being totals for the whole fleet:

* ``projects`` projects; the root user (printed, and written with
  ``--credentials-out``) lives in the first one and, being root, sees them all;
* ``clouds`` spread round-robin over the projects, ``regions`` over the clouds,
  ``cells`` over the regions, ``hosts`` over the cells (host *i* goes to cell
  *i mod cells*, so consecutive hosts sit in different regions; with
  ``--cells 0`` hosts sit directly in regions);
* ``network_devices`` nested under hosts (``parent_id``), spread evenly over
  them, in the parent's cell, region and cloud;
* ``vars_min``..``vars_max`` variables on every project, cloud, region, cell
  and device. Most keys come from one shared pool, so nearer levels shadow
  farther ones; each level also has one tag key with a unique value
  (``project_tag``, ``cloud_tag``, ``region_tag``, ``cell_tag``, and
  ``serial`` on devices) that ``vars`` queries can select on;
* ``labels`` labels per device from a pool of 40.

Importable: ``generate(url, hosts=100_000)`` returns the credentials, the id
ranges and the expected answer of a ``vars`` probe as a JSON-ready dict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from craton.domain.bootstrap import bootstrap
from craton.storage import migrate
from craton.storage.engine import create_engine
from craton.storage.prepared import processed_rows
from craton.storage.tables import cells, clouds, devices, labels, merge_strategies, projects, regions, variables

DEFAULT_SIZES: dict[str, int] = {
    "projects": 1,
    "clouds": 2,
    "regions": 4,
    "cells": 40,
    "hosts": 10_000,
    "network_devices": 1_000,
    "vars_min": 10,
    "vars_max": 20,
    "labels": 3,
}

# Keys shared by every level (so that resolution has something to shadow), and
# one tag key per level with a unique value for ``vars`` queries.
SHARED_KEYS = tuple(
    [
        "ntp_servers",
        "dns_servers",
        "syslog_host",
        "timezone",
        "os_family",
        "os_release",
        "kernel",
        "domain",
        "monitoring",
        "backup_policy",
        "owner_team",
        "cost_center",
        "environment",
        "maintenance_window",
        "openstack_release",
        "neutron_ml2",
        "cinder_backend",
        "nova_cpu_ratio",
        "nova_ram_ratio",
        "mtu",
        "bond_mode",
        "ipmi_user",
        "sshd",
        "sysctl",
        "packages",
    ]
    + [f"custom_{n:02d}" for n in range(25)]
)
#: Keys the ``strategies`` option shapes (dictionaries for ``deep``, lists for ``union``) and,
#: with ``strategies="declared"``, declares in every project (issue 16: 3 deep, 2 union).
MERGED_KEYS = {"sysctl": "deep", "sshd": "deep", "monitoring": "deep", "ntp_servers": "union", "dns_servers": "union"}
STRATEGY_MODES = ("none", "shaped", "declared")
TAG_KEYS = {
    "project": "project_tag",
    "cloud": "cloud_tag",
    "region": "region_tag",
    "cell": "cell_tag",
    "device": "serial",
}
LABEL_POOL = tuple(
    [f"rack-{n:02d}" for n in range(16)]
    + [f"role-{r}" for r in ("compute", "storage", "network", "control", "gpu", "edge", "db", "lb")]
    + [f"env-{e}" for e in ("prod", "staging", "dev", "qa")]
    + [
        f"hw-{h}"
        for h in ("r640", "r740", "sr650", "dl360", "dl380", "x11", "c6420", "apollo", "qfx", "n9k", "ex4300", "s4048")
    ]
)
DEVICE_TYPES = ("server", "hypervisor", "storage-node")
NETWORK_DEVICE_TYPES = ("switch", "router", "firewall")


def _value_pool(rng: random.Random, size: int = 400) -> list[Any]:
    """Variable values of every JSON type, some nested, built once and reused."""
    pool: list[Any] = []
    for n in range(size):
        pick = n % 8
        if pick == 0:
            pool.append(f"value-{rng.randrange(10**6)}")
        elif pick == 1:
            pool.append(rng.randrange(-1000, 100_000))
        elif pick == 2:
            pool.append(rng.random() < 0.5)
        elif pick == 3:
            pool.append(round(rng.uniform(0, 64), 3))
        elif pick == 4:
            pool.append([f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(3)])
        elif pick == 5:
            pool.append({"enabled": rng.random() < 0.5, "level": rng.randrange(5), "name": f"n{rng.randrange(999)}"})
        elif pick == 6:
            pool.append({"a": {"b": [rng.randrange(100), rng.randrange(100)], "c": f"x{rng.randrange(99)}"}})
        else:
            pool.append(None)
    return pool


def _row_factory(table: sa.Table, names: tuple[str, ...]) -> Callable[..., tuple[Any, ...]]:
    """Build full rows of ``table`` from values for ``names`` (in that order), fast.

    Columns not named (say, one a later migration added) get their constant
    default or NULL, so the generator keeps working as the schema grows.
    """
    columns = [column.name for column in table.c]
    missing = set(names) - set(columns)
    if missing:
        raise RuntimeError(f"craton.storage.tables.{table.name} has no column {sorted(missing)}: update generate.py")
    if tuple(columns) == names:
        return lambda *values: values
    template = [_scalar_default(column) for column in table.c]
    positions = [columns.index(name) for name in names]

    def make(*values: Any) -> tuple[Any, ...]:
        row = list(template)
        for position, value in zip(positions, values, strict=True):
            row[position] = value
        return tuple(row)

    return make


# Parents before children, so a flushed batch never references unwritten rows.
_INSERT_ORDER = ("projects", "clouds", "regions", "cells", "devices", "labels", "variables")


class _Writer:
    """Buffers rows per table and writes each batch with one bulk statement.

    The statement is ``sa.insert(table)`` compiled once for the connection's
    dialect, and each value goes through its column type's own bind processor
    (the JSON encoding of ``JSONText``, the UTC handling of ``UTCDateTime``), as
    SQLAlchemy would do; running them here in a tight loop and handing the
    batch straight to the driver's ``executemany`` is several times faster than
    SQLAlchemy's per-row parameter handling. PostgreSQL gets ``COPY ... FROM
    STDIN`` with the same processed values (several times faster again).
    """

    def __init__(self, conn: sa.Connection, batch_size: int) -> None:
        self.conn = conn
        self.batch_size = batch_size
        self.buffers: dict[str, list[tuple[Any, ...]]] = {}
        self.tables: dict[str, sa.Table] = {}
        self.counts: dict[str, int] = {}
        self._statements: dict[str, tuple[str, list[str], list[tuple[int, Any]]]] = {}
        self.copy = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"

    def add(self, table: sa.Table, row: dict[str, Any] | tuple[Any, ...]) -> None:
        """Buffer one row: a dict, or a tuple with a value for every column in table order."""
        if isinstance(row, dict):
            row = tuple(row[column.name] if column.name in row else _scalar_default(column) for column in table.c)
        buffer = self.buffers.get(table.name)
        if buffer is None:
            buffer = self.buffers[table.name] = []
            self.tables[table.name] = table
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush(table.name)

    def flush(self, name: str | None = None) -> None:
        """Write the buffer of ``name`` (all if None), and first those of the tables it references."""
        order = list(_INSERT_ORDER) if name is None else list(_INSERT_ORDER[: _INSERT_ORDER.index(name) + 1])
        for table_name in order:
            rows = self.buffers.get(table_name)
            if rows:
                self._write(self.tables[table_name], rows)
                self.counts[table_name] = self.counts.get(table_name, 0) + len(rows)
                self.buffers[table_name] = []

    def _statement(self, table: sa.Table) -> tuple[str, list[str], list[tuple[int, Any]]]:
        if table.name not in self._statements:
            dialect = self.conn.dialect
            columns = [c.name for c in table.c]
            compiled = sa.insert(table).compile(dialect=dialect, column_keys=columns)
            if self.copy:
                preparer = dialect.identifier_preparer
                sql = (
                    f"COPY {preparer.format_table(table)} "
                    f"({', '.join(preparer.format_column(c) for c in table.c)}) FROM STDIN"
                )
            else:
                sql = str(compiled)
                if compiled.positional and list(compiled.positiontup) != columns:
                    raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
            processors = []
            for index, column in enumerate(table.c):
                processor = column.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors.append((index, _remember_last(processor)))
            self._statements[table.name] = (sql, columns, processors)
        return self._statements[table.name]

    def _write(self, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        sql, columns, processors = self._statement(table)
        if processors:
            processed = processed_rows(rows, processors)
        else:
            processed = rows  # type: ignore[assignment]
        if self.copy:
            with self.conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(sql) as copy:
                    for values in processed:
                        copy.write_row(values)
        elif self.conn.dialect.positional:
            self.conn.exec_driver_sql(sql, [tuple(values) for values in processed])
        else:
            self.conn.exec_driver_sql(sql, [dict(zip(columns, values, strict=True)) for values in processed])


def _scalar_default(column: sa.Column[Any]) -> Any:
    """A column left out of a row gets its constant Python-side default (e.g. a later migration's), else NULL."""
    default = column.default
    return default.arg if default is not None and getattr(default, "is_scalar", False) else None


def _remember_last(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Rows arrive grouped by owner, sharing timestamps: skip re-processing a repeated value."""
    last: list[Any] = [_NOTHING, None]

    def process(value: Any) -> Any:
        if value is not last[0] or value is _NOTHING:
            last[0], last[1] = value, processor(value)
        return last[1]

    return process


_NOTHING = object()


def _next_id(conn: sa.Connection, table: sa.Table) -> int:
    return (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1


def _reset_sequences(conn: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """PostgreSQL: move each serial past the ids written explicitly (MariaDB and SQLite do it themselves)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
        )


def _analyze(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in (projects, clouds, regions, cells, devices, labels, variables):
                conn.exec_driver_sql(f"ANALYZE {table.name}")
    elif engine.dialect.name in ("mysql", "mariadb"):
        with engine.connect() as conn:
            for table in (projects, clouds, regions, cells, devices, labels, variables):
                conn.exec_driver_sql(f"ANALYZE TABLE {table.name}").all()


def _check_sizes(sizes: dict[str, int]) -> None:
    for name, value in sizes.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if sizes["projects"] < 1:
        raise ValueError("projects must be at least 1")
    if sizes["clouds"] < sizes["projects"]:
        raise ValueError("clouds must be at least projects (every project gets one)")
    if sizes["regions"] < sizes["clouds"]:
        raise ValueError("regions must be at least clouds (every cloud gets one)")
    if sizes["cells"] and sizes["cells"] < sizes["regions"]:
        raise ValueError("cells must be 0 or at least regions (every region gets one)")
    if (sizes["hosts"] or sizes["network_devices"]) and sizes["regions"] < 1:
        raise ValueError("devices need at least one region")
    if sizes["network_devices"] and not sizes["hosts"]:
        raise ValueError("network devices are nested under hosts: hosts must be at least 1")
    if not 1 <= sizes["vars_min"] <= sizes["vars_max"]:
        raise ValueError("need 1 <= vars_min <= vars_max")
    if sizes["vars_max"] > len(SHARED_KEYS) + 1:
        raise ValueError(f"vars_max can be at most {len(SHARED_KEYS) + 1}")
    if sizes["labels"] > len(LABEL_POOL):
        raise ValueError(f"labels can be at most {len(LABEL_POOL)}")


def generate(
    database_url: str,
    *,
    seed: int = 1,
    batch_size: int = 5000,
    run_migrations: bool = True,
    analyze: bool = True,
    progress: Callable[[str], None] | None = None,
    strategies: str = "none",
    **sizes: int,
) -> dict[str, Any]:
    """Create the fleet in ``database_url`` and return what a benchmark needs to use it.

    ``sizes`` override :data:`DEFAULT_SIZES` (projects, clouds, regions, cells,
    hosts, network_devices, vars_min, vars_max, labels). The result holds the
    root credentials (``project_id``, ``username``, ``api_key``), every
    ``project_ids``, the inclusive ``id_ranges`` of each table's new rows, row
    ``counts``, ``seconds`` taken, and ``vars_probe``: a ``region_tag`` value
    with the number of hosts and network devices that resolve to it.

    ``strategies``: ``none`` (default), ``shaped`` (the :data:`MERGED_KEYS` hold dictionaries
    and lists worth merging) or ``declared`` (the same data, and the keys declared with their
    strategies in every project): ``shaped`` is the replace-only baseline of ``declared``.

    ``analyze`` refreshes the planner statistics of PostgreSQL and MariaDB
    afterwards, as their autovacuum and InnoDB's automatic recalculation would
    soon do anyway in production; SQLite never gathers them on its own, so it
    is left as a deployed Craton would have it.
    """
    unknown = set(sizes) - set(DEFAULT_SIZES)
    if unknown:
        raise TypeError(f"unknown sizes: {', '.join(sorted(unknown))}")
    if strategies not in STRATEGY_MODES:
        raise ValueError(f"strategies must be one of {', '.join(STRATEGY_MODES)}")
    size = {**DEFAULT_SIZES, **{k: int(v) for k, v in sizes.items()}}
    _check_sizes(size)
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    values = _value_pool(rng)

    if run_migrations:
        migrate.upgrade(database_url)
        say(f"migrated in {time.perf_counter() - started:.1f}s")

    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        # A bigger page cache for this loading connection only: the variables
        # indexes outgrow SQLite's 2 MB default long before 100,000 hosts.
        sa.event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA cache_size = -262144"))
    project_ids = [str(uuid.uuid4()) for _ in range(size["projects"])]
    try:
        with engine.begin() as conn:
            credentials = bootstrap(
                conn,
                project_id=project_ids[0],
                project_name="bench-project-0",
                username=f"bench-root-{project_ids[0][:8]}",
            )
            result = _write_fleet(conn, size, rng, values, project_ids, batch_size, say, strategies != "none")
            if strategies == "declared":
                conn.execute(
                    sa.insert(merge_strategies),
                    [
                        {"project_id": project, "key": key, "strategy": strategy, "created_at": dt.datetime.now(dt.UTC)}
                        for project in project_ids
                        for key, strategy in MERGED_KEYS.items()
                    ],
                )
        if analyze and engine.dialect.name != "sqlite":
            _analyze(engine)
            say("analyzed")
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    say(f"done in {seconds:.1f}s")
    return {
        "database_url": database_url,
        "project_id": credentials.project_id,
        "username": credentials.username,
        "api_key": credentials.api_key,
        "project_ids": project_ids,
        "sizes": size,
        "seed": seed,
        "seconds": round(seconds, 3),
        "strategies": strategies,
        **result,
    }


def _shaped(rng: random.Random, strategy: str) -> Any:
    """A value worth merging: a nested dictionary for ``deep``, a list with likely repeats for ``union``."""
    if strategy == "deep":
        return {
            "net": {f"k{rng.randrange(6)}": rng.randrange(100) for _ in range(2)},
            f"opt{rng.randrange(8)}": rng.random() < 0.5,
            "level": rng.randrange(5),
        }
    return [f"10.0.{rng.randrange(4)}.{rng.randrange(1, 8)}" for _ in range(3)]


def _variables_for(
    rng: random.Random, values: list[Any], size: dict[str, int], kind: str, tag: Any, shaped: bool = False
) -> dict[str, Any]:
    count = rng.randint(size["vars_min"], size["vars_max"])
    chosen = {TAG_KEYS[kind]: tag}
    for key in rng.sample(SHARED_KEYS, count - 1):
        chosen[key] = values[rng.randrange(len(values))]
        if shaped and key in MERGED_KEYS:
            chosen[key] = _shaped(rng, MERGED_KEYS[key])
    return chosen


def _write_fleet(
    conn: sa.Connection,
    size: dict[str, int],
    rng: random.Random,
    values: list[Any],
    project_ids: list[str],
    batch_size: int,
    say: Callable[[str], None],
    shaped: bool = False,
) -> dict[str, Any]:
    writer = _Writer(conn, batch_size)
    variable_row = _row_factory(
        variables, ("owner_kind", "owner_id", "key", "value", "project_id", "created_at", "updated_at")
    )
    label_row = _row_factory(labels, ("device_id", "label"))
    total_objects = sum(size[k] for k in ("projects", "clouds", "regions", "cells", "hosts", "network_devices"))
    clock_start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(
        milliseconds=total_objects + 1000
    )
    tick = 0

    def created_at() -> dt.datetime:
        nonlocal tick
        tick += 1
        return clock_start + dt.timedelta(milliseconds=tick)

    def add_variables(kind: str, owner_id: Any, project_id: str, when: dt.datetime, tag: Any) -> None:
        owner = str(owner_id)
        for key, value in _variables_for(rng, values, size, kind, tag, shaped).items():
            writer.add(variables, variable_row(kind, owner, key, value, project_id, when, None))

    # Projects: the first one exists already (bootstrap made it); it gets its variables here.
    for index, project_id in enumerate(project_ids):
        when = created_at()
        if index:
            writer.add(projects, {"id": project_id, "name": f"bench-project-{index}", "created_at": when})
        add_variables("project", project_id, project_id, when, f"project-{index}")
    writer.flush("projects")

    def place(
        table: sa.Table, count: int, parent_of: Callable[[int], dict[str, Any]], kind: str, prefix: str
    ) -> list[dict[str, Any]]:
        first = _next_id(conn, table)
        placed = []
        for index in range(count):
            when = created_at()
            row = {
                "id": first + index,
                "name": f"{prefix}-{index}",
                "note": None,
                "created_at": when,
                **parent_of(index),
            }
            writer.add(table, row)
            add_variables(kind, row["id"], row["project_id"], when, f"{prefix}-{index}")
            placed.append(row)
        writer.flush(table.name)
        return placed

    cloud_rows = place(
        clouds, size["clouds"], lambda i: {"project_id": project_ids[i % len(project_ids)]}, "cloud", "cloud"
    )
    region_rows = place(
        regions,
        size["regions"],
        lambda i: {
            "project_id": cloud_rows[i % len(cloud_rows)]["project_id"],
            "cloud_id": cloud_rows[i % len(cloud_rows)]["id"],
        },
        "region",
        "region",
    )
    cell_rows = place(
        cells,
        size["cells"],
        lambda i: {
            "project_id": region_rows[i % len(region_rows)]["project_id"],
            "cloud_id": region_rows[i % len(region_rows)]["cloud_id"],
            "region_id": region_rows[i % len(region_rows)]["id"],
        },
        "cell",
        "cell",
    )
    say(f"{len(cloud_rows)} clouds, {len(region_rows)} regions, {len(cell_rows)} cells")

    first_device = _next_id(conn, devices)
    hosts_per_region: dict[int, int] = {}
    host_places: list[tuple[str, int, int, int | None]] = []
    for index in range(size["hosts"]):
        if cell_rows:
            cell = cell_rows[index % len(cell_rows)]
            where = (cell["project_id"], cell["cloud_id"], cell["region_id"], cell["id"])
        else:
            region = region_rows[index % len(region_rows)]
            where = (region["project_id"], region["cloud_id"], region["id"], None)
        host_places.append(where)
        hosts_per_region[where[2]] = hosts_per_region.get(where[2], 0) + 1

    def add_device(
        device_id: int,
        kind: str,
        name: str,
        where: tuple[str, int, int, int | None],
        parent_id: int | None,
        device_type: str,
        extra: dict[str, Any],
    ) -> None:
        project_id, cloud_id, region_id, cell_id = where
        when = created_at()
        writer.add(
            devices,
            {
                "id": device_id,
                "kind": kind,
                "project_id": project_id,
                "cloud_id": cloud_id,
                "region_id": region_id,
                "cell_id": cell_id,
                "parent_id": parent_id,
                "name": name,
                "device_type": device_type,
                "ip_address": f"10.{(device_id >> 16) & 255}.{(device_id >> 8) & 255}.{device_id & 255}",
                "active": True,
                "note": None,
                "model_name": extra.get("model_name"),
                "os_version": extra.get("os_version"),
                "vlans": extra.get("vlans"),
                "created_at": when,
                "updated_at": None,
            },
        )
        for label in rng.sample(LABEL_POOL, size["labels"]):
            writer.add(labels, label_row(device_id, label))
        add_variables("device", device_id, project_id, when, f"SN{device_id:010d}")

    for index, where in enumerate(host_places):
        add_device(
            first_device + index,
            "host",
            f"host-{first_device + index}",
            where,
            None,
            DEVICE_TYPES[index % len(DEVICE_TYPES)],
            {},
        )
    writer.flush("devices")
    say(f"{size['hosts']} hosts")

    first_netdev = first_device + size["hosts"]
    netdevs_per_region: dict[int, int] = {}
    nested: dict[str, int] | None = None
    for index in range(size["network_devices"]):
        host_index = index * size["hosts"] // size["network_devices"]
        where = host_places[host_index]
        netdevs_per_region[where[2]] = netdevs_per_region.get(where[2], 0) + 1
        device_id = first_netdev + index
        add_device(
            device_id,
            "network_device",
            f"netdev-{device_id}",
            where,
            first_device + host_index,
            NETWORK_DEVICE_TYPES[index % len(NETWORK_DEVICE_TYPES)],
            {"model_name": "QFX5100", "os_version": "17.3", "vlans": "[100, 200]"},
        )
        if nested is None:
            nested = {"network_device_id": device_id, "parent_host_id": first_device + host_index}
    writer.flush()
    say(
        f"{size['network_devices']} network devices, {writer.counts.get('labels', 0)} labels, "
        f"{writer.counts.get('variables', 0)} variables"
    )

    _reset_sequences(conn, (clouds, regions, cells, devices))

    def id_range(rows: list[dict[str, Any]]) -> list[int] | None:
        return [rows[0]["id"], rows[-1]["id"]] if rows else None

    probe_region = region_rows[0]
    return {
        "counts": {
            "projects": len(project_ids),
            "clouds": len(cloud_rows),
            "regions": len(region_rows),
            "cells": len(cell_rows),
            "hosts": size["hosts"],
            "network_devices": size["network_devices"],
            "labels": writer.counts.get("labels", 0),
            "variables": writer.counts.get("variables", 0),
        },
        "id_ranges": {
            "clouds": id_range(cloud_rows),
            "regions": id_range(region_rows),
            "cells": id_range(cell_rows),
            "hosts": [first_device, first_netdev - 1] if size["hosts"] else None,
            "network_devices": [first_netdev, first_netdev + size["network_devices"] - 1]
            if size["network_devices"]
            else None,
        },
        "nested_example": nested,
        "vars_probe": {
            "key": TAG_KEYS["region"],
            "value": probe_region["name"],
            "region_id": probe_region["id"],
            "query": f'{TAG_KEYS["region"]}:"{probe_region["name"]}"',
            "hosts": hosts_per_region.get(probe_region["id"], 0),
            "network_devices": netdevs_per_region.get(probe_region["id"], 0),
        },
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Fill a Craton database with a generated fleet (bulk inserts).")
    p.add_argument("--database-url", required=True, help="SQLAlchemy URL; migrated to head first")
    for name, default in DEFAULT_SIZES.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default, help=f"(default {default})")
    p.add_argument("--seed", type=int, default=1, help="random seed for variables and labels (default 1)")
    p.add_argument("--batch-size", type=int, default=5000, help="rows per executemany (default 5000)")
    p.add_argument("--credentials-out", type=Path, help="write credentials and fleet facts as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--no-analyze", action="store_true", help="skip ANALYZE on PostgreSQL and MariaDB")
    p.add_argument(
        "--strategies",
        choices=STRATEGY_MODES,
        default="none",
        help="shaped: 3 keys hold dictionaries and 2 lists worth merging; declared: the same, declared "
        "deep and union in every project (default none)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sizes = {name: getattr(args, name) for name in DEFAULT_SIZES}
    progress = None if args.quiet else (lambda message: print(f"generate: {message}", file=sys.stderr, flush=True))
    try:
        result = generate(
            args.database_url,
            seed=args.seed,
            batch_size=args.batch_size,
            progress=progress,
            analyze=not args.no_analyze,
            strategies=args.strategies,
            **sizes,
        )
    except ValueError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    print(f"ProjectId: {result['project_id']}")
    print(f"Username: {result['username']}")
    print(f"APIKey: {result['api_key']}")
    if args.credentials_out:
        args.credentials_out.write_text(json.dumps(result, indent=2) + "\n")
        args.credentials_out.chmod(0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
