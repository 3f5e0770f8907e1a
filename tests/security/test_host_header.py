"""The ``Host`` header never reaches a link once the deployment says who it is (issue #19, item 14).

Without settings, links follow the request (a client talking to the service directly). With
``public_url`` every ``Location``, pagination and ``up`` link starts with it whatever ``Host`` says;
with ``allowed_hosts`` a request for another host is a JSON 400 (probes excepted). The database
plays no part, so SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from craton.settings import SettingsError, load_settings
from tests.conftest import running_server, throwaway_database

EVIL = {"host": "evil.example"}


def every_link(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    cloud = client.post("/v1/clouds", json={"name": "links"}, headers=headers)
    assert cloud.status_code == 201, cloud.text
    region = client.post("/v1/regions", json={"name": "r", "cloud_id": cloud.json()["id"]}, headers=headers).json()
    host = client.post(
        "/v1/hosts",
        json={
            "name": "h",
            "cloud_id": region["cloud_id"],
            "region_id": region["id"],
            "ip_address": "10.0.0.1",
            "device_type": "server",
        },
        headers=headers,
    )
    links = [cloud.headers["location"], host.headers["location"], *(link["href"] for link in host.json()["links"])]
    listing = client.get("/v1/clouds", params={"limit": 10}, headers=headers).json()
    links += [link["href"] for link in listing["links"]]
    hosts = client.get("/v1/hosts", params={"details": "true"}, headers=headers).json()
    links += [link["href"] for item in hosts["hosts"] for link in item["links"]]
    return links


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A database per server: bootstrap shows root's key only the first time."""
    with throwaway_database("sqlite", tmp_path) as url:
        yield url


def serve(database: str, **settings: Any) -> Any:
    return running_server("sqlite", database, **settings)


def test_with_a_public_url_no_link_echoes_the_host_header(database: str) -> None:
    with serve(database, public_url="https://craton.example.net/api/") as live:
        links = every_link(live.client(), EVIL)
        assert links and all(link.startswith("https://craton.example.net/api/v1/") for link in links), links


def test_without_settings_links_follow_the_request(database: str) -> None:
    with serve(database) as live:
        links = every_link(live.client(), {})
        assert all(link.startswith(live.url + "/v1/") for link in links), links


def test_allowed_hosts_refuse_other_hosts_with_a_json_400(database: str) -> None:
    with serve(database, allowed_hosts="127.0.0.1, craton.example.net") as live:
        client: httpx.Client = live.client()
        refused = client.get("/v1/clouds", headers=EVIL)
        assert refused.status_code == 400, refused.text
        assert refused.json()["status"] == 400 and "allowed_hosts" in refused.json()["message"]
        assert refused.headers["x-openstack-request-id"].startswith("req-")
        assert client.post("/v1/clouds", json={"name": "no"}, headers=EVIL).status_code == 400
        assert client.get("/v1/clouds", headers={"host": "craton.example.net"}).status_code == 200
        assert client.get("/v1/clouds").status_code == 200  # 127.0.0.1:<port>
        for probe in ("/healthz", "/readyz", "/metrics"):  # probes come by address
            assert client.get(probe, headers=EVIL).status_code == 200, probe


def test_public_url_must_be_an_http_url(tmp_path: Path) -> None:
    for bad in ("craton.example.net", "ftp://x", "https://x/?a=1", "https://"):
        with pytest.raises(SettingsError, match="public_url"):
            load_settings(environ={"CRATON_PUBLIC_URL": bad})
    assert load_settings(environ={"CRATON_PUBLIC_URL": "https://x.example/"}).public_url == "https://x.example/"
    assert load_settings(environ={"CRATON_ALLOWED_HOSTS": "a, b"}).allowed_hosts == "a, b"
