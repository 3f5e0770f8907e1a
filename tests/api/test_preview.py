"""Impact preview (issue 15 §1): ``?preview=true`` equals what really doing the write does, writes nothing.

For each write type the preview's per-device diff is compared with the diff of
``GET ...?resolved-values=true`` before and after actually doing the same write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.api.helpers import Craton, Tenant, expect, expect_invalid, expect_not_found, table_count

Write = Callable[[httpx.Client, dict[str, Any]], httpx.Response]


def _fleet(tenant: Tenant) -> dict[str, Any]:
    inv = tenant.inventory
    cloud = inv.cloud(variables={"level": "cloud", "ntp": "c"})
    east = inv.region(cloud, name="east", variables={"level": "east", "zone": "e"})
    west = inv.region(cloud, name="west", variables={"level": "west"})
    e1 = inv.cell(east, name="e1", variables={"rack": "e1"})
    w1 = inv.cell(west, name="w1", variables={"rack": "w1", "only_w1": True})
    hosts = [inv.host(cell=e1, name=f"e1-{i}", variables={"own": i}) for i in range(3)]
    hosts.append(inv.host(region=east, name="east-loose"))
    hosts.append(inv.host(cell=w1, name="w1-0"))
    parent = hosts[0]
    child = inv.network_device(cell=e1, name="switch", parent_id=parent["id"])
    return {"cloud": cloud, "east": east, "west": west, "e1": e1, "w1": w1, "hosts": hosts, "child": child}


def _resolved(client: httpx.Client) -> dict[tuple[str, int], dict[str, Any]]:
    out = {}
    for path, kind in (("/v1/hosts", "host"), ("/v1/network-devices", "network_device")):
        body = expect(client.get(path, params={"details": "true", "resolved-values": "true", "limit": 100}), 200)
        for item in body[path.split("/")[-1].replace("-", "_")]:
            out[(kind, item["id"])] = item["variables"]
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        "added": {k: after[k] for k in after.keys() - before.keys()},
        "removed": {k: before[k] for k in before.keys() - after.keys()},
        "changed": {
            k: {"old": before[k], "new": after[k]} for k in before.keys() & after.keys() if before[k] != after[k]
        },
    }


def _check(
    tenant: Tenant, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Preview, check nothing changed, do it for real, and compare the preview with the real effect."""
    client = tenant.client
    before = _resolved(client)
    server = tenant.craton.server
    written = table_count(server, "changes")  # every event derives from a change record (docs/events.md)
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    preview = expect(
        client.request(method, path, params={**(params or {}), "preview": "true", "limit": 100}, **kwargs), 200
    )["preview"]
    assert _resolved(client) == before, "a preview wrote something"
    assert table_count(server, "changes") == written, "a preview recorded history (and so events)"
    response = client.request(method, path, params=params, **kwargs)
    assert response.status_code in (200, 204), response.text
    after = _resolved(client)
    expected = {  # a deleted device loses every resolved variable
        key: {**_diff(before[key], after.get(key, {})), "deleted": key not in after}
        for key in sorted(before)
        if before[key] != after.get(key)
    }
    keys = ("added", "removed", "changed", "deleted")
    got = {(d["type"], d["id"]): {k: d[k] for k in keys} for d in preview["devices"]}
    assert got == expected
    assert preview["devices_affected"] == len(expected)
    assert [d["id"] for d in preview["devices"]] == sorted(d["id"] for d in preview["devices"])
    return preview


