"""Pagination parameters in, ``links`` out (first, prev, self, next; docs/decisions.md §5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from craton.domain.crud import Page, PageRequest
from craton.http.urls import path_url
from craton.http.validation import Param

MAX_LIMIT = 100


def pagination_params(marker_type: str = "integer") -> dict[str, Param]:
    return {
        "sort_keys": Param("string", "created_at,id", description="Sort attributes, separated by ',' or ' '."),
        "sort_dir": Param("string", "asc", {"enum": ["asc", "desc"]}),
        "limit": Param("integer", 30, {"minimum": 10, "maximum": MAX_LIMIT}),
        "marker": Param(marker_type, description="Id of the last item of the previous page."),
    }


def page_request(query: Mapping[str, Any]) -> PageRequest:
    keys = query["sort_keys"].replace(" ", ",").split(",")
    return PageRequest(limit=query["limit"], marker=query["marker"], sort_keys=keys, sort_dir=query["sort_dir"])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def links(
    request: Request,
    query: Mapping[str, Any],
    page: Page,
    marker_of: Callable[[Mapping[str, Any]], Any] = lambda row: row["id"],
) -> list[dict[str, str]]:
    """Absolute links for the current query: every non-null parameter, limit, and the marker."""
    base = [
        (name, _text(part))
        for name, value in query.items()
        if value is not None and name not in ("limit", "marker")
        for part in (value if isinstance(value, list) else [value])
    ]
    base.append(("limit", _text(query["limit"])))

    def href(marker: Any) -> str:
        items = base if marker is None else [*base, ("marker", _text(marker))]
        return path_url(request, urlencode(items))

    prev_marker = marker_of(page.prev_marker_row) if page.prev_marker_row is not None else None
    result = [
        {"rel": "first", "href": href(None)},
        {"rel": "prev", "href": href(prev_marker)},
        {"rel": "self", "href": href(query.get("marker"))},
    ]
    if page.has_next and page.rows:
        result.append({"rel": "next", "href": href(marker_of(page.rows[-1]))})
    return result
