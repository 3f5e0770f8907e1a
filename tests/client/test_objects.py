"""Resource and Variables objects on their own: attribute access, equality, repr, laziness."""

from __future__ import annotations

import pytest

from cratonclient.v1.client import Client
from cratonclient.v1.clouds import Cloud
from cratonclient.v1.hosts import Host
from cratonclient.v1.variables import Variable, VariableManager, Variables


@pytest.fixture
def craton(stub, stub_session):
    return Client(session=stub_session(), url=stub.url)


def test_attributes_come_from_the_json(craton):
    cloud = Cloud(craton.clouds, {"id": 3, "name": "c", "note": None, "variables": {"a": 1}}, loaded=True)

    assert (cloud.id, cloud.name, cloud.note) == (3, "c", None)
    assert isinstance(cloud.variables, VariableManager)
    assert cloud.variables.build_url() == f"{craton.url}/clouds/3/variables"
    assert cloud.to_dict()["variables"] == {"a": 1}


def test_data_never_shadows_behaviour(craton):
    cloud = Cloud(craton.clouds, {"id": 3, "delete": "x", "to_dict": 1, "manager": 2}, loaded=True)

    assert callable(cloud.delete) and callable(cloud.to_dict)
    assert cloud.manager is craton.clouds
    assert cloud.to_dict() == {"id": 3, "delete": "x", "to_dict": 1, "manager": 2}


def test_equality_and_repr(craton):
    one = Host(craton.hosts, {"id": 1, "name": "h", "labels": ["a"]}, loaded=True)
    same = Host(craton.hosts, {"id": 1, "name": "h", "labels": ["a"]}, loaded=True)
    other = Cloud(craton.clouds, {"id": 1, "name": "h", "labels": ["a"]}, loaded=True)

    assert one == same and one != other
    assert repr(one) == "<Host id=1, labels=['a'], name='h'>"
    assert one.labels == ["a"]  # the server's labels stay plain data


def test_a_stub_loads_itself_once_on_a_missing_attribute(stub, craton):
    stub.play(stub.respond(200, {"id": 4, "name": "loaded", "note": "n"}))
    cloud = Cloud(craton.clouds, {"id": 4}, loaded=False)

    assert cloud.note == "n"
    assert cloud.is_loaded()
    assert [r.path for r in stub.requests] == ["/v1/clouds/4"]
    with pytest.raises(AttributeError):
        cloud.still_missing  # noqa: B018 - loaded now, so no second request
    assert len(stub.requests) == 1


def test_an_object_without_id_does_not_recurse(craton):
    cloud = Cloud(craton.clouds, {"name": "no id"}, loaded=False)

    with pytest.raises(AttributeError):
        cloud.id  # noqa: B018
    assert not hasattr(cloud, "variables")


def test_variables_mapping(craton):
    manager = VariableManager(craton._session, f"{craton.url}/clouds/1")
    variables = Variables(manager, {"variables": {"a": 1, "b": [1, 2]}})

    assert variables["a"] == Variable("a", 1)
    assert len(variables) == 2 and sorted(variables) == ["a", "b"]
    variables["c"] = None
    del variables["a"]
    assert variables.to_dict() == {"b": [1, 2], "c": None}
    assert repr(Variables(manager, {"variables": {"k": "v"}})) == "<Variables k=Variable(name='k', value='v')>"
    assert repr(Variables(manager, {})) == "<Variables >"


def test_labels_and_variables_requests(stub, craton):
    stub.play(
        stub.respond(200, {"labels": ["a", "b"]}),
        stub.respond(204),
        stub.respond(200, {"variables": {"x": 1}}),
        stub.respond(204),
    )

    assert craton.hosts.labels(5).update("a", "b") == ["a", "b"]
    assert craton.network_devices.labels(6).delete("a") is True
    host = Host(craton.hosts, {"id": 5}, loaded=True)
    assert host.variables.get(resolved=False).to_dict() == {"x": 1}
    assert host.variables.delete("x", "y") is True

    sent = [(r.method, r.path, r.body) for r in stub.requests]
    assert sent == [
        ("PUT", "/v1/hosts/5/labels", b'{"labels": ["a", "b"]}'),
        ("DELETE", "/v1/network-devices/6/labels", b'{"labels": ["a"]}'),
        ("GET", "/v1/hosts/5/variables?resolved-values=false", b""),
        ("DELETE", "/v1/hosts/5/variables", b'["x", "y"]'),
    ]


def test_ids_are_quoted_in_paths(stub, craton):
    stub.play(stub.respond(200, {"id": "a/b", "name": "odd"}))

    craton.projects.get("a/b")

    assert stub.requests[0].path == "/v1/projects/a%2Fb"


def test_get_update_and_delete_need_an_id(craton):
    for call in (craton.clouds.get, craton.clouds.update, craton.clouds.delete):
        with pytest.raises(TypeError):
            call()
