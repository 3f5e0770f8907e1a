"""The containment tree: reference cross-checks.

Every reference a create or update makes (cloud, region, cell, parent device,
network) must exist in the caller's own project and agree with the others
(docs/decisions.md §7-§8); otherwise the request is a 400 that says which one is wrong.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.domain.errors import InvalidInput
from craton.domain.principal import Principal
from craton.storage.devices import is_descendant
from craton.storage.tables import cells, clouds, devices, projects, regions

Row = Any


def referenced(
    conn: sa.Connection, project_id: str, table: sa.Table, row_id: Any, what: str, share: bool = True
) -> Row:
    """The referenced row, which must be in ``project_id`` (the project of the row referring to it).

    ``share`` (the default) reads it with a share lock, so that it cannot move (a cell to
    another region) or vanish until this transaction ends: a concurrent delete of it
    (which locks it for update, see domain/cascade.py) either waits for this request and
    then removes what it created, or makes it wait and then find the row gone, a 400
    naming it rather than an orphan or a misleading 409.
    """
    stmt = sa.select(table).where(table.c.id == row_id, table.c.project_id == project_id)
    row = conn.execute(stmt.with_for_update(read=True) if share else stmt).first()
    if row is None:
        raise InvalidInput(f"{what} {row_id} does not exist in this project.")
    return row._mapping


def check_placement(conn: sa.Connection, principal: Principal, values: dict[str, Any]) -> None:
    """A cloud/region/cell triple that agrees: region in cloud, cell in region."""
    if "region_id" not in values:
        referenced(conn, principal.project_id, clouds, values["cloud_id"], "Cloud")
        return
    region = referenced(conn, principal.project_id, regions, values["region_id"], "Region")
    if values.get("cloud_id") is not None and values["cloud_id"] != region["cloud_id"]:
        raise InvalidInput(
            f"Region {region['id']} belongs to cloud {region['cloud_id']}, not to cloud {values['cloud_id']}."
        )
    values["cloud_id"] = region["cloud_id"]
    if values.get("cell_id") is not None:
        cell = referenced(conn, principal.project_id, cells, values["cell_id"], "Cell", share=True)
        if cell["region_id"] != region["id"]:
            raise InvalidInput(
                f"Cell {cell['id']} belongs to region {cell['region_id']}, not to region {region['id']}."
            )


def check_parent(
    conn: sa.Connection, project_id: str, device_id: int | None, parent_id: int | None, name: str | None
) -> None:
    """A parent device in the device's own project that is neither the device nor one of its descendants."""
    if parent_id is None:
        return
    if device_id is not None and parent_id == device_id:
        raise InvalidInput(f"A device cannot be its own parent. The id for '{name}' cannot be used as its parent_id.")
    if device_id is not None:
        # Re-parenting: two crossing moves (A under B, B under A) would each pass the cycle
        # check alone. Both take this lock on their project (cycles cannot cross projects),
        # so the second one checks after the first committed and is refused.
        lock = sa.select(projects.c.id).where(projects.c.id == project_id).with_for_update(key_share=True)
        conn.execute(lock).first()
    referenced(conn, project_id, devices, parent_id, "Parent device")
    if device_id is not None and is_descendant(conn, parent_id, device_id):
        raise InvalidInput(
            "A device cannot have a descendant as its parent. "
            f"The parent_id for '{name}' cannot be set to the id '{parent_id}'."
        )
