"""One factory for the routes every resource shares.

A :class:`Resource` declares the wire details of one collection (path, JSON
key, fields, body schemas, list filters, resolution defaults); the functions
here turn it into list/get/create/update/delete and variables routes that all
validate, paginate, scope and shape responses the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from starlette.responses import Response
from starlette.routing import Route

from craton.domain import objects
from craton.domain import variables as variable_domain
from craton.domain.errors import InvalidInput
from craton.domain.history import feed as history_feed
from craton.domain.kinds import Kind, Row
from craton.domain.readmodel import Item, Show
from craton.http import preview, schemas
from craton.http.endpoint import Call, Operation, build_route
from craton.http.jsonio import JSONResponse
from craton.http.pagination import links, page_request, pagination_params
from craton.http.representation import Shape, present, present_one
from craton.http.urls import base_url
from craton.http.validation import Param

NAME_CONTAINS = Param(
    "string",
    schema={"maxLength": 255},
    description="Only objects whose name contains this text, ignoring case ('name' is an exact match).",
)


def boolean(default: bool | None) -> Param:
    return Param("boolean", default)


@dataclass(frozen=True)
class Resource:
    kind: Kind
    shape: Shape
    create_body: Mapping[str, Any] | None = None
    update_body: Mapping[str, Any] | None = None
    filters: Mapping[str, Param] = field(default_factory=dict)
    filter_columns: Mapping[str, str] = field(default_factory=dict)
    resolves: bool = False
    variables_resolve: bool = False
    details_default: bool | None = False
    ip_fields: tuple[str, ...] = ()
    #: Create-body fields accepted for compatibility and never stored.
    ignored_fields: tuple[str, ...] = ()
    update_params: Mapping[str, Param] = field(default_factory=dict)
    single_lookup: bool = False

    @property
    def path(self) -> str:
        return self.kind.info.path

    @property
    def key(self) -> str:
        """The JSON key of lists, and the route names' prefix."""
        return self.kind.info.collection

    @property
    def singular(self) -> str:
        """``host``, ``network device``: how summaries name one object."""
        return self.kind.label.lower()

    @property
    def a(self) -> str:
        """``a host``, ``an interface``."""
        return f"{'an' if self.singular[0] in 'aeiou' else 'a'} {self.singular}"

    @property
    def plural(self) -> str:
        return self.key.replace("_", " ").replace("-", " ")

    @property
    def marker_type(self) -> str:
        return "string" if self.kind.info.text_ids else "integer"

    def list_params(self) -> dict[str, Param]:
        params = dict(self.filters)
        params["name_contains"] = NAME_CONTAINS
        if self.kind.info.has_variables:
            params["vars"] = Param("string", description='Variable conditions, e.g. a.b:"x",c:1')
        params["details"] = boolean(self.details_default)
        params["blame"] = boolean(None)
        params["resolved-values"] = boolean(self.resolves)
        params.update(pagination_params(self.marker_type))
        return params


_JSON_TYPES = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    dt.datetime: {"type": "string", "format": "date-time"},
}


def _column_schema(column: sa.Column[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_JSON_TYPES.get(column.type.python_type, {"type": "string"}))
    if column.nullable:
        schema["nullable"] = True
    return schema


LINKS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}},
        "required": ["href", "rel"],
    },
}
VARIABLES_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {"variables": {"type": "object"}},
    "required": ["variables"],
}


def item_schema(table: sa.Table, shape: Shape) -> dict[str, Any]:
    """The documented JSON object of one resource, from its columns."""
    properties = {name: _column_schema(table.c[name]) for name in shape.fields}
    properties["variables"] = {"type": "object"}
    if shape.device:
        properties["labels"] = {"type": "array", "items": {"type": "string"}}
        properties["links"] = LINKS_SCHEMA
    return {"type": "object", "properties": properties, "required": list(shape.fields)}


def list_schema(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "array", "items": item}, "links": LINKS_SCHEMA},
        "required": [key, "links"],
    }


