"""Token buckets in the database, so that every API process draws from the same one.

Taking a token is one conditional UPDATE that refills the bucket for the time
passed and takes a token only if one is there; the database's row lock makes it
atomic across processes. Only the first request of a key inserts its (full) bucket first.
"""

from __future__ import annotations

import sqlalchemy as sa

from craton.storage.inserts import insert_ignoring_duplicates
from craton.storage.tables import rate_limits


def take(conn: sa.Connection, bucket: str, rate: float, burst: int, now: float) -> float | None:
    """Take one token from ``bucket``; None if taken, else the tokens left (below 1)."""
    elapsed = sa.case((rate_limits.c.stamp < now, now - rate_limits.c.stamp), else_=0.0)
    refilled = rate_limits.c.tokens + elapsed * rate
    available = sa.case((refilled > burst, float(burst)), else_=refilled)
    # ``tokens`` first: MySQL evaluates SET clauses left to right, on the values already set.
    stmt = (
        sa.update(rate_limits)
        .where(rate_limits.c.bucket == bucket, available >= 1)
        .ordered_values((rate_limits.c.tokens, available - 1), (rate_limits.c.stamp, now))
    )
    for _ in range(3):
        if conn.execute(stmt).rowcount == 1:
            return None
        row = conn.execute(
            sa.select(rate_limits.c.tokens, rate_limits.c.stamp).where(rate_limits.c.bucket == bucket)
        ).first()
        if row is None:
            # A new key: a full bucket, from which the next pass takes this request's token.
            # Another process may insert it at the same moment: duplicates are ignored.
            conn.execute(
                insert_ignoring_duplicates(conn, rate_limits).values(bucket=bucket, tokens=float(burst), stamp=now)
            )
            continue
        left = float(min(burst, row.tokens + max(0.0, now - row.stamp) * rate))
        if left < 1:
            return left
        # The bucket appeared (committed by another process) between the two statements: again.
    return 0.0


def available(conn: sa.Connection, bucket: str, rate: float, burst: int, now: float) -> float:
    """The tokens ``bucket`` holds now, without taking one (a bucket never used is full)."""
    row = conn.execute(
        sa.select(rate_limits.c.tokens, rate_limits.c.stamp).where(rate_limits.c.bucket == bucket)
    ).first()
    if row is None:
        return float(burst)
    return float(min(burst, row.tokens + max(0.0, now - row.stamp) * rate))
