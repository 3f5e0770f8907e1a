"""Regression tests for the hostile-input defects of issue #19 (items 4-10, 13), on every database.

Each test derives its targets from the routes the service really serves (``craton.app.API_ROUTES``),
so a write route or a body field added later is covered without editing this file:

- unpaired UTF-16 surrogates, escaped (``"\\ud800"``) or raw (bytes ED A0 80), in every string field
  of every body: 400 naming the field (item 4);
- ``as_of`` / ``diff_from`` / ``diff_to`` at the edges of the calendar on every resource: 400 or a
  correct answer, never 5xx (item 5);
- boolean sort keys page to the end in both directions (item 6);
- a body that is not declared as JSON: 415 on every write route, and nothing changes (item 9);
- numbers beyond a double and a leading BOM: 400 (item 10);
- secret-derived user columns are neither sort keys nor filters (item 13).

Item 7 (unknown URLs while the database is down) is in tests/reliability/test_service_health.py,
item 8 (inventory host names) in tests/inventory/test_inventory_naming.py, item 12 (log forging)
in tests/security/test_logs.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from craton.app import API_ROUTES
from tests.api.helpers import Craton, Tenant, describe, expect, expect_error, follow_next, items_of, unique

SURROGATE = "\ud800"
JSON = {"content-type": "application/json"}


def body_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path template, body schema) of every operation that takes a JSON body.

    An operation reading its body itself (``raw_body``: the import) counts when it accepts JSON.
    """
    for route in API_ROUTES:
        for op in getattr(route, "operations", []):
            if op.body is not None:
                yield op.method, route.path, op.body
            elif op.raw_body is not None and "application/json" in op.raw_body.content:
                yield op.method, route.path, op.raw_body.content["application/json"]["schema"]


def escaped(body: Any) -> bytes:
    return json.dumps(body).encode()  # ensure_ascii: the surrogate travels as a \ud800 escape


