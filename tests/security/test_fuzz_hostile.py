"""Property-based fuzzing with hostile values: every parameter, every body field, every sort key.

tests/security/test_fuzz_openapi.py lets Schemathesis generate what the OpenAPI document
describes. This module aims where the 500s of issue #19 were found, with Hypothesis strategies
of its own, on every database:

- every query parameter of every GET route, and every path id, gets hostile text: unpaired
  surrogates and control characters (percent-encoded raw bytes), datetimes from year 1 to 9999
  with offsets up to +-23:59, numbers beyond 32 and 64 bits, sort keys, SQL and JSON fragments;
- every field of every JSON body (creates start from a valid body so that the handler, not only
  validation, is reached) gets hostile JSON: surrogates escaped or raw, nesting, huge integers,
  tiny and huge floats, plus raw bodies (BOM, ``1e400``, ``NaN``, random bytes);
- every sort key of every list x both directions is walked with ``next`` links to the end,
  and every object must be seen exactly once;
- with the database unreachable, every route and method, and unknown URLs, answer 503, never 500.

Every answer must be below 500. Bounded for CI (about 20 s per database): a fixed seed and
``CRATON_FUZZ_HOSTILE_EXAMPLES`` examples per property (default 120). The soak mode for release
checks runs 25 times as many and reports its figures:

    CRATON_FUZZ_SOAK=1 CRATON_FUZZ_REPORT=/tmp/fuzz.txt \\
        .venv/bin/python -m pytest tests/security/test_fuzz_hostile.py

(figures of the last soak run: docs/security.md, "How this is tested").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from craton.app import API_ROUTES, create_app
from craton.domain import kinds
from craton.domain.kinds import Kind
from craton.settings import Settings
from tests.api.helpers import Craton, Tenant, expect, unique
from tests.conftest import free_port

SOAK = os.environ.get("CRATON_FUZZ_SOAK", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("CRATON_FUZZ_HOSTILE_EXAMPLES", "3000" if SOAK else "120"))
REPORT = os.environ.get("CRATON_FUZZ_REPORT")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not SOAK,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# --- what the service serves ----------------------------------------------------------------------

OPERATIONS = [(route.path, op) for route in API_ROUTES for op in getattr(route, "operations", [])]
GETS = [(path, op) for path, op in OPERATIONS if op.method == "GET"]
WRITES = [(path, op) for path, op in OPERATIONS if op.body is not None or op.raw_body is not None]


def body_schema(op: Any) -> dict[str, Any]:
    """The JSON body an operation declares (the import reads its own: its JSON schema)."""
    return op.body if op.body is not None else op.raw_body.content["application/json"]["schema"]


LISTS = [(info, Kind(info)) for info in (*kinds.KINDS, kinds.ANY_DEVICE)]

# --- strategies ---------------------------------------------------------------------------------

HOSTILE_CHARS = st.characters(categories=["Cs", "Cc", "Zl", "Zp", "Lu", "Ll", "Nd", "Po", "Zs", "So"])
FIXED = st.sampled_from(
    [
        "",
        " ",
        "\ud800",
        "\udfff\ud800",
        "\x00",
        "\n",
        "\u2028",
        "\ufeff",
        "-1",
        "0",
        "2147483648",
        "-2147483649",
        "18446744073709551616",
        "1e400",
        "NaN",
        "true",
        "null",
        "id,id",
        "created_at desc",
        "name,,",
        "'; DROP TABLE clouds; --",
        "%",
        "_",
        "*",
        "a" * 300,
        'a.b:"x"',
        "a:",
        ":1",
        "[",
        "{}",
        "0001-01-01T00:00:00+00:01",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-23:59",
        "2026-02-30T00:00:00Z",
        "0000-00-00",
        "2026-12-03T25:00:00",
    ]
)
OFFSETS = st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59))
DATETIMES = st.builds(
    lambda moment, offset: moment.replace(tzinfo=dt.timezone(offset)).isoformat(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    OFFSETS.map(lambda d: dt.timedelta(minutes=d // dt.timedelta(minutes=1))),
)
SORT_KEYS = st.lists(
    st.sampled_from(sorted({key for _, kind in LISTS for key in kind.sort_columns()} | {"api_key_hash", "x"})),
    min_size=1,
    max_size=3,
).map(",".join)
TEXT = st.one_of(
    FIXED,
    st.text(HOSTILE_CHARS, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    DATETIMES,
    SORT_KEYS,
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUE = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
RAW_BODIES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b'\xef\xbb\xbf{"a": 1}',
            b'{"a": 1e400}',
            b'{"a": -1e400}',
            b'{"a": NaN}',
            b'{"a": Infinity}',
            b'{"a": 123456789012345678901234567890}',
            b'{"\xed\xa0\x80": 1}',
            b'{"name": "\xed\xbf\xbf"}',
            b'{"a": "\\ud800"}',
            b"[" * 5000,
            '{"a": 1}'.encode("utf-16"),
            b"",
            b"null",
        ]
    ),
)

# --- the world ----------------------------------------------------------------------------------


class Tally:
    """Requests sent and 5xx answers seen, per backend, for the report."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.requests = 0
        self.server_errors: list[str] = []

    def check(self, response: httpx.Response) -> None:
        self.requests += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{response.request.method} {response.request.url} -> {response.status_code}")
        assert response.status_code < 500, f"{response.request.method} {response.request.url}: {response.text[:300]}"


