"""Commands of the Craton v1 API, gathered from one module per resource."""

from __future__ import annotations

from cratonclient.shell.commands import Command
from cratonclient.shell.resources import resource_commands
from cratonclient.shell.v1 import (
    cells_shell,
    changes_shell,
    clouds_shell,
    devices_shell,
    hosts_shell,
    inventory_shell,
    network_devices_shell,
    network_interfaces_shell,
    networks_shell,
    projects_shell,
    regions_shell,
    users_shell,
)

#: Resources with the generic command set, in the order help lists them.
RESOURCE_SPECS = (
    projects_shell.SPEC,
    users_shell.SPEC,
    clouds_shell.SPEC,
    regions_shell.SPEC,
    cells_shell.SPEC,
    hosts_shell.SPEC,
    network_devices_shell.SPEC,
    networks_shell.SPEC,
    network_interfaces_shell.SPEC,
)


def commands() -> list[Command]:
    """Every v1 command."""
    result: list[Command] = []
    for spec in RESOURCE_SPECS:
        result.extend(resource_commands(spec))
    result.extend(devices_shell.COMMANDS)
    result.extend(inventory_shell.COMMANDS)
    result.extend(changes_shell.COMMANDS)
    return result
