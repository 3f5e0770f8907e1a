"""Randomized concurrent schedules over one subtree, then a whole-database integrity scan.

Issue #19 items 1-3: on PostgreSQL and MariaDB, crossing re-parentings made
cycles, a region delete racing with creates left orphan variables, and the
losing creates answered a misleading 409. The targeted tests replay those
races; the schedule test throws many threads of random writes (creates with
variables and labels, re-parentings, variable and label writes, interface
creates, deletes of hosts, cells and regions) at one small tree, many times,
and then runs the integrity checker (tests/reliability/integrity.py) over the
whole database. Any 500, any misleading 409 and any violation fails.

CI size by default; a soak for release checks (docs/testing.md):

    CRATON_SCHEDULE_RUNS=200 CRATON_SCHEDULE_THREADS=12 CRATON_SCHEDULE_OPS=40 \\
        .venv/bin/python -m pytest tests/reliability/test_concurrent_schedules.py

``CRATON_SCHEDULE_SEED`` replays one seed; each failure message names its seed.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from tests.api.helpers import Craton, Tenant, describe, unique
from tests.reliability.integrity import violations

RUNS = int(os.environ.get("CRATON_SCHEDULE_RUNS", "4"))
THREADS = int(os.environ.get("CRATON_SCHEDULE_THREADS", "8"))
OPS = int(os.environ.get("CRATON_SCHEDULE_OPS", "15"))
SEED = os.environ.get("CRATON_SCHEDULE_SEED")
TRIALS = int(os.environ.get("CRATON_SCHEDULE_TRIALS", "10"))
# Counted over the whole module and printed (pytest -s) for docs/testing.md.
TOTALS: Counter[str] = Counter()


def together(callables: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in threads released at the same moment; their responses, in order."""
    barrier = threading.Barrier(len(callables))
    results: list[Any] = [None] * len(callables)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = callables[index]()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(callables))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for result in results:
        assert isinstance(result, httpx.Response), result
    return results


def assert_clean(server: Any, context: str) -> None:
    found = violations(server.engine)
    TOTALS["violations"] += len(found)
    assert not found, f"{context}: {len(found)} integrity violations, e.g. {found[:10]}"


def test_crossing_reparentings_never_make_a_cycle(craton: Craton, server: Any) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    for _ in range(TRIALS):
        a, b = tenant.inventory.host(region), tenant.inventory.host(region)
        first, second = together(
            [
                lambda a=a, b=b: tenant.client.put(f"/v1/hosts/{a['id']}", json={"parent_id": b["id"]}),
                lambda a=a, b=b: tenant.client.put(f"/v1/hosts/{b['id']}", json={"parent_id": a["id"]}),
            ]
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 400], f"{describe(first)}\n{describe(second)}"
        TOTALS["crossing re-parentings"] += 1
    assert_clean(server, "crossing re-parentings")


