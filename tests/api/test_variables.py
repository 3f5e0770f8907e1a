"""Variables endpoints on every resource (craton-v1-api.md §4.12) and resolution (docs/decisions.md §9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    MISSING_ID,
    ROUND_TRIP_VARIABLES,
    Craton,
    Tenant,
    expect,
    expect_error,
    expect_invalid,
    expect_not_found,
    unique,
)

# Owner path prefix -> how to make one owner (returns its id) inside a tenant.
OWNERS: dict[str, Callable[[Tenant, dict[str, Any]], Any]] = {
    "clouds": lambda t, v: t.inventory.cloud(variables=v)["id"],
    "regions": lambda t, v: t.inventory.region(variables=v)["id"],
    "cells": lambda t, v: t.inventory.cell(variables=v)["id"],
    "hosts": lambda t, v: t.inventory.host(variables=v)["id"],
    "network-devices": lambda t, v: t.inventory.network_device(variables=v)["id"],
    "networks": lambda t, v: t.inventory.network(variables=v)["id"],
    "projects": lambda t, v: _project_with(t, v),
}


def _project_with(tenant: Tenant, variables: dict[str, Any]) -> str:
    """The tenant's own project (its admin manages its variables), with ``variables`` set."""
    expect(tenant.client.put(f"/v1/projects/{tenant.project_id}/variables", json=variables), 200)
    return tenant.project_id


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    return craton.tenant()


def _delete(client: httpx.Client, url: str, body: Any = None) -> httpx.Response:
    """DELETE with a JSON body (the key list), or with no body at all."""
    return client.request("DELETE", url) if body is None else client.request("DELETE", url, json=body)


@pytest.mark.parametrize("kind", list(OWNERS))
def test_round_trip_merge_and_delete(craton: Craton, kind: str) -> None:
    tenant = craton.tenant()  # fresh: project variables must start empty
    owner = OWNERS[kind](tenant, {"keep": "me"})
    url = f"/v1/{kind}/{owner}/variables"
    client = tenant.client

    assert expect(client.get(url, params={"resolved-values": "false"}), 200) == {"variables": {"keep": "me"}}
    put = expect(client.put(url, json=ROUND_TRIP_VARIABLES), 200)
    assert put == {"variables": {"keep": "me", **ROUND_TRIP_VARIABLES}}
    assert expect(client.get(url, params={"resolved-values": "false"}), 200) == put

    merged = expect(client.put(url, json={"num-key": 48, "new-key": {"x": [1, {"y": None}]}}), 200)
    assert merged == {
        "variables": {"keep": "me", **ROUND_TRIP_VARIABLES, "num-key": 48, "new-key": {"x": [1, {"y": None}]}}
    }

    expect(_delete(client, url, ["num-key", "never-existed", "object-key"]), 204)
    left = {"keep": "me", **ROUND_TRIP_VARIABLES, "new-key": {"x": [1, {"y": None}]}}
    del left["num-key"], left["object-key"]
    assert expect(client.get(url, params={"resolved-values": "false"}), 200) == {"variables": left}
    expect(_delete(client, url, []), 204)
    expect(_delete(client, url, list(left)), 204)
    assert expect(client.get(url, params={"resolved-values": "false"}), 200) == {"variables": {}}


@pytest.mark.parametrize("kind", list(OWNERS))
def test_bad_bodies_are_400(tenant: Tenant, kind: str) -> None:
    owner = OWNERS[kind](tenant, {"a": 1})
    url = f"/v1/{kind}/{owner}/variables"
    client = tenant.client
    expect_invalid(client.put(url, json=[1, 2]), "[1, 2] is not of type 'object'")
    expect_invalid(client.put(url, json="text"), "'text' is not of type 'object'")
    expect_invalid(client.put(url), "None is not of type 'object'")
    expect_invalid(client.put(url, json={"": 1}))
    expect_invalid(_delete(client, url, {"a": 1}), "{'a': 1} is not of type 'array'")
    expect_invalid(_delete(client, url), "None is not of type 'array'")
    expect_invalid(_delete(client, url, [1]), "1 is not of type 'string'")
    assert expect(client.get(url, params={"resolved-values": "false"}), 200)["variables"]["a"] == 1


