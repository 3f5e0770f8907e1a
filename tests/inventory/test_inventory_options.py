"""The plugin's options of issue 21, through the real ``ansible-inventory``: unknown options are
refused, ``group_by`` and ``network_devices`` reach the server, and variable keys Ansible refuses
are skipped with one warning."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.inventory.helpers import Ansible, plain


@pytest.fixture(scope="module")
def fleet(root_api: httpx.Client) -> dict[str, Any]:
    def post(path: str, **body: Any) -> dict[str, Any]:
        response = root_api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    cloud = post("/v1/clouds", name="opt-cloud", variables={"tier": "prod"})
    region = post("/v1/regions", name="opt-east", cloud_id=cloud["id"], variables={"region-key": 1})
    base = {"cloud_id": cloud["id"], "region_id": region["id"], "ip_address": "10.9.0.1"}
    post("/v1/hosts", name="opt-web", device_type="server", variables={"my key": 1, "ok": 2}, **base)
    post("/v1/network-devices", name="opt-switch", device_type="switch", **base)
    return {"cloud": cloud, "region": region}


def test_unknown_options_are_refused(fleet: dict[str, Any], ansible: Ansible) -> None:
    result = ansible.run(
        "ansible-inventory",
        "-i",
        ansible.source(group_by_region=True, cloud_id=fleet["cloud"]["id"]),
        "--list",
        check=False,
    )
    assert result.returncode != 0
    assert "unknown option(s) group_by_region" in result.stderr + result.stdout
    result = ansible.run("ansible-inventory", "-i", ansible.source(group_by=["rack"]), "--list", check=False)
    assert result.returncode != 0 and "rack" in result.stderr + result.stdout


def test_group_by_network_devices_and_skipped_keys(fleet: dict[str, Any], ansible: Ansible) -> None:
    source = ansible.source(cloud_id=fleet["cloud"]["id"], group_by=["cloud", "device_type"], network_devices=True)
    result = ansible.run("ansible-inventory", "-i", source, "--list", "--export")
    listing = plain(json.loads(result.stdout))
    assert sorted(listing["opt_cloud"]["hosts"]) == ["opt-switch", "opt-web"]
    assert listing["server"]["hosts"] == ["opt-web"] and listing["switch"]["hosts"] == ["opt-switch"]
    hostvars = listing["_meta"]["hostvars"]
    assert "my key" not in hostvars["opt-web"] and "region-key" not in hostvars["opt-web"]
    assert hostvars["opt-web"]["ok"] == 2 and hostvars["opt-web"]["tier"] == "prod"
    warning = " ".join(result.stderr.split())
    assert "not valid Ansible variable names" in warning and "opt-web ('my key', 'region-key')" in warning

    kept = ansible.run(
        "ansible-inventory",
        "-i",
        ansible.source(cloud_id=fleet["cloud"]["id"], invalid_variable_names="keep"),
        "--host",
        "opt-web",
    )
    assert plain(json.loads(kept.stdout))["my key"] == 1


def test_the_script_passes_group_by_and_network_devices(fleet: dict[str, Any], ansible: Ansible) -> None:
    """``craton-inventory`` takes the plugin's ``group_by`` and ``network_devices``, as options or
    from the environment (Ansible passes none to a script)."""
    script = ansible.script()
    cloud = str(fleet["cloud"]["id"])
    env = {"CRATON_INVENTORY_CLOUD_ID": cloud}
    default = ansible.listing(script, **env)
    assert "opt-switch" not in default["_meta"]["hostvars"] and "server" not in default
    assert (default.get("opt_east") or default["opt-east"])["hosts"] == ["opt-web"]

    grouped = ansible.listing(
        script, **env, CRATON_INVENTORY_GROUP_BY="device_type,cloud", CRATON_INVENTORY_NETWORK_DEVICES="true"
    )
    assert grouped["server"]["hosts"] == ["opt-web"] and grouped["switch"]["hosts"] == ["opt-switch"]
    assert "opt_east" not in grouped and "opt-east" not in grouped
    assert sorted(grouped["_meta"]["hostvars"]) == ["opt-switch", "opt-web"]

    # The same as options, straight from the script; 'none' builds no groups at all.
    direct = json.loads(
        ansible.run(script, "--list", "--cloud-id", cloud, "--group-by", "device_type", "--network-devices").stdout
    )
    assert direct["server"]["hosts"] == ["opt-web"] and direct["switch"]["hosts"] == ["opt-switch"]
    bare = json.loads(ansible.run(script, "--list", "--cloud-id", cloud, "--group-by", "none").stdout)
    assert set(bare) - {"all", "_meta", "ungrouped"} == set()
    assert sorted(bare["_meta"]["hostvars"]) == ["opt-web"]
    refused = ansible.run(script, "--list", "--group-by", "rack", check=False)
    assert refused.returncode == 2 and "unknown grouping 'rack'" in refused.stderr
    wrong_env = ansible.run(script, "--list", check=False, CRATON_INVENTORY_GROUP_BY="rack")
    assert wrong_env.returncode == 1 and "CRATON_INVENTORY_GROUP_BY" in wrong_env.stderr
