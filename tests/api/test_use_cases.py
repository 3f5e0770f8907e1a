"""The domain's whole use cases (domain/objects.py, the reads too), called as import and preview call them.

No HTTP in the call: a connection, a principal, the kind, plain values. What they write is
then read back over the API, so both paths are seen to agree.
"""

from __future__ import annotations

from typing import Any

import pytest

from craton.domain import containers, kinds, objects, projects, versions
from craton.domain import devices as device_domain
from craton.domain import variables as variable_domain
from craton.domain.crud import PageRequest
from craton.domain.errors import Forbidden, InvalidInput, PreconditionFailed
from craton.domain.principal import Principal, Role
from craton.domain.readmodel import Show
from craton.http.routes import kind_module
from craton.storage.engine import transaction
from tests.api.helpers import Craton, Tenant, expect


def _writing(craton: Craton) -> Any:
    """A write transaction that queues on SQLite's write lock as the server's own writes do.

    A plain ``engine.begin()`` takes the lock only at its first write, and then loses to the
    server's background pump with "database is locked"; the write queue waits its turn.
    """
    return transaction(craton.server.engine, writes=True)


def _admin(tenant: Tenant) -> Principal:
    return Principal(project_id=tenant.project_id, username="use-case", role=Role.ADMIN)


def _host_values(inv: Any, **extra: Any) -> dict[str, Any]:
    cloud = inv.cloud()
    region = inv.region(cloud)
    return {
        "name": "uc-host",
        "cloud_id": cloud["id"],
        "region_id": region["id"],
        "ip_address": "10.1.0.1",
        "device_type": "server",
        **extra,
    }


def test_create_a_device_with_labels_and_variables_in_one_call(craton: Craton) -> None:
    tenant = craton.tenant()
    values = _host_values(tenant.inventory, labels=["b", "a"])
    with _writing(craton) as conn:
        row = objects.create(conn, _admin(tenant), device_domain.HOST, values, {"role": "web"})
    shown = expect(tenant.client.get(f"/v1/hosts/{row['id']}"), 200)
    assert shown["labels"] == ["a", "b"]
    assert shown["variables"] == {"role": "web"}
    assert values["labels"] == ["b", "a"]  # the caller's values are not consumed


def test_create_a_project_makes_its_id(craton: Craton) -> None:
    root = Principal(project_id=craton.tenant().project_id, username="root", role=Role.ROOT)
    with _writing(craton) as conn:
        row = objects.create(conn, root, projects.KIND, {"name": "uc-project"}, {"tier": 1})
    assert len(row["id"]) == 36 and row["name"] == "uc-project"
    assert expect(craton.root.get(f"/v1/projects/{row['id']}/variables"), 200)["variables"] == {"tier": 1}


def test_create_is_refused_without_the_role(craton: Craton) -> None:
    tenant = craton.tenant()
    member = Principal(project_id=tenant.project_id, username="m", role=Role.MEMBER)
    with pytest.raises(Forbidden), _writing(craton) as conn:
        objects.create(conn, member, projects.KIND, {"name": "not-allowed"})


def test_update_with_a_stale_version_changes_nothing(craton: Craton) -> None:
    tenant = craton.tenant()
    cloud = tenant.inventory.cloud(name="uc-cloud")
    stale = '"0123456789abcdef01234567"'
    with pytest.raises(PreconditionFailed), _writing(craton) as conn:
        objects.update(conn, _admin(tenant), containers.CLOUD, cloud["id"], {"name": "renamed"}, stale)
    assert expect(tenant.client.get(f"/v1/clouds/{cloud['id']}"), 200)["name"] == "uc-cloud"


def test_update_with_the_current_version_writes_and_moves_the_version(craton: Craton) -> None:
    tenant = craton.tenant()
    cloud = tenant.inventory.cloud(name="uc-cloud")
    etag = tenant.client.get(f"/v1/clouds/{cloud['id']}").headers["etag"]
    with _writing(craton) as conn:
        row = objects.update(conn, _admin(tenant), containers.CLOUD, cloud["id"], {"name": "renamed"}, etag)
    assert row["name"] == "renamed"
    assert versions.version_tag(containers.CLOUD, row) != etag
    assert expect(tenant.client.get(f"/v1/clouds/{cloud['id']}"), 200)["name"] == "renamed"


def test_update_moves_a_cell_with_its_devices(craton: Craton) -> None:
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud()
    east, west = inv.region(cloud, name="east"), inv.region(cloud, name="west")
    cell = inv.cell(east)
    host = inv.host(cell=cell)
    with _writing(craton) as conn:
        objects.update(conn, _admin(tenant), containers.CELL, cell["id"], {"region_id": west["id"]})
    assert expect(tenant.client.get(f"/v1/hosts/{host['id']}"), 200)["region_id"] == west["id"]


def test_a_device_move_with_children_needs_with_children(craton: Craton) -> None:
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud()
    east, west = inv.region(cloud, name="east"), inv.region(cloud, name="west")
    cell = inv.cell(east)
    parent = inv.host(cell=cell)
    child = inv.host(cell=cell, parent=parent)
    move = {"region_id": west["id"], "cell_id": None}
    with pytest.raises(InvalidInput, match="with_children"), _writing(craton) as conn:
        objects.update(conn, _admin(tenant), device_domain.HOST, parent["id"], move)
    with _writing(craton) as conn:
        objects.update(conn, _admin(tenant), device_domain.HOST, parent["id"], move, with_children=True)
    assert expect(tenant.client.get(f"/v1/hosts/{child['id']}"), 200)["region_id"] == west["id"]


