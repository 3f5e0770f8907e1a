"""Malformed and hostile requests get a clean 4xx with the JSON error body, on every database.

The limits (docs/security.md): request body 1 MiB (413), JSON nesting 32 levels, 1,000 variables
or labels per request, names/labels/variable keys up to 255 characters, notes up to 65,535 — each
refused with a 400 that says what is wrong. Strings are data, never SQL or patterns. Bodies over
the limit, malformed JSON and unknown parameters are covered in tests/api/test_http.py.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.helpers import Craton, Tenant, describe, expect, expect_error, ids_of, unique

VALIDATION = "The request included the following errors:\n- "


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    return craton.tenant()


@pytest.fixture(scope="module")
def tree(tenant: Tenant) -> dict[str, Any]:
    inv = tenant.inventory
    cloud = inv.cloud()
    region = inv.region(cloud)
    host = inv.host(region)
    return {"cloud": cloud, "region": region, "host": host}


def fresh(craton: Craton, tenant: Tenant) -> httpx.Client:
    """A client on its own connection (a server error may close the connection it came on)."""
    client = httpx.Client(base_url=craton.url, headers=dict(tenant.client.headers), timeout=60)
    craton.server._clients.append(client)
    return client


def raw_json(client: httpx.Client, method: str, path: str, text: str) -> httpx.Response:
    return client.request(method, path, content=text.encode(), headers={"content-type": "application/json"})


def nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


# --- size and shape limits -----------------------------------------------------------------------


def test_json_nesting_deeper_than_the_limit_is_400(tenant: Tenant, tree: dict[str, Any]) -> None:
    client, cloud = tenant.client, tree["cloud"]
    path = f"/v1/clouds/{cloud['id']}/variables"
    expect(raw_json(client, "PUT", path, nested(32)), 200)  # the body itself is level 1
    expect_error(raw_json(client, "PUT", path, nested(33)), 400, "The request body nests deeper than 32 levels.")
    deep_create = '{"name": "deep", "variables": ' + nested(32) + "}"
    expect_error(raw_json(client, "POST", "/v1/clouds", deep_create), 400, startswith="The request body nests")
    # far deeper than any parser recursion limit: still a clean 400, and the server carries on
    expect_error(raw_json(client, "PUT", path, '{"a":' + "[" * 200_000 + "]" * 200_000 + "}"), 400)
    expect_error(raw_json(client, "PUT", path, "[" * 500_000), 400)
    assert client.get("/healthz").status_code == 200


def test_variables_per_request_are_limited(tenant: Tenant, tree: dict[str, Any]) -> None:
    client, cloud = tenant.client, tree["cloud"]
    path = f"/v1/clouds/{cloud['id']}/variables"
    many = {f"k{i}": i for i in range(1001)}
    expect_error(client.put(path, json=many), 400, startswith=VALIDATION, contains=["has too many properties"])
    expect_error(
        client.post("/v1/clouds", json={"name": unique(), "variables": many}), 400, contains=["has too many properties"]
    )
    del many["k1000"]
    assert len(expect(client.put(path, json=many), 200)["variables"]) >= 1000


def test_variable_keys_are_limited(tenant: Tenant, tree: dict[str, Any]) -> None:
    client, cloud = tenant.client, tree["cloud"]
    path = f"/v1/clouds/{cloud['id']}/variables"
    for key in ("k" * 256, "", "\U0001f600" * 256):
        expect_error(client.put(path, json={key: 1}), 400, startswith=VALIDATION)
    key = "\U0001f600" * 255  # 255 characters of four bytes each fit on every database
    assert expect(client.put(path, json={key: "v"}), 200)["variables"][key] == "v"
    assert expect(client.get(path), 200)["variables"][key] == "v"
    expect_error(client.request("DELETE", path, json=["k" * 256]), 400, startswith=VALIDATION)
    expect_error(client.request("DELETE", path, json=["k"] * 1001), 400, startswith=VALIDATION)


def test_labels_are_limited(tenant: Tenant, tree: dict[str, Any]) -> None:
    client, host = tenant.client, tree["host"]
    path = f"/v1/hosts/{host['id']}/labels"
    expect_error(client.put(path, json={"labels": [f"l{i}" for i in range(1001)]}), 400, startswith=VALIDATION)
    for label in ("l" * 256, "", 7, None):
        expect_error(client.put(path, json={"labels": [label]}), 400, startswith=VALIDATION)
    expect_error(client.put(path, json={"labels": "not-a-list"}), 400, startswith=VALIDATION)
    label = "\U0001f600" * 255
    assert label in expect(client.put(path, json={"labels": [label]}), 200)["labels"]
    assert label in expect(client.get(path), 200)["labels"]


NAMED = [
    ("/v1/clouds", "name", lambda tree: {}),
    ("/v1/regions", "name", lambda tree: {"cloud_id": tree["cloud"]["id"]}),
    ("/v1/cells", "name", lambda tree: {"cloud_id": tree["cloud"]["id"], "region_id": tree["region"]["id"]}),
    (
        "/v1/hosts",
        "name",
        lambda tree: {
            "cloud_id": tree["cloud"]["id"],
            "region_id": tree["region"]["id"],
            "ip_address": "10.0.0.9",
            "device_type": "server",
        },
    ),
    (
        "/v1/hosts",
        "device_type",
        lambda tree: {
            "cloud_id": tree["cloud"]["id"],
            "region_id": tree["region"]["id"],
            "ip_address": "10.0.0.9",
            "name": unique(),
        },
    ),
    (
        "/v1/network-devices",
        "name",
        lambda tree: {
            "cloud_id": tree["cloud"]["id"],
            "region_id": tree["region"]["id"],
            "ip_address": "10.0.0.9",
            "device_type": "switch",
        },
    ),
    (
        "/v1/networks",
        "name",
        lambda tree: {
            "cloud_id": tree["cloud"]["id"],
            "region_id": tree["region"]["id"],
            "cidr": "10.0.0.0/24",
            "gateway": "10.0.0.1",
            "netmask": "255.255.255.0",
        },
    ),
    (
        "/v1/network-interfaces",
        "name",
        lambda tree: {"device_id": tree["host"]["id"], "interface_type": "eth", "ip_address": "10.0.0.9"},
    ),
    ("/v1/users", "username", lambda tree: {"project_id": tree["project_id"]}),
]


@pytest.mark.parametrize(
    ("path", "field", "rest"), NAMED, ids=lambda value: str(value) if isinstance(value, str) else ""
)
def test_names_longer_than_255_characters_are_400(
    tenant: Tenant, tree: dict[str, Any], path: str, field: str, rest: Any
) -> None:
    client = tenant.client
    context = {**tree, "project_id": tenant.project_id}
    expect_error(
        client.post(path, json={**rest(context), field: "n" * 256}),
        400,
        startswith=VALIDATION,
        contains=["is too long"],
    )
    longest = "\u00e9" * 246 + uuid.uuid4().hex[:8] + "\U0001f600"  # 255 characters, multi-byte, unique
    created = expect(client.post(path, json={**rest(context), field: longest}), 201)
    assert created[field] == longest
    assert expect(client.get(f"{path}/{created['id']}"), 200)[field] == longest


def test_notes_are_limited(tenant: Tenant, tree: dict[str, Any]) -> None:
    client, cloud = tenant.client, tree["cloud"]
    expect_error(client.put(f"/v1/clouds/{cloud['id']}", json={"note": "n" * 65536}), 400, contains=["is too long"])
    note = "\U0001f600" * 65535
    assert expect(client.put(f"/v1/clouds/{cloud['id']}", json={"note": note}), 200)["note"] == note


# --- strings are data ----------------------------------------------------------------------------

TRICKY = [
    "'; DROP TABLE clouds; --",
    '" OR 1=1 --',
    "%",
    "_",
    "a%b_c",
    "\\",
    "\u202etxet",
    "<script>x</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "\u0301",
    "\ufeffbom",
]


def test_tricky_strings_round_trip_and_match_exactly(tenant: Tenant, tree: dict[str, Any]) -> None:
    """No SQL, LIKE or template meaning: each name is stored as sent and matches only itself."""
    client = tenant.client
    region = tree["region"]
    for text in TRICKY:
        cloud = expect(client.post("/v1/clouds", json={"name": text + unique("-"), "variables": {text: text}}), 201)
        assert cloud["variables"] == {text: text}
        host = expect(
            client.post(
                "/v1/hosts",
                json={
                    "name": text,
                    "cloud_id": region["cloud_id"],
                    "region_id": region["id"],
                    "ip_address": "10.0.0.7",
                    "device_type": text,
                    "labels": [text],
                },
            ),
            201,
        )
        assert ids_of(expect(client.get("/v1/hosts", params={"name": text}), 200)["hosts"]) == [host["id"]]
        assert ids_of(expect(client.get("/v1/hosts", params={"label": text}), 200)["hosts"]) == [host["id"]]
        assert ids_of(expect(client.get("/v1/hosts", params={"device_type": text}), 200)["hosts"]) == [host["id"]]
    for pattern in ("%", "_", "%%", "*", ".*"):
        hosts = expect(client.get("/v1/hosts", params={"name": pattern, "limit": 100}), 200)["hosts"]
        assert [host["name"] for host in hosts] == ([pattern] if pattern in TRICKY else [])
    assert client.get("/v1/clouds").status_code == 200


def test_hostile_credentials_are_a_plain_401(craton: Craton, tenant: Tenant) -> None:
    good = {name.lower(): value for name, value in tenant.client.headers.items() if name.lower().startswith("x-auth-")}
    variants = [
        {**good, "x-auth-token": "x" * 100_000},
        {**good, "x-auth-user": "u" * 60_000},
        {**good, "x-auth-user": "' OR '1'='1"},
        {**good, "x-auth-token": "' OR '1'='1"},
        {**good, "x-auth-token": "%"},
        {**good, "x-auth-project": "urn:uuid:" + "0" * 32},
    ]
    for headers in variants:
        response = httpx.get(f"{craton.url}/v1/clouds", headers=headers, timeout=30)
        assert response.status_code == 401, describe(response)
        assert set(response.json()) <= {"message", "status", "detail"}
    assert httpx.get(f"{craton.url}/v1/clouds", headers=good, timeout=30).status_code == 200
    bad_project = {**good, "x-auth-project": "p" * 10_000}
    response = httpx.get(f"{craton.url}/v1/clouds", headers=bad_project, timeout=30)
    assert response.status_code == 401 and len(response.content) < 20_000


def test_malformed_http_is_refused_and_the_server_carries_on(craton: Craton) -> None:
    """Garbage on the socket gets a 4xx (uvicorn's own, before the app) or a closed connection."""
    url = urlsplit(craton.url)
    payloads = [
        b"GET /v1/clouds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /v1/clouds HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"NOT-HTTP\r\n\r\n",
        b"GET /v1/clouds HTTP/9.9\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS client hello
    ]
    for payload in payloads:
        with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
            sock.sendall(payload)
            try:
                answer = sock.recv(200)
            except (ConnectionResetError, TimeoutError):
                answer = b""
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer
    assert httpx.get(f"{craton.url}/healthz", timeout=10).status_code == 200


# --- known server bugs ---------------------------------------------------------------------------------


@pytest.fixture
def backend(server: Any) -> str:
    return server.backend


NUL_REQUESTS = [
    ("POST", "/v1/clouds", lambda t: {"name": "a\u0000b"}),
    ("PUT", "/v1/clouds/{cloud}", lambda t: {"note": "\u0000"}),
    ("PUT", "/v1/clouds/{cloud}/variables", lambda t: {"k\u0000": 1}),
    ("DELETE", "/v1/clouds/{cloud}/variables", lambda t: ["\u0000"]),
    ("PUT", "/v1/hosts/{host}/labels", lambda t: {"labels": ["a\u0000"]}),
    ("DELETE", "/v1/hosts/{host}/labels", lambda t: {"labels": ["\u0000"]}),
    ("POST", "/v1/users", lambda t: {"username": "\u0000", "project_id": t["project_id"]}),
    (
        "POST",
        "/v1/networks",
        lambda t: {
            "name": "n0",
            "cidr": "\u0000",
            "gateway": "g",
            "netmask": "m",
            "cloud_id": t["cloud"],
            "region_id": t["region"],
        },
    ),
]
NUL_QUERIES = [
    ("/v1/clouds", {"name": "x\u0000"}),
    ("/v1/hosts", {"name": "\u0000"}),
    ("/v1/hosts", {"label": "\u0000"}),
    ("/v1/networks", {"name": "\u0000"}),
]


def test_nul_characters_are_rejected_cleanly(
    request: Any, backend: str, craton: Craton, tenant: Tenant, tree: dict[str, Any]
) -> None:
    """U+0000 is valid JSON; it must get the same clean answer on every database (a 2xx or a 400).

    Was .bugs/security.md #4 (500 on PostgreSQL)."""
    ids = {
        "cloud": tree["cloud"]["id"],
        "host": tree["host"]["id"],
        "region": tree["region"]["id"],
        "project_id": tenant.project_id,
    }
    problems = []
    for method, template, body in NUL_REQUESTS:
        response = fresh(craton, tenant).request(method, template.format(**ids), json=body(ids))
        if response.status_code >= 500:
            problems.append(describe(response))
        elif response.status_code >= 400:
            assert set(response.json()) <= {"message", "status", "detail"}, describe(response)
    for path, params in NUL_QUERIES:
        response = fresh(craton, tenant).get(path, params=params)
        if response.status_code >= 500:
            problems.append(describe(response))
    assert not problems, "\n".join(problems)


def test_out_of_range_inventory_filters_are_not_a_500(craton: Craton, tenant: Tenant) -> None:
    """Was .bugs/security.md #2 (fixed in df55c44)."""
    problems = []
    for param in ("cloud_id", "region_id", "cell_id"):
        for value in ("9" * 20, str(2**63), str(2**31)):
            response = fresh(craton, tenant).get("/v1/ansible-inventory", params={param: value})
            if response.status_code >= 500:
                problems.append(describe(response))
            elif response.status_code == 200:
                assert response.json()["_meta"]["hostvars"] == {}
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/clouds/{}",
        "/v1/hosts/{}",
        "/v1/hosts/{}/variables",
        "/v1/hosts/{}/labels",
        "/v1/network-interfaces/{}",
        "/v1/users/{}",
    ],
)
def test_non_ascii_digit_ids_are_404(craton: Craton, tenant: Tenant, path: str) -> None:
    """Was .bugs/security.md #3: '²' gave 500 and '١' was read as id 1."""
    for raw in ("\u00b2", "\u0661", "\u00b9\u00b2", "\uff11", "\u0967", "1\u0301"):
        response = fresh(craton, tenant).get(path.format(raw))
        assert response.status_code == 404, describe(response)


