"""``name_contains=`` on every list, and labels meaning "has all of these" (issue 21)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Craton, Tenant, expect, expect_invalid, follow_next, ids_of, items_of, links_of, query_of

LISTS = [
    ("/v1/clouds", "clouds"),
    ("/v1/regions", "regions"),
    ("/v1/cells", "cells"),
    ("/v1/hosts", "hosts"),
    ("/v1/network-devices", "network_devices"),
    ("/v1/devices", "devices"),
    ("/v1/networks", "networks"),
    ("/v1/network-interfaces", "network_interfaces"),
    ("/v1/users", "users"),
]


@pytest.fixture(scope="module")
def named(craton: Craton) -> tuple[Tenant, dict[str, list[Any]]]:
    """In one project, objects of every kind named 'Rack-A_1%', 'rack-b' and 'other'."""
    tenant = craton.tenant()
    inv = tenant.inventory
    made: dict[str, list[Any]] = {key: [] for _, key in LISTS}
    cloud = inv.cloud()
    for name in ("Rack-A_1%", "rack-b", "other"):
        made["clouds"].append(inv.cloud(name=f"{name}-cloud"))
        region = inv.region(cloud, name=f"{name}-region")
        made["regions"].append(region)
        made["cells"].append(inv.cell(region, name=f"{name}-cell"))
        host = inv.host(region, name=f"{name}-host")
        made["hosts"].append(host)
        made["network_devices"].append(inv.network_device(region, name=f"{name}-switch"))
        made["networks"].append(inv.network(region, name=f"{name}-net"))
        made["network_interfaces"].append(inv.interface(host, name=f"{name}-eth"))
        made["users"].append(tenant.craton.user(tenant.project_id, username=f"{name}-user-{tenant.project_id[:8]}"))
    made["devices"] = [*made["hosts"], *made["network_devices"]]
    return tenant, made


def _names(body: dict[str, Any], key: str) -> list[str]:
    return sorted(item.get("name") or item.get("username") for item in items_of(body, key))


@pytest.mark.parametrize(("path", "key"), LISTS)
def test_name_contains_is_a_case_insensitive_substring(
    named: tuple[Tenant, dict[str, list[Any]]], path: str, key: str
) -> None:
    tenant, _ = named
    client = tenant.client

    def names(text: str) -> list[str]:
        return _names(expect(client.get(path, params={"name_contains": text}), 200), key)

    rack = names("RACK")
    assert len(rack) == (4 if key == "devices" else 2), rack
    assert all(name.lower().startswith("rack-") for name in rack)
    assert names("rack") == rack
    # '%' and '_' are literal characters, not SQL wildcards
    underscore = names("A_1%")
    assert len(underscore) == (2 if key == "devices" else 1) and all("A_1%" in n for n in underscore), underscore
    assert names("a%1") == []
    assert names("_b") == []
    assert names("no such text") == []


def test_name_stays_exact(named: tuple[Tenant, dict[str, list[Any]]]) -> None:
    tenant, made = named
    client = tenant.client
    assert ids_of(expect(client.get("/v1/hosts", params={"name": "rack-b-host"}), 200)["hosts"]) == [
        made["hosts"][1]["id"]
    ]
    assert expect(client.get("/v1/hosts", params={"name": "RACK-B-host"}), 200)["hosts"] == []
    assert expect(client.get("/v1/hosts", params={"name": "rack-b"}), 200)["hosts"] == []
    # both together: the exact name must also contain the text
    body = expect(client.get("/v1/cells", params={"name": "rack-b-cell", "name_contains": "B-C"}), 200)
    assert ids_of(body["cells"]) == [made["cells"][1]["id"]]
    body = expect(client.get("/v1/clouds", params={"name": "rack-b-cloud", "name_contains": "B-C"}), 200)
    assert ids_of(body["clouds"]) == [made["clouds"][1]["id"]]
    assert client.get("/v1/clouds", params={"name": "rack-b-cloud", "name_contains": "zzz"}).status_code == 404


def test_name_contains_on_projects_for_root(craton: Craton) -> None:
    tenant = craton.tenant()
    name = expect(craton.root.get(f"/v1/projects/{tenant.project_id}"), 200)["name"]
    found = follow_next(craton.root, "/v1/projects", {"name_contains": name.upper()})
    assert [item["id"] for page in found for item in page["projects"]] == [tenant.project_id]


def test_name_contains_pages_keep_the_filter(craton: Craton) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    wanted = [tenant.inventory.host(region, name=f"web-{i:02}")["id"] for i in range(12)]
    tenant.inventory.host(region, name="db-1")
    first = expect(tenant.client.get("/v1/hosts", params={"name_contains": "WEB", "limit": 10}), 200)
    assert query_of(links_of(first)["next"])["name_contains"] == "WEB"
    pages = follow_next(tenant.client, "/v1/hosts", {"name_contains": "WEB", "limit": 10})
    assert [host["id"] for page in pages for host in page["hosts"]] == wanted


def test_name_contains_is_validated_and_documented(craton: Craton) -> None:
    expect_invalid(craton.root.get("/v1/hosts", params={"name_contains": "x" * 256}))
    spec = expect(craton.root.get("/openapi.json"), 200)
    for path, _ in [*LISTS, ("/v1/projects", "projects")]:
        names = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert "name_contains" in names, path
        assert "ignoring case" in names["name_contains"]["description"]


# --- labels: all of them ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(craton: Craton) -> tuple[Tenant, dict[str, Any]]:
    tenant = craton.tenant()
    inv = tenant.inventory
    region = inv.region()
    made = {
        "compute": inv.host(region, labels=["compute"]),
        "both": inv.host(region, labels=["compute", "gpu"]),
        "all3": inv.host(region, labels=["compute", "gpu", "ssd"]),
        "gpu": inv.host(region, labels=["gpu"]),
        "none": inv.host(region),
        "switch": inv.network_device(region, labels=["compute", "gpu"]),
        "switch1": inv.network_device(region, labels=["gpu"]),
    }
    return tenant, made


def _host_ids(tenant: Tenant, query: str, path: str = "/v1/hosts", key: str = "hosts") -> list[int]:
    return ids_of(items_of(expect(tenant.client.get(f"{path}?{query}"), 200), key))


def test_repeated_and_comma_labels_mean_all_of(labelled: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, made = labelled
    ids = {name: row["id"] for name, row in made.items()}
    assert _host_ids(tenant, "label=compute") == [ids["compute"], ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=compute&label=gpu") == [ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=gpu&label=compute") == [ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=compute,gpu") == [ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=compute,%20gpu") == [ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=compute,gpu&label=ssd") == [ids["all3"]]
    assert _host_ids(tenant, "label=compute&label=compute") == [ids["compute"], ids["both"], ids["all3"]]
    assert _host_ids(tenant, "label=compute&label=nothing") == []
    assert _host_ids(tenant, "label=compute,gpu", "/v1/network-devices", "network_devices") == [ids["switch"]]
    assert _host_ids(tenant, "label=gpu&label=compute", "/v1/devices", "devices") == [
        ids["both"],
        ids["all3"],
        ids["switch"],
    ]


def test_label_links_repeat_every_label(labelled: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, _ = labelled
    body = expect(tenant.client.get("/v1/hosts?label=compute,gpu&label=ssd&limit=10"), 200)
    self_link = links_of(body)["self"]
    assert "label=compute&label=gpu&label=ssd" in self_link, self_link
    assert ids_of(expect(tenant.client.get(self_link), 200)["hosts"]) == ids_of(body["hosts"])


def test_label_filter_bounds(labelled: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, _ = labelled
    expect_invalid(tenant.client.get("/v1/hosts", params={"label": "x" * 256}))
    expect_invalid(tenant.client.get("/v1/hosts", params={"label": ",".join(f"l{i}" for i in range(101))}))
    # an empty value filters nothing
    assert len(_host_ids(tenant, "label=")) == 5


def test_inventory_labels_mean_all_of(labelled: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, made = labelled

    def hosts(query: str) -> list[str]:
        body = expect(tenant.client.get(f"/v1/ansible-inventory?{query}"), 200)
        return sorted(body["_meta"]["hostvars"])

    assert hosts("label=compute&label=gpu") == sorted([made["both"]["name"], made["all3"]["name"]])
    assert hosts("label=compute,gpu,ssd") == [made["all3"]["name"]]
    assert hosts("label=gpu") == sorted([made["both"]["name"], made["all3"]["name"], made["gpu"]["name"]])
