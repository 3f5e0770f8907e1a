"""Projects (tenants): root manages them, an admin renames its own; ids are UUIDs."""

from __future__ import annotations

from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="project",
    manager="projects",
    id_type=str,
    fields=("id", "name"),
    detail_fields=("created_at", "updated_at", "variables"),
    filters=(common.name_filter("projects"), common.vars_filter("projects")),
    create=(common.name_option("project", required=True),),
    update=(common.name_option("project"),),
    variables=True,
)
