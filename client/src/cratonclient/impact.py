"""What a write would do, without doing it: the server's ``?preview=true`` answer.

``manager.variables.update(..., preview=True)``, ``.delete(..., preview=True)``, ``mask``,
``unmask`` and a manager's ``update(..., preview=True)`` return an :class:`Impact`: how many
devices' resolved variables would change, and per device what would be added, removed and
changed. :meth:`Impact.all_devices` follows the server's pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cratonclient.session import json_body


@dataclass
class Impact:
    """One page of a preview: ``devices_affected`` is always the full count."""

    devices_affected: int
    devices: list[dict[str, Any]]
    deleted: dict[str, int] = field(default_factory=dict)
    next_url: str | None = None
    session: Any = field(default=None, repr=False, compare=False)
    method: str = field(default="PUT", repr=False, compare=False)
    body: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any], session: Any = None, method: str = "PUT", sent: Any = None) -> Impact:
        preview = body.get("preview") or {}
        links = {link.get("rel"): link.get("href") for link in preview.get("links") or []}
        return cls(
            int(preview.get("devices_affected", 0)),
            list(preview.get("devices") or []),
            dict(preview.get("deleted") or {}),
            links.get("next"),
            session,
            method,
            sent,
        )

    def all_devices(self) -> Iterator[dict[str, Any]]:
        """Every affected device, fetching the following pages (the same write, previewed again)."""
        page: Impact | None = self
        while page is not None:
            yield from page.devices
            if page.next_url is None or page.session is None:
                return
            response = page.session.request(page.method, page.next_url, json=page.body)
            page = Impact.from_body(json_body(response), page.session, page.method, page.body)


def request(session: Any, method: str, url: str, body: Any, params: Mapping[str, Any] | None = None) -> Impact:
    """Send ``method`` ``url`` with ``?preview=true`` and read the answer."""
    query = {**(params or {}), "preview": "true"}
    response = session.request(method, url, params=query, json=body)
    return Impact.from_body(json_body(response), session, method, body)
