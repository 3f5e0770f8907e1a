"""``--reason``, ``*-vars-get --blame/--as-of/--diff-*``, ``*-list --blame``, ``*-history`` and
``changes``: the real ``craton`` command against a real craton-api, in every output format.

Objects are set up straight through the API (fast); everything under test runs as a
subprocess. Each test works in a project of its own, so the feed holds only its changes.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.cli.helpers import CLI, unique


class Site:
    """cloud > region "east" (ntp) > cell "east-a" > hosts web-1 and web-2 (web-2 sets ntp)."""

    def __init__(self, cli: CLI) -> None:
        self.cli = cli
        headers = {"X-Auth-Project": cli.project_id, "X-Auth-User": cli.username, "X-Auth-Token": cli.api_key}
        self.api = httpx.Client(base_url=cli.url, headers=headers, timeout=30)
        self.cloud = self.post("/v1/clouds", name=unique("cloud"))
        self.region = self.post("/v1/regions", name="east", cloud_id=self.cloud["id"], variables={"ntp": "10.0.0.1"})
        self.cell = self.post("/v1/cells", name="east-a", cloud_id=self.cloud["id"], region_id=self.region["id"])
        self.hosts = [
            self.post(
                "/v1/hosts",
                name=f"web-{n}",
                cloud_id=self.cloud["id"],
                region_id=self.region["id"],
                cell_id=self.cell["id"],
                ip_address=f"10.7.0.{n}",
                device_type="server",
            )
            for n in (1, 2)
        ]
        self.put(f"/v1/hosts/{self.hosts[1]['id']}/variables", ntp="10.9.9.9")

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        response = self.api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def put(self, path: str, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        response = self.api.put(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, kind: str, item_id: Any) -> list[dict[str, Any]]:
        return self.cli.json(f"{kind}-history", str(item_id), "--all")


@pytest.fixture
def site(live_server: Any) -> Iterator[Site]:
    """A project of its own with an admin user, made through the API (no subprocess)."""
    project_id = live_server.create_project(unique("project"))
    username, api_key = live_server.create_user(project_id, unique("admin"), is_admin=True)
    made = Site(CLI(live_server.url, project_id, username, api_key))
    yield made
    made.api.close()


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


# --- --reason -----------------------------------------------------------------------------------


def test_reason_from_the_option_or_the_environment_is_recorded(site: Site) -> None:
    cli, region = site.cli, str(site.region["id"])
    _ok(cli("--reason", "OPS-1: new NTP pool", "region-vars-set", region, "ntp=10.0.0.2"))
    _ok(cli("region-vars-set", region, "zone=east", env={"CRATON_CHANGE_REASON": "OPS-2: zones"}))
    # The option wins over the environment, and may follow the command.
    _ok(
        cli(
            "region-update",
            region,
            "--note",
            "hall B",
            "--reason",
            "OPS-3: note",
            env={"CRATON_CHANGE_REASON": "not this"},
        )
    )
    records = site.history("region", region)
    assert [(r["action"], r["reason"], r["summary"]) for r in records[-3:]] == [
        ("variables", "OPS-1: new NTP pool", 'ntp: "10.0.0.1" -> "10.0.0.2"'),
        ("variables", "OPS-2: zones", 'zone: (unset) -> "east"'),
        ("update", "OPS-3: note", 'note: null -> "hall B"'),
    ]
    assert records[0]["action"] == "create" and records[0]["summary"] == "created"

    stderr = cli.fails("--reason", "two\nlines", "region-show", region, code=2)
    assert "invalid single-line reason value" in stderr


# --- *-vars-get ---------------------------------------------------------------------------------


def test_vars_get_blame_in_every_format(site: Site) -> None:
    cli, host = site.cli, str(site.hosts[1]["id"])
    region = f"region {site.region['id']} (east)"

    rows = cli.json("host-vars-get", host, "--blame")
    assert rows == [
        {
            "key": "ntp",
            "value": "10.9.9.9",
            "source_type": "host",
            "source_id": site.hosts[1]["id"],
            "source_name": "web-2",
            "set_by": cli.username,
            "set_at": rows[0]["set_at"],
            "overrides": [
                {"source_type": "region", "source_id": site.region["id"], "source_name": "east", "value": "10.0.0.1"}
            ],
        }
    ]
    assert yaml.safe_load(cli.ok("--format", "yaml", "host-vars-get", host, "--blame")) == rows
    parsed = list(csv.DictReader(io.StringIO(cli.ok("--format", "csv", "host-vars-get", host, "--blame"))))
    assert parsed[0]["source_name"] == "web-2" and json.loads(parsed[0]["overrides"])[0]["value"] == "10.0.0.1"
    table = cli.ok("host-vars-get", host, "--blame", "--no-resolved")
    assert "| Key " in table and "| Source Type |" in table and "| Overrides " in table
    assert f"{region}: 10.0.0.1" not in table  # own variables only: nothing inherited
    assert f"{region}: 10.0.0.1" in cli.ok("host-vars-get", host, "--blame")


def test_vars_get_as_of_and_diff_with_times_and_change_ids(site: Site) -> None:
    cli, host, region = site.cli, str(site.hosts[0]["id"]), str(site.region["id"])
    _ok(cli("--reason", "OPS-7", "region-vars-set", region, "ntp=10.0.0.2", "dns=10.0.0.53"))
    change = site.history("region", region)[-1]
    number = str(change["id"])

    assert cli.json("host-vars-get", host, "--as-of", f"before:{number}") == {"ntp": "10.0.0.1"}
    assert cli.json("host-vars-get", host, "--as-of", change["occurred_at"]) == {"ntp": "10.0.0.2", "dns": "10.0.0.53"}
    table = cli.ok("host-vars-get", host, "--as-of", f"after:{number}")
    assert table.startswith(f"As of {change['occurred_at']}:") and "| dns      | 10.0.0.53 |" in table

    rows = cli.json("host-vars-get", host, "--diff-from", f"before:{number}")
    assert rows == [
        {"key": "dns", "change": "added", "to": "10.0.0.53"},
        {"key": "ntp", "change": "changed", "from": "10.0.0.1", "to": "10.0.0.2"},
    ]
    window = cli.ok(
        "--format", "csv", "host-vars-get", host, "--diff-from", f"before:{number}", "--diff-to", f"after:{number}"
    )
    assert window.splitlines() == ["key,change,from,to", "dns,added,,10.0.0.53", "ntp,changed,10.0.0.1,10.0.0.2"]
    table = cli.ok("host-vars-get", host, "--diff-from", f"after:{number}")
    assert table.startswith("No changes from ") and "| Key | Change | From | To |" in table

    for argv, message in (
        (["--blame", "--diff-from", "before:1"], "--blame and --diff-from cannot be combined"),
        (["--diff-to", "before:1"], "--diff-to needs --diff-from"),
        (["--as-of", "yesterday"], "invalid time (ISO 8601, before:ID or after:ID) value: 'yesterday'"),
    ):
        assert message in cli.fails("host-vars-get", host, *argv, code=2)
    assert "Change 999999 does not exist" in cli.fails("host-vars-get", host, "--as-of", "before:999999")
    assert "no recorded state" in cli.fails("host-vars-get", host, "--as-of", "2001-01-01T00:00:00Z")


def test_vars_get_blame_as_of_a_host_a_region_delete_removed(site: Site) -> None:
    """``--blame --as-of before:ID`` of a host the region delete took with it; merged keys show
    each level's contribution in the table."""
    cli, host, region = site.cli, str(site.hosts[1]["id"]), str(site.region["id"])
    cli.ok("project-merge-strategies-set", "--strategy", "tags=union")
    site.put(f"/v1/regions/{region}/variables", tags=["a"])
    site.put(f"/v1/hosts/{host}/variables", tags=["b"])
    live = cli.ok("host-vars-get", host, "--blame")
    assert "| Contributions " in live and "(union)" in live and f'host {host} (web-2): ["b"]' in live
    cli.ok("region-delete", region, "--yes")
    delete = site.history("host", host)[-1]
    assert delete["action"] == "delete"

    rows = cli.json("host-vars-get", host, "--blame", "--as-of", f"before:{delete['id']}")
    by_key = {row["key"]: row for row in rows}
    assert set(by_key) == {"ntp", "tags"}
    assert (by_key["ntp"]["source_type"], by_key["ntp"]["source_name"], by_key["ntp"]["value"]) == (
        "host",
        "web-2",
        "10.9.9.9",
    )
    assert by_key["ntp"]["overrides"][0]["source_name"] == "east"
    assert by_key["tags"]["strategy"] == "union" and by_key["tags"]["value"] == ["a", "b"]
    parts = {(c["source_type"], json.dumps(c["part"])) for c in by_key["tags"]["contributions"]}
    assert parts == {("host", '["b"]'), ("region", '["a"]')}
    table = cli.ok("host-vars-get", host, "--blame", "--as-of", f"before:{delete['id']}")
    assert f'region {region} (east): ["a"]' in table
    assert "no recorded state" in cli.fails("host-vars-get", host, "--blame", "--as-of", f"after:{delete['id']}")


