"""Issue 21 from the command line, against a real craton-api: names instead of ids, short
options, key rotation, lists that say when they are cut, tables at 80 columns.

Each command runs as a subprocess, as an operator's shell would run it.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.cli.helpers import CLI, seed, unique


@pytest.fixture(scope="module")
def fleet(live_server: Any, cli: CLI) -> dict[str, Any]:
    """A small fleet built with names only, in a project of its own."""
    project = cli.json("project-create", "-n", unique("fleet"))
    username, api_key = live_server.create_user(project["id"], unique("ops"), is_admin=True)
    ops = CLI(live_server.url, project["id"], username, api_key)
    made: dict[str, Any] = {"cli": ops, "project": project}
    made["prod"] = ops.json("cloud-create", "-n", "prod")
    made["east"] = ops.json("region-create", "-n", "east", "--cloud", "prod")
    made["west"] = ops.json("region-create", "-n", "west", "--cloud", "prod")
    # No --cloud: it follows from the region; no --region either: it follows from the cell.
    made["east-a"] = ops.json("cell-create", "-n", "east-a", "--region", "east")
    made["west-a"] = ops.json("cell-create", "-n", "west-a", "-r", "west")
    made["sw1"] = ops.json("network-device-create", "-n", "sw1", "-i", "10.1.0.1", "--cell", "east-a", "-t", "switch")
    made["web-01"] = ops.json(
        "host-create", "-n", "web-01", "-i", "10.1.0.11", "--cell", "east-a", "-t", "server", "--parent", "sw1"
    )
    made["web-02"] = ops.json("host-create", "-n", "web-02", "-i", "10.1.0.12", "-r", "east", "-t", "server")
    made["net"] = ops.json(
        "network-create",
        "-n",
        "net-east",
        "--cidr",
        "10.1.0.0/24",
        "--gateway",
        "10.1.0.254",
        "--netmask",
        "255.255.255.0",
        "--region",
        "east",
    )
    made["eth0"] = ops.json(
        "network-interface-create",
        "-n",
        "eth0",
        "--device",
        "web-01",
        "--network",
        "net-east",
        "-t",
        "ethernet",
        "-i",
        "10.1.0.11",
    )
    return made


def test_a_fleet_is_built_with_names_and_the_hierarchy_fills_in(fleet: dict[str, Any]) -> None:
    prod, east, west = fleet["prod"]["id"], fleet["east"]["id"], fleet["west"]["id"]
    assert fleet["east"]["cloud_id"] == prod
    assert (fleet["east-a"]["cloud_id"], fleet["east-a"]["region_id"]) == (prod, east)
    assert (fleet["west-a"]["cloud_id"], fleet["west-a"]["region_id"]) == (prod, west)
    cell = fleet["east-a"]["id"]
    assert (fleet["sw1"]["cloud_id"], fleet["sw1"]["region_id"], fleet["sw1"]["cell_id"]) == (prod, east, cell)
    assert fleet["web-01"]["parent_id"] == fleet["sw1"]["id"]
    assert (fleet["web-02"]["cloud_id"], fleet["web-02"]["region_id"], fleet["web-02"]["cell_id"]) == (prod, east, None)
    assert (fleet["net"]["cloud_id"], fleet["net"]["region_id"]) == (prod, east)
    assert (fleet["eth0"]["device_id"], fleet["eth0"]["network_id"]) == (fleet["web-01"]["id"], fleet["net"]["id"])


def test_names_work_wherever_an_id_does(live_server: Any, cli: CLI, fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    web = fleet["web-01"]["id"]
    assert ops.json("host-show", "web-01")["id"] == web
    assert ops.json("host-vars-set", "web-01", "role=web") == {"role": "web"}
    assert "web" in ops.ok("host-labels-add", "web-01", "web")
    assert [h["id"] for h in ops.json("host-list", "--cell", "east-a", "--region", "east")] == [web]
    assert [d["id"] for d in ops.json("device-list", "--parent", "sw1")] == [web]
    assert [i["id"] for i in ops.json("network-interface-list", "--device", "web-01")] == [fleet["eth0"]["id"]]
    assert ops.json("network-interface-show", "eth0")["id"] == fleet["eth0"]["id"]
    assert ops.json("network-show", "net-east")["id"] == fleet["net"]["id"]
    assert ops.json("cell-vars-get", "east-a") == {}
    assert ops.json("region-history", "east")[0]["action"] == "create"
    assert ops.json("cloud-update", "prod", "--note", "main")["note"] == "main"
    inventory = ops.json("ansible-inventory", "--region", "east")
    assert sorted(inventory["_meta"]["hostvars"]) == ["web-01", "web-02"]
    # Users by username, projects by name (root).
    me = ops.json("user-list")[0]
    assert ops.json("user-show", me["username"])["id"] == me["id"]
    project = fleet["project"]
    assert cli.json("project-show", project["name"])["id"] == project["id"]
    robot = cli.json("user-create", "-n", unique("robot"), "-p", project["name"])
    assert robot["project_id"] == project["id"]


def test_unknown_and_ambiguous_names_are_errors_naming_the_candidates(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    other = ops.json("cloud-create", "-n", unique("other"))
    north = ops.json("region-create", "-n", "north", "--cloud", "prod")
    twin = ops.json("region-create", "-n", "north", "--cloud", str(other["id"]))

    error = ops.fails("region-show", "north")
    assert "2 regions are named 'north'; give the id of one of them:" in error
    assert f"{north['id']} (cloud_id {fleet['prod']['id']})" in error
    assert f"{twin['id']} (cloud_id {other['id']})" in error
    # --cloud narrows --region, so the same name is no longer ambiguous.
    made = ops.json("cell-create", "-n", "north-a", "--region", "north", "--cloud", "prod")
    assert (made["region_id"], made["cloud_id"]) == (north["id"], fleet["prod"]["id"])
    assert "No host named 'web-99'." in ops.fails("host-show", "web-99")
    assert "No cell named 'nowhere'" in ops.fails(
        "host-create", "-n", "x", "-i", "10.9.9.9", "--cell", "nowhere", "-t", "s"
    )
    assert "No host or network device named 'ghost'" in ops.fails("device-list", "--parent", "ghost")
    # Digits are always an id: no lookup by name.
    assert "Not Found" in ops.fails("cloud-show", "999999")


def test_a_create_without_placement_says_what_to_give(fleet: dict[str, Any]) -> None:
    error = fleet["cli"].fails("host-create", "-n", "x", "-i", "10.9.9.9", "-t", "server", code=2)
    assert "a host needs a region: give -r/--region (or --cell)" in error


def test_short_format_and_column_options(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    assert json.loads(ops.ok("-f", "json", "host-show", "web-01", "-c", "name", "-c", "ip_address")) == {
        "ip_address": "10.1.0.11",
        "name": "web-01",
    }
    table = ops.ok("host-list", "-c", "id,name", "-f", "table", "--region", "east")
    assert [cell.strip() for cell in table.splitlines()[1].split("|")] == ["", "Id", "Name", ""]
    assert ops.ok("-f", "csv", "-c", "name", "cloud-show", "prod").splitlines() == ["name", "prod"]
    assert "invalid column 'bogus'" in ops.fails("host-show", "web-01", "-c", "bogus", code=2)
    # The original tool's -c <cell id> still works on commands that have --cell.
    cell = str(fleet["east-a"]["id"])
    created = ops.json("host-create", "-n", "web-03", "-i", "10.1.0.13", "-r", "east", "-c", cell, "-t", "vm")
    assert created["cell_id"] == fleet["east-a"]["id"]
    assert [h["name"] for h in ops.json("host-list", "-c", cell, "-n", "web-03")] == ["web-03"]


def test_user_rotate_key_prints_the_new_key_once(live_server: Any, fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    project_id = fleet["project"]["id"]
    bob = ops.json("user-create", "-n", "bob")
    as_bob = CLI(live_server.url, project_id, "bob", bob["api_key"])
    assert as_bob.json("cloud-list")

    result = ops("-f", "json", "user-rotate-key", "bob", "--grace-seconds", "60")
    assert result.returncode == 0, result.stderr
    rotated = json.loads(result.stdout)
    assert "shown only now" in result.stderr and "keeps working for 60 seconds" in result.stderr
    assert rotated["id"] == bob["id"] and rotated["api_key"] != bob["api_key"]
    assert as_bob.json("cloud-list")  # the grace period
    table = ops.ok("user-rotate-key", str(bob["id"]))
    new_key = re.search(r"\| api_key +\| (\w+) +\|", table)
    assert new_key and "The previous key no longer works." in table
    assert as_bob.fails("cloud-list").startswith("ERROR:")
    assert CLI(live_server.url, project_id, "bob", new_key.group(1)).json("cloud-list")
    assert "api_key" not in ops.json("user-show", "bob")
    assert "invalid number of seconds" in ops.fails("user-rotate-key", "bob", "--grace-seconds", "-5", code=2)


@pytest.fixture(scope="module")
def many(live_server: Any, cli: CLI) -> dict[str, Any]:
    """35 clouds in a project of their own."""
    project_id = cli.json("project-create", "-n", unique("many"))["id"]
    username, api_key = live_server.create_user(project_id, unique("ops"), is_admin=True)
    ops = CLI(live_server.url, project_id, username, api_key)
    ids = [cloud["id"] for cloud in seed(ops, "/v1/clouds", [{"name": f"c{n:02}"} for n in range(35)])]
    return {"cli": ops, "ids": ids}


def test_piped_lists_fetch_every_page_and_cut_lists_say_so(many: dict[str, Any]) -> None:
    ops, ids = many["cli"], many["ids"]
    whole = ops("-f", "json", "cloud-list")  # stdout is a pipe here: every page
    assert [c["id"] for c in json.loads(whole.stdout)] == ids and whole.stderr == ""

    cut = ops("-f", "json", "cloud-list", "--limit", "5")
    assert [c["id"] for c in json.loads(cut.stdout)] == ids[:5]
    assert cut.stderr.strip() == (
        f"Showing 5 clouds; more follow. Next page: --marker {ids[4]} (with the same options), or --all for everything."
    )
    after = ops.json("cloud-list", "--limit", "3", "--marker", str(ids[4]))
    assert [c["id"] for c in after] == ids[5:8]
    big = ops("-f", "json", "cloud-list", "--limit", "150")  # above the server's 100
    assert [c["id"] for c in json.loads(big.stdout)] == ids and big.stderr == ""


def _on_a_terminal(ops: CLI, *argv: str) -> str:
    """Run with stdout and stderr on one pseudo-terminal; return what it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cratonclient.shell.main", *argv],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**ops.env, "COLUMNS": "200"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_on_a_terminal_one_page_then_the_hint_after_the_table(many: dict[str, Any]) -> None:
    ops, ids = many["cli"], many["ids"]
    shown = _on_a_terminal(ops, "cloud-list", "--fields", "id")
    lines = shown.strip().splitlines()
    assert lines[-1].startswith(f"Showing 30 clouds; more follow. Next page: --marker {ids[29]}")
    assert lines[-2].startswith("+--")  # the table ends just before the hint
    assert sum(1 for line in lines if re.match(r"^\| \d+ ", line)) == 30


