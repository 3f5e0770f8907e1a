"""Network interfaces of devices (hosts or network devices), optionally on a network."""

from __future__ import annotations

from cratonclient.shell.commands import Arg, arg
from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common


def _link_settings() -> tuple[Arg, ...]:
    return (
        arg("--vlan", metavar="VLAN", help="VLAN (free text)."),
        arg("--port", type=int, metavar="N", help="Port number."),
        arg("--duplex", metavar="MODE", help="Duplex mode, e.g. full."),
        arg("--speed", type=int, metavar="N", help="Speed, e.g. 1000."),
        arg("--link", metavar="STATE", help="Link state (free text)."),
        arg("--cdp", metavar="CDP", help="CDP information (free text)."),
        arg("--security", metavar="SECURITY", help="Security setting (free text)."),
    )


def _interface_type(required: bool) -> Arg:
    return arg(
        "-t",
        "--interface-type",
        dest="interface_type",
        metavar="TYPE",
        required=required,
        help="Interface type, e.g. ethernet.",
    )


SPEC = ResourceSpec(
    name="network-interface",
    manager="network_interfaces",
    fields=("id", "name", "interface_type", "ip_address", "device_id", "network_id"),
    detail_fields=common.detail_columns("vlan_id", "vlan", "port", "duplex", "speed", "link", "cdp", "security"),
    filters=(
        arg("--device", dest="device_id", ref="device", metavar="<device>", help="Only interfaces of this device."),
        arg(
            "--network", dest="network_id", ref="network", metavar="<network>", help="Only interfaces on this network."
        ),
        common.name_filter("interfaces"),
        arg("--ip", dest="ip_address", metavar="ADDRESS", help="Only interfaces with this IP address."),
        arg("--interface-type", metavar="TYPE", help="Only interfaces of this type."),
    ),
    create=(
        common.name_option("interface", required=True),
        arg(
            "--device",
            dest="device_id",
            ref="device",
            metavar="<device>",
            required=True,
            help="The device (host or network device, name or id) the interface belongs to.",
        ),
        _interface_type(required=True),
        common.ip_option("interface", required=True),
        arg("--network", dest="network_id", ref="network", metavar="<network>", help="The attached network."),
        arg("--vlan-id", type=int, metavar="N", help="VLAN id."),
        *_link_settings(),
    ),
    update=(common.name_option("interface"), _interface_type(required=False), *_link_settings()),
    variables=True,
)
