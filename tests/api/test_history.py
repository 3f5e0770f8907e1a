"""Provenance (blame), change history, the change feed and point-in-time reads, on every backend."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest


def now() -> str:
    time.sleep(0.01)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    return moment


@pytest.fixture
def tree(api, server):
    suffix = f"{time.monotonic_ns()}"
    cloud = api.post("/v1/clouds", json={"name": f"h-{suffix}"}).json()
    region = api.post(
        "/v1/regions", json={"name": "r", "cloud_id": cloud["id"], "variables": {"ntp": "region-ntp"}}
    ).json()
    cell = api.post("/v1/cells", json={"name": "c", "cloud_id": cloud["id"], "region_id": region["id"]}).json()
    host = api.post(
        "/v1/hosts",
        json={
            "name": "h1",
            "cloud_id": cloud["id"],
            "region_id": region["id"],
            "cell_id": cell["id"],
            "ip_address": "10.9.0.1",
            "device_type": "server",
        },
    ).json()
    return {"cloud": cloud, "region": region, "cell": cell, "host": host}


def blame_of(api, host_id):
    body = api.get(f"/v1/hosts/{host_id}/variables", params={"blame": "true"}).json()
    return body["variables"], body["blame"]


def test_blame_names_each_level_after_every_step(api, server, tree):
    host_id, cell_id, region_id = tree["host"]["id"], tree["cell"]["id"], tree["region"]["id"]
    values, blame = blame_of(api, host_id)
    assert values["ntp"] == "region-ntp"
    assert blame["ntp"]["source"] == {"type": "region", "id": region_id, "name": "r"}
    assert blame["ntp"]["overrides"] == []
    assert blame["ntp"]["set_by"] == server.username

    api.put(f"/v1/cells/{cell_id}/variables", json={"ntp": "cell-ntp"})
    values, blame = blame_of(api, host_id)
    assert values["ntp"] == "cell-ntp"
    assert blame["ntp"]["source"]["type"] == "cell" and blame["ntp"]["source"]["id"] == cell_id
    assert blame["ntp"]["overrides"] == [
        {"source": {"type": "region", "id": region_id, "name": "r"}, "value": "region-ntp"}
    ]

    api.put(f"/v1/hosts/{host_id}/variables", json={"ntp": "host-ntp"})
    values, blame = blame_of(api, host_id)
    assert values["ntp"] == "host-ntp"
    assert blame["ntp"]["source"] == {"type": "host", "id": host_id, "name": "h1"}
    assert [o["value"] for o in blame["ntp"]["overrides"]] == ["cell-ntp", "region-ntp"]
    assert blame["ntp"]["set_at"]

    listed = api.get("/v1/hosts", params={"details": "true", "blame": "true", "cell_id": cell_id}).json()["hosts"]
    assert listed[0]["blame"]["ntp"]["source"]["type"] == "host"


def test_history_records_every_kind_of_change_with_actor_and_reason(api, server, tree):
    host_id = tree["host"]["id"]
    reason = {"X-Craton-Change-Reason": "ticket OPS-42"}
    api.put(f"/v1/hosts/{host_id}", json={"note": "racked"}, headers=reason)
    api.put(f"/v1/hosts/{host_id}/variables", json={"a": 1, "b": 2})
    api.request("DELETE", f"/v1/hosts/{host_id}/variables", json=["a"])
    api.put(f"/v1/hosts/{host_id}/labels", json={"labels": ["compute"]})
    entries = api.get(f"/v1/hosts/{host_id}/history", params={"limit": 100}).json()["history"]
    actions = [e["action"] for e in entries]
    assert actions == ["create", "update", "variables", "variables", "labels"]
    update = entries[1]
    assert update["old"] == {"note": None} and update["new"] == {"note": "racked"}
    assert update["reason"] == "ticket OPS-42"
    assert update["username"] == server.username and update["request_id"].startswith("req-")
    assert entries[2]["new"] == {"a": 1, "b": 2}
    assert entries[3]["old"] == {"a": 1} and entries[3]["new"] == {}
    assert entries[4]["old"] == [] and entries[4]["new"] == ["compute"]
    api.delete(f"/v1/hosts/{host_id}")
    after = api.get(f"/v1/hosts/{host_id}/history", params={"limit": 100}).json()["history"]
    assert after[-1]["action"] == "delete" and after[-1]["old"]["variables"] == {"b": 2}


def test_a_failed_request_leaves_no_history(api, tree):
    host_id = tree["host"]["id"]
    before = api.get(f"/v1/hosts/{host_id}/history").json()["history"]
    assert api.put(f"/v1/hosts/{host_id}", json={"ip_address": "not-an-ip"}).status_code == 400
    assert api.put(f"/v1/hosts/{host_id}", json={"parent_id": host_id}).status_code == 400
    assert api.put(f"/v1/hosts/{host_id}/variables", json=[1]).status_code == 400
    assert api.get(f"/v1/hosts/{host_id}/history").json()["history"] == before


def test_as_of_equals_what_the_api_returned_then(api, tree):
    host_id, cell_id, region_id = tree["host"]["id"], tree["cell"]["id"], tree["region"]["id"]
    seen = []
    for step in (
        lambda: api.put(f"/v1/regions/{region_id}/variables", json={"dns": "r1", "x": 1}),
        lambda: api.put(f"/v1/cells/{cell_id}/variables", json={"dns": "c1"}),
        lambda: api.put(f"/v1/hosts/{host_id}/variables", json={"x": 2}),
        lambda: api.request("DELETE", f"/v1/cells/{cell_id}/variables", json=["dns"]),
    ):
        step()
        moment = now()
        seen.append((moment, api.get(f"/v1/hosts/{host_id}/variables").json()["variables"]))
    for moment, expected in seen:
        got = api.get(f"/v1/hosts/{host_id}/variables", params={"as_of": moment})
        assert got.status_code == 200, got.text
        assert got.json()["variables"] == expected
    diff = api.get(f"/v1/hosts/{host_id}/variables", params={"diff_from": seen[0][0], "diff_to": seen[2][0]}).json()
    assert diff["changed"] == {"dns": {"from": "r1", "to": "c1"}, "x": {"from": 1, "to": 2}}
    assert diff["added"] == {} and diff["removed"] == {}
    to_now = api.get(f"/v1/hosts/{host_id}/variables", params={"diff_from": seen[1][0]}).json()
    assert to_now["to"] == "now" and to_now["changed"]["dns"] == {"from": "c1", "to": "r1"}
    assert api.get(f"/v1/hosts/{host_id}/variables", params={"as_of": "yesterday"}).status_code == 400
    assert api.get(f"/v1/hosts/{host_id}/variables", params={"as_of": "2001-01-01T00:00:00Z"}).status_code == 404


def test_change_feed_cursor_filters_and_tenancy(api, server, tree):
    start = api.get("/v1/changes", params={"limit": 1000}).json()["next_since"]
    project = server.create_project("feed")
    other = server.user_client(project, "feeder", is_admin=True)
    other.post("/v1/clouds", json={"name": "theirs"})
    api.put(f"/v1/clouds/{tree['cloud']['id']}", json={"note": "ours"})
    page = api.get("/v1/changes", params={"since": start}).json()
    assert {c["resource_name"] for c in page["changes"]} >= {"theirs", tree["cloud"]["name"]}
    assert page["next_since"] == page["changes"][-1]["id"]
    assert api.get("/v1/changes", params={"since": page["next_since"]}).json()["changes"] == []
    theirs = other.get("/v1/changes").json()["changes"]
    assert {c["project_id"] for c in theirs} == {project}
    clouds_only = api.get("/v1/changes", params={"since": start, "resource_type": "cloud", "user": "feeder"}).json()
    assert [c["resource_name"] for c in clouds_only["changes"]] == ["theirs"]
    assert other.get(f"/v1/clouds/{tree['cloud']['id']}/history").status_code == 404


def test_change_feed_resource_type_is_spelled_either_way(api, server):
    """``network-device`` (the URL's spelling) was a 400, while webhook filters accepted it."""
    start = api.get("/v1/changes", params={"limit": 1000}).json()["next_since"]
    cloud = api.post("/v1/clouds", json={"name": f"spelled-{time.monotonic_ns()}"}).json()
    region = api.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}).json()
    body = {"name": "sw", "cloud_id": cloud["id"], "region_id": region["id"], "device_type": "switch"}
    created = api.post("/v1/network-devices", json={**body, "ip_address": "10.9.0.9"})
    assert created.status_code == 201, created.text
    switch = created.json()
    for spelling in ("network-device", "network_device"):
        answer = api.get("/v1/changes", params={"since": start, "resource_type": spelling})
        assert answer.status_code == 200, answer.text
        assert [(c["resource_type"], c["resource_id"]) for c in answer.json()["changes"]] == [
            ("network_device", str(switch["id"]))
        ]
    for wrong in ("switch", "network--device", "hosts", "device", "x" * 65):
        refused = api.get("/v1/changes", params={"resource_type": wrong})
        assert refused.status_code == 400, refused.text
        if len(wrong) <= 64:  # the accepted values are named
            assert "network_device" in refused.text and repr(wrong) in refused.text, refused.text
