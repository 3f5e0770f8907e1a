"""What every benchmark script needs: a free loopback port, a throwaway database, a light HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_database(
    backend: str, work_dir: Path, admin_url: str | None, prefix: str = "craton_bench", keep: bool = False
) -> Iterator[str]:
    """An empty database, dropped afterwards unless ``keep``.

    SQLite: a file in ``work_dir``. PostgreSQL and MariaDB: ``CREATE DATABASE`` through
    ``admin_url``, a connection that may create databases.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        path = work_dir / f"{name}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            if not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if admin_url is None:
        raise ValueError(f"no admin connection for {backend}")
    postgres = backend == "postgresql"
    quoted = f'"{name}"' if postgres else f"`{name}`"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE {quoted}" + ("" if postgres else " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        )
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if postgres else ""))
        admin.dispose()


class RawClient:
    """One keep-alive HTTP/1.1 connection; just enough protocol for craton-api's responses."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.header_block = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            self.reader = self.writer = None

    async def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request and its whole response; a failure midway closes the connection."""
        try:
            return await self._exchange(method, target, body)
        except BaseException:
            await self.close()
            raise

    async def _exchange(self, method: str, target: str, body: bytes | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {target} HTTP/1.1\r\n{self.header_block}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        assert self.reader is not None
        raw_head = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            payload = b"".join(parts)
        else:
            payload = b""
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload
