"""Per-key rate limits, counted where every API process sees the same counters."""

from __future__ import annotations

import hashlib
import math
import time

import sqlalchemy as sa

from craton.domain.errors import CratonError
from craton.domain.principal import Principal
from craton.storage import ratelimits as store


class RateLimited(CratonError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests for this API key; retry after {retry_after} s.")
        self.headers = {"Retry-After": str(retry_after)}


def bucket_of(principal: Principal) -> str:
    """One bucket per API key (project and user); hashed to a fixed size."""
    return hashlib.sha256(f"{principal.project_id}\x00{principal.username}".encode()).hexdigest()


def take_token(conn: sa.Connection, principal: Principal, rate: float, burst: int) -> None:
    """Spend one of the caller's tokens, or raise :class:`RateLimited` with the seconds to wait."""
    _take(conn, bucket_of(principal), rate, burst)


# Failed sign-ins to the web UI per client address, project and user: 5 at once, then one every 12 s.
SIGN_IN_RATE = 1 / 12
SIGN_IN_BURST = 5


def _sign_in_bucket(client: str, project: str, username: str) -> str:
    return hashlib.sha256(f"sign-in\x00{client}\x00{project}\x00{username}".encode()).hexdigest()


def check_sign_in_allowed(conn: sa.Connection, client: str, project: str, username: str) -> None:
    """429 while too many sign-ins from this client for this user failed; spends nothing."""
    left = store.available(conn, _sign_in_bucket(client, project, username), SIGN_IN_RATE, SIGN_IN_BURST, time.time())
    if left < 1:
        raise RateLimited(max(1, math.ceil((1 - left) / SIGN_IN_RATE)))


def count_failed_sign_in(conn: sa.Connection, client: str, project: str, username: str) -> None:
    """Spend one attempt for a failed sign-in; run in its own transaction so that it stays spent."""
    _take(conn, _sign_in_bucket(client, project, username), SIGN_IN_RATE, SIGN_IN_BURST)


def _take(conn: sa.Connection, bucket: str, rate: float, burst: int) -> None:
    left = store.take(conn, bucket, rate, max(burst, 1), time.time())
    if left is not None:
        raise RateLimited(max(1, math.ceil((1 - left) / rate)))
