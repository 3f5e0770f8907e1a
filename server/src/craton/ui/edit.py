"""Pages that write. Every form carries the object's version (ETag), checked exactly as the
API checks If-Match, and an optional reason that goes into the history; a conflict shows
both versions and keeps what the person typed, so nothing is overwritten or lost.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from starlette.responses import RedirectResponse, Response

from craton.domain import devices, objects, tenancy, versions
from craton.domain import variables as variable_domain
from craton.domain.errors import CratonError, InvalidInput, PreconditionFailed
from craton.http import schemas
from craton.http.jsonio import parse_body
from craton.http.validation import check
from craton.ui.catalog import Browsable, browsable, object_id
from craton.ui.pipeline import PageCall


def _parse_variables(call: PageCall, text: str) -> dict[str, Any]:
    """The JSON editor's text, under the same rules as a variables PUT body."""
    settings = call.request.app.state.settings
    value = parse_body(text.encode("utf-8"), "application/json", settings.max_json_depth)
    if not isinstance(value, dict):
        raise InvalidInput('Variables must be a JSON object, for example {"ntp": "10.0.0.1"}.')
    check(schemas.VARIABLES, value)
    return value


def variables_form(call: PageCall) -> Response:
    """GET: the own variables in a JSON editor, with the version they were read at."""
    item = browsable(call.request.path_params["collection"])
    if not item.has_variables:
        raise InvalidInput(f"{item.title} have no variables.")
    own = variable_domain.read_variables(
        call.conn, call.principal, item.kind, object_id(call, item.kind), resolved=False
    )
    assert isinstance(own, variable_domain.VariablesRead), "a read of now, not a diff"
    return call.render(
        "variables_edit.html",
        item=item,
        row=own.row,
        text=json.dumps(own.variables, indent=2, sort_keys=True),
        etag=own.etag,
        reason="",
        error=None,
        conflict=None,
    )


def variables_save(call: PageCall) -> Response:
    """POST: replace the own variables with the edited document, if nobody changed them meanwhile."""
    item = browsable(call.request.path_params["collection"])
    row_id = object_id(call, item.kind)
    text = call.form.get("variables", "")
    etag = call.form.get("etag", "")
    reason = call.form.get("reason", "")
    row = variable_domain.owning_row(call.conn, call.principal, item.kind, row_id)

    def again(status: int, error: str | None, conflict: dict[str, Any] | None = None) -> Response:
        return call.render(
            "variables_edit.html",
            status_code=status,
            item=item,
            row=row,
            text=text,
            etag=etag if conflict is None else conflict["etag"],
            reason=reason,
            error=error,
            conflict=conflict,
        )

    try:
        wanted = _parse_variables(call, text)
    except CratonError as exc:
        return again(400, str(exc))
    current = variable_domain.read(call.conn, item.kind, row, resolved=False)
    try:
        versions.check_version(call.conn, call.principal, item.kind, row_id, etag or '""')
    except PreconditionFailed:
        fresh = tenancy.get(call.conn, call.principal, item.kind, row_id)
        return again(
            409,
            "Someone changed this object after you opened the editor. Nothing was saved: compare both "
            "versions, then save again to replace theirs with yours.",
            {
                "theirs": json.dumps(current, indent=2, sort_keys=True),
                "etag": versions.version_tag(item.kind, fresh),
            },
        )
    removed = sorted(current.keys() - wanted.keys())
    changed = {key: value for key, value in wanted.items() if key not in current or current[key] != value}
    if changed:
        variable_domain.merge(call.conn, call.principal, item.kind, row_id, changed)
    if removed:
        variable_domain.remove(call.conn, call.principal, item.kind, row_id, removed)
    return RedirectResponse(f"/ui/{item.slug}/{row_id}?saved=1", status_code=303)


def _counts_text(deleted: dict[str, int], item: Browsable) -> list[str]:
    """ "1 cell", "13 hosts": what goes besides the object itself, largest kinds first."""
    parts = []
    for collection, count in deleted.items():
        if collection == item.info.collection:
            count -= 1
        if count > 0:
            noun = collection.replace("_", " ")
            parts.append(f"{count} {noun[:-1] if count == 1 and noun.endswith('s') else noun}")
    return parts


def delete_form(call: PageCall) -> Response:
    """GET: what the delete would remove (the API's ?preview=true), and a form to confirm it."""
    item = browsable(call.request.path_params["collection"])
    row_id = object_id(call, item.kind)
    row = tenancy.get(call.conn, call.principal, item.kind, row_id)
    deleted = objects.delete(call.conn, call.principal, item.kind, row_id, preview=True)
    return call.render(
        "delete.html",
        item=item,
        row=row,
        below=_counts_text(deleted, item),
        etag=versions.version_tag(item.kind, row),
        error=None,
    )


def delete(call: PageCall) -> Response:
    """POST: delete the object and what hangs below it, if it is still at the version confirmed."""
    item = browsable(call.request.path_params["collection"])
    row_id = object_id(call, item.kind)
    row = tenancy.get(call.conn, call.principal, item.kind, row_id)
    try:
        objects.delete(call.conn, call.principal, item.kind, row_id, call.form.get("etag") or '""')
    except PreconditionFailed:
        deleted = objects.delete(call.conn, call.principal, item.kind, row_id, preview=True)
        return call.render(
            "delete.html",
            status_code=409,
            item=item,
            row=row,
            below=_counts_text(deleted, item),
            etag=versions.version_tag(item.kind, tenancy.get(call.conn, call.principal, item.kind, row_id)),
            error="It changed after you opened this page; check what would go and confirm again.",
        )
    return RedirectResponse(f"/ui/{item.slug}?deleted={urllib.parse.quote(row['name'])}", status_code=303)


def labels_save(call: PageCall) -> Response:
    """POST: add and remove labels of a device in one go (the API's PUT and DELETE .../labels)."""
    item = browsable(call.request.path_params["collection"])
    if not item.has_labels:
        raise InvalidInput(f"{item.title} have no labels.")
    row_id = object_id(call, item.kind)
    wanted = sorted({label.strip() for label in call.form.get("labels", "").split(",") if label.strip()})
    check(schemas.LABELS, wanted)
    devices.set_labels(call.conn, call.principal, item.kind, row_id, wanted, call.form.get("etag") or '""')
    return RedirectResponse(f"/ui/{item.slug}/{row_id}?saved=1", status_code=303)
