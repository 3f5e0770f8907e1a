"""Moving devices: ``update`` with ``cell_id``/``region_id``, and ``with_children``."""

from __future__ import annotations

from typing import Any

from cratonclient import crud
from cratonclient.session import json_body


class MovableManagerMixin(crud.CRUDClient):
    """``update(id, cell_id=..., region_id=..., with_children=True)`` for hosts and network
    devices.

    Moving a device to another cell or region of its cloud is a plain update of ``cell_id``
    and/or ``region_id``. A device with children (or a parent) in its old place is refused
    unless ``with_children=True`` moves the whole subtree along (``?with_children=true``).
    """

    def update(
        self,
        item_id: Any = None,
        skip_merge: bool = True,
        with_children: bool = False,
        **kwargs: Any,
    ) -> crud.Resource:
        url = self._item_url(item_id, kwargs, "update")
        self.merge_request_arguments(kwargs, skip_merge)
        params = crud.encode_query({"with_children": True}) if with_children else None
        return self._resource(json_body(self.session.put(url, json=kwargs, params=params)))


__all__ = ["MovableManagerMixin"]
