"""The session's wire behaviour against a real loopback socket server that misbehaves on cue.

Retries, timeouts, connection reuse and headers cannot be provoked from a healthy craton-api,
so a scripted stub plays the server here; nothing in the client is patched.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import parse_qs

import pytest

import cratonclient
from cratonclient import exceptions as exc
from cratonclient.session import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Session
from cratonclient.v1.client import Client

PAGE = {"clouds": [], "links": []}


def test_get_is_retried_when_the_server_drops_connections(stub, stub_session):
    stub.play(stub.drop(), stub.drop(), stub.respond(200, {"clouds": [{"id": 1}], "links": []}))
    craton = Client(session=stub_session(retries=3), url=stub.url)

    clouds = list(craton.clouds.list())

    assert [cloud.id for cloud in clouds] == [1]
    assert len(stub.requests) == 3
    assert stub.connections == 3  # each drop forced a fresh connection


def test_retries_give_up_with_connection_failed(stub, stub_session):
    stub.play(*[stub.drop()] * 5)
    craton = Client(session=stub_session(retries=2), url=stub.url)

    with pytest.raises(exc.ConnectionFailed) as caught:
        craton.clouds.get(1)

    assert len(stub.requests) == 3  # one try plus two retries
    assert isinstance(caught.value, exc.HTTPError)
    assert caught.value.status_code is None
    assert stub.url in caught.value.message


def test_post_is_not_retried_after_the_request_was_sent(stub, stub_session):
    # The server may have created the object before the connection dropped: never repeat it.
    stub.play(stub.drop(), stub.respond(201, {"id": 7, "name": "x"}))
    craton = Client(session=stub_session(retries=3), url=stub.url)

    with pytest.raises(exc.ConnectionFailed):
        craton.clouds.create(name="x")

    assert [r.method for r in stub.requests] == ["POST"]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_idempotent_requests_are_retried_on_gateway_errors(stub, stub_session, status):
    stub.play(stub.respond(status, {"message": "busy", "status": status}), stub.respond(200, {"id": 3, "name": "c"}))
    craton = Client(session=stub_session(retries=3), url=stub.url)

    assert craton.clouds.get(3).name == "c"
    assert [r.method for r in stub.requests] == ["GET", "GET"]


def test_put_and_delete_are_retried_too(stub, stub_session):
    stub.play(
        stub.respond(503, {"message": "busy", "status": 503}),
        stub.respond(200, {"id": 3, "name": "new"}),
        stub.respond(503, {"message": "busy", "status": 503}),
        stub.respond(204),
    )
    craton = Client(session=stub_session(retries=3), url=stub.url)

    assert craton.clouds.update(3, name="new").name == "new"
    assert craton.clouds.delete(3) is True
    assert [r.method for r in stub.requests] == ["PUT", "PUT", "DELETE", "DELETE"]


def test_post_is_not_retried_on_503(stub, stub_session):
    stub.play(stub.respond(503, {"message": "maintenance", "status": 503}))
    craton = Client(session=stub_session(retries=3), url=stub.url)

    with pytest.raises(exc.ServiceUnavailable) as caught:
        craton.clouds.create(name="x")

    assert caught.value.message == "maintenance"
    assert len(stub.requests) == 1


def test_exhausted_status_retries_raise_the_last_answer(stub, stub_session):
    stub.play(*[stub.respond(503, {"message": "still down", "status": 503})] * 4)
    craton = Client(session=stub_session(retries=3), url=stub.url)

    with pytest.raises(exc.ServiceUnavailable) as caught:
        craton.clouds.get(1)

    assert len(stub.requests) == 4
    assert caught.value.message == "still down"
    assert caught.value.request_id == "req-stub-4"


def test_backoff_waits_between_retries(stub, stub_session):
    stub.play(stub.drop(), stub.drop(), stub.drop(), stub.respond(200, {"id": 1}))
    craton = Client(session=stub_session(retries=3, backoff_factor=0.05), url=stub.url)

    started = time.monotonic()
    craton.clouds.get(1)

    # urllib3 sleeps 0, then 0.1, then 0.2 seconds (factor * 2**(n-1) after the first retry).
    assert time.monotonic() - started >= 0.25


def test_retry_after_is_honoured(stub, stub_session):
    stub.play(
        stub.respond(503, {"message": "later", "status": 503}, **{"Retry-After": "1"}), stub.respond(200, {"id": 1})
    )
    craton = Client(session=stub_session(retries=1), url=stub.url)

    started = time.monotonic()
    craton.clouds.get(1)

    assert time.monotonic() - started >= 0.9


def test_a_malformed_retry_after_is_ignored(stub, stub_session):
    stub.play(
        stub.respond(503, {"message": "later", "status": 503}, **{"Retry-After": "soon"}), stub.respond(200, {"id": 1})
    )
    craton = Client(session=stub_session(retries=1), url=stub.url)

    assert craton.clouds.get(1).id == 1
    assert len(stub.requests) == 2


def test_connection_refused_is_connection_failed(stub_session):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    craton = Client(session=stub_session(retries=1), url=f"http://127.0.0.1:{port}")

    with pytest.raises(exc.ConnectionFailed) as caught:
        list(craton.clouds.list())

    assert f"127.0.0.1:{port}" in str(caught.value)


def test_a_slow_server_raises_timeout_without_retrying(stub, stub_session):
    stub.play(stub.hang(2.0), stub.respond(200, {"id": 1}))
    craton = Client(session=stub_session(retries=3, timeout=0.3), url=stub.url)

    started = time.monotonic()
    with pytest.raises(exc.Timeout) as caught:
        craton.clouds.get(1)

    assert time.monotonic() - started < 1.5
    assert len(stub.requests) == 1
    assert isinstance(caught.value, exc.ClientException)
    assert caught.value.original_exception is not None


def test_connections_are_reused(stub, stub_session):
    stub.default = stub.respond(200, {"id": 1, "name": "c"})
    craton = Client(session=stub_session(), url=stub.url)

    for _ in range(5):
        craton.clouds.get(1)

    assert len(stub.requests) == 5
    assert stub.connections == 1


def test_headers_sent_on_every_request(stub, stub_session):
    stub.play(stub.respond(201, {"id": 1, "name": "c"}))
    craton = Client(session=stub_session(), url=stub.url)

    craton.clouds.create(name="c", note="n")

    request = stub.requests[0]
    assert request.headers["user-agent"] == f"python-cratonclient/{cratonclient.__version__}"
    assert request.headers["x-auth-user"] == "alice"
    assert request.headers["x-auth-token"] == "secret-key"
    assert request.headers["x-auth-project"] == "b9f10eca-66ac-4c27-9c13-9d01e65f96b4"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"name": "c", "note": "n"}
    assert (request.method, request.path) == ("POST", "/v1/clouds")


def test_an_empty_token_is_refused_before_any_request(stub):
    craton = Client(session=Session(username="alice", token="", project_id="p"), url=stub.url)

    with pytest.raises(exc.UnableToAuthenticate):
        craton.clouds.get(1)

    assert stub.requests == []


def test_a_401_with_an_api_key_is_not_retried(stub, stub_session):
    stub.play(stub.respond(401, {"message": "The request could not be authenticated.", "status": 401}))
    craton = Client(session=stub_session(), url=stub.url)

    with pytest.raises(exc.Unauthorized):
        craton.clouds.get(1)

    assert len(stub.requests) == 1


def test_defaults_are_safe():
    session = Session(username="u", token="t", project_id="p")
    adapter = session._http.get_adapter("http://craton.example")
    retry = adapter.max_retries

    assert session.timeout == DEFAULT_TIMEOUT > 0
    assert retry.total == DEFAULT_RETRIES > 0
    assert retry.backoff_factor > 0
    assert "POST" not in retry.allowed_methods
    assert set(retry.status_forcelist) == {502, 503, 504}


def test_repr_never_shows_the_token():
    session = Session(username="alice", token="very-secret", project_id="p")

    assert "very-secret" not in repr(session)
    assert "alice" in repr(session)


@pytest.mark.parametrize(
    "url",
    ["STUB", "STUB/", "STUB/v1", "STUB/v1/"],
)
def test_client_url_with_or_without_v1(stub, stub_session, url):
    stub.play(stub.respond(200, {"id": 1, "name": "c"}))
    craton = Client(session=stub_session(), url=url.replace("STUB", stub.url))

    craton.clouds.get(1)

    assert craton.url == stub.url + "/v1"
    assert stub.requests[0].path == "/v1/clouds/1"


@pytest.mark.parametrize("url", ["", "/v1", "craton.example:7780", "ftp://craton.example"])
def test_client_rejects_urls_that_cannot_work(stub_session, url):
    with pytest.raises(ValueError):
        Client(session=stub_session(), url=url)


def test_pagination_stops_when_the_next_link_loops(stub, stub_session):
    loop = {"clouds": [{"id": 1}], "links": [{"rel": "next", "href": f"{stub.url}/v1/clouds"}]}
    stub.default = stub.respond(200, loop)
    craton = Client(session=stub_session(), url=stub.url)

    with pytest.raises(exc.InvalidResponse):
        list(craton.clouds.list())

    assert len(stub.requests) == 1


def test_a_non_json_answer_is_invalid_response(stub, stub_session):
    stub.play(stub.respond(200, "not an object"))  # JSON, but a string, not a list page
    craton = Client(session=stub_session(), url=stub.url)

    with pytest.raises(exc.InvalidResponse):
        list(craton.clouds.list())


def test_next_links_carry_the_query_so_filters_are_sent_once(stub, stub_session):
    first = {
        "clouds": [{"id": 1}],
        "links": [
            {"rel": "self", "href": "ignored"},
            {"rel": "next", "href": f"{stub.url}/v1/clouds?vars=a%3A1&marker=1"},
        ],
    }
    stub.play(stub.respond(200, first), stub.respond(200, PAGE))
    craton = Client(session=stub_session(), url=stub.url)

    ids = [cloud.id for cloud in craton.clouds.list(vars="a:1", limit=10, details=True)]

    assert ids == [1]
    path, _, query = stub.requests[0].path.partition("?")
    assert path == "/v1/clouds"
    assert parse_qs(query) == {"vars": ["a:1"], "limit": ["10"], "details": ["true"]}
    assert stub.requests[1].path == "/v1/clouds?vars=a%3A1&marker=1"


def test_list_is_lazy(stub, stub_session):
    stub.default = stub.respond(200, PAGE)
    craton = Client(session=stub_session(), url=stub.url)

    iterator = craton.clouds.list()

    assert stub.requests == []
    assert list(iterator) == []
    assert len(stub.requests) == 1
