"""Deletes that keep their history: ``?preview=true`` counts, and a record for every cascaded object.

On every backend: the preview of each kind of delete names the counts the real
delete then removes and writes nothing; a region delete records a ``delete``
for each cell, host, network device, network and interface it removed (same
request id and reason, ``cascade_of`` pointing at the region's record), so the
history and ``as_of`` of a removed host keep answering.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import sqlalchemy as sa

from tests.api.helpers import MISSING_ID, expect, expect_error

EMPTY = {
    "clouds": 0,
    "regions": 0,
    "cells": 0,
    "hosts": 0,
    "network_devices": 0,
    "networks": 0,
    "network_interfaces": 0,
}


def moment() -> str:
    time.sleep(0.01)
    value = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    return value


def build_region(inv, client):
    """A region with a cell, 3 hosts (one nested under a switch), a network and 2 interfaces."""
    region = inv.region(variables={"ntp": "r"})
    cell = inv.cell(region, variables={"rack": 1})
    switch = inv.network_device(cell=cell, variables={"role": "tor"})
    hosts = [inv.host(cell=cell, variables={"n": n}) for n in range(2)]
    hosts.append(inv.host(cell=cell, parent=switch, variables={"n": 2}))
    network = expect(
        client.post(
            "/v1/networks",
            json={
                "name": "net",
                "cloud_id": region["cloud_id"],
                "region_id": region["id"],
                "cidr": "10.0.0.0/24",
                "gateway": "10.0.0.1",
                "netmask": "255.255.255.0",
            },
        ),
        201,
    )
    interfaces = [
        expect(
            client.post(
                "/v1/network-interfaces",
                json={
                    "name": f"eth{n}",
                    "device_id": hosts[n]["id"],
                    "network_id": network["id"],
                    "interface_type": "ethernet",
                    "ip_address": f"10.0.0.{10 + n}",
                },
            ),
            201,
        )
        for n in range(2)
    ]
    return {"region": region, "cell": cell, "switch": switch, "hosts": hosts, "network": network, "ifaces": interfaces}


def preview(client, path):
    body = expect(client.delete(path, params={"preview": "true"}), 200)
    assert set(body) == {"preview"} and "deleted" in body["preview"]  # devices_affected too (issue 15)
    return body["preview"]["deleted"]


def count_rows(server, table: str) -> int:
    with server.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_preview_counts_every_kind_and_writes_nothing(craton, server):
    tenant = craton.tenant()
    client, inv = tenant.client, tenant.inventory
    tree = build_region(inv, client)
    before = {table: count_rows(server, table) for table in ("changes", "devices", "variables", "regions")}

    region_id = tree["region"]["id"]
    assert preview(client, f"/v1/regions/{region_id}") == {
        **EMPTY,
        "regions": 1,
        "cells": 1,
        "hosts": 3,
        "network_devices": 1,
        "networks": 1,
        "network_interfaces": 2,
    }
    assert preview(client, f"/v1/clouds/{tree['region']['cloud_id']}")["hosts"] == 3
    assert preview(client, f"/v1/cells/{tree['cell']['id']}") == {
        **EMPTY,
        "cells": 1,
        "hosts": 3,
        "network_devices": 1,
        "network_interfaces": 2,
    }
    assert preview(client, f"/v1/hosts/{tree['hosts'][0]['id']}") == {**EMPTY, "hosts": 1, "network_interfaces": 1}
    assert preview(client, f"/v1/network-interfaces/{tree['ifaces'][0]['id']}") == {**EMPTY, "network_interfaces": 1}
    project = preview(craton.root, f"/v1/projects/{tenant.project_id}")
    assert project["projects"] == 1 and project["users"] == 1 and project["hosts"] == 3 and project["clouds"] == 1

    after = {table: count_rows(server, table) for table in ("changes", "devices", "variables", "regions")}
    assert after == before
    expect(client.get(f"/v1/regions/{region_id}"), 200)


def test_preview_has_the_delete_s_errors_and_authorization(craton):
    tenant = craton.tenant()
    client, inv = tenant.client, tenant.inventory
    tree = build_region(inv, client)
    expect_error(client.delete(f"/v1/regions/{MISSING_ID}", params={"preview": "true"}), 404)
    # A device with children, a network in use: the delete would be refused, so is its preview.
    expect_error(client.delete(f"/v1/network-devices/{tree['switch']['id']}", params={"preview": "true"}), 409)
    expect_error(client.delete(f"/v1/networks/{tree['network']['id']}", params={"preview": "true"}), 409)
    # Another project's region is not found; a project preview needs root.
    other = craton.tenant()
    expect_error(other.client.delete(f"/v1/regions/{tree['region']['id']}", params={"preview": "true"}), 404)
    expect_error(client.delete(f"/v1/projects/{tenant.project_id}", params={"preview": "true"}), 403)
    # Booleans are lenient, as everywhere in the API: anything but a false word previews.
    assert preview(client, f"/v1/regions/{tree['region']['id']}?preview=yes")["regions"] == 1


def test_region_delete_records_every_removed_object(craton, server):
    tenant = craton.tenant()
    client, inv = tenant.client, tenant.inventory
    tree = build_region(inv, client)
    host = tree["hosts"][2]
    before = moment()
    counts = preview(client, f"/v1/regions/{tree['region']['id']}")
    response = client.delete(f"/v1/regions/{tree['region']['id']}", headers={"X-Craton-Change-Reason": "decommission"})
    expect(response, 204)
    request_id = response.headers["x-openstack-request-id"]

    feed = expect(client.get("/v1/changes", params={"limit": 100}), 200)
    deletes = [entry for entry in feed["changes"] if entry["action"] == "delete"]
    top = [entry for entry in deletes if entry["resource_type"] == "region"]
    assert len(top) == 1 and top[0]["cascade_of"] is None
    cascaded = [entry for entry in deletes if entry["resource_type"] != "region"]
    by_type: dict[str, int] = {}
    for entry in cascaded:
        by_type[entry["resource_type"]] = by_type.get(entry["resource_type"], 0) + 1
        assert entry["cascade_of"] == top[0]["id"]
        assert entry["request_id"] == request_id
        assert entry["reason"] == "decommission"
    assert by_type == {"cell": 1, "host": 3, "network_device": 1, "network": 1, "network_interface": 2}
    assert sum(by_type.values()) + 1 == sum(counts.values())

    # The removed host's history ends with its delete, with its last variables and placement.
    history = expect(client.get(f"/v1/hosts/{host['id']}/history"), 200)["history"]
    assert history[-1]["action"] == "delete"
    assert history[-1]["old"]["variables"] == {"n": 2} and history[-1]["old"]["parent_id"] == host["parent_id"]
    # as_of before the delete resolves through the parents the same delete removed; diff too.
    past = expect(
        client.get(f"/v1/hosts/{host['id']}/variables", params={"as_of": before, "resolved-values": "true"}), 200
    )
    assert past["variables"] == {"n": 2, "role": "tor", "rack": 1, "ntp": "r"}
    # Blame at that moment too: each value's owner (named though deleted), who set it and when.
    blamed = expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"as_of": before, "blame": "true"}), 200)
    assert blamed["variables"] == past["variables"]
    sources = {key: entry["source"] for key, entry in blamed["blame"].items()}
    assert sources == {
        "n": {"type": "host", "id": host["id"], "name": host["name"]},
        "role": {"type": "network_device", "id": tree["switch"]["id"], "name": tree["switch"]["name"]},
        "rack": {"type": "cell", "id": tree["cell"]["id"], "name": tree["cell"]["name"]},
        "ntp": {"type": "region", "id": tree["region"]["id"], "name": tree["region"]["name"]},
    }
    assert {entry["set_by"] for entry in blamed["blame"].values()} == {client.headers["x-auth-user"]}
    assert all(entry["set_at"] < before for entry in blamed["blame"].values())
    own = expect(
        client.get(
            f"/v1/hosts/{host['id']}/variables",
            params={"as_of": before, "blame": "true", "resolved-values": "false"},
        ),
        200,
    )
    assert list(own["blame"]) == ["n"]
    after = moment()
    gone = expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"as_of": after}), 404)
    expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"as_of": after, "blame": "true"}), 404)
    assert gone["status"] == 404
    diff = expect(
        client.get(f"/v1/cells/{tree['cell']['id']}/variables", params={"diff_from": before, "diff_to": after}), 200
    )
    assert diff["removed"] == {"rack": 1}
    # Another project cannot read the removed host's past.
    expect_error(craton.tenant().client.get(f"/v1/hosts/{host['id']}/variables", params={"as_of": before}), 404)
    with server.engine.connect() as conn:
        orphans = conn.execute(
            sa.text("SELECT COUNT(*) FROM variables WHERE project_id = :p"), {"p": tenant.project_id}
        ).scalar_one()
    assert orphans == 0
