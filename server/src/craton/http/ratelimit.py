"""Rate limiting (token buckets).

:class:`SharedRateLimiter` limits API keys (off by default). Its buckets live in
the database (``rate_limits``), so every worker process and every API host on
the same database draws from the same bucket: with ``--workers N`` a key gets
the configured rate, not N times it.

:class:`RateLimiter` keeps buckets in the process's memory; the web UI uses it to
slow down failed sign-ins, where a per-process bound is enough.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

import sqlalchemy as sa

from craton.domain.principal import Principal
from craton.domain.ratelimits import RateLimited, take_token

__all__ = ["RateLimited", "RateLimiter", "SharedRateLimiter"]

MAX_TRACKED = 100_000


class SharedRateLimiter:
    """``rate`` requests per second per API key on average, bursts of up to ``burst``, for all processes."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)

    def check(self, conn: sa.Connection, principal: Principal) -> None:
        """Spend one of the caller's requests (in ``conn``'s transaction), or raise 429."""
        take_token(conn, principal, self.rate, self.burst)


class RateLimiter:
    """``rate`` requests per second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, principal: Principal) -> None:
        self.check_key((principal.project_id, principal.username))

    def blocked(self, key: tuple[str, str]) -> None:
        """Raise 429 if ``key`` has no request left, without spending one (failed sign-ins)."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < 1:
            raise RateLimited(max(1, math.ceil((1 - tokens) / self.rate)))

    def check_key(self, key: tuple[str, str]) -> None:
        """Spend one request of ``key``'s bucket, or raise 429."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / self.rate)))
            self._buckets[key] = (tokens - 1, now)
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
