"""Rate limiting (token buckets).

:class:`SharedRateLimiter` limits API keys (off by default). Its buckets live in
the database (``rate_limits``), so every worker process and every API host on
the same database draws from the same bucket: with ``--workers N`` a key gets
the configured rate, not N times it.

The web UI's sign-in attempts draw from buckets in the same table
(:func:`craton.domain.ratelimits.take_sign_in_attempt`).
"""

from __future__ import annotations

import sqlalchemy as sa

from craton.domain.principal import Principal
from craton.domain.ratelimits import RateLimited, take_token

__all__ = ["RateLimited", "SharedRateLimiter"]


class SharedRateLimiter:
    """``rate`` requests per second per API key on average, bursts of up to ``burst``, for all processes."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)

    def check(self, conn: sa.Connection, principal: Principal) -> None:
        """Spend one of the caller's requests (in ``conn``'s transaction), or raise 429."""
        take_token(conn, principal, self.rate, self.burst)