@pytest.mark.parametrize("kind", list(OWNERS))
def test_missing_owner_is_404(tenant: Tenant, kind: str) -> None:
    missing = "00000000-0000-4000-8000-000000000000" if kind == "projects" else MISSING_ID
    url = f"/v1/{kind}/{missing}/variables"
    expect_not_found(tenant.client.get(url))
    expect_not_found(tenant.client.put(url, json={"a": 1}))
    expect_not_found(_delete(tenant.client, url, ["a"]))


@pytest.mark.parametrize("kind", list(OWNERS))
def test_resolved_values_is_accepted_everywhere(tenant: Tenant, kind: str) -> None:
    owner = OWNERS[kind](tenant, {"a": 1})
    for value in ("true", "false", "True", "0", "yes", "n"):
        body = expect(tenant.client.get(f"/v1/{kind}/{owner}/variables", params={"resolved-values": value}), 200)
        assert body["variables"]["a"] == 1
    expect_invalid(tenant.client.get(f"/v1/{kind}/{owner}/variables", params={"foo": "bar"}))


# --- resolution --------------------------------------------------------------------------------

PROJECT = {"level": "project", "p": 1, "deep": {"a": 1, "b": 2}}
CLOUD = {"level": "cloud", "c": 1}
REGION = {"level": "region", "r": 1, "deep": {"a": 9}}
CELL = {"level": "cell", "x": 1}
SWITCH = {"level": "switch", "s": 1}
HOST = {"level": "host", "h": 1}
CHILD = {"c2": [1, 2]}


def _chain(*levels: dict[str, Any]) -> dict[str, Any]:
    """Nearest first; a nearer level wins per top-level key (no deep merge)."""
    resolved: dict[str, Any] = {}
    for level in reversed(levels):
        resolved.update(level)
    return resolved


@pytest.fixture(scope="module")
def tree(craton: Craton) -> dict[str, Any]:
    tenant = craton.tenant(variables=PROJECT)
    inv = tenant.inventory
    cloud = inv.cloud(variables=CLOUD)
    region = inv.region(cloud, variables=REGION)
    cell = inv.cell(region, variables=CELL)
    switch = inv.network_device(cell=cell, variables=SWITCH)
    host = inv.host(cell=cell, parent=switch, variables=HOST)
    child = inv.host(cell=cell, parent=host, variables=CHILD)
    plain = inv.host(region, variables={})
    network = inv.network(region, cell=cell, variables={"level": "network"})
    return {
        "tenant": tenant,
        "cloud": cloud,
        "region": region,
        "cell": cell,
        "switch": switch,
        "host": host,
        "child": child,
        "plain": plain,
        "network": network,
        "own": {
            "cloud": CLOUD,
            "region": REGION,
            "cell": CELL,
            "switch": SWITCH,
            "host": HOST,
            "child": CHILD,
            "plain": {},
            "network": {"level": "network"},
        },
        "resolved": {
            "cloud": _chain(CLOUD, PROJECT),
            "region": _chain(REGION, CLOUD, PROJECT),
            "cell": _chain(CELL, REGION, CLOUD, PROJECT),
            "switch": _chain(SWITCH, CELL, REGION, CLOUD, PROJECT),
            "host": _chain(HOST, SWITCH, CELL, REGION, CLOUD, PROJECT),
            "child": _chain(CHILD, HOST, SWITCH, CELL, REGION, CLOUD, PROJECT),
            "plain": _chain(REGION, CLOUD, PROJECT),
        },
    }


PATHS = {
    "cloud": "clouds",
    "region": "regions",
    "cell": "cells",
    "switch": "network-devices",
    "host": "hosts",
    "child": "hosts",
    "plain": "hosts",
    "network": "networks",
}


def _variables(client: httpx.Client, name: str, tree: dict[str, Any], suffix: str = "/variables", **params: str) -> Any:
    body = expect(client.get(f"/v1/{PATHS[name]}/{tree[name]['id']}{suffix}", params=params), 200)
    return body["variables"]


def test_expected_chains_are_what_the_contract_says(tree: dict[str, Any]) -> None:
    """A guard on the test data itself: nearest wins, and objects are replaced whole."""
    assert tree["resolved"]["child"]["level"] == "host"
    assert tree["resolved"]["plain"]["deep"] == {"a": 9}
    assert tree["resolved"]["cloud"]["deep"] == {"a": 1, "b": 2}


