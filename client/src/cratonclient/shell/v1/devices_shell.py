"""``device-list``: hosts and network devices together, read-only, as the original offered."""

from __future__ import annotations

from cratonclient.shell import cliutils
from cratonclient.shell.commands import arg
from cratonclient.shell.resources import ResourceSpec, list_command
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="device",
    manager="devices",
    fields=(
        "id",
        "name",
        "device_type",
        "ip_address",
        "cloud_id",
        "region_id",
        "cell_id",
        "parent_id",
    ),
    detail_fields=("note", "active", "created_at", "updated_at", "project_id", "variables"),
    filters=(
        *common.placement_filters("devices", "cloud", "region", "cell"),
        arg("--parent", dest="parent_id", ref="device", metavar="<device>", help="Only the children of this device."),
        arg(
            "--descendants",
            action="store_true",
            help="With --parent: the whole subtree below the device, not only its children.",
        ),
        arg(
            "--active",
            type=cliutils.parse_bool,
            metavar="BOOL",
            help="Only devices in service (true) or out of service (false).",
        ),
        common.label_filter("devices"),
    ),
)

COMMANDS = [list_command(SPEC)]
