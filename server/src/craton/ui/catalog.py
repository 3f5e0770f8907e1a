"""The kinds a person browses in the UI, derived from the kind registry and the API's routes.

The kinds, their URL names, what hangs below each and whether it has variables or labels
come from :data:`craton.domain.kinds.KINDS`; fields, filters and validation from the same
``Resource`` the REST routes declare. A kind added to the service shows in the UI without a
list to keep here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from craton.domain import kinds
from craton.domain.errors import NotFound
from craton.domain.kinds import Kind, KindInfo
from craton.http.resources import Resource
from craton.http.routes import kind_module

# Projects and users are administration, not inventory: the UI browses what is below them.
NOT_BROWSED = ("project", "user")


@dataclass(frozen=True)
class Browsable:
    info: KindInfo
    resource: Resource
    # (child slug, column on the child that points here) shown on the object's page
    children: tuple[tuple[str, str], ...]

    @property
    def slug(self) -> str:
        """The URL segment, as in the API: /ui/network-devices/7."""
        return self.info.path.rsplit("/", 1)[1]

    @property
    def title(self) -> str:
        return self.info.collection.replace("_", " ").capitalize()

    @property
    def singular(self) -> str:
        return self.info.resource_type.replace("_", " ")

    @property
    def kind(self) -> Kind:
        return self.resource.kind

    @property
    def has_labels(self) -> bool:
        return self.info.has_labels

    @property
    def has_variables(self) -> bool:
        return self.info.has_variables

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.resource.shape.fields if f != "project_id")

    @property
    def filter_columns(self) -> dict[str, str]:
        return dict(self.resource.filter_columns)


def _slug(info: KindInfo) -> str:
    return info.path.rsplit("/", 1)[1]


def _children(info: KindInfo, browsed: list[KindInfo]) -> tuple[tuple[str, str], ...]:
    """Kinds whose nearest container is ``info``, devices nested in it, parts that belong to it."""
    found = []
    for other in browsed:
        nearest = other.parents[0] if other.parents else None
        if nearest is not None and nearest[0] == info.name and other.name != info.name:
            found.append((_slug(other), nearest[1]))
        if info.nested and other.nested:
            found.append((_slug(other), "parent_id"))
        if not other.parents:  # parts (interfaces) hang below whatever their foreign keys name
            for key in other.table.foreign_keys:
                if key.column.table is info.table and key.parent.name != "project_id":
                    found.append((_slug(other), key.parent.name))
    return tuple(dict.fromkeys(found))


def _browsable() -> dict[str, Browsable]:
    browsed = [info for info in kinds.KINDS if info.resource_type not in NOT_BROWSED]
    return {_slug(info): Browsable(info, kind_module(info).RESOURCE, _children(info, browsed)) for info in browsed}


BROWSABLE: dict[str, Browsable] = _browsable()

# Columns that point at another object, and the slug of its page ("devices" finds the kind).
LINKS: dict[str, str] = {
    **{column: _slug(kinds.owner_kind(owner)) for b in BROWSABLE.values() for owner, column in b.info.parents},
    "parent_id": "devices",
    "device_id": "devices",
}
LINKS.pop("project_id", None)

# The page of each owner kind of variables (blame names sources by owner kind).
OWNER_PAGES: dict[str, str] = {name: _slug(info) for name, info in kinds.owner_kinds().items()}
OWNER_PAGES["device"] = "devices"
OWNER_PAGES.pop("project", None)

# Which history records belong to which page.
RESOURCE_PAGES: dict[str, str] = {b.info.resource_type: b.slug for b in BROWSABLE.values()}


def browsable(slug: str) -> Browsable:
    found = BROWSABLE.get(slug)
    if found is None:
        raise NotFound(f"There is no page for {slug!r}.")
    return found


def device_slug(row: Any) -> str:
    return _slug(kinds.by_resource_type(row["kind"]))


def object_id(call: Any, kind: Kind) -> Any:
    """The path's id as ``kind`` holds it; text that cannot be an id is not found (404, as in the API)."""
    return kind.info.parse_id(call.request.path_params["id"])
