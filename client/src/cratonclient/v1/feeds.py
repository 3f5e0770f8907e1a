"""Cursor feeds (``/v1/changes``, ``/v1/effective-changes``): paging by ``since`` and following.

Both feeds answer a list of records and ``next_since``; reading on from that cursor never
skips nor repeats a record. What differs per feed (its URL, filters and record type) stays
with its manager; the walk over pages, and the polling of ``follow``, live here once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sized
from typing import Protocol, TypeVar


class CursorPage(Protocol):
    """What a feed's page offers the walk: the cursor to ask for the next records."""

    @property
    def next_since(self) -> int: ...


PageT = TypeVar("PageT", bound=CursorPage)


def walk(
    fetch: Callable[[int], PageT],
    records: Callable[[PageT], Sized],
    since: int,
    *,
    follow: bool = False,
    interval: float = 2.0,
    duration: float | None = None,
) -> Iterator[PageT]:
    """Non-empty pages from cursor ``since`` until the feed is exhausted.

    With ``follow``, keep asking every ``interval`` seconds for what is recorded next, for
    ``duration`` seconds (``None``: until the caller stops iterating).
    """
    deadline = None if duration is None else time.monotonic() + duration
    while True:
        page = fetch(since)
        since = page.next_since
        if len(records(page)):
            yield page
            continue
        if not follow:
            return
        wait = interval
        if deadline is not None:
            wait = min(interval, deadline - time.monotonic())
            if wait <= 0:
                return
        time.sleep(wait)


__all__ = ["CursorPage", "walk"]
