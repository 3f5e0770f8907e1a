"""The ``vars`` list filter (craton-v1-api.md §6.5, docs/decisions.md §10) on every backend.

The suite-asserted cases run on every listing that takes ``vars``; inheritance, shadowing,
``resolved-values=false``, AND and malformed expressions follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    INVALID_PATH,
    INVALID_VALUE,
    Craton,
    Tenant,
    expect,
    expect_error,
    items_of,
)

TEST_ARRAY = [
    1,
    23.4,
    True,
    False,
    "false",
    "I'm just a string",
    {"bumbleywump": "cucumberpatch", "literal_boolean": "true"},
    ["sub", "array", True],
]
TEST_DICT = {
    "foo": {
        "nested_string": "Bumbleywump Cucumberpatch",
        "nested_bool": True,
        "nested_null": None,
        "nested_int": 1,
        "nested_float": 3.14,
        "nested_boolstr": "false",
        "hyphenated-key": "look-at-all-these-hyphens!",
    },
    "bar": TEST_ARRAY,
    "baz": "zoo",
}

# name -> (variables of each created object, the vars query, indexes that must match)
CASES: dict[str, tuple[list[dict[str, Any]], str, list[int]]] = {
    "nested-string": (
        [{"foo": TEST_DICT}, {"foo": {"baz": "nope"}}],
        'foo.foo.nested_string:"Bumbleywump Cucumberpatch"',
        [0],
    ),
    "member-wildcard": ([{"foo": TEST_DICT}, {"foo": {"baz": "zoom"}}], 'foo.*:"zoo"', [0]),
    "array-index": (
        [{"foo": TEST_ARRAY}, {"foo": TEST_ARRAY}, {"foo": ["I'm just a string", 1, 2, 3, 4, "foo"]}],
        'foo[5]:"I\'m just a string"',
        [0, 1],
    ),
    "array-wildcard": (
        [
            {"foo": TEST_ARRAY},
            {"foo": TEST_ARRAY},
            {"foo": ["I'm just a string", True]},
            {"foo": ["Bumbleywump Cucumberpatch"]},
        ],
        'foo[*]:"I\'m just a string"',
        [0, 1, 2],
    ),
    "nested-array-wildcard": (
        [{"foo": TEST_DICT}, {"foo": TEST_DICT}, {"foo": {"bar": ["I'm just a string", True]}}, {"foo": TEST_ARRAY}],
        'foo.bar[*]:"I\'m just a string"',
        [0, 1, 2],
    ),
    "int-vs-string": ([{"foo": TEST_DICT}, {"foo": {"foo": {"nested_int": "1"}}}], "foo.foo.nested_int:1", [0]),
    "float-vs-int": ([{"foo": TEST_DICT}, {"foo": {"foo": {"nested_float": 3}}}], "foo.foo.nested_float:3.14", [0]),
    "bool-vs-string": (
        [{"foo": TEST_DICT}, {"foo": {"foo": {"nested_bool": "true"}}}],
        "foo.foo.nested_bool:true",
        [0],
    ),
    "string-false-vs-bool": (
        [{"foo": TEST_DICT}, {"foo": {"foo": {"nested_boolstr": False}}}],
        'foo.foo.nested_boolstr:"false"',
        [0],
    ),
    "null": ([{"foo": TEST_DICT}, {"foo": {"foo": {"nested_null": "test"}}}], "foo.foo.nested_null:null", [0]),
    "quoted-hyphenated-member": (
        [{"foo": TEST_DICT}, {"foo": {"foo": {"hyphenated-key": "test-test"}}}],
        'foo.foo."hyphenated-key":"look-at-all-these-hyphens!"',
        [0],
    ),
    "quoted-first-key-with-period": (
        [{"v3.0": {"foo": {"bar": "baz"}}}, {"v3.0": {"foo": {"bar": "qux"}}}, {"v3": {"0": {"foo": {"bar": "baz"}}}}],
        '"v3.0".foo.bar:"baz"',
        [0],
    ),
    # Contract rules beyond the original suite's cases (§6.5 "Matching a single variable").
    "numbers-compare-numerically": ([{"n": 1}, {"n": 1.5}, {"n": "1"}], "n:1.0", [0]),
    "array-target-contains-scalar": ([{"tags": ["a", "b"]}, {"tags": ["c"]}, {"tags": "a"}], 'tags:"a"', [0, 2]),
    "hyphenated-bare-first-key": (
        [{"os-information": {"release": "xenial"}}, {"os-information": {"release": "bionic"}}],
        'os-information.release:"xenial"',
        [0],
    ),
    "case-sensitive": ([{"s": "Value"}, {"s": "value"}], 's:"value"', [1]),
    "object-target-never-matches-scalar": ([{"o": {"a": 1}}, {"o": 1}], "o:1", [1]),
}


@dataclass(frozen=True)
class Listing:
    path: str
    key: str
    make: Callable[[Craton, Tenant, dict[str, Any], list[dict[str, Any]]], Any]  # returns the new id
    root: bool = False


def _in_region(kind: str) -> Callable[[Craton, Tenant, dict[str, Any], list[dict[str, Any]]], Any]:
    """Objects in one region; for /v1/devices, hosts and network devices alternate."""

    def make(craton: Craton, tenant: Tenant, variables: dict[str, Any], made: list[dict[str, Any]]) -> Any:
        if not made:
            made.append(tenant.inventory.region())
        builder = kind if kind != "device" else ("host" if len(made) % 2 else "network_device")
        made.append({})
        return getattr(tenant.inventory, builder)(made[0], variables=variables)["id"]

    return make


def _region(craton: Craton, tenant: Tenant, variables: dict[str, Any], made: list[dict[str, Any]]) -> Any:
    if not made:
        made.append(tenant.inventory.cloud())
    return tenant.inventory.region(made[0], variables=variables)["id"]


def _project(craton: Craton, tenant: Tenant, variables: dict[str, Any], made: list[dict[str, Any]]) -> Any:
    return expect(craton.root.post("/v1/projects", json={"name": "vars", "variables": variables}), 201)["id"]


LISTINGS: dict[str, Listing] = {
    "clouds": Listing("/v1/clouds", "clouds", lambda c, t, v, m: t.inventory.cloud(variables=v)["id"]),
    "regions": Listing("/v1/regions", "regions", _region),
    "cells": Listing("/v1/cells", "cells", _in_region("cell")),
    "hosts": Listing("/v1/hosts", "hosts", _in_region("host")),
    "network-devices": Listing("/v1/network-devices", "network_devices", _in_region("network_device")),
    "networks": Listing("/v1/networks", "networks", _in_region("network")),
    "projects": Listing("/v1/projects", "projects", _project, root=True),
    "devices": Listing("/v1/devices", "devices", _in_region("device")),
}


def _found(client: httpx.Client, listing: Listing, query: str, **params: str) -> list[dict[str, Any]]:
    body = expect(client.get(listing.path, params={"vars": query, "details": "true", "limit": 100, **params}), 200)
    return items_of(body, listing.key)


def _namespaced(number: int, variables: list[dict[str, Any]], query: str) -> tuple[list[dict[str, Any]], str]:
    """Give one case's variable keys (and the query's first leg) a suffix, so that every case can
    share one project per resource without matching another case's objects."""
    suffix = f"_c{number}"
    renamed = [{key + suffix: value for key, value in item.items()} for item in variables]
    if query.startswith('"'):
        end = query.index('"', 1)
    else:
        end = re.match(r"[^.\[:]+", query).end()  # type: ignore[union-attr]
    return renamed, query[:end] + suffix + query[end:]


