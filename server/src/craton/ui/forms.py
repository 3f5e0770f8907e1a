"""Create and edit forms, generated from the API's own request schemas.

The fields of a form are the properties of the kind's create (or update) body; what the
browser sends is turned into typed values and checked against the same schema as an API
request, so a form can accept exactly what the API accepts and explains refusals in the
API's words. An edit sends only the fields that changed, with the version it was read at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import RedirectResponse, Response

from craton.domain import objects, tenancy, versions
from craton.domain.errors import CratonError, InvalidInput, PreconditionFailed
from craton.domain.kinds import Row
from craton.http.resources import normalise_addresses
from craton.http.validation import check
from craton.ui.catalog import Browsable, browsable
from craton.ui.pipeline import PageCall, Refused

NOT_ON_FORMS = ("variables", "project_id")  # variables have their own editor; the project is the caller's


@dataclass(frozen=True)
class Field:
    name: str
    types: frozenset[str]
    required: bool

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize().replace(" id", " ID").replace("Ip ", "IP ")

    @property
    def input_type(self) -> str:
        if "boolean" in self.types:
            return "checkbox"
        return "number" if "integer" in self.types else "text"


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(kind)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option)
    return frozenset(found)


def fields_of(schema: Mapping[str, Any] | None) -> list[Field]:
    if not schema:
        return []
    required = set(schema.get("required", []))
    return [
        Field(name, _types(prop), name in required)
        for name, prop in schema.get("properties", {}).items()
        if name not in NOT_ON_FORMS
    ]


def typed_values(fields: list[Field], form: Mapping[str, str], current: Row | None) -> dict[str, Any]:
    """What the form says, as the API's JSON would say it; on an edit, only what changed."""
    values: dict[str, Any] = {}
    for field in fields:
        raw = form.get(field.name)
        if "boolean" in field.types:
            value: Any = raw is not None
        elif field.name == "labels":
            value = sorted({label.strip() for label in (raw or "").split(",") if label.strip()})
            if not value:
                continue
        elif raw is None or raw.strip() == "":
            if current is None or "null" not in field.types or current.get(field.name) is None:
                continue
            value = None
        elif "integer" in field.types:
            if not raw.strip().lstrip("-").isdigit():
                raise InvalidInput(f"{field.label} must be a whole number.")
            value = int(raw)
        else:
            value = raw.strip() if field.name not in ("note",) else raw
        if current is None or current.get(field.name) != value:
            values[field.name] = value
    return values


def _render(call: PageCall, item: Browsable, row: Row | None, form: Mapping[str, Any], **extra: Any) -> Response:
    schema = item.resource.update_body if row is not None else item.resource.create_body
    return call.render(
        "object_form.html",
        item=item,
        row=row,
        fields=fields_of(schema),
        form=form,
        etag=extra.pop("etag", versions.version_tag(item.kind, row) if row is not None else ""),
        **extra,
    )


def _shown(row: Row, fields: list[Field]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for field in fields:
        value = row.get(field.name)
        shown[field.name] = "" if value is None else value
    return shown


def new_form(call: PageCall) -> Response:
    item = browsable(call.request.path_params["collection"])
    if item.resource.create_body is None:
        raise InvalidInput(f"{item.title} are not created here.")
    return _render(call, item, None, dict(call.request.query_params), error=None)


def _submitted(
    item: Browsable, schema: Mapping[str, Any] | None, form: Mapping[str, str], row: Row | None
) -> dict[str, Any]:
    """The form's values, typed, checked by the API's schema and with addresses normalised."""
    if schema is None:
        raise InvalidInput(f"{item.title} are not {'edited' if row else 'created'} here.")
    values = typed_values(fields_of(schema), form, row)
    check(schema, values)
    normalise_addresses(values, item.resource.ip_fields)
    return values


def create(call: PageCall) -> Response:
    item = browsable(call.request.path_params["collection"])
    try:
        values = _submitted(item, item.resource.create_body, call.form, None)
        row = objects.create(call.conn, call.principal, item.kind, values)
    except CratonError as exc:
        raise Refused(_render(call, item, None, call.form, error=str(exc)), exc.status) from None
    return RedirectResponse(f"/ui/{item.slug}/{row['id']}?saved=1", status_code=303)


def edit_form(call: PageCall) -> Response:
    item = browsable(call.request.path_params["collection"])
    row = tenancy.get(call.conn, call.principal, item.kind, call.request.path_params["id"])
    return _render(call, item, row, _shown(row, fields_of(item.resource.update_body)), error=None)


def update(call: PageCall) -> Response:
    item = browsable(call.request.path_params["collection"])
    row = tenancy.get(call.conn, call.principal, item.kind, call.request.path_params["id"])
    try:
        values = _submitted(item, item.resource.update_body, call.form, row)
        objects.update(call.conn, call.principal, item.kind, row["id"], values, call.form.get("etag") or '""')
    except PreconditionFailed:
        fresh = tenancy.get(call.conn, call.principal, item.kind, row["id"])
        message = "Someone changed this object after you opened the form. Nothing was saved: check the current values."
        theirs = _shown(fresh, fields_of(item.resource.update_body))
        raise Refused(_render(call, item, fresh, call.form, error=message, theirs=theirs), 409) from None
    except CratonError as exc:
        raise Refused(_render(call, item, row, call.form, error=str(exc)), exc.status) from None
    return RedirectResponse(f"/ui/{item.slug}/{row['id']}?saved=1", status_code=303)