def test_delete_previews_then_refuses_a_stale_version_then_deletes(craton: Craton) -> None:
    tenant = craton.tenant()
    inv = tenant.inventory
    cell = inv.cell(inv.region(inv.cloud()))
    inv.host(cell=cell)
    principal = _admin(tenant)
    with _writing(craton) as conn:
        counted = objects.delete(conn, principal, containers.CELL, cell["id"], '"stale"', preview=True)
    assert counted["cells"] == 1 and counted["hosts"] == 1
    with pytest.raises(PreconditionFailed), _writing(craton) as conn:
        objects.delete(conn, principal, containers.CELL, cell["id"], '"stale"')
    expect(tenant.client.get(f"/v1/cells/{cell['id']}"), 200)
    etag = tenant.client.get(f"/v1/cells/{cell['id']}").headers["etag"]
    with _writing(craton) as conn:
        objects.delete(conn, principal, containers.CELL, cell["id"], etag)
    expect(tenant.client.get(f"/v1/cells/{cell['id']}"), 404)


def test_every_kind_declares_its_delete_on_the_kind_the_routes_use() -> None:
    """The DELETE routes exist because the route's kind declares a delete: none may lose it."""
    for info in kinds.KINDS:
        assert kind_module(info).RESOURCE.kind.delete is not None, info.resource_type


def _nested_host(tenant: Tenant) -> dict[str, Any]:
    inv = tenant.inventory
    cell = inv.cell(variables={"level": "cell", "c": 1})
    switch = inv.network_device(cell=cell, variables={"level": "switch"}, labels=["sw"])
    return {
        "cell": cell,
        "switch": switch,
        "host": inv.host(cell=cell, parent=switch, variables={"h": 1}, labels=["web", "db"]),
        "other": inv.host(cell=cell, labels=["web"]),
    }


def test_a_read_returns_what_the_api_shows(craton: Craton) -> None:
    """objects.read: the row, resolved variables, labels, the parent's kind and the version the API shows."""
    tenant = craton.tenant()
    host = _nested_host(tenant)["host"]
    response = tenant.client.get(f"/v1/hosts/{host['id']}", params={"resolved-values": "true"})
    shown = expect(response, 200)
    with craton.server.engine.connect() as conn:
        item = objects.read(conn, _admin(tenant), device_domain.HOST, host["id"], Show(variables=True, resolved=True))
    assert item.etag == response.headers["etag"]
    assert item.details.variables == {host["id"]: shown["variables"]}
    assert shown["variables"] == {"h": 1, "level": "switch", "c": 1}
    assert item.details.labels == {host["id"]: shown["labels"]} == {host["id"]: ["db", "web"]}
    assert item.details.parent_kinds == {host["parent_id"]: "network_device"}
    assert shown["links"][0]["href"].endswith(f"/v1/network-devices/{host['parent_id']}")


def test_a_page_of_devices_filtered_as_the_api_filters(craton: Craton) -> None:
    """objects.read_page over hosts and network devices: labels, a subtree, and details for the page."""
    tenant = craton.tenant()
    made = _nested_host(tenant)
    query = objects.ListQuery(
        page=PageRequest(limit=10),
        equal={"cell_id": made["cell"]["id"]},
        labels=["web"],
        show=Show(variables=True, resolved=True),
    )
    with craton.server.engine.connect() as conn:
        listing = objects.read_page(conn, _admin(tenant), device_domain.ANY_DEVICE, query)
        below = objects.read_page(
            conn,
            _admin(tenant),
            device_domain.ANY_DEVICE,
            objects.ListQuery(parent_id=made["switch"]["id"], descendants=True, show=objects.ROWS_ONLY),
        )
    params = {"cell_id": made["cell"]["id"], "label": "web", "details": "true"}
    api = expect(tenant.client.get("/v1/devices", params=params), 200)["devices"]
    assert [row["id"] for row in listing.rows] == [item["id"] for item in api["hosts"] + api["network-devices"]]
    assert listing.details.variables == {item["id"]: item["variables"] for item in api["hosts"]}
    assert not listing.page.has_next
    assert [row["id"] for row in below.rows] == [made["host"]["id"]] and below.details.labels is None


def test_device_filters_on_a_kind_without_them_are_refused(craton: Craton) -> None:
    tenant = craton.tenant()
    with pytest.raises(InvalidInput), craton.server.engine.connect() as conn:
        objects.read_page(conn, _admin(tenant), containers.CLOUD, objects.ListQuery(labels=["web"]))


def test_a_variables_read_now_and_as_a_diff(craton: Craton) -> None:
    """variables.read_variables: the API's GET .../variables body and ETag, and a diff up to now."""
    tenant = craton.tenant()
    host = _nested_host(tenant)["host"]
    path = f"/v1/hosts/{host['id']}/variables"
    since = expect(tenant.client.get(f"/v1/hosts/{host['id']}"), 200)["updated_at"]
    expect(tenant.client.put(path, json={"h": 2, "new": True}), 200)
    response = tenant.client.get(path, params={"blame": "true"})
    shown = expect(response, 200)
    with craton.server.engine.connect() as conn:
        now = variable_domain.read_variables(
            conn, _admin(tenant), device_domain.HOST, host["id"], resolved=True, blame=True
        )
        diff = variable_domain.read_variables(
            conn, _admin(tenant), device_domain.HOST, host["id"], resolved=False, diff_from=since
        )
    assert isinstance(now, variable_domain.VariablesRead) and isinstance(diff, variable_domain.VariablesDiff)
    assert (now.variables, now.etag) == (shown["variables"], response.headers["etag"])
    assert now.blame is not None
    assert {key: blamed["source"] for key, blamed in now.blame.items()} == {
        key: blamed["source"] for key, blamed in shown["blame"].items()
    }
    assert diff.end is None and diff.changes["added"] == {"new": True}
    assert diff.changes["changed"] == {"h": {"from": 1, "to": 2}}