def test_list_blame_shows_where_each_object_gets_a_key(site: Site) -> None:
    cli, cell = site.cli, str(site.cell["id"])
    rows = cli.json("host-list", "--cell", cell, "--blame", "ntp")
    assert [(r["name"], r["value"], r["source_type"]) for r in rows] == [
        ("web-1", "10.0.0.1", "region"),
        ("web-2", "10.9.9.9", "host"),
    ]
    assert rows[1]["overrides"][0]["source_type"] == "region"
    table = cli.ok("host-list", "--cell", cell, "--blame", "ntp")
    assert "| Id | Name  | Value    | Source Type |" in table
    # Objects without the key are listed with the key and nothing else.
    assert cli.json("host-list", "--cell", cell, "--blame", "nothing")[0] == {
        "id": site.hosts[0]["id"],
        "name": "web-1",
        "key": "nothing",
    }
    csv_rows = list(
        csv.DictReader(io.StringIO(cli.ok("--format", "csv", "host-list", "--cell", cell, "--blame", "ntp")))
    )
    assert [row["source_name"] for row in csv_rows] == ["east", "web-2"]
    assert "--blame shows its own columns" in cli.fails("host-list", "--blame", "ntp", "--fields", "id", code=2)


# --- *-history ----------------------------------------------------------------------------------


