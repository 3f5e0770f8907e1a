"""The ``craton`` command against a real craton-api: every command, every format, every exit code.

Each command runs as a subprocess, exactly as an operator or a script would run it. The last
test checks that every command the CLI offers was run at least once in this module.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from cratonclient import auth
from cratonclient.v1.client import Client
from tests.cli.helpers import CLI, COMMANDS_RUN, seed, unique

# --- a small inventory shared by the read-only tests -------------------------------------------


@pytest.fixture(scope="module")
def site(live_server: Any, cli: CLI) -> dict[str, Any]:
    """A project with cloud > region > cell > switch > host, variables on several levels."""
    project_id = cli.json("project-create", "-n", unique("site"))["id"]
    username, api_key = live_server.create_user(project_id, unique("ops"), is_admin=True)
    ops = CLI(live_server.url, project_id, username, api_key)
    cloud = ops.json("cloud-create", "-n", "cloud-a", "--note", "primary")
    region = ops.json("region-create", "-n", "east", "--cloud", str(cloud["id"]))
    cell = ops.json("cell-create", "-n", "c1", "-r", str(region["id"]), "--cloud", str(cloud["id"]))
    switch = ops.json(
        "network-device-create",
        "-n",
        "sw1",
        "-i",
        "10.1.0.1",
        "-r",
        str(region["id"]),
        "--cloud",
        str(cloud["id"]),
        "-t",
        "switch",
        "-c",
        str(cell["id"]),
        "--model-name",
        "X9",
    )
    host = ops.json(
        "host-create",
        "-n",
        "web1",
        "-i",
        "10.1.0.10",
        "-r",
        str(region["id"]),
        "--cloud",
        str(cloud["id"]),
        "-t",
        "server",
        "-c",
        str(cell["id"]),
        "--parent",
        str(switch["id"]),
        "-l",
        "web,prod",
    )
    ops.ok("region-vars-set", str(region["id"]), "zone=east", "ntp=10.0.0.123")
    ops.ok("host-vars-set", str(host["id"]), "role=web", "ntp=10.1.0.2")
    return {"cli": ops, "cloud": cloud, "region": region, "cell": cell, "switch": switch, "host": host}


def _ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item["id"] for item in items]


# --- the original tool's commands, with its flags -----------------------------------------------


def test_project_commands_as_root(cli: CLI) -> None:
    name = unique("proj")
    created = cli.json("project-create", "-n", name)
    assert created["name"] == name and created["variables"] == {}
    project = created["id"]
    assert cli.json("project-show", project)["id"] == project
    assert _ids(cli.json("project-list", "-n", name)) == [project]
    assert cli.json("project-list", "--detail", "-n", name)[0]["variables"] == {}
    assert cli.json("project-vars-set", project, "tier=gold", "seats=5") == {"tier": "gold", "seats": 5}
    assert cli.json("project-vars-get", project) == {"tier": "gold", "seats": 5}
    cli.ok("project-vars-delete", project, "seats")
    assert cli.json("project-vars-get", project) == {"tier": "gold"}
    renamed = cli.json("project-update", project, "-n", name + "-renamed")
    assert (renamed["id"], renamed["name"]) == (project, name + "-renamed")
    assert cli.json("project-show", project)["name"] == name + "-renamed"
    assert "nothing to update" in cli.fails("project-update", project, code=2)
    assert cli.ok("project-delete", project).strip() == f"Project {project} was deleted."
    assert cli.fails("project-show", project).strip() == f"ERROR: Not Found: Project {project} not found"


def test_cloud_region_cell_lifecycle(tenant: CLI) -> None:
    cloud = tenant.json("cloud-create", "-n", "c", "--note", "first")
    assert (cloud["name"], cloud["note"], cloud["project_id"]) == ("c", "first", tenant.project_id)
    assert tenant.json("cloud-update", str(cloud["id"]), "-n", "c2", "--note", "second")["name"] == "c2"
    assert tenant.json("cloud-show", str(cloud["id"]))["note"] == "second"
    assert _ids(tenant.json("cloud-list")) == [cloud["id"]]
    assert _ids(tenant.json("cloud-list", "--name", "c2")) == [cloud["id"]]
    assert tenant.json("cloud-list", "--name", "absent") == []  # the server's 404 means "none"

    region = tenant.json("region-create", "-n", "r", "--cloud", str(cloud["id"]), "--note", "n")
    assert region["cloud_id"] == cloud["id"]
    assert tenant.json("region-update", str(region["id"]), "--note", "n2")["note"] == "n2"
    assert _ids(tenant.json("region-list", "--cloud", str(cloud["id"]))) == [region["id"]]
    assert tenant.json("region-show", str(region["id"]))["name"] == "r"

    cells = [
        tenant.json("cell-create", "-n", name, "-r", str(region["id"]), "--cloud", str(cloud["id"]))
        for name in ("cell-a", "cell-b")
    ]
    assert tenant.json("cell-update", str(cells[0]["id"]), "-n", "cell-a2")["name"] == "cell-a2"
    listed = tenant.json(
        "cell-list", "-r", str(region["id"]), "--cloud", str(cloud["id"]), "--sort-key", "name", "--sort-dir", "desc"
    )
    assert [c["name"] for c in listed] == ["cell-b", "cell-a2"]
    assert tenant.json("cell-show", str(cells[1]["id"]))["region_id"] == region["id"]

    # Variables at each level, and resolution down the hierarchy on request.
    tenant.ok("cloud-vars-set", str(cloud["id"]), "dns=1.1.1.1")
    tenant.ok("region-vars-set", str(region["id"]), "zone=r")
    tenant.ok("cell-vars-set", str(cells[1]["id"]), "rack=12")
    assert tenant.json("cloud-vars-get", str(cloud["id"])) == {"dns": "1.1.1.1"}
    assert tenant.json("cell-vars-get", str(cells[1]["id"]), "--no-resolved") == {"rack": 12}
    assert tenant.json("cell-vars-get", str(cells[1]["id"]), "--resolved") == {
        "rack": 12,
        "zone": "r",
        "dns": "1.1.1.1",
    }
    assert tenant.json("region-vars-get", str(region["id"]), "--resolved")["dns"] == "1.1.1.1"
    tenant.ok("cell-vars-delete", str(cells[1]["id"]), "rack")
    tenant.ok("region-vars-delete", str(region["id"]), "zone")
    tenant.ok("cloud-vars-delete", str(cloud["id"]), "dns")
    assert tenant.json("cell-vars-get", str(cells[1]["id"]), "--resolved") == {}

    for kind, item in (("cell", cells[0]), ("cell", cells[1]), ("region", region), ("cloud", cloud)):
        assert tenant.ok(f"{kind}-delete", str(item["id"])).strip() == f"{kind.capitalize()} {item['id']} was deleted."
    assert tenant.json("cloud-list") == []


def test_host_commands_with_the_original_flags(site: dict[str, Any]) -> None:
    ops, region, cloud, cell = site["cli"], site["region"], site["cloud"], site["cell"]
    created = ops.json(
        "host-create",
        "-n",
        "db1",
        "-i",
        "10.1.0.20",
        "-r",
        str(region["id"]),
        "--cloud",
        str(cloud["id"]),
        "-t",
        "server",
        "-c",
        str(cell["id"]),
        "-a",
        "false",
        "--note",
        "spare",
        "-l",
        "db",
    )
    host = str(created["id"])
    assert created["active"] is False and created["labels"] == ["db"] and created["note"] == "spare"
    updated = ops.json("host-update", host, "-n", "db1b", "--ip_address", "10.1.0.21", "-a", "true")
    assert (updated["name"], updated["ip_address"], updated["active"]) == ("db1b", "10.1.0.21", True)
    # --ip is the list filter; --label and --device-type too.
    assert _ids(ops.json("host-list", "--ip", "10.1.0.21")) == [created["id"]]
    assert _ids(ops.json("host-list", "--label", "db")) == [created["id"]]
    assert set(
        _ids(
            ops.json(
                "host-list",
                "-r",
                str(region["id"]),
                "--cloud",
                str(cloud["id"]),
                "-c",
                str(cell["id"]),
                "--device-type",
                "server",
            )
        )
    ) == {created["id"], site["host"]["id"]}
    assert ops.json("host-show", host)["name"] == "db1b"

    ops.ok("host-labels-add", host, "backup", "eu")
    assert ops.json("host-labels-get", host) == ["backup", "db", "eu"]
    ops.ok("host-labels-delete", host, "eu")
    assert ops.json("host-update", host, "-l", "gold")["labels"] == ["backup", "db", "gold"]
    assert ops.ok("host-delete", host).strip() == f"Host {host} was deleted."
    assert ops.fails("host-show", host).strip() == f"ERROR: Not Found: Host {host} not found"


def test_host_variables_resolve_through_the_hierarchy(site: dict[str, Any]) -> None:
    ops, host = site["cli"], str(site["host"]["id"])
    # Hosts resolve by default, as the original server did; the nearest definition wins.
    assert ops.json("host-vars-get", host) == {"role": "web", "ntp": "10.1.0.2", "zone": "east"}
    assert ops.json("host-vars-get", host, "--no-resolved") == {"role": "web", "ntp": "10.1.0.2"}
    ops.ok("host-vars-set", host, "temp=1")
    assert "Deleted variables of host" in ops.ok("host-vars-delete", host, "temp")
    assert "temp" not in ops.json("host-vars-get", host)
    matching = ops.json("host-list", "--vars", 'zone:"east"', "--vars", 'role:"web"')
    assert _ids(matching) == [site["host"]["id"]]
    assert ops.json("host-list", "--vars", 'zone:"west"') == []
    assert _ids(ops.json("region-list", "--vars", 'zone:"east"')) == [site["region"]["id"]]


def test_device_list(site: dict[str, Any]) -> None:
    ops = site["cli"]
    switch, host = site["switch"]["id"], site["host"]["id"]
    assert set(_ids(ops.json("device-list", "--cloud", str(site["cloud"]["id"])))) >= {switch, host}
    children = ops.json("device-list", "--parent", str(switch), "--descendants")
    assert _ids(children) == [host]
    detailed = ops.json(
        "device-list",
        "--parent",
        str(switch),
        "--detail",
        "--active",
        "true",
        "-r",
        str(site["region"]["id"]),
        "-c",
        str(site["cell"]["id"]),
        "--sort-key",
        "name",
        "--sort-dir",
        "desc",
        "--limit",
        "10",
    )
    assert detailed[0]["variables"]["zone"] == "east"


# --- what the original lacked ------------------------------------------------------------------


def test_network_devices_networks_and_interfaces(site: dict[str, Any]) -> None:
    ops, region, cloud, cell = site["cli"], site["region"], site["cloud"], site["cell"]
    device = ops.json(
        "network-device-create",
        "-n",
        "rtr1",
        "--ip-address",
        "10.1.0.254",
        "-r",
        str(region["id"]),
        "--cloud",
        str(cloud["id"]),
        "-t",
        "router",
        "--os-version",
        "1.2",
        "--vlans",
        "10,20",
        "-l",
        "edge",
    )
    dev = str(device["id"])
    assert device["labels"] == ["edge"] and device["os_version"] == "1.2"
    assert ops.json("network-device-update", dev, "--model-name", "R2", "--note", "lab")["model_name"] == "R2"
    assert ops.json("network-device-show", dev)["note"] == "lab"
    assert dev in {str(i) for i in _ids(ops.json("network-device-list", "--device-type", "router"))}
    ops.ok("network-device-labels-add", dev, "core")
    assert ops.json("network-device-labels-get", dev) == ["core", "edge"]
    ops.ok("network-device-labels-delete", dev, "edge")
    ops.ok("network-device-vars-set", dev, "snmp=public")
    assert ops.json("network-device-vars-get", dev, "--no-resolved") == {"snmp": "public"}
    ops.ok("network-device-vars-delete", dev, "snmp")

    network = ops.json(
        "network-create",
        "-n",
        "mgmt",
        "--cidr",
        "10.1.0.0/24",
        "--gateway",
        "10.1.0.1",
        "--netmask",
        "255.255.255.0",
        "--cloud",
        str(cloud["id"]),
        "-r",
        str(region["id"]),
        "-c",
        str(cell["id"]),
        "--ip-block-type",
        "private",
    )
    net = str(network["id"])
    assert ops.json("network-update", net, "--nss", "10.1.0.53")["nss"] == "10.1.0.53"
    assert ops.json("network-show", net)["cidr"] == "10.1.0.0/24"
    assert _ids(ops.json("network-list", "-r", str(region["id"]), "-n", "mgmt")) == [network["id"]]
    ops.ok("network-vars-set", net, "vlan=100")
    assert ops.json("network-vars-get", net) == {"vlan": 100}
    ops.ok("network-vars-delete", net, "vlan")

    interface = ops.json(
        "network-interface-create",
        "-n",
        "eth0",
        "--device",
        str(site["host"]["id"]),
        "-t",
        "ethernet",
        "-i",
        "10.1.0.10",
        "--network",
        net,
        "--port",
        "1",
        "--speed",
        "1000",
        "--vlan-id",
        "100",
    )
    nic = str(interface["id"])
    assert ops.json("network-interface-update", nic, "--speed", "10000", "--duplex", "full")["speed"] == 10000
    assert ops.json("network-interface-show", nic)["duplex"] == "full"
    assert _ids(ops.json("network-interface-list", "--device", str(site["host"]["id"]))) == [interface["id"]]
    ops.ok("network-interface-vars-set", nic, "mtu=9000")
    assert ops.json("network-interface-vars-get", nic) == {"mtu": 9000}
    ops.ok("network-interface-vars-delete", nic, "mtu")

    ops.ok("network-interface-delete", nic)
    ops.ok("network-delete", net)
    ops.ok("network-device-delete", dev)
    assert ops.fails("network-device-show", dev).strip() == f"ERROR: Not Found: Network device {dev} not found"
    # Their history outlives them.
    for kind, item in (("network-device", dev), ("network", net), ("network-interface", nic)):
        actions = [r["action"] for r in ops.json(f"{kind}-history", item, "--all")]
        assert actions[0] == "create" and actions[-1] == "delete", (kind, actions)


def test_history_of_every_kind_and_the_change_feed(site: dict[str, Any]) -> None:
    ops = site["cli"]
    users = ops.json("changes", "--resource-type", "user")
    assert [(r["action"], r["resource_name"]) for r in users] == [("create", ops.username)]
    kinds = {
        "project": ops.project_id,
        "user": users[0]["resource_id"],
        "cloud": site["cloud"]["id"],
        "region": site["region"]["id"],
        "cell": site["cell"]["id"],
        "host": site["host"]["id"],
    }
    for kind, item in kinds.items():
        first = ops.json(f"{kind}-history", str(item), "--limit", "10")[0]
        assert (first["action"], first["resource_id"]) == ("create", str(item)), kind
    table = ops.ok("host-history", str(site["host"]["id"]))
    assert "| variables | " in table and 'ntp: (unset) -> "10.1.0.2"' in table


def test_effective_change_feed(site: dict[str, Any]) -> None:
    """A host's variable write reaches ``effective-changes`` as that host's record (the pump runs every second)."""
    ops = site["cli"]
    host = site["host"]
    ops.ok("host-vars-set", str(host["id"]), "feed_probe=probe-1")
    deadline = time.monotonic() + 20
    while True:
        found = ops.json("effective-changes", "--all", "--device", str(host["id"]), "--key", "feed_probe")
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(r["device_name"], r["added"], r["changed"]) for r in found] == [
        (host["name"], {"feed_probe": "probe-1"}, {})
    ]


def test_user_commands(tenant: CLI) -> None:
    created = tenant("user-create", "-n", "carol")
    assert created.returncode == 0, created.stderr
    assert "shown only now" in created.stdout
    user = tenant.json("user-create", "-n", "dave", "--admin")
    # The new user lands in the caller's project and gets a key that works right away.
    assert user["project_id"] == tenant.project_id and user["is_admin"] is True and user["api_key"]
    assert {u["username"] for u in tenant.json("user-list")} >= {"carol", "dave"}
    assert [u["username"] for u in tenant.json("user-list", "-n", "dave")] == ["dave"]
    assert "api_key" not in tenant.json("user-show", str(user["id"]))
    dave = CLI(tenant.url, tenant.project_id, "dave", user["api_key"])
    assert dave.json("cloud-list") == []
    rotated = tenant.json("user-rotate-key", "dave")
    assert rotated["api_key"] != user["api_key"] and "could not be authenticated" in dave.fails("cloud-list")
    tenant.ok("user-delete", str(user["id"]))
    assert "could not be authenticated" in CLI(tenant.url, tenant.project_id, "dave", rotated["api_key"]).fails(
        "cloud-list"
    )


def test_export_prints_the_fleet_document(site: dict[str, Any]) -> None:
    """``craton export`` prints what ``craton.fleet.export()`` returns; ``--format yaml`` reads the same."""
    ops = site["cli"]
    document = ops.json("export")
    assert (document["format"], document["version"]) == ("craton-fleet", 1)
    [cloud] = document["clouds"]
    assert (cloud["name"], cloud["note"]) == ("cloud-a", "primary")
    [cell] = cloud["regions"][0]["cells"]
    assert {device["name"] for device in cell["devices"]} >= {"sw1", site["host"]["name"]}
    assert yaml.safe_load(ops.ok("export", "--format", "yaml")) == document
    by_cell = ops.json("export", "--cell", str(site["cell"]["id"]))
    assert "project" not in by_cell and by_cell["clouds"][0]["regions"][0]["cells"] == [cell]
    assert "Not Found" in ops.fails("export", "--cloud", "999999")
    craton = Client(auth.craton_auth(username=ops.username, token=ops.api_key, project_id=ops.project_id), ops.url)
    assert craton.fleet.export() == document
    assert yaml.safe_load(craton.fleet.export_yaml()) == document


def test_import_sends_a_file_and_prints_counts_or_every_problem(
    site: dict[str, Any], tenant: CLI, tmp_path: Path
) -> None:
    """``craton import FILE`` into another project reads back as the same fleet; problems are listed."""
    ops = site["cli"]
    path = tmp_path / "fleet.yaml"
    path.write_text(ops.ok("export", "--format", "yaml"))
    hosts = len(ops.json("host-list", "--all"))

    table = tenant.ok("import", str(path), "--dry-run")
    assert table.startswith("Dry run: nothing was written")
    assert re.search(r"hosts\s*\|\s*%d\s*\|\s*0\s*\|\s*0\s*\|\s*0" % hosts, table), table
    assert tenant.json("export")["clouds"] == []
    counts = tenant.json("import", str(path), "--mode", "create", "--reason", "copied from ops")
    assert (counts["mode"], counts["dry_run"], counts["created"]["hosts"]) == ("create", False, hosts)
    assert tenant.json("export")["clouds"] == ops.json("export")["clouds"]
    assert {c["reason"] for c in tenant.json("changes") if c["resource_type"] == "host"} == {"copied from ops"}

    bad = tmp_path / "hosts.csv"
    bad.write_text(
        "cloud,region,name,device_type,ip_address\nc1,r1,web-1,server,10.0.0.300\nc1,r1,web-2,server,nowhere\n"
    )
    stderr = tenant.fails("import", str(bad))
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("row 2, column ip_address: ") and lines[1].startswith("row 3, column ip_address: ")
    assert lines[-1] == "ERROR: The document has 2 problem(s); nothing was imported."

    assert "--confirm" in tenant.fails("import", str(path), "--mode", "sync", code=2)
    synced = tenant.json("import", str(path), "--mode", "sync", "--dry-run")
    assert synced["deleted"] == {kind: 0 for kind in synced["deleted"]}
    (tmp_path / "hosts.txt").write_text("x")
    assert "--input-format" in tenant.fails("import", str(tmp_path / "hosts.txt"), code=2)
    assert (
        tenant(
            "import", "-", "--input-format", "yaml", "--dry-run", "--format", "json", input=path.read_text()
        ).returncode
        == 0
    )


def test_ansible_inventory(site: dict[str, Any]) -> None:
    ops, host = site["cli"], site["host"]
    inventory = ops.json("ansible-inventory")
    hostvars = inventory["_meta"]["hostvars"][host["name"]]
    # Resolved variables: the host's own, then its region's.
    assert hostvars["role"] == "web" and hostvars["zone"] == "east"
    assert host["name"] in inventory["web"]["hosts"]  # one group per label
    by_region = ops.json("ansible-inventory", "--region", str(site["region"]["id"]), "--list")
    assert host["name"] in by_region["_meta"]["hostvars"]
    assert ops.json("ansible-inventory", "--cloud", "999999")["_meta"]["hostvars"] == {}
    assert ops.json("ansible-inventory", "--host", host["name"]) == hostvars
    assert ops.json("ansible-inventory", "--host", "no-such-host") == {}
    labelled = yaml.safe_load(ops.ok("--format", "yaml", "ansible-inventory", "--label", "web"))
    assert set(labelled["_meta"]["hostvars"]) == {host["name"]}
    assert "csv" in ops.fails("--format", "csv", "ansible-inventory", code=2)


# --- output formats parse back ------------------------------------------------------------------


def test_every_format_parses_back(site: dict[str, Any]) -> None:
    ops, host = site["cli"], str(site["host"]["id"])
    as_json = json.loads(ops.ok("--format", "json", "host-list", "--detail"))
    as_yaml = yaml.safe_load(ops.ok("--format", "yaml", "host-list", "--detail"))
    assert as_json == as_yaml
    rows = list(csv.DictReader(io.StringIO(ops.ok("--format", "csv", "host-list", "--fields", "id,name,labels"))))
    assert [int(r["id"]) for r in rows] == _ids(as_json)
    assert set(rows[0]) == {"id", "name", "labels"}

    shown = json.loads(ops.ok("host-show", host, "--format", "json"))
    assert yaml.safe_load(ops.ok("host-show", host, "--format", "yaml")) == shown
    [row] = csv.DictReader(io.StringIO(ops.ok("host-show", host, "--format", "csv")))
    assert row["name"] == shown["name"] and row["ip_address"] == shown["ip_address"]

    variables = json.loads(ops.ok("host-vars-get", host, "--format", "json"))
    assert yaml.safe_load(ops.ok("host-vars-get", host, "--format", "yaml")) == variables
    csv_text = ops.ok("host-vars-get", host, "--format", "csv")
    as_csv = {r["name"]: r["value"] for r in csv.DictReader(io.StringIO(csv_text))}
    assert as_csv == {key: str(value) for key, value in variables.items()}

    table = ops.ok("host-list", "--fields", "id", "name", "labels")
    assert table.splitlines()[1].split() == ["|", "Id", "|", "Name", "|", "Labels", "|"]
    assert "| web1 " in table


def test_tables_fit_columns(site: dict[str, Any]) -> None:
    ops = site["cli"]
    columns = ("--fields", "id,name,project_id,created_at,variables")
    wide = ops.ok("host-list", "--detail", *columns)
    narrow = ops("host-list", "--detail", *columns, env={"COLUMNS": "80"})
    assert max(map(len, wide.splitlines())) > 80  # a pipe has no width: nothing wraps
    assert max(map(len, narrow.stdout.splitlines())) <= 80
    assert "web1" in narrow.stdout


# --- paging and sorting -------------------------------------------------------------------------


def test_paging_with_limit_marker_and_all(tenant: CLI) -> None:
    ids = _ids(seed(tenant, "/v1/clouds", [{"name": f"cloud-{n:02d}"} for n in range(35)]))
    assert _ids(tenant.json("cloud-list")) == ids  # piped: every page, not the first 30
    first = tenant.json("cloud-list", "--limit", "10")
    second = tenant.json("cloud-list", "--limit", "10", "--marker", str(first[-1]["id"]))
    assert _ids(first) + _ids(second) == ids[:20]
    assert _ids(tenant.json("cloud-list", "--all")) == ids
    assert [c["name"] for c in tenant.json("cloud-list", "--all", "--sort-key", "name", "--sort-dir", "desc")][:2] == [
        "cloud-34",
        "cloud-33",
    ]


def test_all_shows_progress_on_a_terminal_stderr(tenant: CLI, tmp_path: Path) -> None:
    cloud = tenant.json("cloud-create", "-n", "for-regions")["id"]
    seed(tenant, "/v1/regions", [{"name": f"r{n}", "cloud_id": cloud} for n in range(55)])
    primary, replica = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cratonclient.shell.main", "--format", "csv", "region-list", "--all"],
            env=tenant.env,
            stdout=subprocess.PIPE,
            stderr=replica,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
        )
        os.close(replica)
        replica = -1
        progress = _drain(primary)
    finally:
        if replica != -1:
            os.close(replica)
        os.close(primary)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 56
    assert "Fetching regions... 50" in progress


def _drain(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


# --- variables from stdin -----------------------------------------------------------------------


def test_vars_set_and_delete_read_json_from_stdin(site: dict[str, Any]) -> None:
    ops, cell = site["cli"], str(site["cell"]["id"])
    document = {"string": "s", "num": 47, "bool": False, "none": None, "obj": {"a": 1}, "list": ["a", 1, True]}
    assert ops.json("cell-vars-set", cell, input=json.dumps(document)) == document
    assert ops.json("cell-vars-get", cell) == document
    ops.ok("cell-vars-delete", cell, input=json.dumps(list(document)))
    assert ops.json("cell-vars-get", cell) == {}
    assert "expected a JSON object" in ops.fails("cell-vars-set", cell, input="[1, 2]", code=2)
    assert "not valid JSON" in ops.fails("cell-vars-delete", cell, input="nope", code=2)


def test_vars_set_on_a_terminal_needs_arguments(site: dict[str, Any]) -> None:
    ops, cell = site["cli"], str(site["cell"]["id"])
    primary, replica = pty.openpty()
    try:
        result = ops("cell-vars-set", cell, stdin=replica)
        assert result.returncode == 2 and "nothing to update" in result.stderr
        result = ops("cell-vars-delete", cell, stdin=replica)
        assert result.returncode == 2 and "nothing to delete" in result.stderr
        # With a terminal on stdin, arguments work as they did for the original.
        result = ops("--format", "json", "cell-vars-set", cell, "k=v", stdin=replica)
        assert result.returncode == 0 and json.loads(result.stdout) == {"k": "v"}
    finally:
        os.close(primary)
        os.close(replica)
    ops.ok("cell-vars-delete", cell, "k")


# --- exit statuses ------------------------------------------------------------------------------


def test_server_errors_exit_1_with_the_server_message(live_server: Any, site: dict[str, Any]) -> None:
    ops = site["cli"]
    # ``message: detail``: the original sentence first, then what exactly was wrong
    assert ops.fails("cloud-show", "999999").strip() == "ERROR: Not Found: Cloud 999999 not found"  # 404
    duplicate = ops.fails("cloud-create", "-n", "cloud-a")  # 409
    assert duplicate.strip() == "ERROR: A cloud with the given name already exists."
    assert "is not JSON" in ops.fails("cloud-list", "--vars", "a:{")  # 400
    bad_path = ops.fails("cloud-list", "--vars", "[*]foo:1")
    assert bad_path.startswith("ERROR: The query contains an invalid JSON Path expression.: In '[*]foo' at position 0")
    refused = ops.fails("cloud-show", "1", env={"OS_PASSWORD": "wrong"}).strip()  # 401 names what it tried
    assert refused.startswith(
        f"ERROR: The request could not be authenticated.: X-Auth-User and X-Auth-Token do not match a user of "
        f"project {ops.project_id}. (tried {ops.url}/v1/clouds"
    )
    assert refused.endswith(f" as user {ops.username!r} of project {ops.project_id})")
    project = site["cloud"]["project_id"]
    member, key = live_server.create_user(project, unique("member"), is_admin=False)
    plain = CLI(ops.url, project, member, key)
    assert plain.fails("user-list").startswith("ERROR: ")  # 403: members do not manage users


def test_usage_errors_exit_2_with_a_hint(cli: CLI) -> None:
    for argv in (
        ["cloud-show"],
        ["cloud-list", "--limit", "0"],
        ["nonsense"],
        ["cloud-update", "1"],
        ["cloud-list", "--fields", "nope"],
        ["help", "nonsense"],
    ):
        stderr = cli.fails(*argv, code=2)
        assert "error:" in stderr and "Try 'craton help" in stderr


def test_connection_failures_name_the_url(cli: CLI) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    stderr = cli.fails("cloud-list", env={"CRATON_URL": url})
    assert stderr.strip() == f"ERROR: could not connect to Craton at {url}/v1/clouds: Connection refused"
    assert "no Craton URL" in cli.fails("cloud-list", env={"CRATON_URL": ""})
    assert "missing credentials" in cli.fails("cloud-list", env={"OS_PASSWORD": ""})


def test_global_options_override_the_environment(cli: CLI) -> None:
    result = cli(
        "--craton-url",
        cli.url,
        "--os-username",
        cli.username,
        "--os-password",
        cli.api_key,
        "--os-project-id",
        cli.project_id,
        "--craton-version",
        "1",
        "--format",
        "json",
        "project-show",
        cli.project_id,
        env={"CRATON_URL": "http://127.0.0.1:9", "OS_PASSWORD": "bad"},
    )
    assert result.returncode == 0 and json.loads(result.stdout)["id"] == cli.project_id


# --- help and completion ------------------------------------------------------------------------


def test_help_both_ways_and_version(cli: CLI) -> None:
    assert cli.ok("help", "cell-list") == cli.ok("cell-list", "--help")
    assert "usage: craton cell-list" in cli.ok("help", "cell-list")
    top = cli.ok("help")
    assert "host-vars-set" in top and "ansible-inventory" in top
    assert cli.ok().startswith("usage: craton")
    import cratonclient

    assert cli.ok("--version").strip() == cratonclient.__version__


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("craton")
    assert script.exists(), "pip install -e client provides the craton console script"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0


def test_completion_scripts_are_valid_and_complete_commands(cli: CLI) -> None:
    bash_script = cli.ok("completion", "bash")
    assert "complete -F" in bash_script and "host-vars-set" in bash_script
    if shutil.which("bash"):
        check = subprocess.run(["bash", "-n"], input=bash_script, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        assert _bash_complete(bash_script, "craton --format json host-li") == ["host-list"]
        assert _bash_complete(bash_script, "craton host-list --sort-") == ["--sort-key", "--sort-dir"]
        assert _bash_complete(bash_script, "craton --format ") == ["default", "table", "json", "yaml", "csv"]
        assert _bash_complete(bash_script, "craton completion ") == ["-h", "--help", "bash", "zsh"]
    zsh_script = cli.ok("completion", "zsh")
    assert zsh_script.startswith("#compdef craton")
    if shutil.which("zsh"):
        check = subprocess.run(["zsh", "-n"], input=zsh_script, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def _bash_complete(script: str, line: str) -> list[str]:
    """What the completion function offers for the last word of ``line`` (may be empty)."""
    words = line.split(" ")
    probe = (
        f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_craton_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_masks_and_merge_strategies_on_every_kind(site: dict[str, Any]) -> None:
    """``<kind>-vars-mask/unmask`` and the merge-strategy commands, live (tests/cli/test_cli_merge.py has more)."""
    ops = site["cli"]
    network = seed(
        ops,
        "/v1/networks",
        [
            {
                "name": unique("net"),
                "cidr": "10.9.0.0/24",
                "gateway": "10.9.0.1",
                "netmask": "255.255.255.0",
                "cloud_id": site["cloud"]["id"],
                "region_id": site["region"]["id"],
            }
        ],
    )[0]
    interface = seed(
        ops,
        "/v1/network-interfaces",
        [
            {
                "name": unique("eth"),
                "device_id": site["host"]["id"],
                "interface_type": "ethernet",
                "ip_address": "10.9.0.5",
            }
        ],
    )[0]
    owners = {
        "project": ops.project_id,
        "cloud": site["cloud"]["id"],
        "region": site["region"]["id"],
        "cell": site["cell"]["id"],
        "host": site["host"]["id"],
        "network-device": site["switch"]["id"],
        "network": network["id"],
        "network-interface": interface["id"],
    }
    for kind, owner in owners.items():
        assert ops.json(f"{kind}-vars-mask", str(owner), "proxy") == ["proxy"], kind
        ops.ok(f"{kind}-vars-unmask", str(owner), "proxy")
    assert ops.json("project-merge-strategies-set", "--strategy", "ntp=union") == {"ntp": "union"}
    assert ops.json("project-merge-strategies-get") == {"ntp": "union"}
    assert ops.json("project-merge-strategies-set", "--clear") == {}


# --- webhooks ------------------------------------------------------------------------------------

#: A public address written as such: accepted without allow_private_targets and without DNS.
PUBLIC_HOOK = "https://93.184.216.34/hook"


def test_webhook_commands(live_server: Any, tenant: CLI, site: dict[str, Any]) -> None:
    """Create (secret printed once), list, show, update, deliveries, redeliver, delete."""
    created = tenant("--format", "json", "webhook-create", "--url", PUBLIC_HOOK, "--key-prefix", "ntp_", "--cell", "5")
    assert created.returncode == 0, created.stderr
    hook = json.loads(created.stdout)
    assert len(hook["secret"]) >= 16 and "shown only now" in created.stderr  # generated, and said so
    assert hook["filters"] == {"key_prefixes": ["ntp_"], "cell_ids": [5]}
    given = tenant.json("webhook-create", "--url", PUBLIC_HOOK, "--secret", "x" * 20, "--event", "change")
    assert given["secret"] == "x" * 20 and given["events"] == ["change"]
    table = tenant.ok("webhook-list")
    assert PUBLIC_HOOK in table and "| Secret Hint |" in table and "x" * 20 not in table
    assert [h["id"] for h in tenant.json("webhook-list")] == [hook["id"], given["id"]]
    shown = tenant.json("webhook-show", str(hook["id"]))
    assert "secret" not in shown and shown["secret_hint"] == "..." + hook["secret"][-4:]
    updated = tenant.json("webhook-update", str(hook["id"]), "--disable", "--no-filters")
    assert updated["enabled"] is False and updated["filters"] == {}
    # The URL's spelling of a resource type is read as the events' one; an unknown type is refused.
    typed = tenant.json("webhook-update", str(hook["id"]), "--resource-type", "network-device,host")
    assert typed["filters"] == {"resource_types": ["network_device", "host"]}
    refused = tenant.fails("webhook-update", str(hook["id"]), "--resource-type", "switch")
    assert "'switch'" in refused and "network_device" in refused
    assert "nothing to update" in tenant.fails("webhook-update", str(hook["id"]), code=2)
    assert "allow_private_targets" in tenant.fails("webhook-create", "--url", "http://10.0.0.1/")
    named = site["cli"].json(
        "webhook-create", "--url", PUBLIC_HOOK, "--cell", "c1", "--region", "east", "--label", "a,b"
    )
    assert named["filters"] == {
        "cell_ids": [site["cell"]["id"]],
        "region_ids": [site["region"]["id"]],
        "labels": ["a", "b"],
    }
    site["cli"].ok("webhook-delete", str(named["id"]))

    # Two deliveries queued as the event pump queues them; one has failed for good.
    from craton.domain.webhooks import enqueue_deliveries

    tenant.json("webhook-update", str(given["id"]), "--enable")
    events = [("change", {"resource_type": "cell", "action": "update", "resource_id": str(n)}) for n in (1, 2)]
    with live_server.engine.begin() as conn:
        enqueue_deliveries(conn, tenant.project_id, events)
    # (The server's own event pump may queue changes of this project, too: look at ours only.)
    log = [d for d in tenant.json("webhook-deliveries", str(given["id"])) if d["payload"]["resource_type"] == "cell"]
    assert [d["status"] for d in log] == ["pending", "pending"] and log[0]["id"] > log[1]["id"]
    with live_server.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE webhook_deliveries SET status = 'failed', attempts = 8 WHERE id = :id"),
            {"id": log[1]["id"]},
        )
    failed = tenant.json("webhook-deliveries", str(given["id"]), "--status", "failed")
    assert [d["id"] for d in failed] == [log[1]["id"]]
    again = tenant("webhook-redeliver", str(given["id"]), str(log[1]["id"]))
    assert again.returncode == 0 and log[1]["event_id"] in again.stderr + again.stdout
    assert tenant.json("webhook-deliveries", str(given["id"]), "--status", "failed") == []
    assert "failed" in tenant.fails("webhook-redeliver", str(given["id"]), str(log[1]["id"]))  # pending now
    assert "webhook" in tenant.ok("webhook-delete", str(given["id"])).lower()
    assert "Not Found" in tenant.fails("webhook-show", str(given["id"]))


# --- coverage of the command set ----------------------------------------------------------------


def test_zz_every_command_was_run(cli: CLI) -> None:
    """Runs last in this module: every command listed in help has been exercised above."""
    from cratonclient.shell.main import CratonShell

    offered = set(CratonShell(environ={}).commands)
    missing = sorted(offered - COMMANDS_RUN)
    assert not missing, f"commands never run by the live tests: {missing}"
