"""Clouds: the top of a project's inventory."""

from __future__ import annotations

from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="cloud",
    manager="clouds",
    fields=("id", "name", "created_at"),
    detail_fields=common.detail_columns("note"),
    filters=(common.name_filter("clouds"), common.vars_filter("clouds")),
    create=(common.name_option("cloud", required=True), common.note_option("cloud")),
    update=(common.name_option("cloud"), common.note_option("cloud")),
    variables=True,
    filter_miss_is_404=True,
)