def normalise_addresses(values: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if values.get(name) is not None:
            try:
                values[name] = str(ipaddress.ip_address(values[name]))
            except ValueError:
                raise InvalidInput(f"{name}: {values[name]!r} is not a valid IPv4 or IPv6 address.") from None


def list_query(res: Resource, call: Call) -> objects.ListQuery:
    """A list request in the domain's terms: filters, ``vars``, the page and what items show."""
    query = call.query
    details = bool(query["details"])
    resolved = bool(query.get("resolved-values"))
    device = res.kind.info.has_labels
    return objects.ListQuery(
        page=page_request(query),
        equal={column: query[param] for param, column in res.filter_columns.items() if query.get(param) is not None},
        name_contains=query.get("name_contains") or None,
        vars=query.get("vars"),
        labels=(query.get("label") or []) if device else (),
        ip_address=query.get("ip_address") if device else None,
        parent_id=query.get("parent_id") if device else None,
        descendants=bool(query.get("descendants")),
        show=Show(variables=details, resolved=resolved, blame=details and bool(query.get("blame"))),
    )


def _single_lookup(res: Resource, call: Call) -> Response:
    found = objects.lookup(
        call.conn,
        call.principal,
        res.kind,
        row_id=call.query.get("id"),
        name=call.query.get("name"),
        name_contains=call.query.get("name_contains"),
    )
    return JSONResponse({res.key: present(call.request, res.shape, found.rows, found.details), "links": []})


def list_operation(res: Resource) -> Operation:
    def handler(call: Call) -> Response:
        if res.single_lookup and (call.query.get("id") is not None or call.query.get("name") is not None):
            return _single_lookup(res, call)
        listing = objects.read_page(call.conn, call.principal, res.kind, list_query(res, call))
        items = present(call.request, res.shape, listing.rows, listing.details)
        return JSONResponse({res.key: items, "links": links(call.request, call.query, listing.page)})

    return Operation(
        "GET",
        handler,
        query=res.list_params(),
        summary=f"List {res.plural}, filtered and paginated",
        response=list_schema(res.key, item_schema(res.kind.table, res.shape)),
    )


def answer(call: Call, res: Resource, item: Item, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """One object as JSON, with its version as the ETag."""
    response = JSONResponse(present_one(call.request, res.shape, item), status_code=status, headers=headers)
    response.headers["ETag"] = item.etag
    return response


def get_operation(res: Resource) -> Operation:
    def handler(call: Call) -> Response:
        show = Show(variables=True, resolved=bool(call.query["resolved-values"]))
        return answer(call, res, objects.read(call.conn, call.principal, res.kind, call.path["id"], show))

    return Operation(
        "GET",
        handler,
        query={"resolved-values": boolean(res.resolves)},
        summary=f"Show {res.a} with its variables",
        response=item_schema(res.kind.table, res.shape),
    )


def create_operation(res: Resource) -> Operation:
    def handler(call: Call) -> Response:
        values = dict(call.body)
        variables = values.pop("variables", None) or {}
        for name in res.ignored_fields:
            values.pop(name, None)
        normalise_addresses(values, res.ip_fields)
        item = objects.create_item(call.conn, call.principal, res.kind, values, variables)
        location = f"{base_url(call.request)}{res.path}/{item.row['id']}"
        return answer(call, res, item, 201, {"Location": location})

    return Operation(
        "POST",
        handler,
        body=res.create_body,
        summary=f"Create {res.a}",
        success=201,
        response=item_schema(res.kind.table, res.shape),
    )


def update_operation(res: Resource) -> Operation:
    def handler(call: Call) -> Response:
        values = dict(call.body)
        normalise_addresses(values, res.ip_fields)
        item = objects.update_item(
            call.conn,
            call.principal,
            res.kind,
            call.path["id"],
            values,
            call.request.headers.get("if-match"),
            with_children=bool(call.query.get("with_children")),
        )
        return answer(call, res, item)

    return Operation(
        "PUT",
        handler,
        query=res.update_params,
        body=res.update_body,
        body_optional=True,
        summary=f"Rename {res.a}" if res.key == "projects" else f"Change fields of {res.a}",
        response=item_schema(res.kind.table, res.shape),
    )


def delete_operation(res: Resource) -> Operation:
    def handler(call: Call) -> Response:
        objects.delete(call.conn, call.principal, res.kind, call.path["id"], call.request.headers.get("if-match"))
        return Response(status_code=204, media_type="application/json")

    def delete(call: Call) -> dict[str, int]:
        return objects.delete(call.conn, call.principal, res.kind, call.path["id"])

    def count(call: Call) -> dict[str, int]:
        return objects.delete(call.conn, call.principal, res.kind, call.path["id"], preview=True)

    def counts(call: Call) -> Response:
        """The preview of a kind whose deletes reach no device: what it removes, nothing written."""
        return JSONResponse({"preview": {"deleted": count(call)}})

    op = Operation(
        "DELETE",
        handler,
        summary=f"Delete {res.a} and everything below it, or preview what would go",
        success=204,
    )
    if preview.reaches_devices(res.kind):
        return preview.previewable(op, res.kind, delete, deletes=True, count=count)
    return dataclasses.replace(
        op,
        handler=lambda call: counts(call) if call.query["preview"] else handler(call),
        query={"preview": preview.PARAMS["preview"]},
        other_responses={200: preview.RESPONSE},
    )


def variables_params(res: Resource) -> dict[str, Param]:
    return {
        "resolved-values": boolean(res.variables_resolve),
        "blame": boolean(False),
        "as_of": Param("string", description="ISO 8601 time: the variables as they were then"),
        "diff_from": Param("string", description="ISO 8601 time: what changed since then"),
        "diff_to": Param("string", description="ISO 8601 time ending the diff (default: now)"),
    }


def history_operation(res: Resource) -> Operation:
    params = pagination_params("integer")
    params["sort_keys"] = Param("string", "id")

    def handler(call: Call) -> Response:
        page = history_feed.entries_for(call.conn, call.principal, res.kind, call.path["id"], page_request(call.query))
        items = [change_item(row) for row in page.rows]
        return JSONResponse({"history": items, "links": links(call.request, call.query, page)})

    return Operation("GET", handler, query=params, summary=f"Change history of {res.a}")


def change_item(row: Row) -> dict[str, Any]:
    return {str(key): value for key, value in row.items()}


def variables_operations(res: Resource) -> list[Operation]:
    def read(call: Call) -> Response:
        query = call.query
        found = variable_domain.read_variables(
            call.conn,
            call.principal,
            res.kind,
            call.path["id"],
            resolved=bool(query["resolved-values"]),
            blame=bool(query["blame"]),
            as_of=query["as_of"],
            diff_from=query["diff_from"],
            diff_to=query["diff_to"],
        )
        if isinstance(found, variable_domain.VariablesDiff):
            return JSONResponse({"from": found.start, "to": found.end or "now", **found.changes})
        body: dict[str, Any] = {"variables": found.variables}
        if found.masks:  # only when there are any: Craton v1 clients see the v1 body
            body["masks"] = found.masks
        if found.as_of is not None:
            body["as_of"] = found.as_of
        if found.blame is not None:
            body["blame"] = found.blame
        response = JSONResponse(body)
        if found.etag is not None:
            response.headers["ETag"] = found.etag
        return response

    def write(call: Call) -> Response:
        written = variable_domain.set_variables(
            call.conn, call.principal, res.kind, call.path["id"], call.body, call.request.headers.get("if-match")
        )
        body: dict[str, Any] = {"variables": written.variables}
        masks = written.masks
        if masks:  # as the GET shows them: only when there are any, so v1 clients see the v1 body
            body["masks"] = masks
        response = JSONResponse(body)
        response.headers["ETag"] = written.etag
        return response

    def remove(call: Call) -> Response:
        variable_domain.remove_variables(
            call.conn, call.principal, res.kind, call.path["id"], call.body, call.request.headers.get("if-match")
        )
        return Response(status_code=204, media_type="application/json")

    return [
        Operation(
            "GET",
            read,
            query=variables_params(res),
            summary=f"Read the variables of {res.a}: own or resolved, with blame, as of a time or as a diff",
            response=VARIABLES_RESPONSE,
        ),
        preview.previewable(
            Operation(
                "PUT",
                write,
                body=schemas.VARIABLES,
                summary=f"Set variables of {res.a} (merged key by key)",
                response=VARIABLES_RESPONSE,
            ),
            res.kind,
            keyed=True,
        ),
        preview.previewable(
            Operation(
                "DELETE", remove, body=schemas.VARIABLE_KEYS, summary=f"Delete variable keys of {res.a}", success=204
            ),
            res.kind,
            keyed=True,
        ),
    ]


MASKS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {"masks": {"type": "array", "items": {"type": "string"}}},
    "required": ["masks"],
}


def masks_operations(res: Resource) -> list[Operation]:
    """``.../variables/masks``: keys the object does not inherit from the levels above it."""

    def read(call: Call) -> Response:
        return JSONResponse({"masks": variable_domain.masks(call.conn, call.principal, res.kind, call.path["id"])})

    def add(call: Call) -> Response:
        if_match = call.request.headers.get("if-match")
        written = variable_domain.mask(call.conn, call.principal, res.kind, call.path["id"], call.body, if_match)
        response = JSONResponse({"masks": written.masks})
        response.headers["ETag"] = written.etag
        return response

    def remove(call: Call) -> Response:
        if_match = call.request.headers.get("if-match")
        variable_domain.unmask(call.conn, call.principal, res.kind, call.path["id"], call.body, if_match)
        return Response(status_code=204, media_type="application/json")

    return [
        Operation("GET", read, summary="List masked variable keys", response=MASKS_RESPONSE),
        preview.previewable(
            Operation(
                "PUT",
                add,
                body=schemas.MASK_KEYS,
                summary="Mask variable keys: stop inheriting them from the levels above",
                response=MASKS_RESPONSE,
            ),
            res.kind,
            keyed=True,
        ),
        preview.previewable(
            Operation("DELETE", remove, body=schemas.MASK_KEYS, summary="Unmask variable keys", success=204),
            res.kind,
            keyed=True,
        ),
    ]


def routes(res: Resource, create: Operation | None = None) -> list[Route]:
    """Collection, item and variables routes for ``res``."""
    collection = [list_operation(res)]
    if create is not None or res.create_body is not None:
        collection.append(create or create_operation(res))
    item = [get_operation(res)]
    if res.kind.delete is not None:
        item.append(delete_operation(res))
    if res.update_body is not None:
        item.append(preview.previewable(update_operation(res), res.kind))
    built = [
        build_route(res.path, collection, name=res.key),
        build_route(res.path + "/{id}", item, name=f"{res.key}_id"),
    ]
    if res.kind.info.has_variables:
        built.append(build_route(res.path + "/{id}/variables", variables_operations(res), name=f"{res.key}_variables"))
        built.append(
            build_route(res.path + "/{id}/variables/masks", masks_operations(res), name=f"{res.key}_variable_masks")
        )
    built.append(build_route(res.path + "/{id}/history", [history_operation(res)], name=f"{res.key}_history"))
    return built
