"""How fast queued webhook deliveries reach a real receiver (issue 15 §3).

A migrated database gets one project and one webhook pointing at a receiver on loopback (a
separate process, so its CPU is not counted: an HTTP/1.1 keep-alive server that answers 200 to
every POST). ``--events`` effective-change events are queued the way the event pump queues
them (``enqueue_deliveries``, 500 per transaction), then the delivery job
(``webhook_delivery.deliver_due``, batches of 50: one claim transaction, a signed POST and an
outcome transaction per delivery) runs until nothing is due. Printed: deliveries per second
(wall), this process's CPU time (the dispatcher's share: claims, signing, HTTP client,
outcomes; the database server's own CPU is not in it), the receiver's count, and the load
average.

    .venv/bin/python -m benchmarks.webhook_delivery --backends sqlite,postgresql --events 5000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.common import throwaway_database
from craton.domain.bootstrap import bootstrap
from craton.domain.webhook_delivery import Policy, deliver_due
from craton.domain.webhooks import enqueue_deliveries
from craton.storage import migrate
from craton.storage.engine import create_engine, transaction
from craton.storage.tables import webhook_deliveries, webhooks
from craton.storage.types import utcnow

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
}

RECEIVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count
        self.rfile.read(int(self.headers["Content-Length"]))
        count += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        body = str(count).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def effective(n: int) -> tuple[str, dict[str, Any]]:
    changed = {"ntp_server": {"old": f"10.0.0.{n % 250}", "new": f"10.0.1.{n % 250}"}}
    payload = {"id": n, "device_type": "host", "device_id": n, "device_name": f"host-{n}", "added": {}, "removed": {}}
    return "effective-change", {**payload, "changed": changed}


def measure(url: str, events: int, receiver_url: str) -> dict[str, float]:
    migrate.upgrade(url)
    engine = create_engine(url, pool_size=2, max_overflow=2)
    try:
        with transaction(engine, writes=True) as conn:
            project_id = bootstrap(conn).project_id
            conn.execute(
                sa.insert(webhooks).values(
                    project_id=project_id,
                    url=receiver_url,
                    secret="bench-secret-bench-secret",
                    events=["change", "effective-change"],
                    filters={},
                    enabled=True,
                    consecutive_failures=0,
                    created_at=utcnow(),
                )
            )
        queued = time.perf_counter()
        for start in range(0, events, 500):
            with transaction(engine, writes=True) as conn:
                enqueue_deliveries(conn, project_id, [effective(n) for n in range(start, min(events, start + 500))])
        queue_s = time.perf_counter() - queued
        policy = Policy(allow_private_targets=True, timeout_seconds=10)
        wall, cpu = time.perf_counter(), time.process_time()
        attempted = 0
        while done := deliver_due(engine, policy):
            attempted += done
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with engine.connect() as conn:
            succeeded = conn.execute(
                sa.select(sa.func.count()).where(webhook_deliveries.c.status == "succeeded")
            ).scalar_one()
        return {
            "queue_s": queue_s,
            "deliver_wall_s": wall,
            "deliver_cpu_s": cpu,
            "deliveries_per_s": attempted / wall,
            "cpu_ms_per_delivery": 1000 * cpu / attempted,
            "succeeded": succeeded,
            "loadavg_1min": float(Path("/proc/loadavg").read_text().split()[0]),
        }
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        receiver_url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}/hook"
        with tempfile.TemporaryDirectory() as work:
            for backend in args.backends.split(","):
                with throwaway_database(backend, Path(work), ADMIN_URLS.get(backend)) as url:
                    figures = measure(url, args.events, receiver_url)
                shown = ", ".join(
                    f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in figures.items()
                )
                print(f"{backend}: {args.events} webhook deliveries: {shown}", flush=True)
    finally:
        receiver.terminate()
        receiver.wait(10)


if __name__ == "__main__":
    main()
