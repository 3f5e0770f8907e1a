"""craton.fleet: the streamed export and the import, against a real server on loopback.

A document exported from one project and imported into another must read the same there;
a file is uploaded as it is read, with progress; a refused document raises BadRequest
carrying every problem; the change reason reaches the history records.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cratonclient import exceptions as exc
from cratonclient.v1.client import Client
from tests.client.conftest import Tenant

EMPTY_COUNTS = {
    "clouds": 0,
    "regions": 0,
    "cells": 0,
    "hosts": 0,
    "network_devices": 0,
    "networks": 0,
    "network_interfaces": 0,
}


def _fleet(craton: Client, hosts: int = 3) -> None:
    cloud = craton.clouds.create(name="cloud-a", variables={"pkgs": ["base"]})
    region = craton.regions.create(name="region-1", cloud_id=cloud.id, variables={"dc": "fra"})
    cell = craton.cells.create(name="cell-x", region_id=region.id, cloud_id=cloud.id)
    for n in range(hosts):
        craton.hosts.create(
            name=f"host-{n}",
            region_id=region.id,
            cloud_id=cloud.id,
            cell_id=cell.id,
            device_type="server",
            ip_address=f"10.0.0.{n + 1}",
            labels=["web"],
            variables={"n": n},
        )


def _without_project(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "project"}


def test_the_export_streams_in_chunks_and_reads_as_the_document(craton: Client) -> None:
    _fleet(craton)
    whole = craton.fleet.export()
    chunks = list(craton.fleet.export_stream(chunk_size=100))
    assert len(chunks) > 1
    assert yaml.safe_load(b"".join(chunks)) == whole
    text = b"".join(craton.fleet.export_stream("yaml")).decode()
    assert yaml.safe_load(text) == whole == yaml.safe_load(craton.fleet.export_yaml())
    with pytest.raises(exc.NotFound):
        next(craton.fleet.export_stream(cloud_id=999_999_999))
    with pytest.raises(ValueError, match="format"):
        next(craton.fleet.export_stream("csv"))


def test_an_exported_document_imports_into_another_project(
    craton: Client, new_tenant: Callable[..., Tenant], tmp_path: Path
) -> None:
    _fleet(craton)
    document = craton.fleet.export()
    other = new_tenant().craton

    checked = other.fleet.import_(document, dry_run=True)
    assert checked["dry_run"] is True and checked["mode"] == "upsert"
    assert checked["created"] == {**EMPTY_COUNTS, "clouds": 1, "regions": 1, "cells": 1, "hosts": 3}
    assert other.fleet.export()["clouds"] == []  # a dry run writes nothing

    path = tmp_path / "fleet.yaml"
    path.write_bytes(b"".join(craton.fleet.export_stream("yaml")))
    reports: list[tuple[int, int | None]] = []
    done = other.fleet.import_(
        path, mode="create", reason="move to the new project", progress=lambda *r: reports.append(r)
    )
    assert done["created"]["hosts"] == 3 and done["dry_run"] is False
    assert reports[0] == (0, path.stat().st_size) and reports[-1] == (path.stat().st_size, path.stat().st_size)
    assert _without_project(other.fleet.export()) == _without_project(document)
    hosts = [change for change in other.changes.list() if change.resource_type == "host"]
    assert len(hosts) >= 3 and {change.reason for change in hosts} == {"move to the new project"}

    again = other.fleet.import_(str(path))  # a one-line str naming a file is that file
    assert again["unchanged"]["hosts"] == 3 and again["created"] == EMPTY_COUNTS


def test_text_bytes_and_file_objects_with_their_formats(craton: Client) -> None:
    csv = b"cloud,region,name,device_type,ip_address,labels\nc1,r1,web-1,server,10.0.0.2,web;prod\n"
    assert craton.fleet.import_(csv, format="csv")["created"]["hosts"] == 1
    document = craton.fleet.export()
    assert craton.fleet.import_(yaml.safe_dump(document))["unchanged"]["hosts"] == 1  # YAML text
    assert craton.fleet.import_(io.BytesIO(csv), format="csv")["unchanged"]["hosts"] == 1
    with pytest.raises(ValueError, match="give format"):
        craton.fleet.import_(io.BytesIO(csv))
    with pytest.raises(ValueError, match="mode"):
        craton.fleet.import_(document, mode="merge")


def test_a_refused_document_raises_bad_request_with_every_problem(craton: Client) -> None:
    document = {
        "format": "craton-fleet",
        "version": 1,
        "clouds": [
            {
                "name": "c",
                "regions": [
                    {
                        "name": "r",
                        "devices": [
                            {"kind": "host", "name": "a", "device_type": "server", "ip_address": "10.0.0.300"},
                            {
                                "kind": "host",
                                "name": "b",
                                "device_type": "server",
                                "ip_address": "10.0.0.1",
                                "parent": "x",
                            },
                        ],
                    }
                ],
            }
        ],
    }
    with pytest.raises(exc.BadRequest) as refused:
        craton.fleet.import_(document)
    assert refused.value.status_code == 400
    assert "2 problem" in refused.value.message
    wheres = [problem["where"] for problem in refused.value.errors]
    assert wheres == ["/clouds/0/regions/0/devices/0/ip_address", "/clouds/0/regions/0/devices/1/parent"]
    assert all(problem["message"] for problem in refused.value.errors)
    assert craton.fleet.export()["clouds"] == []

    with pytest.raises(exc.BadRequest) as unconfirmed:
        craton.fleet.import_({"format": "craton-fleet", "version": 1, "clouds": []}, mode="sync")
    assert "confirm" in unconfirmed.value.message + (unconfirmed.value.detail or "")
    assert unconfirmed.value.errors == []
