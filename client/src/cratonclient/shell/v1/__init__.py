"""Commands of the Craton v1 API, gathered from one module per resource."""

from __future__ import annotations

import importlib

from cratonclient.shell.commands import Command
from cratonclient.shell.resources import ResourceSpec, resource_commands
from cratonclient.shell.v1 import (
    changes_shell,
    devices_shell,
    effective_changes_shell,
    fleet_shell,
    inventory_shell,
    projects_shell,
    users_shell,
    webhooks_shell,
)
from cratonclient.v1.client import kind_managers


def _spec(manager: str) -> ResourceSpec:
    """The commands of one kind are declared in ``<manager>_shell.py`` (``hosts_shell.py``)."""
    spec: ResourceSpec = importlib.import_module(f"{__name__}.{manager}_shell").SPEC
    return spec


#: Resources with the generic command set, one per kind of object, in the order help lists them.
RESOURCE_SPECS = tuple(_spec(manager) for manager in kind_managers())


def commands() -> list[Command]:
    """Every v1 command."""
    result: list[Command] = []
    for spec in RESOURCE_SPECS:
        result.extend(resource_commands(spec))
    result.extend(users_shell.COMMANDS)
    result.extend(devices_shell.COMMANDS)
    result.extend(inventory_shell.COMMANDS)
    result.extend(fleet_shell.COMMANDS)
    result.extend(changes_shell.COMMANDS)
    result.extend(effective_changes_shell.COMMANDS)
    result.extend(projects_shell.COMMANDS)
    result.extend(webhooks_shell.COMMANDS)
    return result
