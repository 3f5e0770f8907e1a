"""benchmarks/load.py at a tiny size: 2 workers on PostgreSQL, a mixed load for a few seconds, zero errors.

The full-size run (60 s, 16 connections, 500 hosts) is `benchmarks/load.py`; its figures are in
docs/performance.md ("Load"). This guards the script and the service's behaviour under a
realistic mix: reads, resolved reads, lists and concurrent variable writes never fail.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.load import run
from tests.conftest import throwaway_database


def test_a_short_mixed_load_on_two_workers_has_no_errors(tmp_path: Path) -> None:
    with throwaway_database("postgresql", tmp_path) as url:
        summary = run(url, workers=2, duration=3, warmup=0.5, concurrency=8, hosts=24, log_path=tmp_path / "api.log")
    assert summary["server_survived"]
    assert summary["errors"] == 0, summary["error_kinds"]
    assert summary["requests"] >= 50, summary
    assert set(summary["per_operation"]) == {
        "get_host",
        "host_variables",
        "get_cell",
        "list_hosts",
        "list_devices",
        "put_variables",
    }
    assert 0 < summary["p50_ms"] <= summary["p90_ms"] <= summary["p99_ms"]
    log = (tmp_path / "api.log").read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 200 :][:2000]
