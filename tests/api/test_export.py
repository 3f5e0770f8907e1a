"""GET /v1/export: a project's fleet as one document keyed by names, on every backend.

The document must carry every object with its own data, labels, variables and masks,
nested by placement and referring to other objects by name only; it must validate
against the JSON Schema served beside the OpenAPI document, read the same as YAML,
stay inside the caller's project and cost the same number of statements whatever
the fleet's size.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from tests.api.helpers import Craton, Tenant, expect, expect_not_found


def _fleet(tenant: Tenant, hosts: int = 2) -> dict[str, Any]:
    inv = tenant.inventory
    client = tenant.client
    expect(client.put(f"/v1/projects/{tenant.project_id}/merge-strategies", json={"pkgs": "append"}), 200)
    cloud = inv.cloud(name="cloud-a", variables={"pkgs": ["base"]}, note="main cloud")
    region = inv.region(cloud, name="region-1", variables={"dc": "fra"})
    cell = inv.cell(region, name="cell-x")
    expect(client.put(f"/v1/cells/{cell['id']}/variables/masks", json=["dc"]), 200)
    network = inv.network(region, name="net-1", cell=cell)
    switch = inv.network_device(cell=cell, name="sw-1", labels=["tor"], model_name="X1", os_version="9")
    made = [
        inv.host(cell=cell, name=f"host-{n}", parent=switch, labels=["web", "b"], variables={"n": n, "x": {"y": [1]}})
        for n in range(hosts)
    ]
    inv.interface(made[0], name="eth0", network=network, ip_address="10.9.0.1", vlan_id=7)
    inv.host(region, name="loose", active=False, ip_address="10.0.0.9")
    return {"cloud": cloud, "region": region, "cell": cell, "hosts": made}


def test_the_whole_project_as_a_document_keyed_by_names(craton: Craton) -> None:
    tenant = craton.tenant(variables={"owner": "ops"})
    _fleet(tenant)
    document = expect(tenant.client.get("/v1/export"), 200)
    host = {"kind": "host", "device_type": "server", "ip_address": "10.0.0.1", "active": True, "parent": "sw-1"}
    assert document == {
        "format": "craton-fleet",
        "version": 1,
        "project": {"variables": {"owner": "ops"}, "merge_strategies": {"pkgs": "append"}},
        "clouds": [
            {
                "name": "cloud-a",
                "note": "main cloud",
                "variables": {"pkgs": ["base"]},
                "regions": [
                    {
                        "name": "region-1",
                        "variables": {"dc": "fra"},
                        "devices": [
                            {
                                "kind": "host",
                                "name": "loose",
                                "device_type": "server",
                                "ip_address": "10.0.0.9",
                                "active": False,
                            }
                        ],
                        "cells": [
                            {
                                "name": "cell-x",
                                "masks": ["dc"],
                                "networks": [
                                    {
                                        "name": "net-1",
                                        "cidr": "192.168.0.0/24",
                                        "gateway": "192.168.0.1",
                                        "netmask": "255.255.255.0",
                                    }
                                ],
                                "devices": [
                                    {
                                        **host,
                                        "name": "host-0",
                                        "labels": ["b", "web"],
                                        "variables": {"n": 0, "x": {"y": [1]}},
                                        "interfaces": [
                                            {
                                                "name": "eth0",
                                                "interface_type": "ethernet",
                                                "ip_address": "10.9.0.1",
                                                "vlan_id": 7,
                                                "network": "net-1",
                                            }
                                        ],
                                    },
                                    {
                                        **host,
                                        "name": "host-1",
                                        "labels": ["b", "web"],
                                        "variables": {"n": 1, "x": {"y": [1]}},
                                    },
                                    {
                                        "kind": "network_device",
                                        "name": "sw-1",
                                        "device_type": "switch",
                                        "ip_address": "10.0.0.1",
                                        "active": True,
                                        "model_name": "X1",
                                        "os_version": "9",
                                        "labels": ["tor"],
                                    },
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    schema = expect(craton.client().get("/export-schema.json"), 200)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)


def test_yaml_reads_as_the_same_document(craton: Craton) -> None:
    tenant = craton.tenant()
    _fleet(tenant)
    response = tenant.client.get("/v1/export", params={"format": "yaml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.text) == expect(tenant.client.get("/v1/export"), 200)


def test_a_subtree_and_nothing_of_another_project(craton: Craton) -> None:
    tenant = craton.tenant()
    placed = _fleet(tenant)
    other = craton.tenant()
    foreign = other.inventory.cloud(name="cloud-a")
    other.inventory.region(foreign, name="secret-region")
    assert "secret" not in str(expect(tenant.client.get("/v1/export"), 200))
    expect_not_found(tenant.client.get("/v1/export", params={"cloud_id": foreign["id"]}))
    cell = expect(tenant.client.get("/v1/export", params={"cell_id": placed["cell"]["id"]}), 200)
    assert "project" not in cell
    [region] = cell["clouds"][0]["regions"]
    assert [c["name"] for c in region["cells"]] == ["cell-x"]
    assert "devices" not in region  # the loose host is outside the cell
    region_only = expect(tenant.client.get("/v1/export", params={"region_id": placed["region"]["id"]}), 200)
    assert [d["name"] for d in region_only["clouds"][0]["regions"][0]["devices"]] == ["loose"]


def test_members_may_export_and_the_statement_count_does_not_grow(craton: Craton) -> None:
    small, big = craton.tenant(), craton.tenant()
    _fleet(small, hosts=2)
    _fleet(big, hosts=20)
    counts = []
    for tenant in (small, big):
        member = tenant.member()
        expect(member.get("/v1/export"), 200)
        with craton.server.count_queries() as counter:
            expect(member.get("/v1/export"), 200)
        counts.append(counter.count)
    assert counts[0] == counts[1]