def test_history_pages_and_outlives_the_object(site: Site) -> None:
    cli, cloud = site.cli, str(site.cloud["id"])
    for n in range(11):
        site.put(f"/v1/clouds/{cloud}", note=f"n{n}")

    everything = cli.json("cloud-history", cloud, "--all")
    assert [r["action"] for r in everything] == ["create"] + ["update"] * 11
    first = cli.json("cloud-history", cloud, "--limit", "10")
    assert [r["id"] for r in first] == [r["id"] for r in everything[:10]]
    rest = cli.json("cloud-history", cloud, "--limit", "10", "--marker", str(first[-1]["id"]), "--sort-dir", "asc")
    assert [r["id"] for r in rest] == [r["id"] for r in everything[10:]]

    table = cli.ok("cloud-history", cloud, "--all", "--fields", "id,action,summary")
    assert table.splitlines()[1].split() == ["|", "Id", "|", "Action", "|", "Summary", "|"]
    assert '| update | note: "n9" -> "n10"' in table
    rows = list(csv.DictReader(io.StringIO(cli.ok("--format", "csv", "cloud-history", cloud, "--sort-dir", "desc"))))
    assert list(rows[0]) == ["id", "occurred_at", "username", "action", "reason", "summary"]
    assert [int(row["id"]) for row in rows] == [r["id"] for r in reversed(everything)]
    detailed = yaml.safe_load(cli.ok("--format", "yaml", "cloud-history", cloud, "--detail", "--limit", "10"))
    assert detailed[1]["old"] == {"note": None} and detailed[1]["resource_type"] == "cloud"

    _ok(cli("--reason", "decommissioned", "cloud-delete", cloud, "--yes"))  # it has a region below
    last = cli.json("cloud-history", cloud, "--all")[-1]
    assert (last["action"], last["reason"], last["summary"]) == ("delete", "decommissioned", "deleted")
    assert cli.fails("cloud-history", "2000000000").strip() == "ERROR: Not Found: Cloud 2000000000 not found"


