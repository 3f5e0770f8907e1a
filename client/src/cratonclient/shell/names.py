"""Names wherever the CLI takes an id: ``--region east``, ``host-show web-01``.

Arguments that name an object carry a reference kind (``Arg.ref``). Before a command runs,
:func:`resolve` replaces each such value by an id:

* a value made only of digits is an id, as is a UUID for a project: no request is sent;
* anything else is a name, looked up with one ``?name=`` query (``GET /v1/cells?name=east-a``),
  narrowed by the placement options already resolved on the same command line (a cell by
  ``--region``, a region by ``--cloud``). No match, or several, is an error that names the
  candidates and their ids.

Placement is resolved top-down (project, cloud, region, cell) so each level can narrow the next.
For create commands, :func:`fill_placement` then completes what the hierarchy implies: the cloud
of ``--region``, and the region and cloud of ``--cell``, reusing the objects found by name.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from typing import Any

from cratonclient import crud, exceptions
from cratonclient.shell.commands import NULL, Arg, Context

#: Reference kind -> the client manager that finds it. ``device`` searches hosts and network
#: devices (parents and interface owners may be either).
MANAGERS = {
    "project": "projects",
    "user": "users",
    "cloud": "clouds",
    "region": "regions",
    "cell": "cells",
    "host": "hosts",
    "network_device": "network_devices",
    "network": "networks",
    "network_interface": "network_interfaces",
    "device": "devices",
}

#: Resolution order: an earlier level narrows the lookup of a later one.
_ORDER = ("project", "cloud", "region", "cell")
#: Placement option dest -> the filter it gives to lower levels.
_SCOPES = {"region": ("cloud_id",), "cell": ("region_id", "cloud_id")}
_PLACEMENT_DESTS = {"cloud": "cloud_id", "region": "region_id", "cell": "cell_id"}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def is_id(kind: str, value: str) -> bool:
    """Whether ``value`` is taken as an id as it stands (digits; a UUID for projects)."""
    if kind == "project":
        return bool(_UUID.match(value))
    return value.isdigit()


def own_project_id(ctx: Context) -> str | None:
    """The id of the project ``--os-project-id`` gives, which may be a name (the server accepts both).

    Turning the name into an id needs the project list, which only root may read.
    """
    value = getattr(ctx.options, "os_project_id", None)
    if not value:
        return None
    try:
        return str(Resolver(ctx).id_of("project", value))
    except exceptions.Forbidden:
        raise exceptions.CommandError(
            f"--os-project-id {value!r} is a name; this command needs the project's id (a UUID)"
        ) from None


class Resolver:
    """Looks names up for one command, remembering what it found (so parents come free)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        #: (kind, id) -> the object's fields, for every object fetched while resolving.
        self.seen: dict[tuple[str, Any], dict[str, Any]] = {}

    def id_of(self, kind: str, value: Any, **scope: Any) -> Any:
        """The id ``value`` stands for: itself if it is one, else the one object so named."""
        if not isinstance(value, str):
            return value
        if is_id(kind, value):
            return value if kind == "project" else int(value)
        found = self.find(kind, value, scope)
        self.seen[(kind, found["id"])] = found
        return found["id"]

    def find(self, kind: str, name: str, scope: dict[str, Any]) -> dict[str, Any]:
        filters = {key: value for key, value in scope.items() if value is not None}
        if kind == "device":
            return self._find_device(name)
        manager = getattr(self.ctx.client, MANAGERS[kind])
        return dict(manager.find(name, **filters).to_dict())

    def _find_device(self, name: str) -> dict[str, Any]:
        """Hosts and network devices share one id space; a name may be either (2 requests)."""
        client = self.ctx.client
        matches = [*client.hosts.find_all(name), *client.network_devices.find_all(name)]
        if len(matches) == 1:
            return dict(matches[0].to_dict())
        if not matches:
            raise exceptions.NotFound(f"No host or network device named {name!r}.")
        raise exceptions.NoUniqueMatch(
            f"{len(matches)} devices are named {name!r}; give the id of one of them: "
            + ", ".join(crud.describe(item) for item in matches),
            candidates=matches,
        )

    def parents(self, kind: str, object_id: int) -> dict[str, Any]:
        """The fields of a cloud/region/cell by id, fetched only if not already seen."""
        key = (kind, object_id)
        if key not in self.seen:
            manager = getattr(self.ctx.client, MANAGERS[kind])
            self.seen[key] = dict(manager.get(object_id).to_dict())
        return self.seen[key]


def _order(argument: Arg) -> int:
    kind = argument.ref or ""
    return _ORDER.index(kind) if kind in _ORDER else len(_ORDER)


def resolve(ctx: Context, arguments: Iterable[Arg], args: argparse.Namespace) -> Resolver:
    """Replace every name among ``arguments``' values in ``args`` by the id it stands for."""
    resolver = Resolver(ctx)
    refs = sorted((a for a in arguments if a.ref), key=_order)
    dests = {a.dest for a in refs}
    for argument in refs:
        value = getattr(args, argument.dest, None)
        if value is None or value is NULL:
            continue
        scope: dict[str, Any] = {}
        if argument.dest in _PLACEMENT_DESTS.values():  # placement narrows placement only
            for key in _SCOPES.get(argument.ref or "", ()):
                if key in dests:
                    scope[key] = getattr(args, key, None)
        if isinstance(value, list):
            setattr(args, argument.dest, [resolver.id_of(argument.ref or "", item, **scope) for item in value])
        else:
            setattr(args, argument.dest, resolver.id_of(argument.ref or "", value, **scope))
    return resolver


def fill_placement(resolver: Resolver, fields: dict[str, Any], levels: Iterable[str]) -> None:
    """Complete a new object's placement from what it implies: a cell gives its region and
    cloud, a region its cloud. Only the ``levels`` the object has are filled."""
    wanted = set(levels)
    if "region" in wanted and fields.get("region_id") is None and fields.get("cell_id") is not None:
        cell = resolver.parents("cell", fields["cell_id"])
        fields["region_id"] = cell.get("region_id")
        if "cloud" in wanted and fields.get("cloud_id") is None:
            fields["cloud_id"] = cell.get("cloud_id")
    if "cloud" in wanted and fields.get("cloud_id") is None and fields.get("region_id") is not None:
        fields["cloud_id"] = resolver.parents("region", fields["region_id"]).get("cloud_id")


__all__ = ["MANAGERS", "Resolver", "fill_placement", "is_id", "resolve"]