def test_variables_get_defaults_hosts_resolved_others_own(tree: dict[str, Any]) -> None:
    client = tree["tenant"].client
    for name in ("host", "child", "plain"):
        assert _variables(client, name, tree) == tree["resolved"][name], name
        assert _variables(client, name, tree, **{"resolved-values": "false"}) == tree["own"][name], name
    for name in ("cloud", "region", "cell", "switch", "network"):
        assert _variables(client, name, tree) == tree["own"][name], name
        assert _variables(client, name, tree, **{"resolved-values": "false"}) == tree["own"][name], name
    project = expect(client.get(f"/v1/projects/{tree['tenant'].project_id}/variables"), 200)
    assert project == {"variables": PROJECT}


def test_variables_get_resolved_on_request(tree: dict[str, Any]) -> None:
    client = tree["tenant"].client
    for name in ("cloud", "region", "cell", "switch", "host", "child", "plain"):
        assert _variables(client, name, tree, **{"resolved-values": "true"}) == tree["resolved"][name], name
    project = expect(
        client.get(f"/v1/projects/{tree['tenant'].project_id}/variables", params={"resolved-values": "true"}), 200
    )
    assert project == {"variables": PROJECT}


def test_get_by_id_shows_resolved_variables_where_the_contract_says(tree: dict[str, Any]) -> None:
    """§6.3: regions, cells and devices resolve by default; clouds and networks show their own."""
    client = tree["tenant"].client
    for name in ("region", "cell", "switch", "host", "child", "plain"):
        assert _variables(client, name, tree, suffix="") == tree["resolved"][name], name
        assert _variables(client, name, tree, suffix="", **{"resolved-values": "false"}) == tree["own"][name], name
    for name in ("cloud", "network"):
        assert _variables(client, name, tree, suffix="") == tree["own"][name], name


@pytest.mark.parametrize(
    ("path", "key", "names"),
    [
        ("/v1/regions", "regions", ["region"]),
        ("/v1/cells", "cells", ["cell"]),
        ("/v1/hosts", "hosts", ["host", "child", "plain"]),
        ("/v1/network-devices", "network_devices", ["switch"]),
    ],
)
def test_lists_with_details_resolve_unless_told_not_to(
    tree: dict[str, Any], path: str, key: str, names: list[str]
) -> None:
    client = tree["tenant"].client
    resolved = {
        item["id"]: item["variables"] for item in expect(client.get(path, params={"details": "true"}), 200)[key]
    }
    own = {
        item["id"]: item["variables"]
        for item in expect(client.get(path, params={"details": "true", "resolved-values": "false"}), 200)[key]
    }
    for name in names:
        assert resolved[tree[name]["id"]] == tree["resolved"][name], name
        assert own[tree[name]["id"]] == tree["own"][name], name


def test_devices_and_clouds_lists_with_details(tree: dict[str, Any]) -> None:
    client = tree["tenant"].client
    body = expect(client.get("/v1/devices", params={"details": "all"}), 200)["devices"]
    hosts = {item["id"]: item["variables"] for item in body["hosts"]}
    switches = {item["id"]: item["variables"] for item in body["network-devices"]}
    assert hosts[tree["child"]["id"]] == tree["resolved"]["child"]
    assert switches[tree["switch"]["id"]] == tree["resolved"]["switch"]
    own = expect(client.get("/v1/devices", params={"details": "true", "resolved-values": "false"}), 200)["devices"]
    assert {item["id"]: item["variables"] for item in own["hosts"]}[tree["child"]["id"]] == CHILD
    assert {item["id"]: item["variables"] for item in own["network-devices"]}[tree["switch"]["id"]] == SWITCH
    clouds = expect(client.get("/v1/clouds", params={"details": "true"}), 200)["clouds"]
    assert [cloud["variables"] for cloud in clouds] == [CLOUD]
    networks = expect(client.get("/v1/networks", params={"details": "true"}), 200)["networks"]
    assert [network["variables"] for network in networks] == [{"level": "network"}]


def test_put_returns_own_variables_even_for_hosts(tree: dict[str, Any]) -> None:
    client = tree["tenant"].client
    body = expect(client.put(f"/v1/hosts/{tree['child']['id']}/variables", json={}), 200)
    assert body == {"variables": CHILD}


