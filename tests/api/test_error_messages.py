"""Every error whose original Craton v1 sentence is known answers with exactly that ``message``.

The catalogue is craton-v1-api.md §1.3/§1.4: clients and the original functional suite compare
``message`` with these sentences, so they must not change. What we know beyond the original
sentence goes to ``detail`` (issue #13), which each case below checks too, so that nothing a
user saw before became less helpful. The only deliberate difference is the status of a failed
role check (403, not 401; decisions.md §2); its sentence is the original one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    BAD_CREDENTIALS,
    INVALID_PATH,
    INVALID_VALUE,
    MISSING_ID,
    VALIDATION,
    Craton,
    Tenant,
    describe,
    expect,
    unique,
)

MALFORMED_JSON = "The browser (or proxy) sent a request that this server could not understand."
UNKNOWN_URL = (
    "The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again."
)
NOT_ALLOWED = "The method is not allowed for the requested URL."


@dataclass
class World:
    craton: Craton
    tenant: Tenant
    cloud: dict[str, Any]
    region: dict[str, Any]
    cell: dict[str, Any]
    host: dict[str, Any]
    child: dict[str, Any]
    network: dict[str, Any]


@pytest.fixture(scope="module")
def world(craton: Craton) -> World:
    tenant = craton.tenant()
    inv = tenant.inventory
    cloud = inv.cloud()
    region = inv.region(cloud)
    cell = inv.cell(region)
    host = inv.host(region)
    child = inv.host(region, parent=host)
    network = inv.network(region)
    return World(craton, tenant, cloud, region, cell, host, child, network)


@dataclass(frozen=True)
class Case:
    """One error path: the request, its status, the original ``message`` and our ``detail``."""

    name: str
    send: Callable[[World], httpx.Response]
    status: int
    message: Callable[[World], str]
    detail: Callable[[World], str | None]


def _headers(w: World, **overrides: str | None) -> dict[str, str]:
    good = dict(w.tenant.client.headers)
    headers = {
        "X-Auth-Project": good["x-auth-project"],
        "X-Auth-User": good["x-auth-user"],
        "X-Auth-Token": good["x-auth-token"],
    }
    for name, value in overrides.items():
        header = "X-Auth-" + name.capitalize()
        if value is None:
            headers.pop(header)
        else:
            headers[header] = value
    return headers


def _as(w: World, **overrides: str | None) -> httpx.Client:
    return w.craton.client(_headers(w, **overrides))


def _duplicate(path: str, body: Callable[[World], dict[str, Any]]) -> Callable[[World], httpx.Response]:
    return lambda w: w.tenant.client.post(path, json=body(w))


def _json_body(w: World, raw: bytes) -> httpx.Response:
    return w.tenant.client.post("/v1/clouds", content=raw, headers={"content-type": "application/json"})


ALL_MISSING = (
    "Missing headers: X-Auth-Project, X-Auth-User, X-Auth-Token. Every request needs X-Auth-Project "
    "(project UUID), X-Auth-User (user name) and X-Auth-Token (API key)."
)

CASES = [
    # --- authentication (§1.3, §2.5) ---------------------------------------------------------
    Case(
        "no credentials at all",
        lambda w: w.craton.client().get("/v1/clouds"),
        401,
        lambda w: "Project ID ('None') is not a valid UUID",
        lambda w: ALL_MISSING,
    ),
    Case(
        "no credentials on an unknown URL (401 before routing)",
        lambda w: w.craton.client().get("/v1/no-such-thing"),
        401,
        lambda w: "Project ID ('None') is not a valid UUID",
        lambda w: ALL_MISSING,
    ),
    Case(
        "project header that is not a UUID",
        lambda w: _as(w, project="not-a-uuid").get("/v1/clouds"),
        401,
        lambda w: "Project ID ('not-a-uuid') is not a valid UUID",
        lambda w: (
            "X-Auth-Project is neither a project UUID nor the name of a project where X-Auth-User and "
            "X-Auth-Token are valid."
        ),
    ),
    Case(
        "no token",
        lambda w: _as(w, token=None).get("/v1/clouds"),
        401,
        lambda w: BAD_CREDENTIALS,
        lambda w: (
            "Missing header: X-Auth-Token. Every request needs X-Auth-Project (project UUID), "
            "X-Auth-User (user name) and X-Auth-Token (API key)."
        ),
    ),
    Case(
        "no user and no token",
        lambda w: _as(w, user=None, token=None).get("/v1/clouds"),
        401,
        lambda w: BAD_CREDENTIALS,
        lambda w: (
            "Missing headers: X-Auth-User, X-Auth-Token. Every request needs X-Auth-Project (project UUID), "
            "X-Auth-User (user name) and X-Auth-Token (API key)."
        ),
    ),
    Case(
        "wrong token",
        lambda w: _as(w, token="wrong").get("/v1/clouds"),
        401,
        lambda w: BAD_CREDENTIALS,
        lambda w: f"X-Auth-User and X-Auth-Token do not match a user of project {w.tenant.project_id}.",
    ),
    Case(
        "unknown user (same answer as a wrong token)",
        lambda w: _as(w, user="nobody-" + unique()).get("/v1/clouds"),
        401,
        lambda w: BAD_CREDENTIALS,
        lambda w: f"X-Auth-User and X-Auth-Token do not match a user of project {w.tenant.project_id}.",
    ),
    Case(
        "role check (403 instead of the original 401, same sentence)",
        lambda w: w.tenant.member().get("/v1/users"),
        403,
        lambda w: "This action requires the 'admin' role",
        lambda w: None,
    ),
    # --- validation (§1.4) ------------------------------------------------------------------------
    Case(
        "body without a required key",
        lambda w: w.tenant.client.post("/v1/clouds", json={}),
        400,
        lambda w: VALIDATION + "'name' is a required property",
        lambda w: None,
    ),
    Case(
        "region body without its cloud",
        lambda w: w.tenant.client.post("/v1/regions", json={"name": unique()}),
        400,
        lambda w: VALIDATION + "'cloud_id' is a required property",
        lambda w: None,
    ),
    Case(
        "read-only key in a body",
        lambda w: w.tenant.client.post("/v1/clouds", json={"name": unique(), "id": 5}),
        400,
        lambda w: VALIDATION + "Additional properties are not allowed ('id' was unexpected)",
        lambda w: None,
    ),
    Case(
        "no body where an object is needed",
        lambda w: w.tenant.client.post("/v1/clouds"),
        400,
        lambda w: VALIDATION + "None is not of type 'object'",
        lambda w: None,
    ),
    Case(
        "variables DELETE without an array",
        lambda w: w.tenant.client.request("DELETE", f"/v1/clouds/{w.cloud['id']}/variables", json={"a": "b"}),
        400,
        lambda w: VALIDATION + "{'a': 'b'} is not of type 'array'",
        lambda w: None,
    ),
    Case(
        "limit below the minimum",
        lambda w: w.tenant.client.get("/v1/clouds", params={"limit": 5}),
        400,
        lambda w: VALIDATION + "5 is less than the minimum of 10",
        lambda w: None,
    ),
    Case(
        "unknown query parameter on a no-parameter GET",
        lambda w: w.tenant.client.get(f"/v1/hosts/{w.host['id']}/labels", params={"foo": "bar"}),
        400,
        lambda w: (
            VALIDATION
            + "Additional properties are not allowed ('foo' was unexpected)\n- {'foo': 'bar'} has too many properties"
        ),
        lambda w: None,
    ),
    Case(
        "sort direction outside its enum",
        lambda w: w.tenant.client.get("/v1/clouds", params={"sort_dir": "up"}),
        400,
        lambda w: VALIDATION + "'up' is not one of ['asc', 'desc']",
        lambda w: None,
    ),
    Case(
        "body that is not JSON",
        lambda w: _json_body(w, b'{"name": '),
        400,
        lambda w: MALFORMED_JSON,
        lambda w: "The body is not valid JSON: Expecting value: line 1 column 10 (char 9).",
    ),
    # --- pagination (§3) ----------------------------------------------------------------------------
    Case(
        "unknown marker",
        lambda w: w.tenant.client.get("/v1/clouds", params={"marker": MISSING_ID}),
        400,
        lambda w: f'Marker "{MISSING_ID}" does not exist',
        lambda w: None,
    ),
    Case(
        "unknown sort key",
        lambda w: w.tenant.client.get("/v1/hosts", params={"sort_keys": "colour"}),
        400,
        lambda w: '"colour" is an invalid sort key',
        lambda w: None,
    ),
    # --- the vars filter (§6.5) ------------------------------------------------------------------
    Case(
        "vars with a bad JSON path",
        lambda w: w.tenant.client.get("/v1/hosts", params={"vars": "[*]foo.bar:1"}),
        400,
        lambda w: INVALID_PATH,
        lambda w: (
            "In '[*]foo.bar' at position 0: the first part must be a variable name "
            "(quote names that start with a digit)."
        ),
    ),
    Case(
        "vars without a colon",
        lambda w: w.tenant.client.get("/v1/clouds", params={"vars": "foo"}),
        400,
        lambda w: INVALID_PATH,
        lambda w: "'foo' has no ':'; each condition is <path>:<json-value>.",
    ),
    Case(
        "vars with a bad JSON value",
        lambda w: w.tenant.client.get("/v1/hosts", params={"vars": "foo.bar:string"}),
        400,
        lambda w: INVALID_VALUE,
        lambda w: "'string' is not JSON; strings need double quotes, e.g. \"value\".",
    ),
    # --- devices (§4.5) -----------------------------------------------------------------------------
    Case(
        "device made its own parent",
        lambda w: w.tenant.client.put(f"/v1/hosts/{w.host['id']}", json={"parent_id": w.host["id"]}),
        400,
        lambda w: f"A device cannot be its own parent. The id for '{w.host['name']}' cannot be used as its parent_id.",
        lambda w: None,
    ),
    Case(
        "device made a descendant's child",
        lambda w: w.tenant.client.put(f"/v1/hosts/{w.host['id']}", json={"parent_id": w.child["id"]}),
        400,
        lambda w: (
            f"A device cannot have a descendant as its parent. The parent_id for '{w.host['name']}' "
            f"cannot be set to the id '{w.child['id']}'."
        ),
        lambda w: None,
    ),
    # --- not found (§1.3) -------------------------------------------------------------------------
    Case(
        "missing host",
        lambda w: w.tenant.client.get(f"/v1/hosts/{MISSING_ID}"),
        404,
        lambda w: "Not Found",
        lambda w: f"Host {MISSING_ID} not found",
    ),
    Case(
        "missing network device, by PUT",
        lambda w: w.tenant.client.put(f"/v1/network-devices/{MISSING_ID}", json={"note": "x"}),
        404,
        lambda w: "Not Found",
        lambda w: f"Network device {MISSING_ID} not found",
    ),
    Case(
        "missing cell variables",
        lambda w: w.tenant.client.get(f"/v1/cells/{MISSING_ID}/variables"),
        404,
        lambda w: "Not Found",
        lambda w: f"Cell {MISSING_ID} not found",
    ),
    Case(
        "a host asked for as a network device",
        lambda w: w.tenant.client.get(f"/v1/network-devices/{w.host['id']}"),
        404,
        lambda w: "Not Found",
        lambda w: f"Network device {w.host['id']} not found",
    ),
    Case(
        "an id that cannot be an id",
        lambda w: w.tenant.client.get("/v1/regions/abc"),
        404,
        lambda w: "Not Found",
        lambda w: "Region abc not found",
    ),
    Case(
        "missing project",
        lambda w: w.craton.root.get("/v1/projects/00000000-0000-4000-8000-000000000000"),
        404,
        lambda w: "Not Found",
        lambda w: "Project 00000000-0000-4000-8000-000000000000 not found",
    ),
    Case(
        "cloud looked up by a name nobody has",
        lambda w: w.tenant.client.get("/v1/clouds", params={"name": "no-such-cloud"}),
        404,
        lambda w: "Not Found",
        lambda w: "No cloud named 'no-such-cloud'",
    ),
    Case(
        "delete of a missing network",
        lambda w: w.tenant.client.delete(f"/v1/networks/{MISSING_ID}"),
        404,
        lambda w: "Not Found",
        lambda w: f"Network {MISSING_ID} not found",
    ),
    # --- routing (§1.1) --------------------------------------------------------------------------
    Case(
        "unknown URL",
        lambda w: w.tenant.client.get("/v1/no-such-thing"),
        404,
        lambda w: UNKNOWN_URL,
        lambda w: "No API route has this path; /openapi.json lists them all.",
    ),
    Case(
        "wrong method",
        lambda w: w.tenant.client.patch("/v1/clouds"),
        405,
        lambda w: NOT_ALLOWED,
        lambda w: "This path allows GET, HEAD, POST.",
    ),
    # --- duplicates (§1.3) ------------------------------------------------------------------------
    Case(
        "duplicate cloud",
        _duplicate("/v1/clouds", lambda w: {"name": w.cloud["name"]}),
        409,
        lambda w: "A cloud with the given name already exists.",
        lambda w: None,
    ),
    Case(
        "duplicate region",
        _duplicate("/v1/regions", lambda w: {"name": w.region["name"], "cloud_id": w.cloud["id"]}),
        409,
        lambda w: "A region with the given name already exists.",
        lambda w: None,
    ),
    Case(
        "duplicate cell",
        _duplicate(
            "/v1/cells",
            lambda w: {"name": w.cell["name"], "region_id": w.region["id"], "cloud_id": w.cloud["id"]},
        ),
        409,
        lambda w: "A cell with the given name already exists.",
        lambda w: None,
    ),
    Case(
        "duplicate host",
        _duplicate(
            "/v1/hosts",
            lambda w: {
                "name": w.host["name"],
                "region_id": w.region["id"],
                "cloud_id": w.cloud["id"],
                "ip_address": "10.0.0.9",
                "device_type": "server",
            },
        ),
        409,
        lambda w: "A device with the given name already exists.",
        lambda w: None,
    ),
    Case(
        "duplicate network",
        _duplicate(
            "/v1/networks",
            lambda w: {
                "name": w.network["name"],
                "region_id": w.region["id"],
                "cloud_id": w.cloud["id"],
                "cidr": "10.1.0.0/24",
                "gateway": "10.1.0.1",
                "netmask": "255.255.255.0",
            },
        ),
        409,
        lambda w: "Network with the given name already exists in this region.",
        lambda w: None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_message_is_the_original_sentence_and_detail_explains(world: World, case: Case) -> None:
    response = case.send(world)
    body = expect(response, case.status)
    assert body["status"] == case.status, describe(response)
    assert body["message"] == case.message(world), describe(response)
    expected_detail = case.detail(world)
    if expected_detail is None:
        assert set(body) == {"message", "status"}, describe(response)
    else:
        assert set(body) == {"message", "status", "detail"}, describe(response)
        assert body["detail"] == expected_detail, describe(response)


def test_the_catalogue_covers_every_status_the_original_documented() -> None:
    assert {case.status for case in CASES} >= {400, 401, 403, 404, 405, 409}
