"""Cells: groups of devices inside one region."""

from __future__ import annotations

from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="cell",
    manager="cells",
    fields=("id", "name", "cloud_id", "region_id", "created_at"),
    detail_fields=common.detail_columns("updated_at", "note"),
    filters=(
        *common.placement_filters("cells", "region", "cloud"),
        common.name_filter("cells"),
        common.vars_filter("cells"),
    ),
    create=(
        common.name_option("cell", required=True),
        *common.placement_options("cell", required=("region", "cloud")),
        common.note_option("cell"),
    ),
    update=(
        common.name_option("cell"),
        *common.moving_options("cell", "region", "cloud"),
        common.note_option("cell"),
    ),
    variables=True,
    complete_create=common.placement_defaults("cell", ("region", "cloud")),
)
