"""The effective-change feed: one record per device a committed change altered, on every backend.

The server's own pump is off: each test runs the pump by hand, which is also the crash case
(changes committed, nothing computed yet). One test runs with the pump thread on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from craton.domain import webhooks
from craton.domain.events import pump
from craton.domain.principal import Principal, Role
from craton.storage.engine import transaction
from tests.api.helpers import Craton, Tenant, expect, unique
from tests.conftest import BACKENDS, LiveServer, running_server, throwaway_database


@pytest.fixture(scope="module", params=BACKENDS)
def paused(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with (
        throwaway_database(request.param, tmp_path_factory.mktemp("db")) as url,
        running_server(request.param, url, events_enabled=False) as live,
    ):
        yield live


@pytest.fixture(scope="module")
def craton(paused: LiveServer) -> Iterator[Craton]:
    transport = httpx.HTTPTransport()
    yield Craton(paused, transport)
    transport.close()


def drain(server: LiveServer) -> None:
    while pump.process_pending(server.engine):
        pass


def feed(client: httpx.Client, since: int = 0, **params: Any) -> list[dict[str, Any]]:
    return expect(client.get("/v1/effective-changes", params={"since": since, "limit": 1000, **params}), 200)[
        "effective_changes"
    ]


def cursor(client: httpx.Client) -> int:
    """The cursor after everything recorded so far."""
    since = 0
    while True:
        body = expect(client.get("/v1/effective-changes", params={"since": since, "limit": 1000}), 200)
        if not body["effective_changes"]:
            return since
        since = body["next_since"]


def last_change(client: httpx.Client) -> dict[str, Any]:
    changes = expect(client.get("/v1/changes", params={"limit": 1000}), 200)["changes"]
    return changes[-1]


def fleet(tenant: Tenant, hosts: int = 3) -> dict[str, Any]:
    inv = tenant.inventory
    region = inv.region(variables={"ntp": "a", "dns": "d"})
    cell = inv.cell(region)
    made = [inv.host(cell=cell, name=f"h{n}-{unique()}") for n in range(hosts)]
    own = inv.host(cell=cell, variables={"ntp": "mine"})
    return {"region": region, "cell": cell, "hosts": made, "own": own}


def by_device(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {record["device_id"]: record for record in records}


def test_a_region_variable_change_makes_one_record_per_affected_device(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant)
    drain(paused)
    start = cursor(api)
    expect(api.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "b", "new": 1}), 200)
    change = last_change(api)
    assert feed(api, start) == [], "nothing is computed before the pump runs (the crash case)"
    drain(paused)
    records = feed(api, start)
    hosts = {host["id"]: host for host in made["hosts"]}
    got = by_device(records)
    assert set(got) == {*hosts, made["own"]["id"]}
    for host_id, host in hosts.items():
        record = got[host_id]
        assert record["change_id"] == change["id"]
        assert record["device_type"] == "host" and record["device_name"] == host["name"]
        assert record["added"] == {"new": 1} and record["removed"] == {}
        assert record["changed"] == {"ntp": {"old": "a", "new": "b"}}
        assert record["occurred_at"] == change["occurred_at"]
    assert got[made["own"]["id"]]["changed"] == {} and got[made["own"]["id"]]["added"] == {"new": 1}
    ids = [record["id"] for record in records]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "ids are gap-free, in order"
    assert expect(api.get("/v1/effective-changes", params={"since": start, "limit": 2}), 200)["next_since"] == ids[1]


def test_each_record_tells_its_own_change_whenever_the_pump_runs(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant, hosts=1)
    drain(paused)
    start = cursor(api)
    region = f"/v1/regions/{made['region']['id']}/variables"
    expect(api.put(region, json={"ntp": "b"}), 200)
    expect(api.put(region, json={"ntp": "c"}), 200)
    expect(api.request("DELETE", region, json=["dns"]), 204)
    drain(paused)
    host = made["hosts"][0]["id"]
    mine = [(r["added"], r["removed"], r["changed"]) for r in feed(api, start, device_id=host)]
    assert mine == [
        ({}, {}, {"ntp": {"old": "a", "new": "b"}}),
        ({}, {}, {"ntp": {"old": "b", "new": "c"}}),
        ({}, {"dns": "d"}, {}),
    ]


def test_filters_and_their_validation(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant)
    other_cell = tenant.inventory.cell(made["region"])
    elsewhere = tenant.inventory.host(cell=other_cell)
    labelled = made["hosts"][0]
    expect(api.put(f"/v1/hosts/{labelled['id']}/labels", json={"labels": ["gpu"]}), 200)
    drain(paused)
    start = cursor(api)
    expect(api.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "z", "other": 1}), 200)
    drain(paused)
    everyone = {host["id"] for host in made["hosts"]} | {made["own"]["id"], elsewhere["id"]}
    assert {r["device_id"] for r in feed(api, start)} == everyone
    assert {r["device_id"] for r in feed(api, start, cell_id=other_cell["id"])} == {elsewhere["id"]}
    assert {r["device_id"] for r in feed(api, start, region_id=made["region"]["id"])} == everyone
    assert {r["device_id"] for r in feed(api, start, label="gpu")} == {labelled["id"]}
    assert {r["device_id"] for r in feed(api, start, device_id=elsewhere["id"])} == {elsewhere["id"]}
    assert {r["device_id"] for r in feed(api, start, key="ntp")} == everyone - {made["own"]["id"]}
    assert {r["device_id"] for r in feed(api, start, key="other")} == everyone
    assert feed(api, start, key="nope") == []
    for params in (
        {"since": -1},
        {"limit": 0},
        {"limit": 1001},
        {"device_id": "x"},
        {"cell_id": "1.5"},
        {"region_id": ""},
        {"key": "k" * 256},
        {"label": "a\u0000b"},
    ):
        expect(api.get("/v1/effective-changes", params=params), 400)


def test_a_project_sees_only_its_own_records(paused, craton):
    ours, theirs = craton.tenant(), craton.tenant()
    made = fleet(ours, hosts=1)
    drain(paused)
    start = cursor(craton.root)
    expect(ours.client.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "q"}), 200)
    drain(paused)
    assert feed(ours.client, start) and feed(ours.member(), start)
    assert feed(theirs.client, start) == []
    assert {r["project_id"] for r in feed(craton.root, start)} == {ours.project_id}


def test_masks_strategies_moves_creates_and_deletes(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    inv = tenant.inventory
    region = inv.region(variables={"ntp": "r", "tags": ["r"]})
    cell_a = inv.cell(region, variables={"ntp": "a"})
    cell_b = inv.cell(region, variables={"ntp": "b", "only_b": 1})
    host = inv.host(cell=cell_a, variables={"own": 1})
    drain(paused)
    start = cursor(api)

    steps = [
        lambda: api.put(f"/v1/cells/{cell_a['id']}/variables/masks", json=["tags"]),
        lambda: api.put(f"/v1/projects/{tenant.project_id}/merge-strategies", json={"tags": "append"}),
        lambda: api.put(f"/v1/hosts/{host['id']}/variables", json={"tags": ["h"]}),
        lambda: api.put(f"/v1/hosts/{host['id']}", json={"cell_id": cell_b["id"]}),  # a move
    ]
    for step in steps:
        expect(step(), 200)
        drain(paused)
    mine = [(r["added"], r["removed"], r["changed"]) for r in feed(api, start, device_id=host["id"])]
    assert mine == [
        ({}, {"tags": ["r"]}, {}),  # the cell masks the region's tags
        # the strategy changes nothing for it: the only list it inherited is masked
        ({"tags": ["h"]}, {}, {}),
        ({"only_b": 1}, {}, {"ntp": {"old": "a", "new": "b"}, "tags": {"old": ["h"], "new": ["r", "h"]}}),
    ]

    start = cursor(api)
    created = inv.host(cell=cell_b, variables={"own": 2})
    expect(api.delete(f"/v1/hosts/{host['id']}"), 204)
    drain(paused)
    records = feed(api, start)
    assert [(r["device_id"], r["added"], r["removed"]) for r in records] == [
        (created["id"], {"ntp": "b", "only_b": 1, "tags": ["r"]}, {}),  # what it inherits, at its create
        (created["id"], {"own": 2}, {}),  # its own variables, written beside the create
        (host["id"], {}, {"ntp": "b", "only_b": 1, "own": 1, "tags": ["r", "h"]}),  # the delete
    ]


def test_a_cascade_delete_removes_everything_each_device_resolved(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant, hosts=2)
    drain(paused)
    start = cursor(api)
    expect(api.delete(f"/v1/regions/{made['region']['id']}"), 204)
    drain(paused)
    got = by_device(feed(api, start))
    assert {host["id"] for host in made["hosts"]} | {made["own"]["id"]} == set(got)
    assert all(r["removed"] == {"ntp": "a", "dns": "d"} for i, r in got.items() if i != made["own"]["id"])
    assert got[made["own"]["id"]]["removed"] == {"ntp": "mine", "dns": "d"}


def test_a_round_stops_at_its_budget_and_the_next_goes_on(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant, hosts=4)
    drain(paused)
    start = cursor(api)
    expect(api.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "1"}), 200)
    expect(api.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "2"}), 200)
    assert pump.process_pending(paused.engine, effects_budget=3) == pump.DEFAULT_BATCH, "more to do: come back"
    assert len(feed(api, start)) == 4, "one change (four hosts) made it, the other waits"
    drain(paused)
    assert len(feed(api, start)) == 8


def test_the_servers_own_pump_catches_up_by_itself(tmp_path_factory):
    with (
        throwaway_database("sqlite", tmp_path_factory.mktemp("db")) as url,
        running_server("sqlite", url, events_interval=0.2) as live,
    ):
        api = live.client()
        cloud = expect(api.post("/v1/clouds", json={"name": "c"}), 201)
        region = expect(api.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}), 201)
        host = {"name": "h", "cloud_id": cloud["id"], "region_id": region["id"], "ip_address": "10.0.0.1"}
        host = expect(api.post("/v1/hosts", json={**host, "device_type": "server"}), 201)
        expect(api.put(f"/v1/regions/{region['id']}/variables", json={"k": "v"}), 200)
        change = last_change(api)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not feed(api, key="k"):
            time.sleep(0.1)
        made = [(r["device_id"], r["added"]) for r in feed(api, key="k") if r["change_id"] == change["id"]]
        assert made == [(host["id"], {"k": "v"})]


def test_a_device_made_after_a_change_gets_no_record_from_it(paused, craton):
    tenant = craton.tenant()
    api = tenant.client
    made = fleet(tenant, hosts=1)
    drain(paused)
    start = cursor(api)
    expect(api.put(f"/v1/regions/{made['region']['id']}/variables", json={"ntp": "later"}), 200)
    change = last_change(api)
    newcomer = tenant.inventory.host(cell=made["cell"])  # before the pump ran
    drain(paused)
    records = feed(api, start)
    assert {r["device_id"] for r in records if r["change_id"] == change["id"]} == {made["hosts"][0]["id"]}
    assert [(r["added"], r["changed"]) for r in records if r["device_id"] == newcomer["id"]] == [
        ({"dns": "d", "ntp": "later"}, {})  # its create: what it inherits when the pump runs
    ]


def test_device_writes_handled_in_one_round_each_tell_their_own(paused, craton):
    """A round reads its device-level writes together; each still says exactly what it did."""
    tenant = craton.tenant()
    api = tenant.client
    inv = tenant.inventory
    region = inv.region(variables={"k": "region"})
    parent = inv.host(region=region)
    child = inv.host(region=region, parent=parent)
    other = inv.network_device(region=region, variables={"j": "own"})
    drain(paused)
    start = cursor(api)
    expect(api.put(f"/v1/hosts/{parent['id']}/variables", json={"k": "parent"}), 200)
    expect(api.put(f"/v1/hosts/{child['id']}/variables", json={"j": "child"}), 200)
    expect(api.put(f"/v1/network-devices/{other['id']}/variables/masks", json=["k"]), 200)
    expect(api.request("DELETE", f"/v1/hosts/{parent['id']}/variables", json=["k"]), 204)
    drain(paused)
    got = [(r["device_id"], r["device_type"], r["added"], r["removed"], r["changed"]) for r in feed(api, start)]
    assert got == [
        (parent["id"], "host", {}, {}, {"k": {"old": "region", "new": "parent"}}),
        (child["id"], "host", {}, {}, {"k": {"old": "region", "new": "parent"}}),
        (child["id"], "host", {"j": "child"}, {}, {}),
        (other["id"], "network_device", {}, {"k": "region"}, {}),
        (parent["id"], "host", {}, {}, {"k": {"old": "parent", "new": "region"}}),
        (child["id"], "host", {}, {}, {"k": {"old": "parent", "new": "region"}}),
    ]


def changes_since(client: httpx.Client, since: int) -> tuple[list[dict[str, Any]], int]:
    """The change records after cursor ``since``, and the cursor after them."""
    found: list[dict[str, Any]] = []
    while True:
        body = expect(client.get("/v1/changes", params={"since": since, "limit": 1000}), 200)
        if not body["changes"]:
            return found, since
        found.extend(body["changes"])
        since = body["next_since"]


def test_a_pump_round_costs_the_same_statements_for_9_and_90_device_changes(paused, craton):
    """A round reads and writes set-based: its statements do not grow with the changes in it.

    Every round has variable writes to hosts, one of them with a device below it (the nested
    device's chain, the look for devices created since), a removal, a mask, creates and deletes
    of hosts, a webhook filtered by cell (the subscriber's scope reads), and the containers'
    own changes: variable writes to cells, regions, a cloud and the project, masks on regions,
    the project's merge strategies. The round of 90 device changes and 13 container changes
    costs what the round of 9 and 5 does.
    """
    tenant = craton.tenant()
    api = tenant.client
    inv = tenant.inventory
    region = inv.region(variables={"k": "region"})
    cell = inv.cell(region, variables={"c": "cell"})
    hosts = [inv.host(cell=cell, name=f"q{n}-{unique()}", variables={"gone": n}) for n in range(60)]
    doomed = [inv.host(cell=cell, name=f"d{n}-{unique()}") for n in range(20)]
    nested = {n: inv.network_device(cell=cell, parent=hosts[n]) for n in (0, 30)}
    # Containers of their own, a host in each, for the containers' changes.
    clouds = [inv.cloud(variables={"s": n, "t": "cloud"}) for n in range(2)]
    side_regions = [inv.region(cloud=clouds[0], variables={"s": n}) for n in range(4)]
    side_cells = [inv.cell(side_regions[0], variables={"s": f"cell{n}"}) for n in range(5)]
    for container in side_regions[1:]:
        inv.host(region=container, name=f"r-{unique()}")
    for container in side_cells:
        inv.host(cell=container, name=f"c-{unique()}")
    inv.host(region=inv.region(cloud=clouds[1]), name=f"o-{unique()}")
    principal = Principal(project_id=tenant.project_id, username="t", role=Role.ADMIN, request_id="req-t")
    hook = {"url": "http://127.0.0.1:9/hook", "secret": "s" * 20, "filters": {"cell_ids": [cell["id"]]}}
    with transaction(paused.engine, writes=True) as conn:
        webhooks.create(conn, principal, hook, allow_private=True)
    drain(paused)
    _, since = changes_since(api, 0)
    project = f"/v1/projects/{tenant.project_id}"
    strategies = iter(["deep", "replace", "deep"])

    def containers_write(cells: range, regions: range, clouds_written: range, project_writes: int) -> int:
        for n in cells:
            expect(api.put(f"/v1/cells/{side_cells[n]['id']}/variables", json={"s": f"new{n}"}), 200)
        for n in regions:
            expect(api.put(f"/v1/regions/{side_regions[n]['id']}/variables", json={"s": f"new{n}"}), 200)
            expect(api.put(f"/v1/regions/{side_regions[n]['id']}/variables/masks", json=["t"]), 200)
        for n in clouds_written:
            expect(api.put(f"/v1/clouds/{clouds[n]['id']}/variables", json={"u": f"new{n}"}), 200)
        for n in range(project_writes):
            expect(api.put(f"{project}/variables", json={f"p{n}": unique()}), 200)
        expect(api.put(f"{project}/merge-strategies", json={"m": next(strategies)}), 200)
        return len(cells) + 2 * len(regions) + len(clouds_written) + project_writes + 1

    def round_of(first: int, count: int, others: range, held: tuple[range, range, range, int]) -> tuple[int, int]:
        nonlocal since
        start = cursor(api)
        chosen = hosts[first : first + count]
        for n, host in enumerate(chosen):
            item = f"/v1/hosts/{host['id']}/variables"
            if n == 1:
                expect(api.request("DELETE", item, json=["gone"]), 204)
            elif n == 2:
                expect(api.put(f"{item}/masks", json=["k"]), 200)
            else:
                expect(api.put(item, json={"k": f"host{n}", f"x{n % 3}": n}), 200)
        made = [inv.host(cell=cell, name=f"m{n}-{unique()}") for n in others]
        for n in others:
            expect(api.delete(f"/v1/hosts/{doomed[n]['id']}"), 204)
        written = containers_write(*held)
        with paused.count_queries() as counter:
            assert pump.process_pending(paused.engine) == count + 2 * len(others) + written
        records = feed(api, start)
        recorded, since = changes_since(api, since)
        of_containers = {c["id"] for c in recorded if c["resource_type"] in ("cell", "region", "cloud", "project")}
        assert len(of_containers) == written
        own = [r for r in records if r["change_id"] not in of_containers]
        below = {device["id"] for n, device in nested.items() if first <= n < first + count}
        changed = {host["id"] for host in chosen + made} | {doomed[n]["id"] for n in others}
        assert {r["device_id"] for r in own} == changed | below
        # Every cell, region, cloud and project variable write and region mask reached its devices
        # (the merge strategy of a key without values changes nothing).
        assert len({r["change_id"] for r in records if r["change_id"] in of_containers}) == written - 1
        return counter.count, len(own)

    small = round_of(0, 6, range(0, 1), (range(0, 1), range(1, 2), range(0, 1), 1))
    big = round_of(6, 54, range(1, 19), (range(1, 5), range(2, 4), range(1, 2), 3))
    assert (small[1], big[1]) == (6 + 1 + 2, 54 + 1 + 2 * 18)
    assert small[0] == big[0], f"the small round cost {small[0]} statements, the big one {big[0]}"