@pytest.fixture(scope="module")
def tally(craton: Craton) -> Iterator[Tally]:
    tally = Tally(craton.server.backend)
    yield tally
    if REPORT:
        with open(REPORT, "a") as report:
            report.write(
                f"{time.strftime('%Y-%m-%d %H:%M')} {tally.backend}: {tally.requests} hostile requests, "
                f"{len(tally.server_errors)} answered 5xx (examples per property: {EXAMPLES})\n"
            )


@pytest.fixture(scope="module")
def fuzz_world(craton: Craton) -> dict[str, Any]:
    """A project with 12 objects of every kind (two pages of 10), some fields varied for sorting."""
    tenant = craton.tenant()
    inv = tenant.inventory
    ids: dict[str, list[Any]] = {"projects": [tenant.project_id]}
    cloud = inv.cloud()
    ids["clouds"] = [cloud["id"]] + [inv.cloud(**({} if i % 2 else {"note": f"n{i}"}))["id"] for i in range(11)]
    regions = [inv.region(cloud, note=f"{i % 3}") for i in range(12)]
    ids["regions"] = [r["id"] for r in regions]
    cells = [inv.cell(regions[i % 2]) for i in range(12)]
    ids["cells"] = [c["id"] for c in cells]
    switches = [
        inv.network_device(
            regions[i % 2],
            cell=cells[i % 2] if i % 3 else None,
            active=i % 2 == 0,
            **({} if i % 2 else {"os_version": f"v{i % 3}"}),
        )
        for i in range(12)
    ]
    ids["network-devices"] = [s["id"] for s in switches]
    hosts = [
        inv.host(regions[0], parent=switches[i % 4] if i % 2 else None, active=i % 3 == 0, variables={"i": i})
        for i in range(12)
    ]
    ids["hosts"] = [h["id"] for h in hosts]
    networks = [inv.network(regions[i % 2], cell=cells[i % 2] if i % 3 else None) for i in range(12)]
    ids["networks"] = [n["id"] for n in networks]
    ids["network-interfaces"] = [
        inv.interface(hosts[i % 3], network=networks[0] if i % 2 else None)["id"] for i in range(12)
    ]
    users = [
        expect(
            craton.root.post(
                "/v1/users", json={"username": unique("u"), "project_id": tenant.project_id, "is_admin": i % 2 == 0}
            ),
            201,
        )
        for i in range(11)
    ]
    ids["users"] = [u["id"] for u in users]
    # A literal public address: no DNS lookup, and the test servers deliver nothing.
    hook = {"url": "https://8.8.8.8/hook", "secret": "s" * 16}
    ids["webhooks"] = [expect(tenant.client.post("/v1/webhooks", json=hook), 201)["id"]]
    return {"tenant": tenant, "ids": ids, "cloud": cloud, "region": regions[0], "cell": cells[0], "host": hosts[0]}


