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
    return arg("--cloud", dest="cloud_id", type=int, metavar="<cloud>", required=required, help=help_text)


def region_option(help_text: str, required: bool = False) -> Arg:
    return arg("-r", "--region", dest="region_id", type=int, metavar="<region>", required=required, help=help_text)


def cell_option(help_text: str, required: bool = False) -> Arg:
    return arg("-c", "--cell", dest="cell_id", type=int, metavar="<cell>", required=required, help=help_text)


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
    parent = arg("--parent", dest="parent_id", type=int, metavar="<device>", help="ID of the parent device.")
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


def placement_options(what: str, required: Sequence[str], optional: Sequence[str] = ()) -> tuple[Arg, ...]:
    """Where a new object goes: required and optional ``--cloud``/``-r``/``-c`` options."""
    return tuple(
        _LEVELS[level](f"ID of the {level} the {what} belongs to.", required=level in required)
        for level in (*required, *optional)
    )


def moving_options(what: str, *levels: str) -> tuple[Arg, ...]:
    """Placement options of the original ``*-update`` commands.

    Kept so the original command lines still parse; the API does not move objects and
    answers 400, which the help says.
    """
    text = f"Accepted for compatibility; the server refuses to move a {what}."
    return tuple(_LEVELS[level](text) for level in levels)


def device_filters(plural: str) -> tuple[Arg, ...]:
    """The list filters hosts and network devices share."""
    return (
        *placement_filters(plural, "region", "cloud", "cell"),
        name_filter(plural),
        arg("--device-type", metavar="TYPE", help=f"Only {plural} of this device type."),
        arg("--ip", dest="ip_address", metavar="ADDRESS", help=f"Only {plural} with this IP address."),
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
