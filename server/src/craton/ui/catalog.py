"""The kinds a person browses in the UI, described by the API's own resource declarations.

Fields, filters and validation come from the same ``Resource`` the REST routes use, so a
field added to the API shows in the UI without a second list to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from craton.domain.kinds import Kind
from craton.http.resources import Resource
from craton.http.routes import cells, clouds, hosts, network_devices, network_interfaces, networks, regions


@dataclass(frozen=True)
class Browsable:
    slug: str  # the URL segment, as in the API (/ui/network-devices/7)
    title: str
    singular: str
    resource: Resource
    # (child slug, column on the child that points here) shown on the object's page
    children: tuple[tuple[str, str], ...] = ()
    has_labels: bool = False

    @property
    def kind(self) -> Kind:
        return self.resource.kind

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.resource.shape.fields if f not in ("project_id",))

    @property
    def filter_columns(self) -> dict[str, str]:
        return dict(self.resource.filter_columns)


BROWSABLE: dict[str, Browsable] = {
    b.slug: b
    for b in (
        Browsable("clouds", "Clouds", "cloud", clouds.RESOURCE, children=(("regions", "cloud_id"),)),
        Browsable("regions", "Regions", "region", regions.RESOURCE, children=(("cells", "region_id"),)),
        Browsable(
            "cells", "Cells", "cell", cells.RESOURCE, children=(("hosts", "cell_id"), ("network-devices", "cell_id"))
        ),
        Browsable(
            "hosts",
            "Hosts",
            "host",
            hosts.RESOURCE,
            children=(("hosts", "parent_id"), ("network-interfaces", "device_id")),
            has_labels=True,
        ),
        Browsable(
            "network-devices",
            "Network devices",
            "network device",
            network_devices.RESOURCE,
            children=(("hosts", "parent_id"), ("network-devices", "parent_id"), ("network-interfaces", "device_id")),
            has_labels=True,
        ),
        Browsable(
            "networks", "Networks", "network", networks.RESOURCE, children=(("network-interfaces", "network_id"),)
        ),
        Browsable("network-interfaces", "Network interfaces", "interface", network_interfaces.RESOURCE),
    )
}

# Columns that point at another object, and the slug of its page.
LINKS: dict[str, str] = {
    "cloud_id": "clouds",
    "region_id": "regions",
    "cell_id": "cells",
    "parent_id": "devices",
    "device_id": "devices",
    "network_id": "networks",
}

# Variables are edited on the kinds that own them; interfaces own none.
WITH_VARIABLES = ("clouds", "regions", "cells", "hosts", "network-devices", "networks")


def browsable(slug: str) -> Browsable:
    from craton.domain.errors import NotFound

    found = BROWSABLE.get(slug)
    if found is None:
        raise NotFound(f"There is no page for {slug!r}.")
    return found


def device_slug(row: Any) -> str:
    return "hosts" if row["kind"] == "host" else "network-devices"
