"""``effective-changes``: per device, what each change did to its resolved variables; optionally followed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from cratonclient.shell.commands import Command, Context, ListResult, StreamResult, arg
from cratonclient.shell.resources import ResourceSpec, column_args, list_columns
from cratonclient.shell.v1.changes_shell import FEED_PAGE_SIZE, MAX_FEED_PAGE_SIZE, _feed_limit, _seconds

EFFECTIVE_FIELDS = ("id", "occurred_at", "change_id", "device_type", "device_id", "device_name", "summary")
EFFECTIVE_DETAIL_FIELDS = ("cell_id", "region_id", "project_id", "added", "removed", "changed")
SPEC = ResourceSpec(
    name="effective-change",
    manager="effective_changes",
    fields=EFFECTIVE_FIELDS,
    detail_fields=EFFECTIVE_DETAIL_FIELDS,
    details=False,
    history=False,
)
FILTERS = ("device_id", "cell_id", "region_id", "label", "key")


def summary(record: dict[str, Any]) -> str:
    """What one device's record changed, in one line: ``+dns="x"; -old; ntp: "a" -> "b"``."""

    def text(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))

    parts = [f"+{key}={text(value)}" for key, value in sorted((record.get("added") or {}).items())]
    parts += [f"-{key}" for key in sorted(record.get("removed") or {})]
    parts += [
        f"{key}: {text(change.get('old'))} -> {text(change.get('new'))}"
        for key, change in sorted((record.get("changed") or {}).items())
    ]
    return "; ".join(parts)


def rows(records: Iterable[Any]) -> list[dict[str, Any]]:
    result = []
    for record in records:
        info = record.to_dict() if hasattr(record, "to_dict") else dict(record)
        result.append({**info, "summary": summary(info)})
    return result


def _effective_changes(ctx: Context, args: argparse.Namespace) -> ListResult | StreamResult:
    columns = list_columns(SPEC, args)  # validated before any request is sent
    feed = ctx.client.effective_changes
    filters = {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}
    if args.follow:
        pages = feed.pages(
            args.since,
            args.limit or MAX_FEED_PAGE_SIZE,
            follow=True,
            interval=args.interval,
            duration=args.duration,
            **filters,
        )
        return StreamResult((rows(page.effective_changes) for page in pages), columns)
    if args.all or (args.limit is None and not ctx.stdout_is_tty()):
        records = feed.list(args.since, MAX_FEED_PAGE_SIZE, **filters)
        return ListResult(rows(ctx.track(records, "effective changes")), columns)
    page = feed.page(args.since, args.limit, **filters)
    if len(page.effective_changes) >= (args.limit or FEED_PAGE_SIZE):
        ctx.warn(
            f"Showing {len(page.effective_changes)} effective changes; more may follow. "
            f"Next ones: --since {page.next_since}, or --all for everything."
        )
    return ListResult(rows(page.effective_changes), columns)


COMMANDS = [
    Command(
        name="effective-changes",
        summary="Show per device what each change did to its resolved variables, oldest first.",
        handler=_effective_changes,
        arguments=(
            arg(
                "--since",
                type=int,
                default=0,
                metavar="ID",
                help="Only records after record ID (default 0: from the first one).",
            ),
            arg("--device", dest="device_id", type=int, metavar="ID", help="Only this host or network device."),
            arg("--cell", dest="cell_id", type=int, metavar="ID", help="Only devices that were in this cell."),
            arg("--region", dest="region_id", type=int, metavar="ID", help="Only devices that were in this region."),
            arg("--label", metavar="LABEL", help="Only devices that carry this label now."),
            arg("--key", metavar="KEY", help="Only records that add, remove or change this variable key."),
            arg(
                "--limit",
                type=_feed_limit,
                metavar="N",
                help=f"Records per request (1 to {MAX_FEED_PAGE_SIZE}; default {FEED_PAGE_SIZE}).",
            ),
            arg(
                "--all",
                action="store_true",
                help="Fetch every record made so far, not only the first page (the default "
                "when stdout is not a terminal and --limit is not given).",
            ),
            arg(
                "--follow",
                action="store_true",
                help="Keep running: after the records made so far, show new ones as they are made (Ctrl-C stops).",
            ),
            arg(
                "--interval",
                type=_seconds,
                default=2.0,
                metavar="SECONDS",
                help="With --follow: how often to ask for new records (default 2).",
            ),
            arg(
                "--duration",
                type=_seconds,
                metavar="SECONDS",
                help="With --follow: stop after this long (default: run until interrupted).",
            ),
            *column_args(SPEC),
        ),
        description="Show the effective-change feed of your project (root: of every project): one "
        "record per device whose resolved variables a change altered, with the keys added, removed "
        "and changed and the id of the change (see 'craton changes') that caused it. --since ID "
        "continues after record ID.",
        epilog="With --follow, tables are printed batch by batch, --format json prints one JSON "
        "object per line (JSON Lines), yaml one document per record and csv one header, then rows.",
    )
]
