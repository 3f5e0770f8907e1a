"""A device created into a cell while the cell moves to another region cannot keep the old region.

Two real transactions on PostgreSQL and MariaDB (SQLite runs one writer at a time): the move
holds the cell's row lock; the create reads the cell with a share lock, so it waits, then sees
the cell's new region and is refused. Without the share lock it would read the old region and
commit a device in cell X of region east while X is in region west.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from craton.domain import containers, placement
from craton.domain import devices as device_domain
from craton.domain.errors import InvalidInput
from craton.domain.principal import Principal, Role
from tests.api.helpers import Craton, expect

HOLD = 0.8  # seconds the move keeps its transaction open after the create has started


def test_create_into_a_moving_cell_waits_and_sees_the_new_region(craton: Craton) -> None:
    server = craton.server
    if server.backend == "sqlite":
        pytest.skip("SQLite serialises writers: a create cannot interleave with a move")
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud()
    east, west = inv.region(cloud, name="east"), inv.region(cloud, name="west")
    cell = inv.cell(east, name="moving")
    principal = Principal(project_id=tenant.project_id, username="tester", role=Role.ADMIN)
    moved = threading.Event()
    create_started = threading.Event()
    errors: list[BaseException] = []

    def move() -> None:
        try:
            with server.engine.begin() as conn:
                placement.update_cell(conn, principal, containers.CELL, cell["id"], {"region_id": west["id"]})
                moved.set()
                create_started.wait(10)
                time.sleep(HOLD)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            moved.set()

    mover = threading.Thread(target=move)
    mover.start()
    assert moved.wait(10)
    values: dict[str, Any] = {
        "name": "late-host",
        "cloud_id": cloud["id"],
        "region_id": east["id"],
        "cell_id": cell["id"],
        "ip_address": "10.0.0.9",
        "device_type": "server",
    }
    started = time.monotonic()
    create_started.set()
    with pytest.raises(InvalidInput) as refused:
        with server.engine.begin() as conn:
            device_domain.create_device(conn, principal, device_domain.HOST, values, None, None)
    waited = time.monotonic() - started
    mover.join(10)
    assert not errors, errors
    assert f"Cell {cell['id']} belongs to region {west['id']}, not to region {east['id']}." in str(refused.value)
    assert waited >= HOLD * 0.75, f"the create did not wait for the move ({waited:.2f} s)"
    hosts = expect(tenant.client.get("/v1/hosts", params={"cell_id": cell["id"]}), 200)["hosts"]
    assert hosts == []
    assert expect(tenant.client.get(f"/v1/cells/{cell['id']}"), 200)["region_id"] == west["id"]
