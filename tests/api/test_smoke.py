"""The shortest path through the service on every backend."""

from __future__ import annotations


def test_create_cloud_region_cell_host_and_resolve(api, server):
    cloud = api.post("/v1/clouds", json={"name": "c", "variables": {"level": "cloud", "c": 1}})
    assert cloud.status_code == 201, cloud.text
    assert cloud.headers["location"] == f"{server.url}/v1/clouds/{cloud.json()['id']}"
    region = api.post(
        "/v1/regions", json={"name": "r", "cloud_id": cloud.json()["id"], "variables": {"level": "region"}}
    )
    assert region.status_code == 201, region.text
    cell = api.post(
        "/v1/cells",
        json={
            "name": "x",
            "cloud_id": cloud.json()["id"],
            "region_id": region.json()["id"],
            "variables": {"level": "cell"},
        },
    )
    assert cell.status_code == 201, cell.text
    got = api.get(f"/v1/cells/{cell.json()['id']}").json()
    assert got["variables"] == {"level": "cell", "c": 1}
    assert api.get(f"/v1/cells/{cell.json()['id']}/variables").json() == {"variables": {"level": "cell"}}
