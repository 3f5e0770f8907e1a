"""Small shared helpers for the API tests: assertions, tenants, inventory builders, paging.

Every test that counts or lists objects works in its own project (``Craton.tenant``), so
tests sharing a module's server never see each other's data. Builders assert each
create (201) so that a failing set-up points at the request that failed.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

NOT_FOUND = {"message": "Not Found", "status": 404}
VALIDATION = "The request included the following errors:\n- "
INVALID_PATH = "The query contains an invalid JSON Path expression."
INVALID_VALUE = "An invalid JSON value was specified."
BAD_CREDENTIALS = "The request could not be authenticated."
UNKNOWN_URL = "The requested URL was not found on the server."
MISSING_ID = 2_000_000_000  # a valid integer id that no test ever creates
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_UTC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")

# The value set the original suite round-trips through every variables endpoint (§4.12).
ROUND_TRIP_VARIABLES: dict[str, Any] = {
    "string-key": "string-value",
    "num-key": 47,
    "bookean-key": False,
    "none-key": None,
    "object-key": {"a": 1, "b": 2},
    "list-key": ["a", "b", 1, 2, 3, True, None],
}

_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A name no other test uses."""
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:600]}"


def expect(response: httpx.Response, status: int) -> Any:
    """Assert the status; return the JSON body (None for an empty body)."""
    assert response.status_code == status, describe(response)
    assert response.headers.get("content-type", "").startswith("application/json"), describe(response)
    if status == 204:
        assert response.content == b"", describe(response)
        return None
    return response.json()


def expect_error(
    response: httpx.Response,
    status: int,
    message: str | None = None,
    *,
    startswith: str | tuple[str, ...] | None = None,
    contains: Iterable[str] = (),
    detail: str | None = None,
) -> str:
    """Assert an error response: the status and a body of {"message", "status", "detail"?}.

    ``contains`` fragments may be in ``message`` or in ``detail``; ``detail`` must be a
    fragment of the body's ``detail``.
    """
    body = expect(response, status)
    assert isinstance(body, dict), describe(response)
    assert set(body) in ({"message", "status"}, {"message", "status", "detail"}), describe(response)
    assert body["status"] == status, describe(response)
    assert isinstance(body["message"], str) and body["message"], describe(response)
    if "detail" in body:
        assert isinstance(body["detail"], str) and body["detail"], describe(response)
    if message is not None:
        assert body["message"] == message, describe(response)
    if startswith is not None:
        assert body["message"].startswith(startswith), describe(response)
    everything = f"{body['message']}\n{body.get('detail', '')}"
    for fragment in contains:
        assert fragment in everything, f"{fragment!r} not in message or detail: {describe(response)}"
    if detail is not None:
        assert detail in body.get("detail", ""), f"{detail!r} not in detail: {describe(response)}"
    return body["message"]


def original(body: Any) -> Any:
    """An error body without its optional ``detail``: what the original Craton sent."""
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if key != "detail"}
    return body


ERROR_KEYS = ({"message", "status"}, {"message", "status", "detail"})


def expect_not_found(response: httpx.Response, detail: str | None = None) -> None:
    """The original 404 body: ``message`` exactly ``Not Found``; ``detail`` names the object."""
    assert response.status_code == 404, describe(response)
    body = response.json()
    assert {key: body.get(key) for key in NOT_FOUND} == NOT_FOUND, describe(response)
    assert set(body) <= {"message", "status", "detail"}, describe(response)
    if detail is not None:
        assert detail in body.get("detail", ""), f"{detail!r} not in detail: {describe(response)}"


def expect_invalid(response: httpx.Response, *messages: str, exact: bool = False) -> list[str]:
    """A 400 schema-validation error; each of ``messages`` must be one of its lines."""
    text = expect_error(response, 400, startswith=VALIDATION)
    lines = text[len(VALIDATION) :].split("\n- ")
    for message in messages:
        assert message in lines, f"{message!r} not among {lines!r}: {describe(response)}"
    if exact:
        assert lines == list(messages), describe(response)
    return lines


