"""Who is calling, and which rows they may see."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

import sqlalchemy as sa

from craton.domain.errors import Forbidden


class Role(enum.IntEnum):
    MEMBER = 0
    ADMIN = 1
    ROOT = 2


@dataclass(frozen=True)
class Principal:
    """An authenticated caller acting inside one project."""

    project_id: str
    username: str
    role: Role
    user_id: int | None = None
    # How this request's changes are recorded in the history.
    request_id: str | None = None
    reason: str | None = None
    record_history: bool = True
    # Whether its change records also queue events for the pump (``[events] queue``).
    queue_events: bool = True
    # One clock reading per request: rows, variables and history records of a
    # request all carry it, so "as of" a time shown anywhere is consistent.
    acted_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def is_root(self) -> bool:
        return self.role is Role.ROOT

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN

    def require(self, role: Role) -> None:
        """Raise 403 unless the caller has at least ``role``."""
        if self.role < role:
            raise Forbidden(f"This action requires the '{'root' if role is Role.ROOT else 'admin'}' role")

    def scope(self, project_column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
        """The tenancy filter: only root crosses projects (docs/decisions.md §3)."""
        if self.is_root:
            return sa.true()
        return project_column == self.project_id