@pytest.fixture(scope="module")
def case_objects(craton: Craton) -> Callable[[str], dict[str, Any]]:
    """Per resource, built on first use: one project holding the objects of every case."""
    built: dict[str, dict[str, Any]] = {}

    def for_resource(resource: str) -> dict[str, Any]:
        if resource not in built:
            listing, tenant = LISTINGS[resource], craton.tenant()
            made: list[dict[str, Any]] = []
            cases = {}
            for number, (name, (variables, query, expected)) in enumerate(CASES.items()):
                variables, query = _namespaced(number, variables, query)
                ids = [listing.make(craton, tenant, item, made) for item in variables]
                cases[name] = (variables, query, expected, ids)
            built[resource] = {"client": craton.root if listing.root else tenant.client, "cases": cases}
        return built[resource]

    return for_resource


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("resource", list(LISTINGS))
def test_suite_cases(case_objects: Callable[[str], dict[str, Any]], resource: str, case: str) -> None:
    objects = case_objects(resource)
    variables, query, expected, ids = objects["cases"][case]
    found = _found(objects["client"], LISTINGS[resource], query)
    if LISTINGS[resource].root:  # root lists every project of the module
        found = [item for item in found if item["id"] in ids]
    assert sorted(ids.index(item["id"]) for item in found if item["id"] in ids) == expected, (query, found)
    assert all(item["id"] in ids for item in found), (query, found)
    for item in found:
        assert item["variables"] == variables[ids.index(item["id"])]


