"""Shared fixtures: throwaway databases on every backend and real servers on loopback.

Backends: SQLite always; PostgreSQL and MariaDB at 127.0.0.1 (override with
CRATON_TEST_POSTGRES_URL / CRATON_TEST_MARIADB_URL, choose with
CRATON_TEST_BACKENDS). An unreachable server database skips its tests with the
reason on a laptop, and fails the run when CI=true.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from craton.app import create_app
from craton.domain.bootstrap import bootstrap
from craton.settings import Settings
from craton.storage import migrate
from craton.storage.engine import create_engine
from tests.api.helpers import Craton

ADMIN_URLS = {
    "postgresql": os.environ.get("CRATON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("CRATON_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
BACKENDS = [
    b.strip() for b in os.environ.get("CRATON_TEST_BACKENDS", "sqlite,postgresql,mariadb").split(",") if b.strip()
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_engine(backend: str) -> sa.Engine:
    return sa.create_engine(ADMIN_URLS[backend], isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextlib.contextmanager
def throwaway_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """A new, migrated database; dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'craton-{uuid.uuid4().hex[:8]}.sqlite'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"craton_t_{uuid.uuid4().hex[:12]}"
    try:
        admin = _admin_engine(backend)
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    except sa.exc.OperationalError as exc:
        reason = f"{backend} is not reachable at {ADMIN_URLS[backend]}: {exc.orig}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    url = sa.engine.make_url(ADMIN_URLS[backend]).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(base: str, process: Any = None, seconds: float = 30) -> None:
    """Polls ``base``/readyz until a 200; fails when ``seconds`` pass or the server ``process`` exits."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process is None or process.poll() is None, "craton-api exited before it became ready"
        assert time.monotonic() < deadline, "craton-api did not become ready"
        time.sleep(0.2)


class QueryCounter:
    """Counts SQL statements the server sends while active (warehouse's query_recorder idea)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@dataclass
class LiveServer:
    """A real craton-api (uvicorn) on loopback, with root credentials."""

    url: str
    backend: str
    database_url: str
    engine: sa.Engine
    project_id: str
    username: str
    api_key: str
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Project": self.project_id, "X-Auth-User": self.username, "X-Auth-Token": self.api_key}

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.url, headers=headers if headers is not None else self.headers, timeout=30)
        self._clients.append(client)
        return client

    def create_project(self, name: str = "project") -> str:
        response = self.client().post("/v1/projects", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def create_user(self, project_id: str, username: str, is_admin: bool = False) -> tuple[str, str]:
        response = self.client().post(
            "/v1/users", json={"username": username, "project_id": project_id, "is_admin": is_admin}
        )
        assert response.status_code == 201, response.text
        return username, response.json()["api_key"]

    def user_client(self, project_id: str, username: str, is_admin: bool = False) -> httpx.Client:
        """A client for a new user of ``project_id``."""
        name, key = self.create_user(project_id, username, is_admin)
        return self.client({"X-Auth-Project": project_id, "X-Auth-User": name, "X-Auth-Token": key})

    def count_queries(self) -> QueryCounter:
        return QueryCounter(self.engine)


@contextlib.contextmanager
def running_server(backend: str, database_url: str, **settings: Any) -> Iterator[LiveServer]:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        creds = bootstrap(conn)
    port = free_port()
    settings.setdefault("webhooks_dispatch", False)  # tests that want deliveries start their own
    app = create_app(Settings(database_url=database_url, access_log=False, **settings), engine=engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("craton-api did not start")
        time.sleep(0.02)
    live = LiveServer(
        url=f"http://127.0.0.1:{port}",
        backend=backend,
        database_url=database_url,
        engine=engine,
        project_id=creds.project_id,
        username=creds.username,
        api_key=creds.api_key or "",
    )
    try:
        yield live
    finally:
        for client in live._clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on SQLite: for client, CLI and inventory tests where the database does not matter."""
    with throwaway_database("sqlite", tmp_path_factory.mktemp("db")) as url, running_server("sqlite", url) as live:
        yield live


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server per database backend: API tests run against each of them."""
    backend = request.param
    with throwaway_database(backend, tmp_path_factory.mktemp("db")) as url, running_server(backend, url) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> httpx.Client:
    """A root client on the per-backend server."""
    return server.client()


@pytest.fixture(scope="module")
def craton(server: LiveServer) -> Iterator[Craton]:
    """Cheap clients for any identity on the per-backend server.

    They share one HTTP transport per module (a new ``httpx.Client`` with its own TLS
    context costs up to 0.3 s, which dominated the run time); it is closed when the
    module ends.
    """
    transport = httpx.HTTPTransport()
    try:
        yield Craton(server, transport)
    finally:
        transport.close()
