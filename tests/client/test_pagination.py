"""Automatic and manual pagination against the live server, for every listable resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cratonclient.v1.client import Client
from tests import kinds


@pytest.fixture
def clouds_250(craton: Client, unique: Callable[[str], str]) -> list[int]:
    prefix = unique("cloud")
    return [craton.clouds.create(name=f"{prefix}-{n:03}").id for n in range(250)]


def test_autopagination_over_250_clouds(craton, clouds_250):
    assert [cloud.id for cloud in craton.clouds.list()] == clouds_250


def test_autopagination_follows_next_links_until_there_is_none(craton, clouds_250):
    pages = craton._session.paginate(f"{craton.url}/clouds", "clouds")
    sizes = [len(items) for _response, items in pages]

    # Default page of 30; the server adds "next" only while more items exist.
    assert sizes == [30] * 8 + [10]


def test_autopagination_with_a_page_size(craton, clouds_250):
    assert [c.id for c in craton.clouds.list(limit=100)] == clouds_250


def test_autopaginate_false_fetches_one_page(craton, clouds_250):
    assert [c.id for c in craton.clouds.list(autopaginate=False)] == clouds_250[:30]
    assert [c.id for c in craton.clouds.list(autopaginate=False, limit=10)] == clouds_250[:10]
    assert [c.id for c in craton.clouds.list(autopaginate=False, marker=clouds_250[9], limit=10)] == clouds_250[10:20]


def test_manual_pagination_with_marker_until_an_empty_page(craton, clouds_250):
    seen: list[int] = []
    sizes: list[int] = []
    marker = None
    while True:
        page = list(craton.clouds.list(autopaginate=False, marker=marker, limit=100))
        sizes.append(len(page))
        if not page:
            break
        seen.extend(cloud.id for cloud in page)
        marker = page[-1].id

    assert seen == clouds_250
    assert sizes == [100, 100, 50, 0]


def test_filters_survive_every_page(craton, unique):
    cloud = craton.clouds.create(name=unique("cloud"))
    other = craton.clouds.create(name=unique("cloud"))
    mine = [craton.regions.create(name=unique("r"), cloud_id=cloud.id).id for _ in range(25)]
    craton.regions.create(name=unique("r"), cloud_id=other.id)

    assert [r.id for r in craton.regions.list(cloud_id=cloud.id, limit=10)] == mine


# ------------------------------------------------------------- every resource, 25 items


class Builder:
    """Creates n objects of any resource, with the parents they need, in one project."""

    def __init__(self, craton: Client, unique: Callable[[str], str]) -> None:
        self.craton, self.unique = craton, unique
        self.cloud = craton.clouds.create(name=unique("cloud"))
        self.region = craton.regions.create(name=unique("region"), cloud_id=self.cloud.id)
        self.host = craton.hosts.create(
            name=unique("parent"),
            cloud_id=self.cloud.id,
            region_id=self.region.id,
            ip_address="10.0.0.1",
            device_type="server",
        )

    def make(self, resource: str, n: int) -> Any:
        c, name = self.craton, self.unique(resource)
        place = {"cloud_id": self.cloud.id, "region_id": self.region.id}
        if resource == "clouds":
            return c.clouds.create(name=name)
        if resource == "regions":
            return c.regions.create(name=name, cloud_id=self.cloud.id)
        if resource == "cells":
            return c.cells.create(name=name, **place)
        if resource in ("hosts", "devices"):
            return c.hosts.create(name=name, ip_address=f"10.1.0.{n + 1}", device_type="vm", **place)
        if resource == "network_devices":
            return c.network_devices.create(name=name, ip_address=f"10.2.0.{n + 1}", device_type="switch", **place)
        if resource == "networks":
            return c.networks.create(
                name=name, cidr=f"10.{n}.0.0/16", gateway=f"10.{n}.0.1", netmask="255.255.0.0", **place
            )
        if resource == "network_interfaces":
            return c.network_interfaces.create(
                name=name, device_id=self.host.id, interface_type="ethernet", ip_address=f"10.3.0.{n + 1}"
            )
        raise AssertionError(resource)


RESOURCES = [*(kinds.MANAGERS[segment] for segment in kinds.INVENTORY), "devices"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_paginates_automatically_and_by_hand(craton, unique, resource):
    builder = Builder(craton, unique)
    manager = getattr(craton, resource)
    before = [item.id for item in manager.list(limit=100)]
    created = [builder.make(resource, n).id for n in range(25)]

    automatic = [item.id for item in manager.list(limit=10)]
    by_hand: list[Any] = []
    marker = None
    while page := list(manager.list(autopaginate=False, marker=marker, limit=10)):
        by_hand.extend(item.id for item in page)
        marker = page[-1].id

    assert automatic == before + created
    assert by_hand == automatic


def test_projects_paginate_with_uuid_markers(root, unique):
    prefix = unique("paged")
    created = [root.projects.create(name=f"{prefix}-{n}").id for n in range(25)]

    automatic = [p.id for p in root.projects.list(limit=10)]
    by_hand: list[str] = []
    marker = None
    while page := list(root.projects.list(autopaginate=False, marker=marker, limit=10)):
        by_hand.extend(p.id for p in page)
        marker = page[-1].id

    assert automatic[-25:] == created
    assert by_hand == automatic
    assert len(set(automatic)) == len(automatic)


def test_users_paginate(craton, tenant, unique):
    created = [craton.users.create(username=unique("u"), project_id=tenant.project_id).id for _ in range(25)]

    listed = [u.id for u in craton.users.list(limit=10)]

    assert listed[-25:] == created
    assert len(listed) == 26  # the tenant's own admin, then the new users


def test_devices_pages_are_in_global_order_so_markers_work(craton, unique):
    # Interleave kinds so each page's last device is a host while network devices come
    # second in the server's split body: joining without reordering would repeat items.
    builder = Builder(craton, unique)
    created = [builder.host.id]
    for n in range(13):
        created.append(builder.make("network_devices", n).id)
        created.append(builder.make("hosts", n).id)

    by_hand: list[int] = []
    marker = None
    while page := list(craton.devices.list(autopaginate=False, marker=marker, limit=10)):
        by_hand.extend(device.id for device in page)
        marker = page[-1].id

    assert by_hand == created
    assert [d.id for d in craton.devices.list(limit=10)] == created
    newest_first = [d.id for d in craton.devices.list(limit=10, sort_dir="desc")]
    assert newest_first == created[::-1]
