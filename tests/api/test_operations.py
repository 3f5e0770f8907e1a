"""Operations features: key rotation, rate limiting, metrics, health."""

from __future__ import annotations

import time

import pytest

from tests.conftest import running_server, throwaway_database


def test_key_rotation_with_and_without_grace(api, server):
    project = server.create_project("rotation")
    created = api.post("/v1/users", json={"username": "svc", "project_id": project, "is_admin": True}).json()
    old = {"X-Auth-Project": project, "X-Auth-User": "svc", "X-Auth-Token": created["api_key"]}
    assert server.client(old).get("/v1/clouds").status_code == 200
    rotated = api.post(f"/v1/users/{created['id']}/api-key", params={"grace_seconds": 60})
    assert rotated.status_code == 200, rotated.text
    new = {**old, "X-Auth-Token": rotated.json()["api_key"]}
    assert rotated.json()["api_key"] != created["api_key"]
    assert server.client(old).get("/v1/clouds").status_code == 200, "old key works during the grace period"
    assert server.client(new).get("/v1/clouds").status_code == 200
    again = api.post(f"/v1/users/{created['id']}/api-key")
    assert server.client(new).get("/v1/clouds").status_code == 401, "no grace: the previous key stops at once"
    assert server.client(old).get("/v1/clouds").status_code == 401
    assert server.client({**old, "X-Auth-Token": again.json()["api_key"]}).get("/v1/clouds").status_code == 200
    assert "api_key" not in api.get(f"/v1/users/{created['id']}").json()


def test_a_member_cannot_rotate_and_an_admin_cannot_touch_root(api, server):
    project = server.create_project("rotation-roles")
    member = server.user_client(project, "member")
    admin = server.user_client(project, "admin", is_admin=True)
    user_id = api.get("/v1/users", params={"name": "member"}).json()["users"][0]["id"]
    assert member.post(f"/v1/users/{user_id}/api-key").status_code == 403
    assert admin.post(f"/v1/users/{user_id}/api-key").status_code == 200
    root_id = api.get("/v1/users", params={"name": server.username}).json()["users"][0]["id"]
    assert admin.post(f"/v1/users/{root_id}/api-key").status_code == 404


def test_metrics_count_requests_per_route_template(api, server):
    cloud = api.post("/v1/clouds", json={"name": "metrics"}).json()
    api.get(f"/v1/clouds/{cloud['id']}")
    text = server.client({}).get("/metrics").text
    assert 'craton_http_requests_total{method="GET",route="/v1/clouds/{id}",status="200"}' in text
    assert "craton_http_request_duration_seconds_bucket" in text
    assert f"/v1/clouds/{cloud['id']}" not in text


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    with throwaway_database("sqlite", tmp_path_factory.mktemp("rl")) as url:
        with running_server("sqlite", url, rate_limit=5.0, rate_limit_burst=3) as live:
            yield live


def test_rate_limit_answers_429_with_retry_after(limited):
    client = limited.client()
    statuses = [client.get("/v1/clouds").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    limitedresponse = client.get("/v1/clouds")
    if limitedresponse.status_code == 429:
        assert int(limitedresponse.headers["retry-after"]) >= 1
        assert limitedresponse.json()["status"] == 429
    time.sleep(1.0)
    assert client.get("/v1/clouds").status_code == 200
    assert limited.client({}).get("/healthz").status_code == 200
