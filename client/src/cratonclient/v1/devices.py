"""Devices: hosts and network devices listed together, read-only.

``GET /v1/devices`` answers ``{"devices": {"hosts": [...], "network-devices": [...]}}``: each
page is split by kind. The client joins the two lists and puts them back in the page's sort
order, so the last device of a page is the right ``marker`` for the next one, exactly as for
every other resource. Use ``craton.hosts`` or ``craton.network_devices`` to create, change or
delete a device.
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cratonclient import crud
from cratonclient.session import json_body

_DEFAULT_SORT_KEYS = ("created_at", "id")


class Device(crud.Resource):
    """A host or a network device, as seen through the combined listing."""


class DeviceManager(crud.CRUDClient):
    key = "device"
    base_path = "/devices"
    resource_class = Device
    nested = True

    create = crud.unsupported()
    get = crud.unsupported()
    update = crud.unsupported()
    delete = crud.unsupported()

    def _arrange(self, response: Any, items: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        # The page's own "self" link says how the server sorted it; restore that order.
        keys, descending = _sort_order(json_body(response))
        return sorted(items, key=lambda item: _sort_key(item, keys), reverse=descending)


def _sort_order(body: Any) -> tuple[tuple[str, ...], bool]:
    for link in body.get("links") or ():
        if link.get("rel") == "self":
            query = parse_qs(urlsplit(str(link.get("href", ""))).query)
            raw_keys = query.get("sort_keys", [",".join(_DEFAULT_SORT_KEYS)])[0]
            keys = tuple(k for k in raw_keys.replace(" ", ",").split(",") if k)
            return keys or _DEFAULT_SORT_KEYS, query.get("sort_dir", ["asc"])[0] == "desc"
    return _DEFAULT_SORT_KEYS, False


def _sort_key(item: dict[str, Any], keys: tuple[str, ...]) -> tuple[tuple[bool, Any], ...]:
    # (is None, value) keeps None comparable with anything, after real values.
    return tuple((item.get(k) is None, item.get(k)) for k in keys)


__all__ = ["Device", "DeviceManager"]