def test_resolution_follows_changes_at_every_level(craton: Craton) -> None:
    tenant = craton.tenant(variables={"k": "project"})
    inv = tenant.inventory
    cloud = inv.cloud(variables={"k": "cloud"})
    region = inv.region(cloud, variables={"k": "region"})
    parent = inv.network_device(region, variables={"k": "switch"})
    host = inv.host(region, parent=parent, variables={"k": "host"})
    url = f"/v1/hosts/{host['id']}/variables"
    steps = [
        (f"/v1/hosts/{host['id']}/variables", "switch"),
        (f"/v1/network-devices/{parent['id']}/variables", "region"),
        (f"/v1/regions/{region['id']}/variables", "cloud"),
        (f"/v1/clouds/{cloud['id']}/variables", "project"),
    ]
    assert expect(tenant.client.get(url), 200) == {"variables": {"k": "host"}}
    for owner_url, now in steps:
        expect(_delete(tenant.client, owner_url, ["k"]), 204)
        assert expect(tenant.client.get(url), 200) == {"variables": {"k": now}}, owner_url
    expect(_delete(tenant.client, f"/v1/projects/{tenant.project_id}/variables", ["k"]), 204)
    assert expect(tenant.client.get(url), 200) == {"variables": {}}
    expect(tenant.client.put(f"/v1/regions/{region['id']}/variables", json={"k": {"nested": True}}), 200)
    assert expect(tenant.client.get(url), 200) == {"variables": {"k": {"nested": True}}}
    # detaching the host from its parent drops the parent's level from its chain
    expect(tenant.client.put(f"/v1/network-devices/{parent['id']}/variables", json={"only": "switch"}), 200)
    assert "only" in expect(tenant.client.get(url), 200)["variables"]
    expect(tenant.client.put(f"/v1/hosts/{host['id']}", json={"parent_id": None}), 200)
    assert "only" not in expect(tenant.client.get(url), 200)["variables"]


def test_interface_variables_show_on_the_interface_only(tenant: Tenant) -> None:
    value = unique("v")
    interface = tenant.inventory.interface(variables={"i": value})
    got = expect(tenant.client.get(f"/v1/network-interfaces/{interface['id']}"), 200)
    assert got["variables"] == {"i": value}
    # §4.0 has no such route; decisions welcome additive endpoints, which must then agree
    response = tenant.client.get(f"/v1/network-interfaces/{interface['id']}/variables")
    if response.status_code == 404:
        expect_error(response, 404)
    else:
        assert expect(response, 200) == {"variables": {"i": value}}


@pytest.mark.parametrize("kind", ["clouds", "hosts", "projects"])
def test_unicode_and_number_edges_round_trip(craton: Craton, kind: str) -> None:
    tenant = craton.tenant()
    values = {
        "ключ": "значение",
        "emoji-😀": "☃ snow",
        "mixed": ["ü", {"ß": "ẞ"}],
        "k" * 255: 1,
        "max": 2**63 - 1,
        "min": -(2**63),
        "float": 1.5e300,
        "tiny": 5e-324,
        "neg-zero-ish": -0.5,
        "dotted.key:with,odd chars": True,
        "empty-string": "",
        "empty-list": [],
        "empty-object": {},
    }
    owner = OWNERS[kind](tenant, values)
    url = f"/v1/{kind}/{owner}/variables"
    assert expect(tenant.client.get(url, params={"resolved-values": "false"}), 200) == {"variables": values}
    expect_invalid(tenant.client.put(url, json={"k" * 256: 1}))
    response = tenant.client.put(url, json={"huge": 2**64})  # beyond 64 bits: refused or kept exactly, never a 500
    if response.status_code == 200:
        assert response.json()["variables"]["huge"] == 2**64
    else:
        expect_error(response, 400)


def test_unicode_names_round_trip(tenant: Tenant) -> None:
    cloud = tenant.inventory.cloud(name="clöud-☃-" + unique("u"), note="ñote 😀")
    got = expect(tenant.client.get(f"/v1/clouds/{cloud['id']}"), 200)
    assert (got["name"], got["note"]) == (cloud["name"], "ñote 😀")
    body = expect(tenant.client.get("/v1/clouds", params={"name": cloud["name"]}), 200)
    assert [item["id"] for item in body["clouds"]] == [cloud["id"]]
    # names differing only in case or accents are different names (byte-wise comparison)
    tenant.inventory.cloud(name=cloud["name"].upper())
    tenant.inventory.cloud(name=cloud["name"].replace("ö", "o"))
