"""GET /v1/export streamed: a fleet of thousands of devices, on every backend.

The streamed document must read as the same document the export built in memory before
it was streamed (the reference below is that code, reading each kind whole), in JSON and
in YAML; the statements must be a few per batch of devices, never one per device; and a
client that hangs up half-way must not keep the server's connection or transaction.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import defaultdict
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
import yaml

from benchmarks.generate import generate
from craton.domain import fleet, kinds
from craton.storage import variables as variable_store
from craton.storage.tables import cells, clouds, devices, labels, network_interfaces, networks, regions
from tests.api.helpers import Craton, expect

HOSTS = 3000
_INTERNAL = {"id", "kind", "project_id", "created_at", "updated_at"}


def _fields(table: sa.Table, row: Any) -> dict[str, Any]:
    return {
        str(c.name): row[c.name]
        for c in table.c
        if c.name not in _INTERNAL and not c.foreign_keys and row[c.name] is not None
    }


def reference_document(conn: sa.Connection, project_id: str) -> dict[str, Any]:
    """The whole project's document as the export built it in memory before it streamed."""

    def rows(table: sa.Table) -> list[Any]:
        return list(
            conn.execute(sa.select(table).where(table.c.project_id == project_id).order_by(table.c.id)).mappings()
        )

    cloud_rows, region_rows, cell_rows = rows(clouds), rows(regions), rows(cells)
    network_rows, device_rows, interface_rows = rows(networks), rows(devices), rows(network_interfaces)
    labels_of: dict[int, list[str]] = defaultdict(list)
    for device_id, label in conn.execute(sa.select(labels.c.device_id, labels.c.label)):
        labels_of[device_id].append(label)
    owners = [("project", project_id)]
    for kind, found in (
        ("cloud", cloud_rows),
        ("region", region_rows),
        ("cell", cell_rows),
        ("network", network_rows),
        ("device", device_rows),
        (kinds.NETWORK_INTERFACE.name, interface_rows),
    ):
        owners += [(kind, str(row["id"])) for row in found]
    owned = variable_store.load(conn, owners)
    masks = variable_store.load_masks(conn, owners)

    def own(item: dict[str, Any], owner: tuple[str, str]) -> dict[str, Any]:
        if owned.get(owner):
            item["variables"] = dict(owned[owner])
        if masks.get(owner):
            item["masks"] = sorted(masks[owner])
        return item

    def by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda i: i["name"])

    device_names = {row["id"]: row["name"] for row in device_rows}
    network_names = {row["id"]: row["name"] for row in network_rows}
    interfaces_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in interface_rows:
        item = _fields(network_interfaces, row)
        if row["network_id"]:
            item["network"] = network_names[row["network_id"]]
        interfaces_of[row["device_id"]].append(own(item, (kinds.NETWORK_INTERFACE.name, str(row["id"]))))
    placed: dict[tuple[int, int | None], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"networks": [], "devices": []}
    )
    for row in network_rows:
        item = own(_fields(networks, row), ("network", str(row["id"])))
        placed[(row["region_id"], row["cell_id"])]["networks"].append(item)
    for row in device_rows:
        item = {"kind": row["kind"], **_fields(devices, row)}
        if row["parent_id"]:
            item["parent"] = device_names[row["parent_id"]]
        if labels_of.get(row["id"]):
            item["labels"] = sorted(labels_of[row["id"]])
        own(item, ("device", str(row["id"])))
        if interfaces_of.get(row["id"]):
            item["interfaces"] = by_name(interfaces_of[row["id"]])
        placed[(row["region_id"], row["cell_id"])]["devices"].append(item)

    def contents(region_id: int, cell_id: int | None) -> dict[str, Any]:
        found = placed.get((region_id, cell_id), {})
        return {key: by_name(items) for key, items in found.items() if items}

    cells_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in cell_rows:
        item = own(_fields(cells, row), ("cell", str(row["id"])))
        cells_of[row["region_id"]].append({**item, **contents(row["region_id"], row["id"])})
    regions_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in region_rows:
        item = {**own(_fields(regions, row), ("region", str(row["id"]))), **contents(row["id"], None)}
        if cells_of.get(row["id"]):
            item["cells"] = by_name(cells_of[row["id"]])
        regions_of[row["cloud_id"]].append(item)
    cloud_items = []
    for row in cloud_rows:
        item = own(_fields(clouds, row), ("cloud", str(row["id"])))
        if regions_of.get(row["id"]):
            item["regions"] = by_name(regions_of[row["id"]])
        cloud_items.append(item)
    project = own({}, ("project", project_id))
    return {"format": "craton-fleet", "version": 1, "project": project, "clouds": by_name(cloud_items)}


