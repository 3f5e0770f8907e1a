"""Devices: nesting, parent rules, /v1/devices, up links, labels, IP addresses, type checks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    MISSING_ID,
    Craton,
    Tenant,
    expect,
    expect_error,
    expect_invalid,
    expect_not_found,
    ids_of,
)


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    return craton.tenant()


def _device_path(device: dict[str, Any]) -> str:
    return "/v1/network-devices" if "model_name" in device else "/v1/hosts"


# --- nesting and parent rules ----------------------------------------------------------------


@pytest.fixture
def nested(tenant: Tenant) -> dict[str, Any]:
    """switch > host > leaf, plus a sibling host under the switch, in one region."""
    inv = tenant.inventory
    region = inv.region()
    switch = inv.network_device(region)
    host = inv.host(region, parent=switch)
    leaf = inv.host(region, parent=host)
    sibling = inv.host(region, parent=switch)
    return {"region": region, "switch": switch, "host": host, "leaf": leaf, "sibling": sibling}


def test_a_device_cannot_be_its_own_parent(tenant: Tenant, nested: dict[str, Any]) -> None:
    for name in ("host", "switch"):
        device = nested[name]
        path = _device_path(device)
        expect_error(
            tenant.client.put(f"{path}/{device['id']}", json={"parent_id": device["id"]}),
            400,
            f"A device cannot be its own parent. The id for '{device['name']}' cannot be used as its parent_id.",
        )
        # with a rename in the same request the message names the new name
        expect_error(
            tenant.client.put(f"{path}/{device['id']}", json={"parent_id": device["id"], "name": "renamed"}),
            400,
            "A device cannot be its own parent. The id for 'renamed' cannot be used as its parent_id.",
        )


def test_a_device_cannot_have_a_descendant_as_parent(tenant: Tenant, nested: dict[str, Any]) -> None:
    switch, host, leaf = nested["switch"], nested["host"], nested["leaf"]
    for device, descendant in ((switch, leaf), (switch, host), (host, leaf)):
        expect_error(
            tenant.client.put(f"{_device_path(device)}/{device['id']}", json={"parent_id": descendant["id"]}),
            400,
            "A device cannot have a descendant as its parent. "
            f"The parent_id for '{device['name']}' cannot be set to the id '{descendant['id']}'.",
        )
    assert expect(tenant.client.get(f"/v1/network-devices/{switch['id']}"), 200)["parent_id"] is None


def test_reparent_and_detach(tenant: Tenant, nested: dict[str, Any]) -> None:
    leaf, sibling = nested["leaf"], nested["sibling"]
    moved = expect(tenant.client.put(f"/v1/hosts/{leaf['id']}", json={"parent_id": sibling["id"]}), 200)
    assert moved["parent_id"] == sibling["id"]
    detached = expect(tenant.client.put(f"/v1/hosts/{leaf['id']}", json={"parent_id": None}), 200)
    assert detached["parent_id"] is None
    assert detached["links"] == [{"href": f"{tenant.craton.url}/v1/regions/{nested['region']['id']}", "rel": "up"}]


def test_missing_or_foreign_parent_is_400(craton: Craton, tenant: Tenant, nested: dict[str, Any]) -> None:
    other = craton.tenant()
    foreign = other.inventory.host()
    region = nested["region"]
    base = {"cloud_id": region["cloud_id"], "region_id": region["id"], "ip_address": "10.0.0.9", "device_type": "x"}
    for parent_id in (MISSING_ID, foreign["id"]):
        for path in ("/v1/hosts", "/v1/network-devices"):
            expect_error(tenant.client.post(path, json={**base, "name": "orphan", "parent_id": parent_id}), 400)
        expect_error(tenant.client.put(f"/v1/hosts/{nested['leaf']['id']}", json={"parent_id": parent_id}), 400)
    # and the other project's device is untouched
    assert expect(other.client.get(f"/v1/hosts/{foreign['id']}"), 200)["parent_id"] is None


def test_deleting_a_device_with_children_is_409(tenant: Tenant, nested: dict[str, Any]) -> None:
    client = tenant.client
    expect_error(client.delete(f"/v1/network-devices/{nested['switch']['id']}"), 409)
    expect_error(client.delete(f"/v1/hosts/{nested['host']['id']}"), 409)
    expect(client.get(f"/v1/hosts/{nested['host']['id']}"), 200)
    expect(client.delete(f"/v1/hosts/{nested['leaf']['id']}"), 204)
    expect(client.delete(f"/v1/hosts/{nested['host']['id']}"), 204)
    expect(client.delete(f"/v1/hosts/{nested['sibling']['id']}"), 204)
    expect(client.delete(f"/v1/network-devices/{nested['switch']['id']}"), 204)
    expect_not_found(client.get(f"/v1/network-devices/{nested['switch']['id']}"))


# --- /v1/devices -------------------------------------------------------------------------------


def test_devices_listing_shape_and_parent_filters(craton: Craton) -> None:
    tenant = craton.tenant()
    client = tenant.client
    empty = expect(client.get("/v1/devices"), 200)
    assert set(empty) == {"devices", "links"}
    assert empty["devices"] == {"hosts": [], "network-devices": []}

    inv = tenant.inventory
    region = inv.region()
    root = inv.network_device(region)
    a = inv.host(region, parent=root)
    b = inv.network_device(region, parent=root)
    a1 = inv.host(region, parent=a)
    b1 = inv.host(region, parent=b)
    b11 = inv.network_device(region, parent=b1)
    loose = inv.host(region)

    everything = expect(client.get("/v1/devices"), 200)
    assert set(everything["devices"]) == {"hosts", "network-devices"}
    assert ids_of(everything["devices"]["hosts"]) == [a["id"], a1["id"], b1["id"], loose["id"]]
    assert ids_of(everything["devices"]["network-devices"]) == [root["id"], b["id"], b11["id"]]
    for item in everything["devices"]["network-devices"]:
        assert {"model_name", "os_version", "vlans"} <= set(item)
    for item in everything["devices"]["hosts"]:
        assert "model_name" not in item and "variables" not in item

    def listed(**params: Any) -> tuple[list[int], list[int]]:
        body = expect(client.get("/v1/devices", params=params), 200)["devices"]
        return ids_of(body["hosts"]), ids_of(body["network-devices"])

    assert listed(parent_id=root["id"]) == ([a["id"]], [b["id"]])
    assert listed(parent_id=b["id"]) == ([b1["id"]], [])
    assert listed(parent_id=root["id"], descendants="true") == ([a["id"], a1["id"], b1["id"]], [b["id"], b11["id"]])
    assert listed(parent_id=b["id"], descendants="yes") == ([b1["id"]], [b11["id"]])
    assert listed(parent_id=b11["id"], descendants="true") == ([], [])
    assert listed(parent_id=root["id"], descendants="false") == ([a["id"]], [b["id"]])
    # descendants without parent_id is ignored
    assert listed(descendants="true") == (
        ids_of(everything["devices"]["hosts"]),
        ids_of(everything["devices"]["network-devices"]),
    )


def test_unknown_parent_filter_is_not_a_500(tenant: Tenant) -> None:
    for params in ({"parent_id": MISSING_ID}, {"parent_id": MISSING_ID, "descendants": "true"}):
        response = tenant.client.get("/v1/devices", params=params)
        if response.status_code == 200:
            assert response.json()["devices"] == {"hosts": [], "network-devices": []}
        else:
            expect_error(response, response.status_code)
            assert response.status_code in (400, 404), response.text
    expect_invalid(tenant.client.get("/v1/devices", params={"parent_id": "abc"}), "'abc' is not of type 'integer'")


def test_up_links_everywhere(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client, base = tenant.inventory, tenant.client, f"{craton.url}/v1"
    region = inv.region()
    cell = inv.cell(region)
    in_region = inv.host(region)
    in_cell = inv.network_device(cell=cell)
    under_host = inv.network_device(region, parent=in_region)
    under_switch = inv.host(cell=cell, parent=in_cell)
    expected = {
        in_region["id"]: f"{base}/regions/{region['id']}",
        in_cell["id"]: f"{base}/cells/{cell['id']}",
        under_host["id"]: f"{base}/hosts/{in_region['id']}",
        under_switch["id"]: f"{base}/network-devices/{in_cell['id']}",
    }
    for device in (in_region, in_cell, under_host, under_switch):
        path = f"{_device_path(device)}/{device['id']}"
        up = [{"href": expected[device["id"]], "rel": "up"}]
        assert device["links"] == up, device  # POST
        assert expect(client.get(path), 200)["links"] == up
        assert expect(client.put(path, json={"device_type": "changed"}), 200)["links"] == up
    for path, key in (("/v1/hosts", "hosts"), ("/v1/network-devices", "network_devices")):
        for item in expect(client.get(path, params={"details": "true"}), 200)[key]:
            assert item["links"] == [{"href": expected[item["id"]], "rel": "up"}]
    devices = expect(client.get("/v1/devices"), 200)["devices"]
    for item in devices["hosts"] + devices["network-devices"]:
        assert item["links"] == [{"href": expected[item["id"]], "rel": "up"}]


# --- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/hosts", "/v1/network-devices"])
def test_labels_get_put_union_delete(tenant: Tenant, path: str) -> None:
    inv, client = tenant.inventory, tenant.client
    device = (inv.host if path == "/v1/hosts" else inv.network_device)(labels=["compute"])
    url = f"{path}/{device['id']}/labels"
    assert expect(client.get(url), 200) == {"labels": ["compute"]}
    got = expect(client.put(url, json={"labels": ["compute", "scheduler"]}), 200)
    assert sorted(got["labels"]) == ["compute", "scheduler"] and set(got) == {"labels"}
    got = expect(client.put(url, json={"labels": ["zeta", "alpha", "alpha"]}), 200)
    assert sorted(got["labels"]) == ["alpha", "compute", "scheduler", "zeta"]
    assert sorted(expect(client.get(f"{path}/{device['id']}"), 200)["labels"]) == sorted(got["labels"])
    expect(client.request("DELETE", url, json={"labels": ["zeta", "never-there"]}), 204)
    assert sorted(expect(client.get(url), 200)["labels"]) == ["alpha", "compute", "scheduler"]
    expect(client.request("DELETE", url, json={"labels": []}), 204)
    assert sorted(expect(client.get(url), 200)["labels"]) == ["alpha", "compute", "scheduler"]


@pytest.mark.parametrize("path", ["/v1/hosts", "/v1/network-devices"])
def test_labels_bad_bodies_and_missing_devices(tenant: Tenant, path: str) -> None:
    inv, client = tenant.inventory, tenant.client
    device = (inv.host if path == "/v1/hosts" else inv.network_device)()
    other = (inv.network_device if path == "/v1/hosts" else inv.host)()
    url = f"{path}/{device['id']}/labels"
    expect_invalid(client.put(url, json={}), "'labels' is a required property")
    expect_invalid(client.request("DELETE", url, json={}), "'labels' is a required property")
    expect_invalid(client.put(url, json={"labels": "a"}), "'a' is not of type 'array'")
    expect_invalid(client.put(url, json={"labels": [1]}), "1 is not of type 'string'")
    expect_invalid(
        client.put(url, json={"labels": ["a"], "x": 1}), "Additional properties are not allowed ('x' was unexpected)"
    )
    expect_invalid(client.put(url), "None is not of type 'object'")
    expect_invalid(client.get(url, params={"x": "1"}))
    for missing in (MISSING_ID, other["id"]):
        bad = f"{path}/{missing}/labels"
        expect_not_found(client.get(bad))
        expect_not_found(client.put(bad, json={"labels": ["a"]}))
        expect_not_found(client.request("DELETE", bad, json={"labels": ["a"]}))
    assert expect(client.get(f"{_device_path(other)}/{other['id']}/labels"), 200) == {"labels": []}


def test_label_filter(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    compute = inv.host(region, labels=["compute"])
    both = inv.host(region, labels=["compute", "scheduler"])
    scheduler = inv.host(region, labels=["scheduler"])
    switch = inv.network_device(region, labels=["compute"])
    inv.host(region)

    def hosts(**params: Any) -> list[int]:
        return ids_of(expect(client.get("/v1/hosts", params=params), 200)["hosts"])

    assert hosts(label="compute") == [compute["id"], both["id"]]
    assert hosts(label="scheduler") == [both["id"], scheduler["id"]]
    assert hosts(label="nothing") == []
    # repeated labels mean "has all of them" (issue 21; the original used the first value only)
    assert ids_of(client.get("/v1/hosts?label=scheduler&label=compute").json()["hosts"]) == [both["id"]]
    netdevs = expect(client.get("/v1/network-devices", params={"label": "compute"}), 200)["network_devices"]
    assert ids_of(netdevs) == [switch["id"]]
    devices = expect(client.get("/v1/devices", params={"label": "compute"}), 200)["devices"]
    assert ids_of(devices["hosts"]) == [compute["id"], both["id"]]
    assert ids_of(devices["network-devices"]) == [switch["id"]]


def test_labels_on_create_are_a_set(tenant: Tenant) -> None:
    host = tenant.inventory.host(labels=["x", "x", "y"])
    assert sorted(host["labels"]) == ["x", "y"]
    assert sorted(expect(tenant.client.get(f"/v1/hosts/{host['id']}/labels"), 200)["labels"]) == ["x", "y"]
    expect_invalid(
        tenant.client.post(
            "/v1/hosts",
            json={
                "name": "l",
                "cloud_id": host["cloud_id"],
                "region_id": host["region_id"],
                "ip_address": "10.0.0.1",
                "device_type": "s",
                "labels": [""],
            },
        )
    )


def test_labels_are_per_device(tenant: Tenant) -> None:
    first = tenant.inventory.host(labels=["shared", "mine"])
    second = tenant.inventory.host(labels=["shared"])
    expect(tenant.client.request("DELETE", f"/v1/hosts/{first['id']}/labels", json={"labels": ["shared"]}), 204)
    assert expect(tenant.client.get(f"/v1/hosts/{second['id']}/labels"), 200) == {"labels": ["shared"]}
    assert expect(tenant.client.get(f"/v1/hosts/{first['id']}/labels"), 200) == {"labels": ["mine"]}


# --- IP addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["not-an-ip", "300.1.1.1", "10.0.0", "1.2.3.4/24", "", "::g", "10.0.0.1 "])
def test_invalid_ip_addresses_are_400(tenant: Tenant, bad: str) -> None:
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    base = {"cloud_id": region["cloud_id"], "region_id": region["id"], "device_type": "server", "name": "ipcheck"}
    expect_error(client.post("/v1/hosts", json={**base, "ip_address": bad}), 400)
    expect_error(client.post("/v1/network-devices", json={**base, "ip_address": bad}), 400)
    host = inv.host(region)
    expect_error(client.put(f"/v1/hosts/{host['id']}", json={"ip_address": bad}), 400)
    expect_error(
        client.post(
            "/v1/network-interfaces",
            json={"name": "e", "device_id": host["id"], "interface_type": "x", "ip_address": bad},
        ),
        400,
    )
    assert expect(client.get(f"/v1/hosts/{host['id']}"), 200)["ip_address"] == "10.0.0.1"


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("FE80::0202:B3FF:FE1E:8329", "fe80::202:b3ff:fe1e:8329"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("192.168.001.010", None),  # leading zeros: rejected (ambiguous) or normalised, never stored raw
        ("10.20.30.40", "10.20.30.40"),
    ],
)
def test_ip_addresses_are_normalised(tenant: Tenant, given: str, normal: str | None) -> None:
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    body = {
        "cloud_id": region["cloud_id"],
        "region_id": region["id"],
        "device_type": "server",
        "name": "ip",
        "ip_address": given,
    }
    response = client.post("/v1/hosts", json=body)
    if normal is None:
        if response.status_code == 400:
            return
        normal = "192.168.1.10"
    host = expect(response, 201)
    assert host["ip_address"] == normal
    assert expect(client.get(f"/v1/hosts/{host['id']}"), 200)["ip_address"] == normal
    updated = expect(client.put(f"/v1/hosts/{host['id']}", json={"ip_address": given}), 200)
    assert updated["ip_address"] == normal
    interface = tenant.inventory.interface(host, ip_address=given)
    assert interface["ip_address"] == normal
    assert expect(client.get(f"/v1/network-interfaces/{interface['id']}"), 200)["ip_address"] == normal
    found = expect(client.get("/v1/hosts", params={"ip_address": normal, "region_id": region["id"]}), 200)["hosts"]
    assert ids_of(found) == [host["id"]]


# --- the two device types are kept apart -------------------------------------------------------


def test_device_types_are_not_interchangeable(tenant: Tenant) -> None:
    client = tenant.client
    host, switch = tenant.inventory.host(), tenant.inventory.network_device()
    for path, wrong in (("/v1/hosts", switch), ("/v1/network-devices", host)):
        url = f"{path}/{wrong['id']}"
        expect_not_found(client.get(url))
        expect_not_found(client.put(url, json={"name": "hijacked"}))
        expect_not_found(client.delete(url))
        expect_not_found(client.get(f"{url}/variables"))
        expect_not_found(client.put(f"{url}/variables", json={"a": 1}))
    assert expect(client.get(f"/v1/network-devices/{switch['id']}"), 200)["name"] == switch["name"]
    assert expect(client.get(f"/v1/hosts/{host['id']}"), 200)["name"] == host["name"]
    assert ids_of(expect(client.get("/v1/hosts", params={"id": switch["id"]}), 200)["hosts"]) == []


def test_hosts_and_network_devices_share_the_name_space(tenant: Tenant) -> None:
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    host = inv.host(region)
    base = {
        "cloud_id": region["cloud_id"],
        "region_id": region["id"],
        "device_type": "switch",
        "ip_address": "10.0.0.2",
    }
    expect_error(
        client.post("/v1/network-devices", json={**base, "name": host["name"]}),
        409,
        "A device with the given name already exists.",
    )
    switch = inv.network_device(region)
    expect_error(
        client.put(f"/v1/hosts/{host['id']}", json={"name": switch["name"]}),
        409,
        "A device with the given name already exists.",
    )
    # the same name in another region is fine
    inv.host(inv.region(), name=host["name"])


def test_network_device_note_and_active_can_be_updated(tenant: Tenant) -> None:
    switch = tenant.inventory.network_device(note="first")
    assert switch["note"] == "first" and switch["active"] is True
    updated = expect(
        tenant.client.put(f"/v1/network-devices/{switch['id']}", json={"note": "second", "active": False}), 200
    )
    assert updated["note"] == "second" and updated["active"] is False
    got = expect(tenant.client.get(f"/v1/network-devices/{switch['id']}"), 200)
    assert got["note"] == "second" and got["active"] is False
    listed = expect(tenant.client.get("/v1/network-devices", params={"id": switch["id"]}), 200)["network_devices"]
    assert [item["note"] for item in listed] == ["second"]


def test_device_filters(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    cell = inv.cell(region)
    a = inv.host(region, device_type="server", ip_address="10.9.0.1")
    b = inv.host(cell=cell, device_type="container", active=False)
    c = inv.network_device(cell=cell)

    def hosts(**params: Any) -> list[int]:
        return ids_of(expect(client.get("/v1/hosts", params=params), 200)["hosts"])

    assert hosts(cell_id=cell["id"]) == [b["id"]]
    assert hosts(region_id=region["id"]) == [a["id"], b["id"]]
    assert hosts(cloud_id=region["cloud_id"]) == [a["id"], b["id"]]
    assert hosts(device_type="container") == [b["id"]]
    assert hosts(ip_address="10.9.0.1") == [a["id"]]
    assert hosts(name=a["name"]) == [a["id"]]
    assert hosts(id=b["id"]) == [b["id"]]
    devices = expect(client.get("/v1/devices", params={"cell_id": cell["id"]}), 200)["devices"]
    assert (ids_of(devices["hosts"]), ids_of(devices["network-devices"])) == ([b["id"]], [c["id"]])
    devices = expect(client.get("/v1/devices", params={"active": "false"}), 200)["devices"]
    assert ids_of(devices["hosts"]) == [b["id"]]
    expect_invalid(client.get("/v1/hosts", params={"region_id": "abc"}), "'abc' is not of type 'integer'")
