"""Inventory options of issue 21: network devices, group_by, and variable keys Ansible refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Craton, Tenant, expect, expect_invalid


@pytest.fixture(scope="module")
def fleet(craton: Craton) -> tuple[Tenant, dict[str, Any]]:
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud(name="prod", variables={"tier": "prod"})
    east = inv.region(cloud, name="east")
    rack = inv.cell(east, name="rack1")
    made = {
        "cloud": cloud,
        "east": east,
        "rack": rack,
        "web": inv.host(cell=rack, name="web-1", labels=["web"], device_type="server"),
        "db": inv.host(east, name="db-1", device_type="database"),
        "switch": inv.network_device(cell=rack, name="sw-1", labels=["web"], device_type="switch"),
    }
    return tenant, made


def _inventory(tenant: Tenant, query: str = "") -> dict[str, Any]:
    return expect(tenant.client.get(f"/v1/ansible-inventory?{query}"), 200)


def test_network_devices_are_opt_in_and_grouped_like_hosts(fleet: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, _ = fleet
    plain = _inventory(tenant)
    assert sorted(plain["_meta"]["hostvars"]) == ["db-1", "web-1"]
    body = _inventory(tenant, "network_devices=true")
    assert sorted(body["_meta"]["hostvars"]) == ["db-1", "sw-1", "web-1"]
    assert body["east_rack1"]["hosts"] == ["sw-1", "web-1"]
    assert body["web"]["hosts"] == ["sw-1", "web-1"]
    assert body["_meta"]["hostvars"]["sw-1"]["tier"] == "prod"
    assert body["_meta"]["hostvars"]["sw-1"]["ansible_host"] == "10.0.0.1"
    assert sorted(_inventory(tenant, "network_devices=true&label=web")["_meta"]["hostvars"]) == ["sw-1", "web-1"]


def test_group_by(fleet: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, _ = fleet
    default = _inventory(tenant)
    assert _inventory(tenant, "group_by=region,cell,label") == default
    assert default["all"]["children"] == ["east", "web"]

    body = _inventory(tenant, "group_by=cloud,region,cell,device_type&network_devices=1")
    assert body["all"]["children"] == ["database", "prod", "server", "switch"]
    assert body["prod"] == {"children": ["east"], "hosts": [], "vars": {"tier": "prod"}}
    assert body["east"]["children"] == ["east_rack1"] and body["east"]["hosts"] == ["db-1"]
    assert (body["server"]["hosts"], body["switch"]["hosts"], body["database"]["hosts"]) == (
        ["web-1"],
        ["sw-1"],
        ["db-1"],
    )
    assert "web" not in body

    cells_only = _inventory(tenant, "group_by=cloud&group_by=cell")
    assert cells_only["prod"]["children"] == ["east_rack1"] and cells_only["prod"]["hosts"] == ["db-1"]
    assert "east" not in cells_only

    labels_only = _inventory(tenant, "group_by=label")
    assert labels_only["all"] == {"children": ["web"], "hosts": ["db-1"], "vars": {}}
    nothing = _inventory(tenant, "group_by=none")
    assert nothing["all"] == {"children": [], "hosts": ["db-1", "web-1"], "vars": {}}
    assert set(nothing) == {"all", "_meta"}
    expect_invalid(tenant.client.get("/v1/ansible-inventory?group_by=rack"))


def test_invalid_variable_names_are_listed(craton: Craton) -> None:
    tenant = craton.tenant()
    inv = tenant.inventory
    region = inv.region(name="r", variables={"region-key": 1, "ok": 2})
    inv.host(region, name="good", variables={"fine_name": 1, "class": 2})
    inv.host(region, name="bad", variables={"my key": 1, "2nd": 2, "true": 3, "dash-ed": 4, "grüße": 5})
    response = tenant.client.get("/v1/ansible-inventory")
    body = expect(response, 200)
    assert body["_meta"]["hostvars"]["bad"]["my key"] == 1  # served as stored
    assert body["_meta"]["invalid_variable_names"] == {
        "hosts": {
            "bad": sorted(["my key", "2nd", "true", "dash-ed", "grüße", "region-key"]),
            "good": ["region-key"],
        },
        "groups": {"r": ["region-key"]},
    }
    assert response.headers["X-Craton-Warning"].startswith("2 host(s) and 1 group(s) have variable keys")
    clean = craton.tenant()
    clean.inventory.host(name="fine", variables={"a_b": 1})
    response = clean.client.get("/v1/ansible-inventory")
    assert "invalid_variable_names" not in expect(response, 200)["_meta"]
    assert "X-Craton-Warning" not in response.headers
