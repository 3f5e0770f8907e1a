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


# Sign-ins to the web UI per client address, project and user: 5 at once, then one every 12 s.
SIGN_IN_RATE = 1 / 12
SIGN_IN_BURST = 5


def take_sign_in_attempt(conn: sa.Connection, client: str, project_id: str, username: str) -> None:
    """Spend one sign-in attempt; commit it on its own, so a failed attempt still counts."""
    bucket = hashlib.sha256(f"sign-in\x00{client}\x00{project_id}\x00{username}".encode()).hexdigest()
    _take(conn, bucket, SIGN_IN_RATE, SIGN_IN_BURST)


def _take(conn: sa.Connection, bucket: str, rate: float, burst: int) -> None:
    left = store.take(conn, bucket, rate, max(burst, 1), time.time())
    if left is not None:
        raise RateLimited(max(1, math.ceil((1 - left) / rate)))
