"""What the generic operations know about one kind of object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain.principal import Principal
from craton.storage.owners import OwnerRef
from craton.storage.rows import Row

ReferenceCheck = Callable[[sa.Connection, Principal, dict[str, Any], Row | None], None]
# A delete: ``(conn, principal, row_id, preview)`` -> how many objects of each kind it removes
# (or, with ``preview``, would remove without writing anything).
Deleter = Callable[[sa.Connection, Principal, Any, bool], dict[str, int]]
_HIDDEN_COLUMNS = {"kind", "api_key_hash", "is_root"}


@dataclass(frozen=True)
class Kind:
    """What the generic operations need to know about one resource type."""

    name: str
    table: sa.Table
    conflict_message: str
    device_kind: str | None = None
    check_references: ReferenceCheck | None = None
    sortable: frozenset[str] = field(default=frozenset())

    @property
    def id_column(self) -> sa.Column[Any]:
        return self.table.c.id

    def sort_columns(self) -> frozenset[str]:
        return self.sortable or frozenset(c.name for c in self.table.c if c.name not in _HIDDEN_COLUMNS)

    def project_column(self) -> sa.Column[Any]:
        return self.table.c.id if self.name == "project" else self.table.c.project_id

    def project_of(self, row: Row) -> str:
        """The project a row belongs to (a project belongs to itself)."""
        return str(row["id"] if self.name == "project" else row["project_id"])

    def owner(self, row_id: Any) -> OwnerRef:
        return (self.name, str(row_id))

    @property
    def resource_type(self) -> str:
        """The public name of the kind: hosts and network devices are told apart."""
        return self.device_kind or self.name
