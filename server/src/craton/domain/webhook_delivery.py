"""Sending due webhook deliveries: claim, POST signed JSON, record, retry or give up.

Several processes may run this loop at once: a delivery is claimed with a conditional
UPDATE (it only succeeds for the process that still sees it due), and a claim is a lease,
so a process killed mid-delivery leaves a row that another process re-sends after the
lease, with the same event id (at-least-once; receivers deduplicate on the id).

The loop is two jobs of the background runner (``craton.domain.events.runner``): delivery,
after the event pump, and pruning of old finished rows. Every write goes through
``transaction(engine, writes=True)``, so on SQLite it waits its turn in the write queue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import logging
import random
import socket
import ssl
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import sqlalchemy as sa

from craton.settings import Settings
from craton.storage.engine import transaction
from craton.storage.rows import Row, as_rows
from craton.storage.tables import webhook_deliveries, webhooks
from craton.storage.types import utcnow

log = logging.getLogger("craton.webhooks")
SIGNATURE_HEADER = "X-Craton-Signature"
LEASE = dt.timedelta(minutes=2)
_DEFAULTS = Settings()


@dataclass(frozen=True)
class Policy:
    """How hard to try, where to, and how long to keep the log: the ``[webhooks]`` settings.

    Each field is the setting ``webhooks_<field>``; the defaults are the settings' defaults.
    """

    max_attempts: int = _DEFAULTS.webhooks_max_attempts
    backoff_seconds: float = _DEFAULTS.webhooks_backoff_seconds
    backoff_max_seconds: float = _DEFAULTS.webhooks_backoff_max_seconds
    timeout_seconds: float = _DEFAULTS.webhooks_timeout_seconds
    max_response_bytes: int = _DEFAULTS.webhooks_max_response_bytes
    disable_after: int = _DEFAULTS.webhooks_disable_after
    allow_private_targets: bool = _DEFAULTS.webhooks_allow_private_targets
    delivery_retention_days: int = _DEFAULTS.webhooks_delivery_retention_days

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(**{f.name: getattr(settings, f"webhooks_{f.name}") for f in dataclasses.fields(cls)})

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
    """Take up to ``limit`` due deliveries of enabled webhooks; each is claimed by one process only.

    The due rows are found in a read (idle rounds, most of them, stop there: every worker polls
    every interval, and a write transaction would take SQLite's write lock, queued with the
    requests' writes). Then one write transaction leases those of them that are still due and
    reads them back with their webhook: on PostgreSQL and MariaDB the lease's UPDATE locks them
    through a by-key ``FOR UPDATE SKIP LOCKED`` (rows another process is leasing at that moment
    are left to it, not waited for); SQLite has one writer, and the UPDATE re-checks that each
    row is still due. So the candidates query, with its scan and sort, runs once per round.
    """
    now = utcnow()
    lease_end = now + LEASE
    enabled = sa.select(webhooks.c.id).where(webhooks.c.enabled).scalar_subquery()
    candidates = (
        sa.select(webhook_deliveries.c.id)
        .where(_due(now), webhook_deliveries.c.webhook_id.in_(enabled))
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        .limit(limit)
    )
    with transaction(engine, writes=False) as conn:
        ids = list(conn.execute(candidates).scalars())
    if not ids:
        return []
    with transaction(engine, writes=True) as conn:
        still_due = sa.and_(webhook_deliveries.c.id.in_(ids), _due(now), webhook_deliveries.c.webhook_id.in_(enabled))
        if conn.dialect.name != "sqlite":
            locked = sa.select(webhook_deliveries.c.id).where(still_due).with_for_update(skip_locked=True)
            still_due = webhook_deliveries.c.id.in_(locked)
        leased = conn.execute(
            sa.update(webhook_deliveries).where(still_due).values(status="delivering", claimed_until=lease_end)
        ).rowcount
        if not leased:
            return []
        return as_rows(
            conn.execute(
                sa.select(webhook_deliveries, webhooks.c.url, webhooks.c.secret, webhooks.c.project_id)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(
                    webhook_deliveries.c.id.in_(ids),
                    webhook_deliveries.c.status == "delivering",
                    webhook_deliveries.c.claimed_until == lease_end,
                )
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


class Refused(Exception):
    """The target may not be contacted (it resolves to a non-public address) or does not resolve."""


class ResolveTimeout(Refused):
    """The name did not resolve in time: a slow or silent DNS server."""


def non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local (cloud metadata), multicast, reserved...: not a webhook target."""
    return not address.is_global or address.is_multicast


#: DNS lookups in flight at once in a process; more wait for a slot within their own deadline.
RESOLVERS = 4
_RESOLVER_SLOTS = threading.BoundedSemaphore(RESOLVERS)
AddrInfo = list[tuple[Any, ...]]


def _lookup(host: str, port: int, timeout: float) -> AddrInfo:
    """``socket.getaddrinfo`` with a deadline, so a resolver that does not answer cannot stall a caller.

    The C call cannot be cancelled: it runs in a daemon thread (which never holds up the
    process's exit), and one that overruns finishes there on its own, keeping its slot until
    then, so a hanging resolver ties up at most ``RESOLVERS`` threads, never the caller.
    """
    deadline = time.monotonic() + timeout
    late = ResolveTimeout(f"DNS lookup of host {host} timed out after {timeout:g} s")
    if not _RESOLVER_SLOTS.acquire(timeout=timeout):
        raise late
    answer: Future[AddrInfo] = Future()

    def run() -> None:
        try:
            answer.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            answer.set_exception(exc)
        finally:
            _RESOLVER_SLOTS.release()

    threading.Thread(target=run, name="craton-dns", daemon=True).start()
    try:
        return answer.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise late from None


def resolve(
    host: str, port: int, timeout: float = _DEFAULTS.webhooks_timeout_seconds
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` has now (a literal address is itself); ``Refused`` when it has none,
    ``ResolveTimeout`` when the lookup takes longer than ``timeout`` seconds."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = _lookup(host, port, timeout)
    except OSError as exc:
        raise Refused(f"host {host} does not resolve ({exc.strerror or exc})") from None
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not found:
        raise Refused(f"host {host} does not resolve")
    return list(dict.fromkeys(found))


def target(
    url: str, allow_private: bool, timeout: float = _DEFAULTS.webhooks_timeout_seconds
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Where to send: (URL, extra headers, request extensions), checked again at delivery time.

    The webhook's host was checked when its URL was set, but a name can resolve elsewhere
    later (DNS rebinding). Unless private targets are allowed, the name is resolved now (within
    ``timeout`` seconds), every address must be public, and the connection goes to the checked
    address: the URL names the address, ``Host`` the name, and TLS verifies the certificate for
    the name (SNI), so the address checked and the address connected to are the same.
    """
    if allow_private:
        return url, {}, {}
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port, timeout)
    bad = [address for address in addresses if non_public(address)]
    if bad:
        raise Refused(
            f"refused: host {host} resolves to the non-public address {bad[0]} "
            "(it changed since the webhook was saved?); private targets need [webhooks] allow_private_targets"
        )
    try:
        ipaddress.ip_address(host)
        return url, {}, {}  # a literal public address: nothing to pin
    except ValueError:
        return pin(url, addresses[0])


def pin(url: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` sent to ``address``: (the URL naming the address, ``Host``, the TLS server name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return pinned, {"Host": host_header}, {"sni_hostname": host}


def send(client: httpx.Client, delivery: Row, policy: Policy) -> tuple[int | None, str | None]:
    """POST one delivery; (response code, error or None when it was a 2xx)."""
    try:
        url, pinned_headers, extensions = target(delivery["url"], policy.allow_private_targets, policy.timeout_seconds)
    except Refused as exc:
        return None, str(exc)[:500]
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "craton-webhooks/1",
        "X-Craton-Event-Id": delivery["event_id"],
        "X-Craton-Event-Kind": delivery["event_kind"],
        "X-Craton-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(delivery["secret"], timestamp, body),
        **pinned_headers,
    }
    try:
        request = client.build_request("POST", url, content=body, headers=headers, extensions=extensions)
        response = client.send(request, stream=True)
        try:
            size, deadline = 0, time.monotonic() + policy.timeout_seconds
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > policy.max_response_bytes or time.monotonic() > deadline:
                    break  # the answer's body is not needed; stop reading a runaway or trickling one
        finally:
            response.close()
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"
    except httpx.TimeoutException:
        return None, f"timed out after {policy.timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


Outcome = tuple[Row, int | None, str | None]  # (delivery, response code, error or None)


def record(engine: sa.Engine, outcomes: list[Outcome], policy: Policy) -> None:
    """Store attempts' outcomes in one transaction: done, retry later, or failed (maybe disabling the webhook).

    Only rows still ``delivering`` are touched: a row whose lease ran out and that another
    process took over is that process's to record.
    """
    now = utcnow()
    d = webhook_deliveries.c
    delivering = d.status == "delivering"
    succeeded: dict[int, list[int]] = {}  # response code -> delivery ids
    for delivery, code, error in outcomes:
        if error is None:
            succeeded.setdefault(code or 200, []).append(delivery["id"])
    with transaction(engine, writes=True) as conn:
        for code, ids in succeeded.items():
            conn.execute(
                sa.update(webhook_deliveries)
                .where(d.id.in_(ids), delivering)
                .values(
                    status="succeeded",
                    delivered_at=now,
                    attempts=d.attempts + 1,
                    response_code=code,
                    last_error=None,
                    claimed_until=None,
                )
            )
        hooks_ok = sorted({delivery["webhook_id"] for delivery, _, error in outcomes if error is None})
        if hooks_ok:
            conn.execute(
                sa.update(webhooks)
                .where(webhooks.c.id.in_(hooks_ok), webhooks.c.consecutive_failures != 0)
                .values(consecutive_failures=0)
            )
        for delivery, code, error in outcomes:
            if error is not None:
                _record_failure(conn, delivery, code, error, policy, now)


def _record_failure(
    conn: sa.Connection, delivery: Row, code: int | None, error: str, policy: Policy, now: dt.datetime
) -> None:
    attempts = delivery["attempts"] + 1
    mine = sa.and_(webhook_deliveries.c.id == delivery["id"], webhook_deliveries.c.status == "delivering")
    outcome = {"attempts": attempts, "response_code": code, "last_error": error, "claimed_until": None}
    if attempts < policy.max_attempts:
        retry_at = now + dt.timedelta(seconds=policy.delay(attempts))
        conn.execute(
            sa.update(webhook_deliveries).where(mine).values(status="pending", next_attempt_at=retry_at, **outcome)
        )
        return
    failed = conn.execute(
        sa.update(webhook_deliveries).where(mine).values(status="failed", next_attempt_at=now, **outcome)
    ).rowcount
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
#: Deliveries of one batch in flight at once: a slow receiver holds up one sender, not the batch.
SENDERS = 8


@functools.cache
def _tls() -> ssl.SSLContext:
    """The certificate store, loaded once per process (loading it costs about 50 ms of CPU)."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _outcome(delivery: Row, attempt: Future[tuple[int | None, str | None]]) -> Outcome:
    try:
        code, error = attempt.result()
    except Exception as exc:  # noqa: BLE001 - a bug in one attempt must not strand the batch
        log.exception("webhook %s delivery %s: attempt crashed", delivery["webhook_id"], delivery["id"])
        code, error = None, f"internal error: {type(exc).__name__}"
    if error is not None:
        # The webhook and delivery ids and the error only: never the secret, signature or body.
        log.info("webhook %s delivery %s failed: %s", delivery["webhook_id"], delivery["id"], error)
    return delivery, code, error


def deliver_due(engine: sa.Engine, policy: Policy, limit: int = DELIVERY_BATCH) -> int:
    """One pass of the delivery job; returns how many deliveries were attempted.

    The batch's POSTs run ``SENDERS`` at a time; outcomes are recorded as they come in.
    """
    batch = claim(engine, limit)
    if not batch:
        return 0
    timeout = httpx.Timeout(policy.timeout_seconds)
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    with (
        httpx.Client(timeout=timeout, verify=_tls(), follow_redirects=False, trust_env=False, limits=limits) as client,
        ThreadPoolExecutor(min(SENDERS, len(batch)), thread_name_prefix="craton-webhook-send") as senders,
    ):
        sending = {senders.submit(send, client, delivery, policy): delivery for delivery in batch}
        waiting = set(sending)
        while waiting:
            # Whatever has finished by now is recorded together: one write transaction per wake-up.
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            record(engine, [_outcome(sending[future], future) for future in done], policy)
    return len(batch)


PRUNE_BATCH = 1000


def prune(engine: sa.Engine, policy: Policy, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` finished deliveries older than the retention; returns how many.

    A succeeded delivery counts from when it was delivered, a failed one from its last
    attempt; pending and in-flight rows are never pruned. Retention 0 keeps everything.
    """
    if policy.delivery_retention_days <= 0:
        return 0
    cutoff = utcnow() - dt.timedelta(days=policy.delivery_retention_days)
    d = webhook_deliveries.c
    old = sa.or_(
        sa.and_(d.status == "succeeded", d.delivered_at < cutoff),
        sa.and_(d.status == "failed", d.next_attempt_at < cutoff),
    )
    with transaction(engine, writes=True) as conn:
        ids = list(conn.execute(sa.select(d.id).where(old).order_by(d.id).limit(limit)).scalars())
        if ids:
            conn.execute(sa.delete(webhook_deliveries).where(d.id.in_(ids)))
    return len(ids)