def raw(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")  # bytes ED A0 80


def hostile_bodies(schema: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """(body, field the 400 must name) for a surrogate in every string place the schema accepts."""
    if schema.get("type") == "array":
        yield [SURROGATE], "[0]"
        return
    properties = schema.get("properties")
    if properties is None:  # a variables body: any key, any JSON value
        yield {"key": SURROGATE}, "key"
        yield {"key": {"nested": ["ok", SURROGATE]}}, "key.nested[1]"
        yield {f"k{SURROGATE}": 1}, "The key"
        return
    for name in properties:
        if name == "variables":
            yield {"variables": {"v": SURROGATE}}, "variables.v"
            yield {"variables": {SURROGATE: 1}}, "in variables"
        elif name == "labels":
            yield {"labels": ["fine", SURROGATE]}, "labels[1]"
        else:
            # every field, whatever its declared type: a string where an integer belongs must be a 400 too
            yield {name: SURROGATE}, name


@pytest.fixture(scope="module")
def objects(craton: Craton) -> dict[str, Any]:
    """One object of every kind in a fresh project, created by the project's admin; ids by collection."""
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud()
    region = inv.region(cloud)
    cell = inv.cell(region)
    switch = inv.network_device(region, cell=cell)
    host = inv.host(region, cell=cell, parent=switch, labels=["keep"])
    network = inv.network(region, cell=cell)
    interface = inv.interface(host, network=network)
    user = expect(craton.root.post("/v1/users", json={"username": unique("u"), "project_id": tenant.project_id}), 201)
    return {
        "tenant": tenant,
        "projects": tenant.project_id,
        "users": user["id"],
        "clouds": cloud["id"],
        "regions": region["id"],
        "cells": cell["id"],
        "hosts": host["id"],
        "network-devices": switch["id"],
        "networks": network["id"],
        "network-interfaces": interface["id"],
        # A literal public address: no DNS lookup, and the test servers deliver nothing.
        "webhooks": expect(
            tenant.client.post("/v1/webhooks", json={"url": "https://8.8.8.8/h", "secret": "s" * 16}), 201
        )["id"],
    }


def concrete(path: str, objects: dict[str, Any]) -> str:
    if "{id}" not in path:  # a collection or a view (/v1/import)
        return path
    return path.replace("{id}", str(objects[path.split("/")[2]]))


def latest_change(client: httpx.Client) -> int:
    since = 0
    while True:
        body = expect(client.get("/v1/changes", params={"since": since, "limit": 1000}), 200)
        if not body["changes"]:
            return since
        since = body["next_since"]


# --- item 4: unpaired surrogates ------------------------------------------------------------------


def test_unpaired_surrogates_in_any_body_field_are_400_naming_the_field(
    craton: Craton, objects: dict[str, Any]
) -> None:
    root = craton.root
    before = latest_change(root)
    tried = 0
    for method, path, schema in body_operations():
        url = concrete(path, objects)
        for body, field in hostile_bodies(schema):
            for encode in (escaped, raw):
                response = root.request(method, url, content=encode(body), headers=JSON)
                message = expect_error(response, 400)
                assert field in message and "unpaired UTF-16 surrogate" in message, describe(response)
                tried += 1
    assert tried > 200
    assert latest_change(root) == before, "a refused body changed something"


def test_surrogates_outside_bodies_are_never_a_server_error(craton: Craton, objects: dict[str, Any]) -> None:
    """Query strings and paths are percent-decoded with replacement; header values arrive as Latin-1."""
    root = craton.root
    for path in ("/v1/clouds?name=%ED%A0%80", "/v1/hosts?label=%ED%A0%80&vars=a:%ED%A0%80", "/v1/hosts/%ED%A0%80"):
        assert root.get(path).status_code < 500, path
    headers = {"X-Craton-Change-Reason": b"r\xed\xa0\x80"}
    url = f"/v1/clouds/{objects['clouds']}/variables"
    assert root.put(url, json={"reason": 1}, headers=headers).status_code == 200
    stranger = {"X-Auth-Project": objects["projects"], "X-Auth-User": b"\xed\xa0\x80", "X-Auth-Token": "x"}
    expect_error(craton.client().get("/v1/clouds", headers=stranger), 401)


# --- item 5: timestamps at the edges of the calendar ----------------------------------------------

VARIABLE_PATHS = sorted({path for route in API_ROUTES if (path := route.path).endswith("/{id}/variables")})


@pytest.mark.parametrize("path", VARIABLE_PATHS)
def test_history_times_at_the_edges_of_the_calendar_are_never_a_server_error(
    craton: Craton, objects: dict[str, Any], path: str
) -> None:
    root = craton.root
    url = concrete(path, objects)
    outside = ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999999-00:01")
    for text in outside:
        expect_error(root.get(url, params={"as_of": text}), 400, contains=["as_of", "outside"])
        expect_error(root.get(url, params={"diff_from": text}), 400, contains=["diff_from"])
        expect_error(root.get(url, params={"diff_from": "2026-01-01T00:00:00Z", "diff_to": text}), 400)
    # inside the calendar but before anything existed: the object had no state then
    expect_error(root.get(url, params={"as_of": "0001-01-01T00:00:00Z"}), 404, contains=["no recorded state"])
    expect_error(root.get(url, params={"as_of": "0001-01-01T00:00:00-00:01"}), 404)
    expect_error(root.get(url, params={"as_of": "9999-12-31T23:59:59Z"}), 400, contains=["future"])


# --- item 6: boolean sort keys --------------------------------------------------------------------


def _boolean_world(craton: Craton) -> tuple[Tenant, int]:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    count = 23  # three pages of 10, the last one short
    for i in range(count):
        tenant.inventory.host(region, active=i % 3 == 0)
        if i < 12:
            tenant.inventory.network_device(region, active=i % 2 == 0)
            craton.user(tenant.project_id, is_admin=i % 4 == 0)
    return tenant, count


@pytest.fixture(scope="module")
def boolean_world(craton: Craton) -> tuple[Tenant, int]:
    return _boolean_world(craton)


@pytest.mark.parametrize(
    ("path", "key", "sort_key"),
    [
        ("/v1/hosts", "hosts", "active"),
        ("/v1/network-devices", "network_devices", "active"),
        ("/v1/devices", "devices", "active"),
        ("/v1/users", "users", "is_admin"),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("then", ["", ",name", ",id"])
def test_boolean_sort_keys_page_to_the_end(
    boolean_world: tuple[Tenant, int], path: str, key: str, sort_key: str, direction: str, then: str
) -> None:
    tenant, _ = boolean_world
    if then == ",name" and key == "users":
        then = ",username"
    if then == ",name" and key == "devices":
        then = ",ip_address"
    params = {"sort_keys": sort_key + then, "sort_dir": direction, "limit": 10}
    pages = follow_next(tenant.client, path, params)
    seen = [item for page in pages for item in items_of(page, key)]
    everything = items_of(expect(tenant.client.get(path, params={"limit": 100}), 200), key)
    assert sorted(item["id"] for item in seen) == sorted(item["id"] for item in everything), "every item exactly once"
    flags = [item[sort_key] for item in seen] if key != "devices" else None
    if flags is not None:
        assert flags == sorted(flags, reverse=direction == "desc"), flags
    if len(everything) > 10:
        assert len(pages) >= 2


# --- item 9: bodies that are not declared as JSON -------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_write_whose_body_is_not_declared_json_is_415_and_changes_nothing(
    craton: Craton, objects: dict[str, Any], content_type: str | None
) -> None:
    root = craton.root
    before = latest_change(root)
    snapshots = {kind: root.get(concrete(f"/v1/{kind}/{{id}}", objects)).json() for kind in ("clouds", "hosts")}
    tried = []
    for method, path, schema in body_operations():
        body: Any = ["a"] if schema.get("type") == "array" else {"name": unique("changed"), "note": "changed"}
        if path.endswith("/labels"):
            body = {"labels": ["keep"]}  # a DELETE of it would remove the host's label
        request = root.build_request(method, concrete(path, objects), content=json.dumps(body).encode())
        if content_type is None:
            request.headers.pop("content-type", None)
        else:
            request.headers["content-type"] = content_type
        response = root.send(request)
        expect_error(response, 415, contains=["Content-Type", "application/json"])
        tried.append(f"{method} {path}")
    assert len(tried) >= 30, tried
    assert latest_change(root) == before, "a refused write changed something"
    for kind, snapshot in snapshots.items():
        assert root.get(concrete(f"/v1/{kind}/{{id}}", objects)).json() == snapshot


def test_json_media_types_and_empty_optional_bodies_still_work(craton: Craton, objects: dict[str, Any]) -> None:
    root = craton.root
    url = concrete("/v1/clouds/{id}", objects)
    for media in ("application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"):
        expect(root.put(url, content=b'{"note": "media"}', headers={"content-type": media}), 200)
    expect(root.put(url, content=b"", headers={"content-type": "text/plain"}), 200)  # no body: nothing to refuse


# --- item 10: numbers beyond a double, byte order marks -------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E+309", "123456789e999"])
def test_numbers_beyond_a_double_are_400_and_not_stored(craton: Craton, objects: dict[str, Any], number: str) -> None:
    root = craton.root
    url = concrete("/v1/clouds/{id}/variables", objects)
    response = root.put(url, content=f'{{"num": {number}}}'.encode(), headers=JSON)
    expect_error(response, 400, contains=["beyond the range of a double"])
    create = root.post(
        "/v1/clouds", content=f'{{"name": "n", "variables": {{"x": [{number}]}}}}'.encode(), headers=JSON
    )
    expect_error(create, 400, contains=["beyond the range of a double"])
    assert "num" not in expect(root.get(url), 200)["variables"]
    expect(root.put(url, content=b'{"small": 1e-400, "big": 1.7976931348623157e308}', headers=JSON), 200)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])
def test_a_body_with_a_byte_order_mark_is_400(craton: Craton, objects: dict[str, Any], bom: bytes) -> None:
    root = craton.root
    url = concrete("/v1/clouds/{id}/variables", objects)
    expect_error(root.put(url, content=bom + b'{"bom": 1}', headers=JSON), 400, contains=["not valid JSON"])
    utf16 = '{"bom": 1}'.encode("utf-16")  # a BOM and UTF-16: JSON on the wire is UTF-8
    expect_error(root.put(url, content=utf16, headers=JSON), 400, contains=["not valid JSON"])
    assert "bom" not in expect(root.get(url), 200)["variables"]


# --- item 13: secret-derived columns --------------------------------------------------------------


@pytest.mark.parametrize(
    "column", ["api_key_hash", "previous_api_key_hash", "previous_key_expires_at", "is_root", "api_key"]
)
def test_secret_user_columns_are_not_sort_keys_or_filters(craton: Craton, column: str) -> None:
    root = craton.root
    expect_error(root.get("/v1/users", params={"sort_keys": column}), 400, f'"{column}" is an invalid sort key')
    expect_error(root.get("/v1/users", params={"sort_keys": f"username,{column}"}), 400)
    expect_error(root.get("/v1/users", params={column: "x"}), 400, contains=["Additional properties"])