# --- inheritance ---------------------------------------------------------------------------------


def _ids(client: httpx.Client, path: str, key: str, query: str, **params: str) -> set[Any]:
    body = expect(client.get(path, params={"vars": query, "limit": 100, **params}), 200)
    return {item["id"] for item in items_of(body, key)}


def test_hosts_inherit_and_a_closer_definition_shadows(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region(variables={"foo": "bar"})
    inheriting = inv.host(region)
    overriding = inv.host(region, variables={"foo": "baz"})
    own = inv.host(region, variables={"foo": "bar"})
    elsewhere = inv.host()  # another region, no foo anywhere
    assert _ids(client, "/v1/hosts", "hosts", 'foo:"bar"') == {inheriting["id"], own["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'foo:"baz"') == {overriding["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'foo:"bar"', **{"resolved-values": "false"}) == {own["id"]}
    assert elsewhere["id"] not in _ids(client, "/v1/devices", "devices", 'foo:"bar"')
    assert _ids(client, "/v1/devices", "devices", 'foo:"bar"') == {inheriting["id"], own["id"]}


def test_containers_inherit_and_shadow(craton: Craton) -> None:
    tenant = craton.tenant(variables={"p": 1})
    inv, client = tenant.inventory, tenant.client
    cloud = inv.cloud(variables={"foo": "bar"})
    region_inheriting = inv.region(cloud)
    region_overriding = inv.region(cloud, variables={"foo": "nope"})
    cell_inheriting = inv.cell(region_inheriting)
    cell_overriding = inv.cell(region_inheriting, variables={"foo": 1})
    cell_under_override = inv.cell(region_overriding)
    assert _ids(client, "/v1/regions", "regions", 'foo:"bar"') == {region_inheriting["id"]}
    assert _ids(client, "/v1/regions", "regions", 'foo:"bar"', **{"resolved-values": "false"}) == set()
    assert _ids(client, "/v1/cells", "cells", 'foo:"bar"') == {cell_inheriting["id"]}
    assert _ids(client, "/v1/cells", "cells", 'foo:"nope"') == {cell_under_override["id"]}
    assert _ids(client, "/v1/cells", "cells", "foo:1") == {cell_overriding["id"]}
    # the project's variables reach every level below it
    assert _ids(client, "/v1/regions", "regions", "p:1") == {region_inheriting["id"], region_overriding["id"]}
    assert len(_ids(client, "/v1/cells", "cells", "p:1")) == 3
    # clouds only ever match their own variables through ``vars`` (§6.5)
    assert _ids(client, "/v1/clouds", "clouds", 'foo:"bar"') == {cloud["id"]}


def test_parent_and_child_hosts_zoo_boo(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    parent = inv.host(region, variables={"baz": "zoo"})
    child = inv.host(region, parent=parent, variables={"baz": "boo"})
    assert _ids(client, "/v1/hosts", "hosts", 'baz:"zoo"') == {parent["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'baz:"boo"') == {child["id"]}
    grandchild = inv.host(region, parent=child)
    assert _ids(client, "/v1/hosts", "hosts", 'baz:"boo"') == {child["id"], grandchild["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'baz:"boo"', **{"resolved-values": "false"}) == {child["id"]}


def test_hosts_inherit_from_parent_network_devices(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    netdev1 = inv.network_device(region, variables={"zoo": "bar"})
    netdev2 = inv.network_device(region, parent=netdev1)
    child = inv.host(region, parent=netdev1)
    grandchild = inv.host(region, parent=netdev2)
    unrelated = inv.host(region)
    hosts = _ids(client, "/v1/hosts", "hosts", 'zoo:"bar"')
    assert hosts == {child["id"], grandchild["id"]}
    assert unrelated["id"] not in hosts
    assert _ids(client, "/v1/network-devices", "network_devices", 'zoo:"bar"') == {netdev1["id"], netdev2["id"]}
    assert _ids(client, "/v1/devices", "devices", 'zoo:"bar"') == {
        netdev1["id"],
        netdev2["id"],
        child["id"],
        grandchild["id"],
    }
    assert _ids(client, "/v1/devices", "devices", 'zoo:"bar"', **{"resolved-values": "false"}) == {netdev1["id"]}


def test_several_conditions_are_anded(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region(variables={"b": 2})
    both = inv.host(region, variables={"a": 1})
    only_a = inv.host(region, variables={"a": 1, "b": 3})
    only_b = inv.host(region, variables={"a": 5})
    assert _ids(client, "/v1/hosts", "hosts", "a:1,b:2") == {both["id"]}
    assert _ids(client, "/v1/hosts", "hosts", "a:1") == {both["id"], only_a["id"]}
    assert _ids(client, "/v1/hosts", "hosts", "b:2") == {both["id"], only_b["id"]}
    assert _ids(client, "/v1/hosts", "hosts", "a:1,b:2,c:3") == set()
    # the same path twice: the last one wins (§6.5)
    assert _ids(client, "/v1/hosts", "hosts", "a:5,a:1") == {both["id"], only_a["id"]}


def test_a_comma_inside_a_quoted_value_or_an_array_is_part_of_it(craton: Craton) -> None:
    """``motd:"hello, world"`` is one condition (v1 split it and answered 400); plain commas still AND."""
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    greeted = inv.host(region, variables={"motd": "hello, world", "n": 1, "tags": ["a", "b", "c"]})
    other = inv.host(region, variables={"motd": "hello", "n": 1, "tags": ["a"]})
    assert _ids(client, "/v1/hosts", "hosts", 'motd:"hello, world"') == {greeted["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'motd:"hello, world",n:1') == {greeted["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'motd:"with \\" and , inside"') == set()
    assert _ids(client, "/v1/hosts", "hosts", 'tags:["a","b"]') == {greeted["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'tags:["a"],n:1') == {greeted["id"], other["id"]}
    assert _ids(client, "/v1/hosts", "hosts", 'motd:"hello",n:1') == {other["id"]}


def test_vars_combines_with_other_filters_and_paging(craton: Craton) -> None:
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    matching = [inv.host(region, variables={"m": n % 2 == 0})["id"] for n in range(30)]
    expected = matching[::2]
    pages = [expect(client.get("/v1/hosts", params={"vars": "m:true", "limit": 10}), 200)]
    while any(link["rel"] == "next" for link in pages[-1]["links"]):
        href = next(link["href"] for link in pages[-1]["links"] if link["rel"] == "next")
        pages.append(expect(client.get(href), 200))
    assert [item["id"] for page in pages for item in page["hosts"]] == expected
    assert [len(page["hosts"]) for page in pages] == [10, 5]
    other = inv.region()
    assert _ids(client, "/v1/hosts", "hosts", "m:true", region_id=str(other["id"])) == set()


# (expression, the message it must start with; None: either of the two)
MALFORMED: list[tuple[str, str | None]] = [
    ('foo.hyphenated-key:"x"', INVALID_PATH),
    ("foo.bar:string", INVALID_VALUE),
    ("foo", None),
    ("$.foo:1", INVALID_PATH),
    ("foo[1:3]:1", INVALID_PATH),
    ("foo..bar:1", INVALID_PATH),
    ("[*]foo.bar:1", INVALID_PATH),
    ("foo.1:1", INVALID_PATH),
    ("v3.0.foo:1", INVALID_PATH),
    ("1abc:1", INVALID_PATH),
    ("foo.'single':1", INVALID_PATH),
    ("foo.**.bar:1", INVALID_PATH),
    ("foo.bar:'x'", INVALID_VALUE),
    ("foo:", INVALID_VALUE),
    ('foo:"unterminated', INVALID_VALUE),
    (':"x"', INVALID_PATH),
    ("a:1,foo", None),
]


@pytest.mark.parametrize("resource", list(LISTINGS))
def test_malformed_expressions_are_400(craton: Craton, resource: str) -> None:
    """Checked up front, whatever the variables table holds (the original needed rows)."""
    listing = LISTINGS[resource]
    tenant = craton.tenant()
    client = craton.root if listing.root else tenant.client
    problems = []
    for query, message in MALFORMED:
        response = client.get(listing.path, params={"vars": query})
        body = response.json()
        if (
            response.status_code != 400
            or set(body) != {"message", "status", "detail"}
            or body["message"] not in (INVALID_PATH, INVALID_VALUE)
        ):
            problems.append(f"{query!r} -> {response.status_code} {body}")
        elif message is not None and body["message"] != message:
            problems.append(f"{query!r} -> expected {message!r}, got {body['message']!r}")
    assert not problems, "\n".join(problems)
    expect_error(client.get(listing.path, params={"vars": "foo.bar:string"}), 400, startswith=INVALID_VALUE)


def test_clouds_and_networks_match_only_their_own_variables(craton: Craton) -> None:
    """§6.5: clouds and networks have single-element chains for ``vars``."""
    tenant = craton.tenant(variables={"p": 1})
    inv, client = tenant.inventory, tenant.client
    cloud = inv.cloud(variables={"foo": "bar"})
    region = inv.region(cloud, variables={"foo": "bar"})
    cell = inv.cell(region, variables={"foo": "bar"})
    inheriting = inv.network(region, cell=cell)
    own = inv.network(region, variables={"foo": "bar"})
    assert _ids(client, "/v1/networks", "networks", 'foo:"bar"') == {own["id"]}
    assert _ids(client, "/v1/networks", "networks", "p:1") == set()
    assert _ids(client, "/v1/clouds", "clouds", "p:1") == set()
    assert _ids(client, "/v1/clouds", "clouds", 'foo:"bar"') == {cloud["id"]}
    listed = expect(client.get("/v1/networks", params={"details": "true"}), 200)["networks"]
    assert {item["id"]: item["variables"] for item in listed} == {inheriting["id"]: {}, own["id"]: {"foo": "bar"}}


def test_vars_filter_keeps_prev_links_true(craton: Craton) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    hosts = [tenant.inventory.host(region, variables={"even": n % 2 == 0})["id"] for n in range(50)]
    evens = hosts[::2]
    first = expect(tenant.client.get("/v1/hosts", params={"vars": "even:true", "limit": 10}), 200)
    second = expect(tenant.client.get(next(link["href"] for link in first["links"] if link["rel"] == "next")), 200)
    third = expect(tenant.client.get(next(link["href"] for link in second["links"] if link["rel"] == "next")), 200)
    assert [h["id"] for h in third["hosts"]] == evens[20:25]
    assert "next" not in {link["rel"] for link in third["links"]}
    back = expect(tenant.client.get(next(link["href"] for link in third["links"] if link["rel"] == "prev")), 200)
    assert [h["id"] for h in back["hosts"]] == evens[10:20]
