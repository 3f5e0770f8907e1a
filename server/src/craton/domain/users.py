"""Users and their API keys. Admins manage the users of their own project; root, everyone's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from craton.domain import crud, kinds
from craton.domain.errors import NotAuthenticated, NotFound
from craton.domain.history import recording as history
from craton.domain.keys import generate_api_key, hash_api_key, verify_api_key
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal, Role
from craton.domain.projects import KIND as PROJECT
from craton.domain.projects import parse_uuid
from craton.storage.prepared import Prepared
from craton.storage.rows import as_row, as_rows
from craton.storage.tables import projects, users
from craton.storage.types import utcnow


def _delete(conn: sa.Connection, principal: Principal, _: Kind, row_id: Any, preview: bool) -> dict[str, int]:
    return delete_user(conn, principal, row_id, preview)


KIND = Kind(kinds.USER, delete=_delete)
BAD_CREDENTIALS = "The request could not be authenticated."
_CREDENTIALS = sa.select(
    users.c.id,
    users.c.username,
    users.c.api_key_hash,
    users.c.previous_api_key_hash,
    users.c.previous_key_expires_at,
    users.c.is_root,
    users.c.is_admin,
).where(users.c.project_id == sa.bindparam("project_id"), users.c.username == sa.bindparam("username"))
# Every request runs it: compiled once, executed on the driver's cursor (storage/prepared.py).
_CREDENTIALS_PREPARED = Prepared(_CREDENTIALS)
_CREDENTIALS_BY_PROJECT_NAME = (
    sa.select(users.c.project_id, *_CREDENTIALS.selected_columns)
    .join(projects, projects.c.id == users.c.project_id)
    .where(projects.c.name == sa.bindparam("name"), users.c.username == sa.bindparam("username"))
    .limit(20)
)


@dataclass(frozen=True)
class NewUser:
    """A created user with the only copy of its API key that is ever shown."""

    row: Row
    api_key: str


def authenticate(conn: sa.Connection, project_header: str | None, username: str | None, token: str | None) -> Principal:
    """Local auth: the three X-Auth headers against a hashed key (original §2.2, docs/decisions.md §4)."""
    missing = missing_headers(project_header, username, token)
    project_id = parse_uuid(project_header) if project_header else None
    if project_id is None:
        if project_header and not missing:
            return _authenticate_by_project_name(conn, project_header, username or "", token)
        raise NotAuthenticated(
            f"Project ID ('{project_header}') is not a valid UUID",
            missing,
        )
    if missing:
        raise NotAuthenticated(BAD_CREDENTIALS, missing)
    row = _CREDENTIALS_PREPARED.first(conn, {"project_id": project_id, "username": username or ""})
    if row is None or not _key_valid(row, token):
        raise NotAuthenticated(
            BAD_CREDENTIALS, f"X-Auth-User and X-Auth-Token do not match a user of project {project_id}."
        )
    return _principal(project_id, row)


def _authenticate_by_project_name(conn: sa.Connection, name: str, username: str, token: str | None) -> Principal:
    """X-Auth-Project may name the project, as people think in names (docs/api.md, Authentication).

    Project names need not be unique, so the key decides: it is checked against the user of that
    name in every project of that name (keys are SHA-256 digests, cheap to compare), and exactly one
    must match. Nothing about projects the key does not open is revealed.
    """
    candidates = as_rows(conn.execute(_CREDENTIALS_BY_PROJECT_NAME, {"name": name, "username": username}))
    opened = [row for row in candidates if _key_valid(row, token)]
    if not opened:
        raise NotAuthenticated(
            f"Project ID ('{name}') is not a valid UUID",
            "X-Auth-Project is neither a project UUID nor the name of a project where X-Auth-User and "
            "X-Auth-Token are valid.",
        )
    if len(opened) > 1:
        ids = ", ".join(sorted(str(row["project_id"]) for row in opened))
        raise NotAuthenticated(
            BAD_CREDENTIALS, f"The project name {name!r} is ambiguous for this user and key: use one of {ids}."
        )
    return _principal(str(opened[0]["project_id"]), opened[0])


def _key_valid(row: Row, token: str | None) -> bool:
    return verify_api_key(token, row["api_key_hash"]) or _previous_key_valid(row, token)


def _principal(project_id: str, row: Row) -> Principal:
    role = Role.ROOT if row["is_root"] else Role.ADMIN if row["is_admin"] else Role.MEMBER
    return Principal(project_id=project_id, username=row["username"], role=role, user_id=row["id"])


def missing_headers(project: str | None, username: str | None, token: str | None) -> str | None:
    """``Missing header(s): X-Auth-User, X-Auth-Token.``, or None when all three were sent."""
    sent = {"X-Auth-Project": project, "X-Auth-User": username, "X-Auth-Token": token}
    absent = [name for name, value in sent.items() if not value]
    if not absent:
        return None
    return (
        f"Missing header{'s' if len(absent) > 1 else ''}: {', '.join(absent)}. Every request needs "
        "X-Auth-Project (project UUID), X-Auth-User (user name) and X-Auth-Token (API key)."
    )


def _previous_key_valid(row: Row, token: str | None) -> bool:
    expires = row["previous_key_expires_at"]
    return expires is not None and expires > utcnow() and verify_api_key(token, row["previous_api_key_hash"])


def get_user(conn: sa.Connection, principal: Principal, user_id: Any, action: str = "get") -> Row:
    return crud.get(conn, principal, KIND, user_id, action=action)


def create_user(
    conn: sa.Connection,
    principal: Principal,
    username: str,
    project_id: Any,
    is_admin: bool = False,
    api_key: str | None = None,
    is_root: bool = False,
) -> NewUser:
    """Create a user with a fresh key; only root may place users outside its own project."""
    kinds.authorize(principal, KIND.info, "create")
    if is_root:
        principal.require(Role.ROOT)
    target = crud.get(conn, principal, PROJECT, project_id)["id"]
    api_key = api_key or generate_api_key()
    values = {
        "project_id": target,
        "username": username,
        "api_key_hash": hash_api_key(api_key),
        "is_admin": bool(is_admin or is_root),
        "is_root": is_root,
    }
    with crud.conflicts_as(KIND.conflict_message):
        result = conn.execute(sa.insert(users).values(**values, created_at=principal.acted_at))
    row = as_row(conn.execute(sa.select(users).where(users.c.id == crud.inserted_id(result))).one())
    history.record(conn, principal, "create", "user", row, new=history.snapshot(row))
    return NewUser(row=row, api_key=api_key)


def rotate_key(conn: sa.Connection, principal: Principal, user_id: Any, grace_seconds: int = 0) -> NewUser:
    """Give a user a new key; the old one keeps working for ``grace_seconds`` (0: stops now)."""
    row = get_user(conn, principal, user_id, action="update")
    if row["is_root"] and not principal.is_root:
        raise NotFound.of("User", user_id)
    api_key = generate_api_key()
    now = principal.acted_at
    previous: dict[str, Any] = {"previous_api_key_hash": None, "previous_key_expires_at": None}
    if grace_seconds > 0:
        previous = {
            "previous_api_key_hash": row["api_key_hash"],
            "previous_key_expires_at": now + dt.timedelta(seconds=grace_seconds),
        }
    conn.execute(
        sa.update(users)
        .where(users.c.id == row["id"])
        .values(api_key_hash=hash_api_key(api_key), updated_at=now, **previous)
    )
    history.record(conn, principal, "rotate_key", "user", row, new={"grace_seconds": grace_seconds})
    return NewUser(row=get_user(conn, principal, user_id), api_key=api_key)


def delete_user(conn: sa.Connection, principal: Principal, user_id: Any, preview: bool = False) -> dict[str, int]:
    row = get_user(conn, principal, user_id, action="delete")
    if row["is_root"] and not principal.is_root:
        raise NotFound.of("User", user_id)
    if not preview:
        crud.delete_row(conn, principal, KIND, row, "The user is still referenced.")
    return {"users": 1}
