"""Options several resources share, declared once so their flags and help never drift."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cratonclient.shell import cliutils
from cratonclient.shell.commands import NULL, Arg, arg


def join_vars(groups: Sequence[Sequence[str]]) -> str:
    """``--vars a:1 --vars b:2`` and ``--vars a:1 b:2`` both become ``a:1,b:2`` (AND)."""
    return ",".join(token for group in groups for token in group)


def name_filter(plural: str) -> Arg:
    return arg("-n", "--name", metavar="NAME", help=f"Only {plural} with exactly this name.")


def vars_filter(plural: str) -> Arg:
    return arg(
        "--vars",
        nargs="+",
        action="append",
        metavar="KEY:VALUE",
        convert=join_vars,
        help=f"Only {plural} whose variable KEY (a path such as os.release) has the JSON VALUE, "
        "e.g. --vars 'zone:\"east\"' --vars rack:12. Several conditions must all hold.",
    )


def cloud_option(help_text: str, required: bool = False) -> Arg:
    return arg("--cloud", dest="cloud_id", ref="cloud", metavar="<cloud>", required=required, help=help_text)


def region_option(help_text: str, required: bool = False) -> Arg:
    return arg("-r", "--region", dest="region_id", ref="region", metavar="<region>", required=required, help=help_text)


def cell_option(help_text: str, required: bool = False) -> Arg:
    # -c is also --column; main.ColumnAction reads "-c <number>" as the original --cell.
    text = f"{help_text} (-c N, with a number, also works, as in the original tool.)"
    return arg("--cell", dest="cell_id", ref="cell", metavar="<cell>", required=required, help=text)


def label_filter(plural: str) -> Arg:
    """``--label a --label b`` and ``--label a,b``: objects that have all of these labels."""
    return arg(
        "--label",
        action="append",
        metavar="LABEL",
        convert=cliutils.split_list,
        help=f"Only {plural} with this label; repeat it (or separate with commas) for {plural} that have all of them.",
    )


def note_option(what: str) -> Arg:
    return arg("--note", metavar="NOTE", help=f"Free-text note about the {what}.")


def name_option(what: str, required: bool = False) -> Arg:
    return arg("-n", "--name", metavar="NAME", required=required, help=f"Name of the {what}.")


def ip_option(what: str, required: bool = False) -> Arg:
    # --ip_address is the original spelling; --ip-address matches the other options.
    return arg(
        "-i",
        "--ip_address",
        "--ip-address",
        dest="ip_address",
        metavar="ADDRESS",
        required=required,
        help=f"IP address of the {what}.",
    )


def device_type_option(required: bool = False) -> Arg:
    return arg(
        "-t",
        "--type",
        dest="device_type",
        metavar="TYPE",
        required=required,
        help="Device type, free text (server, container, switch...).",
    )


def active_option(default: bool | None = None) -> Arg:
    return arg(
        "-a",
        "--active",
        type=cliutils.parse_bool,
        default=default,
        metavar="BOOL",
        help="Whether the device is in service (true/false)" + (" (default true)." if default else "."),
    )


def labels_option(help_text: str = "Labels of the device (space or comma separated).") -> Arg:
    return arg(
        "-l",
        "--labels",
        nargs="+",
        action="extend",
        metavar="LABEL",
        convert=cliutils.split_list,
        help=help_text,
    )


def add_labels(manager: Any, device_id: Any, labels: list[str]) -> object:
    """``-l`` on an update adds labels through the labels route (PUT on the device has none)."""
    return manager.labels(device_id).update(*labels)


def parent_options(update: bool = False) -> tuple[Arg, ...]:
    parent = arg(
        "--parent", dest="parent_id", ref="device", metavar="<device>", help="Parent device (host or network device)."
    )
    if not update:
        return (parent,)
    detach = arg(
        "--no-parent",
        dest="parent_id",
        action="store_const",
        const=NULL,
        help="Detach the device from its parent.",
    )
    return (parent, detach)


_LEVELS: dict[str, Callable[..., Arg]] = {}  # filled below, once the option factories exist


def placement_filters(plural: str, *levels: str) -> tuple[Arg, ...]:
    """``--cloud``/``-r``/``-c`` list filters: "Only hosts of this region."."""
    return tuple(_LEVELS[level](f"Only {plural} of this {level}.") for level in levels)


#: What a level's option can be left out for: it follows from a lower level's option.
_IMPLIED_BY = {"cloud": "--region or --cell", "region": "--cell"}


def placement_options(what: str, required: Sequence[str], optional: Sequence[str] = ()) -> tuple[Arg, ...]:
    """Where a new object goes: ``--cloud``/``-r``/``--cell`` options.

    A level that a lower one implies (the cloud of a region, the region of a cell) is optional
    on the command line even when the object needs it: ``placement_defaults`` fills it in.
    """
    levels = (*required, *optional)
    result = []
    for level in levels:
        implied = _IMPLIED_BY.get(level) if any(lower in levels for lower in _lower(level)) else None
        text = f"The {level} the {what} belongs to (name or id)."
        if implied and level in required:
            text += f" Default: the {level} of {implied}."
        result.append(_LEVELS[level](text, required=level in required and not implied))
    return tuple(result)


def _lower(level: str) -> tuple[str, ...]:
    return {"cloud": ("region", "cell"), "region": ("cell",)}.get(level, ())


def placement_defaults(what: str, required: Sequence[str]) -> Callable[[Any, dict[str, Any]], None]:
    """For ``ResourceSpec.complete_create``: fill the levels the given ones imply, then insist
    on the required ones."""

    def complete(ctx: Any, fields: dict[str, Any]) -> None:
        from cratonclient.shell import names  # the resolver needs the client; import late
        from cratonclient.shell.errors import UsageError

        names.fill_placement(ctx.resolver or names.Resolver(ctx), fields, required)
        missing = [level for level in required if fields.get(f"{level}_id") is None]
        if missing:
            level = missing[0]
            hint = f" (or {_IMPLIED_BY[level]})" if level in _IMPLIED_BY else ""
            flag = "-r/--region" if level == "region" else f"--{level}"
            raise UsageError(f"a {what} needs a {level}: give {flag}{hint}")

    return complete


def moving_options(what: str, *levels: str) -> tuple[Arg, ...]:
    """``--region``/``--cell`` of ``*-update``: move the object within its cloud."""
    options = []
    for level in levels:
        if level == "cloud":
            text = f"Accepted as the original tool did; a {what} cannot leave its cloud."
        else:
            text = f"Move the {what} to this {level} (name or id) of its cloud."
        options.append(_LEVELS[level](text))
        if level == "cell":
            options.append(
                arg(
                    "--no-cell",
                    dest="cell_id",
                    action="store_const",
                    const=NULL,
                    help=f"Take the {what} out of its cell (it stays in its region, or in --region).",
                )
            )
    return tuple(options)


def with_children_option(what: str) -> Arg:
    return arg(
        "--with-children",
        action="store_true",
        default=None,
        help=f"With --region/--cell: move the devices below the {what} along with it "
        "(without it, a move that would separate a device from its parent or children is refused).",
    )


def device_filters(plural: str) -> tuple[Arg, ...]:
    """The list filters hosts and network devices share."""
    return (
        *placement_filters(plural, "region", "cloud", "cell"),
        name_filter(plural),
        arg("--device-type", metavar="TYPE", help=f"Only {plural} of this device type."),
        arg("--ip", dest="ip_address", metavar="ADDRESS", help=f"Only {plural} with this IP address."),
        label_filter(plural),
    )


def device_create_options(what: str) -> tuple[Arg, ...]:
    """What every device needs on creation: name, address, placement, type, parent."""
    return (
        name_option(what, required=True),
        ip_option(what, required=True),
        *placement_options(what, required=("region", "cloud"), optional=("cell",)),
        device_type_option(required=True),
        *parent_options(),
    )


def device_update_options(what: str) -> tuple[Arg, ...]:
    """What every device can change through ``PUT``, plus labels through their own route."""
    return (
        name_option(what),
        ip_option(what),
        device_type_option(),
        *parent_options(update=True),
        labels_option("Labels to add (space or comma separated); others are kept."),
    )


def detail_columns(*fields: str) -> tuple[str, ...]:
    """The timestamps, project and variables columns every resource adds with --detail."""
    return fields + ("created_at", "updated_at", "project_id", "variables")


_LEVELS.update(region=region_option, cloud=cloud_option, cell=cell_option)
