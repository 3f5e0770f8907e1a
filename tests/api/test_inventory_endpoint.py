"""/v1/ansible-inventory on every backend: hostvars are the resolved variables, value for value.

The inventory reads each owner's variables as one JSON object built by the
database (SQLite, PostgreSQL) or in Python (MariaDB); these tests hold all
three to the same answer as ``GET /v1/hosts/<id>/variables?resolved-values=true``.
"""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Craton, expect

AWKWARD_VALUES: dict[str, Any] = {
    "unicode": "Zürich – 東京 – emoji \U0001f680",
    "escapes": 'quote " backslash \\ newline \n tab \t',
    "html": "<b>&amp;</b>",
    "max_int": 2**63 - 1,
    "min_int": -(2**63),
    "float": 0.1,
    "big_float": 1.5e300,
    "nested": {"a": [1, {"b": None}], "empty": {}, "list": []},
    "false": False,
    "null": None,
    "key with spaces": "yes",
    "ключ": "значение",
}


def test_hostvars_are_the_resolved_variables_exactly(craton: Craton) -> None:
    tenant = craton.tenant(variables={"level": "project", "project_only": 1})
    build = tenant.inventory
    cloud = build.cloud(variables={"level": "cloud", "cloud_only": [1, 2]})
    region = build.region(cloud=cloud, variables={"level": "region"})
    cell = build.cell(region=region, variables={"level": "cell", "cell_only": {"x": 1}})
    awkward = build.host(cell=cell, variables=AWKWARD_VALUES, ip_address="10.1.0.1")
    plain = build.host(cell=cell, variables={"level": "host"}, ip_address="10.1.0.2")
    bare = build.host(region=region, ip_address="2001:db8::7")
    inventory = expect(tenant.client.get("/v1/ansible-inventory"), 200)
    hostvars = inventory["_meta"]["hostvars"]
    assert set(hostvars) == {awkward["name"], plain["name"], bare["name"]}
    for host in (awkward, plain, bare):
        resolved = expect(tenant.client.get(f"/v1/hosts/{host['id']}/variables?resolved-values=true"), 200)
        assert hostvars[host["name"]] == {**resolved["variables"], "ansible_host": host["ip_address"]}
    assert hostvars[awkward["name"]]["max_int"] == 2**63 - 1
    assert hostvars[awkward["name"]]["level"] == "cell"
    assert hostvars[plain["name"]]["level"] == "host"
    assert hostvars[bare["name"]]["level"] == "region"


def test_an_ansible_host_variable_wins_over_the_ip_address(craton: Craton) -> None:
    tenant = craton.tenant()
    host = tenant.inventory.host(variables={"ansible_host": "bastion.example.net"}, ip_address="10.2.0.1")
    inventory = expect(tenant.client.get("/v1/ansible-inventory"), 200)
    assert inventory["_meta"]["hostvars"][host["name"]]["ansible_host"] == "bastion.example.net"


def test_a_fleet_larger_than_one_batch(craton: Craton, monkeypatch: Any) -> None:
    """Hosts beyond the first batch, sharing containers read in an earlier batch, resolve the same."""
    tenant = craton.tenant(variables={"from": "project"})
    build = tenant.inventory
    region = build.region(variables={"from": "region"})
    cell = build.cell(region=region, variables={"cell_key": "c"})
    hosts = [build.host(cell=cell, variables={"n": i}, ip_address=f"10.3.0.{i + 1}") for i in range(7)]
    from craton.domain import inventory as inventory_domain

    monkeypatch.setattr(inventory_domain, "BATCH", 2)  # the server runs in this process
    hostvars = expect(tenant.client.get("/v1/ansible-inventory"), 200)["_meta"]["hostvars"]
    assert {name: (v["n"], v["from"], v["cell_key"]) for name, v in hostvars.items()} == {
        h["name"]: (i, "region", "c") for i, h in enumerate(hosts)
    }
