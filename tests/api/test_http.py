"""HTTP-level behaviour: request ids, 405, 413, malformed JSON, query validation, public endpoints."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import (
    ISO_UTC_RE,
    MISSING_ID,
    UNKNOWN_URL,
    Craton,
    Tenant,
    expect,
    expect_error,
    expect_invalid,
)

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MALFORMED_JSON = "The browser (or proxy) sent a request that this server could not understand."
METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL."


@pytest.fixture(scope="module")
def tenant(craton: Craton) -> Tenant:
    return craton.tenant()


def test_every_response_has_a_request_id(craton: Craton, tenant: Tenant) -> None:
    client = tenant.client
    cloud = tenant.inventory.cloud()
    responses = [
        client.get("/v1/clouds"),  # 200
        client.post("/v1/clouds", json={"name": f"rid-{cloud['id']}"}),  # 201
        client.post("/v1/clouds", json={"name": cloud["name"]}),  # 409
        client.post("/v1/clouds", json={}),  # 400
        client.get(f"/v1/clouds/{MISSING_ID}"),  # 404
        client.get("/v1/no-such-thing"),  # 404 (router)
        client.put("/v1/clouds"),  # 405
        client.post(
            "/v1/clouds", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"}
        ),  # 413
        craton.client().get("/v1/clouds"),  # 401
        craton.client().get("/healthz"),
        craton.client().get("/openapi.json"),
        client.head("/v1/clouds"),
        client.delete(f"/v1/clouds/{cloud['id']}"),  # 204
    ]
    seen = set()
    for response in responses:
        request_id = response.headers.get("x-openstack-request-id", "")
        assert REQUEST_ID.match(request_id), (response.status_code, request_id)
        seen.add(request_id)
    assert len(seen) == len(responses)
    assert [r.status_code for r in responses] == [200, 201, 409, 400, 404, 404, 405, 413, 401, 200, 200, 200, 204]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/v1/projects/{project}", {"GET", "PUT", "DELETE"}),
        ("POST", "/v1/projects/{project}", {"GET", "PUT", "DELETE"}),
        ("PUT", "/v1/users/1", {"GET", "DELETE"}),
        ("PUT", "/v1/clouds", {"GET", "POST"}),
        ("DELETE", "/v1/hosts", {"GET", "POST"}),
        ("POST", "/v1/clouds/1", {"GET", "PUT", "DELETE"}),
        ("POST", "/v1/devices", {"GET"}),
        ("POST", "/v1/hosts/1/variables", {"GET", "PUT", "DELETE"}),
        ("PATCH", "/v1/regions/1", {"GET", "PUT", "DELETE"}),
    ],
)
def test_wrong_method_is_405_with_allow(
    craton: Craton, tenant: Tenant, method: str, path: str, allowed: set[str]
) -> None:
    response = craton.root.request(method, path.format(project=tenant.project_id), json={})
    expect_error(response, 405, METHOD_NOT_ALLOWED)
    allow = {value.strip() for value in response.headers["allow"].split(",")}
    assert allowed <= allow <= allowed | {"HEAD", "OPTIONS"}, allow


def test_wrong_method_without_credentials_is_401(craton: Craton, tenant: Tenant) -> None:
    expect_error(craton.client().put(f"/v1/projects/{tenant.project_id}"), 401)


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"name": "big", "note": "'
    sent = 0
    while sent < total:
        yield b"x" * 65536
        sent += 65536
    yield b'"}'


@pytest.mark.parametrize("path", ["/v1/clouds", "/v1/hosts/1/variables"])
def test_bodies_over_one_mebibyte_are_413(tenant: Tenant, path: str) -> None:
    client = tenant.client
    big = {"name": "big", "note": "x" * (1024 * 1024)}
    method = "POST" if path == "/v1/clouds" else "PUT"
    expect_error(client.request(method, path, json=big), 413)
    # without a Content-Length (chunked upload) the limit holds too
    expect_error(
        client.request(method, path, content=_chunks(1024 * 1024 + 10), headers={"content-type": "application/json"}),
        413,
    )
    assert all(
        cloud["name"] != "big" for cloud in expect(client.get("/v1/clouds", params={"limit": 100}), 200)["clouds"]
    )


def test_a_body_just_under_the_limit_is_accepted(tenant: Tenant) -> None:
    variables = {f"k{n}": "x" * 50_000 for n in range(20)}  # about 1,000,300 bytes of JSON
    cloud = expect(tenant.client.post("/v1/clouds", json={"name": "almost-big", "variables": variables}), 201)
    assert cloud["variables"] == variables
    expect(tenant.client.delete(f"/v1/clouds/{cloud['id']}"), 204)


@pytest.mark.parametrize("raw", [b'{"name": ', b"{name: 1}", b"[1,]", b"\xff\xfe", b'{"name": "x"} trailing'])
def test_malformed_json_is_400(tenant: Tenant, raw: bytes) -> None:
    response = tenant.client.post("/v1/clouds", content=raw, headers={"content-type": "application/json"})
    expect_error(response, 400)


def test_malformed_json_message_is_the_original(tenant: Tenant) -> None:
    """§1.3 catalogue: the original's (Werkzeug) text first, then what is wrong with the body."""
    response = tenant.client.post("/v1/clouds", content=b'{"name": ', headers={"content-type": "application/json"})
    expect_error(response, 400, message=MALFORMED_JSON, detail="not valid JSON")


