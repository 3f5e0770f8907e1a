"""Hosts: servers, containers and other compute devices, with labels and variables."""

from __future__ import annotations

from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

SPEC = ResourceSpec(
    name="host",
    manager="hosts",
    fields=(
        "id",
        "name",
        "active",
        "device_type",
        "ip_address",
        "cloud_id",
        "region_id",
        "cell_id",
        "created_at",
    ),
    detail_fields=common.detail_columns("note", "labels", "parent_id"),
    filters=(
        *common.device_filters("hosts"),
        common.vars_filter("hosts"),
    ),
    create=(
        *common.device_create_options("host"),
        common.active_option(default=True),
        common.note_option("host"),
        common.labels_option(),
    ),
    update=(
        *common.device_update_options("host"),
        common.active_option(),
        common.note_option("host"),
        *common.moving_options("host", "region", "cloud", "cell"),
        common.with_children_option("host"),
    ),
    variables=True,
    complete_create=common.placement_defaults("host", ("region", "cloud")),
    labels=True,
    update_extras={"labels": common.add_labels},
)
