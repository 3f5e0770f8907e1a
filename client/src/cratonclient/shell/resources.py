"""One generic implementation of the per-resource commands.

Each resource module in ``shell/v1`` declares a :class:`ResourceSpec` (its fields, filters and
create/update options); :func:`resource_commands` turns it into ``<name>-list``, ``-show``,
``-create``, ``-update``, ``-delete``, the ``-vars-*`` and ``-labels-*`` commands and
``-history``. Behaviour shared by every resource (paging, sorting, columns, variables from
stdin, blame and point-in-time views) therefore lives here once and cannot drift between
resources.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cratonclient import exceptions
from cratonclient.crud import MAX_PAGE_SIZE, MIN_PAGE_SIZE
from cratonclient.shell import cliutils
from cratonclient.shell import history as provenance
from cratonclient.shell import preview as impact_preview
from cratonclient.shell.commands import (
    Arg,
    Command,
    Context,
    Handler,
    ListResult,
    MessageResult,
    ObjectResult,
    PreviewResult,
    ValuesResult,
    VariablesResult,
    arg,
    collect,
)
from cratonclient.shell.errors import UsageError

#: The server's page size when no --limit is given.
DEFAULT_PAGE_SIZE = 30


@dataclass(frozen=True)
class ResourceSpec:
    """Everything the generic commands need to know about one kind of resource."""

    #: Command prefix, e.g. ``network-device``.
    name: str
    #: Attribute of ``cratonclient.v1.client.Client`` holding the manager.
    manager: str
    #: Columns of ``-list``; ``detail_fields`` are added with ``--detail``.
    fields: tuple[str, ...]
    detail_fields: tuple[str, ...] = ()
    #: Type of ids on the command line: ``int``, or ``str`` for project UUIDs.
    id_type: Callable[[str], Any] = int
    filters: tuple[Arg, ...] = ()
    #: Options of ``-create`` and ``-update``; ``None`` when the API has no such operation.
    create: tuple[Arg, ...] | None = None
    update: tuple[Arg, ...] | None = None
    #: Whether the list endpoint takes ``details=true`` (adds each item's variables).
    details: bool = True
    variables: bool = False
    labels: bool = False
    #: ``/clouds?name=`` and ``/regions?name=`` answer 404 when nothing matches; a list
    #: command should show an empty list instead.
    filter_miss_is_404: bool = False
    #: Plural for messages, when not simply ``<name>s``.
    plural_name: str | None = None
    #: Values ``-create`` sends unless an option overrides them, e.g. the caller's project.
    create_defaults: Callable[[Context], dict[str, Any]] | None = None
    #: Printed after a successful create, e.g. to say an API key is shown only once.
    create_message: str | None = None
    #: Completes (and checks) a create's fields after names are resolved, e.g. the cloud of
    #: the given region: ``function(ctx, fields)``, changing ``fields`` in place.
    complete_create: Callable[[Context, dict[str, Any]], None] | None = None
    #: Update options the API changes through another route than ``PUT`` (labels):
    #: wire key -> ``function(manager, id, value)``, called after the ``PUT``.
    update_extras: Mapping[str, Callable[[Any, Any, Any], object]] = field(default_factory=dict)
    #: Whether the server keeps this resource's change history (``<name>-history``).
    history: bool = True

    @property
    def title(self) -> str:
        """Human name, ``network device``."""
        return self.name.replace("-", " ")

    @property
    def plural(self) -> str:
        return self.plural_name or f"{self.title}s"

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.fields + tuple(f for f in self.detail_fields if f not in self.fields)

    @property
    def metavar(self) -> str:
        return f"<{self.name}>"

    @property
    def ref(self) -> str:
        """The reference kind of this resource's ids (see ``shell.names``): ``network_device``."""
        return self.name.replace("-", "_")


def resource_commands(spec: ResourceSpec) -> list[Command]:
    """All the commands the API supports for ``spec``'s resource, in help order."""
    commands = [list_command(spec), _show_command(spec)]
    if spec.create is not None:
        commands.append(_create_command(spec))
    if spec.update is not None:
        commands.append(_update_command(spec))
    commands.append(_delete_command(spec))
    if spec.variables:
        commands.extend(_variables_commands(spec))
    if spec.labels:
        commands.extend(_label_commands(spec))
    if spec.history:
        commands.append(_history_command(spec))
    return commands


