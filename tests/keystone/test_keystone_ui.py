"""The web UI in Keystone mode: people sign in with their Keystone password or a token.

Same Keystone and craton-api as test_keystone_live.py (conftest.py): alice (admin) and bob
(member) in project alpha, carol and dave in beta.
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from tests.keystone.conftest import PASSWORD, Cloud
from tests.ui.helpers import csrf_token


def browser(cloud: Cloud) -> httpx.Client:
    return httpx.Client(base_url=cloud.craton.url, follow_redirects=False, timeout=60)


def sign_in(cloud: Cloud, **fields: str) -> httpx.Response:
    return browser_for(cloud, fields)[1]


def browser_for(cloud: Cloud, fields: dict[str, str]) -> tuple[httpx.Client, httpx.Response]:
    client = browser(cloud)
    return client, client.post("/ui/login", data=fields)


def test_the_login_form_asks_for_keystone_credentials(cloud: Cloud) -> None:
    page = browser(cloud).get("/ui/login").text
    for field in ("username", "password", "project_name", "domain", "token"):
        assert f'name="{field}"' in page
    assert 'name="api_key"' not in page


def test_a_person_signs_in_with_a_keystone_password_and_sees_only_their_project(cloud: Cloud) -> None:
    bob = cloud.keystone.user_session("bob", "alpha")
    made = httpx.post(
        f"{cloud.craton.url}/v1/clouds",
        json={"name": "ui-keystone-cloud"},
        headers={"X-Auth-Token": bob.get_token()},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    cloud_id = made.json()["id"]
    client, response = browser_for(
        cloud, {"username": "bob", "password": PASSWORD, "project_name": "alpha", "domain": "Default"}
    )
    assert response.status_code == 303 and "craton_session" in client.cookies
    page = client.get(f"/ui/clouds/{cloud_id}")
    assert page.status_code == 200 and "ui-keystone-cloud" in page.text
    assert "Sign out bob" in page.text
    dave, answer = browser_for(cloud, {"username": "dave", "password": PASSWORD, "project_name": "beta"})
    assert answer.status_code == 303
    assert dave.get(f"/ui/clouds/{cloud_id}").status_code == 404
    assert client.post("/ui/logout", data={"csrf_token": csrf_token(page.text)}).status_code == 303
    assert client.get("/ui/").status_code == 303


def test_a_wrong_password_is_refused_without_a_cookie(cloud: Cloud) -> None:
    response = sign_in(cloud, username="alice", password="wrong", project_name="alpha")
    assert response.status_code == 401
    assert "These credentials are not right." in response.text
    assert "set-cookie" not in response.headers


def test_a_token_signs_in_and_the_session_ends_with_the_token(cloud: Cloud) -> None:
    token, expires = cloud.keystone.short_lived_token("alice", "alpha", 600)
    client, response = browser_for(cloud, {"token": token})
    assert response.status_code == 303
    assert "Sign out alice" in client.get("/ui/").text
    engine = sa.create_engine(cloud.craton.database_url)
    try:
        with engine.connect() as conn:
            ends = conn.execute(
                sa.text("SELECT expires_at FROM ui_sessions WHERE username = 'alice' ORDER BY created_at DESC")
            ).scalar_one()
    finally:
        engine.dispose()
    assert str(ends)[:19] <= expires.strftime("%Y-%m-%d %H:%M:%S")
    assert sign_in(cloud, token="not-a-token").status_code == 401