def client_for(path: str, craton: Craton, fuzz_world: dict[str, Any]) -> httpx.Client:
    """Root for projects (admins cannot list or create them), the project's admin otherwise."""
    tenant: Tenant = fuzz_world["tenant"]
    return craton.root if path.startswith("/v1/projects") else tenant.client


def real_path(path: str, fuzz_world: dict[str, Any], hostile_id: str | None = None) -> str:
    if "{id}" not in path:
        return path
    if hostile_id is not None:
        return path.replace("{id}", quote(hostile_id.encode("utf-8", "surrogatepass"), safe=""))
    return path.replace("{id}", str(fuzz_world["ids"][path.split("/")[2]][0]))


def valid_create_body(path: str, fuzz_world: dict[str, Any]) -> dict[str, Any]:
    """A body the create would accept, so that a hostile field reaches the handler."""
    cloud, region, cell, host = fuzz_world["cloud"], fuzz_world["region"], fuzz_world["cell"], fuzz_world["host"]
    place = {"cloud_id": cloud["id"], "region_id": region["id"]}
    name = unique("fz")
    return {
        "/v1/projects": {"name": name},
        "/v1/users": {"username": name, "project_id": fuzz_world["tenant"].project_id},
        "/v1/clouds": {"name": name},
        "/v1/regions": {"name": name, "cloud_id": cloud["id"]},
        "/v1/cells": {"name": name, **place},
        "/v1/hosts": {"name": name, "ip_address": "10.9.0.1", "device_type": "server", **place},
        "/v1/network-devices": {"name": name, "ip_address": "10.9.0.2", "device_type": "switch", **place},
        "/v1/networks": {
            "name": name,
            "cidr": "10.9.0.0/24",
            "gateway": "10.9.0.1",
            "netmask": "255.255.255.0",
            **place,
            "cell_id": cell["id"],
        },
        "/v1/network-interfaces": {
            "name": name,
            "device_id": host["id"],
            "interface_type": "eth",
            "ip_address": "1.1.1.1",
        },
    }.get(path, {})


def encode(body: Any, ascii_only: bool) -> bytes:
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# --- properties -----------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_every_query_parameter_and_path_id_survives_hostile_text(
    craton: Craton, fuzz_world: dict[str, Any], tally: Tally, data: st.DataObject
) -> None:
    path, op = data.draw(st.sampled_from(GETS), label="route")
    params = sorted(op.query)
    chosen = (
        data.draw(st.lists(st.sampled_from(params), min_size=1, max_size=3, unique=True), label="params")
        if params
        else []
    )
    query = "&".join(
        f"{name}={quote(data.draw(TEXT, label=name).encode('utf-8', 'surrogatepass'), safe='')}" for name in chosen
    )
    hostile_id = data.draw(st.one_of(st.none(), TEXT), label="id") if "{id}" in path else None
    url = real_path(path, fuzz_world, hostile_id) + (f"?{query}" if query else "")
    tally.check(client_for(path, craton, fuzz_world).get(url))


@FUZZ
@given(data=st.data())
def test_every_body_field_survives_hostile_json(
    craton: Craton, fuzz_world: dict[str, Any], tally: Tally, data: st.DataObject
) -> None:
    path, op = data.draw(st.sampled_from(WRITES), label="route")
    schema = body_schema(op)
    if schema.get("type") == "array":
        body: Any = data.draw(st.lists(JSON_VALUE, max_size=4), label="keys")
    elif "properties" not in schema:  # variables: any key, any value
        body = data.draw(st.dictionaries(TEXT, JSON_VALUE, min_size=1, max_size=3), label="variables")
    else:
        body = valid_create_body(path, fuzz_world) if op.method == "POST" else {}
        for name in data.draw(
            st.lists(st.sampled_from(sorted(schema["properties"])), min_size=1, max_size=3, unique=True)
        ):
            body[name] = data.draw(JSON_VALUE, label=name)
    content = encode(body, data.draw(st.booleans(), label="ascii"))
    client = client_for(path, craton, fuzz_world)
    tally.check(
        client.request(
            op.method, real_path(path, fuzz_world), content=content, headers={"content-type": "application/json"}
        )
    )


