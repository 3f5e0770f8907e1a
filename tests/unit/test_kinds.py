"""Every declared kind is served, reachable from the client and the CLI, and under contract test.

The server declares its kinds once (``craton.domain.kinds.KINDS``) and derives its per-kind
lists from that; the client keeps its own list (it imports nothing from the server), and
these tests hold the two together. A kind declared without its routes, its client manager,
its CLI commands or its entry in the resource contract suite fails here, by name.
"""

from __future__ import annotations

import pytest
from starlette.routing import Route

from craton.app import API_ROUTES
from craton.domain import kinds, resolution
from craton.domain.kinds import KINDS, KindInfo
from craton.http.routes import changes as changes_route
from craton.http.routes import kind_module
from cratonclient.shell.v1 import RESOURCE_SPECS, changes_shell
from cratonclient.v1.client import kind_managers
from tests.api.test_resources import CONTRACT_ELSEWHERE, SPECS

NAMES = [info.resource_type for info in KINDS]


def _routes() -> dict[str, set[str]]:
    served: dict[str, set[str]] = {}
    for route in API_ROUTES:
        assert isinstance(route, Route)
        served.setdefault(route.path, set()).update(route.methods or ())
    return served


@pytest.mark.parametrize("info", KINDS, ids=NAMES)
def test_every_kind_has_its_routes(info: KindInfo) -> None:
    module = kind_module(info)
    assert module.RESOURCE.kind.info is info, f"http/routes/{info.collection}.py declares another kind"
    served = _routes()
    assert "GET" in served.get(info.path, set()), f"{info.path} is not served"
    assert "GET" in served.get(info.path + "/{id}", set())
    assert "GET" in served.get(info.path + "/{id}/history", set())
    assert (info.path + "/{id}/variables" in served) == info.has_variables
    assert (info.path + "/{id}/labels" in served) == info.has_labels


@pytest.mark.parametrize("info", KINDS, ids=NAMES)
def test_every_kind_has_a_client_manager(info: KindInfo) -> None:
    managers = kind_managers()
    assert info.collection in managers, f"cratonclient.v1.client.Client has no {info.collection} manager"
    manager = managers[info.collection]
    assert manager.key == info.resource_type
    assert f"/v1{manager.base_path}" == info.path


def test_the_clients_list_is_the_servers_in_the_same_order() -> None:
    assert list(kind_managers()) == [info.collection for info in KINDS]
    assert changes_shell.RESOURCE_TYPES == tuple(NAMES)
    assert changes_route.history_feed.RESOURCE_TYPES == tuple(NAMES)


@pytest.mark.parametrize("info", KINDS, ids=NAMES)
def test_every_kind_has_cli_commands(info: KindInfo) -> None:
    specs = {spec.manager: spec for spec in RESOURCE_SPECS}
    assert info.collection in specs, f"no cratonclient/shell/v1/{info.collection}_shell.py SPEC"
    spec = specs[info.collection]
    assert spec.name == info.resource_type.replace("_", "-")
    assert spec.variables == info.has_variables
    assert spec.labels == info.has_labels


@pytest.mark.parametrize("info", KINDS, ids=NAMES)
def test_every_kind_is_in_the_contract_suite(info: KindInfo) -> None:
    covered = {spec.path for spec in SPECS.values()} | set(CONTRACT_ELSEWHERE)
    assert info.path in covered, f"tests/api/test_resources.py has no {info.path}"


@pytest.mark.parametrize("info", KINDS, ids=NAMES)
def test_declarations_agree_with_the_schema(info: KindInfo) -> None:
    columns = info.table.c
    assert info.name_column in columns
    for owner, column in info.parents:
        assert column in columns, f"{info.resource_type}: no column {column}"
        assert owner in kinds.owner_kinds(), f"{info.resource_type}: unknown parent kind {owner}"
    if info.nested:
        assert "parent_id" in columns
    if info.part_of is not None:
        assert info.part_of[1] in columns and info.part_of[0] in kinds.owner_kinds()
    if info.owner_kind is not None:  # kinds sharing a table share what resolution knows of them
        first = kinds.owner_kind(info.owner_kind)
        assert (first.table, first.parents, first.nested) == (info.table, info.parents, info.nested)
        assert "kind" in columns


def test_resolution_chains_come_from_the_declarations() -> None:
    host = {"id": 5, "parent_id": 4, "cell_id": 3, "region_id": 2, "cloud_id": 1, "project_id": "p"}
    chain = resolution.chain("device", host, {4: None})
    assert chain == [("device", "5"), ("device", "4"), ("cell", "3"), ("region", "2"), ("cloud", "1"), ("project", "p")]
    assert resolution.owner_kinds_above("cell") == {"region", "cloud", "project"}
    assert resolution.owner_kinds_above("device") == {"device", "cell", "region", "cloud", "project"}
    assert resolution.chain("network_interface", {"id": 9}, {}) == [("network_interface", "9")]
