"""``craton.projects.merge_strategies`` and masks on every variables manager, live."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cratonclient import exceptions as exc
from cratonclient.v1.client import Client
from tests.client.conftest import Tenant


def test_strategies_masks_and_blame_through_the_client(tenant: Tenant, unique: Callable[[str], str]) -> None:
    craton: Client = tenant.craton
    assert craton.projects.merge_strategies(tenant.project_id) == {}
    declared = craton.projects.merge_strategies(tenant.project_id, {"ntp": "union", "sysctl": "deep"})
    assert declared == {"ntp": "union", "sysctl": "deep"}
    assert craton.projects.merge_strategies(tenant.project_id) == declared

    cloud = craton.clouds.create(name=unique("cloud"))
    region = craton.regions.create(
        name="r", cloud_id=cloud.id, variables={"ntp": ["a", "b"], "sysctl": {"x": 1}, "proxy": "p"}
    )
    cell = craton.cells.create(name="c", cloud_id=cloud.id, region_id=region.id)
    host = craton.hosts.create(
        name="h",
        cloud_id=cloud.id,
        region_id=region.id,
        cell_id=cell.id,
        ip_address="10.0.0.1",
        device_type="server",
        variables={"ntp": ["b", "c"], "sysctl": {"y": 2}},
    )
    resolved = host.variables.get()
    assert resolved.to_dict() == {"ntp": ["a", "b", "c"], "sysctl": {"x": 1, "y": 2}, "proxy": "p"}
    assert resolved.masks == []

    assert cell.variables.mask("proxy", "sysctl") == ["proxy", "sysctl"]
    assert cell.variables.masks() == ["proxy", "sysctl"]
    assert cell.variables.get().masks == ["proxy", "sysctl"]
    assert host.variables.get().to_dict() == {"ntp": ["a", "b", "c"], "sysctl": {"y": 2}}

    blamed = host.variables.get(blame=True)
    ntp = blamed["ntp"]
    assert ntp.strategy == "union"
    assert [(c.source.type, c.part) for c in ntp.contributions] == [("host", ["c"]), ("region", ["a", "b"])]
    assert blamed["sysctl"].masked_at is not None and blamed["sysctl"].masked_at.id == cell.id
    assert blamed.to_dict()["blame"]["ntp"]["contributions"][0]["part"] == ["c"]

    assert cell.variables.unmask("proxy") is True
    assert cell.variables.masks() == ["sysctl"]
    assert host.variables.get().to_dict()["proxy"] == "p"


def test_bad_strategies_and_strangers_raise(tenant: Tenant, new_tenant: Callable[..., Tenant]) -> None:
    with pytest.raises(exc.BadRequest):
        tenant.craton.projects.merge_strategies(tenant.project_id, {"a": "merge"})
    member = new_tenant(is_admin=False)
    with pytest.raises(exc.Forbidden):
        member.craton.projects.merge_strategies(member.project_id)
    with pytest.raises(exc.NotFound):
        new_tenant().craton.projects.merge_strategies(tenant.project_id)
