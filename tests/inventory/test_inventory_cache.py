"""ETag / If-None-Match on the endpoint, Ansible's inventory cache in the plugin, and the
script's own on-disk cache (TTL, then revalidation with If-None-Match)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.inventory.helpers import Ansible, Credentials, normalise


@pytest.fixture(scope="module")
def small_fleet(root_api: httpx.Client) -> dict[str, int]:
    def post(path: str, **body: Any) -> dict[str, Any]:
        response = root_api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    cloud = post("/v1/clouds", name="c", variables={"tmpl": "{{ 6 * 7 }}"})["id"]
    region = post("/v1/regions", name="r", cloud_id=cloud, variables={"level": "region"})["id"]
    cell = post("/v1/cells", name="k", region_id=region, cloud_id=cloud, variables={"level": "cell"})["id"]
    hosts = [
        post(
            "/v1/hosts",
            name=f"h{n}",
            region_id=region,
            cloud_id=cloud,
            cell_id=cell,
            ip_address=f"10.0.0.{n}",
            device_type="server",
            labels=["even" if n % 2 == 0 else "odd"],
        )["id"]
        for n in range(1, 4)
    ]
    return {"cloud": cloud, "region": region, "cell": cell, "host": hosts[0]}


def add_host(api: httpx.Client, fleet: dict[str, int], name: str, ip: str) -> None:
    response = api.post(
        "/v1/hosts",
        json={
            "name": name,
            "region_id": fleet["region"],
            "cloud_id": fleet["cloud"],
            "ip_address": ip,
            "device_type": "server",
        },
    )
    assert response.status_code == 201, response.text


def test_etag_and_not_modified(small_fleet: dict[str, int], root_api: httpx.Client, live_server: Any) -> None:
    first = root_api.get("/v1/ansible-inventory")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = root_api.get("/v1/ansible-inventory", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert root_api.get("/v1/ansible-inventory", headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert root_api.get("/v1/ansible-inventory", headers={"If-None-Match": '"other"'}).status_code == 200

    # Another filter or another caller is another representation.
    filtered = root_api.get("/v1/ansible-inventory", params={"label": "odd"}, headers={"If-None-Match": etag})
    assert filtered.status_code == 200 and filtered.headers["ETag"] != etag
    project = live_server.create_project("etag-other")
    other = live_server.user_client(project, "etag-member")
    foreign = other.get("/v1/ansible-inventory", headers={"If-None-Match": etag})
    assert foreign.status_code == 200 and foreign.headers["ETag"] != etag
    assert foreign.json()["_meta"]["hostvars"] == {}

    def changed(action: Any) -> None:
        nonlocal etag
        response = action()
        assert response.status_code in (200, 201, 204), response.text
        after = root_api.get("/v1/ansible-inventory", headers={"If-None-Match": etag})
        assert after.status_code == 200, f"no change seen after {response.request.method} {response.request.url}"
        assert after.headers["ETag"] != etag
        etag = after.headers["ETag"]
        assert root_api.get("/v1/ansible-inventory", headers={"If-None-Match": etag}).status_code == 304

    host, cell, region = small_fleet["host"], small_fleet["cell"], small_fleet["region"]
    changed(lambda: root_api.put(f"/v1/hosts/{host}/variables", json={"fresh": 1}))
    changed(lambda: root_api.put(f"/v1/hosts/{host}/variables", json={"fresh": 2}))
    changed(lambda: root_api.request("DELETE", f"/v1/hosts/{host}/variables", json=["fresh"]))
    changed(lambda: root_api.put(f"/v1/cells/{cell}/variables", json={"level": "cell-2"}))
    changed(lambda: root_api.put(f"/v1/clouds/{small_fleet['cloud']}/variables", json={"cloudy": True}))
    changed(lambda: root_api.put(f"/v1/hosts/{host}/labels", json={"labels": ["extra"]}))
    changed(lambda: root_api.request("DELETE", f"/v1/hosts/{host}/labels", json={"labels": ["extra"]}))
    changed(lambda: root_api.put(f"/v1/regions/{region}", json={"name": "r-renamed"}))
    changed(lambda: root_api.put(f"/v1/hosts/{host}", json={"ip_address": "10.0.9.9"}))


def test_plugin_honours_the_inventory_cache(
    small_fleet: dict[str, int], ansible: Ansible, root_api: httpx.Client, tmp_path: Path
) -> None:
    cache = {
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "ansible-cache"),
        "cache_timeout": 3600,
    }
    source = ansible.source(**cache)
    before = normalise(ansible.listing(source))["hostvars"]
    assert "late-plugin" not in before

    add_host(root_api, small_fleet, "late-plugin", "10.0.1.1")
    assert normalise(ansible.listing(source))["hostvars"] == before, "the cached inventory was not used"
    # Values read back from Ansible's cache are still data, not templates.
    shown = ansible.run("ansible", "-i", source, "h1", "-m", "ansible.builtin.debug", "-a", "var=tmpl").stdout
    assert '"tmpl": "{{ 6 * 7 }}"' in shown, shown
    assert "late-plugin" in normalise(ansible.listing(source, "--flush-cache"))["hostvars"]
    assert "late-plugin" in normalise(ansible.listing(source))["hostvars"], "--flush-cache did not update the cache"

    # Another configuration sharing the cache directory gets its own entry, not this one.
    filtered = ansible.source(name="odd.craton.yml", label="odd", **cache)
    assert sorted(normalise(ansible.listing(filtered))["hostvars"]) == ["h1", "h3"]


def cache_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.startswith("."))


def test_script_cache_ttl_and_revalidation(
    small_fleet: dict[str, int],
    ansible: Ansible,
    root_api: httpx.Client,
    root_credentials: Credentials,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "script-cache"
    fresh = {"CRATON_INVENTORY_CACHE_DIR": str(directory), "CRATON_INVENTORY_CACHE_TTL": "3600"}
    revalidate = {**fresh, "CRATON_INVENTORY_CACHE_TTL": "0"}

    def names(**env: str) -> list[str]:
        return sorted(json.loads(ansible.run("craton-inventory", "--list", **env).stdout)["_meta"]["hostvars"])

    before = names(**fresh)
    [entry] = cache_files(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert root_credentials.api_key not in entry.name and root_credentials.api_key not in entry.read_text()

    add_host(root_api, small_fleet, "late-script", "10.0.2.1")
    assert names(**fresh) == before, "a cache entry younger than the TTL must be used without asking"
    assert "late-script" in names(**revalidate), "an expired entry must be revalidated"

    # Unchanged server: 304, and the cached body is what comes out. A marker group in the cached
    # copy proves that the body was not downloaded again.
    header, body = entry.read_bytes().split(b"\n", 1)
    marked = json.loads(body)
    marked["cached_marker"] = {"hosts": []}
    entry.write_bytes(header + b"\n" + json.dumps(marked).encode())
    os.utime(entry, (0, 0))
    output = json.loads(ansible.run("craton-inventory", "--list", **revalidate).stdout)
    assert "cached_marker" in output
    assert entry.stat().st_mtime > 0, "a 304 renews the entry"

    # --refresh downloads even a fresh entry.
    assert "cached_marker" not in json.loads(ansible.run("craton-inventory", "--list", "--refresh", **fresh).stdout)

    # Through Ansible, with Ansible's own cache switches.
    ansible_cache = tmp_path / "ansible-switches"
    listing = ansible.listing(
        ansible.script(), ANSIBLE_INVENTORY_CACHE="true", ANSIBLE_INVENTORY_CACHE_CONNECTION=str(ansible_cache)
    )
    assert "late-script" in listing["_meta"]["hostvars"]
    assert len(cache_files(ansible_cache)) == 1


def test_script_cache_is_per_caller(
    small_fleet: dict[str, int], ansible_factory: Any, live_server: Any, tmp_path: Path
) -> None:
    env = {"CRATON_INVENTORY_CACHE_DIR": str(tmp_path / "shared"), "CRATON_INVENTORY_CACHE_TTL": "3600"}
    root = ansible_factory(
        Credentials(live_server.url, live_server.project_id, live_server.username, live_server.api_key)
    )
    assert json.loads(root.run("craton-inventory", "--list", **env).stdout)["_meta"]["hostvars"]
    project = live_server.create_project("cache-other")
    name, key = live_server.create_user(project, "cache-member")
    member = ansible_factory(Credentials(live_server.url, project, name, key))
    assert json.loads(member.run("craton-inventory", "--list", **env).stdout)["_meta"]["hostvars"] == {}
    assert len(cache_files(tmp_path / "shared")) == 2