# --- changes ------------------------------------------------------------------------------------


def test_changes_feed_cursor_filters_and_formats(site: Site) -> None:
    cli = site.cli
    everything = cli.json("changes", "--all")
    assert [r["resource_type"] for r in everything[:3]] == ["project", "user", "cloud"]
    assert all(r["project_id"] == cli.project_id for r in everything)

    after = str(everything[2]["id"])
    assert [r["id"] for r in cli.json("changes", "--since", after, "--limit", "2")] == [
        r["id"] for r in everything[3:5]
    ]
    hosts = cli.json("changes", "--resource-type", "host", "--user", cli.username)
    assert [(r["resource_name"], r["action"]) for r in hosts] == [
        ("web-1", "create"),
        ("web-2", "create"),
        ("web-2", "variables"),
    ]
    assert cli.json("changes", "--resource-type", "network-device") == []

    table = cli.ok("changes", "--fields", "id", "resource_type", "resource_name", "summary")
    assert table.splitlines()[1].split("|")[2:4] == [" Resource Type ", " Resource Name    "]
    assert '| ntp: (unset) -> "10.9.9.9" |' in table
    rows = list(csv.DictReader(io.StringIO(cli.ok("--format", "csv", "changes", "--since", after))))
    assert [int(r["id"]) for r in rows] == [r["id"] for r in everything[3:]]
    assert yaml.safe_load(cli.ok("--format", "yaml", "changes", "--detail")) == everything

    assert "argument --limit" in cli.fails("changes", "--limit", "0", code=2)


def test_changes_follow_streams_new_changes_in_every_format(site: Site) -> None:
    cli = site.cli
    start = str(cli.json("changes", "--all")[-1]["id"])
    followers = {
        fmt: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cratonclient.shell.main",
                "--format",
                fmt,
                "changes",
                "--follow",
                "--since",
                start,
                "--interval",
                "0.2",
                "--duration",
                "2.5",
                "--fields",
                "id,resource_name,summary",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env,
        )
        for fmt in ("table", "json", "yaml", "csv")
    }
    time.sleep(1.0)
    site.put(f"/v1/regions/{site.region['id']}/variables", ntp="followed")
    site.put(f"/v1/cells/{site.cell['id']}/variables", ntp="cell")
    out = {}
    for fmt, process in followers.items():
        stdout, stderr = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in stderr, stderr
        out[fmt] = stdout

    lines = [json.loads(line) for line in out["json"].splitlines()]
    assert [(r["resource_name"], r["new"]) for r in lines] == [
        ("east", {"ntp": "followed"}),
        ("east-a", {"ntp": "cell"}),
    ]
    assert [d["summary"] for d in yaml.safe_load_all(out["yaml"])] == [r["summary"] for r in lines]
    assert out["csv"].count("id,resource_name,summary") == 1
    assert [r["resource_name"] for r in csv.DictReader(io.StringIO(out["csv"]))] == ["east", "east-a"]
    assert 'ntp: "10.0.0.1" -> "followed"' in out["table"] and "| east-a" in out["table"]
