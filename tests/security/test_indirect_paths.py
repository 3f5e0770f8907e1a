"""Indirect ways to see or touch another project: ids in markers, filters, references, ``vars``,
links, the combined device list, the inventory, ETags, uniqueness and error messages.

The rule everywhere (docs/decisions.md §3, §6, §7): for a project admin or member, another project's id
answers exactly like an id that does not exist — same status, same message once the id itself is
blanked out — and no response carries another project's data. tests/api/test_tenancy.py covers
the basic cases for project admins; these tests add members and root, every id filter, every
reference field on create and update, and the paths it does not cover.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    MISSING_ID,
    NOT_FOUND,
    describe,
    expect,
    get_href,
    ids_of,
    items_of,
    links_of,
    original,
    unique,
)
from tests.security.helpers import (
    DEVICES,
    INVENTORY,
    LIST_KEYS,
    MISSING_PROJECT,
    World,
    assert_no_trace_of,
    normalise,
    same_answer,
    strings_in,
)

SCOPED = ("admin", "member")

# Every integer filter of every list, and which kind of object its value names.
ID_FILTERS: list[tuple[str, str, str]] = [
    ("clouds", "id", "clouds"),
    ("regions", "id", "regions"),
    ("regions", "cloud_id", "clouds"),
    ("cells", "id", "cells"),
    ("cells", "region_id", "regions"),
    ("cells", "cloud_id", "clouds"),
    *[
        (kind, param, ref)
        for kind in DEVICES
        for param, ref in (
            ("id", kind),
            ("region_id", "regions"),
            ("cloud_id", "clouds"),
            ("cell_id", "cells"),
            ("parent_id", "network-devices"),
        )
    ],
    ("devices", "region_id", "regions"),
    ("devices", "cloud_id", "clouds"),
    ("devices", "cell_id", "cells"),
    ("devices", "parent_id", "network-devices"),
    ("networks", "id", "networks"),
    ("networks", "region_id", "regions"),
    ("networks", "cell_id", "cells"),
    ("networks", "cloud_id", "clouds"),
    ("network-interfaces", "id", "network-interfaces"),
    ("network-interfaces", "device_id", "hosts"),
    ("network-interfaces", "network_id", "networks"),
    ("ansible-inventory", "cloud_id", "clouds"),
    ("ansible-inventory", "region_id", "regions"),
    ("ansible-inventory", "cell_id", "cells"),
]


@pytest.mark.parametrize("who", SCOPED)
@pytest.mark.parametrize(("path", "param", "ref"), ID_FILTERS, ids=lambda value: str(value))
def test_filtering_by_a_foreign_id_is_filtering_by_a_missing_id(
    world: World, who: str, path: str, param: str, ref: str
) -> None:
    client = world.caller(who)
    theirs_id = world.b.id_of(ref)
    extra = {"descendants": "true"} if param == "parent_id" and path == "devices" else {}
    theirs = client.get(f"/v1/{path}", params={param: theirs_id, **extra})
    missing = client.get(f"/v1/{path}", params={param: MISSING_ID, **extra})
    same_answer(theirs, missing, theirs_id, MISSING_ID)
    assert_no_trace_of(world.b, [theirs.text])


ROOT_FILTERS = {
    "clouds": ("id", "clouds", "clouds"),
    "regions": ("cloud_id", "clouds", "regions"),
    "cells": ("region_id", "regions", "cells"),
    "hosts": ("cell_id", "cells", "hosts"),
    "network-devices": ("region_id", "regions", "network-devices"),
    "devices": ("cloud_id", "clouds", "hosts"),
    "networks": ("cell_id", "cells", "networks"),
    "network-interfaces": ("device_id", "hosts", "network-interfaces"),
}


@pytest.mark.parametrize("path", sorted(ROOT_FILTERS))
def test_root_filters_across_projects(world: World, path: str) -> None:
    """The other side of the rule: root sees the other project's rows through the same filters."""
    param, ref, kind = ROOT_FILTERS[path]
    found = expect(world.root.get(f"/v1/{path}", params={param: world.b.id_of(ref)}), 200)
    assert world.b.id_of(kind) in ids_of(items_of(found, LIST_KEYS.get(path, path)))


