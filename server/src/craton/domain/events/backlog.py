"""Watching the outbox: how long the oldest pending change has waited for the event pump.

The pump's lease is a row lock held only while a round runs, so nothing records whether a pump
is alive; the outbox itself shows it. While some process pumps, the oldest pending row is
seconds old; when ``[events] enabled`` is false in every API worker and no ``craton-events``
runs, it only gets older and the table grows with every write. Every background loop (each API
worker's thread, whatever it is set to run, and ``craton-events``) runs :func:`watch` once a
minute (or every half threshold, if that is shorter): one indexed read of the oldest time. Its
age is kept in ``Watch.latest`` and handed to the :data:`REPORTERS` (the ``/metrics`` gauge), and
past ``[events] backlog_warn_seconds`` a warning is logged (every ten minutes while it lasts) and
``/readyz`` carries it as a hint.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from craton.storage.engine import transaction
from craton.storage.tables import event_outbox
from craton.storage.types import utcnow

log = logging.getLogger(__name__)

#: Seconds between two looks at the outbox.
WATCH_EVERY = 60.0
#: Seconds between two warnings about the same backlog.
WARN_EVERY = 600.0
#: Called with the age of the oldest pending change in seconds (0: none pending) after each look.
REPORTERS: list[Callable[[float], None]] = []

# The oldest row by time, not the smallest id: ``created_at`` is the request's time, and a long
# request (a fleet import) or a late commit takes its ids after shorter requests that started
# later (PostgreSQL sequences also hand out ids out of commit order). Over the index on
# created_at (migration 0017) the minimum is one step down it, whatever the backlog.
_OLDEST = sa.select(sa.func.min(event_outbox.c.created_at))


@dataclass(frozen=True)
class Reading:
    """One look at the outbox: the oldest pending change's age, and what it means."""

    oldest_seconds: float
    threshold: float
    pumping_here: bool

    @property
    def stale(self) -> bool:
        return self.threshold > 0 and self.oldest_seconds > self.threshold

    def warning(self) -> str:
        """What an operator should know and do, for the log and ``/readyz``."""
        why = (
            "this process pumps, so the pump is failing or far behind (see its errors above)"
            if self.pumping_here
            else "no event pump seems to run: [events] enabled is false in every craton-api and no craton-events "
            "runs? Run craton-events, or set [events] queue = false where no events are wanted (nothing is "
            "queued then; craton-events --once empties what is queued)"
        )
        return (
            f"event outbox: the oldest pending change has waited {self.oldest_seconds:.0f} s "
            f"(over [events] backlog_warn_seconds = {self.threshold:g}); {why}"
        )


def oldest_pending_age(conn: sa.Connection, now: dt.datetime | None = None) -> float:
    """Seconds the oldest pending outbox row has waited; 0 when none is pending."""
    created = conn.execute(_OLDEST).scalar()
    if created is None:
        return 0.0
    return max(0.0, ((now or utcnow()) - created).total_seconds())


@dataclass
class Watch:
    """The background job: look at the outbox, report, warn while it is stale (``run(engine)``)."""

    threshold: float
    pumping_here: bool
    warned_at: float | None = None
    #: The latest reading (None before the first look).
    latest: Reading | None = None

    @property
    def every(self) -> float:
        """Seconds between looks: a minute, or half the threshold when that is shorter."""
        return min(WATCH_EVERY, self.threshold / 2) if self.threshold > 0 else WATCH_EVERY

    def __call__(self, engine: sa.Engine) -> int:
        with transaction(engine, writes=False) as conn:
            age = oldest_pending_age(conn)
        now = time.monotonic()
        reading = Reading(age, self.threshold, self.pumping_here)
        self.latest = reading
        for report in REPORTERS:
            report(age)
        if reading.stale:
            if self.warned_at is None or now - self.warned_at >= WARN_EVERY:
                log.warning("%s", reading.warning())
                self.warned_at = now
        elif self.warned_at is not None:
            log.info("event outbox: the backlog is gone (the oldest pending change has waited %.0f s)", age)
            self.warned_at = None
        return 0

    def hint(self) -> str | None:
        """The latest reading's warning while the backlog is stale, else None."""
        reading = self.latest
        return reading.warning() if reading is not None and reading.stale else None
