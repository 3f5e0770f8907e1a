"""Networks: address ranges of a region or cell."""

from __future__ import annotations

from cratonclient.shell.commands import Arg, arg
from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common


def _addressing(required: bool) -> tuple[Arg, ...]:
    return (
        arg("--cidr", metavar="CIDR", required=required, help="Address range, e.g. 10.0.0.0/24."),
        arg("--gateway", metavar="ADDRESS", required=required, help="Gateway address."),
        arg("--netmask", metavar="MASK", required=required, help="Netmask, e.g. 255.255.255.0."),
        arg("--ip-block-type", metavar="TYPE", help="Kind of address block (free text)."),
        arg("--nss", metavar="SERVERS", help="Name servers (free text)."),
    )


SPEC = ResourceSpec(
    name="network",
    manager="networks",
    fields=("id", "name", "cidr", "gateway", "netmask", "cloud_id", "region_id", "cell_id"),
    detail_fields=common.detail_columns("ip_block_type", "nss"),
    filters=(
        *common.placement_filters("networks", "region", "cell"),
        common.name_filter("networks"),
        common.vars_filter("networks"),
    ),
    create=(
        common.name_option("network", required=True),
        *_addressing(required=True),
        *common.placement_options("network", required=("cloud", "region"), optional=("cell",)),
    ),
    update=(common.name_option("network"), *_addressing(required=False)),
    variables=True,
    complete_create=common.placement_defaults("network", ("cloud", "region")),
)
