"""/v1/export: the caller's project, or one cloud, region or cell of it, as a fleet document.

The document (domain/fleet.py, docs/import-export.md) is written as JSON, or as YAML
for people who edit it by hand.
"""

from __future__ import annotations

import orjson
import yaml
from starlette.responses import Response

from craton.domain import fleet
from craton.http.endpoint import Call, Operation, build_route
from craton.http.validation import Param

PARAMS = {
    "format": Param("string", "json", schema={"enum": ["json", "yaml"]}, description="json (default) or yaml."),
    "cloud_id": Param("integer", description="Export only this cloud."),
    "region_id": Param("integer", description="Export only this region (with its cloud's name and variables)."),
    "cell_id": Param("integer", description="Export only this cell (with its region's and cloud's)."),
}
# libyaml's emitter when PyYAML was built with it: several times faster on large fleets.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def export(call: Call) -> Response:
    query = call.query
    subtree = fleet.Subtree(cloud_id=query["cloud_id"], region_id=query["region_id"], cell_id=query["cell_id"])
    document = fleet.export(call.conn, call.principal, subtree)
    headers = {"Content-Disposition": f'attachment; filename="fleet.{query["format"]}"'}
    if query["format"] == "yaml":
        text = yaml.dump(document, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=1000)
        return Response(text.encode(), media_type="application/yaml", headers=headers)
    return Response(orjson.dumps(document), media_type="application/json", headers=headers)


ROUTES = [
    build_route(
        "/v1/export",
        [Operation("GET", export, query=PARAMS, summary="Export the fleet as one document")],
    )
]