@pytest.mark.parametrize("who", ["root", *SCOPED])
@pytest.mark.parametrize("path", [*INVENTORY, "devices", "users", "projects"])
def test_markers_from_other_projects_are_unknown(world: World, who: str, path: str) -> None:
    client = world.caller(who)
    kind = "hosts" if path == "devices" else path
    theirs_id = world.b.id_of(kind)
    missing_id = MISSING_PROJECT if path == "projects" else MISSING_ID
    theirs = client.get(f"/v1/{path}", params={"marker": theirs_id})
    missing = client.get(f"/v1/{path}", params={"marker": missing_id})
    if (path == "projects" and who != "root") or (path == "users" and who == "member"):
        assert theirs.status_code == missing.status_code == 403, describe(theirs)
        return
    if who == "root":
        expect(theirs, 200)  # root pages through every project
        assert missing.status_code == 400
        return
    same_answer(theirs, missing, theirs_id, missing_id)
    assert theirs.status_code == 400


# --- references in request bodies ---------------------------------------------------------------

CREATE_REFERENCES: list[tuple[str, str, str]] = [
    ("regions", "cloud_id", "clouds"),
    ("cells", "region_id", "regions"),
    ("cells", "cloud_id", "clouds"),
    *[
        (kind, field, ref)
        for kind in DEVICES
        for field, ref in (
            ("cloud_id", "clouds"),
            ("region_id", "regions"),
            ("cell_id", "cells"),
            ("parent_id", "hosts"),
            ("parent_id", "network-devices"),
        )
    ],
    ("networks", "cloud_id", "clouds"),
    ("networks", "region_id", "regions"),
    ("networks", "cell_id", "cells"),
    ("network-interfaces", "device_id", "hosts"),
    ("network-interfaces", "device_id", "network-devices"),
    ("network-interfaces", "network_id", "networks"),
]


def _create_body(world: World, who: str, kind: str) -> dict[str, Any]:
    home = world.home(who)
    place = {"cloud_id": home.id_of("clouds"), "region_id": home.id_of("regions"), "cell_id": home.id_of("cells")}
    return {
        "regions": {"name": unique("x-region"), "cloud_id": place["cloud_id"]},
        "cells": {"name": unique("x-cell"), "cloud_id": place["cloud_id"], "region_id": place["region_id"]},
        "hosts": {"name": unique("x-host"), "ip_address": "10.9.5.1", "device_type": "server", **place},
        "network-devices": {"name": unique("x-sw"), "ip_address": "10.9.5.2", "device_type": "switch", **place},
        "networks": {
            "name": unique("x-net"),
            "cidr": "10.9.6.0/24",
            "gateway": "10.9.6.1",
            "netmask": "255.255.255.0",
            **place,
        },
        "network-interfaces": {
            "name": unique("x-eth"),
            "device_id": home.id_of("hosts"),
            "network_id": home.id_of("networks"),
            "interface_type": "ethernet",
            "ip_address": "10.9.5.3",
        },
    }[kind]


@pytest.mark.parametrize("who", ["root", *SCOPED])
@pytest.mark.parametrize(("kind", "field", "ref"), CREATE_REFERENCES, ids=lambda value: str(value))
def test_create_referencing_another_project_is_a_bad_reference(
    world: World, who: str, kind: str, field: str, ref: str
) -> None:
    """§7/§8: 400 for a parent in another project, worded exactly like a parent that does not exist."""
    client = world.caller(who)
    theirs_id = world.b.id_of(ref)
    theirs = client.post(f"/v1/{kind}", json={**_create_body(world, who, kind), field: theirs_id})
    missing = client.post(f"/v1/{kind}", json={**_create_body(world, who, kind), field: MISSING_ID})
    assert theirs.status_code == 400, describe(theirs)
    same_answer(theirs, missing, theirs_id, MISSING_ID)
    assert (
        expect(client.post(f"/v1/{kind}", json=_create_body(world, who, kind)), 201)["project_id"]
        == world.home(who).project_id
    )