def manager_of(ctx: Context, spec: ResourceSpec) -> Any:
    return getattr(ctx.client, spec.manager)


def _id_arg(spec: ResourceSpec) -> Arg:
    what = "username" if spec.name == "user" else "name"
    return arg("id", metavar=spec.metavar, ref=spec.ref, help=f"ID or {what} of the {spec.title}.")


def item_command(
    spec: ResourceSpec, verb: str, summary: str, handler: Handler, *arguments: Arg, **extra: Any
) -> Command:
    """``<name>-<verb> <id> ...``: a command about one existing object."""
    return Command(
        name=f"{spec.name}-{verb}",
        summary=summary,
        handler=handler,
        arguments=(_id_arg(spec), *arguments),
        **extra,
    )


# --- lists -----------------------------------------------------------------------------------


def column_args(spec: ResourceSpec) -> tuple[Arg, ...]:
    """``--fields`` and ``--detail``: which columns a list shows."""
    fields = ", ".join(spec.all_fields)
    return (
        arg(
            "--fields",
            nargs="+",
            action="extend",
            metavar="FIELD",
            help=f"Columns to show (space or comma separated). Available: {fields}.",
        ),
        arg(
            "--detail",
            action="store_true",
            help="Show every column" + (", and ask the server for each item's variables." if spec.details else "."),
        ),
    )


def paging_args(spec: ResourceSpec) -> tuple[Arg, ...]:
    """The options every list command shares: columns, paging and sorting."""
    args = [
        *column_args(spec),
        arg(
            "--all",
            action="store_true",
            help="Fetch every page, not only the first (the default when stdout is not a terminal).",
        ),
        arg(
            "--limit",
            type=cliutils.positive_int,
            metavar="N",
            help=f"Show N {spec.plural} (one page; any N: the CLI asks the server for pages of "
            f"{MIN_PAGE_SIZE} to {MAX_PAGE_SIZE} as needed). Default: {DEFAULT_PAGE_SIZE} on a terminal.",
        ),
        arg(
            "--marker",
            type=spec.id_type,
            metavar=f"<{spec.name}>",
            help=f"Start after the {spec.title} with this ID (the last one of the previous page).",
        ),
        arg(
            "--sort-key",
            metavar="FIELD",
            help="Sort by these fields (comma separated), on the server; default creation order.",
        ),
        arg("--sort-dir", choices=("asc", "desc"), help="Sort direction (default asc)."),
    ]
    return tuple(args)


def list_command(spec: ResourceSpec) -> Command:
    blames = spec.variables and spec.details

    def handler(ctx: Context, args: argparse.Namespace) -> ListResult:
        filters = collect((*spec.filters, name_contains), args)
        if blames and args.blame is not None:
            if args.fields or args.detail:
                raise UsageError("--blame shows its own columns; it cannot be combined with --fields or --detail")
            items = fetch_list(ctx, spec, args, {**filters, "details": True, "blame": True})
            rows = provenance.blame_list_rows(items, args.blame)
            return ListResult(rows, provenance.BLAME_LIST_FIELDS, display=provenance.blame_display)
        columns = list_columns(spec, args)  # validated before any request is sent
        return ListResult(fetch_list(ctx, spec, args, filters), columns)

    name_contains = arg(
        "--name-contains",
        metavar="TEXT",
        help=f"Only {spec.plural} whose name contains TEXT, ignoring case (--name is exact).",
    )
    blame = arg(
        "--blame",
        metavar="KEY",
        help=f"Instead of the {spec.plural}' fields, show where each one's value of variable KEY "
        "comes from: the level that sets it, who set it and when, and what it overrides.",
    )
    return Command(
        name=f"{spec.name}-list",
        summary=f"List {spec.plural}.",
        handler=handler,
        arguments=(*spec.filters, name_contains, *paging_args(spec), *((blame,) if blames else ())),
        description=f"List {spec.plural}. On a terminal one page is shown ({DEFAULT_PAGE_SIZE}, or "
        "--limit N); piped or redirected, every page is fetched unless --limit or --marker asks "
        "for one. When a page leaves more behind, stderr says so after the list.",
    )


