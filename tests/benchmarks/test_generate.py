"""benchmarks/generate.py at tiny sizes: the rows it writes, and the API reading them back.

The benchmarks themselves are not run by pytest; this only guards the data
generator they (and the Ansible inventory benchmark) depend on.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from benchmarks.generate import MERGED_KEYS, TAG_KEYS, generate
from craton.storage.engine import create_engine
from craton.storage.tables import cells, clouds, devices, labels, projects, regions, variables
from tests.conftest import BACKENDS, running_server, throwaway_database

TINY = {
    "clouds": 2,
    "regions": 3,
    "cells": 4,
    "hosts": 24,
    "network_devices": 5,
    "vars_min": 3,
    "vars_max": 6,
    "labels": 2,
}


def _headers(fleet: dict[str, Any]) -> dict[str, str]:
    return {"X-Auth-Project": fleet["project_id"], "X-Auth-User": fleet["username"], "X-Auth-Token": fleet["api_key"]}


def _walk(client: Any, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    for _ in range(100):
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body[key])
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if url is None:
            return items
    raise AssertionError("too many pages")


def _own_variables(conn: sa.Connection, kind: str, owner_id: Any) -> dict[str, Any]:
    rows = conn.execute(
        sa.select(variables.c.key, variables.c.value).where(
            variables.c.owner_kind == kind, variables.c.owner_id == str(owner_id)
        )
    )
    return dict(rows.all())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('generate') / 'fleet.sqlite'}"
    return generate(url, seed=3, **TINY)


def test_counts_and_shape(fleet: dict[str, Any]) -> None:
    engine = create_engine(fleet["database_url"])
    with engine.connect() as conn:
        count = lambda table, *where: conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()  # noqa: E731
        assert count(projects, projects.c.id == fleet["project_id"]) == 1
        assert count(clouds) == 2 and count(regions) == 3 and count(cells) == 4
        assert count(devices, devices.c.kind == "host") == 24
        assert count(devices, devices.c.kind == "network_device") == 5
        assert count(labels) == (24 + 5) * 2
        assert fleet["counts"]["variables"] == count(variables)

        # Every owner on every level has between vars_min and vars_max variables, its tag included.
        per_owner = Counter(conn.execute(sa.select(variables.c.owner_kind, variables.c.owner_id)).all())
        assert Counter(kind for kind, _ in per_owner) == {
            "project": 1,
            "cloud": 2,
            "region": 3,
            "cell": 4,
            "device": 29,
        }
        assert all(3 <= n <= 6 for n in per_owner.values())
        tags = Counter(
            conn.execute(sa.select(variables.c.owner_kind).where(variables.c.key.in_(TAG_KEYS.values()))).scalars()
        )
        assert tags == {"project": 1, "cloud": 2, "region": 3, "cell": 4, "device": 29}

        # Network devices hang under hosts of the same cell, region and cloud.
        parent = devices.alias("parent")
        nested = conn.execute(
            sa.select(
                devices.c.cell_id,
                devices.c.region_id,
                devices.c.cloud_id,
                parent.c.kind,
                parent.c.cell_id,
                parent.c.region_id,
                parent.c.cloud_id,
            )
            .join(parent, parent.c.id == devices.c.parent_id)
            .where(devices.c.kind == "network_device")
        ).all()
        assert len(nested) == 5
        assert all(row[3] == "host" and row[0:3] == row[4:7] for row in nested)

        # Creation order is id order, with no two devices created at the same instant.
        stamps = conn.execute(sa.select(devices.c.created_at).order_by(devices.c.id)).scalars().all()
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    engine.dispose()


def test_api_resolves_a_nested_device_and_finds_the_probe(fleet: dict[str, Any]) -> None:
    engine = create_engine(fleet["database_url"])
    device_id = fleet["nested_example"]["network_device_id"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(devices).where(devices.c.id == device_id)).one()
        chain = [
            ("project", row.project_id),
            ("cloud", row.cloud_id),
            ("region", row.region_id),
            ("cell", row.cell_id),
            ("device", row.parent_id),
            ("device", row.id),
        ]
        expected: dict[str, Any] = {}
        for kind, owner_id in chain:  # farthest first: nearer owners overwrite
            expected.update(_own_variables(conn, kind, owner_id))
        own = _own_variables(conn, "device", device_id)
    engine.dispose()
    assert row.parent_id == fleet["nested_example"]["parent_host_id"]

    with running_server("sqlite", fleet["database_url"]) as live:
        api = live.client(_headers(fleet))
        got = api.get(f"/v1/network-devices/{device_id}")
        assert got.status_code == 200, got.text
        assert got.json()["variables"] == expected
        assert len(got.json()["labels"]) == 2
        assert api.get(f"/v1/network-devices/{device_id}?resolved-values=false").json()["variables"] == own

        hosts = _walk(api, "/v1/hosts?details=true&limit=10", "hosts")
        assert len(hosts) == 24 and all(host["variables"] for host in hosts)

        probe = fleet["vars_probe"]
        found = _walk(api, f"/v1/hosts?vars={probe['query']}&limit=10", "hosts")
        assert len(found) == probe["hosts"] > 0
        assert {host["region_id"] for host in found} == {probe["region_id"]}


def test_a_second_run_appends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    first = generate(url, **TINY)
    second = generate(url, **{**TINY, "hosts": 4, "network_devices": 1})
    assert second["project_id"] != first["project_id"]
    assert second["id_ranges"]["hosts"][0] == first["id_ranges"]["network_devices"][1] + 1


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_server_databases_keep_accepting_creates(backend: str, tmp_path: Path) -> None:
    """Explicit ids must leave PostgreSQL sequences (and MariaDB counters) past the generated rows."""
    with throwaway_database(backend, tmp_path) as url:
        fleet = generate(url, **{**TINY, "hosts": 6, "network_devices": 2})
        with running_server(backend, url) as live:
            api = live.client(_headers(fleet))
            host = api.get(f"/v1/hosts/{fleet['id_ranges']['hosts'][0]}").json()
            created = api.post(
                "/v1/hosts",
                json={
                    "name": "added",
                    "cloud_id": host["cloud_id"],
                    "region_id": host["region_id"],
                    "cell_id": host["cell_id"],
                    "ip_address": "192.0.2.1",
                    "device_type": "server",
                },
            )
            assert created.status_code == 201, created.text
            assert created.json()["id"] > fleet["id_ranges"]["network_devices"][1]
            cloud = api.post("/v1/clouds", json={"name": "added"})
            assert cloud.status_code == 201, cloud.text
            variables_now = api.get(f"/v1/hosts/{host['id']}/variables").json()["variables"]
            assert variables_now[TAG_KEYS["device"]] == f"SN{host['id']:010d}"


def test_declared_strategies_shape_and_declare_the_merged_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'merged.sqlite'}"
    fleet = generate(url, strategies="declared", **{**TINY, "vars_min": 20, "vars_max": 26})
    with running_server("sqlite", url) as live:
        api = live.client(_headers(fleet))
        declared = api.get(f"/v1/projects/{fleet['project_id']}/merge-strategies").json()["merge_strategies"]
        assert declared == MERGED_KEYS
        hosts = _walk(api, "/v1/hosts?details=true&limit=10", "hosts")
    for host in hosts:
        for key, strategy in MERGED_KEYS.items():
            if key in host["variables"]:
                assert isinstance(host["variables"][key], dict if strategy == "deep" else list), (key, host)
    assert any(len(h["variables"].get("ntp_servers", [])) > 3 for h in hosts), "union merges lists of several levels"
    with pytest.raises(ValueError):
        generate(url, strategies="sometimes", **TINY)
