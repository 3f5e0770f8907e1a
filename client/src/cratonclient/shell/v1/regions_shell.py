"""Regions: groups of cells inside one cloud."""

from __future__ import annotations

from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="region",
    manager="regions",
    fields=("id", "name", "cloud_id"),
    detail_fields=common.detail_columns("note"),
    filters=(
        *common.placement_filters("regions", "cloud"),
        common.name_filter("regions"),
        common.vars_filter("regions"),
    ),
    create=(
        common.name_option("region", required=True),
        *common.placement_options("region", required=("cloud",)),
        common.note_option("region"),
    ),
    update=(
        common.name_option("region"),
        *common.moving_options("region", "cloud"),
        common.note_option("region"),
    ),
    variables=True,
    filter_miss_is_404=True,
)
