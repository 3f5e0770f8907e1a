"""The whole fleet as one document: ``GET /v1/export`` (docs/import-export.md)."""

from __future__ import annotations

from typing import Any

from cratonclient import crud
from cratonclient.session import json_body


class FleetManager(crud.CRUDClient):
    """``craton.fleet.export()``: the project, or one cloud, region or cell, keyed by names."""

    base_path = "/export"

    create = crud.unsupported()
    get = crud.unsupported()
    list = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def export(
        self, cloud_id: int | None = None, region_id: int | None = None, cell_id: int | None = None
    ) -> dict[str, Any]:
        """The fleet document (``format``, ``version``, ``project``, ``clouds``) as a dict."""
        params = crud.encode_query({"cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id})
        return dict(json_body(self.session.get(self.build_url(), params=params)))

    def export_yaml(self, cloud_id: int | None = None, region_id: int | None = None, cell_id: int | None = None) -> str:
        """The same document as the server writes it in YAML, for saving to a file."""
        params = crud.encode_query({"format": "yaml", "cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id})
        return str(self.session.get(self.build_url(), params=params).text)


__all__ = ["FleetManager"]
