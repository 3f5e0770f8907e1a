"""POST /v1/import: a fleet document (JSON, YAML) or a CSV host list into a project, on every backend.

What must hold (issue 17 §1, docs/import-export.md): export -> import into an empty project ->
export gives the same document; a second import of it changes nothing and records nothing;
create/upsert/sync do what they say (sync only with confirm=true); dry_run counts and writes
nothing; a refused document lists every problem with its place; CSV rows and columns are
named; every change is in the history with the request's reason; nothing of another project
is touched; the body has its own size limit.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api.helpers import Craton, Tenant, expect, expect_error, table_count
from tests.conftest import running_server, throwaway_database

COUNT_KEYS = ("clouds", "regions", "cells", "hosts", "network_devices", "networks", "network_interfaces")
REFUSED = "The document has {} problem(s); nothing was imported."


def _fleet(tenant: Tenant, hosts: int = 2) -> None:
    """A small project with every kind, variables, masks, labels, parents and a merge strategy."""
    inv = tenant.inventory
    client = tenant.client
    expect(client.put(f"/v1/projects/{tenant.project_id}/variables", json={"owner": "ops"}), 200)
    expect(client.put(f"/v1/projects/{tenant.project_id}/merge-strategies", json={"pkgs": "append"}), 200)
    cloud = inv.cloud(name="cloud-a", variables={"pkgs": ["base"]}, note="main cloud")
    region = inv.region(cloud, name="region-1", variables={"dc": "fra"})
    cell = inv.cell(region, name="cell-x")
    expect(client.put(f"/v1/cells/{cell['id']}/variables/masks", json=["dc"]), 200)
    network = inv.network(region, name="net-1", cell=cell)
    switch = inv.network_device(cell=cell, name="sw-1", labels=["tor"], model_name="X1", os_version="9")
    made = [
        inv.host(cell=cell, name=f"host-{n}", parent=switch, labels=["web", "b"], variables={"n": n, "x": {"y": [1]}})
        for n in range(hosts)
    ]
    eth0 = inv.interface(made[0], name="eth0", network=network, ip_address="10.9.0.1", vlan_id=7, variables={"mtu": 1})
    expect(client.put(f"/v1/network-interfaces/{eth0['id']}/variables/masks", json=["dc"]), 200)
    inv.host(region, name="loose", active=False, ip_address="10.0.0.9")
    inv.region(inv.cloud(name="cloud-b"), name="empty-region", note="nothing here")


def _import(
    client: httpx.Client, document: Any, status: int = 200, content_type: str = "application/json", **params: Any
) -> Any:
    if content_type == "application/json":
        response = client.post("/v1/import", json=document, params=params)
    else:
        response = client.post("/v1/import", content=document, params=params, headers={"content-type": content_type})
    return expect(response, status)


def _counts(**given: dict[str, int]) -> dict[str, dict[str, int]]:
    return {
        name: {key: given.get(name, {}).get(key, 0) for key in COUNT_KEYS}
        for name in ("created", "updated", "deleted", "unchanged")
    }


def _changes(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    since = 0
    while True:
        body = expect(client.get("/v1/changes", params={"since": since, "limit": 1000}), 200)
        if not body["changes"]:
            return found
        found += body["changes"]
        since = body["next_since"]


def _refused(response: httpx.Response) -> list[dict[str, str]]:
    body = expect(response, 400)
    assert set(body) == {"message", "status", "errors"}, body
    assert body["message"] == REFUSED.format(len(body["errors"])), body
    assert body["status"] == 400
    return body["errors"]


def test_round_trip_into_an_empty_project_and_idempotency(craton: Craton) -> None:
    source = craton.tenant()
    _fleet(source)
    document = expect(source.client.get("/v1/export"), 200)
    target = craton.tenant()
    answer = _import(target.client, document, mode="create")
    assert answer == {
        "import": {
            "mode": "create",
            "dry_run": False,
            **_counts(
                created={
                    "clouds": 2,
                    "regions": 2,
                    "cells": 1,
                    "hosts": 3,
                    "network_devices": 1,
                    "networks": 1,
                    "network_interfaces": 1,
                }
            ),
        }
    }
    assert expect(target.client.get("/v1/export"), 200) == document
    interface = document["clouds"][0]["regions"][0]["cells"][0]["devices"][0]["interfaces"][0]
    assert interface["variables"] == {"mtu": 1} and interface["masks"] == ["dc"]
    # The variables resolve as they did in the source (strategies and masks came along).
    host = expect(target.client.get("/v1/hosts", params={"name": "host-0"}), 200)["hosts"][0]
    resolved = expect(target.client.get(f"/v1/hosts/{host['id']}/variables"), 200)["variables"]
    assert resolved == {"owner": "ops", "pkgs": ["base"], "n": 0, "x": {"y": [1]}}

    before = len(_changes(target.client))
    again = _import(target.client, document)["import"]
    assert again["created"] == again["updated"] == again["deleted"] == dict.fromkeys(COUNT_KEYS, 0)
    assert again["unchanged"] == {
        "clouds": 2,
        "regions": 2,
        "cells": 1,
        "hosts": 3,
        "network_devices": 1,
        "networks": 1,
        "network_interfaces": 1,
    }
    assert len(_changes(target.client)) == before, "an unchanged import recorded changes"
    synced = _import(target.client, document, mode="sync", confirm="true")["import"]
    assert synced["unchanged"] == again["unchanged"] and synced["updated"] == again["updated"]


def test_yaml_documents_import_like_json(craton: Craton) -> None:
    source = craton.tenant()
    _fleet(source)
    document = expect(source.client.get("/v1/export"), 200)
    text = source.client.get("/v1/export", params={"format": "yaml"}).text
    for content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
        target = craton.tenant()
        _import(target.client, text.encode(), content_type=content_type)
        assert expect(target.client.get("/v1/export"), 200) == document
    # Dates stay text, aliases of mappings are refused (they could expand without bound).
    target = craton.tenant()
    dated = "format: craton-fleet\nversion: 1\nclouds:\n- name: c\n  variables: {since: 2024-01-01}\n"
    _import(target.client, dated.encode(), content_type="application/yaml")
    exported = expect(target.client.get("/v1/export"), 200)
    assert exported["clouds"][0]["variables"] == {"since": "2024-01-01"}
    bomb = "a: &a {x: 1}\nb: *a\n"
    expect_error(
        target.client.post("/v1/import", content=bomb.encode(), headers={"content-type": "application/yaml"}),
        400,
        contains=["aliases"],
    )
    expect_error(
        target.client.post("/v1/import", content=b"a: [", headers={"content-type": "application/yaml"}),
        400,
        startswith="The body is not valid YAML.",
    )
    expect_error(
        target.client.post("/v1/import", content=b"x", headers={"content-type": "text/plain"}), 415, contains=["csv"]
    )


def test_upsert_sets_what_the_document_gives_and_keeps_the_rest(craton: Craton) -> None:
    tenant = craton.tenant()
    _fleet(tenant)
    document = expect(tenant.client.get("/v1/export"), 200)
    changed = copy.deepcopy(document)
    cell = changed["clouds"][0]["regions"][0]["cells"][0]
    host = next(device for device in cell["devices"] if device["name"] == "host-1")
    host.update(ip_address="10.0.0.77", labels=["new"], variables={"n": 10, "added": True})
    host.pop("parent")
    cell["devices"].append({"kind": "host", "name": "host-new", "device_type": "server", "ip_address": "10.0.0.5"})
    del changed["clouds"][1]  # not mentioned: upsert keeps it
    answer = _import(tenant.client, changed)["import"]
    assert answer["created"]["hosts"] == 1 and answer["updated"]["hosts"] == 1
    assert answer["deleted"] == dict.fromkeys(COUNT_KEYS, 0)
    after = expect(tenant.client.get("/v1/export"), 200)
    assert [cloud["name"] for cloud in after["clouds"]] == ["cloud-a", "cloud-b"]
    devices = {d["name"]: d for d in after["clouds"][0]["regions"][0]["cells"][0]["devices"]}
    assert devices["host-1"]["ip_address"] == "10.0.0.77"
    assert devices["host-1"]["labels"] == ["b", "new", "web"], "upsert adds labels"
    assert devices["host-1"]["variables"] == {"added": True, "n": 10, "x": {"y": [1]}}, "upsert keeps other keys"
    assert devices["host-1"]["parent"] == "sw-1", "upsert keeps a parent the document does not name"
    assert "host-new" in devices


def test_sync_needs_confirm_and_then_makes_the_project_the_document(craton: Craton) -> None:
    tenant = craton.tenant()
    _fleet(tenant)
    document = expect(tenant.client.get("/v1/export"), 200)
    smaller = copy.deepcopy(document)
    del smaller["clouds"][1]
    cell = smaller["clouds"][0]["regions"][0]["cells"][0]
    cell["devices"] = [d for d in cell["devices"] if d["name"] != "host-1"]
    host = cell["devices"][0]
    assert host["name"] == "host-0"
    host["variables"] = {"n": 0}
    host["labels"] = ["web"]
    del host["interfaces"]
    del smaller["project"]["merge_strategies"]
    del cell["masks"]

    message = expect_error(tenant.client.post("/v1/import", json=smaller, params={"mode": "sync"}), 400)
    assert "confirm=true" in message
    expect_error(
        tenant.client.post("/v1/import", json=smaller, params={"mode": "sync", "confirm": "false"}),
        400,
        contains=["confirm=true"],
    )
    assert expect(tenant.client.get("/v1/export"), 200) == document, "a refused sync changed something"

    answer = _import(tenant.client, smaller, mode="sync", confirm="true")["import"]
    # host-0's interface is no longer mentioned: it goes too.
    deleted = {"clouds": 1, "regions": 1, "hosts": 1, "network_interfaces": 1}
    assert answer["deleted"] == {**dict.fromkeys(COUNT_KEYS, 0), **deleted}
    assert answer["updated"]["hosts"] == 1 and answer["updated"]["cells"] == 1
    assert expect(tenant.client.get("/v1/export"), 200) == smaller


def test_sync_deletes_interfaces_devices_and_networks_the_document_leaves_out(craton: Craton) -> None:
    tenant = craton.tenant()
    _fleet(tenant)
    document = expect(tenant.client.get("/v1/export"), 200)
    bare = {"format": "craton-fleet", "version": 1, "project": {}, "clouds": [{"name": "cloud-a"}]}
    preview = _import(tenant.client, bare, mode="sync", confirm="true", dry_run="true")["import"]
    assert preview["dry_run"] is True
    assert preview["deleted"] == {
        "clouds": 1,
        "regions": 2,
        "cells": 1,
        "hosts": 3,
        "network_devices": 1,
        "networks": 1,
        "network_interfaces": 1,
    }
    assert expect(tenant.client.get("/v1/export"), 200) == document, "dry_run wrote something"
    answer = _import(tenant.client, bare, mode="sync", confirm="true")["import"]
    assert answer["deleted"] == preview["deleted"] and answer["updated"] == preview["updated"]
    assert expect(tenant.client.get("/v1/export"), 200) == {**bare, "clouds": [{"name": "cloud-a"}]}
    assert table_count(craton.server, "devices", project_id=tenant.project_id) == 0
    assert table_count(craton.server, "variables", project_id=tenant.project_id) == 0


def test_create_refuses_what_exists_but_builds_into_named_containers(craton: Craton) -> None:
    tenant = craton.tenant()
    _fleet(tenant)
    document = expect(tenant.client.get("/v1/export"), 200)
    errors = _refused(tenant.client.post("/v1/import", json=document, params={"mode": "create"}))
    wheres = {error["where"] for error in errors}
    assert "/clouds/0" in wheres  # it has a note and variables: not only named
    assert "/clouds/0/regions/0/cells/0/devices/0" in wheres
    assert all("exists already" in error["message"] for error in errors)
    addition = {
        "format": "craton-fleet",
        "version": 1,
        "clouds": [
            {
                "name": "cloud-a",
                "regions": [
                    {
                        "name": "region-1",
                        "devices": [{"kind": "host", "name": "extra", "device_type": "vm", "ip_address": "10.1.1.1"}],
                    }
                ],
            }
        ],
    }
    answer = _import(tenant.client, addition, mode="create")["import"]
    assert answer["created"]["hosts"] == 1
    assert answer["unchanged"]["clouds"] == 1 and answer["unchanged"]["regions"] == 1


def test_dry_run_counts_and_writes_nothing(craton: Craton) -> None:
    source = craton.tenant()
    _fleet(source)
    document = expect(source.client.get("/v1/export"), 200)
    target = craton.tenant()
    before = len(_changes(target.client))
    preview = _import(target.client, document, dry_run="true")["import"]
    assert preview["dry_run"] is True and preview["created"]["hosts"] == 3
    assert expect(target.client.get("/v1/export"), 200) == {
        "format": "craton-fleet",
        "version": 1,
        "project": {},
        "clouds": [],
    }
    assert len(_changes(target.client)) == before
    real = _import(target.client, document)["import"]
    assert {**real, "dry_run": True} == preview


def test_every_problem_is_listed_with_its_place(craton: Craton) -> None:
    tenant = craton.tenant()
    device = {"kind": "host", "device_type": "server", "ip_address": "10.0.0.1"}
    document = {
        "format": "craton-fleet",
        "version": 1,
        "clouds": [
            {
                "name": "c",
                "regions": [
                    {
                        "name": "r",
                        "networks": [{"name": "n", "cidr": "10.0.0.0/33"}],
                        "devices": [
                            {**device, "name": "a", "ip_address": "10.0.0.300"},
                            {**device, "name": "a"},
                            {**device, "name": "b", "parent": "nobody"},
                            {
                                **device,
                                "name": "c",
                                "interfaces": [
                                    {"name": "e", "interface_type": "x", "ip_address": "1.1.1.1", "network": "nowhere"}
                                ],
                            },
                            {"kind": "host", "name": "d", "device_type": "server"},
                            {**device, "name": "e", "colour": "red"},
                        ],
                    }
                ],
            },
            {"name": "c"},
        ],
    }
    errors = _refused(tenant.client.post("/v1/import", json=document))
    base = "/clouds/0/regions/0"
    found = {(error["where"], error["message"]) for error in errors}
    wheres = [error["where"] for error in errors]
    assert f"{base}/networks/0/cidr" in wheres
    assert f"{base}/devices/0/ip_address" in wheres
    assert (f"{base}/devices/1", "host 'a' appears twice here (first at /clouds/0/regions/0/devices/0)") in found
    assert f"{base}/devices/2/parent" in wheres
    assert f"{base}/devices/3/interfaces/0/network" in wheres
    assert (f"{base}/devices/4", "'ip_address' is required") in found
    assert f"{base}/devices/5/colour" in wheres
    assert "/clouds/1" in wheres
    assert len(errors) == 8, errors
    assert table_count(craton.server, "clouds", project_id=tenant.project_id) == 0

    errors = _refused(tenant.client.post("/v1/import", json={"format": "other", "version": 2, "clouds": []}))
    assert {error["where"] for error in errors} == {"/format", "/version"}
    errors = _refused(tenant.client.post("/v1/import", json=[]))
    assert errors[0]["where"] == "/"


def test_csv_host_lists(craton: Craton) -> None:
    tenant = craton.tenant()
    text = (
        "cloud,region,cell,name,device_type,ip_address,active,labels,parent,variables.ntp.server,variables.rack\n"
        "c1,r1,cell-a,sw,switch,10.0.0.1,true,,,,\n"
        "c1,r1,cell-a,h1,server,10.0.0.2,false,web;db,sw,ntp1,12\n"
        'c1,r1,,h2,server,10.0.0.3,,web,,,"[1, 2]"\n'
    )
    answer = _import(tenant.client, text.encode(), content_type="text/csv")["import"]
    assert answer["created"] == {**dict.fromkeys(COUNT_KEYS, 0), "clouds": 1, "regions": 1, "cells": 1, "hosts": 3}
    exported = expect(tenant.client.get("/v1/export"), 200)
    region = exported["clouds"][0]["regions"][0]
    h1 = next(d for d in region["cells"][0]["devices"] if d["name"] == "h1")
    assert h1 == {
        "kind": "host",
        "name": "h1",
        "device_type": "server",
        "ip_address": "10.0.0.2",
        "active": False,
        "parent": "sw",
        "labels": ["db", "web"],
        "variables": {"ntp": {"server": "ntp1"}, "rack": 12},
    }
    assert region["devices"][0]["variables"] == {"rack": [1, 2]}
    again = _import(tenant.client, text.encode(), content_type="text/csv")["import"]
    assert again["unchanged"]["hosts"] == 3 and again["created"]["hosts"] == 0

    bad = (
        "cloud,region,name,device_type,ip_address,active\n"
        "c1,r1,x1,server,10.0.0.999,yes\n"
        "c1,r1,x2,server,10.0.0.4,perhaps\n"
        "c1,r1,x1,server,10.0.0.5,no\n"
        ",r1,x3,server,10.0.0.6,no\n"
    )
    errors = _refused(tenant.client.post("/v1/import", content=bad.encode(), headers={"content-type": "text/csv"}))
    found = {(error["where"], error["message"]) for error in errors}
    assert ("row 2, column ip_address", "'10.0.0.999' is not a valid IPv4 or IPv6 address") in found
    assert ("row 3, column active", "'perhaps' is not true or false") in found
    assert ("row 4", "host 'x1' appears twice here (first at row 2)") in found
    assert any(where == "row 5, column cloud" for where, _ in found)
    assert len(errors) == 4, errors
    errors = _refused(
        tenant.client.post("/v1/import", content=b"cloud,name,colour\n", headers={"content-type": "text/csv"})
    )
    assert ("row 1, column colour") in {error["where"] for error in errors}


def test_history_records_carry_the_reason(craton: Craton) -> None:
    source = craton.tenant()
    _fleet(source)
    document = expect(source.client.get("/v1/export"), 200)
    target = craton.tenant()
    reason = "migrating from the old inventory"
    response = target.client.post("/v1/import", json=document, headers={"X-Craton-Change-Reason": reason})
    expect(response, 200)
    changes = [
        c for c in _changes(target.client) if c["resource_type"] not in ("user", "project") or c["action"] != "create"
    ]
    creates = [change for change in changes if change["action"] == "create"]
    assert len(creates) == 11
    assert {change["resource_type"] for change in creates} == {
        "cloud",
        "region",
        "cell",
        "host",
        "network_device",
        "network",
        "network_interface",
    }
    assert all(change["reason"] == reason for change in changes)
    assert {change["action"] for change in changes} == {"create", "variables", "labels", "masks", "merge_strategies"}
    # Each object read back as of now shows the imported variables (history and data agree).
    host = expect(target.client.get("/v1/hosts", params={"name": "host-1"}), 200)["hosts"][0]
    variables = expect(target.client.get(f"/v1/hosts/{host['id']}/variables", params={"resolved-values": "false"}), 200)
    assert variables["variables"] == {"n": 1, "x": {"y": [1]}}


def test_an_import_never_touches_another_project(craton: Craton) -> None:
    mine, theirs = craton.tenant(), craton.tenant()
    _fleet(theirs)
    their_document = expect(theirs.client.get("/v1/export"), 200)
    their_changes = len(_changes(theirs.client))
    _fleet(mine)
    document = expect(mine.client.get("/v1/export"), 200)
    document["clouds"][0]["note"] = "changed in mine"
    _import(mine.client, document, mode="sync", confirm="true")
    _import(mine.client, {"format": "craton-fleet", "version": 1, "clouds": []}, mode="sync", confirm="true")
    assert expect(theirs.client.get("/v1/export"), 200) == their_document
    assert len(_changes(theirs.client)) == their_changes
    assert table_count(craton.server, "clouds", project_id=mine.project_id) == 0


def test_members_import_inventory_but_not_project_settings(craton: Craton) -> None:
    tenant = craton.tenant()
    member = tenant.member()
    inventory = {"format": "craton-fleet", "version": 1, "clouds": [{"name": "by-member"}]}
    _import(member, inventory)
    with_project = {**inventory, "project": {"variables": {"k": 1}}}
    expect_error(member.post("/v1/import", json=with_project), 403)
    _import(tenant.client, with_project)
    _import(member, with_project)  # the same values: nothing to change, nothing to refuse


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with (
        throwaway_database("sqlite", Path(tmp_path_factory.mktemp("limits"))) as url,
        running_server("sqlite", url, max_import_bytes=4096, max_body_bytes=512) as live,
    ):
        yield live


def test_the_import_body_has_its_own_limit(small_limits: Any) -> None:
    client = small_limits.client()
    document = {"format": "craton-fleet", "version": 1, "clouds": [{"name": "c", "note": "x" * 2000}]}
    assert len(yaml.safe_dump(document)) > 512
    expect(client.post("/v1/import", json=document), 200)
    document["clouds"][0]["note"] = "x" * 5000
    expect_error(client.post("/v1/import", json=document), 413)
    assert table_count(small_limits, "clouds", project_id=small_limits.project_id) == 1


def test_interface_variables_masks_and_a_moved_device(craton: Craton) -> None:
    tenant = craton.tenant()
    document = {
        "format": "craton-fleet",
        "version": 1,
        "clouds": [
            {
                "name": "c",
                "regions": [
                    {
                        "name": "r",
                        "networks": [{"name": "n", "cidr": "10.0.0.0/24", "gateway": "10.0.0.1"}],
                        "cells": [{"name": "a"}, {"name": "b"}],
                        "devices": [
                            {
                                "kind": "host",
                                "name": "h",
                                "device_type": "server",
                                "ip_address": "10.0.0.5",
                                "masks": ["secret"],
                                "interfaces": [
                                    {
                                        "name": "eth0",
                                        "interface_type": "ethernet",
                                        "ip_address": "10.0.0.5",
                                        "network": "n",
                                        "variables": {"mtu": 9000},
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    _import(tenant.client, document)
    [interface] = expect(tenant.client.get("/v1/network-interfaces"), 200)["network_interfaces"]
    assert expect(tenant.client.get(f"/v1/network-interfaces/{interface['id']}/variables"), 200)["variables"] == {
        "mtu": 9000
    }
    [host] = expect(tenant.client.get("/v1/hosts"), 200)["hosts"]
    assert expect(tenant.client.get(f"/v1/hosts/{host['id']}/variables/masks"), 200)["masks"] == ["secret"]
    assert host["cell_id"] is None
    # The document places the host in cell b now: an update of its placement, recorded.
    region = document["clouds"][0]["regions"][0]
    region["cells"][1]["devices"] = region.pop("devices")
    answer = _import(tenant.client, document)["import"]
    assert answer["updated"]["hosts"] == 1 and answer["unchanged"]["network_interfaces"] == 1
    moved = expect(tenant.client.get(f"/v1/hosts/{host['id']}"), 200)
    cells = {c["name"]: c["id"] for c in expect(tenant.client.get("/v1/cells"), 200)["cells"]}
    assert moved["cell_id"] == cells["b"]
    updates = [c for c in _changes(tenant.client) if c["action"] == "update" and c["resource_type"] == "host"]
    assert updates[-1]["old"] == {"cell_id": None} and updates[-1]["new"] == {"cell_id": cells["b"]}


def test_bodies_the_fast_json_reader_leaves_to_the_careful_one(craton: Craton) -> None:
    tenant = craton.tenant()
    base = {"format": "craton-fleet", "version": 1}
    big = b'{"format": "craton-fleet", "version": 1, "clouds": [{"name": "c", "variables": {"n": 1%s}}]}' % (b"0" * 22)
    expect_error(
        tenant.client.post("/v1/import", content=big, headers={"content-type": "application/json"}),
        400,
        contains=["64 bits"],
    )
    serial = {**base, "clouds": [{"name": "c", "variables": {"serial": "123456789012345678901234"}}]}
    _import(tenant.client, serial)
    deep: Any = "x"
    for _ in range(60):
        deep = [deep]
    expect_error(
        tenant.client.post("/v1/import", json={**base, "clouds": [{"name": "d", "variables": {"d": deep}}]}), 400
    )
    expect_error(
        tenant.client.post("/v1/import", content=b"", headers={"content-type": "application/json"}),
        400,
        contains=["no body"],
    )
    assert [c["name"] for c in expect(tenant.client.get("/v1/export"), 200)["clouds"]] == ["c"]


def test_parents_may_not_form_a_cycle_even_through_devices_the_document_leaves_alone(craton: Craton) -> None:
    tenant = craton.tenant()
    inv = tenant.inventory
    region = inv.region(inv.cloud(name="c"), name="r")
    top = inv.host(region, name="top")
    inv.host(region, name="below", parent=top)
    device = {"kind": "host", "device_type": "server", "ip_address": "10.0.0.1"}
    place = {"format": "craton-fleet", "version": 1, "clouds": [{"name": "c", "regions": [{"name": "r"}]}]}
    # top's parent becomes below, whose parent (not in the document) is top.
    place["clouds"][0]["regions"][0]["devices"] = [{**device, "name": "top", "parent": "below"}]
    errors = _refused(tenant.client.post("/v1/import", json=place))
    assert errors == [
        {
            "where": "/clouds/0/regions/0/devices/0/parent",
            "message": "'top' would be its own ancestor (a cycle of parents)",
        }
    ]
    place["clouds"][0]["regions"][0]["devices"] = [
        {**device, "name": "a", "parent": "b"},
        {**device, "name": "b", "parent": "a"},
        {**device, "name": "self", "parent": "self"},
    ]
    errors = _refused(tenant.client.post("/v1/import", json=place))
    assert len(errors) == 2, errors
    wheres = {error["where"] for error in errors}
    base = "/clouds/0/regions/0/devices"
    assert f"{base}/2/parent" in wheres and len(wheres & {f"{base}/0/parent", f"{base}/1/parent"}) == 1
