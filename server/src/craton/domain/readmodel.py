"""What an answer shows beyond the rows themselves, loaded for a whole page at once.

Variables (own or resolved), blame, labels and the kinds of parent devices are each
read in a fixed number of queries for all the rows, so a page of 100 costs what a page
of 5 does. HTTP (and the web UI) turn rows plus these details into their own shapes
without touching the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from craton.domain import devices, resolution
from craton.domain.history import blame as history_blame
from craton.domain.kinds import Row


@dataclass(frozen=True)
class Details:
    """Per row id: what is shown with it. ``None``: that part is not shown at all."""

    variables: dict[Any, dict[str, Any]] | None = None
    blame: dict[Any, dict[str, dict[str, Any]]] | None = None
    labels: dict[int, list[str]] | None = None
    parent_kinds: dict[int, str] = field(default_factory=dict)


def load(
    conn: sa.Connection,
    owner_kind: str,
    rows: Sequence[Row],
    *,
    device: bool = False,
    with_variables: bool = False,
    resolved: bool = False,
    given_variables: Mapping[str, Any] | None = None,
    with_blame: bool = False,
) -> Details:
    """The details of ``rows``; ``given_variables`` skips the read right after a create."""
    if not rows:
        return Details()
    variables = None
    if given_variables is not None:
        variables = {row["id"]: dict(given_variables) for row in rows}
    elif with_variables:
        variables = resolution.variables_for(conn, owner_kind, list(rows), resolved)
    blame = history_blame.blame(conn, owner_kind, list(rows), resolved) if with_blame else None
    if not device:
        return Details(variables, blame)
    labels = devices.labels_of(conn, [row["id"] for row in rows])
    return Details(variables, blame, labels, devices.parent_kinds(conn, rows))
