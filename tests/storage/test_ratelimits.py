"""The shared token bucket (storage/ratelimits.py) on every backend, with a controlled clock."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from craton.storage.engine import create_engine
from craton.storage.ratelimits import take
from craton.storage.tables import rate_limits
from tests.conftest import BACKENDS, throwaway_database


@pytest.mark.parametrize("backend", BACKENDS)
def test_burst_then_limited_then_refilled(backend: str, tmp_path: Path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:

            def taken(bucket: str, now: float) -> float | None:
                with engine.begin() as conn:
                    return take(conn, bucket, rate=0.5, burst=3, now=now)

            assert [taken("a", 1000.0) for _ in range(3)] == [None, None, None]
            assert taken("a", 1000.0) == 0.0  # empty: nothing left, nothing taken
            assert taken("b", 1000.0) is None  # another key, another bucket
            assert taken("a", 1001.0) == pytest.approx(0.5)  # half a token after 1 s
            assert taken("a", 1002.0) is None  # a whole one after 2 s
            assert taken("a", 1002.0) == pytest.approx(0.0)
            assert [taken("a", 2000.0) for _ in range(4)][:3] == [None, None, None]  # refills to the burst only
            assert taken("a", 2000.0) == pytest.approx(0.0)
            assert taken("a", 1500.0) == pytest.approx(0.0)  # a clock behind the stamp refills nothing
            with engine.connect() as conn:
                assert sorted(conn.execute(sa.select(rate_limits.c.bucket)).scalars()) == ["a", "b"]
        finally:
            engine.dispose()