def test_an_error_does_not_break_the_connection(request: Any, backend: str, craton: Craton, tenant: Tenant) -> None:
    """Whatever the answer, the next request on the same keep-alive connection works.

    Was .bugs/security.md #5: a 500 (then: a NUL in a name on PostgreSQL, #4) closed the
    connection under the client, so its next request failed too.
    """
    client = fresh(craton, tenant)
    cloud = expect(client.post("/v1/clouds", json={"name": unique()}), 201)
    attempts = [
        lambda: client.get("/v1/clouds", params={"limit": 5}),  # 400
        lambda: httpx.Client(base_url=craton.url).get("/v1/clouds"),  # 401 (own connection)
        lambda: client.get("/v1/clouds/999999"),  # 404
        lambda: client.patch("/v1/clouds"),  # 405
        lambda: client.post("/v1/clouds", json={"name": cloud["name"]}),  # 409
        lambda: client.put(f"/v1/clouds/{cloud['id']}", json={}, headers={"If-Match": '"x"'}),  # 412
        lambda: client.post(
            "/v1/clouds", content=b" " * (1024 * 1024 + 1), headers={"content-type": "application/json"}
        ),  # 413
        lambda: client.post("/v1/clouds", json={"name": "nul\u0000"}),  # 201 or 400 (was a 500, #4)
    ]
    for attempt in attempts:
        first = attempt()
        second = client.get(f"/v1/clouds/{cloud['id']}")
        assert first.status_code < 500, describe(first)
        assert second.status_code == 200, describe(second)


