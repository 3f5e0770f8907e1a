"""The client passes ``name_contains=`` and label lists through to the server (issue 21)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cratonclient import exceptions as exc
from tests.client.conftest import Tenant


def test_name_contains_and_labels_pass_through(tenant: Tenant, unique: Callable[[str], str]) -> None:
    craton = tenant.craton
    cloud = craton.clouds.create(name=unique("Cloud"))
    region = craton.regions.create(name=unique("region"), cloud_id=cloud.id)
    base = {"cloud_id": cloud.id, "region_id": region.id, "ip_address": "10.0.0.1", "device_type": "server"}
    web = [craton.hosts.create(name=f"Web-{i}", labels=["web", "gpu"] if i else ["web"], **base) for i in range(3)]
    craton.hosts.create(name="db-1", labels=["gpu"], **base)

    assert [h.id for h in craton.hosts.list(name_contains="web")] == [h.id for h in web]
    assert [h.id for h in craton.hosts.list(name_contains="WEB-1")] == [web[1].id]
    assert [c.id for c in craton.clouds.list(name_contains=cloud.name.upper())] == [cloud.id]
    assert list(craton.regions.list(name_contains="no such region")) == []
    assert [h.id for h in craton.hosts.list(label=["web", "gpu"])] == [web[1].id, web[2].id]
    assert [h.id for h in craton.hosts.list(label="web,gpu", name_contains="-2")] == [web[2].id]


def test_hosts_update_moves_a_host(tenant: Tenant, unique: Callable[[str], str]) -> None:
    craton = tenant.craton
    cloud = craton.clouds.create(name=unique("cloud"))
    east = craton.regions.create(name="east", cloud_id=cloud.id)
    west = craton.regions.create(name="west", cloud_id=cloud.id)
    e1 = craton.cells.create(name="e1", region_id=east.id, cloud_id=cloud.id)
    w1 = craton.cells.create(name="w1", region_id=west.id, cloud_id=cloud.id)
    host = craton.hosts.create(
        name="web-1", cloud_id=cloud.id, region_id=east.id, cell_id=e1.id, ip_address="10.0.0.1", device_type="server"
    )
    moved = craton.hosts.update(host.id, cell_id=w1.id)
    assert (moved.region_id, moved.cell_id) == (west.id, w1.id)
    assert craton.hosts.get(host.id).region_id == west.id
    history = list(craton.hosts.history(host.id))
    assert history[-1].new == {"region_id": west.id, "cell_id": w1.id}
    with pytest.raises(exc.BadRequest) as caught:
        craton.hosts.update(host.id, region_id=east.id)
    assert f"cell {w1.id} of region {west.id}" in str(caught.value)
    moved = craton.cells.update(w1.id, region_id=east.id)
    assert craton.hosts.get(host.id).region_id == east.id
