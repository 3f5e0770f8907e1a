"""``craton-events``: run the background jobs (event pump, webhook delivery and pruning) outside the API server.

Useful with ``[events] enabled = false`` and ``[webhooks] dispatch = false`` on the API servers,
or beside them: the pump's lease lets one process at a time pump, and each delivery is claimed
by one process, so extra runners are harmless. The jobs are ``runner.jobs(settings)``, the same
list the API server's thread runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from craton.cmd.common import add_common_options, configure_logging, settings_from
from craton.domain.events import runner
from craton.storage.engine import create_engine


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="craton-events", description="Run Craton's event pump and other background jobs.")
    add_common_options(p)
    p.add_argument("--interval", type=float, help="seconds between rounds (default 1; env CRATON_EVENTS_INTERVAL)")
    p.add_argument("--once", action="store_true", help="run one round until no backlog is left, then exit")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    settings = settings_from(args, p, events_interval=args.interval)
    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=2)
    try:
        chosen = runner.jobs(settings)
        if args.once:
            while runner.run_round(engine, chosen):
                pass
            return 0
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        runner.run_forever(engine, settings.events_interval, stop, chosen)
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