def _conditions(count: int) -> str:
    return ",".join(f"k{i}:{i}" for i in range(count))


def test_vars_conditions_are_bounded(craton: Craton, tenant: Tenant, tree: dict[str, Any]) -> None:
    """A long ``vars`` filter is either refused or costs a bounded number of SQL statements (was #6)."""
    server = craton.server
    with server.count_queries() as counter:
        response = tenant.client.get("/v1/hosts", params={"vars": _conditions(300)})
    assert response.status_code in (200, 400), describe(response)
    if response.status_code == 200:
        assert counter.count <= 20, f"{counter.count} SQL statements for one request"


def test_big_integers_round_trip_or_are_rejected(tenant: Tenant, tree: dict[str, Any]) -> None:
    """Was .bugs/security.md #7: 2**64 came back as 1.8446744073709552e+19."""
    client, cloud = tenant.client, tree["cloud"]
    path = f"/v1/clouds/{cloud['id']}/variables"
    for value in (2**64, -(2**63) - 1, 10**30):
        response = raw_json(client, "PUT", path, f'{{"big": {value}}}')
        if response.status_code == 400:
            continue
        assert response.status_code == 200, describe(response)
        read = client.get(path).json()["variables"]["big"]
        assert read == value and isinstance(read, int), f"sent {value}, read back {read!r}"


def _chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(65536, total - sent)
        sent += 65536
