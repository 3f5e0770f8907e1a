"""Ids are never handed out twice (issue #19 item 11), on every backend.

SQLite without AUTOINCREMENT gave a new row the id of the newest deleted row, so the new
host showed the deleted host's history and its ``as_of`` variables.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from tests.api.helpers import expect


def moment() -> str:
    time.sleep(0.01)
    value = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    return value


def test_the_newest_row_deleted_and_a_new_one_created_never_share_an_id(craton):
    tenant = craton.tenant()
    client, inv = tenant.client, tenant.inventory
    region = inv.region()
    # The newest row of each kind whose ids the history names, deleted, then a new one.
    old_host = inv.host(region, variables={"secret": "old"})
    old_network = inv.network(region)
    old_cloud = inv.cloud()
    while_old_existed = moment()
    expect(client.delete(f"/v1/hosts/{old_host['id']}"), 204)
    expect(client.delete(f"/v1/networks/{old_network['id']}"), 204)
    expect(client.delete(f"/v1/clouds/{old_cloud['id']}"), 204)

    new_host = inv.host(region, variables={"fresh": True})
    new_network = inv.network(region)
    new_cloud = inv.cloud()
    assert new_host["id"] > old_host["id"]
    assert new_network["id"] > old_network["id"]
    assert new_cloud["id"] > old_cloud["id"]

    history = expect(client.get(f"/v1/hosts/{new_host['id']}/history"), 200)["history"]
    assert [entry["action"] for entry in history] == ["create", "variables"]
    assert {entry["resource_name"] for entry in history} == {new_host["name"]}
    # Before the new host existed it has no state, rather than the deleted host's variables.
    expect(client.get(f"/v1/hosts/{new_host['id']}/variables", params={"as_of": while_old_existed}), 404)
    old = expect(client.get(f"/v1/hosts/{old_host['id']}/variables", params={"as_of": while_old_existed}), 200)
    assert old["variables"] == {"secret": "old"}
    assert expect(client.get(f"/v1/hosts/{new_host['id']}/variables"), 200)["variables"] == {"fresh": True}
