"""Tenant isolation, exhaustively: every endpoint and method x {root, admin, member} x {own, other, missing}.

The expected status follows docs/decisions.md §2-§6: validation, then authentication, then the role
check (403 whatever the id), then the lookup, where another project's object is exactly as
absent as a missing one (404 `Not Found`), except for root, who crosses projects. A refused
write must leave the target untouched (its owner reads the same object, ``updated_at``
included, since variable and label changes move it too).

Indirect paths (markers, filters, references in bodies, ``vars``, links, the inventory)
are in test_indirect_paths.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from craton.app import API_ROUTES
from craton.http.openapi import document
from tests.api.helpers import ERROR_KEYS, NOT_FOUND, describe, ids_of, original, unique
from tests.security.helpers import (
    CALLERS,
    DEVICES,
    INVENTORY,
    LIST_KEYS,
    MISSING_PROJECT,
    RANK,
    TARGETS,
    World,
    missing_id,
)

Body = Callable[[], Any] | None


@dataclass(frozen=True)
class Op:
    """One (method, path) on an item; ``{id}`` is an object of ``kind``."""

    method: str
    template: str
    kind: str
    success: int
    role: str = "member"
    body: Body = None
    consumes: bool = False  # the call destroys or re-keys its target: use a disposable object

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _rename() -> dict[str, str]:
    return {"name": unique("renamed")}


def _item_ops() -> list[Op]:
    ops: list[Op] = []
    for kind in INVENTORY:
        item = f"/v1/{kind}/{{id}}"
        ops += [
            Op("GET", item, kind, 200),
            Op("HEAD", item, kind, 200),
            Op("PUT", item, kind, 200, body=_rename),
            Op("DELETE", item, kind, 204, consumes=True),
            Op("GET", item + "/variables", kind, 200),
            Op("PUT", item + "/variables", kind, 200, body=lambda: {"matrix": unique()}),
            Op("DELETE", item + "/variables", kind, 204, body=lambda: ["matrix"]),
            Op("GET", item + "/variables/masks", kind, 200),
            Op("PUT", item + "/variables/masks", kind, 200, body=lambda: ["matrix"]),
            Op("DELETE", item + "/variables/masks", kind, 204, body=lambda: ["matrix"]),
            Op("GET", item + "/history", kind, 200),
        ]
    for kind in DEVICES:
        labels = f"/v1/{kind}/{{id}}/labels"
        ops += [
            Op("GET", labels, kind, 200),
            Op("PUT", labels, kind, 200, body=lambda: {"labels": ["matrix"]}),
            Op("DELETE", labels, kind, 204, body=lambda: {"labels": ["matrix"]}),
        ]
    ops += [
        Op("GET", "/v1/projects/{id}", "projects", 200, role="admin"),
        Op("HEAD", "/v1/projects/{id}", "projects", 200, role="admin"),
        Op("PUT", "/v1/projects/{id}", "projects", 200, role="admin", body=_rename),
        Op("DELETE", "/v1/projects/{id}", "projects", 204, role="root", consumes=True),
        Op("GET", "/v1/projects/{id}/variables", "projects", 200, role="admin"),
        Op("PUT", "/v1/projects/{id}/variables", "projects", 200, role="admin", body=lambda: {"matrix": unique()}),
        Op("DELETE", "/v1/projects/{id}/variables", "projects", 204, role="admin", body=lambda: ["matrix"]),
        Op("GET", "/v1/projects/{id}/variables/masks", "projects", 200, role="admin"),
        Op("PUT", "/v1/projects/{id}/variables/masks", "projects", 200, role="admin", body=lambda: ["matrix"]),
        Op("DELETE", "/v1/projects/{id}/variables/masks", "projects", 204, role="admin", body=lambda: ["matrix"]),
        Op("GET", "/v1/projects/{id}/merge-strategies", "projects", 200, role="admin"),
        Op("PUT", "/v1/projects/{id}/merge-strategies", "projects", 200, role="admin", body=lambda: {"matrix": "deep"}),
        # project variables and users are admin-only, so their change records are too
        Op("GET", "/v1/projects/{id}/history", "projects", 200, role="admin"),
        Op("GET", "/v1/users/{id}/history", "users", 200, role="admin"),
        Op("GET", "/v1/users/{id}", "users", 200, role="admin"),
        Op("HEAD", "/v1/users/{id}", "users", 200, role="admin"),
        Op("DELETE", "/v1/users/{id}", "users", 204, role="admin", consumes=True),
        Op("POST", "/v1/users/{id}/api-key", "users", 200, role="admin", consumes=True),
    ]
    return ops


ITEM_OPS = _item_ops()


def expected_status(op: Op, caller: str, target: str) -> int:
    if RANK[caller] < RANK[op.role]:
        return 403  # the role check comes before any lookup, so it reveals nothing
    if target == "missing" or (target == "other" and caller != "root"):
        return 404
    return op.success


def _snapshot(owner: httpx.Client, kind: str, object_id: Any) -> Any:
    """What the owner sees of an object: changes of its variables or labels move ``updated_at``."""
    path = f"/v1/{kind}/{object_id}"
    response = owner.get(path)
    assert response.status_code == 200, describe(response)
    state = [response.json()]
    if kind in DEVICES:
        state.append(owner.get(path + "/labels").json())
    if kind == "projects":
        state.append(owner.get(path + "/variables").json())
    return state


# Cells where the server is known to be wrong: (operation, caller) -> .bugs/security.md entry.
# (operation, caller) -> .bugs/security.md entry, while a server bug is open.
KNOWN_BUGS: dict[tuple[str, str], int] = {}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op", ITEM_OPS, ids=str)
def test_item_operations(request: pytest.FixtureRequest, world: World, op: Op, caller: str, target: str) -> None:
    bug = KNOWN_BUGS.get((str(op), caller))
    if bug is not None:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"server bug: .bugs/security.md #{bug}"))
    if op.kind == "projects" and op.consumes and caller == "root" and target == "own":
        pytest.skip("root deleting its own project would end the run; covered for another project")
    client = world.caller(caller)
    project = world.target_project(caller, target)
    if project is None:
        object_id = missing_id(op.kind)
    elif op.consumes:
        object_id = world.disposable(project, op.kind)
    else:
        object_id = project.id_of(op.kind)
    path = op.template.format(id=object_id)
    expected = expected_status(op, caller, target)
    owner = world.root  # root reads everything, so it can tell whether anything changed
    refused_write = op.method not in ("GET", "HEAD") and expected >= 400 and project is not None
    before = _snapshot(owner, op.kind, object_id) if refused_write else None

    body = op.body() if op.body is not None else None
    response = client.request(op.method, path, json=body) if body is not None else client.request(op.method, path)

    assert response.status_code == expected, f"{caller} -> {target}: {describe(response)}"
    assert response.headers["content-type"].startswith("application/json"), describe(response)
    if op.method == "HEAD" or expected == 204:
        assert response.content == b"", describe(response)
    elif expected == 404:
        assert original(response.json()) == NOT_FOUND, describe(response)
    elif expected == 403:
        body_ = response.json()
        assert set(body_) in ERROR_KEYS and body_["status"] == 403, describe(response)
    if refused_write:
        assert _snapshot(owner, op.kind, object_id) == before, f"refused {op} changed the object"
    if project is not None and project is world.b and expected < 400:
        assert caller == "root"


# --- collection endpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionCase:
    method: str
    path: str
    target: str
    expected: dict[str, int]  # caller -> status

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.target}]"


def _parent_refs(world: World, kind: str, caller: str, target: str) -> dict[str, Any]:
    """A create body for ``kind`` whose references point at the caller's own, another or no project."""
    project = world.target_project(caller, target)

    def ref(parent: str) -> Any:
        return project.id_of(parent) if project is not None else missing_id(parent)

    place = {"cloud_id": ref("clouds"), "region_id": ref("regions"), "cell_id": ref("cells")}
    bodies: dict[str, dict[str, Any]] = {
        "clouds": {"name": unique("m-cloud")},
        "regions": {"name": unique("m-region"), "cloud_id": place["cloud_id"]},
        "cells": {"name": unique("m-cell"), "cloud_id": place["cloud_id"], "region_id": place["region_id"]},
        "hosts": {"name": unique("m-host"), "ip_address": "10.9.3.1", "device_type": "server", **place},
        "network-devices": {"name": unique("m-switch"), "ip_address": "10.9.3.2", "device_type": "switch", **place},
        "networks": {
            "name": unique("m-net"),
            "cidr": "10.9.4.0/24",
            "gateway": "10.9.4.1",
            "netmask": "255.255.255.0",
            **place,
        },
        "network-interfaces": {
            "name": unique("m-eth"),
            "device_id": ref("hosts"),
            "network_id": ref("networks"),
            "interface_type": "ethernet",
            "ip_address": "10.9.3.3",
        },
    }
    return bodies[kind]


