"""The real ``ansible-inventory`` with the plugin and with the script, against the real server.

Every comparison is with what the API's ordinary endpoints say (see helpers.expected_inventory).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.inventory.helpers import Ansible, Credentials, expected_inventory, normalise

VALID_GROUP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@pytest.fixture(scope="module")
def fleet(live_server: Any, root_api: httpx.Client) -> dict[str, Any]:
    """Two clouds, three regions, cells with and without hosts, labels, variables on every level,
    a host below another host, a network device, a duplicate host name, and a second project."""

    def post(client: httpx.Client, path: str, **body: Any) -> dict[str, Any]:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    api = root_api
    response = api.put(f"/v1/projects/{live_server.project_id}/variables", json={"tier": "project", "owner": "ops"})
    assert response.status_code == 200, response.text
    prod = post(api, "/v1/clouds", name="prod", variables={"tier": "cloud", "dns": ["10.0.0.53"]})["id"]
    east = post(
        api,
        "/v1/regions",
        name="us-east-1",
        cloud_id=prod,
        variables={"tier": "region", "ntp": ["ntp1", "ntp2"], "region_only": True},
    )["id"]
    rack = post(
        api,
        "/v1/cells",
        name="rack 1",
        region_id=east,
        cloud_id=prod,
        variables={"tier": "cell", "power": {"feed": "A", "phase": 3}},
    )["id"]
    post(api, "/v1/cells", name="spare", region_id=east, cloud_id=prod, variables={"unused": 1})
    dc2 = post(api, "/v1/regions", name="2nd dc", cloud_id=prod, variables={"tier": "region-2"})["id"]
    c1 = post(api, "/v1/cells", name="c1", region_id=dc2, cloud_id=prod, variables={"power": {"feed": "B"}})["id"]
    lab = post(api, "/v1/clouds", name="lab", variables={"tier": "lab-cloud"})["id"]
    lab_region = post(api, "/v1/regions", name="lab-region", cloud_id=lab)["id"]

    def host(name: str, region: int, cell: int | None, ip: str, cloud: int = prod, **extra: Any) -> int:
        body = {
            "name": name,
            "region_id": region,
            "cloud_id": cloud,
            "ip_address": ip,
            "device_type": "server",
            **({"cell_id": cell} if cell else {}),
            **extra,
        }
        return int(post(api, "/v1/hosts", **body)["id"])

    web1 = host(
        "web-1", east, rack, "10.1.0.11", labels=["web", "prod-frontend"], variables={"tier": "host", "port": 8080}
    )
    host("web-2", east, rack, "10.1.0.12", labels=["web"])
    host(
        "db-1",
        east,
        None,
        "10.1.0.21",
        labels=["db"],
        variables={"ansible_host": "db-1.example.net", "ansible_user": "admin"},
    )
    host("vm-1", east, rack, "10.1.0.31", parent_id=web1, variables={"role": "vm"})
    duplicate = host("web-1", dc2, c1, "10.2.0.11", labels=["web"])
    host(
        "lab-1",
        lab_region,
        None,
        "10.9.0.1",
        cloud=lab,
        labels=["lab 42"],
        variables={"nested": {"deep": [1, {"x": None}]}, "unicode": "grüße", "template": "{{ 7 * 6 }}"},
    )
    post(
        api,
        "/v1/network-devices",
        name="tor-1",
        region_id=east,
        cloud_id=prod,
        cell_id=rack,
        ip_address="10.1.0.1",
        device_type="switch",
        parent_id=web1,
    )

    # A second project: an admin fills it, a plain member reads it.
    other = live_server.create_project("tenant-q")
    admin_name, admin_key = live_server.create_user(other, "q-admin", is_admin=True)
    q_admin = live_server.client({"X-Auth-Project": other, "X-Auth-User": admin_name, "X-Auth-Token": admin_key})
    q_cloud = post(q_admin, "/v1/clouds", name="q-cloud")["id"]
    q_region = post(q_admin, "/v1/regions", name="q-region", cloud_id=q_cloud, variables={"q": True})["id"]
    post(
        q_admin,
        "/v1/hosts",
        name="web-1",
        region_id=q_region,
        cloud_id=q_cloud,
        ip_address="10.50.0.1",
        device_type="server",
        labels=["web"],
    )
    member_name, member_key = live_server.create_user(other, "q-member")
    return {
        "prod": prod,
        "east": east,
        "rack": rack,
        "dc2": dc2,
        "lab": lab,
        "duplicate": duplicate,
        "member": Credentials(live_server.url, other, member_name, member_key),
    }


def raw_inventory(api: httpx.Client, **params: Any) -> tuple[dict[str, Any], httpx.Response]:
    response = api.get("/v1/ansible-inventory", params=params)
    assert response.status_code == 200, response.text

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in the inventory JSON: {keys}"
        return dict(pairs)

    return json.loads(response.content, object_pairs_hook=no_duplicates), response


def test_endpoint_matches_the_api(fleet: dict[str, Any], root_api: httpx.Client) -> None:
    expected = expected_inventory(root_api)
    body, response = raw_inventory(root_api)
    assert response.headers["content-type"].startswith("application/json")
    assert normalise(body) == {"groups": expected["groups"], "hostvars": expected["hostvars"]}
    assert all(VALID_GROUP.match(name) for name in body if name != "_meta")
    # What the fixture built, spelled out once, so the expectation code itself is checked too.
    assert {
        "us_east_1",
        "us_east_1_rack_1",
        "_2nd_dc",
        "_2nd_dc_c1",
        "lab_region",
        "q_region",
        "web",
        "prod_frontend",
        "db",
        "lab_42",
    } == set(body) - {"all", "_meta"}
    assert body["us_east_1"]["children"] == ["us_east_1_rack_1"]  # the cell without hosts is absent
    assert body["us_east_1"]["hosts"] == ["db-1"]
    assert body["us_east_1_rack_1"]["vars"] == {"tier": "cell", "power": {"feed": "A", "phase": 3}}
    assert f"web-1-{fleet['duplicate']}" in body["_meta"]["hostvars"]
    assert "tor-1" not in body["_meta"]["hostvars"]  # network devices are not Ansible hosts
    assert body["_meta"]["hostvars"]["db-1"]["ansible_host"] == "db-1.example.net"  # its own variable wins
    assert body["_meta"]["hostvars"]["web-2"]["ansible_host"] == "10.1.0.12"
    assert body["_meta"]["hostvars"]["vm-1"]["port"] == 8080  # inherited from its parent device


@pytest.mark.parametrize("kind", ["plugin", "script"])
def test_list_matches_the_api(kind: str, fleet: dict[str, Any], ansible: Ansible, root_api: httpx.Client) -> None:
    source = ansible.source() if kind == "plugin" else ansible.script()
    listing = normalise(ansible.listing(source))
    expected = expected_inventory(root_api)
    assert listing["groups"] == expected["groups"]
    assert listing["hostvars"] == expected["hostvars"]


@pytest.mark.parametrize("kind", ["plugin", "script"])
def test_host_matches_the_resolved_variables(
    kind: str, fleet: dict[str, Any], ansible: Ansible, root_api: httpx.Client
) -> None:
    source = ansible.source() if kind == "plugin" else ansible.script()
    expected = expected_inventory(root_api)["hostvars"]
    for name in ("db-1", "vm-1", f"web-1-{fleet['duplicate']}"):
        assert ansible.host(source, name) == expected[name], name


def test_plugin_graph_and_host_patterns(fleet: dict[str, Any], ansible: Ansible, root_api: httpx.Client) -> None:
    # Any name ending in craton.yaml works, and so does a URL with the /v1 suffix.
    source = ansible.source(name="inventory.craton.yaml", url=f"{ansible.credentials.url}/v1/")
    graph = ansible.run("ansible-inventory", "-i", source, "--graph").stdout
    lines = graph.splitlines()
    region = lines.index("  |--@us_east_1:")
    assert lines[region + 1] == "  |  |--@us_east_1_rack_1:"
    assert "  |  |  |--web-1" in lines[region + 2 : region + 6]
    assert "  |  |--db-1" in lines
    assert "  |--@_2nd_dc:" in lines and "  |--@lab_42:" in lines

    expected = expected_inventory(root_api)
    listed = ansible.run("ansible", "-i", source, "all", "-m", "ping", "--list-hosts").stdout
    assert f"hosts ({len(expected['hostvars'])}):" in listed
    web = ansible.run("ansible", "-i", source, "web:&us_east_1", "--list-hosts").stdout
    assert sorted(line.strip() for line in web.splitlines()[1:]) == ["web-1", "web-2"]


@pytest.mark.parametrize("kind", ["plugin", "script"])
def test_variable_values_are_data_not_templates(kind: str, fleet: dict[str, Any], ansible: Ansible) -> None:
    """A variable that any project member can edit must not run Jinja on the controller."""
    source = ansible.source() if kind == "plugin" else ansible.script()
    result = ansible.run("ansible", "-i", source, "lab-1", "-m", "ansible.builtin.debug", "-a", "var=template")
    assert '"template": "{{ 7 * 6 }}"' in result.stdout, result.stdout
    if kind == "script":  # the documented opt-out evaluates it
        result = ansible.run(
            "ansible",
            "-i",
            source,
            "lab-1",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=template",
            CRATON_INVENTORY_ALLOW_TEMPLATES="true",
        )
        assert '"template": 42' in result.stdout, result.stdout


FILTERS = {
    "cloud_id": lambda f: f["lab"],
    "region_id": lambda f: f["east"],
    "cell_id": lambda f: f["rack"],
    "label": lambda f: "web",
    "vars": lambda f: 'power.feed:"A"',  # a cell variable: only resolved matching finds the hosts
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_plugin_filters_match_the_host_list(
    name: str, fleet: dict[str, Any], ansible: Ansible, root_api: httpx.Client
) -> None:
    value = FILTERS[name](fleet)
    listing = normalise(ansible.listing(ansible.source(**{name: value})))
    expected = expected_inventory(root_api, **{name: value})
    assert expected["hostvars"], "the filter should select some hosts"
    assert listing["hostvars"] == expected["hostvars"]
    assert listing["groups"] == expected["groups"]


def test_script_filters_from_the_environment(fleet: dict[str, Any], ansible: Ansible, root_api: httpx.Client) -> None:
    listing = normalise(
        ansible.listing(ansible.script(), CRATON_INVENTORY_REGION_ID=str(fleet["east"]), CRATON_INVENTORY_LABEL="web")
    )
    expected = expected_inventory(root_api, region_id=fleet["east"], label="web")
    assert sorted(listing["hostvars"]) == ["web-1", "web-2"]
    assert listing == {"groups": expected["groups"], "hostvars": expected["hostvars"]}


@pytest.mark.parametrize("kind", ["plugin", "script"])
def test_a_member_sees_only_their_project(
    kind: str, fleet: dict[str, Any], ansible_factory: Any, live_server: Any
) -> None:
    member: Credentials = fleet["member"]
    ansible = ansible_factory(member)
    source = ansible.source() if kind == "plugin" else ansible.script()
    listing = normalise(ansible.listing(source))
    with httpx.Client(base_url=member.url, headers=member.headers, timeout=60) as api:
        expected = expected_inventory(api)
    assert sorted(listing["hostvars"]) == ["web-1"]
    assert listing["hostvars"]["web-1"]["ansible_host"] == "10.50.0.1"
    assert listing["groups"] == expected["groups"]
    assert listing["hostvars"] == expected["hostvars"]


@pytest.mark.parametrize("kind", ["plugin", "script"])
def test_wrong_credentials_fail_with_the_reason(kind: str, fleet: dict[str, Any], ansible: Ansible) -> None:
    source = ansible.source() if kind == "plugin" else ansible.script()
    result = ansible.run("ansible-inventory", "-i", source, "--list", check=False, OS_PASSWORD="not-the-key")
    assert result.returncode != 0
    assert "401" in result.stderr
    assert "not-the-key" not in result.stderr + result.stdout


def test_bad_vars_filter_shows_the_servers_message(fleet: dict[str, Any], ansible: Ansible) -> None:
    result = ansible.run("ansible-inventory", "-i", ansible.source(vars="no-colon"), "--list", check=False)
    assert result.returncode != 0
    assert "400" in result.stderr and "no-colon" in result.stderr


def test_script_host_of_an_unknown_name_is_empty(fleet: dict[str, Any], ansible: Ansible) -> None:
    result = ansible.run("craton-inventory", "--host", "no-such-host")
    assert json.loads(result.stdout) == {}
