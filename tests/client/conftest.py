"""Fixtures for the client tests: clients bound to the live server, and a scriptable stub.

The live tests use ``live_server`` from tests/conftest.py: a real craton-api on loopback with
a fresh database per test module. Each test that counts objects gets its own project
(``tenant``), so tests never see each other's data. The stub server is a real socket server
for what a healthy Craton never does: drop connections, hang, or answer odd statuses.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cratonclient import auth
from cratonclient.session import Session
from cratonclient.v1.client import Client


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("cloud")`` -> a name no other test uses."""
    return _unique


@dataclass
class Tenant:
    """A fresh project with an admin user, and a client acting as that user."""

    project_id: str
    username: str
    api_key: str
    url: str
    craton: Client


def client_for(url: str, project_id: str, username: str, api_key: str) -> Client:
    session = auth.craton_auth(username=username, token=api_key, project_id=project_id)
    return Client(session=session, url=url)


@pytest.fixture(scope="module")
def root(live_server: Any) -> Client:
    """The bootstrap root user: crosses projects, creates projects."""
    return client_for(live_server.url, live_server.project_id, live_server.username, live_server.api_key)


def make_tenant(live_server: Any, root: Client, is_admin: bool = True) -> Tenant:
    project = root.projects.create(name=_unique("project"))
    username, api_key = live_server.create_user(project.id, _unique("user"), is_admin=is_admin)
    craton = client_for(live_server.url, project.id, username, api_key)
    return Tenant(project.id, username, api_key, live_server.url, craton)


@pytest.fixture
def tenant(live_server: Any, root: Client) -> Tenant:
    """A project of its own for one test, acted on by its project admin."""
    return make_tenant(live_server, root)


@pytest.fixture
def new_tenant(live_server: Any, root: Client) -> Callable[..., Tenant]:
    """Make more projects in a test: ``new_tenant(is_admin=False)`` for a plain member."""
    return lambda is_admin=True: make_tenant(live_server, root, is_admin=is_admin)


@pytest.fixture
def make_client() -> Callable[..., Client]:
    """``make_client(url, project_id, username, api_key)`` -> a Client with Craton auth."""
    return client_for


@pytest.fixture
def craton(tenant: Tenant) -> Client:
    return tenant.craton


# --------------------------------------------------------------------------- stub server


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Action:
    """What the stub does with one request: answer, drop the connection, or hang."""

    kind: str = "respond"
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class StubServer:
    """A tiny HTTP/1.1 server on loopback that plays a script of actions, one per request.

    When the script is exhausted it answers ``default``. Every request is recorded, and so is
    every accepted connection, so tests can check retries and connection reuse.
    """

    @staticmethod
    def respond(status: int = 200, body: Any = None, **headers: str) -> Action:
        return Action("respond", status, {} if body is None else body, headers)

    @staticmethod
    def drop() -> Action:
        return Action("drop")

    @staticmethod
    def hang(seconds: float) -> Action:
        return Action("hang", seconds=seconds)

    def __init__(self) -> None:
        self.script: deque[Action] = deque()
        self.default = self.respond(200, {})
        self.requests: list[Recorded] = []
        self.connections = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with stub._lock:
                    stub.connections += 1
                while stub._serve_one(self):
                    pass

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def play(self, *actions: Action) -> None:
        self.script.extend(actions)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve_one(self, handler: socketserver.StreamRequestHandler) -> bool:
        request_line = handler.rfile.readline()
        if not request_line:
            return False
        method, path, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := handler.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = handler.rfile.read(int(headers.get("content-length", "0")))
        with self._lock:
            self.requests.append(Recorded(method, path, headers, body))
            action = self.script.popleft() if self.script else self.default
        if action.kind == "drop":
            handler.connection.shutdown(socket.SHUT_RDWR)
            return False
        if action.kind == "hang":
            time.sleep(action.seconds)
            return False
        if isinstance(action.body, bytes):
            payload = action.body
        else:
            payload = json.dumps(action.body).encode() if action.status != 204 else b""
        headers = {"Content-Type": "application/json", **action.headers}
        head = [
            f"HTTP/1.1 {action.status} Stub",
            f"Content-Length: {len(payload)}",
            f"x-openstack-request-id: req-stub-{len(self.requests)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        handler.wfile.flush()
        return True


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.close()


PROJECT = "b9f10eca-66ac-4c27-9c13-9d01e65f96b4"


@pytest.fixture
def stub_session() -> Callable[..., Session]:
    """Sessions for the stub, with no backoff so retry tests take milliseconds."""

    def make(**options: Any) -> Session:
        options.setdefault("backoff_factor", 0.0)
        return Session(username="alice", token="secret-key", project_id=PROJECT, **options)

    return make
