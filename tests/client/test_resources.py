"""The same CRUD and variables patterns, run against the live server for every resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cratonclient import crud
from cratonclient import exceptions as exc
from cratonclient.v1 import (
    cells,
    clouds,
    devices,
    hosts,
    network_devices,
    network_interfaces,
    networks,
    projects,
    regions,
    users,
)
from cratonclient.v1.client import Client
from cratonclient.v1.variables import Variable, Variables


class Tree:
    """A cloud > region > cell > host/network device + network + interface in one project."""

    def __init__(self, craton: Client, unique: Callable[[str], str]) -> None:
        self.craton = craton
        self.unique = unique
        self.cloud = craton.clouds.create(name=unique("cloud"), variables={"from": "cloud"})
        self.region = craton.regions.create(name=unique("region"), cloud_id=self.cloud.id, variables={"region-var": 1})
        self.cell = craton.cells.create(name=unique("cell"), region_id=self.region.id, cloud_id=self.cloud.id)
        self.host = craton.hosts.create(**self.host_fields())
        self.network = craton.networks.create(**self.network_fields())

    def host_fields(self, n: int = 1) -> dict[str, Any]:
        return {
            "name": self.unique("host"),
            "cloud_id": self.cloud.id,
            "region_id": self.region.id,
            "cell_id": self.cell.id,
            "ip_address": f"10.1.{n // 250}.{n % 250 + 1}",
            "device_type": "server",
        }

    def network_device_fields(self, n: int = 1) -> dict[str, Any]:
        return {
            "name": self.unique("switch"),
            "cloud_id": self.cloud.id,
            "region_id": self.region.id,
            "ip_address": f"10.2.{n // 250}.{n % 250 + 1}",
            "device_type": "switch",
        }

    def network_fields(self, n: int = 1) -> dict[str, Any]:
        return {
            "name": self.unique("net"),
            "cloud_id": self.cloud.id,
            "region_id": self.region.id,
            "cidr": f"192.168.{n % 250}.0/24",
            "gateway": f"192.168.{n % 250}.1",
            "netmask": "255.255.255.0",
        }

    def interface_fields(self, n: int = 1) -> dict[str, Any]:
        return {
            "name": self.unique("eth"),
            "device_id": self.host.id,
            "interface_type": "ethernet",
            "ip_address": f"10.3.{n // 250}.{n % 250 + 1}",
            "network_id": self.network.id,
        }


@dataclass
class Spec:
    """How to drive one resource: its manager, what to create and what to change."""

    manager: str
    resource_class: type[crud.Resource]
    manager_class: type[crud.CRUDClient]
    fields: Callable[[Tree, int], dict[str, Any]]
    changes: dict[str, Any]
    has_variables: bool = True
    resolved_by_default: bool = False
    #: The variable the object inherits when resolved (None when it has no parents).
    inherited: dict[str, Any] | None = None


SPECS = [
    Spec(
        "clouds",
        clouds.Cloud,
        clouds.CloudManager,
        lambda t, n: {"name": t.unique("cloud"), "note": "first"},
        {"name": "renamed", "note": "second"},
        inherited={"project-var": "p"},
    ),
    Spec(
        "regions",
        regions.Region,
        regions.RegionManager,
        lambda t, n: {"name": t.unique("region"), "cloud_id": t.cloud.id},
        {"name": "renamed", "note": "second"},
        inherited={"from": "cloud"},
    ),
    Spec(
        "cells",
        cells.Cell,
        cells.CellManager,
        lambda t, n: {"name": t.unique("cell"), "region_id": t.region.id, "cloud_id": t.cloud.id},
        {"name": "renamed", "note": "second"},
        inherited={"region-var": 1},
    ),
    Spec(
        "hosts",
        hosts.Host,
        hosts.HostManager,
        Tree.host_fields,
        {"name": "renamed", "note": "second", "ip_address": "10.9.9.9", "active": False},
        resolved_by_default=True,
        inherited={"region-var": 1},
    ),
    Spec(
        "network_devices",
        network_devices.NetworkDevice,
        network_devices.NetworkDeviceManager,
        Tree.network_device_fields,
        {"name": "renamed", "model_name": "X-1000", "os_version": "9.1"},
        inherited={"from": "cloud"},
    ),
    Spec(
        "networks",
        networks.Network,
        networks.NetworkManager,
        Tree.network_fields,
        {"name": "renamed", "nss": "8.8.8.8"},
    ),
    Spec(
        "network_interfaces",
        network_interfaces.NetworkInterface,
        network_interfaces.NetworkInterfaceManager,
        Tree.interface_fields,
        {"name": "renamed", "port": 8, "speed": 1000},
    ),
]
BY_NAME = {spec.manager: spec for spec in SPECS}


@pytest.fixture
def tree(craton: Client, unique: Callable[[str], str]) -> Tree:
    return Tree(craton, unique)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.manager)
def test_create_get_list_update_delete(tree, spec):
    manager = getattr(tree.craton, spec.manager)
    fields = spec.fields(tree, 7)
    assert isinstance(manager, spec.manager_class)

    created = manager.create(**fields)
    assert isinstance(created, spec.resource_class)
    assert {k: getattr(created, k) for k in fields} == fields
    assert created.to_dict()["id"] == created.id

    fetched = manager.get(created.id)
    assert fetched.id == created.id and fetched.name == fields["name"]
    assert created.id in [item.id for item in manager.list()]

    updated = manager.update(created.id, **spec.changes)
    assert isinstance(updated, spec.resource_class)
    assert {k: getattr(updated, k) for k in spec.changes} == spec.changes
    assert {k: getattr(manager.get(created.id), k) for k in spec.changes} == spec.changes

    assert manager.delete(created.id) is True
    with pytest.raises(exc.NotFound):
        manager.get(created.id)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.manager)
def test_variables_get_update_delete(tree, spec):
    manager = getattr(tree.craton, spec.manager)
    obj = manager.create(**spec.fields(tree, 8), variables={"own": "x", "n": 1})

    own = obj.variables.get(resolved=False)
    assert isinstance(own, Variables)
    assert own.to_dict() == {"own": "x", "n": 1}
    assert own["own"] == Variable("own", "x")

    after_update = obj.variables.update(**{"n": 2, "some-var": [1, None, True], "nested": {"a": {"b": 1.5}}})
    expected = {"own": "x", "n": 2, "some-var": [1, None, True], "nested": {"a": {"b": 1.5}}}
    assert after_update.to_dict() == expected
    assert obj.variables.get(resolved=False).to_dict() == expected

    assert obj.variables.delete("own", "nested", "never-set") is True
    assert obj.variables.get(resolved=False).to_dict() == {"n": 2, "some-var": [1, None, True]}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.manager)
def test_variables_resolution_switch(tree, spec):
    manager = getattr(tree.craton, spec.manager)
    obj = manager.create(**spec.fields(tree, 9), variables={"own": True})
    tree.craton.projects.get(tree.craton.clouds.get(tree.cloud.id).project_id).variables.update(**{"project-var": "p"})

    own = obj.variables.get(resolved=False).to_dict()
    resolved = obj.variables.get(resolved=True).to_dict()
    default = obj.variables.get().to_dict()

    assert own == {"own": True}
    if spec.inherited is not None:
        assert resolved == {**resolved, **spec.inherited, "own": True}
        assert "project-var" in resolved
    else:
        assert resolved["own"] is True
    assert default == (resolved if spec.resolved_by_default else own)


def test_variables_accept_a_mapping_with_any_key(tree):
    # Keys that are not identifiers, or that clash with Python names, need the mapping form.
    obj = tree.craton.clouds.get(tree.cloud.id)
    result = obj.variables.update({"self": 1, "variables": 2, "a b": 3}, extra=4)
    assert result.to_dict() == {"from": "cloud", "self": 1, "variables": 2, "a b": 3, "extra": 4}


def test_project_crud_and_variables(root, unique):
    project = root.projects.create(name=unique("project"), variables={"tier": "gold"})
    assert isinstance(project, projects.Project)
    assert isinstance(project.id, str) and len(project.id) == 36

    assert root.projects.get(project.id).name == project.name
    assert project.id in [p.id for p in root.projects.list(name=project.name)]
    assert project.variables.get().to_dict() == {"tier": "gold"}
    project.variables.update(region="eu")
    project.variables.delete("tier")
    assert root.projects.get(project.id).variables.get().to_dict() == {"region": "eu"}
    renamed = root.projects.update(project.id, name=project.name + "-renamed")
    assert isinstance(renamed, projects.Project) and renamed.name == project.name + "-renamed"
    assert root.projects.get(project.id).name == renamed.name

    assert root.projects.delete(project.id) is True
    with pytest.raises(exc.NotFound):
        root.projects.get(project.id)


def test_user_crud_and_the_new_key_works(live_server, tenant, craton, make_client, unique):
    user = craton.users.create(username=unique("user"), project_id=tenant.project_id)
    assert isinstance(user, users.User)
    assert user.api_key  # shown once, at creation

    as_user = make_client(live_server.url, tenant.project_id, user.username, user.api_key)
    assert list(as_user.clouds.list()) == []

    assert craton.users.get(user.id).username == user.username
    assert user.id in [u.id for u in craton.users.list()]
    assert not hasattr(craton.users, "update")
    assert craton.users.delete(user.id) is True
    with pytest.raises(exc.Unauthorized):
        list(as_user.clouds.list())


@pytest.mark.parametrize("manager", ["hosts", "network_devices"])
def test_labels(tree, manager):
    devices_manager = getattr(tree.craton, manager)
    device = devices_manager.create(**BY_NAME[manager].fields(tree, 11), labels=["rack-1"])
    labels = devices_manager.labels(device.id)

    assert labels.get() == ["rack-1"]
    assert sorted(labels.update("compute", "gpu")) == ["compute", "gpu", "rack-1"]
    assert sorted(labels.update("gpu")) == ["compute", "gpu", "rack-1"]  # adding is idempotent
    assert labels.delete("rack-1", "not-there") is True
    assert sorted(labels.get()) == ["compute", "gpu"]
    assert device.id in [d.id for d in devices_manager.list(label="gpu")]
    assert device.id not in [d.id for d in devices_manager.list(label="rack-1")]


def test_devices_lists_hosts_and_network_devices_together(tree):
    switch = tree.craton.network_devices.create(**tree.network_device_fields(12))
    second_host = tree.craton.hosts.create(**tree.host_fields(13), parent_id=switch.id)

    listed = list(tree.craton.devices.list(cloud_id=tree.cloud.id))

    assert all(isinstance(d, devices.Device) for d in listed)
    assert sorted(d.id for d in listed) == sorted([tree.host.id, switch.id, second_host.id])
    children = list(tree.craton.devices.list(parent_id=switch.id))
    assert [d.id for d in children] == [second_host.id]
    for name in ("create", "get", "update", "delete"):
        assert not hasattr(tree.craton.devices, name)


def test_get_with_resolved_switch(tree):
    own = tree.craton.regions.get(tree.region.id, resolved=False)
    resolved = tree.craton.regions.get(tree.region.id, resolved=True)

    assert own.to_dict()["variables"] == {"region-var": 1}
    assert resolved.to_dict()["variables"]["from"] == "cloud"


def test_list_filters_are_sent(tree, unique):
    other_region = tree.craton.regions.create(name=unique("region"), cloud_id=tree.cloud.id)
    tree.craton.cells.create(name=unique("cell"), region_id=other_region.id, cloud_id=tree.cloud.id)

    in_first = [c.id for c in tree.craton.cells.list(region_id=tree.region.id)]
    detailed = list(tree.craton.hosts.list(details=True, vars="region-var:1"))

    assert in_first == [tree.cell.id]
    assert [h.id for h in detailed] == [tree.host.id]
    assert detailed[0].to_dict()["variables"]["region-var"] == 1


def test_ansible_inventory(tree, unique):
    tree.craton.hosts.labels(tree.host.id).update("compute")
    other_region = tree.craton.regions.create(name=unique("region"), cloud_id=tree.cloud.id)
    fields = {**tree.host_fields(14), "region_id": other_region.id}
    del fields["cell_id"]
    elsewhere = tree.craton.hosts.create(**fields)

    inventory = tree.craton.inventory.get()
    by_region = tree.craton.inventory.get(region_id=tree.region.id)
    by_label = tree.craton.inventory.get(label="compute")

    hostvars = inventory["_meta"]["hostvars"]
    # Our server names hosts by name (ansible_host = address); the 2017 draft used addresses.
    key = tree.host.name if tree.host.name in hostvars else tree.host.ip_address
    assert hostvars[key]["region-var"] == 1 and hostvars[key]["from"] == "cloud"
    assert len(hostvars) == 2
    assert list(by_region["_meta"]["hostvars"]) == [key]
    assert list(by_label["_meta"]["hostvars"]) == [key]
    assert by_label["compute"]["hosts"] == [key]
    assert elsewhere.name in str(inventory) or elsewhere.ip_address in str(inventory)


def test_resource_object_behaviour(tree):
    cloud = tree.craton.clouds.get(tree.cloud.id)

    assert repr(cloud).startswith("<Cloud created_at=")
    assert f"id={cloud.id}" in repr(cloud) and f"name={cloud.name!r}" in repr(cloud)
    assert cloud.to_dict()["variables"] == {"from": "cloud"}
    assert cloud.to_dict() is not cloud.to_dict()  # a copy each time
    assert cloud == tree.craton.clouds.get(tree.cloud.id)
    assert cloud.get() is cloud and cloud.is_loaded()
    with pytest.raises(AttributeError):
        cloud.no_such_field  # noqa: B018
    assert cloud.delete() is True
    with pytest.raises(exc.NotFound):
        tree.craton.clouds.get(tree.cloud.id)


def test_delete_preview_counts_and_keeps_everything(craton, unique):
    cloud = craton.clouds.create(name=unique("cloud"))
    region = craton.regions.create(name=unique("region"), cloud_id=cloud.id)
    cell = craton.cells.create(name=unique("cell"), cloud_id=cloud.id, region_id=region.id)
    for n in range(2):
        craton.hosts.create(
            name=unique("host"),
            cloud_id=cloud.id,
            region_id=region.id,
            cell_id=cell.id,
            ip_address=f"10.1.0.{n + 1}",
            device_type="server",
        )
    counts = craton.regions.delete(region.id, preview=True)
    assert counts == {
        "clouds": 0,
        "regions": 1,
        "cells": 1,
        "hosts": 2,
        "network_devices": 0,
        "networks": 0,
        "network_interfaces": 0,
    }
    assert craton.clouds.delete(cloud.id, preview=True)["hosts"] == 2
    assert craton.regions.get(region.id).id == region.id  # nothing was deleted
    assert len(list(craton.hosts.list(region_id=region.id))) == 2
    with pytest.raises(exc.NotFound):
        craton.regions.delete(2_000_000_000, preview=True)
    assert craton.regions.delete(region.id) is True


def test_variable_and_move_previews_write_nothing(craton, unique):
    cloud = craton.clouds.create(name=unique("cloud"))
    region = craton.regions.create(name=unique("region"), cloud_id=cloud.id, variables={"ntp": "r"})
    other = craton.regions.create(name=unique("region"), cloud_id=cloud.id, variables={"ntp": "o"})
    hosts = [
        craton.hosts.create(
            name=unique("host"),
            cloud_id=cloud.id,
            region_id=region.id,
            ip_address=f"10.2.0.{n + 1}",
            device_type="server",
        )
        for n in range(12)
    ]
    impact = region.variables.update({"ntp": "new", "dns": "d"}, preview=True)
    assert impact.devices_affected == 12
    devices = list(impact.all_devices())
    assert sorted(d["id"] for d in devices) == sorted(h.id for h in hosts)
    assert devices[0]["added"] == {"dns": "d"} and devices[0]["changed"] == {"ntp": {"old": "r", "new": "new"}}
    assert region.variables.delete("ntp", preview=True).devices_affected == 12
    moved = craton.hosts.update_preview(hosts[0].id, region_id=other.id)
    assert moved.devices_affected == 1 and moved.devices[0]["changed"] == {"ntp": {"old": "r", "new": "o"}}
    assert craton.hosts.get(hosts[0].id).variables.get(resolved=True)["ntp"].value == "r"  # nothing written
    assert craton.hosts.get(hosts[0].id).region_id == region.id


def test_mask_strategy_and_delete_previews_list_devices_and_write_nothing(craton, unique):
    cloud = craton.clouds.create(name=unique("cloud"), variables={"ntp": "c", "tags": {"cloud": 1}})
    region = craton.regions.create(name=unique("region"), cloud_id=cloud.id, variables={"tags": {"region": 2}})
    hosts = [
        craton.hosts.create(
            name=unique("host"),
            cloud_id=cloud.id,
            region_id=region.id,
            ip_address=f"10.3.0.{n + 1}",
            device_type="server",
            variables={"own": n},
        )
        for n in range(3)
    ]
    masked = region.variables.mask("ntp", preview=True)
    assert masked.devices_affected == 3 and all(d["removed"] == {"ntp": "c"} for d in masked.devices)
    assert region.variables.masks() == []  # nothing written
    region.variables.mask("ntp")
    unmasked = region.variables.unmask("ntp", preview=True)
    assert [d["added"] for d in unmasked.all_devices()] == [{"ntp": "c"}] * 3
    assert region.variables.masks() == ["ntp"]

    project_id = region.to_dict()["project_id"]
    deep = craton.projects.merge_strategies(project_id, {"tags": "deep"}, preview=True)
    assert deep.devices_affected == 3
    assert deep.devices[0]["changed"] == {"tags": {"old": {"region": 2}, "new": {"cloud": 1, "region": 2}}}
    assert craton.projects.merge_strategies(project_id) == {}  # nothing written

    gone = craton.regions.delete_preview(region.id, limit=2)
    assert gone.deleted["hosts"] == 3 and gone.deleted["regions"] == 1
    assert gone.devices_affected == 3 and len(gone.devices) == 2 and gone.next_url
    devices = list(gone.all_devices())
    assert [d["id"] for d in devices] == [h.id for h in hosts]
    assert all(d["deleted"] and d["removed"]["own"] == n for n, d in enumerate(devices))
    assert gone.to_dict()["deleted"] == gone.deleted
    assert craton.regions.get(region.id).id == region.id  # nothing deleted
