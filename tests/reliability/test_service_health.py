"""Operations under trouble: health and readiness, a lost database, dropped connections, rate limits,
and metrics that stay bounded whatever clients send. (tests/api/test_operations.py covers key
rotation, the basic 429 and the metric names.)
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from benchmarks.load import ServerProcess, bootstrap_credentials, free_port
from tests.conftest import ADMIN_URLS, throwaway_database


def _error_body(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, f"{response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == status and set(response.json()) <= {"message", "status", "detail"}


def test_without_a_database_the_service_is_alive_not_ready_and_answers_503(tmp_path: Path) -> None:
    nowhere = f"postgresql+psycopg://craton@127.0.0.1:{free_port()}/craton"
    headers = {"X-Auth-Project": str(uuid.uuid4()), "X-Auth-User": "u", "X-Auth-Token": "t"}
    with ServerProcess(nowhere, workers=1, log_path=tmp_path / "api.log", ready_path="/healthz") as server:
        assert httpx.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
        _error_body(httpx.get(server.url + "/readyz", timeout=30), 503)
        _error_body(httpx.get(server.url + "/v1/clouds", headers=headers, timeout=30), 503)
        _error_body(httpx.post(server.url + "/v1/clouds", json={"name": "x"}, headers=headers, timeout=30), 503)
        # unknown URLs and methods authenticate first too: 503 as well, never 500 (issue #19, item 7)
        _error_body(httpx.get(server.url + "/v1/no-such-thing", headers=headers, timeout=30), 503)
        _error_body(httpx.request("PATCH", server.url + "/v1/clouds", headers=headers, timeout=30), 503)
    assert "Traceback" not in server.output(), server.output()[-2000:]


def _drop_connections(backend: str, database: str) -> int:
    admin = sa.create_engine(ADMIN_URLS[backend], isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            if backend == "postgresql":
                return len(
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %(db)s AND pid <> pg_backend_pid()",
                        {"db": database},
                    ).all()
                )
            ids = [
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT id FROM information_schema.processlist WHERE db = %(db)s", {"db": database}
                )
            ]
            for connection_id in ids:
                conn.exec_driver_sql(f"KILL {int(connection_id)}")
            return len(ids)
    finally:
        admin.dispose()


def test_the_service_survives_the_database_dropping_its_connections(server: Any) -> None:
    """A database restart or failover kills every pooled connection; no request may fail for it."""
    if server.backend == "sqlite":
        pytest.skip("SQLite has no server connections to drop")
    client = server.client()
    cloud = client.post("/v1/clouds", json={"name": f"survivor-{uuid.uuid4().hex[:6]}"}).json()
    with httpx.Client(base_url=server.url, headers=server.headers) as warm:  # fill the pool a little
        for _ in range(5):
            assert warm.get("/v1/clouds").status_code == 200
    database = sa.engine.make_url(server.database_url).database
    assert _drop_connections(server.backend, database) >= 1
    statuses = [client.get(f"/v1/clouds/{cloud['id']}").status_code for _ in range(10)]
    statuses += [client.put(f"/v1/clouds/{cloud['id']}/variables", json={"after": i}).status_code for i in range(5)]
    assert statuses == [200] * 15, statuses
    assert client.get("/readyz").status_code == 200


def test_rate_limits_are_per_key_and_set_from_the_environment(tmp_path: Path) -> None:
    with throwaway_database("sqlite", tmp_path) as url:
        root = bootstrap_credentials(url)
        env = {"CRATON_RATE_LIMIT": "0.5", "CRATON_RATE_LIMIT_BURST": "3"}
        with (
            ServerProcess(url, workers=1, log_path=tmp_path / "api.log", env=env) as server,
            httpx.Client(base_url=server.url, headers=root, timeout=30) as client,
        ):
            project = root["X-Auth-Project"]
            other = client.post("/v1/users", json={"username": "other", "project_id": project}).json()
            statuses = [client.get("/v1/clouds").status_code for _ in range(2)]
            assert statuses == [200, 200], "the burst is served"
            for _ in range(10):  # bounded: the bucket (3, refilling 1 per 2 s) empties within a few requests
                limited = client.get("/v1/clouds")
                if limited.status_code == 429:
                    break
            _error_body(limited, 429)
            assert 1 <= int(limited.headers["retry-after"]) <= 2
            assert limited.headers["x-openstack-request-id"].startswith("req-")
            # another key has its own bucket; a bad key is a 401, never a 429 that would confirm the user
            other_headers = {"X-Auth-Project": project, "X-Auth-User": "other", "X-Auth-Token": other["api_key"]}
            assert httpx.get(server.url + "/v1/clouds", headers=other_headers, timeout=10).status_code == 200
            wrong = {**root, "X-Auth-Token": "wrong"}
            assert [httpx.get(server.url + "/v1/clouds", headers=wrong, timeout=10).status_code for _ in range(5)] == [
                401
            ] * 5
            assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200  # probes are never limited
            time.sleep(2.1)
            assert client.get("/v1/clouds").status_code == 200, "the bucket refills"


def test_rate_limiting_is_off_by_default(live_server: Any) -> None:
    client = live_server.client()
    statuses = {client.get("/v1/clouds").status_code for _ in range(60)}
    assert statuses == {200}


def test_metric_labels_stay_bounded_whatever_clients_send(live_server: Any) -> None:
    """Unknown paths and odd methods must not mint new time series (memory and scrape size)."""

    def series() -> set[str]:
        text = httpx.get(live_server.url + "/metrics", timeout=10).text
        return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith("craton_http_requests_total{")}

    client = live_server.client()
    client.get(f"/v1/clouds/{uuid.uuid4().int % 10**6}")
    before = series()
    for i in range(12):
        client.get(f"/v1/no-such-thing-{uuid.uuid4().hex}")
        client.get(f"/v1/clouds/{i + 10**6}")
        for method in ("PROPFIND", "MKCOL", f"X{i}"):
            try:
                httpx.request(method, live_server.url + "/v1/clouds", headers=live_server.headers, timeout=10)
            except httpx.HTTPError:
                pass  # the HTTP parser may refuse an unknown method outright
    grown = series() - before
    assert len(grown) <= 8, sorted(grown)
    assert not [s for s in series() if "no-such-thing" in s or str(10**6) in s]
    assert httpx.get(live_server.url + "/healthz", timeout=10).status_code == 200
