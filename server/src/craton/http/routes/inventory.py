"""/v1/ansible-inventory: the JSON ``ansible-inventory --list`` expects, with ETag revalidation."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import Response

from craton.domain import inventory, vars_query
from craton.http.endpoint import Call, Operation, build_route
from craton.http.validation import Param

WARNING_HEADER = "X-Craton-Warning"
PARAMS = {
    "cloud_id": Param("integer"),
    "region_id": Param("integer"),
    "cell_id": Param("integer"),
    "label": Param(
        "string",
        schema={"maxLength": 255},
        description="Only hosts that carry all of these labels: repeat the parameter or separate with commas.",
        repeated=True,
    ),
    "vars": Param("string", description="Only hosts whose resolved variables match"),
    "network_devices": Param(
        "boolean", False, description="Include network devices as inventory hosts, grouped like hosts."
    ),
    "group_by": Param(
        "string",
        schema={"enum": [*inventory.GROUPINGS, "none"]},
        description="Which groups to build: any of cloud, region, cell, label, device_type, repeated or "
        "separated by commas (default: region,cell,label); 'none' for no groups at all.",
        repeated=True,
    ),
}


def ansible_inventory(call: Call) -> Response:
    query = call.query
    filters = inventory.Filters(
        cloud_id=query["cloud_id"],
        region_id=query["region_id"],
        cell_id=query["cell_id"],
        labels=query["label"] or [],
        conditions=vars_query.parse(query["vars"]) if query["vars"] else [],
        network_devices=query["network_devices"],
        group_by=tuple(g for g in query["group_by"] if g != "none")
        if query["group_by"]
        else inventory.DEFAULT_GROUPING,
    )
    state = inventory.fingerprint(call.conn, call.principal)
    identity = f"{state}|{call.principal.project_id}|{call.principal.role}|{sorted(query.items())}"
    etag = '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    wanted = call.request.headers.get("if-none-match", "")
    if etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    report: dict[str, Any] = {}
    body = b"".join(inventory.render(call.conn, call.principal, filters, report))
    invalid = report.get("invalid_variable_names")
    if invalid:
        headers[WARNING_HEADER] = (
            f"{len(invalid['hosts'])} host(s) and {len(invalid['groups'])} group(s) have variable keys that are "
            "not valid Ansible variable names; see _meta.invalid_variable_names"
        )
    return Response(body, media_type="application/json", headers=headers)


ROUTES = [
    build_route(
        "/v1/ansible-inventory", [Operation("GET", ansible_inventory, query=PARAMS, summary="Ansible inventory")]
    )
]