def list_columns(spec: ResourceSpec, args: argparse.Namespace) -> list[str]:
    """The table columns: ``--fields`` if given, all of them with ``--detail``, else the defaults."""
    requested = cliutils.split_list(args.fields)
    if not requested:
        return list(spec.all_fields if args.detail else spec.fields)
    unknown = [name for name in requested if name not in spec.all_fields]
    if unknown:
        raise UsageError(f"invalid field {unknown[0]!r} for {spec.plural}; choose from: {', '.join(spec.all_fields)}")
    return requested


def fetch_list(
    ctx: Context,
    spec: ResourceSpec,
    args: argparse.Namespace,
    filters: dict[str, Any],
    lister: Callable[..., Any] | None = None,
) -> list[dict[str, Any]]:
    """Fetch what a list shows, with the paging and sorting options.

    Every page with ``--all``, and by default when stdout is not a terminal (a script reading
    the output gets all of it); otherwise one page of ``--limit`` items (the server's page
    size by default). When a page leaves items behind, a warning says so on stderr after the
    output, naming the ``--marker`` of the next page. ``lister`` is the library call that
    pages (default: the manager's ``list``).
    """
    params = dict(filters)
    if args.detail and spec.details:
        params["details"] = True
    if args.sort_key:
        params["sort_keys"] = _sort_keys(spec, args.sort_key)
    if args.sort_dir:
        params["sort_dir"] = args.sort_dir
    everything = args.all or (args.limit is None and args.marker is None and not ctx.stdout_is_tty())
    lister = lister or manager_of(ctx, spec).list
    listing = lister(
        autopaginate=everything, marker=args.marker, limit=MAX_PAGE_SIZE if everything else args.limit, **params
    )
    try:
        items = [resource.to_dict() for resource in ctx.track(listing, spec.plural, enabled=everything)]
    except exceptions.NotFound:
        if spec.filter_miss_is_404 and ("name" in params or "id" in params):
            return []
        raise
    if getattr(listing, "more", False):
        marker = getattr(listing, "next_marker", None)
        ctx.warn(
            f"Showing {len(items)} {spec.plural if len(items) != 1 else spec.title}; more follow. "
            f"Next page: --marker {marker} (with the same options), or --all for everything."
        )
    return items


def _sort_keys(spec: ResourceSpec, text: str) -> str:
    keys = [key.strip().lower() for key in text.replace(" ", ",").split(",") if key.strip()]
    unknown = [key for key in keys if key not in spec.all_fields]
    if unknown or not keys:
        raise UsageError(f"invalid sort key {text!r} for {spec.plural}; choose from: {', '.join(spec.all_fields)}")
    return ",".join(keys)


# --- single objects --------------------------------------------------------------------------


def _show_command(spec: ResourceSpec) -> Command:
    def handler(ctx: Context, args: argparse.Namespace) -> ObjectResult:
        return ObjectResult(manager_of(ctx, spec).get(args.id).to_dict())

    return item_command(spec, "show", f"Show the details of a {spec.title}.", handler)


def _create_command(spec: ResourceSpec) -> Command:
    assert spec.create is not None
    options = spec.create

    def handler(ctx: Context, args: argparse.Namespace) -> ObjectResult:
        fields = spec.create_defaults(ctx) if spec.create_defaults else {}
        fields.update(collect(options, args))
        if spec.complete_create is not None:
            spec.complete_create(ctx, fields)
        created = manager_of(ctx, spec).create(**fields)
        return ObjectResult(created.to_dict(), message=spec.create_message)

    return Command(
        name=f"{spec.name}-create",
        summary=f"Create a {spec.title}.",
        handler=handler,
        arguments=options,
    )


