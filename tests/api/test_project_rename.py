"""``PUT /v1/projects/<id>`` renames a project (issue #13).

Root renames any project; a project admin only its own (another project is 404, as if
absent); members get 403. A name another project has is 409, while creating a project with a
taken name stays allowed (the original suite depends on it). The rename is in the history and
honours ``If-Match``. Concurrent renames to one name are serialised: one wins, the others
get the same 409 (storage/locks.py). The last test sends the request exactly as the original
python-cratonclient does (``ProjectManager.update``: a plain ``PUT`` with a compact JSON body).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.helpers import (
    NOT_FOUND,
    Craton,
    Tenant,
    describe,
    expect,
    expect_error,
    expect_invalid,
    original,
    unique,
)


def test_root_renames_any_project(craton: Craton) -> None:
    tenant = craton.tenant()
    name = unique("renamed")
    body = expect(craton.root.put(f"/v1/projects/{tenant.project_id}", json={"name": name}), 200)
    assert body["id"] == tenant.project_id and body["name"] == name and body["updated_at"] is not None
    assert expect(craton.root.get(f"/v1/projects/{tenant.project_id}"), 200)["name"] == name
    assert [p["id"] for p in expect(craton.root.get("/v1/projects", params={"name": name}), 200)["projects"]] == [
        tenant.project_id
    ]


def test_a_project_admin_renames_only_its_own_project(craton: Craton) -> None:
    mine, theirs = craton.tenant(), craton.tenant()
    name = unique("mine")
    assert expect(mine.client.put(f"/v1/projects/{mine.project_id}", json={"name": name}), 200)["name"] == name
    refused = mine.client.put(f"/v1/projects/{theirs.project_id}", json={"name": unique("theirs")})
    assert refused.status_code == 404 and original(refused.json()) == NOT_FOUND
    assert refused.json()["detail"] == f"Project {theirs.project_id} not found"
    assert expect(craton.root.get(f"/v1/projects/{theirs.project_id}"), 200)["name"] != name


def test_members_may_not_rename(craton: Craton) -> None:
    tenant = craton.tenant()
    member = tenant.member()
    response = member.put(f"/v1/projects/{tenant.project_id}", json={"name": unique("m")})
    expect_error(response, 403, "This action requires the 'admin' role")


def test_a_name_another_project_has_is_409_but_create_still_allows_it(craton: Craton) -> None:
    first, second = craton.tenant(), craton.tenant()
    taken = expect(craton.root.get(f"/v1/projects/{first.project_id}"), 200)["name"]
    response = second.client.put(f"/v1/projects/{second.project_id}", json={"name": taken})
    expect_error(response, 409, "A project with the given name already exists.", detail=repr(taken))
    # keeping one's own name is no conflict, and duplicate names on create stay allowed (v1)
    own = expect(craton.root.get(f"/v1/projects/{second.project_id}"), 200)["name"]
    expect(second.client.put(f"/v1/projects/{second.project_id}", json={"name": own}), 200)
    expect(craton.root.post("/v1/projects", json={"name": taken}), 201)


def test_bad_bodies_and_ids(craton: Craton) -> None:
    tenant = craton.tenant()
    path = f"/v1/projects/{tenant.project_id}"
    expect_invalid(tenant.client.put(path, json={"name": ""}), "'' is too short")
    expect_invalid(tenant.client.put(path, json={"name": 5}), "5 is not of type 'string'")
    expect_invalid(
        tenant.client.put(path, json={"name": "x", "id": "y"}),
        "Additional properties are not allowed ('id' was unexpected)",
    )
    missing = craton.root.put("/v1/projects/not-a-uuid", json={"name": "x"})
    assert missing.status_code == 404 and missing.json()["detail"] == "Project not-a-uuid not found"


def test_the_rename_is_in_the_history_and_honours_if_match(craton: Craton) -> None:
    tenant = craton.tenant()
    path = f"/v1/projects/{tenant.project_id}"
    before = craton.root.get(path)
    old_name, etag = before.json()["name"], before.headers["etag"]
    new_name = unique("v2")
    renamed = tenant.client.put(
        path, json={"name": new_name}, headers={"If-Match": etag, "X-Craton-Change-Reason": "TICKET-1"}
    )
    assert renamed.status_code == 200 and renamed.headers["etag"] != etag
    stale = tenant.client.put(path, json={"name": unique("v3")}, headers={"If-Match": etag})
    expect_error(stale, 412)
    assert expect(craton.root.get(path), 200)["name"] == new_name
    history = expect(craton.root.get(f"{path}/history"), 200)["history"]
    update = history[-1]
    assert (update["action"], update["reason"]) == ("update", "TICKET-1")
    assert (update["old"], update["new"]) == ({"name": old_name}, {"name": new_name})


def test_the_original_clients_request_works(craton: Craton) -> None:
    """python-cratonclient 2017: ``craton.projects.update(project_id, name=...)`` on the wire."""
    tenant = craton.tenant()
    name = unique("original")
    headers = dict(tenant.client.headers)
    headers.update(
        {
            "User-Agent": "python-cratonclient/0.0.1",
            "Accept": "*/*",
            "Content-Type": "application/json",
        }
    )
    body = json.dumps({"name": name}).encode()
    response = httpx.put(f"{craton.url}/v1/projects/{tenant.project_id}", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name and response.json()["id"] == tenant.project_id


def test_concurrent_renames_to_one_name_one_wins(craton: Craton) -> None:
    """Admins of several projects rename them to the same name at the same moment: one 200, the rest 409."""
    contenders = 4
    for _ in range(5):
        tenants = [craton.tenant() for _ in range(contenders)]
        name = unique("race")
        start = threading.Barrier(contenders)

        def rename(tenant: Tenant, name: str = name, start: threading.Barrier = start) -> httpx.Response:
            start.wait()
            return tenant.client.put(f"/v1/projects/{tenant.project_id}", json={"name": name})

        with ThreadPoolExecutor(contenders) as pool:
            responses = list(pool.map(rename, tenants))
        won = [r for r in responses if r.status_code == 200]
        assert len(won) == 1, [describe(r) for r in responses]
        for lost in (r for r in responses if r.status_code != 200):
            expect_error(lost, 409, "A project with the given name already exists.", detail=repr(name))
        named = expect(craton.root.get("/v1/projects", params={"name": name}), 200)["projects"]
        assert [p["id"] for p in named] == [won[0].json()["id"]]
