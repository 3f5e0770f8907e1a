"""What the shared rate limiter costs a request: median latency with it off and on.

    python benchmarks/ratelimit.py [--backends sqlite,postgresql,mariadb] [--requests 300]

Serves a fresh database with one ``craton-api`` worker, once without a limit and once with a
limit too high to reach, and times sequential ``GET /v1/clouds`` on one keep-alive connection.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import throwaway_database  # noqa: E402
from benchmarks.load import ServerProcess, bootstrap_credentials  # noqa: E402
from craton.storage import migrate  # noqa: E402

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def median_ms(url: str, env: dict[str, str], requests: int, work: Path) -> float:
    headers = bootstrap_credentials(url)
    with ServerProcess(url, workers=1, log_path=work / "api.log", env=env) as server:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for _ in range(30):
                client.get("/v1/clouds").raise_for_status()
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get("/v1/clouds").raise_for_status()
                times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        work = Path(tempfile.mkdtemp(prefix="craton-ratelimit-"))
        figures = []
        for env in (
            {"CRATON_ACCESS_LOG": "false"},
            {"CRATON_ACCESS_LOG": "false", "CRATON_RATE_LIMIT": "100000", "CRATON_RATE_LIMIT_BURST": "1000000"},
        ):
            with throwaway_database(backend, work, ADMIN_URLS.get(backend)) as url:
                migrate.upgrade(url)
                figures.append(median_ms(url, env, args.requests, work))
        print(f"{backend}: median {figures[0]:.1f} ms without the limiter, {figures[1]:.1f} ms with it")


if __name__ == "__main__":
    main()