def test_region_delete_racing_creates_leaves_no_orphans_and_no_409(craton: Craton, server: Any) -> None:
    tenant = craton.tenant()
    for _ in range(max(2, TRIALS // 3)):
        region = tenant.inventory.region()
        calls: list[Callable[[], httpx.Response]] = [lambda r=region: tenant.client.delete(f"/v1/regions/{r['id']}")]
        for n in range(THREADS):
            body = {
                "name": f"host-{n}",  # unique per region: a 409 could only be the misleading one
                "cloud_id": region["cloud_id"],
                "region_id": region["id"],
                "ip_address": "10.0.0.1",
                "device_type": "server",
                "variables": {f"k{i}": i for i in range(20)},
                "labels": ["a", "b"],
            }
            calls.append(lambda body=body: tenant.client.post("/v1/hosts", json=body))
        responses = together(calls)
        assert responses[0].status_code == 204, describe(responses[0])
        for response in responses[1:]:
            assert response.status_code in (201, 400, 404), describe(response)
            if response.status_code == 400:
                assert f"Region {region['id']} does not exist" in response.json()["message"], describe(response)
        TOTALS["delete/create races"] += 1
    assert_clean(server, "delete racing creates")


class Schedule:
    """One run: a small tree, then THREADS threads of OPS random writes on it."""

    def __init__(self, tenant: Tenant, seed: int) -> None:
        self.tenant = tenant
        self.client = tenant.client
        self.seed = seed
        self.lock = threading.Lock()
        inv = tenant.inventory
        cloud = inv.cloud()
        self.regions = [inv.region(cloud) for _ in range(2)]
        self.cells = [inv.cell(region) for region in self.regions for _ in range(2)]
        self.hosts = [inv.host(cell=cell, variables={"seed": seed}) for cell in self.cells for _ in range(2)]
        self.networks = [inv.network(region) for region in self.regions]
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []

    def pick(self, items: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
        with self.lock:
            return rng.choice(items)

    def add(self, items: list[dict[str, Any]], response: httpx.Response) -> None:
        if response.status_code == 201:
            with self.lock:
                items.append(response.json())

    def operation(self, rng: random.Random) -> httpx.Response:
        choice = rng.randrange(100)
        client = self.client
        if choice < 25:  # create a host, maybe nested, with variables and labels
            cell = self.pick(self.cells, rng)
            body: dict[str, Any] = {
                "name": unique("h"),
                "cloud_id": cell["cloud_id"],
                "region_id": cell["region_id"],
                "cell_id": cell["id"],
                "ip_address": "10.0.0.9",
                "device_type": "server",
                "variables": {"a": rng.randrange(5), "b": {"n": rng.randrange(5)}},
                "labels": [f"l{rng.randrange(3)}"],
            }
            if rng.random() < 0.5:
                body["parent_id"] = self.pick(self.hosts, rng)["id"]
            response = client.post("/v1/hosts", json=body)
            self.add(self.hosts, response)
            return response
        if choice < 45:  # re-parent (or un-parent) a host
            host, parent = self.pick(self.hosts, rng), self.pick(self.hosts, rng)
            body = {"parent_id": None if rng.random() < 0.2 else parent["id"]}
            return client.put(f"/v1/hosts/{host['id']}", json=body)
        if choice < 60:  # variables on a host, cell or region
            target = rng.choice(
                [
                    ("hosts", self.pick(self.hosts, rng)),
                    ("cells", self.pick(self.cells, rng)),
                    ("regions", self.pick(self.regions, rng)),
                ]
            )
            return client.put(
                f"/v1/{target[0]}/{target[1]['id']}/variables", json={f"v{rng.randrange(4)}": rng.random()}
            )
        if choice < 67:  # labels
            host = self.pick(self.hosts, rng)
            return client.put(f"/v1/hosts/{host['id']}/labels", json={"labels": [f"l{rng.randrange(4)}"]})
        if choice < 75:  # an interface, on a network of the host's region when there is one
            host = self.pick(self.hosts, rng)
            body = {
                "name": unique("eth"),
                "device_id": host["id"],
                "interface_type": "ethernet",
                "ip_address": "10.0.0.2",
            }
            network = self.pick(self.networks, rng)
            if network["region_id"] == host["region_id"]:
                body["network_id"] = network["id"]
            return client.post("/v1/network-interfaces", json=body)
        if choice < 88:  # delete a host
            return client.delete(f"/v1/hosts/{self.pick(self.hosts, rng)['id']}")
        if choice < 93:  # a new cell
            region = self.pick(self.regions, rng)
            response = client.post(
                "/v1/cells", json={"name": unique("c"), "cloud_id": region["cloud_id"], "region_id": region["id"]}
            )
            self.add(self.cells, response)
            return response
        if choice < 99:  # delete a cell with what is in it
            return client.delete(f"/v1/cells/{self.pick(self.cells, rng)['id']}")
        return client.delete(f"/v1/regions/{self.pick(self.regions, rng)['id']}")

    def worker(self, index: int, barrier: threading.Barrier) -> None:
        rng = random.Random(self.seed * 1000 + index)
        barrier.wait()
        for _ in range(OPS):
            try:
                response = self.operation(rng)
            except httpx.HTTPError as exc:
                with self.lock:
                    self.unexpected.append(f"{type(exc).__name__}: {exc}")
                continue
            with self.lock:
                self.statuses[response.status_code] += 1
                if response.status_code >= 500 or (response.status_code == 409 and "already exists" in response.text):
                    self.unexpected.append(describe(response))

    def run(self) -> None:
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=self.worker, args=(i, barrier)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)


def test_random_concurrent_schedules_keep_the_database_intact(craton: Craton, server: Any) -> None:
    base = int(SEED) if SEED is not None else random.randrange(1_000_000)
    statuses: Counter[int] = Counter()
    for run in range(RUNS):
        seed = base + run
        schedule = Schedule(craton.tenant(), seed)
        schedule.run()
        statuses.update(schedule.statuses)
        assert not schedule.unexpected, f"seed {seed} on {server.backend}: {schedule.unexpected[:5]}"
        assert_clean(server, f"seed {seed} on {server.backend}")
        TOTALS["schedules"] += 1
        TOTALS["requests"] += sum(schedule.statuses.values())
    print(f"\n{server.backend}: {dict(TOTALS)}; statuses {dict(sorted(statuses.items()))}")
    assert statuses[200] + statuses[201] + statuses[204] > 0
