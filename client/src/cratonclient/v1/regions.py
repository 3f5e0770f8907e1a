"""Regions of a cloud. Creating one needs ``name`` and ``cloud_id``."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Region(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class RegionManager(HistoryMixin, crud.CRUDClient):
    key = "region"
    base_path = "/regions"
    resource_class = Region


__all__ = ["Region", "RegionManager"]