def _update_command(spec: ResourceSpec) -> Command:
    assert spec.update is not None
    options = spec.update

    previewed = spec.name in REACHES_DEVICES

    def handler(ctx: Context, args: argparse.Namespace) -> ObjectResult | PreviewResult:
        changes = collect(options, args)
        with_children = changes.pop("with_children", None)
        extras = {key: changes.pop(key) for key in list(changes) if key in spec.update_extras}
        if not changes and not extras:
            flags = ", ".join(max(option.flags, key=len) for option in options if option.dest != "with_children")
            raise UsageError(f"nothing to update: give at least one of {flags}")
        if with_children and "cell_id" not in changes and "region_id" not in changes:
            raise UsageError("--with-children goes with a move: give --region or --cell too")
        manager = manager_of(ctx, spec)
        moving = {"with_children": True} if with_children else {}
        if previewed and args.preview:
            if not changes:
                raise UsageError("nothing to preview: labels take no part in variables; give a field to change")
            return impact_preview.result(ctx, lambda: manager.update_preview(args.id, **changes, **moving))
        updated = manager.update(args.id, **changes, **moving) if changes else None
        for key, value in extras.items():
            spec.update_extras[key](manager, args.id, value)
        if updated is None or extras:
            updated = manager.get(args.id)  # show the object as it now is, extras included
        return ObjectResult(updated.to_dict())

    flags = (impact_preview.option("the change (a move, most often)"),) if previewed else ()
    return item_command(
        spec, "update", f"Change a {spec.title}; only the given options are sent.", handler, *options, *flags
    )


#: The kinds a delete preview counts, in the order a sentence names them: (key, one, several).
_DELETED_KINDS = (
    ("projects", "project", "projects"),
    ("clouds", "cloud", "clouds"),
    ("regions", "region", "regions"),
    ("cells", "cell", "cells"),
    ("hosts", "host", "hosts"),
    ("network_devices", "network device", "network devices"),
    ("networks", "network", "networks"),
    ("network_interfaces", "interface", "interfaces"),
)
#: Resources whose delete the server can preview (the others have nothing below them).
PREVIEWED = frozenset({"project", "cloud", "region", "cell", "host", "network-device", "network", "network-interface"})
#: Resources whose writes can change devices' resolved variables: their writes take --preview
#: (and a delete's preview lists the devices it removes).
REACHES_DEVICES = frozenset({"project", "cloud", "region", "cell", "host", "network-device"})


def below(spec: ResourceSpec, counts: Mapping[str, int]) -> dict[str, int]:
    """The preview's counts without the object itself: what goes with it."""
    own = spec.name.replace("-", "_") + "s"
    return {key: int(n) - (1 if key == own else 0) for key, n in counts.items() if int(n) - (key == own) > 0}


def counts_text(counts: Mapping[str, int]) -> str:
    """``1 cell, 13 hosts, 1 network device, 1 network, 4 interfaces``."""
    names = {key: (one, several) for key, one, several in _DELETED_KINDS}
    order = [key for key in names if counts.get(key)] + [key for key in counts if key not in names and counts[key]]
    parts = []
    for key in order:
        one, several = names.get(key, (key.replace("_", " "),) * 2)
        parts.append(f"{counts[key]} {one if counts[key] == 1 else several}")
    return ", ".join(parts)


