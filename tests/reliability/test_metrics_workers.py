"""Prometheus multiprocess files of dead workers (issue #19, item 15).

With ``PROMETHEUS_MULTIPROC_DIR`` every worker writes its gauges to files named after its pid. A
worker killed by SIGKILL or the OOM killer never removes its own, so ``craton_db_pool_size`` (a
``livesum`` gauge) kept counting it: 30 with two live workers of 10 connections each. Now
``craton-api`` empties the directory at start and the gauges of dead workers are dropped
(prometheus_client's ``mark_process_dead``) when a worker starts and before each scrape.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx

from benchmarks.load import ServerProcess
from tests.conftest import throwaway_database

POOL_SIZE = re.compile(r"^craton_db_pool_size (\S+)$", re.M)


def live_gauge_pids(directory: Path) -> set[int]:
    return {int(m.group(1)) for p in directory.iterdir() if (m := re.match(r"gauge_live\w*?_(\d+)\.db$", p.name))}


def scrape(url: str) -> float:
    # a new connection each time, so that the kernel hands scrapes to both workers
    text = httpx.get(url + "/metrics", headers={"connection": "close"}, timeout=10).text
    match = POOL_SIZE.search(text)
    assert match, text[-1500:]
    return float(match.group(1))


def scrape_until(url: str, expected: float, deadline: float = 30) -> float:
    """Scrape until ``craton_db_pool_size`` reads ``expected`` (a new worker needs a moment)."""
    end = time.monotonic() + deadline
    while (value := scrape(url)) != expected and time.monotonic() < end:
        time.sleep(0.1)
    return value


def test_the_pool_gauges_count_only_living_workers(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    stale = directory / "gauge_livesum_4194000.db"  # left by an earlier run: cleared at start
    stale.write_bytes(b"\0" * 16)
    with throwaway_database("sqlite", tmp_path) as url:
        env = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
        with ServerProcess(url, workers=2, log_path=tmp_path / "api.log", env=env) as server:
            assert not stale.exists(), "craton-api empties the multiprocess directory at start"
            first = set(server.worker_pids())
            per_worker = 5  # SQLite's default QueuePool; every worker reports its pool from the start
            assert scrape_until(server.url, 2 * per_worker) == 2 * per_worker
            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while len(set(server.worker_pids()) - first) < 1:  # the supervisor replaces it
                assert time.monotonic() < deadline, "the killed worker was not replaced"
                time.sleep(0.1)
            living = set(server.worker_pids())
            assert victim not in living and len(living) == 2
            value = scrape_until(server.url, 2 * per_worker)
            assert value == 2 * per_worker, f"craton_db_pool_size {value} with 2 living workers of {per_worker}"
            assert victim not in live_gauge_pids(directory), "the dead worker's gauges are gone"
        assert "Traceback" not in server.output(), server.output()[-2000:]
