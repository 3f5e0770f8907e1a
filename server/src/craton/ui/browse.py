"""Pages that read: the overview, lists with filters, one object with its resolved variables,
its history, search and the Ansible inventory. Each page is one transaction and a bounded
number of queries, whatever the size of the fleet.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.responses import RedirectResponse, Response

from craton.domain import devices, objects, tenancy
from craton.domain import inventory as inventory_domain
from craton.domain import overview as fleet_overview
from craton.domain import variables as variable_domain
from craton.domain.crud import PageRequest
from craton.domain.errors import CratonError, InvalidInput, NotFound
from craton.domain.history import feed as history_feed
from craton.domain.readmodel import Show
from craton.ui.catalog import BROWSABLE, LINKS, Browsable, browsable, device_slug, object_id
from craton.ui.pipeline import PageCall

PAGE_SIZE = 50
RECENT_CHANGES = 15


def overview(call: PageCall) -> Response:
    """Counts per cloud, region and cell, and the latest changes of the project."""
    tree, total = fleet_overview.fleet_tree(call.conn, call.principal)
    recent = history_feed.latest(call.conn, call.principal, RECENT_CHANGES)
    return call.render("overview.html", tree=tree, recent=recent, total=total)


def _list_query(item: Browsable, query: dict[str, str]) -> tuple[objects.ListQuery, dict[str, str]]:
    """The list form's filters as a list request (the API's ``read_page``), and the filters as shown back.

    A name filter finds names containing the text; a device's address is compared in normal form.
    """
    equal: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    shown: dict[str, str] = {}
    for param, column in item.filter_columns.items():
        value = (query.get(param) or "").strip()
        if not value or param == "id":
            continue
        shown[param] = value
        if column.endswith("_id"):
            if not value.isdigit():
                raise InvalidInput(f"{param} must be a whole number.")
            equal[column] = int(value)
        elif column == "active":
            equal[column] = value.lower() not in ("0", "false", "no", "n")
        elif column == "name":
            filters["name_contains"] = value
        elif column == "ip_address" and item.has_labels:
            filters["ip_address"] = value
        else:
            equal[column] = value
    label = (query.get("label") or "").strip()
    if label and item.has_labels:
        shown["label"] = label
        filters["labels"] = [label]
    return objects.ListQuery(equal=equal, **filters), shown


def list_page(call: PageCall) -> Response:
    item = browsable(call.request.path_params["collection"])
    query = dict(call.request.query_params)
    error = None
    rows: list[Any] = []
    has_next = False
    shown: dict[str, str] = {}
    expression = (query.get("vars") or "").strip()
    try:
        filters, shown = _list_query(item, query)
        marker = query.get("marker")
        request = PageRequest(
            limit=PAGE_SIZE, marker=int(marker) if marker and marker.isdigit() else None, sort_keys=("name", "id")
        )
        # vars conditions match resolved values; the list shows the rows' fields only
        show = dataclasses.replace(objects.ROWS_ONLY, resolved=True)
        wanted = dataclasses.replace(filters, page=request, vars=expression, show=show)
        listing = objects.read_page(call.conn, call.principal, item.kind, wanted)
        rows, has_next = listing.rows, listing.page.has_next
    except CratonError as exc:
        error = str(exc)
    return call.render(
        "list.html",
        item=item,
        rows=rows,
        has_next=has_next,
        filters=shown,
        vars_expression=expression,
        error=error,
        query={k: v for k, v in query.items() if k != "marker" and v},
        columns=[f for f in item.fields if f not in ("created_at", "updated_at", "project_id")][:8],
        links=LINKS,
    )


def _children(call: PageCall, item: Browsable, row: Any) -> list[dict[str, Any]]:
    found = []
    for slug, column in item.children:
        child = BROWSABLE[slug]
        wanted = objects.ListQuery(
            page=PageRequest(limit=PAGE_SIZE, sort_keys=("name", "id")),
            equal={column: row["id"]},
            show=objects.ROWS_ONLY,
        )
        listing = objects.read_page(call.conn, call.principal, child.kind, wanted)
        if listing.rows:
            found.append({"item": child, "rows": listing.rows, "more": listing.page.has_next, "column": column})
    return found


def detail(call: PageCall) -> Response:
    slug = call.request.path_params["collection"]
    if slug == "devices":  # parent_id and device_id links do not say which kind of device
        kind = devices.ANY_DEVICE
        row = objects.read(call.conn, call.principal, kind, object_id(call, kind), objects.ROWS_ONLY).row
        return RedirectResponse(f"/ui/{device_slug(row)}/{row['id']}", status_code=303)
    item = browsable(slug)
    own_only = call.request.query_params.get("own") == "1"
    # the values with where each comes from (own or resolved), and a device's labels
    show = Show(blame=item.has_variables, resolved=not own_only, labels=item.has_labels, links=False)
    read = objects.read(call.conn, call.principal, item.kind, object_id(call, item.kind), show)
    row = read.row
    variables = (read.details.blame or {}).get(row["id"], {})
    labels = (read.details.labels or {}).get(row["id"], [])
    return call.render(
        "detail.html",
        item=item,
        row=row,
        fields=item.fields,
        links=LINKS,
        labels=labels,
        variables=dict(sorted(variables.items())),
        own_only=own_only,
        editable=item.has_variables,
        children=_children(call, item, row),
        etag=read.etag,
        as_json=lambda value: json.dumps(value, sort_keys=True),
    )


def history(call: PageCall) -> Response:
    """The object's changes, newest first, and its resolved variables at a chosen time."""
    item = browsable(call.request.path_params["collection"])
    row_id = object_id(call, item.kind)
    marker = call.request.query_params.get("marker")
    request = PageRequest(
        limit=PAGE_SIZE, marker=int(marker) if marker and marker.isdigit() else None, sort_keys=("id",), sort_dir="desc"
    )
    try:
        page = history_feed.entries_for(call.conn, call.principal, item.kind, row_id, request)
        rows, has_next = page.rows, page.has_next
    except NotFound:
        rows, has_next = [], False  # made before history was kept (or bulk-loaded): none yet, if it exists
    current = None
    if not rows or rows[0]["action"] != "delete":
        current = tenancy.get(call.conn, call.principal, item.kind, row_id)
    point_in_time = _point_in_time(call, item, row_id) if item.has_variables else None
    return call.render(
        "history.html",
        item=item,
        row_id=row_id,
        name=current["name"] if current else rows[0]["resource_name"],
        entries=rows,
        has_next=has_next,
        current=current,
        point=point_in_time,
        as_json=lambda value: json.dumps(value, sort_keys=True),
    )


