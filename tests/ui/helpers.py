"""Signing in to the web UI over plain HTTP, and reading what its pages say."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ETAG = re.compile(r'name="etag" value="([^"]*)"')


@dataclass
class Credentials:
    project_id: str
    username: str
    api_key: str


def credentials_of(client: httpx.Client) -> Credentials:
    """The API credentials an API test client sends, for signing in to the UI as the same user."""
    headers = client.headers
    return Credentials(headers["X-Auth-Project"], headers["X-Auth-User"], headers["X-Auth-Token"])


def sign_in(url: str, who: Credentials, **client_options: Any) -> httpx.Client:
    """A browser-like client (cookies, no redirects followed) signed in as ``who``."""
    browser = httpx.Client(base_url=url, follow_redirects=False, timeout=60, **client_options)
    response = browser.post(
        "/ui/login", data={"project_id": who.project_id, "username": who.username, "api_key": who.api_key}
    )
    assert response.status_code == 303, response.text
    assert "craton_session" in browser.cookies
    return browser


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no form with a CSRF token"
    return html.unescape(match.group(1))


def etag_of(page: str) -> str:
    match = ETAG.search(page)
    assert match, "the page has no version field"
    return html.unescape(match.group(1))
