"""No lost updates: ETags on every object and on variables, If-Match as compare-and-swap, atomic
merges and uniqueness under concurrent writers, on every database.

tests/api/test_concurrency.py covers clouds (ETag, 412, eight writers with one ETag, eight
concurrent mergers); this extends it to every resource, to a read-modify-write counter that must
count exactly, to merges racing with deletes, and to racing creates and label additions.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests import kinds
from tests.api.helpers import Craton, Tenant, describe, expect, unique

THREADS = 8


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    return craton.tenant()


def _objects(tenant: Tenant, craton: Craton) -> dict[str, Any]:
    inv = tenant.inventory
    region = inv.region()
    host = inv.host(region)
    return {
        "clouds": {"id": region["cloud_id"]},
        "regions": region,
        "cells": inv.cell(region),
        "hosts": host,
        "network-devices": inv.network_device(region),
        "networks": inv.network(region),
        "network-interfaces": inv.interface(host),
        "projects": {"id": tenant.project_id},
        "users": expect(
            craton.root.post("/v1/users", json={"username": unique("etag"), "project_id": tenant.project_id}), 201
        ),
    }


UPDATES = {
    "clouds": {"note": "n"},
    "regions": {"note": "n"},
    "cells": {"note": "n"},
    "hosts": {"note": "n"},
    "network-devices": {"os_version": "9"},
    "networks": {"nss": "ns9"},
    "network-interfaces": {"duplex": "full"},
}


@pytest.mark.parametrize(
    "kind",
    kinds.ALL,
)
def test_every_object_and_its_variables_carry_an_etag_that_if_match_checks(
    craton: Craton, tenant: Tenant, kind: str
) -> None:
    client = craton.root
    obj = _objects(tenant, craton)[kind]
    item = f"/v1/{kind}/{obj['id']}"
    tag = client.get(item).headers.get("etag")
    assert tag and tag.startswith('"') and tag.endswith('"'), f"no strong ETag on {item}"
    if kind != "users":
        variables = f"{item}/variables"
        assert client.get(variables).headers.get("etag") == tag, "variables share the owner's version"
        changed = client.put(variables, json={"v": 1}, headers={"If-Match": tag})
        assert changed.status_code == 200, describe(changed)
        new_tag = changed.headers["etag"]
        assert new_tag != tag and client.get(item).headers["etag"] == new_tag
        expect(client.put(variables, json={"v": 2}, headers={"If-Match": tag}), 412)
        assert client.request("DELETE", variables, json=["v"], headers={"If-Match": tag}).status_code == 412
        assert client.get(variables).json()["variables"].get("v") == 1, "a refused write changed the variables"
        expect(client.request("DELETE", variables, json=["v"], headers={"If-Match": new_tag}), 204)
        tag = client.get(item).headers["etag"]
    if kind in UPDATES:
        stale = tag
        updated = client.put(item, json=UPDATES[kind], headers={"If-Match": tag})
        assert updated.status_code == 200 and updated.headers["etag"] != stale, describe(updated)
        expect(client.put(item, json={"name": unique("lost")}, headers={"If-Match": stale}), 412)
        assert client.get(item).json().get("name") != "lost"
        tag = updated.headers["etag"]
    if kind in ("projects", "users"):
        stale = '"0000"'
    else:
        stale = '"not-the-current-version"'
    expect(client.request("DELETE", item, headers={"If-Match": stale}), 412)
    expect(client.get(item), 200)
    if kind != "projects":
        expect(client.request("DELETE", item, headers={"If-Match": f'"x", {tag}'}), 204)


@pytest.mark.parametrize("kind", ["hosts", "network-devices"])
def test_labels_honour_if_match(request: pytest.FixtureRequest, craton: Craton, tenant: Tenant, kind: str) -> None:
    """A label change moves the device's ETag; a stale If-Match on the labels must be a 412 (was #9)."""
    client = tenant.client
    device = _objects(tenant, craton)[kind]
    labels = f"/v1/{kind}/{device['id']}/labels"
    tag = client.get(f"/v1/{kind}/{device['id']}").headers["etag"]
    expect(client.put(labels, json={"labels": ["first"]}), 200)
    assert client.get(f"/v1/{kind}/{device['id']}").headers["etag"] != tag
    assert client.put(labels, json={"labels": ["lost"]}, headers={"If-Match": tag}).status_code == 412
    assert client.request("DELETE", labels, json={"labels": ["first"]}, headers={"If-Match": tag}).status_code == 412
    assert expect(client.get(labels), 200)["labels"] == ["first"]


def _in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(work, range(count)))


