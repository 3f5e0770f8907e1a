"""One listening socket per worker process, so that the kernel spreads connections evenly.

With one socket shared by every worker, the worker whose event loop wakes first accepts
every connection waiting in the backlog (asyncio and libuv accept in a loop): a burst of
keep-alive connections lands on one worker, which saturates one core while the others idle
(docs/performance.md, "Connection balance"). With ``SO_REUSEPORT`` each worker listens on
a socket of its own bound to the same address, and Linux hands each new connection to one
of them by a hash of its addresses.

The supervisor binds the address first without listening: a port in use fails at start-up
as before, port 0 picks the port every worker then binds, and a bound socket that does not
listen is never handed a connection. Only processes of the same user may join the group.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def supported() -> bool:
    """Linux balances ``SO_REUSEPORT`` listeners; elsewhere the option means other things or nothing."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bound(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def listening(family: socket.AddressFamily, host: str, port: int, backlog: int) -> socket.socket:
    """A new socket of this worker's own in the address's ``SO_REUSEPORT`` group."""
    sock = _bound(family, host, port)
    sock.listen(backlog)
    return sock


class WorkerListener:
    """Stands for a socket in the list the supervisor hands to each worker.

    uvicorn pickles that list into every worker process it spawns; this placeholder
    unpickles there as a fresh listening socket of that worker's own.
    """

    def __init__(self, family: socket.AddressFamily, host: str, port: int, backlog: int) -> None:
        self.arguments = (family, host, port, backlog)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return listening, self.arguments


def serve(config: uvicorn.Config) -> int:
    """Run ``config.workers`` worker processes, each accepting on its own socket; the exit status."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    try:
        reservation = _bound(family, config.host, config.port)
    except OSError as error:
        uvicorn.config.logger.error("craton-api cannot listen on %s:%d: %s", config.host, config.port, error.strerror)
        return 1
    try:
        port = reservation.getsockname()[1]
        config.port = port
        uvicorn.config.logger.info(
            "craton-api listening on %s:%d with %d workers, one socket each", config.host, port, config.workers
        )
        listener: Any = WorkerListener(family, config.host, port, config.backlog)
        Multiprocess(config, sockets=[listener]).run()
    finally:
        reservation.close()
    return 0