def _point_in_time(call: PageCall, item: Browsable, row_id: int) -> dict[str, Any] | None:
    """Resolved variables "as of" one time, or the diff between two, when the form asked."""
    params = call.request.query_params
    as_of, diff_from, diff_to = params.get("as_of"), params.get("diff_from"), params.get("diff_to")
    if not diff_from and not as_of:
        return None
    try:
        found = variable_domain.read_variables(
            call.conn,
            call.principal,
            item.kind,
            row_id,
            resolved=True,
            as_of=None if diff_from else as_of,
            diff_from=diff_from or None,
            diff_to=(diff_to or None) if diff_from else None,
        )
    except CratonError as exc:
        return {"error": str(exc), "as_of": as_of or "", "diff_from": diff_from or "", "diff_to": diff_to or ""}
    if isinstance(found, variable_domain.VariablesDiff):
        return {"diff": found.changes, "diff_from": diff_from, "diff_to": diff_to or ""}
    return {"as_of": as_of, "variables": found.variables}


# Interfaces are found through their devices; every other browsed kind is searched.
SEARCHED = tuple(slug for slug, item in BROWSABLE.items() if item.info.parents or item.info.nested)
SEARCH_LIMIT = 20


def search(call: PageCall) -> Response:
    """Name, IP address, label, variable key or key=value, across kinds; a bounded list per kind."""
    text = (call.request.query_params.get("q") or "").strip()
    results: list[dict[str, Any]] = []
    error = None
    try:
        matching = objects.Matching.parse(text)
    except CratonError as exc:  # a bad key=value: said, and the other ways of matching still searched
        error, matching = str(exc), objects.Matching(text)
    for slug in SEARCHED if text else ():
        item = BROWSABLE[slug]
        wanted = objects.ListQuery(
            page=PageRequest(limit=SEARCH_LIMIT, sort_keys=("name", "id")), matching=matching, show=objects.ROWS_ONLY
        )
        listing = objects.read_page(call.conn, call.principal, item.kind, wanted)
        if listing.rows:
            results.append({"item": item, "rows": listing.rows, "more": listing.page.has_next})
    return call.render("search.html", q=text, results=results, error=error)


def inventory(call: PageCall) -> Response:
    """The Ansible inventory of the project (or one region/cell), to view or download."""
    params = call.request.query_params
    filters = inventory_domain.Filters(
        region_id=int(params["region_id"]) if params.get("region_id", "").isdigit() else None,
        cell_id=int(params["cell_id"]) if params.get("cell_id", "").isdigit() else None,
    )
    text = b"".join(inventory_domain.render(call.conn, call.principal, filters)).decode()
    if params.get("download") == "1":
        return Response(
            text,
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="inventory.json"'},
        )
    pretty = json.dumps(json.loads(text), indent=2, sort_keys=True)
    return call.render(
        "inventory.html", text=pretty, region_id=params.get("region_id", ""), cell_id=params.get("cell_id", "")
    )
