"""Keystone authentication through the real keystoneauth1 library and a loopback stub.

The stub plays both Keystone (``POST /v3/auth/tokens``) and Craton. Skipped when the
optional ``keystone`` extra is not installed.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("keystoneauth1")

from cratonclient import auth
from cratonclient import exceptions as exc
from cratonclient.v1.client import Client


def token(stub, value):
    body = {
        "token": {
            "methods": ["password"],
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "issued_at": "2026-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "operator", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "inventory", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": [],
        }
    }
    return stub.respond(201, body, **{"X-Subject-Token": value})


def keystone_session(stub):
    return auth.keystone_auth(
        auth_url=f"{stub.url}/v3",
        username="operator",
        password="s3cret",
        project_name="inventory",
        project_domain_name="Default",
        user_domain_name="Default",
    )


def test_token_is_fetched_once_then_sent_to_craton(stub):
    stub.play(
        token(stub, "tok-1"), stub.respond(200, {"id": 1, "name": "c"}), stub.respond(200, {"id": 2, "name": "d"})
    )
    craton = Client(session=keystone_session(stub), url=stub.url)

    assert craton.clouds.get(1).name == "c"
    assert craton.clouds.get(2).name == "d"

    login, first, second = stub.requests
    assert (login.method, login.path) == ("POST", "/v3/auth/tokens")
    sent = json.loads(login.body)["auth"]["identity"]["password"]["user"]
    assert sent["name"] == "operator" and sent["password"] == "s3cret"
    assert first.headers["x-auth-token"] == second.headers["x-auth-token"] == "tok-1"
    assert "x-auth-user" not in first.headers  # Keystone mode sends the token only


def test_a_401_gets_a_fresh_token_and_one_retry(stub):
    stub.play(
        token(stub, "tok-old"),
        stub.respond(401, {"message": "The request could not be authenticated.", "status": 401}),
        token(stub, "tok-new"),
        stub.respond(200, {"id": 1, "name": "c"}),
    )
    craton = Client(session=keystone_session(stub), url=stub.url)

    assert craton.clouds.get(1).id == 1
    assert [r.headers.get("x-auth-token") for r in stub.requests if r.path.startswith("/v1")] == ["tok-old", "tok-new"]


def test_refused_keystone_credentials_raise_unable_to_authenticate(stub):
    stub.play(stub.respond(401, {"error": {"code": 401, "message": "bad password"}}))
    craton = Client(session=keystone_session(stub), url=stub.url)

    with pytest.raises(exc.UnableToAuthenticate):
        craton.clouds.get(1)
    assert [r.path for r in stub.requests] == ["/v3/auth/tokens"]


def test_an_existing_keystoneauth_session_can_be_wrapped(stub):
    from keystoneauth1 import session as ksa_session
    from keystoneauth1.identity import v3

    from cratonclient.session import Session

    plugin = v3.Password(
        auth_url=f"{stub.url}/v3", username="operator", password="s3cret", project_id="p1", user_domain_id="default"
    )
    stub.play(token(stub, "tok-wrapped"), stub.respond(200, {"id": 1, "name": "c"}))
    craton = Client(session=Session(session=ksa_session.Session(auth=plugin)), url=stub.url)

    craton.clouds.get(1)

    assert stub.requests[-1].headers["x-auth-token"] == "tok-wrapped"
    assert stub.requests[-1].headers["user-agent"].startswith("python-cratonclient/")