def _delete_command(spec: ResourceSpec) -> Command:
    previewed = spec.name in PREVIEWED

    def sentence_of(subject: str, counts: Mapping[str, int]) -> str:
        extra = below(spec, counts)
        return f"deletes {subject}" + (f" and {counts_text(extra)} below it" if extra else ", nothing below it")

    def handler(ctx: Context, args: argparse.Namespace) -> MessageResult | ObjectResult | PreviewResult:
        manager = manager_of(ctx, spec)
        subject = f"{spec.title} {args.id}"
        if not previewed or args.yes and not args.preview:
            manager.delete(args.id)
            return MessageResult(f"{subject.capitalize()} was deleted.")
        if args.preview and spec.name in REACHES_DEVICES:
            return impact_preview.result(
                ctx,
                lambda: manager.delete_preview(args.id),
                lambda impact: sentence_of(subject, impact.deleted),
            )
        counts = manager.delete(args.id, preview=True)
        extra = below(spec, counts)
        sentence = sentence_of(subject, counts)
        if args.preview:
            return ObjectResult(dict(counts), message=f"Preview: {sentence}. Nothing was deleted.")
        if extra and not args.yes:
            if not ctx.stdin_is_tty():
                raise UsageError(
                    f"refusing to delete without confirmation: this {sentence}. "
                    "Give --yes to delete, or --preview to see what would go"
                )
            answer = ctx.ask(f"This {sentence}. Delete? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise exceptions.CommandError(f"Not deleted: {subject} and everything below it are unchanged.")
        manager.delete(args.id)
        tail = f", with {counts_text(extra)}" if extra else ""
        return MessageResult(f"{subject.capitalize()} was deleted{tail}.")

    options: tuple[Arg, ...] = ()
    description = f"Delete a {spec.title}."
    if previewed:
        options = (
            arg("-y", "--yes", action="store_true", help="Delete without asking, whatever is below the object."),
            arg(
                "--preview",
                action="store_true",
                help="Delete nothing: show what the delete would remove"
                + (
                    " (a table of the devices that would go, then the counts per kind)."
                    if spec.name in REACHES_DEVICES
                    else " (how many objects of each kind)."
                ),
            ),
        )
        shows = "the devices that would go and the counts" if spec.name in REACHES_DEVICES else "the counts only"
        description = (
            f"Delete a {spec.title} and everything below it. When that is more than the "
            f'{spec.title} itself, the command first says what would go ("deletes region 2 and '
            '1 cell, 13 hosts ... below it") and asks for confirmation on a terminal; without a '
            f"terminal it refuses (exit 2) unless --yes is given. --preview shows {shows}."
        )
    return item_command(spec, "delete", f"Delete a {spec.title}.", handler, *options, description=description)


# --- variables -------------------------------------------------------------------------------

_STDIN_HELP = (
    "When no {what} are given and stdin is not a terminal, a JSON {shape} is read from stdin, "
    "e.g. echo '{example}' | craton {command} 7"
)


def _variables_commands(spec: ResourceSpec) -> list[Command]:
    def variables_of(ctx: Context, args: argparse.Namespace) -> Any:
        # The resource is fetched first, as the original did: a missing id is a clear 404.
        return manager_of(ctx, spec).get(args.id).variables

    def past_variables_of(ctx: Context, args: argparse.Namespace) -> Any:
        """For --as-of and --diff-from: not fetched, so an object deleted since (by a cascade
        too) is read from its records; the server says when it has none."""
        manager = manager_of(ctx, spec)
        return manager.resource_class(manager, {"id": args.id}, loaded=False).variables

    def get_handler(ctx: Context, args: argparse.Namespace) -> VariablesResult | ListResult:
        _check_point_in_time(args)
        past = args.as_of is not None or args.diff_from is not None
        manager = past_variables_of(ctx, args) if past else variables_of(ctx, args)
        if args.diff_from is not None:
            until = provenance.resolve_time(ctx, args.diff_to) if args.diff_to is not None else None
            diff = manager.diff(provenance.resolve_time(ctx, args.diff_from), until, resolved=args.resolved)
            return ListResult(
                provenance.diff_rows(diff),
                provenance.DIFF_FIELDS,
                display=provenance.diff_display,
                message=provenance.diff_message(diff),
            )
        if args.blame:
            when = None if args.as_of is None else provenance.resolve_time(ctx, args.as_of)
            blamed = manager.get(resolved=args.resolved, blame=True, as_of=when)
            rows = provenance.blame_rows(blamed.blame)
            return ListResult(rows, provenance.BLAME_FIELDS, display=provenance.blame_display)
        if args.as_of is not None:
            then = manager.get(resolved=args.resolved, as_of=provenance.resolve_time(ctx, args.as_of))
            return VariablesResult(then.to_dict(), message=f"As of {then.as_of}:")
        return VariablesResult(manager.get(resolved=args.resolved).to_dict())

    previewed = spec.name in REACHES_DEVICES

    def previewing(args: argparse.Namespace) -> bool:
        return previewed and bool(args.preview)

    def set_handler(ctx: Context, args: argparse.Namespace) -> VariablesResult | PreviewResult:
        if args.variables:
            updates, deletions = cliutils.parse_assignments(args.variables)
        else:
            updates = _stdin_json(ctx, dict, "a JSON object of variables", "nothing to update")
            deletions = []
        manager = variables_of(ctx, args)
        if previewing(args):
            if updates and deletions:
                raise UsageError("--preview shows one write: give KEY=VALUE (set) or KEY= (delete) arguments, not both")
            if deletions:
                return impact_preview.result(ctx, lambda: manager.delete(*deletions, preview=True))
            return impact_preview.result(ctx, lambda: manager.update(updates, preview=True))
        if deletions:
            manager.delete(*deletions)
        if updates:
            return VariablesResult(manager.update(updates).to_dict())
        return VariablesResult(manager.get(resolved=False).to_dict())

    def delete_handler(ctx: Context, args: argparse.Namespace) -> MessageResult | PreviewResult:
        if args.keys:
            keys = list(args.keys)
        else:
            keys = _stdin_json(ctx, list, "a JSON array of variable names", "nothing to delete")
            if not all(isinstance(key, str) for key in keys):
                raise UsageError("stdin must hold a JSON array of strings (variable names)")
        manager = variables_of(ctx, args)
        if previewing(args):
            return impact_preview.result(ctx, lambda: manager.delete(*keys, preview=True))
        manager.delete(*keys)
        return MessageResult(f"Deleted variables of {spec.title} {args.id}: {', '.join(keys)}")

    def mask_handler(ctx: Context, args: argparse.Namespace) -> ValuesResult | PreviewResult:
        manager = variables_of(ctx, args)
        if previewing(args):
            return impact_preview.result(ctx, lambda: manager.mask(*args.keys, preview=True))
        return ValuesResult("mask", manager.mask(*args.keys))

    def unmask_handler(ctx: Context, args: argparse.Namespace) -> MessageResult | PreviewResult:
        manager = variables_of(ctx, args)
        if previewing(args):
            return impact_preview.result(ctx, lambda: manager.unmask(*args.keys, preview=True))
        manager.unmask(*args.keys)
        return MessageResult(f"Unmasked variables of {spec.title} {args.id}: {', '.join(args.keys)}")

    flag: tuple[Arg, ...] = (impact_preview.option(),) if previewed else ()

    resolved_help = (
        "Show the resolved variables: each key along the hierarchy (device, parents, cell, "
        "region, cloud, project), the nearest definition winning unless the project declares "
        "another merge strategy for the key (see project-merge-strategies-get)."
    )
    return [
        item_command(
            spec,
            "vars-get",
            f"Show the variables of a {spec.title}.",
            get_handler,
            arg("--resolved", action="store_true", default=None, help=resolved_help),
            arg(
                "--no-resolved",
                dest="resolved",
                action="store_false",
                default=None,
                help="Show only the variables set on the object itself.",
            ),
            arg(
                "--blame",
                action="store_true",
                help="Show where each value comes from: the level that sets it, who set it and "
                "when, the values it overrides on farther levels and, for merged keys, each level's "
                "contribution. With --as-of: as it was then (also for an object deleted since).",
            ),
            arg("--as-of", metavar="TIME", type=provenance.time_arg, help="Show the variables as they were at TIME."),
            arg(
                "--diff-from",
                metavar="TIME",
                type=provenance.time_arg,
                help="Show what changed between TIME and --diff-to (default: now).",
            ),
            arg("--diff-to", metavar="TIME", type=provenance.time_arg, help="End of the --diff-from period."),
            description=f"Show the variables of a {spec.title}. Without --resolved or "
            "--no-resolved the server's default applies (hosts and network devices: resolved; "
            "others: their own).",
            epilog=provenance.TIME_HELP,
        ),
        item_command(
            spec,
            "vars-set",
            f"Set variables of a {spec.title}.",
            set_handler,
            arg(
                "variables",
                nargs="*",
                metavar="KEY=VALUE",
                help="Variables to set. Values become numbers, booleans or null when they look "
                'like one; quote them ("7") to keep a string. KEY= deletes KEY.',
            ),
            *flag,
            epilog=_STDIN_HELP.format(
                what="KEY=VALUE arguments", shape="object", example='{"a": 1}', command=f"{spec.name}-vars-set"
            ),
        ),
        item_command(
            spec,
            "vars-delete",
            f"Delete variables of a {spec.title}.",
            delete_handler,
            arg("keys", nargs="*", metavar="KEY", help="Variables to delete."),
            *flag,
            epilog=_STDIN_HELP.format(
                what="keys", shape="array of names", example='["a", "b"]', command=f"{spec.name}-vars-delete"
            ),
        ),
        item_command(
            spec,
            "vars-mask",
            f"Stop a {spec.title} from inheriting variables.",
            mask_handler,
            arg("keys", nargs="+", metavar="KEY", help="Variables not to inherit from the levels above."),
            *flag,
            description=f"Mask variable keys on a {spec.title}: values set on the levels above it "
            "no longer reach it or anything below it; its own value, and values set below it, "
            "still count. Shows every key the object masks.",
        ),
        item_command(
            spec,
            "vars-unmask",
            f"Let a {spec.title} inherit masked variables again.",
            unmask_handler,
            arg("keys", nargs="+", metavar="KEY", help="Masked variables to inherit again."),
            *flag,
        ),
    ]


def _check_point_in_time(args: argparse.Namespace) -> None:
    """--blame (now, or with --as-of then), --as-of and --diff-from are different views: one at a time."""
    given = {"--blame": args.blame, "--as-of": args.as_of is not None and not args.blame}
    given["--diff-from"] = args.diff_from is not None
    chosen = [flag for flag, present in given.items() if present]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be combined; choose one")
    if args.diff_to is not None and args.diff_from is None:
        raise UsageError("--diff-to needs --diff-from")


def _stdin_json(ctx: Context, expected: type, what: str, nothing: str) -> Any:
    """Read the command's input from stdin; refuse when a person would have to type it."""
    if ctx.stdin_is_tty():
        raise UsageError(f"{nothing}: give arguments, or pipe {what} on stdin")
    text = ctx.stdin.read()
    if not text.strip():
        raise UsageError(f"{nothing}: stdin was empty; expected {what}")
    value = cliutils.load_json(text, expected, what)
    if not value:
        raise UsageError(f"{nothing}: stdin holds an empty {type(value).__name__}")
    return value


# --- labels ----------------------------------------------------------------------------------


def _label_commands(spec: ResourceSpec) -> list[Command]:
    def labels_of(ctx: Context, args: argparse.Namespace) -> Any:
        return manager_of(ctx, spec).labels(args.id)

    def get_handler(ctx: Context, args: argparse.Namespace) -> ValuesResult:
        return ValuesResult("label", sorted(labels_of(ctx, args).get()))

    def add_handler(ctx: Context, args: argparse.Namespace) -> ValuesResult:
        labels = labels_of(ctx, args).update(*cliutils.split_list(args.labels))
        return ValuesResult("label", sorted(labels))

    def delete_handler(ctx: Context, args: argparse.Namespace) -> MessageResult:
        labels = cliutils.split_list(args.labels)
        labels_of(ctx, args).delete(*labels)
        return MessageResult(f"Removed labels of {spec.title} {args.id}: {', '.join(labels)}")

    labels_arg = arg("labels", nargs="+", metavar="LABEL", help="Labels (space or comma separated).")
    return [
        item_command(spec, "labels-get", f"Show the labels of a {spec.title}.", get_handler),
        item_command(
            spec,
            "labels-add",
            f"Add labels to a {spec.title} (its other labels are kept).",
            add_handler,
            labels_arg,
        ),
        item_command(spec, "labels-delete", f"Remove labels from a {spec.title}.", delete_handler, labels_arg),
    ]


# --- history -----------------------------------------------------------------------------------

#: Change records, described like a resource so they share the list machinery (columns, pages).
CHANGES = ResourceSpec(
    name="change",
    manager="changes",
    fields=provenance.CHANGE_FIELDS,
    detail_fields=provenance.CHANGE_DETAIL_FIELDS,
    details=False,
    history=False,
)


def _history_command(spec: ResourceSpec) -> Command:
    def handler(ctx: Context, args: argparse.Namespace) -> ListResult:
        columns = list_columns(CHANGES, args)

        def lister(**options: Any) -> Any:
            return manager_of(ctx, spec).history(args.id, **options)

        records = fetch_list(ctx, CHANGES, args, {}, lister=lister)
        return ListResult(provenance.change_rows(records), columns)

    return item_command(
        spec,
        "history",
        f"Show the change history of a {spec.title}.",
        handler,
        *paging_args(CHANGES),
        description=f"Show every recorded change of a {spec.title}, oldest first: who made it, "
        "when, why (--reason) and what it changed. Works after the object was deleted.",
    )
