"""``changes``: the project's change feed, read with a cursor, optionally followed."""

from __future__ import annotations

import argparse
import dataclasses

from cratonclient.shell import history as provenance
from cratonclient.shell.commands import Command, Context, ListResult, StreamResult, arg
from cratonclient.shell.resources import CHANGES, column_args, list_columns
from cratonclient.v1.client import kind_managers

#: The feed's answer by default, and the most the server sends at once.
FEED_PAGE_SIZE = 100
MAX_FEED_PAGE_SIZE = 1000
RESOURCE_TYPES = tuple(manager.key for manager in kind_managers().values())

#: Feed records are change records with the object they are about among the default columns.
FEED = dataclasses.replace(CHANGES, fields=provenance.FEED_FIELDS)


def _feed_limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_FEED_PAGE_SIZE:
        raise ValueError(text)
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


_feed_limit.__name__ = f"number from 1 to {MAX_FEED_PAGE_SIZE}"
_seconds.__name__ = "positive number of seconds"


def _changes(ctx: Context, args: argparse.Namespace) -> ListResult | StreamResult:
    columns = list_columns(FEED, args)  # validated before any request is sent
    feed = ctx.client.changes
    query = {"since": args.since, "resource_type": args.resource_type, "user": args.user}
    if args.follow:
        pages = feed.pages(
            limit=args.limit or MAX_FEED_PAGE_SIZE, follow=True, interval=args.interval, duration=args.duration, **query
        )
        return StreamResult((provenance.change_rows(page.changes) for page in pages), columns)
    if args.all or (args.limit is None and not ctx.stdout_is_tty()):
        records = feed.list(limit=MAX_FEED_PAGE_SIZE, **query)
        return ListResult(provenance.change_rows(ctx.track(records, "changes")), columns)
    page = feed.page(limit=args.limit, **query)
    if len(page.changes) >= (args.limit or FEED_PAGE_SIZE):
        ctx.warn(
            f"Showing {len(page.changes)} changes; more may follow. "
            f"Next ones: --since {page.next_since}, or --all for everything."
        )
    return ListResult(provenance.change_rows(page.changes), columns)


COMMANDS = [
    Command(
        name="changes",
        summary="Show the change feed: every recorded change in your project, oldest first.",
        handler=_changes,
        arguments=(
            arg(
                "--since",
                type=int,
                default=0,
                metavar="ID",
                help="Only changes after change ID (default 0: from the first one).",
            ),
            arg(
                "--resource-type",
                choices=RESOURCE_TYPES,
                type=lambda text: text.replace("-", "_"),
                metavar="TYPE",
                help=f"Only changes of this kind of object: {', '.join(RESOURCE_TYPES)}.",
            ),
            arg("--user", metavar="USERNAME", help="Only changes made by this user."),
            arg(
                "--limit",
                type=_feed_limit,
                metavar="N",
                help=f"Changes per request (1 to {MAX_FEED_PAGE_SIZE}; default {FEED_PAGE_SIZE}).",
            ),
            arg(
                "--all",
                action="store_true",
                help="Fetch every change recorded so far, not only the first page (the default "
                "when stdout is not a terminal and --limit is not given).",
            ),
            arg(
                "--follow",
                action="store_true",
                help="Keep running: after the changes recorded so far, show new ones as they are made.",
            ),
            arg(
                "--interval",
                type=_seconds,
                default=2.0,
                metavar="SECONDS",
                help="With --follow: how often to ask for new changes (default 2).",
            ),
            arg(
                "--duration",
                type=_seconds,
                metavar="SECONDS",
                help="With --follow: stop after this long (default: run until interrupted).",
            ),
            *column_args(FEED),
        ),
        description="Show the change feed of your project (root: of every project), oldest first. "
        "Each change has an id; --since ID continues after it, so a script can remember the last "
        "id it saw and ask only for what is new.",
        epilog="With --follow, tables are printed batch by batch, --format json prints one JSON "
        "object per line (JSON Lines), yaml one document per change and csv one header, then rows.",
    )
]
