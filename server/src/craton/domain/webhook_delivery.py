"""Sending due webhook deliveries: claim, POST signed JSON, record, retry or give up.

Several processes may run this loop at once: a delivery is claimed with a conditional
UPDATE (it only succeeds for the process that still sees it due), and a claim is a lease,
so a process killed mid-delivery leaves a row that another process re-sends after the
lease, with the same event id (at-least-once; receivers deduplicate on the id).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import random
import threading
import time
from dataclasses import dataclass

import httpx
import orjson
import sqlalchemy as sa

from craton.settings import Settings
from craton.storage.rows import Row, as_rows
from craton.storage.tables import webhook_deliveries, webhooks
from craton.storage.types import utcnow

log = logging.getLogger("craton.webhooks")
SIGNATURE_HEADER = "X-Craton-Signature"
LEASE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Policy:
    """How hard to try: attempts, backoff, timeouts and when to give up on a webhook."""

    max_attempts: int = 8
    backoff_seconds: float = 10.0
    backoff_max_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    max_response_bytes: int = 65536
    disable_after: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.webhooks_max_attempts,
            settings.webhooks_backoff_seconds,
            settings.webhooks_backoff_max_seconds,
            settings.webhooks_timeout_seconds,
            settings.webhooks_max_response_bytes,
            settings.webhooks_disable_after,
        )

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter: a random point in the upper half of base * 2^(n-1)."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempts - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body): what receivers recompute."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    pending = sa.and_(webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= now)
    abandoned = sa.and_(webhook_deliveries.c.status == "delivering", webhook_deliveries.c.claimed_until < now)
    return sa.or_(pending, abandoned)


def claim(engine: sa.Engine, limit: int = 50) -> list[Row]:
    """Take up to ``limit`` due deliveries of enabled webhooks; each is claimed by one process only."""
    now = utcnow()
    with engine.begin() as conn:
        candidates = [
            row.id
            for row in conn.execute(
                sa.select(webhook_deliveries.c.id)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(_due(now), webhooks.c.enabled)
                .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
                .limit(limit)
            )
        ]
    claimed = []
    for delivery_id in candidates:
        with engine.begin() as conn:
            won = conn.execute(
                sa.update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id, _due(now))
                .values(status="delivering", claimed_until=now + LEASE)
            ).rowcount
        if won:
            claimed.append(delivery_id)
    if not claimed:
        return []
    with engine.connect() as conn:
        return as_rows(
            conn.execute(
                sa.select(
                    webhook_deliveries,
                    webhooks.c.url,
                    webhooks.c.secret,
                    webhooks.c.project_id,
                )
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(webhook_deliveries.c.id.in_(claimed))
                .order_by(webhook_deliveries.c.id)
            ).all()
        )


def body_of(delivery: Row) -> bytes:
    return orjson.dumps(
        {
            "id": delivery["event_id"],
            "kind": delivery["event_kind"],
            "webhook_id": delivery["webhook_id"],
            "project_id": delivery["project_id"],
            "created_at": delivery["created_at"].isoformat(),
            "data": delivery["payload"],
        }
    )


def send(client: httpx.Client, delivery: Row, policy: Policy) -> tuple[int | None, str | None]:
    """POST one delivery; (response code, error or None when it was a 2xx)."""
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "craton-webhooks/1",
        "X-Craton-Event-Id": delivery["event_id"],
        "X-Craton-Event-Kind": delivery["event_kind"],
        "X-Craton-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(delivery["secret"], timestamp, body),
    }
    try:
        with client.stream("POST", delivery["url"], content=body, headers=headers) as response:
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > policy.max_response_bytes:
                    break  # the answer's body is not needed; stop reading a runaway one
            if 200 <= response.status_code < 300:
                return response.status_code, None
            return response.status_code, f"HTTP {response.status_code}"
    except httpx.TimeoutException:
        return None, f"timed out after {policy.timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def record(engine: sa.Engine, delivery: Row, code: int | None, error: str | None, policy: Policy) -> None:
    """Store an attempt's outcome; schedule a retry, or fail it and maybe disable the webhook."""
    now = utcnow()
    attempts = delivery["attempts"] + 1
    mine = sa.and_(webhook_deliveries.c.id == delivery["id"], webhook_deliveries.c.status == "delivering")
    outcome = {"attempts": attempts, "response_code": code, "last_error": error, "claimed_until": None}
    with engine.begin() as conn:
        if error is None:
            conn.execute(
                sa.update(webhook_deliveries).where(mine).values(status="succeeded", delivered_at=now, **outcome)
            )
            conn.execute(
                sa.update(webhooks).where(webhooks.c.id == delivery["webhook_id"]).values(consecutive_failures=0)
            )
            return
        if attempts < policy.max_attempts:
            retry_at = now + dt.timedelta(seconds=policy.delay(attempts))
            conn.execute(
                sa.update(webhook_deliveries).where(mine).values(status="pending", next_attempt_at=retry_at, **outcome)
            )
            return
        failed = conn.execute(sa.update(webhook_deliveries).where(mine).values(status="failed", **outcome)).rowcount
        if not failed:
            return
        conn.execute(
            sa.update(webhooks)
            .where(webhooks.c.id == delivery["webhook_id"])
            .values(consecutive_failures=webhooks.c.consecutive_failures + 1)
        )
        conn.execute(
            sa.update(webhooks)
            .where(
                webhooks.c.id == delivery["webhook_id"],
                webhooks.c.enabled,
                webhooks.c.consecutive_failures >= policy.disable_after,
            )
            .values(
                enabled=False,
                disabled_reason=(
                    f"Disabled at {now.isoformat(timespec='seconds')} after {policy.disable_after} deliveries "
                    f"failed in a row; last error: {error}"
                ),
            )
        )


DELIVERY_BATCH = 50


def deliver_due(engine: sa.Engine, policy: Policy, limit: int = DELIVERY_BATCH) -> int:
    """One pass of the delivery loop; returns how many deliveries were attempted."""
    batch = claim(engine, limit)
    if not batch:
        return 0
    timeout = httpx.Timeout(policy.timeout_seconds)
    with httpx.Client(timeout=timeout, verify=True, follow_redirects=False, trust_env=False) as client:
        for delivery in batch:
            code, error = send(client, delivery, policy)
            if error is not None:
                # The URL and error only: never the secret, signature or body.
                log.info("webhook %s delivery %s failed: %s", delivery["webhook_id"], delivery["id"], error)
            record(engine, delivery, code, error, policy)
    return len(batch)


class Dispatcher:
    """A background thread running :func:`deliver_due` every ``poll_seconds`` until stopped."""

    def __init__(self, engine: sa.Engine, policy: Policy, poll_seconds: float) -> None:
        self.engine, self.policy, self.poll_seconds = engine, policy, poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="craton-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.policy.timeout_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = deliver_due(self.engine, self.policy)
            except sa.exc.OperationalError as exc:  # the database is away: say so, without a traceback
                log.warning("webhook delivery pass: database unavailable (%s)", type(exc.orig).__name__)
                busy = 0
            except Exception:  # a database hiccup must not end the loop
                log.exception("webhook delivery pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.poll_seconds)
