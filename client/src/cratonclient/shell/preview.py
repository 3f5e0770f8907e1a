"""``--preview`` on the write commands: what the write would do to devices' resolved variables.

The server runs the real write in a transaction it rolls back (``?preview=true``) and answers
with the devices whose resolved variables would change; these commands show them as a table
(type, id, name, and the keys added, removed and changed; a delete adds a ``deleted`` column)
followed by a summary line, ``3 devices affected; nothing was written.`` Machine formats
(``-f json``/``yaml``) print the server's whole answer instead: ``devices_affected``, every
device with its values (``changed``: ``{key: {"old": ..., "new": ...}}``) and, for a delete,
the ``deleted`` counts. On a terminal one page of devices is fetched; piped or redirected,
every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cratonclient.impact import Impact
from cratonclient.shell.commands import Arg, Context, PreviewResult, arg

#: Devices per request when every page is fetched (the server's most).
PAGE_SIZE = 100
#: Keys shown per cell before the rest is counted.
SHOWN_KEYS = 5

FIELDS = ("type", "id", "name", "added", "removed", "changed")
DELETE_FIELDS = ("type", "id", "name", "deleted", "added", "removed", "changed")


def option(what: str = "the write") -> Arg:
    """The ``--preview`` flag of a write command."""
    return arg(
        "--preview",
        action="store_true",
        help=f"Write nothing: show which devices' resolved variables {what} would change "
        "(added, removed and changed keys) and how many devices that is.",
    )


def keys_text(values: Mapping[str, Any] | None) -> str:
    """``a, b, c`` (sorted), at most :data:`SHOWN_KEYS` of them and how many more."""
    keys = sorted(values or {})
    shown = ", ".join(keys[:SHOWN_KEYS])
    return shown + (f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")


def display(row: Mapping[str, Any]) -> dict[str, Any]:
    shown = {**row, **{part: keys_text(row.get(part)) for part in ("added", "removed", "changed")}}
    if "deleted" in row:
        shown["deleted"] = "yes" if row["deleted"] else ""
    return shown


def affected_text(count: int) -> str:
    return f"{count} device{'' if count == 1 else 's'} affected"


def result(ctx: Context, ask: Callable[[], Impact], deletes: Callable[[Impact], str] | None = None) -> PreviewResult:
    """Ask the server (``ask()``) and shape its answer; ``deletes`` says what a delete removes.

    Piped or redirected, every page is fetched (the following pages 100 devices at a time); on
    a terminal, the first page, with a note after the table when more devices are affected.
    """
    everything = not ctx.stdout_is_tty()
    impact = ask()
    devices = list(impact.all_devices(page_size=PAGE_SIZE)) if everything else list(impact.devices)
    if len(devices) < impact.devices_affected:
        ctx.warn(
            f"Showing {len(devices)} of {impact.devices_affected} affected devices; "
            "redirect or pipe the output for all of them."
        )
    summary = f"{affected_text(impact.devices_affected)}; nothing was written."
    if deletes is not None:
        summary = f"Preview: {deletes(impact)}; {summary}"
    document = {**impact.to_dict(), "devices": devices}
    fields = DELETE_FIELDS if deletes is not None else FIELDS
    rows = [{field: device.get(field) for field in fields} for device in devices]
    return PreviewResult(rows, fields, summary, document, display)
