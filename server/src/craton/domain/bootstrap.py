"""The first credentials: a project and a root user, idempotently (``craton-dbsync bootstrap``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from craton.domain.errors import InvalidInput
from craton.domain.keys import generate_api_key, hash_api_key, verify_api_key
from craton.domain.principal import Role
from craton.domain.projects import ensure_project, parse_uuid
from craton.storage.tables import projects, users
from craton.storage.types import utcnow


@dataclass(frozen=True)
class Credentials:
    project_id: str
    username: str
    api_key: str | None  # None when an existing user kept its (hashed, unrecoverable) key
    created: bool


def bootstrap(
    conn: sa.Connection,
    project_id: str | None = None,
    project_name: str = "bootstrap",
    username: str = "bootstrap",
    api_key: str | None = None,
    role: Role = Role.ROOT,
) -> Credentials:
    """Make sure the project and user exist; a second run with the same values changes nothing."""
    if project_id is not None:
        canonical = parse_uuid(project_id)
        if canonical is None:
            raise InvalidInput(f"--project-id {project_id!r} is not a UUID")
        project_id = canonical
    else:
        found = conn.execute(
            sa.select(projects.c.id).where(projects.c.name == project_name).order_by(projects.c.created_at).limit(1)
        ).first()
        project_id = found.id if found else str(uuid.uuid4())
    ensure_project(conn, project_id, project_name)
    user = conn.execute(sa.select(users).where(users.c.project_id == project_id, users.c.username == username)).first()
    flags = {"is_root": role is Role.ROOT, "is_admin": role >= Role.ADMIN}
    if user is None:
        api_key = api_key or generate_api_key()
        conn.execute(
            sa.insert(users).values(
                project_id=project_id,
                username=username,
                api_key_hash=hash_api_key(api_key),
                created_at=utcnow(),
                **flags,
            )
        )
        return Credentials(project_id, username, api_key, created=True)
    changes: dict[str, object] = {k: v for k, v in flags.items() if user._mapping[k] != v}
    if api_key is not None and not verify_api_key(api_key, user.api_key_hash):
        changes["api_key_hash"] = hash_api_key(api_key)
    if changes:
        conn.execute(sa.update(users).where(users.c.id == user.id).values(**changes, updated_at=utcnow()))
    return Credentials(project_id, username, api_key, created=False)
