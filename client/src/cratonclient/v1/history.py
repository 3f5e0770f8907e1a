"""Change records: one object's history (``manager.history(id)``) and the change feed.

The server records every change made through the API: creates, updates, deletes, variable
and label changes and key rotations, each with who made it, when, in which request, why (the
change reason) and the values before and after. A record is a :class:`Change`.

* ``craton.hosts.history(7)`` (or ``host.history()``) pages through one object's records,
  oldest first, exactly like ``list()``; it works after the object was deleted, too.
* ``craton.changes`` reads the project's feed with a cursor: ``list(since=N)`` returns every
  record after record ``N``, ``follow()`` keeps polling for new ones, ``get(N)`` fetches one.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cratonclient import crud
from cratonclient import exceptions as exc
from cratonclient.session import json_body
from cratonclient.v1 import feeds


class Change(crud.Resource):
    """One change record: ``id``, ``occurred_at``, ``username``, ``action``, ``reason``,
    ``resource_type``, ``resource_id``, ``resource_name``, ``old``, ``new``...

    ``action`` is ``create``, ``update``, ``delete``, ``variables``, ``labels`` or
    ``rotate_key``. ``resource_id`` is always a string (project ids are UUIDs).
    """

    @property
    def time(self) -> dt.datetime:
        """``occurred_at`` as a timezone-aware datetime."""
        return parse_time(str(self._info["occurred_at"]))

    @property
    def time_before(self) -> dt.datetime:
        """The last moment before this change: ``variables.get(as_of=change.time_before)``
        shows the values it replaced."""
        return self.time - dt.timedelta(microseconds=1)


class HistoryMixin(crud.CRUDClient):
    """Adds ``history(id)`` to the managers of resources whose changes the server records."""

    def history(
        self,
        item_id: Any,
        autopaginate: bool = True,
        marker: int | None = None,
        limit: int | None = None,
        sort_dir: str | None = None,
        **params: Any,
    ) -> Iterator[Change]:
        """Lazily iterate over the change records of one object, oldest first.

        Pages like ``list()``: ``autopaginate=False`` gives one page, ``marker`` is the id of
        the last record seen, ``limit`` the page size (10 to 100), ``sort_dir="desc"`` starts
        with the newest. An id that never had a record raises ``NotFound``.
        """
        url = self.build_url({f"{self.key}_id": item_id}) + "/history"
        query = {**params, "marker": marker, "limit": limit, "sort_dir": sort_dir}
        return self.iterate(url, "history", autopaginate, query, Change)  # type: ignore[return-value]


@dataclass(frozen=True)
class ChangePage:
    """One answer of the feed: its records and the cursor to ask for the next ones."""

    changes: builtins.list[Change]
    next_since: int


class ChangeManager(crud.CRUDClient):
    """``GET /v1/changes``: every change in the caller's project(s), in the order made."""

    key = "change"
    base_path = "/changes"
    resource_class = Change

    create = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def page(
        self,
        since: int = 0,
        limit: int | None = None,
        resource_type: str | None = None,
        user: str | None = None,
    ) -> ChangePage:
        """The records after record ``since`` (up to ``limit``, 1 to 1000, default 100).

        ``resource_type`` (``project``, ``user``, ``cloud``, ``region``, ``cell``, ``host``,
        ``network_device``, ``network`` or ``network_interface``; dashes are accepted) and
        ``user`` (a username) narrow the feed. ``next_since`` is the cursor for the next call.
        """
        params = crud.encode_query(
            {
                "since": since,
                "limit": limit,
                "resource_type": resource_type.replace("-", "_") if resource_type else None,
                "user": user,
            }
        )
        body = json_body(self.session.get(self.build_url(), params=params))
        if not isinstance(body, dict) or "changes" not in body:
            raise exc.InvalidResponse("The change feed answered without a 'changes' key")
        changes = [Change(self, info, loaded=True) for info in body["changes"]]
        return ChangePage(changes, int(body.get("next_since", since)))

    def pages(
        self,
        since: int = 0,
        limit: int | None = None,
        *,
        follow: bool = False,
        interval: float = 2.0,
        duration: float | None = None,
        **filters: str | None,
    ) -> Iterator[ChangePage]:
        """Non-empty pages from cursor ``since`` until the feed is exhausted.

        With ``follow``, keep asking every ``interval`` seconds for what is recorded next,
        for ``duration`` seconds (``None``: until the caller stops iterating). ``filters``
        are ``page``'s: ``resource_type`` and ``user``.
        """
        return feeds.walk(
            lambda cursor: self.page(cursor, limit, **filters),
            lambda page: page.changes,
            since,
            follow=follow,
            interval=interval,
            duration=duration,
        )

    def list(  # type: ignore[override]
        self,
        since: int = 0,
        resource_type: str | None = None,
        user: str | None = None,
        limit: int | None = None,
        autopaginate: bool = True,
    ) -> Iterator[Change]:
        """Lazily iterate over the records after record ``since``, oldest first.

        Every page is fetched as iteration reaches it, up to the last record made so far;
        ``autopaginate=False`` stops after one page. Resume later with ``since=`` the id of
        the last record you saw.
        """
        for page in self.pages(since, limit, resource_type=resource_type, user=user):
            yield from page.changes
            if not autopaginate:
                return

    def follow(
        self,
        since: int = 0,
        resource_type: str | None = None,
        user: str | None = None,
        interval: float = 2.0,
        duration: float | None = None,
        limit: int | None = None,
    ) -> Iterator[Change]:
        """Like ``list()``, then keep polling every ``interval`` seconds for new records.

        Runs until the caller stops iterating, or for ``duration`` seconds.
        """
        pages = self.pages(
            since, limit, follow=True, interval=interval, duration=duration, resource_type=resource_type, user=user
        )
        for page in pages:
            yield from page.changes

    def get(self, change_id: int) -> Change:  # type: ignore[override]
        """One record by id; ``NotFound`` unless it exists and is in the caller's project."""
        if int(change_id) >= 1:
            found = self.page(since=int(change_id) - 1, limit=1).changes
            if found and found[0].id == int(change_id):
                return found[0]
        raise exc.NotFound(f"Change {change_id} does not exist or is not yours to see.")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 timestamp as the server reads it: ``Z`` or an offset, else UTC."""
    value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def time_param(value: dt.datetime | str) -> str:
    """A time for ``as_of``/``diff_from``/``diff_to``: strings are sent as given (the server
    reads them as ISO 8601, UTC without an offset); naive datetimes are local time, as
    everywhere in Python."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


__all__ = [
    "Change",
    "ChangeManager",
    "ChangePage",
    "HistoryMixin",
    "parse_time",
    "time_param",
]
