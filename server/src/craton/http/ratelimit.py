"""Per-credential rate limiting (token bucket), off by default.

Each API process keeps its own buckets, so with N worker processes a caller
can reach up to N times the configured rate; size the limit accordingly.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from craton.domain.errors import CratonError
from craton.domain.principal import Principal

MAX_TRACKED = 100_000


class RateLimited(CratonError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests for this API key; retry after {retry_after} s.")
        self.headers = {"Retry-After": str(retry_after)}


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