EVERYONE = {caller: 200 for caller in CALLERS}


def _collection_cases() -> list[CollectionCase]:
    cases = [
        CollectionCase("GET", "/v1/projects", "-", {"root": 200, "admin": 403, "member": 403}),
        CollectionCase("POST", "/v1/projects", "-", {"root": 201, "admin": 403, "member": 403}),
        CollectionCase("GET", "/v1/users", "-", {"root": 200, "admin": 200, "member": 403}),
        CollectionCase("POST", "/v1/users", "own", {"root": 201, "admin": 201, "member": 403}),
        CollectionCase("POST", "/v1/users", "other", {"root": 201, "admin": 404, "member": 403}),
        CollectionCase("POST", "/v1/users", "missing", {"root": 404, "admin": 404, "member": 403}),
        CollectionCase("GET", "/v1/devices", "-", EVERYONE),
        CollectionCase("GET", "/v1/changes", "-", EVERYONE),
        CollectionCase("GET", "/v1/effective-changes", "-", EVERYONE),
        CollectionCase("GET", "/v1/ansible-inventory", "-", EVERYONE),
    ]
    for kind in INVENTORY:
        cases.append(CollectionCase("GET", f"/v1/{kind}", "-", EVERYONE))
        if kind == "clouds":
            cases.append(CollectionCase("POST", "/v1/clouds", "own", {caller: 201 for caller in CALLERS}))
            continue
        # creates always land in the caller's project, so a parent elsewhere is a bad reference (§7, §8)
        cases.append(CollectionCase("POST", f"/v1/{kind}", "own", {caller: 201 for caller in CALLERS}))
        cases.append(CollectionCase("POST", f"/v1/{kind}", "other", {caller: 400 for caller in CALLERS}))
        cases.append(CollectionCase("POST", f"/v1/{kind}", "missing", {caller: 400 for caller in CALLERS}))
    return cases


