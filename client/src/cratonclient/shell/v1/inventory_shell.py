"""``ansible-inventory``: the Ansible dynamic inventory, usable directly as an inventory script.

Ansible calls inventory scripts with ``--list`` or ``--host <name>``; both are accepted, so
``craton ansible-inventory`` can sit behind a two-line wrapper script.
"""

from __future__ import annotations

import argparse

from cratonclient.shell.commands import Command, Context, DocumentResult, arg, collect
from cratonclient.shell.v1 import common

FILTERS = (
    *common.placement_filters("hosts", "cloud", "region", "cell"),
    common.label_filter("hosts"),
)


def _inventory(ctx: Context, args: argparse.Namespace) -> DocumentResult:
    inventory = ctx.client.inventory.get(**collect(FILTERS, args))
    if args.host is None:
        return DocumentResult(inventory)
    # Ansible's inventory-script convention: an unknown host simply has no variables.
    return DocumentResult(inventory.get("_meta", {}).get("hostvars", {}).get(args.host, {}))


COMMANDS = [
    Command(
        name="ansible-inventory",
        summary="Print the Ansible dynamic inventory (JSON).",
        handler=_inventory,
        arguments=FILTERS
        + (
            arg("--list", action="store_true", help="Print the whole inventory (the default)."),
            arg("--host", metavar="HOST", help="Print only the variables of this inventory host."),
        ),
        description="Print the inventory in Ansible's dynamic inventory format: the group "
        "'all', one group per region, per region-cell and per label, and each host's resolved "
        "variables under _meta.hostvars. Use --format yaml for YAML.",
    )
]
