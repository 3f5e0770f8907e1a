"""Labels of one device: a set of strings, read with ``get``, grown with ``update``.

Reached through ``craton.hosts.labels(host_id)`` or ``craton.network_devices.labels(id)``.
The ``labels`` attribute of a host or network device stays the plain list the server sent.
"""

from __future__ import annotations

import builtins

from cratonclient.crud import CRUDClient, unsupported
from cratonclient.session import json_body


class LabelManager(CRUDClient):
    """Reads and changes the labels of the device whose URL it was built with."""

    key = ""
    base_path = "/labels"

    create = unsupported()
    list = unsupported()

    def get(self) -> builtins.list[str]:  # type: ignore[override]
        """The device's labels."""
        return _labels(json_body(self.session.get(self.build_url())))

    def update(self, *labels: str) -> builtins.list[str]:  # type: ignore[override]
        """Add labels (existing ones are kept) and return the device's full label set."""
        response = self.session.put(self.build_url(), json={"labels": list(labels)})
        return _labels(json_body(response))

    def delete(self, *labels: str) -> bool:  # type: ignore[override]
        """Remove the given labels; labels the device does not have are ignored."""
        response = self.session.delete(self.build_url(), json={"labels": list(labels)})
        return 200 <= response.status_code < 300


class LabelledManagerMixin:
    """Adds ``labels(device_id)`` to the managers of resources that carry labels."""

    def labels(self: CRUDClient, item_id: object) -> LabelManager:  # type: ignore[misc]
        """The label manager of one device (no request is sent until you call it)."""
        return LabelManager(self.session, self.build_url({f"{self.key}_id": item_id}))


def _labels(body: object) -> builtins.list[str]:
    return list(body.get("labels") or []) if isinstance(body, dict) else []


__all__ = ["LabelManager", "LabelledManagerMixin"]
