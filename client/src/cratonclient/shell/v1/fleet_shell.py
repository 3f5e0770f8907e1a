"""``export``: the whole fleet (or one cloud, region or cell) as one document keyed by names."""

from __future__ import annotations

import argparse

from cratonclient.shell.commands import Command, Context, DocumentResult, arg


def _export(ctx: Context, args: argparse.Namespace) -> DocumentResult:
    return DocumentResult(ctx.client.fleet.export(cloud_id=args.cloud, region_id=args.region, cell_id=args.cell))


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
        "variables and masks, keyed by names (docs/import-export.md). "
        "craton export --format yaml > fleet.yaml saves it for editing.",
    )
]
