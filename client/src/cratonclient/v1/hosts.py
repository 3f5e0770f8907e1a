"""Hosts: servers, containers and other compute devices, with variables and labels."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.labels import LabelledManagerMixin
from cratonclient.v1.placement import MovableManagerMixin
from cratonclient.v1.variables import VariableManager


class Host(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class HostManager(MovableManagerMixin, HistoryMixin, LabelledManagerMixin, crud.CRUDClient):
    key = "host"
    base_path = "/hosts"
    resource_class = Host


__all__ = ["Host", "HostManager"]
