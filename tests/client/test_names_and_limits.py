"""Issue 21, client side, on every database: ``find`` by name, any ``limit``, ``rotate_key``.

Names matter per database: MariaDB compares names without regard to case, so its ``?name=``
answers ``East`` for ``east``; ``find`` must still be exact everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cratonclient import auth
from cratonclient import exceptions as exc
from cratonclient.v1.client import Client


def _client(url: str, project_id: str, username: str, api_key: str) -> Client:
    return Client(session=auth.craton_auth(username=username, token=api_key, project_id=project_id), url=url)


class Counting:
    """Counts the requests a client sends (the real session does the work)."""

    def __init__(self, craton: Client) -> None:
        self.requests: list[tuple[str, str]] = []
        session = craton.session
        original = session.request

        def request(method: str, url: str, **kwargs: Any) -> Any:
            self.requests.append((method, url))
            return original(method, url, **kwargs)

        session.request = request  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def project(server: Any) -> Iterator[tuple[Client, Any]]:
    """A fresh project on this backend and a client acting as its admin."""
    project_id = server.create_project(f"names-{uuid.uuid4().hex[:8]}")
    username, api_key = server.create_user(project_id, "admin", is_admin=True)
    yield _client(server.url, project_id, username, api_key), (project_id, username, api_key)


@pytest.fixture(scope="module")
def fleet(project: tuple[Client, Any]) -> dict[str, Any]:
    craton, _ = project
    prod = craton.clouds.create(name="prod")
    other = craton.clouds.create(name="other")
    third = craton.clouds.create(name="third")  # MariaDB: East and east clash within one cloud
    east = craton.regions.create(name="east", cloud_id=prod.id)
    east_other = craton.regions.create(name="east", cloud_id=other.id)
    upper = craton.regions.create(name="East", cloud_id=third.id)
    cell = craton.cells.create(name="a", region_id=east.id, cloud_id=prod.id)
    cell_other = craton.cells.create(name="a", region_id=east_other.id, cloud_id=other.id)
    return {
        "prod": prod,
        "other": other,
        "east": east,
        "east_other": east_other,
        "upper": upper,
        "cell": cell,
        "cell_other": cell_other,
    }


def test_find_is_exact_even_where_the_database_ignores_case(project: Any, fleet: dict[str, Any]) -> None:
    craton, _ = project
    counter = Counting(craton)
    assert craton.clouds.find("prod").id == fleet["prod"].id
    assert craton.regions.find("East").id == fleet["upper"].id
    assert len(counter.requests) == 2  # one ?name= query each
    assert {r.id for r in craton.regions.find_all("east")} == {fleet["east"].id, fleet["east_other"].id}
    with pytest.raises(exc.NotFound, match="No cloud named 'PROD'") as missing:
        craton.clouds.find("PROD")
    if "differing only in case" in str(missing.value):  # MariaDB: the near match is named
        assert f"{fleet['prod'].id} 'prod'" in str(missing.value)


def test_an_ambiguous_name_lists_every_candidate_with_its_id(project: Any, fleet: dict[str, Any]) -> None:
    craton, _ = project
    with pytest.raises(exc.NoUniqueMatch) as caught:
        craton.regions.find("east")
    message = str(caught.value)
    assert "2 regions are named 'east'" in message
    assert f"{fleet['east'].id} (cloud_id {fleet['prod'].id})" in message
    assert f"{fleet['east_other'].id} (cloud_id {fleet['other'].id})" in message
    assert {c.id for c in caught.value.candidates} == {fleet["east"].id, fleet["east_other"].id}


def test_filters_narrow_a_name_to_one(project: Any, fleet: dict[str, Any]) -> None:
    craton, _ = project
    # /regions?name= ignores other filters (v1); find applies them to what comes back.
    assert craton.regions.find("east", cloud_id=fleet["other"].id).id == fleet["east_other"].id
    assert craton.cells.find("a", region_id=fleet["east"].id).id == fleet["cell"].id
    with pytest.raises(exc.NoUniqueMatch):
        craton.cells.find("a")
    with pytest.raises(exc.NotFound, match="No cell named 'a' with region_id=999999"):
        craton.cells.find("a", region_id=999999)


@pytest.fixture(scope="module")
def clouds(server: Any) -> tuple[list[int], tuple[str, str, str]]:
    """105 clouds in a project of their own, created straight through the API."""
    project_id = server.create_project(f"paging-{uuid.uuid4().hex[:8]}")
    username, api_key = server.create_user(project_id, "admin", is_admin=True)
    headers = {"X-Auth-Project": project_id, "X-Auth-User": username, "X-Auth-Token": api_key}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as raw:
        ids = [raw.post("/v1/clouds", json={"name": f"c{n:03}"}).json()["id"] for n in range(105)]
    return ids, (project_id, username, api_key)


def test_any_limit_without_autopagination_returns_that_many(server: Any, clouds: Any) -> None:
    ids, credentials = clouds
    craton = _client(server.url, *credentials)
    counter = Counting(craton)

    few = craton.clouds.list(autopaginate=False, limit=5)  # the server's minimum is 10
    assert [c.id for c in few] == ids[:5]
    assert few.more is True and few.next_marker == ids[4]
    after = craton.clouds.list(autopaginate=False, limit=3, marker=few.next_marker)
    assert [c.id for c in after] == ids[5:8]
    assert len(counter.requests) == 2

    many = craton.clouds.list(autopaginate=False, limit=103)  # above the maximum of 100
    assert [c.id for c in many] == ids[:103]
    assert many.more is True and many.next_marker == ids[102]
    exact = craton.clouds.list(autopaginate=False, limit=105)
    assert [c.id for c in exact] == ids and exact.more is False
    whole_page = craton.clouds.list(autopaginate=False, limit=100)
    assert len(list(whole_page)) == 100 and whole_page.more is True


def test_a_limit_is_only_a_page_size_when_autopaginating(server: Any, clouds: Any) -> None:
    ids, credentials = clouds
    craton = _client(server.url, *credentials)
    counter = Counting(craton)
    assert [c.id for c in craton.clouds.list(limit=5)] == ids  # pages of 10
    assert len(counter.requests) == 11
    assert [c.id for c in craton.clouds.list(limit=500)] == ids  # pages of 100
    assert len(counter.requests) == 13


def test_rotate_key_returns_the_new_key_once(server: Any, project: Any) -> None:
    craton, (project_id, _, _) = project
    bob = craton.users.create(username=f"bob-{uuid.uuid4().hex[:6]}", project_id=project_id)
    old_key = bob.api_key

    def works(key: str) -> bool:
        try:
            list(_client(server.url, project_id, bob.username, key).clouds.list())
        except exc.Unauthorized:
            return False
        return True

    rotated = craton.users.rotate_key(bob.id, grace_seconds=60)
    assert rotated.id == bob.id and rotated.api_key not in (None, old_key)
    assert works(rotated.api_key) and works(old_key)  # the grace period
    again = craton.users.get(bob.id).rotate_key()  # from the object; no grace
    assert "api_key" not in craton.users.get(bob.id).to_dict()
    assert works(again.api_key) and not works(rotated.api_key)
    assert [c.action for c in craton.users.history(bob.id)][-2:] == ["rotate_key", "rotate_key"]
    with pytest.raises(exc.BadRequest):
        craton.users.rotate_key(bob.id, grace_seconds=-1)
    with pytest.raises(exc.NotFound):
        craton.users.rotate_key(999999)