def _big_fleet(craton: Craton) -> tuple[httpx.Client, dict[str, Any]]:
    server = craton.server
    fleet = generate(
        server.database_url,
        run_migrations=False,
        analyze=False,
        clouds=2,
        regions=3,
        cells=12,
        hosts=HOSTS,
        network_devices=150,
        vars_min=2,
        vars_max=6,
    )
    client = craton.client(
        {"X-Auth-Project": fleet["project_id"], "X-Auth-User": fleet["username"], "X-Auth-Token": fleet["api_key"]}
    )
    # What generate.py does not make: networks, interfaces (with variables) and masks.
    first, last = fleet["id_ranges"]["hosts"]
    host = expect(client.get(f"/v1/hosts/{first}"), 200)
    network = expect(
        client.post(
            "/v1/networks",
            json={
                "name": "net-a",
                "cloud_id": host["cloud_id"],
                "region_id": host["region_id"],
                "cidr": "10.0.0.0/8",
                "gateway": "10.0.0.1",
                "netmask": "255.0.0.0",
            },
        ),
        201,
    )
    for device_id in (first, last):
        body = {"name": "eth0", "device_id": device_id, "interface_type": "ethernet", "ip_address": "10.0.0.2"}
        if device_id == first:
            body.update(network_id=network["id"], variables={"mtu": 9000})
        expect(client.post("/v1/network-interfaces", json=body), 201)
        expect(client.put(f"/v1/hosts/{device_id}/variables/masks", json=["ntp_servers"]), 200)
    return client, fleet


def test_thousands_of_devices_stream_as_the_same_document(craton: Craton) -> None:
    client, fleet = _big_fleet(craton)
    with craton.server.engine.connect() as conn:
        expected = reference_document(conn, fleet["project_id"])
    with craton.server.count_queries() as counter:
        with client.stream("GET", "/v1/export") as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # sent as it is read
            pieces = list(response.iter_bytes())
    assert len(pieces) > 1
    document = orjson.loads(b"".join(pieces))
    assert document == expected
    hosts = [d for c in document["clouds"] for r in c["regions"] for p in r["cells"] for d in p["devices"]]
    assert sum(d["kind"] == "host" for d in hosts) == HOSTS
    # A handful of statements per batch of devices, not one per device (or per cell).
    assert counter.count < 60, counter.statements

    text = expect_text(client.get("/v1/export", params={"format": "yaml"}))
    assert yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == expected


def expect_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/yaml")
    return response.text


def test_a_client_that_hangs_up_frees_the_connection(craton: Craton) -> None:
    client = craton.client(craton.server.headers)
    tenant = craton.tenant()
    region = tenant.inventory.region(name="r")
    for n in range(3):
        tenant.inventory.host(region, name=f"h-{n}", variables={"pad": "x" * 200_000})
    pool = craton.server.engine.pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    with tenant.client.stream("GET", "/v1/export") as response:
        assert response.status_code == 200
        next(response.iter_raw(1024))
    deadline = time.monotonic() + 10
    while pool.checkedout() > before and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert pool.checkedout() <= before  # type: ignore[attr-defined]
    expect(client.get("/v1/clouds"), 200)


