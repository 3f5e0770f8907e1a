"""Network interfaces of devices, optionally attached to a network."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class NetworkInterface(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class NetworkInterfaceManager(HistoryMixin, crud.CRUDClient):
    key = "network_interface"
    base_path = "/network-interfaces"
    resource_class = NetworkInterface


__all__ = ["NetworkInterface", "NetworkInterfaceManager"]
