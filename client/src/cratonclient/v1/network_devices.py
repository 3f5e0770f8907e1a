"""Network devices: switches, routers and the like, with variables and labels."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.labels import LabelledManagerMixin
from cratonclient.v1.placement import MovableManagerMixin
from cratonclient.v1.variables import VariableManager


class NetworkDevice(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class NetworkDeviceManager(MovableManagerMixin, HistoryMixin, LabelledManagerMixin, crud.CRUDClient):
    key = "network_device"
    base_path = "/network-devices"
    resource_class = NetworkDevice


__all__ = ["NetworkDevice", "NetworkDeviceManager"]
