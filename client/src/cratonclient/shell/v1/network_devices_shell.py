"""Network devices: switches, routers and the like; hosts may hang below them."""

from __future__ import annotations

from cratonclient.shell.commands import Arg, arg
from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common


def _hardware() -> tuple[Arg, ...]:
    return (
        arg("--model-name", metavar="MODEL", help="Hardware model."),
        arg("--os-version", metavar="VERSION", help="Operating system version."),
        arg("--vlans", metavar="VLANS", help="VLANs the device carries (free text)."),
        common.note_option("network device"),
    )


SPEC = ResourceSpec(
    name="network-device",
    manager="network_devices",
    fields=("id", "name", "device_type", "ip_address", "cloud_id", "region_id", "cell_id"),
    detail_fields=common.detail_columns("parent_id", "active", "model_name", "os_version", "vlans", "note", "labels"),
    filters=(*common.device_filters("network devices"), common.vars_filter("network devices")),
    create=(
        *common.device_create_options("network device"),
        common.active_option(),
        *_hardware(),
        common.labels_option(),
    ),
    # The API cannot change a network device's "active" flag, so update has no -a.
    update=(
        *common.device_update_options("network device"),
        *_hardware(),
        *common.moving_options("network device", "region", "cell"),
        common.with_children_option("network device"),
    ),
    variables=True,
    complete_create=common.placement_defaults("network device", ("region", "cloud")),
    labels=True,
    update_extras={"labels": common.add_labels},
)
