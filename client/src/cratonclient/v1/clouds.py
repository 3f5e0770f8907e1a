"""Clouds: the top level of a project's inventory."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Cloud(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class CloudManager(HistoryMixin, crud.CRUDClient):
    key = "cloud"
    base_path = "/clouds"
    resource_class = Cloud


__all__ = ["Cloud", "CloudManager"]
