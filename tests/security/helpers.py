"""A small multi-tenant world for the security tests: three projects, five identities.

``R`` is the bootstrap root's own project, ``A`` has an admin and a member, ``B`` is the
"other" project with one of everything. Every object carries variables and (devices)
labels whose values are unique to the project, so a leak shows up as a foreign string in
a response. Disposable objects (for DELETE and key rotation) are made on demand.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests import kinds
from tests.api.helpers import MISSING_ID, Craton, describe, expect, unique

# The kinds, from the server's registry (tests/kinds.py): a new kind joins the matrix.
INVENTORY = kinds.INVENTORY
DEVICES = kinds.DEVICES
LIST_KEYS = kinds.LIST_KEYS
MISSING_PROJECT = "00000000-0000-4000-8000-00000000dead"
CALLERS = ("root", "admin", "member")
TARGETS = ("own", "other", "missing")
RANK = {"member": 0, "admin": 1, "root": 2}


@dataclass
class Project:
    """One project: its id, the client that owns its objects, and one object of each kind."""

    name: str
    project_id: str
    owner: httpx.Client
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret: str = ""

    def id_of(self, kind: str) -> Any:
        if kind == "projects":
            return self.project_id
        return self.objects[kind]["id"]


class World:
    """Projects R (root's), A (admin + member) and B (the other project), on one live server."""

    def __init__(self, craton: Craton) -> None:
        self.craton = craton
        server = craton.server
        self.root = craton.root
        self.r = Project("R", server.project_id, craton.root)
        a_id = expect(self.root.post("/v1/projects", json={"name": unique("A")}), 201)["id"]
        b_id = expect(self.root.post("/v1/projects", json={"name": unique("B")}), 201)["id"]
        self.a = Project("A", a_id, craton.user(a_id, is_admin=True))
        self.b = Project("B", b_id, craton.user(b_id, is_admin=True))
        self.admin = self.a.owner
        self.member = craton.user(a_id, is_admin=False)
        for project in (self.r, self.a, self.b):
            self._populate(project)

    # --- who is who -----------------------------------------------------------------------------

    def caller(self, name: str) -> httpx.Client:
        return {"root": self.root, "admin": self.admin, "member": self.member}[name]

    def home(self, caller: str) -> Project:
        """The caller's own project."""
        return self.r if caller == "root" else self.a

    def target_project(self, caller: str, target: str) -> Project | None:
        if target == "own":
            return self.home(caller)
        if target == "other":
            return self.b
        return None

    # --- objects --------------------------------------------------------------------------------

    def _populate(self, project: Project) -> None:
        secret = f"secret-{project.name}-{uuid.uuid4().hex[:8]}"
        project.secret = secret
        variables = {"secret": secret, f"only-{project.name}": True}
        client = project.owner
        expect(client.put(f"/v1/projects/{project.project_id}/variables", json={"project-secret": secret}), 200)
        cloud = expect(client.post("/v1/clouds", json={"name": unique("cloud"), "variables": variables}), 201)
        region = expect(
            client.post(
                "/v1/regions", json={"name": unique("region"), "cloud_id": cloud["id"], "variables": variables}
            ),
            201,
        )
        cell = expect(
            client.post(
                "/v1/cells",
                json={
                    "name": unique("cell"),
                    "cloud_id": cloud["id"],
                    "region_id": region["id"],
                    "variables": variables,
                },
            ),
            201,
        )
        place = {"cloud_id": cloud["id"], "region_id": region["id"], "cell_id": cell["id"]}
        switch = expect(
            client.post(
                "/v1/network-devices",
                json={
                    "name": unique("switch"),
                    "ip_address": "10.9.0.1",
                    "device_type": "switch",
                    "variables": variables,
                    "labels": [f"label-{secret}"],
                    **place,
                },
            ),
            201,
        )
        host = expect(
            client.post(
                "/v1/hosts",
                json={
                    "name": unique("host"),
                    "ip_address": "10.9.0.2",
                    "device_type": "server",
                    "parent_id": switch["id"],
                    "variables": variables,
                    "labels": [f"label-{secret}"],
                    **place,
                },
            ),
            201,
        )
        network = expect(
            client.post(
                "/v1/networks",
                json={
                    "name": unique("net"),
                    "cidr": "10.9.0.0/24",
                    "gateway": "10.9.0.254",
                    "netmask": "255.255.255.0",
                    "variables": variables,
                    **place,
                },
            ),
            201,
        )
        interface = expect(
            client.post(
                "/v1/network-interfaces",
                json={
                    "name": unique("eth"),
                    "device_id": host["id"],
                    "network_id": network["id"],
                    "interface_type": "ethernet",
                    "ip_address": "10.9.0.2",
                    "variables": variables,
                },
            ),
            201,
        )
        user = expect(
            client.post("/v1/users", json={"username": unique("user"), "project_id": project.project_id}), 201
        )
        project.objects = {
            "clouds": cloud,
            "regions": region,
            "cells": cell,
            "network-devices": switch,
            "hosts": host,
            "networks": network,
            "network-interfaces": interface,
            "users": user,
        }

    def disposable(self, project: Project, kind: str) -> Any:
        """A fresh object of ``kind`` in ``project`` (its id), safe to delete or rotate."""
        client = project.owner
        objects = project.objects
        place = {"cloud_id": objects["clouds"]["id"], "region_id": objects["regions"]["id"]}
        bodies: dict[str, tuple[str, dict[str, Any]]] = {
            "clouds": ("/v1/clouds", {"name": unique("d-cloud")}),
            "regions": ("/v1/regions", {"name": unique("d-region"), "cloud_id": place["cloud_id"]}),
            "cells": ("/v1/cells", {"name": unique("d-cell"), **place}),
            "hosts": (
                "/v1/hosts",
                {"name": unique("d-host"), "ip_address": "10.9.1.1", "device_type": "server", **place},
            ),
            "network-devices": (
                "/v1/network-devices",
                {"name": unique("d-switch"), "ip_address": "10.9.1.2", "device_type": "switch", **place},
            ),
            "networks": (
                "/v1/networks",
                {
                    "name": unique("d-net"),
                    "cidr": "10.9.2.0/24",
                    "gateway": "10.9.2.1",
                    "netmask": "255.255.255.0",
                    **place,
                },
            ),
            "network-interfaces": (
                "/v1/network-interfaces",
                {
                    "name": unique("d-eth"),
                    "device_id": objects["hosts"]["id"],
                    "interface_type": "ethernet",
                    "ip_address": "10.9.0.3",
                },
            ),
            "users": ("/v1/users", {"username": unique("d-user"), "project_id": project.project_id}),
        }
        if kind == "projects":
            return expect(self.root.post("/v1/projects", json={"name": unique("d-project")}), 201)["id"]
        path, body = bodies[kind]
        return expect(client.post(path, json=body), 201)["id"]


def missing_id(kind: str) -> Any:
    return MISSING_PROJECT if kind == "projects" else MISSING_ID


def normalise(text: str, *ids: Any) -> str:
    """An error message with the given ids replaced, to compare 'theirs' with 'missing'."""
    for value in ids:
        if str(value).isdigit():  # 12 must not match inside 123
            text = re.sub(rf"(?<![0-9]){re.escape(str(value))}(?![0-9])", "<id>", text)
        else:
            text = text.replace(str(value), "<id>")
    return text


def same_answer(theirs: httpx.Response, missing: httpx.Response, their_id: Any, missing_id_: Any) -> None:
    """A foreign id must be indistinguishable from an id that does not exist."""
    assert theirs.status_code == missing.status_code, f"\n{describe(theirs)}\n{describe(missing)}"
    assert normalise(theirs.text, their_id) == normalise(missing.text, missing_id_), (
        f"\n{describe(theirs)}\n{describe(missing)}"
    )


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def assert_no_trace_of(project: Project, texts: Iterable[str]) -> None:
    """None of the responses mentions the project's secret or id."""
    for text in texts:
        assert project.secret not in text, f"{project.name}'s secret leaked: {text[:300]}"
        assert project.project_id not in text, f"{project.name}'s id leaked: {text[:300]}"


def known_bug(
    request: Any, backend: str, number: int, backends: Iterable[str] = ("sqlite", "postgresql", "mariadb")
) -> None:
    """Mark the running test as a strict xfail on the backends where .bugs/security.md #number shows."""
    import pytest

    if backend in tuple(backends):
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"server bug: .bugs/security.md #{number}"))
