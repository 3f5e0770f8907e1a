"""Merge strategies per variable key and masks, on every backend, through every reader.

Every reader that resolves variables (the object, ``.../variables``, lists with ``details``,
``vars`` queries, blame, ``as_of``, diffs, the Ansible inventory) must agree with one reference
function (tests/merge_reference.py), for declared strategies and masks alike.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.helpers import Craton, Tenant, expect, expect_error, expect_not_found
from tests.merge_reference import reference_resolve

EXAMPLE = {"ntp_servers": "union", "sysctl": "deep", "motd": "replace", "packages": "append"}


def now() -> str:
    time.sleep(0.01)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    return moment


def strategies_url(tenant: Tenant) -> str:
    return f"/v1/projects/{tenant.project_id}/merge-strategies"


def hostvars(client: httpx.Client, name: str) -> dict[str, Any]:
    found = expect(client.get("/v1/ansible-inventory"), 200)["_meta"]["hostvars"][name]
    found.pop("ansible_host")
    return found


# --------------------------------------------------------------------------- the declaration


def test_declaring_strategies(craton: Craton) -> None:
    tenant = craton.tenant()
    url = strategies_url(tenant)
    assert expect(tenant.client.get(url), 200) == {"merge_strategies": {}}
    assert expect(tenant.client.put(url, json=EXAMPLE), 200) == {"merge_strategies": EXAMPLE}
    assert expect(tenant.client.get(url), 200) == {"merge_strategies": EXAMPLE}
    # PUT replaces the whole declaration
    assert expect(tenant.client.put(url, json={"sysctl": "deep"}), 200) == {"merge_strategies": {"sysctl": "deep"}}
    assert expect(craton.root.get(url), 200) == {"merge_strategies": {"sysctl": "deep"}}  # root: any project
    records = [
        r
        for r in expect(tenant.client.get(f"/v1/projects/{tenant.project_id}/history"), 200)["history"]
        if r["action"] == "merge_strategies"
    ]
    assert [(r["old"], r["new"]) for r in records] == [({}, EXAMPLE), (EXAMPLE, {"sysctl": "deep"})]


def test_declaring_strategies_refuses_bad_input_and_strangers(craton: Craton) -> None:
    tenant = craton.tenant()
    url = strategies_url(tenant)
    for body in ({"a": "merge"}, {"a": 1}, ["deep"], "deep", {"": "deep"}, {"a\u0000": "deep"}):
        expect_error(tenant.client.put(url, json=body), 400)
    expect_error(tenant.member().get(url), 403)
    expect_error(tenant.member().put(url, json={"a": "deep"}), 403)
    other = craton.tenant()
    expect_not_found(other.client.get(url))
    expect_not_found(other.client.put(url, json={"a": "deep"}))
    expect_not_found(tenant.client.get("/v1/projects/not-a-uuid/merge-strategies"))
    assert expect(tenant.client.get(url), 200) == {"merge_strategies": {}}


# --------------------------------------------------------------------------- every reader agrees


def build_tree(tenant: Tenant, variables: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """project > cloud > region > cell > host > nested host, with ``variables`` nearest last."""
    project_vars, cloud_vars, region_vars, cell_vars, host_vars, child_vars = variables
    if project_vars:
        expect(tenant.client.put(f"/v1/projects/{tenant.project_id}/variables", json=project_vars), 200)
    inv = tenant.inventory
    cloud = inv.cloud(variables=cloud_vars)
    region = inv.region(cloud=cloud, variables=region_vars)
    cell = inv.cell(region=region, variables=cell_vars)
    host = inv.host(cell=cell, variables=host_vars)
    child = inv.host(cell=cell, parent=host, variables=child_vars)
    return {"cloud": cloud, "region": region, "cell": cell, "host": host, "child": child}


def test_worked_example_through_every_reader(craton: Craton) -> None:
    tenant = craton.tenant()
    client = tenant.client
    expect(client.put(strategies_url(tenant), json=EXAMPLE), 200)
    tree = build_tree(
        tenant,
        [
            {"ntp_servers": ["10.0.0.1"], "sysctl": {"net": {"forward": 0}, "swappiness": 60}},
            {},
            {"ntp_servers": ["10.1.0.1", "10.0.0.1"], "sysctl": {"net": {"forward": 1}}, "proxy": "p:3128"},
            {"packages": ["vim"]},
            {"packages": ["htop"], "motd": "hello"},
            {},
        ],
    )
    host, cell, region = tree["host"], tree["cell"], tree["region"]
    expected = {
        "ntp_servers": ["10.0.0.1", "10.1.0.1"],
        "sysctl": {"net": {"forward": 1}, "swappiness": 60},
        "packages": ["vim", "htop"],
        "motd": "hello",
        "proxy": "p:3128",
    }
    assert expect(client.get(f"/v1/hosts/{host['id']}/variables"), 200) == {"variables": expected}
    assert expect(client.get(f"/v1/hosts/{host['id']}"), 200)["variables"] == expected
    listed = expect(client.get("/v1/hosts", params={"details": "true"}), 200)["hosts"]
    assert next(h for h in listed if h["id"] == host["id"])["variables"] == expected
    assert hostvars(client, host["name"]) == expected
    # own variables stay as stored
    own = expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"resolved-values": "false"}), 200)
    assert own == {"variables": {"packages": ["htop"], "motd": "hello"}}

    # vars queries see the merged values
    def matching(query: str) -> set[int]:
        hosts = expect(client.get("/v1/hosts", params={"vars": query}), 200)["hosts"]
        return {h["id"] for h in hosts}

    assert matching('ntp_servers:"10.1.0.1"') == {host["id"], tree["child"]["id"]}
    assert matching("sysctl.swappiness:60") == {host["id"], tree["child"]["id"]}
    assert matching('packages:["vim"]') == {host["id"], tree["child"]["id"]}
    assert matching('packages:"htop"') == {host["id"], tree["child"]["id"]}
    assert matching('motd:"hello"') == {host["id"], tree["child"]["id"]}

    # blame: every contributing level and its part
    blame = expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"blame": "true"}), 200)["blame"]
    ntp = blame["ntp_servers"]
    assert ntp["strategy"] == "union" and ntp["value"] == expected["ntp_servers"]
    assert [(c["source"]["type"], c["part"]) for c in ntp["contributions"]] == [
        ("region", ["10.1.0.1"]),
        ("project", ["10.0.0.1"]),
    ]
    sysctl = blame["sysctl"]
    assert [(c["source"]["type"], c["part"]) for c in sysctl["contributions"]] == [
        ("region", {"net": {"forward": 1}}),
        ("project", {"swappiness": 60}),
    ]
    assert sysctl["source"]["type"] == "region"
    assert "strategy" not in blame["motd"] and blame["motd"]["source"]["type"] == "host"

    # a mask on the cell: the region's proxy does not reach the hosts, but the cell may set it again
    mask_url = f"/v1/cells/{cell['id']}/variables/masks"
    assert expect(client.put(mask_url, json=["proxy", "sysctl"]), 200) == {"masks": ["proxy", "sysctl"]}
    masked = {k: v for k, v in expected.items() if k not in ("proxy", "sysctl")}
    assert expect(client.get(f"/v1/hosts/{host['id']}/variables"), 200)["variables"] == masked
    assert hostvars(client, host["name"]) == masked
    assert matching('proxy:"p:3128"') == set()
    inventory = expect(client.get("/v1/ansible-inventory"), 200)
    region_group = next(g for g in inventory.values() if isinstance(g, dict) and g.get("vars", {}).get("ntp_servers"))
    assert "proxy" not in region_group["vars"], "a masked key must not come back through group variables"
    cell_vars = expect(client.get(f"/v1/cells/{cell['id']}/variables"), 200)
    assert cell_vars == {"variables": {"packages": ["vim"]}, "masks": ["proxy", "sysctl"]}
    assert "masks" not in expect(client.get(f"/v1/regions/{region['id']}/variables"), 200)
    expect(client.put(f"/v1/cells/{cell['id']}/variables", json={"sysctl": {"net": {"forward": 2}}}), 200)
    assert expect(client.get(f"/v1/hosts/{host['id']}/variables"), 200)["variables"]["sysctl"] == {
        "net": {"forward": 2}
    }
    blame = expect(client.get(f"/v1/hosts/{host['id']}/variables", params={"blame": "true"}), 200)["blame"]
    assert blame["sysctl"]["masked_at"]["id"] == cell["id"]
    assert [c["source"]["type"] for c in blame["sysctl"]["contributions"]] == ["cell"]
    # unmasking lets the region's value back in
    assert expect(client.request("DELETE", mask_url, json=["proxy", "not-masked"]), 204) is None
    assert expect(client.get(mask_url), 200) == {"masks": ["sysctl"]}
    assert expect(client.get(f"/v1/hosts/{host['id']}/variables"), 200)["variables"]["proxy"] == "p:3128"
    history = expect(client.get(f"/v1/cells/{cell['id']}/history"), 200)["history"]
    assert [(r["old"], r["new"]) for r in history if r["action"] == "masks"] == [
        ([], ["proxy", "sysctl"]),
        (["proxy", "sysctl"], ["sysctl"]),
    ]


def test_masks_refuse_bad_input_and_strangers(craton: Craton) -> None:
    tenant = craton.tenant()
    host = tenant.inventory.host()
    url = f"/v1/hosts/{host['id']}/variables/masks"
    for body in ({"a": 1}, "a", [1], [""], ["a\u0000"]):
        expect_error(tenant.client.put(url, json=body), 400)
    expect_error(tenant.client.request("DELETE", url, json={"a": 1}), 400)
    other = craton.tenant()
    expect_not_found(other.client.put(url, json=["a"]))
    expect_not_found(other.client.get(url))
    expect_not_found(tenant.client.put("/v1/hosts/2000000000/variables/masks", json=["a"]))
    expect_error(tenant.member().put(f"/v1/projects/{tenant.project_id}/variables/masks", json=["a"]), 403)
    # a member may mask keys on inventory, like writing variables
    assert expect(tenant.member().put(url, json=["a", "a"]), 200) == {"masks": ["a"]}
    assert expect(tenant.client.put(url, json=["b", "a"]), 200) == {"masks": ["a", "b"]}
    # deleting the object takes its masks with it
    expect(tenant.client.delete(f"/v1/hosts/{host['id']}"), 204)
    expect_not_found(tenant.client.get(url))


def test_a_variables_put_answers_with_the_masks_a_get_shows(craton: Craton) -> None:
    """PUT and GET of ``.../variables`` agree on ``masks``: shown when there are any, absent (v1 body) otherwise."""
    tenant = craton.tenant()
    cell = tenant.inventory.cell()
    url = f"/v1/cells/{cell['id']}/variables"
    assert expect(tenant.client.put(url, json={"a": 1}), 200) == {"variables": {"a": 1}}
    expect(tenant.client.put(f"{url}/masks", json=["proxy"]), 200)
    written = expect(tenant.client.put(url, json={"b": 2}), 200)
    assert written == {"variables": {"a": 1, "b": 2}, "masks": ["proxy"]}
    read = expect(tenant.client.get(url), 200)
    assert read["masks"] == written["masks"] and read["variables"] == written["variables"]


def test_as_of_resolves_with_the_strategies_and_masks_of_then(craton: Craton) -> None:
    tenant = craton.tenant()
    client = tenant.client
    tree = build_tree(tenant, [{"l": [1]}, {}, {"l": [2], "d": {"a": 1}}, {"d": {"b": 2}}, {"l": [3]}, {}])
    host_url = f"/v1/hosts/{tree['host']['id']}/variables"
    before = now()
    expect(client.put(strategies_url(tenant), json={"l": "append", "d": "deep"}), 200)
    declared = now()
    expect(client.put(f"/v1/cells/{tree['cell']['id']}/variables/masks", json=["l"]), 200)
    masked = now()
    expect(client.put(strategies_url(tenant), json={}), 200)
    expect(client.request("DELETE", f"/v1/cells/{tree['cell']['id']}/variables/masks", json=["l"]), 204)
    for moment, variables in (
        (before, {"l": [3], "d": {"b": 2}}),
        (declared, {"l": [1, 2, 3], "d": {"a": 1, "b": 2}}),
        (masked, {"l": [3], "d": {"a": 1, "b": 2}}),
    ):
        assert expect(client.get(host_url, params={"as_of": moment}), 200)["variables"] == variables, moment
    cell_then = expect(client.get(f"/v1/cells/{tree['cell']['id']}/variables", params={"as_of": masked}), 200)
    assert cell_then["masks"] == ["l"]
    diff = expect(client.get(host_url, params={"diff_from": before, "diff_to": declared}), 200)
    assert diff["changed"] == {
        "l": {"from": [3], "to": [1, 2, 3]},
        "d": {"from": {"b": 2}, "to": {"a": 1, "b": 2}},
    }
    assert expect(client.get(host_url, params={"diff_from": masked}), 200)["changed"] == {
        "d": {"from": {"a": 1, "b": 2}, "to": {"b": 2}}
    }


# --------------------------------------------------------------------------- property test

KEYS = ("a", "b", "c")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["x", "y"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["p", "q"]), inner, max_size=2)
    ),
    max_leaves=5,
)
level_variables = st.dictionaries(st.sampled_from(KEYS), values, max_size=3)
level_masks = st.sets(st.sampled_from(KEYS), max_size=2)
LEVELS = ("project", "cloud", "region", "cell", "host", "child")
trees = st.tuples(
    st.lists(level_variables, min_size=6, max_size=6),
    st.lists(level_masks, min_size=6, max_size=6),
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(["replace", "deep", "append", "union"])),
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(["replace", "deep", "append", "union"])),
)


def _owner_url(tenant: Tenant, tree: dict[str, dict[str, Any]], level: str) -> str:
    if level == "project":
        return f"/v1/projects/{tenant.project_id}"
    plural = {"cloud": "clouds", "region": "regions", "cell": "cells", "host": "hosts", "child": "hosts"}[level]
    return f"/v1/{plural}/{tree[level]['id']}"


def _resolved_everywhere(tenant: Tenant, tree: dict[str, dict[str, Any]], level: str) -> list[dict[str, Any]]:
    """What each reader says the resolved variables of ``level`` are."""
    client = tenant.client
    obj = tree[level]
    plural = "hosts" if level in ("host", "child") else level + "s"
    url = f"/v1/{plural}/{obj['id']}"
    answers = [
        expect(client.get(url + "/variables", params={"resolved-values": "true"}), 200)["variables"],
        expect(client.get(url, params={"resolved-values": "true"}), 200)["variables"],
    ]
    listed = expect(client.get(f"/v1/{plural}", params={"details": "true", "resolved-values": "true"}), 200)
    answers.append(next(item for item in listed[plural] if item["id"] == obj["id"])["variables"])
    blame = expect(client.get(url + "/variables", params={"blame": "true", "resolved-values": "true"}), 200)
    answers.append({key: entry["value"] for key, entry in blame["blame"].items()})
    if plural == "hosts":
        answers.append(hostvars(client, obj["name"]))
    return answers


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(trees)
def test_every_reader_equals_the_reference(craton: Craton, example: Any) -> None:
    variables, masks, strategies, later_strategies = example
    tenant = craton.tenant()
    client = tenant.client
    expect(client.put(strategies_url(tenant), json=strategies), 200)
    tree = build_tree(tenant, variables)
    for level, keys in zip(LEVELS, masks, strict=True):
        if keys:
            expect(client.put(_owner_url(tenant, tree, level) + "/variables/masks", json=sorted(keys)), 200)
    chains = {
        "cloud": ["cloud", "project"],
        "region": ["region", "cloud", "project"],
        "cell": ["cell", "region", "cloud", "project"],
        "host": ["host", "cell", "region", "cloud", "project"],
        "child": ["child", "host", "cell", "region", "cloud", "project"],
    }
    own = dict(zip(LEVELS, zip(variables, masks, strict=True), strict=True))

    def expected(level: str, declared: dict[str, str]) -> dict[str, Any]:
        return reference_resolve([own[name] for name in chains[level]], declared)

    for level in ("cloud", "cell", "child"):
        for answer in _resolved_everywhere(tenant, tree, level):
            assert answer == expected(level, strategies), level
    # vars queries on resolved values: every resolved key of the child finds it with its own value
    child = expected("child", strategies)
    for key, value in child.items():
        text = json.dumps(value, separators=(",", ":"))
        if "," in text:  # a vars query separates conditions with commas
            continue
        found = expect(client.get("/v1/hosts", params={"vars": f"{key}:{text}"}), 200)["hosts"]
        assert tree["child"]["id"] in {h["id"] for h in found}, key
    for key in set(KEYS) - set(child):
        found = expect(client.get("/v1/hosts", params={"vars": f"{key}:null"}), 200)["hosts"]
        assert tree["child"]["id"] not in {h["id"] for h in found}, key
    # the past resolves as it did: change strategies and drop every mask, then read as of before
    moment = now()
    expect(client.put(strategies_url(tenant), json=later_strategies), 200)
    for level, keys in zip(LEVELS, masks, strict=True):
        if keys:
            expect(
                client.request("DELETE", _owner_url(tenant, tree, level) + "/variables/masks", json=sorted(keys)), 204
            )
    for level in ("cell", "child"):
        url = _owner_url(tenant, tree, level) + "/variables"
        assert expect(client.get(url, params={"as_of": moment, "resolved-values": "true"}), 200)["variables"] == (
            expected(level, strategies)
        )
        now_expected = reference_resolve([(own[name][0], set()) for name in chains[level]], later_strategies)
        assert expect(client.get(url, params={"resolved-values": "true"}), 200)["variables"] == now_expected
