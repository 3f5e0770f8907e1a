#!/usr/bin/env python3
"""In-process A/B of merge strategies: the same fleet read replace-only and with strategies declared.

    .venv/bin/python benchmarks/merge_ab.py                        # SQLite, 10,000 hosts
    .venv/bin/python benchmarks/merge_ab.py --backend postgresql   # a throwaway PostgreSQL database

One fleet is generated with ``strategies="shaped"`` (3 keys hold dictionaries, 2 lists). The
script then alternates, round after round, between the project declaring nothing and the
project declaring those keys ``deep`` and ``union``, and measures the CPU time (of this
process: server work without HTTP) of

* a resolved single-host read (``variables.read_with_masks``, what ``GET .../variables`` runs),
* a page of 100 hosts with resolved variables (``resolution.variables_for``, what
  ``?details=true`` runs),
* the whole Ansible inventory (``inventory.render``).

CPU time of one process, interleaved rounds and medians make the comparison hold on a busy
machine, where the wall-clock figures of run.py and inventory.py swing by a third.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.generate import MERGED_KEYS, generate  # noqa: E402
from craton.domain import inventory, resolution  # noqa: E402
from craton.domain import variables as variable_domain  # noqa: E402
from craton.domain.devices import HOST  # noqa: E402
from craton.domain.principal import Principal, Role  # noqa: E402
from craton.storage.engine import create_engine  # noqa: E402
from craton.storage.tables import devices, merge_strategies  # noqa: E402

ADMIN_URLS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test"}


def cpu(fn: Callable[[], Any], repeat: int) -> float:
    """Median CPU milliseconds of one call."""
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as tmp,
        throwaway_database(args.backend, Path(tmp), ADMIN_URLS.get(args.backend)) as url,
    ):
        fleet = generate(url, strategies="shaped", hosts=args.hosts, network_devices=args.hosts // 10)
        project = fleet["project_id"]
        principal = Principal(project_id=project, username="bench", role=Role.ADMIN, record_history=False)
        engine = create_engine(url)
        figures: dict[str, dict[str, list[float]]] = {"replace": {}, "declared": {}}
        with engine.connect() as conn:
            rows = [
                r._mapping
                for r in conn.execute(sa.select(devices).where(devices.c.kind == "host").order_by(devices.c.id))
            ]
            page = rows[:100]
            singles = rows[:: max(1, len(rows) // 200)]
            for _ in range(args.rounds):
                for mode in ("replace", "declared"):
                    conn.execute(sa.delete(merge_strategies).where(merge_strategies.c.project_id == project))
                    if mode == "declared":
                        conn.execute(
                            sa.insert(merge_strategies),
                            [
                                {
                                    "project_id": project,
                                    "key": k,
                                    "strategy": s,
                                    "created_at": dt.datetime.now(dt.timezone.utc),
                                }
                                for k, s in MERGED_KEYS.items()
                            ],
                        )
                    conn.commit()
                    picks = iter(singles * 50)

                    def read_one(picks: Iterator[Any] = picks) -> None:
                        variable_domain.read_with_masks(conn, HOST, next(picks), True)

                    measured = {
                        "single host, resolved (ms)": cpu(read_one, 200),
                        "page of 100 hosts, resolved (ms)": cpu(
                            lambda: resolution.variables_for(conn, "device", page, True), 20
                        ),
                        "ansible inventory (ms)": cpu(
                            lambda: b"".join(inventory.render(conn, principal, inventory.Filters())), 1
                        ),
                    }
                    for name, value in measured.items():
                        figures[mode].setdefault(name, []).append(value)
        engine.dispose()
    title = f"{args.backend}, {args.hosts:,} hosts, CPU of one process (median of {args.rounds} rounds)"
    print(f"| {title} | replace only | 3 deep + 2 union | change |")
    print("|---|---|---|---|")
    for name in figures["replace"]:
        a, b = statistics.median(figures["replace"][name]), statistics.median(figures["declared"][name])
        print(f"| {name} | {a:.2f} | {b:.2f} | {100 * (b - a) / a:+.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