def _client(craton: Craton, tenant: Tenant) -> httpx.Client:
    """Each writer on its own connection, as separate clients would be."""
    client = httpx.Client(base_url=craton.url, headers=dict(tenant.client.headers), timeout=60)
    craton.server._clients.append(client)
    return client


def test_read_modify_write_with_if_match_counts_exactly(craton: Craton, tenant: Tenant) -> None:
    """Compare-and-swap on a counter: every increment that got a 200 is in the final value."""
    host = tenant.inventory.host(variables={"counter": 0})
    path = f"/v1/hosts/{host['id']}/variables"
    increments, max_attempts = 3, 100

    def worker(_: int) -> tuple[int, int]:
        client = _client(craton, tenant)
        done = attempts = 0
        while done < increments and attempts < max_attempts:
            attempts += 1
            read = client.get(path, params={"resolved-values": "false"})
            value = read.json()["variables"]["counter"]
            write = client.put(path, json={"counter": value + 1}, headers={"If-Match": read.headers["etag"]})
            if write.status_code == 200:
                done += 1
            else:
                assert write.status_code in (412, 409, 503), describe(write)
        return done, attempts

    results = _in_parallel(THREADS, worker)
    done = sum(d for d, _ in results)
    final = tenant.client.get(path, params={"resolved-values": "false"}).json()["variables"]["counter"]
    assert final == done, f"{done} acknowledged increments but the counter reads {final}: lost updates"
    assert done == THREADS * increments, f"some writers gave up after {max_attempts} attempts: {results}"


def test_concurrent_merges_and_deletes_of_different_keys_never_interfere(craton: Craton, tenant: Tenant) -> None:
    region = tenant.inventory.region()
    targets = [f"/v1/regions/{region['id']}/variables", f"/v1/hosts/{tenant.inventory.host(region)['id']}/variables"]
    rounds = 3

    def worker(n: int) -> None:
        client = _client(craton, tenant)
        for path in targets:
            for i in range(rounds):
                expect(client.put(path, json={f"keep-{n}-{i}": i, f"drop-{n}-{i}": {"n": n}}), 200)
                expect(client.request("DELETE", path, json=[f"drop-{n}-{i}"]), 204)

    _in_parallel(THREADS, worker)
    for path in targets:
        own = tenant.client.get(path, params={"resolved-values": "false"}).json()["variables"]
        assert own == {f"keep-{n}-{i}": i for n in range(THREADS) for i in range(rounds)}


def test_racing_creates_of_one_name_give_one_201_and_409s(craton: Craton, tenant: Tenant) -> None:
    name = unique("race")
    cloud = tenant.inventory.cloud()
    bodies = {
        "/v1/clouds": {"name": name},
        "/v1/regions": {"name": name, "cloud_id": cloud["id"]},
        "/v1/users": {"username": name, "project_id": tenant.project_id},
    }
    for path, body in bodies.items():
        barrier = threading.Barrier(THREADS, timeout=30)

        def create(_: int, path: str = path, body: dict[str, Any] = body, barrier: threading.Barrier = barrier) -> int:
            client = _client(craton, tenant)
            barrier.wait()
            return client.post(path, json=body).status_code

        statuses = sorted(_in_parallel(THREADS, create))
        assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, (path, statuses)


def test_racing_label_additions_all_land(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture, craton: Craton, tenant: Tenant
) -> None:
    """Writers adding labels to one device queue up; they neither deadlock nor fail.

    The server runs in this process, so its "transient database error" retries (deadlocks,
    lock timeouts) show in caplog: each is wasted work, and three in a row are a 503.
    """
    host = tenant.inventory.host()
    path = f"/v1/hosts/{host['id']}/labels"

    def add(n: int) -> list[int]:
        client = _client(craton, tenant)
        return [client.put(path, json={"labels": [f"l-{n}-{i}", "shared"]}).status_code for i in range(3)]

    with caplog.at_level("WARNING", logger="craton.api"):
        statuses = [status for batch in _in_parallel(THREADS, add) for status in batch]
    assert set(statuses) <= {200, 409}, statuses  # a 409 asks the client to retry a racing duplicate label
    labels = set(expect(tenant.client.get(path), 200)["labels"])
    assert "shared" in labels
    missing = {f"l-{n}-{i}" for n in range(THREADS) for i in range(3)} - labels
    assert not missing or 409 in statuses, missing
    retries = [r.getMessage() for r in caplog.records if "transient database error" in r.getMessage()]
    assert not retries, f"{len(retries)} deadlock/lock-timeout retries, e.g. {retries[0]}"