def required_message(*names: str) -> list[str]:
    return [f"'{name}' is a required property" for name in sorted(names)]


# --- links and pages --------------------------------------------------------------------------


def links_of(body: dict[str, Any]) -> dict[str, str]:
    """The ``links`` as {rel: href}, asserting the fixed order first, prev, self[, next]."""
    rels = [link["rel"] for link in body["links"]]
    assert rels in (["first", "prev", "self"], ["first", "prev", "self", "next"]), rels
    return {link["rel"]: link["href"] for link in body["links"]}


def query_of(href: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query, keep_blank_values=True).items()}


def get_href(client: httpx.Client, href: str) -> httpx.Response:
    """GET an absolute link the server produced (it must point back at the same server)."""
    assert href.startswith(str(client.base_url).rstrip("/") + "/v1/"), href
    return client.get(href)


def follow_next(
    client: httpx.Client, path: str, params: dict[str, Any] | None = None, limit_pages: int = 100
) -> list[dict[str, Any]]:
    """Every page of a listing, following ``next`` until it is absent."""
    pages = [expect(client.get(path, params=params), 200)]
    while "next" in links_of(pages[-1]):
        assert len(pages) < limit_pages, "next links never end"
        pages.append(expect(get_href(client, links_of(pages[-1])["next"]), 200))
    return pages


