"""Webhooks: ``webhook-create/-list/-show/-update/-delete``, ``webhook-deliveries`` and
``webhook-redeliver``. Project admins only; the secret is printed by ``webhook-create`` alone."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from cratonclient.crud import MAX_PAGE_SIZE
from cratonclient.shell import cliutils
from cratonclient.shell.commands import (
    Arg,
    Command,
    Context,
    ListResult,
    MessageResult,
    ObjectResult,
    arg,
    collect,
)
from cratonclient.shell.errors import UsageError
from cratonclient.v1.webhooks import DELIVERY_STATES, EVENT_KINDS

FIELDS = ("id", "url", "events", "enabled", "consecutive_failures", "secret_hint")
DETAIL_FIELDS = (*FIELDS, "filters", "disabled_reason", "project_id", "created_at", "updated_at")
DELIVERY_FIELDS = ("id", "event_id", "event_kind", "status", "attempts", "response_code", "last_error")
DELIVERY_DETAIL_FIELDS = (*DELIVERY_FIELDS, "next_attempt_at", "created_at", "delivered_at")
#: The server's page of webhooks and deliveries when no --limit is given on a terminal.
DEFAULT_PAGE = 30

_ID = arg("id", type=int, metavar="<webhook>", help="ID of the webhook.")


def _ids(values: list[Any]) -> list[int]:
    return [int(value) for value in values]


#: Filter options: wire key -> the option that sets it (repeat it, or separate values with commas).
FILTER_OPTIONS: tuple[Arg, ...] = (
    arg(
        "--resource-type",
        dest="resource_types",
        action="append",
        metavar="TYPE",
        convert=cliutils.split_list,
        help="Only events about this kind of object, as events name it: host, network_device, cell, region, "
        "cloud, project, network, network_interface, user, or device (hosts and network devices); "
        "network-device is read as network_device.",
    ),
    arg(
        "--action",
        dest="actions",
        action="append",
        metavar="ACTION",
        convert=cliutils.split_list,
        help="Only changes with this action (create, update, delete, variables, labels...).",
    ),
    arg(
        "--key",
        dest="keys",
        action="append",
        metavar="KEY",
        convert=cliutils.split_list,
        help="Only events that change this top-level variable key.",
    ),
    arg(
        "--key-prefix",
        dest="key_prefixes",
        action="append",
        metavar="PREFIX",
        convert=cliutils.split_list,
        help="Only events that change a variable key starting with PREFIX.",
    ),
    arg(
        "--cell",
        dest="cell_ids",
        action="append",
        ref="cell",
        metavar="<cell>",
        convert=_ids,
        help="Only events about devices in this cell (name or id).",
    ),
    arg(
        "--region",
        dest="region_ids",
        action="append",
        ref="region",
        metavar="<region>",
        convert=_ids,
        help="Only events about devices in this region (name or id).",
    ),
    arg(
        "--label",
        dest="labels",
        action="append",
        metavar="LABEL",
        convert=cliutils.split_list,
        help="Only events about devices with this label.",
    ),
)
_EVENTS = arg(
    "--event",
    dest="events",
    action="append",
    choices=EVENT_KINDS,
    metavar="KIND",
    help=f"Event kinds to deliver: {', '.join(EVENT_KINDS)} (repeat for both; default both).",
)
_URL_HELP = "http(s) URL the events are POSTed to."


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return collect(FILTER_OPTIONS, args)


def _create(ctx: Context, args: argparse.Namespace) -> ObjectResult:
    generated = args.secret is None
    secret = secrets.token_urlsafe(32) if generated else args.secret
    created = ctx.client.webhooks.create(
        url=args.url,
        secret=secret,
        events=args.events,
        filters=_filters(args) or None,
        enabled=False if args.disabled else None,
        project_id=args.project_id,
    )
    source = "generated for it" if generated else "given"
    return ObjectResult(
        created.to_dict(),
        message=f"The secret ({source}) is shown only now: give it to the receiver to verify signatures.",
    )


def _update(ctx: Context, args: argparse.Namespace) -> ObjectResult:
    changes: dict[str, Any] = {}
    for name in ("url", "secret", "events"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    filters = _filters(args)
    if filters and args.no_filters:
        raise UsageError("--no-filters clears every filter; it cannot be combined with filter options")
    if filters or args.no_filters:
        changes["filters"] = filters
    if args.enabled is not None:
        changes["enabled"] = args.enabled
    if not changes:
        raise UsageError(
            "nothing to update: give --url, --secret, --event, --enable/--disable, filter options or --no-filters"
        )
    return ObjectResult(ctx.client.webhooks.update(args.id, **changes).to_dict())


def _show(ctx: Context, args: argparse.Namespace) -> ObjectResult:
    return ObjectResult(ctx.client.webhooks.get(args.id).to_dict())


def _delete(ctx: Context, args: argparse.Namespace) -> MessageResult:
    ctx.client.webhooks.delete(args.id)
    return MessageResult(f"Webhook {args.id} was deleted, with its delivery log.")


def _columns(args: argparse.Namespace, default: tuple[str, ...], every: tuple[str, ...], plural: str) -> list[str]:
    requested = cliutils.split_list(args.fields)
    if not requested:
        return list(every if args.detail else default)
    unknown = [name for name in requested if name not in every]
    if unknown:
        raise UsageError(f"invalid field {unknown[0]!r} for {plural}; choose from: {', '.join(every)}")
    return requested


def _page(ctx: Context, args: argparse.Namespace, lister: Any, plural: str, **query: Any) -> list[dict[str, Any]]:
    """Every page with --all (and by default when stdout is not a terminal), else one page."""
    everything = args.all or (args.limit is None and args.marker is None and not ctx.stdout_is_tty())
    limit = MAX_PAGE_SIZE if everything else args.limit or DEFAULT_PAGE
    listing = lister(autopaginate=everything, marker=args.marker, limit=limit, **query)
    items = [item.to_dict() for item in ctx.track(listing, plural, enabled=everything)]
    if listing.more:
        ctx.warn(
            f"Showing {len(items)} {plural}; more follow. "
            f"Next page: --marker {listing.next_marker} (with the same options), or --all for everything."
        )
    return items


def _list(ctx: Context, args: argparse.Namespace) -> ListResult:
    columns = _columns(args, FIELDS, DETAIL_FIELDS, "webhooks")
    return ListResult(_page(ctx, args, ctx.client.webhooks.list, "webhooks"), columns)


def _deliveries(ctx: Context, args: argparse.Namespace) -> ListResult:
    columns = _columns(args, DELIVERY_FIELDS, DELIVERY_DETAIL_FIELDS, "deliveries")
    manager = ctx.client.webhooks

    def lister(**options: Any) -> Any:
        return manager.deliveries(args.id, status=args.status, **options)

    return ListResult(_page(ctx, args, lister, "deliveries"), columns)


def _redeliver(ctx: Context, args: argparse.Namespace) -> ObjectResult:
    delivery = ctx.client.webhooks.redeliver(args.id, args.delivery_id)
    return ObjectResult(
        delivery.to_dict(),
        message=f"Delivery {args.delivery_id} is queued again with the same event id {delivery.event_id}.",
    )


def _paging(plural: str, every: tuple[str, ...]) -> tuple[Arg, ...]:
    return (
        arg(
            "--fields",
            nargs="+",
            action="extend",
            metavar="FIELD",
            help=f"Columns to show (space or comma separated). Available: {', '.join(every)}.",
        ),
        arg("--detail", action="store_true", help="Show every column."),
        arg(
            "--all",
            action="store_true",
            help="Fetch every page, not only the first (the default when stdout is not a terminal).",
        ),
        arg(
            "--limit",
            type=cliutils.positive_int,
            metavar="N",
            help=f"Show N {plural} (default {DEFAULT_PAGE} on a terminal).",
        ),
        arg("--marker", type=int, metavar="ID", help="Continue after this id (the last one of the previous page)."),
    )


_ENABLE = (
    arg("--enable", dest="enabled", action="store_const", const=True, help="Enable it (clears disabled_reason)."),
    arg("--disable", dest="enabled", action="store_const", const=False, help="Stop deliveries to it."),
)

COMMANDS = [
    Command(
        name="webhook-create",
        summary="Create a webhook; its secret is printed only this once.",
        handler=_create,
        arguments=(
            arg("--url", required=True, metavar="URL", help=_URL_HELP),
            arg(
                "--secret",
                metavar="SECRET",
                help="Secret that signs deliveries, at least 16 characters "
                "(default: a random one, printed with the webhook).",
            ),
            _EVENTS,
            *FILTER_OPTIONS,
            arg("--disabled", action="store_true", help="Create it disabled (no deliveries until enabled)."),
            arg(
                "-p",
                "--project",
                dest="project_id",
                ref="project",
                metavar="<project>",
                help="Project of the webhook, name or id (root only; default: your project).",
            ),
        ),
        description="Subscribe an http(s) URL to your project's events (POST /v1/webhooks). Filters "
        "given together must all match; the values of one filter are alternatives. The secret is "
        "shown in this command's output and never again (later reads show secret_hint).",
    ),
    Command(
        name="webhook-list",
        summary="List your project's webhooks.",
        handler=_list,
        arguments=_paging("webhooks", DETAIL_FIELDS),
    ),
    Command(
        name="webhook-show",
        summary="Show a webhook (without its secret).",
        handler=_show,
        arguments=(_ID,),
    ),
    Command(
        name="webhook-update",
        summary="Change a webhook; only the given options are sent.",
        handler=_update,
        arguments=(
            _ID,
            arg("--url", metavar="URL", help=_URL_HELP),
            arg("--secret", metavar="SECRET", help="A new secret (at least 16 characters), to rotate it."),
            _EVENTS,
            *FILTER_OPTIONS,
            arg("--no-filters", action="store_true", help="Remove every filter (deliver every event of the kinds)."),
            *_ENABLE,
        ),
        description="Change a webhook (PUT /v1/webhooks/<id>). Filter options replace the whole set "
        "of filters. --enable after the webhook was disabled for failing clears the reason and the "
        "failure count.",
    ),
    Command(
        name="webhook-delete",
        summary="Delete a webhook and its delivery log.",
        handler=_delete,
        arguments=(_ID,),
    ),
    Command(
        name="webhook-deliveries",
        summary="Show a webhook's delivery log, newest first.",
        handler=_deliveries,
        arguments=(
            _ID,
            arg("--status", choices=DELIVERY_STATES, help="Only deliveries in this state."),
            *_paging("deliveries", DELIVERY_DETAIL_FIELDS),
        ),
    ),
    Command(
        name="webhook-redeliver",
        summary="Queue a failed delivery again, with the same event id.",
        handler=_redeliver,
        arguments=(
            _ID,
            arg("delivery_id", type=int, metavar="<delivery>", help="ID of the failed delivery."),
        ),
        description="Queue a failed delivery again (POST /v1/webhooks/<id>/redeliver): it keeps its "
        "event id, so the receiver can tell it from a new event, and gets a fresh set of attempts.",
    ),
]
