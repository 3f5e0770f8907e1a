"""The event outbox: every committed change record has exactly one outbox row, written with it."""

from __future__ import annotations

import time

import sqlalchemy as sa

from craton.storage.tables import changes, event_outbox


def outbox_after(server, change_id: int) -> dict[int, str]:
    with server.engine.connect() as conn:
        rows = conn.execute(
            sa.select(event_outbox.c.change_id, event_outbox.c.project_id).where(event_outbox.c.change_id > change_id)
        ).all()
    return {int(row.change_id): row.project_id for row in rows}


def changes_after(server, change_id: int) -> dict[int, str]:
    with server.engine.connect() as conn:
        rows = conn.execute(sa.select(changes.c.id, changes.c.project_id).where(changes.c.id > change_id)).all()
    return {int(row.id): row.project_id for row in rows}


def test_every_change_record_single_or_cascaded_gets_one_outbox_row(api, server):
    start = api.get("/v1/changes", params={"limit": 1000}).json()["next_since"]
    suffix = time.monotonic_ns()
    cloud = api.post("/v1/clouds", json={"name": f"o-{suffix}", "variables": {"a": 1}}).json()
    region = api.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}).json()
    cell = api.post("/v1/cells", json={"name": "c", "cloud_id": cloud["id"], "region_id": region["id"]}).json()
    for n in range(3):
        api.post(
            "/v1/hosts",
            json={
                "name": f"h{n}",
                "cloud_id": cloud["id"],
                "region_id": region["id"],
                "cell_id": cell["id"],
                "ip_address": f"10.8.0.{n + 1}",
                "device_type": "server",
            },
        ).raise_for_status()
    api.put(f"/v1/regions/{region['id']}/variables", json={"ntp": "x"}).raise_for_status()
    api.delete(f"/v1/clouds/{cloud['id']}").raise_for_status()  # a cascade writes many records at once
    recorded = changes_after(server, start)
    assert len(recorded) >= 7
    assert outbox_after(server, start) == recorded


def test_a_failed_request_leaves_no_outbox_row(api, server):
    start = api.get("/v1/changes", params={"limit": 1000}).json()["next_since"]
    assert api.post("/v1/cells", json={"name": "orphan", "cloud_id": 999999, "region_id": 999999}).status_code >= 400
    assert outbox_after(server, start) == {}