@pytest.mark.parametrize("who", SCOPED)
@pytest.mark.parametrize("kind", DEVICES)
@pytest.mark.parametrize("ref", DEVICES)
def test_update_parent_to_another_projects_device_is_a_bad_reference(
    world: World, who: str, kind: str, ref: str
) -> None:
    client = world.caller(who)
    mine = world.disposable(world.a, kind)
    theirs_id = world.b.id_of(ref)
    theirs = client.put(f"/v1/{kind}/{mine}", json={"parent_id": theirs_id})
    missing = client.put(f"/v1/{kind}/{mine}", json={"parent_id": MISSING_ID})
    assert theirs.status_code == 400, describe(theirs)
    same_answer(theirs, missing, theirs_id, MISSING_ID)
    assert expect(client.get(f"/v1/{kind}/{mine}"), 200)["parent_id"] is None


@pytest.mark.parametrize("kind", DEVICES)
def test_root_cannot_nest_a_device_under_another_projects_device(world: World, kind: str) -> None:
    """Root acts across projects, but a device's parent must stay in the device's own project (was #1)."""
    victim = world.disposable(world.a, kind)
    roots_device = world.r.id_of("hosts")
    response = world.root.put(f"/v1/{kind}/{victim}", json={"parent_id": roots_device})
    try:
        assert response.status_code == 400, describe(response)
    finally:
        world.root.put(f"/v1/{kind}/{victim}", json={"parent_id": None})
    resolved = expect(world.member.get(f"/v1/{kind}/{victim}/variables", params={"resolved-values": "true"}), 200)
    assert_no_trace_of(world.r, [json.dumps(resolved)])


def test_root_can_reparent_inside_the_devices_own_project(world: World) -> None:
    victim = world.disposable(world.a, "hosts")
    parent = world.disposable(world.a, "network-devices")
    response = world.root.put(f"/v1/hosts/{victim}", json={"parent_id": parent})
    assert response.status_code == 200, describe(response)
    assert expect(world.admin.get(f"/v1/hosts/{victim}"), 200)["parent_id"] == parent


def test_users_cannot_be_created_in_or_moved_to_other_projects_by_admins(world: World) -> None:
    theirs = world.admin.post("/v1/users", json={"username": unique("x"), "project_id": world.b.project_id})
    missing = world.admin.post("/v1/users", json={"username": unique("x"), "project_id": MISSING_PROJECT})
    same_answer(theirs, missing, world.b.project_id, MISSING_PROJECT)
    assert original(theirs.json()) == NOT_FOUND


# --- the vars filter ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SCOPED)
@pytest.mark.parametrize(
    "path", ["clouds", "regions", "cells", "hosts", "network-devices", "networks", "devices", "ansible-inventory"]
)
@pytest.mark.parametrize("resolved", ["true", "false"])
def test_vars_cannot_probe_another_projects_values(world: World, who: str, path: str, resolved: str) -> None:
    """A condition that only B's variables satisfy finds exactly what a nonsense condition finds."""
    client = world.caller(who)
    params = {} if path == "ansible-inventory" else {"resolved-values": resolved, "details": "true"}
    theirs = client.get(f"/v1/{path}", params={"vars": f'secret:"{world.b.secret}"', **params})
    nothing = client.get(f"/v1/{path}", params={"vars": 'secret:"no-such-value"', **params})
    assert theirs.status_code == nothing.status_code == 200, describe(theirs)
    assert normalise(theirs.text, world.b.secret) == normalise(nothing.text, "no-such-value")
    for key in ("only-B", "project-secret"):
        probe = client.get(f"/v1/{path}", params={"vars": f"{key}:true", **params})
        assert_no_trace_of(world.b, [probe.text])


