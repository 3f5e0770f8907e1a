"""Pagination per docs/decisions.md §5 and craton-v1-api.md §3: limits, markers, links, sorting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.helpers import (
    MISSING_ID,
    Craton,
    Tenant,
    expect,
    expect_error,
    expect_invalid,
    follow_next,
    get_href,
    ids_of,
    items_of,
    links_of,
    query_of,
    unique,
)


class Parents:
    """Containers created on first use, shared by the objects one test lists."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._made: dict[str, dict[str, Any]] = {}

    def _get(self, name: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    @property
    def cloud(self) -> dict[str, Any]:
        return self._get("cloud", self.tenant.inventory.cloud)

    @property
    def region(self) -> dict[str, Any]:
        return self._get("region", lambda: self.tenant.inventory.region(self.cloud))

    @property
    def host(self) -> dict[str, Any]:
        return self._get("host", lambda: self.tenant.inventory.host(self.region))


@dataclass(frozen=True)
class Listing:
    path: str
    key: str
    make: Callable[[Tenant, Parents, int], dict[str, Any]]
    filters: Callable[[Parents], dict[str, Any]] = lambda parents: {}
    preexisting: Callable[[Tenant], list[Any]] = lambda tenant: []


def _user(tenant: Tenant, n: int) -> dict[str, Any]:
    body = {"username": f"u{n:03}", "project_id": tenant.project_id}
    return expect(tenant.client.post("/v1/users", json=body), 201)


def _the_admin(tenant: Tenant) -> list[Any]:
    return ids_of(expect(tenant.client.get("/v1/users"), 200)["users"][:1])


LISTINGS: dict[str, Listing] = {
    "clouds": Listing("/v1/clouds", "clouds", lambda t, p, n: t.inventory.cloud(name=f"c{n:03}")),
    "regions": Listing(
        "/v1/regions",
        "regions",
        lambda t, p, n: t.inventory.region(p.cloud, name=f"r{n:03}"),
        lambda p: {"cloud_id": p.cloud["id"]},
    ),
    "cells": Listing(
        "/v1/cells",
        "cells",
        lambda t, p, n: t.inventory.cell(p.region, name=f"x{n:03}"),
        lambda p: {"region_id": p.region["id"]},
    ),
    "hosts": Listing(
        "/v1/hosts",
        "hosts",
        lambda t, p, n: t.inventory.host(p.region, name=f"h{n:03}"),
        lambda p: {"region_id": p.region["id"]},
    ),
    "network-devices": Listing(
        "/v1/network-devices",
        "network_devices",
        lambda t, p, n: t.inventory.network_device(p.region, name=f"n{n:03}"),
        lambda p: {"region_id": p.region["id"]},
    ),
    "devices": Listing(
        "/v1/devices",
        "devices",
        lambda t, p, n: t.inventory.host(p.region, name=f"d{n:03}", parent=p.host),
        lambda p: {"parent_id": p.host["id"]},
    ),
    "networks": Listing(
        "/v1/networks",
        "networks",
        lambda t, p, n: t.inventory.network(p.region, name=f"w{n:03}"),
        lambda p: {"region_id": p.region["id"]},
    ),
    "network-interfaces": Listing(
        "/v1/network-interfaces",
        "network_interfaces",
        lambda t, p, n: t.inventory.interface(p.host, name=f"i{n:03}"),
        lambda p: {"device_id": p.host["id"]},
    ),
    "users": Listing("/v1/users", "users", lambda t, p, n: _user(t, n), preexisting=_the_admin),
}


def _check_page_links(craton: Craton, path: str, body: dict[str, Any], limit: int) -> dict[str, str]:
    rels = links_of(body)
    for rel in ("first", "prev", "self"):
        assert rels[rel].startswith(f"{craton.url}{path}?"), rels
        assert query_of(rels[rel])["limit"] == str(limit), rels
    assert "marker" not in query_of(rels["first"]), rels
    return rels


@pytest.mark.parametrize("name", list(LISTINGS))
def test_follow_next_collects_every_item_once_in_creation_order(craton: Craton, name: str) -> None:
    listing = LISTINGS[name]
    tenant = craton.tenant()
    parents = Parents(tenant)
    expected = listing.preexisting(tenant) + [listing.make(tenant, parents, n)["id"] for n in range(22)]
    pages = follow_next(tenant.client, listing.path, {"limit": 10, **listing.filters(parents)})
    sizes = [len(items_of(page, listing.key)) for page in pages]
    assert sizes == [10] * (len(expected) // 10) + ([len(expected) % 10] if len(expected) % 10 else []), sizes
    collected = [item for page in pages for item in ids_of(items_of(page, listing.key))]
    assert collected == expected
    for number, page in enumerate(pages):
        rels = _check_page_links(craton, listing.path, page, 10)
        assert ("next" in rels) == (number < len(pages) - 1), rels
        if "next" in rels:
            assert query_of(rels["next"])["marker"] == str(ids_of(items_of(page, listing.key))[-1]), rels
    if len(pages) > 2:  # prev of the third page is exactly the second page
        prev = expect(get_href(tenant.client, links_of(pages[2])["prev"]), 200)
        assert ids_of(items_of(prev, listing.key)) == ids_of(items_of(pages[1], listing.key))


def test_projects_follow_next_in_creation_order(craton: Craton) -> None:
    """Root sees every project of the module; ours must come in creation order, once each."""
    root = craton.root
    ours = [expect(root.post("/v1/projects", json={"name": unique("pg")}), 201)["id"] for _ in range(25)]
    pages = follow_next(root, "/v1/projects", {"limit": 10})
    everything = [item for page in pages for item in ids_of(page["projects"])]
    assert len(everything) == len(set(everything))
    assert [project for project in everything if project in set(ours)] == ours
    assert "next" not in links_of(pages[-1])
    for page in pages[:-1]:
        assert query_of(links_of(page)["next"])["marker"] == page["projects"][-1]["id"]


@pytest.fixture(scope="module")
def clouds35(craton: Craton) -> tuple[Tenant, list[int]]:
    """A tenant with 35 clouds named c000..c034 in creation order (read-only for the tests)."""
    tenant = craton.tenant()
    return tenant, [tenant.inventory.cloud(name=f"c{n:03}")["id"] for n in range(35)]


def test_prev_points_at_the_true_previous_page(craton: Craton, clouds35: tuple[Tenant, list[int]]) -> None:
    tenant, ids = clouds35
    client = tenant.client
    page1 = expect(client.get("/v1/clouds", params={"limit": 10}), 200)
    rels1 = links_of(page1)
    assert rels1["prev"] == rels1["first"] == rels1["self"]
    page2 = expect(get_href(client, rels1["next"]), 200)
    page3 = expect(get_href(client, links_of(page2)["next"]), 200)
    assert ids_of(page2["clouds"]) == ids[10:20]
    assert ids_of(page3["clouds"]) == ids[20:30]

    back_to_2 = expect(get_href(client, links_of(page3)["prev"]), 200)
    assert ids_of(back_to_2["clouds"]) == ids[10:20]
    back_to_1 = expect(get_href(client, links_of(page2)["prev"]), 200)
    assert ids_of(back_to_1["clouds"]) == ids[:10]
    assert "marker" not in query_of(links_of(page2)["prev"])
    again = expect(get_href(client, links_of(page3)["self"]), 200)
    assert ids_of(again["clouds"]) == ids[20:30]

    page4 = expect(get_href(client, links_of(page3)["next"]), 200)
    assert ids_of(page4["clouds"]) == ids[30:]
    assert "next" not in links_of(page4)
    assert ids_of(expect(get_href(client, links_of(page4)["prev"]), 200)["clouds"]) == ids[20:30]


def test_prev_with_fewer_than_limit_items_before_is_the_first_page(clouds35: tuple[Tenant, list[int]]) -> None:
    """docs/decisions.md §5: no item is skipped (the original pointed at the first item, skipping it)."""
    tenant, ids = clouds35
    body = expect(tenant.client.get("/v1/clouds", params={"limit": 10, "marker": ids[4]}), 200)
    assert ids_of(body["clouds"]) == ids[5:15]
    prev = expect(get_href(tenant.client, links_of(body)["prev"]), 200)
    assert ids_of(prev["clouds"])[0] == ids[0]
    assert ids[:5] == ids_of(prev["clouds"])[:5]
    assert query_of(links_of(body)["self"])["marker"] == str(ids[4])


def test_next_is_absent_when_the_last_page_is_exactly_full(craton: Craton) -> None:
    tenant = craton.tenant()
    ids = [tenant.inventory.cloud()["id"] for _ in range(20)]
    first = expect(tenant.client.get("/v1/clouds", params={"limit": 10}), 200)
    second = expect(get_href(tenant.client, links_of(first)["next"]), 200)
    assert ids_of(second["clouds"]) == ids[10:]
    assert "next" not in links_of(second)


def test_empty_listing_has_first_prev_self_and_no_next(craton: Craton) -> None:
    tenant = craton.tenant()
    for path, key in (("/v1/clouds", "clouds"), ("/v1/hosts", "hosts"), ("/v1/networks", "networks")):
        body = expect(tenant.client.get(path), 200)
        assert body[key] == []
        rels = _check_page_links(craton, path, body, 30)
        assert set(rels) == {"first", "prev", "self"}
    body = expect(tenant.client.get("/v1/devices"), 200)
    assert body["devices"] == {"hosts": [], "network-devices": []}
    assert set(links_of(body)) == {"first", "prev", "self"}


def test_default_limit_is_30(clouds35: tuple[Tenant, list[int]]) -> None:
    tenant, ids = clouds35
    body = expect(tenant.client.get("/v1/clouds"), 200)
    assert ids_of(body["clouds"]) == ids[:30]
    assert query_of(links_of(body)["next"])["limit"] == "30"
    assert query_of(links_of(body)["next"])["marker"] == str(ids[29])


@pytest.mark.parametrize("path", ["/v1/clouds", "/v1/hosts", "/v1/devices", "/v1/users", "/v1/projects"])
def test_limit_must_be_between_10_and_100(craton: Craton, path: str) -> None:
    client = craton.root
    expect_invalid(client.get(path, params={"limit": 5}), "5 is less than the minimum of 10")
    expect_invalid(client.get(path, params={"limit": 9}), "9 is less than the minimum of 10")
    expect_invalid(client.get(path, params={"limit": 101}), "101 is greater than the maximum of 100")
    expect_invalid(client.get(path, params={"limit": -1}), "-1 is less than the minimum of 10")
    expect_invalid(client.get(path, params={"limit": "abc"}), "'abc' is not of type 'integer'")
    for limit in (10, 100):
        body = expect(client.get(path, params={"limit": limit}), 200)
        assert query_of(links_of(body)["self"])["limit"] == str(limit)


def test_bad_markers_are_400(craton: Craton, clouds35: tuple[Tenant, list[int]]) -> None:
    tenant, _ = clouds35
    expect_error(
        tenant.client.get("/v1/clouds", params={"marker": MISSING_ID}), 400, f'Marker "{MISSING_ID}" does not exist'
    )
    expect_error(tenant.client.get("/v1/clouds", params={"marker": "abc"}), 400)
    expect_error(tenant.client.get("/v1/hosts", params={"marker": "1.5"}), 400)
    expect_error(tenant.client.get("/v1/devices", params={"marker": "x"}), 400)
    missing_project = "00000000-0000-4000-8000-000000000000"
    expect_error(
        craton.root.get("/v1/projects", params={"marker": missing_project}),
        400,
        f'Marker "{missing_project}" does not exist',
    )
    expect_error(craton.root.get("/v1/projects", params={"marker": "not-a-uuid"}), 400)


def test_host_listing_rejects_a_network_device_marker(craton: Craton) -> None:
    """§3.1: /v1/hosts accepts only host ids as markers."""
    tenant = craton.tenant()
    switch = tenant.inventory.network_device()
    expect_error(
        tenant.client.get("/v1/hosts", params={"marker": switch["id"]}), 400, f'Marker "{switch["id"]}" does not exist'
    )
    assert expect(tenant.client.get("/v1/devices", params={"marker": switch["id"]}), 200)


@pytest.fixture(scope="module")
def shuffled(craton: Craton) -> tuple[Tenant, list[dict[str, Any]]]:
    tenant = craton.tenant()
    names = [f"name-{n:02}" for n in (7, 3, 11, 0, 19, 5, 14, 1, 9, 17, 2, 12, 6, 18, 4, 10, 8, 16, 13, 15, 20, 21)]
    return tenant, [tenant.inventory.cloud(name=name) for name in names]


def test_sort_by_name_ascending_and_descending(shuffled: tuple[Tenant, list[dict[str, Any]]]) -> None:
    tenant, clouds = shuffled
    by_name = [cloud["id"] for cloud in sorted(clouds, key=lambda c: c["name"])]
    for sort_keys in ("name", "name,id", "name id"):
        pages = follow_next(tenant.client, "/v1/clouds", {"sort_keys": sort_keys, "limit": 10})
        assert [i for page in pages for i in ids_of(page["clouds"])] == by_name, sort_keys
    pages = follow_next(tenant.client, "/v1/clouds", {"sort_keys": "name", "sort_dir": "desc", "limit": 10})
    assert [i for page in pages for i in ids_of(page["clouds"])] == by_name[::-1]
    assert query_of(links_of(pages[1])["self"])["sort_dir"] == "desc"
    # prev on a name-sorted page is the true previous page in that order
    prev = expect(get_href(tenant.client, links_of(pages[2])["prev"]), 200)
    assert ids_of(prev["clouds"]) == ids_of(pages[1]["clouds"])
    descending_by_id = sorted((c["id"] for c in clouds), reverse=True)
    body = expect(tenant.client.get("/v1/clouds", params={"sort_dir": "desc", "limit": 100}), 200)
    assert ids_of(body["clouds"]) == descending_by_id


def test_invalid_sort_keys_and_directions_are_400(shuffled: tuple[Tenant, list[dict[str, Any]]]) -> None:
    client = shuffled[0].client
    expect_error(client.get("/v1/clouds", params={"sort_keys": "foo"}), 400, '"foo" is an invalid sort key')
    expect_error(client.get("/v1/clouds", params={"sort_keys": "name,"}), 400, '"" is an invalid sort key')
    expect_error(client.get("/v1/hosts", params={"sort_keys": "name,bogus"}), 400, '"bogus" is an invalid sort key')
    expect_error(client.get("/v1/clouds", params={"sort_keys": "api_key_hash"}), 400)
    expect_invalid(client.get("/v1/clouds", params={"sort_dir": "up"}), "'up' is not one of ['asc', 'desc']")
    expect_invalid(client.get("/v1/clouds", params={"sort_dir": "DESC"}))


def test_paging_250_clouds_with_limit_100(craton: Craton) -> None:
    tenant = craton.tenant()
    ids = [tenant.inventory.cloud(name=f"big-{n:03}")["id"] for n in range(250)]
    pages = follow_next(tenant.client, "/v1/clouds", {"limit": 100})
    assert [len(page["clouds"]) for page in pages] == [100, 100, 50]
    assert [i for page in pages for i in ids_of(page["clouds"])] == ids
    assert "next" not in links_of(pages[-1])
    assert ids_of(expect(get_href(tenant.client, links_of(pages[2])["prev"]), 200)["clouds"]) == ids[100:200]


def test_links_keep_the_filters(craton: Craton) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    ids = [tenant.inventory.host(region, variables={"k": "v"})["id"] for _ in range(12)]
    tenant.inventory.host()  # another region: filtered out
    params = {"region_id": region["id"], "vars": 'k:"v"', "details": "true", "limit": 10}
    pages = follow_next(tenant.client, "/v1/hosts", params)
    assert [i for page in pages for i in ids_of(page["hosts"])] == ids
    nxt = query_of(links_of(pages[0])["next"])
    assert nxt["region_id"] == str(region["id"]) and nxt["vars"] == 'k:"v"', nxt
    assert all(item["variables"] == {"k": "v"} for page in pages for item in page["hosts"])


def test_devices_page_across_both_types_in_one_order(craton: Craton) -> None:
    """§4.7: pagination runs over hosts and network devices together, then splits each page."""
    tenant = craton.tenant()
    region = tenant.inventory.region()
    made = {}
    for n in reversed(range(14)):
        builder = tenant.inventory.host if n % 3 else tenant.inventory.network_device
        made[f"d{n:02}"] = builder(region, name=f"d{n:02}")["id"]
    for sort_keys in ("name", "name,id", "name id"):
        pages = follow_next(tenant.client, "/v1/devices", {"sort_keys": sort_keys, "limit": 10})
        assert len(pages) == 2
        expected_names = ([f"d{n:02}" for n in range(10)], [f"d{n:02}" for n in range(10, 14)])
        for page, names in zip(pages, expected_names, strict=True):
            hosts = [made[name] for name in names if int(name[1:]) % 3]
            switches = [made[name] for name in names if not int(name[1:]) % 3]
            assert ids_of(page["devices"]["hosts"]) == hosts
            assert ids_of(page["devices"]["network-devices"]) == switches
    desc = expect(tenant.client.get("/v1/devices", params={"sort_keys": "name", "sort_dir": "desc", "limit": 10}), 200)
    first_ten = [f"d{n:02}" for n in range(13, 3, -1)]
    assert ids_of(desc["devices"]["hosts"]) == [made[name] for name in first_ten if int(name[1:]) % 3]
    assert query_of(links_of(desc)["next"])["marker"] == str(made["d04"])


def test_sorting_on_a_column_with_nulls_and_ties(craton: Craton) -> None:
    """Keyset paging on a nullable, non-unique key still returns every item exactly once."""
    tenant = craton.tenant()
    notes = [
        None,
        "b",
        "a",
        None,
        "b",
        "c",
        None,
        "a",
        "b",
        None,
        "c",
        "a",
        None,
        "b",
        "a",
        None,
        "c",
        "b",
        "a",
        None,
        "b",
        "c",
        "a",
        None,
        "b",
    ]
    clouds = [tenant.inventory.cloud(note=note) if note is not None else tenant.inventory.cloud() for note in notes]
    ascending = []
    for sort_dir in ("asc", "desc"):
        pages = follow_next(tenant.client, "/v1/clouds", {"sort_keys": "note", "sort_dir": sort_dir, "limit": 10})
        got = [item for page in pages for item in page["clouds"]]
        assert sorted(ids_of(got)) == sorted(ids_of(clouds)), sort_dir
        values = [item["note"] for item in got]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=sort_dir == "desc"), values
        nulls = [i for i, v in enumerate(values) if v is None]
        assert nulls in (list(range(len(nulls))), list(range(len(values) - len(nulls), len(values)))), values
        for note in {"a", "b", "c", None}:  # ties are broken by id, in the same direction
            tied = [item["id"] for item in got if item["note"] == note]
            assert tied == sorted(tied, reverse=sort_dir == "desc"), (note, tied)
        if sort_dir == "asc":
            ascending = ids_of(got)
        else:
            assert ids_of(got) == ascending[::-1]
        prev = expect(get_href(tenant.client, links_of(pages[2])["prev"]), 200)
        assert ids_of(prev["clouds"]) == ids_of(pages[1]["clouds"])


def test_sorting_by_name_with_ties_across_parents(craton: Craton) -> None:
    tenant = craton.tenant()
    regions = [tenant.inventory.region() for _ in range(3)]
    cells = [
        tenant.inventory.cell(region, name=f"cell-{n % 4}") for n in range(8) for region in regions[n % 3 : n % 3 + 1]
    ]
    pages = follow_next(tenant.client, "/v1/cells", {"sort_keys": "name", "limit": 10})
    got = [item for page in pages for item in page["cells"]]
    assert [(c["name"], c["id"]) for c in got] == sorted((c["name"], c["id"]) for c in cells)
