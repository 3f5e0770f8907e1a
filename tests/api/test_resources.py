"""The resource contract suite: one short declaration per resource, one set of tests for all.

Covers create/get/update/delete, exact field sets (craton-v1-api.md §4.1 + docs/decisions.md §12),
Location headers, 404 for missing ids, 409 for duplicates (create and update, docs/decisions.md §7)
and 400 for unknown keys, missing required keys and wrong types (§1.4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.helpers import (
    ISO_UTC_RE,
    MISSING_ID,
    NOT_FOUND,
    UUID_RE,
    Craton,
    Inventory,
    Tenant,
    describe,
    expect,
    expect_error,
    expect_invalid,
    expect_not_found,
    ids_of,
    original,
    required_message,
    unique,
)

Body = dict[str, Any]
DEVICE_FIELDS = {
    "created_at",
    "updated_at",
    "id",
    "name",
    "note",
    "ip_address",
    "device_type",
    "active",
    "cell_id",
    "region_id",
    "cloud_id",
    "parent_id",
    "project_id",
    "labels",
    "links",
}


@dataclass(frozen=True)
class Spec:
    """How one resource behaves on the wire; everything else is shared."""

    path: str
    key: str
    fields: frozenset[str]  # of a create / get response (with variables)
    new: Callable[[Inventory], Body]  # a valid create body, parents created as needed
    update: Body  # a valid update body; the response must reflect it
    required: tuple[str, ...]
    wrong_types: tuple[tuple[str, Any, str], ...]  # (key, value, schema message)
    duplicate_message: str | None = None  # None: names need not be unique (projects)
    root_only: bool = False
    updatable: bool = True
    extra_checks: Callable[[Body, Body], None] | None = None  # (create body, response)
    create_only_fields: frozenset[str] = field(default=frozenset())

    @property
    def update_fields(self) -> frozenset[str]:
        return self.fields - {"variables"}


def _region_body(inv: Inventory) -> Body:
    return {"name": unique("region"), "cloud_id": inv.cloud()["id"], "note": "n", "variables": {"r": 1}}


def _cell_body(inv: Inventory) -> Body:
    region = inv.region()
    return {"name": unique("cell"), "region_id": region["id"], "cloud_id": region["cloud_id"], "variables": {"c": [1]}}


def _host_body(inv: Inventory) -> Body:
    cell = inv.cell()
    return {
        "name": unique("host"),
        "cloud_id": cell["cloud_id"],
        "region_id": cell["region_id"],
        "cell_id": cell["id"],
        "ip_address": "192.168.1.1",
        "device_type": "server",
        "note": "rack 4",
        "active": True,
        "labels": ["b-label", "a-label"],
        "variables": {"h": True},
    }


def _network_device_body(inv: Inventory) -> Body:
    region = inv.region()
    return {
        "name": unique("switch"),
        "cloud_id": region["cloud_id"],
        "region_id": region["id"],
        "ip_address": "10.10.0.1",
        "device_type": "switch",
        "model_name": "m1",
        "os_version": "7.1",
        "vlans": "1,2",
        "note": "top of rack",
        "labels": ["tor"],
        "variables": {"n": None},
    }


def _network_body(inv: Inventory) -> Body:
    region = inv.region()
    return {
        "name": unique("net"),
        "cloud_id": region["cloud_id"],
        "region_id": region["id"],
        "cidr": "10.0.0.0/24",
        "gateway": "10.0.0.1",
        "netmask": "255.255.255.0",
        "ip_block_type": "private",
        "nss": "ns1",
        "variables": {"net": "x"},
    }


def _interface_body(inv: Inventory) -> Body:
    return {
        "name": unique("eth"),
        "device_id": inv.host()["id"],
        "interface_type": "ethernet",
        "ip_address": "10.2.0.9",
        "port": 3,
        "speed": 10_000_000_000,
        "vlan_id": 12,
        "vlan": "v12",
        "duplex": "full",
        "link": "up",
        "cdp": "on",
        "security": "none",
        "variables": {"i": 1},
    }


def _check_device(body: Body, got: Body) -> None:
    """docs/decisions.md §12: labels and (network devices) note are accepted and returned."""
    if "labels" in body:
        assert sorted(got["labels"]) == sorted(body["labels"]), got
    if "note" in body:
        assert got["note"] == body["note"], got


def _check_interface(body: Body, got: Body) -> None:
    """docs/decisions.md §12: speed is an integer in and out."""
    if "speed" in body:
        assert got["speed"] == body["speed"] and isinstance(got["speed"], int), got


SPECS: dict[str, Spec] = {
    "clouds": Spec(
        path="/v1/clouds",
        key="clouds",
        fields=frozenset({"created_at", "updated_at", "id", "name", "note", "project_id", "variables"}),
        new=lambda inv: {"name": unique("cloud"), "note": "a note", "variables": {"v": 1}},
        update={"name": unique("cloud-renamed"), "note": "changed"},
        required=("name",),
        wrong_types=(("name", 1, "1 is not of type 'string'"), ("note", ["x"], "['x'] is not of type 'string'")),
        duplicate_message="A cloud with the given name already exists.",
    ),
    "regions": Spec(
        path="/v1/regions",
        key="regions",
        fields=frozenset({"created_at", "updated_at", "id", "name", "note", "cloud_id", "project_id", "variables"}),
        new=_region_body,
        update={"name": unique("region-renamed"), "note": "changed"},
        required=("name", "cloud_id"),
        wrong_types=(("cloud_id", "asdf", "'asdf' is not of type 'integer'"), ("name", 1, "1 is not of type 'string'")),
        duplicate_message="A region with the given name already exists.",
    ),
    "cells": Spec(
        path="/v1/cells",
        key="cells",
        fields=frozenset(
            {"created_at", "updated_at", "id", "name", "note", "region_id", "cloud_id", "project_id", "variables"}
        ),
        new=_cell_body,
        update={"name": unique("cell-renamed"), "note": "changed"},
        required=("name", "region_id", "cloud_id"),
        wrong_types=(
            ("region_id", "asdf", "'asdf' is not of type 'integer'"),
            ("name", None, "None is not of type 'string'"),
        ),
        duplicate_message="A cell with the given name already exists.",
    ),
    "hosts": Spec(
        path="/v1/hosts",
        key="hosts",
        fields=frozenset(DEVICE_FIELDS | {"variables"}),
        new=_host_body,
        update={
            "name": unique("host-renamed"),
            "note": "moved",
            "ip_address": "192.168.1.2",
            "device_type": "vm",
            "active": False,
        },
        required=("name", "cloud_id", "region_id", "ip_address", "device_type"),
        wrong_types=(
            ("active", "yes", "'yes' is not of type 'boolean'"),
            ("labels", "a", "'a' is not of type 'array'"),
            ("parent_id", "x", "'x' is not valid under any of the given schemas"),
        ),
        duplicate_message="A device with the given name already exists.",
        extra_checks=_check_device,
    ),
    "network-devices": Spec(
        path="/v1/network-devices",
        key="network_devices",
        fields=frozenset(DEVICE_FIELDS | {"model_name", "os_version", "vlans", "variables"}),
        new=_network_device_body,
        update={
            "name": unique("switch-renamed"),
            "note": "new note",
            "model_name": "m2",
            "os_version": "8",
            "vlans": "3",
            "ip_address": "10.10.0.2",
            "device_type": "router",
        },
        required=("name", "cloud_id", "region_id", "ip_address", "device_type"),
        wrong_types=(("region_id", "1", "'1' is not of type 'integer'"), ("vlans", 5, "5 is not of type 'string'")),
        duplicate_message="A device with the given name already exists.",
        extra_checks=_check_device,
    ),
    "networks": Spec(
        path="/v1/networks",
        key="networks",
        fields=frozenset(
            {
                "created_at",
                "updated_at",
                "id",
                "name",
                "cidr",
                "gateway",
                "netmask",
                "ip_block_type",
                "nss",
                "cloud_id",
                "region_id",
                "cell_id",
                "project_id",
                "variables",
            }
        ),
        new=_network_body,
        update={
            "name": unique("net-renamed"),
            "cidr": "10.9.0.0/16",
            "gateway": "10.9.0.1",
            "netmask": "255.255.0.0",
            "ip_block_type": "public",
            "nss": "ns2",
        },
        required=("name", "cidr", "gateway", "netmask", "cloud_id", "region_id"),
        wrong_types=(("cidr", 10, "10 is not of type 'string'"), ("cell_id", "c", "'c' is not of type 'integer'")),
        duplicate_message="Network with the given name already exists in this region.",
    ),
    "network-interfaces": Spec(
        path="/v1/network-interfaces",
        key="network_interfaces",
        fields=frozenset(
            {
                "created_at",
                "updated_at",
                "id",
                "name",
                "interface_type",
                "vlan_id",
                "vlan",
                "port",
                "duplex",
                "speed",
                "link",
                "cdp",
                "security",
                "ip_address",
                "device_id",
                "network_id",
                "project_id",
                "variables",
            }
        ),
        new=_interface_body,
        update={
            "name": unique("eth-renamed"),
            "interface_type": "bond",
            "vlan": "v13",
            "duplex": "half",
            "link": "down",
            "cdp": "off",
            "security": "strict",
            "port": 4,
            "speed": 25_000_000_000,
        },
        required=("name", "device_id", "interface_type", "ip_address"),
        wrong_types=(
            ("port", "asdf", "'asdf' is not of type 'integer'"),
            ("speed", "1000", "'1000' is not of type 'integer'"),
        ),
        duplicate_message="",  # unique per device; the original had no message (it gave 500)
        extra_checks=_check_interface,
    ),
    "projects": Spec(
        path="/v1/projects",
        key="projects",
        fields=frozenset({"created_at", "updated_at", "id", "name", "variables"}),
        new=lambda inv: {"name": unique("project"), "variables": {"p": "q"}},
        update={},
        required=("name",),
        wrong_types=(("name", 1, "1 is not of type 'string'"), ("variables", [], "[] is not of type 'object'")),
        root_only=True,
        updatable=False,
    ),
}
RESOURCES = list(SPECS)
#: Kinds whose wire contract is too different for the shared suite, and where it is tested
#: instead (tests/unit/test_kinds.py requires every kind to be in SPECS or here).
CONTRACT_ELSEWHERE = {
    "/v1/users": "tests/api/test_tenancy.py (no variables, username not name, the key shown once, no PUT)",
}


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    """One project for the whole module: these tests never count objects."""
    return craton.tenant()


@pytest.fixture(params=RESOURCES)
def spec(request: pytest.FixtureRequest) -> Spec:
    return SPECS[request.param]


@pytest.fixture
def client(spec: Spec, tenant: Tenant, root: Any) -> Any:
    return root if spec.root_only else tenant.client


def _create(client: Any, spec: Spec, body: Body) -> Body:
    return expect(client.post(spec.path, json=body), 201)


def _check_common(spec: Spec, tenant: Tenant, got: Body, body: Body, fields: frozenset[str]) -> None:
    assert set(got) == set(fields), f"{spec.path}: fields {sorted(set(got) ^ set(fields))} differ: {got}"
    assert isinstance(got["id"], str if spec.root_only else int), got
    if spec.root_only:
        assert UUID_RE.match(got["id"]), got
    else:
        assert got["project_id"] == tenant.project_id and UUID_RE.match(got["project_id"]), got
    assert ISO_UTC_RE.match(got["created_at"]), got
    for name, value in body.items():
        if name not in ("variables", "labels") and name in got:
            assert got[name] == value, f"{name}: {got[name]!r} != {value!r} in {got}"
    if spec.extra_checks is not None:
        spec.extra_checks(body, got)


def test_create_get_update_delete(spec: Spec, client: Any, tenant: Tenant, server: Any) -> None:
    body = spec.new(tenant.inventory)
    response = client.post(spec.path, json=body)
    created = expect(response, 201)
    assert response.headers["location"] == f"{server.url}{spec.path}/{created['id']}", describe(response)
    _check_common(spec, tenant, created, body, spec.fields)
    assert created["variables"] == body["variables"]
    assert created["updated_at"] is None
    item = f"{spec.path}/{created['id']}"

    got = expect(client.get(item), 200)
    _check_common(spec, tenant, got, body, spec.fields)
    assert got["variables"] == body["variables"]  # no parent has variables: own == resolved
    assert {k: v for k, v in got.items() if k != "updated_at"} == {
        k: v for k, v in created.items() if k != "updated_at"
    }

    listed = expect(client.get(spec.path, params={"limit": 100}), 200)
    if not spec.root_only:
        assert created["id"] in ids_of(listed[spec.key]), listed

    if spec.updatable:
        updated = expect(client.put(item, json=spec.update), 200)
        changed = {**{k: v for k, v in body.items() if k in spec.update_fields}, **spec.update}
        _check_common(spec, tenant, updated, changed, spec.update_fields)
        assert updated["updated_at"] is not None and ISO_UTC_RE.match(updated["updated_at"]), updated
        again = expect(client.get(item), 200)
        for name, value in spec.update.items():
            assert again[name] == value, again
        assert again["variables"] == body["variables"]

    expect(client.delete(item), 204)
    expect_not_found(client.get(item))
    expect_not_found(client.delete(item))
    if spec.updatable:
        expect_not_found(client.put(item, json=spec.update))


def test_missing_ids_are_404(spec: Spec, client: Any) -> None:
    missing = (
        ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "12"]
        if spec.root_only
        else [str(MISSING_ID), "abc", "-1"]
    )
    for raw in missing:
        item = f"{spec.path}/{raw}"
        expect_not_found(client.get(item))
        expect_not_found(client.delete(item))
        if spec.updatable:
            expect_not_found(client.put(item, json=spec.update))
        if spec.key != "network_interfaces":
            expect_not_found(client.get(f"{item}/variables"))


def test_duplicates_are_409_on_create_and_update(spec: Spec, client: Any, tenant: Tenant) -> None:
    if spec.duplicate_message is None:
        body = spec.new(tenant.inventory)
        first, second = _create(client, spec, body), _create(client, spec, body)  # project names are not unique
        assert first["id"] != second["id"]
        return
    body = spec.new(tenant.inventory)
    first = _create(client, spec, body)
    message = expect_error(client.post(spec.path, json=body), 409)
    if spec.duplicate_message:
        assert message == spec.duplicate_message
    other = _create(client, spec, {**body, "name": unique("other")})
    message = expect_error(client.put(f"{spec.path}/{other['id']}", json={"name": first["name"]}), 409)
    if spec.duplicate_message:
        assert message == spec.duplicate_message
    assert expect(client.get(f"{spec.path}/{other['id']}"), 200)["name"] != first["name"]


@pytest.mark.parametrize("unexpected", ["id", "created_at", "updated_at", "project_id"])
def test_unknown_keys_are_400_naming_the_key(spec: Spec, client: Any, tenant: Tenant, unexpected: str) -> None:
    body = spec.new(tenant.inventory)
    value = tenant.project_id if unexpected == "project_id" else 1
    expect_invalid(
        client.post(spec.path, json={**body, unexpected: value}),
        f"Additional properties are not allowed ('{unexpected}' was unexpected)",
    )
    if spec.updatable:
        created = _create(client, spec, body)
        expect_invalid(
            client.put(
                f"{spec.path}/{created['id']}",
                json={"note" if "note" in spec.fields else "name": "x", unexpected: value},
            ),
            f"Additional properties are not allowed ('{unexpected}' was unexpected)",
        )


def test_update_rejects_keys_that_cannot_change(spec: Spec, client: Any, tenant: Tenant) -> None:
    """§4.x PUT bodies: parents, labels, variables (and interface addresses) have their own routes or are fixed."""
    if not spec.updatable:
        pytest.skip("no PUT on this resource")
    body = spec.new(tenant.inventory)
    created = _create(client, spec, body)
    # Moves (issue 21, tests/api/test_moves.py): devices change region and cell, cells region.
    movable = {"/v1/cells": {"region_id"}, "/v1/hosts": {"region_id", "cell_id"}}
    movable["/v1/network-devices"] = movable["/v1/hosts"]
    fixed = sorted(set(body) - set(spec.update) - movable.get(spec.path, set()))
    assert "variables" in fixed
    for key in fixed:
        expect_invalid(
            client.put(f"{spec.path}/{created['id']}", json={key: body[key]}),
            f"Additional properties are not allowed ('{key}' was unexpected)",
        )


def test_two_unknown_keys_are_named_together(spec: Spec, client: Any, tenant: Tenant) -> None:
    body = spec.new(tenant.inventory)
    response = client.post(spec.path, json={**body, "id": 1, "foo": 2})
    lines = expect_invalid(response)
    assert any(
        line
        in (
            "Additional properties are not allowed ('id', 'foo' were unexpected)",
            "Additional properties are not allowed ('foo', 'id' were unexpected)",
        )
        for line in lines
    ), describe(response)


def test_missing_required_keys_are_400(spec: Spec, client: Any, tenant: Tenant) -> None:
    expect_invalid(client.post(spec.path, json={}), *required_message(*spec.required), exact=True)
    body = spec.new(tenant.inventory)
    del body["name"]
    expect_invalid(client.post(spec.path, json=body), "'name' is a required property", exact=True)
    expect_invalid(client.post(spec.path), "None is not of type 'object'", exact=True)
    expect_invalid(client.post(spec.path, json=[body]), f"{[body]!r} is not of type 'object'", exact=True)


def test_wrong_types_are_400(spec: Spec, client: Any, tenant: Tenant) -> None:
    body = spec.new(tenant.inventory)
    for key, value, message in spec.wrong_types:
        expect_invalid(client.post(spec.path, json={**body, key: value}), message)
    if spec.updatable:
        created = _create(client, spec, body)
        expect_invalid(client.put(f"{spec.path}/{created['id']}", json={"name": 7}), "7 is not of type 'string'")
        expect_invalid(client.put(f"{spec.path}/{created['id']}", json={"name": ""}))


def test_put_without_body_is_a_no_op(spec: Spec, client: Any, tenant: Tenant) -> None:
    """§1.4: an absent body on a resource PUT changes nothing (200 with the unchanged resource)."""
    if not spec.updatable:
        pytest.skip("no PUT on this resource")
    created = _create(client, spec, spec.new(tenant.inventory))
    got = expect(client.put(f"{spec.path}/{created['id']}"), 200)
    assert got["name"] == created["name"]
    assert set(got) == set(spec.update_fields)


def test_list_details_adds_variables(spec: Spec, client: Any, tenant: Tenant) -> None:
    created = _create(client, spec, spec.new(tenant.inventory))
    if spec.key == "network_interfaces":  # no details parameter (§4.9): items never carry variables
        listed = expect(client.get(spec.path, params={"device_id": created["device_id"]}), 200)
        assert [set(item) for item in listed[spec.key]] == [set(spec.update_fields)], listed
        return
    pages = {}
    for details in ("true", "false"):
        params: dict[str, Any] = {"details": details, "limit": 100}
        if spec.root_only:
            params["name"] = created["name"]
        pages[details] = expect(client.get(spec.path, params=params), 200)
    with_vars = {item["id"]: item for item in pages["true"][spec.key]}
    without = {item["id"]: item for item in pages["false"][spec.key]}
    assert with_vars[created["id"]]["variables"] == created["variables"]
    assert "variables" not in without[created["id"]]
    assert set(without[created["id"]]) == set(spec.update_fields)


def test_not_found_body_is_exact(root: Any) -> None:
    response = root.get(f"/v1/clouds/{MISSING_ID}")
    assert response.status_code == 404 and original(response.json()) == NOT_FOUND
    assert response.json()["detail"] == f"Cloud {MISSING_ID} not found"


# --- per-resource special cases ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clouds", "regions"])
def test_lookup_by_name_or_id_is_unpaginated_and_404_when_absent(craton: Craton, kind: str) -> None:
    """§4.2/§4.3: ?name= / ?id= return one object, ``links: []``, no variables; 404 when nothing matches."""
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    first = inv.cloud(variables={"v": 1}) if kind == "clouds" else inv.region(variables={"v": 1})
    second = inv.cloud() if kind == "clouds" else inv.region()
    for params in (
        {"name": first["name"]},
        {"id": first["id"]},
        {"id": first["id"], "name": second["name"]},
        {"name": first["name"], "details": "true"},
    ):
        body = expect(client.get(f"/v1/{kind}", params=params), 200)
        assert body["links"] == [] and ids_of(body[kind]) == [first["id"]], params
        assert "variables" not in body[kind][0]
    expect_not_found(client.get(f"/v1/{kind}", params={"name": "idontexist"}))
    expect_not_found(client.get(f"/v1/{kind}", params={"id": MISSING_ID}))
    expect_not_found(client.get(f"/v1/{kind}", params={"name": first["name"][:-1] + "%"}))


def test_project_name_filter_is_exact(craton: Craton) -> None:
    """docs/decisions.md §12: ?name= is an exact match, not SQL LIKE; names need not be unique."""
    root = craton.root
    name = unique("exact")
    ids = [expect(root.post("/v1/projects", json={"name": name, "variables": {"n": n}}), 201)["id"] for n in range(2)]
    expect(root.post("/v1/projects", json={"name": name + "-longer"}), 201)
    for pattern in (name[:-1] + "%", name[:-2] + "__", "%", name.upper()):
        assert expect(root.get("/v1/projects", params={"name": pattern}), 200)["projects"] == [], pattern
    body = expect(root.get("/v1/projects", params={"name": name, "details": "true"}), 200)
    assert ids_of(body["projects"]) == ids
    assert [project["variables"] for project in body["projects"]] == [{"n": 0}, {"n": 1}]


def test_cells_and_networks_filters_return_lists(craton: Craton) -> None:
    """§4.4/§4.8: name and parent filters are exact and return (possibly empty) lists."""
    tenant = craton.tenant()
    inv, client = tenant.inventory, tenant.client
    region = inv.region()
    cell = inv.cell(region)
    network = inv.network(region, cell=cell)
    assert ids_of(expect(client.get("/v1/cells", params={"name": cell["name"]}), 200)["cells"]) == [cell["id"]]
    assert expect(client.get("/v1/cells", params={"name": "nope"}), 200)["cells"] == []
    assert ids_of(expect(client.get("/v1/cells", params={"region_id": region["id"]}), 200)["cells"]) == [cell["id"]]
    assert ids_of(expect(client.get("/v1/networks", params={"cell_id": cell["id"]}), 200)["networks"]) == [
        network["id"]
    ]
    assert expect(client.get("/v1/networks", params={"name": "nope"}), 200)["networks"] == []
    interfaces = expect(client.get("/v1/network-interfaces", params={"device_id": MISSING_ID}), 200)
    assert interfaces["network_interfaces"] == []