def test_head_answers_the_headers_only_and_errors_come_before_the_body(craton: Craton) -> None:
    tenant = craton.tenant()
    tenant.inventory.host(tenant.inventory.region(name="r"), name="h")
    pool = craton.server.engine.pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    head = tenant.client.head("/v1/export", params={"format": "yaml"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/yaml")
    assert head.headers["content-disposition"] == 'attachment; filename="fleet.yaml"'
    assert pool.checkedout() <= before  # type: ignore[attr-defined]
    missing = tenant.client.get("/v1/export", params={"region_id": 999_999_999})
    assert missing.status_code == 404 and missing.json()["status"] == 404
    unauthenticated = craton.client({}).get("/v1/export")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["status"] == 401


def _read_ahead_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("craton-export-read")]


def test_batches_read_ahead_come_from_the_snapshot_the_export_began_with(craton: Craton, monkeypatch: Any) -> None:
    """A batch is read on the read-ahead thread, in the export's transaction: a write made meanwhile is not in it.

    The server runs in this process: the second batch's read is held until a write has
    been committed; the document still holds what was there when the export began.
    (SQLite reads no batch ahead, fleet.read_ahead_for; the document is the same.)
    """
    tenant = craton.tenant()
    region = tenant.inventory.region(name="r")
    hosts = [tenant.inventory.host(region, name=f"h-{n}", variables={"v": "before"}) for n in range(6)]
    monkeypatch.setattr(fleet, "BATCH", 2)
    reached, proceed = threading.Event(), threading.Event()
    threads: list[str] = []
    device_items = fleet._device_items

    def held(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        if len(threads) == 2:  # the second batch (h-2, h-3): the first one is read already
            reached.set()
            assert proceed.wait(30)
        return device_items(*args)

    monkeypatch.setattr(fleet, "_device_items", held)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(lambda: tenant.client.get("/v1/export"))
        assert reached.wait(30)
        for host in hosts[1:5]:  # in the batch read, the one held, the one after
            expect(tenant.client.put(f"/v1/hosts/{host['id']}/variables", json={"v": "after"}), 200)
        expect(tenant.client.put(f"/v1/hosts/{hosts[5]['id']}", json={"name": "renamed"}), 200)
        proceed.set()
        document = expect(answer.result(60), 200)
    devices = document["clouds"][0]["regions"][0]["devices"]
    assert [(d["name"], d["variables"]) for d in devices] == [(f"h-{n}", {"v": "before"}) for n in range(6)]
    assert len(threads) == 3
    ahead = craton.server.backend != "sqlite"
    assert all(name.startswith("craton-export-read") == ahead for name in threads), threads
    monkeypatch.setattr(fleet, "_device_items", device_items)
    now = expect(tenant.client.get("/v1/export"), 200)["clouds"][0]["regions"][0]["devices"]
    assert [d["variables"]["v"] for d in now] == ["before", "after", "after", "after", "after", "before"]
    assert now[-1]["name"] == "renamed"


def test_a_batch_that_fails_to_read_ahead_ends_the_answer_and_frees_the_connection(
    craton: Craton, monkeypatch: Any
) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region(name="r")
    for n in range(5):  # a first chunk of more than CHUNK_BYTES: the failure comes after the status line
        tenant.inventory.host(region, name=f"h-{n}", variables={"pad": "x" * 200_000})
    monkeypatch.setattr(fleet, "BATCH", 2)
    device_items = fleet._device_items
    calls = []

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the third batch cannot be read")
        return device_items(*args)

    monkeypatch.setattr(fleet, "_device_items", failing)
    pool = craton.server.engine.pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    with tenant.client.stream("GET", "/v1/export") as response:
        assert response.status_code == 200
        try:
            received = b"".join(response.iter_raw())
        except httpx.HTTPError:
            received = None  # the server broke the body off: also how the failure may show
    if received is not None:
        with pytest.raises(orjson.JSONDecodeError):  # never a document that looks whole
            orjson.loads(received)
    deadline = time.monotonic() + 10
    while (pool.checkedout() > before or _read_ahead_threads()) and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert pool.checkedout() <= before  # type: ignore[attr-defined]
    assert not _read_ahead_threads()
    expect(tenant.client.get("/v1/clouds"), 200)
