"""Periodic background jobs (the event pump; webhook delivery joins here): a small list, one loop.

The API server runs the loop in a daemon thread of every worker process (each job takes
its own lease, so one process wins a round); ``craton-events`` runs it on its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from craton.domain.events import pump

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """``run(engine)`` returns how much it did; a job that did a full batch runs again at once."""

    name: str
    run: Callable[[sa.Engine], int]
    full_batch: int = pump.DEFAULT_BATCH


JOBS: list[Job] = [Job("event-pump", pump.process_pending)]


def run_round(engine: sa.Engine, jobs: list[Job]) -> bool:
    """Run every job once; True when some job has more to do right away. A failing job is logged, not fatal."""
    busy = False
    for job in jobs:
        try:
            busy = job.run(engine) >= job.full_batch or busy
        except sa.exc.OperationalError as exc:  # the database is away: say so, without a traceback
            log.warning(
                "background job %s: database unavailable (%s); it runs again next round",
                job.name,
                type(exc.orig).__name__,
            )
        except Exception:  # noqa: BLE001 - a background loop must outlive one bad round
            log.exception("background job %s failed; it runs again next round", job.name)
    return busy


def run_forever(engine: sa.Engine, interval: float, stop: threading.Event, jobs: list[Job] | None = None) -> None:
    """Run the jobs every ``interval`` seconds (at once again while a job has a backlog) until ``stop`` is set."""
    while not stop.is_set():
        if not run_round(engine, JOBS if jobs is None else jobs):
            stop.wait(interval)


def start_thread(engine: sa.Engine, interval: float) -> tuple[threading.Thread, threading.Event]:
    """The loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(engine, interval, stop), name="craton-events", daemon=True)
    thread.start()
    return thread, stop
