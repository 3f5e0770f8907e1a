"""Authentication, roles and the project boundary (docs/decisions.md §2-§4, craton-v1-api.md §2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from craton.storage.tables import users
from tests import kinds
from tests.api.helpers import (
    BAD_CREDENTIALS,
    MISSING_ID,
    UNKNOWN_URL,
    Craton,
    expect,
    expect_error,
    expect_invalid,
    expect_not_found,
    ids_of,
    items_of,
    unique,
)

SECRET = {"secret": "s3cret", "shared": {"deep": [1, 2]}}


@pytest.fixture(scope="module")
def a(craton: Craton) -> dict[str, Any]:
    """Project A with one of everything, all carrying variables and labels."""
    tenant = craton.tenant(variables={"a-project": "yes", **SECRET})
    inv = tenant.inventory
    cloud = inv.cloud(variables=SECRET)
    region = inv.region(cloud, variables=SECRET)
    cell = inv.cell(region, variables=SECRET)
    switch = inv.network_device(cell=cell, variables=SECRET, labels=["a-label"])
    host = inv.host(cell=cell, parent=switch, variables=SECRET, labels=["a-label"])
    network = inv.network(region, cell=cell, variables=SECRET)
    interface = inv.interface(host, network=network, variables=SECRET)
    user = expect(
        tenant.client.post("/v1/users", json={"username": unique("a-user"), "project_id": tenant.project_id}), 201
    )
    return {
        "tenant": tenant,
        "clouds": cloud,
        "regions": region,
        "cells": cell,
        "network-devices": switch,
        "hosts": host,
        "networks": network,
        "network-interfaces": interface,
        "user": user,
    }


@pytest.fixture(scope="module")
def b(craton: Craton) -> dict[str, Any]:
    """Project B: an admin and a member, with a little inventory of their own."""
    tenant = craton.tenant(variables=SECRET)
    host = tenant.inventory.host(variables={"b": 1})
    return {"tenant": tenant, "admin": tenant.client, "member": tenant.member(), "host": host}


# Every kind a project keeps, from the server's registry (tests/kinds.py).
INVENTORY = list(kinds.INVENTORY)
LIST_KEYS = kinds.LIST_KEYS


# --- 401 ---------------------------------------------------------------------------------------


def test_missing_or_malformed_project_header_is_401(craton: Craton) -> None:
    server = craton.server
    expect_error(craton.client().get("/v1/clouds"), 401, "Project ID ('None') is not a valid UUID")
    headers = {**server.headers, "X-Auth-Project": "abc"}
    expect_error(craton.client(headers).get("/v1/clouds"), 401, "Project ID ('abc') is not a valid UUID")


# "/" itself redirects to the web UI (docs/ui.md); any other unknown path behaves like these.
@pytest.mark.parametrize("url", ["/v1/clouds", "/v1/nothing-here", "/nothing-here", "/v1", "/v1/hosts/1/variables"])
def test_bad_credentials_are_401_everywhere(craton: Craton, url: str) -> None:
    server = craton.server
    variants = [
        {**server.headers, "X-Auth-Token": "wrong"},
        {**server.headers, "X-Auth-Token": ""},
        {k: v for k, v in server.headers.items() if k != "X-Auth-Token"},
        {**server.headers, "X-Auth-User": "nobody"},
        {k: v for k, v in server.headers.items() if k != "X-Auth-User"},
        {
            **server.headers,
            "X-Auth-Token": server.api_key.upper()
            if server.api_key.upper() != server.api_key
            else server.api_key + "0",
        },
    ]
    for headers in variants:
        expect_error(craton.client(headers).get(url), 401, BAD_CREDENTIALS)
    expect_error(craton.client(variants[0]).post(url, json={"name": "x"}), 401, BAD_CREDENTIALS)


def test_credentials_work_only_in_the_users_own_project(craton: Craton, b: dict[str, Any]) -> None:
    """Even root authenticates only against its own project (§2.2)."""
    headers = {**craton.server.headers, "X-Auth-Project": b["tenant"].project_id}
    expect_error(craton.client(headers).get("/v1/clouds"), 401, BAD_CREDENTIALS)
    dashless = {**craton.server.headers, "X-Auth-Project": craton.server.project_id.replace("-", "").upper()}
    expect(craton.client(dashless).get("/v1/clouds"), 200)
    for form in ("{%s}" % craton.server.project_id, "urn:uuid:" + craton.server.project_id):  # §2.2: tolerated too
        expect(craton.client({**craton.server.headers, "X-Auth-Project": form}).get("/v1/clouds"), 200)
    # created objects carry the canonical dashed id, whatever form the header took (docs/decisions.md §12)
    cloud = expect(craton.client(dashless).post("/v1/clouds", json={"name": unique("dashless")}), 201)
    assert cloud["project_id"] == craton.server.project_id.lower()
    assert expect(craton.root.get(f"/v1/clouds/{cloud['id']}"), 200)["project_id"] == craton.server.project_id.lower()


def test_the_project_header_may_name_the_project_and_the_key_decides(craton: Craton) -> None:
    """Project names need not be unique; with a name, the key picks the one project it opens."""
    name = unique("shared-name")
    first, second = (expect(craton.root.post("/v1/projects", json={"name": name}), 201)["id"] for _ in range(2))
    clients = {}
    for project_id in (first, second):
        body = {"username": "alice", "project_id": project_id, "is_admin": True}
        key = expect(craton.root.post("/v1/users", json=body), 201)["api_key"]
        clients[project_id] = {"X-Auth-Project": name, "X-Auth-User": "alice", "X-Auth-Token": key}
    for project_id, headers in clients.items():
        cloud = expect(craton.client(headers).post("/v1/clouds", json={"name": unique("by-name")}), 201)
        assert cloud["project_id"] == project_id
    wrong_key = {**clients[first], "X-Auth-Token": "not-the-key"}
    expect_error(craton.client(wrong_key).get("/v1/clouds"), 401, "Project ID ('%s') is not a valid UUID" % name)
    absent = unique("no-such-project")
    wrong_name = {**clients[first], "X-Auth-Project": absent}
    expect_error(craton.client(wrong_name).get("/v1/clouds"), 401, "Project ID ('%s') is not a valid UUID" % absent)
    # The same key valid in both projects of that name (only a database edit can do this): ambiguous, both ids named.
    with craton.server.engine.begin() as conn:
        digest = conn.execute(
            sa.select(users.c.api_key_hash).where(users.c.project_id == first, users.c.username == "alice")
        ).scalar_one()
        conn.execute(
            sa.update(users)
            .where(users.c.project_id == second, users.c.username == "alice")
            .values(api_key_hash=digest)
        )
    answer = craton.client(clients[first]).get("/v1/clouds")
    expect_error(answer, 401, BAD_CREDENTIALS)
    assert first in answer.text and second in answer.text


def test_unknown_url_with_good_credentials_is_404(craton: Craton) -> None:
    for url in ("/v1/nothing-here", "/nothing-here", "/v1", "/v1/devices/1", "/v1/clouds/"):
        expect_error(craton.root.get(url), 404, startswith=UNKNOWN_URL)


# --- 403 ---------------------------------------------------------------------------------------


def test_failed_role_checks_are_403(b: dict[str, Any], a: dict[str, Any]) -> None:
    admin, member, project = b["admin"], b["member"], b["tenant"].project_id
    body = {"username": unique("u"), "project_id": project}
    expect_error(member.post("/v1/users", json=body), 403)
    expect_error(member.get("/v1/users"), 403)
    expect_error(member.get(f"/v1/users/{a['user']['id']}"), 403)
    expect_error(member.get(f"/v1/projects/{project}"), 403)
    expect_error(member.get(f"/v1/projects/{project}/variables"), 403)
    expect_error(member.put(f"/v1/projects/{project}/variables", json={"x": 1}), 403)
    expect_error(admin.get("/v1/projects"), 403)
    expect_error(admin.get("/v1/projects", params={"name": "x"}), 403)
    expect_error(admin.post("/v1/projects", json={"name": "x"}), 403)
    expect_error(admin.delete(f"/v1/projects/{project}"), 403)
    expect_error(member.get("/v1/projects"), 403)
    # validation comes before the role check (§1.1)
    expect_invalid(member.post("/v1/projects", json={}), "'name' is a required property")
    expect_invalid(member.post("/v1/users", json={}), "'project_id' is a required property")
    # the project still exists, and its admin can read it
    assert expect(admin.get(f"/v1/projects/{project}"), 200)["id"] == project


def test_members_work_with_their_own_inventory(b: dict[str, Any]) -> None:
    member = b["member"]
    assert expect(member.get(f"/v1/hosts/{b['host']['id']}"), 200)["variables"]["b"] == 1
    cloud = expect(member.post("/v1/clouds", json={"name": unique("member-cloud")}), 201)
    assert cloud["project_id"] == b["tenant"].project_id
    assert cloud["id"] in ids_of(expect(b["admin"].get("/v1/clouds", params={"limit": 100}), 200)["clouds"])
    expect(member.put(f"/v1/clouds/{cloud['id']}/variables", json={"m": 1}), 200)
    expect(member.delete(f"/v1/clouds/{cloud['id']}"), 204)


# --- the project boundary ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
@pytest.mark.parametrize("kind", INVENTORY)
def test_other_projects_inventory_is_404(a: dict[str, Any], b: dict[str, Any], who: str, kind: str) -> None:
    client: httpx.Client = b[who]
    item = f"/v1/{kind}/{a[kind]['id']}"
    expect_not_found(client.get(item))
    if kind in ("regions", "cells", "hosts", "network-devices"):
        expect_not_found(client.get(item, params={"resolved-values": "false"}))
    expect_not_found(client.put(item, json={"name": "stolen"}))
    expect_not_found(client.delete(item))
    if kind != "network-interfaces":
        expect_not_found(client.get(f"{item}/variables"))
        expect_not_found(client.get(f"{item}/variables", params={"resolved-values": "false"}))
        expect_not_found(client.put(f"{item}/variables", json={"stolen": True}))
        expect_not_found(client.request("DELETE", f"{item}/variables", json=["secret"]))
    if kind in kinds.DEVICES:
        expect_not_found(client.get(f"{item}/labels"))
        expect_not_found(client.put(f"{item}/labels", json={"labels": ["stolen"]}))
        expect_not_found(client.request("DELETE", f"{item}/labels", json={"labels": ["a-label"]}))
    # and nothing changed for A
    owner = a["tenant"].client
    got = expect(owner.get(item), 200)
    assert got["name"] == a[kind]["name"]
    if kind != "network-interfaces":
        variables = expect(owner.get(f"{item}/variables", params={"resolved-values": "false"}), 200)["variables"]
        assert variables == SECRET
    if kind in kinds.DEVICES:
        assert expect(owner.get(f"{item}/labels"), 200) == {"labels": ["a-label"]}


@pytest.mark.parametrize("who", ["admin", "member"])
def test_lists_never_show_other_projects(a: dict[str, Any], b: dict[str, Any], who: str) -> None:
    client: httpx.Client = b[who]
    for kind in INVENTORY:
        body = expect(client.get(f"/v1/{kind}", params={"limit": 100}), 200)
        assert a[kind]["id"] not in ids_of(items_of(body, LIST_KEYS[kind])), kind
        assert all(item["project_id"] == b["tenant"].project_id for item in items_of(body, LIST_KEYS[kind])), kind
    devices = expect(client.get("/v1/devices", params={"limit": 100, "details": "true"}), 200)
    assert ids_of(items_of(devices, "devices")) == [b["host"]["id"]]
    for kind in ("clouds", "regions"):
        expect_not_found(client.get(f"/v1/{kind}", params={"name": a[kind]["name"]}))
        expect_not_found(client.get(f"/v1/{kind}", params={"id": a[kind]["id"]}))
    for kind, filters in (
        ("hosts", {"cell_id": a["cells"]["id"]}),
        ("hosts", {"region_id": a["regions"]["id"]}),
        ("hosts", {"cloud_id": a["clouds"]["id"]}),
        ("hosts", {"label": "a-label"}),
        ("hosts", {"id": a["hosts"]["id"]}),
        ("cells", {"region_id": a["regions"]["id"]}),
        ("network-interfaces", {"device_id": a["hosts"]["id"]}),
        ("networks", {"name": a["networks"]["name"]}),
    ):
        assert items_of(expect(client.get(f"/v1/{kind}", params=filters), 200), LIST_KEYS[kind]) == [], (kind, filters)


def test_other_projects_and_their_variables_are_404_for_a_project_admin(a: dict[str, Any], b: dict[str, Any]) -> None:
    admin, project = b["admin"], a["tenant"].project_id
    expect_not_found(admin.get(f"/v1/projects/{project}"))
    expect_not_found(admin.get(f"/v1/projects/{project}/variables"))
    expect_not_found(admin.put(f"/v1/projects/{project}/variables", json={"stolen": 1}))
    expect_not_found(admin.request("DELETE", f"/v1/projects/{project}/variables", json=["secret"]))
    assert expect(a["tenant"].client.get(f"/v1/projects/{project}/variables"), 200)["variables"]["secret"] == "s3cret"


def test_project_admins_manage_only_their_own_users(craton: Craton, a: dict[str, Any], b: dict[str, Any]) -> None:
    admin = b["admin"]
    missing = "00000000-0000-4000-8000-000000000000"
    theirs = expect_error(
        admin.post("/v1/users", json={"username": unique("intruder"), "project_id": a["tenant"].project_id}), 404
    )
    unknown = expect_error(admin.post("/v1/users", json={"username": unique("x"), "project_id": missing}), 404)
    assert theirs.replace(a["tenant"].project_id, "<id>") == unknown.replace(missing, "<id>")
    a_users = expect(a["tenant"].client.get("/v1/users", params={"limit": 100}), 200)["users"]
    assert not [user for user in a_users if user["username"].startswith("intruder")]
    expect_not_found(admin.get(f"/v1/users/{a['user']['id']}"))
    expect_not_found(admin.delete(f"/v1/users/{a['user']['id']}"))
    listed = expect(admin.get("/v1/users", params={"limit": 100}), 200)["users"]
    assert listed and all(user["project_id"] == b["tenant"].project_id for user in listed)
    assert expect(admin.get("/v1/users", params={"name": a["user"]["username"]}), 200)["users"] == []
    # root crosses projects
    created = expect(
        craton.root.post("/v1/users", json={"username": unique("by-root"), "project_id": a["tenant"].project_id}), 201
    )
    assert created["project_id"] == a["tenant"].project_id
    assert expect(craton.root.get(f"/v1/users/{a['user']['id']}"), 200)["id"] == a["user"]["id"]


def test_api_keys_are_shown_once(craton: Craton, b: dict[str, Any]) -> None:
    admin, project = b["admin"], b["tenant"].project_id
    username = unique("keyed")
    response = admin.post("/v1/users", json={"username": username, "project_id": project, "is_admin": False})
    created = expect(response, 201)
    assert response.headers["location"] == f"{craton.url}/v1/users/{created['id']}"
    assert isinstance(created["api_key"], str) and len(created["api_key"]) >= 16
    assert created["is_admin"] is False and created["project_id"] == project and created["username"] == username
    key = created["api_key"]
    reads = [
        expect(admin.get(f"/v1/users/{created['id']}"), 200),
        *expect(admin.get("/v1/users", params={"limit": 100}), 200)["users"],
        *expect(admin.get("/v1/users", params={"name": username}), 200)["users"],
        *expect(craton.root.get("/v1/users", params={"limit": 100}), 200)["users"],
    ]
    for user in reads:
        assert "api_key" not in user and "api_key_hash" not in user and "is_root" not in user, user
        assert key not in str(user)
    user = craton.client({"X-Auth-Project": project, "X-Auth-User": username, "X-Auth-Token": key})
    expect(user.get("/v1/clouds"), 200)
    wrong = craton.client(
        {
            "X-Auth-Project": project,
            "X-Auth-User": username,
            "X-Auth-Token": key[:-1] + ("0" if key[-1] != "0" else "1"),
        }
    )
    expect_error(wrong.get("/v1/clouds"), 401, BAD_CREDENTIALS)
    expect_error(admin.post("/v1/users", json={"username": username, "project_id": project}), 409)
    expect(admin.delete(f"/v1/users/{created['id']}"), 204)
    expect_error(user.get("/v1/clouds"), 401, BAD_CREDENTIALS)


def test_user_body_rules(b: dict[str, Any]) -> None:
    admin, project = b["admin"], b["tenant"].project_id
    expect_invalid(admin.post("/v1/users", json={"username": "x"}), "'project_id' is a required property")
    expect_invalid(
        admin.post("/v1/users", json={"username": "x", "project_id": project, "id": 3}),
        "Additional properties are not allowed ('id' was unexpected)",
    )
    # §4.11: a project that does not exist is a plain 404 "Not Found"
    expect_not_found(admin.post("/v1/users", json={"username": unique("x"), "project_id": "not-a-uuid"}))
    expect_not_found(
        admin.post("/v1/users", json={"username": unique("x"), "project_id": "00000000-0000-4000-8000-000000000000"})
    )


# --- references to other projects leak nothing ---------------------------------------------------


def test_vars_filter_sees_only_the_callers_project(craton: Craton, a: dict[str, Any], b: dict[str, Any]) -> None:
    for who in ("admin", "member"):
        client = b[who]
        for kind in ("clouds", "regions", "cells", "hosts", "network-devices", "networks"):
            found = items_of(
                expect(client.get(f"/v1/{kind}", params={"vars": 'secret:"s3cret"'}), 200), LIST_KEYS[kind]
            )
            assert a[kind]["id"] not in ids_of(found), (who, kind)
        # A's project variable must not make A's hosts match for B ...
        hosts = ids_of(expect(client.get("/v1/hosts", params={"vars": 'a-project:"yes"'}), 200)["hosts"])
        assert hosts == []
        # ... while B's own project variables do reach B's hosts
        assert ids_of(expect(client.get("/v1/hosts", params={"vars": 'secret:"s3cret"'}), 200)["hosts"]) == [
            b["host"]["id"]
        ]
        devices = expect(client.get("/v1/devices", params={"vars": 'a-project:"yes"'}), 200)
        assert items_of(devices, "devices") == []
    # root sees A's hosts through the same filter
    assert a["hosts"]["id"] in ids_of(
        expect(craton.root.get("/v1/hosts", params={"vars": 'a-project:"yes"'}), 200)["hosts"]
    )


def test_markers_from_other_projects_are_unknown(a: dict[str, Any], b: dict[str, Any]) -> None:
    client = b["admin"]
    for kind in ("clouds", "regions", "cells", "hosts", "network-devices", "networks", "network-interfaces", "devices"):
        target = a["hosts"] if kind == "devices" else a[kind]
        mine = expect_error(client.get(f"/v1/{kind}", params={"marker": target["id"]}), 400)
        missing = expect_error(client.get(f"/v1/{kind}", params={"marker": MISSING_ID}), 400)
        assert mine.replace(str(target["id"]), "<id>") == missing.replace(str(MISSING_ID), "<id>"), kind
    mine = expect_error(client.get("/v1/users", params={"marker": a["user"]["id"]}), 400)
    assert mine == f'Marker "{a["user"]["id"]}" does not exist'


def test_parent_references_to_other_projects_are_unknown(a: dict[str, Any], b: dict[str, Any]) -> None:
    client = b["admin"]
    foreign, missing = a["network-devices"]["id"], MISSING_ID
    for params in ({}, {"descendants": "true"}):
        theirs = client.get("/v1/devices", params={"parent_id": foreign, **params})
        unknown = client.get("/v1/devices", params={"parent_id": missing, **params})
        assert theirs.status_code == unknown.status_code, (theirs.text, unknown.text)
        if theirs.status_code == 200:
            assert items_of(theirs.json(), "devices") == []
        else:
            assert theirs.json()["message"].replace(str(foreign), "<id>") == unknown.json()["message"].replace(
                str(missing), "<id>"
            )
    region = b["host"]
    body = {
        "name": unique("h"),
        "cloud_id": region["cloud_id"],
        "region_id": region["region_id"],
        "ip_address": "10.0.0.1",
        "device_type": "server",
    }
    theirs = expect_error(client.post("/v1/hosts", json={**body, "parent_id": foreign}), 400)
    unknown = expect_error(client.post("/v1/hosts", json={**body, "parent_id": missing}), 400)
    assert theirs.replace(str(foreign), "<id>") == unknown.replace(str(missing), "<id>")
    theirs = expect_error(client.put(f"/v1/hosts/{b['host']['id']}", json={"parent_id": foreign}), 400)
    assert theirs.replace(str(foreign), "<id>") == unknown.replace(str(missing), "<id>")
    # references to A's containers from B's creates are refused the same way
    expect_error(client.post("/v1/regions", json={"name": "r", "cloud_id": a["clouds"]["id"]}), 400)
    expect_error(
        client.post(
            "/v1/network-interfaces",
            json={"name": "e", "device_id": a["hosts"]["id"], "interface_type": "x", "ip_address": "10.0.0.1"},
        ),
        400,
    )


def test_root_sees_every_project(craton: Craton, a: dict[str, Any]) -> None:
    for kind in INVENTORY:
        assert expect(craton.root.get(f"/v1/{kind}/{a[kind]['id']}"), 200)["id"] == a[kind]["id"]
    assert expect(craton.root.get(f"/v1/projects/{a['tenant'].project_id}"), 200)["id"] == a["tenant"].project_id
    projects = ids_of(expect(craton.root.get("/v1/projects", params={"limit": 100}), 200)["projects"])
    assert a["tenant"].project_id in projects


def test_only_root_can_touch_root(craton: Craton) -> None:
    root_project = craton.server.project_id
    root_user = expect(craton.root.get("/v1/users", params={"name": craton.server.username}), 200)["users"]
    root_id = next(user["id"] for user in root_user if user["project_id"] == root_project)
    colleague = craton.user(root_project, is_admin=True)  # an admin, not root, in root's own project
    response = colleague.delete(f"/v1/users/{root_id}")
    assert response.status_code in (403, 404), response.text
    expect_error(response, response.status_code)
    expect_error(colleague.get("/v1/projects"), 403)
    expect(craton.root.get("/v1/projects", params={"limit": 10}), 200)


def test_user_id_filter(b: dict[str, Any]) -> None:
    admin = b["admin"]
    users = expect(admin.get("/v1/users", params={"limit": 100}), 200)["users"]
    assert len(users) >= 2
    only = expect(admin.get("/v1/users", params={"id": users[1]["id"]}), 200)["users"]
    assert ids_of(only) == [users[1]["id"]]
