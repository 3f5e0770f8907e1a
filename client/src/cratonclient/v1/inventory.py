"""The Ansible dynamic inventory, and the original client's region-scoped ``Inventory``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cratonclient import crud
from cratonclient.session import json_body
from cratonclient.v1.cells import CellManager
from cratonclient.v1.hosts import HostManager

if TYPE_CHECKING:
    from cratonclient.session import Session


class AnsibleInventoryManager(crud.CRUDClient):
    """``GET /v1/ansible-inventory``: groups and host variables in Ansible's JSON format."""

    base_path = "/ansible-inventory"

    create = crud.unsupported()
    list = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def get(  # type: ignore[override]
        self,
        cloud_id: int | None = None,
        region_id: int | None = None,
        cell_id: int | None = None,
        label: str | None = None,
        **filters: Any,
    ) -> dict[str, Any]:
        """The inventory dict (``all``, ``_meta.hostvars`` and one group per region, cell
        and label), optionally narrowed to one cloud, region, cell or label."""
        params = crud.encode_query(
            {"cloud_id": cloud_id, "region_id": region_id, "cell_id": cell_id, "label": label, **filters}
        )
        body = json_body(self.session.get(self.build_url(), params=params))
        return dict(body)


class Inventory:
    """Hosts and cells of one region (kept from the original client).

    ``url`` is the API root and is used as given, so pass ``.../v1``.
    """

    def __init__(self, session: Session, url: str, region_id: int) -> None:
        self.region_id = region_id
        self.hosts = HostManager(session, url, region_id=region_id)
        self.cells = CellManager(session, url, region_id=region_id)


__all__ = ["AnsibleInventoryManager", "Inventory"]