def test_tables_at_80_columns_never_split_an_address_or_an_id(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    wholes = {
        ("host-list", "--region", "east"): ["10.1.0.11", "10.1.0.12", str(fleet["web-01"]["id"])],
        ("host-show", "web-01"): ["10.1.0.11", fleet["project"]["id"]],
        ("network-list",): ["10.1.0.0/24", "10.1.0.254", "255.255.255.0"],
    }
    for argv, values in wholes.items():
        table = ops("--format", "table", *argv, env={"COLUMNS": "80"}).stdout
        lines = table.splitlines()
        cells = [cell.strip() for line in lines for cell in line.split("|")]
        for value in values:
            assert value in cells, (value, table)
        if argv[0] != "network-list":  # eight columns of addresses and ids need 81: it may overflow
            assert max(len(line) for line in lines) <= 80, table


def test_changes_piped_are_complete_and_a_limit_says_when_cut(many: dict[str, Any]) -> None:
    ops = many["cli"]
    everything = ops("-f", "json", "changes")
    assert len(json.loads(everything.stdout)) >= 35 and everything.stderr == ""
    cut = ops("-f", "json", "changes", "--limit", "10")
    assert len(json.loads(cut.stdout)) == 10 and "Showing 10 changes; more may follow" in cut.stderr


def test_the_original_ids_still_work_unchanged(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    region, cloud = str(fleet["east"]["id"]), str(fleet["prod"]["id"])
    made = ops.json("cell-create", "-n", unique("c"), "-r", region, "--cloud", cloud)
    assert (made["region_id"], made["cloud_id"]) == (fleet["east"]["id"], fleet["prod"]["id"])


# --- deletes that say what goes with them --------------------------------------------------------


def _interactive(ops: CLI, answer: str, *argv: str) -> tuple[int, str]:
    """Run on a pseudo-terminal (stdin, stdout, stderr), typing ``answer``; return the exit
    status and everything the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cratonclient.shell.main", *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**ops.env, "COLUMNS": "200"},
    )
    os.close(follower)
    os.write(leader, answer.encode() + b"\n")
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = process.wait(timeout=60)
    os.close(leader)
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def doomed(fleet: dict[str, Any]) -> dict[str, Any]:
    """A region of its own with a cell, a switch, two hosts, a network and an interface."""
    ops = fleet["cli"]
    name = unique("doomed")
    region = ops.json("region-create", "-n", name, "--cloud", "prod")
    cell = ops.json("cell-create", "-n", f"{name}-a", "--region", str(region["id"]))
    where = ("--cell", str(cell["id"]))
    switch = ops.json("network-device-create", "-n", f"{name}-sw", "-i", "10.7.0.1", *where, "-t", "switch")
    hosts = [
        ops.json("host-create", "-n", f"{name}-h{n}", "-i", f"10.7.0.{n + 10}", *where, "-t", "server")
        for n in range(2)
    ]
    network = ops.json(
        "network-create",
        "-n",
        f"{name}-net",
        "--cidr",
        "10.7.0.0/24",
        "--gateway",
        "10.7.0.254",
        "--netmask",
        "255.255.255.0",
        *where,
    )
    ops.json(
        "network-interface-create",
        "-n",
        "eth0",
        "--device",
        str(hosts[0]["id"]),
        "--network",
        str(network["id"]),
        "-t",
        "ethernet",
        "-i",
        "10.7.0.10",
    )
    return {"region": region, "hosts": hosts, "switch": switch, "name": name}


def test_a_delete_with_objects_below_needs_confirmation(fleet: dict[str, Any], doomed: dict[str, Any]) -> None:
    ops, region = fleet["cli"], doomed["region"]
    counts = "1 cell, 2 hosts, 1 network device, 1 network, 1 interface"

    preview = ops("-f", "json", "region-delete", doomed["name"], "--preview")
    assert preview.returncode == 0
    answer = json.loads(preview.stdout)  # the devices that would go, and the counts
    assert answer["devices_affected"] == 3 and all(device["deleted"] for device in answer["devices"])
    assert answer["deleted"] == {
        "clouds": 0,
        "regions": 1,
        "cells": 1,
        "hosts": 2,
        "network_devices": 1,
        "networks": 1,
        "network_interfaces": 1,
    }
    sentence = f"Preview: deletes region {region['id']} and {counts} below it; 3 devices affected; nothing was written."
    assert sentence in preview.stderr

    # No terminal and no --yes: refused with the counts, exit 2, nothing deleted.
    refused = ops.fails("region-delete", doomed["name"], code=2)
    assert f"refusing to delete without confirmation: this deletes region {region['id']} and {counts}" in refused
    assert ops.json("region-show", str(region["id"]))["id"] == region["id"]

    # On a terminal: the question names the counts; anything but yes keeps everything.
    code, shown = _interactive(ops, "n", "region-delete", doomed["name"])
    assert code == 1 and f"This deletes region {region['id']} and {counts} below it. Delete? [y/N]" in shown
    assert "Not deleted" in shown
    assert ops.json("region-show", str(region["id"]))["id"] == region["id"]
    code, shown = _interactive(ops, "y", "region-delete", doomed["name"])
    assert code == 0 and f"Region {region['id']} was deleted, with {counts}." in shown
    assert "Not Found" in ops.fails("region-show", str(region["id"]))

    # The removed host keeps its history, with its own delete record.
    host = doomed["hosts"][1]
    actions = [record["action"] for record in ops.json("host-history", str(host["id"]))]
    assert actions[0] == "create" and actions[-1] == "delete"


def test_yes_deletes_at_once_and_a_lone_object_needs_no_confirmation(
    fleet: dict[str, Any], doomed: dict[str, Any]
) -> None:
    ops = fleet["cli"]
    lone = doomed["hosts"][1]
    assert ops.ok("host-delete", str(lone["id"])).strip() == f"Host {lone['id']} was deleted."
    assert ops.ok("cell-delete", f"{doomed['name']}-a", "--yes").startswith("Cell ")
    assert ops.json("region-delete", doomed["name"], "--preview")["deleted"] == {
        "clouds": 0,
        "regions": 1,
        "cells": 0,
        "hosts": 0,
        "network_devices": 0,
        "networks": 0,
        "network_interfaces": 0,
    }


# --- labels, name search and moves (the API side is opsrv's) -------------------------------------


def test_repeated_or_comma_labels_mean_all_of_them(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    ops.ok("host-labels-add", "web-01", "compute", "gpu")
    ops.ok("host-labels-add", "web-02", "compute")
    both = {fleet["web-01"]["id"], fleet["web-02"]["id"]}
    assert {h["id"] for h in ops.json("host-list", "--label", "compute")} == both
    for argv in (("--label", "compute", "--label", "gpu"), ("--label", "compute,gpu")):
        assert [h["name"] for h in ops.json("host-list", *argv)] == ["web-01"]
        assert [d["name"] for d in ops.json("device-list", *argv)] == ["web-01"]
    inventory = ops.json("ansible-inventory", "--label", "gpu", "--label", "compute")
    assert sorted(inventory["_meta"]["hostvars"]) == ["web-01"]


def test_name_contains_searches_names_ignoring_case(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    assert [c["name"] for c in ops.json("cloud-list", "--name-contains", "PRO")] == ["prod"]
    found = [h["name"] for h in ops.json("host-list", "--name-contains", "WEB-0", "--region", "east")]
    assert {"web-01", "web-02"} <= set(found) and all("web-0" in name for name in found)


def test_hosts_and_network_devices_move_by_name(fleet: dict[str, Any]) -> None:
    ops = fleet["cli"]
    west, west_a = fleet["west"]["id"], fleet["west-a"]["id"]

    moved = ops.json("host-update", "web-02", "--cell", "west-a")
    assert (moved["region_id"], moved["cell_id"]) == (west, west_a)
    assert ops.json("host-update", "web-02", "--no-cell")["cell_id"] is None

    # An interface may not link two regions: web-01's goes first (nothing below it: no question).
    assert ops.ok("network-interface-delete", "eth0").startswith("Network interface ")
    # sw1's child web-01 shares its cell: the move is refused naming it, unless it goes along.
    refused = ops.fails("network-device-update", "sw1", "--cell", "west-a")
    assert "web-01" in refused or str(fleet["web-01"]["id"]) in refused
    moved = ops.json("network-device-update", "sw1", "--cell", "west-a", "--region", "west", "--with-children")
    assert (moved["region_id"], moved["cell_id"]) == (west, west_a)
    child = ops.json("host-show", "web-01")
    assert (child["region_id"], child["cell_id"], child["parent_id"]) == (west, west_a, fleet["sw1"]["id"])
    last = ops.json("host-history", "web-01", "--sort-dir", "desc", "--limit", "1")[0]
    assert last["action"] == "update" and last["new"]["cell_id"] == west_a

    lone = ops.fails("host-update", "web-01", "--note", "n", "--with-children", code=2)
    assert "--with-children goes with a move" in lone
    assert ops.fails("host-update", "web-01", "--cloud", "prod").startswith("ERROR:")  # clouds do not change


def test_the_project_option_takes_a_name(live_server: Any, cli: CLI, fleet: dict[str, Any]) -> None:
    """--os-project-id / OS_PROJECT_ID may name the project: the server resolves it with the key."""
    ops = fleet["cli"]
    name = fleet["project"]["name"]
    by_name = CLI(live_server.url, name, ops.username, ops.api_key)
    assert "prod" in [cloud["name"] for cloud in by_name.json("cloud-list")]
    assert by_name.json("cloud-list") == ops.json("cloud-list")
    assert by_name.json("host-list", "--region", "east") == ops.json("host-list", "--region", "east")
    wrong = CLI(live_server.url, unique("no-such-project"), ops.username, ops.api_key)
    assert "is not a valid UUID" in wrong.fails("cloud-list")
    # Commands that default to the caller's project turn the name into its id (the project list: root only).
    root_by_name = CLI(live_server.url, cli.json("project-show", cli.project_id)["name"], cli.username, cli.api_key)
    carol = root_by_name.json("user-create", "-n", unique("carol"))
    assert carol["project_id"] == cli.project_id
    assert root_by_name.json("project-merge-strategies-get", name) == {}
    assert "needs the project's id" in by_name.fails("project-merge-strategies-get")
