"""Periodic background jobs: the event pump, webhook delivery and pruning; a small list, one loop.

The API server runs the loop in a daemon thread of every worker process (the pump takes a
lease and deliveries are claimed row by row, so processes never do the same work twice);
``craton-events`` runs it on its own. :func:`jobs` is the one place that says which jobs run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa

from craton.domain import webhook_delivery
from craton.domain.events import backlog, pump
from craton.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """``run(engine)`` returns how much it did; a job that did a full batch runs again at once.

    ``every``: at least this many seconds between two runs of the job (0: every round),
    unless its last run did a full batch.
    """

    name: str
    run: Callable[[sa.Engine], int]
    full_batch: int = pump.DEFAULT_BATCH
    every: float = 0.0


#: How often finished webhook deliveries past their retention are deleted.
PRUNE_EVERY = 600.0


def jobs(settings: Settings, pump_events: bool = True) -> list[Job]:
    """What the loop runs: the pump (``pump_events``), then, unless ``[webhooks] dispatch`` is off,
    the delivery of what it queued and the pruning of the delivery log; and always, once a minute,
    the outbox watch (``backlog.Watch``: a backlog no process pumps is reported and warned about)."""
    chosen = []
    if pump_events:
        batch, budget = pump.round_size(sa.engine.make_url(settings.database_url).get_backend_name())
        pumping = partial(pump.process_pending, batch=batch, effects_budget=budget)
        chosen.append(Job("event-pump", pumping, full_batch=batch))
    if settings.webhooks_dispatch:
        policy = webhook_delivery.Policy.from_settings(settings)
        batch = webhook_delivery.DELIVERY_BATCH
        chosen.append(
            Job(
                "webhook-delivery",
                partial(webhook_delivery.deliver_due, policy=policy, limit=batch),
                full_batch=batch,
                every=settings.webhooks_poll_seconds,
            )
        )
        chosen.append(
            Job(
                "webhook-prune",
                partial(webhook_delivery.prune, policy=policy),
                full_batch=webhook_delivery.PRUNE_BATCH,
                every=PRUNE_EVERY,
            )
        )
    watch = backlog.Watch(settings.events_backlog_warn_seconds, pumping_here=pump_events)
    chosen.append(Job("outbox-watch", watch, every=watch.every))
    return chosen


def outbox_watch(jobs: list[Job]) -> backlog.Watch | None:
    """The outbox watch among ``jobs`` (what ``/readyz`` and ``/metrics`` read)."""
    return next((job.run for job in jobs if isinstance(job.run, backlog.Watch)), None)


def run_job(engine: sa.Engine, job: Job) -> bool:
    """Run one job once; True when it did a full batch (more is waiting). A failing job is logged, not fatal."""
    try:
        return job.run(engine) >= job.full_batch
    except sa.exc.OperationalError as exc:  # the database is away: say so, without a traceback
        log.warning(
            "background job %s: database unavailable (%s); it runs again next round",
            job.name,
            type(exc.orig).__name__,
        )
    except Exception:  # noqa: BLE001 - a background loop must outlive one bad round
        log.exception("background job %s failed; it runs again next round", job.name)
    return False


def run_round(engine: sa.Engine, jobs: list[Job]) -> bool:
    """Run every job once, whatever its ``every``; True when some job has more to do right away."""
    busy = False
    for job in jobs:
        busy = run_job(engine, job) or busy
    return busy


def run_forever(engine: sa.Engine, interval: float, stop: threading.Event, jobs: list[Job]) -> None:
    """Run the jobs every ``interval`` seconds (at once again while a job has a backlog) until ``stop`` is set.

    A job with ``every`` is skipped until that long has passed since it last ran without a backlog.
    """
    next_run = {job.name: 0.0 for job in jobs}
    while not stop.is_set():
        busy = False
        for job in jobs:
            started = time.monotonic()
            if started < next_run[job.name]:
                continue
            full = run_job(engine, job)
            next_run[job.name] = started if full else started + job.every
            busy = busy or full
        if not busy:
            stop.wait(interval)


def start_thread(engine: sa.Engine, interval: float, jobs: list[Job]) -> tuple[threading.Thread, threading.Event]:
    """The loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(engine, interval, stop, jobs), name="craton-events", daemon=True
    )
    thread.start()
    return thread, stop
