"""Every HTTP status maps to one exception class that carries status, message and request id.

The first half provokes each error the real craton-api can produce; the second half covers
the statuses a healthy Craton never sends (proxies, gateways, future versions) with the stub.
"""

from __future__ import annotations

import re

import pytest

from cratonclient import exceptions as exc
from cratonclient.v1.client import Client

REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")


def assert_carries_details(error: exc.HTTPError, status: int) -> None:
    assert error.status_code == status
    assert error.response is not None and error.response.status_code == status
    assert REQUEST_ID.match(error.request_id or ""), error.request_id
    assert error.message == error.response.json()["message"]
    assert error.detail == error.response.json().get("detail")
    assert error.url == error.response.request.url
    assert f"HTTP {status}" in str(error) and error.request_id in str(error)
    if error.detail:
        assert str(error).startswith(f"{error.message}: {error.detail} (")


# ----------------------------------------------------------------- from the live server


def test_400_bad_request(craton):
    with pytest.raises(exc.BadRequest) as caught:
        list(craton.clouds.list(sort_dir="sideways"))
    assert_carries_details(caught.value, 400)
    assert "'sideways' is not one of" in caught.value.message


def test_401_unauthorized(live_server, make_client, tenant):
    craton = make_client(live_server.url, tenant.project_id, tenant.username, "wrong-key")
    with pytest.raises(exc.Unauthorized) as caught:
        list(craton.clouds.list())
    assert_carries_details(caught.value, 401)
    assert caught.value.message == "The request could not be authenticated."
    assert caught.value.detail == f"X-Auth-User and X-Auth-Token do not match a user of project {tenant.project_id}."


def test_403_forbidden_for_a_failed_role_check(new_tenant):
    member = new_tenant(is_admin=False)
    with pytest.raises(exc.Forbidden) as caught:
        list(member.craton.projects.list())
    assert_carries_details(caught.value, 403)


def test_404_not_found(craton):
    with pytest.raises(exc.NotFound) as caught:
        craton.clouds.get(987654)
    assert_carries_details(caught.value, 404)
    # the original sentence stays the message; what was not found is the detail
    assert (caught.value.message, caught.value.detail) == ("Not Found", "Cloud 987654 not found")
    assert caught.value.explanation == "Not Found: Cloud 987654 not found"


def test_404_for_a_delete_of_a_missing_id(craton):
    with pytest.raises(exc.NotFound):
        craton.clouds.delete(987654)


def test_405_method_not_allowed(craton, tenant):
    with pytest.raises(exc.MethodNotAllowed) as caught:
        craton._session.patch(f"{craton.url}/projects/{tenant.project_id}", json={"name": "x"})
    assert_carries_details(caught.value, 405)


def test_409_conflict(craton, unique):
    name = unique("cloud")
    craton.clouds.create(name=name)
    with pytest.raises(exc.Conflict) as caught:
        craton.clouds.create(name=name)
    assert_carries_details(caught.value, 409)


def test_413_request_entity_too_large(craton, unique):
    cloud = craton.clouds.create(name=unique("cloud"))
    with pytest.raises(exc.RequestEntityTooLarge) as caught:
        cloud.variables.update(blob="x" * 2_000_000)
    assert_carries_details(caught.value, 413)


def test_every_error_is_a_client_exception(craton):
    with pytest.raises(exc.ClientException):
        craton.clouds.get(987654)


def test_out_of_scope_objects_look_missing(new_tenant, unique):
    owner, other = new_tenant(), new_tenant()
    cloud = owner.craton.clouds.create(name=unique("cloud"))

    with pytest.raises(exc.NotFound):
        other.craton.clouds.get(cloud.id)
    assert owner.craton.clouds.get(cloud.id).id == cloud.id


# -------------------------------------------------------- every status, from the stub

MAPPED = {
    400: exc.BadRequest,
    401: exc.Unauthorized,
    403: exc.Forbidden,
    404: exc.NotFound,
    405: exc.MethodNotAllowed,
    406: exc.NotAcceptable,
    407: exc.ProxyAuthenticationRequired,
    409: exc.Conflict,
    410: exc.Gone,
    411: exc.LengthRequired,
    412: exc.PreconditionFailed,
    413: exc.RequestEntityTooLarge,
    414: exc.RequestUriTooLong,
    415: exc.UnsupportedMediaType,
    416: exc.RequestedRangeNotSatisfiable,
    422: exc.UnprocessableEntity,
    429: exc.TooManyRequests,
    500: exc.InternalServerError,
    502: exc.BadGateway,
    503: exc.ServiceUnavailable,
    504: exc.GatewayTimeout,
}
FALLBACK = {
    418: exc.HTTPClientError,
    451: exc.HTTPClientError,
    501: exc.HTTPServerError,
    599: exc.HTTPServerError,
    600: exc.HTTPError,
}


@pytest.mark.parametrize("status,expected", sorted({**MAPPED, **FALLBACK}.items()))
def test_each_status_raises_its_class(stub, stub_session, status, expected):
    stub.default = stub.respond(status, {"message": f"told {status}", "status": status})
    craton = Client(session=stub_session(retries=0), url=stub.url)

    with pytest.raises(expected) as caught:
        craton.clouds.get(1)

    error = caught.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.message == f"told {status}"
    assert error.request_id == "req-stub-1"
    assert str(error) == f"told {status} (HTTP {status}, request req-stub-1)"
    parent = (
        exc.HTTPClientError if 400 <= status < 500 else (exc.HTTPServerError if 500 <= status < 600 else exc.HTTPError)
    )
    assert isinstance(error, parent)


def test_a_non_json_error_body_becomes_the_message(stub, stub_session):
    stub.default = stub.respond(502, b"<html>bad gateway</html>", **{"Content-Type": "text/html"})
    craton = Client(session=stub_session(retries=0), url=stub.url)

    with pytest.raises(exc.BadGateway) as caught:
        craton.clouds.get(1)

    assert caught.value.message == "<html>bad gateway</html>"


def test_class_table_matches_the_documented_names():
    for status, cls in MAPPED.items():
        assert exc.error_class_for(status) is cls
        assert cls.status_code == status
        assert cls.__module__ == "cratonclient.exceptions"
        assert cls.__name__ in exc.__all__


def test_exceptions_without_a_response_still_read_well():
    error = exc.CommandError("the --limit must be positive")
    assert str(error) == "the --limit must be positive"
    assert error.status_code is None and error.request_id is None
    assert str(exc.UnableToAuthenticate()) == exc.UnableToAuthenticate.message
    assert str(exc.NotFound()) == f"{exc.NotFound.message} (HTTP 404)"
