"""Cells of a region. Creating one needs ``name``, ``region_id`` and ``cloud_id``."""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Cell(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class CellManager(HistoryMixin, crud.CRUDClient):
    key = "cell"
    base_path = "/cells"
    resource_class = Cell


__all__ = ["Cell", "CellManager"]
