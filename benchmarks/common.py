"""What every benchmark script needs: a free loopback port and a throwaway database."""

from __future__ import annotations

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
        conn.exec_driver_sql(f"CREATE DATABASE {quoted}" + ("" if postgres else " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if postgres else ""))
        admin.dispose()