# --- what responses contain -----------------------------------------------------------------------


def _all_reads(client: httpx.Client, world: World) -> list[httpx.Response]:
    responses = []
    for path in [*INVENTORY, "devices"]:
        responses.append(client.get(f"/v1/{path}", params={"details": "true", "limit": 100}))
    for kind in INVENTORY:
        item = f"/v1/{kind}/{world.a.id_of(kind)}"
        responses += [client.get(item), client.get(f"{item}/variables", params={"resolved-values": "true"})]
    for kind in DEVICES:
        responses.append(client.get(f"/v1/{kind}/{world.a.id_of(kind)}/labels"))
    responses.append(client.get("/v1/ansible-inventory"))
    responses.append(client.get("/v1/changes", params={"limit": 1000}))
    return responses


@pytest.mark.parametrize("who", SCOPED)
def test_no_response_mentions_another_project(world: World, who: str) -> None:
    responses = _all_reads(world.caller(who), world)
    for response in responses:
        assert response.status_code == 200, describe(response)
    assert_no_trace_of(world.b, [r.text for r in responses])
    assert_no_trace_of(world.r, [r.text for r in responses])
    # and the caller's own data is there, resolved from every level of its own tree
    host_vars = expect(world.caller(who).get(f"/v1/hosts/{world.a.id_of('hosts')}/variables"), 200)["variables"]
    assert host_vars["secret"] == world.a.secret and host_vars["project-secret"] == world.a.secret


@pytest.mark.parametrize("who", SCOPED)
def test_every_link_leads_somewhere_the_caller_may_go(world: World, who: str) -> None:
    """``up`` links and pagination links only point at objects and pages the caller can read."""
    client = world.caller(who)
    hrefs: set[str] = set()
    for response in _all_reads(client, world):
        body = response.json()
        for value in strings_in(body):
            if value.startswith("http://") and "/v1/" in value:
                hrefs.add(value)
    assert hrefs, "no links found"
    for href in sorted(hrefs):
        assert get_href(client, href).status_code == 200, href


def test_the_combined_device_list_and_its_pages_stay_in_the_project(world: World) -> None:
    for who in SCOPED:
        client = world.caller(who)
        body = expect(client.get("/v1/devices", params={"limit": 10, "details": "true"}), 200)
        seen = set(ids_of(items_of(body, "devices")))
        while "next" in links_of(body):
            body = expect(get_href(client, links_of(body)["next"]), 200)
            seen |= set(ids_of(items_of(body, "devices")))
        assert world.b.id_of("hosts") not in seen and world.b.id_of("network-devices") not in seen
        assert {world.a.id_of("hosts"), world.a.id_of("network-devices")} <= seen
        assert_no_trace_of(world.b, [json.dumps(body)])


@pytest.mark.parametrize("who", SCOPED)
def test_the_inventory_shows_only_the_callers_project(world: World, who: str) -> None:
    client = world.caller(who)
    mine = client.get("/v1/ansible-inventory")
    assert mine.status_code == 200
    document = mine.json()
    assert world.a.objects["hosts"]["name"] in json.dumps(document) or world.a.objects["hosts"][
        "ip_address"
    ] in json.dumps(document)
    assert_no_trace_of(world.b, [mine.text])
    assert world.b.objects["hosts"]["name"] not in mine.text
    # a label that only B uses selects nothing, like a label nobody uses
    theirs = client.get("/v1/ansible-inventory", params={"label": f"label-{world.b.secret}"})
    nobody = client.get("/v1/ansible-inventory", params={"label": "label-nobody"})
    assert theirs.status_code == nobody.status_code == 200
    assert theirs.json() == nobody.json()
    # B's ETag never revalidates A's document (no 304 across projects)
    their_tag = world.b.owner.get("/v1/ansible-inventory").headers["etag"]
    assert their_tag != mine.headers["etag"]
    assert client.get("/v1/ansible-inventory", headers={"If-None-Match": their_tag}).status_code == 200


