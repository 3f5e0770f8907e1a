"""Connections spread over the worker processes (cmd/listeners.py).

With one shared listening socket, the worker that woke first accepted a whole burst of
keep-alive connections, and one core did the work of both (docs/performance.md,
"Connection balance"). Each worker now listens on a socket of its own and the kernel
hashes connections across them.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import ServerProcess
from benchmarks.run import connections_held
from craton.cmd import listeners
from tests.conftest import throwaway_database

pytestmark = pytest.mark.skipif(not listeners.supported(), reason="SO_REUSEPORT balancing is Linux's")

CONNECTIONS = 16


def test_a_burst_of_keep_alive_connections_reaches_every_worker(tmp_path: Path) -> None:
    with throwaway_database("sqlite", tmp_path) as url, ServerProcess(url, workers=2) as server:
        workers = server.worker_pids()
        assert len(workers) == 2
        clients = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(CONNECTIONS)]
        try:
            for client in clients:
                client.connect()  # a burst: all in the backlog before a worker accepts any
            for client in clients:
                client.request("GET", "/healthz")
            for client in clients:
                response = client.getresponse()
                assert response.status == 200
                response.read()  # the connection stays open (keep-alive)
            held = connections_held(server.port, workers)
        finally:
            for client in clients:
                client.close()
    assert sum(held.values()) == CONNECTIONS, held
    # The kernel hashes each connection to one of the two sockets: a split worse than 14/2 has a
    # chance of about 1 in 2,000; with one shared socket 16/0 was the common case.
    assert min(held.values()) >= 2, held


def test_a_port_in_use_stops_the_start_with_a_message(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with throwaway_database("sqlite", tmp_path) as url:
            command = [str(Path(sys.executable).with_name("craton-api")), "--database-url", url]
            command += ["--port", str(port), "--workers", "2"]
            result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        taken.close()
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr + result.stdout
