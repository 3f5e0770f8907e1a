"""No lost updates: ETag / If-Match on objects and variables, and atomic variable merges."""

from __future__ import annotations

import concurrent.futures

import pytest


@pytest.fixture
def cloud(api):
    response = api.post("/v1/clouds", json={"name": f"etag-{id(api)}", "variables": {"a": 1}})
    assert response.status_code == 201, response.text
    return response


def test_every_read_and_write_carries_an_etag(api, cloud):
    cloud_id = cloud.json()["id"]
    created_tag = cloud.headers["etag"]
    read = api.get(f"/v1/clouds/{cloud_id}")
    assert read.headers["etag"] == created_tag
    assert api.get(f"/v1/clouds/{cloud_id}/variables").headers["etag"] == created_tag
    updated = api.put(f"/v1/clouds/{cloud_id}", json={"note": "n"})
    assert updated.headers["etag"] != created_tag
    assert api.get(f"/v1/clouds/{cloud_id}").headers["etag"] == updated.headers["etag"]


def test_stale_if_match_is_412_and_changes_nothing(api, cloud):
    cloud_id = cloud.json()["id"]
    stale = cloud.headers["etag"]
    fresh = api.put(f"/v1/clouds/{cloud_id}", json={"note": "first"}, headers={"If-Match": stale})
    assert fresh.status_code == 200
    lost = api.put(f"/v1/clouds/{cloud_id}", json={"note": "second"}, headers={"If-Match": stale})
    assert lost.status_code == 412
    assert lost.json() == {"message": lost.json()["message"], "status": 412}
    assert "ETag" in lost.json()["message"]
    assert api.get(f"/v1/clouds/{cloud_id}").json()["note"] == "first"
    assert api.put(f"/v1/clouds/{cloud_id}/variables", json={"b": 2}, headers={"If-Match": stale}).status_code == 412
    assert api.get(f"/v1/clouds/{cloud_id}/variables").json()["variables"] == {"a": 1}
    assert api.request("DELETE", f"/v1/clouds/{cloud_id}", headers={"If-Match": stale}).status_code == 412
    current = api.get(f"/v1/clouds/{cloud_id}").headers["etag"]
    assert api.put(f"/v1/clouds/{cloud_id}/variables", json={"b": 2}, headers={"If-Match": current}).status_code == 200
    assert api.request("DELETE", f"/v1/clouds/{cloud_id}", headers={"If-Match": "*"}).status_code == 204


def test_two_writers_with_the_same_etag_cannot_both_win(api, cloud, server):
    cloud_id = cloud.json()["id"]
    tag = cloud.headers["etag"]

    def write(n: int) -> int:
        client = server.client()
        return client.put(f"/v1/clouds/{cloud_id}", json={"note": f"w{n}"}, headers={"If-Match": tag}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(write, range(8)))
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 412, 409}


def test_concurrent_variable_merges_keep_every_key(api, cloud, server):
    cloud_id = cloud.json()["id"]

    def write(n: int) -> int:
        client = server.client()
        statuses = [client.put(f"/v1/clouds/{cloud_id}/variables", json={f"k{n}-{i}": i}).status_code for i in range(5)]
        return max(statuses)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(write, range(8))) == {200}
    variables = api.get(f"/v1/clouds/{cloud_id}/variables").json()["variables"]
    assert {f"k{n}-{i}" for n in range(8) for i in range(5)} <= set(variables)
