"""What a write would do, without doing it: the server's ``?preview=true`` answer.

``obj.variables.update(..., preview=True)``, ``.delete(..., preview=True)``,
``.mask(..., preview=True)`` and ``.unmask(..., preview=True)``, a manager's
``update_preview(id, ...)`` (moves) and ``delete_preview(id)``, and
``projects.merge_strategies(id, {...}, preview=True)`` return an :class:`Impact`: how many
devices' resolved variables would change, and per device (a dict as the server sends it:
``type``, ``id``, ``name``, ``added``, ``removed``, ``changed`` as ``{key: {"old": ..., "new":
...}}``, and ``deleted``, true for a device the write removes, whose every variable is then
under ``removed``). A delete's :attr:`Impact.deleted` counts what goes, per kind.
:meth:`Impact.all_devices` follows the server's pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

    def to_dict(self) -> dict[str, Any]:
        """This page as the server's ``preview`` object (without its links)."""
        body: dict[str, Any] = {"devices_affected": self.devices_affected, "devices": list(self.devices)}
        if self.deleted:
            body["deleted"] = dict(self.deleted)
        return body

    def all_devices(self, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every affected device, fetching the following pages (the same write, previewed again;
        ``page_size`` devices a request, 1-100, instead of the first request's)."""
        page: Impact | None = self
        while page is not None:
            yield from page.devices
            if page.next_url is None or page.session is None:
                return
            url = page.next_url if page_size is None else _with_limit(page.next_url, page_size)
            response = page.session.request(page.method, url, json=page.body)
            page = Impact.from_body(json_body(response), page.session, page.method, page.body)


def _with_limit(url: str, limit: int) -> str:
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "limit"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("limit", str(limit))])))


def request(session: Any, method: str, url: str, body: Any, params: Mapping[str, Any] | None = None) -> Impact:
    """Send ``method`` ``url`` with ``?preview=true`` and read the answer."""
    query = {**(params or {}), "preview": "true"}
    response = session.request(method, url, params=query, json=body)
    return Impact.from_body(json_body(response), session, method, body)
