"""/v1/export: the caller's project, or one cloud, region or cell of it, as a fleet document.

The document (domain/fleet.py, docs/import-export.md) is written as JSON, or as YAML
for people who edit it by hand, while it is read: the answer is streamed from one
snapshot of the database, so a fleet of any size costs the server the same memory.
"""

from __future__ import annotations

from craton.domain import fleet, fleet_text
from craton.http.endpoint import Call, Operation, Streamed, build_route
from craton.http.validation import Param

PARAMS = {
    "format": Param("string", "json", schema={"enum": ["json", "yaml"]}, description="json (default) or yaml."),
    "cloud_id": Param("integer", description="Export only this cloud."),
    "region_id": Param("integer", description="Export only this region (with its cloud's name and variables)."),
    "cell_id": Param("integer", description="Export only this cell (with its region's and cloud's)."),
}


def export(call: Call) -> Streamed:
    query = call.query
    subtree = fleet.Subtree(cloud_id=query["cloud_id"], region_id=query["region_id"], cell_id=query["cell_id"])
    # Permissions and the subtree are checked here: a 403 or 404 is answered before any byte.
    # Each batch of devices is read while the one before is written (fleet.ReadAhead), but on SQLite.
    read_ahead = fleet.read_ahead_for(call.conn)
    document = fleet.open_document(call.conn, call.principal, subtree, read_ahead)
    chunks = fleet_text.chunks(document, query["format"])
    return Streamed(
        read_ahead.closing(chunks) if read_ahead is not None else chunks,
        media_type=fleet_text.MEDIA_TYPES[query["format"]],
        headers={"Content-Disposition": f'attachment; filename="fleet.{query["format"]}"'},
    )


ROUTES = [
    build_route(
        "/v1/export",
        [Operation("GET", export, query=PARAMS, summary="Export the fleet as one document", streams=True)],
    )
]
