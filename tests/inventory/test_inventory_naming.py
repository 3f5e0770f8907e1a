"""Group naming: sanitised names, and names that collide (with each other or with Ansible's own
``all``, ``ungrouped`` and ``_meta``) made unique as docs/inventory.md describes."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.inventory.helpers import Ansible, normalise


def post(api: httpx.Client, path: str, **body: Any) -> dict[str, Any]:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def strict_json(content: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {sorted(k for k in keys if keys.count(k) > 1)}"
        return dict(pairs)

    return json.loads(content, object_pairs_hook=no_duplicates)


def test_names_are_sanitised(root_api: httpx.Client, ansible: Ansible) -> None:
    cloud = post(root_api, "/v1/clouds", name="naming")["id"]
    region = post(root_api, "/v1/regions", name="eu-west/2", cloud_id=cloud)["id"]
    cell = post(root_api, "/v1/cells", name="3.rack", region_id=region, cloud_id=cloud)["id"]
    post(
        root_api,
        "/v1/hosts",
        name="n1",
        region_id=region,
        cloud_id=cloud,
        cell_id=cell,
        ip_address="10.3.0.1",
        device_type="server",
        labels=["9 lives", "grüße", "ok_name"],
    )
    body = strict_json(root_api.get("/v1/ansible-inventory", params={"cloud_id": cloud}).content)
    assert set(body) == {"all", "_meta", "eu_west_2", "eu_west_2_3_rack", "_9_lives", "gr__e", "ok_name"}
    groups = normalise(ansible.listing(ansible.source(cloud_id=cloud)))["groups"]
    assert groups["eu_west_2"]["children"] == ["eu_west_2_3_rack"]
    assert groups["_9_lives"]["hosts"] == groups["gr__e"]["hosts"] == ["n1"]


def test_labels_named_like_ansible_groups_are_renamed(root_api: httpx.Client, ansible: Ansible) -> None:
    cloud = post(root_api, "/v1/clouds", name="reserved")["id"]
    region = post(root_api, "/v1/regions", name="reserved-region", cloud_id=cloud)["id"]
    post(
        root_api,
        "/v1/hosts",
        name="r1",
        region_id=region,
        cloud_id=cloud,
        ip_address="10.4.0.1",
        device_type="server",
        labels=["all", "_meta", "ungrouped"],
    )
    body = strict_json(root_api.get("/v1/ansible-inventory", params={"cloud_id": cloud}).content)
    assert body["all"]["children"] == ["_meta_label", "all_label", "reserved_region", "ungrouped_label"]
    assert set(body["_meta"]) == {"hostvars"}
    assert body["all_label"]["hosts"] == body["ungrouped_label"]["hosts"] == ["r1"]
    graph = ansible.run("ansible-inventory", "-i", ansible.source(cloud_id=cloud), "--graph").stdout.splitlines()
    assert "  |--@all_label:" in graph and "  |  |--r1" in graph


def test_same_region_name_in_two_clouds_gives_two_groups(root_api: httpx.Client) -> None:
    hosts = []
    for cloud_name, who in (("one", "a"), ("two", "b")):
        cloud = post(root_api, "/v1/clouds", name=f"twin-{cloud_name}")["id"]
        region = post(root_api, "/v1/regions", name="TwinRegion", cloud_id=cloud, variables={"who": who})["id"]
        hosts.append(
            post(
                root_api,
                "/v1/hosts",
                name=f"twin-{who}",
                region_id=region,
                cloud_id=cloud,
                ip_address=f"10.5.0.{len(hosts) + 1}",
                device_type="server",
            )["name"]
        )
    body = strict_json(root_api.get("/v1/ansible-inventory").content)
    assert body["twin_one_TwinRegion"]["hosts"] == ["twin-a"]
    assert body["twin_one_TwinRegion"]["vars"] == {"who": "a"}
    assert body["twin_two_TwinRegion"]["hosts"] == ["twin-b"]
    assert body["twin_two_TwinRegion"]["vars"] == {"who": "b"}
    assert "TwinRegion" not in body


def test_made_up_host_names_never_collide_with_real_ones(root_api: httpx.Client) -> None:
    """Hosts "web" (id X), "web-{X+2}" (id X+1) and "web" (id X+2): three distinct inventory names.

    The suffix for the second "web" used to be "web-{X+2}", a real host's name, so one of the two
    vanished from ``_meta.hostvars`` in any JSON parser (issue #19, item 8).
    """
    cloud = post(root_api, "/v1/clouds", name="clash")["id"]
    one, two = (post(root_api, "/v1/regions", name=f"clash-{n}", cloud_id=cloud)["id"] for n in (1, 2))

    def host(name: str, region: int, number: int) -> dict[str, Any]:
        return post(
            root_api,
            "/v1/hosts",
            name=name,
            region_id=region,
            cloud_id=cloud,
            ip_address=f"10.6.0.{number}",
            device_type="server",
            variables={"which": number},
        )

    first = host("clash-web", one, 1)
    second = host(f"clash-web-{first['id'] + 2}", two, 2)
    third = host("clash-web", two, 3)
    assert third["id"] == first["id"] + 2, "ids are consecutive within this test"
    body = strict_json(root_api.get("/v1/ansible-inventory", params={"cloud_id": cloud}).content)
    hostvars = body["_meta"]["hostvars"]
    named = {name: hostvars[name]["which"] for name in hostvars}
    assert sorted(named.values()) == [1, 2, 3], named
    assert named["clash-web"] == 1 and named[second["name"]] == 2, "real names are kept"
    assert named[f"clash-web-{third['id']}-2"] == 3
    grouped = [name for group, content in body.items() if group != "_meta" for name in content.get("hosts", [])]
    assert sorted(grouped) == sorted(named), "groups name the same hosts as hostvars"