COLLECTION_CASES = _collection_cases()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", COLLECTION_CASES, ids=str)
def test_collection_operations(world: World, case: CollectionCase, caller: str) -> None:
    client = world.caller(caller)
    kind = case.path.rsplit("/", 1)[1]
    body: Any = None
    if case.method == "POST" and kind == "projects":
        body = {"name": unique("m-project")}
    elif case.method == "POST" and kind == "users":
        project = world.target_project(caller, case.target)
        body = {"username": unique("m-user"), "project_id": project.project_id if project else MISSING_PROJECT}
    elif case.method == "POST":
        body = _parent_refs(world, kind, caller, case.target)
    params = {"limit": 100} if case.method == "GET" and kind in LIST_KEYS else None
    response = client.request(case.method, case.path, json=body, params=params)
    expected = case.expected[caller]
    assert response.status_code == expected, f"{caller}: {describe(response)}"
    payload = response.json()
    if expected >= 400:
        assert set(payload) in ERROR_KEYS and payload["status"] == expected, describe(response)
        if expected == 404:
            assert original(payload) == NOT_FOUND, describe(response)
        return
    if case.method == "POST":
        home = world.home(caller)
        created_in = payload["id"] if kind == "projects" else payload["project_id"]
        if kind == "users":
            assert created_in == world.target_project(caller, case.target).project_id  # type: ignore[union-attr]
        elif kind != "projects":
            assert created_in == home.project_id, "a create must land in the caller's project"
        return
    if kind in INVENTORY:
        seen = ids_of(payload[LIST_KEYS[kind]])
        assert world.home(caller).id_of(kind) in seen
        assert (world.b.id_of(kind) in seen) == (caller == "root"), f"{caller} listing {kind}: {seen}"
    if kind in ("changes", "effective-changes"):
        projects = {record["project_id"] for record in payload[kind.replace("-", "_")]}
        assert caller == "root" or projects <= {world.home(caller).project_id}, f"{caller} reading {kind}: {projects}"
    if kind == "users":
        projects = {user["project_id"] for user in payload["users"]}
        assert projects == {world.a.project_id} if caller == "admin" else world.b.project_id in projects


# --- the matrix covers the whole API ------------------------------------------------------------


# Operations outside the kind registry, whose isolation is checked route by route in their own
# module (every route there: another project's id is 404, a member is refused, lists stay own).
CHECKED_ELSEWHERE = {
    ("GET", "/v1/export"): "tests/api/test_export.py::test_a_subtree_and_nothing_of_another_project",
    ("POST", "/v1/import"): "tests/api/test_import.py::test_an_import_never_touches_another_project",
    **{
        (method, path): "tests/api/test_webhooks.py::test_tenancy_admins_only_and_own_project_only"
        for method, path in (
            ("GET", "/v1/webhooks"),
            ("POST", "/v1/webhooks"),
            ("GET", "/v1/webhooks/{id}"),
            ("PUT", "/v1/webhooks/{id}"),
            ("DELETE", "/v1/webhooks/{id}"),
            ("GET", "/v1/webhooks/{id}/deliveries"),
            ("POST", "/v1/webhooks/{id}/redeliver"),
        )
    },
}


def test_the_matrix_covers_every_documented_operation() -> None:
    """A new endpoint must be added here (and so get its isolation checks) before it ships.

    Endpoints documented without security (health, readiness, metrics) hold no tenant data.
    """
    documented = {
        (method.upper(), path)
        for path, item in document(API_ROUTES)["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete", "patch") and operation.get("security") != []
    }
    covered = (
        {(op.method, op.template) for op in ITEM_OPS}
        | {(case.method, case.path) for case in COLLECTION_CASES}
        | set(CHECKED_ELSEWHERE)
    )
    assert documented - covered == set(), f"operations without isolation checks: {sorted(documented - covered)}"
    assert {(m, p) for m, p in covered if m != "HEAD"} - documented == set()
