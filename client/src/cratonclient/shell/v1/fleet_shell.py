"""``export`` and ``import``: the whole fleet (or one cloud, region or cell) as one document keyed by names."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from cratonclient import exceptions
from cratonclient.shell.commands import (
    BytesResult,
    Command,
    Context,
    DocumentResult,
    ListResult,
    arg,
)
from cratonclient.shell.errors import UsageError
from cratonclient.v1.fleet import IMPORT_MODES, MEDIA_TYPES, SUFFIXES

#: Files smaller than this upload too fast for a progress bar to help.
PROGRESS_MIN_BYTES = 1024 * 1024
COUNT_KINDS = ("clouds", "regions", "cells", "hosts", "network_devices", "networks", "network_interfaces")
COUNT_COLUMNS = ("kind", "created", "updated", "deleted", "unchanged")


def _export(ctx: Context, args: argparse.Namespace) -> BytesResult:
    # The document is copied from the server to stdout as it arrives: never held whole.
    output = {"default": "json", "table": "json"}.get(args.format, args.format)
    if output not in ("json", "yaml"):
        raise UsageError(f"--format {args.format}: the fleet document is written as json or yaml")
    return BytesResult(
        ctx.client.fleet.export_stream(output, cloud_id=args.cloud, region_id=args.region, cell_id=args.cell)
    )


class UploadProgress:
    """On a terminal's stderr: a bar while the file is sent, then a line until the server answers.

    ``__call__(sent, total)`` is the client's ``progress`` callback; when the last byte is
    sent, a thread keeps a "the server is importing" line with the seconds waited up to date.
    """

    BAR = 30

    def __init__(self, stream: IO[str], name: str) -> None:
        self.stream = stream
        self.name = name
        self.shown = False
        self._drawn_at = 0.0
        self._done = threading.Event()
        self._waiter: threading.Thread | None = None

    def __call__(self, sent: int, total: int | None) -> None:
        if total is not None and sent >= total:
            self._uploaded(sent)
            return
        now = time.monotonic()
        if (total is not None and total < PROGRESS_MIN_BYTES) or now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        if total:
            filled = self.BAR * sent // total
            bar = "#" * filled + "." * (self.BAR - filled)
            self._draw(f"Uploading {self.name} [{bar}] {100 * sent // total:3d}% {_size(sent)} of {_size(total)}")
        else:
            self._draw(f"Uploading {self.name}: {_size(sent)}")

    def _uploaded(self, size: int) -> None:
        if self._waiter is not None:
            return
        started = time.monotonic()

        def wait() -> None:
            spinner = "|/-\\"
            turn = 0
            while not self._done.wait(0.2):
                waited = time.monotonic() - started
                if waited >= 0.5:
                    self._draw(f"Sent {_size(size)}; the server is importing {spinner[turn % 4]} {waited:.0f} s")
                    turn += 1

        self._waiter = threading.Thread(target=wait, name="craton-import-progress", daemon=True)
        self._waiter.start()

    def _draw(self, text: str) -> None:
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        self._done.set()
        if self._waiter is not None:
            self._waiter.join()
        if self.shown:
            self.stream.write("\r\033[K")  # the line goes: the answer follows on a clean line
            self.stream.flush()
            self.shown = False


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


def _source(ctx: Context, args: argparse.Namespace) -> tuple[Any, str, str]:
    """What to upload, its format and the name progress shows."""
    if args.file == "-":
        if args.input_format is None:
            raise UsageError("reading the document from stdin needs --input-format json, yaml or csv")
        stdin = getattr(ctx.stdin, "buffer", None) or getattr(sys.stdin, "buffer", None)
        if stdin is None:
            raise UsageError("stdin cannot be read as bytes")
        return stdin, args.input_format, "stdin"
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {args.file}")
    found = args.input_format or SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path.name} from its suffix: give --input-format json, yaml or csv"
        )
    return path, found, path.name


def _confirm_sync(ctx: Context, args: argparse.Namespace) -> None:
    if args.mode != "sync" or args.confirm or args.dry_run:
        return
    sentence = f"sync deletes every object of the project that {args.file} does not mention"
    if not ctx.stdin_is_tty() or args.file == "-":
        raise UsageError(
            f"refusing to sync without confirmation: {sentence}. "
            "Give --confirm to go on, or --dry-run to see the counts only"
        )
    answer = ctx.ask(f"A {sentence}. Import? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise exceptions.CommandError("Not imported: the project is unchanged.")


def _import(ctx: Context, args: argparse.Namespace) -> ListResult | DocumentResult:
    document, input_format, name = _source(ctx, args)
    _confirm_sync(ctx, args)
    progress = UploadProgress(ctx.stderr, name) if ctx.stderr_is_tty() else None
    try:
        counts = ctx.client.fleet.import_(
            document,
            mode=args.mode,
            dry_run=args.dry_run,
            # A dry run writes nothing, so a sync may be tried without --confirm.
            confirm=args.confirm or (args.mode == "sync" and args.dry_run),
            format=input_format,
            progress=progress,
        )
    except exceptions.BadRequest as error:
        if progress is not None:
            progress.close()
        # One line per problem, then main's "ERROR: <summary>" line and exit status 1.
        for problem in error.errors:
            print(f"{problem['where'] or '/'}: {problem['message']}", file=ctx.stderr)
        raise
    finally:
        if progress is not None:
            progress.close()
    if args.format not in ("default", "table"):
        return DocumentResult(counts)
    rows = [
        {"kind": kind, **{column: counts.get(column, {}).get(kind, 0) for column in COUNT_COLUMNS[1:]}}
        for kind in COUNT_KINDS
    ]
    done = "Dry run: nothing was written; the import would do this" if counts.get("dry_run") else "Imported"
    return ListResult(rows, COUNT_COLUMNS, message=f"{done} (mode {counts.get('mode', args.mode)}):")


COMMANDS = [
    Command(
        name="export",
        summary="Print the project's fleet as one document (JSON; --format yaml for YAML).",
        handler=_export,
        arguments=(
            arg("--cloud", metavar="CLOUD_ID", type=int, help="Export only this cloud."),
            arg("--region", metavar="REGION_ID", type=int, help="Export only this region."),
            arg("--cell", metavar="CELL_ID", type=int, help="Export only this cell."),
        ),
        description="Print clouds, regions, cells, networks and devices with their labels, "
        "variables and masks, keyed by names (docs/import-export.md), as the server sends it: "
        "the document is never held whole, whatever the size of the fleet. "
        "craton export --format yaml > fleet.yaml saves it for editing.",
    ),
    Command(
        name="import",
        summary="Import a fleet document (JSON or YAML) or a CSV host list into the project.",
        handler=_import,
        arguments=(
            arg("file", metavar="FILE", help="The document: .json, .yaml/.yml or .csv ('-': stdin)."),
            arg(
                "--mode",
                choices=IMPORT_MODES,
                default="upsert",
                help="upsert (default): create what is new, update what exists; create: only new "
                "objects; sync: also delete what the document does not mention (asks, or --confirm).",
            ),
            arg("--dry-run", action="store_true", help="Check and count, write nothing."),
            arg("--confirm", action="store_true", help="Go on with --mode sync without asking."),
            arg(
                "--input-format",
                choices=tuple(MEDIA_TYPES),
                help="The file's format when its suffix does not tell (always for stdin).",
            ),
        ),
        description="Send the file to POST /v1/import (docs/import-export.md) as it is read, with a "
        "progress bar on a terminal, and print what was created, updated, deleted and left "
        "unchanged. A refused document changes nothing: each problem is printed as "
        "'where: message', then a summary. --reason says why, for the history records.",
    ),
]