def test_a_body_without_a_json_content_type_is_415(tenant: Tenant) -> None:
    """It used to count as absent, so a PUT answered 200 and changed nothing (issue #19, item 9)."""
    response = tenant.client.post("/v1/clouds", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    expect_error(response, 415, contains=["Content-Type", "text/plain"])
    response = tenant.client.post(
        "/v1/clouds", content=b'{"name": "vendor-json"}', headers={"content-type": "application/vnd.x+json"}
    )
    expect(response, 201)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/clouds",
        "/v1/regions",
        "/v1/cells",
        "/v1/hosts",
        "/v1/network-devices",
        "/v1/devices",
        "/v1/networks",
        "/v1/network-interfaces",
        "/v1/users",
        "/v1/projects",
    ],
)
def test_unknown_query_parameters_are_400(craton: Craton, path: str) -> None:
    expect_invalid(
        craton.root.get(path, params={"foo": "bar"}), "Additional properties are not allowed ('foo' was unexpected)"
    )
    expect_invalid(
        craton.root.get(path, params={"limit": 10, "foo": "bar"}),
        "Additional properties are not allowed ('foo' was unexpected)",
    )


def test_unknown_query_parameters_on_single_objects_are_400(tenant: Tenant) -> None:
    cloud = tenant.inventory.cloud()
    host = tenant.inventory.host()
    for url in (
        f"/v1/clouds/{cloud['id']}",
        f"/v1/hosts/{host['id']}",
        f"/v1/hosts/{host['id']}/labels",
        f"/v1/clouds/{cloud['id']}/variables",
        f"/v1/projects/{tenant.project_id}",
    ):
        expect_invalid(
            tenant.client.get(url, params={"foo": "bar"}),
            "Additional properties are not allowed ('foo' was unexpected)",
        )


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/hosts", "region_id"),
        ("/v1/hosts", "cell_id"),
        ("/v1/clouds", "id"),
        ("/v1/devices", "cloud_id"),
        ("/v1/network-interfaces", "device_id"),
        ("/v1/regions", "cloud_id"),
    ],
)
def test_non_integer_query_values_are_400(tenant: Tenant, path: str, param: str) -> None:
    expect_invalid(tenant.client.get(path, params={param: "abc"}), "'abc' is not of type 'integer'")


def test_lenient_booleans(tenant: Tenant) -> None:
    tenant.inventory.cloud(variables={"b": 1})
    for value in ("true", "all", "yes", "1", "True", "anything"):
        clouds = expect(tenant.client.get("/v1/clouds", params={"details": value}), 200)["clouds"]
        assert all("variables" in cloud for cloud in clouds), value
    for value in ("false", "no", "n", "0", "", "FALSE", "No"):
        clouds = expect(tenant.client.get("/v1/clouds", params={"details": value}), 200)["clouds"]
        assert all("variables" not in cloud for cloud in clouds), value


def test_head_is_get_without_a_body(tenant: Tenant) -> None:
    cloud = tenant.inventory.cloud()
    response = tenant.client.head(f"/v1/clouds/{cloud['id']}")
    assert response.status_code == 200 and response.content == b""
    assert tenant.client.head(f"/v1/clouds/{MISSING_ID}").status_code == 404
    assert tenant.client.head("/v1/clouds", params={"foo": 1}).status_code == 400


def test_responses_are_json_with_utc_timestamps(tenant: Tenant) -> None:
    cloud = tenant.inventory.cloud()
    updated = expect(tenant.client.put(f"/v1/clouds/{cloud['id']}", json={"note": "n"}), 200)
    assert ISO_UTC_RE.match(cloud["created_at"]) and ISO_UTC_RE.match(updated["updated_at"])
    assert updated["updated_at"] >= updated["created_at"]
    response = tenant.client.delete(f"/v1/clouds/{cloud['id']}")
    assert response.status_code == 204 and response.content == b""
    assert response.headers["content-type"].startswith("application/json")
    error = tenant.client.get(f"/v1/clouds/{cloud['id']}")
    assert error.headers["content-type"].startswith("application/json")


def test_unknown_urls_are_404_with_the_router_text(tenant: Tenant) -> None:
    for url in ("/v1/nothing", "/v1/devices/1", "/v1/users/1/variables", "/v1/hosts/", "/v2/clouds"):
        expect_error(tenant.client.get(url), 404, startswith=UNKNOWN_URL)