@FUZZ
@given(data=st.data())
def test_raw_bodies_survive(craton: Craton, fuzz_world: dict[str, Any], tally: Tally, data: st.DataObject) -> None:
    path, op = data.draw(st.sampled_from(WRITES), label="route")
    content = data.draw(RAW_BODIES, label="body")
    media = data.draw(st.sampled_from(["application/json", "text/plain", "application/x+json", ""]), label="type")
    client = client_for(path, craton, fuzz_world)
    tally.check(
        client.request(op.method, real_path(path, fuzz_world), content=content, headers={"content-type": media})
    )


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize(("info", "kind"), LISTS, ids=[info.collection for info, _ in LISTS])
def test_every_sort_key_pages_to_the_end(
    craton: Craton, fuzz_world: dict[str, Any], tally: Tally, info: kinds.KindInfo, kind: Kind, direction: str
) -> None:
    client = client_for(info.path, craton, fuzz_world)
    params: dict[str, Any] = {"limit": 10, "sort_dir": direction}
    everything = _walk(client, info, {**params, "limit": 100}, tally)
    for key in sorted(kind.sort_columns()):
        seen = _walk(client, info, {**params, "sort_keys": f"{key},id" if key != "id" else key}, tally)
        assert sorted(seen) == sorted(everything), f"{info.path} sort_keys={key} {direction}: {seen} != {everything}"
        assert len(seen) == len(set(seen)), f"{info.path} sort_keys={key} {direction}: an object twice"


def _walk(client: httpx.Client, info: kinds.KindInfo, params: dict[str, Any], tally: Tally) -> list[Any]:
    response = client.get(info.path, params=params)
    tally.check(response)
    seen: list[Any] = []
    for _ in range(50):
        body = expect(response, 200)
        items = body[info.collection.replace("-", "_")]
        if isinstance(items, dict):  # /v1/devices groups by kind
            items = [*items["hosts"], *items["network-devices"]]
        seen += [item["id"] for item in items]
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return seen
        response = client.get(following[0])
        tally.check(response)
    raise AssertionError(f"{info.path} {params}: next links never end")


# --- the database unreachable -----------------------------------------------------------------------


@contextlib.contextmanager
def server_without_database() -> Iterator[str]:
    nowhere = f"postgresql+psycopg://craton@127.0.0.1:{free_port()}/craton"
    app = create_app(Settings(database_url=nowhere, access_log=False))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def unreachable() -> Iterator[httpx.Client]:
    headers = {"X-Auth-Project": str(uuid.uuid4()), "X-Auth-User": "u", "X-Auth-Token": "t"}
    with server_without_database() as url, httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        yield client


@settings(max_examples=EXAMPLES if SOAK else min(EXAMPLES, 60), deadline=None, derandomize=not SOAK, database=None)
@given(
    route=st.sampled_from(OPERATIONS),
    other_path=st.one_of(st.none(), TEXT),
    credentials=st.booleans(),
)
def test_with_the_database_unreachable_every_route_answers_503(
    unreachable: httpx.Client, route: tuple[str, Any], other_path: str | None, credentials: bool
) -> None:
    path, op = route
    url = path.replace("{id}", "1")
    if other_path is not None:  # an unknown URL
        url = "/v1/" + quote(other_path.encode("utf-8", "surrogatepass"), safe="")
    headers = None if credentials else {"X-Auth-Project": "", "X-Auth-User": "", "X-Auth-Token": ""}
    content = b"{}" if op.body is not None or op.raw_body is not None else None
    response = unreachable.request(
        op.method, url, content=content, headers=headers or {"content-type": "application/json"}
    )
    # the connection is opened before the credentials are read: 503 either way, never 500
    expected = {503} if credentials else {401, 503}
    assert response.status_code in expected, f"{op.method} {url}: {response.status_code} {response.text[:200]}"
    assert response.json()["status"] == response.status_code