# --- ETags and If-Match ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SCOPED)
@pytest.mark.parametrize("kind", INVENTORY)
def test_if_match_on_a_foreign_object_is_404_not_412(world: World, who: str, kind: str) -> None:
    """A precondition must not become an existence oracle: the lookup fails before the ETag check."""
    client = world.caller(who)
    item = f"/v1/{kind}/{world.b.id_of(kind)}"
    missing = f"/v1/{kind}/{MISSING_ID}"
    real_tag = world.b.owner.get(item).headers["etag"]
    for tag in ('"stale"', "*", real_tag):
        headers = {"If-Match": tag}
        for path in (item, missing):
            assert original(client.put(path, json={"name": unique("x")}, headers=headers).json()) == NOT_FOUND
            assert original(client.put(f"{path}/variables", json={"x": 1}, headers=headers).json()) == NOT_FOUND
            assert original(client.request("DELETE", path, headers=headers).json()) == NOT_FOUND
    assert world.b.owner.get(item).headers["etag"] == real_tag, "a refused request changed the object"


def test_etags_differ_between_projects_for_equal_objects(world: World) -> None:
    """ETags are per object version; two projects' objects never share one (no cross-project cache hits)."""
    tags = {
        world.a.owner.get(f"/v1/clouds/{world.a.id_of('clouds')}").headers["etag"],
        world.b.owner.get(f"/v1/clouds/{world.b.id_of('clouds')}").headers["etag"],
        world.root.get(f"/v1/clouds/{world.r.id_of('clouds')}").headers["etag"],
    }
    assert len(tags) == 3


# --- uniqueness never spans projects ---------------------------------------------------------------------


def test_names_taken_in_another_project_are_free(world: World) -> None:
    """A 409 for a name that exists only elsewhere would reveal that it exists."""
    b = world.b.objects
    admin = world.admin
    expect(admin.post("/v1/clouds", json={"name": b["clouds"]["name"]}), 201)
    a_cloud = world.a.id_of("clouds")
    expect(admin.post("/v1/regions", json={"name": b["regions"]["name"], "cloud_id": a_cloud}), 201)
    expect(admin.post("/v1/users", json={"username": b["users"]["username"], "project_id": world.a.project_id}), 201)
    place = {"cloud_id": a_cloud, "region_id": world.a.id_of("regions")}
    expect(
        admin.post(
            "/v1/hosts", json={"name": b["hosts"]["name"], "ip_address": "10.9.7.1", "device_type": "server", **place}
        ),
        201,
    )
    expect(
        admin.post(
            "/v1/networks",
            json={
                "name": b["networks"]["name"],
                "cidr": "10.9.8.0/24",
                "gateway": "10.9.8.1",
                "netmask": "255.255.255.0",
                **place,
            },
        ),
        201,
    )
    expect(world.member.post("/v1/clouds", json={"name": world.r.objects["clouds"]["name"]}), 201)


def test_members_do_not_see_admin_only_changes(world: World) -> None:
    """Project variables and users are admin-only (§2.4); so are their change records (#8, the feed part)."""
    expect(world.admin.put(f"/v1/projects/{world.a.project_id}/variables", json={"admin-only": "hunter2"}), 200)
    assert world.member.get(f"/v1/projects/{world.a.project_id}/variables").status_code == 403
    feed = expect(world.member.get("/v1/changes", params={"limit": 1000}), 200)
    kinds = {change["resource_type"] for change in feed["changes"]}
    assert "hunter2" not in json.dumps(feed)
    assert not kinds & {"project", "user"}, kinds
    for change in expect(world.admin.get("/v1/changes", params={"limit": 1000}), 200)["changes"]:
        for snapshot in (change.get("old"), change.get("new")):
            assert not (isinstance(snapshot, dict) and {"is_root", "api_key_hash"} & set(snapshot)), change
