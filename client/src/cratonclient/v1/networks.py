"""Networks of a region (optionally of a cell)."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Network(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class NetworkManager(HistoryMixin, crud.CRUDClient):
    key = "network"
    base_path = "/networks"
    resource_class = Network


__all__ = ["Network", "NetworkManager"]