def items_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The items of a list body; for /v1/devices, hosts then network devices."""
    if key == "devices":
        return [*body["devices"]["hosts"], *body["devices"]["network-devices"]]
    return body[key]


def ids_of(items: Iterable[dict[str, Any]]) -> list[Any]:
    return [item["id"] for item in items]


# --- identities -------------------------------------------------------------------------------


class Craton:
    """Clients for one live server, all sharing one transport (see tests/api/conftest.py)."""

    def __init__(self, server: Any, transport: httpx.HTTPTransport) -> None:
        self.server = server
        self.transport = transport
        self.root = self.client(server.headers)

    @property
    def url(self) -> str:
        return str(self.server.url)

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        """A client sending exactly ``headers`` (none: unauthenticated)."""
        return httpx.Client(base_url=self.server.url, headers=headers or {}, transport=self.transport, timeout=60)

    def user(self, project_id: str, is_admin: bool = False, username: str | None = None) -> httpx.Client:
        """A client for a new user of ``project_id`` (created by root)."""
        username = username or unique("admin" if is_admin else "member")
        body = {"username": username, "project_id": project_id, "is_admin": is_admin}
        api_key = expect(self.root.post("/v1/users", json=body), 201)["api_key"]
        return self.client({"X-Auth-Project": project_id, "X-Auth-User": username, "X-Auth-Token": api_key})

    def tenant(self, variables: dict[str, Any] | None = None) -> Tenant:
        """A fresh project with an admin user."""
        body: dict[str, Any] = {"name": unique("project")}
        if variables is not None:
            body["variables"] = variables
        project_id = expect(self.root.post("/v1/projects", json=body), 201)["id"]
        return Tenant(self, project_id, self.user(project_id, is_admin=True))


@dataclass
class Tenant:
    """A project with an admin client; ``member()`` adds a plain member."""

    craton: Craton
    project_id: str
    client: httpx.Client
    inventory: Inventory = field(init=False)

    def __post_init__(self) -> None:
        self.inventory = Inventory(self.client)

    def member(self) -> httpx.Client:
        return self.craton.user(self.project_id, is_admin=False)


# --- inventory builders -----------------------------------------------------------------------


class Inventory:
    """Creates inventory through the API as one client; every create must answer 201."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return expect(self.client.post(path, json=body), 201)

    @staticmethod
    def _body(name: str | None, prefix: str, variables: dict[str, Any] | None, extra: dict[str, Any]) -> dict[str, Any]:
        body = {"name": name or unique(prefix), **extra}
        if variables is not None:
            body["variables"] = variables
        return body

    def cloud(self, name: str | None = None, variables: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        return self.create("/v1/clouds", self._body(name, "cloud", variables, extra))

    def region(
        self,
        cloud: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        cloud = cloud or self.cloud()
        return self.create("/v1/regions", self._body(name, "region", variables, {"cloud_id": cloud["id"], **extra}))

    def cell(
        self,
        region: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        region = region or self.region()
        body = {"cloud_id": region["cloud_id"], "region_id": region["id"], **extra}
        return self.create("/v1/cells", self._body(name, "cell", variables, body))

    def _device(
        self,
        path: str,
        prefix: str,
        region: dict[str, Any] | None,
        name: str | None,
        variables: dict[str, Any] | None,
        cell: dict[str, Any] | None,
        parent: dict[str, Any] | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        if region is None:
            region = {"id": cell["region_id"], "cloud_id": cell["cloud_id"]} if cell else self.region()
        body: dict[str, Any] = {
            "cloud_id": region["cloud_id"],
            "region_id": region["id"],
            "ip_address": "10.0.0.1",
            "device_type": "server" if path == "/v1/hosts" else "switch",
            **extra,
        }
        if cell is not None:
            body["cell_id"] = cell["id"]
        if parent is not None:
            body["parent_id"] = parent["id"]
        return self.create(path, self._body(name, prefix, variables, body))

    def host(
        self,
        region: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        cell: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return self._device("/v1/hosts", "host", region, name, variables, cell, parent, extra)

    def network_device(
        self,
        region: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        cell: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return self._device("/v1/network-devices", "netdev", region, name, variables, cell, parent, extra)

    def network(
        self,
        region: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        cell: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        region = region or self.region()
        body = {
            "cloud_id": region["cloud_id"],
            "region_id": region["id"],
            "cidr": "192.168.0.0/24",
            "gateway": "192.168.0.1",
            "netmask": "255.255.255.0",
            **extra,
        }
        if cell is not None:
            body["cell_id"] = cell["id"]
        return self.create("/v1/networks", self._body(name, "network", variables, body))

    def interface(
        self,
        device: dict[str, Any] | None = None,
        name: str | None = None,
        variables: dict[str, Any] | None = None,
        network: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        device = device or self.host()
        body = {"device_id": device["id"], "interface_type": "ethernet", "ip_address": "10.1.0.1", **extra}
        if network is not None:
            body["network_id"] = network["id"]
        return self.create("/v1/network-interfaces", self._body(name, "eth", variables, body))


# --- the database behind the server -----------------------------------------------------------


def variable_rows(server: Any, owners: Iterable[tuple[str, Any]]) -> list[tuple[str, str, str]]:
    """Rows of the server's ``variables`` table that belong to the given (owner kind, id) pairs."""
    wanted = {(kind, str(owner_id)) for kind, owner_id in owners}
    table = sa.Table("variables", sa.MetaData(), autoload_with=server.engine)
    with server.engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.owner_kind, table.c.owner_id, table.c.key)).all()
    return [tuple(row) for row in rows if (row[0], row[1]) in wanted]  # type: ignore[misc]


def table_count(server: Any, table_name: str, **where: Any) -> int:
    table = sa.Table(table_name, sa.MetaData(), autoload_with=server.engine)
    stmt = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        if isinstance(value, (list, tuple, set)):
            stmt = stmt.where(table.c[column].in_(list(value)))
        else:
            stmt = stmt.where(table.c[column] == value)
    with server.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def run_craton_events_once(database_url: str, env: dict[str, str] | None = None) -> None:
    """``craton-events --once`` as its own process: it must drain every backlog and exit 0.

    ``env``: extra ``CRATON_*`` settings for it.
    """
    done = subprocess.run(
        [sys.executable, "-m", "craton.cmd.events", "--once", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
