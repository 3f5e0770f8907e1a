"""Signed-in browser sessions of the web UI, kept in the database.

A session stands for the caller who signed in with their API key: each page
acts as that user, with the same roles and tenancy as the API. The browser
holds a random token; the database keeps its SHA-256, the CSRF token that
every form must send back, and an expiry. Signing out deletes the row, so a
copied cookie stops working at once, in every worker process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from craton.domain.errors import NotAuthenticated
from craton.domain.principal import Principal, Role
from craton.storage.tables import ui_sessions, users
from craton.storage.types import utcnow

SIGNED_OUT = "Your session has ended; sign in again."


@dataclass(frozen=True)
class Session:
    """The caller behind a session cookie and the CSRF token its forms carry."""

    principal: Principal
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    conn: sa.Connection, principal: Principal, lifetime: dt.timedelta, ends_by: dt.datetime | None = None
) -> tuple[str, Session]:
    """Open a session for an authenticated caller; returns the cookie token (shown once).

    ``ends_by`` caps the session, e.g. at the expiry of the Keystone token it was opened with.
    """
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = principal.acted_at
    conn.execute(sa.delete(ui_sessions).where(ui_sessions.c.expires_at < now))
    conn.execute(
        sa.insert(ui_sessions).values(
            token_hash=_digest(token),
            user_id=principal.user_id,
            project_id=principal.project_id,
            username=principal.username,
            role=int(principal.role),
            csrf_token=csrf_token,
            created_at=now,
            expires_at=min(now + lifetime, ends_by) if ends_by else now + lifetime,
        )
    )
    return token, Session(principal, csrf_token)


_RESUME = (
    sa.select(
        ui_sessions.c.project_id,
        ui_sessions.c.csrf_token,
        ui_sessions.c.expires_at,
        ui_sessions.c.user_id,
        ui_sessions.c.username.label("session_username"),
        ui_sessions.c.role,
        users.c.username,
        users.c.is_admin,
        users.c.is_root,
    )
    .outerjoin(users, users.c.id == ui_sessions.c.user_id)
    .where(ui_sessions.c.token_hash == sa.bindparam("token_hash"))
)


def resume(conn: sa.Connection, token: str | None, now: dt.datetime | None = None) -> Session:
    """The session a cookie names; a missing, unknown or expired one is 401."""
    now = now or utcnow()
    if not token:
        raise NotAuthenticated(SIGNED_OUT)
    row = conn.execute(_RESUME, {"token_hash": _digest(token)}).first()
    if row is None or row.expires_at <= now:
        raise NotAuthenticated(SIGNED_OUT)
    if row.user_id is not None:  # a Craton user: roles as they are now, not as they were at sign-in
        role = Role.ROOT if row.is_root else Role.ADMIN if row.is_admin else Role.MEMBER
        username = row.username
    else:  # a Keystone user: what the token said at sign-in, for at most the token's lifetime
        role, username = Role(row.role), row.session_username
    principal = Principal(project_id=row.project_id, username=username, role=role, user_id=row.user_id, acted_at=now)
    return Session(principal, row.csrf_token)


def csrf_matches(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf_token, submitted or "")


def end(conn: sa.Connection, token: str | None) -> None:
    if token:
        conn.execute(sa.delete(ui_sessions).where(ui_sessions.c.token_hash == _digest(token)))
