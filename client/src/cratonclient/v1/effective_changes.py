"""The effective-change feed: per device, what each change did to its resolved variables.

Every committed change that alters the resolved variables of devices (a variable, a mask or a
merge strategy anywhere above them, a move, a create or a delete) gives one record per device:
``device_id``, ``device_type``, ``device_name``, ``change_id`` (the ``craton.changes`` record
that caused it) and the keys ``added``, ``removed`` and ``changed`` (``{"key": {"old": ...,
"new": ...}}``). The server computes them in the background, within seconds of the change.

``craton.effective_changes.list(since=N)`` returns every record after record ``N``,
``follow()`` keeps polling for new ones; both take the filters ``device_id``, ``cell_id``,
``region_id``, ``label`` and ``key``.
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
from cratonclient.v1.history import parse_time

FILTERS = ("device_id", "cell_id", "region_id", "label", "key")


class EffectiveChange(crud.Resource):
    """One device's effective change: ``id``, ``occurred_at``, ``change_id``, ``device_type``,
    ``device_id``, ``device_name``, ``cell_id``, ``region_id``, ``added``, ``removed``, ``changed``."""

    @property
    def time(self) -> dt.datetime:
        """``occurred_at`` (the time of the change that caused it) as a timezone-aware datetime."""
        return parse_time(str(self._info["occurred_at"]))


@dataclass(frozen=True)
class EffectiveChangePage:
    """One answer of the feed: its records and the cursor to ask for the next ones."""

    effective_changes: builtins.list[EffectiveChange]
    next_since: int


class EffectiveChangeManager(crud.CRUDClient):
    """``GET /v1/effective-changes``: the devices' effective changes in the caller's project(s), in order."""

    key = "effective_change"
    base_path = "/effective-changes"
    resource_class = EffectiveChange

    create = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def page(self, since: int = 0, limit: int | None = None, **filters: Any) -> EffectiveChangePage:
        """The records after record ``since`` (up to ``limit``, 1 to 1000, default 100).

        ``filters``: ``device_id``, ``cell_id``, ``region_id`` (where the device was at the
        change), ``label`` (a label the device carries now), ``key`` (a key the record names).
        """
        unknown = sorted(set(filters) - set(FILTERS))
        if unknown:
            raise TypeError(f"unknown filter {unknown[0]!r}; known: {', '.join(FILTERS)}")
        params = crud.encode_query({"since": since, "limit": limit, **filters})
        body = json_body(self.session.get(self.build_url(), params=params))
        if not isinstance(body, dict) or "effective_changes" not in body:
            raise exc.InvalidResponse("The effective-change feed answered without an 'effective_changes' key")
        records = [EffectiveChange(self, info, loaded=True) for info in body["effective_changes"]]
        return EffectiveChangePage(records, int(body.get("next_since", since)))

    def pages(
        self,
        since: int = 0,
        limit: int | None = None,
        *,
        follow: bool = False,
        interval: float = 2.0,
        duration: float | None = None,
        **filters: Any,
    ) -> Iterator[EffectiveChangePage]:
        """Non-empty pages from cursor ``since`` until the feed is exhausted.

        With ``follow``, keep asking every ``interval`` seconds for what is recorded next, for
        ``duration`` seconds (``None``: until the caller stops iterating).
        """
        return feeds.walk(
            lambda cursor: self.page(cursor, limit, **filters),
            lambda page: page.effective_changes,
            since,
            follow=follow,
            interval=interval,
            duration=duration,
        )

    def list(  # type: ignore[override]
        self, since: int = 0, limit: int | None = None, autopaginate: bool = True, **filters: Any
    ) -> Iterator[EffectiveChange]:
        """Lazily iterate over the records after record ``since``, oldest first, up to the last one made so far.

        ``autopaginate=False`` stops after one page. Resume later with ``since=`` the last id seen.
        """
        for page in self.pages(since, limit, **filters):
            yield from page.effective_changes
            if not autopaginate:
                return

    def follow(
        self,
        since: int = 0,
        limit: int | None = None,
        interval: float = 2.0,
        duration: float | None = None,
        **filters: Any,
    ) -> Iterator[EffectiveChange]:
        """Like ``list()``, then keep polling every ``interval`` seconds for new records.

        Runs until the caller stops iterating, or for ``duration`` seconds.
        """
        for page in self.pages(since, limit, follow=True, interval=interval, duration=duration, **filters):
            yield from page.effective_changes


__all__ = ["EffectiveChange", "EffectiveChangeManager", "EffectiveChangePage"]
