"""Moving hosts, network devices and cells within a cloud (issue 21), on every backend."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

from tests.api.helpers import Craton, Tenant, expect, expect_error, expect_invalid, ids_of


def _history(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    return expect(client.get(f"{path}/history", params={"limit": 100}), 200)["history"]


def _moment() -> str:
    """A time strictly between what happened before and what happens after."""
    time.sleep(0.05)
    moment = dt.datetime.now(dt.timezone.utc).isoformat()
    time.sleep(0.05)
    return moment


def _place(tenant: Tenant) -> dict[str, Any]:
    """A cloud with two regions (east: cells e1, e2; west: cell w1) and a second cloud."""
    inv = tenant.inventory
    cloud = inv.cloud()
    east = inv.region(cloud, name="east", variables={"where": "east"})
    west = inv.region(cloud, name="west", variables={"where": "west"})
    return {
        "cloud": cloud,
        "east": east,
        "west": west,
        "e1": inv.cell(east, name="e1", variables={"rack": "e1"}),
        "e2": inv.cell(east, name="e2", variables={"rack": "e2"}),
        "w1": inv.cell(west, name="w1", variables={"rack": "w1"}),
        "other_region": inv.region(inv.cloud(), name="elsewhere"),
    }


def test_host_moves_to_another_cell_and_region(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p = tenant.client, _place(tenant)
    host = tenant.inventory.host(cell=p["e1"], name="web-1")
    path = f"/v1/hosts/{host['id']}"

    # cell_id alone: the region comes from the cell
    moved = expect(client.put(path, json={"cell_id": p["e2"]["id"]}), 200)
    assert (moved["region_id"], moved["cell_id"], moved["cloud_id"]) == (
        p["east"]["id"],
        p["e2"]["id"],
        host["cloud_id"],
    )
    moved = expect(client.put(path, json={"cell_id": p["w1"]["id"]}), 200)
    assert (moved["region_id"], moved["cell_id"]) == (p["west"]["id"], p["w1"]["id"])
    # both, and out of any cell
    moved = expect(client.put(path, json={"region_id": p["east"]["id"], "cell_id": None}), 200)
    assert (moved["region_id"], moved["cell_id"]) == (p["east"]["id"], None)
    moved = expect(client.put(path, json={"region_id": p["west"]["id"]}), 200)  # not in a cell: region alone is fine
    assert (moved["region_id"], moved["cell_id"]) == (p["west"]["id"], None)
    assert expect(client.get(path), 200)["region_id"] == p["west"]["id"]
    listed = expect(client.get("/v1/hosts", params={"region_id": p["west"]["id"]}), 200)["hosts"]
    assert ids_of(listed) == [host["id"]]

    updates = [entry for entry in _history(client, path) if entry["action"] == "update"]
    assert [(u["old"], u["new"]) for u in updates] == [
        ({"cell_id": p["e1"]["id"]}, {"cell_id": p["e2"]["id"]}),
        (
            {"cell_id": p["e2"]["id"], "region_id": p["east"]["id"]},
            {"cell_id": p["w1"]["id"], "region_id": p["west"]["id"]},
        ),
        ({"cell_id": p["w1"]["id"], "region_id": p["west"]["id"]}, {"cell_id": None, "region_id": p["east"]["id"]}),
        ({"region_id": p["east"]["id"]}, {"region_id": p["west"]["id"]}),
    ]
    # the same place again records nothing
    expect(client.put(path, json={"region_id": p["west"]["id"], "cell_id": None}), 200)
    assert len([e for e in _history(client, path) if e["action"] == "update"]) == 4


def test_moves_are_checked_like_creates(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p = tenant.client, _place(tenant)
    host = tenant.inventory.host(cell=p["e1"])
    path = f"/v1/hosts/{host['id']}"
    expect_error(
        client.put(path, json={"region_id": p["west"]["id"]}),
        400,
        contains=[f"cell {p['e1']['id']} of region {p['east']['id']}", "cell_id"],
    )
    expect_error(
        client.put(path, json={"region_id": p["west"]["id"], "cell_id": p["e2"]["id"]}),
        400,
        f"Cell {p['e2']['id']} belongs to region {p['east']['id']}, not to region {p['west']['id']}.",
    )
    expect_error(
        client.put(path, json={"region_id": p["other_region"]["id"], "cell_id": None}),
        400,
        contains=[f"belongs to cloud {p['other_region']['cloud_id']}", "moves stay within a cloud"],
    )
    expect_error(
        client.put(path, json={"cell_id": 2_000_000_000}), 400, "Cell 2000000000 does not exist in this project."
    )
    foreign = craton.tenant().inventory.cell()
    expect_error(
        client.put(path, json={"cell_id": foreign["id"]}), 400, f"Cell {foreign['id']} does not exist in this project."
    )
    expect_error(
        client.put(path, json={"region_id": foreign["region_id"]}), 400, contains=["does not exist in this project"]
    )
    expect_invalid(client.put(path, json={"region_id": None}))
    expect_invalid(client.put(path, json={"cloud_id": p["cloud"]["id"]}))
    expect_invalid(client.put(path, json={"cell_id": "x"}))
    # a name taken in the target region is a 409 that names it
    tenant.inventory.host(p["west"], name=host["name"])
    expect_error(client.put(path, json={"cell_id": p["w1"]["id"]}), 409, contains=[repr(host["name"])])
    # nothing changed
    after = expect(client.get(path), 200)
    assert (after["region_id"], after["cell_id"]) == (p["east"]["id"], p["e1"]["id"])
    assert [e["action"] for e in _history(client, path)] == ["create"]


def test_children_move_together_or_the_move_is_refused(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p, inv = tenant.client, _place(tenant), tenant.inventory
    chassis = inv.network_device(cell=p["e1"], name="chassis")
    blade1 = inv.host(cell=p["e1"], parent=chassis, name="blade-1")
    blade2 = inv.host(cell=p["e1"], parent=chassis, name="blade-2")
    vm = inv.host(cell=p["e1"], parent=blade1, name="vm-1")
    remote = inv.host(cell=p["e2"], parent=chassis, name="remote")  # already elsewhere: stays there
    path = f"/v1/network-devices/{chassis['id']}"

    message = expect_error(client.put(path, json={"cell_id": p["w1"]["id"]}), 400)
    for child in (blade1, blade2, vm):
        assert f"{child['id']} ('{child['name']}')" in message
    assert "remote" not in message and "with_children=true" in message
    assert expect(client.get(path), 200)["cell_id"] == p["e1"]["id"]

    moved = expect(client.put(path, params={"with_children": "true"}, json={"cell_id": p["w1"]["id"]}), 200)
    assert (moved["region_id"], moved["cell_id"]) == (p["west"]["id"], p["w1"]["id"])
    for child in (blade1, blade2, vm):
        now = expect(client.get(f"/v1/hosts/{child['id']}"), 200)
        assert (now["region_id"], now["cell_id"], now["parent_id"]) == (
            p["west"]["id"],
            p["w1"]["id"],
            child["parent_id"],
        )
        update = _history(client, f"/v1/hosts/{child['id']}")[-1]
        assert update["action"] == "update"
        assert update["new"] == {"region_id": p["west"]["id"], "cell_id": p["w1"]["id"]}
        assert update["request_id"] == _history(client, path)[-1]["request_id"]
    stayed = expect(client.get(f"/v1/hosts/{remote['id']}"), 200)
    assert (stayed["region_id"], stayed["cell_id"]) == (p["east"]["id"], p["e2"]["id"])

    # a child may move away from its parent on its own (parents may be elsewhere, as on create)
    alone = expect(client.put(f"/v1/hosts/{vm['id']}", json={"cell_id": p["e1"]["id"]}), 200)
    assert (alone["cell_id"], alone["parent_id"]) == (p["e1"]["id"], blade1["id"])


def test_as_of_resolves_through_the_placement_before_the_move(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p = tenant.client, _place(tenant)
    host = tenant.inventory.host(cell=p["e1"], variables={"own": 1})
    path = f"/v1/hosts/{host['id']}"
    before = _moment()
    expect(client.put(path, json={"cell_id": p["w1"]["id"]}), 200)
    after = _moment()
    expect(client.put(path, json={"cell_id": p["e2"]["id"]}), 200)

    def as_of(moment: str) -> dict[str, Any]:
        return expect(client.get(f"{path}/variables", params={"as_of": moment}), 200)["variables"]

    assert {k: v for k, v in as_of(before).items() if k in ("where", "rack")} == {"where": "east", "rack": "e1"}
    assert {k: v for k, v in as_of(after).items() if k in ("where", "rack")} == {"where": "west", "rack": "w1"}
    now = expect(client.get(f"{path}/variables"), 200)["variables"]
    assert (now["where"], now["rack"]) == ("east", "e2")
    diff = expect(client.get(f"{path}/variables", params={"diff_from": before, "diff_to": after}), 200)
    assert diff["changed"] == {"where": {"from": "east", "to": "west"}, "rack": {"from": "e1", "to": "w1"}}


def test_interfaces_keep_device_and_network_in_one_region(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p, inv = tenant.client, _place(tenant), tenant.inventory
    host = inv.host(cell=p["e1"])
    network = inv.network(p["east"])
    eth = inv.interface(host, network=network, name="eth0")
    message = expect_error(client.put(f"/v1/hosts/{host['id']}", json={"cell_id": p["w1"]["id"]}), 400)
    assert f"{eth['id']} ('eth0', device {host['id']}, network {network['id']})" in message
    # within the region it is fine
    assert (
        expect(client.put(f"/v1/hosts/{host['id']}", json={"cell_id": p["e2"]["id"]}), 200)["cell_id"] == p["e2"]["id"]
    )
    # detached, it can go
    expect(client.delete(f"/v1/network-interfaces/{eth['id']}"), 204)
    assert (
        expect(client.put(f"/v1/hosts/{host['id']}", json={"cell_id": p["w1"]["id"]}), 200)["region_id"]
        == p["west"]["id"]
    )


def test_cell_moves_with_its_devices_and_networks(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p, inv = tenant.client, _place(tenant), tenant.inventory
    cell = p["e1"]
    hosts = [inv.host(cell=cell, name=f"h{i}", variables={"n": i}) for i in range(3)]
    switch = inv.network_device(cell=cell, name="sw")
    network = inv.network(p["east"], cell=cell, name="net")
    inv.interface(hosts[0], network=network)  # both move: stays consistent
    outside = inv.host(p["east"], name="outside", parent=hosts[1])  # parent in the cell, itself in the region
    before = _moment()

    moved = expect(client.put(f"/v1/cells/{cell['id']}", json={"region_id": p["west"]["id"]}), 200)
    assert (moved["region_id"], moved["cloud_id"]) == (p["west"]["id"], cell["cloud_id"])
    for device in [*hosts, switch]:
        kind = "hosts" if device is not switch else "network-devices"
        now = expect(client.get(f"/v1/{kind}/{device['id']}"), 200)
        assert (now["region_id"], now["cell_id"]) == (p["west"]["id"], cell["id"])
        last = _history(client, f"/v1/{kind}/{device['id']}")[-1]
        assert (last["action"], last["old"], last["new"]) == (
            "update",
            {"region_id": p["east"]["id"]},
            {"region_id": p["west"]["id"]},
        )
    assert expect(client.get(f"/v1/networks/{network['id']}"), 200)["region_id"] == p["west"]["id"]
    assert expect(client.get(f"/v1/hosts/{outside['id']}"), 200)["region_id"] == p["east"]["id"]
    cell_history = _history(client, f"/v1/cells/{cell['id']}")
    assert (cell_history[-1]["old"], cell_history[-1]["new"]) == (
        {"region_id": p["east"]["id"]},
        {"region_id": p["west"]["id"]},
    )

    old = expect(client.get(f"/v1/hosts/{hosts[2]['id']}/variables", params={"as_of": before}), 200)["variables"]
    assert (old["where"], old["rack"], old["n"]) == ("east", "e1", 2)
    now = expect(client.get(f"/v1/hosts/{hosts[2]['id']}/variables"), 200)["variables"]
    assert (now["where"], now["rack"], now["n"]) == ("west", "e1", 2)
    cell_before = expect(
        client.get(f"/v1/cells/{cell['id']}/variables", params={"as_of": before, "resolved-values": "true"}), 200
    )
    assert cell_before["variables"]["where"] == "east"


def test_cell_moves_are_checked(craton: Craton) -> None:
    tenant = craton.tenant()
    client, p, inv = tenant.client, _place(tenant), tenant.inventory
    cell = p["e1"]
    path = f"/v1/cells/{cell['id']}"
    expect_error(
        client.put(path, json={"region_id": p["other_region"]["id"]}), 400, contains=["moves stay within a cloud"]
    )
    expect_error(
        client.put(path, json={"region_id": 2_000_000_000}), 400, "Region 2000000000 does not exist in this project."
    )
    expect_invalid(client.put(path, json={"cloud_id": p["cloud"]["id"]}))
    # a device name taken in the target region
    inv.host(cell=cell, name="dup")
    inv.host(p["west"], name="dup")
    expect_error(client.put(path, json={"region_id": p["west"]["id"]}), 409, contains=["'dup'"])
    # an interface that would link regions
    other = p["e2"]
    host = inv.host(cell=other, name="linked")
    network = inv.network(p["east"], cell=other)
    inv.interface(host, network=network)
    moving_host = inv.host(cell=other, name="mover")
    eth = inv.interface(moving_host, network=inv.network(p["east"]), name="uplink")
    message = expect_error(client.put(f"/v1/cells/{other['id']}", json={"region_id": p["west"]["id"]}), 400)
    assert f"{eth['id']} ('uplink'" in message
    assert expect(client.get(f"/v1/cells/{other['id']}"), 200)["region_id"] == p["east"]["id"]
    assert expect(client.get(f"/v1/hosts/{host['id']}"), 200)["region_id"] == p["east"]["id"]
    # a cell name taken in the target region
    expect(client.delete(f"/v1/network-interfaces/{eth['id']}"), 204)
    inv.cell(p["west"], name="e2")
    expect_error(client.put(f"/v1/cells/{other['id']}", json={"region_id": p["west"]["id"]}), 409)


def test_members_move_and_other_tenants_cannot(craton: Craton) -> None:
    tenant = craton.tenant()
    p = _place(tenant)
    host = tenant.inventory.host(cell=p["e1"])
    member = tenant.member()
    assert (
        expect(member.put(f"/v1/hosts/{host['id']}", json={"cell_id": p["e2"]["id"]}), 200)["cell_id"] == p["e2"]["id"]
    )
    stranger = craton.tenant().client
    assert stranger.put(f"/v1/hosts/{host['id']}", json={"cell_id": p["e1"]["id"]}).status_code == 404
    assert stranger.put(f"/v1/cells/{p['e1']['id']}", json={"region_id": p["west"]["id"]}).status_code == 404


def test_openapi_documents_moves(craton: Craton) -> None:
    spec = expect(craton.root.get("/openapi.json"), 200)
    for path in ("/v1/hosts/{id}", "/v1/network-devices/{id}"):
        put = spec["paths"][path]["put"]
        body = put["requestBody"]["content"]["application/json"]["schema"]["properties"]
        assert {"region_id", "cell_id"} <= set(body)
        assert "with_children" in {param["name"] for param in put["parameters"]}
    assert (
        "region_id"
        in spec["paths"]["/v1/cells/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    )
