"""``--preview`` on the CLI's write commands (issue 15 §1), against the live server.

Each preview prints the affected devices (a table, or the server's whole answer in JSON) and
a summary line, and writes nothing: the same command without ``--preview`` then does what the
preview said.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.helpers import CLI, seed, unique
from tests.cli.test_cli_operator import _interactive


@pytest.fixture
def site(tenant: CLI) -> dict[str, Any]:
    """A cloud with two regions; east has a cell of 35 hosts and a switch, west one host."""
    cloud = tenant.json("cloud-create", "-n", unique("cloud"))
    east = tenant.json("region-create", "-n", unique("east"), "--cloud", str(cloud["id"]))
    west = tenant.json("region-create", "-n", unique("west"), "--cloud", str(cloud["id"]))
    cell = tenant.json("cell-create", "-n", unique("cell"), "--region", str(east["id"]))
    place = {"cloud_id": cloud["id"], "region_id": east["id"], "cell_id": cell["id"], "device_type": "server"}
    hosts = seed(
        tenant, "/v1/hosts", [{**place, "name": f"h{n:02}", "ip_address": f"10.9.0.{n + 1}"} for n in range(35)]
    )
    loner = seed(
        tenant,
        "/v1/hosts",
        [
            {
                "cloud_id": cloud["id"],
                "region_id": west["id"],
                "name": "w0",
                "device_type": "server",
                "ip_address": "10.9.1.1",
            }
        ],
    )[0]
    tenant.ok("region-vars-set", str(east["id"]), "ntp=east", "zone=e")
    return {"cloud": cloud, "east": east, "west": west, "cell": cell, "hosts": hosts, "loner": loner}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")[1:-1]]


def _resolved(cli: CLI, host_id: int) -> dict[str, Any]:
    return dict(cli.json("host-vars-get", str(host_id), "--resolved"))


def test_vars_set_preview_prints_a_table_and_a_summary_and_writes_nothing(tenant: CLI, site: dict[str, Any]) -> None:
    east, first = str(site["east"]["id"]), site["hosts"][0]
    before = _resolved(tenant, first["id"])
    out = tenant.ok("region-vars-set", east, "ntp=new", "dns=d", "--preview")
    lines = out.splitlines()
    assert _cells(lines[1]) == ["Type", "Id", "Name", "Added", "Removed", "Changed"]
    row = next(line for line in lines if f"| {first['id']} " in line)
    assert _cells(row) == ["host", str(first["id"]), "h00", "dns", "", "ntp"]
    assert sum(1 for line in lines if line.startswith("| host ")) == 35  # piped: every page
    assert lines[-1] == "35 devices affected; nothing was written."
    assert _resolved(tenant, first["id"]) == before

    document = tenant.json("region-vars-set", east, "ntp=new", "--preview")
    assert document["devices_affected"] == 35 and len(document["devices"]) == 35
    assert document["devices"][0]["changed"] == {"ntp": {"old": "east", "new": "new"}}
    tenant.ok("region-vars-set", east, "ntp=new")  # the real write does what the preview said
    assert _resolved(tenant, first["id"])["ntp"] == "new"

    deleting = tenant.json("region-vars-set", east, "zone=", "--preview")  # KEY= deletes
    assert deleting["devices"][0]["removed"] == {"zone": "e"}
    assert tenant.json("region-vars-delete", east, "zone", "--preview") == deleting
    refused = tenant.fails("region-vars-set", east, "a=1", "zone=", "--preview", code=2)
    assert "not both" in refused
    assert _resolved(tenant, first["id"])["zone"] == "e"


def test_mask_unmask_and_merge_strategy_previews(tenant: CLI, site: dict[str, Any]) -> None:
    cell, host = str(site["cell"]["id"]), site["hosts"][1]
    masked = tenant("-f", "json", "cell-vars-mask", cell, "ntp", "--preview")
    assert masked.returncode == 0
    assert json.loads(masked.stdout)["devices_affected"] == 35
    assert masked.stderr.strip() == "35 devices affected; nothing was written."  # machine formats: on stderr
    assert _resolved(tenant, host["id"])["ntp"] == "east"  # no mask written
    tenant.ok("cell-vars-mask", cell, "ntp")
    unmasked = tenant.json("cell-vars-unmask", cell, "ntp", "--preview")
    assert unmasked["devices"][0]["added"] == {"ntp": "east"}

    tenant.ok("cloud-vars-set", str(site["cloud"]["id"]), input='{"tags": {"cloud": 1}}')
    tenant.ok("host-vars-set", str(host["id"]), input='{"tags": {"host": 2}}')
    deep = tenant.json("project-merge-strategies-set", "--strategy", "tags=deep", "--preview")
    assert deep["devices_affected"] == 1
    assert deep["devices"][0]["changed"] == {"tags": {"old": {"host": 2}, "new": {"cloud": 1, "host": 2}}}
    assert tenant.json("project-merge-strategies-get") == {}


def test_update_and_delete_previews(tenant: CLI, site: dict[str, Any]) -> None:
    loner, cell = site["loner"], site["cell"]
    moved = tenant.json("host-update", str(loner["id"]), "--region", str(site["east"]["id"]), "--preview")
    assert moved["devices_affected"] == 1 and moved["devices"][0]["added"] == {"ntp": "east", "zone": "e"}
    assert tenant.json("host-show", str(loner["id"]))["region_id"] == site["west"]["id"]
    renamed = tenant("host-update", str(loner["id"]), "--name", "w1", "--preview")
    assert renamed.stdout.splitlines()[-1] == "0 devices affected; nothing was written."

    out = tenant.ok("cell-delete", str(cell["id"]), "--preview", "--column", "name,deleted,removed")
    lines = out.splitlines()
    assert _cells(lines[1]) == ["Name", "Deleted", "Removed"]
    assert ["h00", "yes", "ntp, zone"] in [_cells(line) for line in lines]
    assert lines[-1] == (
        f"Preview: deletes cell {cell['id']} and 35 hosts below it; 35 devices affected; nothing was written."
    )
    document = tenant.json("cell-delete", str(cell["id"]), "--preview")
    assert document["deleted"]["hosts"] == 35 and document["deleted"]["cells"] == 1
    assert all(device["deleted"] for device in document["devices"]) and len(document["devices"]) == 35
    assert tenant.json("cell-show", str(cell["id"]))["id"] == cell["id"]


def test_on_a_terminal_one_page_is_shown_and_the_rest_counted(tenant: CLI, site: dict[str, Any]) -> None:
    code, shown = _interactive(tenant, "", "region-vars-set", str(site["east"]["id"]), "x=1", "--preview")
    assert code == 0
    assert sum(1 for line in shown.splitlines() if line.startswith("| host ")) == 30
    assert "35 devices affected; nothing was written." in shown
    assert "Showing 30 of 35 affected devices; redirect or pipe the output for all of them." in shown
