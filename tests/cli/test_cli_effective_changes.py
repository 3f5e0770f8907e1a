"""``craton effective-changes``: the per-device feed from the command line, live, followed and interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.helpers import CLI, unique
from tests.cli.test_cli_history import Site


@pytest.fixture
def site(live_server: Any) -> Iterator[Site]:
    project_id = live_server.create_project(unique("project"))
    username, api_key = live_server.create_user(project_id, unique("admin"), is_admin=True)
    made = Site(CLI(live_server.url, project_id, username, api_key))
    yield made
    made.api.close()


def records(cli: CLI, *argv: str, count: int) -> list[dict[str, Any]]:
    """``effective-changes --all`` in JSON once ``count`` records are there (the server's pump runs every second)."""
    deadline = time.monotonic() + 20
    while True:
        found = cli.json("effective-changes", "--all", *argv)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_feed_filters_and_formats(site: Site) -> None:
    cli = site.cli
    web1, web2 = site.hosts
    start = str(records(cli, count=4)[-1]["id"])  # what the site's creation made
    site.put(f"/v1/regions/{site.region['id']}/variables", ntp="10.0.0.2", dns="10.0.0.53")
    made = records(cli, "--since", start, count=2)
    assert sorted((r["device_id"], r["changed"], r["added"]) for r in made) == [
        (web1["id"], {"ntp": {"old": "10.0.0.1", "new": "10.0.0.2"}}, {"dns": "10.0.0.53"}),
        (web2["id"], {}, {"dns": "10.0.0.53"}),  # web-2 sets its own ntp
    ]
    assert [r["device_id"] for r in cli.json("effective-changes", "--since", start, "--key", "ntp")] == [web1["id"]]
    assert [r["device_id"] for r in cli.json("effective-changes", "--since", start, "--device", str(web2["id"]))] == [
        web2["id"]
    ]
    assert cli.json("effective-changes", "--since", start, "--cell", str(site.cell["id"]), "--key", "nope") == []
    table = cli.ok("effective-changes", "--since", start, "--device", str(web1["id"]))
    assert '+dns="10.0.0.53"; ntp: "10.0.0.1" -> "10.0.0.2"' in table and "web-1" in table
    detail = cli.ok(
        "--format", "csv", "effective-changes", "--since", start, "--fields", "device_name,region_id,summary"
    )
    assert detail.splitlines()[0] == "device_name,region_id,summary"
    assert f'web-2,{site.region["id"]},"+dns=""10.0.0.53"""' in detail.splitlines()
    assert "argument --limit" in cli.fails("effective-changes", "--limit", "0", code=2)
    assert "argument --device" in cli.fails("effective-changes", "--device", "x", code=2)


def test_follow_prints_new_records_and_ctrl_c_exits_cleanly(site: Site) -> None:
    cli = site.cli
    start = str(records(cli, count=4)[-1]["id"])
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cratonclient.shell.main",
            "--format",
            "json",
            "effective-changes",
            "--follow",
            "--since",
            start,
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
    )
    try:
        time.sleep(1.0)
        site.put(f"/v1/cells/{site.cell['id']}/variables", zone="a")
        assert follower.stdout is not None
        lines = [json.loads(follower.stdout.readline()) for _ in range(2)]
        assert sorted(line["device_name"] for line in lines) == ["web-1", "web-2"]
        assert all(line["added"] == {"zone": "a"} for line in lines)
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 130 and "Traceback" not in stderr and "Interrupted." in stderr