@pytest.mark.parametrize("headers", [None, {"X-Auth-Project": "nope", "X-Auth-User": "x", "X-Auth-Token": "y"}])
def test_public_endpoints(craton: Craton, headers: dict[str, str] | None) -> None:
    client = craton.client(headers)
    health = expect(client.get("/healthz"), 200)
    assert isinstance(health, dict)
    ready = expect(client.get("/readyz"), 200)
    assert isinstance(ready, dict)
    doc = expect(client.get("/openapi.json"), 200)
    assert str(doc["openapi"]).startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    paths = doc["paths"]
    for path, methods in {
        "/v1/clouds": {"get", "post"},
        "/v1/clouds/{id}": {"get", "put", "delete"},
        "/v1/hosts/{id}/variables": {"get", "put", "delete"},
        "/v1/hosts/{id}/labels": {"get", "put", "delete"},
        "/v1/devices": {"get"},
        "/v1/projects/{id}": {"get", "delete"},
        "/v1/users": {"get", "post"},
    }.items():
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    for path, item in paths.items():
        assert path.startswith("/v1/") or path in {"/healthz", "/readyz", "/metrics"}, path
        for method, operation in item.items():
            assert "responses" in operation, (path, method)
    # the document's schemas are the ones that validate requests
    post = paths["/v1/clouds"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name"] and schema["additionalProperties"] is False
    # but the API itself stays closed
    if headers is not None:
        expect_error(client.get("/v1/clouds"), 401)


def test_nothing_else_is_public(craton: Craton) -> None:
    for url in ("/v1/clouds", "/v1/projects", "/healthz/", "/openapi.json/x"):
        expect_error(craton.client().get(url), 401)


def test_validation_comes_before_lookups(tenant: Tenant) -> None:
    """§1.1: query and body validation run before any database work, so a bad request is a 400."""
    expect_invalid(tenant.client.get(f"/v1/clouds/{MISSING_ID}", params={"foo": "1"}))
    expect_invalid(tenant.client.put(f"/v1/clouds/{MISSING_ID}", json={"bogus": 1}))
    expect_invalid(tenant.client.put(f"/v1/hosts/{MISSING_ID}/variables", json=[1]))
    expect_invalid(tenant.client.request("DELETE", f"/v1/regions/{MISSING_ID}/variables", json={"a": 1}))
    expect_invalid(tenant.client.put(f"/v1/hosts/{MISSING_ID}/labels", json={}))


OUT_OF_RANGE = ["9" * 20, str(2**63), str(2**31), "-1", "-" + "9" * 20]


def _problem(client: httpx.Client, url: str, params: dict[str, str], allowed: tuple[int, ...]) -> str | None:
    """None when the answer is one of ``allowed`` with a proper body (and an empty list for a 200)."""
    try:  # Connection: close, so that a connection the server drops after a 500 is never reused
        response = client.get(url, params=params, headers={"Connection": "close"})
    except httpx.TransportError as exc:
        return f"{url} {params} -> connection error {exc!r}"
    if response.status_code not in allowed:
        return f"{url} {params} -> {response.status_code} {response.text[:120]}"
    body = response.json()
    if response.status_code >= 400:
        return (
            None
            if set(body) in ({"message", "status"}, {"message", "status", "detail"})
            else f"{url} {params} -> bad error body {body}"
        )
    items = [
        item
        for key, value in body.items()
        if key != "links"
        for item in (value["hosts"] + value["network-devices"] if key == "devices" else value)
    ]
    return None if items == [] else f"{url} {params} -> unexpected items {items}"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/clouds", "marker"),
        ("/v1/hosts", "marker"),
        ("/v1/devices", "marker"),
        ("/v1/clouds", "id"),
        ("/v1/regions", "cloud_id"),
        ("/v1/cells", "region_id"),
        ("/v1/hosts", "region_id"),
        ("/v1/hosts", "cell_id"),
        ("/v1/network-devices", "cloud_id"),
        ("/v1/devices", "parent_id"),
        ("/v1/networks", "region_id"),
        ("/v1/network-interfaces", "device_id"),
        ("/v1/network-interfaces", "id"),
        ("/v1/users", "id"),
    ],
)
def test_out_of_range_integers_in_queries_are_never_a_500(tenant: Tenant, path: str, param: str) -> None:
    """docs/decisions.md §7: a bad integer is a 400; an id no row can have may also simply match nothing."""
    problems = [_problem(tenant.client, path, {param: value}, (200, 400, 404)) for value in OUT_OF_RANGE]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/clouds/{}",
        "/v1/hosts/{}",
        "/v1/hosts/{}/variables",
        "/v1/hosts/{}/labels",
        "/v1/network-interfaces/{}",
        "/v1/projects/{}",
    ],
)
def test_out_of_range_ids_in_paths_are_404(tenant: Tenant, path: str) -> None:
    values = ("9" * 20, str(2**63), str(2**31), "0", "00012abc", "1" * 40)
    problems = [_problem(tenant.client, path.format(value), {}, (404,)) for value in values]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)