def test_variable_writes_on_every_level(craton: Craton) -> None:
    tenant = craton.tenant()
    f = _fleet(tenant)
    project = f"/v1/projects/{tenant.project_id}/variables"
    preview = _check(tenant, "PUT", project, {"ntp": "p", "new": 1})
    assert preview["devices_affected"] == 6  # every device gains "new"; the cloud's ntp still wins
    assert all(d["added"] == {"new": 1} and not d["changed"] for d in preview["devices"])
    _check(tenant, "PUT", f"/v1/clouds/{f['cloud']['id']}/variables", {"ntp": "c2", "zone": "z"})
    preview = _check(tenant, "PUT", f"/v1/regions/{f['east']['id']}/variables", {"zone": "e2", "extra": [1]})
    assert preview["devices_affected"] == 5  # four east hosts and the nested switch
    _check(tenant, "PUT", f"/v1/cells/{f['e1']['id']}/variables", {"rack": "r2"})
    _check(tenant, "PUT", f"/v1/hosts/{f['hosts'][0]['id']}/variables", {"own": "x", "level": "host"})
    _check(tenant, "PUT", f"/v1/network-devices/{f['child']['id']}/variables", {"level": "switch"})
    _check(tenant, "DELETE", f"/v1/regions/{f['east']['id']}/variables", ["zone"])
    _check(tenant, "DELETE", f"/v1/hosts/{f['hosts'][0]['id']}/variables", ["level"])
    _check(tenant, "DELETE", project, ["new"])
    _check(tenant, "PUT", f"/v1/regions/{f['west']['id']}/variables/masks", ["ntp"])
    _check(tenant, "PUT", f"/v1/hosts/{f['hosts'][1]['id']}/variables/masks", ["zone", "rack"])
    _check(tenant, "DELETE", f"/v1/hosts/{f['hosts'][1]['id']}/variables/masks", ["rack"])
    _check(tenant, "DELETE", f"/v1/regions/{f['west']['id']}/variables/masks", ["ntp"])
    _check(tenant, "PUT", f"/v1/clouds/{f['cloud']['id']}/variables", {"tags": {"c": 1}})
    _check(tenant, "PUT", f"/v1/cells/{f['e1']['id']}/variables", {"tags": {"e1": 2}})
    preview = _check(tenant, "PUT", f"/v1/projects/{tenant.project_id}/merge-strategies", {"tags": "deep"})
    assert preview["devices_affected"] == 4  # e1's three hosts and the switch now see both tags
    _check(tenant, "PUT", f"/v1/cells/{f['e1']['id']}/variables", {"extra": [2, 1]})
    preview = _check(
        tenant, "PUT", f"/v1/projects/{tenant.project_id}/merge-strategies", {"tags": "deep", "extra": "union"}
    )
    assert preview["devices_affected"] == 4  # e1's devices now see [2, 1] and the region's 1: [1, 2]
    _check(tenant, "PUT", f"/v1/projects/{tenant.project_id}/merge-strategies", {"extra": "append"})
    _check(tenant, "PUT", f"/v1/projects/{tenant.project_id}/merge-strategies", {})
    unchanged = _check(tenant, "PUT", f"/v1/projects/{tenant.project_id}/merge-strategies", {"ntp": "replace"})
    assert unchanged["devices_affected"] == 0  # replace is what an undeclared key does


def test_moves_and_deletes(craton: Craton) -> None:
    tenant = craton.tenant()
    f = _fleet(tenant)
    _check(tenant, "PUT", f"/v1/hosts/{f['hosts'][1]['id']}", {"cell_id": f["w1"]["id"]})
    _check(tenant, "PUT", f"/v1/network-devices/{f['child']['id']}", {"parent_id": f["hosts"][2]["id"]})
    _check(tenant, "PUT", f"/v1/cells/{f['e1']['id']}", {"region_id": f["west"]["id"]})
    preview = _check(tenant, "DELETE", f"/v1/cells/{f['w1']['id']}")
    assert preview["deleted"]["hosts"] >= 1
    assert preview["devices_affected"] == sum(preview["deleted"].get(k, 0) for k in ("hosts", "network_devices"))
    assert all(d["deleted"] and d["removed"] and not d["added"] for d in preview["devices"])
    preview = _check(tenant, "DELETE", f"/v1/hosts/{f['hosts'][3]['id']}")
    assert preview["deleted"]["hosts"] == 1 and preview["devices_affected"] == 1
    assert preview["devices"][0]["id"] == f["hosts"][3]["id"] and preview["devices"][0]["deleted"]
    preview = _check(tenant, "DELETE", f"/v1/regions/{f['east']['id']}")
    assert preview["devices_affected"] == sum(preview["deleted"].get(k, 0) for k in ("hosts", "network_devices"))


def test_preview_pages_and_refuses_like_the_write(craton: Craton) -> None:
    tenant = craton.tenant()
    f = _fleet(tenant)
    path = f"/v1/regions/{f['east']['id']}/variables"
    first = expect(tenant.client.put(path, params={"preview": "true", "limit": 2}, json={"k": 1}), 200)["preview"]
    assert first["devices_affected"] == 5 and len(first["devices"]) == 2
    seen = [d["id"] for d in first["devices"]]
    links = {link["rel"]: link["href"] for link in first["links"]}
    while "next" in links:
        page = expect(tenant.client.put(links["next"], json={"k": 1}), 200)["preview"]
        seen += [d["id"] for d in page["devices"]]
        links = {link["rel"]: link["href"] for link in page["links"]}
    assert len(seen) == 5 == len(set(seen)) and seen == sorted(seen)
    expect_invalid(tenant.client.put(path, params={"preview": "true"}, json=["not", "an", "object"]))
    expect_not_found(craton.tenant().client.put(path, params={"preview": "true"}, json={"k": 1}))
    member = tenant.member()
    refused = member.put(path, params={"preview": "true"}, json={"k": 1})
    assert refused.status_code == member.put(path, json={"k": 1}).status_code
